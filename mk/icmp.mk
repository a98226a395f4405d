# mk/icmp.mk: the ICMP module (common/icmp.c) of lesson 04: its fuzz target
# and the ping benchmark.
#
#   make fuzz-icmp          fuzz the reply parser for ICMP_FUZZ_SECONDS (300)
#   make fuzz-icmp-short    the bounded run `make test` does first (20 s)
#   make bench-icmp         lesson 04's round trip on loopback beside iputils
#                           ping's (python3 bench/bench_ping.py --bin DIR)

ICMP_FUZZ := $(BUILD)/fuzz/fuzz_icmp
ICMP_FUZZ_SECONDS ?= 300
ICMP_FUZZ_SHORT_SECONDS ?= 20
ICMP_FUZZ_CC ?= clang

$(ICMP_FUZZ): fuzz/fuzz_icmp.c common/icmp.c common/icmp.h
	@mkdir -p $(@D)
	$(ICMP_FUZZ_CC) -std=gnu17 -D_GNU_SOURCE -g -O1 -Icommon \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    fuzz/fuzz_icmp.c common/icmp.c -o $@

.PHONY: fuzz-icmp fuzz-icmp-short bench-icmp
fuzz-icmp: $(ICMP_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus-icmp
	$(ICMP_FUZZ) -max_total_time=$(ICMP_FUZZ_SECONDS) -max_len=2048 -artifact_prefix=$(BUILD)/fuzz/icmp- -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus-icmp fuzz/corpus/icmp

fuzz-icmp-short: $(ICMP_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus-icmp
	@$(ICMP_FUZZ) -max_total_time=$(ICMP_FUZZ_SHORT_SECONDS) -max_len=2048 -artifact_prefix=$(BUILD)/fuzz/icmp- \
	    $(BUILD)/fuzz/corpus-icmp fuzz/corpus/icmp >$(BUILD)/fuzz/icmp-short.log 2>&1 \
	    || { cat $(BUILD)/fuzz/icmp-short.log; echo "fuzz-icmp-short: the parser failed"; exit 1; }
	@echo "fuzz-icmp-short: $$(tail -1 $(BUILD)/fuzz/icmp-short.log)"

bench-icmp: all
	@$(PYTHON) bench/bench_ping.py --bin $(BIN)

FUZZ_TARGETS += fuzz-icmp
TEST_PREREQS += fuzz-icmp-short
BENCH_PREREQS += bench-icmp
