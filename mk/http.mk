# mk/http.mk: lessons 08-10: the HTTP reader's fuzz target (common/http.c)
# for lesson 10, and lesson 09's benchmark (make bench-clients).
#
#   make fuzz-http          build it with libFuzzer and run it for a while
#   $(BUILD)/fuzz/fuzz_http fuzz/corpus/http   run it by hand
#
# `make test` runs it for a short, bounded time first (HTTP_FUZZ_SECONDS).

HTTP_FUZZ := $(BUILD)/fuzz/fuzz_http
HTTP_FUZZ_SECONDS ?= 15
FUZZ_CC ?= clang

$(HTTP_FUZZ): fuzz/fuzz_http.c common/http.c common/http.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=gnu17 -D_GNU_SOURCE -g -O1 -Icommon \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    fuzz/fuzz_http.c common/http.c -o $@

.PHONY: fuzz-http fuzz-http-short
fuzz-http: $(HTTP_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus-http
	$(HTTP_FUZZ) -max_total_time=300 -max_len=4096 $(BUILD)/fuzz/corpus-http fuzz/corpus/http

fuzz-http-short: $(HTTP_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus-http
	$(HTTP_FUZZ) -max_total_time=$(HTTP_FUZZ_SECONDS) -max_len=4096 \
	    $(BUILD)/fuzz/corpus-http fuzz/corpus/http

FUZZ_TARGETS += fuzz-http
TEST_PREREQS += fuzz-http-short

# Lesson 09's large run against a Python epoll peer (also run by `make bench`,
# which runs every bench/bench_*.py).
.PHONY: bench-clients
bench-clients: all
	@$(PYTHON) bench/bench_clients.py --bin $(BIN) --build $(BUILD) --clients 10000
