// SPDX-License-Identifier: GPL-2.0
/*
 * KVM helpers for the mdev-kvm selftests. See libmdevkvm/kvm.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/sysfs.h"

const char *kvm_vendor_module(void)
{
	if (module_refcnt("kvm_amd") >= 0)
		return "kvm_amd";
	if (module_refcnt("kvm_intel") >= 0)
		return "kvm_intel";
	return NULL;
}

bool kvm_vendor_refs_dropped_one(const char *vendor, long held)
{
	long now = module_refcnt(vendor);

	if (now == held - 1 || host_in_our_guest())
		return now == held - 1;
	printf("# %s: %ld references, %ld before the close: another KVM user?",
	       vendor, now, held);
	printf(" (not checked on this host)\n");
	return true;
}

int kvm_load(void)
{
	char line[4096];
	const char *m = NULL;
	FILE *f;

	if (access("/dev/kvm", F_OK) == 0)
		return 0;
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return -errno;
	while (!m && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		if (strstr(line, " svm"))
			m = "kvm_amd";
		else if (strstr(line, " vmx"))
			m = "kvm_intel";
		else
			break;
	}
	fclose(f);
	if (!m)
		return -ENODEV;
	return __modprobe(m);
}

int __kvm_vm_create(int *vm_fd)
{
	int kvm, vm, ret = 0;

	/* On a host that has not loaded KVM yet, its CPU's module. */
	if (access("/dev/kvm", F_OK))
		kvm_load();
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -errno;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		ret = -errno;
	else
		*vm_fd = vm;
	/* The VM holds its own reference to KVM; /dev/kvm is not needed. */
	close(kvm);
	return ret;
}

int kvm_vm_create(void)
{
	int vm = -1;

	MK_ASSERT_OK(__kvm_vm_create(&vm));
	return vm;
}

int __kvm_vfio_create(int vm_fd, int *dev_fd)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

	if (ioctl(vm_fd, KVM_CREATE_DEVICE, &cd))
		return -errno;
	*dev_fd = cd.fd;
	return 0;
}

int kvm_vfio_create(int vm_fd)
{
	int dev = -1;

	MK_ASSERT_OK(__kvm_vfio_create(vm_fd, &dev));
	return dev;
}

static int kvm_vfio_file_attr(int dev_fd, __u64 attr, int file_fd)
{
	__s32 fd = file_fd;
	struct kvm_device_attr a = {
		.group = KVM_DEV_VFIO_FILE,
		.attr = attr,
		.addr = (__u64)(unsigned long)&fd,
	};

	return ioctl(dev_fd, KVM_SET_DEVICE_ATTR, &a) ? -errno : 0;
}

int __kvm_vfio_file_add(int dev_fd, int file_fd)
{
	return kvm_vfio_file_attr(dev_fd, KVM_DEV_VFIO_FILE_ADD, file_fd);
}

void kvm_vfio_file_add(int dev_fd, int file_fd)
{
	MK_ASSERT_OK(__kvm_vfio_file_add(dev_fd, file_fd));
}

int __kvm_vfio_file_del(int dev_fd, int file_fd)
{
	return kvm_vfio_file_attr(dev_fd, KVM_DEV_VFIO_FILE_DEL, file_fd);
}

void kvm_vfio_file_del(int dev_fd, int file_fd)
{
	MK_ASSERT_OK(__kvm_vfio_file_del(dev_fd, file_fd));
}

void kvm_vm_set_memslot(int vm_fd, __u32 slot, __u64 gpa,
			void *host, size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (__u64)(unsigned long)host,
	};

	MK_ASSERT_TRUE(!ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r),
		       "slot %u gpa %#llx size %#zx", slot,
		       (unsigned long long)gpa, size);
}

void kvm_vcpu_create(int vm_fd, __u32 id, __u64 ip,
		     struct kvm_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = ip, .rflags = 0x2 };
	int kvm, size;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	MK_ASSERT_TRUE(kvm >= 0, "open /dev/kvm");
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	MK_ASSERT_TRUE(size > 0, "KVM_GET_VCPU_MMAP_SIZE");
	close(kvm);

	vcpu->fd = ioctl(vm_fd, KVM_CREATE_VCPU, id);
	MK_ASSERT_TRUE(vcpu->fd >= 0, "KVM_CREATE_VCPU %u", id);
	vcpu->run_size = size;
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	MK_ASSERT_TRUE(vcpu->run != MAP_FAILED, "mmap kvm_run");

	/* Real mode, flat code segment at 0: ip is a guest-physical address. */
	MK_ASSERT_TRUE(!ioctl(vcpu->fd, KVM_GET_SREGS, &sregs), "GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds = sregs.cs;
	sregs.ds.type = 3;	/* read/write data, accessed */
	MK_ASSERT_TRUE(!ioctl(vcpu->fd, KVM_SET_SREGS, &sregs), "SET_SREGS");
	MK_ASSERT_TRUE(!ioctl(vcpu->fd, KVM_SET_REGS, &regs), "SET_REGS");
}

void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	munmap(vcpu->run, vcpu->run_size);
	close(vcpu->fd);
}

__u32 kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	MK_ASSERT_TRUE(!ioctl(vcpu->fd, KVM_RUN, 0), "KVM_RUN");
	return vcpu->run->exit_reason;
}

void kvm_vm_name(int vm_fd, char *buf, size_t size)
{
	/* virt/kvm/kvm_main.c names it "<pid>-<vm fd>". */
	snprintf(buf, size, "%d-%d", getpid(), vm_fd);
}

bool kvm_vm_alive(const char *name)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%s", name);
	return access(path, F_OK) == 0;
}

bool kvm_vm_debugfs_exists(int vm_fd)
{
	char name[32];

	kvm_vm_name(vm_fd, name, sizeof(name));
	return kvm_vm_alive(name);
}

int kvm_vms_alive(const char *prefix)
{
	struct dirent *e;
	int n = 0;
	DIR *dir;

	dir = opendir("/sys/kernel/debug/kvm");
	MK_ASSERT_TRUE(dir, "KVM debugfs");
	while ((e = readdir(dir)))
		/* VM directories are "<pid>-<fd>"; the rest are statistics. */
		if (strchr(e->d_name, '-') &&
		    (!prefix || !strncmp(e->d_name, prefix, strlen(prefix))))
			n++;
	closedir(dir);
	return n;
}
