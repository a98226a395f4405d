# sockscope: one Makefile for everything.
#
#   make          build the library, the lessons and the tests
#   make run      build, then start the lessons (step mode)
#   make test     install what is missing, build, and run every test,
#                 plain and under AddressSanitizer + UBSan
#   make bench    measure the interposer's cost (and the other benchmarks)
#   make fuzz     run the fuzz targets for a while
#   make clean
#
# Variables: BUILD (objects), BIN (programs), SAN=1 (sanitizer build).
# `make test` builds a second tree with BUILD=build/asan BIN=build/asan/bin
# SAN=1 by calling this same Makefile.

CC ?= gcc
BUILD ?= build
BIN ?= bin
SAN ?=
PYTHON ?= /usr/bin/python3

# Quiet by default: one line a target; `make V=1` shows each command.
V ?=
Q := $(if $(V),,@)
say = $(if $(V),,@echo "  $(1)	$(2)")

OPT := -O2
ifeq ($(SAN),1)
OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

CFLAGS ?=
WARN := -Wall -Wextra -Werror=implicit-function-declaration
BASE_CFLAGS := -std=gnu17 -D_GNU_SOURCE -g $(OPT) $(WARN) -fPIC -fvisibility=hidden \
               -Icommon -MMD -MP $(CFLAGS)
LDFLAGS ?=
BASE_LDFLAGS := $(filter -fsanitize=%,$(OPT)) $(LDFLAGS)
LIBS := -lreadline -ljansson -lcjson -lcrypto -lpcap -lncursesw -ldl

# The calls the interposer wraps (common/wrap.c), for GNU ld's --wrap.
WRAPPED := socket socketpair bind listen accept accept4 connect send sendto sendmsg \
           recv recvfrom recvmsg read write shutdown close setsockopt getsockopt poll \
           select epoll_wait fork waitpid wait sleep nanosleep usleep clock_nanosleep \
           pause sigsuspend prctl
WRAP_LDFLAGS := $(foreach f,$(WRAPPED),-Wl,--wrap=$(f))

# --- the library -----------------------------------------------------------
COMMON_SRC := $(filter-out common/wrap_real.c,$(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libsockscope.a
PRELOAD := $(BUILD)/libsockscope-preload.so

# --- lessons: lessons/NN-topic.c -> $(BIN)/NN-topic ---------------------------
LESSON_SRC := $(wildcard lessons/[0-9][0-9]-*.c)
LESSONS := $(LESSON_SRC:lessons/%.c=$(BIN)/%)
# Lessons and labs name the line of each call for step mode (common/srcpos.h).
SRCPOS := -include common/srcpos.h

# --- tests: tests/unit/test_NAME.c -> $(BUILD)/tests/test_NAME ----------------
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# --- benchmarks and tools used by tests: tools/NAME.c -> $(BUILD)/tools/NAME ---
BENCH_SRC := $(wildcard bench/*.c)
TOOLS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(wildcard tools/*.c))

PROGRAMS := $(LESSONS) $(UNITS) $(PRELOAD) $(TOOLS)

# Each area of the project (the viewer, WebSocket, benchmarks...) may add
# its programs and rules in a fragment of this Makefile: mk/AREA.mk. A
# fragment appends to EXTRA_PROGRAMS, TEST_PREREQS, BENCH_PREREQS,
# FUZZ_TARGETS.
EXTRA_PROGRAMS :=
TEST_PREREQS :=
BENCH_PREREQS :=
FUZZ_TARGETS :=
include $(wildcard mk/*.mk)

.PHONY: all deps run test integration bench fuzz clean asan
.DEFAULT_GOAL := all

all: deps $(PROGRAMS) $(EXTRA_PROGRAMS)

# Install missing build packages (once; again when the list changes).
deps: $(BUILD)/.deps-build
$(BUILD)/.deps-build: scripts/deps.sh $(wildcard scripts/packages/build*.txt)
	@mkdir -p $(@D)
	@scripts/deps.sh build
	@touch $@
$(BUILD)/.deps-test: scripts/deps.sh $(wildcard scripts/packages/*.txt)
	@mkdir -p $(@D)
	@scripts/deps.sh test
	@touch $@

$(BUILD)/common/step.o: BASE_CFLAGS += -DSOCKSCOPE_SRCDIR='"$(CURDIR)"'

$(BUILD)/%.o: %.c | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) -c $< -o $@

$(BUILD)/lessons/%.o: lessons/%.c | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) $(SRCPOS) -c $< -o $@

$(BUILD)/common/wrap-preload.o: common/wrap.c | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) -DSOCKSCOPE_PRELOAD -c $< -o $@

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(PRELOAD): $(filter-out $(BUILD)/common/wrap.o,$(COMMON_OBJ)) $(BUILD)/common/wrap-preload.o \
            $(BUILD)/common/wrap_real.o
	$(call say,LD,$@)
	$(Q)$(CC) -shared $(BASE_LDFLAGS) -Wl,-z,defs $^ -o $@ $(LIBS)

$(BIN)/%: $(BUILD)/lessons/%.o $(LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_LDFLAGS) $(WRAP_LDFLAGS) $< $(LIB) -o $@ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -Itests/unit $(BASE_LDFLAGS) $(WRAP_LDFLAGS) $< $(LIB) -o $@ \
	    $(LIBS) -lcunit

$(BUILD)/tools/%: tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(BASE_LDFLAGS) $(WRAP_LDFLAGS) $< $(LIB) -o $@ $(LIBS)

# Benchmarks: each bench/NAME.c is built plain and wrapped.
$(BUILD)/bench/%-plain: bench/%.c | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(BASE_LDFLAGS) $< -o $@
$(BUILD)/bench/%-wrapped: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(SRCPOS) $(BASE_LDFLAGS) $(WRAP_LDFLAGS) $< $(LIB) -o $@ $(LIBS)

# --- running -------------------------------------------------------------------
# What `make run` starts; the viewer's fragment (mk/) sets it to the menu.
RUN_CMD ?= $(BIN)/02-call-sequence --step
run: all
	$(RUN_CMD)


integration: all $(BUILD)/.deps-test
	@$(PYTHON) tests/run_integration.py --bin $(BIN) --build $(BUILD)

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin SAN=1 all

# Everything, plain then under the sanitizers; exits non-zero if any fails.
test: $(BUILD)/.deps-test $(TEST_PREREQS)
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@$(PYTHON) tests/run_all.py --plain-bin $(BIN) --plain-build $(BUILD) \
	    --san-bin build/asan/bin --san-build build/asan

BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%-plain,$(BENCH_SRC)) \
           $(patsubst bench/%.c,$(BUILD)/bench/%-wrapped,$(BENCH_SRC))
bench: all $(BENCHES) $(BENCH_PREREQS)
	@$(PYTHON) bench/run_bench.py --build $(BUILD) --bin $(BIN)

fuzz: $(FUZZ_TARGETS)

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
