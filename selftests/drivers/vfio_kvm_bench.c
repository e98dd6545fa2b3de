// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_kvm_bench: the benchmark's driver (selftests/mdev_bench.c), not a
 * sample.
 *
 * Emulated-IOMMU mdev devices that do nothing at all, of three types that
 * differ only in their struct vfio_device_kvm_ops:
 *
 *   none       no kvm_ops
 *   optional   kvm_ops, optional dependency
 *   required   kvm_ops, required dependency
 *
 * No open_device(), no counters: the cost of a first open and last close
 * of "required" over that of "none" is the core's pin alone (a reference
 * on the VM's file). The selftests' vfio_kvm_test records what it is
 * handed; this driver must not.
 */
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/vfio.h>

#define VKB_NAME	"vfio_kvm_bench"

struct vkb_type {
	struct mdev_type type;
	const struct vfio_device_kvm_ops *kvm_ops;
};

static struct vkb_parent {
	struct device dev;
	struct mdev_parent parent;
	struct class *class;
} vkb;

static const struct vfio_device_kvm_ops vkb_kvm_optional = {
	.required = false,
};

static const struct vfio_device_kvm_ops vkb_kvm_required = {
	.required = true,
};

static struct vkb_type vkb_types[] = {
	{ .type.sysfs_name = "none", .type.pretty_name = "no KVM dependency" },
	{ .type.sysfs_name = "optional", .type.pretty_name = "optional KVM",
	  .kvm_ops = &vkb_kvm_optional },
	{ .type.sysfs_name = "required", .type.pretty_name = "requires KVM",
	  .kvm_ops = &vkb_kvm_required },
};

static struct mdev_type *vkb_mdev_types[] = {
	&vkb_types[0].type, &vkb_types[1].type, &vkb_types[2].type,
};

static int vkb_init_dev(struct vfio_device *vdev)
{
	struct mdev_device *mdev = to_mdev_device(vdev->dev);

	vdev->kvm_ops = container_of(mdev->type, struct vkb_type,
				     type)->kvm_ops;
	return 0;
}

static const struct vfio_device_ops vkb_dev_ops = {
	.name = VKB_NAME,
	.init = vkb_init_dev,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int vkb_probe(struct mdev_device *mdev)
{
	struct vfio_device *vdev;
	int ret;

	vdev = _vfio_alloc_device(sizeof(*vdev), &mdev->dev, &vkb_dev_ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);

	ret = vfio_register_emulated_iommu_dev(vdev);
	if (ret) {
		vfio_put_device(vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, vdev);
	return 0;
}

static void vkb_remove(struct mdev_device *mdev)
{
	struct vfio_device *vdev = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(vdev);
	vfio_put_device(vdev);
}

static struct mdev_driver vkb_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.max_instances = 64,
	.driver = {
		.name = VKB_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = vkb_probe,
	.remove = vkb_remove,
};

static void vkb_parent_release(struct device *dev)
{
}

static int __init vkb_init(void)
{
	int ret;

	ret = mdev_register_driver(&vkb_driver);
	if (ret)
		return ret;

	vkb.class = class_create(VKB_NAME);
	if (IS_ERR(vkb.class)) {
		ret = PTR_ERR(vkb.class);
		goto err_unregister_driver;
	}
	vkb.dev.class = vkb.class;
	vkb.dev.release = vkb_parent_release;
	dev_set_name(&vkb.dev, "%s", VKB_NAME);
	ret = device_register(&vkb.dev);
	if (ret)
		goto err_put_dev;

	ret = mdev_register_parent(&vkb.parent, &vkb.dev, &vkb_driver,
				   vkb_mdev_types, ARRAY_SIZE(vkb_mdev_types));
	if (ret)
		goto err_unregister_dev;
	return 0;

err_unregister_dev:
	device_unregister(&vkb.dev);
	goto err_destroy_class;
err_put_dev:
	put_device(&vkb.dev);
err_destroy_class:
	class_destroy(vkb.class);
err_unregister_driver:
	mdev_unregister_driver(&vkb_driver);
	return ret;
}

static void __exit vkb_exit(void)
{
	mdev_unregister_parent(&vkb.parent);
	device_unregister(&vkb.dev);
	class_destroy(vkb.class);
	mdev_unregister_driver(&vkb_driver);
}

module_init(vkb_init);
module_exit(vkb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mdev-kvm benchmark: VFIO devices that differ only in kvm_ops");
