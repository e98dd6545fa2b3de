#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: checkpatch --strict over the series, the samples and the
# selftests, and kernel-doc over the samples. Any message fails.

source "$(dirname "$0")/common.sh"

set_kernel_paths
# checkpatch runs scripts/spdxcheck.py with the python3 on PATH; it needs
# Debian's python3-ply and python3-git, which only the system python has.
export PATH=/usr/bin:$PATH
# The tree is Debian's tarball with no upstream history, so commit ids in
# Fixes: tags cannot be looked up: that one check is skipped.
CP=("$KSRC/scripts/checkpatch.pl" --strict --max-line-length=80 --quiet
    --show-types --ignore UNKNOWN_COMMIT_ID)
[ -f /usr/share/codespell/dictionary.txt ] && CP+=(--codespell)
bad=0

check() {
	local what=$1 out

	shift
	if ! out=$("${CP[@]}" "$@" 2>&1); then
		printf '%s\n%s\n' "--- $what" "$out"
		return 1
	fi
}

stage "checkpatch --strict: series"
series_check
"$TOP/scripts/intree.sh" check || bad=1
# Does MAINTAINERS (with the series) list a directory holding every file
# @1 creates? Then checkpatch's "does MAINTAINERS need updating?" is
# answered: no.
maintained() {
	local f d created

	created=$(sed -n 's/^ create mode [0-9]* //p' "$1")
	[ -n "$created" ] || return 1
	for f in $created; do
		d=$(dirname "$f")
		until grep -qE "^F:[[:space:]]+$d/\$" "$KSRC/MAINTAINERS"; do
			[ "$d" = . ] && return 1
			d=$(dirname "$d")
		done
	done
}

# The kselftest harness declares tests and variants at file scope, so a
# macro that adds variants can be neither a do-while nor an expression:
# the selftests (only) may have such macros; and a macro that skips the
# test it is used in (SKIP(return, ...), as HOST_REQUIRE() does) must
# return from it.
HARNESS_MACROS=MULTISTATEMENT_MACRO_USE_DO_WHILE,COMPLEX_MACRO,MACRO_ARG_REUSE
HARNESS_MACROS+=,MACRO_WITH_FLOW_CONTROL

for p in $(series_files); do
	extra=()
	maintained "$p" && extra=(--ignore FILE_PATH_CHANGES)
	# The generated selftests patch: selftests/, checked below, in tree.
	grep -q '^Subject: \[PATCH [0-9/]*\] selftests: vfio:' "$p" &&
		extra+=(--ignore "$HARNESS_MACROS")
	# From the tree, so checkpatch can look at the files the patch touches.
	(cd "$KSRC" && check "${p#"$TOP"/}" "${extra[@]}" "$p") || bad=1
done

stage "kernel-doc: no new warning in the files the series touches"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in $(git -C "$KSRC" diff --name-only base HEAD -- '*.c' '*.h'); do
	now=$("$KSRC/scripts/kernel-doc" -none -Wall "$KSRC/$f" 2>&1 | wc -l)
	was=0
	if git -C "$KSRC" show "base:$f" >"$tmp" 2>/dev/null; then
		was=$("$KSRC/scripts/kernel-doc" -none -Wall "$tmp" 2>&1 | wc -l)
	fi
	if [ "$now" -gt "$was" ]; then
		echo "--- $f: $was kernel-doc warnings before the series, $now after"
		"$KSRC/scripts/kernel-doc" -none -Wall "$KSRC/$f"
		bad=1
	fi
done

stage "checkpatch --strict: samples and selftests"
while read -r f; do
	case $f in
	"$TOP"/selftests/*) extra=(--ignore "$HARNESS_MACROS") ;;
	*) extra=() ;;
	esac
	check "${f#"$TOP"/}" --no-tree "${extra[@]}" --file "$f" || bad=1
done < <(cd "$TOP" && find "$TOP/mdev-samples" "$TOP/selftests" \
	-name '*.[ch]' -not -name '*.mod.c' | sort)

stage "kernel-doc: samples"
for f in "$TOP"/mdev-samples/*.c; do
	[ -e "$f" ] || continue
	out=$("$KSRC/scripts/kernel-doc" -none -Wall "$f" 2>&1) ||
		{ echo "$out"; bad=1; }
	[ -z "$out" ] || { echo "$out"; bad=1; }
done

[ "$bad" = 0 ] || die "lint found problems (above)"
info "lint clean"
