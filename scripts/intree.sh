#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The samples and the selftests in the kernel tree, generated from the one
# source of truth, mdev-samples/ and selftests/ (no second copy kept in
# step by hand): the series' last two commits.
#
#   intree.sh generate   in the kernel tree, replace the generated commits
#                        at the top of the series with ones made now:
#                        samples/vfio-mdev/<sample>.c with the entries of
#                        mdev-samples/Kconfig in samples/Kconfig and lines
#                        in its Makefile; and tools/testing/selftests/vfio/
#                        from selftests/ (ksft_files: the kselftest target,
#                        not our QEMU harness), in TARGETS and MAINTAINERS
#                        (make patches runs it before it exports)
#   intree.sh check      fail unless the kernel tree's copies are ours,
#                        byte for byte (lint.sh; with --note, kernel.sh:
#                        only a note, but in CI)
#   intree.sh files      list ksft_files (relative to selftests/)

source "$(dirname "$0")/common.sh"

SAMPLES=(mvgpu mzdev mcounter)
SUBJECT="samples: vfio-mdev: add mvgpu, mzdev and mcounter"
KSFT_SUBJECT="selftests: vfio: add tests of the KVM contract of VFIO devices"
KSFT_DIR=tools/testing/selftests/vfio
# The MAINTAINERS line, in VFIO DRIVER after this one.
MAINT_AFTER=$'F:\tinclude/uapi/linux/vfio.h'
MAINT_LINE=$'F:\ttools/testing/selftests/vfio/'

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

# selftests/'s files of the kselftest target: all but our QEMU harness
# (vmtest.sh, the guest's init, the runner's selfcheck/, the guest
# kernel's config fragments). Untracked files count, ignored ones not.
ksft_files() {
	git -C "$TOP/selftests" ls-files --cached --others --exclude-standard . |
		grep -vE '^(vmtest\.sh|guest/.*|selfcheck/.*|config\..*)$' |
		while read -r f; do [ -f "$TOP/selftests/$f" ] && echo "$f"; done |
		sort -u
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
	while read -r f; do
		cmp -s "$TOP/selftests/$f" "$KSRC/$KSFT_DIR/$f" || bad+=("$KSFT_DIR/$f")
	done < <(ksft_files)
	[ "$(kgit ls-files "$KSFT_DIR" | sed "s|^$KSFT_DIR/||" | sort)" = "$(ksft_files)" ] ||
		bad+=("$KSFT_DIR (other files)")
	grep -qx 'TARGETS += vfio' "$KSRC/tools/testing/selftests/Makefile" ||
		bad+=("tools/testing/selftests/Makefile")
	grep -qxF "$MAINT_LINE" "$KSRC/MAINTAINERS" || bad+=("MAINTAINERS")
	if [ ${#bad[@]} -gt 0 ]; then
		if [ "${1:-}" = --note ] && [ "${CI:-}" != true ]; then
			info "NOTE: the tree's samples or selftests are not ours (${bad[*]}): make patches regenerates them"
			return 0
		fi
		die "the series' samples or selftests are not ours: ${bad[*]} (run: make patches)"
	fi
	info "the series' samples and selftests are mdev-samples/'s and selftests/'s"
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
	# The generated commits are the series' last; drop the old ones.
	while s=$(kgit log -1 --format=%s) &&
	      { [ "$s" = "$SUBJECT" ] || [ "$s" = "$KSFT_SUBJECT" ]; }; do
		kgit reset -q --hard HEAD~1
	done
	subjects=$(kgit log --format=%s base..HEAD)
	if grep -qxF -e "$SUBJECT" -e "$KSFT_SUBJECT" <<<"$subjects"; then
		die "the generated commits are not the last of $KSRC: move them there"
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

	rm -rf "${KSRC:?}/$KSFT_DIR"
	while read -r f; do
		mkdir -p "$(dirname "$KSRC/$KSFT_DIR/$f")"
		cp "$TOP/selftests/$f" "$KSRC/$KSFT_DIR/$f"
	done < <(ksft_files)
	awk '{ print } $0 == "TARGETS += user_events" { print "TARGETS += vfio" }' \
		"$KSRC/tools/testing/selftests/Makefile" >"$KSRC/ksft.Makefile.new"
	mv "$KSRC/ksft.Makefile.new" "$KSRC/tools/testing/selftests/Makefile"
	grep -qx 'TARGETS += vfio' "$KSRC/tools/testing/selftests/Makefile" ||
		die "no 'TARGETS += user_events' in tools/testing/selftests/Makefile"
	MAINT_AFTER=$MAINT_AFTER MAINT_LINE=$MAINT_LINE awk '
		/^VFIO DRIVER$/ { in_vfio = 1 }
		/^$/ { in_vfio = 0 }
		{ print }
		in_vfio && $0 == ENVIRON["MAINT_AFTER"] { print ENVIRON["MAINT_LINE"]; done = 1 }
		END { exit !done }' "$KSRC/MAINTAINERS" >"$KSRC/MAINTAINERS.new" ||
		die "no '$MAINT_AFTER' in VFIO DRIVER in MAINTAINERS"
	mv "$KSRC/MAINTAINERS.new" "$KSRC/MAINTAINERS"
	kgit add -f MAINTAINERS tools/testing/selftests/Makefile "$KSFT_DIR"
	GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
		kgit -c user.name="$name" -c user.email="$email" commit -q -s -F - <<EOF
$KSFT_SUBJECT

Nothing tests what VFIO does with the VM of a device: that a driver
which declares it needs KVM (struct vfio_device_kvm_ops, .required)
cannot be opened without one and holds it from the first open to the
last close, that one which can use it (.required = false) works with
and without, that one which declares nothing is never given a VM, and
that none of them leaks the VM, the module or the device when the
VMM, the VM or the device goes away first, whatever the order.

Add a kselftest target that checks this on the mdev samples
(samples/vfio-mdev: mvgpu, mzdev, mcounter, mtty) and on vfio-pci,
through the group and the cdev (iommufd) path, from C, from mdevctl
and from QEMU:

  guest_test, kvm_ops_test, lifetime_test  the pin and its lifetime:
            every open and close order against VM and module teardown;
  mvgpu_test, mzdev_test, mcounter_test, mtty_test, vfio_pci_test
            each driver's contract and register interface;
  badinput_test, fuzz_test  hostile userspace and a hostile guest:
            every register at every size in any order, bad ioctls;
  race_test, fault_test  opens racing VM teardown, and every
            allocation of the open path failed in turn (FAILSLAB);
  qemu_test, mdevctl_test  the samples under QEMU (a nested guest
            drives the vGPU) and mdevctl, when those are installed.

drivers/ holds a test driver that declares each kind of dependency
(TEST_GEN_MODS_DIR; the tests load it from there when modprobe does
not know it) and one the benchmark mdev_bench uses. A test that needs
what the host lacks (KVM modules when KVM is built in, mdevctl, QEMU,
FAILSLAB) skips and says why; config lists what the tests need.
A kernel report during the run (lockdep, KASAN, kmemleak, WARN) is a
failure the TAP cannot show, so the dmesg of the run must be watched.
EOF
	info "$(kgit log -1 --format='%h %s')"
}

case ${1:-} in
generate) generate ;;
check) check "${2:-}" ;;
files) ksft_files ;;
*) die "usage: intree.sh generate|check|files" ;;
esac
