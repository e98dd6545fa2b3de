// SPDX-License-Identifier: GPL-2.0
/*
 * userfaultfd-backed memory and calls in threads for the mdev-kvm
 * selftests. See libmdevkvm/stall.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/stall.h"

void stall_mem_create(struct stall_mem *m, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	char *map;

	/* A plain page first: m->lead, for data that must not stall. */
	map = mmap(NULL, page + len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	MK_ASSERT_TRUE(map != MAP_FAILED, "mmap %zu", len);
	memset(map, 0, page);
	m->lead = map;
	m->addr = map + page;
	m->len = len;
	m->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	MK_ASSERT_TRUE(m->uffd >= 0, "userfaultfd (CONFIG_USERFAULTFD)");
	MK_ASSERT_TRUE(!ioctl(m->uffd, UFFDIO_API, &api), "UFFDIO_API");
	reg.range.start = (unsigned long)m->addr;
	reg.range.len = len;
	MK_ASSERT_TRUE(!ioctl(m->uffd, UFFDIO_REGISTER, &reg),
		       "UFFDIO_REGISTER");
}

bool stall_mem_wait_fault(struct stall_mem *m, int ms)
{
	struct pollfd p = { .fd = m->uffd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

void stall_mem_release(struct stall_mem *m, int c)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_copy copy;
	size_t off;
	void *src;

	src = malloc(page);
	MK_ASSERT_TRUE(src, "malloc");
	memset(src, c, page);
	for (off = 0; off < m->len; off += page) {
		copy = (struct uffdio_copy){
			.dst = (unsigned long)m->addr + off,
			.src = (unsigned long)src, .len = page,
		};
		/* EEXIST: a page that is there already. */
		MK_ASSERT_TRUE(!ioctl(m->uffd, UFFDIO_COPY, &copy) ||
			       errno == EEXIST, "UFFDIO_COPY");
	}
	free(src);
}

void stall_mem_fail(struct stall_mem *m)
{
	struct uffdio_range range = {
		.start = (unsigned long)m->addr, .len = m->len,
	};

	MK_ASSERT_TRUE(!munmap(m->addr, m->len), "munmap");
	/* The faults retry, and find nothing mapped there. */
	MK_ASSERT_TRUE(!ioctl(m->uffd, UFFDIO_WAKE, &range), "UFFDIO_WAKE");
}

void stall_mem_destroy(struct stall_mem *m)
{
	close(m->uffd);
	munmap(m->lead, (char *)m->addr - (char *)m->lead + m->len);
}

static void *stall_call_run(void *arg)
{
	struct stall_call *c = arg;

	c->fn(c->arg);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

void stall_call_start(struct stall_call *c, void *(*fn)(void *), void *arg)
{
	c->fn = fn;
	c->arg = arg;
	c->done = 0;
	MK_ASSERT_TRUE(!pthread_create(&c->thread, NULL, stall_call_run, c),
		       "pthread_create");
}

bool stall_call_wait(struct stall_call *c, int ms)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int waited;

	for (waited = 0; waited < ms; waited += 10) {
		if (__atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
			return true;
		nanosleep(&ts, NULL);
	}
	return __atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
}

void stall_call_join(struct stall_call *c)
{
	pthread_join(c->thread, NULL);
}

static void stall_call_signalled(int sig)
{
}

bool stall_call_interrupt(struct stall_call *c, int ms)
{
	struct sigaction sa = { .sa_handler = stall_call_signalled };
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int waited;

	/* No SA_RESTART: a call blocked interruptibly returns EINTR. */
	MK_ASSERT_TRUE(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	for (waited = 0; waited < ms; waited += 10) {
		if (__atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
			return true;
		/* Again and again: the first may come before the call. */
		pthread_kill(c->thread, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return __atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
}

void *stall_pread_run(void *arg)
{
	struct stall_pread *r = arg;

	r->ret = pread(r->fd, r->buf, r->len, r->off);
	if (r->ret < 0)
		r->ret = -errno;
	return NULL;
}
