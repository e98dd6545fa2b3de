// SPDX-License-Identifier: GPL-2.0
/*
 * The samples as an admin manages them, with the host's mdevctl (over
 * the 9p share, in a chroot): types with their names, descriptions and
 * available instances; a persistent device defined as JSON under
 * /etc/mdevctl.d, given an attribute, started, listed, stopped and
 * undefined; and start failures, which must report the driver's error
 * and leave no device behind. The zdev-like sample has an attribute
 * (uid) the admin sets this way; the guest reads it in BAR0.
 *
 * On a real host /etc/mdevctl.d is the admin's: each test leaves it, and
 * the mdev bus, as it found them, and checks that it did, in a teardown
 * that runs in the parent, so that a test that fails midway (whose
 * process exits) is cleaned up too.
 */
#include <dirent.h>
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

/* What a test must leave as it found it. */
struct admin_state {
	bool had_defs;		/* /etc/mdevctl.d existed */
	bool had_parent;	/* and the sample's directory in it */
	bool cut;		/* a list did not fit */
	char defs[32768];	/* every entry under /etc/mdevctl.d */
	char bus[32768];	/* every device on the mdev bus */
};

/*
 * The names in @dir, and @depth levels below it, one per line; false if
 * they did not fit.
 */
static bool list_tree(const char *dir, int depth, char *buf, size_t size)
{
	bool fit = true;
	struct dirent *e;
	char sub[512];
	DIR *d;

	d = opendir(dir);
	if (!d)
		return true;
	while ((e = readdir(d))) {
		size_t used = strlen(buf);

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (snprintf(buf + used, size - used, "%s\n", sub) >=
		    (int)(size - used))
			fit = false;
		if (depth > 0 && !list_tree(sub, depth - 1, buf, size))
			fit = false;
	}
	closedir(d);
	return fit;
}

static void defs_dir(char *buf, size_t size, const char *parent)
{
	const char *root = host_root();

	snprintf(buf, size, "%s/etc/mdevctl.d%s%s",
		 strcmp(root, "/") ? root : "", parent ? "/" : "",
		 parent ? parent : "");
}

static void admin_state_read(struct admin_state *st, const char *parent)
{
	char dir[256];

	memset(st, 0, sizeof(*st));
	defs_dir(dir, sizeof(dir), NULL);
	st->had_defs = access(dir, F_OK) == 0;
	st->cut = !list_tree(dir, 1, st->defs, sizeof(st->defs));
	defs_dir(dir, sizeof(dir), parent);
	st->had_parent = access(dir, F_OK) == 0;
	if (!list_tree("/sys/bus/mdev/devices", 0, st->bus, sizeof(st->bus)))
		st->cut = true;
}

/*
 * After a test has stopped and undefined its device: the directories
 * mdevctl made for it go (rmdir: only if nothing else is in them), and
 * the admin's state must be what @before recorded.
 */
static void admin_state_restore(struct __test_metadata *_metadata,
				const struct admin_state *before,
				const char *parent)
{
	static struct admin_state now;
	char dir[256];

	if (!before->had_parent) {
		defs_dir(dir, sizeof(dir), parent);
		rmdir(dir);
	}
	if (!before->had_defs) {
		defs_dir(dir, sizeof(dir), NULL);
		rmdir(dir);
	}
	admin_state_read(&now, parent);
	/* A list that was cut could hide what the test left. */
	EXPECT_FALSE(before->cut || now.cut);
	EXPECT_STREQ(before->defs, now.defs);
	EXPECT_STREQ(before->bus, now.bus);
}

FIXTURE(mdevctl) {
	char uuid[MDEV_UUID_LEN];
	char out[8192];
	struct admin_state before;
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
	HOST_REQUIRE("mdevctl");
	subject_modprobe(variant->s);
	mdev_uuid_random(self->uuid);
	admin_state_read(&self->before, variant->s->parent);
}

/* Whatever a test left: the device, then its definition. */
static void admin_cleanup(struct __test_metadata *_metadata, const char *uuid,
			  const struct admin_state *before, const char *parent)
{
	char cmd[160], out[4096];

	snprintf(cmd, sizeof(cmd), "mdevctl stop -u %s; mdevctl undefine -u %s",
		 uuid, uuid);
	host_run(cmd, out, sizeof(out));
	admin_state_restore(_metadata, before, parent);
}

/*
 * In the parent: the library's helpers exit() on a failure, which a
 * teardown in the test's own process would not outlive.
 */
FIXTURE_TEARDOWN_PARENT(mdevctl)
{
	admin_cleanup(_metadata, self->uuid, &self->before, variant->s->parent);
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

/* The zdev-like sample, whose uid attribute the admin sets. */
FIXTURE(mzdev_admin) {
	char uuid[MDEV_UUID_LEN];
	struct admin_state before;
};

FIXTURE_SETUP(mzdev_admin)
{
	HOST_REQUIRE("mdevctl");
	subject_modprobe(&mk_mzdev);
	mdev_uuid_random(self->uuid);
	admin_state_read(&self->before, "mzdev");
}

FIXTURE_TEARDOWN_PARENT(mzdev_admin)
{
	admin_cleanup(_metadata, self->uuid, &self->before, "mzdev");
}

/* The zdev-like sample's uid: set by mdevctl, seen by the guest. */
TEST_F(mzdev_admin, uid_from_mdevctl_reaches_the_guest)
{
	char out[8192], path[MDEV_PATH_LEN + 8];
	const char *uuid = self->uuid;
	char uid[32];
	struct vfio_dev d;
	int vm, kv;

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
