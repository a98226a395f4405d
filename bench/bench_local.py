#!/usr/bin/env python3
"""Lesson 07's figures beside sockperf's and iperf3's, measured in one run.

    bench_local.py --bin DIR [--duration SECS] [--rounds N] [--bulk BYTES]

The lesson (bin/07-local-speed --json), sockperf ping-pong over TCP and
iperf3 (TCP, one stream) take turns, --rounds times, so that whatever else
the machine does hits them alike; each figure is the median over the
rounds. Targets: the lesson's TCP throughput at least 0.9x iperf3's, its
round-trip latencies within 15% of sockperf's.

Like for like: both ping-pongs send 14-byte messages (sockperf's smallest)
with TCP_NODELAY, and both echo sides block in a plain receive (sockperf's
server is started with a feed file and -F recvfrom for that; its default
server waits in epoll first, one system call more per message, shown for
reference). iperf3 writes the lesson's --bulk size (-l).

sockperf and iperf3 come from Debian (scripts/packages/test-local.txt);
when missing, scripts/deps.sh test installs them.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZE = 14  # sockperf's smallest message


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_tools():
    if shutil.which("sockperf") and shutil.which("iperf3"):
        return True
    subprocess.run([os.path.join(ROOT, "scripts", "deps.sh"), "test"])
    return bool(shutil.which("sockperf") and shutil.which("iperf3"))


def version(argv, pattern):
    r = subprocess.run(argv, capture_output=True, text=True)
    m = re.search(pattern, r.stdout + r.stderr)
    return m.group(1) if m else "?"


def wait_listening(port, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def lesson(bin_dir, duration, bulk):
    r = subprocess.run([os.path.join(bin_dir, "07-local-speed"), "--json", "--size", str(SIZE),
                        "--count", "1000000", "--duration", str(duration), "--bulk", str(bulk)],
                       capture_output=True, text=True, timeout=60 + 10 * duration, check=True)
    return {t["name"]: t for t in json.loads(r.stdout)["transports"]}


class SockperfServer:
    """A sockperf server on a free loopback port: blocking recvfrom, or
    the default (epoll)."""

    def __init__(self, tmp, blocking):
        self.port = free_port()
        if blocking:
            feed = os.path.join(tmp, "feed-%d.txt" % self.port)
            with open(feed, "w") as f:
                f.write("T:127.0.0.1:%d\n" % self.port)
            argv = ["sockperf", "sr", "-f", feed, "-F", "r"]
        else:
            argv = ["sockperf", "sr", "--tcp", "-i", "127.0.0.1", "-p", str(self.port)]
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_listening(self.port):
            self.stop()
            raise RuntimeError("sockperf server did not listen: %s" % " ".join(argv))

    def pingpong(self, duration):
        """Median and p99 round trip in microseconds."""
        r = subprocess.run(["sockperf", "pp", "--tcp", "-i", "127.0.0.1", "-p", str(self.port),
                            "-m", str(SIZE), "-t", str(int(round(duration))), "--full-rtt"],
                           capture_output=True, text=True, timeout=60 + 3 * duration)
        out = r.stdout + r.stderr
        pct = {float(a): float(b) for a, b in
               re.findall(r"percentile\s+([\d.]+)\s*=\s*([\d.]+)", out)}
        if 50.0 not in pct or 99.0 not in pct:
            raise RuntimeError("no percentiles in sockperf's output:\n" + out)
        return pct[50.0], pct[99.0]

    def stop(self):
        self.p.kill()
        self.p.wait(timeout=5)


def iperf3(duration, bulk):
    """Receiver's throughput in MB/s (10^6 bytes a second)."""
    port = free_port()
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        for _ in range(20):  # the server may need a moment to listen
            r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t",
                                str(int(round(duration))), "-l", str(bulk), "-J"],
                               capture_output=True, text=True, timeout=60 + 3 * duration)
            if r.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("iperf3 failed:\n" + r.stdout + r.stderr)
        return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 8e6
    finally:
        srv.kill()
        srv.wait(timeout=5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="where 07-local-speed is")
    ap.add_argument("--build", help="accepted for make bench; not used")
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--bulk", type=int, default=262144, help="bytes per bulk write")
    a = ap.parse_args()
    if not need_tools():
        print("sockperf and iperf3 are needed: install them with scripts/deps.sh test")
        return 1
    tmp = tempfile.mkdtemp(prefix="sockscope-bench-local-")
    rows = {k: [] for k in ("l_tcp_med", "l_tcp_p99", "l_unix_med", "l_unix_p99", "l_tcp_mbs",
                            "s_med", "s_p99", "se_med", "se_p99", "i_mbs")}
    all_runs = []
    blocking = SockperfServer(tmp, True)
    default = SockperfServer(tmp, False)
    try:
        for n in range(a.rounds):
            print("round %d of %d ..." % (n + 1, a.rounds), flush=True)
            t = lesson(a.bin, a.duration, a.bulk)
            all_runs.append(t)
            rows["l_tcp_med"].append(t["tcp-loopback"]["latency_us"]["median"])
            rows["l_tcp_p99"].append(t["tcp-loopback"]["latency_us"]["p99"])
            rows["l_unix_med"].append(t["unix-stream"]["latency_us"]["median"])
            rows["l_unix_p99"].append(t["unix-stream"]["latency_us"]["p99"])
            rows["l_tcp_mbs"].append(t["tcp-loopback"]["throughput"]["mb_per_s"])
            med, p99 = blocking.pingpong(a.duration)
            rows["s_med"].append(med)
            rows["s_p99"].append(p99)
            med, p99 = default.pingpong(a.duration)
            rows["se_med"].append(med)
            rows["se_p99"].append(p99)
            rows["i_mbs"].append(iperf3(a.duration, a.bulk))
    finally:
        blocking.stop()
        default.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    m = {k: statistics.median(v) for k, v in rows.items()}
    sp = version(["sockperf", "--version"], r"version #?\s*([\d.]+)")
    ip = version(["iperf3", "--version"], r"iperf ([\d.]+)")
    print("\nLesson 07 beside sockperf %s and iperf3 %s: %d rounds of %.0f s, medians of the"
          % (sp, ip, a.rounds, a.duration))
    print("rounds; ping-pong messages of %d bytes, bulk writes of %d bytes.\n" % (SIZE, a.bulk))
    print("%-30s %9s %9s %7s  %s" % ("figure", "lesson", "peer", "ratio", "target"))

    def row(name, lv, pv, peer, lo, hi, target):
        ratio = lv / pv
        ok = lo <= ratio <= hi
        verdict = "%s: %s" % (target, "met" if ok else "NOT met") if target else "reference"
        print("%-30s %9.2f %9.2f %6.2fx  %s   (%s)" % (name, lv, pv, ratio, verdict, peer))
        return ok

    ok = row("TCP round trip median, us", m["l_tcp_med"], m["s_med"], "sockperf, recvfrom",
             0.85, 1.15, "within 15%")
    ok &= row("TCP round trip p99, us", m["l_tcp_p99"], m["s_p99"], "sockperf, recvfrom",
              0.85, 1.15, "within 15%")
    row("TCP round trip median, us", m["l_tcp_med"], m["se_med"], "sockperf, epoll server",
        0, 1e9, None)
    row("TCP round trip p99, us", m["l_tcp_p99"], m["se_p99"], "sockperf, epoll server",
        0, 1e9, None)
    ok &= row("TCP throughput, MB/s", m["l_tcp_mbs"], m["i_mbs"], "iperf3, 1 stream", 0.9, 1e9,
              ">= 0.9x")
    print("%-30s %9.2f %9s %7s  %s" % ("Unix stream round trip median", m["l_unix_med"], "n/a",
                                       "", "no peer"))
    print("%-30s %9.2f %9s %7s  %s" % ("Unix stream round trip p99", m["l_unix_p99"], "n/a", "",
                                       "no peer"))
    if sp.startswith("3.7") or sp.startswith("3.6"):
        print("  (sockperf %s cannot use a Unix socket; that came in sockperf 3.8, which Debian"
              % sp)
        print("   12 does not have, so the Unix stream figures stand without a peer here)")
    print("\nEach round's figures (lesson: median / p99 us, MB/s):")
    for i, t in enumerate(all_runs):
        print("  round %d: " % (i + 1) + "; ".join(
            "%s %.1f/%.1f %.0f" % (k, v["latency_us"]["median"], v["latency_us"]["p99"],
                                  v["throughput"]["mb_per_s"]) for k, v in t.items()))
        print("           sockperf recvfrom %.1f/%.1f, epoll %.1f/%.1f; iperf3 %.0f MB/s"
              % (rows["s_med"][i], rows["s_p99"][i], rows["se_med"][i], rows["se_p99"][i],
                 rows["i_mbs"][i]))
    print("\ntargets: %s" % ("all met" if ok else "NOT all met (see above)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
