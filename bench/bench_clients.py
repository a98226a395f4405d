#!/usr/bin/env python3
"""Lesson 09's large run: N clients held at once by one epoll server.

    bench_clients.py --bin DIR [--build DIR] [--clients N]

Runs `09-many-clients --clients N` (default 10,000) and prints what it
reports: the time to connect all N, the server's resident memory and the
cost per connection (in the process, and in the kernel's slabs). Next to
it, measured in the same run, the same job done by a peer: an echo server
written with Python's selectors (epoll underneath), connected to by N
non-blocking Python clients, 256 handshakes at a time like the lesson.
"""
import argparse
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import time

PEER_SERVER = r"""
import selectors, socket, sys
n = int(sys.argv[1])
sel = selectors.EpollSelector()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(4096)
ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ)
print(ls.getsockname()[1], flush=True)
held = closed = 0
while closed < n:
    for key, _ in sel.select(1.0):
        if key.fileobj is ls:
            while True:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    break
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                held += 1
                if held == n:
                    print("held", flush=True)
                    sys.stdin.readline()   # the bench reads our RSS now
        else:
            data = key.fileobj.recv(64)
            if data:
                key.fileobj.send(data)
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                closed += 1
"""


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def slab_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return -1


def peer(n):
    """The Python peer: returns (connect seconds, server RSS KiB, RSS before, slab KiB delta)."""
    srv = subprocess.Popen([sys.executable, "-c", PEER_SERVER, str(n)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        rss0 = rss_kib(srv.pid)
        slab0 = slab_kib()
        sel = selectors.EpollSelector()
        socks = []
        done = 0
        t0 = time.monotonic()
        deadline = t0 + 120
        while done < n:
            while len(socks) < n and len(socks) - done < 256:
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                sel.register(s, selectors.EVENT_WRITE)
                socks.append(s)
            for key, _ in sel.select(1.0):
                err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
                sel.unregister(key.fileobj)
                done += 1
            if time.monotonic() > deadline:
                raise RuntimeError("the peer connected only %d of %d in 120 s" % (done, n))
        took = time.monotonic() - t0
        assert srv.stdout.readline().strip() == "held"
        rss = rss_kib(srv.pid)
        slab = slab_kib() - slab0
        srv.stdin.write("\n")
        srv.stdin.flush()
        for s in socks:
            s.close()
        srv.wait(timeout=60)
        return took, rss, rss0, slab
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def lesson(bin_dir, n):
    out = subprocess.run([os.path.join(bin_dir, "09-many-clients"), "--clients", str(n)],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        sys.stdout.write(out.stdout + out.stderr)
        raise RuntimeError("09-many-clients --clients %d failed" % n)
    text = out.stdout
    took = float(re.search(r"all \d+ clients connected in ([\d.]+) ms", text).group(1)) / 1e3
    m = re.search(r"server RSS (\d+) KiB, (\d+) KiB before", text)
    slab = int(re.search(r"kernel slab memory grew (-?\d+) KiB", text).group(1))
    held = int(re.search(r"counts (\d+) ESTABLISHED", text).group(1))
    return took, int(m.group(1)), int(m.group(2)), slab, held


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="where 09-many-clients is built")
    ap.add_argument("--build", help="unused; accepted for run_bench.py")
    ap.add_argument("--clients", type=int, default=10000)
    a = ap.parse_args()
    n = a.clients
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 64:
        print("bench_clients: the hard limit on open files is %d, below the %d that %d "
              "clients need; run it with fewer --clients, or raise the limit as root"
              % (hard, n + 64, n))
        return 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    l_took, l_rss, l_rss0, l_slab, held = lesson(a.bin, n)
    p_took, p_rss, p_rss0, p_slab = peer(n)
    print("lesson 09 large run: %d clients held at once by one epoll server" % n)
    print("  %-34s %14s %14s" % ("", "lesson 09 (C)", "python peer"))
    print("  %-34s %14.0f %14.0f" % ("time to connect all, ms", l_took * 1e3, p_took * 1e3))
    print("  %-34s %14.1f %14.1f" % ("per connection, us", l_took * 1e6 / n, p_took * 1e6 / n))
    print("  %-34s %14d %14d" % ("server RSS holding all, KiB", l_rss, p_rss))
    print("  %-34s %14d %14d" % ("server RSS before, KiB", l_rss0, p_rss0))
    print("  %-34s %14.0f %14.0f" % ("server RSS per connection, bytes",
                                     (l_rss - l_rss0) * 1024 / n, (p_rss - p_rss0) * 1024 / n))
    print("  %-34s %14.0f %14.0f" % ("kernel slab per socket, bytes",
                                     l_slab * 1024 / (2 * n), p_slab * 1024 / (2 * n)))
    print("  (the kernel counted %d ESTABLISHED on the lesson's port; slab figures are\n"
          "   machine-wide and count both ends of each connection)" % held)
    return 0


if __name__ == "__main__":
    sys.exit(main())
