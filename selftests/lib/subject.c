// SPDX-License-Identifier: GPL-2.0
/*
 * The race, fault and lifetime tests' devices. See libmdevkvm/subject.h.
 */
#include <stdio.h>
#include <string.h>

#include "libmdevkvm/assert.h"
#include "libmdevkvm/subject.h"
#include "libmdevkvm/sysfs.h"
#include "libmdevkvm/vkt.h"

const struct mk_subject mk_vkt_none = {
	.name = "vkt-none", .parent = VKT, .type = VKT "-none", .vkt = true,
};

const struct mk_subject mk_vkt_optional = {
	.name = "vkt-optional", .parent = VKT, .type = VKT "-optional",
	.vkt = true, .pins = true,
};

const struct mk_subject mk_vkt_required = {
	.name = "vkt-required", .parent = VKT, .type = VKT "-required",
	.vkt = true, .needs_vm = true, .pins = true,
};

const struct mk_subject mk_mvgpu = {
	.name = "mvgpu", .parent = "mvgpu", .type = "mvgpu-small",
	.needs_vm = true, .pins = true,
};

const struct mk_subject mk_mzdev = {
	.name = "mzdev", .parent = "mzdev", .type = "mzdev-c4", .pins = true,
};

const struct mk_subject mk_mcounter = {
	.name = "mcounter", .parent = "mcounter", .type = "mcounter-1",
};

void subject_modprobe(const struct mk_subject *s)
{
	modprobe(s->parent);
}

void subject_assert_idle(const struct mk_subject *s, const char *uuid)
{
	char vms[4096];

	if (s->vkt) {
		MK_ASSERT_EQ(vkt_count(uuid, "gets"), vkt_count(uuid, "puts"));
		MK_ASSERT_EQ(vkt_count(uuid, "opens"),
			     vkt_count(uuid, "closes"));
		MK_ASSERT_TRUE(!strcmp(vkt_str(uuid, "pinned"), "none"),
			       "%s pinned: %s", uuid, vkt_str(uuid, "pinned"));
	}
	if (s == &mk_mvgpu) {
		/* The VM it names, "none" once closed: also a VM with no
		 * debugfs directory, which kvm_vms_alive() cannot see.
		 */
		char p[MDEV_PATH_LEN + 4];

		mdev_path(p, uuid);
		strcat(p, "/vm");
		MK_ASSERT_OK(__sysfs_read(p, vms, sizeof(vms)));
		MK_ASSERT_TRUE(!strcmp(vms, "none"), "%s in VM %s", uuid,
			       vms);
	}
	if (s == &mk_mzdev) {
		MK_ASSERT_OK(__sysfs_read("/sys/kernel/debug/mzdev/vms", vms,
					  sizeof(vms)));
		MK_ASSERT_TRUE(!strstr(vms, uuid), "still registered: %s",
			       vms);
	}
}
