// SPDX-License-Identifier: GPL-2.0
/*
 * fail-nth sweeps. See libmdevkvm/fault.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/fault.h"
#include "libmdevkvm/sysfs.h"

#define FAILSLAB "/sys/kernel/debug/failslab/"

bool fault_available(void)
{
	return access("/proc/self/fail-nth", F_OK) == 0 &&
	       access(FAILSLAB "ignore-gfp-wait", W_OK) == 0;
}

int __fault_open(void)
{
	int fd, ret;

	fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* By default failslab ignores GFP_KERNEL, the allocations we want. */
	ret = __sysfs_write(FAILSLAB "ignore-gfp-wait", "N");
	if (!ret)
		ret = __sysfs_write(FAILSLAB "verbose", "0");
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int fault_open(void)
{
	int fd = __fault_open();

	errno = fd < 0 ? -fd : 0;
	MK_ASSERT_TRUE(fd >= 0, "no fail-nth: the kernel needs FAILSLAB");
	return fd;
}

void fault_arm(int fd, int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", nth);

	MK_ASSERT_EQ(pwrite(fd, buf, len, 0), len);
}

bool fault_disarm(int fd)
{
	char buf[16] = "";
	ssize_t n;

	/* Read without allocating: fail-nth counts down to 0 when it fires. */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	MK_ASSERT_TRUE(n > 0, "read fail-nth");
	buf[n] = '\0';
	MK_ASSERT_EQ(pwrite(fd, "0", 1, 0), 1);
	return atoi(buf) == 0;
}

static bool allowed(const struct fault_sweep *s, int err)
{
	const int *e;

	if (err == ENOMEM)
		return true;
	for (e = s->errnos; e && *e; e++)
		if (*e == err)
			return true;
	return false;
}

int fault_sweep(const struct fault_sweep *s)
{
	int fd = fault_open(), n, ret, failed = 0, absorbed = 0;
	bool fired;

	for (n = 1; n <= s->max; n++) {
		if (s->prepare)
			s->prepare(s->ctx);
		fault_arm(fd, n);
		ret = s->op(s->ctx);
		fired = fault_disarm(fd);
		if (s->cleanup)
			s->cleanup(s->ctx, ret);
		s->check(s->ctx);
		if (!fired) {
			errno = -ret;
			MK_ASSERT_TRUE(!ret, "%s: fails with no fault injected",
				       s->name);
			break;
		}
		if (ret) {
			errno = -ret;
			MK_ASSERT_TRUE(allowed(s, -ret),
				       "%s: fault %d surfaced as errno %d",
				       s->name, n, -ret);
			failed++;
		} else {
			/* The fault was absorbed: a fallback, or a retry. */
			absorbed++;
		}
	}
	close(fd);
	MK_ASSERT_TRUE(n <= s->max, "%s: more than %d fault points",
		       s->name, s->max);
	printf("# fault: %s: %d fault points, %d failed cleanly, %d absorbed\n",
	       s->name, n - 1, failed, absorbed);
	return n - 1;
}
