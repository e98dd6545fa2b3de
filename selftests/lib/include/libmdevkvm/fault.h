/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection with fail-nth (Documentation/fault-injection): the n-th
 * slab allocation of the calling thread fails, and only that one. Needs
 * CONFIG_FAULT_INJECTION, FAILSLAB and FAULT_INJECTION_DEBUG_FS.
 */
#ifndef LIBMDEVKVM_FAULT_H
#define LIBMDEVKVM_FAULT_H

#include <stdbool.h>

#include "libmdevkvm/host.h"

/* Has this kernel fail-nth and failslab's debugfs knobs? */
bool fault_available(void);

/*
 * A test that injects faults: without FAILSLAB a skip that says so, but a
 * failure in our guest, whose test kernel always has it (config.debug).
 */
#define FAULT_REQUIRE() do {						\
	if (!fault_available()) {					\
		ASSERT_FALSE(host_in_our_guest())			\
			TH_LOG("our kernel has no FAILSLAB");		\
		SKIP(return, "no fail-nth or failslab: the kernel needs " \
		     "CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and "	\
		     "CONFIG_FAULT_INJECTION_DEBUG_FS");		\
	}								\
} while (0)

/*
 * Opens this thread's fail-nth file and lets failslab fail sleeping
 * allocations too, quietly (no stack dump per fault). Returns the fd, or
 * -errno when the kernel has no fail-nth.
 */
int __fault_open(void);
int fault_open(void);
/* The next @nth fault-injectable allocation of this thread fails. */
void fault_arm(int fd, int nth);
/* Disarms; true if the armed fault was injected. */
bool fault_disarm(int fd);

/*
 * One operation swept with fail-nth. @prepare (may be NULL) runs before
 * each attempt; @op runs armed and returns 0 or -errno; @cleanup (may be
 * NULL) undoes what the attempt left, whatever its outcome; @check then
 * asserts that the state is as it was before the attempt.
 */
struct fault_sweep {
	const char *name;
	void *ctx;
	void (*prepare)(void *ctx);
	int (*op)(void *ctx);
	void (*cleanup)(void *ctx, int ret);
	void (*check)(void *ctx);
	/* errnos an injected fault may surface as; ENOMEM is always fine */
	const int *errnos;
	int max;	/* give up (fail) after this many points */
};

/*
 * Runs @s with n = 1, 2, ... until @op completes without an injected
 * fault. Every failure must be one of the allowed errnos. Prints one line
 * with the figures and returns the number of fault points.
 */
int fault_sweep(const struct fault_sweep *s);

#endif /* LIBMDEVKVM_FAULT_H */
