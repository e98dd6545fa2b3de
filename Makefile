# SPDX-License-Identifier: GPL-2.0
#
# mdev-kvm: the one entry point. `make run` boots our kernel to a shell,
# `make check` builds everything and runs the suite in a QEMU guest. See
# README.md.

SHELL := /bin/bash
TOP := $(CURDIR)

# The kernel object directory the samples and tests build against;
# scripts/kernel.sh links build/obj-debug to it. Override to build the
# samples against another configured and built kernel tree.
KDIR ?= $(TOP)/build/obj-debug

export T SELFCHECK TIMEOUT CI FORCE STRESS RUN FUZZ
# One clock for every stage's "[elapsed]" prefix.
export MDEV_KVM_T0 := $(shell date +%s)

.PHONY: all deps kernel patches samples selftests check stress run lint \
	compile-test series-build docs clean distclean help

all: check

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## deps        install the Debian packages the project needs (apt)
deps:
	@scripts/deps.sh

## kernel      unpack linux-source-6.12, apply core/ + kvm-bridge/, build
kernel: deps
	@scripts/kernel.sh

## patches     export the kernel tree's commits to core/ and kvm-bridge/
patches: deps
	@scripts/patches.sh

## samples     build mdev-samples/ with kbuild (warnings are errors)
samples: kernel
	@scripts/samples.sh "$(KDIR)"

## selftests   build the kselftest target selftests/ and install it as a
##             fleet would (build/ksft/kselftest: run_kselftest.sh, vfio/)
selftests: kernel
	@source scripts/common.sh && stage "building the selftests (kselftest install)"
	@scripts/ksft.sh "$(KDIR)" "$(TOP)/selftests" "$(TOP)/build/ksft"

## check       everything, then the suite in a QEMU guest: one verdict
##             (T=<test> runs one test; SELFCHECK=fail|warn|... must fail;
##             KCSAN=1: a kernel with KCSAN instead of KASAN, the race
##             tests and the fuzzer; a data race in our code fails)
ifeq ($(KCSAN),1)
check: deps
	@scripts/flavor.sh kcsan
else
check: samples selftests
	@selftests/vmtest.sh check
endif

## check-builtin  the suite on a kernel with KVM and KVM_AMD built in (not
##             part of check): what needs KVM's modules skips, and the
##             verdict lists each skip with its reason (build/builtin/)
check-builtin: deps
	@scripts/flavor.sh builtin

## check-intree  the series as a reviewer takes it (not part of check):
##             git am on the pristine linux-source-6.12 in a tree of its
##             own, the in-tree samples and tools/testing/selftests/vfio
##             built there, the suite booted from them (build/intree/)
check-intree: deps
	@scripts/flavor.sh intree

.PHONY: check-builtin check-intree

## stress      make check with a longer soak: STRESS=<s> seconds per race
##             scenario (default 30; make check runs 1.5 s)
stress: samples selftests
	@STRESS=$${STRESS:-30} TIMEOUT=$${TIMEOUT:-7200} selftests/vmtest.sh check

## fuzz        the stateful fuzzer (selftests/fuzz_test.c) alone, 60 s per
##             subject: FUZZ=seed=<n>,steps=<n>,seconds=<s> (any subset;
##             a failure prints the FUZZ= that replays it; make check runs
##             9 s); T=fuzz.<subject>.<test> runs one subject
fuzz: samples selftests
	@f="$(FUZZ)"; \
	[[ $$f == *seconds=* ]] || f="$${f:+$$f,}seconds=60"; \
	[[ $$f == *steps=* ]] || f="$$f,steps=1000000"; \
	s=$$(sed -n 's/.*seconds=\([0-9a-fA-Fx]*\).*/\1/p' <<<"$$f"); \
	FUZZ=$$f T=$${T:-fuzz_test} \
		TIMEOUT=$${TIMEOUT:-$$((900 + 6 * (s + 90)))} \
		selftests/vmtest.sh check

.PHONY: fuzz

## bench       measure the KVM pin and the mdev lifecycle on a kernel
##             without debug options, in a guest (not part of check):
##             table and CSV in build/bench/ (BASE=upstream: the same on
##             the pristine kernel; BENCH=rounds=5,... program options)
bench: deps
	@BASE="$(BASE)" BENCH="$(BENCH)" scripts/bench.sh

## bench-compare  ours / upstream from the last make bench of each
bench-compare:
	@scripts/bench-compare.sh

.PHONY: bench bench-compare

## run         boot the test kernel, show the KVM pin with mdevctl and
##             QEMU (the demo), then a shell; RUN=demo: the demo alone
run: samples selftests
	@selftests/vmtest.sh run

## lint        checkpatch --strict over the series, samples and tests
lint: kernel
	@scripts/lint.sh

## docs        build docs/ with Sphinx into build/docs/html (warnings are
##             errors; the API reference comes from the patched kernel tree)
docs: kernel
	@scripts/docs.sh

## compile-test  build the in-tree users: kvmgt (x86), vfio_ap and zdev
##             (s390, cross compiler), each with KVM=y and KVM=m,
##             warnings as errors
compile-test: kernel
	@scripts/compile-test.sh

## series-build  build every patch of the series on its own (compile-test
##             configs and the test kernel's VFIO and KVM modules)
series-build: kernel
	@SERIES=1 scripts/compile-test.sh

## clean       remove what this clone built (the kernel cache stays)
clean:
	-@[ -d "$(KDIR)" ] && for d in mdev-samples selftests/drivers \
		selftests/selfcheck; do \
		$(MAKE) -s -C "$(KDIR)" M=$(TOP)/$$d clean; done
	rm -rf build

## distclean   clean, and drop the kernel cache (/var/cache/mdev-kvm)
distclean: clean
	@source scripts/common.sh && echo "rm -rf $$CACHE" && rm -rf "$$CACHE"
