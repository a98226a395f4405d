#!/usr/bin/env python3
"""Lesson 04's round trip on loopback, next to iputils ping's.

    python3 bench/bench_ping.py --bin DIR [--count N] [--interval S] [--rounds R]

Both run in one private user and network namespace (`unshare -rn`, loopback
up), one after the other, R rounds of N echo requests each, alternating who
goes first. Each reply's time= is read from the programs' own output; the
medians (and the 10th and 90th percentiles) are printed side by side. The
lesson is built for reading, prints several lines a reply and is traced by
the interposer, so a difference of some microseconds is expected; this is a
figure to look at, not a test.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

TIME = re.compile(r"^\d+ bytes from [^:]+: icmp_seq=\d+ ttl=\d+ time=([\d.]+) ms", re.M)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the directory of the built lessons")
    ap.add_argument("--count", type=int, default=200, help="requests per round (default 200)")
    ap.add_argument("--interval", default="0.01", help="seconds between requests (0.01)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds per program (default 2)")
    ap.add_argument("--build", help="accepted for make bench; not used")
    a = ap.parse_args()

    lesson = os.path.join(os.path.abspath(a.bin), "04-raw-ping")
    ping = shutil.which("ping")
    if not os.path.exists(lesson):
        sys.exit("bench_ping: %s is not built (run make)" % lesson)
    if ping is None:
        sys.exit("bench_ping: iputils ping is not installed (scripts/deps.sh test)")
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode != 0:
        sys.exit("bench_ping: this system does not allow user namespaces (unshare -rn)")

    args = ["-c", str(a.count), "-i", a.interval, "127.0.0.1"]
    lesson_cmd = " ".join([lesson] + args)
    ping_cmd = " ".join([ping] + args)
    steps = []
    for r in range(a.rounds):
        pair = [("lesson", lesson_cmd), ("ping", ping_cmd)]
        steps += pair if r % 2 == 0 else pair[::-1]
    script = "ip link set lo up || exit 1\n" + "".join(
        "echo '=== %s'\n%s || exit 1\n" % (who, cmd) for who, cmd in steps)
    p = subprocess.run(["unshare", "-rn", "sh", "-c", script], capture_output=True, text=True,
                       timeout=60 + 4 * a.rounds * a.count * float(a.interval))
    if p.returncode != 0:
        sys.exit("bench_ping: a run failed:\n%s%s" % (p.stdout[-2000:], p.stderr[-2000:]))

    times = {"lesson": [], "ping": []}
    for part in p.stdout.split("=== ")[1:]:
        who, _, out = part.partition("\n")
        times[who] += [float(t) for t in TIME.findall(out)]
    print("ICMP echo round trip on loopback, %d rounds of %d requests, -i %s, same namespace"
          % (a.rounds, a.count, a.interval))
    print("%-28s %8s %10s %10s %10s" % ("", "replies", "p10 ms", "median ms", "p90 ms"))
    for who, label in (("lesson", "04-raw-ping (traced lesson)"), ("ping", "iputils ping")):
        xs = times[who]
        if not xs:
            sys.exit("bench_ping: no replies read from %s" % label)
        print("%-28s %8d %10.3f %10.3f %10.3f" % (label, len(xs), percentile(xs, 10),
                                                  statistics.median(xs), percentile(xs, 90)))
    ratio = statistics.median(times["lesson"]) / max(statistics.median(times["ping"]), 1e-6)
    print("lesson/ping median ratio: %.2f" % ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
