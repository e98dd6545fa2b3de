#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite on another kernel flavour than make check's, each with its own
# kernel (obj/linux-<version>-<flavour>), the samples and the suite's
# modules built against it, the test programs, and its own logs in
# build/<flavour>/ (modules/, tests/, console.log, tap.log):
#
#   flavor.sh kcsan    make check KCSAN=1: the race tests and the fuzzer
#                      (KCSAN_TESTS in selftests/Makefile) on a kernel with
#                      KCSAN instead of KASAN (selftests/config +
#                      config.debug + config.kcsan). A KCSAN report in our
#                      code fails the run; the others are listed.
#   flavor.sh builtin  make check-builtin: the whole suite on a kernel with
#                      KVM and KVM_AMD built in (+ config.builtin), which
#                      proves the tests' skip paths for what needs KVM's
#                      modules; the verdict lists each skip with its reason.

FLAVOR=${1:-}
case $FLAVOR in
kcsan) TESTS_TARGET=kcsan ;;
# What must skip with KVM built in, and only that (vmtest.sh's verdict).
builtin)
	TESTS_TARGET=progs
	export SKIPS_OK='kvm_ops\.(group|cdev)\.modules_stay_while_a_device_holds_the_vm'
	;;
*) echo "usage: flavor.sh kcsan|builtin" >&2; exit 2 ;;
esac
export FLAVOR
source "$(dirname "$0")/common.sh"

"$TOP/scripts/kernel.sh"
set_kernel_paths
KDIR=$KOBJ
RELEASE=$(cat "$KDIR/include/config/kernel.release")
W=$TOP/build/$FLAVOR
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

stage "building the samples and the suite's modules against $RELEASE ($FLAVOR)"
copy "$M/samples" "$TOP"/mdev-samples/Kbuild "$TOP"/mdev-samples/*.c
copy "$M/selftests" "$TOP/selftests/Kbuild"
for d in drivers selfcheck; do
	copy "$M/selftests/$d" "$TOP/selftests/$d/Kbuild" "$TOP/selftests/$d"/*.c
done
make -s -C "$KDIR" M="$M/samples" W=1 KCFLAGS=-Werror modules
make -s -C "$KDIR" M="$M/selftests" KCFLAGS=-Werror modules

stage "building the tests against $RELEASE ($FLAVOR)"
make -s -C "$TOP/selftests" KDIR="$KDIR" OUT="$W/tests" "$TESTS_TARGET"
info "tests: $(tr '\n' ' ' <"$W/tests/tests.list")"

exec "$TOP/selftests/vmtest.sh" check
