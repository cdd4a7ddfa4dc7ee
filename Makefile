# tlbench — build, test, sanitizer, cross and benchmark targets.
#
#   make                 build build/tlbench
#   make deps            install the Debian packages the project uses (root or sudo)
#   make test            build and run every test; ends with "N passed, N failed, N skipped"
#   make sanitize        the same tests built with AddressSanitizer + UBSan (build-san/)
#   make CROSS=aarch64-linux-gnu-   cross build for Arm boards (build-aarch64/)
#
# Sources are found by wildcard: adding a kernel, a subcommand or a test only adds a file.
# Everything builds for the baseline ISA so one binary runs on any CPU of its architecture;
# a kernel file names the instructions it needs itself (kernels/isa-target.h, or a target
# attribute as neon.c's dotprod functions) and uses them only after its probe said yes.

# `make deps X...` installs the packages and then builds X in a second make: the library probes
# below run when this file is parsed, so in the first make they saw the machine before deps.
# The sub-make gets the same variables (MAKEFLAGS) and probes the machine as deps left it.
GOALS_AFTER_DEPS := $(filter-out deps,$(MAKECMDGOALS))
ifneq ($(and $(filter deps,$(MAKECMDGOALS)),$(GOALS_AFTER_DEPS)),)
.PHONY: deps $(GOALS_AFTER_DEPS)
deps:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory $(GOALS_AFTER_DEPS)
$(GOALS_AFTER_DEPS): deps
	@:
else

CROSS   ?=
CC      := $(CROSS)gcc
MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
ARCH    := $(if $(findstring x86_64,$(MACHINE)),x86_64,$(if $(findstring aarch64,$(MACHINE)),aarch64,other))
BUILD   ?= $(if $(CROSS),build-$(ARCH),build)

OPT      ?= -O3
CFLAGS   ?= $(OPT) -g
CPPFLAGS += -D_GNU_SOURCE
WARN      = -std=c11 -Wall -Wextra -Wno-unused-parameter
LDLIBS   += -lm -lpthread -ldl

# ---- optional libraries: probed by compiling, so the build degrades with a clear note ----
HASH := \#
have_header = $(shell printf '$(HASH)include <$(1)>\nint main(void){return 0;}\n' | \
              $(CC) $(CPPFLAGS) -x c - -o /dev/null $(2) >/dev/null 2>&1 && echo 1)
HAVE_CSV   := $(call have_header,csv.h,-lcsv)
HAVE_PAPI  := $(call have_header,papi.h,-lpapi)
HAVE_CJSON := $(call have_header,cjson/cJSON.h,-lcjson)

ifeq ($(HAVE_CSV),1)
LDLIBS   += -lcsv
CPPFLAGS += -DTLB_HAVE_CSV=1
endif
ifeq ($(HAVE_PAPI),1)
LDLIBS   += -lpapi
CPPFLAGS += -DTLB_HAVE_PAPI=1
endif
ifeq ($(HAVE_CJSON),1)
LDLIBS   += -lcjson
CPPFLAGS += -DTLB_HAVE_CJSON=1
endif

GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
CPPFLAGS   += -DTLB_BUILD_COMMIT='"$(GIT_COMMIT)"' -DTLB_CFLAGS='"$(CFLAGS)"' \
              -DTLB_COMPILER='"$(shell $(CC) --version 2>/dev/null | head -1)"'

# ---- sources, and the layers they may include ----
# Each folder sees only its own headers and those of the layers below it, so an include that
# reaches upward (kernels -> engine, report -> sweep) does not compile:
#   base <- kernels <- engine <- harness/{results,sensors} <- harness/{sweep,report} <- harness/cli
SRC_DIRS := base kernels engine harness/results harness/sensors harness/sweep harness/report \
            harness/cli
INC_base             := base
INC_kernels          := $(INC_base) kernels
INC_engine           := $(INC_kernels) engine
INC_harness/results  := $(INC_engine) harness/results
INC_harness/sensors  := $(INC_engine) harness/sensors
INC_harness/sweep    := $(INC_engine) harness/results harness/sensors harness/sweep
INC_harness/report   := $(INC_engine) harness/results harness/sensors harness/report
INC_harness/cli      := $(SRC_DIRS)
$(foreach d,$(SRC_DIRS),$(eval $(BUILD)/obj/$(d)/%.o: LAYER_INC = $(addprefix -I,$(INC_$(d)))))
TEST_INC := $(addprefix -I,$(SRC_DIRS))

LIB_SRCS  := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
LIB_SRCS  := $(filter-out harness/cli/main.c,$(LIB_SRCS))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(wildcard tests/test-*.c)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

# ---- cross builds and the qemu test path (owner: blas/neon) ----
# `make CROSS=aarch64-linux-gnu-` builds tlbench for Raspberry Pi 5 / Jetson into
# build-aarch64/. Linking tlbench needs the target's libcsv (Debian multiarch: `make deps`
# adds the arm64 architecture and libcsv-dev:arm64). Without it the cross build is
# KERNEL_ONLY: engine/ and kernels/ plus the kernel tests (what tests/t-neon-qemu.sh runs under
# qemu-aarch64), and it says so. KERNEL_ONLY=1 forces that mode (faster, for the qemu tests).
KERNEL_TESTS := $(wildcard tests/test-kernels.c tests/test-neon.c)
ifneq ($(CROSS),)
ifneq ($(HAVE_CSV),1)
KERNEL_ONLY := 1
endif
endif
ALL_TARGETS := $(BUILD)/tlbench
ifeq ($(KERNEL_ONLY),1)
LIB_SRCS    := $(wildcard base/*.c kernels/*.c engine/*.c)
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS   := $(KERNEL_TESTS)
TEST_BINS   := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
ALL_TARGETS := $(TEST_BINS)
endif

.PHONY: all test sanitize clean deps bench check-deps
all: check-deps $(ALL_TARGETS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(LAYER_INC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libtlbench.a: $(LIB_OBJS)
	@rm -f $@
	$(CROSS)ar rcs $@ $^

$(BUILD)/tlbench: $(BUILD)/obj/harness/cli/main.o $(BUILD)/libtlbench.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/test.h $(BUILD)/libtlbench.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(TEST_INC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(BUILD)/libtlbench.a $(LDLIBS)

tests: $(TEST_BINS) $(ALL_TARGETS)

# Run every test; TEST=name runs only tests whose binary/script name contains it.
test: check-deps tests
	@tests/run-tests.sh $(BUILD) $(TEST)

# AddressSanitizer + UndefinedBehaviorSanitizer build of the same tests.
sanitize:
	$(MAKE) BUILD=build-san OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" test

check-deps:
	@if [ "$(KERNEL_ONLY)" = 1 ]; then \
	  echo "note: $(ARCH) build without libcsv for $(ARCH): engine, kernels and kernel tests only, no tlbench (Debian: 'make deps' installs libcsv-dev:arm64)" >&2; \
	elif [ "$(HAVE_CSV)" != 1 ]; then \
	  echo "tlbench: libcsv is required (Debian: libcsv-dev); run 'make deps'" >&2; exit 1; fi
	@[ "$(HAVE_PAPI)" = 1 ] || echo "note: PAPI not found (libpapi-dev): counters disabled" >&2
	@[ "$(HAVE_CJSON)" = 1 ] || echo "note: cJSON not found (libcjson-dev): safetensors disabled" >&2

deps:
	@scripts/install-deps.sh

# The main job (README command 1): the default sweep of the platform profile detected for
# this machine (platforms/*.conf) on synthetic:tinyllama-1.1b. Rows go to
# results/<board>-<YYYYMMDD>.csv as each configuration ends; the path is printed at the end.
# SWEEP_ARGS adds options, e.g. make bench SWEEP_ARGS="--resume" after an interruption.
# Then `tlbench report` turns that CSV into charts and a summary page in
# reports/out/<board>-<YYYYMMDD>/ (REPORT_ARGS adds options, e.g. --price rpi5=80), and the
# path of summary.html is printed last. A failed configuration still gets its report (the
# failure is in it), but make exits non-zero.
bench: all
	@rc=0; $(BUILD)/tlbench sweep $(SWEEP_ARGS) >$(BUILD)/bench-sweep.out || rc=$$?; \
	cat $(BUILD)/bench-sweep.out; \
	csv=$$(sed -n 's/^results: \(.*\.csv\).*/\1/p' $(BUILD)/bench-sweep.out | tail -1); \
	if [ -z "$$csv" ] || [ ! -s "$$csv" ]; then echo "bench: no results file to report on" >&2; exit 1; fi; \
	dir=reports/out/$$(basename "$$csv" .csv); \
	$(BUILD)/tlbench report "$$csv" -o "$$dir" $(REPORT_ARGS) || rc=$$?; \
	echo "summary: $$dir/summary.html"; exit $$rc

# Cross/qemu (owner: blas/neon): the kernel test binaries alone, e.g.
#   make CROSS=aarch64-linux-gnu- KERNEL_ONLY=1 BUILD=build-aarch64 kernel-tests
.PHONY: kernel-tests
kernel-tests: $(KERNEL_TESTS:tests/%.c=$(BUILD)/tests/%)

clean:
	rm -rf build build-san build-aarch64 build-x86_64 build-fuzz

-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/harness/cli/main.d $(TEST_BINS:=.d)

# ---- fuzzing (owner: gguf): libFuzzer targets tests/fuzz/fuzz-<parser>.c, built with clang ----
#   make fuzz FUZZ_SECONDS=60   build every target and run each for FUZZ_SECONDS
#   make fuzz-smoke             each target ~10 s (CI-sized)
# Seeds are tests/fuzz/corpus/<parser>/ (read only); new inputs go to $(FUZZ_BUILD)/corpus/,
# crashes to $(FUZZ_BUILD)/crash-<parser>-*. A finding fails the target.
FUZZ_CC      ?= clang-14
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_SAN     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT=-O1 \
	  CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libtlbench.a
	@for t in $(FUZZ_NAMES); do \
	  echo "$(FUZZ_CC) ... -o $(FUZZ_BUILD)/fuzz-$$t"; \
	  $(FUZZ_CC) $(CPPFLAGS) $(TEST_INC) $(FUZZ_SAN) -fsanitize=fuzzer tests/fuzz/fuzz-$$t.c \
	    $(FUZZ_BUILD)/libtlbench.a $(LDLIBS) -o $(FUZZ_BUILD)/fuzz-$$t || exit 1; done
fuzz: fuzz-build
	@for t in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  echo "fuzz-$$t: $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/fuzz-$$t.log \
	    || { tail -40 $(FUZZ_BUILD)/fuzz-$$t.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_BUILD)/fuzz-$$t.log; done
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

endif # GOALS_AFTER_DEPS
