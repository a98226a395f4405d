#!/usr/bin/env python3
"""Lesson 11's WebSocket server beside node's `ws`, measured in one run.

    bench_ws.py --bin DIR --build DIR [--seconds S] [--connections N]
                [--rounds N] [--size BYTES] [--warmup S]

Echo of text messages (1 KiB by default) over 64 connections: each
connection sends one message, waits for its echo and sends the next (a
closed loop) for a fixed time. Measured: messages a second, and the round
trip's median and 99th percentile. The servers are `11-websocket --role
server` (its /echo path sends each message back to its sender) and an echo
server on node's `ws` package (tests/integration/wspeer.js, installed by
`make ws-node`); both are loaded by the same client, build/bench/ws_load,
which checks every echo byte for byte. The two take turns, --rounds times,
so that whatever else the machine does hits them alike; each figure is the
median over the rounds. Target: at least as many messages a second as
node `ws`.

The lesson's server runs as it is built, its calls passing through the
interposer with no trace sink; the client is not linked with it.
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
WSPEER_JS = os.path.join(ROOT, "tests", "integration", "wspeer.js")
START_SECONDS = 10  # for a server to listen


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def plain_env():
    """The environment without any SOCKSCOPE_ setting: no trace sink, no
    step mode for the lesson's server."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SOCKSCOPE_")}


class Server:
    """A server process whose output goes to a file (so that it never
    blocks on a full pipe), and the URL of its echo endpoint."""

    def __init__(self, name, argv, env, log):
        self.name = name
        self.log = log
        self.url = None
        with open(log, "w") as out:
            self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.STDOUT, env=env)

    def output(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_for(self, ready):
        """Poll until ready() gives the URL, the process ends, or time runs out."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                break
            url = ready()
            if url:
                self.url = url
                return
            time.sleep(0.05)
        out = self.output()
        self.stop()
        raise RuntimeError("%s did not start within %d s; it printed:\n%s"
                           % (self.name, START_SECONDS, out))

    def check_alive(self):
        if self.p.poll() is not None:
            raise RuntimeError("%s ended during the run (status %s); it printed:\n%s"
                               % (self.name, self.p.returncode, self.output()[-2000:]))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()  # the lesson's server closes its clients with 1001
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)


def start_lesson(bin_dir, tmp):
    argv = [os.path.join(bin_dir, "11-websocket"), "--role", "server", "--port", "0"]
    s = Server("11-websocket --role server", argv, plain_env(), os.path.join(tmp, "lesson.log"))

    def ready():
        m = re.search(r"http://(127\.0\.0\.1:\d+)/", s.output())
        return m and "ws://%s/echo" % m.group(1)

    s.wait_for(ready)
    return s


def start_node(build, tmp):
    port = free_port()
    env = dict(plain_env(), NODE_PATH=os.path.join(os.path.abspath(build), "node_modules"))
    s = Server("node ws echo server", ["node", WSPEER_JS, "echo-server", str(port)], env,
               os.path.join(tmp, "node.log"))
    s.wait_for(lambda: accepts(port) and "ws://127.0.0.1:%d/echo" % port)
    return s


def load(client, url, a):
    """One run of the client: its JSON figures, or an exception that says
    what went wrong."""
    argv = [client, "--connections", str(a.connections), "--seconds", str(a.seconds),
            "--warmup", str(a.warmup), "--size", str(a.size), url]
    # The client's own bounds: 10 s to connect, 5 s for the last echoes,
    # 2 s for the close replies.
    limit = a.warmup + a.seconds + 17 + 30
    r = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        raise RuntimeError("ws_load failed against %s (status %d):\n%s%s"
                           % (url, r.returncode, r.stdout, r.stderr))
    return json.loads(lines[-1])


def node_versions(build):
    try:
        with open(os.path.join(build, "node_modules", "ws", "package.json")) as f:
            ws = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        ws = "?"
    r = subprocess.run(["node", "--version"], capture_output=True, text=True)
    return ws, r.stdout.strip() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="where 11-websocket is built")
    ap.add_argument("--build", required=True, help="where bench/ws_load and node_modules are")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds run first, not counted")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3, help="runs of each server, taking turns")
    ap.add_argument("--size", type=int, default=1024, help="bytes per message")
    a = ap.parse_args()
    if not 1 <= a.rounds <= 20:
        ap.error("--rounds takes 1 to 20")
    if not 0.1 <= a.seconds <= 600:
        ap.error("--seconds takes 0.1 to 600")
    if not 0 <= a.warmup <= 60:
        ap.error("--warmup takes 0 to 60")
    if not 1 <= a.connections <= 10000:
        ap.error("--connections takes 1 to 10000")
    if not 0 <= a.size <= 1 << 20:
        ap.error("--size takes 0 to 1048576 bytes")

    client = os.path.join(a.build, "bench", "ws_load")
    if not os.access(client, os.X_OK):
        print("bench_ws: %s is missing: `make bench-ws` builds it" % client)
        return 1
    if not shutil.which("node") or not os.path.isdir(os.path.join(a.build, "node_modules", "ws")):
        print("bench_ws: node and its `ws` package are needed: run `make ws-node`")
        return 1

    tmp = tempfile.mkdtemp(prefix="sockscope-bench-ws-")
    names = ["lesson", "node"]
    runs = {n: [] for n in names}
    servers = {}
    try:
        servers["lesson"] = start_lesson(a.bin, tmp)
        servers["node"] = start_node(a.build, tmp)
        for r in range(a.rounds):
            # Take turns, and change who goes first each round.
            order = names if r % 2 == 0 else names[::-1]
            print("round %d of %d: %s" % (r + 1, a.rounds, ", then ".join(order)), flush=True)
            for n in order:
                runs[n].append(load(client, servers[n].url, a))
                servers[n].check_alive()
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as e:
        print("bench_ws: %s" % e)
        return 1
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def med(n, key):
        return statistics.median(run[key] for run in runs[n])

    ws_version, node_version = node_versions(a.build)
    labels = {"lesson": "lesson 11 (C, epoll)", "node": "node ws %s (%s)" % (ws_version,
                                                                           node_version)}
    print("\nWebSocket echo: %d connections, %d-byte text messages, one in flight per"
          % (a.connections, a.size))
    print("connection; %d rounds of %g s (after %g s of warm-up), medians of the rounds;"
          % (a.rounds, a.seconds, a.warmup))
    print("the same client (bench/ws/ws_load.c) for both, every echo checked.\n")
    ref = med("node", "msgs_per_s")
    print("%-28s %10s %12s %12s %9s" % ("server", "msgs/s", "rtt med us", "rtt p99 us",
                                        "vs node"))
    for n in names:
        mps = med(n, "msgs_per_s")
        print("%-28s %10.0f %12.1f %12.1f %8.2fx" % (labels[n], mps, med(n, "rtt_median_us"),
                                                      med(n, "rtt_p99_us"), mps / ref))
    print("\nEach round (msgs/s, rtt median / p99 us):")
    for i in range(a.rounds):
        print("  round %d: " % (i + 1) + "; ".join(
            "%s %.0f, %.1f / %.1f" % (n, runs[n][i]["msgs_per_s"], runs[n][i]["rtt_median_us"],
                                      runs[n][i]["rtt_p99_us"]) for n in names))
    print("  (client and server share the machine's %d CPUs)" % (os.cpu_count() or 0))
    ok = med("lesson", "msgs_per_s") >= ref
    print("\ntarget: msgs/s at least node ws's: %s" % ("met" if ok else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
