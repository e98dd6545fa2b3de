/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The devices the race, fault and lifetime tests run against, so that
 * one test body covers the test driver's three kinds of KVM dependency
 * and each sample: what to create, whether it needs a VM to open, and how
 * to tell that it holds nothing after a test.
 */
#ifndef LIBMDEVKVM_SUBJECT_H
#define LIBMDEVKVM_SUBJECT_H

#include <stdbool.h>

#include "mdev.h"

struct mk_subject {
	const char *name;	/* in reports */
	const char *parent;	/* the mdev parent, also the module */
	const char *type;
	bool vkt;		/* the test driver, with its counters */
	bool needs_vm;		/* refuses to open without a VM */
	bool pins;		/* pins the VM it opens in */
};

extern const struct mk_subject mk_vkt_none, mk_vkt_optional,
	mk_vkt_required, mk_mvgpu, mk_mzdev, mk_mcounter;

/* Loads the subject's module. */
void subject_modprobe(const struct mk_subject *s);
/*
 * Asserts that the device holds nothing: no pin, every open closed (test
 * driver), no registration with a VM (mzdev).
 */
void subject_assert_idle(const struct mk_subject *s, const char *uuid);

/*
 * FIXTURE_VARIANT_ADDs of @f for every subject on both paths, for a
 * variant struct with the members "enum vfio_path path" and "const
 * struct mk_subject *s".
 */
#define MK_SUBJECT_VARIANT(f, p, P, name)				\
	FIXTURE_VARIANT_ADD(f, p##_##name) {				\
		.path = VFIO_PATH_##P, .s = &mk_##name,			\
	}
#define MK_SUBJECT_VARIANTS_PATH(f, p, P)				\
	MK_SUBJECT_VARIANT(f, p, P, vkt_none);				\
	MK_SUBJECT_VARIANT(f, p, P, vkt_optional);			\
	MK_SUBJECT_VARIANT(f, p, P, vkt_required);			\
	MK_SUBJECT_VARIANT(f, p, P, mvgpu);				\
	MK_SUBJECT_VARIANT(f, p, P, mzdev);				\
	MK_SUBJECT_VARIANT(f, p, P, mcounter)
#define MK_SUBJECT_VARIANTS(f)						\
	MK_SUBJECT_VARIANTS_PATH(f, group, GROUP);			\
	MK_SUBJECT_VARIANTS_PATH(f, cdev, CDEV)

#endif /* LIBMDEVKVM_SUBJECT_H */
