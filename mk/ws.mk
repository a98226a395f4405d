# WebSocket (common/ws.c, lesson 11): fuzz targets, node `ws` for the
# interop tests and the benchmark, and the benchmark itself.
#
#   make fuzz-ws          fuzz the handshake and frame readers, WS_FUZZ_SECONDS
#                         each (default 300); `make fuzz` runs this too
#   make fuzz-ws-short    the bounded run `make test` does (10 s each)
#   make ws-node          install node `ws` into $(BUILD)/node_modules (npm)
#   make bench-ws         lesson 11's server against node `ws`, echo of 1 KiB
#                         (bench/bench_ws.py, with the load client below)

WS_FUZZ_SECONDS ?= 300
WS_FUZZ_SHORT_SECONDS ?= 10
WS_FUZZ_CC ?= clang
WS_FUZZ_FLAGS := -std=gnu17 -D_GNU_SOURCE -g -O1 -Icommon \
                 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
WS_FUZZERS := $(BUILD)/fuzz/fuzz_ws_handshake $(BUILD)/fuzz/fuzz_ws_frame

$(BUILD)/fuzz/fuzz_ws_%: fuzz/fuzz_ws_%.c common/ws.c common/ws.h
	@mkdir -p $(@D)
	$(WS_FUZZ_CC) $(WS_FUZZ_FLAGS) $< common/ws.c -o $@ -lcrypto

# Each target keeps what it learns in $(BUILD)/fuzz/corpus-NAME and starts
# from the seeds in fuzz/corpus/NAME. A crash stops make with its input
# saved as $(BUILD)/fuzz/NAME-crash-*.
.PHONY: fuzz-ws fuzz-ws-short ws-node bench-ws
fuzz-ws: $(WS_FUZZERS)
	@for t in ws_handshake ws_frame; do \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	    echo "fuzz_$$t: $(WS_FUZZ_SECONDS) s"; \
	    $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(WS_FUZZ_SECONDS) -print_final_stats=1 \
	        -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/$$t- \
	        $(BUILD)/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; \
	done

fuzz-ws-short: $(WS_FUZZERS)
	@for t in ws_handshake ws_frame; do \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	    log=$(BUILD)/fuzz/$$t-short.log; \
	    if $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(WS_FUZZ_SHORT_SECONDS) \
	        -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/$$t- \
	        $(BUILD)/fuzz/corpus-$$t fuzz/corpus/$$t >$$log 2>&1; then \
	        echo "fuzz_$$t: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' $$log)"; \
	    else \
	        cat $$log; echo "fuzz_$$t found a failing input (see above)"; exit 1; \
	    fi; \
	done

ws-node:
	@scripts/ws-node.sh $(BUILD)

# The benchmark's load client, the same for every server it measures. It
# sits in bench/ws/ so that the bench/*.c rule (plain and wrapped builds)
# leaves it alone: it is never linked with the interposer, only with
# common/ws and libcrypto, so the clients are not traced.
WS_LOAD := $(BUILD)/bench/ws_load
$(WS_LOAD): bench/ws/ws_load.c $(BUILD)/common/ws.o | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(BASE_LDFLAGS) $< $(BUILD)/common/ws.o -o $@ -lcrypto -lm

bench-ws: all ws-node $(WS_LOAD)
	@$(PYTHON) bench/bench_ws.py --bin $(BIN) --build $(BUILD)

FUZZ_TARGETS += fuzz-ws
TEST_PREREQS += fuzz-ws-short ws-node
BENCH_PREREQS += ws-node $(WS_LOAD)

# The page of lesson 11's classroom server is put in at build time.
$(BUILD)/common/wspage.o: common/wspage.html
