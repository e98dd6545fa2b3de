/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory whose first touch stalls until the test says so (userfaultfd),
 * and a call run in a thread that may or may not come back: for tests
 * that prove a device does not make other paths wait on user memory.
 */
#ifndef LIBMDEVKVM_STALL_H
#define LIBMDEVKVM_STALL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct stall_mem {
	void *addr;	/* @len bytes, not yet populated */
	size_t len;
	void *lead;	/* the page before @addr: plain memory, zeroed */
	int uffd;
};

/* Maps @len bytes (a multiple of the page size) under userfaultfd. */
void stall_mem_create(struct stall_mem *m, size_t len);
/* Waits up to @ms for a fault on @m; true if one is pending. */
bool stall_mem_wait_fault(struct stall_mem *m, int ms);
/* Populates all of @m with the byte @c, which lets the faults finish. */
void stall_mem_release(struct stall_mem *m, int c);
/* Unmaps @m, which makes the pending faults fail (EFAULT in the kernel). */
void stall_mem_fail(struct stall_mem *m);
void stall_mem_destroy(struct stall_mem *m);

/* @fn(@arg) in a thread of its own. */
struct stall_call {
	pthread_t thread;
	void *(*fn)(void *arg);
	void *arg;
	int done;	/* __atomic */
};

void stall_call_start(struct stall_call *c, void *(*fn)(void *), void *arg);
/* Waits up to @ms for the call to return; true if it did. */
bool stall_call_wait(struct stall_call *c, int ms);
/*
 * Signals the call's thread (SIGUSR1, a handler without SA_RESTART) until
 * it returns, for up to @ms; true if it did.
 */
bool stall_call_interrupt(struct stall_call *c, int ms);
/* Waits for it, however long. */
void stall_call_join(struct stall_call *c);

/* pread() as a stall_call: into stalling memory, say. */
struct stall_pread {
	int fd;
	void *buf;
	size_t len;
	off_t off;
	ssize_t ret;	/* or -errno */
};

void *stall_pread_run(void *arg);	/* @arg: a struct stall_pread */

#endif /* LIBMDEVKVM_STALL_H */
