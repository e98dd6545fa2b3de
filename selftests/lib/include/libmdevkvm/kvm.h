/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM helpers: VMs, the kvm-vfio pseudo-device, memslots and a vCPU that
 * runs a few real-mode instructions. __op() returns 0 or -errno; op()
 * asserts success.
 */
#ifndef LIBMDEVKVM_KVM_H
#define LIBMDEVKVM_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/kvm.h>

/*
 * The vendor module KVM runs on, "kvm_amd" or "kvm_intel", when it is
 * loaded as a module that can be unloaded; NULL when it is built in (or
 * the kernel has no MODULE_UNLOAD). kvm.ko may still be built in.
 */
const char *kvm_vendor_module(void);
/*
 * Did the vendor module lose exactly one reference since @held? In our
 * guest, where the test is KVM's only user, that is asserted by the
 * caller; on another host a VM starting or stopping meanwhile moves the
 * count too, so a different count is only logged there.
 */
bool kvm_vendor_refs_dropped_one(const char *vendor, long held);
/* Loads this CPU's vendor module (SVM or VMX) unless /dev/kvm exists. */
int kvm_load(void);

int __kvm_vm_create(int *vm_fd);
int kvm_vm_create(void);

int __kvm_vfio_create(int vm_fd, int *dev_fd);
int kvm_vfio_create(int vm_fd);

/* KVM_DEV_VFIO_FILE_ADD/DEL of a group fd or a device cdev fd. */
int __kvm_vfio_file_add(int dev_fd, int file_fd);
void kvm_vfio_file_add(int dev_fd, int file_fd);
int __kvm_vfio_file_del(int dev_fd, int file_fd);
void kvm_vfio_file_del(int dev_fd, int file_fd);

/* Backs guest-physical [gpa, gpa + size) with the caller's memory. */
void kvm_vm_set_memslot(int vm_fd, __u32 slot, __u64 gpa,
			void *host, size_t size);

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	size_t run_size;
};

/* A vCPU in real mode with CS base 0 that starts at guest address @ip. */
void kvm_vcpu_create(int vm_fd, __u32 id, __u64 ip,
		     struct kvm_vcpu *vcpu);
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);
/* KVM_RUN once; returns run->exit_reason. */
__u32 kvm_vcpu_run(struct kvm_vcpu *vcpu);

/* Does the VM of this process's @vm_fd still have its debugfs directory? */
bool kvm_vm_debugfs_exists(int vm_fd);

/*
 * The VM's name in /sys/kernel/debug/kvm ("<pid>-<vm fd>"), which outlives
 * the fd: it tells whether the VM still exists after its fds are closed.
 */
void kvm_vm_name(int vm_fd, char *buf, size_t size);
bool kvm_vm_alive(const char *name);
/*
 * Number of VMs alive whose KVM debugfs name starts with @prefix ("<pid>-"
 * for one process's VMs), or of all VMs when @prefix is NULL.
 */
int kvm_vms_alive(const char *prefix);

#endif /* LIBMDEVKVM_KVM_H */
