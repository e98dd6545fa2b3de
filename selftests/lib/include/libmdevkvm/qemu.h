/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's QEMU (in our guest from /host, see host.h) with a
 * VFIO device, driven through its human monitor on stdin/stdout: the way
 * a VMM opens our devices.
 */
#ifndef LIBMDEVKVM_QEMU_H
#define LIBMDEVKVM_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct qemu {
	pid_t pid;		/* -1 once reaped */
	pid_t started;		/* the pid it had, kept once reaped */
	int in;			/* the monitor's input */
	int out;		/* QEMU's stdout and stderr */
	char log[16384];	/* everything it printed, NUL-terminated */
	size_t len;
	size_t seen;		/* what qemu_wait_for() already matched */
};

/*
 * Starts "qemu-system-x86_64 -accel @accel -S" with a vfio-pci device for
 * the mdev at @sysfsdev (its /sys/bus/mdev/devices/<uuid> path), paused,
 * with no guest code: enough to realize the device. The device is opened
 * through its group and a container, or with @iommufd through its cdev
 * bound to an iommufd (-object iommufd, QEMU 9 and later). Returns 0 or
 * -errno.
 */
int qemu_start(struct qemu *q, const char *accel, const char *sysfsdev,
	       bool iommufd);
/*
 * The same, running a guest: QEMU loads @kernel (a multiboot image, as
 * the guest's path, e.g. under /tmp) and starts it; what the guest writes
 * to port 0xe9 goes to the file @debugcon, and a write to port 0xf4 ends
 * QEMU with exit status (value << 1) | 1.
 */
int qemu_start_guest(struct qemu *q, const char *accel, const char *sysfsdev,
		     bool iommufd, const char *kernel, const char *debugcon);
/*
 * QEMU with KVM boots the payload (payload.elf, next to the test
 * program: selftests/payload/) with the device at @sysfsdev, and waits
 * for it to exit. What the guest reported goes to @report and, as TAP
 * comments, to stdout. Returns QEMU's wait status (exit status 65: every
 * check of the guest passed; 3: one failed; 1: QEMU's own error), or -1.
 */
int qemu_run_payload(struct qemu *q, const char *sysfsdev, bool iommufd,
		     char *report, size_t size);
/*
 * Reads QEMU's output until @needle appears after what was matched
 * before, QEMU exits, or @timeout_s passes. True if it appeared.
 */
bool qemu_wait_for(struct qemu *q, const char *needle, int timeout_s);
/* A monitor command; true once its output and the next prompt are in. */
bool qemu_monitor(struct qemu *q, const char *cmd);
/* Waits for QEMU to exit; returns its wait status, or -1 on timeout. */
int qemu_wait_exit(struct qemu *q, int timeout_s);
/* "quit" on the monitor, then qemu_wait_exit(). */
int qemu_quit(struct qemu *q);
/* SIGKILL, then qemu_wait_exit(). */
int qemu_kill(struct qemu *q);
/* Kills QEMU if it still runs and closes the pipes. */
void qemu_release(struct qemu *q);

#endif /* LIBMDEVKVM_QEMU_H */
