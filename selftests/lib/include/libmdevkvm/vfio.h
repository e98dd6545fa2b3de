/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening a VFIO device on either of the two userspace paths:
 *
 *  group:  /dev/vfio/<group> + a type1 container, then
 *          VFIO_GROUP_GET_DEVICE_FD; KVM is told about the group fd.
 *  cdev:   /dev/vfio/devices/vfioN, then VFIO_DEVICE_BIND_IOMMUFD and
 *          VFIO_DEVICE_ATTACH_IOMMUFD_PT; KVM is told about the cdev fd.
 *
 * The split between vfio_dev_file_open() and vfio_dev_open() is the point
 * where a VMM does KVM_DEV_VFIO_FILE_ADD, so tests can attach the file to a
 * VM before the device is opened, after, or never. __op() returns 0 or
 * -errno; op() asserts.
 */
#ifndef LIBMDEVKVM_VFIO_H
#define LIBMDEVKVM_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <sys/types.h>
#include <linux/vfio.h>

#include "mdev.h"

enum vfio_path {
	VFIO_PATH_GROUP,
	VFIO_PATH_CDEV,
};

struct vfio_dev {
	enum vfio_path path;
	char name[64];		/* device name in its group (mdev UUID) */
	int file;		/* what KVM_DEV_VFIO_FILE_ADD takes */
	int container;		/* group path */
	int iommufd;		/* cdev path */
	__u32 ioas_id;	/* cdev path */
	int fd;			/* device fd, -1 until opened */
};

const char *vfio_path_name(enum vfio_path path);

/*
 * The file __vfio_dev_file_open() opens for @path, /dev/vfio/<group> or
 * /dev/vfio/devices/vfioN, into @buf. @sysfs_dev: the device's sysfs
 * directory, e.g. /sys/bus/mdev/devices/U.
 */
int __vfio_dev_file_path(enum vfio_path path, const char *sysfs_dev,
			 char *buf, size_t size);

/* @sysfs_dev: the device's sysfs directory, e.g. /sys/bus/mdev/devices/U */
int __vfio_dev_file_open(struct vfio_dev *d, enum vfio_path path,
			 const char *sysfs_dev);
void vfio_dev_file_open(struct vfio_dev *d, enum vfio_path path,
			const char *sysfs_dev);

/*
 * Creates an mdev of @type under @parent (its UUID in @uuid) and opens its
 * group or cdev file: what every mdev test's setup does.
 */
void vfio_mdev_file_open(struct vfio_dev *d, enum vfio_path path,
			 const char *parent, const char *type,
			 char uuid[MDEV_UUID_LEN]);

/* First (or, on the group path, another) open of the device. */
int __vfio_dev_open(struct vfio_dev *d);
void vfio_dev_open(struct vfio_dev *d);

/* Closes the device fd; on the cdev path that is the file too. */
void vfio_dev_close(struct vfio_dev *d);
/*
 * Closes the device as a VMM unplugs it. On the cdev path the device fd is
 * also the file that was added to the VM, and the kvm-vfio device @kv
 * holds a reference of its own to it: the last close comes when the file
 * leaves the VM as well, so take it out first (-1: no VM).
 */
void vfio_dev_unplug(struct vfio_dev *d, int kv);
/* Closes everything vfio_dev_file_open() and vfio_dev_open() opened. */
void vfio_dev_release(struct vfio_dev *d);

void vfio_region_info(struct vfio_dev *d, __u32 index,
		      struct vfio_region_info *info);
/* pread/pwrite of a region; return bytes or -errno. */
ssize_t __vfio_region_read(struct vfio_dev *d, __u32 index, __u64 off,
			   void *buf, size_t len);
ssize_t __vfio_region_write(struct vfio_dev *d, __u32 index, __u64 off,
			    const void *buf, size_t len);
__u32 vfio_config_read(struct vfio_dev *d, __u64 off, size_t len);
/* A 32-bit register of BAR0, asserting the access works. */
__u32 vfio_bar0_read(struct vfio_dev *d, __u64 off);
void vfio_bar0_write(struct vfio_dev *d, __u64 off, __u32 val);

/*
 * The device's DMA space, as a VMM maps guest RAM into it: [@iova, @iova
 * + @size) to the caller's memory at @host, in the container (group path)
 * or the IOAS (cdev path) of an opened device. Read-only unless
 * @writable. -EEXIST if the range is mapped already.
 */
int __vfio_dev_dma_map(struct vfio_dev *d, __u64 iova, void *host,
		       size_t size, bool writable);
void vfio_dev_dma_map(struct vfio_dev *d, __u64 iova, void *host,
		      size_t size);
int __vfio_dev_dma_unmap(struct vfio_dev *d, __u64 iova, size_t size);

#endif /* LIBMDEVKVM_VFIO_H */
