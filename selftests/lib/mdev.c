// SPDX-License-Identifier: GPL-2.0
/*
 * mdev helpers for the mdev-kvm selftests. See libmdevkvm/mdev.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/sysfs.h"

int __mdev_create_str(const char *parent, const char *type, const char *str)
{
	char path[256];

	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
		 parent, type);
	return __sysfs_write(path, str);
}

void mdev_uuid_random(char uuid[MDEV_UUID_LEN])
{
	unsigned char b[16];

	MK_ASSERT_EQ(getrandom(b, sizeof(b), 0), sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(uuid, MDEV_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

int __mdev_create(const char *parent, const char *type,
		  char uuid[MDEV_UUID_LEN])
{
	mdev_uuid_random(uuid);
	return __mdev_create_str(parent, type, uuid);
}

void mdev_create(const char *parent, const char *type,
		 char uuid[MDEV_UUID_LEN])
{
	MK_ASSERT_OK(__mdev_create(parent, type, uuid));
}

char *mdev_path(char buf[MDEV_PATH_LEN], const char *uuid)
{
	snprintf(buf, MDEV_PATH_LEN, "/sys/bus/mdev/devices/%s", uuid);
	return buf;
}

int __mdev_remove(const char *uuid)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return __sysfs_write(path, "1");
}

void mdev_remove(const char *uuid)
{
	MK_ASSERT_OK(__mdev_remove(uuid));
}

int mdev_available(const char *parent, const char *type)
{
	char path[256];
	long val;
	int ret;

	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/available_instances",
		 parent, type);
	ret = __sysfs_read_long(path, &val);
	return ret ? ret : (int)val;
}

int mdev_count(const char *parent, const char *type)
{
	char path[256];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/devices",
		 parent, type);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}
