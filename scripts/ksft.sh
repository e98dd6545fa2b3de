#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ksft.sh <KDIR> <SRC> <OUT>: build the kselftest target SRC (selftests/ or
# a copy of it) against the kernel object directory KDIR, and install it
# the way `make -C tools/testing/selftests TARGETS=vfio install` does, with
# the kernel's own lib.mk, runner and run_kselftest.sh:
#
#   OUT/build/       the objects (lib.mk's OUTPUT)
#   OUT/kselftest/   run_kselftest.sh, kselftest/, kselftest-list.txt and
#                    vfio/: the programs, payload.elf, config, settings and
#                    drivers/*.ko (TEST_GEN_MODS_DIR)
#   OUT/selfcheck/   fail_test and mdev_kvm_canary.ko: the runner's own
#                    proofs (make check SELFCHECK=), not part of the target
#
# In the kernel tree selftests/ is tools/testing/selftests/vfio, and its
# Makefile includes ../lib.mk. Here ../lib.mk is not beside it: make finds
# it through -I, which names a directory beside the kernel's lib.mk. The
# test programs are static (the guest has no libc) and warnings are errors.

source "$(dirname "$0")/common.sh"

KDIR=${1:?usage: ksft.sh KDIR SRC OUT}
SRC=${2:?usage: ksft.sh KDIR SRC OUT}
OUT=${3:?usage: ksft.sh KDIR SRC OUT}
KSFT=$KDIR/source/tools/testing/selftests
[ -f "$KSFT/lib.mk" ] || die "$KSFT/lib.mk: $KDIR is not a kernel object directory"
[ -e "$SRC/../lib.mk" ] && die "$SRC/../lib.mk exists: it would be included instead of the kernel's"
INST=$OUT/kselftest

ARGS=(-C "$SRC" -I "$KSFT/kselftest" OUTPUT="$OUT/build" KDIR="$KDIR"
      KHDR_INCLUDES="-isystem $KDIR/usr/include" USERCFLAGS=-Werror
      USERLDFLAGS=-static KCFLAGS=-Werror)

mkdir -p "$OUT/build"
rm -rf "$INST"
make -s "${ARGS[@]}" install INSTALL_PATH="$INST/vfio"
# What tools/testing/selftests/Makefile's install adds around the targets.
mkdir -p "$INST/kselftest"
install -m 744 "$KSFT"/kselftest/{runner.sh,prefix.pl,module.sh,ktap_helpers.sh} \
	"$INST/kselftest/"
install -m 744 "$KSFT/run_kselftest.sh" "$INST/"
make -s --no-print-directory "${ARGS[@]}" COLLECTION=vfio emit_tests \
	>"$INST/kselftest-list.txt"
[ -s "$INST/kselftest-list.txt" ] || die "emit_tests listed no test"

make -s -C "$SRC/selfcheck" KDIR="$KDIR" KSFT="$KSFT" OUTPUT="$OUT/selfcheck" \
	KHDR_INCLUDES="-isystem $KDIR/usr/include" KCFLAGS=-Werror all
cp "$SRC"/selfcheck/*.ko "$OUT/selfcheck/"
info "kselftest install: $INST ($(wc -l <"$INST/kselftest-list.txt") programs)"
