/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small sysfs/debugfs file helpers. __op() returns 0 or -errno.
 */
#ifndef LIBMDEVKVM_SYSFS_H
#define LIBMDEVKVM_SYSFS_H

#include <stddef.h>
#include <sys/types.h>

/* One write(2) of @str; a short write is -EIO. */
int __sysfs_write(const char *path, const char *str);
void sysfs_write(const char *path, const char *str);
/* Reads up to @size - 1 bytes, NUL-terminated, trailing newline dropped. */
int __sysfs_read(const char *path, char *buf, size_t size);
int __sysfs_read_long(const char *path, long *val);
long sysfs_read_long(const char *path);

/*
 * Loads a module and what it depends on (modprobe), or a test driver from
 * drivers/ beside the program (the kselftest install) after what it
 * depends on; 0 if it is loaded.
 */
int __modprobe(const char *name);
void modprobe(const char *name);
/*
 * A loaded module's reference count; -1 when it has none to read (built
 * in, not loaded, or a kernel without MODULE_UNLOAD).
 */
long module_refcnt(const char *name);
/* Unloads a module without waiting (delete_module, O_NONBLOCK). */
int __rmmod(const char *name);

/* Number of lines of the kernel log that contain @needle. */
int dmesg_count(const char *needle);

#endif /* LIBMDEVKVM_SYSFS_H */
