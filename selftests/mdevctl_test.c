// SPDX-License-Identifier: GPL-2.0
/*
 * The samples as an admin manages them, with the host's mdevctl (over
 * the 9p share, in a chroot): types with their names, descriptions and
 * available instances; a persistent device defined as JSON under
 * /etc/mdevctl.d, given an attribute, started, listed, stopped and
 * undefined; and start failures, which must report the driver's error
 * and leave no device behind. The zdev-like sample has an attribute
 * (uid) the admin sets this way; the guest reads it in BAR0.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "libmdevkvm/host.h"
#include "libmdevkvm/kvm.h"
#include "libmdevkvm/mdev.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vfio.h"

#define MZDEV_REG_UID	0x20	/* mdev-samples/mzdev.c */

FIXTURE(mdevctl) {
	char uuid[MDEV_UUID_LEN];
	char out[8192];
};

FIXTURE_VARIANT(mdevctl) {
	const struct mk_subject *s;
	const char *types[3];		/* every type of the parent */
	const char *description;	/* part of the first type's */
};

FIXTURE_VARIANT_ADD(mdevctl, mvgpu) {
	.s = &mk_mvgpu,
	.types = { "mvgpu-small", "mvgpu-medium", "mvgpu-large" },
	.description = "one per VM",
};

FIXTURE_VARIANT_ADD(mdevctl, mzdev) {
	.s = &mk_mzdev,
	.types = { "mzdev-c4", "mzdev-c8", "mzdev-c16" },
	.description = "FMB in guest memory",
};

FIXTURE_VARIANT_ADD(mdevctl, mcounter) {
	.s = &mk_mcounter,
	.types = { "mcounter-1" },
	.description = "",
};

FIXTURE_SETUP(mdevctl)
{
	if (!host_root_present())
		SKIP(return, "the host root is not mounted at /host");
	subject_modprobe(variant->s);
	mdev_uuid_random(self->uuid);
}

FIXTURE_TEARDOWN(mdevctl)
{
	char cmd[160];

	/* Whatever the test left: the device, then its definition. */
	snprintf(cmd, sizeof(cmd), "mdevctl stop -u %s; mdevctl undefine -u %s",
		 self->uuid, self->uuid);
	host_run(cmd, self->out, sizeof(self->out));
}

/* mdevctl with printf-style arguments; returns its exit status. */
static int mdevctl_run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[512] = "mdevctl ";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd + 8, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	return host_run(cmd, out, size);
}

static bool exists(const char *uuid)
{
	char p[MDEV_PATH_LEN];

	return access(mdev_path(p, uuid), F_OK) == 0;
}

TEST_F(mdevctl, types_names_descriptions_and_availability)
{
	char avail[32], *type, *line;
	int i;

	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out), "types"));
	for (i = 0; i < 3 && variant->types[i]; i++)
		EXPECT_NE(NULL, strstr(self->out, variant->types[i]))
			TH_LOG("no type %s", variant->types[i]);
	EXPECT_NE(NULL, strstr(self->out, variant->description));
	/* The first "Available instances" after the type is the type's. */
	snprintf(avail, sizeof(avail), "Available instances: %d",
		 mdev_available(variant->s->parent, variant->s->type));
	type = strstr(self->out, variant->s->type);
	ASSERT_NE(NULL, type);
	line = strstr(type, "Available instances:");
	ASSERT_NE(NULL, line);
	EXPECT_EQ(0, strncmp(line, avail, strlen(avail)))
		TH_LOG("%.*s", (int)strcspn(line, "\n"), line);
}

TEST_F(mdevctl, define_start_list_stop_undefine)
{
	const struct mk_subject *s = variant->s;
	char json[128];

	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out),
				 "define -u %s -p %s -t %s", self->uuid,
				 s->parent, s->type));
	EXPECT_FALSE(exists(self->uuid));
	/* Persistent: a JSON file naming the type, listed as defined. */
	snprintf(json, sizeof(json), "cat /etc/mdevctl.d/%s/%s", s->parent,
		 self->uuid);
	ASSERT_EQ(0, host_run(json, self->out, sizeof(self->out)));
	EXPECT_NE(NULL, strstr(self->out, s->type));
	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out), "list -d"));
	EXPECT_NE(NULL, strstr(self->out, self->uuid));

	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out), "start -u %s",
				 self->uuid));
	EXPECT_TRUE(exists(self->uuid));
	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out), "list"));
	EXPECT_NE(NULL, strstr(self->out, self->uuid));
	EXPECT_NE(NULL, strstr(self->out, s->type));

	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out), "stop -u %s",
				 self->uuid));
	EXPECT_FALSE(exists(self->uuid));
	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out), "undefine -u %s",
				 self->uuid));
	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out), "list -d"));
	EXPECT_EQ(NULL, strstr(self->out, self->uuid));
}

/* An attribute the driver does not have: start fails, nothing is left. */
TEST_F(mdevctl, start_with_an_unknown_attribute_fails_cleanly)
{
	const struct mk_subject *s = variant->s;
	int avail = mdev_available(s->parent, s->type);

	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out),
				 "define -u %s -p %s -t %s", self->uuid,
				 s->parent, s->type));
	ASSERT_EQ(0, mdevctl_run(self->out, sizeof(self->out),
				 "modify -u %s --addattr=no_such_attr --value=1",
				 self->uuid));
	EXPECT_NE(0, mdevctl_run(self->out, sizeof(self->out), "start -u %s",
				 self->uuid));
	EXPECT_NE(NULL, strstr(self->out, "no_such_attr"));
	EXPECT_FALSE(exists(self->uuid));
	EXPECT_EQ(avail, mdev_available(s->parent, s->type));
}

/* The zdev-like sample's uid: set by mdevctl, seen by the guest. */
TEST(mzdev_uid_from_mdevctl_reaches_the_guest)
{
	char uuid[MDEV_UUID_LEN], out[8192], path[MDEV_PATH_LEN + 8];
	char uid[32];
	struct vfio_dev d;
	int vm, kv;

	if (!host_root_present())
		SKIP(return, "the host root is not mounted at /host");
	subject_modprobe(&mk_mzdev);
	mdev_uuid_random(uuid);
	ASSERT_EQ(0, mdevctl_run(out, sizeof(out),
				 "define -u %s -p mzdev -t mzdev-c4", uuid));
	ASSERT_EQ(0, mdevctl_run(out, sizeof(out),
				 "modify -u %s --addattr=uid --value=0x1234",
				 uuid));
	ASSERT_EQ(0, mdevctl_run(out, sizeof(out), "list -d -u %s --dumpjson",
				 uuid));
	EXPECT_NE(NULL, strstr(out, "\"uid\": \"0x1234\""));
	ASSERT_EQ(0, mdevctl_run(out, sizeof(out), "start -u %s", uuid));
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/uid", uuid);
	ASSERT_EQ(0, __sysfs_read(path, uid, sizeof(uid)));
	EXPECT_STREQ("0x1234", uid);

	/* The guest sees it; and the admin cannot change it under it. */
	vm = kvm_vm_create();
	kv = kvm_vfio_create(vm);
	vfio_dev_file_open(&d, VFIO_PATH_GROUP, mdev_path(path, uuid));
	kvm_vfio_file_add(kv, d.file);
	vfio_dev_open(&d);
	EXPECT_EQ(0x1234, vfio_bar0_read(&d, MZDEV_REG_UID));
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/uid", uuid);
	EXPECT_EQ(-EBUSY, __sysfs_write(path, "0x42"));
	vfio_dev_release(&d);
	close(kv);
	close(vm);
	ASSERT_EQ(0, mdevctl_run(out, sizeof(out), "stop -u %s", uuid));

	/* A value the driver refuses: mdevctl reports its EINVAL. */
	ASSERT_EQ(0, mdevctl_run(out, sizeof(out),
				 "modify -u %s --delattr --index=0", uuid));
	ASSERT_EQ(0, mdevctl_run(out, sizeof(out),
				 "modify -u %s --addattr=uid --value=0x12345",
				 uuid));
	EXPECT_NE(0, mdevctl_run(out, sizeof(out), "start -u %s", uuid));
	EXPECT_NE(NULL, strstr(out, "Invalid argument"));
	EXPECT_FALSE(exists(uuid));
	EXPECT_EQ(0, mdevctl_run(out, sizeof(out), "undefine -u %s", uuid));
}

TEST_HARNESS_MAIN
