/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test driver (selftests/drivers/vfio_kvm_test.c) seen from a test:
 * its parent and types, and its per-device debugfs counters.
 */
#ifndef LIBMDEVKVM_VKT_H
#define LIBMDEVKVM_VKT_H

#define VKT		"vfio_kvm_test"
#define VKT_DEBUGFS	"/sys/kernel/debug/" VKT

/* A device's counter: gets, puts, opens or closes. */
long vkt_count(const char *uuid, const char *what);
/* A device's text attribute (pinned, kvm_at_open, events); static buffer. */
const char *vkt_str(const char *uuid, const char *what);
/* Sets a device's knob: fail_open. */
void vkt_set(const char *uuid, const char *what, int val);
/* Pins held by all the test driver's devices. */
long vkt_pins(void);

#endif /* LIBMDEVKVM_VKT_H */
