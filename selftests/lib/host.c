// SPDX-License-Identifier: GPL-2.0
/*
 * Running the host's binaries from the guest. See libmdevkvm/host.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmdevkvm/host.h"

bool host_root_present(void)
{
	return access("/host/usr/bin", F_OK) == 0;
}

int host_run(const char *cmd, char *out, size_t size)
{
	char full[1024], line[512];
	size_t used = 0;
	int status;
	FILE *p;

	snprintf(full, sizeof(full), "chroot /host /bin/sh -c '%s' 2>&1", cmd);
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
