/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdev lifecycle through sysfs, the way mdevctl does it:
 * /sys/class/mdev_bus/<parent>/mdev_supported_types/<type>/create and
 * /sys/bus/mdev/devices/<uuid>/remove. __op() returns 0 or -errno.
 */
#ifndef LIBMDEVKVM_MDEV_H
#define LIBMDEVKVM_MDEV_H

#define MDEV_UUID_LEN 37	/* 36 characters and the NUL */
#define MDEV_PATH_LEN 64

/* Fills @buf with the device's sysfs directory and returns it. */
char *mdev_path(char buf[MDEV_PATH_LEN], const char *uuid);

/* Fills @uuid with a fresh random (version 4) UUID. */
void mdev_uuid_random(char uuid[MDEV_UUID_LEN]);

/* Writes @str, as given, to the type's create file. */
int __mdev_create_str(const char *parent, const char *type, const char *str);
/* Creates an instance with a fresh random UUID, returned in @uuid. */
int __mdev_create(const char *parent, const char *type,
		  char uuid[MDEV_UUID_LEN]);
void mdev_create(const char *parent, const char *type,
		 char uuid[MDEV_UUID_LEN]);
int __mdev_remove(const char *uuid);
void mdev_remove(const char *uuid);

/* available_instances of a type, or -errno. */
int mdev_available(const char *parent, const char *type);
/* How many instances of a type exist (entries in its devices/), or -errno. */
int mdev_count(const char *parent, const char *type);

#endif /* LIBMDEVKVM_MDEV_H */
