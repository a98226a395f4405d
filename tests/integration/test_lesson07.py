"""Lesson 07, local IPC speed: latency and throughput of a Unix stream
socket, a Unix datagram socket, TCP over loopback and a pipe. No timing is
asserted here: the figures are checked for sanity only (bench/bench_local.py
compares them with sockperf and iperf3)."""

import json

LESSON = "07-local-speed"
SHORT = ["--duration", "0.05", "--count", "300", "--bulk", "65536"]


def test_json_has_sane_figures_for_four_transports(ctx):
    """A short run with --json gives, for all four transports, a positive median and p99 round trip, positive throughput, and ratios to TCP."""
    r = ctx.run([ctx.lesson(LESSON), "--json"] + SHORT, check=True, timeout=60)
    doc = json.loads(r.stdout)
    names = [t["name"] for t in doc["transports"]]
    assert names == ["unix-stream", "unix-dgram", "tcp-loopback", "pipe"], names
    for t in doc["transports"]:
        lat, thr = t["latency_us"], t["throughput"]
        assert 0 < lat["median"] <= lat["p99"], t
        assert 1 <= lat["round_trips"] <= 300, t
        assert thr["bytes"] > 0 and thr["seconds"] > 0 and thr["mb_per_s"] > 0, t
        assert abs(thr["mb_per_s"] - thr["bytes"] / thr["seconds"] / 1e6) < 1e-6 * thr["mb_per_s"]
        assert t["vs_tcp"]["latency"] > 0 and t["vs_tcp"]["throughput"] > 0, t
    tcp = doc["transports"][2]
    assert tcp["vs_tcp"] == {"latency": 1.0, "throughput": 1.0}, tcp
    assert doc["options"]["count"] == 300 and doc["options"]["bulk"] == 65536


def test_table_and_bar_chart_fit_80_columns(ctx):
    """Without --json the lesson prints a table with the ratios to TCP, two bar charts and what makes the difference, in 80 columns."""
    r = ctx.run([ctx.lesson(LESSON)] + SHORT, check=True, timeout=60)
    out = r.stdout
    assert all(len(line) <= 80 for line in out.splitlines()), max(out.splitlines(), key=len)
    for name in ("unix-stream", "unix-dgram", "tcp-loopback", "pipe"):
        assert sum(line.startswith(name) for line in out.splitlines()) == 1, name
        assert sum(line.startswith("  " + name) and "#" in line for line in out.splitlines()) == 2
    assert "vs TCP" in out and "1.00x" in out
    assert "Median round trip" in out and "Throughput" in out
    assert "copies the bytes" in out and "checksums" in out


def test_traced_run_is_short_and_traced(ctx):
    """Under --trace every call is recorded, so the lesson measures only three rounds, and the trace shows each transport being set up."""
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson(LESSON), "--trace", trace, "--json"], check=True, timeout=60)
    doc = json.loads(r.stdout)
    assert all(t["latency_us"]["round_trips"] == 3 for t in doc["transports"]), doc
    ev = ctx.read_trace(trace)
    calls = [e["call"] for e in ev if e["kind"] == "call"]
    assert calls.count("socketpair") == 2 and "connect" in calls and "accept" in calls
    assert "shutdown" in calls
    assert {e["role"] for e in ev if e["kind"] == "call"} >= {"measure", "echo"}


def test_bad_options(ctx):
    """A bad option value names the option and its range, and exits 2."""
    for argv in (["--size", "0"], ["--count", "abc"], ["--duration", "1000"], ["--bulk", "1"],
                 ["--bogus"], ["extra"]):
        r = ctx.run([ctx.lesson(LESSON)] + argv)
        assert r.returncode == 2 and "--help" in r.stderr, r
    # A count is whole: 1.5 round trips is refused, not cut to 1.
    r = ctx.run([ctx.lesson(LESSON), "--count", "1.5"])
    assert r.returncode == 2 and "--count takes a whole number from 1 to 1000000" in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "--help"])
    assert r.returncode == 0 and "--json" in r.stdout and "--duration" in r.stdout
