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
 *                   (a put counts as it starts, before put_delay_ms)
 *   opens, closes   how often it called open_device() and close_device()
 *   pinned          the VMs pinned now, by their KVM debugfs names
 *                   ("<pid>-<vm fd>"), or "none"; a VM pinned twice is
 *                   named twice. Pins past the first VKT_MAX_PINS (4) at
 *                   once, which only delayed puts allow, are counted
 *                   at the end as "+<n>"
 *   kvm_at_open     vdev->kvm as open_device() saw it, or "none"
 *   events          the pins taken and dropped, oldest first, a line
 *                   each: "get <vm>" when get_kvm() pinned the VM,
 *                   "put <vm>" when put_kvm() dropped it, e.g.
 *                   "get 123-4\nget 123-7\nput 123-4\n"; a failed
 *                   get_kvm() counts in gets only. It keeps the last
 *                   VKT_MAX_EVENTS (16); when it dropped older ones, a
 *                   first line says "(<n> earlier events dropped)"
 *   fail_get_kvm    write an errno: get_kvm() fails with it (0: off;
 *                   anything above MAX_ERRNO is refused with -EINVAL)
 *   fail_open       write an errno: open_device() fails with it (0: off)
 *   put_delay_ms    write milliseconds: put_kvm() sleeps that long before
 *                   it drops the pin, so that a test can open the device
 *                   again while the last close's put is pending (0, the
 *                   default: off; at most VKT_MAX_PUT_DELAY_MS, 10 s,
 *                   well below the hung task timeout)
 *
 * and /sys/kernel/debug/vfio_kvm_test/pins, the pins held by all devices.
 * The pin itself is KVM's standard one, so what the tests see is what a
 * real driver gets.
 *
 * The debugfs files read only the driver's own state, under its own
 * lock, never the core's objects: a device's files exist before the core
 * gives it a dev_set and until ->release, which the core calls after it
 * has freed the dev_set. debugfs_remove_recursive() in ->release waits for
 * the readers, so they never see the device freed.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kvm_host.h>
#include <linux/kvm_vfio.h>
#include <linux/mdev.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>

#define VKT_NAME		"vfio_kvm_test"
#define VKT_MAX_PINS		4
#define VKT_MAX_EVENTS		16
#define VKT_MAX_PUT_DELAY_MS	10000
#define VKT_VM_NAME_LEN		32

struct vkt_type {
	struct mdev_type type;
	const struct vfio_device_kvm_ops *kvm_ops;
};

struct vkt_event {
	bool get;			/* get_kvm(), or put_kvm() */
	char vm[VKT_VM_NAME_LEN];
};

struct vkt_device {
	struct vfio_device vdev;
	struct dentry *debugfs;
	atomic_t gets;
	atomic_t puts;
	atomic_t opens;		/* read by debugfs without dev_set->lock */
	atomic_t closes;
	u32 fail_get_kvm;	/* a positive errno, or 0: vkt_errno_set() */
	u32 fail_open;
	u32 put_delay_ms;	/* how long put_kvm() sleeps first */
	/*
	 * The driver's own lock for what the debugfs files show: a spinlock,
	 * since get_kvm() runs under one, and put_kvm() may run after the
	 * next get_kvm().
	 */
	spinlock_t lock;
	struct kvm *pins[VKT_MAX_PINS];		/* under @lock */
	u32 pins_untracked;			/* under @lock */
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

/* Called by the core under the opening file's kvm_ref_lock. */
static int vkt_get_kvm(struct vfio_device *vdev, struct kvm *kvm)
{
	struct vkt_device *vkd = to_vkt(vdev);
	char name[VKT_VM_NAME_LEN];
	int i, ret;
	u32 err;

	atomic_inc(&vkd->gets);
	/* Once: a second read could see 0 and report a pin never taken. */
	err = READ_ONCE(vkd->fail_get_kvm);
	if (err)
		return -err;

	ret = kvm_vfio_device_get_kvm(vdev, kvm);
	if (ret)
		return ret;

	vkt_kvm_name(kvm, name, sizeof(name));
	spin_lock(&vkd->lock);
	for (i = 0; i < VKT_MAX_PINS && vkd->pins[i]; i++)
		;
	/* Every slot taken: puts are pending (put_delay_ms). */
	if (i < VKT_MAX_PINS)
		vkd->pins[i] = kvm;
	else
		vkd->pins_untracked++;
	vkt_log_event(vkd, true, name);
	spin_unlock(&vkd->lock);
	atomic_inc(&vkt.pins);
	return 0;
}

/* Called by the core with no VFIO lock held: may destroy the VM. */
static void vkt_put_kvm(struct vfio_device *vdev, struct kvm *kvm)
{
	struct vkt_device *vkd = to_vkt(vdev);
	char name[VKT_VM_NAME_LEN];
	unsigned int delay;
	bool found = false;
	int i;

	might_sleep();
	atomic_inc(&vkd->puts);
	delay = min(READ_ONCE(vkd->put_delay_ms), VKT_MAX_PUT_DELAY_MS);
	if (delay)
		msleep(delay);

	/* The VM is still pinned: its name is still there to read. */
	vkt_kvm_name(kvm, name, sizeof(name));
	spin_lock(&vkd->lock);
	for (i = 0; i < VKT_MAX_PINS; i++) {
		if (vkd->pins[i] == kvm) {
			vkd->pins[i] = NULL;
			found = true;
			break;
		}
	}
	if (!found && vkd->pins_untracked) {
		vkd->pins_untracked--;
		found = true;
	}
	vkt_log_event(vkd, false, name);
	spin_unlock(&vkd->lock);
	/* A put of a VM this device never pinned would be a core bug. */
	WARN_ON_ONCE(!found);
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
	char name[VKT_VM_NAME_LEN];
	int i, n = 0;

	spin_lock(&vkd->lock);
	for (i = 0; i < VKT_MAX_PINS; i++) {
		if (!vkd->pins[i])
			continue;
		vkt_kvm_name(vkd->pins[i], name, sizeof(name));
		seq_printf(m, "%s%s", n++ ? " " : "", name);
	}
	if (vkd->pins_untracked)
		seq_printf(m, "%s+%u", n++ ? " " : "", vkd->pins_untracked);
	spin_unlock(&vkd->lock);
	seq_puts(m, n ? "\n" : "none\n");
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
 * fail_get_kvm and fail_open: an errno the core can return as one. A
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
	vdev->kvm_ops = type->kvm_ops;

	d = debugfs_create_dir(dev_name(vdev->dev), vkt.debugfs);
	vkd->debugfs = d;
	debugfs_create_atomic_t("gets", 0444, d, &vkd->gets);
	debugfs_create_atomic_t("puts", 0444, d, &vkd->puts);
	debugfs_create_atomic_t("opens", 0444, d, &vkd->opens);
	debugfs_create_atomic_t("closes", 0444, d, &vkd->closes);
	debugfs_create_file("fail_get_kvm", 0644, d, &vkd->fail_get_kvm,
			    &vkt_errno_fops);
	debugfs_create_file("fail_open", 0644, d, &vkd->fail_open,
			    &vkt_errno_fops);
	debugfs_create_u32("put_delay_ms", 0644, d, &vkd->put_delay_ms);
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

	lockdep_assert_held(&vdev->dev_set->lock);
	atomic_inc(&vkd->opens);
	vkt_kvm_name(vdev->kvm, name, sizeof(name));
	spin_lock(&vkd->lock);
	strscpy(vkd->kvm_at_open, name, sizeof(vkd->kvm_at_open));
	spin_unlock(&vkd->lock);
	return -READ_ONCE(vkd->fail_open);
}

static void vkt_close_device(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	atomic_inc(&to_vkt(vdev)->closes);
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
