// SPDX-License-Identifier: GPL-2.0
/*
 * A stateful fuzzer for every device kind (mk_subject: the test driver's
 * none, optional and required types, mvgpu, mzdev, mcounter), one test
 * per subject. A seeded random sequence of steps does what a guest and a
 * local user can do to the device, its VMs and its files, and after every
 * step the fuzzer holds the kernel to a small model of it:
 *
 *  - steps: config-space and BAR0 reads and writes of any size (0..8,
 *    odd sizes, whole pages) at any offset (registers, edges, past the
 *    end), other regions; mvgpu's BAR2 through the region and through
 *    mmap; SET_IRQS (MSI, INTx trigger, mask, unmask, loopback, count 0,
 *    bad fds, bad headers), VFIO_DEVICE_RESET, the info ioctls; mvgpu's
 *    GTT programming, LOAD and UNLOAD, mzdev's FMB programming, enable,
 *    disable and doorbells, mzdev's uid attribute; vCPU stores to guest
 *    pages (tracked by the GTT or not; a fresh vCPU id each time: KVM
 *    frees no vCPU before its VM), the host writing guest memory;
 *    memslot delete, re-create, move and dirty logging on and off; DMA
 *    map and unmap of guest memory (the group path's type1 container,
 *    the cdev path's two IOASes); KVM_DEV_VFIO_FILE_ADD/DEL of the group,
 *    cdev and device files and of fds that are none; opening and closing
 *    the group, its container and IOMMU, device fds and cdev files,
 *    binding, attaching and detaching; up to two VMs at once, closed in
 *    any order; and a forked child that creates a VM, opens the device in
 *    it and is killed with SIGKILL at a random point of that.
 *  - the model: which files exist and what holds them (our fds, the
 *    kvm-vfio devices, an mmap, an open device), what each file is linked
 *    to, whether the device is open, on which path and with which VM
 *    pinned; which VMs are alive (a VM lives while its fds are open or
 *    while a device that pins holds it: vkt-none and mcounter never keep
 *    one alive); the memslots and DMA mappings; guest memory byte for
 *    byte; the samples' register state machines as their header comments
 *    write them down, config space, the interrupt each eventfd must have
 *    seen, mvgpu's aperture and GTT shadow, what is tracked.
 *  - after every step: every syscall returned what the model predicts,
 *    errno included; the registers read back the model; guest memory is
 *    the model's (the FMB lands where it must, nowhere else); each
 *    eventfd was signalled exactly as often as it must; the VMs alive are
 *    exactly the model's; the test driver's gets, puts, opens, closes,
 *    pinned VM and global pins, mvgpu's vm attribute and its debugfs view
 *    of the loaded table and the tracked pages, mzdev's registration.
 *  - at the end: everything closed, no VM of this process alive, nothing
 *    pinned, tracked or registered, and the device reopens and works.
 *
 * Options in MDEV_KVM_FUZZ="seed=N,steps=N,seconds=N" (any subset; the
 * guest init takes them from mdevkvm.fuzz=, make fuzz FUZZ=...). Each
 * subject runs the same seed, up to the step budget or the time budget.
 * A failure prints the seed, the step, the last FZ_RING operations and
 * the options that replay it; the sequence depends only on the seed and
 * the kernel's answers, so the same seed and steps reach the same step
 * again (the "sequence" fingerprint each subject prints shows it). At the
 * end each subject prints how many steps it ran and which states (open
 * path, VM pinned or linked, GTT loaded or FMB enabled, interrupt) it
 * reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/assert.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"
#include "libmdevkvm/vkt.h"

/* --- options ------------------------------------------------------------ */

#define FZ_SEED			0x6d6b667a2026ULL	/* "mkfz" 2026 */
#define FZ_STEPS		5000
#define FZ_SECONDS		9	/* the whole program: about 1 min */
#define FZ_TIMEOUT_MARGIN	90	/* setup, the end checks, teardown */

struct fz_opts {
	unsigned long long seed;
	unsigned long steps;
	unsigned long seconds;
	char bad[64];		/* the option not understood, if any */
};

static void fz_opts_parse(struct fz_opts *o)
{
	const char *env = getenv("MDEV_KVM_FUZZ");
	char buf[256], *tok, *save, *val, *end;
	unsigned long long v;

	*o = (struct fz_opts){ FZ_SEED, FZ_STEPS, FZ_SECONDS };
	if (!env)
		return;
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		val = strchr(tok, '=');
		if (!val)
			goto bad;
		*val++ = '\0';
		errno = 0;
		v = strtoull(val, &end, 0);
		if (errno || end == val || *end)
			goto bad;
		if (!strcmp(tok, "seed"))
			o->seed = v;
		else if (!strcmp(tok, "steps") && v)
			o->steps = v;
		else if (!strcmp(tok, "seconds") && v && v < 100000)
			o->seconds = v;
		else
			goto bad;
	}
	return;
bad:
	snprintf(o->bad, sizeof(o->bad), "%s", tok);
}

/* The harness's limit for one subject: its time budget and a margin. */
static int fz_timeout(void)
{
	struct fz_opts o;

	fz_opts_parse(&o);
	return o.seconds + FZ_TIMEOUT_MARGIN;
}

/* --- the devices -------------------------------------------------------- */

enum fz_kind { FZ_VKT, FZ_MVGPU, FZ_MZDEV, FZ_MCOUNTER };

#define CFG_SIZE		256
#define BAR0_SIZE		4096
#define NUM_REGIONS		9	/* VFIO_PCI_NUM_REGIONS */
#define NUM_IRQS		5	/* VFIO_PCI_NUM_IRQS */
#define INTX			VFIO_PCI_INTX_IRQ_INDEX
#define MSI			VFIO_PCI_MSI_IRQ_INDEX

/* mvgpu (mdev-samples/mvgpu.c), type small */
#define MVGPU_ID		0x4d564750
#define MVGPU_REG_STATUS	0x04
#define MVGPU_REG_DOORBELL	0x08
#define MVGPU_REG_IRQ_STATUS	0x0c
#define MVGPU_REG_IRQ_ENABLE	0x10
#define MVGPU_REG_DOORBELLS	0x14
#define MVGPU_REG_GTT_BASE_LO	0x18
#define MVGPU_REG_GTT_BASE_HI	0x1c
#define MVGPU_REG_GTT_ENTRIES	0x20
#define MVGPU_REG_GTT_CTRL	0x24
#define MVGPU_REG_GTT_WRITES	0x28
#define MVGPU_REG_GTT_SHADOW	0x100
#define MVGPU_STATUS_VM		0x1
#define MVGPU_STATUS_GTT	0x2
#define MVGPU_STATUS_GTT_ERROR	0x4
#define MVGPU_IRQ_DOORBELL	0x1
#define MVGPU_IRQ_GTT_WRITE	0x2
#define MVGPU_GTT_LOAD		1
#define MVGPU_GTT_UNLOAD	2
#define MVGPU_SHADOW_ENTRIES	((BAR0_SIZE - MVGPU_REG_GTT_SHADOW) / 8)
#define MVGPU_TYPE_ENTRIES	64		/* mvgpu-small */
#define MVGPU_AP_SIZE		(4u << 20)	/* mvgpu-small */
#define MVGPU_AP_PAGES		(MVGPU_AP_SIZE / 4096)

/* mzdev (mdev-samples/mzdev.c), type c4 */
#define MZDEV_ID		0x4d5a4456
#define MZDEV_REG_STATUS	0x04
#define MZDEV_REG_DOORBELL	0x08
#define MZDEV_REG_FMB_LO	0x10
#define MZDEV_REG_FMB_HI	0x14
#define MZDEV_REG_FMB_CTRL	0x18
#define MZDEV_REG_NR_COUNTERS	0x1c
#define MZDEV_REG_UID		0x20
#define MZDEV_REG_COUNTERS	0x100
#define MZDEV_STATUS_VM		0x1
#define MZDEV_STATUS_FMB_ERROR	0x2
#define MZDEV_COUNTERS		4		/* mzdev-c4 */
#define MZDEV_FMB_LEN		(8 + 8 * MZDEV_COUNTERS)

/* mcounter (mdev-samples/mcounter.c) */
#define MCOUNTER_REG_COUNT	0x00
#define MCOUNTER_REG_DOORBELL	0x04

/* --- guest memory ------------------------------------------------------- */

/*
 * One host buffer is the RAM of every VM: slot 0 at GPA 0, slot 1 at
 * 0x5000 or, moved, at 0x15000. The device's DMA space maps it at IOVA
 * = GPA in three chunks, each mapped or not, writable or not, in the
 * container (group path) and in the IOAS (cdev path).
 */
#define MEM_SIZE		0x10000
#define SLOT0_SIZE		0x5000
#define SLOT1_HOST		0x5000
#define SLOT1_SIZE		0xb000
#define SLOT1_BASE		0x5000
#define SLOT1_MOVED		0x15000
#define GUEST_CODE		0x1000
#define GUEST_CODE_LEN		16
#define FZ_MAX_VCPUS		64	/* per VM */

static const struct {
	__u64 iova;
	__u32 host;
	__u32 size;
} fz_chunk[] = {
	{ 0x0, 0x0, 0x8000 },
	{ 0x8000, 0x8000, 0x8000 },
	{ SLOT1_MOVED, SLOT1_HOST, SLOT1_SIZE },
};

#define FZ_NCHUNKS		ARRAY_SIZE(fz_chunk)
/* DMA spaces: the container, and two IOASes a cdev can be attached to. */
#define FZ_DOM_GROUP		0
#define FZ_DOM_IOAS		1
#define FZ_NDOMS		3
#define FZ_UNMAPPED		0
#define FZ_MAPPED_RO		1
#define FZ_MAPPED_RW		2

/* --- the model ---------------------------------------------------------- */

/* The files: the group, two device fds of the group path, two cdevs. */
enum { FG, FGD0, FGD1, FC0, FC1, FZ_NFILES };
/* FILE_ADD/DEL targets that are not one of the files. */
#define FZ_T_NOT_VFIO		FZ_NFILES	/* an fd that is no VFIO file */
#define FZ_T_BAD_FD		(FZ_NFILES + 1)	/* an fd that is not open */

static const char *const fz_file_name[] = {
	"group", "gdev0", "gdev1", "cdev0", "cdev1", "not-vfio", "bad-fd",
};

#define FZ_VM_SLOTS		2

struct fz_file {
	int fd;			/* ours, or -1 */
	bool live;		/* the struct file exists */
	unsigned int kv;	/* bit per VM slot: its kvm-vfio holds it */
	/* per VM slot: when it was added there (fz->adds) */
	unsigned long added[FZ_VM_SLOTS];
	bool granted;		/* device access: a gdev, a bound cdev */
	bool mapped;		/* the BAR2 mmap holds it */
};

#define FZ_MAX_VMS		192

struct fz_vm {
	char name[32];		/* KVM's debugfs name, "<pid>-<fd>" */
	int fd, kv;		/* -1 once closed */
	int slot;		/* FZ_VM_SLOTS index while open, or -1 */
	bool alive;		/* the model's */
	bool seen_dead;		/* dead in the model and in KVM */
	bool slot0, slot1;	/* memslots present */
	__u64 slot1_base;
	__u32 flags[2];		/* the memslots' (dirty logging) */
	unsigned int vcpus;
};

enum fz_path { FZ_CLOSED, FZ_GROUP, FZ_CDEV };

/* The group in a container: none, set without an IOMMU, ready. */
enum { FZ_CTR_NONE, FZ_CTR_SET, FZ_CTR_IOMMU };

struct fz_mvgpu {
	__u32 irq_status, irq_enable, doorbells, entries, writes;
	__u64 base;		/* GTT_BASE, the registers */
	bool error;
	bool loaded;
	__u64 lbase;		/* the latched table; lbase outlives it */
	__u32 lentries;		/* 0 unless loaded */
	__u64 gfn[2];
	unsigned int tracked;	/* bit i: gfn[i] write-tracked */
	__u32 notified;
	__u64 shadow[MVGPU_SHADOW_ENTRIES];
	int irq_index;		/* -1, INTX or MSI */
	int trigger;		/* our eventfd 0 or 1, or -1 */
	bool masked;
	__u8 *ap;		/* BAR2, MVGPU_AP_SIZE */
	bool host_dirty;	/* the table's memory changed unseen */
};

struct fz_mzdev {
	__u64 fmb_addr;
	__u32 fmb_ctrl, sequence;
	bool fmb_error;
	__u64 counters[MZDEV_COUNTERS];
	int msi;
	__u32 uid;
};

struct fz_mcounter {
	__u32 count;
	int msi;
};

struct fz_vkt {
	long gets, puts, opens, closes;
	char at_open[32];
};

#define FZ_RING			20
#define FZ_LINE			200
#define FZ_STATES		(3 * 2 * 2 * 3)

struct fz {
	struct __test_metadata *md;
	const struct mk_subject *s;
	enum fz_kind kind;
	struct fz_opts o;
	unsigned long long rng;
	char uuid[MDEV_UUID_LEN];
	char test[128];		/* what T= names */
	char group_path[64], cdev_path[64], sysfs[MDEV_PATH_LEN];
	char prefix[16];	/* "<pid>-": this process's VMs */

	/* what the steps use */
	int kvm;		/* /dev/kvm */
	int container;		/* with the group fd */
	int iommufd;
	__u32 ioas[2];
	int efd[2];
	int null_fd;		/* no VFIO file, no eventfd */
	int bad_fd;		/* a number no fd has */
	__u8 *mem;		/* guest memory */
	__u8 *mmem;		/* what the model says it holds */
	__u8 *map;		/* the BAR2 mmap, or NULL */
	size_t map_len;
	__u64 map_pgoff;
	int map_file;
	pid_t child;

	/* the model */
	struct fz_file f[FZ_NFILES];
	struct fz_vm vm[FZ_MAX_VMS];
	int nvms;
	int slot_vm[FZ_VM_SLOTS];	/* open VM record per slot, or -1 */
	unsigned long adds;		/* FILE_ADDs that succeeded */
	__u8 dma[FZ_NDOMS][FZ_NCHUNKS];
	int ctr;		/* the group's container: FZ_CTR_* */
	int cdev_ioas;		/* the bound cdev's IOAS, or -1: detached */
	enum fz_path path;
	int pin;		/* the VM record pinned, or -1 */
	bool linked;		/* the opening file was linked to a VM */
	__u8 cfg[CFG_SIZE];
	struct fz_mvgpu mg;
	struct fz_mzdev mz;
	struct fz_mcounter mc;
	struct fz_vkt vk;
	__u64 efd_expect[2];	/* signals not read yet */

	/* the run */
	unsigned long step;
	char ring[FZ_RING][FZ_LINE];
	unsigned long nlog;
	char *cur;		/* the operation being done */
	bool ending;		/* after the last step */
	bool lifecycle;		/* the step opened or closed something */
	unsigned long long states;	/* bit per state tuple reached */
	__u64 fingerprint;	/* of the operations and their results */
	unsigned long ops, refused, loads, lost, stores, tracked_stores;
	unsigned long kills, moves, dma_writes;
	/* VM fds closed alone; opens refused for a closed VM (-ENOENT) */
	unsigned long vm_fds_closed, enoents;
};

static struct fz *fz_active;	/* for the exit handler */
static bool fz_in_child;

/* --- the PRNG: splitmix64, one stream per run --------------------------- */

static __u64 fz_rand(struct fz *fz)
{
	__u64 z = (fz->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 fz_below(struct fz *fz, __u32 n)
{
	return n ? fz_rand(fz) % n : 0;
}

static bool fz_chance(struct fz *fz, unsigned int percent)
{
	return fz_below(fz, 100) < percent;
}

#define FZ_PICK(fz, a)	((a)[fz_below(fz, ARRAY_SIZE(a))])

static void fz_fill(struct fz *fz, void *buf, size_t len)
{
	__u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = fz_rand(fz);
}

/* --- the log, failures -------------------------------------------------- */

static const char *fz_err(long ret, char *buf, size_t size)
{
	const char *name;

	if (ret >= 0) {
		snprintf(buf, size, "%ld", ret);
		return buf;
	}
	name = strerrorname_np(-ret);
	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "errno %ld", -ret);
	return buf;
}

/* Starts the log line of one operation of the current step. */
static void __printf(2, 3) fz_log(struct fz *fz, const char *fmt, ...)
{
	char *line = fz->ring[fz->nlog++ % FZ_RING];
	va_list ap;
	int n;

	if (fz->ending)
		n = snprintf(line, FZ_LINE, "#end ");
	else
		n = snprintf(line, FZ_LINE, "#%lu ", fz->step);
	va_start(ap, fmt);
	vsnprintf(line + n, FZ_LINE - n, fmt, ap);
	va_end(ap);
	fz->cur = line;
}

/* Ends it with the result. */
static void fz_logret(struct fz *fz, long ret)
{
	size_t n = strlen(fz->cur);
	char e[32];

	snprintf(fz->cur + n, FZ_LINE - n, " -> %s",
		 fz_err(ret, e, sizeof(e)));
	/* FNV-1a of the step numbers and results: no pid, no VM name. */
	fz->fingerprint = (fz->fingerprint ^ (fz->step << 32 ^ (__u32)ret)) *
			  0x100000001b3ULL;
	fz->ops++;
	if (ret < 0)
		fz->refused++;
}

static void fz_print_ring(struct fz *fz)
{
	unsigned long i = fz->nlog > FZ_RING ? fz->nlog - FZ_RING : 0;

	printf("# fuzz: %s: the last %lu operations, oldest first:\n",
	       fz->s->name, fz->nlog - i);
	for (; i < fz->nlog; i++)
		printf("# fuzz:   %s\n", fz->ring[i % FZ_RING]);
	/* MDEV_KVM_FUZZ in the guest, which make fuzz passes on. */
	printf("# fuzz: replay: make fuzz FUZZ=seed=%#llx,steps=%lu T=%s\n",
	       fz->o.seed, fz->step, fz->test);
}

static void fz_release(struct fz *fz);

static void __printf(2, 3) __noreturn
fz_fail(struct fz *fz, const char *fmt, ...)
{
	struct __test_metadata *_metadata = fz->md;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# fuzz: %s: FAIL at %s %lu (seed %#llx): %s\n",
	       fz->s->name, fz->ending ? "the end, after step" : "step",
	       fz->step, fz->o.seed, msg);
	fz_print_ring(fz);
	fflush(stdout);
	fz_active = NULL;
	fz_release(fz);
	/* The harness's own failure, so that the teardown runs. */
	ASSERT_TRUE(false) TH_LOG("the kernel and the model disagree");
	abort();
}

/* A library assertion ends the process: say where the fuzzer was. */
static void fz_atexit(void)
{
	struct fz *fz = fz_active;

	if (!fz || fz_in_child)
		return;
	fz_active = NULL;
	printf("# fuzz: %s: exited in step %lu (seed %#llx)\n",
	       fz->s->name, fz->step, fz->o.seed);
	fz_print_ring(fz);
	fz_release(fz);
	__mdev_remove(fz->uuid);
}

#define FZ_EXPECT(fz, got, want) do {					\
	long __g = (got), __w = (want);					\
	char __e1[32], __e2[32];					\
	if (__g != __w)							\
		fz_fail(fz, "%s: %s returned %s, the model says %s",	\
			(fz)->cur, #got, fz_err(__g, __e1, 32),		\
			fz_err(__w, __e2, 32));				\
} while (0)

#define FZ_CHECK(fz, cond, fmt, ...) do {				\
	if (!(cond))							\
		fz_fail(fz, "%s: " fmt, #cond, ##__VA_ARGS__);		\
} while (0)

/* --- model helpers ------------------------------------------------------ */

static long fz_sys(long ret)
{
	return ret < 0 ? -errno : ret;
}

static struct fz_vm *fz_slot_vm(struct fz *fz, int slot)
{
	return fz->slot_vm[slot] < 0 ? NULL : &fz->vm[fz->slot_vm[slot]];
}

/* The host offset of guest-physical @gpa in VM @v, or -1. */
static long fz_gpa_host(const struct fz_vm *v, __u64 gpa)
{
	if (v->slot0 && gpa < SLOT0_SIZE)
		return gpa;
	if (v->slot1 && gpa >= v->slot1_base &&
	    gpa < v->slot1_base + SLOT1_SIZE)
		return gpa - v->slot1_base + SLOT1_HOST;
	return -1;
}

/* The DMA space of the open device, or -1 (a detached cdev). */
static int fz_dom(struct fz *fz)
{
	if (fz->path == FZ_GROUP)
		return FZ_DOM_GROUP;
	return fz->cdev_ioas < 0 ? -1 : FZ_DOM_IOAS + fz->cdev_ioas;
}

/*
 * Can the device's DMA reach [iova, iova + len), for writing or reading?
 * Fills @host with the host offset of each byte's chunk start.
 */
static bool fz_dma_ok(struct fz *fz, __u64 iova, size_t len, bool write)
{
	int dom = fz_dom(fz);
	size_t i, c;

	if (dom < 0)
		return false;
	for (i = 0; i < len; i++) {
		for (c = 0; c < FZ_NCHUNKS; c++)
			if (iova + i >= fz_chunk[c].iova &&
			    iova + i < fz_chunk[c].iova + fz_chunk[c].size)
				break;
		if (c == FZ_NCHUNKS || iova + i < iova)
			return false;
		if (fz->dma[dom][c] == FZ_UNMAPPED ||
		    (write && fz->dma[dom][c] != FZ_MAPPED_RW))
			return false;
	}
	return true;
}

static long fz_iova_host(__u64 iova)
{
	size_t c;

	for (c = 0; c < FZ_NCHUNKS; c++)
		if (iova >= fz_chunk[c].iova &&
		    iova < fz_chunk[c].iova + fz_chunk[c].size)
			return iova - fz_chunk[c].iova + fz_chunk[c].host;
	return -1;
}

static const char *fz_slot_name(int slot)
{
	return slot == 0 ? "vm0" : slot == 1 ? "vm1" : "no VM";
}

static void fz_signal(struct fz *fz, int efd)
{
	if (efd >= 0)
		fz->efd_expect[efd]++;
}

static bool fz_open(struct fz *fz)
{
	return fz->path != FZ_CLOSED;
}

static bool fz_pinned_in(struct fz *fz, int rec)
{
	return fz_open(fz) && fz->pin == rec;
}

/* --- config space ------------------------------------------------------- */

static void fz_put16(__u8 *p, __u16 v)
{
	memcpy(p, &v, 2);
}

static void fz_put32(__u8 *p, __u32 v)
{
	memcpy(p, &v, 4);
}

/* The samples' power-on config space, as their *_config_init() write it. */
static void fz_cfg_init(struct fz *fz)
{
	__u8 *c = fz->cfg;

	memset(c, 0, CFG_SIZE);
	fz_put16(c + 0x00, 0x1b36);
	switch (fz->kind) {
	case FZ_MVGPU:
		fz_put16(c + 0x02, 0x10f0);
		fz_put16(c + 0x06, 0x10);		/* capability list */
		fz_put32(c + 0x08, 0x0380 << 16 | 0x01);
		fz_put32(c + 0x18, 0x0c);		/* 64-bit, prefetch */
		fz_put16(c + 0x2c, 0x1b36);
		fz_put16(c + 0x2e, 0x10f0);
		c[0x34] = 0x40;
		c[0x3d] = 1;				/* INTA */
		c[0x40] = 0x05;				/* MSI */
		fz_put16(c + 0x42, 0x80);		/* 64-bit */
		break;
	case FZ_MZDEV:
		fz_put16(c + 0x02, 0x10f1);
		fz_put16(c + 0x06, 0x10);
		fz_put32(c + 0x08, 0x0880 << 16 | 0x01);
		c[0x34] = 0x40;
		c[0x40] = 0x05;
		fz_put16(c + 0x42, 0x80);
		break;
	case FZ_MCOUNTER:
		fz_put16(c + 0x02, 0x10f2);
		fz_put16(c + 0x06, 0x10);
		fz_put32(c + 0x08, 0x0880 << 16 | 0x01);
		c[0x34] = 0x40;
		c[0x40] = 0x05;
		fz_put16(c + 0x42, 0x80);
		break;
	case FZ_VKT:
		break;
	}
}

/* MSI control, address and data: the user's (QEMU's) to write. */
static bool fz_cfg_msi(__u32 off, __u32 len)
{
	return off >= 0x42 && off + len <= 0x4e;
}

static void fz_cfg_write(struct fz *fz, __u32 off, __u32 val, __u32 len)
{
	__u8 *c = fz->cfg;

	switch (fz->kind) {
	case FZ_MVGPU:
		switch (off) {
		case 0x04:
			if (len == 2 || len == 4)
				fz_put16(c + off, val & 0x406);
			break;
		case 0x10:
			if (len == 4)
				fz_put32(c + off, val & ~0xfffu);
			break;
		case 0x18:
			if (len == 4)
				fz_put32(c + off,
					 (val & ~(MVGPU_AP_SIZE - 1)) | 0x0c);
			break;
		case 0x1c:
			if (len == 4)
				fz_put32(c + off, val);
			break;
		case 0x3c:
			if (len == 1)
				c[off] = val;
			break;
		default:
			if (fz_cfg_msi(off, len))
				memcpy(c + off, &val, len);
			break;
		}
		break;
	case FZ_MZDEV:
		if (off == 0x04 && len == 2)
			fz_put16(c + off, val & 0x6);
		else if (off == 0x10 && len == 4)
			fz_put32(c + off, val & ~0xfffu);
		else if (fz_cfg_msi(off, len))
			memcpy(c + off, &val, len);
		break;
	case FZ_MCOUNTER:
		if (off == 0x10 && len == 4)
			fz_put32(c + off, val & ~0xfffu);
		else if (fz_cfg_msi(off, len))
			memcpy(c + off, &val, len);
		break;
	case FZ_VKT:
		break;
	}
}

/* --- mvgpu: the register state machine of its header comment ------------ */

static void fz_mvgpu_raise(struct fz *fz, __u32 cause)
{
	struct fz_mvgpu *m = &fz->mg;

	m->irq_status |= cause;
	if (!(m->irq_status & m->irq_enable) || m->trigger < 0)
		return;
	if (m->irq_index == INTX) {
		if (m->masked)
			return;
		m->masked = true;
	}
	fz_signal(fz, m->trigger);
}

static void fz_mvgpu_irq_disable(struct fz *fz)
{
	fz->mg.trigger = -1;
	fz->mg.irq_index = -1;
	fz->mg.masked = false;
}

/* IDLE: nothing tracked, nothing latched, the shadow reads 0. */
static void fz_mvgpu_unload(struct fz *fz)
{
	fz->mg.tracked = 0;
	fz->mg.lentries = 0;
	fz->mg.loaded = false;
	memset(fz->mg.shadow, 0, sizeof(fz->mg.shadow));
}

/*
 * LOAD: latch the table, protect its pages, then read it as DMA; true if
 * it failed (the latched base stays for debugfs to show).
 */
static bool fz_mvgpu_load(struct fz *fz)
{
	struct fz_mvgpu *m = &fz->mg;
	__u64 len = (__u64)m->entries * 8, first, last, i;
	struct fz_vm *v = &fz->vm[fz->pin];
	long host;

	fz_mvgpu_unload(fz);
	if (!m->entries || m->entries > MVGPU_TYPE_ENTRIES || m->base & 7 ||
	    m->base + len < m->base)
		return true;
	m->lbase = m->base;
	first = m->base >> 12;
	last = (m->base + len - 1) >> 12;
	for (i = 0; i <= last - first; i++) {
		m->gfn[i] = first + i;
		/* KVM tracks only pages of a memslot of the pinned VM. */
		if (fz_gpa_host(v, m->gfn[i] << 12) < 0)
			goto err;
		m->tracked |= 1u << i;
	}
	if (!fz_dma_ok(fz, m->base, len, false))
		goto err;
	for (i = 0; i < len; i++) {
		host = fz_iova_host(m->base + i);
		((__u8 *)m->shadow)[i] = fz->mmem[host];
	}
	m->loaded = true;
	m->lentries = m->entries;
	m->host_dirty = false;
	fz->loads++;
	return false;
err:
	fz_mvgpu_unload(fz);
	return true;
}

static void fz_mvgpu_reset(struct fz *fz)
{
	struct fz_mvgpu *m = &fz->mg;

	memset(m->ap, 0, MVGPU_AP_SIZE);
	fz_mvgpu_unload(fz);
	fz_mvgpu_irq_disable(fz);
	fz_cfg_init(fz);
	m->irq_status = 0;
	m->irq_enable = 0;
	m->doorbells = 0;
	m->base = 0;
	m->entries = 0;
	m->writes = 0;
	m->error = false;
	m->notified = 0;
}

static __u32 fz_mvgpu_reg_read(struct fz *fz, __u32 off)
{
	struct fz_mvgpu *m = &fz->mg;

	if (off >= MVGPU_REG_GTT_SHADOW)
		return ((__u32 *)m->shadow)[(off - MVGPU_REG_GTT_SHADOW) / 4];
	switch (off) {
	case 0x00:
		return MVGPU_ID;
	case MVGPU_REG_STATUS:
		return MVGPU_STATUS_VM |
		       (m->loaded ? MVGPU_STATUS_GTT : 0) |
		       (m->error ? MVGPU_STATUS_GTT_ERROR : 0);
	case MVGPU_REG_IRQ_STATUS:
		return m->irq_status;
	case MVGPU_REG_IRQ_ENABLE:
		return m->irq_enable;
	case MVGPU_REG_DOORBELLS:
		return m->doorbells;
	case MVGPU_REG_GTT_BASE_LO:
		return (__u32)m->base;
	case MVGPU_REG_GTT_BASE_HI:
		return m->base >> 32;
	case MVGPU_REG_GTT_ENTRIES:
		return m->entries;
	case MVGPU_REG_GTT_WRITES:
		return m->writes;
	}
	return 0;
}

static void fz_mvgpu_reg_write(struct fz *fz, __u32 off, __u32 val)
{
	struct fz_mvgpu *m = &fz->mg;

	switch (off) {
	case MVGPU_REG_DOORBELL:
		m->doorbells++;
		fz_mvgpu_raise(fz, MVGPU_IRQ_DOORBELL);
		break;
	case MVGPU_REG_IRQ_STATUS:
		m->irq_status &= ~val;
		break;
	case MVGPU_REG_IRQ_ENABLE:
		m->irq_enable = val & (MVGPU_IRQ_DOORBELL |
				       MVGPU_IRQ_GTT_WRITE);
		break;
	/* Read-only while LOADED. */
	case MVGPU_REG_GTT_BASE_LO:
		if (!m->loaded)
			m->base = (m->base & ~0xffffffffULL) | val;
		break;
	case MVGPU_REG_GTT_BASE_HI:
		if (!m->loaded)
			m->base = (m->base & 0xffffffffULL) |
				  (__u64)val << 32;
		break;
	case MVGPU_REG_GTT_ENTRIES:
		if (!m->loaded)
			m->entries = val;
		break;
	case MVGPU_REG_GTT_CTRL:
		if (val == MVGPU_GTT_LOAD) {
			m->error = fz_mvgpu_load(fz);
		} else if (val == MVGPU_GTT_UNLOAD) {
			fz_mvgpu_unload(fz);
			m->error = false;
		}
		break;
	}
}

/* KVM reports a vCPU's write to a page someone write-protects. */
static void fz_mvgpu_track_write(struct fz *fz, __u64 gpa, __u32 val)
{
	struct fz_mvgpu *m = &fz->mg;
	__u64 end = m->lbase + (__u64)m->lentries * 8;

	m->notified++;
	if (!m->loaded || gpa + 4 <= m->lbase || gpa >= end)
		return;
	/* 4-byte stores at 4-aligned addresses, tables 8-aligned. */
	memcpy((__u8 *)m->shadow + (gpa - m->lbase), &val, 4);
	m->writes++;
	fz_mvgpu_raise(fz, MVGPU_IRQ_GTT_WRITE);
}

static bool fz_mvgpu_tracks(struct fz *fz, __u64 gfn)
{
	int i;

	for (i = 0; i < 2; i++)
		if ((fz->mg.tracked & (1u << i)) && fz->mg.gfn[i] == gfn)
			return true;
	return false;
}

/* A memslot of the pinned VM is deleted: KVM drops its tracking. */
static void fz_mvgpu_remove_region(struct fz *fz, __u64 gpa, __u64 size)
{
	struct fz_mvgpu *m = &fz->mg;
	bool lost = false;
	int i;

	for (i = 0; i < 2; i++) {
		if ((m->tracked & (1u << i)) && m->gfn[i] >= gpa >> 12 &&
		    m->gfn[i] < (gpa + size) >> 12) {
			m->tracked &= ~(1u << i);
			lost = true;
		}
	}
	if (!lost)
		return;
	fz_mvgpu_unload(fz);
	m->error = true;
	fz->lost++;
}

/* --- mzdev -------------------------------------------------------------- */

static void fz_mzdev_reset(struct fz *fz)
{
	struct fz_mzdev *z = &fz->mz;

	z->msi = -1;
	fz_cfg_init(fz);
	z->fmb_addr = 0;
	z->fmb_ctrl = 0;
	z->sequence = 0;
	z->fmb_error = false;
	memset(z->counters, 0, sizeof(z->counters));
}

static __u32 fz_mzdev_reg_read(struct fz *fz, __u32 off)
{
	struct fz_mzdev *z = &fz->mz;

	if (off >= MZDEV_REG_COUNTERS &&
	    off < MZDEV_REG_COUNTERS + MZDEV_COUNTERS * 8)
		return ((__u32 *)z->counters)[(off - MZDEV_REG_COUNTERS) / 4];
	switch (off) {
	case 0x00:
		return MZDEV_ID;
	case MZDEV_REG_STATUS:
		return (fz->pin >= 0 ? MZDEV_STATUS_VM : 0) |
		       (z->fmb_error ? MZDEV_STATUS_FMB_ERROR : 0);
	case MZDEV_REG_FMB_LO:
		return (__u32)z->fmb_addr;
	case MZDEV_REG_FMB_HI:
		return z->fmb_addr >> 32;
	case MZDEV_REG_FMB_CTRL:
		return z->fmb_ctrl;
	case MZDEV_REG_NR_COUNTERS:
		return MZDEV_COUNTERS;
	case MZDEV_REG_UID:
		return z->uid;
	}
	return 0;
}

/* The block a doorbell writes, as DMA, at the latched address. */
static bool fz_mzdev_fmb_update(struct fz *fz)
{
	struct fz_mzdev *z = &fz->mz;
	__u8 fmb[MZDEV_FMB_LEN];
	__u32 format = 1;
	int i;

	if (!fz_dma_ok(fz, z->fmb_addr, sizeof(fmb), true))
		return true;
	memcpy(fmb, &format, 4);
	memcpy(fmb + 4, &z->sequence, 4);
	memcpy(fmb + 8, z->counters, sizeof(z->counters));
	for (i = 0; i < MZDEV_FMB_LEN; i++)
		fz->mmem[fz_iova_host(z->fmb_addr + i)] = fmb[i];
	fz->dma_writes++;
	return false;
}

static void fz_mzdev_reg_write(struct fz *fz, __u32 off, __u32 val)
{
	struct fz_mzdev *z = &fz->mz;
	__u64 n;
	int i;

	switch (off) {
	case MZDEV_REG_DOORBELL:
		n = ++z->counters[0];
		for (i = 1; i < MZDEV_COUNTERS; i++)
			if (!(n & ((1ULL << i) - 1)))
				z->counters[i]++;
		z->sequence++;
		if (z->fmb_ctrl)
			z->fmb_error = fz_mzdev_fmb_update(fz);
		fz_signal(fz, z->msi);
		break;
	/* Read-only while the FMB is enabled. */
	case MZDEV_REG_FMB_LO:
		if (!z->fmb_ctrl)
			z->fmb_addr = (z->fmb_addr & ~0xffffffffULL) | val;
		break;
	case MZDEV_REG_FMB_HI:
		if (!z->fmb_ctrl)
			z->fmb_addr = (z->fmb_addr & 0xffffffffULL) |
				      (__u64)val << 32;
		break;
	case MZDEV_REG_FMB_CTRL:
		/* 1 while enabled changes nothing. */
		if (!(val & 1)) {
			z->fmb_ctrl = 0;
			z->fmb_error = false;
		} else if (!z->fmb_ctrl) {
			z->fmb_error = z->fmb_addr & 7 ||
				(z->fmb_addr & 0xfff) + MZDEV_FMB_LEN > 4096;
			z->fmb_ctrl = !z->fmb_error;
		}
		break;
	}
}

/* --- the device as a whole ---------------------------------------------- */

/* What the sample's region handler does with one 1-, 2- or 4-byte access. */
static long fz_model_access(struct fz *fz, __u32 index, __u64 off,
			    __u8 *buf, __u32 n, bool write)
{
	__u32 val = 0;

	if (n != 1 && n != 2 && n != 4)
		return -EINVAL;
	if (write)
		memcpy(&val, buf, n);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (off + n > CFG_SIZE)
			return -EINVAL;
		if (write)
			fz_cfg_write(fz, off, val, n);
		else
			memcpy(buf, fz->cfg + off, n);
		return n;
	}
	if (index != VFIO_PCI_BAR0_REGION_INDEX || n != 4 || off >= BAR0_SIZE)
		return -EINVAL;
	switch (fz->kind) {
	case FZ_MVGPU:
		if (write)
			fz_mvgpu_reg_write(fz, off, val);
		else
			val = fz_mvgpu_reg_read(fz, off);
		break;
	case FZ_MZDEV:
		if (write)
			fz_mzdev_reg_write(fz, off, val);
		else
			val = fz_mzdev_reg_read(fz, off);
		break;
	case FZ_MCOUNTER:
		if (write && off == MCOUNTER_REG_DOORBELL) {
			fz->mc.count++;
			fz_signal(fz, fz->mc.msi);
		} else if (!write && off == MCOUNTER_REG_COUNT) {
			val = fz->mc.count;
		}
		break;
	case FZ_VKT:
		return -EINVAL;
	}
	if (!write)
		memcpy(buf, &val, 4);
	return 4;
}

/*
 * A read or write of a region of the open device, split as the samples
 * split it: naturally aligned 4, 2 or 1 bytes; a failure after the first
 * access is a short count. BAR2 of mvgpu is memory, any size.
 */
static long fz_model_rw(struct fz *fz, __u32 index, __u64 off, __u8 *buf,
			size_t len, bool write)
{
	size_t done = 0, n;
	long ret;

	if (fz->kind == FZ_VKT)
		return -EINVAL;	/* no read or write op: the core refuses */
	if (fz->kind == FZ_MVGPU && index == VFIO_PCI_BAR2_REGION_INDEX) {
		if (off >= MVGPU_AP_SIZE || len > MVGPU_AP_SIZE - off)
			return -EINVAL;
		if (write)
			memcpy(fz->mg.ap + off, buf, len);
		else
			memcpy(buf, fz->mg.ap + off, len);
		return len;
	}
	while (done < len) {
		n = len - done;
		if (n >= 4 && !((off + done) & 3))
			n = 4;
		else if (n >= 2 && !((off + done) & 1))
			n = 2;
		else
			n = 1;
		ret = fz_model_access(fz, index, off + done, buf + done, n,
				      write);
		if (ret < 0)
			return done ? (long)done : ret;
		done += n;
	}
	return done;
}

static void fz_vm_update(struct fz *fz, int rec)
{
	struct fz_vm *v = &fz->vm[rec];

	v->alive = v->fd >= 0 || v->kv >= 0 || fz_pinned_in(fz, rec);
}

static void fz_vm_name(const struct fz *fz, int rec, char *buf, size_t size)
{
	snprintf(buf, size, "%s", rec < 0 ? "none" : fz->vm[rec].name);
}

/* The first open: the core pins the VM of the opening file, or none. */
static void fz_dev_open(struct fz *fz, enum fz_path path, int link)
{
	int rec = link < 0 ? -1 : fz->slot_vm[link];

	fz->path = path;
	fz->linked = rec >= 0;
	fz->pin = fz->s->pins ? rec : -1;
	switch (fz->kind) {
	case FZ_MZDEV:
		fz_mzdev_reset(fz);
		break;
	case FZ_VKT:
		if (fz->pin >= 0)
			fz->vk.gets++;
		fz->vk.opens++;
		fz_vm_name(fz, fz->pin, fz->vk.at_open,
			   sizeof(fz->vk.at_open));
		break;
	default:
		break;
	}
}

/* The last close: the driver resets, then the core unpins. */
static void fz_dev_close(struct fz *fz)
{
	int pin = fz->pin;

	switch (fz->kind) {
	case FZ_MVGPU:
		fz_mvgpu_reset(fz);
		break;
	case FZ_MZDEV:
		fz_mzdev_reset(fz);
		break;
	case FZ_MCOUNTER:
		fz->mc.msi = -1;
		fz->mc.count = 0;
		break;
	case FZ_VKT:
		fz->vk.closes++;
		if (pin >= 0)
			fz->vk.puts++;
		break;
	}
	fz->path = FZ_CLOSED;
	fz->pin = -1;
	fz->linked = false;
	if (pin >= 0)
		fz_vm_update(fz, pin);
}

static bool fz_file_held(struct fz *fz, int i)
{
	const struct fz_file *f = &fz->f[i];

	if (f->fd >= 0 || f->kv || f->mapped)
		return true;
	/* An open device holds its group file (vfio_group_use_container). */
	return i == FG && (fz->f[FGD0].live || fz->f[FGD1].live);
}

static void fz_file_release(struct fz *fz, int i)
{
	struct fz_file *f = &fz->f[i];
	bool granted = f->granted;

	*f = (struct fz_file){ .fd = -1 };
	if (i == FG) {
		/* The container loses its last group, and its mappings. */
		memset(fz->dma[FZ_DOM_GROUP], 0, FZ_NCHUNKS);
		fz->ctr = FZ_CTR_NONE;
	} else if (i == FGD0 || i == FGD1) {
		if (!fz->f[FGD0].live && !fz->f[FGD1].live)
			fz_dev_close(fz);
	} else if (granted) {
		fz_dev_close(fz);
	}
}

/* Releases every file nothing holds, and what that releases in turn. */
static void fz_settle(struct fz *fz)
{
	bool again = true;
	int i;

	fz->lifecycle = true;
	while (again) {
		again = false;
		for (i = 0; i < FZ_NFILES; i++) {
			if (!fz->f[i].live || fz_file_held(fz, i))
				continue;
			fz_file_release(fz, i);
			again = true;
		}
	}
}

static bool fz_cdev_bound(struct fz *fz)
{
	return (fz->f[FC0].live && fz->f[FC0].granted) ||
	       (fz->f[FC1].live && fz->f[FC1].granted);
}

/* An fd of ours with device access, or -1. */
static int fz_granted_file(struct fz *fz)
{
	int i;

	for (i = FGD0; i < FZ_NFILES; i++)
		if (fz->f[i].fd >= 0 && fz->f[i].granted)
			return i;
	return -1;
}

/* An fd of ours a device operation goes to: mostly one with access. */
static int fz_pick_dev_file(struct fz *fz)
{
	int i, n = 0, all[FZ_NFILES], g = fz_granted_file(fz);

	if (g >= 0 && fz_chance(fz, 92))
		return g;
	for (i = FGD0; i < FZ_NFILES; i++)
		if (fz->f[i].fd >= 0)
			all[n++] = i;
	return n ? all[fz_below(fz, n)] : -1;
}

/* --- operations: VMs, memslots, vCPUs, guest memory --------------------- */

static void fz_memslot_set(struct fz *fz, struct fz_vm *v, __u32 slot,
			   __u64 gpa, __u64 size, long want)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = size ? v->flags[slot] : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (__u64)(unsigned long)
			(fz->mem + (slot ? SLOT1_HOST : 0)),
	};

	FZ_EXPECT(fz, fz_sys(ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r)),
		  want);
}

static void fz_op_vm_create(struct fz *fz, int slot)
{
	int hold[16], n = 0, fd, vm, i, rec;
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	struct fz_vm *v;
	char name[32];

	fz->lifecycle = true;
	/* A record of a VM that is gone, or a new one. */
	for (rec = 0; rec < fz->nvms; rec++)
		if (fz->vm[rec].seen_dead)
			break;
	if (rec == FZ_MAX_VMS)
		fz_fail(fz, "more than %d VMs alive", FZ_MAX_VMS);
	/*
	 * KVM names a VM after its fd in its debugfs directory. Keep the
	 * numbers of VMs that still live (pinned, their fds closed) busy,
	 * so that every VM has a name of its own to look for.
	 */
	for (;;) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		FZ_CHECK(fz, fd >= 0, "open /dev/null");
		snprintf(name, sizeof(name), "%s%d", fz->prefix, fd);
		if (!kvm_vm_alive(name) || n == ARRAY_SIZE(hold)) {
			close(fd);
			break;
		}
		hold[n++] = fd;
	}
	fz_log(fz, "vm%d create", slot);
	vm = ioctl(fz->kvm, KVM_CREATE_VM, 0);
	for (i = 0; i < n; i++)
		close(hold[i]);
	fz_logret(fz, fz_sys(vm));
	FZ_CHECK(fz, vm >= 0, "KVM_CREATE_VM: %s", strerror(errno));
	v = &fz->vm[rec];
	*v = (struct fz_vm){ .fd = vm, .kv = -1, .slot = slot,
			     .slot1_base = SLOT1_BASE };
	snprintf(v->name, sizeof(v->name), "%s%d", fz->prefix, vm);
	FZ_CHECK(fz, kvm_vm_alive(v->name), "no KVM debugfs for %s", v->name);
	FZ_EXPECT(fz, fz_sys(ioctl(vm, KVM_CREATE_DEVICE, &cd)), 0);
	v->kv = cd.fd;
	fz->slot_vm[slot] = rec;
	if (rec == fz->nvms)
		fz->nvms++;
	fz_vm_update(fz, rec);

	fz_log(fz, "vm%d (%s) memslot 0 at 0", slot, v->name);
	fz_memslot_set(fz, v, 0, 0, SLOT0_SIZE, 0);
	fz_logret(fz, 0);
	v->slot0 = true;
	if (fz_chance(fz, 80)) {
		fz_log(fz, "vm%d memslot 1 at %#x", slot, SLOT1_BASE);
		fz_memslot_set(fz, v, 1, SLOT1_BASE, SLOT1_SIZE, 0);
		fz_logret(fz, 0);
		v->slot1 = true;
	}
}

/*
 * The VMM closes the VM's fd only and keeps its kvm-vfio device, which
 * still holds the files it was given and the struct kvm: the VM lives
 * on, but its file is gone (or held only by a device that pins it), and
 * no first open from now on gets this VM.
 */
static void fz_op_vm_fd_close(struct fz *fz, int slot)
{
	int rec = fz->slot_vm[slot];
	struct fz_vm *v = &fz->vm[rec];

	fz_log(fz, "vm%d (%s) close the VM fd only", slot, v->name);
	fz->vm_fds_closed++;
	FZ_EXPECT(fz, fz_sys(close(v->fd)), 0);
	fz_logret(fz, 0);
	v->fd = -1;
	fz_vm_update(fz, rec);
}

/* Closes the VM's kvm-vfio device, then its fd: what the VMM's exit does. */
static void fz_op_vm_close(struct fz *fz, int slot)
{
	int rec = fz->slot_vm[slot], i;
	struct fz_vm *v = &fz->vm[rec];

	fz_log(fz, "vm%d (%s) close: kvm-vfio, then the VM fd%s", slot,
	       v->name, v->fd < 0 ? " (closed already)" : "");
	FZ_EXPECT(fz, fz_sys(close(v->kv)), 0);
	v->kv = -1;
	/* kvm_vfio_release(): every file unlinked and put. */
	for (i = 0; i < FZ_NFILES; i++)
		fz->f[i].kv &= ~(1u << slot);
	fz_settle(fz);
	if (v->fd >= 0)
		FZ_EXPECT(fz, fz_sys(close(v->fd)), 0);
	fz_logret(fz, 0);
	v->fd = -1;
	v->slot = -1;
	fz->slot_vm[slot] = -1;
	fz_vm_update(fz, rec);
}

static void fz_op_memslot(struct fz *fz, int slot, int op)
{
	struct fz_vm *v = fz_slot_vm(fz, slot);
	bool mvgpu_in_vm = fz->kind == FZ_MVGPU &&
			   fz_pinned_in(fz, fz->slot_vm[slot]);
	__u64 base;
	long want;

	/* Memslots are the VM fd's, which the VMM may have closed. */
	if (v->fd < 0)
		return;
	switch (op) {
	case 0:		/* delete slot 0 or 1 */
	case 1:
		fz_log(fz, "vm%d memslot %d delete", slot, op);
		want = (op ? v->slot1 : v->slot0) ? 0 : -EINVAL;
		fz_memslot_set(fz, v, op, 0, 0, want);
		fz_logret(fz, want);
		if (want)
			break;
		base = op ? v->slot1_base : 0;
		if (mvgpu_in_vm)
			fz_mvgpu_remove_region(fz, base,
					       op ? SLOT1_SIZE : SLOT0_SIZE);
		if (op)
			v->slot1 = false;
		else
			v->slot0 = false;
		v->flags[op] = 0;
		break;
	case 2:		/* create the missing one */
		if (!v->slot0) {
			fz_log(fz, "vm%d memslot 0 create at 0", slot);
			fz_memslot_set(fz, v, 0, 0, SLOT0_SIZE, 0);
			v->slot0 = true;
		} else if (!v->slot1) {
			base = fz_chance(fz, 70) ? SLOT1_BASE : SLOT1_MOVED;
			fz_log(fz, "vm%d memslot 1 create at %#llx", slot,
			       (unsigned long long)base);
			fz_memslot_set(fz, v, 1, base, SLOT1_SIZE, 0);
			v->slot1 = true;
			v->slot1_base = base;
		} else {
			return;
		}
		fz_logret(fz, 0);
		break;
	case 3:		/* dirty logging on or off: tracked pages stay so */
	case 4:
		op -= 3;
		if (!(op ? v->slot1 : v->slot0))
			return;
		v->flags[op] ^= KVM_MEM_LOG_DIRTY_PAGES;
		fz_log(fz, "vm%d memslot %d dirty logging %s", slot, op,
		       v->flags[op] ? "on" : "off");
		fz_memslot_set(fz, v, op, op ? v->slot1_base : 0,
			       op ? SLOT1_SIZE : SLOT0_SIZE, 0);
		fz_logret(fz, 0);
		break;
	default:	/* move slot 1: KVM refuses while mvgpu tracks the VM */
		if (!v->slot1)
			return;
		base = v->slot1_base == SLOT1_BASE ? SLOT1_MOVED : SLOT1_BASE;
		fz_log(fz, "vm%d memslot 1 move %#llx -> %#llx", slot,
		       (unsigned long long)v->slot1_base,
		       (unsigned long long)base);
		want = mvgpu_in_vm ? -EINVAL : 0;
		fz_memslot_set(fz, v, 1, base, SLOT1_SIZE, want);
		fz_logret(fz, want);
		if (!want) {
			v->slot1_base = base;
			fz->moves++;
		}
		break;
	}
}

/*
 * Guest memory at host offset [@host, +@len) changed without the device
 * hearing of it: the shadow of a table there no longer matches memory.
 */
static void fz_table_touched(struct fz *fz, long host, size_t len)
{
	long t;

	if (!fz->mg.loaded)
		return;
	t = fz_iova_host(fz->mg.lbase);
	if (host < t + (long)fz->mg.lentries * 8 && host + (long)len > t)
		fz->mg.host_dirty = true;
}

/* A vCPU of VM @slot stores @val at @gpa, then halts. */
static void fz_op_vcpu_store(struct fz *fz, int slot, __u64 gpa, __u32 val)
{
	int rec = fz->slot_vm[slot];
	struct fz_vm *v = &fz->vm[rec];
	__u16 ip = gpa & 0xffff;
	/* mov dword [ds:ip], val; hlt */
	__u8 code[GUEST_CODE_LEN] = {
		0x66, 0xc7, 0x06, ip & 0xff, ip >> 8,
		val & 0xff, (val >> 8) & 0xff, (val >> 16) & 0xff, val >> 24,
		0xf4,
	};
	struct kvm_sregs sregs;
	struct kvm_vcpu vcpu;
	long host = fz_gpa_host(v, gpa);

	fz_log(fz, "vm%d vcpu %u stores %#x at %#llx", slot, v->vcpus, val,
	       (unsigned long long)gpa);
	memcpy(fz->mem + GUEST_CODE, code, sizeof(code));
	memcpy(fz->mmem + GUEST_CODE, code, sizeof(code));
	/* The code is the host's write, which no notifier sees. */
	fz_table_touched(fz, GUEST_CODE, sizeof(code));
	kvm_vcpu_create(v->fd, v->vcpus++, GUEST_CODE, &vcpu);
	if (gpa >> 16) {
		FZ_EXPECT(fz, fz_sys(ioctl(vcpu.fd, KVM_GET_SREGS, &sregs)),
			  0);
		sregs.ds.base = gpa & ~0xffffULL;
		FZ_EXPECT(fz, fz_sys(ioctl(vcpu.fd, KVM_SET_SREGS, &sregs)),
			  0);
	}
	FZ_EXPECT(fz, fz_sys(ioctl(vcpu.fd, KVM_RUN, 0)), 0);
	FZ_CHECK(fz, vcpu.run->exit_reason == KVM_EXIT_HLT,
		 "exit reason %u", vcpu.run->exit_reason);
	kvm_vcpu_destroy(&vcpu);
	fz_logret(fz, 0);
	memcpy(fz->mmem + host, &val, 4);
	fz->stores++;
	if (fz->kind == FZ_MVGPU && fz_pinned_in(fz, rec) &&
	    fz_mvgpu_tracks(fz, gpa >> 12)) {
		fz_mvgpu_track_write(fz, gpa, val);
		fz->tracked_stores++;
	} else {
		/* Another VM's store, or to a page nobody protects. */
		fz_table_touched(fz, host, 4);
	}
}

/* The host writes guest memory, as the VMM (or the guest's DMA) could. */
static void fz_op_guest_write(struct fz *fz, __u32 off, __u32 len)
{
	fz_log(fz, "host writes guest memory [%#x, %#x)", off, off + len);
	fz_fill(fz, fz->mmem + off, len);
	memcpy(fz->mem + off, fz->mmem + off, len);
	fz_table_touched(fz, off, len);
	fz_logret(fz, 0);
}

/* --- operations: files and their links ---------------------------------- */

/*
 * The VM slot whose VM a first open through @f gets: of the VMs whose
 * kvm-vfio devices hold @f and whose fd the VMM still has open, the one
 * it was added to last; -1 if none. Each VM's FILE_DEL or release
 * removes its own association only.
 */
static int fz_file_link(struct fz *fz, const struct fz_file *f)
{
	int s, best = -1;

	for (s = 0; s < FZ_VM_SLOTS; s++)
		if ((f->kv & (1u << s)) && fz->vm[fz->slot_vm[s]].fd >= 0 &&
		    (best < 0 || f->added[s] > f->added[best]))
			best = s;
	return best;
}

/*
 * What the core says to a first open through @f of a device that
 * requires KVM: -EINVAL if no VM holds @f, -ENOENT if every VM that does
 * has been closed; 0 otherwise, or for a device that does not require one.
 */
static long fz_need_vm_errno(struct fz *fz, const struct fz_file *f)
{
	if (!fz->s->needs_vm || fz_file_link(fz, f) >= 0)
		return 0;
	return f->kv ? -ENOENT : -EINVAL;
}

static int fz_target_fd(struct fz *fz, int t)
{
	if (t == FZ_T_NOT_VFIO)
		return fz->null_fd;
	if (t == FZ_T_BAD_FD)
		return fz->bad_fd;
	return fz->f[t].fd;
}

static void fz_op_file_add(struct fz *fz, int slot, int t)
{
	struct fz_vm *v = fz_slot_vm(fz, slot);
	long want;

	fz->lifecycle = true;
	fz_log(fz, "vm%d FILE_ADD %s", slot, fz_file_name[t]);
	if (t == FZ_T_BAD_FD)
		want = -EBADF;
	else if (t == FZ_T_NOT_VFIO)
		want = -EINVAL;
	else if (fz->f[t].kv & (1u << slot))
		want = -EEXIST;
	else
		want = 0;
	FZ_EXPECT(fz, __kvm_vfio_file_add(v->kv, fz_target_fd(fz, t)), want);
	fz_logret(fz, want);
	if (!want) {
		fz->f[t].kv |= 1u << slot;
		fz->f[t].added[slot] = ++fz->adds;
	}
}

static void fz_op_file_del(struct fz *fz, int slot, int t)
{
	struct fz_vm *v = fz_slot_vm(fz, slot);
	long want;

	fz_log(fz, "vm%d FILE_DEL %s", slot, fz_file_name[t]);
	if (t == FZ_T_BAD_FD)
		want = -EBADF;
	else if (t == FZ_T_NOT_VFIO || !(fz->f[t].kv & (1u << slot)))
		want = -ENOENT;
	else
		want = 0;
	FZ_EXPECT(fz, __kvm_vfio_file_del(v->kv, fz_target_fd(fz, t)), want);
	fz_logret(fz, want);
	if (!want) {
		fz->f[t].kv &= ~(1u << slot);
		fz_settle(fz);
	}
}

/* The group and its type1 container, as a VMM sets them up. */
static void fz_op_group_open(struct fz *fz)
{
	long want = fz->f[FG].live || fz_cdev_bound(fz) ? -EBUSY : 0;
	int fd;

	fz->lifecycle = true;
	fz_log(fz, "open %s", fz->group_path);
	fd = open(fz->group_path, O_RDWR | O_CLOEXEC);
	FZ_EXPECT(fz, fz_sys(fd), want ? want : fd);
	fz_logret(fz, want);
	if (want)
		return;
	fz->f[FG] = (struct fz_file){ .fd = fd, .live = true };
	fz->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	FZ_CHECK(fz, fz->container >= 0, "open /dev/vfio/vfio");
	FZ_EXPECT(fz, fz_sys(ioctl(fd, VFIO_GROUP_SET_CONTAINER,
				   &fz->container)), 0);
	FZ_EXPECT(fz, fz_sys(ioctl(fz->container, VFIO_SET_IOMMU,
				   VFIO_TYPE1v2_IOMMU)), 0);
	memset(fz->dma[FZ_DOM_GROUP], 0, FZ_NCHUNKS);
	fz->ctr = FZ_CTR_IOMMU;
}

/*
 * UNSET_CONTAINER (refused while the device is open through the group),
 * SET_CONTAINER, SET_IOMMU: the container loses its IOMMU, and mappings,
 * with its last group.
 */
static void fz_op_container(struct fz *fz, int op)
{
	static const char *const name[] = {
		"UNSET_CONTAINER", "SET_CONTAINER", "SET_IOMMU",
	};
	long want, ret;

	fz->lifecycle = true;
	fz_log(fz, "%s", name[op]);
	switch (op) {
	case 0:
		want = fz->ctr == FZ_CTR_NONE ? -EINVAL :
		       fz->path == FZ_GROUP ? -EBUSY : 0;
		ret = ioctl(fz->f[FG].fd, VFIO_GROUP_UNSET_CONTAINER);
		break;
	case 1:
		want = fz->ctr == FZ_CTR_NONE ? 0 : -EINVAL;
		ret = ioctl(fz->f[FG].fd, VFIO_GROUP_SET_CONTAINER,
			    &fz->container);
		break;
	default:
		want = fz->ctr == FZ_CTR_SET ? 0 : -EINVAL;
		ret = ioctl(fz->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
		break;
	}
	FZ_EXPECT(fz, fz_sys(ret), want);
	fz_logret(fz, want);
	if (want)
		return;
	fz->ctr = op == 0 ? FZ_CTR_NONE : op == 1 ? FZ_CTR_SET : FZ_CTR_IOMMU;
	if (op == 0)
		memset(fz->dma[FZ_DOM_GROUP], 0, FZ_NCHUNKS);
}

static void fz_op_group_close(struct fz *fz)
{
	fz_log(fz, "close the group fd and the container fd");
	FZ_EXPECT(fz, fz_sys(close(fz->f[FG].fd)), 0);
	FZ_EXPECT(fz, fz_sys(close(fz->container)), 0);
	fz_logret(fz, 0);
	fz->f[FG].fd = -1;
	fz->container = -1;
	fz_settle(fz);
}

/* VFIO_GROUP_GET_DEVICE_FD: the first open pins the group's VM. */
static void fz_op_gdev_open(struct fz *fz, int i, bool bad_name)
{
	bool first = fz->path == FZ_CLOSED;
	int link = fz_file_link(fz, &fz->f[FG]);
	long want = 0, fd;

	fz->lifecycle = true;
	fz_log(fz, "GET_DEVICE_FD %s%s (the group linked to %s)",
	       fz_file_name[i], bad_name ? " of a device not there" : "",
	       fz_slot_name(link));
	if (bad_name)
		want = -ENODEV;
	else if (fz->ctr == FZ_CTR_NONE)
		want = -EINVAL;		/* no container, or iommufd */
	else if (first && fz_need_vm_errno(fz, &fz->f[FG]))
		want = fz_need_vm_errno(fz, &fz->f[FG]);
	else if (fz->ctr == FZ_CTR_SET)
		want = -EINVAL;		/* pinned, no IOMMU to use: unpinned */
	fz->enoents += want == -ENOENT;
	fd = fz_sys(ioctl(fz->f[FG].fd, VFIO_GROUP_GET_DEVICE_FD,
			  bad_name ? "00000000-0000-0000-0000-000000000000" :
				     fz->uuid));
	FZ_EXPECT(fz, fd < 0 ? fd : 0, want);
	fz_logret(fz, fd);
	/*
	 * A failed first open drops the pin it took before the driver saw
	 * it: the test driver counts nothing (the VMs alive say the rest).
	 */
	if (want)
		return;
	fz->f[i] = (struct fz_file){ .fd = fd, .live = true, .granted = true };
	if (first)
		fz_dev_open(fz, FZ_GROUP, link);
}

static void fz_op_file_close(struct fz *fz, int i)
{
	fz_log(fz, "close %s", fz_file_name[i]);
	FZ_EXPECT(fz, fz_sys(close(fz->f[i].fd)), 0);
	fz_logret(fz, 0);
	fz->f[i].fd = -1;
	fz_settle(fz);
}

static void fz_op_cdev_open(struct fz *fz, int i)
{
	int fd;

	fz->lifecycle = true;
	fz_log(fz, "open %s as %s", fz->cdev_path, fz_file_name[i]);
	fd = open(fz->cdev_path, O_RDWR | O_CLOEXEC);
	fz_logret(fz, fz_sys(fd));
	FZ_CHECK(fz, fd >= 0, "open %s: %s", fz->cdev_path, strerror(errno));
	fz->f[i] = (struct fz_file){ .fd = fd, .live = true };
}

/* BIND_IOMMUFD, then ATTACH to the IOAS: the cdev path's first open. */
static void fz_op_cdev_bind(struct fz *fz, int i)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = fz->iommufd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .pt_id = fz->ioas[0],
	};
	struct fz_file *f = &fz->f[i];
	long want;

	fz->lifecycle = true;
	fz_log(fz, "BIND_IOMMUFD %s (linked to %s)", fz_file_name[i],
	       fz_slot_name(fz_file_link(fz, f)));
	if (fz->f[FG].live)
		want = -EBUSY;		/* the group is open */
	else if (f->granted || fz_open(fz))
		want = -EINVAL;		/* bound, or open through another */
	else if (fz_need_vm_errno(fz, f))
		want = fz_need_vm_errno(fz, f);
	else
		want = 0;
	fz->enoents += want == -ENOENT;
	FZ_EXPECT(fz, fz_sys(ioctl(f->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)),
		  want);
	fz_logret(fz, want);
	if (want)
		return;
	f->granted = true;
	fz_dev_open(fz, FZ_CDEV, fz_file_link(fz, f));
	FZ_EXPECT(fz, fz_sys(ioctl(f->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				   &attach)), 0);
	fz->cdev_ioas = 0;
}

/*
 * DETACH_IOMMUFD_PT, or ATTACH to an IOAS (replacing the one it has) or
 * to an id that is none: only a bound cdev has them; a device fd of the
 * group path passes them to the driver, which knows neither.
 */
static void fz_op_cdev_pt(struct fz *fz, int i, int to)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = to < 0 ? 0 : to < 2 ? fz->ioas[to] : 0xdead,
	};
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};
	int fd = fz->f[i].fd;
	long want, ret;

	if (to < 0)
		fz_log(fz, "%s DETACH_IOMMUFD_PT", fz_file_name[i]);
	else
		fz_log(fz, "%s ATTACH_IOMMUFD_PT to %s", fz_file_name[i],
		       to < 2 ? (to ? "ioas1" : "ioas0") : "no IOAS");
	if (!fz->f[i].granted || (fz->kind == FZ_VKT && i < FC0))
		want = -EINVAL;
	else if (i < FC0)
		want = -ENOTTY;
	else
		want = to < 2 ? 0 : -ENOENT;
	if (to < 0)
		ret = ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
	else
		ret = ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	FZ_EXPECT(fz, fz_sys(ret), want);
	fz_logret(fz, want);
	if (!want)
		fz->cdev_ioas = to;
}

static void fz_op_dma(struct fz *fz, int dom, int c, int how)
{
	static const char *const how_name[] = { "unmap", "map ro", "map rw" };
	static const char *const dom_name[] = { "container", "ioas0", "ioas1" };
	struct vfio_dev d = {
		.path = dom == FZ_DOM_GROUP ? VFIO_PATH_GROUP : VFIO_PATH_CDEV,
		.container = fz->container, .iommufd = fz->iommufd,
		.ioas_id = fz->ioas[dom == FZ_DOM_GROUP ? 0 : dom - 1],
	};
	__u64 iova = fz_chunk[c].iova, size = fz_chunk[c].size;
	__u8 *cur = &fz->dma[dom][c];
	long want, ret;

	fz_log(fz, "DMA %s %s [%#llx, %#llx)", dom_name[dom], how_name[how],
	       (unsigned long long)iova, (unsigned long long)(iova + size));
	if (dom == FZ_DOM_GROUP && fz->ctr != FZ_CTR_IOMMU)
		want = -EINVAL;	/* no IOMMU: the container has no such ioctl */
	else if (how == FZ_UNMAPPED)
		/* type1 unmaps nothing with success, iommufd says ENOENT */
		want = *cur || dom == FZ_DOM_GROUP ? 0 : -ENOENT;
	else
		want = *cur ? -EEXIST : 0;
	if (how == FZ_UNMAPPED)
		ret = __vfio_dev_dma_unmap(&d, iova, size);
	else
		ret = __vfio_dev_dma_map(&d, iova, fz->mem + fz_chunk[c].host,
					 size, how == FZ_MAPPED_RW);
	FZ_EXPECT(fz, ret, want);
	fz_logret(fz, want);
	if (!want)
		*cur = how;
}

/* --- operations on the device ------------------------------------------- */

static const char *const fz_region_name[] = {
	"bar0", "bar1", "bar2", "bar3", "bar4", "bar5", "rom", "config",
	"vga", "region9",
};

static const char *fz_region(__u32 index)
{
	return index < ARRAY_SIZE(fz_region_name) ? fz_region_name[index] :
						      "region-far";
}

/* pread/pwrite of a region through file @i, checked against the model. */
static void fz_op_rw(struct fz *fz, int i, __u32 index, __u64 off,
		     const void *data, size_t len, bool write)
{
	__u8 *want_buf = malloc(len + 1), *got = malloc(len + 1);
	__u64 pos = ((__u64)index << 40) + off;
	long want, ret;
	__u32 v = 0;

	FZ_CHECK(fz, want_buf && got, "malloc %zu", len);
	if (write && len) {
		memcpy(&v, data, len < 4 ? len : 4);
		memcpy(want_buf, data, len);
	}
	if (write)
		fz_log(fz, "%s write %s [%#llx, +%zu) = %#x...",
		       fz_file_name[i], fz_region(index),
		       (unsigned long long)off, len, v);
	else
		fz_log(fz, "%s read %s [%#llx, +%zu)", fz_file_name[i],
		       fz_region(index), (unsigned long long)off, len);
	want = fz->f[i].granted ? fz_model_rw(fz, index, off, want_buf, len,
					      write) : -EINVAL;
	if (write)
		ret = fz_sys(pwrite(fz->f[i].fd, data, len, pos));
	else
		ret = fz_sys(pread(fz->f[i].fd, got, len, pos));
	FZ_EXPECT(fz, ret, want);
	fz_logret(fz, ret);
	if (!write && ret > 0 && memcmp(got, want_buf, ret)) {
		size_t k;

		for (k = 0; got[k] == want_buf[k]; k++)
			;
		fz_fail(fz, "%s: byte %zu reads %#x, the model says %#x",
			fz->cur, k, got[k], want_buf[k]);
	}
	free(want_buf);
	free(got);
}

static void fz_op_reg_write(struct fz *fz, int i, __u32 off, __u32 val)
{
	fz_op_rw(fz, i, VFIO_PCI_BAR0_REGION_INDEX, off, &val, 4, true);
}

struct fz_irq_req {
	__u32 argsz, flags, index, start, count;
	int fdk;	/* 0, 1: our eventfd; 2: -1; 3: not eventfd; 4: bad */
};

static const char *const fz_fdk_name[] = {
	"efd0", "efd1", "-1", "not-an-eventfd", "bad-fd",
};

static long fz_model_validate(const struct fz_irq_req *r)
{
	__u32 size;

	if (r->argsz < 20 || r->index >= NUM_IRQS ||
	    r->count >= 0xffffffffu - r->start || r->flags & ~0x3fu)
		return -EINVAL;
	if (r->start >= 1 || r->start + r->count > 1)
		return -EINVAL;
	switch (r->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = 1;
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = 4;
		break;
	default:
		return -EINVAL;
	}
	if (size && r->argsz - 20 < r->count * size)
		return -EINVAL;
	return 0;
}

/* eventfd_ctx_fdget() of the fd the request carries. */
static long fz_model_fdget(const struct fz_irq_req *r)
{
	if (r->fdk == 3)
		return -EINVAL;
	if (r->fdk == 4)
		return -EBADF;
	return 0;
}

static long fz_model_irqs_mvgpu(struct fz *fz, const struct fz_irq_req *r)
{
	__u32 action = r->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	__u32 type = r->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	struct fz_mvgpu *m = &fz->mg;
	long ret;

	/*
	 * The unmask eventfd (KVM's resampler), only ever -1, not an
	 * eventfd or a bad fd here (fz_step_irqs()): one of the model's
	 * eventfds would be read by the device. -1 removes none that is
	 * there; the others fail as vfio_virqfd_enable() does.
	 */
	if (r->index == INTX && action == VFIO_IRQ_SET_ACTION_UNMASK &&
	    type == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (!r->count)
			return -EINVAL;
		if (r->fdk == 2)
			return 0;
		if (m->irq_index != INTX)
			return -EINVAL;
		return fz_model_fdget(r);
	}
	if (r->index == INTX && (action == VFIO_IRQ_SET_ACTION_MASK ||
				 action == VFIO_IRQ_SET_ACTION_UNMASK)) {
		if (type != VFIO_IRQ_SET_DATA_NONE || !r->count)
			return -EINVAL;
		if (m->irq_index != INTX)
			return -EINVAL;
		m->masked = action == VFIO_IRQ_SET_ACTION_MASK;
		/* Unmasked with the cause pending: fires again. */
		if (!m->masked && (m->irq_status & m->irq_enable))
			fz_mvgpu_raise(fz, 0);
		return 0;
	}
	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	if (type == VFIO_IRQ_SET_DATA_NONE) {
		if (!r->count) {
			if (m->irq_index == (int)r->index)
				fz_mvgpu_irq_disable(fz);
			return 0;
		}
		if (m->irq_index != (int)r->index || m->trigger < 0)
			return -EINVAL;
		fz_signal(fz, m->trigger);	/* loopback */
		return 0;
	}
	if (type != VFIO_IRQ_SET_DATA_EVENTFD)
		return -EINVAL;
	if (!r->count)
		return 0;
	if (r->fdk == 2) {
		if (m->irq_index == (int)r->index)
			fz_mvgpu_irq_disable(fz);
		return 0;
	}
	/* The eventfd first, before any lock; then the state. */
	ret = fz_model_fdget(r);
	if (ret)
		return ret;
	if (m->irq_index >= 0 && m->irq_index != (int)r->index)
		return -EBUSY;
	fz_mvgpu_irq_disable(fz);
	m->trigger = r->fdk;
	m->irq_index = r->index;
	return 0;
}

/* mzdev's and mcounter's MSI, the only interrupt they have. */
static long fz_model_irqs_msi(struct fz *fz, const struct fz_irq_req *r,
			      int *msi)
{
	int trigger = -1;
	long ret;

	if ((r->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	if (r->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (!r->count)
			return 0;
		if (r->fdk != 2) {
			ret = fz_model_fdget(r);
			if (ret)
				return ret;
			trigger = r->fdk;
		}
	} else if (!(r->flags & VFIO_IRQ_SET_DATA_NONE) || r->count) {
		return -EINVAL;
	}
	*msi = trigger;
	return 0;
}

static long fz_model_irqs(struct fz *fz, const struct fz_irq_req *r)
{
	long ret;

	switch (fz->kind) {
	case FZ_MVGPU:
		if (r->index != INTX && r->index != MSI)
			return -EINVAL;
		ret = fz_model_validate(r);
		return ret ? ret : fz_model_irqs_mvgpu(fz, r);
	case FZ_MZDEV:
	case FZ_MCOUNTER:
		if (r->index != MSI)
			return -EINVAL;
		ret = fz_model_validate(r);
		if (ret)
			return ret;
		return fz_model_irqs_msi(fz, r, fz->kind == FZ_MZDEV ?
					 &fz->mz.msi : &fz->mc.msi);
	case FZ_VKT:
		break;
	}
	return -EINVAL;
}

static void fz_op_irqs(struct fz *fz, int i, const struct fz_irq_req *r)
{
	__u8 buf[sizeof(struct vfio_irq_set) + 8] = { 0 };
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	__s32 fds[] = { fz->efd[0], fz->efd[1], -1, fz->null_fd, fz->bad_fd };
	long want;

	set->argsz = r->argsz;
	set->flags = r->flags;
	set->index = r->index;
	set->start = r->start;
	set->count = r->count;
	memcpy(set->data, &fds[r->fdk], 4);
	fz_log(fz, "%s SET_IRQS size %u flags %#x index %u %u+%u fd %s",
	       fz_file_name[i], r->argsz, r->flags, r->index, r->start,
	       r->count, fz_fdk_name[r->fdk]);
	want = fz->f[i].granted ? fz_model_irqs(fz, r) : -EINVAL;
	FZ_EXPECT(fz, fz_sys(ioctl(fz->f[i].fd, VFIO_DEVICE_SET_IRQS, set)),
		  want);
	fz_logret(fz, want);
}

static void fz_op_reset(struct fz *fz, int i)
{
	long want = fz->f[i].granted && fz->kind != FZ_VKT ? 0 : -EINVAL;

	fz_log(fz, "%s VFIO_DEVICE_RESET", fz_file_name[i]);
	FZ_EXPECT(fz, fz_sys(ioctl(fz->f[i].fd, VFIO_DEVICE_RESET)), want);
	fz_logret(fz, want);
	if (want)
		return;
	switch (fz->kind) {
	case FZ_MVGPU:
		fz_mvgpu_reset(fz);
		break;
	case FZ_MZDEV:
		fz_mzdev_reset(fz);
		break;
	case FZ_MCOUNTER:
		fz->mc.count = 0;
		break;
	case FZ_VKT:
		break;
	}
}

/* The info ioctls: device, one region, one interrupt. */
static void fz_op_info(struct fz *fz, int i, __u32 index)
{
	struct vfio_device_info dev = { .argsz = sizeof(dev) };
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = index };
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = index };
	bool ok = fz->f[i].granted && fz->kind != FZ_VKT;
	__u64 size = 0;
	__u32 flags = 0;

	fz_log(fz, "%s GET_INFO, REGION_INFO and IRQ_INFO %u",
	       fz_file_name[i], index);
	FZ_EXPECT(fz, fz_sys(ioctl(fz->f[i].fd, VFIO_DEVICE_GET_INFO, &dev)),
		  ok ? 0 : -EINVAL);
	if (ok)
		FZ_CHECK(fz, dev.flags == (VFIO_DEVICE_FLAGS_PCI |
					   VFIO_DEVICE_FLAGS_RESET) &&
			 dev.num_regions == NUM_REGIONS &&
			 dev.num_irqs == NUM_IRQS, "device info %#x %u %u",
			 dev.flags, dev.num_regions, dev.num_irqs);

	FZ_EXPECT(fz, fz_sys(ioctl(fz->f[i].fd, VFIO_DEVICE_GET_REGION_INFO,
				   &reg)),
		  ok && index < NUM_REGIONS ? 0 : -EINVAL);
	if (ok && index < NUM_REGIONS) {
		if (index == VFIO_PCI_CONFIG_REGION_INDEX)
			size = CFG_SIZE;
		else if (index == VFIO_PCI_BAR0_REGION_INDEX)
			size = BAR0_SIZE;
		else if (index == VFIO_PCI_BAR2_REGION_INDEX &&
			 fz->kind == FZ_MVGPU)
			size = MVGPU_AP_SIZE;
		if (size)
			flags = VFIO_REGION_INFO_FLAG_READ |
				VFIO_REGION_INFO_FLAG_WRITE;
		if (index == VFIO_PCI_BAR2_REGION_INDEX && size)
			flags |= VFIO_REGION_INFO_FLAG_MMAP;
		FZ_CHECK(fz, reg.size == size && reg.flags == flags &&
			 reg.offset == (__u64)index << 40,
			 "region %u: size %#llx flags %#x offset %#llx", index,
			 (unsigned long long)reg.size, reg.flags,
			 (unsigned long long)reg.offset);
	}

	/* INTx, MSI, MSI-X: the samples have no ERR or REQ interrupt. */
	FZ_EXPECT(fz, fz_sys(ioctl(fz->f[i].fd, VFIO_DEVICE_GET_IRQ_INFO,
				   &irq)),
		  ok && index <= VFIO_PCI_MSIX_IRQ_INDEX ? 0 : -EINVAL);
	if (ok && index <= VFIO_PCI_MSIX_IRQ_INDEX) {
		if (fz->kind == FZ_MVGPU && index == INTX) {
			flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
				VFIO_IRQ_INFO_AUTOMASKED;
			size = 1;
		} else if (fz->kind == FZ_MVGPU) {
			flags = VFIO_IRQ_INFO_EVENTFD |
				(index == MSI ? VFIO_IRQ_INFO_NORESIZE : 0);
			size = index == MSI;
		} else {
			flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
			size = index == MSI;
		}
		FZ_CHECK(fz, irq.flags == flags && irq.count == size,
			 "irq %u: flags %#x count %u", index, irq.flags,
			 irq.count);
	}
	fz_logret(fz, 0);
}

/* mmap of BAR2 (mvgpu's aperture; nobody else maps anything). */
static void fz_op_mmap(struct fz *fz, int i, __u64 pgoff, size_t pages,
		       __u32 index, bool shared)
{
	long want = 0;
	void *p;

	fz->lifecycle = true;
	fz_log(fz, "%s mmap %s pages [%llu, +%zu)%s", fz_file_name[i],
	       fz_region(index), (unsigned long long)pgoff, pages,
	       shared ? "" : " private");
	if (!fz->f[i].granted || fz->kind != FZ_MVGPU ||
	    index != VFIO_PCI_BAR2_REGION_INDEX || !shared ||
	    pgoff >= MVGPU_AP_PAGES || pages > MVGPU_AP_PAGES - pgoff)
		want = -EINVAL;
	p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
		 shared ? MAP_SHARED : MAP_PRIVATE, fz->f[i].fd,
		 ((__u64)index << 40) + pgoff * 4096);
	if (p != MAP_FAILED && want)
		munmap(p, pages * 4096);
	FZ_EXPECT(fz, p == MAP_FAILED ? -errno : 0, want);
	fz_logret(fz, want);
	if (want)
		return;
	/* One mapping at a time: the step unmaps an older one first. */
	fz->map = p;
	fz->map_len = pages * 4096;
	fz->map_pgoff = pgoff;
	fz->map_file = i;
	fz->f[i].mapped = true;
}

static void fz_op_munmap(struct fz *fz)
{
	fz_log(fz, "munmap the BAR2 mapping of %s", fz_file_name[fz->map_file]);
	FZ_EXPECT(fz, fz_sys(munmap(fz->map, fz->map_len)), 0);
	fz_logret(fz, 0);
	fz->map = NULL;
	fz->f[fz->map_file].mapped = false;
	fz_settle(fz);
}

/* Through the mapping: the aperture's memory, whatever the fds do. */
static void fz_op_map_access(struct fz *fz, size_t off, size_t len,
			     bool write)
{
	__u8 *ap = fz->mg.ap + fz->map_pgoff * 4096 + off;
	size_t k;

	fz_log(fz, "%s through the mapping [%#zx, +%zu)",
	       write ? "write" : "read", off, len);
	if (write) {
		fz_fill(fz, ap, len);
		memcpy(fz->map + off, ap, len);
	} else if (memcmp(fz->map + off, ap, len)) {
		for (k = 0; fz->map[off + k] == ap[k]; k++)
			;
		fz_fail(fz, "mapped aperture byte %#zx: %#x, the model: %#x",
			off + k, fz->map[off + k], ap[k]);
	}
	fz_logret(fz, 0);
}

/* mzdev's uid attribute: an admin's, refused while the device is open. */
static void fz_op_uid(struct fz *fz, const char *val)
{
	char path[MDEV_PATH_LEN + 8];
	unsigned long v;
	char *end;
	long want;

	snprintf(path, sizeof(path), "%s/uid", fz->sysfs);
	errno = 0;
	v = strtoul(val, &end, 0);
	if (errno || *end || end == val || !v || v > 0xffff)
		want = -EINVAL;
	else if (fz_open(fz))
		want = -EBUSY;
	else
		want = 0;
	fz_log(fz, "write %s to uid", val);
	FZ_EXPECT(fz, __sysfs_write(path, val), want);
	fz_logret(fz, want);
	if (!want)
		fz->mz.uid = v;
}

/* --- composite operations: what a VMM or a guest does in a row ---------- */

static int fz_free_slot(struct fz *fz)
{
	int s;

	for (s = 0; s < FZ_VM_SLOTS; s++)
		if (fz->slot_vm[s] < 0)
			return s;
	return -1;
}

static int fz_pick_vm(struct fz *fz)
{
	int s, n = 0, open[FZ_VM_SLOTS];

	for (s = 0; s < FZ_VM_SLOTS; s++)
		if (fz->slot_vm[s] >= 0)
			open[n++] = s;
	return n ? open[fz_below(fz, n)] : -1;
}

/*
 * A VMM plugs the device into a VM: file, FILE_ADD (unless !@link, as a
 * VMM without KVM), open, DMA.
 */
static void fz_plug(struct fz *fz, enum fz_path path, bool link)
{
	int slot = fz_pick_vm(fz), i, c, dom;

	if (slot < 0) {
		slot = fz_free_slot(fz);
		fz_op_vm_create(fz, slot);
		if (fz->slot_vm[slot] < 0)
			return;
	}
	if (path == FZ_GROUP) {
		if (fz->f[FG].fd < 0) {
			fz_op_group_open(fz);
			if (fz->f[FG].fd < 0)
				return;
		}
		i = FG;
	} else {
		i = fz->f[FC0].fd >= 0 && !fz->f[FC0].granted ? FC0 :
		    fz->f[FC1].fd >= 0 && !fz->f[FC1].granted ? FC1 : -1;
		if (i < 0) {
			i = fz->f[FC0].live ? FC1 : FC0;
			if (fz->f[i].live)
				return;
			fz_op_cdev_open(fz, i);
		}
	}
	if (fz_file_link(fz, &fz->f[i]) != slot && link) {
		if (fz->f[i].kv & (1u << slot))
			fz_op_file_del(fz, slot, i);
		fz_op_file_add(fz, slot, i);
	}
	if (path == FZ_GROUP) {
		if (!fz->f[FGD0].live)
			fz_op_gdev_open(fz, FGD0, false);
		else if (!fz->f[FGD1].live)
			fz_op_gdev_open(fz, FGD1, false);
	} else {
		fz_op_cdev_bind(fz, i);
	}
	dom = fz_open(fz) ? fz_dom(fz) : -1;
	for (c = 0; dom >= 0 && c < 2; c++)
		if (!fz->dma[dom][c])
			fz_op_dma(fz, dom, c, FZ_MAPPED_RW);
}

/* A VMM unplugs it: out of the VMs, the mapping gone, the fds closed. */
static void fz_unplug(struct fz *fz)
{
	int i, s;

	if (fz->map)
		fz_op_munmap(fz);
	for (i = FGD0; i < FZ_NFILES; i++) {
		if (fz->f[i].fd < 0 || !fz->f[i].granted)
			continue;
		for (s = 0; s < FZ_VM_SLOTS; s++)
			if (fz->f[i].kv & (1u << s))
				fz_op_file_del(fz, s, i);
		fz_op_file_close(fz, i);
	}
}

/* In slot 0, across slots 0 and 1, across two DMA chunks, moved, bad. */
static const __u64 fz_gtt_bases[] = {
	0x4000, 0x4000, 0x4010, 0x4f80, 0x4fc0, 0x7f80, 0x7ff8, 0x2000,
	0x3ff8, 0x9000, 0xa008, 0x15000, 0x15f00, 0x10000, 0x200000, 0x4004,
	0xfffffffffffffff8ULL, 0x100004000ULL, 0x1000,
};

static const __u32 fz_gtt_entries[] = {
	1, 2, 4, 4, 8, 8, 16, 33, 64, 64, 65, 0, 480, 0xffffffff,
};

/* The guest programs a table and loads it (registers, then LOAD). */
static void fz_gtt_load(struct fz *fz, int i)
{
	static const __u64 good[] = { 0x4000, 0x4f80, 0x7f80, 0x2000, 0xa008 };
	bool ok = fz_chance(fz, 50);
	__u64 base = ok ? FZ_PICK(fz, good) : FZ_PICK(fz, fz_gtt_bases);
	__u32 entries = ok ? 1 + fz_below(fz, MVGPU_TYPE_ENTRIES) :
			     FZ_PICK(fz, fz_gtt_entries);
	long host = fz_iova_host(base);

	/* Some entries of the guest's own, written by the guest. */
	if (host >= 0 && host + 64 <= MEM_SIZE && fz_chance(fz, 50))
		fz_op_guest_write(fz, host, 64);
	if (fz_chance(fz, 85)) {
		fz_op_reg_write(fz, i, MVGPU_REG_GTT_BASE_LO, base);
		fz_op_reg_write(fz, i, MVGPU_REG_GTT_BASE_HI, base >> 32);
		fz_op_reg_write(fz, i, MVGPU_REG_GTT_ENTRIES, entries);
	}
	fz_op_reg_write(fz, i, MVGPU_REG_GTT_CTRL, MVGPU_GTT_LOAD);
}

static const __u64 fz_fmb_addrs[] = {
	0x3000, 0x3008, 0x3ff0, 0x3fd8, 0x3004, 0x9000, 0xf000, 0x15100,
	0x10000, 0x200000, 0x2000, 0x100003000ULL, 0x0,
};

/* The guest programs its FMB: disable, address, enable. */
static void fz_fmb_program(struct fz *fz, int i)
{
	__u64 addr = FZ_PICK(fz, fz_fmb_addrs);

	if (fz_chance(fz, 80))
		fz_op_reg_write(fz, i, MZDEV_REG_FMB_CTRL, 0);
	fz_op_reg_write(fz, i, MZDEV_REG_FMB_LO, addr);
	fz_op_reg_write(fz, i, MZDEV_REG_FMB_HI, addr >> 32);
	fz_op_reg_write(fz, i, MZDEV_REG_FMB_CTRL, 1);
}

static __u32 fz_doorbell_reg(struct fz *fz)
{
	return fz->kind == FZ_MCOUNTER ? MCOUNTER_REG_DOORBELL :
					 MVGPU_REG_DOORBELL;
}

/* --- the owner killed --------------------------------------------------- */

/*
 * The child: its own VM, the device's file in it, the device open in it,
 * a doorbell, then waiting for SIGKILL. It reports each stage on @out:
 * 'v' VM, 'a' FILE_ADD, 'o' open (or 'E' and the errno), 'd' doorbell.
 * Raw syscalls only: nothing here may run the parent's exit handler.
 */
static void __noreturn fz_owner(struct fz *fz, int out, bool group, int gfd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	__u32 one = 1, reg = fz_doorbell_reg(fz);
	int vm, kv, file, dev, ctr, ifd;
	char e[2] = { 'E' };

	fz_in_child = true;
	if (__kvm_vm_create(&vm) || __kvm_vfio_create(vm, &kv))
		_exit(1);
	if (write(out, "v", 1) != 1)
		_exit(1);
	if (group) {
		file = gfd;
		if (file < 0) {
			file = open(fz->group_path, O_RDWR | O_CLOEXEC);
			if (file < 0)
				goto err;
			ctr = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
			if (ctr < 0 ||
			    ioctl(file, VFIO_GROUP_SET_CONTAINER, &ctr) ||
			    ioctl(ctr, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
				goto err;
		}
	} else {
		file = open(fz->cdev_path, O_RDWR | O_CLOEXEC);
		if (file < 0)
			goto err;
	}
	errno = -__kvm_vfio_file_add(kv, file);
	if (errno || write(out, "a", 1) != 1)
		goto err;
	if (group) {
		dev = ioctl(file, VFIO_GROUP_GET_DEVICE_FD, fz->uuid);
		if (dev < 0)
			goto err;
	} else {
		ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (ifd < 0 || ioctl(ifd, IOMMU_IOAS_ALLOC, &alloc))
			goto err;
		bind.iommufd = ifd;
		attach.pt_id = alloc.out_ioas_id;
		if (ioctl(file, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
		    ioctl(file, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
			goto err;
		dev = file;
	}
	if (write(out, "o", 1) != 1)
		_exit(1);
	if (fz->kind != FZ_VKT &&
	    pwrite(dev, &one, 4, ((__u64)VFIO_PCI_BAR0_REGION_INDEX << 40) +
		   reg) != 4)
		goto err;
	if (write(out, "d", 1) != 1)
		_exit(1);
	for (;;)
		pause();
err:
	e[1] = errno;
	if (write(out, e, 2) != 2)
		_exit(1);
	for (;;)
		pause();
}

/* Is nothing of the killed owner left: its VMs, its open of the device? */
static bool fz_owner_gone(struct fz *fz, const char *prefix)
{
	char buf[4096], p[MDEV_PATH_LEN + 4];

	if (kvm_vms_alive(prefix))
		return false;
	switch (fz->kind) {
	case FZ_VKT:
		return vkt_count(fz->uuid, "opens") ==
		       vkt_count(fz->uuid, "closes") &&
		       vkt_count(fz->uuid, "gets") ==
		       vkt_count(fz->uuid, "puts");
	case FZ_MVGPU:
		snprintf(p, sizeof(p), "%s/vm", fz->sysfs);
		return !__sysfs_read(p, buf, sizeof(buf)) &&
		       !strcmp(buf, "none");
	case FZ_MZDEV:
		return !__sysfs_read("/sys/kernel/debug/mzdev/vms", buf,
				     sizeof(buf)) && !strstr(buf, fz->uuid);
	case FZ_MCOUNTER:
		break;
	}
	return true;
}

/*
 * A child creates a VM, opens the device in it and is killed at a
 * random point of that (or after). The device must be closed in the
 * parent, so that the child's is the first open. Killed with the file
 * added, the child's kvm-vfio device unlinks it as it goes, and only its
 * own association: the parent's group fd, which a group-path child
 * shares, keeps the parent's VMs.
 */
static void fz_op_owner_killed(struct fz *fz)
{
	bool group = fz_chance(fz, 50), inherit = group && fz->f[FG].fd >= 0;
	char c[2], want[8], prefix[16];
	long before[4] = { 0 }, after[4] = { 0 };
	unsigned int k, n = 0, kill_after;
	struct pollfd pfd;
	int p[2], st, fd, i;
	struct timespec t0, now;

	fz->lifecycle = true;
	/*
	 * What the child will see: 'o'; EBUSY for a group someone else has
	 * open, or a cdev bind while it is; EINVAL for our group with no
	 * container, or one without an IOMMU (which pins and unpins before
	 * the driver sees the open: its counters do not move).
	 */
	want[n++] = 'v';
	if (group && !inherit && fz->f[FG].live) {
		want[n++] = 'E';
		want[n++] = EBUSY;
	} else {
		want[n++] = 'a';
		if (!group && fz->f[FG].live) {
			want[n++] = 'E';
			want[n++] = EBUSY;
		} else if (inherit && fz->ctr != FZ_CTR_IOMMU) {
			want[n++] = 'E';
			want[n++] = EINVAL;
		} else {
			want[n++] = 'o';
			want[n++] = 'd';
		}
	}
	/* The test driver's counters once the child's open is done, if. */
	if (want[2] == 'o') {
		after[0] = fz->s->pins;
		after[1] = fz->s->pins;
		after[2] = 1;
		after[3] = 1;
	}
	/* A child sharing our group fd is killed only once it added it. */
	kill_after = inherit ? 2 + fz_below(fz, n - 1) : fz_below(fz, n + 1);
	if (fz->kind == FZ_VKT) {
		before[0] = vkt_count(fz->uuid, "gets");
		before[1] = vkt_count(fz->uuid, "puts");
		before[2] = vkt_count(fz->uuid, "opens");
		before[3] = vkt_count(fz->uuid, "closes");
	}
	fz_log(fz, "fork an owner: %s path%s, killed after %u of %u reports",
	       group ? "group" : "cdev", inherit ? " (our group fd)" : "",
	       kill_after, n);
	FZ_CHECK(fz, !pipe2(p, O_CLOEXEC), "pipe");
	fflush(stdout);
	fz->child = fork();
	FZ_CHECK(fz, fz->child >= 0, "fork");
	if (!fz->child) {
		/* Keep only what the owner uses. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != p[1] && !(inherit && fd == fz->f[FG].fd))
				close(fd);
		fz_owner(fz, p[1], group, inherit ? fz->f[FG].fd : -1);
	}
	close(p[1]);
	snprintf(prefix, sizeof(prefix), "%d-", fz->child);
	for (k = 0; k < kill_after; k++) {
		pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
		FZ_CHECK(fz, poll(&pfd, 1, 20000) == 1,
			 "the owner reported %u of %u stages", k, kill_after);
		FZ_CHECK(fz, read(p[0], c, 1) == 1, "the owner died at %u", k);
		FZ_CHECK(fz, c[0] == want[k], "owner report %u: %#x, model %#x",
			 k, c[0], want[k]);
	}
	if (!kill_after && fz_chance(fz, 50))
		usleep(fz_below(fz, 3000));
	kill(fz->child, SIGKILL);
	FZ_CHECK(fz, waitpid(fz->child, &st, 0) == fz->child, "waitpid");
	fz->child = 0;
	close(p[0]);
	FZ_CHECK(fz, WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		 "the owner exited on its own: %#x", st);
	fz->kills++;

	/* Its exit closed everything: the device, its VM, its group. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (fz_owner_gone(fz, prefix)) {
			if (!group || inherit || fz->f[FG].live)
				break;
			fd = open(fz->group_path, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				break;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		FZ_CHECK(fz, now.tv_sec - t0.tv_sec < 5,
			 "5 s after SIGKILL: %d VMs of the owner, or its open",
			 kvm_vms_alive(prefix));
		usleep(10000);
	}
	if (fz->kind == FZ_VKT) {
		/*
		 * Killed before its open, nothing; after, or during (then
		 * the open is done first), all of it; never a part.
		 */
		long d[4] = {
			vkt_count(fz->uuid, "gets") - before[0],
			vkt_count(fz->uuid, "puts") - before[1],
			vkt_count(fz->uuid, "opens") - before[2],
			vkt_count(fz->uuid, "closes") - before[3],
		};
		bool all = !memcmp(d, after, sizeof(d));

		FZ_CHECK(fz, all || (kill_after < 3 && !d[0] && !d[1] &&
				     !d[2] && !d[3]),
			 "the owner's gets %ld puts %ld opens %ld closes %ld",
			 d[0], d[1], d[2], d[3]);
		fz->vk.gets += d[0];
		fz->vk.puts += d[1];
		fz->vk.opens += d[2];
		fz->vk.closes += d[3];
		if (d[2])
			snprintf(fz->vk.at_open, sizeof(fz->vk.at_open), "%s",
				 vkt_str(fz->uuid, "kvm_at_open"));
		for (i = 0; d[2] && fz->s->pins && prefix[i]; i++)
			FZ_CHECK(fz, fz->vk.at_open[i] == prefix[i],
				 "the owner's open saw VM %s", fz->vk.at_open);
	}
	fz_logret(fz, 0);
}

/* --- the checks after every step ---------------------------------------- */

static void fz_check_eventfds(struct fz *fz)
{
	__u64 n;
	int i;

	for (i = 0; i < 2; i++) {
		n = 0;
		if (read(fz->efd[i], &n, sizeof(n)) != sizeof(n))
			FZ_CHECK(fz, errno == EAGAIN, "read efd%d", i);
		FZ_CHECK(fz, n == fz->efd_expect[i],
			 "efd%d was signalled %llu times, the model says %llu",
			 i, (unsigned long long)n,
			 (unsigned long long)fz->efd_expect[i]);
		fz->efd_expect[i] = 0;
	}
}

static void fz_check_memory(struct fz *fz)
{
	size_t k;

	if (!memcmp(fz->mem, fz->mmem, MEM_SIZE))
		return;
	for (k = 0; fz->mem[k] == fz->mmem[k]; k++)
		;
	fz_fail(fz, "guest memory at %#zx holds %#x, the model says %#x", k,
		fz->mem[k], fz->mmem[k]);
}

static void fz_check_vms(struct fz *fz, bool all)
{
	int r, alive = 0;
	bool real;

	for (r = 0; r < fz->nvms; r++) {
		struct fz_vm *v = &fz->vm[r];

		if (v->seen_dead)
			continue;
		real = kvm_vm_alive(v->name);
		FZ_CHECK(fz, real == v->alive, "VM %s is %s, the model says %s",
			 v->name, real ? "alive" : "gone",
			 v->alive ? "alive" : "gone");
		alive += v->alive;
		v->seen_dead = !v->alive;
	}
	/* And no VM the model does not know of. */
	FZ_CHECK(fz, !all || kvm_vms_alive(fz->prefix) == alive,
		 "%d VMs of this process alive, the model says %d",
		 kvm_vms_alive(fz->prefix), alive);
}

static void fz_check_vkt(struct fz *fz)
{
	char pinned[32];
	long pins = fz->pin >= 0;

	long got[4] = {
		vkt_count(fz->uuid, "gets"), vkt_count(fz->uuid, "puts"),
		vkt_count(fz->uuid, "opens"), vkt_count(fz->uuid, "closes"),
	};

	FZ_CHECK(fz, got[0] == fz->vk.gets && got[1] == fz->vk.puts &&
		 got[2] == fz->vk.opens && got[3] == fz->vk.closes,
		 "gets puts opens closes %ld %ld %ld %ld, model %ld %ld %ld %ld",
		 got[0], got[1], got[2], got[3], fz->vk.gets, fz->vk.puts,
		 fz->vk.opens, fz->vk.closes);
	/* At most one open pinning, and pins are gets minus puts. */
	FZ_CHECK(fz, fz->vk.gets - fz->vk.puts == pins, "gets - puts");
	fz_vm_name(fz, fz->pin, pinned, sizeof(pinned));
	FZ_CHECK(fz, !strcmp(vkt_str(fz->uuid, "pinned"), pinned),
		 "pinned: %s, the model says %s", vkt_str(fz->uuid, "pinned"),
		 pinned);
	FZ_CHECK(fz, vkt_pins() == pins, "vfio_kvm_test/pins %ld, model %ld",
		 vkt_pins(), pins);
	FZ_CHECK(fz, !strcmp(vkt_str(fz->uuid, "kvm_at_open"),
			     fz->vk.opens ? fz->vk.at_open : "none"),
		 "kvm_at_open: %s, the model says %s",
		 vkt_str(fz->uuid, "kvm_at_open"), fz->vk.at_open);
}

static void fz_check_mvgpu(struct fz *fz, bool all)
{
	struct fz_mvgpu *m = &fz->mg;
	char path[128], buf[256], want[256], vm[64];
	int n, i;

	if (!all)
		goto gtt;
	snprintf(path, sizeof(path), "%s/vm", fz->sysfs);
	FZ_CHECK(fz, !__sysfs_read(path, vm, sizeof(vm)), "read %s", path);
	if (fz_open(fz))
		snprintf(want, sizeof(want), "kvm-%d", getpid());
	else
		snprintf(want, sizeof(want), "none");
	FZ_CHECK(fz, !strcmp(vm, want), "vm attribute %s, the model says %s",
		 vm, want);
gtt:

	snprintf(path, sizeof(path), "/sys/kernel/debug/mvgpu/%s/gtt",
		 fz->uuid);
	FZ_CHECK(fz, !__sysfs_read(path, buf, sizeof(buf)), "read %s", path);
	/* The kernel's %#llx prints 0 as 0x0. */
	n = snprintf(want, sizeof(want),
		     "loaded %d base 0x%llx entries %u notified %u tracked",
		     m->loaded, (unsigned long long)m->lbase, m->lentries,
		     m->notified);
	if (!m->tracked)
		snprintf(want + n, sizeof(want) - n, " none");
	for (i = 0; i < 2; i++)
		if (m->tracked & (1u << i))
			n += snprintf(want + n, sizeof(want) - n, " 0x%llx",
				      (unsigned long long)m->gfn[i]);
	FZ_CHECK(fz, !strcmp(buf, want), "gtt: \"%s\", the model says \"%s\"",
		 buf, want);
}

static void fz_check_mzdev(struct fz *fz)
{
	char buf[4096], line[128];
	bool registered;

	FZ_CHECK(fz, !__sysfs_read("/sys/kernel/debug/mzdev/vms", buf,
				   sizeof(buf)), "read mzdev/vms");
	if (fz->pin >= 0) {
		snprintf(line, sizeof(line), "%s %s", fz->vm[fz->pin].name,
			 fz->uuid);
		registered = strstr(buf, line);
	} else {
		registered = !strstr(buf, fz->uuid);
	}
	FZ_CHECK(fz, registered, "mzdev/vms: \"%s\", the model says %s", buf,
		 fz->pin >= 0 ? fz->vm[fz->pin].name : "unregistered");
}

/*
 * Registers (a read has no side effect on any of them) and config space;
 * of mvgpu's shadow the part a table of its type can fill, and all of it
 * now and then.
 */
static void fz_check_regs(struct fz *fz, bool all)
{
	int i = fz_granted_file(fz);
	__u8 got[BAR0_SIZE], want[BAR0_SIZE];
	size_t lo = 0, len;
	long ret;
	size_t k;

	if (i < 0 || fz->kind == FZ_VKT)
		return;
	len = fz->kind == FZ_MVGPU ? 0x2c : fz->kind == FZ_MZDEV ? 0x24 : 8;
	/* mvgpu's shadow and mzdev's counters after the registers. */
	for (;;) {
		ret = fz_model_rw(fz, VFIO_PCI_BAR0_REGION_INDEX, lo, want, len,
				  false);
		FZ_CHECK(fz, ret == (long)len, "model read");
		ret = fz_sys(pread(fz->f[i].fd, got, len,
				   ((__u64)VFIO_PCI_BAR0_REGION_INDEX << 40) +
				   lo));
		FZ_CHECK(fz, ret == (long)len, "BAR0 [%#zx, +%zu) read: %ld",
			 lo, len, ret);
		if (memcmp(got, want, len)) {
			for (k = 0; got[k] == want[k]; k++)
				;
			k &= ~3ul;
			fz_fail(fz, "BAR0 %#zx reads %#x, the model says %#x",
				lo + k, *(__u32 *)(got + k),
				*(__u32 *)(want + k));
		}
		if (lo || fz->kind == FZ_MCOUNTER)
			break;
		lo = 0x100;
		len = fz->kind == FZ_MZDEV ? 0x30 :
		      all ? BAR0_SIZE - 0x100 : MVGPU_TYPE_ENTRIES * 8 + 64;
	}
	ret = fz_sys(pread(fz->f[i].fd, got, CFG_SIZE,
			   (__u64)VFIO_PCI_CONFIG_REGION_INDEX << 40));
	FZ_CHECK(fz, ret == CFG_SIZE && !memcmp(got, fz->cfg, CFG_SIZE),
		 "config space differs from the model's");
	/* What the guest sees of the table matches its memory. */
	if (fz->kind == FZ_MVGPU && fz->mg.loaded && !fz->mg.host_dirty) {
		for (k = 0; k < fz->mg.lentries * 8; k++) {
			long host = fz_iova_host(fz->mg.lbase + k);

			FZ_CHECK(fz, ((__u8 *)fz->mg.shadow)[k] ==
				 fz->mem[host], "shadow byte %zu", k);
		}
	}
}

static void fz_note_state(struct fz *fz)
{
	int feat = 0, irq = 0;

	if (fz->kind == FZ_MVGPU) {
		feat = fz->mg.loaded;
		irq = fz->mg.irq_index + 1;
	} else if (fz->kind == FZ_MZDEV) {
		feat = fz->mz.fmb_ctrl;
		irq = fz->mz.msi >= 0 ? 2 : 0;
	} else if (fz->kind == FZ_MCOUNTER) {
		irq = fz->mc.msi >= 0 ? 2 : 0;
	}
	fz->states |= 1ULL << (((fz->path * 2 + fz->linked) * 2 + feat) * 3 +
			       irq);
}

/*
 * After every step. What only opening or closing something can change
 * (the VMs KVM has, the test driver's global pins, mvgpu's vm attribute,
 * mzdev's registration) is read after such steps, and every 16th.
 */
static void fz_check(struct fz *fz)
{
	bool all = fz->lifecycle || !(fz->step % 16);

	fz_check_eventfds(fz);
	fz_check_memory(fz);
	fz_check_vms(fz, all);
	switch (fz->kind) {
	case FZ_VKT:
		/* Only the core's open and close reach the test driver. */
		if (all)
			fz_check_vkt(fz);
		break;
	case FZ_MVGPU:
		fz_check_mvgpu(fz, all);
		break;
	case FZ_MZDEV:
		if (all)
			fz_check_mzdev(fz);
		break;
	case FZ_MCOUNTER:
		break;
	}
	fz_check_regs(fz, all);
	fz_note_state(fz);
	fz->lifecycle = false;
}

/* --- one step ----------------------------------------------------------- */

enum fz_step {
	ST_VM_CREATE, ST_VM_CLOSE, ST_MEMSLOT, ST_VCPU, ST_GUEST_WRITE,
	ST_FILE_ADD, ST_FILE_DEL, ST_GROUP_OPEN, ST_GROUP_CLOSE,
	ST_GDEV_OPEN, ST_GDEV_CLOSE, ST_CDEV_OPEN, ST_CDEV_CLOSE,
	ST_CDEV_BIND, ST_CDEV_PT, ST_CONTAINER, ST_DMA, ST_PLUG, ST_UNPLUG,
	ST_OWNER,
	ST_CFG, ST_BAR0, ST_REGION, ST_IRQS, ST_RESET, ST_INFO, ST_DOORBELL,
	ST_BAR2, ST_MMAP, ST_MAP_ACCESS, ST_GTT, ST_FMB, ST_UID,
	ST_NR,
};

static int fz_weight(struct fz *fz, enum fz_step st)
{
	bool dev = fz->f[FGD0].fd >= 0 || fz->f[FGD1].fd >= 0 ||
		   fz->f[FC0].fd >= 0 || fz->f[FC1].fd >= 0;
	bool mvgpu = fz->kind == FZ_MVGPU;
	bool vm = fz_pick_vm(fz) >= 0, closed = !fz_open(fz);

	switch (st) {
	case ST_VM_CREATE:
		return fz_free_slot(fz) >= 0 ? (vm ? 1 : 8) : 0;
	case ST_VM_CLOSE:
		return vm ? 1 : 0;
	case ST_MEMSLOT:
		return vm ? 3 : 0;
	case ST_VCPU:
		return vm ? 4 : 0;
	case ST_GUEST_WRITE:
		return 1;
	case ST_FILE_ADD:
		return vm ? 5 : 0;
	case ST_FILE_DEL:
		return vm ? 2 : 0;
	case ST_GROUP_OPEN:
		return fz->f[FG].fd < 0 ? 2 : 0;
	case ST_GROUP_CLOSE:
		return fz->f[FG].fd >= 0 ? 1 : 0;
	case ST_GDEV_OPEN:
		return fz->f[FG].fd >= 0 &&
		       (!fz->f[FGD0].live || !fz->f[FGD1].live) ? 3 : 0;
	case ST_GDEV_CLOSE:
		return fz->f[FGD0].fd >= 0 || fz->f[FGD1].fd >= 0 ? 2 : 0;
	case ST_CDEV_OPEN:
		return !fz->f[FC0].live || !fz->f[FC1].live ? 2 : 0;
	case ST_CDEV_CLOSE:
		return fz->f[FC0].fd >= 0 || fz->f[FC1].fd >= 0 ? 1 : 0;
	case ST_CDEV_BIND:
		return fz->f[FC0].fd >= 0 || fz->f[FC1].fd >= 0 ? 3 : 0;
	case ST_CDEV_PT:
		return dev ? 1 : 0;
	case ST_CONTAINER:
		return fz->f[FG].fd >= 0 ? 1 : 0;
	case ST_DMA:
		return 3;
	case ST_PLUG:
		return closed ? 10 : 0;
	case ST_UNPLUG:
		return closed ? 0 : 1;
	case ST_OWNER:
		return closed ? 1 : 0;
	case ST_CFG:
		return dev ? 4 : 0;
	case ST_BAR0:
		return dev ? 6 : 0;
	case ST_REGION:
		return dev ? 1 : 0;
	case ST_IRQS:
		return dev ? 4 : 0;
	case ST_RESET:
		return dev ? 1 : 0;
	case ST_INFO:
		return dev ? 1 : 0;
	case ST_DOORBELL:
		return dev ? 4 : 0;
	case ST_BAR2:
		return dev && mvgpu ? 2 : 0;
	case ST_MMAP:
		return dev || fz->map ? (mvgpu ? 2 : 1) : 0;
	case ST_MAP_ACCESS:
		return fz->map ? 3 : 0;
	case ST_GTT:
		return dev && mvgpu ? 8 : 0;
	case ST_FMB:
		return dev && fz->kind == FZ_MZDEV ? 5 : 0;
	case ST_UID:
		return fz->kind == FZ_MZDEV ? 1 : 0;
	case ST_NR:
		break;
	}
	return 0;
}

static const __u32 fz_sizes[] = { 0, 1, 1, 2, 2, 3, 4, 4, 4, 5, 6, 7, 8, 8,
				  16, 64, 256, 4096 };

static __u64 fz_offset(struct fz *fz, __u64 size)
{
	switch (fz_below(fz, 6)) {
	case 0:
		return size - 1 - fz_below(fz, 8);	/* the end */
	case 1:
		return size + fz_below(fz, 16);		/* past it */
	case 2:
		return fz_chance(fz, 50) ? 1ULL << 39 : size * 2;
	default:
		return fz_below(fz, size);
	}
}

static const __u32 fz_mvgpu_regs[] = {
	0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28,
	0x2c, 0x100, 0x1f8, 0xffc,
};

static const __u32 fz_mzdev_regs[] = {
	0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x100, 0x118,
	0x120, 0xffc,
};

static __u32 fz_reg_value(struct fz *fz, __u32 off)
{
	if (fz_chance(fz, 40))
		return fz_rand(fz);
	if (fz->kind == FZ_MVGPU && off == MVGPU_REG_GTT_CTRL)
		return fz_below(fz, 4);
	if (fz->kind == FZ_MVGPU && off == MVGPU_REG_GTT_BASE_LO)
		return FZ_PICK(fz, fz_gtt_bases);
	if (fz->kind == FZ_MVGPU && off == MVGPU_REG_GTT_ENTRIES)
		return FZ_PICK(fz, fz_gtt_entries);
	if (fz->kind == FZ_MZDEV && off == MZDEV_REG_FMB_LO)
		return FZ_PICK(fz, fz_fmb_addrs);
	return fz_below(fz, 4);
}

static void fz_step_bar0(struct fz *fz, int i)
{
	__u8 data[4096];
	__u32 len = FZ_PICK(fz, fz_sizes);
	__u64 off;
	bool write = fz_chance(fz, 50);
	__u32 v;

	if (fz_chance(fz, 60)) {
		off = fz->kind == FZ_MVGPU ? FZ_PICK(fz, fz_mvgpu_regs) :
		      fz->kind == FZ_MZDEV ? FZ_PICK(fz, fz_mzdev_regs) :
					     fz_below(fz, 3) * 4;
		if (fz_chance(fz, 80))
			len = 4;
	} else {
		off = fz_offset(fz, BAR0_SIZE);
	}
	fz_fill(fz, data, len);
	if (write && len >= 4) {
		v = fz_reg_value(fz, off);
		memcpy(data, &v, 4);
	}
	fz_op_rw(fz, i, VFIO_PCI_BAR0_REGION_INDEX, off, data, len, write);
}

static void fz_step_irqs(struct fz *fz, int i)
{
	static const __u32 data[] = {
		VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_EVENTFD,
		VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
		VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_DATA_NONE,
	};
	static const __u32 action[] = {
		VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_MASK,
		VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	static const __u32 index[] = { INTX, INTX, MSI, MSI, MSI, 2, 4, 7 };
	static const __u32 count[] = { 1, 1, 1, 1, 0, 2 };
	static const int fdk[] = { 0, 0, 1, 1, 2, 3, 4 };
	struct fz_irq_req r = {
		.argsz = sizeof(struct vfio_irq_set) + 4,
		.flags = FZ_PICK(fz, data) | FZ_PICK(fz, action),
		.index = FZ_PICK(fz, index),
		.count = FZ_PICK(fz, count),
		.fdk = FZ_PICK(fz, fdk),
	};

	/* Mostly what a VMM asks for: enable, disable, mask, unmask. */
	if (fz_chance(fz, 60)) {
		r.index = fz_chance(fz, 65) ? MSI : INTX;
		r.count = 1;
		switch (fz_below(fz, 8)) {
		case 0:
			r.flags = VFIO_IRQ_SET_DATA_NONE |
				  VFIO_IRQ_SET_ACTION_TRIGGER;
			r.count = fz_below(fz, 2);
			break;
		case 1:
			r.flags = VFIO_IRQ_SET_DATA_NONE |
				  (fz_chance(fz, 50) ?
				   VFIO_IRQ_SET_ACTION_MASK :
				   VFIO_IRQ_SET_ACTION_UNMASK);
			break;
		default:
			r.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_TRIGGER;
			r.fdk = fz_chance(fz, 85) ? fz_below(fz, 2) : 2;
			break;
		}
		fz_op_irqs(fz, i, &r);
		return;
	}
	if (fz_chance(fz, 5))
		r.start = 1;
	if (fz_chance(fz, 5))
		r.argsz = fz_chance(fz, 50) ? 19 : 20;
	if (fz_chance(fz, 3))
		r.flags |= 1u << (6 + fz_below(fz, 26));
	/* An unmask eventfd must not be one of the model's (see above). */
	if ((r.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) ==
	    VFIO_IRQ_SET_DATA_EVENTFD &&
	    (r.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) ==
	    VFIO_IRQ_SET_ACTION_UNMASK && r.fdk < 2)
		r.fdk = 2 + fz_below(fz, 3);
	fz_op_irqs(fz, i, &r);
}

static void fz_step_vcpu(struct fz *fz)
{
	int slot = fz_pick_vm(fz), g;
	struct fz_vm *v;
	__u64 gpa = 0;
	int tries;

	/* Mostly the VM mvgpu tracks pages of, while it does. */
	if (fz->kind == FZ_MVGPU && fz->mg.tracked && fz->pin >= 0 &&
	    fz->vm[fz->pin].slot >= 0 && fz_chance(fz, 80))
		slot = fz->vm[fz->pin].slot;
	v = fz_slot_vm(fz, slot);
	/* A vCPU needs the VM fd, which the VMM may have closed. */
	if (v->fd < 0 || !v->slot0 || v->vcpus >= FZ_MAX_VCPUS)
		return;
	for (tries = 0; tries < 8; tries++) {
		g = fz->mg.tracked & 1 ? 0 : 1;
		if (fz->mg.tracked == 3 && fz_chance(fz, 50))
			g = 1;
		if (fz->mg.loaded && fz_chance(fz, 40))
			gpa = fz->mg.lbase +
			      fz_below(fz, fz->mg.lentries * 2) * 4;
		else if (fz->mg.tracked && fz_chance(fz, 50))
			gpa = (fz->mg.gfn[g] << 12) + fz_below(fz, 1024) * 4;
		else if (fz->kind == FZ_MVGPU && fz_chance(fz, 40))
			gpa = FZ_PICK(fz, fz_gtt_bases) + fz_below(fz, 64) * 4;
		else if (fz_chance(fz, 70))
			gpa = fz_below(fz, MEM_SIZE / 4) * 4;
		else
			gpa = SLOT1_MOVED + fz_below(fz, SLOT1_SIZE / 4) * 4;
		/* Guest RAM, not the code the vCPU runs. */
		if (fz_gpa_host(v, gpa) >= 0 && fz_gpa_host(v, gpa + 3) >= 0 &&
		    (gpa + 4 <= GUEST_CODE || gpa >= GUEST_CODE +
		     GUEST_CODE_LEN))
			break;
	}
	if (tries < 8)
		fz_op_vcpu_store(fz, slot, gpa, fz_rand(fz));
}

static void fz_step_file(struct fz *fz, bool add)
{
	int slot = fz_pick_vm(fz), t, n = 0, have[FZ_NFILES];

	for (t = 0; t < FZ_NFILES; t++)
		if (fz->f[t].fd >= 0)
			have[n++] = t;
	if (!n || fz_chance(fz, 8))
		t = fz_chance(fz, 50) ? FZ_T_NOT_VFIO : FZ_T_BAD_FD;
	else
		t = have[fz_below(fz, n)];
	if (add)
		fz_op_file_add(fz, slot, t);
	else
		fz_op_file_del(fz, slot, t);
}

static int fz_pick_fd_file(struct fz *fz, int lo, int hi)
{
	int i, n = 0, have[FZ_NFILES];

	for (i = lo; i <= hi; i++)
		if (fz->f[i].fd >= 0)
			have[n++] = i;
	return n ? have[fz_below(fz, n)] : -1;
}

/* Regions without registers (BAR2: mvgpu's aperture), past the last. */
static const __u32 fz_other_regions[] = { 1, 2, 3, 5, 6, 8, 9, 200 };

static void fz_step(struct fz *fz)
{
	int w[ST_NR], total = 0, r, st, i, slot;
	__u8 data[4096];
	__u32 len;

	for (st = 0; st < ST_NR; st++)
		total += w[st] = fz_weight(fz, st);
	r = fz_below(fz, total);
	for (st = 0; r >= w[st]; st++)
		r -= w[st];
	i = fz_pick_dev_file(fz);
	slot = fz_pick_vm(fz);

	switch (st) {
	case ST_VM_CREATE:
		fz_op_vm_create(fz, fz_free_slot(fz));
		break;
	case ST_VM_CLOSE:
		if (fz->vm[fz->slot_vm[slot]].fd >= 0 && fz_chance(fz, 30))
			fz_op_vm_fd_close(fz, slot);
		else
			fz_op_vm_close(fz, slot);
		break;
	case ST_MEMSLOT:
		fz_op_memslot(fz, slot, fz_below(fz, 7));
		break;
	case ST_VCPU:
		fz_step_vcpu(fz);
		break;
	case ST_GUEST_WRITE:
		len = 4 << fz_below(fz, 8);
		fz_op_guest_write(fz, fz_below(fz, (MEM_SIZE - len) / 4) * 4,
				  len);
		break;
	case ST_FILE_ADD:
	case ST_FILE_DEL:
		fz_step_file(fz, st == ST_FILE_ADD);
		break;
	case ST_GROUP_OPEN:
		fz_op_group_open(fz);
		break;
	case ST_GROUP_CLOSE:
		fz_op_group_close(fz);
		break;
	case ST_GDEV_OPEN:
		fz_op_gdev_open(fz, fz->f[FGD0].live ? FGD1 : FGD0,
				fz_chance(fz, 5));
		break;
	case ST_GDEV_CLOSE:
		fz_op_file_close(fz, fz_pick_fd_file(fz, FGD0, FGD1));
		break;
	case ST_CDEV_OPEN:
		fz_op_cdev_open(fz, fz->f[FC0].live ? FC1 : FC0);
		break;
	case ST_CDEV_CLOSE:
		fz_op_file_close(fz, fz_pick_fd_file(fz, FC0, FC1));
		break;
	case ST_CDEV_BIND:
		fz_op_cdev_bind(fz, fz_pick_fd_file(fz, FC0, FC1));
		break;
	case ST_CDEV_PT:
		/* Detach, IOAS 0 (again), IOAS 1, an id that is no IOAS. */
		fz_op_cdev_pt(fz, i, fz_chance(fz, 25) ? -1 :
			      FZ_PICK(fz, ((const int[]){ 0, 0, 1, 2 })));
		break;
	case ST_CONTAINER:
		/* Mostly the next step back to a container with an IOMMU. */
		r = fz->ctr != FZ_CTR_IOMMU && fz_chance(fz, 80);
		fz_op_container(fz, r ? fz->ctr + 1 : (int)fz_below(fz, 3));
		break;
	case ST_DMA:
		r = fz->container >= 0 && fz_chance(fz, 50) ? FZ_DOM_GROUP :
		    FZ_DOM_IOAS + fz_chance(fz, 25);
		fz_op_dma(fz, r, fz_below(fz, FZ_NCHUNKS),
			  FZ_PICK(fz, ((const int[]){ 0, 1, 2, 2, 2 })));
		break;
	case ST_PLUG:
		fz_plug(fz, fz->f[FG].live && fz->f[FG].fd < 0 ? FZ_CDEV :
			    fz_chance(fz, 50) ? FZ_GROUP : FZ_CDEV,
			fz_chance(fz, 85));
		break;
	case ST_UNPLUG:
		fz_unplug(fz);
		break;
	case ST_OWNER:
		fz_op_owner_killed(fz);
		break;
	case ST_CFG:
		len = FZ_PICK(fz, fz_sizes);
		fz_fill(fz, data, len);
		fz_op_rw(fz, i, VFIO_PCI_CONFIG_REGION_INDEX,
			 fz_chance(fz, 70) ? fz_below(fz, 0x50) :
					     fz_offset(fz, CFG_SIZE),
			 data, len, fz_chance(fz, 50));
		break;
	case ST_BAR0:
		fz_step_bar0(fz, i);
		break;
	case ST_REGION:
		len = FZ_PICK(fz, fz_sizes);
		fz_fill(fz, data, len);
		fz_op_rw(fz, i, FZ_PICK(fz, fz_other_regions),
			 fz_below(fz, 64), data, len, fz_chance(fz, 50));
		break;
	case ST_IRQS:
		fz_step_irqs(fz, i);
		break;
	case ST_RESET:
		fz_op_reset(fz, i);
		break;
	case ST_INFO:
		fz_op_info(fz, i, fz_below(fz, NUM_REGIONS + 2));
		break;
	case ST_DOORBELL:
		if (fz->kind == FZ_MVGPU && fz_chance(fz, 50))
			fz_op_reg_write(fz, i, MVGPU_REG_IRQ_ENABLE,
					fz_below(fz, 4));
		fz_op_reg_write(fz, i, fz_doorbell_reg(fz), 1);
		if (fz->kind == FZ_MVGPU && fz_chance(fz, 30))
			fz_op_reg_write(fz, i, MVGPU_REG_IRQ_STATUS,
					fz_below(fz, 4));
		break;
	case ST_BAR2:
		len = FZ_PICK(fz, fz_sizes);
		fz_fill(fz, data, len);
		fz_op_rw(fz, i, VFIO_PCI_BAR2_REGION_INDEX,
			 fz_offset(fz, MVGPU_AP_SIZE), data, len,
			 fz_chance(fz, 50));
		break;
	case ST_MMAP:
		if (fz->map && fz_chance(fz, 50)) {
			fz_op_munmap(fz);
			break;
		}
		if (i < 0)
			break;
		if (fz->map)
			fz_op_munmap(fz);
		fz_op_mmap(fz, i, fz_chance(fz, 80) ? fz_below(fz, 1024) :
				  fz_below(fz, 2048),
			   FZ_PICK(fz, ((const size_t[]){ 1, 2, 16, 1024 })),
			   fz_chance(fz, 90) ? VFIO_PCI_BAR2_REGION_INDEX :
					       VFIO_PCI_BAR0_REGION_INDEX,
			   fz_chance(fz, 90));
		break;
	case ST_MAP_ACCESS:
		len = FZ_PICK(fz, fz_sizes) + 1;
		if (len > fz->map_len)
			len = fz->map_len;
		fz_op_map_access(fz, fz_below(fz, fz->map_len - len + 1), len,
				 fz_chance(fz, 50));
		break;
	case ST_GTT:
		if (fz_chance(fz, 80))
			fz_gtt_load(fz, i);
		else
			fz_op_reg_write(fz, i, MVGPU_REG_GTT_CTRL,
					MVGPU_GTT_UNLOAD);
		break;
	case ST_FMB:
		if (fz_chance(fz, 50)) {
			fz_fmb_program(fz, i);
			if (fz_chance(fz, 60))
				fz_op_reg_write(fz, i, MZDEV_REG_DOORBELL, 1);
		} else if (fz_chance(fz, 70)) {
			fz_op_reg_write(fz, i, MZDEV_REG_DOORBELL, 1);
		} else {
			fz_op_reg_write(fz, i, MZDEV_REG_FMB_CTRL,
					fz_below(fz, 4));
		}
		break;
	case ST_UID:
		fz_op_uid(fz, FZ_PICK(fz, ((const char *const[]){
			"0x1234", "1", "65535", "0", "65536", "zz", "0x10" })));
		break;
	}
}

/* --- setup, the run, the end -------------------------------------------- */

/* Closes what is left, checking nothing: after a failure. */
static void fz_release(struct fz *fz)
{
	int i;

	if (fz->child > 0) {
		kill(fz->child, SIGKILL);
		waitpid(fz->child, NULL, 0);
		fz->child = 0;
	}
	if (fz->map)
		munmap(fz->map, fz->map_len);
	fz->map = NULL;
	for (i = 0; i < FZ_NFILES; i++)
		if (fz->f[i].fd >= 0)
			close(fz->f[i].fd);
	for (i = 0; i < fz->nvms; i++) {
		if (fz->vm[i].kv >= 0)
			close(fz->vm[i].kv);
		if (fz->vm[i].fd >= 0)
			close(fz->vm[i].fd);
		fz->vm[i].fd = -1;
		fz->vm[i].kv = -1;
	}
	for (i = 0; i < FZ_NFILES; i++)
		fz->f[i].fd = -1;
	if (fz->container >= 0)
		close(fz->container);
	fz->container = -1;
}

/* The end of a sequence: close everything, through the model. */
static void fz_close_all(struct fz *fz)
{
	int i, s;

	if (fz->map)
		fz_op_munmap(fz);
	for (i = FGD0; i < FZ_NFILES; i++)
		if (fz->f[i].fd >= 0)
			fz_op_file_close(fz, i);
	if (fz->f[FG].fd >= 0)
		fz_op_group_close(fz);
	for (s = 0; s < FZ_VM_SLOTS; s++)
		if (fz->slot_vm[s] >= 0)
			fz_op_vm_close(fz, s);
	fz_check(fz);
	for (i = 0; i < FZ_NFILES; i++)
		FZ_CHECK(fz, !fz->f[i].live, "the model keeps %s",
			 fz_file_name[i]);
	FZ_CHECK(fz, !fz_open(fz), "the model keeps the device open");
}

/* Nothing held: no VM, no pin, nothing tracked or registered. */
static void fz_assert_idle(struct fz *fz)
{
	char buf[256], path[128];

	FZ_CHECK(fz, kvm_vms_alive(fz->prefix) == 0, "%d VMs of %s alive",
		 kvm_vms_alive(fz->prefix), fz->prefix);
	subject_assert_idle(fz->s, fz->uuid);
	if (fz->s->vkt)
		FZ_CHECK(fz, vkt_pins() == 0, "vfio_kvm_test/pins %ld",
			 vkt_pins());
	if (fz->kind == FZ_MVGPU) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/mvgpu/%s/gtt",
			 fz->uuid);
		FZ_CHECK(fz, !__sysfs_read(path, buf, sizeof(buf)), "gtt");
		FZ_CHECK(fz, strstr(buf, "loaded 0 ") &&
			 strstr(buf, "tracked none"), "gtt: %s", buf);
	}
}

/* After it all the device opens again, in a fresh VM, and works. */
static void fz_reopen(struct fz *fz, enum fz_path path)
{
	int i;

	fz_plug(fz, path, true);
	FZ_CHECK(fz, fz_open(fz), "no reopen on the %s path",
		 path == FZ_GROUP ? "group" : "cdev");
	i = fz_granted_file(fz);
	if (fz->kind == FZ_VKT) {
		FZ_CHECK(fz, !strcmp(vkt_str(fz->uuid, "pinned"),
				     fz->s->pins ? fz->vm[fz->pin].name :
						   "none"),
			 "pinned %s", vkt_str(fz->uuid, "pinned"));
	} else {
		__u32 reg = fz->kind == FZ_MVGPU ? MVGPU_REG_DOORBELLS :
			    fz->kind == FZ_MZDEV ? MZDEV_REG_COUNTERS :
						   MCOUNTER_REG_COUNT;

		fz_op_reg_write(fz, i, fz_doorbell_reg(fz), 1);
		FZ_CHECK(fz, vfio_bar0_read(&(struct vfio_dev){
			.fd = fz->f[i].fd }, reg) == 1,
			"one doorbell does not count one");
	}
	fz_check(fz);
	fz_close_all(fz);
	fz_assert_idle(fz);
}

static void fz_print_states(struct fz *fz)
{
	static const char *const path[] = { "closed", "group", "cdev" };
	static const char *const irq[] = { "-", "intx", "msi" };
	const char *feat = fz->kind == FZ_MVGPU ? "gtt" :
			   fz->kind == FZ_MZDEV ? "fmb" : "-";
	char line[1024];
	int b, n = 0, count = 0;

	for (b = 0; b < FZ_STATES; b++) {
		if (!(fz->states & (1ULL << b)))
			continue;
		count++;
		n += snprintf(line + n, sizeof(line) - n, " %s/%s/%s/%s",
			      path[b / 12], b / 6 % 2 ? "vm" : "-",
			      b / 3 % 2 ? feat : "-", irq[b % 3]);
	}
	printf("# fuzz: %s: %d distinct states (path/vm/%s/irq):%s\n",
	       fz->s->name, count, feat, line);
}

FIXTURE(fuzz) {
	struct fz *fz;
};

FIXTURE_VARIANT(fuzz) {
	const struct mk_subject *s;
};

FIXTURE_VARIANT_ADD(fuzz, vkt_none) { .s = &mk_vkt_none };
FIXTURE_VARIANT_ADD(fuzz, vkt_optional) { .s = &mk_vkt_optional };
FIXTURE_VARIANT_ADD(fuzz, vkt_required) { .s = &mk_vkt_required };
FIXTURE_VARIANT_ADD(fuzz, mvgpu) { .s = &mk_mvgpu };
FIXTURE_VARIANT_ADD(fuzz, mzdev) { .s = &mk_mzdev };
FIXTURE_VARIANT_ADD(fuzz, mcounter) { .s = &mk_mcounter };

FIXTURE_SETUP(fuzz)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct fz *fz;
	int i;

	fz = calloc(1, sizeof(*fz));
	ASSERT_NE(NULL, fz);
	self->fz = fz;
	fz->md = _metadata;
	fz->s = variant->s;
	fz->kind = fz->s->vkt ? FZ_VKT : fz->s == &mk_mvgpu ? FZ_MVGPU :
		   fz->s == &mk_mzdev ? FZ_MZDEV : FZ_MCOUNTER;
	fz_opts_parse(&fz->o);
	snprintf(fz->test, sizeof(fz->test), "fuzz.%s.%s", fz->s->name,
		 _metadata->name);
	for (i = 0; fz->test[i]; i++)
		if (fz->test[i] == '-')
			fz->test[i] = '_';
	ASSERT_EQ(0, fz->o.bad[0])
		TH_LOG("MDEV_KVM_FUZZ: \"%s\"? seed=N,steps=N,seconds=N",
		       fz->o.bad);
	fz->rng = fz->o.seed;
	fz->cur = fz->ring[0];
	fz->fingerprint = 0xcbf29ce484222325ULL;
	fz->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fz->kvm) TH_LOG("no /dev/kvm: the fuzzer needs KVM");
	fz->container = -1;
	fz->iommufd = -1;
	fz->null_fd = -1;
	fz->efd[0] = -1;
	fz->efd[1] = -1;
	for (i = 0; i < FZ_NFILES; i++)
		fz->f[i] = (struct fz_file){ .fd = -1 };
	for (i = 0; i < FZ_VM_SLOTS; i++)
		fz->slot_vm[i] = -1;
	fz->pin = -1;
	fz->mg.irq_index = -1;
	fz->mg.trigger = -1;
	fz->mz.msi = -1;
	fz->mc.msi = -1;
	snprintf(fz->prefix, sizeof(fz->prefix), "%d-", getpid());
	snprintf(fz->vk.at_open, sizeof(fz->vk.at_open), "none");
	fz_cfg_init(fz);

	subject_modprobe(fz->s);
	mdev_create(fz->s->parent, fz->s->type, fz->uuid);
	mdev_path(fz->sysfs, fz->uuid);
	fz_active = fz;
	ASSERT_EQ(0, __vfio_dev_file_path(VFIO_PATH_GROUP, fz->sysfs,
					  fz->group_path,
					  sizeof(fz->group_path)));
	ASSERT_EQ(0, __vfio_dev_file_path(VFIO_PATH_CDEV, fz->sysfs,
					  fz->cdev_path,
					  sizeof(fz->cdev_path)));
	for (i = 0; i < 2; i++) {
		fz->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, fz->efd[i]);
	}
	fz->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fz->null_fd);
	fz->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fz->iommufd);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ioctl(fz->iommufd, IOMMU_IOAS_ALLOC, &alloc));
		fz->ioas[i] = alloc.out_ioas_id;
	}
	fz->bad_fd = 1000;
	ASSERT_EQ(-1, fcntl(fz->bad_fd, F_GETFD));
	/* Shared: a forked owner's writes are not copies. */
	fz->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fz->mem);
	fz->mmem = calloc(1, MEM_SIZE);
	fz->mg.ap = calloc(1, MVGPU_AP_SIZE);
	ASSERT_NE(NULL, fz->mmem);
	ASSERT_NE(NULL, fz->mg.ap);
	atexit(fz_atexit);
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fz *fz = self->fz;

	fz_active = NULL;
	fz_release(fz);
	if (fz->iommufd >= 0)
		close(fz->iommufd);
	close(fz->kvm);
	mdev_remove(fz->uuid);
}

/*
 * The seeded sequence, each step checked against the model, then the end:
 * nothing held, and the device still opens and works.
 */
TEST_F_TIMEOUT(fuzz, random_steps_keep_the_model_and_leave_nothing_held,
	       fz_timeout())
{
	struct fz *fz = self->fz;
	struct timespec t0, now;
	double secs = 0;
	bool timed_out = false;

	printf("# fuzz: %s: seed %#llx, up to %lu steps or %lu s\n",
	       fz->s->name, fz->o.seed, fz->o.steps, fz->o.seconds);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fz_check(fz);
	for (fz->step = 1; fz->step <= fz->o.steps; fz->step++) {
		fz_step(fz);
		fz_check(fz);
		clock_gettime(CLOCK_MONOTONIC, &now);
		secs = now.tv_sec - t0.tv_sec +
		       (now.tv_nsec - t0.tv_nsec) / 1e9;
		if (secs >= fz->o.seconds) {
			timed_out = fz->step < fz->o.steps;
			break;
		}
	}
	if (fz->step > fz->o.steps)
		fz->step = fz->o.steps;
	printf("# fuzz: %s: %lu steps in %.1f s (%s): ", fz->s->name,
	       fz->step, secs, timed_out ? "the time budget" :
					   "the step budget");
	printf("%lu operations, %lu refused as predicted (sequence %#llx)\n",
	       fz->ops, fz->refused, (unsigned long long)fz->fingerprint);
	printf("# fuzz: %s: %lu GTT loads, %lu lost to a memslot delete; ",
	       fz->s->name, fz->loads, fz->lost);
	printf("%lu vCPU stores, %lu to tracked pages; %lu FMB writes; ",
	       fz->stores, fz->tracked_stores, fz->dma_writes);
	printf("%lu memslot moves; %lu owners killed; ", fz->moves,
	       fz->kills);
	printf("%lu VM fds closed alone, %lu opens refused for a closed VM\n",
	       fz->vm_fds_closed, fz->enoents);
	fz_print_states(fz);

	fz->ending = true;
	fz_log(fz, "close everything");
	fz_close_all(fz);
	fz_assert_idle(fz);
	fz_reopen(fz, FZ_GROUP);
	fz_reopen(fz, FZ_CDEV);
	fz_active = NULL;
}

TEST_HARNESS_MAIN
