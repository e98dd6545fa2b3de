// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci, the VFIO driver nearly every user runs, on a PCI function of
 * the test guest behind its vIOMMU: QEMU's edu device (1234:11e8: MMIO
 * registers, DMA, MSI) behind QEMU's intel-iommu. The series changes
 * vfio-pci's open path: it has no kvm_ops, so the core no longer pins the
 * VM for it. On the group and on the cdev path:
 *
 *   - bound to vfio-pci and opened with its group or cdev attached to a
 *     VM, it does not keep the VM alive: once the VMM closes its VM fds,
 *     the VM is destroyed, and the open device goes on working (its ID
 *     register, a factorial). Upstream 6.12 pins the VM for it until the
 *     last close.
 *   - kvm-vfio's FILE_ADD and FILE_DEL of a real vfio-pci file work, and
 *     an unbind from vfio-pci and a rebind leave nothing behind: the
 *     device's VFIO files go and come back, and the device reopens.
 *   - the host's QEMU passes it through to a nested VM (-accel kvm, with
 *     the container or with iommufd), where the payload
 *     (selftests/payload/) reads its ID, runs a factorial, a DMA to the
 *     device's buffer and back (through QEMU's mappings in the guest's
 *     IOMMU) and takes its MSI; after QEMU, the VM is gone.
 *
 * The guest has no interrupt remapping (intremap=off), so both IOMMU
 * backends are told to allow that (allow_unsafe_interrupts), as on a
 * machine without it.
 */
#include <fcntl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/assert.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/pci.h"
#include "libmdevkvm/qemu.h"
#include "libmdevkvm/vfio.h"

/* Does the line of @report that starts with @what end with ": ok"? */
static bool line_ok(const char *report, const char *what)
{
	const char *line = strstr(report, what);
	size_t len;

	if (!line)
		return false;
	len = strcspn(line, "\n");
	return len >= 4 && !strncmp(line + len - 4, ": ok", 4);
}

/* n! on the device, which computes it while the status bit is set. */
static __u32 edu_factorial(struct vfio_dev *d, __u32 n)
{
	int i;

	vfio_bar0_write(d, EDU_FACT, n);
	for (i = 0; i < 1000 && (vfio_bar0_read(d, EDU_STATUS) & 1); i++)
		usleep(1000);
	return vfio_bar0_read(d, EDU_FACT);
}

FIXTURE(vfio_pci) {
	char dev[PATH_MAX];
	char vm_name[32];
	int vm;
	int kv;
	struct vfio_dev vd;
};

FIXTURE_VARIANT(vfio_pci) {
	enum vfio_path path;
};

FIXTURE_VARIANT_ADD(vfio_pci, group) {
	.path = VFIO_PATH_GROUP,
};

FIXTURE_VARIANT_ADD(vfio_pci, cdev) {
	.path = VFIO_PATH_CDEV,
};

FIXTURE_SETUP(vfio_pci)
{
	self->vm = -1;
	self->kv = -1;
	self->vd = (struct vfio_dev){ .file = -1, .container = -1,
				      .iommufd = -1, .fd = -1 };
	if (pci_find(EDU_VENDOR, EDU_DEVICE, self->dev, sizeof(self->dev))) {
		/* selftests/vmtest.sh always gives our guest one. */
		ASSERT_FALSE(host_in_our_guest());
		SKIP(return, "no edu device (QEMU -device edu) here");
	}
	vfio_pci_prepare();
	vfio_pci_bind(self->dev);
	self->vm = kvm_vm_create();
	self->kv = kvm_vfio_create(self->vm);
	kvm_vm_name(self->vm, self->vm_name, sizeof(self->vm_name));
	vfio_dev_file_open(&self->vd, variant->path, self->dev);
}

FIXTURE_TEARDOWN(vfio_pci)
{
	vfio_dev_release(&self->vd);
	if (self->kv >= 0)
		close(self->kv);
	if (self->vm >= 0)
		close(self->vm);
}

TEST_F(vfio_pci, open_in_a_vm_does_not_keep_the_vm_alive)
{
	kvm_vfio_file_add(self->kv, self->vd.file);
	vfio_dev_open(&self->vd);
	EXPECT_EQ(EDU_ID_VALUE, vfio_bar0_read(&self->vd, EDU_ID));
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));

	/* The VMM closes its VM fds; the device stays open. */
	close(self->kv);
	close(self->vm);
	self->kv = -1;
	self->vm = -1;
	EXPECT_FALSE(kvm_vm_alive(self->vm_name))
		TH_LOG("an open vfio-pci device kept its VM alive");
	EXPECT_EQ(120, edu_factorial(&self->vd, 5));
	vfio_dev_close(&self->vd);
}

TEST_F(vfio_pci, file_add_del_and_rebind_leave_nothing_behind)
{
	char file[PATH_MAX];

	kvm_vfio_file_add(self->kv, self->vd.file);
	kvm_vfio_file_del(self->kv, self->vd.file);
	kvm_vfio_file_add(self->kv, self->vd.file);
	vfio_dev_open(&self->vd);
	EXPECT_EQ(EDU_ID_VALUE, vfio_bar0_read(&self->vd, EDU_ID));
	EXPECT_EQ(6, edu_factorial(&self->vd, 3));
	/* Out of the VM on both paths, so that nothing holds the files. */
	if (variant->path == VFIO_PATH_GROUP)
		kvm_vfio_file_del(self->kv, self->vd.file);
	vfio_dev_unplug(&self->vd, self->kv);
	vfio_dev_release(&self->vd);

	/* Unbound: its VFIO files are gone. Bound again: they are back. */
	vfio_pci_unbind(self->dev);
	EXPECT_FALSE(vfio_pci_bound(self->dev));
	EXPECT_NE(0, __vfio_dev_file_path(variant->path, self->dev, file,
					  sizeof(file)) ||
		  access(file, F_OK))
		TH_LOG("%s outlived the unbind", file);
	vfio_pci_bind(self->dev);
	ASSERT_TRUE(vfio_pci_bound(self->dev));
	vfio_dev_file_open(&self->vd, variant->path, self->dev);
	kvm_vfio_file_add(self->kv, self->vd.file);
	vfio_dev_open(&self->vd);
	EXPECT_EQ(EDU_ID_VALUE, vfio_bar0_read(&self->vd, EDU_ID));
	EXPECT_EQ(24, edu_factorial(&self->vd, 4));
	vfio_dev_unplug(&self->vd, self->kv);
}

TEST_F_TIMEOUT(vfio_pci, guest_uses_it_through_qemu, 400)
{
	static const char *const want[] = {
		"edu id 0x010000ed: ok", "edu dma-to-device 0x00000001: ok",
		"edu dma-to-ram 0x00000001: ok",
		"edu dma-words-back 0x00000010: ok", "edu msi 0x00000001: ok",
		"payload: ok",
	};
	struct qemu q = { .pid = -1, .in = -1, .out = -1 };
	char report[4096], prefix[16];
	unsigned int i;
	int status;

	HOST_REQUIRE("qemu-system-x86_64");
	/* QEMU opens the group or the cdev itself. */
	vfio_dev_release(&self->vd);
	status = qemu_run_payload(&q, self->dev,
				  variant->path == VFIO_PATH_CDEV, report,
				  sizeof(report));
	/* isa-debug-exit: (0x20 << 1) | 1 when every check passed. */
	EXPECT_TRUE(status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 65)
		TH_LOG("status %#x; QEMU said:\n%s", status, q.log);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		EXPECT_NE(NULL, strstr(report, want[i]))
			TH_LOG("no \"%s\"", want[i]);
	}
	/* n! for an n the guest picks, so that no earlier run's counts. */
	EXPECT_TRUE(line_ok(report, "edu factorial "))
		TH_LOG("the factorial is missing or wrong");
	qemu_release(&q);
	snprintf(prefix, sizeof(prefix), "%d-", q.started);
	EXPECT_EQ(0, kvm_vms_alive(prefix));
	EXPECT_TRUE(vfio_pci_bound(self->dev));
}

TEST_HARNESS_MAIN
