# SPDX-License-Identifier: GPL-2.0
# Shared by the host-side scripts: where things live, how a stage reports
# progress, and how a script dies. Sourced, never run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Everything generated lives outside the clone so that a fresh clone (CI)
# reuses an unchanged kernel. See docs/development.rst, "Caches".
CACHE=${MDEV_KVM_CACHE:-/var/cache/mdev-kvm}
TARBALL=${LINUX_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
SRCPKG=linux-source-6.12

# Kernel flavour, the fragments after selftests/config.platform and config:
# "debug" (make check: config.debug), "kcsan" (make check KCSAN=1:
# config.debug + config.kcsan, KCSAN instead of KASAN), "builtin" (make
# check-builtin: config.debug + config.builtin) or "bench" (make bench:
# config.bench, no debug options).
FLAVOR=${FLAVOR:-debug}
# The tree to build: "series" (tag base + our patches, the tree developers
# edit), "upstream" (make bench BASE=upstream: the pristine source, no
# patch applied) or "intree" (make check-intree: tag base + the series
# with git am in a tree of its own, never edited).
BASE=${BASE:-series}
JOBS=${JOBS:-$(nproc)}

T0=${MDEV_KVM_T0:-$(date +%s)}
export MDEV_KVM_T0=$T0

elapsed() {
	local s=$(($(date +%s) - T0))

	printf '%d:%02d' $((s / 60)) $((s % 60))
}

# One line per stage, with the wall time since the make started.
stage() {
	printf '[%6s] == %s\n' "$(elapsed)" "$*"
}

info() {
	printf '[%6s]    %s\n' "$(elapsed)" "$*"
}

die() {
	printf '[%6s] ERROR: %s\n' "$(elapsed)" "$*" >&2
	exit 1
}

# Run a long command, keep its output in a log, and print a heartbeat so a
# cold build shows progress rather than silence. On failure print the tail.
run_logged() {
	local log=$1 what=$2 pid rc last=''

	shift 2
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 15
		kill -0 "$pid" 2>/dev/null || break
		# No progress line yet is not a failure (pipefail, set -e).
		last=$(grep -E '^  [A-Z]+ ' "$log" | tail -n 1 | sed 's/^ *//' || true)
		info "$what: ${last:-working} ($(wc -l <"$log") lines)"
	done
	rc=0
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log" >&2
		die "$what failed (exit $rc); full log: $log"
	fi
}

# Debian package version of the kernel source, e.g. 6.12.117-1~deb12u1.
srcpkg_version() {
	dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null ||
		die "$SRCPKG is not installed (run: make deps)"
}

# Paths derived from the source version and flavour.
set_kernel_paths() {
	local v

	v=$(srcpkg_version | tr '~:' '__')
	KSRC=$CACHE/src/linux-$v
	KOBJ=$CACHE/obj/linux-$v-$FLAVOR
	KLINK=obj-$FLAVOR
	# The pristine tree (upstream), or the series applied with git am on
	# the pristine tree (intree, make check-intree): a worktree of KSRC
	# at tag base, its own objects.
	case $BASE in
	upstream | intree)
		KSRC_SERIES=$KSRC
		KSRC=$CACHE/src/linux-$v-$BASE
		KOBJ=$CACHE/obj/linux-$v-$BASE-$FLAVOR
		KLINK=obj-$BASE-$FLAVOR
		;;
	esac
}

# The series: core/ and kvm-bridge/ share one numbering (the number prefix
# of git format-patch), so the apply order is the order of the file names.
# The patches in the order of the file `series` (quilt's convention: one
# path per line, relative to the top, # for comments), as absolute paths.
series_files() {
	local f

	while read -r f; do
		case $f in '' | '#'*) continue ;; esac
		echo "$TOP/$f"
	done <"$TOP/series"
}

# Dies unless `series` lists every patch file of core/ and kvm-bridge/
# (but the cover letter) and only files that exist.
series_check() {
	local f

	[ -f "$TOP/series" ] || die "no $TOP/series"
	while read -r f; do
		[ -f "$f" ] || die "series lists ${f#"$TOP"/}, which does not exist"
	done < <(series_files)
	for f in "$TOP"/core/[0-9]*.patch "$TOP"/kvm-bridge/[0-9]*.patch; do
		[ -e "$f" ] || continue
		case $f in */0000-cover-letter.patch) continue ;; esac
		grep -qxF "${f#"$TOP"/}" "$TOP/series" ||
			die "${f#"$TOP"/} is not in the file series"
	done
}

series_hash() {
	local f

	series_files | while read -r f; do
		sha256sum <"$f"
	done | sha256sum | cut -c1-16
}
