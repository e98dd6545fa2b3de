// SPDX-License-Identifier: GPL-2.0
/*
 * Races of a device's first open and last close against everything that
 * changes the VM the device would pin, for the test driver's three kinds
 * of KVM dependency and each sample, on the group and the cdev path:
 *
 *   file_add_del    FILE_ADD/FILE_DEL of the device's file to two VMs,
 *                   in a loop, in an order that changes every round
 *   vm_recreate     a VM created, given the file, and closed, in a loop
 *   owner_killed    a forked child creates a VM, adds the file, opens the
 *                   device and is killed with SIGKILL at a random moment
 *
 * while another thread opens and closes the device as fast as it can.
 * Each scenario is bounded by time (MDEV_KVM_STRESS seconds, default 1.5 s
 * under make check) and by an iteration count. Afterwards no VM is alive,
 * the device holds nothing (pins and unpins balance), and it still opens;
 * lockdep, KASAN and kmemleak watch the whole run. Each scenario prints
 * the iterations it reached.
 *
 * And one race of the test driver's own, outside the fixture
 * (global.debugfs_reads_safe_while_mdev_created_and_removed): a thread
 * reads a device's kvm_at_open debugfs file in a loop while the device is
 * created and removed, up to 20 times or 10 s. The reads must never reach
 * the core's objects, which the device does not have yet, or any more.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"
#include "libmdevkvm/vkt.h"

/* Flags and counters one thread sets and another polls. */
#define LOAD(x)			__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)		__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define RACE_MAX_ITERATIONS	1000000
#define RACE_TIMEOUT		900	/* harness limit, for make stress */

enum race_scenario {
	FILE_ADD_DEL,
	VM_RECREATE,
	OWNER_KILLED,
};

static const char *const scenario_name[] = {
	[FILE_ADD_DEL] = "file_add_del",
	[VM_RECREATE] = "vm_recreate",
	[OWNER_KILLED] = "owner_killed",
};

struct errno_hist {
	int err[8];
	unsigned long n[8];
};

struct race {
	const struct mk_subject *s;
	enum vfio_path path;
	char uuid[MDEV_UUID_LEN];
	char cdev[64];		/* cdev path: /dev/vfio/devices/vfioN */
	struct vfio_dev dev;	/* the group (and container) or the cdev */
	int iommufd;		/* cdev path: what the opener binds to */
	bool ioctls;		/* the device answers VFIO_DEVICE_GET_INFO */

	/* Shared by the opener and the VM side, under @lock. */
	pthread_mutex_t lock;
	int cur;		/* the file the VM side adds, or -1 */
	int kv;			/* the VM's kvm-vfio device, or -1 */
	int kv2;		/* file_add_del's second VM's, or -1 */
	int vm;
	unsigned long added;	/* FILE_ADDs of @cur that worked */
	bool wait_for_add;	/* cdev: the VM side adds the opener's file */
	enum race_scenario sc;

	int stop;		/* time is up */
	struct timespec deadline;
	unsigned long opens, opened;
	struct errno_hist errs;
	unsigned long vm_side;	/* iterations of the VM side */
	unsigned long owner_opened;	/* opens by a VM's owner, seen */
	unsigned long owner_failed;	/* owners that died on their own */
};

FIXTURE(race) {
	struct race r;
};

FIXTURE_VARIANT(race) {
	enum vfio_path path;
	const struct mk_subject *s;
};

MK_SUBJECT_VARIANTS(race);

static long race_ms(void)
{
	const char *s = getenv("MDEV_KVM_STRESS");

	return s && atol(s) > 0 ? atol(s) * 1000 : 1500;
}

static bool race_over(struct race *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > r->deadline.tv_sec ||
	    (now.tv_sec == r->deadline.tv_sec &&
	     now.tv_nsec >= r->deadline.tv_nsec))
		STORE(r->stop, 1);
	return LOAD(r->stop);
}

FIXTURE_SETUP(race)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct race *r = &self->r;
	char p[MDEV_PATH_LEN];

	r->s = variant->s;
	r->path = variant->path;
	subject_modprobe(variant->s);
	mdev_create(variant->s->parent, variant->s->type, r->uuid);
	vfio_dev_file_open(&r->dev, variant->path,
			   mdev_path(p, r->uuid));
	r->iommufd = -1;
	/* The test driver has no ioctls; the samples do. */
	r->ioctls = !variant->s->vkt;
	if (variant->path == VFIO_PATH_GROUP) {
		/* Sets the container up; the open itself may be refused. */
		if (!__vfio_dev_open(&r->dev))
			vfio_dev_close(&r->dev);
		ASSERT_LE(0, r->dev.container);
	} else {
		ASSERT_EQ(0, __vfio_dev_file_path(VFIO_PATH_CDEV, p, r->cdev,
						  sizeof(r->cdev)));
		r->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, r->iommufd);
		ASSERT_EQ(0, ioctl(r->iommufd, IOMMU_IOAS_ALLOC, &alloc));
	}
	pthread_mutex_init(&r->lock, NULL);
	r->cur = variant->path == VFIO_PATH_GROUP ? r->dev.file : -1;
	r->kv = -1;
	r->kv2 = -1;
	r->vm = -1;
	clock_gettime(CLOCK_MONOTONIC, &r->deadline);
	r->deadline.tv_sec += race_ms() / 1000;
	r->deadline.tv_nsec += (race_ms() % 1000) * 1000000;
	if (r->deadline.tv_nsec >= 1000000000) {
		r->deadline.tv_sec++;
		r->deadline.tv_nsec -= 1000000000;
	}
}

FIXTURE_TEARDOWN(race)
{
	struct race *r = &self->r;

	vfio_dev_release(&r->dev);
	if (r->iommufd >= 0)
		close(r->iommufd);
	mdev_remove(r->uuid);
}

/* The errnos a racing open may see, and why. */
static bool open_errno_expected(const struct race *r, int err)
{
	/* A required device opened while no VM holds its file. */
	if (err == EINVAL && r->s->needs_vm)
		return true;
	/*
	 * ... or while the VM that does is closed: a killed owner's exit
	 * may close its VM fd before its kvm-vfio device drops the file.
	 */
	if (err == ENOENT && r->s->needs_vm && r->sc == OWNER_KILLED)
		return true;
	/*
	 * cdev, where the VM side may hold the last reference to the
	 * opener's previous file: the VM's owner bound it, or closing the
	 * VM puts it (kvm-vfio holds a reference to each file it has), and
	 * until that last close the device is still open, so a fresh
	 * file's bind is refused. The checks after the race catch a
	 * device that stays open. FILE_ADD/FILE_DEL alone never does this:
	 * the opener takes its file out of the VM itself.
	 */
	if (err == EINVAL && r->path == VFIO_PATH_CDEV &&
	    r->sc != FILE_ADD_DEL)
		return true;
	/* The gvt-like page tracking only serves the VM's own process. */
	if (err == ESRCH && r->s == &mk_mvgpu)
		return true;
	return false;
}

static void hist_add(struct errno_hist *h, int err)
{
	int i;

	for (i = 0; i < 8; i++) {
		if (h->err[i] == err || !h->err[i]) {
			h->err[i] = err;
			h->n[i]++;
			return;
		}
	}
}

/* First open of the device through a fresh cdev file, then last close. */
static int cdev_cycle(struct race *r)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = r->iommufd,
	};
	struct vfio_device_info info = { .argsz = sizeof(info) };
	unsigned long gen;
	int f, ret, i;

	f = open(r->cdev, O_RDWR | O_CLOEXEC);
	if (f < 0)
		return -errno;
	/* The VM side adds a reference of its own, taken under the lock. */
	pthread_mutex_lock(&r->lock);
	r->cur = dup(f);
	gen = r->added;
	pthread_mutex_unlock(&r->lock);
	/*
	 * A cdev file is the VM's only while added: give the VM side a
	 * moment to add it, so that binds race FILE_DEL and VM exit rather
	 * than always finding no VM.
	 */
	for (i = 0; r->wait_for_add && i < 200 && !LOAD(r->stop) &&
	     LOAD(r->added) == gen; i++)
		usleep(10);

	ret = ioctl(f, VFIO_DEVICE_BIND_IOMMUFD, &bind) ? -errno : 0;
	if (!ret && r->ioctls && ioctl(f, VFIO_DEVICE_GET_INFO, &info))
		ret = -errno;

	/* Unplug: out of the VMs (their references), then the fds. */
	pthread_mutex_lock(&r->lock);
	if (r->kv >= 0)
		__kvm_vfio_file_del(r->kv, r->cur);
	if (r->kv2 >= 0)
		__kvm_vfio_file_del(r->kv2, r->cur);
	close(r->cur);
	r->cur = -1;
	pthread_mutex_unlock(&r->lock);
	close(f);
	return ret;
}

static int group_cycle(struct race *r)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd, ret = 0;

	fd = ioctl(r->dev.file, VFIO_GROUP_GET_DEVICE_FD, r->uuid);
	if (fd < 0)
		return -errno;
	if (r->ioctls && ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
		ret = -errno;
	close(fd);
	return ret;
}

struct opener_arg {
	struct race *r;
	int unexpected;		/* the first errno that was not expected */
};

static void *opener(void *data)
{
	struct opener_arg *a = data;
	struct race *r = a->r;
	int ret;

	while (!race_over(r) && r->opens < RACE_MAX_ITERATIONS) {
		if (r->path == VFIO_PATH_GROUP)
			ret = group_cycle(r);
		else
			ret = cdev_cycle(r);
		r->opens++;
		if (!ret) {
			r->opened++;
			continue;
		}
		hist_add(&r->errs, -ret);
		if (!open_errno_expected(r, -ret) && !a->unexpected)
			a->unexpected = -ret;
	}
	return NULL;
}

/*
 * Two VMs add the opener's file and take it out again, in an order that
 * changes every round, so that the file has zero, one or two
 * associations (each VM's own) while the opener's first opens pick one.
 */
static void file_add_del(struct race *r)
{
	int vm2, kv[2], i, add, del;

	r->vm = kvm_vm_create();
	r->kv = kvm_vfio_create(r->vm);
	vm2 = kvm_vm_create();
	kv[0] = r->kv;
	kv[1] = kvm_vfio_create(vm2);
	pthread_mutex_lock(&r->lock);
	r->kv2 = kv[1];
	pthread_mutex_unlock(&r->lock);
	while (!race_over(r) && r->vm_side < RACE_MAX_ITERATIONS) {
		add = r->vm_side & 1;
		del = (r->vm_side >> 1) & 1;
		for (i = 0; i < 2; i++) {
			pthread_mutex_lock(&r->lock);
			if (r->cur >= 0 &&
			    !__kvm_vfio_file_add(kv[add ^ i], r->cur))
				STORE(r->added, r->added + 1);
			pthread_mutex_unlock(&r->lock);
			sched_yield();
		}
		for (i = 0; i < 2; i++) {
			pthread_mutex_lock(&r->lock);
			if (r->cur >= 0)
				__kvm_vfio_file_del(kv[del ^ i], r->cur);
			pthread_mutex_unlock(&r->lock);
			sched_yield();
		}
		r->vm_side++;
	}
	pthread_mutex_lock(&r->lock);
	r->kv2 = -1;
	pthread_mutex_unlock(&r->lock);
	close(kv[1]);
	close(vm2);
}

static void vm_recreate(struct race *r)
{
	int vm, kv;

	while (!race_over(r) && r->vm_side < RACE_MAX_ITERATIONS) {
		vm = kvm_vm_create();
		kv = kvm_vfio_create(vm);
		pthread_mutex_lock(&r->lock);
		r->kv = kv;
		if (r->cur >= 0 && !__kvm_vfio_file_add(kv, r->cur))
			STORE(r->added, r->added + 1);
		pthread_mutex_unlock(&r->lock);
		sched_yield();
		pthread_mutex_lock(&r->lock);
		r->kv = -1;
		pthread_mutex_unlock(&r->lock);
		/* Only a device's pin can keep the VM alive after this. */
		close(kv);
		close(vm);
		r->vm_side++;
	}
}

/* The child: its own VM with the device's file in it, the device open. */
static int owner(struct race *r, int file, int ready)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = r->iommufd,
	};
	int vm, kv, ret;

	vm = kvm_vm_create();
	kv = kvm_vfio_create(vm);
	__kvm_vfio_file_add(kv, file);
	if (r->path == VFIO_PATH_GROUP)
		ret = ioctl(file, VFIO_GROUP_GET_DEVICE_FD, r->uuid) < 0;
	else
		ret = ioctl(file, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	/* Tell the parent whether the device is open in this VM. */
	if (write(ready, ret ? "e" : "o", 1) != 1)
		return 1;
	/* Until the parent kills it, with everything open. */
	for (;;)
		pause();
}

static void owner_killed(struct race *r)
{
	int mine, p[2], status, fd;
	char c;
	pid_t pid;

	srand(getpid());
	while (!race_over(r) && r->vm_side < RACE_MAX_ITERATIONS) {
		pthread_mutex_lock(&r->lock);
		mine = r->cur >= 0 ? dup(r->cur) : -1;
		pthread_mutex_unlock(&r->lock);
		if (mine < 0) {
			sched_yield();
			continue;
		}
		if (pipe(p))
			break;
		pid = fork();
		if (!pid) {
			/*
			 * Keep only what the owner uses: a copy of the
			 * opener's device fd would make the child, not the
			 * opener, do the device's last close.
			 */
			for (fd = 3; fd < 1024; fd++)
				if (fd != mine && fd != p[1] &&
				    fd != r->iommufd)
					close(fd);
			_exit(owner(r, mine, p[1]));
		}
		close(p[1]);
		/* Killed while setting up, or with everything open. */
		if (rand() & 1) {
			if (read(p[0], &c, 1) != 1)
				r->owner_failed++;
			else if (c == 'o')
				r->owner_opened++;
		}
		usleep(rand() % 2000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(p[0]);
		close(mine);
		r->vm_side++;
	}
}

static void race_run(struct __test_metadata *_metadata, struct race *r,
		     enum race_scenario sc)
{
	struct opener_arg a = { .r = r };
	char line[256];
	pthread_t t;
	long pins = -1;
	int i, n;

	r->sc = sc;
	r->wait_for_add = sc != OWNER_KILLED;
	ASSERT_EQ(0, pthread_create(&t, NULL, opener, &a));
	if (sc == FILE_ADD_DEL)
		file_add_del(r);
	else if (sc == VM_RECREATE)
		vm_recreate(r);
	else
		owner_killed(r);
	if (!LOAD(r->stop))
		STORE(r->stop, 1);
	pthread_join(t, NULL);
	if (r->kv >= 0)
		close(r->kv);
	if (r->vm >= 0)
		close(r->vm);
	r->kv = -1;
	r->vm = -1;

	n = snprintf(line, sizeof(line),
		     "# race: %s %s %s: %lu opens (%lu ok", r->s->name,
		     vfio_path_name(r->path), scenario_name[sc],
		     r->opens, r->opened);
	for (i = 0; i < 8 && r->errs.err[i]; i++)
		n += snprintf(line + n, sizeof(line) - n, ", %lu %s",
			      r->errs.n[i], strerror(r->errs.err[i]));
	printf("%s), %lu on the VM side", line, r->vm_side);
	if (r->s->vkt) {
		pins = vkt_count(r->uuid, "gets");
		printf(", %ld pins", pins);
	}
	if (sc == OWNER_KILLED)
		printf(" (%lu opened by the owner, then killed)",
		       r->owner_opened);
	printf("\n");

	EXPECT_EQ(0, r->owner_failed) TH_LOG("a VM's owner died on its own");
	EXPECT_EQ(0, a.unexpected)
		TH_LOG("open failed with %s", strerror(a.unexpected));
	/* The device did open in the race, not just fail to. */
	EXPECT_LT(0, r->opened + r->owner_opened);
	EXPECT_LT(0, r->vm_side);
	/* Opens did find a VM to pin, not only none. */
	if (r->s->vkt && r->s->pins && sc != OWNER_KILLED)
		EXPECT_LT(0, pins);
	/* Every VM is gone: nothing but a leaked pin could hold one. */
	EXPECT_EQ(0, kvm_vms_alive(NULL));
	subject_assert_idle(r->s, r->uuid);
	if (r->s->vkt)
		EXPECT_EQ(0, vkt_pins());
}

/* After the race, the device still opens, in a VM if it needs one. */
static void race_reopen(struct __test_metadata *_metadata, struct race *r)
{
	struct vfio_dev d = r->dev;
	int vm = kvm_vm_create(), kv = kvm_vfio_create(vm);

	if (r->path == VFIO_PATH_CDEV) {
		d.file = open(r->cdev, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, d.file);
		d.iommufd = -1;
	}
	kvm_vfio_file_add(kv, d.file);
	vfio_dev_open(&d);
	if (r->ioctls)
		EXPECT_EQ(0x1b36, vfio_config_read(&d, 0, 2) & 0xffff);
	vfio_dev_unplug(&d, kv);
	if (r->path == VFIO_PATH_CDEV)
		vfio_dev_release(&d);
	close(kv);
	close(vm);
	EXPECT_EQ(0, kvm_vms_alive(NULL));
	subject_assert_idle(r->s, r->uuid);
}

TEST_F_TIMEOUT(race, open_close_vs_file_add_del, RACE_TIMEOUT)
{
	race_run(_metadata, &self->r, FILE_ADD_DEL);
	race_reopen(_metadata, &self->r);
}

TEST_F_TIMEOUT(race, open_close_vs_vm_recreate, RACE_TIMEOUT)
{
	race_run(_metadata, &self->r, VM_RECREATE);
	race_reopen(_metadata, &self->r);
}

TEST_F_TIMEOUT(race, open_close_vs_vm_owner_killed, RACE_TIMEOUT)
{
	race_run(_metadata, &self->r, OWNER_KILLED);
	race_reopen(_metadata, &self->r);
}

/* A reader of one debugfs file, in a loop, from before it exists. */
struct debugfs_reader {
	char path[128];
	int stop;
	unsigned long reads;	/* reads of the live file */
	int unexpected;		/* the first errno that was not expected */
	char bad[64];		/* the first content other than "none" */
};

static void *debugfs_reader(void *data)
{
	struct debugfs_reader *r = data;
	char buf[64];
	ssize_t n;
	int fd;

	while (!LOAD(r->stop)) {
		fd = open(r->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			/* Not created yet, or removed: debugfs says ENOENT. */
			if (errno != ENOENT && !r->unexpected)
				r->unexpected = errno;
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0) {
			/* Removed between the open and the read. */
			if (errno != EIO && !r->unexpected)
				r->unexpected = errno;
			continue;
		}
		buf[n] = '\0';
		if (strcmp(buf, "none\n") && !r->bad[0])
			snprintf(r->bad, sizeof(r->bad), "%s", buf);
		STORE(r->reads, r->reads + 1);
	}
	return NULL;
}

#define DEBUGFS_RACE_ITERATIONS	20
#define DEBUGFS_RACE_MS		10000

/*
 * The test driver's kvm_at_open debugfs file read in a tight loop while
 * its device is created and removed. A device's files exist from the
 * driver's ->init, before the core gives the device a dev_set, until its
 * ->release, after the core has freed the dev_set: the file once took
 * dev_set->lock, which a read in either window found NULL or freed. This
 * is a race, not guaranteed to hit that use-after-free on every run
 * (KASAN reports it when it does, which fails make check); the driver's
 * own lock must make every read succeed, or fail with the errnos of a
 * file removed under it, and read "none".
 */
TEST(debugfs_reads_safe_while_mdev_created_and_removed)
{
	struct timespec start, now;
	struct debugfs_reader r;
	char uuid[MDEV_UUID_LEN];
	unsigned long reads = 0;
	pthread_t t;
	int i, j, ret;

	modprobe(VKT);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < DEBUGFS_RACE_ITERATIONS; i++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 > DEBUGFS_RACE_MS)
			break;

		memset(&r, 0, sizeof(r));
		mdev_uuid_random(uuid);
		snprintf(r.path, sizeof(r.path), VKT_DEBUGFS "/%s/kvm_at_open",
			 uuid);
		ASSERT_EQ(0, pthread_create(&t, NULL, debugfs_reader, &r));
		ret = __mdev_create_str(VKT, VKT "-none", uuid);
		if (!ret) {
			/* Let it read the live file, then remove it. */
			for (j = 0; j < 10000 && !LOAD(r.reads); j++)
				usleep(100);
			ret = __mdev_remove(uuid);
		}
		STORE(r.stop, 1);
		pthread_join(t, NULL);

		ASSERT_EQ(0, ret) TH_LOG("mdev create or remove: %s",
					 strerror(-ret));
		EXPECT_LT(0, r.reads) TH_LOG("the reader never read the file");
		EXPECT_EQ(0, r.unexpected)
			TH_LOG("reading %s: %s", r.path,
			       strerror(r.unexpected));
		EXPECT_STREQ("", r.bad);
		reads += r.reads;
	}
	printf("# race: debugfs: %d mdev create/remove cycles, %lu reads\n",
	       i, reads);
	EXPECT_LT(0, i);
}

TEST_HARNESS_MAIN
