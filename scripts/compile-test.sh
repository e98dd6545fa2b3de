#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make compile-test: build the objects of the in-tree users of
# vfio_device_kvm_ops that our test kernel does not contain, with warnings
# as errors, each with KVM built in (kvm=y: KVM and every user =y) and as
# modules (kvm=m: all =m):
#   x86   i915 kvmgt, the VFIO core and KVM  (x86_64_defconfig + GVT)
#   s390  vfio_ap, vfio-pci zdev, the VFIO core and KVM  (cross compiler)
# Only the needed objects are built, so each config costs seconds once
# its `prepare` has run. Each config has its own object directory,
# obj/compile-<head|series>-<arch>-kvm<y|m>, kept between runs.
#
# make series-build (SERIES=1): the same, plus the test kernel's VFIO and
# KVM modules, for every patch of the series in turn, in a worktree of its
# own so the developer's tree is left alone.

source "$(dirname "$0")/common.sh"

set_kernel_paths
[ -d "$KSRC/.git" ] || die "no kernel tree yet (make kernel)"
exec 9>"$CACHE/.lock-compile-test"
flock 9

# The symbols each config asks for, @ standing for its KVM mode (y or m),
# the targets it builds, and the objects those must have produced (each
# user of the contract and the files the series changes). Every symbol is
# verified after olddefconfig.
X86_SYMS="VIRTUALIZATION=y KVM=@ KVM_INTEL=@ VFIO=@ VFIO_MDEV=@ DRM=@ DRM_I915=@ DRM_I915_GVT=y DRM_I915_GVT_KVMGT=@"
X86_TARGETS="drivers/gpu/drm/i915/gvt/kvmgt.o drivers/vfio/ arch/x86/kvm/"
X86_OBJS="drivers/gpu/drm/i915/gvt/kvmgt.o drivers/vfio/vfio_main.o
	  virt/kvm/vfio.o arch/x86/kvm/mmu/page_track.o"
S390_SYMS="KVM=@ VFIO=@ VFIO_PCI=@ VFIO_PCI_ZDEV_KVM=y ZCRYPT=@ VFIO_AP=@ VFIO_MDEV=@"
S390_TARGETS="drivers/s390/crypto/vfio_ap_ops.o drivers/vfio/ arch/s390/kvm/"
S390_OBJS="drivers/s390/crypto/vfio_ap_ops.o drivers/vfio/pci/vfio_pci_zdev.o
	   drivers/vfio/vfio_main.o virt/kvm/vfio.o arch/s390/kvm/pci.o"
KVM_MODES="y m"

# compile_config <src> <objdir> <arch> <cross> <defconfig> <syms> <targets>
#		 <objects>
compile_config() {
	local src=$1 obj=$2 arch=$3 cross=$4 defconfig=$5 syms=$6 targets=$7
	local objs=$8
	local make=(make -s -C "$src" O="$obj" ARCH="$arch" -j"$JOBS"
		    KCFLAGS=-Werror)
	local s t want got bad=0 key

	[ -n "$cross" ] && make+=(CROSS_COMPILE="$cross")
	command -v ccache >/dev/null &&
		make+=(CC="ccache ${cross}gcc") &&
		export CCACHE_DIR=$CACHE/ccache CCACHE_DEPEND=1
	mkdir -p "$obj"
	# A changed symbol list starts the config again from the defconfig
	# (the objects stay: kbuild rebuilds what the change touches).
	key="$defconfig $syms"
	if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.mdev-kvm-syms" 2>/dev/null)" != "$key" ]; then
		"${make[@]}" "$defconfig" >/dev/null
		for s in $syms; do
			"$src/scripts/config" --file "$obj/.config" \
				--set-val "${s%%=*}" "${s#*=}"
		done
		echo "$key" >"$obj/.mdev-kvm-syms"
	fi
	"${make[@]}" olddefconfig >/dev/null
	for s in $syms; do
		want="CONFIG_$s"
		got=$(grep -E "^CONFIG_${s%%=*}=" "$obj/.config" || true)
		[ "$got" = "$want" ] || { echo "  ${obj##*/}: asked $want, got ${got:-not set}" >&2; bad=1; }
	done
	[ "$bad" = 0 ] || die "${obj##*/}: the config lost symbols (above)"
	# shellcheck disable=SC2086
	"${make[@]}" $targets >"$obj.log" 2>&1 ||
		{ tail -n 30 "$obj.log" >&2; die "${obj##*/}: build failed ($obj.log)"; }
	for t in $objs; do
		[ -f "$obj/$t" ] || die "${obj##*/}: $t was not built ($obj.log)"
	done
}

# The series' samples (its last patch), built in (KVM=y) and as modules.
X86_SAMPLE_SYMS="SAMPLES=y SAMPLE_VFIO_MDEV_MVGPU=@ SAMPLE_VFIO_MDEV_MZDEV=@ SAMPLE_VFIO_MDEV_MCOUNTER=@ KVM_EXTERNAL_WRITE_TRACKING=y"
X86_SAMPLE_OBJS="samples/vfio-mdev/mvgpu.o samples/vfio-mdev/mzdev.o samples/vfio-mdev/mcounter.o"
# On s390 the two that do not need x86's page tracking.
S390_SAMPLE_SYMS="SAMPLES=y SAMPLE_VFIO_MDEV_MZDEV=@ SAMPLE_VFIO_MDEV_MCOUNTER=@"
S390_SAMPLE_OBJS="samples/vfio-mdev/mzdev.o samples/vfio-mdev/mcounter.o"

compile_tree() {
	local src=$1 tag=$2 m syms=$X86_SYMS targets=$X86_TARGETS objs=$X86_OBJS
	local what=kvmgt s390_syms=$S390_SYMS s390_targets=$S390_TARGETS
	local s390_objs=$S390_OBJS s390_what="vfio_ap, zdev"

	# Each patch of series-build on its own: the samples come last.
	if [ "$tag" = head ]; then
		syms+=" $X86_SAMPLE_SYMS" targets+=" samples/vfio-mdev/"
		objs+=" $X86_SAMPLE_OBJS" what="kvmgt, the samples"
		s390_syms+=" $S390_SAMPLE_SYMS" s390_targets+=" samples/vfio-mdev/"
		s390_objs+=" $S390_SAMPLE_OBJS" s390_what+=", mzdev, mcounter"
	fi
	for m in $KVM_MODES; do
		info "$tag: x86, KVM=$m: $what, VFIO, KVM"
		compile_config "$src" "$CACHE/obj/compile-$tag-x86-kvm$m" \
			x86_64 "" x86_64_defconfig "${syms//@/$m}" \
			"$targets" "$objs"
		info "$tag: s390, KVM=$m: $s390_what, VFIO, KVM"
		compile_config "$src" "$CACHE/obj/compile-$tag-s390-kvm$m" \
			s390 s390x-linux-gnu- defconfig "${s390_syms//@/$m}" \
			"$s390_targets" "$s390_objs"
	done
}

if [ "${SERIES:-}" != 1 ]; then
	stage "compile-test: the in-tree users on x86 and s390, KVM=y and KVM=m"
	compile_tree "$KSRC" head
	info "compile-test passed"
	exit 0
fi

# Patch by patch, in a worktree at each commit of the series.
WT=$CACHE/src/series-build
commits=$(git -C "$KSRC" rev-list --reverse base..series)
[ -d "$WT" ] || git -C "$KSRC" worktree add -q --detach "$WT" base
n=0
for c in $commits; do
	n=$((n + 1))
	stage "series-build: patch $n: $(git -C "$KSRC" log -1 --format=%s "$c")"
	git -C "$WT" checkout -q --detach "$c"
	compile_tree "$WT" series
	info "test kernel: VFIO and KVM modules, samples/vfio-mdev"
	FLAVOR=debug
	obj=$CACHE/obj/compile-series-debug
	mkdir -p "$obj"
	cp "$KOBJ/.config" "$obj/.config"
	make -s -C "$WT" O="$obj" ARCH=x86_64 -j"$JOBS" KCFLAGS=-Werror \
		olddefconfig >/dev/null
	make -s -C "$WT" O="$obj" ARCH=x86_64 -j"$JOBS" KCFLAGS=-Werror \
		drivers/vfio/ arch/x86/kvm/ samples/vfio-mdev/ >"$obj.log" 2>&1 ||
		{ tail -n 30 "$obj.log" >&2; die "patch $n does not build ($obj.log)"; }
done
info "every patch of the series builds on its own"
