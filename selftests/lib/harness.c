// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into every test. The guest init pipes each test's output into the
 * TAP stream: keep stdout line-buffered so TAP lines stay in order with the
 * harness's stderr diagnostics and reach the host as they happen.
 */
#include <stdio.h>

static void __attribute__((constructor)) mk_stdout_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}
