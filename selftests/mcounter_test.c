// SPDX-License-Identifier: GPL-2.0
/*
 * The control sample, mdev-samples/mcounter.c: a device without kvm_ops
 * works in a group or file attached to a VM and never pins that VM.
 */
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/stall.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"

#define MCOUNTER	"mcounter"
#define MCOUNTER_1	"mcounter-1"

FIXTURE(mcounter) {
	int vm;
	int kv;
	char vm_name[32];
	char uuid[MDEV_UUID_LEN];
	struct vfio_dev dev;
};

FIXTURE_VARIANT(mcounter) {
	enum vfio_path path;
};

FIXTURE_VARIANT_ADD(mcounter, group) {
	.path = VFIO_PATH_GROUP,
};

FIXTURE_VARIANT_ADD(mcounter, cdev) {
	.path = VFIO_PATH_CDEV,
};

FIXTURE_SETUP(mcounter)
{
	modprobe(MCOUNTER);
	self->vm = kvm_vm_create();
	self->kv = kvm_vfio_create(self->vm);
	kvm_vm_name(self->vm, self->vm_name, sizeof(self->vm_name));
	vfio_mdev_file_open(&self->dev, variant->path, MCOUNTER, MCOUNTER_1,
			    self->uuid);
}

FIXTURE_TEARDOWN(mcounter)
{
	vfio_dev_release(&self->dev);
	if (self->kv >= 0)
		close(self->kv);
	if (self->vm >= 0)
		close(self->vm);
	mdev_remove(self->uuid);
}

TEST_F(mcounter, attached_to_a_vm_counts_and_never_pins_it)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(__s32)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int efd = eventfd(0, EFD_NONBLOCK);
	__u32 one = 1, count = 0;
	__u8 cfg[64];
	__u64 n = 0;

	ASSERT_GE(efd, 0);
	kvm_vfio_file_add(self->kv, self->dev.file);
	vfio_dev_open(&self->dev);

	/* The VM's own fds were all that held it. */
	close(self->kv);
	close(self->vm);
	self->kv = -1;
	self->vm = -1;
	EXPECT_FALSE(kvm_vm_alive(self->vm_name));

	*set = (struct vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD |
			 VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
		.count = 1,
	};
	memcpy(set->data, &efd, sizeof(__s32));
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_SET_IRQS, set));
	EXPECT_EQ(4, __vfio_region_write(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
					 4, &one, 4));
	EXPECT_EQ(4, __vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
					0, &count, 4));
	EXPECT_EQ(1, count);
	/* Config space in one read, as QEMU does. */
	EXPECT_EQ(64, __vfio_region_read(&self->dev,
					 VFIO_PCI_CONFIG_REGION_INDEX, 0, cfg,
					 sizeof(cfg)));
	EXPECT_EQ(0x10f21b36, *(__u32 *)cfg);
	EXPECT_EQ(sizeof(n), read(efd, &n, sizeof(n)));
	EXPECT_EQ(1, n);
	close(efd);
}

static void *doorbell_run(void *arg)
{
	struct vfio_dev *d = arg;
	__u32 one = 1;

	__vfio_region_write(d, VFIO_PCI_BAR0_REGION_INDEX, 4, &one, 4);
	return NULL;
}

/*
 * A config space read into memory whose fault the reader leaves pending
 * does not hold the device's mutex while it waits: a doorbell goes
 * through. (Before, the copy ran under mc->lock.) The one sample without
 * KVM has the same rule: a driver copied from it must not grow a lock
 * that KVM waits for around a user copy.
 */
TEST_F(mcounter, register_read_waiting_on_user_memory_blocks_no_doorbell)
{
	struct vfio_region_info info;
	struct stall_call rd, bell;
	struct stall_pread pr;
	struct stall_mem sm;
	__u32 count = 0;

	vfio_dev_open(&self->dev);
	stall_mem_create(&sm, 4096);
	vfio_region_info(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	pr = (struct stall_pread){ .fd = self->dev.fd, .buf = sm.addr,
		.len = 4, .off = info.offset };
	stall_call_start(&rd, stall_pread_run, &pr);
	ASSERT_TRUE(stall_mem_wait_fault(&sm, 10000));
	stall_call_start(&bell, doorbell_run, &self->dev);
	EXPECT_TRUE(stall_call_wait(&bell, 5000))
		TH_LOG("a doorbell waited for a register read's copy");
	stall_mem_release(&sm, 0);
	stall_call_join(&rd);
	stall_call_join(&bell);
	EXPECT_EQ(4, pr.ret);
	EXPECT_EQ(0x10f21b36, *(__u32 *)sm.addr);
	EXPECT_EQ(4, __vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
					0, &count, 4));
	EXPECT_EQ(1, count);
	vfio_dev_close(&self->dev);
	stall_mem_destroy(&sm);
}

TEST_HARNESS_MAIN
