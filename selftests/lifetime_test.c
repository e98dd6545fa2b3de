// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes around an open device, for the test driver's three kinds of
 * KVM dependency and each sample, on the group and the cdev path:
 *
 *   - the driver's module cannot be unloaded while the device is open,
 *     nor KVM's modules while the device's pin is all that holds the
 *     VM; once the device is closed, unloading the driver removes its
 *     idle devices;
 *   - removing the mdev while it is open blocks until the last close,
 *     then completes, and the device's pin is gone with it;
 *   - a process that exits with everything open (the VM, its kvm-vfio
 *     device, the group or cdev, the device, the container or iommufd)
 *     leaves nothing behind, whatever order its fds are closed in.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"
#include "libmdevkvm/vkt.h"

struct lifetime {
	const struct mk_subject *s;
	char uuid[MDEV_UUID_LEN];
	char sysfs[MDEV_PATH_LEN];
	char vm_prefix[16];	/* "<pid>-": this process's VMs */
	int vm, kv;		/* -1 once closed */
	struct vfio_dev dev;
};

FIXTURE(lifetime) {
	struct lifetime l;
};

FIXTURE_VARIANT(lifetime) {
	enum vfio_path path;
	const struct mk_subject *s;
};

MK_SUBJECT_VARIANTS(lifetime);

FIXTURE_SETUP(lifetime)
{
	struct lifetime *l = &self->l;

	l->s = variant->s;
	subject_modprobe(variant->s);
	mdev_create(variant->s->parent, variant->s->type, l->uuid);
	mdev_path(l->sysfs, l->uuid);
	snprintf(l->vm_prefix, sizeof(l->vm_prefix), "%d-", getpid());
	l->vm = -1;
	l->kv = -1;
	l->dev = (struct vfio_dev){ .file = -1, .fd = -1, .container = -1,
				       .iommufd = -1 };
}

FIXTURE_TEARDOWN(lifetime)
{
	struct lifetime *l = &self->l;

	vfio_dev_release(&l->dev);
	if (l->kv >= 0)
		close(l->kv);
	if (l->vm >= 0)
		close(l->vm);
	if (l->uuid[0])
		mdev_remove(l->uuid);
}

/* The device open in a fresh VM, as a VMM opens it. */
static void open_in_vm(struct lifetime *l, enum vfio_path path)
{
	l->vm = kvm_vm_create();
	l->kv = kvm_vfio_create(l->vm);
	vfio_dev_file_open(&l->dev, path, l->sysfs);
	kvm_vfio_file_add(l->kv, l->dev.file);
	vfio_dev_open(&l->dev);
}

static void close_vm_fds(struct lifetime *l)
{
	close(l->kv);
	close(l->vm);
	l->kv = -1;
	l->vm = -1;
}

static void assert_idle(struct __test_metadata *_metadata,
			struct lifetime *l, const char *uuid)
{
	if (l->s->vkt)
		EXPECT_EQ(0, vkt_pins());
	if (uuid)
		subject_assert_idle(l->s, uuid);
}

TEST_F(lifetime, modules_stay_while_open_and_unload_idle_devices)
{
	const char *vendor = kvm_vendor_module();
	struct lifetime *l = &self->l;
	long held = -1;

	open_in_vm(l, variant->path);
	EXPECT_EQ(-EWOULDBLOCK, __rmmod(variant->s->parent));
	if (variant->s->pins) {
		/* The pin is all that holds the VM now, and KVM's modules. */
		close_vm_fds(l);
		EXPECT_EQ(1, kvm_vms_alive(l->vm_prefix));
		/* (kvm itself is always held by its vendor module.) */
		if (vendor) {
			held = module_refcnt(vendor);
			EXPECT_EQ(-EWOULDBLOCK, __rmmod(vendor));
		} else {
			TH_LOG("KVM is built in: its unload check is skipped");
		}
		EXPECT_EQ(-EWOULDBLOCK, __rmmod(variant->s->parent));
	}
	vfio_dev_unplug(&l->dev, l->kv);
	vfio_dev_release(&l->dev);
	if (l->vm >= 0)
		close_vm_fds(l);
	EXPECT_EQ(0, kvm_vms_alive(l->vm_prefix));
	/* Others may hold KVM too: the pin's VM file was one reference. */
	if (held >= 0)
		EXPECT_TRUE(kvm_vendor_refs_dropped_one(vendor, held));
	assert_idle(_metadata, l, l->uuid);

	/* Closed: the driver unloads and takes its idle device with it. */
	EXPECT_EQ(0, __rmmod(variant->s->parent));
	EXPECT_NE(0, access(l->sysfs, F_OK));
	l->uuid[0] = '\0';
	subject_modprobe(variant->s);
}

struct remover {
	const char *sysfs;
	int started;		/* set by the remover thread */
	int done;
	int ret;
};

static bool remover_done(struct remover *r)
{
	return __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
}

static void *remove_device(void *data)
{
	struct remover *r = data;
	char path[MDEV_PATH_LEN + 8];

	snprintf(path, sizeof(path), "%s/remove", r->sysfs);
	__atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
	r->ret = __sysfs_write(path, "1");
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F(lifetime, remove_while_open_waits_for_the_last_close)
{
	struct lifetime *l = &self->l;
	struct remover r = { .sysfs = l->sysfs };
	pthread_t t;
	int i;

	open_in_vm(l, variant->path);
	ASSERT_EQ(0, pthread_create(&t, NULL, remove_device, &r));
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* Long enough for the write to reach the wait for the last close. */
	usleep(300 * 1000);
	EXPECT_FALSE(remover_done(&r))
		TH_LOG("remove returned with the device open");
	/* The open device still answers while its removal waits. */
	if (!variant->s->vkt)
		EXPECT_EQ(0x1b36, vfio_config_read(&l->dev, 0, 2));

	vfio_dev_unplug(&l->dev, l->kv);
	for (i = 0; i < 1000 && !remover_done(&r); i++)
		usleep(10 * 1000);
	ASSERT_TRUE(remover_done(&r))
		TH_LOG("remove still blocked after the close");
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.ret);
	EXPECT_NE(0, access(l->sysfs, F_OK));
	l->uuid[0] = '\0';
	assert_idle(_metadata, l, NULL);
	/* Nothing of the device holds the VM any more. */
	close_vm_fds(l);
	EXPECT_EQ(0, kvm_vms_alive(l->vm_prefix));
}

/* What a process has open when it uses a device in a VM. */
enum { O_VM, O_KV, O_FILE, O_DEV, O_IOMMU, O_NR };

/* The next permutation of @p[0..n), lexicographically; false after last. */
static bool next_perm(int *p, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && p[i] >= p[i + 1])
		i--;
	if (i < 0)
		return false;
	while (p[j] <= p[i])
		j--;
	t = p[i], p[i] = p[j], p[j] = t;
	for (i++, j = n - 1; i < j; i++, j--)
		t = p[i], p[i] = p[j], p[j] = t;
	return true;
}

/*
 * The child: everything open, then each fd moved so that exit closes them
 * in the order @order gives (the kernel closes fds lowest first).
 */
static int exit_with_all_open(const char *sysfs, enum vfio_path path,
			      const int *order, int n)
{
	struct vfio_dev d;
	int fds[O_NR], vm, kv, i;

	vm = kvm_vm_create();
	kv = kvm_vfio_create(vm);
	vfio_dev_file_open(&d, path, sysfs);
	kvm_vfio_file_add(kv, d.file);
	vfio_dev_open(&d);
	fds[O_VM] = vm;
	fds[O_KV] = kv;
	fds[O_FILE] = d.file;
	/* On the cdev path the device fd is the file. */
	fds[O_DEV] = path == VFIO_PATH_GROUP ? d.fd : -1;
	fds[O_IOMMU] = path == VFIO_PATH_GROUP ? d.container : d.iommufd;
	for (i = 0; i < n; i++) {
		if (fds[order[i]] < 0)
			continue;
		if (dup2(fds[order[i]], 100 + i) < 0)
			return 2;
		close(fds[order[i]]);
	}
	/* The caller exits now, with all of it open. */
	return 0;
}

TEST_F_TIMEOUT(lifetime, exit_with_everything_open_in_any_order, 300)
{
	struct lifetime *l = &self->l;
	int order[O_NR] = { O_VM, O_KV, O_FILE, O_DEV, O_IOMMU };
	int n = variant->path == VFIO_PATH_GROUP ? O_NR : O_NR - 1;
	char prefix[16];
	int status, orders = 0;
	pid_t pid;

	/* cdev: the file is the device; leave O_DEV out of the order. */
	if (variant->path == VFIO_PATH_CDEV)
		order[O_DEV] = O_IOMMU;
	do {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(exit_with_all_open(l->sysfs, variant->path,
						 order, n));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("child status %#x", status);
		snprintf(prefix, sizeof(prefix), "%d-", pid);
		ASSERT_EQ(0, kvm_vms_alive(prefix))
			TH_LOG("order %d %d %d %d", order[0], order[1],
			       order[2], order[3]);
		subject_assert_idle(variant->s, l->uuid);
		orders++;
	} while (next_perm(order, n));
	printf("# lifetime: %s %s: %d exit orders\n", variant->s->name,
	       vfio_path_name(variant->path), orders);
	assert_idle(_metadata, l, l->uuid);
}

TEST_HARNESS_MAIN
