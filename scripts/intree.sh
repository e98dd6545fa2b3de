#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The samples in the kernel tree, generated from mdev-samples/, the one
# source of truth (no second copy kept in step by hand):
#
#   intree.sh generate   in the kernel tree, replace the generated commit
#                        at the top of the series with one made from
#                        mdev-samples/ now: samples/vfio-mdev/<sample>.c,
#                        the entries of mdev-samples/Kconfig in
#                        samples/Kconfig and the lines in its Makefile
#                        (make patches runs it before it exports)
#   intree.sh check      fail unless the kernel tree's copies are
#                        mdev-samples/'s, byte for byte (lint.sh; with
#                        --note, kernel.sh: only a note, but in CI)

source "$(dirname "$0")/common.sh"

SAMPLES=(mvgpu mzdev mcounter)
SUBJECT="samples: vfio-mdev: add mvgpu, mzdev and mcounter"

set_kernel_paths
kgit() { git -C "$KSRC" "$@"; }

# mdev-samples/Kconfig without its leading comment: what goes in tree.
kconfig_entries() {
	sed '1,/^$/d' "$TOP/mdev-samples/Kconfig"
}

# The lines of samples/Kconfig the generated commit added, as a block.
tree_entries() {
	local n

	n=$(kconfig_entries | wc -l)
	grep -A "$((n - 1))" "^config SAMPLE_VFIO_MDEV_${SAMPLES[0]^^}\$" \
		"$KSRC/samples/Kconfig" || true
}

check() {
	local s bad=()

	for s in "${SAMPLES[@]}"; do
		cmp -s "$TOP/mdev-samples/$s.c" "$KSRC/samples/vfio-mdev/$s.c" ||
			bad+=("samples/vfio-mdev/$s.c")
		grep -qx "obj-\$(CONFIG_SAMPLE_VFIO_MDEV_${s^^}) += $s.o" \
			"$KSRC/samples/vfio-mdev/Makefile" ||
			bad+=("samples/vfio-mdev/Makefile ($s)")
	done
	[ "$(tree_entries)" = "$(kconfig_entries)" ] ||
		bad+=("samples/Kconfig")
	if [ ${#bad[@]} -gt 0 ]; then
		if [ "${1:-}" = --note ] && [ "${CI:-}" != true ]; then
			info "NOTE: the tree's samples are not mdev-samples/'s (${bad[*]}): make patches regenerates them"
			return 0
		fi
		die "the series' samples are not mdev-samples/'s: ${bad[*]} (run: make patches)"
	fi
	info "the series' samples are mdev-samples/'s"
}

generate() {
	local s name email date subjects

	[ -z "$(kgit status --porcelain --untracked-files=no)" ] ||
		die "$KSRC has uncommitted changes: commit them first"
	# Everything the commit needs, before the tree is touched.
	name=$(git -C "$TOP" config user.name || kgit config user.name) ||
		die "no git user.name (git config user.name ...)"
	email=$(git -C "$TOP" config user.email || kgit config user.email) ||
		die "no git user.email (git config user.email ...)"
	# The generated commit is the series' last; drop the old one.
	while [ "$(kgit log -1 --format=%s)" = "$SUBJECT" ]; do
		kgit reset -q --hard HEAD~1
	done
	subjects=$(kgit log --format=%s base..HEAD)
	if grep -qxF "$SUBJECT" <<<"$subjects"; then
		die "'$SUBJECT' is not the last commit of $KSRC: move it there"
	fi
	# The date of the commit below it: regenerating unchanged samples
	# gives the same patch, and the same series hash.
	date=$(kgit log -1 --format=%aD HEAD)

	for s in "${SAMPLES[@]}"; do
		cp "$TOP/mdev-samples/$s.c" "$KSRC/samples/vfio-mdev/$s.c"
		echo "obj-\$(CONFIG_SAMPLE_VFIO_MDEV_${s^^}) += $s.o" \
			>>"$KSRC/samples/vfio-mdev/Makefile"
	done
	# After MBOCHS's entry: before the first line that starts the next.
	# (Through the environment: awk -v would interpret backslashes.)
	ENTRIES=$(kconfig_entries) awk '
		/^config SAMPLE_VFIO_MDEV_MBOCHS$/ { in_mbochs = 1; print; next }
		in_mbochs && /^(config|menuconfig|endif|source|if|menu|endmenu|comment)( |$)/ {
			print ENVIRON["ENTRIES"] "\n"
			in_mbochs = 0
			done = 1
		}
		{ print }
		END { exit !done }' "$KSRC/samples/Kconfig" >"$KSRC/samples/Kconfig.new" ||
		die "no entry after SAMPLE_VFIO_MDEV_MBOCHS in samples/Kconfig"
	mv "$KSRC/samples/Kconfig.new" "$KSRC/samples/Kconfig"
	kgit add -f samples/Kconfig samples/vfio-mdev
	GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
		kgit -c user.name="$name" -c user.email="$email" commit -q -s -F - <<EOF
$SUBJECT

The VFIO samples show a mediated device, a display and a framebuffer,
but none of them depends on KVM, and so none shows what a driver that
needs the VM (i915's kvmgt, s390's vfio_ap) or can use it (vfio-pci's
zPCI support) does with struct vfio_device_kvm_ops. Add one sample per
kind of dependency, each a single file whose header comment says what
it demonstrates:

  mvgpu     .required = true: a vGPU that cannot be opened without a
            VM, one per VM, which write-protects and watches its
            guest's GTT through KVM's page-track API and reads guest
            memory as DMA through vfio_dma_rw(), as kvmgt does; it
            selects KVM_EXTERNAL_WRITE_TRACKING, as kvmgt does, and so
            is x86 only;
  mzdev     .required = false: a function that registers with the VM
            when there is one and works without, as zPCI does;
  mcounter  no kvm_ops: the smallest mdev driver, for which the core
            never pins a VM.

Each register interface is a state machine written down in the file's
header and enforced by the code, since a guest drives it through the
VMM and may write any register, at any size, in any order.
EOF
	info "$(kgit log -1 --format='%h %s')"
}

case ${1:-} in
generate) generate ;;
check) check "${2:-}" ;;
*) die "usage: intree.sh generate|check" ;;
esac
