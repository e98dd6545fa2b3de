// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs and kernel log helpers for the mdev-kvm selftests.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/sysfs.h"

int __sysfs_write(const char *path, const char *str)
{
	size_t len = strlen(str);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, str, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

void sysfs_write(const char *path, const char *str)
{
	MK_ASSERT_OK(__sysfs_write(path, str));
}

int __sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int __sysfs_read_long(const char *path, long *val)
{
	char buf[64], *end;
	int ret;

	ret = __sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtol(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

long sysfs_read_long(const char *path)
{
	long val = 0;

	MK_ASSERT_OK(__sysfs_read_long(path, &val));
	return val;
}

int __modprobe(const char *name)
{
	char cmd[128];
	int ret;

	snprintf(cmd, sizeof(cmd), "modprobe -q %s", name);
	ret = system(cmd);
	return ret == 0 ? 0 : -ENOENT;
}

void modprobe(const char *name)
{
	errno = 0;
	MK_ASSERT_OK(__modprobe(name));
}

long module_refcnt(const char *name)
{
	char path[128];
	long n;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	return __sysfs_read_long(path, &n) ? -1 : n;
}

int __rmmod(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

int dmesg_count(const char *needle)
{
	int size, n, count = 0;
	char *buf, *line, *save;

	size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	MK_ASSERT_TRUE(size > 0, "klogctl size");
	buf = malloc(size + 1);
	MK_ASSERT_TRUE(buf, "malloc");
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	MK_ASSERT_TRUE(n >= 0, "klogctl read");
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		count += !!strstr(line, needle);
	free(buf);
	return count;
}
