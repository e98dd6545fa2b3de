#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make samples: build mdev-samples/ as external modules with kbuild against
# $1 (a configured and built kernel object directory). Warnings are errors.

source "$(dirname "$0")/common.sh"

KDIR=${1:?usage: samples.sh KDIR}
[ -f "$KDIR/Module.symvers" ] || die "$KDIR is not a built kernel (make kernel)"
if ! compgen -G "$TOP/mdev-samples/*.c" >/dev/null; then
	info "mdev-samples/: no samples yet"
	exit 0
fi
stage "building mdev-samples/ against $(cat "$KDIR/include/config/kernel.release")"
make -s -C "$KDIR" M="$TOP/mdev-samples" W=1 KCFLAGS=-Werror modules
