// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_bench: what the KVM pin and the mdev lifecycle cost (make bench).
 *
 * Under QEMU TCG absolute times mean little, so every figure is also a
 * ratio to another one measured in the same boot, round by round: a round
 * runs each variant's cycles in 10 slices, interleaved, in an order that
 * reverses from one slice to the next (A B C C B A A B C ...), so that
 * drift cancels; a figure is the median over the rounds, with the min-max
 * spread.
 *
 *  ref        open + close of /dev/null, a path the series does not
 *             touch; every time is also given divided by it ("/ref"),
 *             which is what makes two boots (ours and upstream)
 *             comparable (scripts/bench-compare.sh)
 *  cycle      first open + last close of a device whose group or device
 *             file is attached to a VM, on the group path (GET_DEVICE_FD,
 *             close) and the cdev path (open, FILE_ADD, BIND_IOMMUFD,
 *             FILE_DEL, close): the control sample mcounter (no kvm_ops,
 *             the floor), mzdev (optional pin) and mvgpu (required pin),
 *             whose drivers also do work of their own at open and close;
 *             vfio_kvm_bench's three types (a driver that does nothing, of
 *             which only kvm_ops differs: the ratio is the pin alone); and
 *             the kernel's mtty, attached and not
 *  lifecycle  mdev create + remove of 10, 100 and 1,000 instances of
 *             mcounter (is it linear?), and of 10 of mtty (it has 24)
 *  memory     kernel memory per idle instance: Slab in /proc/meminfo and
 *             the bytes of slab objects in /proc/slabinfo, before and
 *             after creating the instances, with the caches that grew most
 *  threads    per-op cost of the cycle with 1 and 2 threads, each on its
 *             own device in its own VM
 *  vm-life    a VM (2 vCPUs, a dirty-logged 256 MiB memslot) that the VMM
 *             closes while a vfio-pci device it was given stays open (QEMU's
 *             edu): whether the VM is still alive, and the kernel memory
 *             (Slab + vmalloc: a lower bound, pages such as the VMCBs are
 *             not counted) that the device's close frees, against the same
 *             close with the device in no VM, on both paths
 *
 * It prints a table and writes it as CSV. Targets are shown next to the
 * figures they apply to, never asserted. What the kernel does not have
 * (upstream has no sample of ours and no kvm_ops) is reported as n/a.
 *
 * Options, key=value: rounds= (15), iters= (most cycles per variant and
 * round, 5000), round_ms= (time per variant and round, which bounds the
 * cycles of slow variants, 100), sizes= (lifecycle, 10/100/1000),
 * lc_rounds= (5), csv= and table= (output files), kernel= (label of the
 * kernel; default "ours" when VFIO has vfio_device_pin_kvm(), else
 * "upstream"), profile= (a row, e.g. mvgpu/group: trace a few of its
 * cycles with ftrace's function_graph and print the trace), graph= (the
 * functions traced from, a/b/c; default: the cycle's syscalls), depth=
 * (max_graph_depth, 8), sections= (which to run, slash-separated, e.g.
 * vm-life or cycle/threads; default all four).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/vfio.h>

#include "kselftest.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/pci.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"

#define MAX_ROUNDS	64
#define MAX_SIZES	4
#define MAX_ROWS	96
#define CHUNKS		10	/* slices of a round, interleaved */
#define PIN_TARGET	1.05	/* pinned cycle / floor */
#define LINEAR_TARGET	11.0	/* create + remove of 1,000 / of 100 */
#define THREADS_TARGET	1.2	/* 2-thread per-op cost / 1 thread */
#define TRACEFS		"/sys/kernel/tracing"

static struct {
	int rounds;
	int iters;
	int round_ms;
	int sizes[MAX_SIZES];
	int nsizes;
	int lc_rounds;
	const char *csv;
	const char *table;
	const char *kernel;
	const char *profile;
	char *graph;
	int depth;
	const char *sections;
} cfg = {
	.rounds = 15, .iters = 5000, .round_ms = 100,
	.sizes = { 10, 100, 1000 }, .nsizes = 3, .lc_rounds = 5,
	.csv = "/tmp/mdev_bench.csv", .table = "/tmp/mdev_bench.txt",
	.depth = 8,
};

/* The kernel's own sample, in both kernels. */
static const struct mk_subject bench_mtty = {
	.name = "mtty", .parent = "mtty", .type = "mtty-1",
};

/* selftests/drivers/vfio_kvm_bench.c: devices that differ only in kvm_ops */
#define VKB	"vfio_kvm_bench"
static const struct mk_subject vkb_none = {
	.name = "vkb-none", .parent = VKB, .type = VKB "-none",
};

static const struct mk_subject vkb_optional = {
	.name = "vkb-optional", .parent = VKB, .type = VKB "-optional",
	.pins = true,
};

static const struct mk_subject vkb_required = {
	.name = "vkb-required", .parent = VKB, .type = VKB "-required",
	.needs_vm = true, .pins = true,
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* --- statistics -------------------------------------------------------- */

struct spread {
	int n;		/* rounds; 0: nothing measured */
	double med, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median and min-max of the values of @v that are > 0 (a time of 0: the
 * round did not run) or, with @all, of all of them.
 */
static struct spread __spread_of(const double *v, int n, bool all)
{
	struct spread s = { 0 };
	double tmp[MAX_ROUNDS];
	int i;

	for (i = 0; i < n; i++)
		if (all || v[i] > 0)
			tmp[s.n++] = v[i];
	if (!s.n)
		return s;
	qsort(tmp, s.n, sizeof(tmp[0]), cmp_double);
	s.min = tmp[0];
	s.max = tmp[s.n - 1];
	s.med = s.n % 2 ? tmp[s.n / 2] :
			  (tmp[s.n / 2 - 1] + tmp[s.n / 2]) / 2;
	return s;
}

static struct spread spread_of(const double *v, int n)
{
	return __spread_of(v, n, false);
}

/* Round by round a[r] / b[r], where both were measured. */
static struct spread ratio_of(const double *a, const double *b, int n)
{
	double r[MAX_ROUNDS];
	int i;

	for (i = 0; i < n; i++)
		r[i] = a[i] > 0 && b[i] > 0 ? a[i] / b[i] : 0;
	return spread_of(r, n);
}

/* --- the report -------------------------------------------------------- */

struct row {
	const char *section;
	char name[40];
	const char *path;	/* group, cdev or "-" */
	const char *vm;		/* yes, no or "-" */
	int n;			/* cycles per round, or instances */
	const char *unit;
	double scale;		/* ns -> unit */
	struct spread val;
	struct spread norm;	/* value / the reference loop, same round */
	char vs[40];		/* what the ratio divides by */
	struct spread ratio;
	double target;		/* the ratio's target (<=), 0: none */
	char na[64];		/* why there is no figure */
};

static struct row rows[MAX_ROWS];
static int nrows;
static char label[16];
static struct utsname uts;

static struct row *row_add(const char *section, const char *name,
			   const char *path, const char *vm)
{
	struct row *r = &rows[nrows++];

	if (nrows > MAX_ROWS) {
		fprintf(stderr, "mdev_bench: too many rows\n");
		exit(1);
	}
	r->section = section;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->path = path;
	r->vm = vm;
	r->unit = "us";
	r->scale = 0.001;
	return r;
}

static const char *met(const struct row *r)
{
	if (!r->target)
		return "";
	if (!r->ratio.n)
		return "n/a";
	return r->ratio.med <= r->target ? "met" : "missed";
}

static void fmt_spread(char *buf, size_t size, const struct spread *s,
		       double scale, const char *fmt)
{
	char a[16], b[16], c[16];

	if (!s->n) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(a, sizeof(a), fmt, s->med * scale);
	snprintf(b, sizeof(b), fmt, s->min * scale);
	snprintf(c, sizeof(c), fmt, s->max * scale);
	snprintf(buf, size, "%s [%s-%s]", a, b, c);
}

static void print_table(FILE *f)
{
	char val[64], norm[16], ratio[64], target[16];
	const char *section = "";
	int i;

	fprintf(f,
		"mdev_bench: kernel %s (%s), %d rounds, up to %d cycles or %d ms per variant and round\n",
		label, uts.release, cfg.rounds, cfg.iters, cfg.round_ms);
	fprintf(f, "%-9s %-34s %-5s %-3s %5s %-27s %6s  %-12s %-20s %-6s %s\n",
		"section", "variant", "path", "VM", "n", "median [min-max]",
		"/ref", "vs", "ratio [min-max]", "target", "met");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		if (strcmp(section, r->section))
			fprintf(f, "\n");
		section = r->section;
		if (r->na[0]) {
			fprintf(f, "%-9s %-34s %-5s %-3s %5s n/a (%s)\n",
				r->section, r->name, r->path, r->vm, "",
				r->na);
			continue;
		}
		fmt_spread(val, sizeof(val), &r->val, r->scale, "%.2f");
		snprintf(val + strlen(val), sizeof(val) - strlen(val), " %s",
			 r->unit);
		norm[0] = '\0';
		if (r->norm.n)
			snprintf(norm, sizeof(norm), "%.2f", r->norm.med);
		fmt_spread(ratio, sizeof(ratio), &r->ratio, 1, "%.2f");
		target[0] = '\0';
		if (r->target)
			snprintf(target, sizeof(target), "<=%.2f", r->target);
		fprintf(f,
			"%-9s %-34s %-5s %-3s %5d %-27s %6s  %-12s %-20s %-6s %s\n",
			r->section, r->name, r->path, r->vm, r->n, val, norm,
			r->vs, r->ratio.n ? ratio : (r->vs[0] ? "n/a" : ""),
			target, met(r));
	}
}

static void csv_spread(FILE *f, const struct spread *s, double scale)
{
	if (s->n)
		fprintf(f, ",%.4f,%.4f,%.4f", s->med * scale, s->min * scale,
			s->max * scale);
	else
		fprintf(f, ",n/a,n/a,n/a");
}

static void write_csv(FILE *f)
{
	int i;

	fprintf(f,
		"# mdev_bench kernel=%s release=%s rounds=%d iters=%d round_ms=%d lc_rounds=%d\n",
		label, uts.release, cfg.rounds, cfg.iters, cfg.round_ms,
		cfg.lc_rounds);
	fprintf(f, "%s\n",
		"kernel,section,variant,path,vm,n,unit,median,min,max,norm_median,norm_min,norm_max,vs,ratio_median,ratio_min,ratio_max,target,met,note");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		fprintf(f, "%s,%s,%s,%s,%s,%d,%s", label, r->section, r->name,
			r->path, r->vm, r->n, r->unit);
		csv_spread(f, &r->val, r->na[0] ? 0 : r->scale);
		csv_spread(f, &r->norm, 1);
		fprintf(f, ",%s", r->vs);
		csv_spread(f, &r->ratio, 1);
		if (r->target)
			fprintf(f, ",%.2f,%s", r->target, met(r));
		else
			fprintf(f, ",,");
		fprintf(f, ",%s\n", r->na);
	}
}

/* --- the open/close cycle ---------------------------------------------- */

struct cyc {
	const char *name;
	const struct mk_subject *s;	/* NULL: the reference loop */
	enum vfio_path path;
	bool vm;
	/* set up */
	bool ok;
	char why[64];
	char uuid[MDEV_UUID_LEN];
	bool created;
	struct vfio_dev dev;		/* group path */
	char cdev[64];			/* cdev path */
	int iommufd;
	int vmfd;
	int kv;
	int iters;
	double ns[MAX_ROUNDS];		/* per cycle, per round */
};

static bool subject_present(const struct mk_subject *s)
{
	char path[128];

	__modprobe(s->parent);
	snprintf(path, sizeof(path), "/sys/class/mdev_bus/%s", s->parent);
	return access(path, F_OK) == 0;
}

/* One first open + last close; 0 or -errno. */
static int cyc_once(struct cyc *c)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = c->iommufd,
	};
	bool added = false;
	int fd, ret = 0;

	if (!c->s) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	}
	if (c->path == VFIO_PATH_GROUP) {
		fd = ioctl(c->dev.file, VFIO_GROUP_GET_DEVICE_FD, c->dev.name);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	}
	/* The cdev is the device fd: attach, bind (the open), detach. */
	fd = open(c->cdev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (c->vm) {
		ret = __kvm_vfio_file_add(c->kv, fd);
		added = !ret;
	}
	if (!ret && ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		ret = -errno;
	if (added)
		__kvm_vfio_file_del(c->kv, fd);
	close(fd);
	return ret;
}

/* @n cycles; the time per cycle in @ns. 0 or -errno. */
static int cyc_loop(struct cyc *c, int n, double *ns)
{
	double t0 = now_ns();
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = cyc_once(c);
		if (ret)
			return ret;
	}
	*ns = (now_ns() - t0) / n;
	return 0;
}

/* Marks @c as not measurable; returns @ret. */
static int cyc_fail(struct cyc *c, const char *what, int ret)
{
	c->ok = false;
	snprintf(c->why, sizeof(c->why), "%s: %s", what, strerror(-ret));
	return ret;
}

static int cyc_setup_dev(struct cyc *c)
{
	char p[MDEV_PATH_LEN];
	int ret;

	if (c->vm) {
		ret = __kvm_vm_create(&c->vmfd);
		if (ret)
			return cyc_fail(c, "KVM_CREATE_VM", ret);
		ret = __kvm_vfio_create(c->vmfd, &c->kv);
		if (ret)
			return cyc_fail(c, "kvm-vfio device", ret);
	}
	ret = __mdev_create(c->s->parent, c->s->type, c->uuid);
	if (ret)
		return cyc_fail(c, "mdev create", ret);
	c->created = true;
	mdev_path(p, c->uuid);
	if (c->path == VFIO_PATH_CDEV) {
		ret = __vfio_dev_file_path(VFIO_PATH_CDEV, p, c->cdev,
					   sizeof(c->cdev));
		if (ret)
			return cyc_fail(c, "no device cdev", ret);
		c->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (c->iommufd < 0)
			return cyc_fail(c, "/dev/iommu", -errno);
		return 0;
	}
	ret = __vfio_dev_file_open(&c->dev, VFIO_PATH_GROUP, p);
	if (ret)
		return cyc_fail(c, "group", ret);
	if (c->vm) {
		ret = __kvm_vfio_file_add(c->kv, c->dev.file);
		if (ret)
			return cyc_fail(c, "FILE_ADD", ret);
	}
	/* The first open sets the container up; keep it, close the device. */
	ret = __vfio_dev_open(&c->dev);
	if (ret)
		return cyc_fail(c, "open", ret);
	vfio_dev_close(&c->dev);
	return 0;
}

/*
 * The cost of one cycle, for sizing the rounds: the fastest of batches of
 * 10 cycles run for 20 ms (at least 3 batches), so that a moment of noise
 * does not shrink a variant's rounds.
 */
static int cyc_calibrate(struct cyc *c, double *ns)
{
	double t0 = now_ns(), batch;
	int i, ret;

	*ns = 0;
	for (i = 0; i < 3 || now_ns() - t0 < 20e6; i++) {
		ret = cyc_loop(c, 10, &batch);
		if (ret)
			return ret;
		if (!*ns || batch < *ns)
			*ns = batch;
	}
	return 0;
}

/* Sets @c up and sizes its rounds: about round_ms, at most iters cycles. */
static void cyc_setup(struct cyc *c)
{
	double ns;
	int ret;

	c->ok = true;
	c->vmfd = -1;
	c->kv = -1;
	c->iommufd = -1;
	c->dev = (struct vfio_dev){ .file = -1, .container = -1,
				    .iommufd = -1, .fd = -1 };
	if (c->s) {
		if (!subject_present(c->s)) {
			c->ok = false;
			snprintf(c->why, sizeof(c->why),
				 "no mdev parent %s in this kernel",
				 c->s->parent);
			return;
		}
		if (cyc_setup_dev(c))
			return;
	}
	ret = cyc_calibrate(c, &ns);
	if (ret) {
		cyc_fail(c, "cycle", ret);
		return;
	}
	c->iters = cfg.round_ms * 1e6 / ns;
	if (c->iters > cfg.iters)
		c->iters = cfg.iters;
	/* whole chunks, one at least */
	c->iters = c->iters < CHUNKS ? CHUNKS : c->iters / CHUNKS * CHUNKS;
}

static void cyc_teardown(struct cyc *c)
{
	vfio_dev_release(&c->dev);
	if (c->iommufd >= 0)
		close(c->iommufd);
	if (c->kv >= 0)
		close(c->kv);
	if (c->vmfd >= 0)
		close(c->vmfd);
	if (c->created)
		__mdev_remove(c->uuid);
	c->iommufd = -1;
	c->kv = -1;
	c->vmfd = -1;
	c->created = false;
}

/* One chunk of a round: a CHUNKS-th of the round's cycles. */
static void cyc_measure(struct cyc *c, int round)
{
	double ns;
	int ret;

	if (!c->ok)
		return;
	ret = cyc_loop(c, c->iters / CHUNKS, &ns);
	if (ret)
		cyc_fail(c, "cycle", ret);
	c->ns[round] += ns / CHUNKS;
}

/*
 * Runs every round: each variant's cycles in CHUNKS slices, interleaved
 * (A B C A B C ...), the order reversed from one slice to the next, so
 * that what drifts within a round weighs on every variant alike.
 */
static void cyc_rounds(struct cyc *cs, int n)
{
	int r, k, i;

	for (r = 0; r < cfg.rounds; r++)
		for (k = 0; k < CHUNKS; k++)
			for (i = 0; i < n; i++)
				cyc_measure(&cs[k % 2 ? n - 1 - i : i], r);
}

/* The cycle variants; "vs" names the row each one's ratio divides by. */
#define CYC(n, subj, p, v)	{ .name = n, .s = subj, .path = p, .vm = v }
static struct cyc cycles[] = {
	CYC("/dev/null", NULL, VFIO_PATH_GROUP, false),
	CYC("mcounter", &mk_mcounter, VFIO_PATH_GROUP, true),
	CYC("mzdev", &mk_mzdev, VFIO_PATH_GROUP, true),
	CYC("mvgpu", &mk_mvgpu, VFIO_PATH_GROUP, true),
	CYC("vkb-none", &vkb_none, VFIO_PATH_GROUP, true),
	CYC("vkb-optional", &vkb_optional, VFIO_PATH_GROUP, true),
	CYC("vkb-required", &vkb_required, VFIO_PATH_GROUP, true),
	CYC("mtty", &bench_mtty, VFIO_PATH_GROUP, true),
	CYC("mtty", &bench_mtty, VFIO_PATH_GROUP, false),
	CYC("mcounter", &mk_mcounter, VFIO_PATH_CDEV, true),
	CYC("mzdev", &mk_mzdev, VFIO_PATH_CDEV, true),
	CYC("mvgpu", &mk_mvgpu, VFIO_PATH_CDEV, true),
	CYC("vkb-none", &vkb_none, VFIO_PATH_CDEV, true),
	CYC("vkb-optional", &vkb_optional, VFIO_PATH_CDEV, true),
	CYC("vkb-required", &vkb_required, VFIO_PATH_CDEV, true),
	CYC("mtty", &bench_mtty, VFIO_PATH_CDEV, true),
	CYC("mtty", &bench_mtty, VFIO_PATH_CDEV, false),
};

#define NCYCLES	((int)ARRAY_SIZE(cycles))

static const char *vm_str(bool vm)
{
	return vm ? "yes" : "no";
}

static struct cyc *cyc_find(const char *name, enum vfio_path path, bool vm)
{
	int i;

	for (i = 1; i < NCYCLES; i++)
		if (!strcmp(cycles[i].name, name) && cycles[i].path == path &&
		    cycles[i].vm == vm)
			return &cycles[i];
	return NULL;
}

/* What each row is compared with, and whether the pin target applies. */
static void cyc_vs(const struct cyc *c, const struct cyc **vs,
		   double *target)
{
	const char *s = c->s->name;

	*vs = NULL;
	*target = 0;
	if (!strcmp(s, "mzdev") || !strcmp(s, "mvgpu")) {
		*vs = cyc_find("mcounter", c->path, true);
		*target = PIN_TARGET;
	} else if (!strcmp(s, "vkb-optional") || !strcmp(s, "vkb-required")) {
		*vs = cyc_find("vkb-none", c->path, true);
		*target = PIN_TARGET;
	} else if (!strcmp(s, "vkb-none")) {
		*vs = cyc_find("mcounter", c->path, true);
	} else if (!strcmp(s, "mtty") && c->vm) {
		*vs = cyc_find("mtty", c->path, false);
	}
}

static void cyc_report(void)
{
	const struct cyc *ref = &cycles[0], *vs;
	struct row *r;
	double target;
	int i;

	r = row_add("ref", "open+close /dev/null", "-", "-");
	r->n = ref->iters;
	if (!ref->ok)
		snprintf(r->na, sizeof(r->na), "%s", ref->why);
	r->val = spread_of(ref->ns, cfg.rounds);
	for (i = 1; i < NCYCLES; i++) {
		const struct cyc *c = &cycles[i];

		r = row_add("cycle", c->name, vfio_path_name(c->path),
			    vm_str(c->vm));
		if (!c->ok) {
			snprintf(r->na, sizeof(r->na), "%s", c->why);
			continue;
		}
		r->n = c->iters;
		r->val = spread_of(c->ns, cfg.rounds);
		r->norm = ratio_of(c->ns, ref->ns, cfg.rounds);
		if (!strcmp(c->name, "mcounter"))
			snprintf(r->vs, sizeof(r->vs), "(the floor)");
		cyc_vs(c, &vs, &target);
		if (!vs)
			continue;
		snprintf(r->vs, sizeof(r->vs), "%s%s", vs->name,
			 vs->vm ? "" : " no VM");
		r->target = target;
		if (vs->ok)
			r->ratio = ratio_of(c->ns, vs->ns, cfg.rounds);
	}
}

/* --- threads ----------------------------------------------------------- */

struct thr_arg {
	struct cyc *c;
	int n;
	pthread_barrier_t *start;
	double ns;
	int ret;
};

static void *thr_main(void *p)
{
	struct thr_arg *a = p;

	pthread_barrier_wait(a->start);
	a->ret = cyc_loop(a->c, a->n, &a->ns);
	return NULL;
}

/*
 * @nt threads, thread i on @cs[i], all started together. The per-op cost
 * is that of the slowest thread: its time divided by its cycles.
 */
static int thr_run(struct cyc *cs, int nt, int n, double *ns)
{
	struct thr_arg a[2];
	pthread_barrier_t start;
	pthread_t t[2];
	int i, ret = 0;

	pthread_barrier_init(&start, NULL, nt);
	for (i = 0; i < nt; i++) {
		a[i] = (struct thr_arg){ .c = &cs[i], .n = n, .start = &start };
		pthread_create(&t[i], NULL, thr_main, &a[i]);
	}
	*ns = 0;
	for (i = 0; i < nt; i++) {
		pthread_join(t[i], NULL);
		if (a[i].ret)
			ret = a[i].ret;
		if (a[i].ns > *ns)
			*ns = a[i].ns;
	}
	pthread_barrier_destroy(&start);
	return ret;
}

struct thr {
	struct cyc c[2];	/* two devices, two VMs */
	double ns[2][MAX_ROUNDS];
};

/* The reference loop first: the rows are normalized by it. */
static const struct mk_subject *const thr_subjects[] = {
	NULL, &mk_mcounter, &vkb_required, &bench_mtty,
};

#define NTHRS	((int)ARRAY_SIZE(thr_subjects))
static struct thr thrs[NTHRS];

/* One chunk of a round with @nt threads. */
static void thr_measure(struct thr *t, int nt, int round)
{
	double ns;
	int ret;

	if (!t->c[0].ok)
		return;
	ret = thr_run(t->c, nt, t->c[0].iters / CHUNKS, &ns);
	if (ret)
		cyc_fail(&t->c[0], "cycle", ret);
	t->ns[nt - 1][round] += ns / CHUNKS;
}

static void thr_bench(void)
{
	struct thr *t;
	struct row *r;
	int i, j, k;

	for (i = 0; i < NTHRS; i++) {
		const struct mk_subject *s = thr_subjects[i];

		t = &thrs[i];
		for (j = 0; j < 2; j++) {
			t->c[j] = (struct cyc)CYC(s ? s->name : "/dev/null", s,
						  VFIO_PATH_GROUP, !!s);
			cyc_setup(&t->c[j]);
		}
		if (!t->c[1].ok && t->c[0].ok) {
			t->c[0].ok = false;
			snprintf(t->c[0].why, sizeof(t->c[0].why), "%s",
				 t->c[1].why);
		}
	}
	printf("# threads: 1 and 2 threads, %d rounds\n", cfg.rounds);
	fflush(stdout);
	/* Interleaved in chunks as the cycles are; 1 and 2 threads too. */
	for (k = 0; k < cfg.rounds * CHUNKS; k++) {
		for (j = 0; j < NTHRS; j++) {
			t = &thrs[k % 2 ? NTHRS - 1 - j : j];
			thr_measure(t, k % 2 ? 2 : 1, k / CHUNKS);
			thr_measure(t, k % 2 ? 1 : 2, k / CHUNKS);
		}
	}
	for (i = 0; i < NTHRS; i++) {
		t = &thrs[i];
		for (j = 1; j <= 2; j++) {
			char name[40];

			snprintf(name, sizeof(name), "%s x%d thread%s",
				 t->c[0].name, j, j > 1 ? "s" : "");
			r = row_add("threads", name, t->c[0].s ? "group" : "-",
				    t->c[0].s ? "yes" : "-");
			if (!t->c[0].ok) {
				snprintf(r->na, sizeof(r->na), "%s",
					 t->c[0].why);
				continue;
			}
			r->n = t->c[0].iters;
			r->val = spread_of(t->ns[j - 1], cfg.rounds);
			r->norm = ratio_of(t->ns[j - 1], thrs[0].ns[0],
					   cfg.rounds);
			if (j == 1)
				continue;
			snprintf(r->vs, sizeof(r->vs), "1 thread");
			r->ratio = ratio_of(t->ns[1], t->ns[0], cfg.rounds);
			r->target = THREADS_TARGET;
		}
		cyc_teardown(&t->c[0]);
		cyc_teardown(&t->c[1]);
	}
}

/* --- lifecycle --------------------------------------------------------- */

#define LC_TOP	5

struct lc {
	const struct mk_subject *s;
	int size;
	bool ok;
	char why[64];
	double ns[MAX_ROUNDS];		/* create + remove, per instance */
	double create_ns[MAX_ROUNDS];
	double remove_ns[MAX_ROUNDS];
	double slab[MAX_ROUNDS];	/* bytes per idle instance: Slab */
	double objects[MAX_ROUNDS];	/* the same: slab objects */
	struct {
		char name[32];
		double bytes;
	} top[LC_TOP];			/* the caches that grew most */
};

static long meminfo_kb(const char *key)
{
	char line[128];
	long kb = -1;
	size_t len = strlen(key);
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Every slab cache gives its empty slabs and per-CPU partial slabs back. */
static void slab_shrink(void)
{
	char path[320];
	struct dirent *e;
	DIR *dir;

	dir = opendir("/sys/kernel/slab");
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.' || e->d_type == DT_LNK)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 e->d_name);
		__sysfs_write(path, "1");
	}
	if (dir)
		closedir(dir);
}

#define MAX_CACHES	512

/* Kernel memory in slab caches: pages, and bytes of objects per cache. */
struct mem_snap {
	long slab_kb;		/* Slab in /proc/meminfo, -1: none */
	long vmalloc_kb;	/* VmallocUsed in /proc/meminfo */
	double objects;		/* bytes of objects in use, 0: no slabinfo */
	int n;
	struct {
		char name[32];
		double bytes;
	} cache[MAX_CACHES];
};

/* Sums /proc/slabinfo (CONFIG_SLUB_DEBUG): active objects x their size. */
static void slabinfo_read(struct mem_snap *m)
{
	unsigned long active, total, size;
	char line[512], name[32];
	FILE *f;

	m->objects = 0;
	m->n = 0;
	f = fopen("/proc/slabinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %lu %lu %lu", name, &active, &total,
			   &size) != 4)
			continue;	/* the two header lines */
		m->objects += (double)active * size;
		if (m->n == MAX_CACHES)
			continue;
		snprintf(m->cache[m->n].name, sizeof(m->cache[0].name), "%s",
			 name);
		m->cache[m->n++].bytes = (double)active * size;
	}
	if (f)
		fclose(f);
}

/*
 * Slab and vmalloc memory once it has settled: reclaimable caches
 * dropped, what the previous removals free after an RCU grace period or
 * from a workqueue freed, and empty and per-CPU slabs given back, so that
 * it moves with what is measured alone: until three readings 100 ms apart
 * agree within 8 KiB, 5 s at most.
 */
static void mem_snap(struct mem_snap *m)
{
	double prev_objects = -1;
	long prev_kb = -1;
	int i, stable = 0;

	for (i = 0; i < 50 && stable < 3; i++) {
		usleep(100000);
		sync();
		__sysfs_write("/proc/sys/vm/drop_caches", "3");
		slab_shrink();
		m->slab_kb = meminfo_kb("Slab");
		m->vmalloc_kb = meminfo_kb("VmallocUsed");
		slabinfo_read(m);
		if (labs(m->slab_kb + m->vmalloc_kb - prev_kb) <= 8 &&
		    fabs(m->objects - prev_objects) <= 8192)
			stable++;
		else
			stable = 0;
		prev_kb = m->slab_kb + m->vmalloc_kb;
		prev_objects = m->objects;
	}
}

static struct mem_snap mem_before, mem_after;

/* The caches that grew most with @l's instances, per instance. */
static void lc_caches(struct lc *l)
{
	int i, j, k;

	for (i = 0; i < mem_after.n; i++) {
		double d = mem_after.cache[i].bytes;

		for (j = 0; j < mem_before.n; j++)
			if (!strcmp(mem_before.cache[j].name,
				    mem_after.cache[i].name))
				d -= mem_before.cache[j].bytes;
		d /= l->size;
		/* insertion into the top list, largest first */
		for (k = 0; k < LC_TOP && l->top[k].bytes >= d; k++)
			;
		if (k == LC_TOP || d <= 0)
			continue;
		memmove(&l->top[k + 1], &l->top[k],
			(LC_TOP - k - 1) * sizeof(l->top[0]));
		snprintf(l->top[k].name, sizeof(l->top[k].name), "%s",
			 mem_after.cache[i].name);
		l->top[k].bytes = d;
	}
}

static void lc_round(struct lc *l, int round)
{
	char (*uuid)[MDEV_UUID_LEN];
	double t0, t1, t2;
	int i, ret = 0, made = 0;

	uuid = calloc(l->size, sizeof(*uuid));
	if (!uuid) {
		l->ok = false;
		snprintf(l->why, sizeof(l->why), "out of memory");
		return;
	}
	mem_snap(&mem_before);
	t0 = now_ns();
	for (i = 0; i < l->size && !ret; i++) {
		ret = __mdev_create(l->s->parent, l->s->type, uuid[i]);
		made += !ret;
	}
	t1 = now_ns();
	mem_snap(&mem_after);
	t2 = now_ns();
	for (i = 0; i < made; i++) {
		int err = __mdev_remove(uuid[i]);

		if (err && !ret)
			ret = err;
	}
	l->remove_ns[round] = (now_ns() - t2) / l->size;
	l->create_ns[round] = (t1 - t0) / l->size;
	l->ns[round] = l->create_ns[round] + l->remove_ns[round];
	if (mem_before.slab_kb >= 0 && mem_after.slab_kb >= 0)
		l->slab[round] = (mem_after.slab_kb - mem_before.slab_kb) *
				 1024.0 / l->size;
	l->objects[round] = (mem_after.objects - mem_before.objects) /
			    l->size;
	if (!round && made == l->size)
		lc_caches(l);
	free(uuid);
	if (ret) {
		l->ok = false;
		snprintf(l->why, sizeof(l->why), "create/remove: %s",
			 strerror(-ret));
	}
}

static struct lc lcs[2 * MAX_SIZES];
static int nlcs;

static void lc_report_time(const struct lc *l, const struct lc *prev)
{
	char name[40];
	struct row *r;

	snprintf(name, sizeof(name), "%s x%d create+remove", l->s->name,
		 l->size);
	r = row_add("lifecycle", name, "-", "-");
	r->n = l->size;
	if (!l->ok) {
		snprintf(r->na, sizeof(r->na), "%s", l->why);
		return;
	}
	/* The time per instance; the ratio is of the whole runs' times. */
	r->val = spread_of(l->ns, cfg.lc_rounds);
	r->norm = ratio_of(l->ns, cycles[0].ns, cfg.lc_rounds);
	if (prev && prev->ok) {
		double a[MAX_ROUNDS], b[MAX_ROUNDS];
		int k;

		for (k = 0; k < cfg.lc_rounds; k++) {
			a[k] = l->ns[k] * l->size;
			b[k] = prev->ns[k] * prev->size;
		}
		snprintf(r->vs, sizeof(r->vs), "x%d", prev->size);
		r->ratio = ratio_of(a, b, cfg.lc_rounds);
		if (l->size == 10 * prev->size && l->size >= 1000)
			r->target = LINEAR_TARGET;
	}
	snprintf(name, sizeof(name), "%s x%d create", l->s->name, l->size);
	r = row_add("lifecycle", name, "-", "-");
	r->n = l->size;
	r->val = spread_of(l->create_ns, cfg.lc_rounds);
	snprintf(name, sizeof(name), "%s x%d remove", l->s->name, l->size);
	r = row_add("lifecycle", name, "-", "-");
	r->n = l->size;
	r->val = spread_of(l->remove_ns, cfg.lc_rounds);
}

static struct row *lc_memory_row(const struct lc *l, const char *what)
{
	char name[40];
	struct row *r;

	snprintf(name, sizeof(name), "%s x%d %s", l->s->name, l->size, what);
	r = row_add("memory", name, "-", "-");
	r->n = l->size;
	r->unit = "bytes";
	r->scale = 1;
	if (!l->ok)
		snprintf(r->na, sizeof(r->na), "%s", l->why);
	return r;
}

/*
 * Per idle instance: Slab pages (/proc/meminfo), bytes of slab objects
 * (/proc/slabinfo) and, for the largest size, the caches that grew most
 * (first round).
 */
static void lc_report_memory(const struct lc *l, bool largest)
{
	struct row *r;
	int k;

	r = lc_memory_row(l, "Slab");
	if (!r->na[0])
		r->val = __spread_of(l->slab, cfg.lc_rounds, true);
	r = lc_memory_row(l, "slab objects");
	if (!r->na[0])
		r->val = __spread_of(l->objects, cfg.lc_rounds, true);
	for (k = 0; l->ok && largest && k < LC_TOP && l->top[k].bytes; k++) {
		r = lc_memory_row(l, l->top[k].name);
		r->val = (struct spread){ .n = 1, .med = l->top[k].bytes,
					  .min = l->top[k].bytes,
					  .max = l->top[k].bytes };
	}
}

/*
 * A parent whose instances are a module parameter: reload it with enough
 * for the largest size, now that no instance exists.
 */
static void lc_make_room(const struct mk_subject *s, const char *param,
			 int need)
{
	char cmd[128];

	if (mdev_available(s->parent, s->type) >= need)
		return;
	__rmmod(s->parent);
	snprintf(cmd, sizeof(cmd), "modprobe -q %s %s=%d", s->parent, param,
		 need);
	if (system(cmd))
		__modprobe(s->parent);
}

static void lc_bench(void)
{
	const struct mk_subject *subj[] = { &mk_mcounter, &bench_mtty };
	int i, j, k, avail, most = 0;

	for (j = 0; j < cfg.nsizes; j++)
		if (cfg.sizes[j] > most)
			most = cfg.sizes[j];
	if (subject_present(&mk_mcounter))
		lc_make_room(&mk_mcounter, "instances", most);
	for (i = 0; i < 2; i++) {
		bool present = subject_present(subj[i]);

		avail = present ? mdev_available(subj[i]->parent,
						 subj[i]->type) : 0;
		for (j = 0; j < cfg.nsizes; j++) {
			struct lc *l = &lcs[nlcs++];

			l->s = subj[i];
			l->size = cfg.sizes[j];
			l->ok = present && avail >= l->size;
			if (!present)
				snprintf(l->why, sizeof(l->why),
					 "no mdev parent %s in this kernel",
					 subj[i]->parent);
			else if (!l->ok)
				snprintf(l->why, sizeof(l->why),
					 "%s has %d instances", subj[i]->type,
					 avail);
		}
	}
	printf("# lifecycle: create + remove of %d sizes, %d rounds\n",
	       cfg.nsizes, cfg.lc_rounds);
	fflush(stdout);
	for (k = 0; k < cfg.lc_rounds; k++)
		for (j = 0; j < nlcs; j++) {
			struct lc *l = &lcs[k % 2 ? nlcs - 1 - j : j];

			if (l->ok)
				lc_round(l, k);
		}
	for (j = 0; j < nlcs; j++)
		lc_report_time(&lcs[j], j % cfg.nsizes ? &lcs[j - 1] : NULL);
	for (j = 0; j < nlcs; j++)
		lc_report_memory(&lcs[j], j % cfg.nsizes == cfg.nsizes - 1 ||
				 !lcs[j + 1].ok);
}

/* --- vm-life: what an open vfio-pci device keeps of a closed VM --------- */

#define VL_VCPUS	2
#define VL_SLOT_SIZE	(256UL << 20)

/*
 * A VM that a VMM has closed while a vfio-pci device (QEMU's edu) that it
 * was given stays open: is it still alive (its KVM debugfs directory), and
 * how much kernel memory (Slab + vmalloc) does the device's close free?
 * The control: the same close of a device whose file is in no VM, which
 * frees vfio-pci's own per-open state. Upstream 6.12 pins the VM for every
 * device of a group or file attached to it, so the VM, its vCPUs and its
 * memslot's dirty bitmaps live until the device closes; the series pins
 * only for drivers that declare kvm_ops, which vfio-pci does not.
 */
struct vl {
	enum vfio_path path;
	bool vm;		/* the file in the VM, or the control */
	bool ok;
	char why[64];
	double alive[MAX_ROUNDS];	/* 1: the VM outlived its fds */
	double held[MAX_ROUNDS];	/* bytes the device's close freed */
};

static struct vl vls[] = {
	{ .path = VFIO_PATH_GROUP, .vm = true },
	{ .path = VFIO_PATH_GROUP },
	{ .path = VFIO_PATH_CDEV, .vm = true },
	{ .path = VFIO_PATH_CDEV },
};

static int vl_fail(struct vl *v, const char *what, int ret)
{
	v->ok = false;
	snprintf(v->why, sizeof(v->why), "%s: %s", what, strerror(-ret));
	return ret;
}

/* A VM as a VMM has it: vCPUs and a dirty-logged memslot. */
static int vl_vm_create(struct vl *v, int *vm, int vcpu[VL_VCPUS],
			void **mem)
{
	struct kvm_userspace_memory_region slot = {
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.memory_size = VL_SLOT_SIZE,
	};
	int i, ret;

	ret = __kvm_vm_create(vm);
	if (ret)
		return vl_fail(v, "KVM_CREATE_VM", ret);
	*mem = mmap(NULL, VL_SLOT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (*mem == MAP_FAILED)
		return vl_fail(v, "mmap", -errno);
	slot.userspace_addr = (uintptr_t)*mem;
	if (ioctl(*vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return vl_fail(v, "KVM_SET_USER_MEMORY_REGION", -errno);
	for (i = 0; i < VL_VCPUS; i++) {
		vcpu[i] = ioctl(*vm, KVM_CREATE_VCPU, i);
		if (vcpu[i] < 0)
			return vl_fail(v, "KVM_CREATE_VCPU", -errno);
	}
	return 0;
}

static void vl_round(struct vl *v, const char *dev, int round)
{
	struct vfio_dev d = { .file = -1, .container = -1, .iommufd = -1,
			      .fd = -1 };
	int vm = -1, kv = -1, vcpu[VL_VCPUS], i, ret;
	void *mem = MAP_FAILED;
	char name[32];

	for (i = 0; i < VL_VCPUS; i++)
		vcpu[i] = -1;
	ret = vl_vm_create(v, &vm, vcpu, &mem);
	if (!ret)
		ret = __kvm_vfio_create(vm, &kv);
	if (!ret)
		ret = __vfio_dev_file_open(&d, v->path, dev);
	if (!ret && v->vm)
		ret = __kvm_vfio_file_add(kv, d.file);
	if (!ret)
		ret = __vfio_dev_open(&d);
	if (ret && v->ok)
		vl_fail(v, "the device", ret);
	kvm_vm_name(vm, name, sizeof(name));
	/* Without its debugfs entry, "not alive" would mean nothing. */
	if (v->ok && !kvm_vm_alive(name))
		snprintf(v->why, sizeof(v->why), "no KVM debugfs entry %s",
			 name);
	v->ok = v->ok && kvm_vm_alive(name);

	/* The VMM closes its VM fds; the device stays open. */
	for (i = 0; i < VL_VCPUS; i++)
		if (vcpu[i] >= 0)
			close(vcpu[i]);
	if (kv >= 0)
		close(kv);
	if (vm >= 0)
		close(vm);
	if (mem != MAP_FAILED)
		munmap(mem, VL_SLOT_SIZE);
	mem_snap(&mem_before);
	v->alive[round] = kvm_vm_alive(name);

	/* The device alone; its group or iommufd context after the reading. */
	vfio_dev_close(&d);
	mem_snap(&mem_after);
	vfio_dev_release(&d);
	v->held[round] = (mem_before.slab_kb + mem_before.vmalloc_kb -
			  mem_after.slab_kb - mem_after.vmalloc_kb) * 1024.0;
	if (v->ok && kvm_vm_alive(name))
		snprintf(v->why, sizeof(v->why),
			 "the VM outlived the device's close");
	v->ok = v->ok && !kvm_vm_alive(name);
}

static void vl_bench(void)
{
	char dev[PATH_MAX];
	unsigned int i;
	struct row *r;
	int k, ret;

	ret = pci_find(EDU_VENDOR, EDU_DEVICE, dev, sizeof(dev));
	if (ret)
		snprintf(vls[0].why, sizeof(vls[0].why),
			 "no edu device (QEMU -device edu)");
	if (!ret) {
		ret = __vfio_pci_prepare();
		if (!ret)
			ret = __vfio_pci_bind(dev);
		if (ret)
			snprintf(vls[0].why, sizeof(vls[0].why),
				 "vfio-pci: %s", strerror(-ret));
	}
	for (i = 0; i < ARRAY_SIZE(vls); i++) {
		vls[i].ok = !ret;
		if (ret && i)
			memcpy(vls[i].why, vls[0].why, sizeof(vls[i].why));
	}
	printf("# vm-life: a VM closed, a vfio-pci device open, %d rounds\n",
	       cfg.lc_rounds);
	for (k = 0; k < cfg.lc_rounds; k++)
		for (i = 0; i < ARRAY_SIZE(vls); i++)
			if (vls[i].ok)
				vl_round(&vls[i], dev, k);
	for (i = 0; i < ARRAY_SIZE(vls); i++) {
		const char *path = vfio_path_name(vls[i].path);
		const char *vm = vm_str(vls[i].vm);

		r = row_add("vm-life", "vfio-pci: VM alive once closed", path,
			    vm);
		r->n = cfg.lc_rounds;
		r->unit = "VMs";
		r->scale = 1;
		if (!vls[i].ok)
			snprintf(r->na, sizeof(r->na), "%s", vls[i].why);
		else
			r->val = __spread_of(vls[i].alive, cfg.lc_rounds, true);
		r = row_add("vm-life", "vfio-pci: kmem freed at its close",
			    path, vm);
		r->n = cfg.lc_rounds;
		r->unit = "KiB";
		r->scale = 1.0 / 1024;
		if (!vls[i].ok)
			snprintf(r->na, sizeof(r->na), "%s", vls[i].why);
		else
			r->val = __spread_of(vls[i].held, cfg.lc_rounds, true);
	}
}

/* --- profile ----------------------------------------------------------- */

/* Writes @val to a tracefs file, which may take it in several writes. */
static int trace_set(const char *file, const char *val)
{
	size_t len = strlen(val);
	char path[128];
	int fd, ret = 0;
	ssize_t n;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		ret = -errno;
	while (!ret && len) {
		n = write(fd, val, len);
		if (n <= 0) {
			ret = n ? -errno : -EIO;
			break;
		}
		val += n;
		len -= n;
	}
	if (fd >= 0)
		close(fd);
	if (ret)
		printf("# profile: %s: %s\n", path, strerror(-ret));
	return ret;
}

/*
 * A few cycles of one variant under function_graph, from the syscalls
 * that make up the cycle and the deferred fput() of the close, printed
 * with each function's duration.
 */
static char graph_functions[] =
	"__x64_sys_ioctl __x64_sys_openat __x64_sys_close task_work_run";

static void trace_variant(void)
{
	char name[48], pid[16], line[512];
	struct cyc *c = NULL;
	double ns;
	FILE *f;
	int i;

	for (i = 0; i < NCYCLES && !c; i++) {
		snprintf(name, sizeof(name), "%s/%s%s", cycles[i].name,
			 vfio_path_name(cycles[i].path),
			 cycles[i].vm ? "" : "/novm");
		if (!strcmp(name, cfg.profile))
			c = &cycles[i];
	}
	if (!c || !c->ok) {
		printf("# profile: no variant %s measured\n", cfg.profile);
		return;
	}
	if (access(TRACEFS "/trace", F_OK))
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (trace_set("tracing_on", "0") ||
	    trace_set("current_tracer", "function_graph") ||
	    trace_set("set_ftrace_pid", pid) ||
	    trace_set("set_graph_function", cfg.graph))
		return;
	snprintf(line, sizeof(line), "%d", cfg.depth);
	trace_set("max_graph_depth", line);
	trace_set("trace", "");
	trace_set("tracing_on", "1");
	cyc_loop(c, 3, &ns);
	trace_set("tracing_on", "0");
	printf("# profile: %s, 3 cycles under function_graph (max depth %d)\n",
	       cfg.profile, cfg.depth);
	f = fopen(TRACEFS "/trace", "re");
	while (f && fgets(line, sizeof(line), f))
		printf("# | %s", line);
	if (f)
		fclose(f);
	trace_set("current_tracer", "nop");
}

/* --- main -------------------------------------------------------------- */

/* Is the series in this kernel: the core's own pin of the VM's file? */
static bool kernel_has_series(void)
{
	char line[256];
	bool found = false;
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, " vfio_device_pin_kvm\t") ||
			strstr(line, " vfio_device_pin_kvm\n");
	if (f)
		fclose(f);
	return found;
}

static const char *const section_names[] = {
	"cycle", "threads", "lifecycle", "vm-life",
};

/* Is every name of @list (slash-separated) a section? */
static bool sections_valid(const char *list)
{
	const char *p = list;
	unsigned int i;
	size_t len;

	if (!*p)
		return false;
	while (p) {
		len = strcspn(p, "/");
		for (i = 0; i < ARRAY_SIZE(section_names); i++)
			if (strlen(section_names[i]) == len &&
			    !strncmp(p, section_names[i], len))
				break;
		if (i == ARRAY_SIZE(section_names))
			return false;
		p = p[len] ? p + len + 1 : NULL;
	}
	return true;
}

/* Is @name in sections= (slash-separated), or is there no sections=? */
static bool section_on(const char *name)
{
	const char *p = cfg.sections;
	size_t len = strlen(name);

	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == '/' || !p[len]))
			return true;
		p = strchr(p, '/');
		p = p ? p + 1 : NULL;
	}
	return !cfg.sections;
}

static int parse_sizes(const char *s)
{
	char *end;

	cfg.nsizes = 0;
	while (*s && cfg.nsizes < MAX_SIZES) {
		cfg.sizes[cfg.nsizes++] = strtol(s, &end, 10);
		if (end == s || cfg.sizes[cfg.nsizes - 1] <= 0)
			return -1;
		s = *end ? end + 1 : end;
	}
	return cfg.nsizes ? 0 : -1;
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *v = strchr(argv[i], '=');

		if (!v)
			return -1;
		*v++ = '\0';
		if (!strcmp(argv[i], "rounds"))
			cfg.rounds = atoi(v);
		else if (!strcmp(argv[i], "iters"))
			cfg.iters = atoi(v);
		else if (!strcmp(argv[i], "round_ms"))
			cfg.round_ms = atoi(v);
		else if (!strcmp(argv[i], "lc_rounds"))
			cfg.lc_rounds = atoi(v);
		else if (!strcmp(argv[i], "sizes") && parse_sizes(v))
			return -1;
		else if (!strcmp(argv[i], "sizes"))
			continue;
		else if (!strcmp(argv[i], "csv"))
			cfg.csv = v;
		else if (!strcmp(argv[i], "table"))
			cfg.table = v;
		else if (!strcmp(argv[i], "kernel"))
			cfg.kernel = v;
		else if (!strcmp(argv[i], "profile"))
			cfg.profile = v;
		else if (!strcmp(argv[i], "graph"))
			cfg.graph = v;
		else if (!strcmp(argv[i], "depth"))
			cfg.depth = atoi(v);
		else if (!strcmp(argv[i], "sections") && sections_valid(v))
			cfg.sections = v;
		else
			return -1;
	}
	if (cfg.rounds < 1 || cfg.rounds > MAX_ROUNDS || cfg.iters < 1 ||
	    cfg.round_ms < 1 || cfg.lc_rounds < 1 ||
	    cfg.lc_rounds > MAX_ROUNDS)
		return -1;
	return 0;
}

static int write_file(const char *path, void (*fn)(FILE *f))
{
	FILE *f = fopen(path, "we");

	if (!f) {
		perror(path);
		return -1;
	}
	fn(f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv)) {
		fprintf(stderr,
			"usage: %s [rounds=N] [iters=N] [round_ms=N] [sizes=10/100/1000] [lc_rounds=N] [csv=F] [table=F] [kernel=L] [profile=ROW] [graph=F/G] [depth=N] [sections=A/B]\n",
			argv[0]);
		return 2;
	}
	if (!cfg.graph)
		cfg.graph = graph_functions;
	/* graph=a/b: slashes, since the guest splits its options at commas */
	for (i = 0; cfg.graph[i]; i++)
		if (cfg.graph[i] == '/')
			cfg.graph[i] = ' ';
	uname(&uts);
	kvm_load();
	__modprobe("vfio");	/* for kernel_has_series() */
	snprintf(label, sizeof(label), "%s", cfg.kernel ? cfg.kernel :
		 kernel_has_series() ? "ours" : "upstream");
	printf("# mdev_bench: kernel %s (%s)\n", label, uts.release);

	if (section_on("cycle")) {
		for (i = 0; i < NCYCLES; i++)
			cyc_setup(&cycles[i]);
		printf("# cycle: %d variants, %d rounds\n", NCYCLES,
		       cfg.rounds);
		cyc_rounds(cycles, NCYCLES);
		cyc_report();
		if (cfg.profile)
			trace_variant();
		for (i = 0; i < NCYCLES; i++)
			cyc_teardown(&cycles[i]);
	}
	if (section_on("threads"))
		thr_bench();
	if (section_on("lifecycle"))
		lc_bench();
	if (section_on("vm-life"))
		vl_bench();

	printf("\n");
	print_table(stdout);
	if (write_file(cfg.csv, write_csv) ||
	    write_file(cfg.table, print_table))
		return 1;
	return 0;
}
