#!/usr/bin/env python3
"""Opening a large recording: a 100,000-event recording made from a real
trace (the ping-pong benchmark's pinger, 50,000 round trips), replayed by
the viewer: opened (--dump-at 0) and sought to its end (--dump-at the
last event). Target: under 1 s each. For reference, the same file read by
the recording tool's reader (`recording check`, used by capture-run and
the tests).

    bench_replay.py --build DIR --bin DIR
"""
import argparse
import json
import os
import subprocess
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--events", type=int, default=100000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sockscope-bench-")
    trace = os.path.join(tmp, "trace.jsonl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCKSCOPE_")}
    env["SOCKSCOPE_TRACE"] = trace
    env["PINGPONG_ECHO"] = os.path.join(a.build, "bench", "pingpong-plain")
    subprocess.run([os.path.join(a.build, "bench", "pingpong-wrapped"), "-n",
                    str(a.events // 2)], env=env, check=True, capture_output=True, timeout=600)
    rec = os.path.join(tmp, "rec")
    os.mkdir(rec)
    n = 0
    with open(trace) as src, open(os.path.join(rec, "timeline.jsonl"), "w") as dst:
        for line in src:
            dst.write(line)
            n += 1
    with open(os.path.join(rec, "meta.json"), "w") as f:
        json.dump({"v": 1, "argv": ["pingpong"], "capture": None}, f)
    size = os.path.getsize(os.path.join(rec, "timeline.jsonl"))
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(a.build, "tools", "recording"), "check", rec],
                       capture_output=True, text=True, timeout=120)
    dt = time.monotonic() - t0
    print("Reading a recording of %d events (%.1f MB) with `recording check`: %.2f s"
          "  (reference)" % (n, size / 1e6, dt))
    print("  %s" % r.stdout.strip())
    sockscope = os.path.join(a.bin, "sockscope")
    if os.path.exists(sockscope):
        for what, args in (("open", ["--dump-at", "0"]), ("seek to the end", ["--dump-at",
                                                                              str(n - 1)])):
            t0 = time.monotonic()
            r = subprocess.run([sockscope, "replay", rec] + args + ["--size", "100x30"],
                               capture_output=True, text=True, timeout=120)
            dt = time.monotonic() - t0
            print("Replay, %s: %.2f s (exit %d)  target < 1 s: %s"
                  % (what, dt, r.returncode, "met" if dt < 1 and r.returncode == 0 else "NOT met"))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
