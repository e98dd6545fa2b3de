// SPDX-License-Identifier: GPL-2.0
/*
 * mcounter: the smallest useful mdev driver, and one that needs no KVM.
 *
 * A PCI function with one BAR and one interrupt: writing BAR0's DOORBELL
 * register increments COUNT and signals MSI through an eventfd. It has no
 * struct vfio_device_kvm_ops, so the VFIO core never pins a VM for it,
 * even when its group or device file is attached to one: copy this sample
 * for a device that does not need KVM, and see mvgpu.c (required) and
 * mzdev.c (optional) for devices that do.
 *
 * It shows the parts every mdev driver has: an mdev type, probe/remove,
 * vfio_alloc_device() and emulated-IOMMU registration, config space,
 * region read/write, VFIO_DEVICE_* ioctls. The mdev core counts instances
 * for it (mdev_driver.max_instances, module parameter instances).
 *
 * Left out on purpose: mmap, INTx, reset beyond clearing COUNT, DMA.
 */
#include <linux/eventfd.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>

#define MCOUNTER_NAME		"mcounter"
#define MCOUNTER_VENDOR		0x1b36	/* made up: not a real device */
#define MCOUNTER_DEVICE		0x10f2

#define MCOUNTER_OFFSET_SHIFT	40
#define MCOUNTER_OFFSET_MASK	((1ULL << MCOUNTER_OFFSET_SHIFT) - 1)

#define MCOUNTER_CONFIG_SIZE	256
#define MCOUNTER_BAR0_SIZE	4096
#define MCOUNTER_MSI_CAP	0x40
#define MCOUNTER_REG_COUNT	0x00	/* RO: doorbells rung */
#define MCOUNTER_REG_DOORBELL	0x04	/* WO: count and signal MSI */

struct mcounter {
	struct vfio_device vdev;
	struct mutex lock;		/* the state below */
	u8 config[MCOUNTER_CONFIG_SIZE];
	u32 count;
	struct eventfd_ctx *msi;
};

static unsigned int instances = 16;
module_param(instances, uint, 0444);
MODULE_PARM_DESC(instances, "how many counters can be created");

static struct mdev_type mcounter_type = {
	.sysfs_name = "1",
	.pretty_name = "counter with a doorbell and MSI",
};

static struct mdev_type *mcounter_mdev_types[] = { &mcounter_type };

static struct {
	struct device dev;
	struct mdev_parent parent;
	struct class *class;
} mcounter_parent;

static struct mcounter *to_mcounter(struct vfio_device *vdev)
{
	return container_of(vdev, struct mcounter, vdev);
}

static void mcounter_config_init(struct mcounter *mc)
{
	u8 *c = mc->config;

	memset(c, 0, sizeof(mc->config));
	*(__le16 *)&c[PCI_VENDOR_ID] = cpu_to_le16(MCOUNTER_VENDOR);
	*(__le16 *)&c[PCI_DEVICE_ID] = cpu_to_le16(MCOUNTER_DEVICE);
	*(__le32 *)&c[PCI_CLASS_REVISION] =
		cpu_to_le32(PCI_CLASS_SYSTEM_OTHER << 16 | 0x01);
	*(__le32 *)&c[PCI_BASE_ADDRESS_0] =
		cpu_to_le32(PCI_BASE_ADDRESS_SPACE_MEMORY);
	/* An MSI capability, so that a guest can enable MSI (QEMU's). */
	*(__le16 *)&c[PCI_STATUS] = cpu_to_le16(PCI_STATUS_CAP_LIST);
	c[PCI_CAPABILITY_LIST] = MCOUNTER_MSI_CAP;
	c[MCOUNTER_MSI_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	*(__le16 *)&c[MCOUNTER_MSI_CAP + PCI_MSI_FLAGS] =
		cpu_to_le16(PCI_MSI_FLAGS_64BIT);
}

/*
 * Config space or a BAR0 register, @len bytes to or from @buf, which
 * holds them as the device would: little-endian, whatever the CPU.
 */
static int mcounter_reg_access(struct mcounter *mc, unsigned int index,
			       u64 off, u8 *buf, unsigned int len, bool write)
{
	lockdep_assert_held(&mc->lock);

	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (off + len > MCOUNTER_CONFIG_SIZE)
			return -EINVAL;
		if (!write) {
			memcpy(buf, &mc->config[off], len);
		} else if (off == PCI_BASE_ADDRESS_0 && len == 4) {
			/* BAR0 sizing */
			put_unaligned_le32(get_unaligned_le32(buf) &
					   ~(MCOUNTER_BAR0_SIZE - 1),
					   &mc->config[off]);
		} else if (off >= MCOUNTER_MSI_CAP + PCI_MSI_FLAGS &&
			   off + len <=
			   MCOUNTER_MSI_CAP + PCI_MSI_DATA_64 + 2) {
			/* MSI control, address and data are the user's. */
			memcpy(&mc->config[off], buf, len);
		}
		/* The rest of config space is read-only. */
		return 0;
	}
	if (index == VFIO_PCI_BAR0_REGION_INDEX) {
		if (len != 4 || off >= MCOUNTER_BAR0_SIZE)
			return -EINVAL;
		if (write && off == MCOUNTER_REG_DOORBELL) {
			mc->count++;
			if (mc->msi)
				eventfd_signal(mc->msi);
		} else if (!write) {
			put_unaligned_le32(off == MCOUNTER_REG_COUNT ?
					   mc->count : 0, buf);
		}
		return 0;
	}
	return -EINVAL;
}

static ssize_t mcounter_access(struct mcounter *mc, char __user *ubuf,
			       size_t count, loff_t pos, bool write)
{
	unsigned int index = pos >> MCOUNTER_OFFSET_SHIFT;
	u64 off = pos & MCOUNTER_OFFSET_MASK;
	u8 buf[4];
	int ret;

	if ((count != 1 && count != 2 && count != 4) || !IS_ALIGNED(off, count))
		return -EINVAL;
	/* Not under mc->lock: the copies may fault and sleep. */
	if (write && copy_from_user(buf, ubuf, count))
		return -EFAULT;
	scoped_guard(mutex, &mc->lock)
		ret = mcounter_reg_access(mc, index, off, buf, count, write);
	if (ret)
		return ret;
	if (!write && copy_to_user(ubuf, buf, count))
		return -EFAULT;
	return count;
}

/*
 * Registers are accessed 4, 2 or 1 bytes at a time, naturally aligned; a
 * longer access is split, since a VMM reads config space in one go.
 */
static ssize_t mcounter_rw(struct mcounter *mc, char __user *buf,
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
		ret = mcounter_access(mc, buf + done, n, pos + done, write);
		if (ret < 0)
			return done ? done : ret;
		done += n;
	}
	return done;
}

static ssize_t mcounter_read(struct vfio_device *vdev, char __user *buf,
			     size_t count, loff_t *ppos)
{
	return mcounter_rw(to_mcounter(vdev), buf, count, *ppos, false);
}

static ssize_t mcounter_write(struct vfio_device *vdev,
			      const char __user *buf, size_t count,
			      loff_t *ppos)
{
	return mcounter_rw(to_mcounter(vdev), (char __user *)buf, count, *ppos,
			   true);
}

static int mcounter_set_msi(struct mcounter *mc, struct vfio_irq_set *hdr,
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

	guard(mutex)(&mc->lock);
	if (mc->msi)
		eventfd_ctx_put(mc->msi);
	mc->msi = trigger;
	return 0;
}

static long mcounter_ioctl(struct vfio_device *vdev, unsigned int cmd,
			   unsigned long arg)
{
	struct mcounter *mc = to_mcounter(vdev);
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
		info.offset = (u64)info.index << MCOUNTER_OFFSET_SHIFT;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		if (info.index == VFIO_PCI_CONFIG_REGION_INDEX) {
			info.size = MCOUNTER_CONFIG_SIZE;
		} else if (info.index == VFIO_PCI_BAR0_REGION_INDEX) {
			info.size = MCOUNTER_BAR0_SIZE;
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
		return mcounter_set_msi(mc, &hdr, uarg + minsz);
	}
	case VFIO_DEVICE_RESET:
		mutex_lock(&mc->lock);
		mc->count = 0;
		mutex_unlock(&mc->lock);
		return 0;
	}
	return -ENOTTY;
}

static int mcounter_init_dev(struct vfio_device *vdev)
{
	struct mcounter *mc = to_mcounter(vdev);

	mutex_init(&mc->lock);
	mcounter_config_init(mc);
	return 0;
}

static void mcounter_release_dev(struct vfio_device *vdev)
{
	mutex_destroy(&to_mcounter(vdev)->lock);
}

static void mcounter_close_device(struct vfio_device *vdev)
{
	struct mcounter *mc = to_mcounter(vdev);

	mutex_lock(&mc->lock);
	if (mc->msi)
		eventfd_ctx_put(mc->msi);
	mc->msi = NULL;
	mc->count = 0;
	mutex_unlock(&mc->lock);
}

/* No kvm_ops: the VFIO core never pins a VM for this device. */
static const struct vfio_device_ops mcounter_dev_ops = {
	.name = MCOUNTER_NAME,
	.init = mcounter_init_dev,
	.release = mcounter_release_dev,
	.close_device = mcounter_close_device,
	.read = mcounter_read,
	.write = mcounter_write,
	.ioctl = mcounter_ioctl,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int mcounter_probe(struct mdev_device *mdev)
{
	struct mcounter *mc;
	int ret;

	mc = vfio_alloc_device(mcounter, vdev, &mdev->dev, &mcounter_dev_ops);
	if (IS_ERR(mc))
		return PTR_ERR(mc);

	ret = vfio_register_emulated_iommu_dev(&mc->vdev);
	if (ret)
		goto err_put_vdev;
	dev_set_drvdata(&mdev->dev, mc);
	return 0;

err_put_vdev:
	vfio_put_device(&mc->vdev);
	return ret;
}

static void mcounter_remove(struct mdev_device *mdev)
{
	struct mcounter *mc = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&mc->vdev);
	vfio_put_device(&mc->vdev);
}

static struct mdev_driver mcounter_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = MCOUNTER_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = mcounter_probe,
	.remove = mcounter_remove,
};

static void mcounter_parent_release(struct device *dev)
{
}

static int __init mcounter_init(void)
{
	int ret;

	mcounter_driver.max_instances = instances;
	ret = mdev_register_driver(&mcounter_driver);
	if (ret)
		return ret;

	mcounter_parent.class = class_create(MCOUNTER_NAME);
	if (IS_ERR(mcounter_parent.class)) {
		ret = PTR_ERR(mcounter_parent.class);
		goto err_unregister_driver;
	}
	mcounter_parent.dev.class = mcounter_parent.class;
	mcounter_parent.dev.release = mcounter_parent_release;
	dev_set_name(&mcounter_parent.dev, "%s", MCOUNTER_NAME);
	ret = device_register(&mcounter_parent.dev);
	if (ret)
		goto err_put_dev;

	ret = mdev_register_parent(&mcounter_parent.parent,
				   &mcounter_parent.dev, &mcounter_driver,
				   mcounter_mdev_types,
				   ARRAY_SIZE(mcounter_mdev_types));
	if (ret)
		goto err_unregister_dev;
	return 0;

err_unregister_dev:
	device_unregister(&mcounter_parent.dev);
	goto err_destroy_class;
err_put_dev:
	put_device(&mcounter_parent.dev);
err_destroy_class:
	class_destroy(mcounter_parent.class);
err_unregister_driver:
	mdev_unregister_driver(&mcounter_driver);
	return ret;
}

static void __exit mcounter_exit(void)
{
	mdev_unregister_parent(&mcounter_parent.parent);
	device_unregister(&mcounter_parent.dev);
	class_destroy(mcounter_parent.class);
	mdev_unregister_driver(&mcounter_driver);
}

module_init(mcounter_init);
module_exit(mcounter_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Sample mdev: a counter with a doorbell and MSI, no KVM");
