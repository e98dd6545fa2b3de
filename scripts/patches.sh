#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make patches: export the commits of the kernel tree (base..HEAD) back to
# core/ and kvm-bridge/ with git format-patch, and their order to the
# top-level file `series` (quilt's convention: one patch per line, the
# order to apply). One numbering runs through both folders. Commits whose
# subject starts with "KVM:" are the KVM half of the contract and go to
# kvm-bridge/; every other commit goes to core/. The cover letter,
# core/0000-cover-letter.patch, is format-patch's, with its subject and
# text from core/cover-letter.txt (first line: the subject).

source "$(dirname "$0")/common.sh"

set_kernel_paths
[ -d "$KSRC/.git" ] || die "no kernel tree yet (make kernel)"
[ -z "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ] ||
	die "$KSRC has uncommitted changes: commit them first"
# The series' last commit: the samples, made from mdev-samples/ now.
"$TOP/scripts/intree.sh" generate

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A fixed abbreviation: the index lines do not change with the object count.
COVER=$TOP/core/cover-letter.txt
[ -s "$COVER" ] || die "no $COVER (first line: the subject)"
git -C "$KSRC" -c core.abbrev=9 format-patch -q --zero-commit --no-signature \
	--cover-letter -o "$tmp" base..HEAD
rm -f "$TOP"/core/*.patch "$TOP"/kvm-bridge/*.patch
{
	echo "# The series, in the order to apply (quilt's convention)."
	echo "# Written by make patches (scripts/patches.sh); the cover letter,"
	echo "# core/0000-cover-letter.patch, is not a patch to apply."
} >"$tmp/series"
for p in "$tmp"/*.patch; do
	[ -e "$p" ] || continue
	case $p in
	*/0000-cover-letter.patch)
		# The subject and text of core/cover-letter.txt for format-patch's
		# placeholders; its shortlog and diffstat stay.
		awk -v cover="$COVER" \
		    -v date="$(git -C "$KSRC" log -1 --format=%aD HEAD)" '
		BEGIN {
			getline subject <cover
			while ((getline line <cover) > 0)
				text = text line "\n"
			sub(/^\n+/, "", text)
			sub(/\n+$/, "", text)
		}
		/^Date: / { print "Date: " date; next }
		/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subject) }
		/^\*\*\* BLURB HERE \*\*\*$/ { print text; next }
		{ print }' "$p" >"$TOP/core/0000-cover-letter.patch"
		info "core/0000-cover-letter.patch"
		continue
		;;
	esac
	if grep -qm1 '^Subject: \[PATCH [0-9]*/[0-9]*\] KVM:' "$p"; then
		dir=kvm-bridge
	else
		dir=core
	fi
	mv "$p" "$TOP/$dir/"
	echo "$dir/$(basename "$p")" >>"$tmp/series"
	info "$dir/$(basename "$p")"
done
mv "$tmp/series" "$TOP/series"
# The tree now matches the exported series: no re-application needed.
printf '%s %s\n' "$(series_hash)" "$(git -C "$KSRC" rev-parse HEAD)" \
	>"$KSRC/.git/mdev-kvm-series"
info "exported $(git -C "$KSRC" rev-list --count base..HEAD) commits"
