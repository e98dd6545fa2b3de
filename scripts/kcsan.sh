#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check KCSAN=1: the race tests and the fuzzer (KCSAN_TESTS in
# selftests/Makefile, those of them the suite has) on a kernel with KCSAN
# instead of KASAN (FLAVOR=kcsan: selftests/config + config.debug +
# config.kcsan, in obj/linux-<version>-kcsan). Builds that kernel, the
# samples and the suite's modules against it, the test programs, and boots
# it (selftests/vmtest.sh check). A KCSAN report in our code fails the run;
# the others are listed in the summary. Everything of this run is in
# build/kcsan/: modules/, tests/, console.log, tap.log.

export FLAVOR=kcsan
source "$(dirname "$0")/common.sh"

"$TOP/scripts/kernel.sh"
set_kernel_paths
KDIR=$KOBJ
RELEASE=$(cat "$KDIR/include/config/kernel.release")
W=$TOP/build/kcsan
M=$W/modules

# kbuild writes its objects next to the sources, and objects built against
# one kernel must not be loaded into another: build copies (with their
# mtimes, so a rebuild is incremental) and leave the clone's mdev-samples/
# and selftests/ to the test kernel's objects (make check), as make bench
# does. copy <dir> <file>...: the sources, not kbuild's *.mod.c among them.
copy() {
	local dir=$1 f

	shift
	mkdir -p "$dir"
	for f in "$@"; do
		case $f in *.mod.c) ;; *) cp -p "$f" "$dir/" ;; esac
	done
}

stage "building the samples and the suite's modules against $RELEASE (kcsan)"
copy "$M/samples" "$TOP"/mdev-samples/Kbuild "$TOP"/mdev-samples/*.c
copy "$M/selftests" "$TOP/selftests/Kbuild"
for d in drivers selfcheck; do
	copy "$M/selftests/$d" "$TOP/selftests/$d/Kbuild" "$TOP/selftests/$d"/*.c
done
make -s -C "$KDIR" M="$M/samples" W=1 KCFLAGS=-Werror modules
make -s -C "$KDIR" M="$M/selftests" KCFLAGS=-Werror modules

stage "building the KCSAN tests against $RELEASE"
make -s -C "$TOP/selftests" KDIR="$KDIR" OUT="$W/tests" kcsan
info "tests: $(tr '\n' ' ' <"$W/tests/tests.list")"

exec "$TOP/selftests/vmtest.sh" check
