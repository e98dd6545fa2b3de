#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots our kernel under QEMU TCG with the suite in an initramfs and gives
# one verdict.
#
#   vmtest.sh check   run the suite; exit 0 only if every test passed, the
#                     TAP plans add up, the guest finished in time and its
#                     log holds no kernel report (lockdep, KASAN, kmemleak,
#                     WARN, BUG, Oops, hung task, panic)
#   vmtest.sh run     the demo, then a shell on this terminal (RUN=demo:
#                     the demo alone, with a verdict)
#   vmtest.sh bench   run the benchmark (make bench; see bench_main)
#
# Environment: T=<test binary or fixture.variant.test>[,...] runs those;
# RUN=demo (run mode) runs the demo without a shell and checks it ends;
# SELFCHECK=fail|warn|leak|lockdep|kasan makes the guest misbehave on
# purpose (the run must then fail); TIMEOUT=<s> bounds the guest (default
# 1500); STRESS=<s> lengthens each race scenario (make stress);
# FUZZ=seed=<n>,steps=<n>,seconds=<s> drives the fuzzer (make fuzz); CI=true
# makes any skipped test a failure. FLAVOR=kcsan (make check KCSAN=1,
# scripts/flavor.sh) boots the KCSAN kernel with what was built for it in
# build/kcsan/, and judges KCSAN's reports (kcsan_verdict).

source "$(dirname "$0")/../scripts/common.sh"

MODE=${1:-check}
set_kernel_paths
OUT=$TOP/build/$MODE
# What scripts/ksft.sh built and installed: the kselftest install
# (kselftest/, the guest's /kselftest) and the runner's proofs (selfcheck/).
KSFT=$TOP/build/ksft
# Where the initramfs takes the modules modprobe loads from (extra/): the
# samples as built from mdev-samples/ and the selfcheck canary. The test
# drivers come with the kselftest install, as on a fleet's host.
MODULE_DIRS=("$TOP/mdev-samples" "$KSFT/selfcheck")
# make check KCSAN=1 and make check-builtin (scripts/flavor.sh): the
# modules and tests built against that kernel, and its own logs.
if [ "$FLAVOR" = kcsan ] || [ "$FLAVOR" = builtin ]; then
	OUT=$TOP/build/$FLAVOR
	KSFT=$OUT/ksft
	MODULE_DIRS=("$OUT/modules" "$KSFT/selfcheck")
fi
# make check-intree: the tree's own samples (modules_install) and what its
# tools/testing/selftests/Makefile installed; no module of ours besides.
if [ "$BASE" = intree ]; then
	OUT=$TOP/build/intree
	KSFT=$OUT/ksft
	MODULE_DIRS=()
fi
TIMEOUT=${TIMEOUT:-1500}
CONSOLE=$OUT/console.log
TAP=$OUT/tap.log
RELEASE=$(cat "$KOBJ/include/config/kernel.release")

# Report lines the guest kernel must never print. Any of them fails the run.
# Each names its report; a bare "Call Trace:" does not count, since an
# allocation that fault_test.c makes fail may log one (vmalloc's
# warn_alloc) without anything being wrong.
REPORTS='WARNING:|BUG:|Oops|general protection fault|Kernel panic|kernel BUG|'
REPORTS+='possible circular locking|possible recursive locking|'
REPORTS+='inconsistent lock state|suspicious RCU usage|UBSAN:|'
REPORTS+='unreferenced object|INFO: task .* blocked|detected stall|'
REPORTS+='soft lockup|hard LOCKUP|page allocation failure'

# KCSAN (make check KCSAN=1) reports "BUG: KCSAN: data-race in f [mod] /
# g [mod]": kcsan_verdict judges those by the two functions of that line,
# REPORTS does not. Ours, when one of them is in these directories (their
# modules, from the kernel's modules.order, or their built-in objects),
# a sample or the test driver: they fail the run. The others are listed.
KCSAN_OURS_DIRS='drivers/vfio virt/kvm arch/x86/kvm'
KCSAN_OURS_MODULES='mvgpu mzdev mcounter vfio_kvm_test'

# One guest at a time on this machine: a second run would share build/$MODE
# and halve the CPU of the first.
mkdir -p "$CACHE"
exec 8>"$CACHE/.guest.lock"
flock 8

case "$OUT" in *,*) die "QEMU cannot log to a path with a comma: $OUT" ;; esac

build_initramfs() {
	local root=$OUT/initramfs ko

	rm -rf "$root" &&
		mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,tests}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	mknod "$root/dev/console" c 5 1
	cp "$TOP/selftests/guest/init" "$root/init"
	cp "$TOP/selftests/guest/demo.sh" "$root/demo.sh"
	cp "$TOP/selftests/guest/timeout" "$root/usr/bin/timeout"
	cp -a "$KOBJ/staging/lib" "$root/lib"
	# Our samples are in the tree too (the series' last patch, the same
	# files): the guest loads them as built from mdev-samples/.
	if [ ${#MODULE_DIRS[@]} -gt 0 ]; then
		rm -f "$root/lib/modules/$RELEASE/kernel/samples/vfio-mdev/"{mvgpu,mzdev,mcounter}.ko
		mkdir -p "$root/lib/modules/$RELEASE/extra"
		while read -r ko; do
			cp "$ko" "$root/lib/modules/$RELEASE/extra/"
		done < <(find "${MODULE_DIRS[@]}" -name '*.ko' 2>/dev/null)
	fi
	depmod -b "$root" "$RELEASE"
	if [ "$MODE" = bench ]; then
		find "$BENCH_TESTS" -maxdepth 1 -type f -exec cp {} "$root/tests/" \;
	else
		cp -a "$KSFT/kselftest" "$root/kselftest"
		if [ -f "$KSFT/selfcheck/fail_test" ]; then
			cp "$KSFT/selfcheck/fail_test" "$root/kselftest/vfio/"
		fi
	fi
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$OUT/initramfs.cpio"
	info "initramfs: $(du -h "$OUT/initramfs.cpio" | cut -f1)," \
		"$( [ "$MODE" = bench ] && echo "the benchmark" ||
		    echo "$(wc -l <"$KSFT/kselftest/kselftest-list.txt") test programs")," \
		"kernel $RELEASE"
}

qemu_cmd() {
	# intel_iommu=on: vfio-pci's tests use QEMU's edu behind intel-iommu.
	local append="console=ttyS0 panic=-1 acpi=noirq intel_iommu=on"

	append+=" mdevkvm.mode=${RUN:-$MODE}"

	# make run: the terminal is the guest's ttyS0, for the demo and the
	# shell; the kernel log goes to ttyS1, a file, and stays out of it.
	[ "$MODE" = run ] && append=${append/console=ttyS0/console=ttyS1}

	[ -n "${T:-}" ] && append+=" mdevkvm.t=$T"
	[ -n "${SELFCHECK:-}" ] && append+=" mdevkvm.selfcheck=$SELFCHECK"
	[ -n "${STRESS:-}" ] && append+=" mdevkvm.stress=$STRESS"
	[ -n "${FUZZ:-}" ] && append+=" mdevkvm.fuzz=$FUZZ"
	[ -n "${BENCH:-}" ] && append+=" mdevkvm.bench=$BENCH"
	QEMU=(qemu-system-x86_64 -machine q35 -accel tcg,thread=multi
	      -cpu max -smp 2 -m 2048 -nodefaults -display none -no-reboot
	      -device intel-iommu,intremap=off -device edu
	      -kernel "$KOBJ/arch/x86/boot/bzImage"
	      -initrd "$OUT/initramfs.cpio" -append "$append"
	      -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
	if [ "$MODE" = run ] && [ "${RUN:-}" = demo ]; then
		# The demo on this terminal, and in its log for the verdict.
		QEMU+=(-chardev "stdio,id=tty,signal=off,logfile=$OUT/demo.log"
		       -serial chardev:tty -chardev "file,id=con,path=$CONSOLE"
		       -serial chardev:con)
	elif [ "$MODE" = run ]; then
		QEMU+=(-serial mon:stdio -chardev "file,id=con,path=$CONSOLE"
		       -serial chardev:con)
	else
		QEMU+=(-chardev "file,id=con,path=$CONSOLE" -serial chardev:con
		       -chardev "file,id=tap,path=$TAP" -serial chardev:tap)
	fi
}

# Print each test result as the guest reports it, with the elapsed time.
follow() {
	local pid=$1 seen=0 start now lines

	start=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		lines=$(wc -l <"$TAP" 2>/dev/null || echo 0)
		if [ "$lines" -gt "$seen" ]; then
			sed -n "$((seen + 1)),${lines}p" "$TAP" |
				tr -d '\r' | grep -E '^(# )?(not )?ok |^# selftests:' |
				sed -e 's/^# //' -e 's/^/         /' || true
			seen=$lines
		fi
		now=$(date +%s)
		if [ $((now - start)) -ge "$TIMEOUT" ]; then
			echo timeout >"$OUT/timeout"
			kill "$pid" 2>/dev/null || true
			break
		fi
	done
}

# The console lines REPORTS names (KCSAN's own left to kcsan_verdict).
report_lines() {
	if [ "$FLAVOR" = kcsan ]; then
		grep -v 'BUG: KCSAN: ' "$1" | grep -E "$REPORTS"
	else
		grep -E "$REPORTS" "$1"
	fi
}

# One line per KCSAN report in the console: ours|other, its first line,
# then each access ("<access> by <task> on cpu <n>: <first frame>"), tab
# separated; "also" when our code is further down a stack.
kcsan_reports() {
	local d p mods=$KCSAN_OURS_MODULES syms=$OUT/kcsan-symbols

	while read -r p; do
		for d in $KCSAN_OURS_DIRS; do
			case $p in "$d"/*) p=${p##*/} p=${p%.o} mods+=" ${p//-/_}" ;; esac
		done
	done <"$KOBJ/modules.order"
	for d in $KCSAN_OURS_DIRS; do
		[ -f "$KOBJ/$d/built-in.a" ] || continue
		nm --defined-only "$KOBJ/$d/built-in.a" 2>/dev/null |
			awk '$2 ~ /^[tTwW]$/ { print $3 }'
	done >"$syms"
	awk -v mods="$mods" -v symfile="$syms" '
		BEGIN {
			n = split(mods, m, " ")
			for (i = 1; i <= n; i++) ourmod[m[i]] = 1
			while ((getline s < symfile) > 0) oursym[s] = 1
		}
		# "f [mod]", "f" (built in), "f+0x1c/0x50 [mod]"
		function ours(item, name, mod) {
			mod = ""
			if (match(item, /\[[^]]+\]/))
				mod = substr(item, RSTART + 1, RLENGTH - 2)
			name = item
			sub(/[ +].*/, "", name)
			return mod != "" ? (mod in ourmod) : (name in oursym)
		}
		function flush() {
			if (title != "")
				printf "%s\t%s\t%s\t%s\t%s\n", cls, title, acc[1], acc[2], also
			title = ""
		}
		{ sub(/\r$/, ""); sub(/^\[ *[0-9.]+\] /, "") }
		/BUG: KCSAN: / {
			flush()
			title = substr($0, index($0, "BUG: KCSAN: "))
			fns = substr(title, 13)
			fns = substr(fns, index(fns, " in ") + 4)
			cls = "other"
			n = split(fns, f, " / ")
			for (i = 1; i <= n; i++)
				if (ours(f[i])) cls = "ours"
			nacc = 0; frame = 0; also = ""; acc[1] = acc[2] = ""
			next
		}
		title == "" { next }
		/^Reported by Kernel Concurrency Sanitizer/ { flush(); next }
		/ to 0x[0-9a-f]+ of [0-9]+ bytes by .* on cpu [0-9]+:$/ {
			sub(/:$/, ""); sub(/ to 0x[0-9a-f]+ of [0-9]+ bytes/, "")
			if (nacc < 2) acc[++nacc] = $0
			frame = 1
			depth = 0
			next
		}
		/^ [^ ]+\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[^]]+\])?$/ {
			if (frame) acc[nacc] = acc[nacc] ": " substr($0, 2)
			frame = 0
			depth++
			# Ours also when our code is one of the first frames of
			# an access: a race through an out-of-line helper
			# (_copy_from_user) is named after the helper.
			if (cls == "other" && depth <= 4 && ours(substr($0, 2)))
				cls = "ours"
			else if (cls == "other" && match($0, /\[[^]]+\]$/) &&
			    (substr($0, RSTART + 1, RLENGTH - 2) in ourmod))
				also = "also"
		}
		END { flush() }' "$CONSOLE"
}

# make check KCSAN=1: every KCSAN report, once per first line with a count;
# ours fail the run (added to why), the others are listed.
kcsan_verdict() {
	local cls title a a1 a2 also n label

	# The guest prints KCSAN's counters after the suite: it was on.
	n=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^mdev-kvm: kcsan: //p')
	case $n in
	*"enabled: 1 "*) echo "  KCSAN counters: $n" ;;
	*) why+=("KCSAN was not enabled in the guest (no counters)") ;;
	esac
	kcsan_reports >"$OUT/kcsan.txt"
	KCSAN_OTHER=$(grep -c '^other' "$OUT/kcsan.txt" || true)
	[ "$KCSAN_OTHER" -gt 0 ] || KCSAN_OTHER=
	n=$(grep -c '^ours' "$OUT/kcsan.txt" || true)
	[ "$n" -gt 0 ] && why+=("$n KCSAN report(s) in our code")
	[ -s "$OUT/kcsan.txt" ] || return 0
	for cls in ours other; do
		label="in our code (they fail the run)"
		[ "$cls" = other ] && label="elsewhere (listed; they do not fail the run)"
		grep -q "^$cls" "$OUT/kcsan.txt" || continue
		echo "  KCSAN reports $label:"
		awk -F '\t' -v OFS='\037' -v c="$cls" '
			$1 != c { next }
			!n[$2]++ { order[++k] = $2; a1[$2] = $3; a2[$2] = $4 }
			$5 != "" { also[$2] = $5 }
			END {
				for (i = 1; i <= k; i++) {
					t = order[i]
					print n[t], t, a1[t], a2[t], also[t]
				}
			}' "$OUT/kcsan.txt" |
		while IFS=$'\037' read -r n title a1 a2 also; do
			[ "$n" -gt 1 ] && title+=" ($n times)"
			printf '    %s\n' "$title"
			for a in "$a1" "$a2"; do
				if [ -n "$a" ]; then printf '      %s\n' "$a"; fi
			done
			if [ -n "$also" ]; then
				printf '      (our code is further down a stack)\n'
			fi
		done
	done
}

# Reads the TAP and the console, prints the verdict, returns its status.
# The TAP is run_kselftest.sh's: one line per program ("ok 3 selftests:
# vfio: mvgpu_test"), each program's own TAP indented by the runner with
# "# " ("# ok 2 mvgpu.group.open_without_vm_fails # SKIP why", "# 1..9");
# the harness's comments are then "# # ...".
verdict() {
	local fail=0 pass=0 failed=0 skipped=0 why=() rfile=$OUT/results.txt results

	# One line per test: pass|fail|skip, its name, the skip's reason.
	tr -d '\r' <"$TAP" | sed -n \
		-e 's/^# ok [0-9]* *\(.*\) # SKIP *\(.*\)/skip\t\1\t\2/p' \
		-e 't' -e 's/^# ok [0-9]* *\(.*\)/pass\t\1\t/p' \
		-e 's/^# not ok [0-9]* *\(.*\)/fail\t\1\t/p' >"$rfile"
	eval "$(awk '
		{ sub(/\r$/, "") }
		/^# 1\.\.[0-9]+$/      { plans += substr($2, 4) }
		/^1\.\.[0-9]+$/        { top = substr($1, 4) }
		/^(not )?ok [0-9]+ /    { ran++; if ($1 == "not") { bad++; print "  " $0 > "/dev/stderr" } }
		/^# mdev-kvm: suite done/ { done = 1 }
		END {
			printf "plans=%d top=%d ran=%d bad=%d done=%d\n",
				plans, top, ran, bad, done
		}' "$TAP" 2>"$OUT/failures.txt" | sed 's/ /;/g')"
	pass=$(grep -c '^pass' "$rfile" || true)
	failed=$(grep -c '^fail' "$rfile" || true)
	skipped=$(grep -c '^skip' "$rfile" || true)
	results=$((pass + failed + skipped))

	sed -n 's/^fail\t\(.*\)\t$/  not ok: \1/p' "$rfile"
	[ -s "$OUT/failures.txt" ] && cat "$OUT/failures.txt"
	# Each skip with its reason (CI=true fails them; check-builtin lists them).
	if [ "$skipped" -gt 0 ]; then
		echo "  skipped:"
		awk -F '\t' '$1 == "skip" { print "    " $2 ": " $3 }' "$rfile"
	fi
	# make check-builtin: SKIPS_OK (a regex of test names) must skip,
	# every one of them, and nothing else may; those do not count.
	if [ -n "${SKIPS_OK:-}" ]; then
		local unexpected missing expected
		unexpected=$(awk -F '\t' '$1 == "skip" { print $2 }' "$rfile" |
			grep -cvE "^($SKIPS_OK)\$" || true)
		expected=$(awk -F '\t' '$1 == "skip" { print $2 }' "$rfile" |
			grep -cE "^($SKIPS_OK)\$" || true)
		missing=$(awk -F '\t' '$1 != "skip" { print $2 }' "$rfile" |
			grep -cE "^($SKIPS_OK)\$" || true)
		[ "$unexpected" -gt 0 ] &&
			why+=("$unexpected test(s) skipped that SKIPS_OK does not expect")
		[ "$missing" -gt 0 ] &&
			why+=("$missing test(s) in SKIPS_OK did not skip")
		[ "$expected" -gt 0 ] || why+=("no test in SKIPS_OK skipped")
		skipped=$((skipped - expected))
	fi
	[ "$failed" -gt 0 ] && why+=("$failed test(s) failed")
	[ "$bad" -gt "$failed" ] && why+=("a test program failed outside its tests")
	[ "$done" = 1 ] || why+=("the guest did not finish the suite")
	[ -f "$OUT/timeout" ] && why+=("guest timeout after ${TIMEOUT}s")
	[ "$top" = "$ran" ] || why+=("TAP plan: $top programs planned, $ran reported")
	[ "$plans" = "$results" ] || why+=("TAP plan: $plans tests planned, $results reported")
	[ $((pass + failed + skipped)) -gt 0 ] || why+=("no test ran${T:+ (no test named $T?)}")
	if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
		why+=("$skipped test(s) skipped, and CI requires every test")
	fi
	if [ "$FLAVOR" != bench ] && ! grep -q '^mdev-kvm: kmemleak: end' "$CONSOLE"; then
		why+=("no kmemleak scan in the guest log")
	fi
	if report_lines "$CONSOLE" >/dev/null; then
		why+=("kernel report(s) in the guest log")
		echo "  kernel reports (first lines):"
		{ report_lines "$CONSOLE" || true; } | sed -n '1,12s/^/    /p'
	fi
	[ "$FLAVOR" = kcsan ] && kcsan_verdict

	if [ ${#why[@]} -gt 0 ]; then
		fail=1
		echo "FAIL: $(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"
		echo "  console: $CONSOLE"
		echo "  TAP:     $TAP"
	else
		echo "PASS: every test passed; no kernel report in the guest log${KCSAN_OTHER:+ but the $KCSAN_OTHER KCSAN report(s) elsewhere listed above}"
	fi
	printf '%d passed, %d failed, %d skipped\n' "$pass" "$failed" "$skipped"
	return $fail
}

# --- vmtest.sh bench (make bench, scripts/bench.sh) -------------------------
# Boots the benchmark kernel, whose init runs selftests/mdev_bench, and
# keeps its table and CSV as build/bench/<label>.txt and .csv. Passes when
# the program completed and the guest log holds no kernel report: the
# figures are reported, not judged. scripts/bench.sh sets BENCH_LABEL
# (ours, upstream), BENCH_TESTS (the program) and BENCH_MODULES (the
# modules built against this kernel).

# Prints the benchmark's progress lines as the guest writes them.
bench_follow() {
	local pid=$1 seen=0 start lines

	start=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		lines=$(wc -l <"$TAP" 2>/dev/null || echo 0)
		if [ "$lines" -gt "$seen" ]; then
			sed -n "$((seen + 1)),${lines}p" "$TAP" | tr -d '\r' |
				grep -E '^# (mdev_bench|cycle|threads|lifecycle|vm-life):' |
				sed 's/^/         /' || true
			seen=$lines
		fi
		if [ $(($(date +%s) - start)) -ge "$TIMEOUT" ]; then
			echo timeout >"$OUT/timeout"
			kill "$pid" 2>/dev/null || true
			break
		fi
	done
}

# What the guest printed between "# mdev-kvm: $1 begin" and "... end".
bench_section() {
	tr -d '\r' <"$TAP" |
		sed -n "/^# mdev-kvm: $1 begin\$/,/^# mdev-kvm: $1 end\$/p" |
		sed '1d;$d'
}

bench_main() {
	local label=${BENCH_LABEL:?} rc why=()
	local csv=$TOP/build/bench/$label.csv txt=$TOP/build/bench/$label.txt

	OUT=$TOP/build/bench/$label
	: "${BENCH_TESTS:?}"
	MODULE_DIRS=("${BENCH_MODULES:?}")
	CONSOLE=$OUT/console.log
	TAP=$OUT/bench.log
	mkdir -p "$OUT"
	rm -f "$CONSOLE" "$TAP" "$OUT/timeout" "$csv" "$txt"
	stage "building the initramfs"
	build_initramfs
	qemu_cmd
	stage "booting $RELEASE under QEMU TCG: the benchmark, $label kernel${BENCH:+ ($BENCH)}"
	: >"$TAP"
	"${QEMU[@]}" >"$OUT/qemu.log" 2>&1 &
	bench_follow $!
	wait || true
	stage "guest done; verdict"
	bench_section table >"$txt"
	bench_section csv >"$csv"
	[ -s "$txt" ] && cat "$txt"
	rc=$(tr -d '\r' <"$TAP" | sed -n 's/^# mdev-kvm: bench exit //p')
	[ "$rc" = 0 ] || why+=("mdev_bench did not complete (exit ${rc:-none})")
	grep -q '^# mdev-kvm: bench done' "$TAP" ||
		why+=("the guest did not finish the benchmark")
	[ -f "$OUT/timeout" ] && why+=("guest timeout after ${TIMEOUT}s")
	[ -s "$csv" ] || why+=("no CSV from the guest")
	if grep -Eq "$REPORTS" "$CONSOLE"; then
		why+=("kernel report(s) in the guest log")
		echo "  kernel reports (first lines):"
		{ grep -E "$REPORTS" "$CONSOLE" || true; } | sed -n '1,12s/^/    /p'
	fi
	if [ ${#why[@]} -gt 0 ]; then
		echo "FAIL: $(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"
		echo "  console: $CONSOLE"
		echo "  output:  $TAP"
		return 1
	fi
	echo "PASS: the benchmark completed; no kernel report in the guest log"
	echo "  table: $txt"
	echo "  CSV:   $csv"
}

if [ "$MODE" = bench ]; then
	bench_main
	exit
fi

mkdir -p "$OUT"
rm -f "$CONSOLE" "$TAP" "$OUT/timeout"
stage "building the initramfs"
build_initramfs
qemu_cmd
if [ "$MODE" = run ] && [ "${RUN:-}" = demo ]; then
	stage "booting $RELEASE: the demo (guest/demo.sh), then power off"
	rm -f "$OUT/demo.log"
	timeout "$TIMEOUT" "${QEMU[@]}" </dev/null || true
	stage "guest done; verdict"
	# The demo on ttyS0 (demo.log), the kernel's log on ttyS1.
	if grep -Eq "$REPORTS" "$CONSOLE"; then
		grep -E "$REPORTS" "$CONSOLE" | sed -n '1,12s/^/    /p'
		die "kernel report(s) in the guest log: $CONSOLE"
	fi
	tr -d '\r' <"$OUT/demo.log" | grep -q '^mdev-kvm: demo: done' ||
		die "the demo did not finish (its log: $OUT/demo.log; the kernel's: $CONSOLE)"
	echo "PASS: the demo ran to the end; no kernel report in the guest log"
	exit 0
elif [ "$MODE" = run ]; then
	stage "booting $RELEASE: the demo, then a shell on this console" \
		"(exit it to power off)"
	exec "${QEMU[@]}"
fi
stage "booting $RELEASE under QEMU TCG (-cpu max: SVM for KVM in the guest)${T:+, only $T}${SELFCHECK:+, SELFCHECK=$SELFCHECK}"
: >"$TAP"
"${QEMU[@]}" >"$OUT/qemu.log" 2>&1 &
follow $!
wait || true
stage "guest done; verdict"
verdict
