// SPDX-License-Identifier: GPL-2.0
/*
 * The gvt-like sample, mdev-samples/mvgpu.c, on the group and the cdev
 * path: its types and budget, its hard dependency on KVM, its registers,
 * aperture and interrupts, and the GTT it reads as DMA (vfio_dma_rw())
 * and write-protects through the pinned VM, written by a real vCPU; and
 * the state machine of its header comment, held against a hostile user:
 * the table cannot be reprogrammed under a loaded GTT, BAR2 does not
 * carry one VM's data to the next, memslots going away leave nothing
 * tracked, and a process that is not the VMM cannot make the device read
 * its own memory.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/assert.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/stall.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"

#define MVGPU			"mvgpu"
#define MVGPU_SMALL		"mvgpu-small"
#define MVGPU_TYPES	"/sys/class/mdev_bus/mvgpu/mdev_supported_types"

/* BAR0 registers, as in mdev-samples/mvgpu.c */
#define REG_ID			0x00
#define REG_STATUS		0x04
#define REG_DOORBELL		0x08
#define REG_IRQ_STATUS		0x0c
#define REG_IRQ_ENABLE		0x10
#define REG_DOORBELLS		0x14
#define REG_GTT_BASE_LO		0x18
#define REG_GTT_BASE_HI		0x1c
#define REG_GTT_ENTRIES		0x20
#define REG_GTT_CTRL		0x24
#define REG_GTT_WRITES		0x28
#define REG_GTT_SHADOW		0x100
#define STATUS_VM		0x1
#define STATUS_GTT		0x2
#define STATUS_GTT_ERROR	0x4
#define IRQ_DOORBELL		0x1
#define IRQ_GTT_WRITE		0x2

#define GUEST_MEM_SIZE		0x10000
#define GUEST_CODE		0x1000
#define GUEST_GTT		0x4000
#define GTT_LOAD		1
#define GTT_UNLOAD		2

/* The sample's debugfs view of the loaded table. */
struct gtt_state {
	int loaded;
	unsigned long long base;
	unsigned int entries;
	unsigned int notified;
	char tracked[64];	/* "none" or the gfns, "0x4 0x5" */
};

#define GTT_STATE_FMT \
	"loaded %d base %llx entries %u notified %u tracked %63[^\n]"

static void gtt_state(const char *uuid, struct gtt_state *g)
{
	char path[128], buf[256];
	int n;

	snprintf(path, sizeof(path), "/sys/kernel/debug/mvgpu/%s/gtt", uuid);
	MK_ASSERT_OK(__sysfs_read(path, buf, sizeof(buf)));
	n = sscanf(buf, GTT_STATE_FMT, &g->loaded, &g->base, &g->entries,
		   &g->notified, g->tracked);
	MK_ASSERT_TRUE(n == 5, "unexpected debugfs line: %s", buf);
}

static void gtt_program(struct vfio_dev *d, __u64 base, __u32 entries)
{
	vfio_bar0_write(d, REG_GTT_BASE_LO, (__u32)base);
	vfio_bar0_write(d, REG_GTT_BASE_HI, base >> 32);
	vfio_bar0_write(d, REG_GTT_ENTRIES, entries);
}

/*
 * Guest RAM at guest-physical 0 as a VMM sets it up: a memslot for the
 * vCPUs, and the same memory mapped for the device's DMA at IOVA = GPA
 * (the device is open). Private memory, so that a forked child's writes
 * stay its own.
 */
static unsigned char *guest_ram(int vm, struct vfio_dev *d)
{
	unsigned char *mem;

	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	MK_ASSERT_TRUE(mem != MAP_FAILED, "guest memory");
	kvm_vm_set_memslot(vm, 0, 0, mem, GUEST_MEM_SIZE);
	vfio_dev_dma_map(d, 0, mem, GUEST_MEM_SIZE);
	return mem;
}

/* A vCPU that stores @val at guest-physical @gpa (< 64 KiB), then halts. */
static void vcpu_store(int vm, unsigned char *mem, __u32 id, __u16 gpa,
		       __u32 val)
{
	/* mov dword [gpa], val; hlt (real mode) */
	unsigned char code[] = {
		0x66, 0xc7, 0x06, gpa & 0xff, gpa >> 8,
		val & 0xff, (val >> 8) & 0xff, (val >> 16) & 0xff, val >> 24,
		0xf4,
	};
	struct kvm_vcpu vcpu;

	memcpy(mem + GUEST_CODE, code, sizeof(code));
	kvm_vcpu_create(vm, id, GUEST_CODE, &vcpu);
	MK_ASSERT_EQ(kvm_vcpu_run(&vcpu), KVM_EXIT_HLT);
	kvm_vcpu_destroy(&vcpu);
}

/* SET_IRQS with DATA_EVENTFD and @action: 0 or -errno. */
static int __set_irq_eventfd(struct vfio_dev *d, __u32 index, __u32 action,
			     __u32 count, int fd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(__s32)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
	set->index = index;
	set->start = 0;
	set->count = count;
	memcpy(set->data, &fd, sizeof(__s32));
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

static void set_irq_eventfd(struct vfio_dev *d, __u32 index, int fd)
{
	MK_ASSERT_OK(__set_irq_eventfd(d, index, VFIO_IRQ_SET_ACTION_TRIGGER,
				       1, fd));
}

static void intx_unmask(struct vfio_dev *d)
{
	struct vfio_irq_set unmask = {
		.argsz = sizeof(unmask),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.count = 1,
	};

	MK_ASSERT_TRUE(!ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &unmask), "UNMASK");
}

static __u64 eventfd_count(int efd)
{
	__u64 n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Waits up to @ms for @efd to be signalled; its count (0: not). */
static __u64 eventfd_wait(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return 0;
	return eventfd_count(efd);
}

static void eventfd_kick(int efd)
{
	__u64 one = 1;

	MK_ASSERT_TRUE(write(efd, &one, sizeof(one)) == sizeof(one),
		       "eventfd write");
}

FIXTURE(mvgpu) {
	int vm;
	int kv;
	char uuid[MDEV_UUID_LEN];
	struct vfio_dev dev;
};

FIXTURE_VARIANT(mvgpu) {
	enum vfio_path path;
};

FIXTURE_VARIANT_ADD(mvgpu, group) {
	.path = VFIO_PATH_GROUP,
};

FIXTURE_VARIANT_ADD(mvgpu, cdev) {
	.path = VFIO_PATH_CDEV,
};

FIXTURE_SETUP(mvgpu)
{
	modprobe(MVGPU);
	self->vm = kvm_vm_create();
	self->kv = kvm_vfio_create(self->vm);
	vfio_mdev_file_open(&self->dev, variant->path, MVGPU, MVGPU_SMALL,
			    self->uuid);
}

FIXTURE_TEARDOWN(mvgpu)
{
	/* Releases the kvm-vfio device's reference to a cdev file too. */
	vfio_dev_release(&self->dev);
	close(self->kv);
	close(self->vm);
	mdev_remove(self->uuid);
}

/* Opens the device attached to a VM, through its kvm-vfio device @kv. */
static void mvgpu_open(struct vfio_dev *d, int kv)
{
	kvm_vfio_file_add(kv, d->file);
	vfio_dev_open(d);
}

TEST(types_budget_and_bad_input)
{
	char small[MDEV_UUID_LEN], large[4][MDEV_UUID_LEN], buf[128];
	int i;

	modprobe(MVGPU);
	ASSERT_EQ(0, __sysfs_read(MVGPU_TYPES "/mvgpu-large/name", buf,
				  sizeof(buf)));
	EXPECT_STREQ("vGPU, 16 MiB aperture", buf);
	ASSERT_EQ(0, __sysfs_read(MVGPU_TYPES "/mvgpu-medium/description",
				  buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "one per VM"));

	/* The default budget, 64 MiB, shared by every type. */
	EXPECT_EQ(16, mdev_available(MVGPU, "mvgpu-small"));
	EXPECT_EQ(4, mdev_available(MVGPU, "mvgpu-large"));
	mdev_create(MVGPU, "mvgpu-large", large[0]);
	EXPECT_EQ(12, mdev_available(MVGPU, "mvgpu-small"));
	EXPECT_EQ(6, mdev_available(MVGPU, "mvgpu-medium"));
	for (i = 1; i < 4; i++)
		mdev_create(MVGPU, "mvgpu-large", large[i]);
	EXPECT_EQ(0, mdev_available(MVGPU, "mvgpu-small"));
	EXPECT_EQ(-ENOSPC, __mdev_create(MVGPU, "mvgpu-small", small));
	for (i = 0; i < 4; i++)
		mdev_remove(large[i]);
	EXPECT_EQ(16, mdev_available(MVGPU, "mvgpu-small"));

	EXPECT_EQ(-EINVAL, __mdev_create_str(MVGPU, "mvgpu-small",
					     "not-a-uuid"));
	EXPECT_EQ(-ENOENT, __mdev_create(MVGPU, "mvgpu-huge", small));
	mdev_create(MVGPU, "mvgpu-small", small);
	EXPECT_EQ(-EEXIST, __mdev_create_str(MVGPU, "mvgpu-small", small));
	mdev_remove(small);
}

TEST_F(mvgpu, open_without_vm_fails_with_einval_and_a_log_line)
{
	char needle[96];
	int before;

	snprintf(needle, sizeof(needle), "%s: vfio: the device requires KVM",
		 self->uuid);
	before = dmesg_count(needle);
	EXPECT_EQ(-EINVAL, __vfio_dev_open(&self->dev));
	EXPECT_EQ(before + 1, dmesg_count(needle));
}

TEST_F(mvgpu, config_space_and_registers)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	__u8 cfg[256];

	mvgpu_open(&self->dev, self->kv);
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(0x1b36, vfio_config_read(&self->dev, 0x0, 2));
	EXPECT_EQ(0x10f0, vfio_config_read(&self->dev, 0x2, 2));
	EXPECT_EQ(0x038000, vfio_config_read(&self->dev, 0x8, 4) >> 8);
	EXPECT_EQ(0x40, vfio_config_read(&self->dev, 0x34, 1));
	EXPECT_EQ(0x05, vfio_config_read(&self->dev, 0x40, 1));	/* MSI */
	/* In one read, as QEMU does. */
	ASSERT_EQ(256, __vfio_region_read(&self->dev,
					  VFIO_PCI_CONFIG_REGION_INDEX, 0,
					  cfg, sizeof(cfg)));
	EXPECT_EQ(0x10f01b36, *(__u32 *)cfg);
	EXPECT_EQ(0x05, cfg[0x40]);

	EXPECT_EQ(0x4d564750, vfio_bar0_read(&self->dev, REG_ID));
	EXPECT_EQ(STATUS_VM, vfio_bar0_read(&self->dev, REG_STATUS));
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(2, vfio_bar0_read(&self->dev, REG_DOORBELLS));
	EXPECT_EQ(IRQ_DOORBELL, vfio_bar0_read(&self->dev, REG_IRQ_STATUS));
	vfio_bar0_write(&self->dev, REG_IRQ_STATUS, IRQ_DOORBELL);
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_IRQ_STATUS));

	/* Registers are 32 bits: a 2-byte access is refused. */
	EXPECT_EQ(-EINVAL, __vfio_region_read(&self->dev,
					      VFIO_PCI_BAR0_REGION_INDEX, 0,
					      &info, 2));
	/* Reset: back to power-on state. */
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_DOORBELLS));
}

TEST_F(mvgpu, aperture_through_region_and_mmap)
{
	struct vfio_region_info info;
	char in[64], out[64];
	char *ap;

	mvgpu_open(&self->dev, self->kv);
	vfio_region_info(&self->dev, VFIO_PCI_BAR2_REGION_INDEX, &info);
	ASSERT_EQ(4 << 20, info.size);
	ASSERT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ap = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		  self->dev.fd, info.offset);
	ASSERT_NE(MAP_FAILED, ap);

	memset(in, 0x5a, sizeof(in));
	EXPECT_EQ(sizeof(in), __vfio_region_write(&self->dev,
						  VFIO_PCI_BAR2_REGION_INDEX,
						  0x1000, in, sizeof(in)));
	EXPECT_EQ(0, memcmp(ap + 0x1000, in, sizeof(in)));
	memcpy(ap + info.size - sizeof(in), "written through mmap", 21);
	EXPECT_EQ(sizeof(out), __vfio_region_read(&self->dev,
						  VFIO_PCI_BAR2_REGION_INDEX,
						  info.size - sizeof(out), out,
						  sizeof(out)));
	EXPECT_STREQ("written through mmap", out);

	/* Past the end of the BAR. */
	EXPECT_EQ(-EINVAL, __vfio_region_read(&self->dev,
					      VFIO_PCI_BAR2_REGION_INDEX,
					      info.size - 8, out, 16));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * info.size, PROT_READ, MAP_SHARED,
				   self->dev.fd, info.offset));
	munmap(ap, info.size);
}

TEST_F(mvgpu, msi_and_intx_through_eventfd)
{
	int efd = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(efd, 0);
	mvgpu_open(&self->dev, self->kv);
	vfio_bar0_write(&self->dev, REG_IRQ_ENABLE, IRQ_DOORBELL);

	set_irq_eventfd(&self->dev, VFIO_PCI_MSI_IRQ_INDEX, efd);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, eventfd_count(efd));
	set_irq_eventfd(&self->dev, VFIO_PCI_MSI_IRQ_INDEX, -1);

	/* INTx is automasked: a second doorbell waits for the unmask. */
	set_irq_eventfd(&self->dev, VFIO_PCI_INTX_IRQ_INDEX, efd);
	vfio_bar0_write(&self->dev, REG_IRQ_STATUS, IRQ_DOORBELL);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, eventfd_count(efd));
	intx_unmask(&self->dev);
	EXPECT_EQ(1, eventfd_count(efd));
	close(efd);
}

/*
 * INTx as a VMM with KVM drives it: QEMU gives the device the resample
 * eventfd of KVM's irqfd (ACTION_UNMASK, DATA_EVENTFD), which KVM
 * signals when the guest ends the interrupt. A signal unmasks; with the
 * cause still pending, INTx fires again. (Without it, QEMU warns "Failed
 * to set up UNMASK eventfd signaling" and falls back to trapping EOIs.)
 * A new eventfd replaces the old, fd -1 removes it, and so do disabling
 * INTx and a reset. INTx's own eventfd is refused, both ways round.
 */
TEST_F(mvgpu, intx_unmask_through_an_eventfd_as_kvm_resamples)
{
	const __u32 unmask = VFIO_IRQ_SET_ACTION_UNMASK;
	const __u32 intx = VFIO_PCI_INTX_IRQ_INDEX;
	int efd = eventfd(0, EFD_NONBLOCK);
	int ufd = eventfd(0, EFD_NONBLOCK);
	int ufd2 = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(efd, 0);
	ASSERT_GE(ufd, 0);
	ASSERT_GE(ufd2, 0);
	mvgpu_open(&self->dev, self->kv);
	vfio_bar0_write(&self->dev, REG_IRQ_ENABLE, IRQ_DOORBELL);

	/* Like vfio-pci: INTx first; one eventfd; a real eventfd. */
	EXPECT_EQ(-EINVAL, __set_irq_eventfd(&self->dev, intx, unmask, 1, ufd));
	set_irq_eventfd(&self->dev, intx, efd);
	EXPECT_EQ(-EINVAL, __set_irq_eventfd(&self->dev, intx, unmask, 0, ufd));
	EXPECT_EQ(-EINVAL, __set_irq_eventfd(&self->dev, intx, unmask, 1,
					     self->dev.fd));
	EXPECT_EQ(-EBADF, __set_irq_eventfd(&self->dev, intx, unmask, 1,
					    10000));
	/* Not INTx's own: it would unmask itself as it fires, forever. */
	EXPECT_EQ(-EINVAL, __set_irq_eventfd(&self->dev, intx, unmask, 1, efd));
	ASSERT_EQ(0, __set_irq_eventfd(&self->dev, intx, unmask, 1, ufd));
	EXPECT_EQ(-EINVAL, __set_irq_eventfd(&self->dev, intx,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 1,
					     ufd));

	/* Fires and masks itself; the pending cause fires at unmask. */
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, eventfd_count(efd));
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(0, eventfd_wait(efd, 200));
	eventfd_kick(ufd);
	EXPECT_EQ(1, eventfd_wait(efd, 5000))
		TH_LOG("the unmask eventfd did not unmask");

	/* Nothing pending: the unmask only unmasks; the next cause fires. */
	vfio_bar0_write(&self->dev, REG_IRQ_STATUS, IRQ_DOORBELL);
	eventfd_kick(ufd);
	EXPECT_EQ(0, eventfd_wait(efd, 200));
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, eventfd_wait(efd, 5000));

	/* Replaced: the old eventfd no longer unmasks, the new one does. */
	ASSERT_EQ(0, __set_irq_eventfd(&self->dev, intx, unmask, 1, ufd2));
	eventfd_kick(ufd);
	EXPECT_EQ(0, eventfd_wait(efd, 200));
	eventfd_kick(ufd2);
	EXPECT_EQ(1, eventfd_wait(efd, 5000));

	/* Removed with fd -1. */
	ASSERT_EQ(0, __set_irq_eventfd(&self->dev, intx, unmask, 1, -1));
	eventfd_kick(ufd2);
	EXPECT_EQ(0, eventfd_wait(efd, 200));

	/*
	 * Removed with INTx: back on, the old eventfd is not. (Its count
	 * first drained: a registration acts on a pending signal.)
	 */
	eventfd_count(ufd);
	ASSERT_EQ(0, __set_irq_eventfd(&self->dev, intx, unmask, 1, ufd));
	set_irq_eventfd(&self->dev, intx, -1);
	eventfd_count(efd);
	set_irq_eventfd(&self->dev, intx, efd);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, eventfd_wait(efd, 5000));
	eventfd_kick(ufd);
	EXPECT_EQ(0, eventfd_wait(efd, 200));

	/* Removed by a reset: INTx back on, the old eventfd is not. */
	eventfd_count(ufd2);
	ASSERT_EQ(0, __set_irq_eventfd(&self->dev, intx, unmask, 1, ufd2));
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_RESET));
	eventfd_count(efd);
	set_irq_eventfd(&self->dev, intx, efd);
	vfio_bar0_write(&self->dev, REG_IRQ_ENABLE, IRQ_DOORBELL);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, eventfd_wait(efd, 5000));
	eventfd_kick(ufd2);
	EXPECT_EQ(0, eventfd_wait(efd, 200));

	/* Closed by the VMM first, then the device: nothing left behind. */
	ASSERT_EQ(0, __set_irq_eventfd(&self->dev, intx, unmask, 1, ufd2));
	close(ufd2);
	vfio_dev_unplug(&self->dev, self->kv);
	close(ufd);
	close(efd);
}

TEST_F(mvgpu, gtt_read_from_guest_memory_and_guest_writes_counted)
{
	/* mov dword [0x4008], 0xcafef00d; hlt (real mode) */
	static const unsigned char code[] = {
		0x66, 0xc7, 0x06, 0x08, 0x40, 0x0d, 0xf0, 0xfe, 0xca, 0xf4,
	};
	static const __u64 gtt[4] = {
		0x1000000000000001ULL, 0x2000000000000002ULL,
		0x3000000000000003ULL, 0x4000000000000004ULL,
	};
	struct kvm_vcpu vcpu;
	unsigned char *mem;
	int efd = eventfd(0, EFD_NONBLOCK);

	mvgpu_open(&self->dev, self->kv);
	mem = guest_ram(self->vm, &self->dev);
	memcpy(mem + GUEST_CODE, code, sizeof(code));
	memcpy(mem + GUEST_GTT, gtt, sizeof(gtt));
	set_irq_eventfd(&self->dev, VFIO_PCI_MSI_IRQ_INDEX, efd);
	vfio_bar0_write(&self->dev, REG_IRQ_ENABLE, IRQ_GTT_WRITE);

	/* The device reads the table the guest programmed. */
	vfio_bar0_write(&self->dev, REG_GTT_BASE_LO, GUEST_GTT);
	vfio_bar0_write(&self->dev, REG_GTT_BASE_HI, 0);
	vfio_bar0_write(&self->dev, REG_GTT_ENTRIES, 4);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, 1);
	ASSERT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0x00000002, vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 8));
	EXPECT_EQ(0x20000000, vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 12));
	EXPECT_EQ(0x40000000, vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 28));

	/* A vCPU writes a protected page: KVM tells the device. */
	kvm_vcpu_create(self->vm, 0, GUEST_CODE, &vcpu);
	ASSERT_EQ(KVM_EXIT_HLT, kvm_vcpu_run(&vcpu));
	EXPECT_EQ(0xcafef00d, *(__u32 *)(mem + GUEST_GTT + 8));
	EXPECT_EQ(1, vfio_bar0_read(&self->dev, REG_GTT_WRITES));
	EXPECT_EQ(0xcafef00d, vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 8));
	EXPECT_TRUE(vfio_bar0_read(&self->dev, REG_IRQ_STATUS) & IRQ_GTT_WRITE);
	EXPECT_EQ(1, eventfd_count(efd));

	/* Bad tables: too many entries, or outside guest memory. */
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_UNLOAD);
	vfio_bar0_write(&self->dev, REG_GTT_ENTRIES, 65);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, 1);
	EXPECT_EQ(STATUS_VM | STATUS_GTT_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	vfio_bar0_write(&self->dev, REG_GTT_ENTRIES, 4);
	vfio_bar0_write(&self->dev, REG_GTT_BASE_LO, 0x200000);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, 1);
	EXPECT_EQ(STATUS_VM | STATUS_GTT_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));

	kvm_vcpu_destroy(&vcpu);
	vfio_dev_close(&self->dev);
	close(efd);
	munmap(mem, GUEST_MEM_SIZE);
}

/*
 * The guest loads an 8-entry table, then reprograms base and size without
 * reloading, so that the live registers describe a table that ends
 * 3848 bytes past a 3840-byte shadow, and stores into the loaded table.
 * The registers are read-only while LOADED: the store lands in the loaded
 * table, and the unload releases exactly the pages the load protected.
 * (Before the state machine: a memcpy() past the shadow onto the eventfd
 * pointer, a GPF in eventfd_signal() in the vCPU's KVM_RUN, and an unload
 * that untracked pages never tracked.)
 */
#define ENTRY_2	(REG_GTT_SHADOW + 0x10)
TEST_F(mvgpu, gtt_registers_are_read_only_while_loaded)
{
	struct gtt_state g;
	unsigned char *mem;
	int efd = eventfd(0, EFD_NONBLOCK);

	mvgpu_open(&self->dev, self->kv);
	mem = guest_ram(self->vm, &self->dev);
	set_irq_eventfd(&self->dev, VFIO_PCI_MSI_IRQ_INDEX, efd);
	vfio_bar0_write(&self->dev, REG_IRQ_ENABLE, IRQ_GTT_WRITE);
	gtt_program(&self->dev, GUEST_GTT, 8);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	ASSERT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));

	gtt_program(&self->dev, GUEST_GTT + 0x10 - 3848, 512);
	EXPECT_EQ(GUEST_GTT, vfio_bar0_read(&self->dev, REG_GTT_BASE_LO));
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_GTT_BASE_HI));
	EXPECT_EQ(8, vfio_bar0_read(&self->dev, REG_GTT_ENTRIES));

	vcpu_store(self->vm, mem, 0, GUEST_GTT + 0x10, 0x41414141);
	EXPECT_EQ(0x41414141, vfio_bar0_read(&self->dev, ENTRY_2));
	EXPECT_EQ(1, vfio_bar0_read(&self->dev, REG_GTT_WRITES));
	EXPECT_EQ(1, eventfd_count(efd));
	gtt_state(self->uuid, &g);
	EXPECT_EQ(GUEST_GTT, g.base);
	EXPECT_EQ(8, g.entries);
	EXPECT_STREQ("0x4", g.tracked);

	/* LOAD again reloads the same table, not the registers' new one. */
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	gtt_state(self->uuid, &g);
	EXPECT_EQ(8, g.entries);
	EXPECT_EQ(0x41414141, vfio_bar0_read(&self->dev, ENTRY_2));

	/* UNLOAD: nothing tracked, the registers writable again. */
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_UNLOAD);
	gtt_state(self->uuid, &g);
	EXPECT_EQ(0, g.loaded);
	EXPECT_STREQ("none", g.tracked);
	vcpu_store(self->vm, mem, 1, GUEST_GTT + 0x10, 0x42424242);
	gtt_state(self->uuid, &g);
	EXPECT_EQ(1, g.notified);	/* only the store while loaded */
	gtt_program(&self->dev, GUEST_GTT + 0x100, 4);
	EXPECT_EQ(GUEST_GTT + 0x100,
		  vfio_bar0_read(&self->dev, REG_GTT_BASE_LO));
	close(efd);
}

/* BAR2 is zeroed at reset and at close: no VM reads what another wrote. */
TEST_F(mvgpu, aperture_zeroed_at_reset_and_close)
{
	static const char secret[] = "the first VM's data";
	char buf[sizeof(secret)], zero[sizeof(secret)] = { 0 };
	int vm2, kv2;

	mvgpu_open(&self->dev, self->kv);
	ASSERT_EQ(sizeof(secret),
		  __vfio_region_write(&self->dev, VFIO_PCI_BAR2_REGION_INDEX,
				      0x2000, secret, sizeof(secret)));
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(sizeof(buf),
		  __vfio_region_read(&self->dev, VFIO_PCI_BAR2_REGION_INDEX,
				     0x2000, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, zero, sizeof(buf)));

	ASSERT_EQ(sizeof(secret),
		  __vfio_region_write(&self->dev, VFIO_PCI_BAR2_REGION_INDEX,
				      0x3000, secret, sizeof(secret)));
	vfio_dev_unplug(&self->dev, self->kv);

	/* The next VM opens the vGPU. */
	vm2 = kvm_vm_create();
	kv2 = kvm_vfio_create(vm2);
	if (variant->path == VFIO_PATH_CDEV) {
		char p[MDEV_PATH_LEN];

		vfio_dev_release(&self->dev);
		vfio_dev_file_open(&self->dev, variant->path,
				   mdev_path(p, self->uuid));
	}
	mvgpu_open(&self->dev, kv2);
	ASSERT_EQ(sizeof(buf),
		  __vfio_region_read(&self->dev, VFIO_PCI_BAR2_REGION_INDEX,
				     0x3000, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, zero, sizeof(buf)));
	vfio_dev_release(&self->dev);
	close(kv2);
	close(vm2);
}

/*
 * The table is read as DMA: with the memslot there but the IOVA not
 * mapped for the device, the load fails and nothing stays protected
 * (a device reading through KVM would have loaded it).
 */
TEST_F(mvgpu, gtt_is_read_as_dma_not_through_kvm)
{
	struct gtt_state g;
	unsigned char *mem;

	mvgpu_open(&self->dev, self->kv);
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem + GUEST_GTT, 0x11, 64);
	kvm_vm_set_memslot(self->vm, 0, 0, mem, GUEST_MEM_SIZE);

	gtt_program(&self->dev, GUEST_GTT, 8);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	EXPECT_EQ(STATUS_VM | STATUS_GTT_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_GTT_SHADOW));
	gtt_state(self->uuid, &g);
	EXPECT_STREQ("none", g.tracked);

	/* Mapped for DMA, read-only is enough for the device to read. */
	ASSERT_EQ(0, __vfio_dev_dma_map(&self->dev, 0, mem, GUEST_MEM_SIZE,
					false));
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	EXPECT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0x11111111, vfio_bar0_read(&self->dev, REG_GTT_SHADOW));
}

/*
 * A process that holds the device fd but is not the VMM (here a forked
 * child with its own copy of the VMM's memory) triggers the load: the
 * device reads the VMM's memory through the IOMMU (iommufd) or fails
 * (type1 refuses another mm), never the child's memory at the VMM's
 * addresses.
 */
TEST_F(mvgpu, gtt_load_from_another_process_never_reads_its_memory)
{
	unsigned char *mem;
	__u32 shadow, status;
	pid_t pid;
	int st;

	mvgpu_open(&self->dev, self->kv);
	mem = guest_ram(self->vm, &self->dev);
	memset(mem + GUEST_GTT, 0x22, 64);	/* the VMM's table */
	gtt_program(&self->dev, GUEST_GTT, 8);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		memset(mem + GUEST_GTT, 0x66, 64);	/* the child's copy */
		vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	shadow = vfio_bar0_read(&self->dev, REG_GTT_SHADOW);
	status = vfio_bar0_read(&self->dev, REG_STATUS);
	/* Loaded from the VMM's table, or refused with an empty shadow. */
	EXPECT_NE(0x66666666, shadow);
	EXPECT_EQ(status & STATUS_GTT ? 0x22222222 : 0, shadow);
	EXPECT_NE(0, status & (STATUS_GTT | STATUS_GTT_ERROR));
	TH_LOG("%s path: the child's load %s", vfio_path_name(variant->path),
	       status & STATUS_GTT ? "read the VMM's table" : "was refused");
}

/*
 * A table across two memslots; one of them is deleted. KVM drops that
 * slot's tracking; the device unloads (GTT_ERROR) and drops what it held
 * in the other slot, so a store there is no longer reported. Moving a
 * memslot is refused while the vGPU is open (KVM would drop the tracking
 * without telling).
 */
TEST_F(mvgpu, gtt_across_two_memslots_one_deleted_leaves_nothing_tracked)
{
	struct kvm_userspace_memory_region del = { .slot = 1 };
	struct kvm_userspace_memory_region move;
	struct gtt_state g;
	unsigned char *mem;

	mvgpu_open(&self->dev, self->kv);
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	kvm_vm_set_memslot(self->vm, 0, 0, mem, 0x5000);
	kvm_vm_set_memslot(self->vm, 1, 0x5000, mem + 0x5000,
			   GUEST_MEM_SIZE - 0x5000);
	vfio_dev_dma_map(&self->dev, 0, mem, GUEST_MEM_SIZE);

	gtt_program(&self->dev, 0x5000 - 0x40, 16);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	ASSERT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	gtt_state(self->uuid, &g);
	EXPECT_STREQ("0x4 0x5", g.tracked);

	/* The same slot at another address: a move, not a resize. */
	move = (struct kvm_userspace_memory_region){
		.slot = 1, .guest_phys_addr = 0x20000,
		.memory_size = GUEST_MEM_SIZE - 0x5000,
		.userspace_addr = (__u64)(unsigned long)(mem + 0x5000),
	};
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &move));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &del));
	EXPECT_EQ(STATUS_VM | STATUS_GTT_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	gtt_state(self->uuid, &g);
	EXPECT_EQ(0, g.loaded);
	EXPECT_STREQ("none", g.tracked);

	/* gfn 4 is not protected any more: KVM reports no write. */
	vcpu_store(self->vm, mem, 0, 0x4ff0, 0x12345678);
	gtt_state(self->uuid, &g);
	EXPECT_EQ(0, g.notified);
	EXPECT_EQ(0x12345678, *(__u32 *)(mem + 0x4ff0));
}

/*
 * With SMM a VM has a second address space (SMRAM). External write
 * tracking is in address space 0: deleting an SMRAM slot over the table
 * takes none of it, and the table stays loaded and tracked (before
 * kvm-bridge's fix, KVM told the device its tracking was gone: the device
 * forgot a reference it still held, which then leaked past close).
 */
TEST_F(mvgpu, gtt_survives_deletion_of_an_smram_slot)
{
	struct kvm_userspace_memory_region smram;
	struct gtt_state g;
	unsigned char *mem;

	ASSERT_LE(2, ioctl(self->vm, KVM_CHECK_EXTENSION,
			   KVM_CAP_MULTI_ADDRESS_SPACE))
		TH_LOG("KVM has no SMM address space (CONFIG_KVM_SMM)");
	mvgpu_open(&self->dev, self->kv);
	mem = guest_ram(self->vm, &self->dev);
	gtt_program(&self->dev, GUEST_GTT, 8);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	ASSERT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));

	smram = (struct kvm_userspace_memory_region){
		.slot = 1 << 16,	/* address space 1, slot 0 */
		.guest_phys_addr = 0, .memory_size = GUEST_MEM_SIZE,
		.userspace_addr = (__u64)(unsigned long)mem,
	};
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &smram));
	smram.memory_size = 0;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &smram));

	EXPECT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	gtt_state(self->uuid, &g);
	EXPECT_STREQ("0x4", g.tracked);
	/* Still protected: a store is reported and shadowed. */
	vcpu_store(self->vm, mem, 0, GUEST_GTT + 8, 0x5eed5eed);
	EXPECT_EQ(0x5eed5eed, vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 8));
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_UNLOAD);
	gtt_state(self->uuid, &g);
	EXPECT_STREQ("none", g.tracked);
}

/*
 * A VMM pins a page of its BAR2 mapping (vmsplice() into a pipe: the
 * pipe holds the page), unmaps it and closes the vGPU; the next VM opens
 * it and writes BAR2. Each open has its own aperture: the pinned page is
 * still the first VM's, and what the next VM writes never shows there.
 */
TEST_F(mvgpu, pinned_aperture_page_is_not_the_next_vms)
{
	static const char first[] = "the first VM's page";
	static const char next[] = "the next VM's secret";
	struct vfio_region_info info;
	char buf[64] = { 0 };
	struct iovec iov;
	int pipefd[2], vm2, kv2;
	char *ap;

	mvgpu_open(&self->dev, self->kv);
	vfio_region_info(&self->dev, VFIO_PCI_BAR2_REGION_INDEX, &info);
	ap = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		  self->dev.fd, info.offset);
	ASSERT_NE(MAP_FAILED, ap);
	memcpy(ap, first, sizeof(first));
	ASSERT_EQ(0, pipe(pipefd));
	iov = (struct iovec){ .iov_base = ap, .iov_len = 4096 };
	ASSERT_EQ(4096, vmsplice(pipefd[1], &iov, 1, 0));
	munmap(ap, 4096);
	vfio_dev_unplug(&self->dev, self->kv);

	vm2 = kvm_vm_create();
	kv2 = kvm_vfio_create(vm2);
	if (variant->path == VFIO_PATH_CDEV) {
		char p[MDEV_PATH_LEN];

		vfio_dev_release(&self->dev);
		vfio_dev_file_open(&self->dev, variant->path,
				   mdev_path(p, self->uuid));
	}
	mvgpu_open(&self->dev, kv2);
	ASSERT_EQ(sizeof(next),
		  __vfio_region_write(&self->dev, VFIO_PCI_BAR2_REGION_INDEX,
				      0, next, sizeof(next)));

	ASSERT_EQ(sizeof(buf), read(pipefd[0], buf, sizeof(buf)));
	EXPECT_STRNE(next, buf);
	EXPECT_STREQ(first, buf);
	close(pipefd[0]);
	close(pipefd[1]);
	vfio_dev_release(&self->dev);
	close(kv2);
	close(vm2);
}

struct gtt_loader {
	struct vfio_dev *dev;
	int ret;
};

static void *gtt_loader_run(void *arg)
{
	struct gtt_loader *l = arg;
	__u32 load = GTT_LOAD;

	l->ret = __vfio_region_write(l->dev, VFIO_PCI_BAR0_REGION_INDEX,
				     REG_GTT_CTRL, &load, sizeof(load));
	return NULL;
}

struct status_reader {
	struct vfio_dev *dev;
	__u32 status;
};

static void *status_read_run(void *arg)
{
	struct status_reader *r = arg;

	r->status = vfio_bar0_read(r->dev, REG_STATUS);
	return NULL;
}

struct gtt_storer {
	int vm;
	unsigned char *mem;
	__u16 gpa;
};

static void *gtt_store_run(void *arg)
{
	struct gtt_storer *st = arg;

	vcpu_store(st->vm, st->mem, 0, st->gpa, 0x77777777);
	return NULL;
}

/*
 * A 16-entry table whose second half is in a page the VMM backs with
 * userfaultfd memory, LOADed by @load until its DMA read waits there.
 */
static bool gtt_load_stalled(int vm, struct vfio_dev *d, struct stall_mem *sm,
			     struct stall_call *load, struct gtt_loader *l,
			     unsigned char **memp)
{
	unsigned char *mem = guest_ram(vm, d);

	stall_mem_create(sm, 4096);
	kvm_vm_set_memslot(vm, 1, GUEST_MEM_SIZE, sm->addr, sm->len);
	vfio_dev_dma_map(d, GUEST_MEM_SIZE, sm->addr, sm->len);
	memset(mem + GUEST_MEM_SIZE - 0x40, 0x11, 0x40);
	gtt_program(d, GUEST_MEM_SIZE - 0x40, 16);
	*l = (struct gtt_loader){ .dev = d };
	stall_call_start(load, gtt_loader_run, l);
	if (memp)
		*memp = mem;
	/* False if LOAD never read the stalling page. */
	return stall_mem_wait_fault(sm, 10000);
}

/*
 * The VMM backs the second page of the table with userfaultfd memory and
 * leaves the fault pending, so LOAD's DMA read waits for as long as the
 * VMM likes. Meanwhile the device's registers answer, and a vCPU store
 * to the table's first page (reported to the device's notifier) goes
 * through: nothing a vCPU waits for waits on the VMM's memory. (Before,
 * LOAD read with the device's mutex held, and both waited.) Once the
 * fault is served, the load reads again, with the vCPU's store.
 */
TEST_F(mvgpu, gtt_load_waiting_on_user_memory_stalls_no_vcpu)
{
	struct status_reader r = { .dev = &self->dev };
	struct stall_call load, read, store;
	struct gtt_storer st;
	struct gtt_loader l;
	struct stall_mem sm;
	unsigned char *mem;

	mvgpu_open(&self->dev, self->kv);
	/* Entries 0-7 in guest RAM, 8-15 in the stalling page. */
	ASSERT_TRUE(gtt_load_stalled(self->vm, &self->dev, &sm, &load, &l,
				     &mem));

	stall_call_start(&read, status_read_run, &r);
	EXPECT_TRUE(stall_call_wait(&read, 5000))
		TH_LOG("a register read waited for LOAD's DMA");
	/* Entry 1, in the first page. */
	st = (struct gtt_storer){ .vm = self->vm, .mem = mem, .gpa = 0xffc8 };
	stall_call_start(&store, gtt_store_run, &st);
	EXPECT_TRUE(stall_call_wait(&store, 5000))
		TH_LOG("a vCPU store waited for LOAD's DMA");
	EXPECT_FALSE(stall_call_wait(&load, 0));

	stall_mem_release(&sm, 0x33);
	stall_call_join(&load);
	stall_call_join(&read);
	stall_call_join(&store);
	ASSERT_EQ(4, l.ret);
	EXPECT_EQ(STATUS_VM, r.status);
	EXPECT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0x11111111, vfio_bar0_read(&self->dev, REG_GTT_SHADOW));
	EXPECT_EQ(0x77777777, vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 8));
	EXPECT_EQ(0x33333333,
		  vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 8 * 8));
	vfio_dev_close(&self->dev);
	stall_mem_destroy(&sm);
}

struct gtt_resetter {
	struct vfio_dev *dev;
	bool reset;	/* VFIO_DEVICE_RESET, or else GTT_CTRL=UNLOAD */
	int ret;
};

static void *gtt_reset_run(void *arg)
{
	struct gtt_resetter *r = arg;
	__u32 unload = GTT_UNLOAD;

	if (r->reset)
		r->ret = ioctl(r->dev->fd, VFIO_DEVICE_RESET) ? -errno : 0;
	else
		r->ret = __vfio_region_write(r->dev, VFIO_PCI_BAR0_REGION_INDEX,
					     REG_GTT_CTRL, &unload, 4);
	return NULL;
}

/*
 * UNLOAD, or a reset, while LOAD's DMA read waits on the VMM's memory:
 * it does not wait for the read, and it wins. The load that finishes
 * afterwards drops what it read (gtt.gen), so the device stays IDLE:
 * no shadow, no write tracking, no error. (A load that committed
 * regardless would put the old table in the shadow of an IDLE device.)
 */
static void gtt_unloaded_during_load(struct __test_metadata *_metadata,
				     int vm, int kv, struct vfio_dev *d,
				     const char *uuid, bool reset)
{
	struct gtt_resetter r = { .dev = d, .reset = reset };
	struct stall_call load, unload;
	struct gtt_loader l;
	struct gtt_state g;
	struct stall_mem sm;

	mvgpu_open(d, kv);
	ASSERT_TRUE(gtt_load_stalled(vm, d, &sm, &load, &l, NULL));
	gtt_state(uuid, &g);
	EXPECT_STREQ("0xf 0x10", g.tracked);

	stall_call_start(&unload, gtt_reset_run, &r);
	EXPECT_TRUE(stall_call_wait(&unload, 5000))
		TH_LOG("%s waited for LOAD's DMA", reset ? "reset" : "UNLOAD");
	stall_mem_release(&sm, 0x33);
	stall_call_join(&load);
	stall_call_join(&unload);
	EXPECT_EQ(reset ? 0 : 4, r.ret);
	EXPECT_EQ(4, l.ret);

	EXPECT_EQ(STATUS_VM, vfio_bar0_read(d, REG_STATUS));
	EXPECT_EQ(0, vfio_bar0_read(d, REG_GTT_SHADOW));
	EXPECT_EQ(0, vfio_bar0_read(d, REG_GTT_SHADOW + 8 * 8));
	gtt_state(uuid, &g);
	EXPECT_EQ(0, g.loaded);
	EXPECT_STREQ("none", g.tracked);

	/* And the device loads again. */
	if (reset)
		gtt_program(d, GUEST_MEM_SIZE - 0x40, 16);
	vfio_bar0_write(d, REG_GTT_CTRL, GTT_LOAD);
	EXPECT_EQ(STATUS_VM | STATUS_GTT, vfio_bar0_read(d, REG_STATUS));
	EXPECT_EQ(0x33333333, vfio_bar0_read(d, REG_GTT_SHADOW + 8 * 8));
	vfio_dev_close(d);
	stall_mem_destroy(&sm);
}

TEST_F(mvgpu, gtt_unload_during_a_stalled_load_wins)
{
	gtt_unloaded_during_load(_metadata, self->vm, self->kv, &self->dev,
				 self->uuid, false);
}

TEST_F(mvgpu, gtt_reset_during_a_stalled_load_wins)
{
	gtt_unloaded_during_load(_metadata, self->vm, self->kv, &self->dev,
				 self->uuid, true);
}

/*
 * A second LOAD while the first waits on the VMM's memory waits its
 * turn, interruptibly: a signal ends it with EINTR and leaves the first
 * alone, which then completes. (Two loads at once would latch, protect
 * and shadow over each other.)
 */
TEST_F(mvgpu, gtt_second_load_waits_its_turn_interruptibly)
{
	struct stall_call load, second;
	struct gtt_loader l, l2;
	struct gtt_state g;
	struct stall_mem sm;
	bool interrupted;

	mvgpu_open(&self->dev, self->kv);
	ASSERT_TRUE(gtt_load_stalled(self->vm, &self->dev, &sm, &load, &l,
				     NULL));

	l2 = (struct gtt_loader){ .dev = &self->dev };
	stall_call_start(&second, gtt_loader_run, &l2);
	EXPECT_FALSE(stall_call_wait(&second, 200))
		TH_LOG("a second LOAD ran beside a stalled one");
	interrupted = stall_call_interrupt(&second, 5000);
	EXPECT_TRUE(interrupted)
		TH_LOG("a LOAD waiting its turn ignored signals");
	EXPECT_FALSE(stall_call_wait(&load, 0));
	/* Served before the join, so that the old code fails, not hangs. */
	if (!interrupted)
		stall_mem_release(&sm, 0x33);
	stall_call_join(&second);
	EXPECT_EQ(-EINTR, l2.ret);

	stall_mem_release(&sm, 0x33);
	stall_call_join(&load);
	EXPECT_EQ(4, l.ret);
	EXPECT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0x11111111, vfio_bar0_read(&self->dev, REG_GTT_SHADOW));
	EXPECT_EQ(0x33333333,
		  vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 8 * 8));
	gtt_state(self->uuid, &g);
	EXPECT_STREQ("0xf 0x10", g.tracked);
	vfio_dev_unplug(&self->dev, self->kv);
	gtt_state(self->uuid, &g);
	EXPECT_STREQ("none", g.tracked);
	stall_mem_destroy(&sm);
}

/*
 * A LOAD whose DMA read fails after waiting (the VMM unmapped the
 * memory) leaves the device IDLE with GTT_ERROR and drops the write
 * tracking it took.
 */
TEST_F(mvgpu, gtt_load_whose_stalled_read_fails_drops_its_tracking)
{
	struct stall_call load;
	struct gtt_loader l;
	struct gtt_state g;
	struct stall_mem sm;

	mvgpu_open(&self->dev, self->kv);
	ASSERT_TRUE(gtt_load_stalled(self->vm, &self->dev, &sm, &load, &l,
				     NULL));
	stall_mem_fail(&sm);
	stall_call_join(&load);
	EXPECT_EQ(4, l.ret);
	EXPECT_EQ(STATUS_VM | STATUS_GTT_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_GTT_SHADOW));
	gtt_state(self->uuid, &g);
	EXPECT_STREQ("none", g.tracked);
	vfio_dev_close(&self->dev);
	stall_mem_destroy(&sm);
}

struct irq_setter {
	struct vfio_dev *dev;
	struct vfio_irq_set *set;
	int ret;
};

static void *irq_set_run(void *arg)
{
	struct irq_setter *i = arg;

	i->ret = ioctl(i->dev->fd, VFIO_DEVICE_SET_IRQS, i->set) ? -errno : 0;
	return NULL;
}

/*
 * Another thread of the VMM (or another process with the fd) reads a
 * register into memory whose fault it leaves pending, and passes
 * SET_IRQS an eventfd there. Neither holds the device's mutex while it
 * waits: a vCPU store to the loaded GTT, reported to the device's
 * notifier under KVM's SRCU, goes through, and so does another register
 * read. (Before, both copies ran under mg->lock: the vCPU hung in the
 * notifier, unkillable, and every memslot update of the VM behind it.)
 */
TEST_F(mvgpu, register_copies_waiting_on_user_memory_stall_no_vcpu)
{
	struct status_reader r = { .dev = &self->dev };
	struct stall_call rd, irq, read, store;
	struct vfio_region_info info;
	struct stall_pread pr;
	struct irq_setter is;
	struct vfio_irq_set *set;
	struct gtt_storer st;
	struct stall_mem sm;
	unsigned char *mem;

	mvgpu_open(&self->dev, self->kv);
	mem = guest_ram(self->vm, &self->dev);
	gtt_program(&self->dev, GUEST_GTT, 8);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	ASSERT_EQ(STATUS_VM | STATUS_GTT,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	stall_mem_create(&sm, 4096);

	vfio_region_info(&self->dev, VFIO_PCI_BAR0_REGION_INDEX, &info);
	/* Apart from the eventfd below, which must stay -1. */
	pr = (struct stall_pread){ .fd = self->dev.fd,
		.buf = (char *)sm.addr + 64, .len = 4,
		.off = info.offset + REG_STATUS };
	stall_call_start(&rd, stall_pread_run, &pr);
	ASSERT_TRUE(stall_mem_wait_fault(&sm, 10000))
		TH_LOG("the register read never wrote the stalling page");

	/* The header in plain memory, the eventfd in the stalling page. */
	set = (struct vfio_irq_set *)((char *)sm.addr - sizeof(*set));
	*set = (struct vfio_irq_set){
		.argsz = sizeof(*set) + sizeof(__s32),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD |
			 VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX, .count = 1,
	};
	is = (struct irq_setter){ .dev = &self->dev, .set = set };
	stall_call_start(&irq, irq_set_run, &is);

	stall_call_start(&read, status_read_run, &r);
	EXPECT_TRUE(stall_call_wait(&read, 5000))
		TH_LOG("a register read waited for another's copy");
	st = (struct gtt_storer){ .vm = self->vm, .mem = mem,
				  .gpa = GUEST_GTT + 8 };
	stall_call_start(&store, gtt_store_run, &st);
	EXPECT_TRUE(stall_call_wait(&store, 5000))
		TH_LOG("a vCPU store waited for a register's copy");

	EXPECT_FALSE(stall_call_wait(&irq, 0))
		TH_LOG("SET_IRQS never waited on its eventfd");
	/* Served with -1 as the eventfd: SET_IRQS disables MSI. */
	stall_mem_release(&sm, 0xff);
	stall_call_join(&rd);
	stall_call_join(&irq);
	stall_call_join(&read);
	stall_call_join(&store);
	EXPECT_EQ(4, pr.ret);
	EXPECT_EQ(STATUS_VM | STATUS_GTT, *(__u32 *)((char *)sm.addr + 64));
	EXPECT_EQ(0, is.ret);
	EXPECT_EQ(STATUS_VM | STATUS_GTT, r.status);
	EXPECT_EQ(0x77777777, vfio_bar0_read(&self->dev, REG_GTT_SHADOW + 8));
	vfio_dev_close(&self->dev);
	stall_mem_destroy(&sm);
}

/*
 * Round after round, a vCPU stores a new value into a GTT entry while
 * another thread LOADs the table. Whatever the interleaving, once both
 * are done the shadow holds the stored value: LOAD protects the pages
 * before it reads, so the store is either read or reported to the
 * notifier (and a LOAD that was reading meanwhile reads again). Reading
 * before protecting loses a store that lands in between; a notifier that
 * ignored stores loses those after the read. A race, so the old code
 * failed it often but not every time.
 */
TEST_F(mvgpu, gtt_load_loses_no_guest_write)
{
	enum { ROUNDS = 300, SECONDS = 10 };
	/* mov dword [GUEST_GTT], imm32; hlt: the imm32 at byte 5 */
	unsigned char code[] = {
		0x66, 0xc7, 0x06, GUEST_GTT & 0xff, GUEST_GTT >> 8,
		0, 0, 0, 0, 0xf4,
	};
	struct gtt_loader l = { .dev = &self->dev };
	struct kvm_vcpu vcpu;
	struct kvm_regs regs;
	unsigned char *mem;
	time_t end = time(NULL) + SECONDS;
	__u32 round, val, writes;
	pthread_t t;

	mvgpu_open(&self->dev, self->kv);
	mem = guest_ram(self->vm, &self->dev);
	memcpy(mem + GUEST_CODE, code, sizeof(code));
	gtt_program(&self->dev, GUEST_GTT, 4);
	vfio_bar0_write(&self->dev, REG_GTT_CTRL, GTT_LOAD);
	kvm_vcpu_create(self->vm, 0, GUEST_CODE, &vcpu);
	ASSERT_EQ(0, ioctl(vcpu.fd, KVM_GET_REGS, &regs));

	for (round = 1; round <= ROUNDS && time(NULL) < end; round++) {
		val = 0x5a000000 | round;
		memcpy(mem + GUEST_CODE + 5, &val, sizeof(val));
		regs.rip = GUEST_CODE;
		ASSERT_EQ(0, ioctl(vcpu.fd, KVM_SET_REGS, &regs));

		ASSERT_EQ(0, pthread_create(&t, NULL, gtt_loader_run, &l));
		ASSERT_EQ(KVM_EXIT_HLT, kvm_vcpu_run(&vcpu));
		pthread_join(t, NULL);
		ASSERT_EQ(4, l.ret);

		ASSERT_EQ(val, *(__u32 *)(mem + GUEST_GTT));
		ASSERT_EQ(STATUS_VM | STATUS_GTT,
			  vfio_bar0_read(&self->dev, REG_STATUS));
		ASSERT_EQ(val, vfio_bar0_read(&self->dev, REG_GTT_SHADOW))
			TH_LOG("round %u: the store was lost", round);
	}
	writes = vfio_bar0_read(&self->dev, REG_GTT_WRITES);
	TH_LOG("%u rounds, %u of the stores reported by KVM", round - 1,
	       writes);
	kvm_vcpu_destroy(&vcpu);
}

/*
 * The core's "requires KVM" line is rate-limited per device: another
 * device's flood of failed opens does not hide this device's line.
 * (A rate limit per call site did, and made this line's tests depend on
 * what ran in the 5 s before them.)
 */
TEST_F(mvgpu, open_without_vm_logs_even_after_another_device_floods)
{
	char other[MDEV_UUID_LEN], needle[96];
	struct vfio_dev flood;
	int i, before;

	vfio_mdev_file_open(&flood, variant->path, MVGPU, MVGPU_SMALL, other);
	for (i = 0; i < 20; i++)
		EXPECT_EQ(-EINVAL, __vfio_dev_open(&flood));
	vfio_dev_release(&flood);
	mdev_remove(other);

	snprintf(needle, sizeof(needle), "%s: vfio: the device requires KVM",
		 self->uuid);
	before = dmesg_count(needle);
	EXPECT_EQ(-EINVAL, __vfio_dev_open(&self->dev));
	EXPECT_EQ(before + 1, dmesg_count(needle));
}

TEST_F(mvgpu, one_vgpu_per_vm)
{
	char other[MDEV_UUID_LEN], p[MDEV_PATH_LEN];
	struct vfio_dev second;
	int vm2, kv2;

	mvgpu_open(&self->dev, self->kv);
	vfio_mdev_file_open(&second, variant->path, MVGPU, MVGPU_SMALL, other);

	kvm_vfio_file_add(self->kv, second.file);
	EXPECT_EQ(-EEXIST, __vfio_dev_open(&second));
	kvm_vfio_file_del(self->kv, second.file);

	/* On another VM it opens. */
	vm2 = kvm_vm_create();
	kv2 = kvm_vfio_create(vm2);
	if (variant->path == VFIO_PATH_CDEV) {
		vfio_dev_release(&second);
		vfio_dev_file_open(&second, variant->path, mdev_path(p, other));
	}
	kvm_vfio_file_add(kv2, second.file);
	EXPECT_EQ(0, __vfio_dev_open(&second));
	EXPECT_EQ(STATUS_VM, vfio_bar0_read(&second, REG_STATUS));

	vfio_dev_release(&second);
	close(kv2);
	close(vm2);
	mdev_remove(other);
}

/* What an admin does, with the host's mdevctl. */
TEST_HARNESS_MAIN
