// SPDX-License-Identifier: GPL-2.0
/*
 * The host's QEMU as the VMM of a test. See libmdevkvm/qemu.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmdevkvm/host.h"
#include "libmdevkvm/qemu.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define QEMU_TIMEOUT	120	/* seconds: QEMU under TCG starts slowly */
#define QEMU_GUEST_TIMEOUT	300	/* the payload, in a nested VM */

int qemu_start(struct qemu *q, const char *accel, const char *sysfsdev,
	       bool iommufd)
{
	return qemu_start_guest(q, accel, sysfsdev, iommufd, NULL, NULL);
}

int qemu_start_guest(struct qemu *q, const char *accel, const char *sysfsdev,
		     bool iommufd, const char *kernel, const char *debugcon)
{
	static const char *const args[] = {
		"qemu-system-x86_64", "-cpu", "max", "-m", "64", "-nodefaults",
		"-display", "none", "-monitor", "stdio", "-no-reboot",
	};
	char dev[128], con[128], *argv[ARRAY_SIZE(args) + 14];
	int in[2], out[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(args); i++)
		argv[i] = (char *)args[i];
	argv[i++] = "-accel";
	argv[i++] = (char *)accel;
	if (iommufd) {
		argv[i++] = "-object";
		argv[i++] = "iommufd,id=iommufd0";
	}
	argv[i++] = "-device";
	argv[i++] = dev;
	if (kernel) {
		/* It reports on port 0xe9 and ends QEMU through 0xf4. */
		argv[i++] = "-kernel";
		argv[i++] = (char *)kernel;
		argv[i++] = "-debugcon";
		argv[i++] = con;
		argv[i++] = "-device";
		argv[i++] = "isa-debug-exit,iobase=0xf4,iosize=4";
		snprintf(con, sizeof(con), "file:%s", debugcon);
	} else {
		argv[i++] = "-S";	/* no guest code: paused */
	}
	argv[i] = NULL;

	/* A QEMU that died must not kill the test when it writes to it. */
	signal(SIGPIPE, SIG_IGN);
	/* With iommufd=, QEMU finds the device's cdev from sysfsdev=. */
	snprintf(dev, sizeof(dev), "vfio-pci,%ssysfsdev=%s",
		 iommufd ? "iommufd=iommufd0," : "", sysfsdev);
	*q = (struct qemu){ .pid = -1, .in = -1, .out = -1 };
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	q->pid = fork();
	q->started = q->pid;
	if (!q->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		/* In our guest, the host's root with the guest's /dev. */
		if (host_enter())
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	q->in = in[1];
	q->out = out[0];
	if (q->pid < 0) {
		qemu_release(q);
		return -EAGAIN;
	}
	return 0;
}

/* Reads what is there within @ms: 1, 0 on timeout, -1 at EOF. */
static int qemu_read(struct qemu *q, int ms)
{
	struct pollfd p = { .fd = q->out, .events = POLLIN };
	ssize_t n;

	char discard[512];

	if (q->out < 0)
		return -1;
	if (poll(&p, 1, ms) <= 0)
		return 0;
	/* A full log still drains the pipe, or QEMU would block on it. */
	if (q->len == sizeof(q->log) - 1)
		return read(q->out, discard, sizeof(discard)) > 0 ? 1 : -1;
	n = read(q->out, q->log + q->len, sizeof(q->log) - 1 - q->len);
	if (n <= 0)
		return -1;
	q->len += n;
	q->log[q->len] = '\0';
	return 1;
}

bool qemu_wait_for(struct qemu *q, const char *needle, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	char *hit;

	for (;;) {
		hit = strstr(q->log + q->seen, needle);
		if (hit) {
			q->seen = hit - q->log + strlen(needle);
			return true;
		}
		if (time(NULL) >= end || qemu_read(q, 1000) < 0)
			return false;
	}
}

bool qemu_monitor(struct qemu *q, const char *cmd)
{
	size_t len = strlen(cmd);

	/* The prompt of the command before this one. */
	if (!qemu_wait_for(q, "(qemu) ", QEMU_TIMEOUT))
		return false;
	if (write(q->in, cmd, len) != (ssize_t)len ||
	    write(q->in, "\n", 1) != 1)
		return false;
	return qemu_wait_for(q, "(qemu) ", QEMU_TIMEOUT);
}

int qemu_wait_exit(struct qemu *q, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	int status;

	while (q->pid > 0) {
		if (waitpid(q->pid, &status, WNOHANG) == q->pid) {
			q->pid = -1;
			/* What it printed on the way out. */
			while (qemu_read(q, 100) > 0)
				;
			return status;
		}
		if (time(NULL) >= end)
			return -1;
		if (qemu_read(q, 100) < 0)
			usleep(10000);
	}
	return -1;
}

int qemu_quit(struct qemu *q)
{
	if (write(q->in, "quit\n", 5) != 5)
		return -1;
	return qemu_wait_exit(q, QEMU_TIMEOUT);
}

int qemu_kill(struct qemu *q)
{
	if (q->pid > 0)
		kill(q->pid, SIGKILL);
	return qemu_wait_exit(q, QEMU_TIMEOUT);
}

void qemu_release(struct qemu *q)
{
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
		q->pid = -1;
	}
	if (q->in >= 0)
		close(q->in);
	if (q->out >= 0)
		close(q->out);
	q->in = -1;
	q->out = -1;
}

/* The payload next to the running test program, copied to @to. */
static int qemu_payload_copy(const char *to)
{
	char self[512], from[600], cmd[1300];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(from, sizeof(from), "%.*s/payload.elf",
		 (int)(strrchr(self, '/') - self), self);
	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	return system(cmd) ? -1 : 0;
}

int qemu_run_payload(struct qemu *q, const char *sysfsdev, bool iommufd,
		     char *report, size_t size)
{
	char kernel[64], con[64], *line;
	int status, fd;
	ssize_t n = 0;
	size_t len;

	report[0] = '\0';
	/* Where QEMU, in the host root's chroot, sees it: the guest's /tmp. */
	snprintf(kernel, sizeof(kernel), "/tmp/mdevkvm-payload-%d.elf",
		 getpid());
	snprintf(con, sizeof(con), "/tmp/mdevkvm-debugcon-%d.txt", getpid());
	if (qemu_payload_copy(kernel))
		return -1;
	if (qemu_start_guest(q, "kvm", sysfsdev, iommufd, kernel, con)) {
		unlink(kernel);
		return -1;
	}
	status = qemu_wait_exit(q, QEMU_GUEST_TIMEOUT);
	fd = open(con, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, report, size - 1);
		close(fd);
	}
	report[n > 0 ? n : 0] = '\0';
	unlink(kernel);
	unlink(con);
	/* The guest's lines, for the log. */
	for (line = report; *line; line += len + !!line[len]) {
		len = strcspn(line, "\n");
		printf("# guest: %.*s\n", (int)len, line);
	}
	return status;
}

