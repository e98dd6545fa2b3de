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
	# the guest: QEMU TCG, busybox initramfs; mdevctl is run from the
	# host root over 9p by the end-to-end tests
	qemu-system-x86 busybox-static mdevctl
	# make lint (checkpatch's spelling list), make compile-test (s390),
	# make docs
	codespell python3-ply python3-git sparse gcc-s390x-linux-gnu python3-sphinx
)

missing=()
for p in "${PACKAGES[@]}"; do
	case "$p" in \#*) continue ;; esac
	if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

stage "installing Debian packages: ${missing[*]}"
[ "$(id -u)" = 0 ] || die "installing packages needs root: sudo make deps"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
info "packages installed"
