#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make compile-test: build the objects of the in-tree users of
# vfio_device_kvm_ops that our test kernel does not contain, with warnings
# as errors:
#   x86   i915 kvmgt, the VFIO core and KVM  (x86_64_defconfig + GVT)
#   s390  vfio_ap, vfio-pci zdev, the VFIO core and KVM  (cross compiler)
# Only the needed objects are built, so each config costs seconds once
# its `prepare` has run.
#
# make series-build (SERIES=1): the same, plus the test kernel's VFIO and
# KVM modules, for every patch of the series in turn, in a worktree of its
# own so the developer's tree is left alone.

source "$(dirname "$0")/common.sh"

set_kernel_paths
[ -d "$KSRC/.git" ] || die "no kernel tree yet (make kernel)"
exec 9>"$CACHE/.lock-compile-test"
flock 9

# config name, ARCH, CROSS_COMPILE, base defconfig, symbols, targets
X86_SYMS="KVM=m KVM_INTEL=m VFIO=m VFIO_MDEV=m DRM=m DRM_I915=m DRM_I915_GVT=y DRM_I915_GVT_KVMGT=m"
X86_TARGETS="drivers/gpu/drm/i915/gvt/kvmgt.o drivers/vfio/ arch/x86/kvm/"
S390_SYMS="KVM=m VFIO=m VFIO_PCI=m VFIO_PCI_ZDEV_KVM=y ZCRYPT=m VFIO_AP=m VFIO_MDEV=m"
S390_TARGETS="drivers/s390/crypto/vfio_ap_ops.o drivers/vfio/ arch/s390/kvm/"

# compile_config <src> <objdir> <arch> <cross> <defconfig> <syms> <targets>
compile_config() {
	local src=$1 obj=$2 arch=$3 cross=$4 defconfig=$5 syms=$6 targets=$7
	local make=(make -s -C "$src" O="$obj" ARCH="$arch" -j"$JOBS"
		    KCFLAGS=-Werror)
	local s want got bad=0

	[ -n "$cross" ] && make+=(CROSS_COMPILE="$cross")
	command -v ccache >/dev/null &&
		make+=(CC="ccache ${cross}gcc") &&
		export CCACHE_DIR=$CACHE/ccache CCACHE_DEPEND=1
	mkdir -p "$obj"
	if [ ! -f "$obj/.config" ]; then
		"${make[@]}" "$defconfig" >/dev/null
		for s in $syms; do
			"$src/scripts/config" --file "$obj/.config" \
				--set-val "${s%%=*}" "${s#*=}"
		done
	fi
	"${make[@]}" olddefconfig >/dev/null
	for s in $syms; do
		want="CONFIG_$s"
		got=$(grep -E "^CONFIG_${s%%=*}=" "$obj/.config" || true)
		[ "$got" = "$want" ] || { echo "  $arch: asked $want, got ${got:-not set}" >&2; bad=1; }
	done
	[ "$bad" = 0 ] || die "$arch compile-test config lost symbols (above)"
	# shellcheck disable=SC2086
	"${make[@]}" $targets >"$obj.log" 2>&1 ||
		{ tail -n 30 "$obj.log" >&2; die "$arch: build failed ($obj.log)"; }
}

compile_tree() {
	local src=$1 tag=$2

	info "$tag: x86 kvmgt, VFIO, KVM"
	compile_config "$src" "$CACHE/obj/compile-$tag-x86" x86_64 "" \
		x86_64_defconfig "$X86_SYMS" "$X86_TARGETS"
	info "$tag: s390 vfio_ap, zdev, VFIO, KVM"
	compile_config "$src" "$CACHE/obj/compile-$tag-s390" s390 \
		s390x-linux-gnu- defconfig "$S390_SYMS" "$S390_TARGETS"
}

if [ "${SERIES:-}" != 1 ]; then
	stage "compile-test: the in-tree users on x86 and s390"
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
	info "test kernel: VFIO and KVM modules"
	FLAVOR=debug
	obj=$CACHE/obj/compile-series-debug
	mkdir -p "$obj"
	cp "$KOBJ/.config" "$obj/.config"
	make -s -C "$WT" O="$obj" ARCH=x86_64 -j"$JOBS" KCFLAGS=-Werror \
		olddefconfig >/dev/null
	make -s -C "$WT" O="$obj" ARCH=x86_64 -j"$JOBS" KCFLAGS=-Werror \
		drivers/vfio/ arch/x86/kvm/ >"$obj.log" 2>&1 ||
		{ tail -n 30 "$obj.log" >&2; die "patch $n does not build ($obj.log)"; }
done
info "every patch of the series builds on its own"
