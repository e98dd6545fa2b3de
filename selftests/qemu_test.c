// SPDX-License-Identifier: GPL-2.0
/*
 * A real VMM opening the samples: the host's QEMU (over the 9p share, in
 * a chroot) realizes each sample as -device vfio-pci,sysfsdev=<mdev>. With
 * -accel kvm QEMU creates the VM and its kvm-vfio device and adds the
 * group before it opens the device, the order the pin depends on:
 *
 *   - every sample realizes under KVM, without a warning from QEMU (the
 *     gvt-like one has INTx, and takes the unmask eventfd QEMU gives it
 *     for KVM's resampler); while QEMU runs, the gvt-like
 *     sample names QEMU's VM in its "vm" attribute and the zdev-like one
 *     is registered with it, and the sample's module cannot be
 *     unloaded; after "quit", or after SIGKILL, the VM is
 *     destroyed and nothing of it is left in the samples;
 *   - under -accel tcg (no VM) the gvt-like sample is refused with the
 *     core's EINVAL, which surfaces in QEMU's message, and the core logs
 *     one line naming the device; the others realize without a VM.
 *
 * Each on both paths: the group with a container, and the device's cdev
 * bound to an iommufd (-object iommufd, QEMU 9 and later; make deps
 * installs QEMU 10 from bookworm-backports).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/assert.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/qemu.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"

/* A sample's mdev and the QEMU that uses it. */
struct vmm {
	const struct mk_subject *s;
	const char *pci_id;
	bool iommufd;
	char uuid[MDEV_UUID_LEN];
	char sysfs[MDEV_PATH_LEN];
	struct qemu q;
};

FIXTURE(qemu) {
	struct vmm v;
};

FIXTURE_VARIANT(qemu) {
	const struct mk_subject *s;
	const char *pci_id;	/* as "info pci" prints it */
	bool iommufd;		/* the cdev path, or else the group's */
};

/* What the guest (payload/payload.c) reports of each sample it drove. */
static const char *const mvgpu_report[] = {
	"mvgpu id 0x4d564750: ok", "mvgpu status 0x00000001: ok",
	"mvgpu loaded-status 0x00000003: ok", "mvgpu shadow[5] 0x00005003: ok",
	"mvgpu gtt-writes 0x00000001: ok", "mvgpu shadow[7] 0xcafef00d: ok",
	"mvgpu msi 0x00000001: ok", "mvgpu unloaded-status 0x00000001: ok",
	NULL,
};

static const char *const mzdev_report[] = {
	"mzdev status 0x00000001: ok", "mzdev fmb-ctrl 0x00000001: ok",
	"mzdev fmb-format 0x00000001: ok", "mzdev fmb-sequence 0x00000001: ok",
	"mzdev fmb-counter0 0x00000001: ok", "mzdev msi 0x00000001: ok",
	NULL,
};

static const char *const mcounter_report[] = {
	"mcounter count 0x00000001: ok", "mcounter msi 0x00000001: ok", NULL,
};

static const char *const *guest_report(const struct mk_subject *s)
{
	return s == &mk_mvgpu ? mvgpu_report :
	       s == &mk_mzdev ? mzdev_report : mcounter_report;
}

FIXTURE_VARIANT_ADD(qemu, mvgpu_group) {
	.s = &mk_mvgpu, .pci_id = "1b36:10f0",
};

FIXTURE_VARIANT_ADD(qemu, mvgpu_iommufd) {
	.s = &mk_mvgpu, .pci_id = "1b36:10f0", .iommufd = true,
};

FIXTURE_VARIANT_ADD(qemu, mzdev_group) {
	.s = &mk_mzdev, .pci_id = "1b36:10f1",
};

FIXTURE_VARIANT_ADD(qemu, mzdev_iommufd) {
	.s = &mk_mzdev, .pci_id = "1b36:10f1", .iommufd = true,
};

FIXTURE_VARIANT_ADD(qemu, mcounter_group) {
	.s = &mk_mcounter, .pci_id = "1b36:10f2",
};

FIXTURE_VARIANT_ADD(qemu, mcounter_iommufd) {
	.s = &mk_mcounter, .pci_id = "1b36:10f2", .iommufd = true,
};

FIXTURE_SETUP(qemu)
{
	struct vmm *v = &self->v;

	v->s = variant->s;
	v->pci_id = variant->pci_id;
	v->iommufd = variant->iommufd;
	v->q = (struct qemu){ .pid = -1, .in = -1, .out = -1 };
	HOST_REQUIRE("qemu-system-x86_64");
	subject_modprobe(v->s);
	mdev_create(v->s->parent, v->s->type, v->uuid);
	mdev_path(v->sysfs, v->uuid);
}

FIXTURE_TEARDOWN(qemu)
{
	qemu_release(&self->v.q);
	if (self->v.uuid[0])
		mdev_remove(self->v.uuid);
}

/* QEMU's VMs: KVM names them "<pid>-<fd>". */
static int qemu_vms(struct qemu *q)
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), "%d-", q->pid);
	return kvm_vms_alive(prefix);
}

/* What the samples show of the VM they are open in. */
static void sample_vm(const char *uuid, const struct mk_subject *s,
		      char *buf, size_t size)
{
	char path[MDEV_PATH_LEN + 8], vms[4096];

	snprintf(buf, size, "none");
	if (s == &mk_mvgpu) {
		mdev_path(path, uuid);
		strcat(path, "/vm");
		MK_ASSERT_OK(__sysfs_read(path, buf, size));
	} else if (s == &mk_mzdev) {
		MK_ASSERT_OK(__sysfs_read("/sys/kernel/debug/mzdev/vms", vms,
					  sizeof(vms)));
		if (strstr(vms, uuid))
			snprintf(buf, size, "registered");
	}
}

/* QEMU realizes the device under KVM, holding its VM; the sample sees it. */
static void start_under_kvm(struct __test_metadata *_metadata, struct vmm *v)
{
	char want[32], got[64];

	ASSERT_EQ(0, qemu_start(&v->q, "kvm", v->sysfs, v->iommufd));
	ASSERT_TRUE(qemu_monitor(&v->q, "info pci"))
		TH_LOG("QEMU said:\n%s", v->q.log);
	ASSERT_NE(NULL, strstr(v->q.log, v->pci_id))
		TH_LOG("QEMU said:\n%s", v->q.log);
	/*
	 * Nothing QEMU asks of the device is missing: for INTx under KVM
	 * it sets up the unmask eventfd (a resample irqfd) and warns if
	 * the device refuses it.
	 */
	EXPECT_EQ(NULL, strstr(v->q.log, "warning"))
		TH_LOG("QEMU said:\n%s", v->q.log);
	EXPECT_EQ(1, qemu_vms(&v->q));

	sample_vm(v->uuid, v->s, got, sizeof(got));
	if (v->s == &mk_mvgpu)
		snprintf(want, sizeof(want), "kvm-%d", v->q.pid);
	else if (v->s == &mk_mzdev)
		snprintf(want, sizeof(want), "registered");
	else
		snprintf(want, sizeof(want), "none");
	EXPECT_STREQ(want, got);
	/* The open device holds its driver (KVM: QEMU's fds hold it too). */
	EXPECT_EQ(-EWOULDBLOCK, __rmmod(v->s->parent));
}

/* After QEMU: no VM, nothing left in the sample, the device reopens. */
static void after_qemu(struct __test_metadata *_metadata, struct vmm *v,
		       pid_t pid)
{
	char prefix[16], got[64];

	snprintf(prefix, sizeof(prefix), "%d-", pid);
	EXPECT_EQ(0, kvm_vms_alive(prefix));
	sample_vm(v->uuid, v->s, got, sizeof(got));
	EXPECT_STREQ("none", got);
	subject_assert_idle(v->s, v->uuid);
}

TEST_F_TIMEOUT(qemu, kvm_realizes_and_quit_releases_the_vm, 300)
{
	struct vmm *v = &self->v;
	pid_t pid;
	int status;

	start_under_kvm(_metadata, v);
	pid = v->q.pid;
	status = qemu_quit(&v->q);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("status %#x; QEMU said:\n%s", status, v->q.log);
	after_qemu(_metadata, v, pid);
}

TEST_F_TIMEOUT(qemu, kvm_sigkill_releases_the_vm, 300)
{
	struct vmm *v = &self->v;
	pid_t pid;
	int status;

	start_under_kvm(_metadata, v);
	pid = v->q.pid;
	status = qemu_kill(&v->q);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("status %#x", status);
	after_qemu(_metadata, v, pid);
}

/*
 * A guest uses the device: QEMU with KVM boots the payload (a multiboot
 * program, payload/payload.c) with the sample passed through, on this
 * variant's path. The guest finds the function in config space, enables
 * it and drives it, and reports each check on the debug console: mvgpu
 * loads a GTT from the guest's memory (DMA through QEMU's mappings) and a
 * store to it is trapped through KVM's page tracking, seen in GTT_WRITES
 * and the shadow, with an MSI; mzdev writes its FMB into guest memory on
 * a doorbell, with an MSI; mcounter counts and raises MSI. Then QEMU
 * exits through isa-debug-exit, and the VM is gone.
 */
TEST_F_TIMEOUT(qemu, guest_drives_the_device_under_kvm, 400)
{
	const char *const *want = guest_report(self->v.s);
	struct vmm *v = &self->v;
	char report[4096];
	int status;
	pid_t pid;

	status = qemu_run_payload(&v->q, v->sysfs, v->iommufd, report,
				  sizeof(report));
	pid = v->q.started;
	/* isa-debug-exit: (0x20 << 1) | 1 when every check passed. */
	EXPECT_TRUE(status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 65)
		TH_LOG("status %#x; QEMU said:\n%s", status, v->q.log);
	EXPECT_NE(NULL, strstr(report, "payload: ok"));
	for (; *want; want++) {
		EXPECT_NE(NULL, strstr(report, *want))
			TH_LOG("no \"%s\"", *want);
	}
	after_qemu(_metadata, v, pid);
}

TEST_F_TIMEOUT(qemu, tcg_has_no_vm, 300)
{
	struct vmm *v = &self->v;
	char needle[96], *line;
	int before, status;

	snprintf(needle, sizeof(needle), "%s: vfio: the device requires KVM",
		 v->uuid);
	/* The core's line is rate limited per device: this one is new. */
	before = dmesg_count(needle);
	ASSERT_EQ(0, qemu_start(&v->q, "tcg", v->sysfs, v->iommufd));
	if (v->s->needs_vm) {
		/* Refused at realize: QEMU exits with the core's errno. */
		status = qemu_wait_exit(&v->q, 120);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status))
			TH_LOG("status %#x", status);
		line = strstr(v->q.log, "Invalid argument");
		EXPECT_NE(NULL, line) TH_LOG("QEMU said:\n%s", v->q.log);
		if (line) {
			/* The line QEMU printed, for the log. */
			while (line > v->q.log && line[-1] != '\n')
				line--;
			printf("# QEMU: %.*s\n", (int)strcspn(line, "\n"),
			       line);
		}
		EXPECT_EQ(before + 1, dmesg_count(needle));
		return;
	}
	ASSERT_TRUE(qemu_monitor(&v->q, "info pci"))
		TH_LOG("QEMU said:\n%s", v->q.log);
	EXPECT_NE(NULL, strstr(v->q.log, v->pci_id));
	EXPECT_EQ(0, qemu_vms(&v->q));
	status = qemu_quit(&v->q);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(before, dmesg_count(needle));
	subject_assert_idle(v->s, v->uuid);
}

TEST_HARNESS_MAIN
