#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make patches: export the commits of the kernel tree (base..HEAD) back to
# core/ and kvm-bridge/ with git format-patch. One numbering runs through
# both folders, so the order of the file names is the order to apply.
# Commits whose subject starts with "KVM:" are the KVM half of the
# contract and go to kvm-bridge/; every other commit goes to core/.

source "$(dirname "$0")/common.sh"

set_kernel_paths
[ -d "$KSRC/.git" ] || die "no kernel tree yet (make kernel)"
[ -z "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ] ||
	die "$KSRC has uncommitted changes: commit them first"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A fixed abbreviation: the index lines do not change with the object count.
git -C "$KSRC" -c core.abbrev=9 format-patch -q -N --zero-commit --no-signature \
	-o "$tmp" base..HEAD
rm -f "$TOP"/core/*.patch "$TOP"/kvm-bridge/*.patch
for p in "$tmp"/*.patch; do
	[ -e "$p" ] || continue
	if grep -qm1 '^Subject: \[PATCH\] KVM:' "$p"; then
		dir=kvm-bridge
	else
		dir=core
	fi
	mv "$p" "$TOP/$dir/"
	info "$dir/$(basename "$p")"
done
# The tree now matches the exported series: no re-application needed.
printf '%s %s\n' "$(series_hash)" "$(git -C "$KSRC" rev-parse HEAD)" \
	>"$KSRC/.git/mdev-kvm-series"
info "exported $(git -C "$KSRC" rev-list --count base..HEAD) commits"
