/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assertions for library helpers. A failed assertion prints what was
 * expected, what was seen and errno as a TAP comment, then ends the test
 * process with KSFT_FAIL: the harness forks every test, so this fails the
 * one test and the suite goes on.
 */
#ifndef LIBMDEVKVM_ASSERT_H
#define LIBMDEVKVM_ASSERT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"

#define MK_FAIL(fmt, ...) do {						\
	int __e = errno;						\
	fprintf(stdout, "# %s:%d: " fmt " (errno %d: %s)\n",		\
		__FILE__, __LINE__, ##__VA_ARGS__, __e, strerror(__e));	\
	fflush(stdout);							\
	exit(KSFT_FAIL);						\
} while (0)

#define MK_ASSERT_TRUE(cond, fmt, ...) do {				\
	if (!(cond))							\
		MK_FAIL("%s: " fmt, #cond, ##__VA_ARGS__);		\
} while (0)

/* Compares as long long; prints both sides. */
#define MK_ASSERT_EQ(a, b) do {						\
	long long __a = (long long)(a), __b = (long long)(b);		\
	if (__a != __b)							\
		MK_FAIL("%s == %s: %lld != %lld", #a, #b, __a, __b);	\
} while (0)

/* For the __op() helpers, which return 0 or -errno. */
#define MK_ASSERT_OK(expr) do {						\
	int __r = (expr);						\
	if (__r) {							\
		errno = __r < 0 ? -__r : __r;				\
		MK_FAIL("%s returned %d", #expr, __r);			\
	}								\
} while (0)

#endif /* LIBMDEVKVM_ASSERT_H */
