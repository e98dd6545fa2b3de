// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs and kernel log helpers for the mdev-kvm selftests.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
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

/*
 * The value of "<key>=" in a module file's .modinfo, at most @size - 1
 * bytes, or -ENOENT. The section is a list of NUL-terminated "key=value"
 * strings, so a key is found where a NUL precedes it.
 */
static int ko_modinfo(const char *ko, const char *key, char *val, size_t size)
{
	char pat[64], *buf, *p;
	size_t len = 0, plen;
	struct stat st;
	ssize_t n = 0;
	int fd, ret = -ENOENT;

	plen = snprintf(pat, sizeof(pat), "%c%s=", '\0', key);
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > (64 << 20)) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size);
	while (buf && len < (size_t)st.st_size &&
	       (n = read(fd, buf + len, st.st_size - len)) > 0)
		len += n;
	close(fd);
	if (!buf)
		return -ENOMEM;
	p = memmem(buf, len, pat, plen);
	if (p) {
		p += plen;
		snprintf(val, size, "%.*s", (int)strnlen(p, buf + len - p), p);
		ret = 0;
	}
	free(buf);
	return ret;
}

/*
 * A test driver of the kselftest install (TEST_GEN_MODS_DIR: drivers/,
 * beside the running program), which modprobe does not know: its
 * dependencies through modprobe, then the file itself.
 */
static int insmod_beside(const char *name)
{
	char self[PATH_MAX], ko[PATH_MAX + 64], deps[512], *dep, *save;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fd, ret, i;

	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	n = snprintf(ko, sizeof(ko), "%s/drivers/%s.ko", self, name);
	for (i = n - (int)strlen(name) - 3; i < n - 3; i++)
		if (ko[i] == '-')
			ko[i] = '_';
	if (access(ko, R_OK))
		return -ENOENT;
	if (!ko_modinfo(ko, "depends", deps, sizeof(deps)))
		for (dep = strtok_r(deps, ",", &save); dep;
		     dep = strtok_r(NULL, ",", &save))
			if (__modprobe(dep))
				return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret == -EEXIST ? 0 : ret;
}

int __modprobe(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "modprobe -q %s 2>/dev/null", name);
	if (system(cmd) == 0)
		return 0;
	return insmod_beside(name);
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
