# SPDX-License-Identifier: GPL-2.0
#
# Build, boot and test the IMA log snapshot series on Debian's 6.12 kernel.
#
#   make demo          the main job: boot the patched kernel with swtpm and
#                      show what the feature does
#   make check         checkpatch, then 'make test' on the default, off and
#                      debug kernels (what CI runs)
#   make test          build what is stale, boot, run the IMA selftests
#   make bench         benchmarks: snapshot costs at BENCH_SIZES records
#   make stress        the stress test alone, STRESS_SECONDS long (debug)
#   make series        git format-patch of the series into out/series/
#   make checkpatch    scripts/checkpatch.pl --strict over every patch
#   make bisect        build every patch of the series, option on and off
#   make docs          Sphinx on Documentation/security, ABI validation
#   make kernel        apply the series and build bzImage only
#   make deps          apt-get install what all of this needs
#
# CONFIG=default|off|debug|bench picks the kernel variant (one build
# directory each): default has CONFIG_IMA_LOG_SNAPSHOT=y, off is the same
# kernel without it, debug adds KASAN, KFENCE, lockdep, PROVE_RCU,
# kmemleak, ..., bench adds CONFIG_IMA_LOG_SNAPSHOT_STATS.
#
# Build trees are cached outside the clone, keyed by the Debian version of
# linux-source-6.12 (CACHE=/var/cache/ima-snapshot by default), so a fresh
# clone rebuilds incrementally.

CONFIG ?= default
CACHE ?= /var/cache/ima-snapshot
JOBS ?= $(shell nproc)
QEMU_TIMEOUT ?= 1800

REPO := $(CURDIR)
comma := ,
space := $(subst ,, )
SHELL := /bin/bash
DEB_PKGS := linux-source-6.12 qemu-system-x86 swtpm swtpm-tools \
	busybox-static cpio kexec-tools tpm2-tools libtss2-dev ima-evm-utils \
	flex bison bc libelf-dev libssl-dev xz-utils git make gcc libc6-dev \
	perl python3 python3-ply python3-git python3-sphinx python3-yaml rsync \
	e2fsprogs gnuplot-nox

# The Debian version of linux-source-6.12 names the cache directory.  On a
# fresh machine it is not installed yet when this file is read, and rule
# targets below are expanded as they are read: install the dependencies
# first, then read the version.
kver = $(shell dpkg-query -W -f='$${Version}' linux-source-6.12 2>/dev/null | tr '~' '_')
NODEPS_GOALS := deps help clean distclean
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(kver),)
$(info   DEPS    linux-source-6.12 is not installed: installing the dependencies first)
deps_rc := $(shell $(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) deps >&2; echo $$?)
ifneq ($(deps_rc),0)
$(error 'make deps' failed ($(deps_rc)))
endif
endif
endif
KVER := $(kver)
TOP = $(CACHE)/$(KVER)
SRC = $(TOP)/src
BUILD = $(TOP)/build-$(CONFIG)
OUT = $(REPO)/out/$(CONFIG)
BZIMAGE = $(BUILD)/arch/x86/boot/bzImage

FRAGMENTS_default := configs/base.config configs/on.config
FRAGMENTS_off := configs/base.config configs/off.config
FRAGMENTS_debug := configs/base.config configs/on.config configs/debug.config
FRAGMENTS_bench := configs/base.config configs/on.config configs/bench.config
FRAGMENTS = $(FRAGMENTS_$(CONFIG))

# Everything the series is made of: a change re-applies it.
SERIES_INPUTS = $(shell find patches security Documentation tools -type f 2>/dev/null | sort)

.PHONY: all deps kernel selftests initramfs test demo series checkpatch check bench stress bisect docs \
	clean distclean check-config help
.DELETE_ON_ERROR:

all: test

help:
	@sed -n '3,23p' Makefile | sed 's/^# \{0,1\}//'

check-config:
	@test -n "$(FRAGMENTS)" || { echo "CONFIG=$(CONFIG): use default, off, debug or bench" >&2; exit 1; }

# --- dependencies -----------------------------------------------------------

deps:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(DEB_PKGS) 2>/dev/null | \
		awk '$$1 == "ii" { print $$2 }' | sort | comm -13 - <(tr ' ' '\n' <<< "$(DEB_PKGS)" | sort)); \
	if [ -n "$$missing" ]; then \
		echo "  APT     $$missing"; \
		apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	fi

# --- kernel -----------------------------------------------------------------

$(SRC)/.git/series-applied: $(SERIES_INPUTS) | deps
	@scripts/prepare-source.sh $(SRC)
	@scripts/apply-series.sh $(REPO) $(SRC)
	@touch $@

kernel: check-config deps $(SRC)/.git/series-applied
	@scripts/kconfig.sh $(SRC) $(BUILD) $(FRAGMENTS)
	@echo "  MAKE    bzImage ($(CONFIG), $(BUILD))"
	@$(MAKE) -s -C $(SRC) O=$(BUILD) ARCH=x86_64 -j$(JOBS) bzImage
	@ls -l $(BZIMAGE) | awk '{ printf "  KERNEL  %s (%d bytes)\n", $$9, $$5 }'

# --- guest ------------------------------------------------------------------

SELFTESTS = $(TOP)/selftests

selftests: deps $(SRC)/.git/series-applied
	@mkdir -p $(SELFTESTS)/build
	@rm -rf $(SELFTESTS)/install
	@$(MAKE) -s -C $(SRC)/tools/testing/selftests/ima OUTPUT=$(SELFTESTS)/build
	@$(MAKE) -s -C $(SRC)/tools/testing/selftests/ima OUTPUT=$(SELFTESTS)/build \
		INSTALL_PATH=$(SELFTESTS)/install install
	@$(MAKE) -s -C $(SRC)/tools/testing/selftests/ima OUTPUT=$(SELFTESTS)/build \
		emit_tests | sed 's/^[^:]*://' > $(SELFTESTS)/install/tests

initramfs: selftests
	@mkdir -p $(OUT)
	@scripts/mkinitramfs.sh $(REPO) $(SELFTESTS)/install $(OUT)/initramfs.cpio.gz

# --- running ----------------------------------------------------------------

BOOT_ARGS = imatest.tpm=required imatest.config=$(CONFIG) ima_policy=tcb \
	$(if $(TESTS),imatest.tests=$(subst $(space),$(comma),$(strip $(TESTS))))

# The kexec test boots from a data disk holding this kernel (boot/self)
# and, to cross into it and back, the feature-off kernel (boot/off).
OFF_BZIMAGE = $(TOP)/build-off/arch/x86/boot/bzImage

test: kernel initramfs
	@if [ "$(CONFIG)" != off ]; then $(MAKE) -s kernel CONFIG=off; fi
	@rm -rf $(OUT)/data && mkdir -p $(OUT)/data/boot
	@cp $(BZIMAGE) $(OUT)/data/boot/self
	@if [ "$(CONFIG)" != off ]; then cp $(OFF_BZIMAGE) $(OUT)/data/boot/off; fi
	@echo "  BOOT    $(CONFIG) kernel in QEMU with swtpm, running the IMA selftests"
	@rc=0; scripts/qemu-run.sh --kernel $(BZIMAGE) --initrd $(OUT)/initramfs.cpio.gz \
		--out $(OUT)/test --mode test --timeout $(QEMU_TIMEOUT) \
		--data-dir $(OUT)/data --append "$(BOOT_ARGS) $(STRESS_ARGS)" || rc=$$?; \
	scripts/report.sh $(OUT)/test $$rc

demo: kernel initramfs
	@rm -rf $(OUT)/demo-data && mkdir -p $(OUT)/demo-data/boot
	@cp $(BZIMAGE) $(OUT)/demo-data/boot/self
	@echo "  BOOT    $(CONFIG) kernel in QEMU with swtpm"
	@rc=0; scripts/qemu-run.sh --kernel $(BZIMAGE) --initrd $(OUT)/initramfs.cpio.gz \
		--out $(OUT)/demo --mode demo --timeout $(QEMU_TIMEOUT) \
		--data-dir $(OUT)/demo-data --append "$(BOOT_ARGS)" || rc=$$?; \
	cat $(OUT)/demo/results/demo.txt 2>/dev/null; \
	exit $$rc

check:
	@scripts/check.sh

# 'make bench' runs the benchmark phases of guest/bench.sh, one boot each
# (the bench kernel with swtpm, the feature-off kernel, all 24 PCRs, no
# TPM for the largest lists), times the verifier on the host, and writes
# out/bench/bench.txt, the CSV files and out/bench/bench.png.
BENCH_SIZES ?= 1000 10000
BENCH_BIG_SIZES ?= 1000 10000 100000 1000000
BENCH_READ ?= 100000
BENCH_PIECES ?= 1 10 20 100
BENCH_PHASES ?= tpm off allpcrs big read hotpath verify

bench:
	@$(MAKE) -s kernel initramfs CONFIG=bench
	@$(MAKE) -s kernel CONFIG=off
	@BENCH_SIZES="$(BENCH_SIZES)" BENCH_BIG_SIZES="$(BENCH_BIG_SIZES)" \
		BENCH_READ="$(BENCH_READ)" BENCH_PIECES="$(BENCH_PIECES)" \
		BENCH_PHASES="$(BENCH_PHASES)" scripts/bench.sh $(REPO)/out/bench \
		$(TOP)/build-bench/arch/x86/boot/bzImage $(OFF_BZIMAGE) \
		$(REPO)/out/bench/initramfs.cpio.gz $(SELFTESTS)/install

# 'make stress' runs only the stress test, for STRESS_SECONDS, on the
# debug kernel unless CONFIG says otherwise ('make test' runs it for 20 s).
STRESS_SECONDS ?= 600

stress:
	@$(MAKE) -s test CONFIG=$(if $(filter command line,$(origin CONFIG)),$(CONFIG),debug) \
		TESTS=ima_stress_test QEMU_TIMEOUT=$$(($(STRESS_SECONDS) * 3 + 900)) \
		STRESS_ARGS="imatest.stress_seconds=$(STRESS_SECONDS) imatest.timeout=$$(($(STRESS_SECONDS) * 3 + 600))"

# --- the series as mail -----------------------------------------------------

series: deps $(SRC)/.git/series-applied
	@scripts/mkseries.sh $(REPO) $(SRC) $(REPO)/out/series

checkpatch: series
	@scripts/checkpatch.sh $(SRC) $(REPO)/out/series

# The documentation builds with the kernel's Sphinx setup, without warnings.
docs: deps $(SRC)/.git/series-applied
	@scripts/docs.sh $(SRC) $(TOP)/build-docs

# Every patch builds, with the option on and off (bisectability).
bisect: deps $(SRC)/.git/series-applied
	@$(MAKE) -s kernel CONFIG=default
	@$(MAKE) -s kernel CONFIG=off
	@scripts/bisect-build.sh $(SRC) $(TOP)/build-default $(TOP)/build-off
	@$(MAKE) -s kernel CONFIG=default
	@$(MAKE) -s kernel CONFIG=off

clean:
	rm -rf out

distclean: clean
	rm -rf $(TOP)
