/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's tools (mdevctl, QEMU), wherever the suite runs. In our QEMU
 * guest (selftests/vmtest.sh) the guest init mounts the host's root at
 * /host (read-only 9p under a tmpfs overlay) and the tools run there in a
 * chroot, against the guest's /sys, /dev and /proc. On any other machine
 * (a CI fleet's host running run_kselftest.sh) they are the machine's
 * own, from /.
 */
#ifndef LIBMDEVKVM_HOST_H
#define LIBMDEVKVM_HOST_H

#include <stdbool.h>
#include <stddef.h>

/* Is this the guest selftests/vmtest.sh boots (mdevkvm.mode= is set)? */
bool host_in_our_guest(void);

/* Where the host's tools are: "/host" in our guest, "/" elsewhere. */
const char *host_root(void);

/* Is @tool an executable in a directory of $PATH, in the host root? */
bool host_tool(const char *tool);

/*
 * A test that needs @tool: without it, a skip that names the tool on any
 * other machine, and a failure in our guest, which always has them.
 */
#define HOST_REQUIRE(tool) do {						\
	if (!host_tool(tool)) {						\
		ASSERT_FALSE(host_in_our_guest())			\
			TH_LOG("%s is not in the host root at %s",	\
			       tool, host_root());			\
		SKIP(return, "%s is not installed on this host", tool);	\
	}								\
} while (0)

/*
 * Runs @cmd (a shell command line) in the host root, with stderr folded
 * into stdout. The output goes to @out (NUL-terminated, may be cut) and,
 * as TAP comments, to stdout. Returns the command's exit status, or -1.
 */
int host_run(const char *cmd, char *out, size_t size);

/*
 * In a forked child about to exec a host tool: enter the host root (a
 * chroot in our guest, nothing elsewhere). Returns 0 or -errno.
 */
int host_enter(void);

#endif /* LIBMDEVKVM_HOST_H */
