// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_kvm_test: the test driver of the mdev-kvm selftests, not a sample.
 *
 * It registers emulated-IOMMU mdev devices of three types, which differ
 * only in how they depend on KVM:
 *
 *   none       no vfio_device_kvm_ops: must never have a VM pinned
 *   optional   kvm_ops with an optional dependency
 *   required   kvm_ops with a required dependency
 *
 * and exposes, for each device, in /sys/kernel/debug/vfio_kvm_test/<uuid>/:
 *
 *   gets, puts      how often the core called get_kvm() and put_kvm()
 *   opens, closes   how often it called open_device() and close_device()
 *   pinned          the VMs pinned now, by their KVM debugfs names
 *                   ("<pid>-<vm fd>"), or "none"
 *   kvm_at_open     vdev->kvm as open_device() saw it, or "none"
 *   fail_get_kvm    write an errno: get_kvm() fails with it (0: off)
 *   fail_open       write an errno: open_device() fails with it (0: off)
 *
 * and /sys/kernel/debug/vfio_kvm_test/pins, the pins held by all devices.
 * The pin itself is KVM's standard one, so what the tests see is what a
 * real driver gets.
 */
#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/kvm_vfio.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>

#define VKT_NAME	"vfio_kvm_test"
#define VKT_MAX_PINS	4

struct vkt_type {
	struct mdev_type type;
	const struct vfio_device_kvm_ops *kvm_ops;
};

struct vkt_device {
	struct vfio_device vdev;
	struct dentry *debugfs;
	atomic_t gets;
	atomic_t puts;
	u32 opens;		/* under dev_set->lock */
	u32 closes;		/* under dev_set->lock */
	u32 fail_get_kvm;	/* a positive errno, or 0 */
	u32 fail_open;		/* a positive errno, or 0 */
	/* get_kvm() runs under a spinlock and put_kvm() after the next get */
	spinlock_t pin_lock;
	struct kvm *pins[VKT_MAX_PINS];
	char kvm_at_open[32];	/* under dev_set->lock */
};

static struct vkt_parent {
	struct device dev;
	struct mdev_parent parent;
	struct class *class;
	struct dentry *debugfs;
	atomic_t pins;
} vkt;

static struct vkt_device *to_vkt(struct vfio_device *vdev)
{
	return container_of(vdev, struct vkt_device, vdev);
}

static void vkt_kvm_name(struct kvm *kvm, char *buf, size_t size)
{
	if (!kvm)
		strscpy(buf, "none", size);
	else if (!IS_ERR_OR_NULL(kvm->debugfs_dentry))
		snprintf(buf, size, "%pd", kvm->debugfs_dentry);
	else
		strscpy(buf, kvm->stats_id, size);
}

/* Called by the core under the opening file's kvm_ref_lock. */
static int vkt_get_kvm(struct vfio_device *vdev, struct kvm *kvm)
{
	struct vkt_device *vkd = to_vkt(vdev);
	int i, ret;

	atomic_inc(&vkd->gets);
	if (READ_ONCE(vkd->fail_get_kvm))
		return -READ_ONCE(vkd->fail_get_kvm);

	ret = kvm_vfio_device_get_kvm(vdev, kvm);
	if (ret)
		return ret;

	spin_lock(&vkd->pin_lock);
	for (i = 0; i < VKT_MAX_PINS && vkd->pins[i]; i++)
		;
	/* More pins than opens would be a core bug: keep counting anyway. */
	if (!WARN_ON_ONCE(i == VKT_MAX_PINS))
		vkd->pins[i] = kvm;
	spin_unlock(&vkd->pin_lock);
	atomic_inc(&vkt.pins);
	return 0;
}

/* Called by the core with no VFIO lock held: may destroy the VM. */
static void vkt_put_kvm(struct vfio_device *vdev, struct kvm *kvm)
{
	struct vkt_device *vkd = to_vkt(vdev);
	int i;

	might_sleep();
	atomic_inc(&vkd->puts);
	spin_lock(&vkd->pin_lock);
	for (i = 0; i < VKT_MAX_PINS; i++) {
		if (vkd->pins[i] == kvm) {
			vkd->pins[i] = NULL;
			break;
		}
	}
	spin_unlock(&vkd->pin_lock);
	WARN_ON_ONCE(i == VKT_MAX_PINS);
	atomic_dec(&vkt.pins);
	kvm_vfio_device_put_kvm(vdev, kvm);
}

static const struct vfio_device_kvm_ops vkt_kvm_optional = {
	.get_kvm = vkt_get_kvm,
	.put_kvm = vkt_put_kvm,
};

static const struct vfio_device_kvm_ops vkt_kvm_required = {
	.required = true,
	.get_kvm = vkt_get_kvm,
	.put_kvm = vkt_put_kvm,
};

static struct vkt_type vkt_types[] = {
	{ .type.sysfs_name = "none", .type.pretty_name = "no KVM dependency" },
	{ .type.sysfs_name = "optional", .type.pretty_name = "optional KVM",
	  .kvm_ops = &vkt_kvm_optional },
	{ .type.sysfs_name = "required", .type.pretty_name = "requires KVM",
	  .kvm_ops = &vkt_kvm_required },
};

static struct mdev_type *vkt_mdev_types[] = {
	&vkt_types[0].type, &vkt_types[1].type, &vkt_types[2].type,
};

static int vkt_pinned_show(struct seq_file *m, void *unused)
{
	struct vkt_device *vkd = m->private;
	char name[32];
	int i, n = 0;

	spin_lock(&vkd->pin_lock);
	for (i = 0; i < VKT_MAX_PINS; i++) {
		if (!vkd->pins[i])
			continue;
		vkt_kvm_name(vkd->pins[i], name, sizeof(name));
		seq_printf(m, "%s%s", n++ ? " " : "", name);
	}
	spin_unlock(&vkd->pin_lock);
	seq_puts(m, n ? "\n" : "none\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vkt_pinned);

static int vkt_kvm_at_open_show(struct seq_file *m, void *unused)
{
	struct vkt_device *vkd = m->private;

	mutex_lock(&vkd->vdev.dev_set->lock);
	seq_printf(m, "%s\n", vkd->kvm_at_open);
	mutex_unlock(&vkd->vdev.dev_set->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vkt_kvm_at_open);

static int vkt_init_dev(struct vfio_device *vdev)
{
	struct vkt_device *vkd = to_vkt(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	struct vkt_type *type = container_of(mdev->type, struct vkt_type, type);
	struct dentry *d;

	spin_lock_init(&vkd->pin_lock);
	strscpy(vkd->kvm_at_open, "none", sizeof(vkd->kvm_at_open));
	vdev->kvm_ops = type->kvm_ops;

	d = debugfs_create_dir(dev_name(vdev->dev), vkt.debugfs);
	vkd->debugfs = d;
	debugfs_create_atomic_t("gets", 0444, d, &vkd->gets);
	debugfs_create_atomic_t("puts", 0444, d, &vkd->puts);
	debugfs_create_u32("opens", 0444, d, &vkd->opens);
	debugfs_create_u32("closes", 0444, d, &vkd->closes);
	debugfs_create_u32("fail_get_kvm", 0644, d, &vkd->fail_get_kvm);
	debugfs_create_u32("fail_open", 0644, d, &vkd->fail_open);
	debugfs_create_file("pinned", 0444, d, vkd, &vkt_pinned_fops);
	debugfs_create_file("kvm_at_open", 0444, d, vkd,
			    &vkt_kvm_at_open_fops);
	return 0;
}

static void vkt_release_dev(struct vfio_device *vdev)
{
	debugfs_remove_recursive(to_vkt(vdev)->debugfs);
}

static int vkt_open_device(struct vfio_device *vdev)
{
	struct vkt_device *vkd = to_vkt(vdev);

	lockdep_assert_held(&vdev->dev_set->lock);
	vkd->opens++;
	vkt_kvm_name(vdev->kvm, vkd->kvm_at_open, sizeof(vkd->kvm_at_open));
	return -READ_ONCE(vkd->fail_open);
}

static void vkt_close_device(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	to_vkt(vdev)->closes++;
}

static const struct vfio_device_ops vkt_dev_ops = {
	.name = VKT_NAME,
	.init = vkt_init_dev,
	.release = vkt_release_dev,
	.open_device = vkt_open_device,
	.close_device = vkt_close_device,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int vkt_probe(struct mdev_device *mdev)
{
	struct vkt_device *vkd;
	int ret;

	vkd = vfio_alloc_device(vkt_device, vdev, &mdev->dev, &vkt_dev_ops);
	if (IS_ERR(vkd))
		return PTR_ERR(vkd);

	ret = vfio_register_emulated_iommu_dev(&vkd->vdev);
	if (ret)
		goto err_put_vdev;
	dev_set_drvdata(&mdev->dev, vkd);
	return 0;

err_put_vdev:
	vfio_put_device(&vkd->vdev);
	return ret;
}

static void vkt_remove(struct mdev_device *mdev)
{
	struct vkt_device *vkd = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&vkd->vdev);
	vfio_put_device(&vkd->vdev);
}

static struct mdev_driver vkt_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.max_instances = 64,
	.driver = {
		.name = VKT_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = vkt_probe,
	.remove = vkt_remove,
};

static void vkt_parent_release(struct device *dev)
{
}

static int __init vkt_init(void)
{
	int ret;

	vkt.debugfs = debugfs_create_dir(VKT_NAME, NULL);
	debugfs_create_atomic_t("pins", 0444, vkt.debugfs, &vkt.pins);

	ret = mdev_register_driver(&vkt_driver);
	if (ret)
		goto err_remove_debugfs;

	vkt.class = class_create(VKT_NAME);
	if (IS_ERR(vkt.class)) {
		ret = PTR_ERR(vkt.class);
		goto err_unregister_driver;
	}
	vkt.dev.class = vkt.class;
	vkt.dev.release = vkt_parent_release;
	dev_set_name(&vkt.dev, "%s", VKT_NAME);
	ret = device_register(&vkt.dev);
	if (ret)
		goto err_put_dev;

	ret = mdev_register_parent(&vkt.parent, &vkt.dev, &vkt_driver,
				   vkt_mdev_types, ARRAY_SIZE(vkt_mdev_types));
	if (ret)
		goto err_unregister_dev;
	return 0;

err_unregister_dev:
	device_unregister(&vkt.dev);
	goto err_destroy_class;
err_put_dev:
	put_device(&vkt.dev);
err_destroy_class:
	class_destroy(vkt.class);
err_unregister_driver:
	mdev_unregister_driver(&vkt_driver);
err_remove_debugfs:
	debugfs_remove_recursive(vkt.debugfs);
	return ret;
}

static void __exit vkt_exit(void)
{
	mdev_unregister_parent(&vkt.parent);
	device_unregister(&vkt.dev);
	class_destroy(vkt.class);
	mdev_unregister_driver(&vkt_driver);
	debugfs_remove_recursive(vkt.debugfs);
}

module_init(vkt_init);
module_exit(vkt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mdev-kvm selftests: VFIO devices with and without kvm_ops");
