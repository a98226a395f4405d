#!/usr/bin/env python3
"""The viewer's cost, measured (issue 3's figures):

  bench_viewer.py --build DIR --bin DIR [--runs N] [--rounds N]

  1. CPU of the viewer with nothing happening: lesson 02 paused in step
     mode (a listening socket, so the viewer keeps asking the kernel with
     sock_diag), over 10 s. Target: at most 1% of a core.
  2. Delay from a call's event (its ts_ns) to the screen showing it, as the
     viewer itself measures it (SOCKSCOPE_VIEWER_STATS), at 200 and at
     20,000 calls a second. Target: at most 50 ms.
  4. (issue 4) Opening a recording of about 100,000 events and drawing the
     screen at its end: `sockscope replay DIR --dump-at END`. Target: < 1 s.
  3. The ping-pong benchmark (bench/pingpong.c, the pinger linked with the
     tracer) with no sink and with a viewer attached (capturing packets when
     it may), in pairs of runs side by side. Target: at most 10% slower
     with the viewer.

The viewer runs on a pseudo-terminal this script drains, as a terminal
would.
"""
import argparse
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import time
import fcntl
import termios


def clean_env(extra=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SOCKSCOPE_")}
    e["TERM"] = "xterm"
    e.setdefault("LC_ALL", "C.UTF-8")
    if extra:
        e.update(extra)
    return e


class Pty:
    def __init__(self, argv, env, rows=30, cols=100):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.out = b""

    def pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if r:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return False
            self.out += data
            return bool(data)
        return True

    def drain_for(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            self.pump(min(0.05, max(0, end - time.time())))

    def until(self, pred, limit):
        end = time.time() + limit
        while time.time() < end:
            if pred():
                return True
            self.pump(0.02)
        return pred()

    def quit(self):
        os.write(self.fd, b"q")
        end = time.time() + 10
        while time.time() < end:
            self.pump(0.05)
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                os.close(self.fd)
                return
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def idle_cpu(viewer, seconds=10):
    dump = tempfile.mktemp(prefix="sockscope-bench-screen-")
    p = Pty([viewer, "run", "02", "--step", "--dump-screen", dump, "--", "--port", "0"],
            clean_env())
    def screen():
        try:
            return open(dump, encoding="utf-8", errors="replace").read()
        except FileNotFoundError:
            return ""
    p.until(lambda: "next [server]" in screen(), 10)
    for _ in range(4):  # socket, setsockopt, bind, listen
        os.write(p.fd, b"n")
        p.drain_for(0.3)
    ok = "LISTEN" in screen()
    p.drain_for(1)
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.time(), cpu_ticks(p.pid)
    p.drain_for(seconds)
    t1, c1 = time.time(), cpu_ticks(p.pid)
    p.quit()
    for f in (dump, dump + ".tmp"):
        if os.path.exists(f):
            os.unlink(f)
    return (c1 - c0) / hz / (t1 - t0) * 100, ok


def latency(viewer, flood, rate, seconds):
    stats = tempfile.mktemp(prefix="sockscope-bench-stats-")
    p = Pty([viewer, "run", "--no-preload", "--", flood, "--rate", str(rate), "--seconds",
             str(seconds)], clean_env({"SOCKSCOPE_VIEWER_STATS": stats}), rows=40, cols=160)
    p.until(lambda: b"ended" in p.out, seconds + 60)
    p.drain_for(0.5)
    p.quit()
    try:
        fields = open(stats).read().split()
        os.unlink(stats)
    except FileNotFoundError:
        return None
    return dict(zip(fields[0::2], fields[1::2]))


def replay_open(viewer, flood):
    """Record a flood of ~100,000 calls, then time opening it at its end."""
    import shutil
    import subprocess
    rec = tempfile.mkdtemp(prefix="sockscope-bench-rec-")
    p = Pty([viewer, "run", "--no-preload", "--record", rec, "--", flood, "--rate", "25000",
             "--seconds", "4"], clean_env(), rows=40, cols=160)
    p.until(lambda: b"ended" in p.out, 60)
    p.drain_for(0.3)
    p.quit()
    n = sum(1 for _ in open(os.path.join(rec, "timeline.jsonl")))
    times = []
    for _ in range(3):
        t0 = time.time()
        subprocess.run([viewer, "replay", rec, "--dump-at", "100000000", "--size", "100x30"],
                       stdout=subprocess.DEVNULL, check=True, env=clean_env())
        times.append(time.time() - t0)
    shutil.rmtree(rec)
    return n, statistics.median(times)


def pingpong_alone(prog, env, rounds):
    import subprocess
    out = subprocess.run([prog, "-n", str(rounds)], capture_output=True, text=True, env=env,
                         timeout=300, check=True).stdout.split()
    return int(dict(zip(out[0::2], out[1::2]))["median_ns"])


def pingpong_viewed(viewer, prog, env, rounds):
    out = tempfile.mktemp(prefix="sockscope-bench-pp-")
    cmd = "exec %s -n %d > %s" % (prog, rounds, out)
    p = Pty([viewer, "run", "--no-preload", "--", "/bin/sh", "-c", cmd], env)
    p.until(lambda: os.path.exists(out) and "median_ns" in open(out).read(), 300)
    p.quit()
    words = open(out).read().split()
    os.unlink(out)
    return int(dict(zip(words[0::2], words[1::2]))["median_ns"])


class DeafSink:
    """A viewer socket that accepts and never reads: what tracing to a
    viewer costs the program by itself (the events are built and sent, or
    counted as dropped), without any viewer's work."""

    def __init__(self):
        import socket
        import threading
        self.dir = tempfile.mkdtemp(prefix="sockscope-bench-sink-")
        self.path = os.path.join(self.dir, "events")
        self.l = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.l.bind(self.path)
        self.l.listen(64)
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.l.accept()
            except OSError:
                return
            self.conns.append(c)
            while len(self.conns) > 8:
                self.conns.pop(0).close()

    def close(self):
        self.l.close()
        for c in self.conns:
            c.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--rounds", type=int, default=20000)
    a = ap.parse_args()
    viewer = os.path.abspath(os.path.join(a.bin, "sockscope"))
    flood = os.path.abspath(os.path.join(a.build, "tests", "progs", "flood"))
    plain = os.path.abspath(os.path.join(a.build, "bench", "pingpong-plain"))
    wrapped = os.path.abspath(os.path.join(a.build, "bench", "pingpong-wrapped"))
    for p in (viewer, flood, plain, wrapped):
        if not os.path.exists(p):
            print("bench_viewer: %s is not built (make all %s)" % (p, os.path.basename(p)))
            return 1

    print("Viewer: idle CPU, event-to-screen delay, ping-pong with a viewer attached")
    cpu, ok = idle_cpu(viewer)
    print("  idle CPU (lesson 02 paused; sock_diag 4/s while busy, every 2 s once idle): %.2f%% of a core"
          "  target <= 1%%: %s%s" % (cpu, "met" if cpu <= 1 else "NOT met",
                                      "" if ok else " (listener not seen!)"))

    for rate, seconds in ((200, 5), (20000, 3)):
        s = latency(viewer, flood, rate, seconds)
        if s is None:
            print("  delay at %d calls/s: no figures (the viewer wrote none)" % rate)
            continue
        p99 = float(s["p99_ms"])
        print("  event-to-screen delay at %6d calls/s: median %s ms, p99 %s ms, max %s ms "
              "over %s events (%s dropped)  target <= 50 ms: %s"
              % (rate, s["median_ms"], s["p99_ms"], s["max_ms"], s["events"], s["dropped"],
                 "met" if p99 <= 50 else "NOT met"))

    n, secs = replay_open(viewer, flood)
    print("  replay: open a %d-entry recording and draw its end: %.2f s (median of 3)"
          "  target < 1 s: %s" % (n, secs, "met" if secs < 1 else "NOT met"))

    env = clean_env({"PINGPONG_ECHO": plain})
    sink = DeafSink()
    alone, deaf, viewed, ratios = [], [], [], []
    # Runs come in pairs, alone and viewed next to each other, the order
    # turned each time (ABBA): this machine's speed drifts by tens of per
    # cent from minute to minute, and a pair sees the same drift, so the
    # median of the pairs' ratios says more than a ratio of medians.
    for i in range(a.runs):
        deaf.append(pingpong_alone(wrapped, dict(env, SOCKSCOPE_SOCKET=sink.path), a.rounds))
        if i % 2 == 0:
            alone.append(pingpong_alone(wrapped, env, a.rounds))
            viewed.append(pingpong_viewed(viewer, wrapped, env, a.rounds))
        else:
            viewed.append(pingpong_viewed(viewer, wrapped, env, a.rounds))
            alone.append(pingpong_alone(wrapped, env, a.rounds))
        ratios.append(viewed[-1] / alone[-1])
    sink.close()
    m0, md, m1 = statistics.median(alone), statistics.median(deaf), statistics.median(viewed)
    slower = (statistics.median(ratios) - 1) * 100
    print("  ping-pong (%d pairs x %d round trips; traced pinger, plain echo; median RTT):"
          % (a.runs, a.rounds))
    print("    %-34s %8.2f us" % ("wrapped, no viewer", m0 / 1000))
    print("    %-34s %8.2f us  %+6.1f%%  (the tracer's own cost of a viewer nobody runs)"
          % ("wrapped, socket nobody reads", md / 1000, (md - m0) / m0 * 100))
    print("    %-34s %8.2f us  %+6.1f%%" % ("wrapped, viewer attached", m1 / 1000,
                                            (m1 - m0) / m0 * 100))
    print("    slower with the viewer, median of the %d pairs: %+.1f%% (pairs: %s)  "
          "target <= 10%%: %s" % (a.runs, slower, " ".join("%+.0f" % ((r - 1) * 100) for r in ratios),
                                  "met" if slower <= 10 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
