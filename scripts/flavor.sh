#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite on another kernel flavour than make check's, each with its own
# kernel (obj/linux-<version>-<flavour>), the samples and the kselftest
# target built against it, and its own logs in build/<flavour>/
# (modules/, src/, ksft/, console.log, tap.log):
#
#   flavor.sh kcsan    make check KCSAN=1: the race tests and the fuzzer
#                      (KCSAN_TESTS below) on a kernel with KCSAN instead
#                      of KASAN (selftests/config.platform, config,
#                      config.debug, config.kcsan). A KCSAN report in our
#                      code fails the run; the others are listed.
#   flavor.sh builtin  make check-builtin: the whole suite on a kernel with
#                      KVM and KVM_AMD built in (+ config.builtin), which
#                      proves the tests' skip paths for what needs KVM's
#                      modules; the verdict lists each skip with its reason.
#   flavor.sh intree   make check-intree: the whole suite as the series
#                      carries it, on a tree of its own (build/intree/):
#                      core/ and kvm-bridge/ applied with git am on the
#                      pristine source, the in-tree samples, the kselftest
#                      target installed by tools/testing/selftests/Makefile.

FLAVOR=${1:-}
case $FLAVOR in
# The race tests and the fuzzer, of the kselftest target's programs.
kcsan) KCSAN_TESTS='race_test fuzz_test' ;;
# What must skip with KVM built in, and only that (vmtest.sh's verdict).
builtin)
	export SKIPS_OK='kvm_ops\.(group|cdev)\.modules_stay_while_a_device_holds_the_vm'
	;;
# The series as a reviewer takes it: git am on tag base, the kernel
# configured with the tree's tools/testing/selftests/vfio/config, the
# in-tree samples, the kselftest target built and installed by the
# kernel's tools/testing/selftests/Makefile; the debug kernel's options.
intree) export BASE=intree FLAVOR=debug ;;
*) echo "usage: flavor.sh kcsan|builtin|intree" >&2; exit 2 ;;
esac
W_NAME=$FLAVOR
[ "${BASE:-}" = intree ] && W_NAME=intree
export FLAVOR
source "$(dirname "$0")/common.sh"

"$TOP/scripts/kernel.sh"
set_kernel_paths
KDIR=$KOBJ
RELEASE=$(cat "$KDIR/include/config/kernel.release")
W=$TOP/build/$W_NAME
M=$W/modules

if [ "$BASE" = intree ]; then
	stage "the kselftest target in $KSRC: make -C tools/testing/selftests TARGETS=vfio install"
	rm -rf "$W/ksft"
	make -s -C "$KSRC/tools/testing/selftests" O="$KDIR" TARGETS=vfio \
		USERCFLAGS=-Werror USERLDFLAGS=-static KCFLAGS=-Werror \
		KSFT_INSTALL_PATH="$W/ksft/kselftest" install >"$W.ksft.log" 2>&1 ||
		{ tail -n 40 "$W.ksft.log" >&2; die "the in-tree kselftest build failed: $W.ksft.log"; }
	info "tests: $(cut -d: -f2 "$W/ksft/kselftest/kselftest-list.txt" | tr '\n' ' ')"
	info "samples: $(cd "$KDIR/staging/lib/modules/$RELEASE/kernel/samples/vfio-mdev" && echo *.ko)"
	exec "$TOP/selftests/vmtest.sh" check
fi

# kbuild writes its objects next to the sources, and objects built against
# one kernel must not be loaded into another: build copies (with their
# mtimes, so a rebuild is incremental) and leave the clone's mdev-samples/
# and selftests/ to the test kernel's objects (make check), as make bench
# does. The sources only, not what kbuild or lib.mk made in them.
copy() {
	mkdir -p "$2"
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude=Module.symvers \
		--exclude=modules.order "$1/" "$2/"
}

stage "building the samples against $RELEASE ($FLAVOR)"
copy "$TOP/mdev-samples" "$M/samples"
make -s -C "$KDIR" M="$M/samples" W=1 KCFLAGS=-Werror modules

stage "building the kselftest target against $RELEASE ($FLAVOR)"
copy "$TOP/selftests" "$W/src/selftests"
"$TOP/scripts/ksft.sh" "$KDIR" "$W/src/selftests" "$W/ksft"
if [ -n "${KCSAN_TESTS:-}" ]; then
	list=$W/ksft/kselftest/kselftest-list.txt
	grep -xE "vfio:(${KCSAN_TESTS// /|})" "$list" >"$list.kcsan" ||
		die "none of KCSAN_TESTS ($KCSAN_TESTS) is in the target"
	mv "$list.kcsan" "$list"
fi
info "tests: $(cut -d: -f2 "$W/ksft/kselftest/kselftest-list.txt" | tr '\n' ' ')"

exec "$TOP/selftests/vmtest.sh" check
