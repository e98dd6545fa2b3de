// SPDX-License-Identifier: GPL-2.0
/*
 * Opening VFIO devices on the group and the cdev path for the mdev-kvm
 * selftests. See libmdevkvm/vfio.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/vfio.h"

const char *vfio_path_name(enum vfio_path path)
{
	return path == VFIO_PATH_GROUP ? "group" : "cdev";
}

static int vfio_group_file_path(const char *sysfs_dev, char *buf,
				size_t size)
{
	char link[PATH_MAX], path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/iommu_group", sysfs_dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(buf, size, "/dev/vfio/%s", basename(link));
	return 0;
}

static int vfio_cdev_file_path(const char *sysfs_dev, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/vfio-dev", sysfs_dev);
	dir = opendir(path);
	if (!dir)
		return -errno;
	buf[0] = '\0';
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "vfio", 4))
			snprintf(buf, size, "/dev/vfio/devices/%s", e->d_name);
	closedir(dir);
	return buf[0] ? 0 : -ENOENT;
}

int __vfio_dev_file_path(enum vfio_path path, const char *sysfs_dev,
			 char *buf, size_t size)
{
	if (path == VFIO_PATH_GROUP)
		return vfio_group_file_path(sysfs_dev, buf, size);
	return vfio_cdev_file_path(sysfs_dev, buf, size);
}

int __vfio_dev_file_open(struct vfio_dev *d, enum vfio_path path,
			 const char *sysfs_dev)
{
	char tmp[PATH_MAX];
	int ret;

	*d = (struct vfio_dev){ .path = path, .file = -1, .container = -1,
				.iommufd = -1, .fd = -1 };
	snprintf(tmp, sizeof(tmp), "%s", sysfs_dev);
	snprintf(d->name, sizeof(d->name), "%s", basename(tmp));
	ret = __vfio_dev_file_path(path, sysfs_dev, tmp, sizeof(tmp));
	if (ret)
		return ret;
	d->file = open(tmp, O_RDWR | O_CLOEXEC);
	return d->file < 0 ? -errno : 0;
}

void vfio_dev_file_open(struct vfio_dev *d, enum vfio_path path,
			const char *sysfs_dev)
{
	MK_ASSERT_OK(__vfio_dev_file_open(d, path, sysfs_dev));
}

void vfio_mdev_file_open(struct vfio_dev *d, enum vfio_path path,
			 const char *parent, const char *type,
			 char uuid[MDEV_UUID_LEN])
{
	char p[MDEV_PATH_LEN];

	mdev_create(parent, type, uuid);
	vfio_dev_file_open(d, path, mdev_path(p, uuid));
}

static int vfio_group_dev_open(struct vfio_dev *d)
{
	int fd;

	if (d->container < 0) {
		d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (d->container < 0)
			return -errno;
		if (ioctl(d->file, VFIO_GROUP_SET_CONTAINER, &d->container))
			return -errno;
		if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
			return -errno;
	}
	fd = ioctl(d->file, VFIO_GROUP_GET_DEVICE_FD, d->name);
	if (fd < 0)
		return -errno;
	/* A second open of an open device gets a second fd; keep the first. */
	if (d->fd < 0)
		d->fd = fd;
	else
		close(fd);
	return 0;
}

static int vfio_cdev_dev_open(struct vfio_dev *d)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	if (d->iommufd < 0) {
		d->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (d->iommufd < 0)
			return -errno;
		if (ioctl(d->iommufd, IOMMU_IOAS_ALLOC, &alloc))
			return -errno;
		d->ioas_id = alloc.out_ioas_id;
	}
	bind.iommufd = d->iommufd;
	if (ioctl(d->file, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -errno;
	attach.pt_id = d->ioas_id;
	if (ioctl(d->file, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -errno;
	d->fd = d->file;
	return 0;
}

int __vfio_dev_open(struct vfio_dev *d)
{
	if (d->path == VFIO_PATH_GROUP)
		return vfio_group_dev_open(d);
	return vfio_cdev_dev_open(d);
}

void vfio_dev_open(struct vfio_dev *d)
{
	MK_ASSERT_OK(__vfio_dev_open(d));
}

void vfio_dev_close(struct vfio_dev *d)
{
	if (d->path == VFIO_PATH_CDEV) {
		/* The cdev is the device fd, whether the bind worked or not. */
		if (d->file >= 0)
			close(d->file);
		d->file = -1;
	} else if (d->fd >= 0) {
		close(d->fd);
	}
	d->fd = -1;
}

void vfio_dev_unplug(struct vfio_dev *d, int kv)
{
	if (d->path == VFIO_PATH_CDEV && kv >= 0 && d->file >= 0)
		__kvm_vfio_file_del(kv, d->file);
	vfio_dev_close(d);
}

void vfio_dev_release(struct vfio_dev *d)
{
	vfio_dev_close(d);
	if (d->file >= 0)
		close(d->file);
	if (d->container >= 0)
		close(d->container);
	if (d->iommufd >= 0)
		close(d->iommufd);
	d->file = -1;
	d->container = -1;
	d->iommufd = -1;
}

void vfio_region_info(struct vfio_dev *d, __u32 index,
		      struct vfio_region_info *info)
{
	*info = (struct vfio_region_info){ .argsz = sizeof(*info),
					   .index = index };
	MK_ASSERT_TRUE(!ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, info),
		       "region %u", index);
}

ssize_t __vfio_region_read(struct vfio_dev *d, __u32 index, __u64 off,
			   void *buf, size_t len)
{
	struct vfio_region_info info;
	ssize_t n;

	vfio_region_info(d, index, &info);
	n = pread(d->fd, buf, len, info.offset + off);
	return n < 0 ? -errno : n;
}

ssize_t __vfio_region_write(struct vfio_dev *d, __u32 index, __u64 off,
			    const void *buf, size_t len)
{
	struct vfio_region_info info;
	ssize_t n;

	vfio_region_info(d, index, &info);
	n = pwrite(d->fd, buf, len, info.offset + off);
	return n < 0 ? -errno : n;
}

__u32 vfio_bar0_read(struct vfio_dev *d, __u64 off)
{
	__u32 val = 0;

	MK_ASSERT_EQ(__vfio_region_read(d, VFIO_PCI_BAR0_REGION_INDEX, off,
					&val, 4), 4);
	return val;
}

void vfio_bar0_write(struct vfio_dev *d, __u64 off, __u32 val)
{
	MK_ASSERT_EQ(__vfio_region_write(d, VFIO_PCI_BAR0_REGION_INDEX, off,
					 &val, 4), 4);
}

__u32 vfio_config_read(struct vfio_dev *d, __u64 off, size_t len)
{
	__u32 val = 0;

	MK_ASSERT_TRUE(len <= sizeof(val), "len %zu", len);
	MK_ASSERT_EQ(__vfio_region_read(d, VFIO_PCI_CONFIG_REGION_INDEX, off,
					&val, len), len);
	return val;	/* little-endian host: PCI config is little-endian */
}

int __vfio_dev_dma_map(struct vfio_dev *d, __u64 iova, void *host,
		       size_t size, bool writable)
{
	if (d->path == VFIO_PATH_GROUP) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ |
				 (writable ? VFIO_DMA_MAP_FLAG_WRITE : 0),
			.vaddr = (__u64)(unsigned long)host,
			.iova = iova,
			.size = size,
		};

		if (d->container < 0)
			return -EBADF;
		return ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map) ?
			-errno : 0;
	} else {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 (writable ? IOMMU_IOAS_MAP_WRITEABLE : 0),
			.ioas_id = d->ioas_id,
			.user_va = (__u64)(unsigned long)host,
			.length = size,
			.iova = iova,
		};

		if (d->iommufd < 0)
			return -EBADF;
		return ioctl(d->iommufd, IOMMU_IOAS_MAP, &map) ? -errno : 0;
	}
}

void vfio_dev_dma_map(struct vfio_dev *d, __u64 iova, void *host,
		      size_t size)
{
	MK_ASSERT_OK(__vfio_dev_dma_map(d, iova, host, size, true));
}

int __vfio_dev_dma_unmap(struct vfio_dev *d, __u64 iova, size_t size)
{
	if (d->path == VFIO_PATH_GROUP) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = iova,
			.size = size,
		};

		if (d->container < 0)
			return -EBADF;
		return ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &unmap) ?
			-errno : 0;
	} else {
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap),
			.ioas_id = d->ioas_id,
			.iova = iova,
			.length = size,
		};

		if (d->iommufd < 0)
			return -EBADF;
		return ioctl(d->iommufd, IOMMU_IOAS_UNMAP, &unmap) ? -errno : 0;
	}
}
