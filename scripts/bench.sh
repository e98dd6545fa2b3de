#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench [BASE=upstream]: what the KVM pin and the mdev lifecycle cost
# (selftests/mdev_bench.c says what it measures). Builds the kernel without
# the debug options (FLAVOR=bench: selftests/config.platform, config, config.bench), from
# our series or, with BASE=upstream, from the pristine tree; builds the
# samples and the test driver against it (ours only: they need the
# series' API) and the benchmark program; boots it and runs the benchmark
# (selftests/vmtest.sh bench). The table and CSV land in
# build/bench/<ours|upstream>.{txt,csv}; once both exist,
# scripts/bench-compare.sh prints ours / upstream.
#
# BENCH=<key=value,...> passes options to the program, e.g.
# BENCH=rounds=5,iters=1000 or BENCH=profile=mvgpu/group.

export FLAVOR=bench
source "$(dirname "$0")/common.sh"

case $BASE in
series) LABEL=ours ;;
upstream) LABEL=upstream ;;
*) die "BASE=$BASE: 'upstream', or nothing for our series" ;;
esac
export BASE BENCH

"$TOP/scripts/kernel.sh"
set_kernel_paths
KDIR=$KOBJ
RELEASE=$(cat "$KDIR/include/config/kernel.release")
W=$TOP/build/bench/$LABEL
mkdir -p "$W/modules"

# kbuild writes its objects next to the sources: build copies (with their
# mtimes, so a rebuild is incremental) and leave the clone's mdev-samples/
# and selftests/ to the test kernel's objects (make check).
if [ "$BASE" = series ]; then
	stage "building the samples and selftests/drivers against $RELEASE (bench)"
	mkdir -p "$W/modules/samples" "$W/modules/drivers"
	cp -p "$TOP"/mdev-samples/Kbuild "$TOP"/mdev-samples/*.c \
		"$W/modules/samples/"
	cp -p "$TOP"/selftests/drivers/Kbuild "$TOP"/selftests/drivers/*.c \
		"$W/modules/drivers/"
	for d in samples drivers; do
		make -s -C "$KDIR" M="$W/modules/$d" W=1 KCFLAGS=-Werror modules
	done
fi

stage "building selftests/mdev_bench against $RELEASE"
# The kselftest target's Makefile (scripts/ksft.sh says why -I), only the
# benchmark's program: the tests and their drivers need the series.
KSFT=$KDIR/source/tools/testing/selftests
make -s -C "$TOP/selftests" -I "$KSFT/kselftest" OUTPUT="$W/tests" \
	KHDR_INCLUDES="-isystem $KDIR/usr/include" USERCFLAGS=-Werror \
	USERLDFLAGS=-static "$W/tests/mdev_bench"

BENCH_LABEL=$LABEL BENCH_TESTS=$W/tests BENCH_MODULES=$W/modules \
	"$TOP/selftests/vmtest.sh" bench

if [ -s "$TOP/build/bench/ours.csv" ] && [ -s "$TOP/build/bench/upstream.csv" ]; then
	"$TOP/scripts/bench-compare.sh"
fi
