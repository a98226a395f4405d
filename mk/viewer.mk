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
