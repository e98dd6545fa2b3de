// SPDX-License-Identifier: GPL-2.0
/*
 * The test guest itself: KVM works inside it (a VM, the kvm-vfio device, a
 * vCPU that runs code), a VM's lifetime is observable through its debugfs
 * directory, and the host's root is there to run host binaries (mdevctl,
 * qemu) for the end-to-end tests.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"

TEST(kvm_vm_and_kvm_vfio_device)
{
	int vm, dev;

	vm = kvm_vm_create();
	ASSERT_TRUE(kvm_vm_debugfs_exists(vm));
	dev = kvm_vfio_create(vm);

	/* The kvm-vfio device holds the VM: closing the VM fd frees nothing. */
	close(vm);
	ASSERT_TRUE(kvm_vm_debugfs_exists(vm));
	close(dev);
	ASSERT_FALSE(kvm_vm_debugfs_exists(vm));
}

TEST(vcpu_runs_real_mode_code)
{
	/* mov al, 0x42; mov [0x2000], al; hlt */
	static const unsigned char code[] = {
		0xb0, 0x42, 0xa2, 0x00, 0x20, 0xf4,
	};
	const size_t size = 0x10000;
	struct kvm_vcpu vcpu;
	unsigned char *mem;
	int vm;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memcpy(mem + 0x1000, code, sizeof(code));

	vm = kvm_vm_create();
	kvm_vm_set_memslot(vm, 0, 0, mem, size);
	kvm_vcpu_create(vm, 0, 0x1000, &vcpu);
	ASSERT_EQ(KVM_EXIT_HLT, kvm_vcpu_run(&vcpu));
	EXPECT_EQ(0x42, mem[0x2000]);

	kvm_vcpu_destroy(&vcpu);
	close(vm);
	munmap(mem, size);
}

TEST(host_root_runs_host_binaries)
{
	char out[4096];

	HOST_REQUIRE("qemu-system-x86_64");
	HOST_REQUIRE("mdevctl");
	ASSERT_EQ(0, host_run("qemu-system-x86_64 --version", out,
			      sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "QEMU emulator"));
	/* mdevctl reads the guest's sysfs: mtty's types are listed. */
	ASSERT_EQ(0, host_run("mdevctl types", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "mtty-1"));
}

TEST_HARNESS_MAIN
