# mk/local.mk: lessons 05-07 (Unix sockets and local IPC speed).
#
#   make bench-local   lesson 07 beside sockperf and iperf3, in one run
#                      (bench/bench_local.py; `make bench` runs it too)
#
# The benchmark's peers, sockperf and iperf3, are Debian packages listed in
# scripts/packages/test-local.txt.

.PHONY: bench-local
bench-local: all $(BUILD)/.deps-test
	@$(PYTHON) bench/bench_local.py --bin $(BIN) --build $(BUILD)

BENCH_PREREQS += $(BUILD)/.deps-test
