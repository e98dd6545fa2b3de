// SPDX-License-Identifier: GPL-2.0
/*
 * mzdev: a PCI function that uses KVM when there is a VM and works without
 * one, the way vfio-pci's zPCI support on s390 does.
 *
 * This sample shows an optional dependency on KVM through struct
 * vfio_device_kvm_ops (.required = false):
 *
 *  - opened through a file that is attached to a VM, the core pins the VM
 *    and the function registers with it (as s390 registers a zPCI
 *    function with the VM for interpretation); the driver keeps the list
 *    of functions registered with each VM, as s390 keeps kvm->arch's PCI
 *    list, and STATUS_VM tells the guest; at close it unregisters, and
 *    the core unpins after close;
 *  - opened with no VM, it works the same, unregistered.
 *
 * The function measurement block (FMB): the user programs its address
 * and enables it; on each doorbell the function counts and, with the FMB
 * enabled, writes the block as DMA through vfio_dma_rw(), into the IOVA
 * space the VMM mapped, on the group and the iommufd path alike. That
 * needs no VM: the FMB works the same with or without one, as zPCI's
 * does; what the VM adds is the registration. (For migration: type1
 * marks the pages dirty in its bitmap when dirty tracking is on; an
 * iommufd emulated access records nothing, so a driver that must be
 * migrated on that path tracks what it wrote itself. mzdev has no
 * migration.)
 *
 * BAR0 (32-bit accesses only) is a small state machine, enforced below:
 *
 *  - FMB disabled (power-on): FMB_LO/HI are writable. FMB_CTRL=1 checks
 *    the address (8-byte aligned, the block within one page) and enables
 *    the FMB with that address latched; a bad address leaves it disabled
 *    with STATUS_FMB_ERROR set.
 *  - FMB enabled: FMB_LO/HI are read-only (writes ignored); FMB_CTRL=1
 *    changes nothing. Each doorbell writes the block at the latched
 *    address, then signals MSI; STATUS_FMB_ERROR tells whether the last
 *    write failed (the IOVA not mapped, or read-only). FMB_CTRL=0
 *    disables it and clears the error; like FMB_CTRL=1 and reset, it
 *    waits for a doorbell's write in flight, so that once it returns no
 *    block lands at the old address.
 *  - In any state: DOORBELL counts and signals MSI; the counters and the
 *    rest are read-only. Reset and close: everything back to power-on.
 *
 * The DMA write runs without mz->lock: it may fault on memory the VMM
 * chose (userfaultfd, FUSE) and sleep; only FMB_CTRL and reset wait for
 * it, not the other registers nor the uid attribute. fmb_lock, taken
 * interruptibly, keeps the doorbells and their blocks in order and fences
 * FMB_CTRL and reset. No copy from or to the user runs under mz->lock
 * either. What the driver cannot change: while vfio_dma_rw() waits, the
 * IOMMU backend holds its own lock (type1's iommu->lock, iommufd's IOAS
 * locks), so the VMM's DMA map and unmap calls wait for it too.
 *
 * Around it: config space with an MSI capability, BAR0 registers, MSI
 * through an eventfd. Three types differ by their number of counters,
 * taken from one budget (module parameter counters).
 *
 * Left out on purpose: INTx, DMA beyond the FMB, real s390 interpretation
 * (AIF, IOAT),
 * migration. /sys/kernel/debug/mzdev/vms lists the functions registered
 * with each VM, for the tests.
 *
 * The admin gives each function its zPCI user-defined identifier through
 * the device's sysfs attribute "uid" (1 to 0xffff; refused while the
 * function is open), e.g. with mdevctl's --addattr=uid; the guest reads
 * it in BAR0.
 */
#include <linux/debugfs.h>
#include <linux/eventfd.h>
/* struct kvm, for the VM's name; only where the architecture has KVM */
#if IS_ENABLED(CONFIG_KVM)
#include <linux/kvm_host.h>
#endif
#include <linux/slab.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/seq_file.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>

#define MZDEV_NAME		"mzdev"
#define MZDEV_VENDOR		0x1b36	/* made up: not a real device */
#define MZDEV_DEVICE		0x10f1

#define MZDEV_OFFSET_SHIFT	40
#define MZDEV_OFFSET_MASK	((1ULL << MZDEV_OFFSET_SHIFT) - 1)
#define MZDEV_INDEX_TO_OFFSET(i) ((u64)(i) << MZDEV_OFFSET_SHIFT)

#define MZDEV_CONFIG_SIZE	256
#define MZDEV_BAR0_SIZE		4096
#define MZDEV_MSI_CAP		0x40
#define MZDEV_MAX_COUNTERS	16

/* BAR0 registers, 32 bits each. */
#define MZDEV_REG_ID		0x00	/* RO: MZDEV_ID */
#define MZDEV_REG_STATUS	0x04	/* RO: MZDEV_STATUS_* */
#define MZDEV_REG_DOORBELL	0x08	/* WO: count, write the FMB, MSI */
#define MZDEV_REG_FMB_LO	0x10	/* RW while disabled: FMB IOVA */
#define MZDEV_REG_FMB_HI	0x14
#define MZDEV_REG_FMB_CTRL	0x18	/* RW: 1 = enabled */
#define MZDEV_REG_NR_COUNTERS	0x1c	/* RO */
#define MZDEV_REG_UID		0x20	/* RO: the uid sysfs attribute */
#define MZDEV_REG_COUNTERS	0x100	/* RO: u64 counters */

#define MZDEV_ID		0x4d5a4456	/* "MZDV" */
#define MZDEV_STATUS_VM		BIT(0)	/* registered with a VM */
#define MZDEV_STATUS_FMB_ERROR	BIT(1)	/* the last FMB update failed */

/* Counter 0 counts doorbells; counter i counts every 2^i-th one. */
struct mzdev_fmb {
	__le32 format;
	__le32 sequence;
	__le64 counters[];
};

struct mzdev_type {
	struct mdev_type type;
	unsigned int counters;
};

struct mzdev {
	struct vfio_device vdev;
	const struct mzdev_type *type;
	struct list_head vm_node;	/* in mzdev_vms, while registered */

	/* One doorbell at a time; FMB_CTRL and reset wait for its write. */
	struct mutex fmb_lock;
	struct mutex lock;		/* the state below */
	u8 config[MZDEV_CONFIG_SIZE];
	u64 fmb_addr;
	u32 fmb_ctrl;
	u32 sequence;
	bool fmb_error;
	u64 counters[MZDEV_MAX_COUNTERS];
	struct eventfd_ctx *msi;
	u32 uid;			/* set by the admin, 0: none */
	bool open;
};

static unsigned int counters = 64;
module_param(counters, uint, 0444);
MODULE_PARM_DESC(counters, "counters shared by all functions");

static atomic_t mzdev_avail;

/* Functions registered with a VM, like s390's per-VM zPCI list. */
static LIST_HEAD(mzdev_vms);
static DEFINE_MUTEX(mzdev_vms_lock);

static struct mzdev_type mzdev_types[] = {
	{ .type.sysfs_name = "c4", .type.pretty_name = "4 counters",
	  .counters = 4 },
	{ .type.sysfs_name = "c8", .type.pretty_name = "8 counters",
	  .counters = 8 },
	{ .type.sysfs_name = "c16", .type.pretty_name = "16 counters",
	  .counters = 16 },
};

static struct mdev_type *mzdev_mdev_types[] = {
	&mzdev_types[0].type, &mzdev_types[1].type, &mzdev_types[2].type,
};

static struct {
	struct device dev;
	struct mdev_parent parent;
	struct class *class;
	struct dentry *debugfs;
} mzdev_parent;

static struct mzdev *to_mzdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct mzdev, vdev);
}

/* --- the FMB: written as DMA ------------------------------------------ */

static size_t mzdev_fmb_len(struct mzdev *mz)
{
	return struct_size_t(struct mzdev_fmb, counters, mz->type->counters);
}

/* FMB_CTRL=1: a block 8-byte aligned, within one page. */
static int mzdev_fmb_enable(struct mzdev *mz)
{
	lockdep_assert_held(&mz->lock);

	if (!IS_ALIGNED(mz->fmb_addr, 8) ||
	    offset_in_page(mz->fmb_addr) + mzdev_fmb_len(mz) > PAGE_SIZE)
		return -EINVAL;
	mz->fmb_ctrl = 1;
	return 0;
}

/*
 * DOORBELL: counts under mz->lock; with the FMB enabled, writes the block
 * as DMA through the IOMMU, without mz->lock; then signals MSI. All of it
 * under fmb_lock, which FMB_CTRL and reset take too: the FMB the write
 * latched stays enabled until the write is done.
 */
static int mzdev_doorbell(struct mzdev *mz)
{
	size_t len = mzdev_fmb_len(mz);
	struct mzdev_fmb *fmb;
	bool update;
	u64 addr, n;
	int i, ret;

	fmb = kzalloc(len, GFP_KERNEL);
	if (!fmb)
		return -ENOMEM;
	if (mutex_lock_interruptible(&mz->fmb_lock)) {
		kfree(fmb);
		return -ERESTARTSYS;
	}

	mutex_lock(&mz->lock);
	n = ++mz->counters[0];
	for (i = 1; i < mz->type->counters; i++)
		if (!(n & (BIT_ULL(i) - 1)))
			mz->counters[i]++;
	mz->sequence++;
	update = mz->fmb_ctrl;
	addr = mz->fmb_addr;
	fmb->format = cpu_to_le32(1);
	fmb->sequence = cpu_to_le32(mz->sequence);
	for (i = 0; i < mz->type->counters; i++)
		fmb->counters[i] = cpu_to_le64(mz->counters[i]);
	mutex_unlock(&mz->lock);

	ret = update ? vfio_dma_rw(&mz->vdev, addr, fmb, len, true) : 0;

	mutex_lock(&mz->lock);
	/* Still the FMB it latched: FMB_CTRL and reset wait on fmb_lock. */
	if (update)
		mz->fmb_error = ret != 0;
	if (mz->msi)
		eventfd_signal(mz->msi);
	mutex_unlock(&mz->lock);

	mutex_unlock(&mz->fmb_lock);
	kfree(fmb);
	return 0;
}

/* --- config space and registers --------------------------------------- */

static void mzdev_config_init(struct mzdev *mz)
{
	u8 *c = mz->config;

	memset(c, 0, sizeof(mz->config));
	*(__le16 *)&c[PCI_VENDOR_ID] = cpu_to_le16(MZDEV_VENDOR);
	*(__le16 *)&c[PCI_DEVICE_ID] = cpu_to_le16(MZDEV_DEVICE);
	*(__le16 *)&c[PCI_STATUS] = cpu_to_le16(PCI_STATUS_CAP_LIST);
	*(__le32 *)&c[PCI_CLASS_REVISION] =
		cpu_to_le32(PCI_CLASS_SYSTEM_OTHER << 16 | 0x01);
	*(__le32 *)&c[PCI_BASE_ADDRESS_0] =
		cpu_to_le32(PCI_BASE_ADDRESS_SPACE_MEMORY);
	c[PCI_CAPABILITY_LIST] = MZDEV_MSI_CAP;
	c[MZDEV_MSI_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	*(__le16 *)&c[MZDEV_MSI_CAP + PCI_MSI_FLAGS] =
		cpu_to_le16(PCI_MSI_FLAGS_64BIT);
}

static void mzdev_config_write(struct mzdev *mz, unsigned int off, u32 val,
			       unsigned int len)
{
	u8 *c = mz->config;

	if (off == PCI_COMMAND && len == 2) {
		*(__le16 *)&c[off] = cpu_to_le16(val & (PCI_COMMAND_MEMORY |
							PCI_COMMAND_MASTER));
	} else if (off == PCI_BASE_ADDRESS_0 && len == 4) {
		val = (val & ~(MZDEV_BAR0_SIZE - 1)) |
		      PCI_BASE_ADDRESS_SPACE_MEMORY;
		*(__le32 *)&c[off] = cpu_to_le32(val);
	} else if (off >= MZDEV_MSI_CAP + PCI_MSI_FLAGS &&
		   off + len <= MZDEV_MSI_CAP + PCI_MSI_DATA_64 + 2) {
		/* The user's (QEMU's) MSI */
		if (len == 4)
			put_unaligned_le32(val, &c[off]);
		else if (len == 2)
			put_unaligned_le16(val, &c[off]);
		else
			c[off] = val;
	}
	/* Everything else is read-only. */
}

static u32 mzdev_reg_read(struct mzdev *mz, unsigned int off)
{
	lockdep_assert_held(&mz->lock);

	if (off >= MZDEV_REG_COUNTERS &&
	    off < MZDEV_REG_COUNTERS + mz->type->counters * 8) {
		u64 c = mz->counters[(off - MZDEV_REG_COUNTERS) / 8];

		/* Each counter low half first, as on a little-endian bus. */
		return off & 4 ? upper_32_bits(c) : lower_32_bits(c);
	}

	switch (off) {
	case MZDEV_REG_ID:
		return MZDEV_ID;
	case MZDEV_REG_STATUS:
		return (mz->vdev.kvm ? MZDEV_STATUS_VM : 0) |
		       (mz->fmb_error ? MZDEV_STATUS_FMB_ERROR : 0);
	case MZDEV_REG_FMB_LO:
		return lower_32_bits(mz->fmb_addr);
	case MZDEV_REG_FMB_HI:
		return upper_32_bits(mz->fmb_addr);
	case MZDEV_REG_FMB_CTRL:
		return mz->fmb_ctrl;
	case MZDEV_REG_NR_COUNTERS:
		return mz->type->counters;
	case MZDEV_REG_UID:
		return mz->uid;
	}
	return 0;
}

static void mzdev_reg_write(struct mzdev *mz, unsigned int off, u32 val)
{
	lockdep_assert_held(&mz->lock);

	switch (off) {
	/* The address is read-only while the FMB is enabled. */
	case MZDEV_REG_FMB_LO:
		if (!mz->fmb_ctrl)
			mz->fmb_addr = (mz->fmb_addr & GENMASK_ULL(63, 32)) |
				       val;
		break;
	case MZDEV_REG_FMB_HI:
		if (!mz->fmb_ctrl)
			mz->fmb_addr = (mz->fmb_addr & GENMASK_ULL(31, 0)) |
				       (u64)val << 32;
		break;
	}
}

/*
 * FMB_CTRL. It waits for a doorbell's write in flight (fmb_lock), as a
 * device fences its DMA when disabled: once FMB_CTRL=0 returns, no block
 * lands at the old address, and the guest may reuse the page.
 */
static int mzdev_fmb_ctrl(struct mzdev *mz, u32 val)
{
	if (mutex_lock_interruptible(&mz->fmb_lock))
		return -ERESTARTSYS;
	mutex_lock(&mz->lock);
	if (!(val & 1)) {
		mz->fmb_ctrl = 0;
		mz->fmb_error = false;
	} else if (!mz->fmb_ctrl) {
		mz->fmb_error = mzdev_fmb_enable(mz) != 0;
	}
	mutex_unlock(&mz->lock);
	mutex_unlock(&mz->fmb_lock);
	return 0;
}

static void mzdev_reset(struct mzdev *mz)
{
	lockdep_assert_held(&mz->lock);

	if (mz->msi)
		eventfd_ctx_put(mz->msi);
	mz->msi = NULL;
	mzdev_config_init(mz);
	mz->fmb_addr = 0;
	mz->fmb_ctrl = 0;
	mz->sequence = 0;
	mz->fmb_error = false;
	memset(mz->counters, 0, sizeof(mz->counters));
}

/* VFIO_DEVICE_RESET: after a doorbell's write in flight, as FMB_CTRL. */
static int mzdev_device_reset(struct mzdev *mz)
{
	if (mutex_lock_interruptible(&mz->fmb_lock))
		return -ERESTARTSYS;
	mutex_lock(&mz->lock);
	mzdev_reset(mz);
	mutex_unlock(&mz->lock);
	mutex_unlock(&mz->fmb_lock);
	return 0;
}

/*
 * Config space or a BAR0 register, @len bytes to or from @buf, which
 * holds them as the device would: little-endian, whatever the CPU.
 */
static int mzdev_reg_access(struct mzdev *mz, unsigned int index, u64 off,
			    u8 *buf, unsigned int len, bool write)
{
	lockdep_assert_held(&mz->lock);

	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (off + len > MZDEV_CONFIG_SIZE)
			return -EINVAL;
		if (!write)
			memcpy(buf, &mz->config[off], len);
		else if (len == 4)
			mzdev_config_write(mz, off, get_unaligned_le32(buf), 4);
		else if (len == 2)
			mzdev_config_write(mz, off, get_unaligned_le16(buf), 2);
		else
			mzdev_config_write(mz, off, *buf, 1);
		return 0;
	}
	if (index == VFIO_PCI_BAR0_REGION_INDEX) {
		if (len != 4 || off >= MZDEV_BAR0_SIZE)
			return -EINVAL;
		if (write)
			mzdev_reg_write(mz, off, get_unaligned_le32(buf));
		else
			put_unaligned_le32(mzdev_reg_read(mz, off), buf);
		return 0;
	}
	return -EINVAL;
}

static ssize_t mzdev_access(struct mzdev *mz, char __user *ubuf, size_t count,
			    loff_t pos, bool write)
{
	unsigned int index = pos >> MZDEV_OFFSET_SHIFT;
	u64 off = pos & MZDEV_OFFSET_MASK;
	bool bar0 = index == VFIO_PCI_BAR0_REGION_INDEX;
	u8 buf[4];
	int ret;

	if ((count != 1 && count != 2 && count != 4) || !IS_ALIGNED(off, count))
		return -EINVAL;
	/* Not under mz->lock: the copies may fault and sleep. */
	if (write && copy_from_user(buf, ubuf, count))
		return -EFAULT;

	/* They wait for the doorbell's DMA: they take mz->lock themselves. */
	if (write && bar0 && count == 4 && off == MZDEV_REG_DOORBELL) {
		ret = mzdev_doorbell(mz);
		return ret ? ret : count;
	}
	if (write && bar0 && count == 4 && off == MZDEV_REG_FMB_CTRL) {
		ret = mzdev_fmb_ctrl(mz, get_unaligned_le32(buf));
		return ret ? ret : count;
	}

	scoped_guard(mutex, &mz->lock)
		ret = mzdev_reg_access(mz, index, off, buf, count, write);
	if (ret)
		return ret;
	if (!write && copy_to_user(ubuf, buf, count))
		return -EFAULT;
	return count;
}

/* --- vfio_device_ops -------------------------------------------------- */

/* Works without KVM; with a VM the core pins it for us until close. */
static const struct vfio_device_kvm_ops mzdev_kvm_ops = {
	.required = false,
};

static int mzdev_init_dev(struct vfio_device *vdev)
{
	struct mzdev *mz = to_mzdev(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	int avail;

	mz->type = container_of(mdev->type, struct mzdev_type, type);
	avail = atomic_read(&mzdev_avail);
	do {
		if (avail < mz->type->counters)
			return -ENOSPC;
	} while (!atomic_try_cmpxchg(&mzdev_avail, &avail,
				     avail - mz->type->counters));

	mutex_init(&mz->fmb_lock);
	mutex_init(&mz->lock);
	INIT_LIST_HEAD(&mz->vm_node);
	mzdev_config_init(mz);
	vdev->kvm_ops = &mzdev_kvm_ops;
	return 0;
}

static void mzdev_release_dev(struct vfio_device *vdev)
{
	struct mzdev *mz = to_mzdev(vdev);

	mutex_destroy(&mz->lock);
	mutex_destroy(&mz->fmb_lock);
	atomic_add(mz->type->counters, &mzdev_avail);
}

static int mzdev_open_device(struct vfio_device *vdev)
{
	struct mzdev *mz = to_mzdev(vdev);

	lockdep_assert_held(&vdev->dev_set->lock);

	/* With a VM (pinned by the core until close): register with it. */
	if (vdev->kvm) {
		mutex_lock(&mzdev_vms_lock);
		list_add_tail(&mz->vm_node, &mzdev_vms);
		mutex_unlock(&mzdev_vms_lock);
	}
	mutex_lock(&mz->lock);
	mzdev_reset(mz);
	mz->open = true;
	mutex_unlock(&mz->lock);
	return 0;
}

static void mzdev_close_device(struct vfio_device *vdev)
{
	struct mzdev *mz = to_mzdev(vdev);

	mutex_lock(&mz->lock);
	mzdev_reset(mz);
	mz->open = false;
	mutex_unlock(&mz->lock);

	/* Unregister; the core unpins the VM after we return. */
	mutex_lock(&mzdev_vms_lock);
	list_del_init(&mz->vm_node);
	mutex_unlock(&mzdev_vms_lock);
}

/*
 * Registers are accessed 4, 2 or 1 bytes at a time, naturally aligned; a
 * longer access is split, since a VMM reads config space in one go.
 */
static ssize_t mzdev_rw(struct mzdev *mz, char __user *buf,
			size_t count, loff_t pos, bool write)
{
	size_t done = 0, n;
	ssize_t ret;

	while (done < count) {
		n = count - done;
		if (n >= 4 && IS_ALIGNED(pos + done, 4))
			n = 4;
		else if (n >= 2 && IS_ALIGNED(pos + done, 2))
			n = 2;
		else
			n = 1;
		ret = mzdev_access(mz, buf + done, n, pos + done, write);
		if (ret < 0)
			return done ? done : ret;
		done += n;
	}
	return done;
}

static ssize_t mzdev_read(struct vfio_device *vdev, char __user *buf,
			  size_t count, loff_t *ppos)
{
	return mzdev_rw(to_mzdev(vdev), buf, count, *ppos, false);
}

static ssize_t mzdev_write(struct vfio_device *vdev, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	return mzdev_rw(to_mzdev(vdev), (char __user *)buf, count, *ppos,
			true);
}

static int mzdev_set_msi(struct mzdev *mz, struct vfio_irq_set *hdr,
			 void __user *data)
{
	struct eventfd_ctx *trigger = NULL;
	s32 fd;

	if ((hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		/* No eventfd to read unless the caller passed one (count). */
		if (!hdr->count)
			return 0;
		if (copy_from_user(&fd, data, sizeof(fd)))
			return -EFAULT;
		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
	} else if (!(hdr->flags & VFIO_IRQ_SET_DATA_NONE) || hdr->count) {
		/* DATA_NONE with count 0 disables; nothing else is ours. */
		return -EINVAL;
	}

	guard(mutex)(&mz->lock);
	if (mz->msi)
		eventfd_ctx_put(mz->msi);
	mz->msi = trigger;
	return 0;
}

static long mzdev_ioctl(struct vfio_device *vdev, unsigned int cmd,
			unsigned long arg)
{
	struct mzdev *mz = to_mzdev(vdev);
	void __user *uarg = (void __user *)arg;
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;

		minsz = offsetofend(struct vfio_region_info, offset);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		info.offset = MZDEV_INDEX_TO_OFFSET(info.index);
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		if (info.index == VFIO_PCI_CONFIG_REGION_INDEX) {
			info.size = MZDEV_CONFIG_SIZE;
		} else if (info.index == VFIO_PCI_BAR0_REGION_INDEX) {
			info.size = MZDEV_BAR0_SIZE;
		} else {
			info.size = 0;
			info.flags = 0;
		}
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		/*
		 * INTx, MSI and MSI-X. Conventional PCI: like vfio-pci for
		 * such a device, no error (AER) and no request interrupt,
		 * so that a VMM does not try them.
		 */
		if (info.argsz < minsz || info.index > VFIO_PCI_MSIX_IRQ_INDEX)
			return -EINVAL;
		info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		info.count = info.index == VFIO_PCI_MSI_IRQ_INDEX;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set hdr;
		size_t data_size;
		int ret;

		minsz = offsetofend(struct vfio_irq_set, count);
		if (copy_from_user(&hdr, uarg, minsz))
			return -EFAULT;
		if (hdr.index != VFIO_PCI_MSI_IRQ_INDEX)
			return -EINVAL;
		ret = vfio_set_irqs_validate_and_prepare(&hdr, 1,
							 VFIO_PCI_NUM_IRQS,
							 &data_size);
		if (ret)
			return ret;
		return mzdev_set_msi(mz, &hdr, uarg + minsz);
	}
	case VFIO_DEVICE_RESET:
		return mzdev_device_reset(mz);
	}
	return -ENOTTY;
}

static const struct vfio_device_ops mzdev_dev_ops = {
	.name = MZDEV_NAME,
	.init = mzdev_init_dev,
	.release = mzdev_release_dev,
	.open_device = mzdev_open_device,
	.close_device = mzdev_close_device,
	.read = mzdev_read,
	.write = mzdev_write,
	.ioctl = mzdev_ioctl,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

/* --- mdev driver ------------------------------------------------------ */

/* Each registered function: its VM's KVM debugfs name, and itself. */
static int mzdev_vms_show(struct seq_file *m, void *unused)
{
	struct mzdev *mz __maybe_unused;

	guard(mutex)(&mzdev_vms_lock);
#if IS_ENABLED(CONFIG_KVM)
	list_for_each_entry(mz, &mzdev_vms, vm_node)
		seq_printf(m, "%pd %s\n", mz->vdev.kvm->debugfs_dentry,
			   dev_name(mz->vdev.dev));
#endif
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mzdev_vms);

static int mzdev_probe(struct mdev_device *mdev)
{
	struct mzdev *mz;
	int ret;

	mz = vfio_alloc_device(mzdev, vdev, &mdev->dev, &mzdev_dev_ops);
	if (IS_ERR(mz))
		return PTR_ERR(mz);

	ret = vfio_register_emulated_iommu_dev(&mz->vdev);
	if (ret)
		goto err_put_vdev;
	dev_set_drvdata(&mdev->dev, mz);
	return 0;

err_put_vdev:
	vfio_put_device(&mz->vdev);
	return ret;
}

static void mzdev_remove(struct mdev_device *mdev)
{
	struct mzdev *mz = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&mz->vdev);
	vfio_put_device(&mz->vdev);
}

static unsigned int mzdev_get_available(struct mdev_type *mtype)
{
	struct mzdev_type *type = container_of(mtype, struct mzdev_type, type);

	return atomic_read(&mzdev_avail) / type->counters;
}

static ssize_t mzdev_show_description(struct mdev_type *mtype, char *buf)
{
	struct mzdev_type *type = container_of(mtype, struct mzdev_type, type);

	return sprintf(buf, "%u counters, FMB in guest memory with a VM\n",
		       type->counters);
}

/* The function's UID, configured before a VMM opens it. */
static ssize_t uid_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct mzdev *mz = dev_get_drvdata(dev);

	guard(mutex)(&mz->lock);
	return sysfs_emit(buf, "%#x\n", mz->uid);
}

static ssize_t uid_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct mzdev *mz = dev_get_drvdata(dev);
	u32 uid;
	int ret;

	ret = kstrtou32(buf, 0, &uid);
	if (ret)
		return ret;
	if (!uid || uid > 0xffff)
		return -EINVAL;

	guard(mutex)(&mz->lock);
	/* The guest has read it already: changing it now would lie. */
	if (mz->open)
		return -EBUSY;
	mz->uid = uid;
	return count;
}
static DEVICE_ATTR_RW(uid);

static struct attribute *mzdev_attrs[] = {
	&dev_attr_uid.attr,
	NULL,
};
ATTRIBUTE_GROUPS(mzdev);

static struct mdev_driver mzdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = MZDEV_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = mzdev_groups,
	},
	.probe = mzdev_probe,
	.remove = mzdev_remove,
	.get_available = mzdev_get_available,
	.show_description = mzdev_show_description,
};

static void mzdev_parent_release(struct device *dev)
{
}

static int __init mzdev_init(void)
{
	int ret;

	atomic_set(&mzdev_avail, counters);
	mzdev_parent.debugfs = debugfs_create_dir(MZDEV_NAME, NULL);
	debugfs_create_file("vms", 0444, mzdev_parent.debugfs, NULL,
			    &mzdev_vms_fops);

	ret = mdev_register_driver(&mzdev_driver);
	if (ret)
		goto err_remove_debugfs;

	mzdev_parent.class = class_create(MZDEV_NAME);
	if (IS_ERR(mzdev_parent.class)) {
		ret = PTR_ERR(mzdev_parent.class);
		goto err_unregister_driver;
	}
	mzdev_parent.dev.class = mzdev_parent.class;
	mzdev_parent.dev.release = mzdev_parent_release;
	dev_set_name(&mzdev_parent.dev, "%s", MZDEV_NAME);
	ret = device_register(&mzdev_parent.dev);
	if (ret)
		goto err_put_dev;

	ret = mdev_register_parent(&mzdev_parent.parent, &mzdev_parent.dev,
				   &mzdev_driver, mzdev_mdev_types,
				   ARRAY_SIZE(mzdev_mdev_types));
	if (ret)
		goto err_unregister_dev;
	return 0;

err_unregister_dev:
	device_unregister(&mzdev_parent.dev);
	goto err_destroy_class;
err_put_dev:
	put_device(&mzdev_parent.dev);
err_destroy_class:
	class_destroy(mzdev_parent.class);
err_unregister_driver:
	mdev_unregister_driver(&mzdev_driver);
err_remove_debugfs:
	debugfs_remove_recursive(mzdev_parent.debugfs);
	return ret;
}

static void __exit mzdev_exit(void)
{
	mdev_unregister_parent(&mzdev_parent.parent);
	device_unregister(&mzdev_parent.dev);
	class_destroy(mzdev_parent.class);
	mdev_unregister_driver(&mzdev_driver);
	debugfs_remove_recursive(mzdev_parent.debugfs);
}

module_init(mzdev_init);
module_exit(mzdev_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Sample PCI function that uses KVM when there is a VM (like s390 zPCI)");
