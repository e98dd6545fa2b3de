// SPDX-License-Identifier: GPL-2.0
/*
 * Every allocation failing in turn, with fail-nth: for each n = 1, 2, ...
 * the n-th slab allocation of one operation fails, until the operation
 * completes without reaching an injected fault. Swept:
 *
 *   first open of a device in a VM (group: VFIO_GROUP_GET_DEVICE_FD;
 *   cdev: VFIO_DEVICE_BIND_IOMMUFD), for the test driver's three kinds
 *   of KVM dependency and each sample's own open_device();
 *   KVM_DEV_VFIO_FILE_ADD of the device's file;
 *   mdev create, for the test driver and each sample.
 *
 * At every step the operation succeeds or fails with ENOMEM, and once it
 * is undone the state is as before: no pin held, every open closed, no
 * device left behind, the VM alive only through its own fds; at the end
 * the device opens normally. kmemleak, run after the suite, sees the
 * rest. Each sweep prints how many fault points its path has.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/assert.h"
#include "libmdevkvm/fault.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"
#include "libmdevkvm/vkt.h"

#define FAULT_MAX_POINTS	2000

struct fault {
	const struct mk_subject *s;
	enum vfio_path path;
	char uuid[MDEV_UUID_LEN];
	char sysfs[MDEV_PATH_LEN];
	char vm_prefix[16];	/* "<pid>-": this process's VMs */
	int vm, kv;
	struct vfio_dev dev;
	int iommufd;		/* cdev path */
	int fd;			/* group path: the device fd, or -1 */
};

FIXTURE(fault) {
	struct fault f;
};

FIXTURE_VARIANT(fault) {
	enum vfio_path path;
	const struct mk_subject *s;
};

MK_SUBJECT_VARIANTS(fault);

FIXTURE_SETUP(fault)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct fault *f = &self->f;

	FAULT_REQUIRE();
	f->s = variant->s;
	f->path = variant->path;
	subject_modprobe(variant->s);
	mdev_create(variant->s->parent, variant->s->type, f->uuid);
	mdev_path(f->sysfs, f->uuid);
	snprintf(f->vm_prefix, sizeof(f->vm_prefix), "%d-", getpid());
	f->vm = kvm_vm_create();
	f->kv = kvm_vfio_create(f->vm);
	f->fd = -1;
	f->iommufd = -1;
	vfio_dev_file_open(&f->dev, variant->path, f->sysfs);
	if (variant->path == VFIO_PATH_GROUP) {
		/* The group, its container and its place in the VM stay. */
		kvm_vfio_file_add(f->kv, f->dev.file);
		vfio_dev_open(&f->dev);
		vfio_dev_close(&f->dev);
	} else {
		/* Each attempt gets a fresh cdev file; this one is spare. */
		f->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, f->iommufd);
		ASSERT_EQ(0, ioctl(f->iommufd, IOMMU_IOAS_ALLOC, &alloc));
	}
}

FIXTURE_TEARDOWN(fault)
{
	struct fault *f = &self->f;

	vfio_dev_release(&f->dev);
	if (f->iommufd >= 0)
		close(f->iommufd);
	close(f->kv);
	close(f->vm);
	mdev_remove(f->uuid);
}

/* Nothing is held but the VM's own fds, and the device is closed. */
static void fault_check_idle(void *ctx)
{
	struct fault *f = ctx;

	subject_assert_idle(f->s, f->uuid);
	if (f->s->vkt)
		MK_ASSERT_EQ(vkt_pins(), 0);
	MK_ASSERT_EQ(kvm_vms_alive(f->vm_prefix), 1);
}

/* cdev: a fresh file, in the VM, not bound yet. */
static void cdev_prepare(void *ctx)
{
	struct fault *f = ctx;

	vfio_dev_close(&f->dev);
	vfio_dev_file_open(&f->dev, VFIO_PATH_CDEV, f->sysfs);
	kvm_vfio_file_add(f->kv, f->dev.file);
}

static int open_op(void *ctx)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct fault *f = ctx;

	if (f->path == VFIO_PATH_CDEV) {
		bind.iommufd = f->iommufd;
		return ioctl(f->dev.file, VFIO_DEVICE_BIND_IOMMUFD, &bind) ?
			-errno : 0;
	}
	f->fd = ioctl(f->dev.file, VFIO_GROUP_GET_DEVICE_FD, f->uuid);
	return f->fd < 0 ? -errno : 0;
}

/* The last close: the device fd, and on the cdev path the VM's file. */
static void open_cleanup(void *ctx, int ret)
{
	struct fault *f = ctx;

	/* Open, whatever was injected: the pin must be there. */
	if (!ret && f->s->vkt && f->s->pins)
		MK_ASSERT_EQ(vkt_count(f->uuid, "gets") -
			     vkt_count(f->uuid, "puts"), 1);
	if (f->path == VFIO_PATH_CDEV) {
		kvm_vfio_file_del(f->kv, f->dev.file);
		vfio_dev_close(&f->dev);
	} else if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
}

/* After the sweep the device opens, in the VM, as if nothing happened. */
static void fault_reopen(struct __test_metadata *_metadata, struct fault *f)
{
	if (f->path == VFIO_PATH_CDEV)
		cdev_prepare(f);
	vfio_dev_open(&f->dev);
	if (f->s->vkt && f->s->pins)
		EXPECT_EQ(1, vkt_count(f->uuid, "gets") -
			     vkt_count(f->uuid, "puts"));
	if (!f->s->vkt)
		EXPECT_EQ(0x1b36, vfio_config_read(&f->dev, 0, 2));
	vfio_dev_unplug(&f->dev, f->kv);
	fault_check_idle(f);
}

TEST_F_TIMEOUT(fault, first_open_in_a_vm, 300)
{
	char name[64];
	struct fault_sweep s = {
		.name = name, .ctx = &self->f, .op = open_op,
		.cleanup = open_cleanup, .check = fault_check_idle,
		.max = FAULT_MAX_POINTS,
	};

	snprintf(name, sizeof(name), "%s %s open", variant->s->name,
		 vfio_path_name(variant->path));
	if (variant->path == VFIO_PATH_CDEV)
		s.prepare = cdev_prepare;
	EXPECT_LT(0, fault_sweep(&s));
	fault_reopen(_metadata, &self->f);
}

static int file_add_op(void *ctx)
{
	struct fault *f = ctx;

	return __kvm_vfio_file_add(f->kv, f->dev.file);
}

static void file_add_cleanup(void *ctx, int ret)
{
	struct fault *f = ctx;

	if (!ret)
		kvm_vfio_file_del(f->kv, f->dev.file);
	/* The file is out of the VM either way. */
	MK_ASSERT_EQ(__kvm_vfio_file_del(f->kv, f->dev.file), -ENOENT);
}

TEST_F_TIMEOUT(fault, kvm_vfio_file_add, 300)
{
	char name[64];
	struct fault_sweep s = {
		.name = name, .ctx = &self->f, .op = file_add_op,
		.cleanup = file_add_cleanup, .check = fault_check_idle,
		.max = FAULT_MAX_POINTS,
	};

	snprintf(name, sizeof(name), "%s %s FILE_ADD", variant->s->name,
		 vfio_path_name(variant->path));
	/* The device's file, out of the VM. */
	if (variant->path == VFIO_PATH_CDEV)
		cdev_prepare(&self->f);
	kvm_vfio_file_del(self->f.kv, self->f.dev.file);
	EXPECT_LT(0, fault_sweep(&s));
	kvm_vfio_file_add(self->f.kv, self->f.dev.file);
	fault_reopen(_metadata, &self->f);
}

struct create_ctx {
	const struct mk_subject *s;
	char uuid[MDEV_UUID_LEN];
	int available;
};

static void create_prepare(void *ctx)
{
	struct create_ctx *c = ctx;
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

	MK_ASSERT_TRUE(f && fgets(c->uuid, sizeof(c->uuid), f), "uuid");
	fclose(f);
}

static int create_op(void *ctx)
{
	struct create_ctx *c = ctx;

	return __mdev_create_str(c->s->parent, c->s->type, c->uuid);
}

static void create_cleanup(void *ctx, int ret)
{
	struct create_ctx *c = ctx;

	if (!ret)
		mdev_remove(c->uuid);
}

static void create_check(void *ctx)
{
	struct create_ctx *c = ctx;
	char p[MDEV_PATH_LEN];

	MK_ASSERT_TRUE(access(mdev_path(p, c->uuid), F_OK), "%s is left", p);
	MK_ASSERT_EQ(mdev_available(c->s->parent, c->s->type), c->available);
}

static const struct mk_subject *const create_subjects[] = {
	&mk_vkt_none, &mk_vkt_optional, &mk_vkt_required,
	&mk_mvgpu, &mk_mzdev, &mk_mcounter,
};

/* The path does not matter to create: one sweep per subject. */
FIXTURE(mdev_sweep) {
	int unused;
};

FIXTURE_SETUP(mdev_sweep)
{
	FAULT_REQUIRE();
}

FIXTURE_TEARDOWN(mdev_sweep)
{
}

TEST_F_TIMEOUT(mdev_sweep, create, 300)
{
	struct create_ctx c;
	char name[64];
	struct fault_sweep s = {
		.name = name, .ctx = &c, .prepare = create_prepare,
		.op = create_op, .cleanup = create_cleanup,
		.check = create_check, .max = FAULT_MAX_POINTS,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(create_subjects); i++) {
		c.s = create_subjects[i];
		subject_modprobe(c.s);
		snprintf(name, sizeof(name), "%s mdev create", c.s->name);
		c.available = mdev_available(c.s->parent, c.s->type);
		EXPECT_LT(0, fault_sweep(&s));
	}
}

TEST_HARNESS_MAIN
