# The viewer and the `sockscope` front command (viewer/*.c), and the test
# helper programs of its tests (tests/progs/*.c).
VIEWER_SRC := $(wildcard viewer/*.c)
VIEWER_OBJ := $(VIEWER_SRC:%.c=$(BUILD)/%.o)

# libsockscope.a holds the interposer, so link as a lesson is linked; the
# viewer's own calls are not traced (it runs with no SOCKSCOPE_ variables).
$(BIN)/sockscope: $(VIEWER_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) $(WRAP_LDFLAGS) $(VIEWER_OBJ) $(LIB) -o $@ $(LIBS)

# Test programs, linked with the tracer like a lesson.
VIEWER_TEST_PROGS := $(patsubst tests/progs/%.c,$(BUILD)/tests/progs/%,$(wildcard tests/progs/*.c))
$(BUILD)/tests/progs/%: tests/progs/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SRCPOS) $(BASE_LDFLAGS) $(WRAP_LDFLAGS) $< $(LIB) -o $@ $(LIBS)

EXTRA_PROGRAMS += $(BIN)/sockscope $(VIEWER_TEST_PROGS)
RUN_CMD := $(BIN)/sockscope

.PHONY: bench-viewer
bench-viewer: all $(BUILD)/bench/pingpong-wrapped
	$(PYTHON) bench/bench_viewer.py --bin $(BIN) --build $(BUILD)

# The viewer's reader of trace events (viewer/model.c), fed what a traced
# process could send on the viewer's socket. `make test` runs it for
# TRACE_FUZZ_SHORT_SECONDS; `make fuzz` for TRACE_FUZZ_SECONDS.
TRACE_FUZZ := $(BUILD)/fuzz/fuzz_trace_event
TRACE_FUZZ_SECONDS ?= 300
TRACE_FUZZ_SHORT_SECONDS ?= 10
FUZZ_CC ?= clang

$(TRACE_FUZZ): fuzz/fuzz_trace_event.c viewer/model.c viewer/model.h common/sockstate.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=gnu17 -D_GNU_SOURCE -g -O1 -Icommon -Iviewer \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    fuzz/fuzz_trace_event.c viewer/model.c common/sockstate.c -o $@ -lcjson -ljansson

.PHONY: fuzz-trace fuzz-trace-short
fuzz-trace: $(TRACE_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus-trace_event
	$(TRACE_FUZZ) -max_total_time=$(TRACE_FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=$(BUILD)/fuzz/trace_event- \
	    $(BUILD)/fuzz/corpus-trace_event fuzz/corpus/trace_event

fuzz-trace-short: $(TRACE_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus-trace_event
	@log=$(BUILD)/fuzz/trace_event-short.log; \
	if $(TRACE_FUZZ) -max_total_time=$(TRACE_FUZZ_SHORT_SECONDS) -max_len=4096 \
	    -artifact_prefix=$(BUILD)/fuzz/trace_event- \
	    $(BUILD)/fuzz/corpus-trace_event fuzz/corpus/trace_event >$$log 2>&1; then \
	    echo "fuzz_trace_event: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' $$log)"; \
	else \
	    cat $$log; echo "fuzz_trace_event found a failing input (see above)"; exit 1; \
	fi

FUZZ_TARGETS += fuzz-trace
TEST_PREREQS += fuzz-trace-short

# The viewer's model has unit tests of its own (tests/unit/test_model.c):
# they link its object beside the library.
$(BUILD)/tests/test_model: tests/unit/test_model.c $(BUILD)/viewer/model.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Itests/unit -Iviewer $(BASE_LDFLAGS) $(WRAP_LDFLAGS) $< \
	    $(BUILD)/viewer/model.o $(LIB) -o $@ $(LIBS) -lcunit
