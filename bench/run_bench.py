#!/usr/bin/env python3
"""make bench: every benchmark, each printing its figures next to a peer
measured in the same run.

  run_bench.py --build DIR --bin DIR

First the interposer's cost (the foundation's target: no sink at most 2%
slower than unwrapped, a file sink at most 10%), then each area's own
bench/bench_*.py, given the same --build and --bin.
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def pingpong(prog, env, rounds):
    out = subprocess.run([prog, "-n", str(rounds)], capture_output=True, text=True, env=env,
                         timeout=300, check=True).stdout.split()
    fields = dict(zip(out[0::2], out[1::2]))
    return int(fields["median_ns"])


def interposer_cost(build, runs, rounds):
    plain = os.path.join(build, "bench", "pingpong-plain")
    wrapped = os.path.join(build, "bench", "pingpong-wrapped")
    base = {k: v for k, v in os.environ.items() if not k.startswith("SOCKSCOPE_")}
    tmp = tempfile.mkdtemp(prefix="sockscope-bench-")
    trace = os.path.join(tmp, "trace.jsonl")
    # The echo peer is always the plain build: only the pinger changes.
    base = dict(base, PINGPONG_ECHO=plain)
    configs = [
        ("unwrapped", plain, base),
        ("wrapped, no sink", wrapped, base),
        ("wrapped, file sink", wrapped, dict(base, SOCKSCOPE_TRACE=trace)),
    ]
    medians = {name: [] for name, _, _ in configs}
    # Interleave the configurations so drift on the machine hits all alike.
    for _ in range(runs):
        for name, prog, env in configs:
            if os.path.exists(trace):
                os.unlink(trace)
            medians[name].append(pingpong(prog, env, rounds))
    lines = sum(1 for _ in open(trace)) if os.path.exists(trace) else 0
    print("Interposer cost: 1-byte TCP ping-pong over loopback, %d runs x %d round trips"
          % (runs, rounds))
    print("  (median of the per-run median round trip; the pinger is traced, the echo peer")
    print("   is the same unwrapped program in every row; trace file in %s)" % tmp)
    ref = statistics.median(medians["unwrapped"])
    targets = {"wrapped, no sink": 2.0, "wrapped, file sink": 10.0}
    for name, _, _ in configs:
        m = statistics.median(medians[name])
        slower = (m - ref) / ref * 100
        target = targets.get(name)
        verdict = ""
        if target is not None:
            verdict = "  target <= %.0f%%: %s" % (target, "met" if slower <= target else "NOT met")
        print("  %-20s %8.2f us  %+6.1f%%%s" % (name, m / 1000, slower if name != "unwrapped"
                                                  else 0.0, verdict))
    print("  the file sink wrote %d events in its last run" % lines)
    subprocess.run(["rm", "-rf", tmp])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=20000)
    a = ap.parse_args()
    interposer_cost(a.build, a.runs, a.rounds)
    rc = 0
    for script in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        print("\n== %s ==" % os.path.basename(script), flush=True)
        r = subprocess.run([sys.executable, script, "--build", a.build, "--bin", a.bin])
        rc |= r.returncode
    return rc


if __name__ == "__main__":
    sys.exit(main())
