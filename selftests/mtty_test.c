// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream reference device, samples/vfio-mdev/mtty, driven the way a
 * VMM drives it: mdev created through sysfs, the group or device file
 * attached to a VM through the kvm-vfio device, the device opened on the
 * group/container path and on the iommufd cdev path, config space read.
 */
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/vfio.h"

#define MTTY_PARENT	"mtty"
#define MTTY_VENDOR	0x4348
#define MTTY_DEVICE	0x3253
#define MTTY_CLASS	0x070002	/* 16550-compatible serial */

FIXTURE(mtty) {
	int vm;
	int kvm_vfio;
	char uuid[MDEV_UUID_LEN];
	struct vfio_dev dev;
};

FIXTURE_VARIANT(mtty) {
	enum vfio_path path;
};

FIXTURE_VARIANT_ADD(mtty, group) {
	.path = VFIO_PATH_GROUP,
};

FIXTURE_VARIANT_ADD(mtty, cdev) {
	.path = VFIO_PATH_CDEV,
};

FIXTURE_SETUP(mtty)
{
	self->vm = kvm_vm_create();
	self->kvm_vfio = kvm_vfio_create(self->vm);
	vfio_mdev_file_open(&self->dev, variant->path, MTTY_PARENT, "mtty-1",
			    self->uuid);
}

FIXTURE_TEARDOWN(mtty)
{
	vfio_dev_release(&self->dev);
	if (self->kvm_vfio >= 0)
		close(self->kvm_vfio);
	if (self->vm >= 0)
		close(self->vm);
	mdev_remove(self->uuid);
}

static void mtty_check_identity(struct __test_metadata *_metadata,
				struct vfio_dev *d)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ(MTTY_VENDOR, vfio_config_read(d, 0x0, 2));
	EXPECT_EQ(MTTY_DEVICE, vfio_config_read(d, 0x2, 2));
	EXPECT_EQ(MTTY_CLASS, vfio_config_read(d, 0x8, 4) >> 8);
}

TEST_F(mtty, attached_to_vm_opens_and_reads_config_space)
{
	kvm_vfio_file_add(self->kvm_vfio, self->dev.file);
	vfio_dev_open(&self->dev);
	mtty_check_identity(_metadata, &self->dev);
}

TEST_F(mtty, opens_without_vm)
{
	vfio_dev_open(&self->dev);
	mtty_check_identity(_metadata, &self->dev);
}

TEST_F(mtty, file_del_while_open_keeps_device_usable)
{
	kvm_vfio_file_add(self->kvm_vfio, self->dev.file);
	EXPECT_EQ(-EEXIST, __kvm_vfio_file_add(self->kvm_vfio, self->dev.file));
	vfio_dev_open(&self->dev);
	kvm_vfio_file_del(self->kvm_vfio, self->dev.file);
	EXPECT_EQ(-ENOENT, __kvm_vfio_file_del(self->kvm_vfio, self->dev.file));
	mtty_check_identity(_metadata, &self->dev);
}

/*
 * mtty does not depend on KVM, so an open mtty never holds the VM its group
 * or file is attached to (upstream 6.12 pins it for every device).
 */
TEST_F(mtty, attached_and_open_does_not_hold_the_vm)
{
	int vm = self->vm;

	kvm_vfio_file_add(self->kvm_vfio, self->dev.file);
	vfio_dev_open(&self->dev);
	close(self->kvm_vfio);
	close(self->vm);
	self->kvm_vfio = -1;
	self->vm = -1;
	EXPECT_FALSE(kvm_vm_debugfs_exists(vm));
	mtty_check_identity(_metadata, &self->dev);
}

TEST(create_remove_accounts_available_instances)
{
	char one[MDEV_UUID_LEN], two[MDEV_UUID_LEN];
	int avail;

	avail = mdev_available(MTTY_PARENT, "mtty-1");
	ASSERT_GE(avail, 3);

	/* mtty types share one pool of ports: a dual-port instance takes 2. */
	mdev_create(MTTY_PARENT, "mtty-1", one);
	EXPECT_EQ(avail - 1, mdev_available(MTTY_PARENT, "mtty-1"));
	mdev_create(MTTY_PARENT, "mtty-2", two);
	EXPECT_EQ(avail - 3, mdev_available(MTTY_PARENT, "mtty-1"));

	EXPECT_EQ(-EEXIST, __mdev_create_str(MTTY_PARENT, "mtty-1", one));
	EXPECT_EQ(-EINVAL, __mdev_create_str(MTTY_PARENT, "mtty-1", "x"));

	mdev_remove(two);
	mdev_remove(one);
	EXPECT_EQ(avail, mdev_available(MTTY_PARENT, "mtty-1"));
	EXPECT_EQ(-ENOENT, __mdev_remove(one));
}

TEST_HARNESS_MAIN
