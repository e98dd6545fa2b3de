#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make docs: build docs/ with Sphinx into build/docs/html. The API reference
# is pulled from the patched kernel tree with the kernel's own kernel-doc
# extension, so the tree must hold the series (make kernel). Any Sphinx
# warning fails the build.

source "$(dirname "$0")/common.sh"

set_kernel_paths
[ -x "$KSRC/scripts/kernel-doc" ] ||
	die "no kernel tree at $KSRC (run: make kernel)"
grep -q '^struct vfio_kvm_link {' "$KSRC/include/linux/vfio.h" ||
	die "$KSRC does not hold the series (run: make kernel)"
command -v sphinx-build >/dev/null ||
	die "sphinx-build not found (run: make deps; Debian's python3-sphinx)"

OUT=$TOP/build/docs
export KSRC

stage "building docs/ with $(sphinx-build --version 2>&1)" \
	"(warnings are errors)"
# -E: read every page each time (a second run must not pass just because
# the pages that warned were not read again); -n: every reference must
# resolve. Debian's sphinx-build runs /usr/bin/python3; keep it that way
# even when another python3 comes first on PATH.
PATH=/usr/bin:$PATH sphinx-build -E -W --keep-going -n -q \
	-b html -d "$OUT/doctrees" "$TOP/docs" "$OUT/html" ||
	die "docs/ does not build cleanly (above)"
info "HTML: $OUT/html/index.html"
