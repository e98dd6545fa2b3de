// SPDX-License-Identifier: GPL-2.0
/*
 * The zdev-like sample, mdev-samples/mzdev.c, on the group and the cdev
 * path: it works without a VM; with one it registers with the VM until
 * its last close, even after the VM's own fds are gone. Its measurement
 * block is DMA (vfio_dma_rw()) into the memory the VMM mapped for the
 * device, with or without a VM; the address is latched while enabled.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/assert.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/stall.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"

#define MZDEV		"mzdev"
#define MZDEV_C4	"mzdev-c4"

/* BAR0 registers, as in mdev-samples/mzdev.c */
#define REG_ID		0x00
#define REG_STATUS	0x04
#define REG_DOORBELL	0x08
#define REG_FMB_LO	0x10
#define REG_FMB_HI	0x14
#define REG_FMB_CTRL	0x18
#define REG_COUNTERS	0x100
#define STATUS_VM	0x1
#define STATUS_FMB_ERROR 0x2

#define MEM_SIZE	0x10000
#define FMB_GPA		0x3000

struct fmb {
	__u32 format;
	__u32 sequence;
	__u64 counters[4];
};

/* Disables the FMB, programs its address and enables it. */
static void fmb_program(struct vfio_dev *d, __u64 gpa)
{
	vfio_bar0_write(d, REG_FMB_CTRL, 0);
	vfio_bar0_write(d, REG_FMB_LO, (__u32)gpa);
	vfio_bar0_write(d, REG_FMB_HI, gpa >> 32);
	vfio_bar0_write(d, REG_FMB_CTRL, 1);
}

/* Is @uuid registered with the VM named @vm (or with any VM, if NULL)? */
static bool registered(const char *vm, const char *uuid)
{
	char buf[4096], line[128];

	if (__sysfs_read("/sys/kernel/debug/" MZDEV "/vms", buf, sizeof(buf)))
		return false;
	if (!vm)
		return strstr(buf, uuid);
	snprintf(line, sizeof(line), "%s %s", vm, uuid);
	return strstr(buf, line);
}

FIXTURE(mzdev) {
	int vm;
	int kv;
	char vm_name[32];
	char uuid[MDEV_UUID_LEN];
	struct vfio_dev dev;
	unsigned char *mem;	/* guest memory, slot 0 at 0 */
};

FIXTURE_VARIANT(mzdev) {
	enum vfio_path path;
};

FIXTURE_VARIANT_ADD(mzdev, group) {
	.path = VFIO_PATH_GROUP,
};

FIXTURE_VARIANT_ADD(mzdev, cdev) {
	.path = VFIO_PATH_CDEV,
};

FIXTURE_SETUP(mzdev)
{
	modprobe(MZDEV);
	self->vm = kvm_vm_create();
	self->kv = kvm_vfio_create(self->vm);
	kvm_vm_name(self->vm, self->vm_name, sizeof(self->vm_name));
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	kvm_vm_set_memslot(self->vm, 0, 0, self->mem, MEM_SIZE);
	vfio_mdev_file_open(&self->dev, variant->path, MZDEV, MZDEV_C4,
			    self->uuid);
}

FIXTURE_TEARDOWN(mzdev)
{
	vfio_dev_release(&self->dev);
	if (self->kv >= 0)
		close(self->kv);
	if (self->vm >= 0)
		close(self->vm);
	mdev_remove(self->uuid);
	munmap(self->mem, MEM_SIZE);
}

/* Opens the device and maps guest memory for its DMA at IOVA = GPA. */
static void mzdev_open(struct vfio_dev *d, unsigned char *mem)
{
	int ret;

	vfio_dev_open(d);
	/* The group path keeps the container's mapping across a reopen. */
	ret = __vfio_dev_dma_map(d, 0, mem, MEM_SIZE, true);
	MK_ASSERT_TRUE(ret == 0 || ret == -EEXIST, "DMA map: %d", ret);
}

static struct fmb *guest_fmb(unsigned char *mem)
{
	return (struct fmb *)(mem + FMB_GPA);
}

TEST_F(mzdev, works_without_vm_and_pins_nothing)
{
	__u8 cfg[256];

	mzdev_open(&self->dev, self->mem);
	/* Config space in one read, as QEMU does. */
	ASSERT_EQ(256, __vfio_region_read(&self->dev,
					  VFIO_PCI_CONFIG_REGION_INDEX, 0,
					  cfg, sizeof(cfg)));
	EXPECT_EQ(0x10f11b36, *(__u32 *)cfg);
	EXPECT_EQ(0x4d5a4456, vfio_bar0_read(&self->dev, REG_ID));
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_FALSE(registered(NULL, self->uuid));

	fmb_program(&self->dev, FMB_GPA);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	/* Counter 0 counts doorbells, counter 1 every second one. */
	EXPECT_EQ(3, vfio_bar0_read(&self->dev, REG_COUNTERS));
	EXPECT_EQ(1, vfio_bar0_read(&self->dev, REG_COUNTERS + 8));
	/* The FMB is DMA: written without a VM too. */
	EXPECT_EQ(1, guest_fmb(self->mem)->format);
	EXPECT_EQ(3, guest_fmb(self->mem)->sequence);

	/* And nothing holds the VM. */
	close(self->kv);
	close(self->vm);
	self->kv = -1;
	self->vm = -1;
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

TEST_F(mzdev, with_vm_registers_and_writes_the_fmb_to_guest_memory)
{
	kvm_vfio_file_add(self->kv, self->dev.file);
	mzdev_open(&self->dev, self->mem);
	EXPECT_EQ(STATUS_VM, vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_TRUE(registered(self->vm_name, self->uuid));

	fmb_program(&self->dev, FMB_GPA);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, guest_fmb(self->mem)->format);
	EXPECT_EQ(2, guest_fmb(self->mem)->sequence);
	EXPECT_EQ(2, guest_fmb(self->mem)->counters[0]);
	EXPECT_EQ(1, guest_fmb(self->mem)->counters[1]);
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_STATUS) & STATUS_FMB_ERROR);
}

TEST_F(mzdev, vm_closed_first_fmb_written_until_the_device_closes)
{
	kvm_vfio_file_add(self->kv, self->dev.file);
	mzdev_open(&self->dev, self->mem);
	fmb_program(&self->dev, FMB_GPA);

	close(self->kv);
	close(self->vm);
	self->kv = -1;
	self->vm = -1;
	EXPECT_TRUE(kvm_vm_alive(self->vm_name));
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, guest_fmb(self->mem)->sequence);
	EXPECT_TRUE(registered(self->vm_name, self->uuid));

	/* The last close unregisters and drops the last VM reference. */
	vfio_dev_close(&self->dev);
	EXPECT_FALSE(registered(NULL, self->uuid));
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));
}

TEST_F(mzdev, file_del_keeps_registration_and_reopen_has_no_vm)
{
	char p[MDEV_PATH_LEN];

	kvm_vfio_file_add(self->kv, self->dev.file);
	mzdev_open(&self->dev, self->mem);
	kvm_vfio_file_del(self->kv, self->dev.file);
	EXPECT_TRUE(registered(self->vm_name, self->uuid));
	fmb_program(&self->dev, FMB_GPA);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, guest_fmb(self->mem)->sequence);
	vfio_dev_close(&self->dev);

	if (variant->path == VFIO_PATH_CDEV)
		vfio_dev_file_open(&self->dev, variant->path,
				   mdev_path(p, self->uuid));
	memset(guest_fmb(self->mem), 0, sizeof(struct fmb));
	mzdev_open(&self->dev, self->mem);
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_FALSE(registered(NULL, self->uuid));
	/* Reset at close: the FMB is off again until programmed. */
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(0, guest_fmb(self->mem)->sequence);
	fmb_program(&self->dev, FMB_GPA);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(2, guest_fmb(self->mem)->sequence);	/* DMA, no VM */
}

TEST_F(mzdev, bad_fmb_address_sets_error_and_writes_nothing)
{
	static const __u64 bad[] = {
		FMB_GPA + 4,		/* misaligned: not enabled */
		FMB_GPA + 0xff8,	/* crosses a page: not enabled */
		0x200000,		/* not mapped: the DMA fails */
	};
	unsigned char before[MEM_SIZE];
	int i;

	kvm_vfio_file_add(self->kv, self->dev.file);
	mzdev_open(&self->dev, self->mem);
	memcpy(before, self->mem, MEM_SIZE);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fmb_program(&self->dev, bad[i]);
		vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
		EXPECT_EQ(STATUS_VM | STATUS_FMB_ERROR,
			  vfio_bar0_read(&self->dev, REG_STATUS));
	}
	EXPECT_EQ(0, memcmp(before, self->mem, MEM_SIZE));
	/* Enabling what is enabled changes nothing: the error stays. */
	vfio_bar0_write(&self->dev, REG_FMB_CTRL, 1);
	EXPECT_EQ(STATUS_VM | STATUS_FMB_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));

	/* Read-only for the device: the DMA fails, nothing written. */
	ASSERT_EQ(0, __vfio_dev_dma_map(&self->dev, 0x100000, self->mem,
					MEM_SIZE, false));
	fmb_program(&self->dev, 0x100000 + FMB_GPA);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(STATUS_VM | STATUS_FMB_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0, memcmp(before, self->mem, MEM_SIZE));

	/* A good address clears the error. */
	fmb_program(&self->dev, FMB_GPA);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(STATUS_VM, vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(5, guest_fmb(self->mem)->sequence);
}

/*
 * While the FMB is enabled its address is latched: a write to FMB_LO/HI
 * is ignored (reads back the latched address), and the block goes where
 * it went; disabling makes the address writable again.
 */
TEST_F(mzdev, fmb_address_is_read_only_while_enabled)
{
	mzdev_open(&self->dev, self->mem);
	fmb_program(&self->dev, FMB_GPA);
	vfio_bar0_write(&self->dev, REG_FMB_LO, FMB_GPA + 0x1000);
	vfio_bar0_write(&self->dev, REG_FMB_HI, 1);
	EXPECT_EQ(FMB_GPA, vfio_bar0_read(&self->dev, REG_FMB_LO));
	EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_FMB_HI));
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(1, guest_fmb(self->mem)->sequence);
	EXPECT_EQ(0, guest_fmb(self->mem + 0x1000)->sequence);

	vfio_bar0_write(&self->dev, REG_FMB_CTRL, 0);
	vfio_bar0_write(&self->dev, REG_FMB_LO, FMB_GPA + 0x1000);
	EXPECT_EQ(FMB_GPA + 0x1000, vfio_bar0_read(&self->dev, REG_FMB_LO));
	vfio_bar0_write(&self->dev, REG_FMB_CTRL, 1);
	vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
	EXPECT_EQ(2, guest_fmb(self->mem + 0x1000)->sequence);
	EXPECT_EQ(1, guest_fmb(self->mem)->sequence);
}

struct doorbell {
	struct vfio_dev *dev;
	__u32 status;
	int ret;	/* of the doorbell's write */
};

static void *doorbell_run(void *arg)
{
	struct doorbell *b = arg;
	__u32 one = 1;

	b->ret = __vfio_region_write(b->dev, VFIO_PCI_BAR0_REGION_INDEX,
				     REG_DOORBELL, &one, sizeof(one));
	return NULL;
}

static void *status_run(void *arg)
{
	struct doorbell *b = arg;

	b->status = vfio_bar0_read(b->dev, REG_STATUS);
	return NULL;
}

/*
 * The FMB's IOVA is backed by userfaultfd memory whose fault the VMM
 * leaves pending: the doorbell's DMA write waits. Meanwhile the
 * registers and the uid attribute answer (before, the write held the
 * device's mutex, and both waited). Served, the write lands.
 */
TEST_F(mzdev, fmb_write_waiting_on_user_memory_blocks_no_register)
{
	struct doorbell ring = { .dev = &self->dev };
	struct doorbell rd = { .dev = &self->dev };
	struct stall_call bell, read;
	struct stall_mem sm;
	char path[128], p[MDEV_PATH_LEN], buf[32];
	struct fmb *fmb;

	kvm_vfio_file_add(self->kv, self->dev.file);
	mzdev_open(&self->dev, self->mem);
	stall_mem_create(&sm, 4096);
	vfio_dev_dma_map(&self->dev, 0x100000, sm.addr, sm.len);
	fmb_program(&self->dev, 0x100000 + 0x100);

	stall_call_start(&bell, doorbell_run, &ring);
	ASSERT_TRUE(stall_mem_wait_fault(&sm, 10000))
		TH_LOG("the doorbell never wrote the stalling page");
	stall_call_start(&read, status_run, &rd);
	EXPECT_TRUE(stall_call_wait(&read, 5000))
		TH_LOG("a register read waited for the FMB's DMA");
	snprintf(path, sizeof(path), "%s/uid", mdev_path(p, self->uuid));
	EXPECT_EQ(0, __sysfs_read(path, buf, sizeof(buf)));

	stall_mem_release(&sm, 0);
	stall_call_join(&bell);
	stall_call_join(&read);
	EXPECT_EQ(STATUS_VM, rd.status);
	EXPECT_EQ(STATUS_VM, vfio_bar0_read(&self->dev, REG_STATUS));
	fmb = (struct fmb *)((char *)sm.addr + 0x100);
	EXPECT_EQ(1, fmb->format);
	EXPECT_EQ(1, fmb->sequence);
	vfio_dev_close(&self->dev);
	stall_mem_destroy(&sm);
}

/*
 * The FMB in a fresh stalling page at IOVA 0x100000, and a doorbell
 * whose write waits there.
 */
static bool fmb_doorbell_stalled(struct vfio_dev *d, struct stall_mem *sm,
				 struct stall_call *bell, struct doorbell *b)
{
	stall_mem_create(sm, 4096);
	vfio_dev_dma_map(d, 0x100000, sm->addr, sm->len);
	fmb_program(d, 0x100000 + 0x100);
	*b = (struct doorbell){ .dev = d };
	stall_call_start(bell, doorbell_run, b);
	/* False if the doorbell never wrote the stalling page. */
	return stall_mem_wait_fault(sm, 10000);
}

struct fmb_ctrl {
	struct vfio_dev *dev;
	bool reset;	/* VFIO_DEVICE_RESET, or else FMB_CTRL=0 */
	int ret;
};

static void *fmb_ctrl_run(void *arg)
{
	struct fmb_ctrl *c = arg;
	__u32 zero = 0;

	if (c->reset)
		c->ret = ioctl(c->dev->fd, VFIO_DEVICE_RESET) ? -errno : 0;
	else
		c->ret = __vfio_region_write(c->dev, VFIO_PCI_BAR0_REGION_INDEX,
					     REG_FMB_CTRL, &zero, 4);
	return NULL;
}

/*
 * A doorbell's DMA write waits on the VMM's memory. FMB_CTRL=0, or a
 * reset, waits for it, interruptibly, as a device fences its DMA when
 * disabled: once it returns, no block lands at the old address and the
 * guest may reuse the page. (Before, both returned at once, and the
 * block landed afterwards.) The other registers answer meanwhile. A
 * failed write sets STATUS_FMB_ERROR while the FMB is enabled.
 */
TEST_F(mzdev, fmb_ctrl_and_reset_wait_for_a_write_in_flight)
{
	struct doorbell b, rd = { .dev = &self->dev };
	struct stall_call bell, ctrl, read;
	struct fmb_ctrl c;
	struct stall_mem sm;
	bool interrupted;
	struct fmb *fmb;
	int reset;

	kvm_vfio_file_add(self->kv, self->dev.file);
	mzdev_open(&self->dev, self->mem);

	/* A write that fails after waiting: the error, while enabled. */
	ASSERT_TRUE(fmb_doorbell_stalled(&self->dev, &sm, &bell, &b));
	stall_mem_fail(&sm);
	stall_call_join(&bell);
	EXPECT_EQ(4, b.ret);
	EXPECT_EQ(STATUS_VM | STATUS_FMB_ERROR,
		  vfio_bar0_read(&self->dev, REG_STATUS));
	EXPECT_EQ(0, __vfio_dev_dma_unmap(&self->dev, 0x100000, sm.len));
	stall_mem_destroy(&sm);

	for (reset = 0; reset <= 1; reset++) {
		ASSERT_TRUE(fmb_doorbell_stalled(&self->dev, &sm, &bell, &b));
		c = (struct fmb_ctrl){ .dev = &self->dev, .reset = reset };

		/* Waits, and a signal ends the wait: still enabled. */
		stall_call_start(&ctrl, fmb_ctrl_run, &c);
		EXPECT_FALSE(stall_call_wait(&ctrl, 300))
			TH_LOG("%s returned with a write in flight",
			       reset ? "reset" : "FMB_CTRL=0");
		stall_call_start(&read, status_run, &rd);
		EXPECT_TRUE(stall_call_wait(&read, 5000))
			TH_LOG("a register read waited for the FMB's DMA");
		interrupted = stall_call_interrupt(&ctrl, 5000);
		EXPECT_TRUE(interrupted);
		if (!interrupted)
			stall_mem_release(&sm, 0);
		stall_call_join(&ctrl);
		stall_call_join(&read);
		EXPECT_EQ(-EINTR, c.ret);
		EXPECT_EQ(1, vfio_bar0_read(&self->dev, REG_FMB_CTRL));

		/* Again; the write lands, then it returns. */
		stall_call_start(&ctrl, fmb_ctrl_run, &c);
		EXPECT_FALSE(stall_call_wait(&ctrl, 300));
		stall_mem_release(&sm, 0);
		stall_call_join(&bell);
		stall_call_join(&ctrl);
		EXPECT_EQ(reset ? 0 : 4, c.ret);
		EXPECT_EQ(STATUS_VM, vfio_bar0_read(&self->dev, REG_STATUS));
		EXPECT_EQ(0, vfio_bar0_read(&self->dev, REG_FMB_CTRL));
		fmb = (struct fmb *)((char *)sm.addr + 0x100);
		EXPECT_EQ(1, fmb->format);
		/* Disabled: the next doorbell writes nothing there. */
		fmb->format = 0x5a5a5a5a;
		vfio_bar0_write(&self->dev, REG_DOORBELL, 1);
		EXPECT_EQ(0x5a5a5a5a, fmb->format);
		EXPECT_EQ(0, __vfio_dev_dma_unmap(&self->dev, 0x100000,
						  sm.len));
		stall_mem_destroy(&sm);
	}
	vfio_dev_close(&self->dev);
}

/*
 * A register read into memory whose fault the reader leaves pending
 * does not hold the device's mutex while it waits: a doorbell goes
 * through. (Before, the copy ran under mz->lock.)
 */
TEST_F(mzdev, register_read_waiting_on_user_memory_blocks_no_doorbell)
{
	struct doorbell ring = { .dev = &self->dev };
	struct vfio_region_info info;
	struct stall_call rd, bell;
	struct stall_pread pr;
	struct stall_mem sm;

	mzdev_open(&self->dev, self->mem);
	stall_mem_create(&sm, 4096);
	vfio_region_info(&self->dev, VFIO_PCI_BAR0_REGION_INDEX, &info);
	pr = (struct stall_pread){ .fd = self->dev.fd, .buf = sm.addr,
		.len = 4, .off = info.offset + REG_ID };
	stall_call_start(&rd, stall_pread_run, &pr);
	ASSERT_TRUE(stall_mem_wait_fault(&sm, 10000));
	stall_call_start(&bell, doorbell_run, &ring);
	EXPECT_TRUE(stall_call_wait(&bell, 5000))
		TH_LOG("a doorbell waited for a register read's copy");
	stall_mem_release(&sm, 0);
	stall_call_join(&rd);
	stall_call_join(&bell);
	EXPECT_EQ(4, pr.ret);
	EXPECT_EQ(vfio_bar0_read(&self->dev, REG_ID), *(__u32 *)sm.addr);
	EXPECT_EQ(1, vfio_bar0_read(&self->dev, REG_COUNTERS));
	vfio_dev_close(&self->dev);
	stall_mem_destroy(&sm);
}

/*
 * A second doorbell while the first one's write waits: it waits its
 * turn (the blocks are written in order), interruptibly. A signal ends
 * it with EINTR and it counts nothing; the first then completes.
 */
TEST_F(mzdev, doorbell_behind_a_stalled_one_waits_interruptibly)
{
	struct stall_call bell, second;
	struct doorbell b, b2;
	struct stall_mem sm;
	bool interrupted;
	struct fmb *fmb;

	kvm_vfio_file_add(self->kv, self->dev.file);
	mzdev_open(&self->dev, self->mem);
	ASSERT_TRUE(fmb_doorbell_stalled(&self->dev, &sm, &bell, &b));

	b2 = (struct doorbell){ .dev = &self->dev };
	stall_call_start(&second, doorbell_run, &b2);
	EXPECT_FALSE(stall_call_wait(&second, 200))
		TH_LOG("a second doorbell ran beside a stalled one");
	interrupted = stall_call_interrupt(&second, 5000);
	EXPECT_TRUE(interrupted)
		TH_LOG("a doorbell waiting its turn ignored signals");
	/* Served before the join, so that the old code fails, not hangs. */
	if (!interrupted)
		stall_mem_release(&sm, 0);
	stall_call_join(&second);
	EXPECT_EQ(-EINTR, b2.ret);
	EXPECT_EQ(1, vfio_bar0_read(&self->dev, REG_COUNTERS));

	stall_mem_release(&sm, 0);
	stall_call_join(&bell);
	EXPECT_EQ(4, b.ret);
	fmb = (struct fmb *)((char *)sm.addr + 0x100);
	EXPECT_EQ(1, fmb->sequence);
	EXPECT_EQ(1, fmb->counters[0]);
	vfio_dev_close(&self->dev);
	stall_mem_destroy(&sm);
}

TEST_HARNESS_MAIN
