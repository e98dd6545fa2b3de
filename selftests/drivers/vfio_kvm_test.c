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
 *   gets, puts      how often the core handed the driver a pinned VM
 *                   (open_device() with vdev->kvm set) and took it back
 *                   (close_device() with it, or that open_device()
 *                   failing)
 *   opens, closes   how often it called open_device() and close_device()
 *   pinned          the VM the device has now, by its KVM debugfs name
 *                   ("<pid>-<vm fd>"), or "none"
 *   kvm_at_open     vdev->kvm as open_device() saw it, or "none"
 *   events          the VMs handed over and taken back, oldest first, a
 *                   line each: "get <vm>" at the open, "put <vm>" at the
 *                   close, e.g. "get 123-4\nput 123-4\nget 123-7\n". It
 *                   keeps the last VKT_MAX_EVENTS (16); when it dropped
 *                   older ones, a first line says "(<n> earlier events
 *                   dropped)"
 *   fail_open       write an errno: open_device() fails with it (0: off;
 *                   anything above MAX_ERRNO is refused with -EINVAL)
 *
 * and /sys/kernel/debug/vfio_kvm_test/pins, the VMs held by all devices.
 * The pin itself is the core's (a reference on the VM's file), taken
 * before open_device() and dropped after close_device(): what the driver
 * sees of it is what a real driver gets, and the tests check the pin
 * itself through the VM's life (its KVM debugfs directory).
 *
 * The debugfs files read only the driver's own state, under its own
 * lock, never the core's objects: a device's files exist before the core
 * gives it a dev_set and until ->release, which the core calls after it
 * has freed the dev_set. debugfs_remove_recursive() in ->release waits for
 * the readers, so they never see the device freed.
 */
#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>

#define VKT_NAME		"vfio_kvm_test"
#define VKT_MAX_EVENTS		16
#define VKT_VM_NAME_LEN		32

struct vkt_type {
	struct mdev_type type;
	const struct vfio_device_kvm_ops *kvm_ops;
};

struct vkt_event {
	bool get;			/* handed over, or taken back */
	char vm[VKT_VM_NAME_LEN];
};

struct vkt_device {
	struct vfio_device vdev;
	struct dentry *debugfs;
	atomic_t gets;
	atomic_t puts;
	atomic_t opens;		/* read by debugfs without dev_set->lock */
	atomic_t closes;
	u32 fail_open;		/* a positive errno, or 0: vkt_errno_set() */
	/*
	 * The driver's own lock for what the debugfs files show, which
	 * read neither the core's objects nor dev_set->lock.
	 */
	spinlock_t lock;
	char pinned[VKT_VM_NAME_LEN];		/* under @lock */
	struct vkt_event events[VKT_MAX_EVENTS];	/* under @lock */
	unsigned long nr_events;		/* under @lock */
	char kvm_at_open[VKT_VM_NAME_LEN];	/* under @lock */
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

/* Appends to the event ring, overwriting the oldest entry when full. */
static void vkt_log_event(struct vkt_device *vkd, bool get, const char *vm)
{
	struct vkt_event *e;

	lockdep_assert_held(&vkd->lock);
	e = &vkd->events[vkd->nr_events++ % VKT_MAX_EVENTS];
	e->get = get;
	strscpy(e->vm, vm, sizeof(e->vm));
}

/* The core handed over the VM it pinned, in open_device(). */
static void vkt_vm_get(struct vkt_device *vkd, const char *name)
{
	atomic_inc(&vkd->gets);
	spin_lock(&vkd->lock);
	/* The core pins once per first open: two at once would be its bug. */
	WARN_ON_ONCE(strcmp(vkd->pinned, "none"));
	strscpy(vkd->pinned, name, sizeof(vkd->pinned));
	vkt_log_event(vkd, true, name);
	spin_unlock(&vkd->lock);
	atomic_inc(&vkt.pins);
}

/* ... and takes it back after close_device() or a failed open_device(). */
static void vkt_vm_put(struct vkt_device *vkd, const char *name)
{
	atomic_inc(&vkd->puts);
	spin_lock(&vkd->lock);
	WARN_ON_ONCE(strcmp(vkd->pinned, name));
	strscpy(vkd->pinned, "none", sizeof(vkd->pinned));
	vkt_log_event(vkd, false, name);
	spin_unlock(&vkd->lock);
	atomic_dec(&vkt.pins);
}

/* No hook: the core pins the VM, the driver only declares the need. */
static const struct vfio_device_kvm_ops vkt_kvm_optional = {
	.required = false,
};

static const struct vfio_device_kvm_ops vkt_kvm_required = {
	.required = true,
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

	spin_lock(&vkd->lock);
	seq_printf(m, "%s\n", vkd->pinned);
	spin_unlock(&vkd->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vkt_pinned);

static int vkt_kvm_at_open_show(struct seq_file *m, void *unused)
{
	struct vkt_device *vkd = m->private;

	spin_lock(&vkd->lock);
	seq_printf(m, "%s\n", vkd->kvm_at_open);
	spin_unlock(&vkd->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vkt_kvm_at_open);

static int vkt_events_show(struct seq_file *m, void *unused)
{
	struct vkt_device *vkd = m->private;
	unsigned long first = 0, i;
	struct vkt_event *e;

	spin_lock(&vkd->lock);
	if (vkd->nr_events > VKT_MAX_EVENTS) {
		first = vkd->nr_events - VKT_MAX_EVENTS;
		seq_printf(m, "(%lu earlier events dropped)\n", first);
	}
	for (i = first; i < vkd->nr_events; i++) {
		e = &vkd->events[i % VKT_MAX_EVENTS];
		seq_printf(m, "%s %s\n", e->get ? "get" : "put", e->vm);
	}
	spin_unlock(&vkd->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vkt_events);

/*
 * fail_open: an errno the core can return as one. A
 * larger value would come back from open as a pointer that IS_ERR() does
 * not recognise (and be installed as a file): refused.
 */
static int vkt_errno_get(void *data, u64 *val)
{
	*val = READ_ONCE(*(u32 *)data);
	return 0;
}

static int vkt_errno_set(void *data, u64 val)
{
	if (val > MAX_ERRNO)
		return -EINVAL;
	WRITE_ONCE(*(u32 *)data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vkt_errno_fops, vkt_errno_get, vkt_errno_set,
			 "%llu\n");

static int vkt_init_dev(struct vfio_device *vdev)
{
	struct vkt_device *vkd = to_vkt(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	struct vkt_type *type = container_of(mdev->type, struct vkt_type, type);
	struct dentry *d;

	spin_lock_init(&vkd->lock);
	strscpy(vkd->kvm_at_open, "none", sizeof(vkd->kvm_at_open));
	strscpy(vkd->pinned, "none", sizeof(vkd->pinned));
	vdev->kvm_ops = type->kvm_ops;

	d = debugfs_create_dir(dev_name(vdev->dev), vkt.debugfs);
	vkd->debugfs = d;
	debugfs_create_atomic_t("gets", 0444, d, &vkd->gets);
	debugfs_create_atomic_t("puts", 0444, d, &vkd->puts);
	debugfs_create_atomic_t("opens", 0444, d, &vkd->opens);
	debugfs_create_atomic_t("closes", 0444, d, &vkd->closes);
	debugfs_create_file("fail_open", 0644, d, &vkd->fail_open,
			    &vkt_errno_fops);
	debugfs_create_file("pinned", 0444, d, vkd, &vkt_pinned_fops);
	debugfs_create_file("kvm_at_open", 0444, d, vkd,
			    &vkt_kvm_at_open_fops);
	debugfs_create_file("events", 0444, d, vkd, &vkt_events_fops);
	return 0;
}

/*
 * Called by the core after it freed the dev_set, just before it frees the
 * device: the debugfs files go first, and this waits for their readers.
 */
static void vkt_release_dev(struct vfio_device *vdev)
{
	debugfs_remove_recursive(to_vkt(vdev)->debugfs);
}

static int vkt_open_device(struct vfio_device *vdev)
{
	struct vkt_device *vkd = to_vkt(vdev);
	char name[VKT_VM_NAME_LEN];
	int ret;

	lockdep_assert_held(&vdev->dev_set->lock);
	atomic_inc(&vkd->opens);
	vkt_kvm_name(vdev->kvm, name, sizeof(name));
	spin_lock(&vkd->lock);
	strscpy(vkd->kvm_at_open, name, sizeof(vkd->kvm_at_open));
	spin_unlock(&vkd->lock);
	if (vdev->kvm)
		vkt_vm_get(vkd, name);

	/* Once: a second read could see 0 and open what was meant to fail. */
	ret = -READ_ONCE(vkd->fail_open);
	/* The core drops the pin when the open fails: so does the record. */
	if (ret && vdev->kvm)
		vkt_vm_put(vkd, name);
	return ret;
}

static void vkt_close_device(struct vfio_device *vdev)
{
	struct vkt_device *vkd = to_vkt(vdev);
	char name[VKT_VM_NAME_LEN];

	lockdep_assert_held(&vdev->dev_set->lock);
	atomic_inc(&vkd->closes);
	/* The VM is still pinned until the core's unpin, after this. */
	if (vdev->kvm) {
		vkt_kvm_name(vdev->kvm, name, sizeof(name));
		vkt_vm_put(vkd, name);
	}
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
