// SPDX-License-Identifier: GPL-2.0
/*
 * The host's tools, in our guest or on any host. See libmdevkvm/host.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmdevkvm/host.h"
#include "libmdevkvm/sysfs.h"

bool host_in_our_guest(void)
{
	char cmdline[4096];

	if (__sysfs_read("/proc/cmdline", cmdline, sizeof(cmdline)))
		return false;
	return !!strstr(cmdline, "mdevkvm.mode=");
}

const char *host_root(void)
{
	/* Only our guest mounts it; elsewhere /host is nobody's business. */
	if (host_in_our_guest() && access("/host/usr/bin", F_OK) == 0)
		return "/host";
	return "/";
}

bool host_tool(const char *tool)
{
	const char *root = host_root(), *env = getenv("PATH");
	char dirs[1024], path[1280], *dir, *save;

	/* The PATH that host_run()'s shell and execvp() search, in the root. */
	snprintf(dirs, sizeof(dirs), "%s", env ? env : "/usr/bin:/bin");
	for (dir = strtok_r(dirs, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s%s/%s",
			 strcmp(root, "/") ? root : "", dir, tool);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

int host_enter(void)
{
	const char *root = host_root();

	if (strcmp(root, "/") && (chroot(root) || chdir("/")))
		return -errno;
	return 0;
}

int host_run(const char *cmd, char *out, size_t size)
{
	char full[1024], line[512];
	const char *root = host_root();
	size_t used = 0;
	int status;
	FILE *p;

	if (strcmp(root, "/"))
		snprintf(full, sizeof(full),
			 "chroot %s /bin/sh -c '%s' 2>&1", root, cmd);
	else
		snprintf(full, sizeof(full), "/bin/sh -c '%s' 2>&1", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	if (size)
		out[0] = '\0';
	while (fgets(line, sizeof(line), p)) {
		size_t len = strlen(line);

		printf("# %s", line);
		if (used + len < size) {
			memcpy(out + used, line, len + 1);
			used += len;
		}
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
