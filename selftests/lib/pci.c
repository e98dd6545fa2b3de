// SPDX-License-Identifier: GPL-2.0
/* PCI functions bound to vfio-pci: see libmdevkvm/pci.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/pci.h"
#include "libmdevkvm/sysfs.h"

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define VFIO_PCI_DRV	"/sys/bus/pci/drivers/vfio-pci"
#define TYPE1_PARAM	"/sys/module/vfio_iommu_type1/parameters/"
#define IOMMUFD_PARAM	"/sys/module/iommufd/parameters/"

static bool pci_id_is(const char *dev, const char *file, unsigned int id)
{
	char path[PATH_MAX + 32], buf[16];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", dev, file);
	return !__sysfs_read(path, buf, sizeof(buf)) &&
	       strtoul(buf, NULL, 16) == id;
}

int pci_find(unsigned int vendor, unsigned int device, char *path,
	     size_t size)
{
	struct dirent *e;
	int ret = -ENOENT;
	DIR *dir;

	dir = opendir(PCI_DEVICES);
	if (!dir)
		return -errno;
	while (ret && (e = readdir(dir))) {
		if (e->d_name[0] == '.' ||
		    !pci_id_is(e->d_name, "vendor", vendor) ||
		    !pci_id_is(e->d_name, "device", device))
			continue;
		snprintf(path, size, PCI_DEVICES "/%s", e->d_name);
		ret = 0;
	}
	closedir(dir);
	return ret;
}

int __vfio_pci_prepare(void)
{
	int ret;

	ret = __modprobe("vfio-pci");
	if (ret)
		return ret;
	/* The type1 and iommufd modules are loaded with vfio. */
	ret = __sysfs_write(TYPE1_PARAM "allow_unsafe_interrupts", "Y");
	if (!ret)
		ret = __sysfs_write(IOMMUFD_PARAM "allow_unsafe_interrupts",
				    "Y");
	return ret;
}

void vfio_pci_prepare(void)
{
	MK_ASSERT_OK(__vfio_pci_prepare());
}

bool vfio_pci_bound(const char *dev)
{
	char link[PATH_MAX + 32], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/driver", dev);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(strrchr(target, '/') + 1, "vfio-pci");
}

int __vfio_pci_bind(const char *dev)
{
	char file[PATH_MAX + 32];
	int ret;

	if (vfio_pci_bound(dev))
		return 0;
	snprintf(file, sizeof(file), "%s/driver_override", dev);
	ret = __sysfs_write(file, "vfio-pci");
	if (!ret)
		ret = __sysfs_write("/sys/bus/pci/drivers_probe",
				    strrchr(dev, '/') + 1);
	if (!ret && !vfio_pci_bound(dev))
		ret = -ENODEV;
	return ret;
}

void vfio_pci_bind(const char *dev)
{
	MK_ASSERT_OK(__vfio_pci_bind(dev));
}

void vfio_pci_unbind(const char *dev)
{
	sysfs_write(VFIO_PCI_DRV "/unbind", strrchr(dev, '/') + 1);
}
