#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make deps: install the Debian packages the project needs. Idempotent and
# quick when everything is present (one dpkg-query, no apt-get at all).

source "$(dirname "$0")/common.sh"

PACKAGES=(
	# the kernel source we patch, and what building it takes
	linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
	kmod cpio rsync xz-utils ccache git
	# the guest: busybox initramfs (QEMU is BPO_PACKAGES, below); mdevctl
	# is run from the host root over 9p by the end-to-end tests
	busybox-static mdevctl
	# make lint (checkpatch's spelling list), make compile-test (s390),
	# make docs
	codespell python3-ply python3-git sparse gcc-s390x-linux-gnu python3-sphinx
)

# QEMU 10 (its iommufd backend: -object iommufd, vfio-pci iommufd=) from
# Debian's bookworm-backports, for these packages only: the backports
# suite keeps its default priority, so nothing else is taken from it.
BPO_SUITE=bookworm-backports
BPO_QEMU=1:10.0
BPO_PACKAGES=(qemu-system-x86 qemu-system-common qemu-system-data seabios)
BPO_SOURCES=/etc/apt/sources.list.d/mdev-kvm-backports.sources

missing=()
for p in "${PACKAGES[@]}"; do
	case "$p" in \#*) continue ;; esac
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done
qemu=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
old_qemu=
[ -n "$qemu" ] && dpkg --compare-versions "$qemu" ge "$BPO_QEMU" || old_qemu=1
[ ${#missing[@]} -eq 0 ] && [ -z "$old_qemu" ] && exit 0

[ "$(id -u)" = 0 ] || die "installing packages needs root: sudo make deps"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$old_qemu" ] && [ ! -f "$BPO_SOURCES" ]; then
	stage "adding Debian's $BPO_SUITE (for QEMU only)"
	cat >"$BPO_SOURCES" <<-EOT
	# make deps (mdev-kvm): QEMU 10 for its iommufd backend. The suite's
	# default priority (100) keeps every other package on bookworm.
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: $BPO_SUITE
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOT
fi
stage "installing Debian packages: ${missing[*]}${old_qemu:+ QEMU>=$BPO_QEMU (${qemu:-none} installed)}"
apt-get update -q >/dev/null
[ ${#missing[@]} -eq 0 ] ||
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
if [ -n "$old_qemu" ]; then
	apt-get install -y -q --no-install-recommends \
		"${BPO_PACKAGES[@]/%//$BPO_SUITE}" >/dev/null
	qemu=$(dpkg-query -W -f='${Version}' qemu-system-x86)
	dpkg --compare-versions "$qemu" ge "$BPO_QEMU" ||
		die "QEMU $qemu installed; the tests need $BPO_QEMU or later"
fi
info "packages installed"
