// SPDX-License-Identifier: GPL-2.0
/*
 * The test driver's debugfs files. See libmdevkvm/vkt.h.
 */
#include <stdio.h>

#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vkt.h"

long vkt_count(const char *uuid, const char *what)
{
	char path[128];

	snprintf(path, sizeof(path), VKT_DEBUGFS "/%s/%s", uuid, what);
	return sysfs_read_long(path);
}

const char *vkt_str(const char *uuid, const char *what)
{
	static char buf[512];
	char path[128];

	snprintf(path, sizeof(path), VKT_DEBUGFS "/%s/%s", uuid, what);
	if (__sysfs_read(path, buf, sizeof(buf)))
		return "(unreadable)";
	return buf;
}

void vkt_set(const char *uuid, const char *what, int val)
{
	char path[128], v[16];

	snprintf(path, sizeof(path), VKT_DEBUGFS "/%s/%s", uuid, what);
	snprintf(v, sizeof(v), "%d", val);
	sysfs_write(path, v);
}

long vkt_pins(void)
{
	return sysfs_read_long(VKT_DEBUGFS "/pins");
}
