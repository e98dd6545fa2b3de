/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI functions of the test guest, bound to vfio-pci the way an admin
 * does it (driver_override, then drivers_probe). The guest's function is
 * QEMU's edu device (docs/specs/edu.rst in QEMU) behind QEMU's
 * intel-iommu, which has no interrupt remapping (intremap=off), so both
 * IOMMU backends are told to allow that, as on a machine without it.
 * __op() returns 0 or -errno; op() asserts.
 */
#ifndef LIBMDEVKVM_PCI_H
#define LIBMDEVKVM_PCI_H

#include <limits.h>	/* PATH_MAX, for the callers' paths */
#include <stdbool.h>
#include <stddef.h>

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_ID		0x00	/* 0x010000ed: version 1.0 */
#define EDU_ID_VALUE	0x010000ed
#define EDU_FACT	0x08	/* write n, read n! once done */
#define EDU_STATUS	0x20	/* bit 0: computing */

/* The sysfs directory of the first function @vendor:@device into @path. */
int pci_find(unsigned int vendor, unsigned int device, char *path,
	     size_t size);

/* Loads vfio-pci and allows unremapped MSIs on both IOMMU backends. */
int __vfio_pci_prepare(void);
void vfio_pci_prepare(void);

/* Binds @dev (a sysfs directory) to vfio-pci, unless it is already. */
int __vfio_pci_bind(const char *dev);
void vfio_pci_bind(const char *dev);
void vfio_pci_unbind(const char *dev);
bool vfio_pci_bound(const char *dev);

#endif /* LIBMDEVKVM_PCI_H */
