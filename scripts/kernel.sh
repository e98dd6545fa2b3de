#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make kernel: Debian's linux-source-6.12 -> a git tree whose first commit is
# the pristine source -> our series applied with git am -> configured from the
# fragments in selftests/ -> bzImage, modules, uapi headers.
#
# Incremental by design: the tree and the object directory live in the cache
# and survive fresh clones; the series is re-applied only when a patch file
# changed, and files whose content did not change keep their mtime, so kbuild
# rebuilds only what the changed patch touched.

source "$(dirname "$0")/common.sh"

set_kernel_paths
mkdir -p "$CACHE/src" "$CACHE/obj" "$CACHE/ccache"
# One lock for every kernel build: the debug and bench flavours share the
# series tree (applying the series is a git operation on it), and two
# builds at once on this machine only slow each other down.
exec 9>"$CACHE/.lock"
flock 9

GIT_IDENT_NAME=$(git -C "$TOP" config user.name || echo mdev-kvm)
GIT_IDENT_EMAIL=$(git -C "$TOP" config user.email || echo mdev-kvm@localhost)
kgit() {
	git -C "$KSRC" -c user.name="$GIT_IDENT_NAME" \
		-c user.email="$GIT_IDENT_EMAIL" -c advice.detachedHead=false "$@"
}

# --- 1. the pristine tree -------------------------------------------------
unpack_source() {
	local tmp pkgver kver

	[ -d "$KSRC/.git" ] && return 0
	pkgver=$(srcpkg_version)
	stage "unpacking $TARBALL ($SRCPKG $pkgver)"
	tmp=$CACHE/src/.unpack.$$
	rm -rf "$tmp" && mkdir -p "$tmp"
	tar -xJf "$TARBALL" -C "$tmp" --strip-components=1
	kver=$(make -s -C "$tmp" kernelversion)
	info "kernel version $kver, committing the pristine source as 'base'"
	git -C "$tmp" init -q -b pristine
	# No background repacking of 80,000 objects during kernel builds.
	git -C "$tmp" config gc.auto 0
	git -C "$tmp" add -A -f
	git -C "$tmp" -c user.name="$GIT_IDENT_NAME" \
		-c user.email="$GIT_IDENT_EMAIL" commit -q \
		-m "Linux $kver ($SRCPKG $pkgver, pristine)"
	git -C "$tmp" tag base
	printf '%s %s\n' "$kver" "$pkgver" >"$tmp/.git/mdev-kvm-version"
	mv "$tmp" "$KSRC"
}

# BASE=upstream (make bench): the pristine source as a worktree of the tree
# above, checked out at tag base once and never touched by the series.
upstream_tree() {
	[ -e "$KSRC/.git" ] && return 0
	(KSRC=$KSRC_SERIES && unpack_source)
	stage "checking out the pristine tree (tag base) at $KSRC"
	# -f: also when a worktree deleted by hand is still registered there
	git -C "$KSRC_SERIES" worktree add -f -q --detach "$KSRC" base
}

# BASE=intree (make check-intree): the series applied with git am, in one
# go, on a worktree checked out at tag base: what a reviewer does with the
# patch files. Re-applied from base whenever the series changed.
intree_tree() {
	local want

	[ -e "$KSRC/.git" ] || {
		(KSRC=$KSRC_SERIES && unpack_source)
		stage "checking out the pristine tree (tag base) at $KSRC"
		git -C "$KSRC_SERIES" worktree add -f -q --detach "$KSRC" base
	}
	want=$(series_hash)
	read_series_stamp
	if [ "$STAMP_HASH" = "$want" ] && [ "$(kgit rev-parse HEAD)" = "$STAMP_COMMIT" ] &&
	   tree_is_clean; then
		info "$KSRC: the series as applied with git am (unchanged)"
		return 0
	fi
	stage "git am: the series ($(series_files | wc -l) patches) on tag base at $KSRC"
	kgit am --abort >/dev/null 2>&1 || true
	kgit checkout -q -f --detach base
	if ! kgit am -q --keep-cr $(series_files) >"$KOBJ.am.log" 2>&1; then
		cat "$KOBJ.am.log" >&2
		kgit am --abort || true
		die "the series does not apply with git am on tag base (above)"
	fi
	printf '%s %s\n' "$want" "$(kgit rev-parse HEAD)" \
		>"$(kgit rev-parse --absolute-git-dir)/mdev-kvm-series"
	info "applied $(kgit rev-list --count base..HEAD) commits"
}

# --- 2. the series --------------------------------------------------------
# State of the tree, in .git/mdev-kvm-series: "<series hash> <commit>" of the
# last application. A tree whose HEAD or work tree differs from that commit
# holds a developer's work (see docs/development.rst, "Working on a patch").
read_series_stamp() {
	local f

	STAMP_HASH='' STAMP_COMMIT=''
	# In a worktree (BASE=intree) .git is a file: its own git dir.
	f=$(kgit rev-parse --absolute-git-dir)/mdev-kvm-series
	if [ -f "$f" ]; then
		read -r STAMP_HASH STAMP_COMMIT <"$f"
	fi
}

tree_is_clean() {
	[ -z "$(kgit status --porcelain --untracked-files=no)" ]
}

apply_series() {
	local want head f n=0 changed mt

	series_check
	want=$(series_hash)
	head=$(kgit rev-parse HEAD)
	read_series_stamp
	if [ "$STAMP_HASH" = "$want" ]; then
		if [ "$head" = "$STAMP_COMMIT" ] && tree_is_clean; then
			return 0
		fi
		if [ "${CI:-}" != true ]; then
			info "NOTE: building $KSRC as it is: it holds work not in"
			info "      core/ or kvm-bridge/ (export it with: make patches)"
			return 0
		fi
	fi
	stage "applying the series ($(series_files | wc -l) patches)"
	if ! tree_is_clean; then
		[ "${CI:-}" = true ] || [ "${FORCE:-}" = 1 ] ||
			die "$KSRC has uncommitted changes: commit them and run 'make patches', or rerun with FORCE=1 to discard them"
		kgit reset -q --hard
	fi
	if [ "$head" != "$(kgit rev-parse base)" ] && [ "$head" != "$STAMP_COMMIT" ]; then
		kgit branch -f "backup/$(date +%Y%m%d-%H%M%S)" "$head"
		info "your previous HEAD is kept as branch backup/..."
	fi

	# Remember the mtime of every file the old series touched, so that a
	# file whose content comes back identical can keep it.
	changed=$(kgit diff --name-only base HEAD)
	declare -A old_mtime old_blob
	for f in $changed; do
		[ -f "$KSRC/$f" ] || continue
		old_mtime[$f]=$(stat -c %Y "$KSRC/$f")
		old_blob[$f]=$(kgit rev-parse "HEAD:$f")
	done

	kgit am --abort >/dev/null 2>&1 || true
	kgit checkout -q -B series base
	while read -r f; do
		n=$((n + 1))
		if ! kgit am -q --keep-cr "$f" >"$KOBJ.am.log" 2>&1; then
			cat "$KOBJ.am.log" >&2
			kgit am --abort || true
			die "patch $n does not apply: ${f#"$TOP"/}"
		fi
		info "applied ${f#"$TOP"/}"
	done < <(series_files)

	for f in "${!old_mtime[@]}"; do
		[ -f "$KSRC/$f" ] || continue
		if [ "$(kgit rev-parse "HEAD:$f" 2>/dev/null)" = "${old_blob[$f]}" ]; then
			mt=${old_mtime[$f]}
			touch -d "@$mt" "$KSRC/$f"
		fi
	done
	printf '%s %s\n' "$want" "$(kgit rev-parse HEAD)" >"$KSRC/.git/mdev-kvm-series"
}

# --- 3. configuration -----------------------------------------------------
# make check-intree: the selftests' config as the series carries it.
FRAGMENTS=("$TOP/selftests/config.platform" "$TOP/selftests/config")
[ "$BASE" = intree ] &&
	FRAGMENTS[1]=$KSRC/tools/testing/selftests/vfio/config
case $FLAVOR in
debug) FRAGMENTS+=("$TOP/selftests/config.debug") ;;
# make check KCSAN=1: the debug options with KCSAN instead of KASAN
kcsan) FRAGMENTS+=("$TOP/selftests/config.debug" "$TOP/selftests/config.kcsan") ;;
bench) FRAGMENTS+=("$TOP/selftests/config.bench") ;;
# make check-builtin: the debug kernel with KVM built in
builtin) FRAGMENTS+=("$TOP/selftests/config.debug" "$TOP/selftests/config.builtin") ;;
*) die "FLAVOR=$FLAVOR: debug, kcsan, builtin or bench" ;;
esac
# Symbols only the series has (its samples, and what mvgpu selects): the
# pristine tree cannot have them, and nothing the benchmark measures on
# it uses them.
SERIES_ONLY=" $(printf 'CONFIG_SAMPLE_VFIO_MDEV_%s ' MVGPU MZDEV MCOUNTER)"
SERIES_ONLY+="CONFIG_KVM_EXTERNAL_WRITE_TRACKING "

KMAKE=(make -C "$KSRC" O="$KOBJ" ARCH=x86_64 -j"$JOBS")
if command -v ccache >/dev/null; then
	export CCACHE_DIR=$CACHE/ccache CCACHE_DEPEND=1 CCACHE_MAXSIZE=8G
	KMAKE+=(CC="ccache gcc")
fi

# Every symbol a fragment asks for must survive olddefconfig: a silently
# dropped dependency would otherwise cost a build and a confusing test run.
# As in merge_config.sh, the last fragment naming a symbol says what it
# must be (config.kcsan turns config.debug's KASAN off).
verify_config() {
	local frag line sym want got bad=0 syms=()
	local -A asked from

	for frag in "${FRAGMENTS[@]}"; do
		while read -r line; do
			case "$line" in
			CONFIG_*=*)
				sym=${line%%=*} want=$line ;;
			"# CONFIG_"*" is not set")
				sym=${line#\# } sym=${sym%% *} want='' ;;
			*) continue ;;
			esac
			[ "$BASE" = upstream ] && [[ $SERIES_ONLY == *" $sym "* ]] &&
				continue
			[ -n "${from[$sym]+set}" ] || syms+=("$sym")
			asked[$sym]=$want from[$sym]=$frag
		done <"$frag"
	done
	for sym in "${syms[@]}"; do
		want=${asked[$sym]}
		got=$(grep -E "^$sym=" "$KOBJ/.config" || true)
		if [ "$got" != "$want" ]; then
			printf '  %s: asked "%s", got "%s"\n' \
				"${from[$sym]#"$TOP"/}" "${want:-not set}" \
				"${got:-not set}" >&2
			bad=1
		fi
	done
	[ "$bad" = 0 ] || die "kernel config lost requested symbols (above); fix the fragment's dependencies"
}

configure() {
	local want

	want=$(cat "${FRAGMENTS[@]}" | sha256sum | cut -c1-16)
	mkdir -p "$KOBJ"
	if [ ! -f "$KOBJ/.config" ] || [ "$(cat "$KOBJ/.mdev-kvm-config" 2>/dev/null)" != "$want" ]; then
		stage "configuring ($FLAVOR): tinyconfig + ${FRAGMENTS[*]#"$TOP"/}"
		"${KMAKE[@]}" -s tinyconfig >/dev/null
		(cd "$KOBJ" && "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KOBJ" \
			.config "${FRAGMENTS[@]}") >"$KOBJ.config.log" 2>&1 ||
			die "merge_config failed: $KOBJ.config.log"
		echo "$want" >"$KOBJ/.mdev-kvm-config"
	fi
	"${KMAKE[@]}" -s olddefconfig >/dev/null
	verify_config
}

# --- 4. build -------------------------------------------------------------
build() {
	local want

	want="$(kgit rev-parse HEAD^{tree}) $(cat "$KOBJ/.mdev-kvm-config")"
	if tree_is_clean && [ -f "$KOBJ/arch/x86/boot/bzImage" ] &&
	   [ "$(cat "$KOBJ/.mdev-kvm-built" 2>/dev/null)" = "$want" ]; then
		info "kernel up to date ($KOBJ)"
		return 0
	fi
	rm -f "$KOBJ/.mdev-kvm-built"
	stage "building bzImage and modules ($FLAVOR, -j$JOBS; cold: ~7 min, warm: seconds)"
	run_logged "$KOBJ.build.log" "kernel build" \
		"${KMAKE[@]}" bzImage modules
	rm -rf "$KOBJ/staging"
	"${KMAKE[@]}" -s INSTALL_MOD_PATH="$KOBJ/staging" INSTALL_MOD_STRIP=1 \
		modules_install >/dev/null
	"${KMAKE[@]}" -s INSTALL_HDR_PATH="$KOBJ/usr" headers_install >/dev/null
	tree_is_clean && echo "$want" >"$KOBJ/.mdev-kvm-built"
	info "built $(cat "$KOBJ/include/config/kernel.release")"
}

if [ "$BASE" = upstream ]; then
	upstream_tree
elif [ "$BASE" = intree ]; then
	intree_tree
else
	unpack_source
	apply_series
	"$TOP/scripts/intree.sh" check --note
fi
configure
build
# A handle for developers: build/linux -> the tree they edit.
mkdir -p "$TOP/build"
[ "$FLAVOR" = debug ] && [ "$BASE" = series ] && ln -sfn "$KSRC" "$TOP/build/linux"
ln -sfn "$KOBJ" "$TOP/build/$KLINK"
info "kernel tree: $KSRC"
info "object dir:  $KOBJ"
