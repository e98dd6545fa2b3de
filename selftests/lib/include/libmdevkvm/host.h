/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host binaries in the guest: the guest init mounts the host's root at
 * /host (read-only 9p under a tmpfs overlay), so tests can run the
 * host's mdevctl and qemu against the guest's /sys, /dev and /proc.
 */
#ifndef LIBMDEVKVM_HOST_H
#define LIBMDEVKVM_HOST_H

#include <stdbool.h>
#include <stddef.h>

bool host_root_present(void);

/*
 * Runs @cmd (a shell command line) in the host root, with stderr folded
 * into stdout. The output goes to @out (NUL-terminated, may be cut) and,
 * as TAP comments, to stdout. Returns the command's exit status, or -1.
 */
int host_run(const char *cmd, char *out, size_t size);

#endif /* LIBMDEVKVM_HOST_H */
