// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_device_kvm_ops contract, driven through the test driver
 * (selftests/drivers/vfio_kvm_test.c) on the group and the cdev path:
 * who pins the VM, when, for how long, which VM when the file is in two,
 * and what happens when something fails. The driver records the VM the
 * core hands it at open and takes back at close (gets, puts, pinned,
 * events); the pin itself, a reference on the VM's file, is seen in the
 * VM's lifetime, read from its /sys/kernel/debug/kvm entry.
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

/* The events the driver keeps (its VKT_MAX_EVENTS), and cycles past it. */
#define VKT_EVENTS_KEPT	16
#define EVENTS_CYCLES	10

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

TEST_F(kvm_ops, open_failure_unpins_exactly_once)
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

	/*
	 * The core's own pin, the VM's file, was dropped once: with the
	 * kvm-vfio device gone, only the VM fd holds the VM, which a second
	 * drop would have released already.
	 */
	kvm_vfio_file_del(self->kv, self->dev.file);
	close(self->kv);
	self->kv = -1;
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	close(self->vm);
	self->vm = -1;
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
	const char *vendor = kvm_vendor_module();
	long held;

	if (!vendor)
		SKIP(return, "KVM is built in: no KVM module to unload");
	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);
	/* Only the device's pin holds the VM now, and with it KVM. */
	vm_close_fds(&self->vm, &self->kv);
	held = module_refcnt(vendor);

	EXPECT_EQ(-EWOULDBLOCK, __rmmod(vendor));
	if (module_refcnt("kvm") >= 0)
		EXPECT_EQ(-EWOULDBLOCK, __rmmod("kvm"));
	EXPECT_EQ(-EWOULDBLOCK, __rmmod(VKT));
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	vfio_dev_unplug(&self->dev, self->kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
	/*
	 * Whoever else uses KVM on this host, and the refusals above may be
	 * theirs: the pin's VM file was one reference on the module.
	 */
	EXPECT_TRUE(kvm_vendor_refs_dropped_one(vendor, held));
}

/* A second VM with a kvm-vfio device, and its KVM debugfs name. */
struct vm2 {
	int vm;
	int kv;
	char name[32];
};

static void vm2_create(struct vm2 *v)
{
	v->vm = kvm_vm_create();
	v->kv = kvm_vfio_create(v->vm);
	kvm_vm_name(v->vm, v->name, sizeof(v->name));
}

/*
 * A @type device whose file is in the fixture's VM, then in a second
 * one, @b: the newest association is @b's.
 */
static void vkt_create_in_two_vms(struct _test_data_kvm_ops *self,
				  enum vfio_path path, const char *type,
				  struct vm2 *b)
{
	vkt_create(self->uuid, &self->dev, path, type);
	vm2_create(b);
	kvm_vfio_file_add(self->kv, self->dev.file);
	kvm_vfio_file_add(b->kv, self->dev.file);
}

static void vm2_close(struct vm2 *v)
{
	if (v->kv >= 0)
		vm_close_fds(&v->vm, &v->kv);
}

/*
 * The VMM closed its VM, whose kvm-vfio device still has the file: the
 * VM's file is gone, and with it the VM as far as the core is concerned.
 */
TEST_F(kvm_ops, required_in_a_closed_vm_fails_with_enoent_and_one_log_line)
{
	char needle[128];
	int before;

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	close(self->vm);
	self->vm = -1;
	snprintf(needle, sizeof(needle),
		 "%s: vfio: the device requires KVM, and the VM its file is in is closed",
		 self->uuid);
	before = dmesg_count(needle);

	EXPECT_EQ(-ENOENT, __vfio_dev_open(&self->dev));
	EXPECT_EQ(before + 1, dmesg_count(needle));
	EXPECT_EQ(0, vkt_count(self->uuid, "opens"));
	EXPECT_EQ(0, vkt_pins());
	/* Nothing pinned: the kvm-vfio device's close ends the VM. */
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	kvm_vfio_file_del(self->kv, self->dev.file);
	close(self->kv);
	self->kv = -1;
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

TEST_F(kvm_ops, optional_in_a_closed_vm_opens_without_it)
{
	vkt_create(self->uuid, &self->dev, variant->path, "optional");
	kvm_vfio_file_add(self->kv, self->dev.file);
	close(self->vm);
	self->vm = -1;

	vfio_dev_open(&self->dev);
	EXPECT_STREQ("none", vkt_str(self->uuid, "kvm_at_open"));
	EXPECT_EQ(0, vkt_count(self->uuid, "gets"));
	vfio_dev_unplug(&self->dev, self->kv);
	close(self->kv);
	self->kv = -1;
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

/*
 * One file in two VMs: each VM's FILE_DEL or release removes its own
 * association only. Before the series, the single association was
 * cleared by whichever VM dropped the file, and the device then found no
 * VM in the VM it was in.
 */
TEST_F(kvm_ops, file_in_two_vms_opens_in_the_second_once_the_first_goes)
{
	struct vm2 b;

	vkt_create_in_two_vms(self, variant->path, "required", &b);
	/* The first VM goes: its kvm-vfio device's release drops the file. */
	vm_close_fds(&self->vm, &self->kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));

	vfio_dev_open(&self->dev);
	EXPECT_STREQ(b.name, vkt_str(self->uuid, "pinned"));
	/* The core holds B: it outlives its own fds until the close. */
	if (variant->path == VFIO_PATH_CDEV)
		kvm_vfio_file_del(b.kv, self->dev.file);
	vm2_close(&b);
	EXPECT_TRUE(kvm_vm_alive(b.name));
	vfio_dev_unplug(&self->dev, -1);
	EXPECT_FALSE(kvm_vm_alive(b.name));
}

TEST_F(kvm_ops, file_in_two_vms_opens_in_the_first_once_the_second_dels)
{
	struct vm2 b;

	vkt_create_in_two_vms(self, variant->path, "required", &b);
	/* The newest VM is the one a first open gets ... */
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(b.name, vkt_str(self->uuid, "pinned"));
	if (variant->path == VFIO_PATH_CDEV) {
		char p[MDEV_PATH_LEN];

		/* The cdev is the device: out of both VMs, closed, anew. */
		kvm_vfio_file_del(self->kv, self->dev.file);
		vfio_dev_unplug(&self->dev, b.kv);
		vfio_dev_release(&self->dev);
		vfio_dev_file_open(&self->dev, variant->path,
				   mdev_path(p, self->uuid));
		kvm_vfio_file_add(self->kv, self->dev.file);
		kvm_vfio_file_add(b.kv, self->dev.file);
	} else {
		vfio_dev_close(&self->dev);
	}
	/* ... and once it drops the file, the first one's is there still. */
	kvm_vfio_file_del(b.kv, self->dev.file);
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));
	/* The core holds the first VM, not B: B goes with its fds. */
	vm2_close(&b);
	EXPECT_FALSE(kvm_vm_alive(b.name));
	if (variant->path == VFIO_PATH_CDEV)
		kvm_vfio_file_del(self->kv, self->dev.file);
	vm_close_fds(&self->vm, &self->kv);
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	vfio_dev_unplug(&self->dev, -1);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

/*
 * The newest VM the file is in has been closed by its VMM (its kvm-vfio
 * device still holds the file): the first open gets the older one, which
 * is still open, rather than failing.
 */
TEST_F(kvm_ops, file_in_two_vms_opens_in_the_older_when_the_newer_is_closed)
{
	struct vm2 b;

	vkt_create_in_two_vms(self, variant->path, "required", &b);
	close(b.vm);
	b.vm = -1;

	vfio_dev_open(&self->dev);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));
	/* The core holds the older VM, not B: B goes with its fds. */
	if (variant->path == VFIO_PATH_CDEV)
		kvm_vfio_file_del(b.kv, self->dev.file);
	close(b.kv);
	b.kv = -1;
	EXPECT_FALSE(kvm_vm_alive(b.name));
	if (variant->path == VFIO_PATH_CDEV)
		kvm_vfio_file_del(self->kv, self->dev.file);
	vm_close_fds(&self->vm, &self->kv);
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	vfio_dev_unplug(&self->dev, -1);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

/*
 * QEMU's reset of a confidential VM: a new VM gets the same VFIO fds
 * while the devices stay open, then the old VM goes. The open device
 * keeps the old VM until its last close; the next open is in the new VM.
 */
TEST_F(kvm_ops, vm_reset_sequence_moves_the_device_at_its_next_open)
{
	char p[MDEV_PATH_LEN];
	struct vm2 b;

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);
	vm2_create(&b);
	kvm_vfio_file_add(b.kv, self->dev.file);
	vm_close_fds(&self->vm, &self->kv);
	/* The old VM lives on in the open device, and only there. */
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));

	/* Its last close ends the old VM before close() returns. */
	vfio_dev_unplug(&self->dev, b.kv);
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
	if (variant->path == VFIO_PATH_CDEV) {
		vfio_dev_release(&self->dev);
		vfio_dev_file_open(&self->dev, variant->path,
				   mdev_path(p, self->uuid));
		kvm_vfio_file_add(b.kv, self->dev.file);
	}
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(b.name, vkt_str(self->uuid, "pinned"));
	EXPECT_STREQ(b.name, vkt_str(self->uuid, "kvm_at_open"));
	vfio_dev_unplug(&self->dev, b.kv);
	vm2_close(&b);
	EXPECT_FALSE(kvm_vm_alive(b.name));
	EXPECT_EQ(0, vkt_pins());
}

/* The driver's event log is bounded: the last 16 stay, in order. */
TEST_F(kvm_ops, events_log_keeps_the_last_16_and_counts_the_rest)
{
	char p[MDEV_PATH_LEN], path[128], buf[1024], want[1024];
	int i, n = 0;

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	for (i = 0; i < EVENTS_CYCLES; i++) {
		if (i && variant->path == VFIO_PATH_CDEV) {
			vfio_dev_release(&self->dev);
			vfio_dev_file_open(&self->dev, variant->path,
					   mdev_path(p, self->uuid));
			kvm_vfio_file_add(self->kv, self->dev.file);
		}
		vfio_dev_open(&self->dev);
		vfio_dev_unplug(&self->dev, self->kv);
	}
	EXPECT_EQ(EVENTS_CYCLES, vkt_count(self->uuid, "gets"));
	EXPECT_EQ(EVENTS_CYCLES, vkt_count(self->uuid, "puts"));

	n += snprintf(want + n, sizeof(want) - n,
		      "(%d earlier events dropped)\n",
		      2 * EVENTS_CYCLES - VKT_EVENTS_KEPT);
	for (i = 0; i < VKT_EVENTS_KEPT; i++)
		n += snprintf(want + n, sizeof(want) - n, "%s %s\n",
			      i % 2 ? "put" : "get", self->vm_name);
	want[n - 1] = '\0';	/* __sysfs_read() drops the last newline */
	snprintf(path, sizeof(path), VKT_DEBUGFS "/%s/events", self->uuid);
	ASSERT_EQ(0, __sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ(want, buf);
}

/*
 * The driver's failure knob takes an errno and nothing larger: a value
 * past MAX_ERRNO would come back from the open as a pointer IS_ERR()
 * does not see (the kernel then installed it as a file, and oopsed).
 */
TEST_F(kvm_ops, failure_knob_refuses_what_is_not_an_errno)
{
	char path[128];

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	snprintf(path, sizeof(path), VKT_DEBUGFS "/%s/fail_open", self->uuid);
	EXPECT_EQ(-EINVAL, __sysfs_write(path, "4096"));
	EXPECT_EQ(-EINVAL, __sysfs_write(path, "4294967295"));
	EXPECT_EQ(0, vkt_count(self->uuid, "fail_open"));
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));
}

TEST_HARNESS_MAIN
