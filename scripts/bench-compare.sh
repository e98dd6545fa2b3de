#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-compare: our kernel against upstream, from the CSVs of the last
# `make bench` and `make bench BASE=upstream` (build/bench/ours.csv and
# upstream.csv). Times from two boots are compared only after each is
# divided by its own boot's reference loop (open + close of /dev/null,
# which the series does not touch): the "norm" columns. Prints a table and
# writes build/bench/compare.csv; make bench runs it when both CSVs exist.

source "$(dirname "$0")/common.sh"

B=$TOP/build/bench
[ -s "$B/ours.csv" ] || die "no $B/ours.csv: run make bench"
[ -s "$B/upstream.csv" ] || die "no $B/upstream.csv: run make bench BASE=upstream"

stage "ours / upstream (each normalized by its boot's open+close of /dev/null)"
awk -F, -v csv="$B/compare.csv" '
FNR == 1 { file++ }
/^#/ {
	sub(/^# /, "")
	print "  " $0
	# the run parameters, which should be the same in both
	params[file] = $0
	sub(/^.* rounds=/, "", params[file])
	next
}
$1 == "kernel" { next }
{
	# section, variant, path and VM name a row in both files
	key = $2 " " $3 ($4 == "-" ? "" : " " $4) \
		($5 == "yes" ? " VM" : $5 == "no" ? " no VM" : "")
	med[file, key] = $11; lo[file, key] = $12; hi[file, key] = $13
	raw[file, key] = $8 " [" $9 "-" $10 "] " $7
	if (file == 1)
		order[++n] = key
	if (file == 1 && $2 == "vm-life")
		life[++nlife] = key
}
function num(x) { return x != "" && x != "n/a" }
# ours row a / upstream row b, with the spread of the two spreads.
function row(name, a, b, target,    r, rmin, rmax, met) {
	if (!num(med[1, a]) || !num(med[2, b]))
		return
	r = med[1, a] / med[2, b]
	rmin = lo[1, a] / hi[2, b]
	rmax = hi[1, a] / lo[2, b]
	met = target == "" ? "" : (r <= target ? "met" : "missed")
	printf "%-46s %8.2f %8.2f  %5.2f [%.2f-%.2f]   %-6s %s\n", name,
		med[1, a], med[2, b], r, rmin, rmax,
		target == "" ? "" : "<=" sprintf("%.2f", target), met
	printf "%s,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%s,%s\n", name, b, med[1, a],
		med[2, b], r, rmin, rmax, target, met > csv
}
END {
	if (params[1] != params[2])
		print "  NOTE: the two runs were made with different options"
	print "row,upstream_row,ours_norm,upstream_norm,ratio,ratio_min,ratio_max,target,met" > csv
	printf "\n%-46s %8s %8s  %-20s %-6s %s\n", "row (ours / upstream)",
		"ours", "upstream", "ratio [min-max]", "target", "met"
	for (i = 1; i <= n; i++) {
		k = order[i]
		split(k, f, " ")
		# The target of issue 8: mtty attached, group path.
		target = k == "cycle mtty group VM" ? 0.40 : ""
		row(k, k, k, target)
	}
	# The pinned cycles of ours against what upstream pays for mtty.
	split("vkb-required mvgpu mzdev vkb-none mcounter", v, " ")
	for (p = 1; p <= 2; p++) {
		path = p == 1 ? "group" : "cdev"
		for (i = 1; i <= 5; i++)
			row("cycle " v[i] " (ours) / mtty (upstream) " path,
			    "cycle " v[i] " " path " VM",
			    "cycle mtty " path " VM", "")
	}
	# What an open vfio-pci device keeps of a closed VM: no ratio, the
	# figures side by side. Ours: not alive, and the close frees what it
	# frees with the device in no VM (the control rows).
	if (nlife)
		printf "\n%-46s %-30s %s\n", "vm-life (median [min-max])",
			"ours", "upstream"
	for (i = 1; i <= nlife; i++) {
		k = life[i]
		printf "%-46s %-30s %s\n", substr(k, 9), raw[1, k], raw[2, k]
		printf "%s,,%s,%s,,,,,\n", k, raw[1, k], raw[2, k] > csv
	}
}' "$B/ours.csv" "$B/upstream.csv"
info "written to $B/compare.csv"
