# Packet capture (common/capture.c): its fuzz target.
#
#   make fuzz                runs every fuzz target for FUZZ_SECONDS (default 60)
#   make fuzz-capture-short  the short run `make test` does

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Icommon

$(BUILD)/fuzz/fuzz_capture: fuzz/fuzz_capture.c common/capture.c common/capture.h common/addr.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) fuzz/fuzz_capture.c common/capture.c common/addr.c -o $@ -lpcap

.PHONY: fuzz-capture fuzz-capture-short
fuzz-capture: $(BUILD)/fuzz/fuzz_capture
	@mkdir -p $(BUILD)/fuzz/corpus-capture
	$< -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus-capture fuzz/corpus/capture

fuzz-capture-short: $(BUILD)/fuzz/fuzz_capture
	@mkdir -p $(BUILD)/fuzz/corpus-capture
	@$< -max_total_time=10 $(BUILD)/fuzz/corpus-capture fuzz/corpus/capture 2>&1 | tail -1

FUZZ_TARGETS += fuzz-capture
TEST_PREREQS += fuzz-capture-short

# Mermaid's own parser checks the exports' syntax (tests/integration/
# test_recording.py): installed from npm at test time, never by hand. One
# place for every build variant: it is a tool, not a build output.
MERMAID_DIR := build/node-mermaid
$(MERMAID_DIR)/check.mjs: tests/integration/mermaid_check.mjs
	@mkdir -p $(@D)
	@command -v npm >/dev/null || { echo "npm is missing: scripts/deps.sh test installs it"; exit 1; }
	$(call say,NPM,mermaid)
	$(Q)cd $(@D) && npm install --no-audit --no-fund --silent mermaid@11 >/dev/null
	$(Q)cp $< $@

TEST_PREREQS += $(MERMAID_DIR)/check.mjs

# The bulk transfer the busy-capture test runs (tests/integration/
# test_capture.py), built with everything else so that it never skips.
EXTRA_PROGRAMS += $(BUILD)/bench/bulk-plain
