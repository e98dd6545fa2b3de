// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_device_kvm_ops contract, driven through the test driver
 * (selftests/drivers/vfio_kvm_test.c) on the group and the cdev path:
 * who pins the VM, when, for how long, and what happens when something
 * fails. The driver counts get_kvm/put_kvm calls and names the VMs it
 * holds; a VM's lifetime is read from its /sys/kernel/debug/kvm entry.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"
#include "libmdevkvm/vkt.h"

FIXTURE(kvm_ops) {
	int vm;			/* -1 once closed */
	int kv;			/* the VM's kvm-vfio device, -1 once closed */
	char vm_name[32];	/* its KVM debugfs name, "<pid>-<vm fd>" */
	char uuid[MDEV_UUID_LEN];
	struct vfio_dev dev;
};

FIXTURE_VARIANT(kvm_ops) {
	enum vfio_path path;
};

FIXTURE_VARIANT_ADD(kvm_ops, group) {
	.path = VFIO_PATH_GROUP,
};

FIXTURE_VARIANT_ADD(kvm_ops, cdev) {
	.path = VFIO_PATH_CDEV,
};

FIXTURE_SETUP(kvm_ops)
{
	modprobe(VKT);
	self->vm = kvm_vm_create();
	self->kv = kvm_vfio_create(self->vm);
	kvm_vm_name(self->vm, self->vm_name, sizeof(self->vm_name));
	self->uuid[0] = '\0';
	self->dev.file = -1;
	self->dev.fd = -1;
	self->dev.container = -1;
	self->dev.iommufd = -1;
}

FIXTURE_TEARDOWN(kvm_ops)
{
	vfio_dev_release(&self->dev);
	if (self->kv >= 0)
		close(self->kv);
	if (self->vm >= 0)
		close(self->vm);
	if (self->uuid[0])
		mdev_remove(self->uuid);
}

/* Creates a test device of @type and opens its group or cdev file. */
static void vkt_create(char uuid[MDEV_UUID_LEN], struct vfio_dev *dev,
		       enum vfio_path path, const char *type)
{
	char t[64];

	snprintf(t, sizeof(t), VKT "-%s", type);
	vfio_mdev_file_open(dev, path, VKT, t, uuid);
}

/* Closes the VM's own fds; only a pin can keep it alive after this. */
static void vm_close_fds(int *vm, int *kv)
{
	close(*kv);
	close(*vm);
	*kv = -1;
	*vm = -1;
}

TEST_F(kvm_ops, no_kvm_ops_in_vm_never_pins)
{
	vkt_create(self->uuid, &self->dev, variant->path, "none");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);

	EXPECT_EQ(0, vkt_count(self->uuid, "gets"));
	EXPECT_STREQ("none", vkt_str(self->uuid, "kvm_at_open"));
	/* Nothing holds the VM but its own fds. */
	vm_close_fds(&self->vm, &self->kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_EQ(0, vkt_count(self->uuid, "puts"));
}

TEST_F(kvm_ops, required_pins_from_first_open_to_last_close)
{
	struct vfio_dev second;
	int ret;

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);
	EXPECT_EQ(1, vkt_count(self->uuid, "gets"));
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "kvm_at_open"));
	EXPECT_EQ(1, sysfs_read_long(VKT_DEBUGFS "/pins"));

	/* Another open of the open device: group allows it, cdev refuses. */
	if (variant->path == VFIO_PATH_GROUP) {
		vfio_dev_open(&self->dev);
	} else {
		char p[MDEV_PATH_LEN];

		vfio_dev_file_open(&second, variant->path,
				   mdev_path(p, self->uuid));
		kvm_vfio_file_add(self->kv, second.file);
		ret = __vfio_dev_open(&second);
		EXPECT_EQ(-EINVAL, ret);
		kvm_vfio_file_del(self->kv, second.file);
		vfio_dev_release(&second);
	}
	EXPECT_EQ(1, vkt_count(self->uuid, "gets"));
	EXPECT_EQ(0, vkt_count(self->uuid, "puts"));
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));

	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_EQ(1, vkt_count(self->uuid, "puts"));
	EXPECT_STREQ("none", vkt_str(self->uuid, "pinned"));
	EXPECT_EQ(0, sysfs_read_long(VKT_DEBUGFS "/pins"));
}

TEST_F(kvm_ops, vm_closed_first_outlives_device)
{
	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);

	vm_close_fds(&self->vm, &self->kv);
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));

	/* The last close drops the last reference: the VM goes with it. */
	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
	EXPECT_EQ(1, vkt_count(self->uuid, "puts"));
}

TEST_F(kvm_ops, file_del_while_open_keeps_the_pin)
{
	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);
	kvm_vfio_file_del(self->kv, self->dev.file);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));

	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_STREQ("none", vkt_str(self->uuid, "pinned"));
	if (variant->path == VFIO_PATH_CDEV) {
		char p[MDEV_PATH_LEN];

		vfio_dev_file_open(&self->dev, variant->path,
				   mdev_path(p, self->uuid));
	}
	/* Reopened with no VM: a required dependency refuses. */
	EXPECT_EQ(-EINVAL, __vfio_dev_open(&self->dev));
	EXPECT_EQ(1, vkt_count(self->uuid, "gets"));
}

TEST_F(kvm_ops, readd_to_second_vm_keeps_the_first)
{
	char second_name[32], p[MDEV_PATH_LEN];
	int vm2, kv2;

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);

	vm2 = kvm_vm_create();
	kv2 = kvm_vfio_create(vm2);
	kvm_vm_name(vm2, second_name, sizeof(second_name));
	kvm_vfio_file_del(self->kv, self->dev.file);
	kvm_vfio_file_add(kv2, self->dev.file);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));

	/* The next first open pins the VM the file is linked to now. */
	vfio_dev_unplug(&self->dev, kv2);
	if (variant->path == VFIO_PATH_CDEV) {
		vfio_dev_file_open(&self->dev, variant->path,
				   mdev_path(p, self->uuid));
		kvm_vfio_file_add(kv2, self->dev.file);
	}
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(second_name, vkt_str(self->uuid, "pinned"));
	EXPECT_STREQ(second_name, vkt_str(self->uuid, "kvm_at_open"));
	vfio_dev_unplug(&self->dev, kv2);
	EXPECT_EQ(2, vkt_count(self->uuid, "puts"));
	close(kv2);
	close(vm2);
}

TEST_F(kvm_ops, get_kvm_failure_fails_open_and_puts_nothing)
{
	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vkt_set(self->uuid, "fail_get_kvm", EIO);

	EXPECT_EQ(-EIO, __vfio_dev_open(&self->dev));
	EXPECT_EQ(1, vkt_count(self->uuid, "gets"));
	EXPECT_EQ(0, vkt_count(self->uuid, "puts"));
	EXPECT_EQ(0, vkt_count(self->uuid, "opens"));
	EXPECT_EQ(0, sysfs_read_long(VKT_DEBUGFS "/pins"));

	/* Nothing left behind: the device opens, the VM still dies. */
	vkt_set(self->uuid, "fail_get_kvm", 0);
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));
	vfio_dev_unplug(&self->dev, self->kv);
	vm_close_fds(&self->vm, &self->kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

TEST_F(kvm_ops, open_failure_after_get_puts_exactly_once)
{
	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vkt_set(self->uuid, "fail_open", ENXIO);

	EXPECT_EQ(-ENXIO, __vfio_dev_open(&self->dev));
	EXPECT_EQ(1, vkt_count(self->uuid, "gets"));
	EXPECT_EQ(1, vkt_count(self->uuid, "puts"));
	EXPECT_EQ(1, vkt_count(self->uuid, "opens"));
	EXPECT_EQ(0, vkt_count(self->uuid, "closes"));
	EXPECT_STREQ("none", vkt_str(self->uuid, "pinned"));

	vm_close_fds(&self->vm, &self->kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

TEST_F(kvm_ops, required_without_vm_fails_with_einval_and_one_log_line)
{
	char needle[96];
	int before;

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	snprintf(needle, sizeof(needle), "%s: vfio: the device requires KVM",
		 self->uuid);
	before = dmesg_count(needle);

	EXPECT_EQ(-EINVAL, __vfio_dev_open(&self->dev));
	EXPECT_EQ(before + 1, dmesg_count(needle));
	EXPECT_EQ(0, vkt_count(self->uuid, "gets"));
	EXPECT_EQ(0, vkt_count(self->uuid, "opens"));
}

TEST_F(kvm_ops, optional_without_vm_opens_unpinned)
{
	vkt_create(self->uuid, &self->dev, variant->path, "optional");
	vfio_dev_open(&self->dev);
	EXPECT_EQ(0, vkt_count(self->uuid, "gets"));
	EXPECT_EQ(1, vkt_count(self->uuid, "opens"));
	EXPECT_STREQ("none", vkt_str(self->uuid, "kvm_at_open"));
	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_EQ(0, vkt_count(self->uuid, "puts"));
}

TEST_F(kvm_ops, optional_with_vm_pins)
{
	vkt_create(self->uuid, &self->dev, variant->path, "optional");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "kvm_at_open"));
	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_EQ(1, vkt_count(self->uuid, "puts"));
}

TEST_F(kvm_ops, modules_stay_while_a_device_holds_the_vm)
{
	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);
	/* Only the device's pin holds the VM now, and with it kvm_amd. */
	vm_close_fds(&self->vm, &self->kv);

	EXPECT_EQ(-EWOULDBLOCK, __rmmod("kvm_amd"));
	EXPECT_EQ(-EWOULDBLOCK, __rmmod("kvm"));
	EXPECT_EQ(-EWOULDBLOCK, __rmmod(VKT));
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

TEST_HARNESS_MAIN
