// SPDX-License-Identifier: GPL-2.0
/*
 * The vfio_device_kvm_ops contract, driven through the test driver
 * (selftests/drivers/vfio_kvm_test.c) on the group and the cdev path:
 * who pins the VM, when, for how long, and what happens when something
 * fails. The driver counts get_kvm/put_kvm calls, names the VMs it
 * holds and logs its pins and unpins in order; a VM's lifetime is read
 * from its /sys/kernel/debug/kvm entry. With the driver's put_delay_ms,
 * the last close's put_kvm() sleeps, and the tests open the device again
 * meanwhile: the next open may pin before the last put runs.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"
#include "libmdevkvm/vkt.h"

/* How long put_kvm() sleeps in the tests of a pending put. */
#define PUT_DELAY_MS	500
/* How long to wait for a put_kvm() to start. */
#define PUT_START_MS	5000
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
	char path[128];

	/* The closes below must not sleep in a put some test delayed. */
	if (self->uuid[0]) {
		snprintf(path, sizeof(path), VKT_DEBUGFS "/%s/put_delay_ms",
			 self->uuid);
		__sysfs_write(path, "0");
	}
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

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The device's last close, in a thread of its own: put_kvm() sleeps. */
struct last_close {
	int fd;
	long ms;	/* how long close() took */
};

static void *last_close(void *data)
{
	struct last_close *c = data;
	long start = now_ms();

	close(c->fd);
	c->ms = now_ms() - start;
	return NULL;
}

/* Waits until the device's put_kvm() has been called @n times. */
static bool vkt_wait_puts(const char *uuid, long n, long timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (vkt_count(uuid, "puts") < n) {
		if (now_ms() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

/*
 * The next open may pin before the last put runs. The @type device is
 * open in the fixture's VM A; another thread closes it for the last time
 * while its put_kvm() sleeps PUT_DELAY_MS, and meanwhile the device is
 * opened again, through a file attached to a second VM B or, @same_vm,
 * to A again. The second open's pin comes while the first is still held
 * (pinned names both, events logs both gets), the late put then drops
 * A's and only A's, and A, whose fds are closed by then, goes with it.
 * @self is FIXTURE_DATA(kvm_ops), spelled out for checkpatch.
 */
static void reopen_while_last_put_sleeps(struct __test_metadata *_metadata,
					 struct _test_data_kvm_ops *self,
					 enum vfio_path path, const char *type,
					 bool same_vm)
{
	char b_name[32], p[MDEV_PATH_LEN], want[512];
	char pinned[512], at_open[512], events[512];
	struct last_close c;
	int vm_b = -1, kv_b, old_iommufd = -1;
	const char *a_name = self->vm_name;
	bool started, a_alive = false;
	long start, ms, pins;
	pthread_t t;

	vkt_create(self->uuid, &self->dev, path, type);
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);
	ASSERT_STREQ(a_name, vkt_str(self->uuid, "pinned"));
	if (same_vm) {
		kv_b = self->kv;
		snprintf(b_name, sizeof(b_name), "%s", a_name);
	} else {
		vm_b = kvm_vm_create();
		kv_b = kvm_vfio_create(vm_b);
		kvm_vm_name(vm_b, b_name, sizeof(b_name));
	}
	vkt_set(self->uuid, "put_delay_ms", PUT_DELAY_MS);

	/* The thread does the last close; the next open needs a B file. */
	c.fd = self->dev.fd;
	if (path == VFIO_PATH_GROUP) {
		self->dev.fd = -1;
		if (!same_vm) {
			kvm_vfio_file_del(self->kv, self->dev.file);
			kvm_vfio_file_add(kv_b, self->dev.file);
		}
	} else {
		/* The cdev is the device fd: out of A, then a fresh cdev. */
		kvm_vfio_file_del(self->kv, self->dev.file);
		old_iommufd = self->dev.iommufd;
		vfio_dev_file_open(&self->dev, path, mdev_path(p, self->uuid));
		kvm_vfio_file_add(kv_b, self->dev.file);
	}
	ASSERT_EQ(0, pthread_create(&t, NULL, last_close, &c));

	/* No ASSERT until the join: the thread uses @c. */
	started = vkt_wait_puts(self->uuid, 1, PUT_START_MS);
	start = now_ms();
	EXPECT_TRUE(started) TH_LOG("put_kvm() did not start");
	if (started) {
		vfio_dev_open(&self->dev);
		snprintf(pinned, sizeof(pinned), "%s",
			 vkt_str(self->uuid, "pinned"));
		snprintf(at_open, sizeof(at_open), "%s",
			 vkt_str(self->uuid, "kvm_at_open"));
		snprintf(events, sizeof(events), "%s",
			 vkt_str(self->uuid, "events"));
		pins = vkt_pins();
		if (!same_vm) {
			/* Only the sleeping put holds A now. */
			vm_close_fds(&self->vm, &self->kv);
			a_alive = kvm_vm_alive(a_name);
		}
		ms = now_ms() - start;

		snprintf(want, sizeof(want), "%s %s", a_name, b_name);
		EXPECT_STREQ(want, pinned)
			TH_LOG("read %ld ms into the put's %d ms sleep", ms,
			       PUT_DELAY_MS);
		EXPECT_STREQ(b_name, at_open);
		snprintf(want, sizeof(want), "get %s\nget %s", a_name, b_name);
		EXPECT_STREQ(want, events);
		EXPECT_EQ(2, pins);
		EXPECT_EQ(2, vkt_count(self->uuid, "gets"));
		if (!same_vm) {
			EXPECT_TRUE(a_alive)
				TH_LOG("read %ld ms into the put's %d ms sleep",
				       ms, PUT_DELAY_MS);
		}
	}
	if (!same_vm && self->vm >= 0)
		vm_close_fds(&self->vm, &self->kv);
	pthread_join(t, NULL);

	/* The last close returned once its put had dropped A's pin. */
	EXPECT_LE(PUT_DELAY_MS, c.ms);
	EXPECT_EQ(1, vkt_count(self->uuid, "puts"));
	EXPECT_STREQ(b_name, vkt_str(self->uuid, "pinned"));
	snprintf(want, sizeof(want), "get %s\nget %s\nput %s", a_name, b_name,
		 a_name);
	EXPECT_STREQ(want, vkt_str(self->uuid, "events"));
	EXPECT_EQ(1, vkt_pins());
	/* A went with the put; in the same VM, the new pin holds it. */
	EXPECT_EQ(same_vm, kvm_vm_alive(a_name));

	/* The second pin lasts until its own last close. */
	vkt_set(self->uuid, "put_delay_ms", 0);
	vfio_dev_unplug(&self->dev, kv_b);
	EXPECT_EQ(2, vkt_count(self->uuid, "puts"));
	EXPECT_STREQ("none", vkt_str(self->uuid, "pinned"));
	snprintf(want, sizeof(want), "get %s\nget %s\nput %s\nput %s",
		 a_name, b_name, a_name, b_name);
	EXPECT_STREQ(want, vkt_str(self->uuid, "events"));
	EXPECT_EQ(0, vkt_pins());
	if (old_iommufd >= 0)
		close(old_iommufd);
	if (same_vm) {
		vm_close_fds(&self->vm, &self->kv);
	} else {
		close(kv_b);
		close(vm_b);
	}
	EXPECT_FALSE(kvm_vm_alive(b_name));
}

TEST_F(kvm_ops, required_next_open_pins_other_vm_before_last_put)
{
	reopen_while_last_put_sleeps(_metadata, self, variant->path,
				     "required", false);
}

TEST_F(kvm_ops, optional_next_open_pins_other_vm_before_last_put)
{
	reopen_while_last_put_sleeps(_metadata, self, variant->path,
				     "optional", false);
}

TEST_F(kvm_ops, required_next_open_pins_same_vm_again_before_last_put)
{
	reopen_while_last_put_sleeps(_metadata, self, variant->path,
				     "required", true);
}

TEST_F(kvm_ops, optional_next_open_pins_same_vm_again_before_last_put)
{
	reopen_while_last_put_sleeps(_metadata, self, variant->path,
				     "optional", true);
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
 * The driver's failure knobs take an errno and nothing larger: a value
 * past MAX_ERRNO would come back from the open as a pointer IS_ERR()
 * does not see (the kernel then installed it as a file, and oopsed).
 */
TEST_F(kvm_ops, failure_knobs_refuse_what_is_not_an_errno)
{
	static const char *const bad[] = { "4096", "4294967295" };
	char path[128];
	int i;

	vkt_create(self->uuid, &self->dev, variant->path, "required");
	kvm_vfio_file_add(self->kv, self->dev.file);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), VKT_DEBUGFS "/%s/%s", self->uuid,
			 i ? "fail_open" : "fail_get_kvm");
		EXPECT_EQ(-EINVAL, __sysfs_write(path, bad[0]));
		EXPECT_EQ(-EINVAL, __sysfs_write(path, bad[1]));
		EXPECT_EQ(0, vkt_count(self->uuid, i ? "fail_open" :
				       "fail_get_kvm"));
	}
	vfio_dev_open(&self->dev);
	EXPECT_STREQ(self->vm_name, vkt_str(self->uuid, "pinned"));
}

TEST_HARNESS_MAIN
