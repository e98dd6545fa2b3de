// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to the three sample mdev drivers, mvgpu (requires KVM), mzdev
 * (optional KVM) and mcounter (no KVM), each refused with the errno its
 * code or the VFIO/KVM core returns, and the device still working after:
 *
 *  - VFIO_DEVICE_* ioctls on the device fd (group path): argsz below the
 *    minimum, huge argsz (accepted, nothing written past minsz), bad
 *    region and IRQ indexes, SET_IRQS flags, counts and fds, unknown
 *    ioctls;
 *  - pread/pwrite and mmap of the device fd out of range, across the end
 *    of a region, at a region that does not exist;
 *  - strings written to each type's create file;
 *  - KVM_DEV_VFIO_FILE_ADD/DEL of files that are not VFIO files;
 *  - a device cdev fd before VFIO_DEVICE_BIND_IOMMUFD, bad binds, and
 *    bad attaches after it;
 *  - a user other than root.
 *
 * Each category is a table of cases run by one loop: add a line to extend
 * it. A case that returns something else prints
 * "# badinput: <case>: errno N (expected M)"; each test prints
 * "# badinput: <sample>: N cases (<category>)".
 */
#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/assert.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"

/* The samples a case applies to; 0 in a case means all of them. */
#define S_MVGPU		0x1
#define S_MZDEV		0x2
#define S_MCOUNTER	0x4

/* Every sample puts region index i at file offset i << 40. */
#define SAMPLE_OFFSET_SHIFT	40
#define SAMPLE_VENDOR		0x1b36
#define NO_REGION		VFIO_PCI_NUM_REGIONS

#define CANARY		0xa5
#define ARG_SIZE	256
#define RW_SIZE		8192
#define RW_SLACK	64
#define UNKNOWN_IOCTL	_IO(VFIO_TYPE, VFIO_BASE + 99)

/* Sets an explicit argsz; without it a case passes the struct's size. */
#define ARGSZ(n)	.set_argsz = true, .argsz = (n)

/* The fd a case passes: in SET_IRQS data, as BIND's iommufd, to KVM. */
enum fd_kind {
	FD_NONE,
	FD_UNSET,	/* -1 */
	FD_CLOSED,	/* a number that is no open fd */
	FD_EVENTFD,
	FD_DEVNULL,	/* neither an eventfd nor a VFIO or iommufd file */
	FD_CONTAINER,	/* /dev/vfio/vfio */
	FD_IOMMUFD,	/* a fresh /dev/iommu */
	FD_VM,		/* the VM */
	FD_KVM_VFIO,	/* the VM's kvm-vfio device */
	FD_GROUP,	/* the device's group file */
};

enum dev_op {
	OP_IOCTL,
	OP_READ,
	OP_WRITE,
	OP_MMAP,
};

/* One operation on a device fd and what it must return. */
struct dev_case {
	const char *name;
	enum dev_op op;
	unsigned int only;	/* S_*: the samples it applies to */
	long expect;		/* 0, bytes read or written, or -errno */

	/* OP_IOCTL: the header every VFIO_DEVICE_* argument starts with */
	unsigned long cmd;
	bool set_argsz;
	__u32 argsz;
	__u32 flags;
	__u32 index;		/* index, BIND's iommufd, ATTACH's pt_id */
	__u32 start;		/* SET_IRQS */
	__u32 count;		/* SET_IRQS */
	enum fd_kind fd;

	/* OP_READ, OP_WRITE, OP_MMAP: where, in region @region */
	__u32 region;
	bool from_end;		/* @off counts from the region's end */
	__s64 off;
	size_t len;		/* plus @sizes times the region's size */
	unsigned int sizes;
	bool private;		/* OP_MMAP: MAP_PRIVATE */
};

/* SET_IRQS of an MSI eventfd; a case's own .flags or .index win. */
#define IRQ_EVENTFD	(VFIO_IRQ_SET_DATA_EVENTFD | \
			 VFIO_IRQ_SET_ACTION_TRIGGER)
#define SET_MSI		.cmd = VFIO_DEVICE_SET_IRQS, .flags = IRQ_EVENTFD, \
			.index = VFIO_PCI_MSI_IRQ_INDEX

/*
 * The device fd on the group path, opened attached to a VM. The samples
 * share vfio_set_irqs_validate_and_prepare() (bad argsz, index, flags,
 * start and count: -EINVAL) and eventfd_ctx_fdget() (-EBADF for a closed
 * fd, -EINVAL for another file); mcounter and mzdev have MSI only, mvgpu
 * INTx and MSI; every GET_*_INFO copies back exactly minsz bytes.
 */
static const struct dev_case ioctl_cases[] = {
	{ .name = "GET_INFO argsz 0", .cmd = VFIO_DEVICE_GET_INFO,
	  ARGSZ(0), .expect = -EINVAL },
	{ .name = "GET_INFO argsz minsz - 1", .cmd = VFIO_DEVICE_GET_INFO,
	  ARGSZ(15), .expect = -EINVAL },
	{ .name = "GET_INFO argsz minsz", .cmd = VFIO_DEVICE_GET_INFO,
	  ARGSZ(16), .expect = 0 },
	{ .name = "GET_INFO argsz huge", .cmd = VFIO_DEVICE_GET_INFO,
	  ARGSZ(UINT32_MAX), .expect = 0 },
	{ .name = "GET_REGION_INFO argsz 0",
	  .cmd = VFIO_DEVICE_GET_REGION_INFO, ARGSZ(0),
	  .index = VFIO_PCI_CONFIG_REGION_INDEX, .expect = -EINVAL },
	{ .name = "GET_REGION_INFO argsz minsz - 1",
	  .cmd = VFIO_DEVICE_GET_REGION_INFO, ARGSZ(31),
	  .index = VFIO_PCI_CONFIG_REGION_INDEX, .expect = -EINVAL },
	{ .name = "GET_REGION_INFO argsz huge",
	  .cmd = VFIO_DEVICE_GET_REGION_INFO, ARGSZ(UINT32_MAX),
	  .index = VFIO_PCI_CONFIG_REGION_INDEX, .expect = 0 },
	{ .name = "GET_REGION_INFO index NUM_REGIONS",
	  .cmd = VFIO_DEVICE_GET_REGION_INFO, .index = VFIO_PCI_NUM_REGIONS,
	  .expect = -EINVAL },
	{ .name = "GET_REGION_INFO index 0x80000000",
	  .cmd = VFIO_DEVICE_GET_REGION_INFO, .index = 0x80000000,
	  .expect = -EINVAL },
	{ .name = "GET_REGION_INFO index U32_MAX",
	  .cmd = VFIO_DEVICE_GET_REGION_INFO, .index = UINT32_MAX,
	  .expect = -EINVAL },
	{ .name = "GET_IRQ_INFO argsz 0", .cmd = VFIO_DEVICE_GET_IRQ_INFO,
	  ARGSZ(0), .index = VFIO_PCI_MSI_IRQ_INDEX, .expect = -EINVAL },
	{ .name = "GET_IRQ_INFO argsz minsz - 1",
	  .cmd = VFIO_DEVICE_GET_IRQ_INFO, ARGSZ(15),
	  .index = VFIO_PCI_MSI_IRQ_INDEX, .expect = -EINVAL },
	{ .name = "GET_IRQ_INFO argsz huge", .cmd = VFIO_DEVICE_GET_IRQ_INFO,
	  ARGSZ(UINT32_MAX), .index = VFIO_PCI_MSI_IRQ_INDEX, .expect = 0 },
	{ .name = "GET_IRQ_INFO index NUM_IRQS",
	  .cmd = VFIO_DEVICE_GET_IRQ_INFO, .index = VFIO_PCI_NUM_IRQS,
	  .expect = -EINVAL },
	{ .name = "GET_IRQ_INFO index U32_MAX",
	  .cmd = VFIO_DEVICE_GET_IRQ_INFO, .index = UINT32_MAX,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS argsz 0", SET_MSI, ARGSZ(0), .count = 1,
	  .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS argsz minsz - 1", SET_MSI, ARGSZ(19), .count = 1,
	  .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS argsz without room for the fd", SET_MSI,
	  ARGSZ(20), .count = 1, .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS argsz huge", SET_MSI, ARGSZ(UINT32_MAX),
	  .count = 1, .fd = FD_UNSET, .expect = 0 },
	{ .name = "SET_IRQS index NUM_IRQS", SET_MSI,
	  .index = VFIO_PCI_NUM_IRQS, .count = 1, .fd = FD_UNSET,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS index U32_MAX", SET_MSI, .index = UINT32_MAX,
	  .count = 1, .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS MSI-X (none)", SET_MSI,
	  .index = VFIO_PCI_MSIX_IRQ_INDEX, .count = 1, .fd = FD_UNSET,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS INTx (none)", SET_MSI,
	  .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1, .fd = FD_UNSET,
	  .only = S_MZDEV | S_MCOUNTER, .expect = -EINVAL },
	{ .name = "SET_IRQS unknown flag 1 << 6", SET_MSI,
	  .flags = IRQ_EVENTFD | 1 << 6, .count = 1, .fd = FD_UNSET,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS unknown flag 1 << 31", SET_MSI,
	  .flags = IRQ_EVENTFD | 1U << 31, .count = 1, .fd = FD_UNSET,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS no data type", SET_MSI,
	  .flags = VFIO_IRQ_SET_ACTION_TRIGGER, .count = 1,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS two data types", SET_MSI,
	  .flags = IRQ_EVENTFD | VFIO_IRQ_SET_DATA_NONE, .count = 1,
	  .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS no action", SET_MSI,
	  .flags = VFIO_IRQ_SET_DATA_EVENTFD, .count = 1, .fd = FD_UNSET,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS two actions", SET_MSI,
	  .flags = IRQ_EVENTFD | VFIO_IRQ_SET_ACTION_MASK, .count = 1,
	  .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS MSI MASK", SET_MSI,
	  .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
	  .count = 1, .expect = -EINVAL },
	{ .name = "SET_IRQS DATA_BOOL", SET_MSI,
	  .flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
	  .count = 1, .expect = -EINVAL },
	{ .name = "SET_IRQS loopback with no trigger", SET_MSI,
	  .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	  .count = 1, .expect = -EINVAL },
	{ .name = "SET_IRQS count 2 for one vector", SET_MSI, .count = 2,
	  .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS start 1", SET_MSI, .start = 1, .count = 1,
	  .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS start 1 count 0", SET_MSI, .start = 1,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS start 1 count U32_MAX", SET_MSI, .start = 1,
	  .count = UINT32_MAX, .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS start U32_MAX count 1", SET_MSI,
	  .start = UINT32_MAX, .count = 1, .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "SET_IRQS start + count wraps to 0", SET_MSI,
	  .start = 0x80000000, .count = 0x80000000, .fd = FD_UNSET,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS fd not an eventfd", SET_MSI, .count = 1,
	  .fd = FD_DEVNULL, .expect = -EINVAL },
	{ .name = "SET_IRQS fd closed", SET_MSI, .count = 1,
	  .fd = FD_CLOSED, .expect = -EBADF },
	{ .name = "SET_IRQS INTx fd not an eventfd", SET_MSI,
	  .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1, .fd = FD_DEVNULL,
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "SET_IRQS INTx fd closed", SET_MSI,
	  .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1, .fd = FD_CLOSED,
	  .only = S_MVGPU, .expect = -EBADF },
	{ .name = "SET_IRQS INTx UNMASK, INTx off", SET_MSI,
	  .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
	  .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1, .only = S_MVGPU,
	  .expect = -EINVAL },
	{ .name = "SET_IRQS INTx UNMASK count 0", SET_MSI,
	  .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
	  .index = VFIO_PCI_INTX_IRQ_INDEX, .only = S_MVGPU,
	  .expect = -EINVAL },
	/* The uapi's "disable the index as a whole". */
	{ .name = "SET_IRQS DATA_NONE count 0 disables", SET_MSI,
	  .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	  .expect = 0 },
	{ .name = "unknown VFIO ioctl", .cmd = UNKNOWN_IOCTL,
	  .expect = -ENOTTY },
	{ .name = "unknown ioctl type", .cmd = _IO('x', 1),
	  .expect = -ENOTTY },
	{ .name = "container ioctl on the device", .cmd = VFIO_GET_API_VERSION,
	  .expect = -ENOTTY },
	{ .name = "group ioctl on the device", .cmd = VFIO_GROUP_GET_STATUS,
	  .expect = -ENOTTY },
	{ .name = "ATTACH_IOMMUFD_PT on a group device fd",
	  .cmd = VFIO_DEVICE_ATTACH_IOMMUFD_PT, .expect = -ENOTTY },
	{ .name = "BIND_IOMMUFD on a group device fd",
	  .cmd = VFIO_DEVICE_BIND_IOMMUFD, .fd = FD_IOMMUFD,
	  .expect = -EINVAL },
	{ .name = "FEATURE argsz minsz - 1", .cmd = VFIO_DEVICE_FEATURE,
	  ARGSZ(7), .flags = VFIO_DEVICE_FEATURE_PROBE |
	  VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
	  .expect = -EINVAL },
	{ .name = "FEATURE unknown flag", .cmd = VFIO_DEVICE_FEATURE,
	  .flags = VFIO_DEVICE_FEATURE_GET | 1 << 19, .expect = -EINVAL },
	{ .name = "FEATURE GET and SET", .cmd = VFIO_DEVICE_FEATURE,
	  .flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
	  VFIO_DEVICE_FEATURE_MIGRATION, .expect = -EINVAL },
	{ .name = "FEATURE migration (none)", .cmd = VFIO_DEVICE_FEATURE,
	  .flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
	  VFIO_DEVICE_FEATURE_MIGRATION, .expect = -ENOTTY },
	{ .name = "FEATURE unknown feature", .cmd = VFIO_DEVICE_FEATURE,
	  .flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
	  0xffff, .expect = -ENOTTY },
};

#define RD(r, o, l)	.op = OP_READ, .region = (r), .off = (o), .len = (l)
#define WR(r, o, l)	.op = OP_WRITE, .region = (r), .off = (o), .len = (l)
#define CONFIG		VFIO_PCI_CONFIG_REGION_INDEX
#define BAR0		VFIO_PCI_BAR0_REGION_INDEX
#define BAR2		VFIO_PCI_BAR2_REGION_INDEX

/*
 * pread/pwrite of the device fd. The samples split an access into
 * aligned 4, 2 and 1-byte ones (BAR0 takes 4 only) and return what was
 * done before the first one that fails: an access across the end of
 * config space or BAR0 is short, one that starts past it is -EINVAL. The
 * mvgpu aperture (BAR2) is memory: all of an access fits, or -EINVAL. A
 * zero-length access does nothing and returns 0, except past the end of
 * the aperture (POSIX allows either).
 */
static const struct dev_case rw_cases[] = {
	{ .name = "config read past the end", RD(CONFIG, 0, 4),
	  .from_end = true, .expect = -EINVAL },
	{ .name = "config read across the end", RD(CONFIG, -4, 8),
	  .from_end = true, .expect = 4 },
	{ .name = "config read of 8 KiB", RD(CONFIG, 0, RW_SIZE),
	  .expect = 256 },
	{ .name = "config read at 2^39", RD(CONFIG, 1LL << 39, 4),
	  .expect = -EINVAL },
	{ .name = "config write past the end", WR(CONFIG, 0, 4),
	  .from_end = true, .expect = -EINVAL },
	{ .name = "config write across the end", WR(CONFIG, -4, 8),
	  .from_end = true, .expect = 4 },
	{ .name = "config zero-length read past the end", RD(CONFIG, 0, 0),
	  .from_end = true, .expect = 0 },
	{ .name = "BAR0 read past the end", RD(BAR0, 0, 4),
	  .from_end = true, .expect = -EINVAL },
	{ .name = "BAR0 read across the end", RD(BAR0, -4, 8),
	  .from_end = true, .expect = 4 },
	{ .name = "BAR0 read of 8 KiB", RD(BAR0, 0, RW_SIZE),
	  .expect = 4096 },
	{ .name = "BAR0 read at the last offset of the index",
	  RD(BAR0, (1LL << SAMPLE_OFFSET_SHIFT) - 4, 4), .expect = -EINVAL },
	{ .name = "BAR0 write past the end", WR(BAR0, 0, 4),
	  .from_end = true, .expect = -EINVAL },
	{ .name = "BAR0 write across the end", WR(BAR0, -4, 8),
	  .from_end = true, .expect = 4 },
	{ .name = "BAR0 2-byte read", RD(BAR0, 0, 2), .expect = -EINVAL },
	{ .name = "BAR0 1-byte write", WR(BAR0, 8, 1), .expect = -EINVAL },
	{ .name = "BAR0 misaligned read", RD(BAR0, 2, 4), .expect = -EINVAL },
	{ .name = "BAR0 zero-length write", WR(BAR0, 4, 0), .expect = 0 },
	{ .name = "BAR1 (none) read", RD(VFIO_PCI_BAR1_REGION_INDEX, 0, 4),
	  .expect = -EINVAL },
	{ .name = "BAR2 (none) read", RD(BAR2, 0, 4),
	  .only = S_MZDEV | S_MCOUNTER, .expect = -EINVAL },
	{ .name = "ROM (none) read", RD(VFIO_PCI_ROM_REGION_INDEX, 0, 4),
	  .expect = -EINVAL },
	{ .name = "VGA (none) write", WR(VFIO_PCI_VGA_REGION_INDEX, 0, 4),
	  .expect = -EINVAL },
	{ .name = "region NUM_REGIONS read", RD(NO_REGION, 0, 4),
	  .expect = -EINVAL },
	{ .name = "region NUM_REGIONS write", WR(NO_REGION, 0, 4),
	  .expect = -EINVAL },
	{ .name = "region 0xffff read", RD(0xffff, 0, 4), .expect = -EINVAL },
	{ .name = "region NUM_REGIONS zero-length read", RD(NO_REGION, 0, 0),
	  .expect = 0 },
	{ .name = "negative file offset read", RD(UINT32_MAX, -4, 4),
	  .expect = -EINVAL },
	{ .name = "negative file offset write", WR(UINT32_MAX, -4, 4),
	  .expect = -EINVAL },
	{ .name = "BAR2 read past the end", RD(BAR2, 0, 4), .from_end = true,
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 read across the end", RD(BAR2, -8, 16),
	  .from_end = true, .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 write across the end", WR(BAR2, -8, 16),
	  .from_end = true, .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 read of twice its size", RD(BAR2, 0, 0), .sizes = 2,
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 zero-length read at the end", RD(BAR2, 0, 0),
	  .from_end = true, .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 zero-length read inside", RD(BAR2, 64, 0),
	  .only = S_MVGPU, .expect = 0 },
};

#define MAP(r, o, l)	.op = OP_MMAP, .region = (r), .off = (o), .len = (l)

/*
 * mmap of the device fd: only the mvgpu aperture can be mapped, shared,
 * within its size (mvgpu_mmap(): -EINVAL); the others have no .mmap
 * (vfio_device_fops_mmap(): -EINVAL); mmap(2) itself refuses an offset
 * that is not page-aligned and a zero length.
 */
static const struct dev_case mmap_cases[] = {
	{ .name = "BAR2 whole, shared", MAP(BAR2, 0, 0), .sizes = 1,
	  .only = S_MVGPU, .expect = 0 },
	{ .name = "BAR2 twice its size", MAP(BAR2, 0, 0), .sizes = 2,
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 from its end", MAP(BAR2, 0, 4096), .from_end = true,
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 last page and one more", MAP(BAR2, -4096, 8192),
	  .from_end = true, .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 offset not page-aligned", MAP(BAR2, 1, 4096),
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 offset half a page", MAP(BAR2, 2048, 4096),
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 private", MAP(BAR2, 0, 4096), .private = true,
	  .only = S_MVGPU, .expect = -EINVAL },
	{ .name = "BAR2 zero length", MAP(BAR2, 0, 0), .only = S_MVGPU,
	  .expect = -EINVAL },
	{ .name = "BAR2 (none)", MAP(BAR2, 0, 4096),
	  .only = S_MZDEV | S_MCOUNTER, .expect = -EINVAL },
	{ .name = "BAR0 (not mmap-able)", MAP(BAR0, 0, 4096),
	  .expect = -EINVAL },
	{ .name = "BAR0 past its end", MAP(BAR0, 4096, 4096),
	  .expect = -EINVAL },
	{ .name = "config space", MAP(CONFIG, 0, 4096), .expect = -EINVAL },
	{ .name = "region NUM_REGIONS", MAP(NO_REGION, 0, 4096),
	  .expect = -EINVAL },
};

/*
 * A device cdev fd that is not bound to an iommufd: vfio_main.c refuses
 * every ioctl but VFIO_DEVICE_BIND_IOMMUFD, read, write and mmap with
 * -EINVAL until the bind (df->access_granted). The binds here fail:
 * vfio_df_ioctl_bind_iommufd() checks argsz, flags and iommufd < 0
 * (-EINVAL), iommufd_ctx_from_fd() the file (-EBADF, -EBADFD), and
 * vfio_device_pin_kvm() that mvgpu has a VM (-EINVAL).
 */
static const struct dev_case cdev_cases[] = {
	{ .name = "unbound GET_INFO", .cmd = VFIO_DEVICE_GET_INFO,
	  .expect = -EINVAL },
	{ .name = "unbound GET_REGION_INFO",
	  .cmd = VFIO_DEVICE_GET_REGION_INFO,
	  .index = VFIO_PCI_CONFIG_REGION_INDEX, .expect = -EINVAL },
	{ .name = "unbound GET_IRQ_INFO", .cmd = VFIO_DEVICE_GET_IRQ_INFO,
	  .index = VFIO_PCI_MSI_IRQ_INDEX, .expect = -EINVAL },
	{ .name = "unbound SET_IRQS", SET_MSI, .count = 1, .fd = FD_UNSET,
	  .expect = -EINVAL },
	{ .name = "unbound RESET", .cmd = VFIO_DEVICE_RESET,
	  .expect = -EINVAL },
	{ .name = "unbound FEATURE", .cmd = VFIO_DEVICE_FEATURE,
	  .flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
	  VFIO_DEVICE_FEATURE_MIGRATION, .expect = -EINVAL },
	{ .name = "unbound ATTACH_IOMMUFD_PT",
	  .cmd = VFIO_DEVICE_ATTACH_IOMMUFD_PT, .expect = -EINVAL },
	{ .name = "unbound DETACH_IOMMUFD_PT",
	  .cmd = VFIO_DEVICE_DETACH_IOMMUFD_PT, .expect = -EINVAL },
	{ .name = "unbound unknown ioctl", .cmd = UNKNOWN_IOCTL,
	  .expect = -EINVAL },
	{ .name = "unbound config read", RD(CONFIG, 0, 4),
	  .expect = -EINVAL },
	{ .name = "unbound zero-length read", RD(CONFIG, 0, 0),
	  .expect = -EINVAL },
	{ .name = "unbound BAR0 write", WR(BAR0, 8, 4), .expect = -EINVAL },
	{ .name = "unbound BAR0 mmap", MAP(BAR0, 0, 4096),
	  .expect = -EINVAL },
	{ .name = "unbound BAR2 mmap", MAP(BAR2, 0, 4096), .only = S_MVGPU,
	  .expect = -EINVAL },
	{ .name = "BIND argsz 0", .cmd = VFIO_DEVICE_BIND_IOMMUFD, ARGSZ(0),
	  .fd = FD_IOMMUFD, .expect = -EINVAL },
	{ .name = "BIND argsz minsz - 1", .cmd = VFIO_DEVICE_BIND_IOMMUFD,
	  ARGSZ(15), .fd = FD_IOMMUFD, .expect = -EINVAL },
	{ .name = "BIND unknown flag", .cmd = VFIO_DEVICE_BIND_IOMMUFD,
	  .flags = 1, .fd = FD_IOMMUFD, .expect = -EINVAL },
	{ .name = "BIND iommufd -1", .cmd = VFIO_DEVICE_BIND_IOMMUFD,
	  .fd = FD_UNSET, .expect = -EINVAL },
	{ .name = "BIND iommufd closed", .cmd = VFIO_DEVICE_BIND_IOMMUFD,
	  .fd = FD_CLOSED, .expect = -EBADF },
	{ .name = "BIND iommufd an eventfd", .cmd = VFIO_DEVICE_BIND_IOMMUFD,
	  .fd = FD_EVENTFD, .expect = -EBADFD },
	{ .name = "BIND iommufd a VFIO container",
	  .cmd = VFIO_DEVICE_BIND_IOMMUFD, .fd = FD_CONTAINER,
	  .expect = -EBADFD },
	{ .name = "BIND with no VM", .cmd = VFIO_DEVICE_BIND_IOMMUFD,
	  .fd = FD_IOMMUFD, .only = S_MVGPU, .expect = -EINVAL },
};

/*
 * The same cdev fd once bound and attached: vfio_df_ioctl_attach_pt()
 * and _detach_pt() check argsz and flags (-EINVAL), iommufd the pt_id
 * (-ENOENT); a bound fd cannot bind again (-EINVAL).
 */
static const struct dev_case cdev_bound_cases[] = {
	{ .name = "ATTACH argsz minsz - 1",
	  .cmd = VFIO_DEVICE_ATTACH_IOMMUFD_PT, ARGSZ(11), .index = 1,
	  .expect = -EINVAL },
	{ .name = "ATTACH unknown flag", .cmd = VFIO_DEVICE_ATTACH_IOMMUFD_PT,
	  .flags = 1, .index = 1, .expect = -EINVAL },
	{ .name = "ATTACH to no such object",
	  .cmd = VFIO_DEVICE_ATTACH_IOMMUFD_PT, .index = 0xdead,
	  .expect = -ENOENT },
	{ .name = "DETACH argsz minsz - 1",
	  .cmd = VFIO_DEVICE_DETACH_IOMMUFD_PT, ARGSZ(7), .expect = -EINVAL },
	{ .name = "DETACH unknown flag", .cmd = VFIO_DEVICE_DETACH_IOMMUFD_PT,
	  .flags = 1, .expect = -EINVAL },
	{ .name = "BIND once bound", .cmd = VFIO_DEVICE_BIND_IOMMUFD,
	  .fd = FD_IOMMUFD, .expect = -EINVAL },
};

enum create_str {
	CREATE_LITERAL,
	CREATE_DUP,		/* the fixture device's UUID */
	CREATE_DUP_UPPER,	/* the same in upper case */
	CREATE_DUP_NEWLINE,	/* the same and a newline */
	CREATE_PAGE,		/* 5000 characters */
};

struct create_case {
	const char *name;
	enum create_str kind;
	const char *str;
	int expect;
};

/*
 * Strings written to a type's create file. The mdev core takes 36 or 37
 * characters that guid_parse() accepts (-EINVAL), refuses a UUID that
 * exists (-EEXIST); kernfs passes at most a page; sysfs ignores a write
 * of nothing (0).
 */
static const struct create_case create_cases[] = {
	{ "not a UUID", CREATE_LITERAL, "not-a-uuid", -EINVAL },
	{ "bad character", CREATE_LITERAL,
	  "0123456g-89ab-4cde-8f01-23456789abcd", -EINVAL },
	{ "a space", CREATE_LITERAL,
	  "01234567-89ab-4cde-8f01 23456789abcd", -EINVAL },
	{ "dash misplaced", CREATE_LITERAL,
	  "012345678-9ab-4cde-8f01-23456789abcd", -EINVAL },
	{ "no dashes", CREATE_LITERAL,
	  "0123456789ab4cde8f0123456789abcd0000", -EINVAL },
	{ "one character short", CREATE_LITERAL,
	  "01234567-89ab-4cde-8f01-23456789abc", -EINVAL },
	{ "overlong by two", CREATE_LITERAL,
	  "01234567-89ab-4cde-8f01-23456789abcdef", -EINVAL },
	{ "in braces", CREATE_LITERAL,
	  "{01234567-89ab-4cde-8f01-23456789abcd}", -EINVAL },
	{ "5000 characters", CREATE_PAGE, NULL, -EINVAL },
	{ "a newline", CREATE_LITERAL, "\n", -EINVAL },
	{ "empty", CREATE_LITERAL, "", 0 },
	{ "duplicate", CREATE_DUP, NULL, -EEXIST },
	{ "duplicate in upper case", CREATE_DUP_UPPER, NULL, -EEXIST },
	{ "duplicate and a newline", CREATE_DUP_NEWLINE, NULL, -EEXIST },
};

struct kvm_case {
	const char *name;
	unsigned long ioctl;	/* 0: KVM_SET_DEVICE_ATTR */
	__u32 group;		/* 0: KVM_DEV_VFIO_FILE */
	__u64 attr;
	enum fd_kind fd;
	bool null_addr;
	int expect;
};

/*
 * The kvm-vfio device, virt/kvm/vfio.c: FILE_ADD takes VFIO group and
 * device files only (-EINVAL), an open fd (-EBADF); FILE_DEL a file it
 * holds (-ENOENT); other attributes are -ENXIO; kvm_device_ioctl() has
 * no GET_DEVICE_ATTR for it (-EPERM) and no other ioctl (-ENOTTY).
 */
static const struct kvm_case kvm_cases[] = {
	{ "FILE_ADD an eventfd", 0, 0, KVM_DEV_VFIO_FILE_ADD, FD_EVENTFD,
	  false, -EINVAL },
	{ "FILE_ADD /dev/null", 0, 0, KVM_DEV_VFIO_FILE_ADD, FD_DEVNULL,
	  false, -EINVAL },
	{ "FILE_ADD a VFIO container", 0, 0, KVM_DEV_VFIO_FILE_ADD,
	  FD_CONTAINER, false, -EINVAL },
	{ "FILE_ADD an iommufd", 0, 0, KVM_DEV_VFIO_FILE_ADD, FD_IOMMUFD,
	  false, -EINVAL },
	{ "FILE_ADD the VM", 0, 0, KVM_DEV_VFIO_FILE_ADD, FD_VM, false,
	  -EINVAL },
	{ "FILE_ADD the kvm-vfio device", 0, 0, KVM_DEV_VFIO_FILE_ADD,
	  FD_KVM_VFIO, false, -EINVAL },
	{ "FILE_ADD a closed fd", 0, 0, KVM_DEV_VFIO_FILE_ADD, FD_CLOSED,
	  false, -EBADF },
	{ "FILE_ADD fd -1", 0, 0, KVM_DEV_VFIO_FILE_ADD, FD_UNSET, false,
	  -EBADF },
	{ "FILE_ADD from NULL", 0, 0, KVM_DEV_VFIO_FILE_ADD, FD_GROUP, true,
	  -EFAULT },
	{ "FILE_DEL never added", 0, 0, KVM_DEV_VFIO_FILE_DEL, FD_GROUP,
	  false, -ENOENT },
	{ "FILE_DEL an eventfd", 0, 0, KVM_DEV_VFIO_FILE_DEL, FD_EVENTFD,
	  false, -ENOENT },
	{ "FILE_DEL a closed fd", 0, 0, KVM_DEV_VFIO_FILE_DEL, FD_CLOSED,
	  false, -EBADF },
	{ "FILE_DEL from NULL", 0, 0, KVM_DEV_VFIO_FILE_DEL, FD_GROUP, true,
	  -EFAULT },
	{ "unknown attribute", 0, 0, 99, FD_GROUP, false, -ENXIO },
	{ "unknown group", 0, 99, KVM_DEV_VFIO_FILE_ADD, FD_GROUP, false,
	  -ENXIO },
	{ "HAS_DEVICE_ATTR unknown attribute", KVM_HAS_DEVICE_ATTR, 0, 99,
	  FD_GROUP, false, -ENXIO },
	{ "GET_DEVICE_ATTR", KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VFIO_FILE_ADD,
	  FD_GROUP, false, -EPERM },
	{ "unknown ioctl", _IO(KVMIO, 0xff), 0, KVM_DEV_VFIO_FILE_ADD,
	  FD_GROUP, false, -ENOTTY },
};

enum nonroot_op {
	NR_CREATE,
	NR_REMOVE,
	NR_OPEN_GROUP,
	NR_OPEN_CDEV,
};

struct nonroot_case {
	const char *name;
	enum nonroot_op op;
	int flags;
	int expect;
};

/* As uid/gid 65534: create and remove are 0200, the device nodes 0600. */
static const struct nonroot_case nonroot_cases[] = {
	{ "non-root create", NR_CREATE, 0, -EACCES },
	{ "non-root remove", NR_REMOVE, 0, -EACCES },
	{ "non-root group open", NR_OPEN_GROUP, O_RDWR, -EACCES },
	{ "non-root group open read-only", NR_OPEN_GROUP, O_RDONLY, -EACCES },
	{ "non-root cdev open", NR_OPEN_CDEV, O_RDWR, -EACCES },
	{ "non-root cdev open read-only", NR_OPEN_CDEV, O_RDONLY, -EACCES },
};

/*
 * Compares what a case returned, 0, a byte count or -errno, with what it
 * expects, and prints a mismatch. Returns 1 if they differ.
 */
static int badinput_check(const char *name, long got, long expect)
{
	if (got == expect)
		return 0;
	if (got <= 0 && expect <= 0)
		printf("# badinput: %s: errno %ld (expected %ld)\n", name,
		       -got, -expect);
	else
		printf("# badinput: %s: %s %ld (expected %s%ld)\n", name,
		       got < 0 ? "errno" : "returned", labs(got),
		       expect < 0 ? "errno " : "", labs(expect));
	return 1;
}

static void badinput_count(const char *sample, int n, const char *category)
{
	printf("# badinput: %s: %d cases (%s)\n", sample, n, category);
}

/* A sample: its parent and type, and what its device answers. */
struct sample {
	const char *parent;
	const char *type;
	unsigned int id;	/* S_* */
	__u16 device_id;
	__u32 reg0;		/* BAR0 at 0 after open */
	__u32 reg4;		/* BAR0 at 4 after open, attached to a VM */
	__u32 irq_enable;	/* BAR0 offset to write 1 to first, or 0 */
	__u32 doorbell;		/* BAR0 offset: a write raises the MSI */
};

/* Registers: ID, STATUS with the VM bit (mvgpu.c, mzdev.c); COUNT. */
static const struct sample mvgpu = {
	.parent = "mvgpu",
	.type = "mvgpu-small",
	.id = S_MVGPU,
	.device_id = 0x10f0,
	.reg0 = 0x4d564750,
	.reg4 = 0x1,
	.irq_enable = 0x10,
	.doorbell = 0x8,
};

static const struct sample mzdev = {
	.parent = "mzdev",
	.type = "mzdev-c4",
	.id = S_MZDEV,
	.device_id = 0x10f1,
	.reg0 = 0x4d5a4456,
	.reg4 = 0x1,
	.doorbell = 0x8,
};

static const struct sample mcounter = {
	.parent = "mcounter",
	.type = "mcounter-1",
	.id = S_MCOUNTER,
	.device_id = 0x10f2,
	.reg0 = 0,
	.reg4 = 0,
	.doorbell = 0x4,
};

/* What the fixture sets up: a VM, and an instance with its group open. */
struct badinput {
	int vm;
	int kv;
	char uuid[MDEV_UUID_LEN];
	int avail;		/* available_instances before the instance */
	int count;		/* instances of the type before it */
	struct vfio_dev dev;	/* group path, until a test says otherwise */
};

FIXTURE(badinput) {
	struct badinput b;
};

FIXTURE_VARIANT(badinput) {
	const struct sample *s;
};

FIXTURE_VARIANT_ADD(badinput, mvgpu) {
	.s = &mvgpu,
};

FIXTURE_VARIANT_ADD(badinput, mzdev) {
	.s = &mzdev,
};

FIXTURE_VARIANT_ADD(badinput, mcounter) {
	.s = &mcounter,
};

FIXTURE_SETUP(badinput)
{
	const struct sample *s = variant->s;
	struct badinput *b = &self->b;

	modprobe(s->parent);
	modprobe("iommufd");
	b->vm = kvm_vm_create();
	b->kv = kvm_vfio_create(b->vm);
	b->avail = mdev_available(s->parent, s->type);
	b->count = mdev_count(s->parent, s->type);
	ASSERT_GT(b->avail, 0);
	ASSERT_GE(b->count, 0);
	vfio_mdev_file_open(&b->dev, VFIO_PATH_GROUP, s->parent, s->type,
			    b->uuid);
}

FIXTURE_TEARDOWN(badinput)
{
	const struct sample *s = variant->s;
	struct badinput *b = &self->b;
	char p[MDEV_PATH_LEN];

	/* Releases the kvm-vfio device's reference to a cdev file too. */
	vfio_dev_release(&b->dev);
	close(b->kv);
	close(b->vm);
	mdev_remove(b->uuid);
	EXPECT_NE(0, access(mdev_path(p, b->uuid), F_OK));
	EXPECT_EQ(b->count, mdev_count(s->parent, s->type));
	EXPECT_EQ(b->avail, mdev_available(s->parent, s->type));
}

/* Opens the device attached to the fixture's VM, as a VMM does. */
static void badinput_open(struct badinput *b)
{
	kvm_vfio_file_add(b->kv, b->dev.file);
	vfio_dev_open(&b->dev);
}

/* The open device still answers: config space and two registers. */
static void badinput_works(struct __test_metadata *_metadata,
			   struct badinput *b, const struct sample *s)
{
	EXPECT_EQ(SAMPLE_VENDOR, vfio_config_read(&b->dev, 0x0, 2));
	EXPECT_EQ(s->device_id, vfio_config_read(&b->dev, 0x2, 2));
	EXPECT_EQ(s->reg0, vfio_bar0_read(&b->dev, 0x0));
	EXPECT_EQ(s->reg4, vfio_bar0_read(&b->dev, 0x4));
}

/*
 * The fd a case asks for; sets *@own when the caller must close it.
 * FD_CLOSED is a number just freed, which stays free until the next open.
 */
static int fd_get(struct badinput *b, enum fd_kind kind, bool *own)
{
	int fd = -1;

	*own = false;
	switch (kind) {
	case FD_NONE:
	case FD_UNSET:
		return -1;
	case FD_CLOSED:
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		MK_ASSERT_TRUE(fd >= 0, "open /dev/null");
		close(fd);
		return fd;
	case FD_EVENTFD:
		fd = eventfd(0, EFD_CLOEXEC);
		break;
	case FD_DEVNULL:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	case FD_CONTAINER:
		fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		break;
	case FD_IOMMUFD:
		fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		break;
	case FD_VM:
		return b->vm;
	case FD_KVM_VFIO:
		return b->kv;
	case FD_GROUP:
		return b->dev.file;
	}
	MK_ASSERT_TRUE(fd >= 0, "fd kind %d", kind);
	*own = true;
	return fd;
}

/* The size of @cmd's argument and how much of it the kernel fills in. */
static __u32 ioctl_arg_size(const struct dev_case *c, __u32 *out)
{
	__u32 data = 0;

	*out = 0;
	switch (c->cmd) {
	case VFIO_DEVICE_GET_INFO:
		*out = offsetof(struct vfio_device_info, cap_offset);
		return sizeof(struct vfio_device_info);
	case VFIO_DEVICE_GET_REGION_INFO:
		*out = sizeof(struct vfio_region_info);
		return sizeof(struct vfio_region_info);
	case VFIO_DEVICE_GET_IRQ_INFO:
		*out = sizeof(struct vfio_irq_info);
		return sizeof(struct vfio_irq_info);
	case VFIO_DEVICE_SET_IRQS:
		if (c->flags & VFIO_IRQ_SET_DATA_EVENTFD)
			data = sizeof(__s32);
		else if (c->flags & VFIO_IRQ_SET_DATA_BOOL)
			data = sizeof(__u8);
		return sizeof(struct vfio_irq_set) +
		       (c->count < 8 ? c->count : 8) * data;
	case VFIO_DEVICE_BIND_IOMMUFD:
		return sizeof(struct vfio_device_bind_iommufd);
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return sizeof(struct vfio_device_attach_iommufd_pt);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return sizeof(struct vfio_device_detach_iommufd_pt);
	case VFIO_DEVICE_FEATURE:
		return sizeof(struct vfio_device_feature);
	}
	return 0;
}

/*
 * Runs one VFIO_DEVICE_* ioctl on @fd. The argument sits in a buffer of
 * canary bytes: a failed ioctl must not change any of it, a successful
 * one nothing past what its command fills in. Returns 0 or -errno, or
 * -EFAULT with a message if a canary byte changed.
 */
static int ioctl_run(struct badinput *b, const struct dev_case *c, int fd)
{
	__u64 buf[ARG_SIZE / 8], before[ARG_SIZE / 8];
	struct vfio_irq_set *hdr = (struct vfio_irq_set *)buf;
	__u32 out, size, i, n;
	int ret, arg_fd;
	bool own;

	memset(buf, CANARY, sizeof(buf));
	size = ioctl_arg_size(c, &out);
	arg_fd = fd_get(b, c->fd, &own);
	hdr->argsz = c->set_argsz ? c->argsz : size;
	hdr->flags = c->flags;
	hdr->index = c->cmd == VFIO_DEVICE_BIND_IOMMUFD ? arg_fd : c->index;
	if (c->cmd == VFIO_DEVICE_SET_IRQS) {
		hdr->start = c->start;
		hdr->count = c->count;
		n = c->count < 8 ? c->count : 8;
		for (i = 0; i < n; i++) {
			if (c->flags & VFIO_IRQ_SET_DATA_BOOL)
				hdr->data[i] = 1;
			else
				memcpy(hdr->data + 4 * i, &arg_fd, 4);
		}
	}
	memcpy(before, buf, sizeof(buf));

	ret = ioctl(fd, c->cmd, buf) ? -errno : 0;
	if (own)
		close(arg_fd);

	for (i = ret ? 0 : out; i < sizeof(buf); i++) {
		if (((__u8 *)buf)[i] != ((__u8 *)before)[i]) {
			printf("# badinput: %s: byte %u changed (errno %d)\n",
			       c->name, i, -ret);
			return -EFAULT;
		}
	}
	return ret;
}

/* Where region @index starts in the device fd, and its size (0: none). */
static __u64 region_base(int fd, __u32 index, __u64 *size)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = index,
	};

	*size = 0;
	if (index == UINT32_MAX)	/* the case gives the file offset */
		return 0;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return (__u64)index << SAMPLE_OFFSET_SHIFT;
	*size = info.size;
	return info.offset;
}

/*
 * pread/pwrite or mmap of @fd. A read must leave the buffer past what it
 * returns alone: it sits in RW_SLACK more canary bytes. Returns bytes, 0
 * or -errno.
 */
static long rw_mmap_run(const struct dev_case *c, int fd)
{
	__u64 size, base = region_base(fd, c->region, &size);
	__s64 off = base + c->off + (c->from_end ? size : 0);
	size_t len = c->len + c->sizes * size, i;
	long ret;
	__u8 *buf;
	void *p;

	if (c->op == OP_MMAP) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 c->private ? MAP_PRIVATE : MAP_SHARED, fd, off);
		if (p == MAP_FAILED)
			return -errno;
		munmap(p, len);
		return 0;
	}

	buf = malloc(len + RW_SLACK);
	MK_ASSERT_TRUE(buf, "%s: malloc %zu", c->name, len);
	memset(buf, c->op == OP_WRITE ? 0 : CANARY, len + RW_SLACK);
	if (c->op == OP_WRITE)
		ret = pwrite(fd, buf, len, off);
	else
		ret = pread(fd, buf, len, off);
	ret = ret < 0 ? -errno : ret;
	for (i = ret > 0 ? ret : 0; c->op == OP_READ && i < len + RW_SLACK;
	     i++) {
		if (buf[i] != CANARY) {
			printf("# badinput: %s: buffer byte %zu changed\n",
			       c->name, i);
			ret = -EFAULT;
			break;
		}
	}
	free(buf);
	return ret;
}

/* Runs the cases of @table that apply to @s on @fd; returns failures. */
static int dev_cases_run(struct badinput *b, const struct sample *s,
			 const struct dev_case *table, size_t n, int fd,
			 int *ran)
{
	int failed = 0;
	long ret;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct dev_case *c = &table[i];

		if (c->only && !(c->only & s->id))
			continue;
		if (c->op == OP_IOCTL)
			ret = ioctl_run(b, c, fd);
		else
			ret = rw_mmap_run(c, fd);
		failed += badinput_check(c->name, ret, c->expect);
		(*ran)++;
	}
	return failed;
}

/* Opens the device and runs @table on it; what the next three tests do. */
static void device_table(struct __test_metadata *_metadata,
			 struct badinput *b, const struct sample *s,
			 const struct dev_case *table, size_t n,
			 const char *category)
{
	int failed, ran = 0;

	badinput_open(b);
	failed = dev_cases_run(b, s, table, n, b->dev.fd, &ran);
	badinput_count(s->parent, ran, category);
	EXPECT_EQ(0, failed);
	badinput_works(_metadata, b, s);
}

TEST_F(badinput, device_ioctls)
{
	device_table(_metadata, &self->b, variant->s, ioctl_cases,
		     ARRAY_SIZE(ioctl_cases), "ioctl");
}

/* Among others, a zero-length write did not ring mcounter's doorbell. */
/* SET_IRQS of MSI with @count eventfds; an eventfd follows the header. */
static int set_msi(struct badinput *b, __u32 count, int efd)
{
	struct {
		struct vfio_irq_set hdr;
		__s32 fd;
	} set = {
		.hdr = {
			.argsz = sizeof(set.hdr) + count * sizeof(__s32),
			.flags = IRQ_EVENTFD, .index = VFIO_PCI_MSI_IRQ_INDEX,
			.count = count,
		},
		.fd = efd,
	};

	return ioctl(b->dev.fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

static bool msi_fires(struct badinput *b, const struct sample *s, int efd)
{
	__u64 n;

	if (s->irq_enable)
		vfio_bar0_write(&b->dev, s->irq_enable, 1);
	vfio_bar0_write(&b->dev, s->doorbell, 1);
	return read(efd, &n, sizeof(n)) == sizeof(n);
}

/*
 * count 0 passes no eventfd (argsz ends at the header): the sample must
 * not read one from beyond it, even when one happens to be there.
 */
TEST_F(badinput, set_irqs_count_0_takes_no_eventfd)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	badinput_open(&self->b);
	/* Before the doorbells: mcounter's register 4 counts them. */
	badinput_works(_metadata, &self->b, variant->s);
	EXPECT_EQ(0, set_msi(&self->b, 0, efd));
	EXPECT_FALSE(msi_fires(&self->b, variant->s, efd));
	/* The control: with count 1 the same eventfd is taken and fires. */
	EXPECT_EQ(0, set_msi(&self->b, 1, efd));
	EXPECT_TRUE(msi_fires(&self->b, variant->s, efd));
	close(efd);
}

TEST_F(badinput, region_read_write)
{
	device_table(_metadata, &self->b, variant->s, rw_cases,
		     ARRAY_SIZE(rw_cases), "read/write");
}

TEST_F(badinput, region_mmap)
{
	device_table(_metadata, &self->b, variant->s, mmap_cases,
		     ARRAY_SIZE(mmap_cases), "mmap");
}

/* Writes a create case's string to @s's create file; 0 or -errno. */
static int create_run(const struct sample *s, const char *uuid,
		      const struct create_case *c)
{
	static char page[5001];
	char str[MDEV_UUID_LEN + 1];
	size_t i;

	switch (c->kind) {
	case CREATE_LITERAL:
		return __mdev_create_str(s->parent, s->type, c->str);
	case CREATE_DUP:
		snprintf(str, sizeof(str), "%s", uuid);
		break;
	case CREATE_DUP_UPPER:
		for (i = 0; i < MDEV_UUID_LEN; i++)
			str[i] = toupper((unsigned char)uuid[i]);
		break;
	case CREATE_DUP_NEWLINE:
		snprintf(str, sizeof(str), "%s\n", uuid);
		break;
	case CREATE_PAGE:
		memset(page, '0', sizeof(page) - 1);
		return __mdev_create_str(s->parent, s->type, page);
	}
	return __mdev_create_str(s->parent, s->type, str);
}

TEST_F(badinput, sysfs_create_strings)
{
	const struct sample *s = variant->s;
	struct badinput *b = &self->b;
	int avail = mdev_available(s->parent, s->type);
	int count = mdev_count(s->parent, s->type);
	int failed = 0, ran = 0;
	char name[128];
	size_t i;

	ASSERT_EQ(b->count + 1, count);
	for (i = 0; i < ARRAY_SIZE(create_cases); i++) {
		const struct create_case *c = &create_cases[i];

		failed += badinput_check(c->name, create_run(s, b->uuid, c),
					 c->expect);
		/* Nothing created, nothing taken from the budget. */
		snprintf(name, sizeof(name), "%s: instances", c->name);
		failed += badinput_check(name, mdev_count(s->parent, s->type),
					 count);
		snprintf(name, sizeof(name), "%s: available", c->name);
		failed += badinput_check(name, mdev_available(s->parent,
							      s->type),
					 avail);
		ran++;
	}
	badinput_count(s->parent, ran, "sysfs create");
	EXPECT_EQ(0, failed);
	badinput_open(b);
	badinput_works(_metadata, b, s);
}

/* KVM_{SET,HAS,GET}_DEVICE_ATTR or another ioctl on @kv; 0 or -errno. */
static int kvm_run(struct badinput *b, const struct kvm_case *c)
{
	struct kvm_device_attr a = {
		.group = c->group ? c->group : KVM_DEV_VFIO_FILE,
		.attr = c->attr,
	};
	__s32 fd;
	bool own;
	int ret;

	fd = fd_get(b, c->fd, &own);
	if (!c->null_addr)
		a.addr = (__u64)(unsigned long)&fd;
	ret = ioctl(b->kv, c->ioctl ? c->ioctl : KVM_SET_DEVICE_ATTR, &a);
	ret = ret ? -errno : 0;
	if (own)
		close(fd);
	return ret;
}

TEST_F(badinput, kvm_vfio_files)
{
	static const unsigned char hlt = 0xf4;	/* at @code, real mode */
	const size_t mem_size = 0x10000, code = 0x1000;
	const struct sample *s = variant->s;
	struct badinput *b = &self->b;
	int failed = 0, ran = 0;
	struct kvm_vcpu vcpu;
	unsigned char *mem;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kvm_cases); i++) {
		failed += badinput_check(kvm_cases[i].name,
					 kvm_run(b, &kvm_cases[i]),
					 kvm_cases[i].expect);
		ran++;
	}
	badinput_count(s->parent, ran, "kvm-vfio");
	EXPECT_EQ(0, failed);

	/* The VM is still usable: it takes the group, pins, runs a vCPU. */
	badinput_open(b);
	EXPECT_EQ(-EEXIST, __kvm_vfio_file_add(b->kv, b->dev.file));
	badinput_works(_metadata, b, s);
	mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[code] = hlt;
	kvm_vm_set_memslot(b->vm, 0, 0, mem, mem_size);
	kvm_vcpu_create(b->vm, 0, code, &vcpu);
	EXPECT_EQ(KVM_EXIT_HLT, kvm_vcpu_run(&vcpu));
	kvm_vcpu_destroy(&vcpu);
	munmap(mem, mem_size);
}

/* VFIO_DEVICE_BIND_IOMMUFD of @fd to @iommufd; 0 or -errno. */
static int cdev_bind(int fd, int iommufd)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};

	return ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) ? -errno : 0;
}

/* open(2) of @path, closed again; 0 or -errno. */
static int open_close(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

TEST_F(badinput, cdev_before_bind)
{
	char p[MDEV_PATH_LEN], group[PATH_MAX], cdev[PATH_MAX];
	const struct sample *s = variant->s;
	struct badinput *b = &self->b;
	int failed = 0, ran = 0, fd, iommufd;

	mdev_path(p, b->uuid);
	ASSERT_EQ(0, __vfio_dev_file_path(VFIO_PATH_GROUP, p, group,
					  sizeof(group)));
	ASSERT_EQ(0, __vfio_dev_file_path(VFIO_PATH_CDEV, p, cdev,
					  sizeof(cdev)));
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_GE(iommufd, 0);

	/* While the group is open, a cdev does not bind. */
	fd = open(cdev, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	failed += badinput_check("BIND with the group open",
				 cdev_bind(fd, iommufd), -EBUSY);
	ran++;
	close(fd);

	/* The fixture's group file goes; the cdev replaces it. */
	vfio_dev_release(&b->dev);
	vfio_dev_file_open(&b->dev, VFIO_PATH_CDEV, p);
	failed += dev_cases_run(b, s, cdev_cases, ARRAY_SIZE(cdev_cases),
				b->dev.file, &ran);
	/* No failed bind left the group blocked. */
	failed += badinput_check("group open after the failed binds",
				 open_close(group, O_RDWR), 0);
	ran++;

	/* The bind still works, and the device opens normally. */
	badinput_open(b);
	failed += dev_cases_run(b, s, cdev_bound_cases,
				ARRAY_SIZE(cdev_bound_cases), b->dev.fd, &ran);
	/* A second cdev fd does not open the open device, nor the group. */
	fd = open(cdev, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	failed += badinput_check("BIND a second cdev fd",
				 cdev_bind(fd, iommufd), -EINVAL);
	ran++;
	close(fd);
	failed += badinput_check("group open with the cdev bound",
				 open_close(group, O_RDWR), -EBUSY);
	ran++;
	close(iommufd);

	badinput_count(s->parent, ran, "cdev");
	EXPECT_EQ(0, failed);
	/* Nothing dropped the VM the open device holds: STATUS_VM. */
	badinput_works(_metadata, b, s);
}

struct nonroot_args {
	const struct sample *s;
	const char *uuid;	/* the existing instance */
	const char *fresh;	/* a UUID to try to create */
	const char *group;
	const char *cdev;
};

/* In a child: drops to nobody and runs the cases; returns failures. */
static int nonroot_child(const struct nonroot_args *a)
{
	int failed = 0, ret = 0;
	size_t i;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
		printf("# badinput: dropping root: errno %d\n", errno);
		return 100;
	}
	for (i = 0; i < ARRAY_SIZE(nonroot_cases); i++) {
		const struct nonroot_case *c = &nonroot_cases[i];

		switch (c->op) {
		case NR_CREATE:
			ret = __mdev_create_str(a->s->parent, a->s->type,
						a->fresh);
			break;
		case NR_REMOVE:
			ret = __mdev_remove(a->uuid);
			break;
		case NR_OPEN_GROUP:
			ret = open_close(a->group, c->flags);
			break;
		case NR_OPEN_CDEV:
			ret = open_close(a->cdev, c->flags);
			break;
		}
		failed += badinput_check(c->name, ret, c->expect);
	}
	return failed;
}

TEST_F(badinput, non_root)
{
	char p[MDEV_PATH_LEN], group[PATH_MAX], cdev[PATH_MAX];
	char fresh[MDEV_UUID_LEN];
	const struct sample *s = variant->s;
	struct badinput *b = &self->b;
	struct nonroot_args a = {
		.s = s,
		.uuid = b->uuid,
		.fresh = fresh,
		.group = group,
		.cdev = cdev,
	};
	int status;
	pid_t pid;

	mdev_path(p, b->uuid);
	ASSERT_EQ(0, __vfio_dev_file_path(VFIO_PATH_GROUP, p, group,
					  sizeof(group)));
	ASSERT_EQ(0, __vfio_dev_file_path(VFIO_PATH_CDEV, p, cdev,
					  sizeof(cdev)));
	mdev_uuid_random(fresh);
	/* Nothing but permissions stands in the way: the group is free. */
	vfio_dev_release(&b->dev);

	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		status = nonroot_child(&a);
		fflush(stdout);
		_exit(status);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	badinput_count(s->parent, ARRAY_SIZE(nonroot_cases), "non-root");

	EXPECT_NE(0, access(mdev_path(p, fresh), F_OK));
	EXPECT_EQ(0, access(mdev_path(p, b->uuid), F_OK));
	EXPECT_EQ(b->count + 1, mdev_count(s->parent, s->type));
	/* Root still can. */
	vfio_dev_file_open(&b->dev, VFIO_PATH_GROUP, mdev_path(p, b->uuid));
	badinput_open(b);
	badinput_works(_metadata, b, s);
}

TEST_HARNESS_MAIN
