"""Lesson 02, the call sequence, and the tracing spine under it."""

import json
import os
import re
import select
import signal
import socket
import subprocess
import time

from harness import TracedConn, plain_only


def calls_of(events, role):
    return [e for e in events if e["kind"] == "call" and e["role"] == role]


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


def screen_lines(text):
    """The lines a terminal shows, without escape sequences or carriage returns."""
    return [ANSI.sub("", l).replace("\r", "") for l in text.split("\n")]


def assert_fits_80(lines, what):
    for line in lines:
        assert len(line) < 80, "%s: a line too wide (%d): %r" % (what, len(line), line)


def test_default_run_trace(ctx):
    """A default run traces every call in order, with LISTEN, ESTABLISHED on both sides, CLOSE_WAIT on the second closer and FIN_WAIT or TIME_WAIT on the first."""
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson("02-call-sequence"), "--port", "0", "--trace", trace], check=True)
    ev = ctx.read_trace(trace)
    for e in ev:
        for key in ("v", "ts_ns", "pid", "role", "kind", "call", "fd", "ret", "errno",
                    "local", "peer", "state", "src"):
            assert key in e, "event without %s: %s" % (key, e)
        assert e["v"] == 1

    server = calls_of(ev, "server")
    client = calls_of(ev, "client")
    names = [e["call"] for e in server]
    # The server's sequence, in order (close of the listener last).
    expect = ["socket", "setsockopt", "bind", "listen", "accept", "recv", "send", "recv",
              "close", "close"]
    it = iter(names)
    assert all(any(n == want for n in it) for want in expect), \
        "server calls %s do not contain %s in order" % (names, expect)
    cnames = [e["call"] for e in client]
    it = iter(cnames)
    assert all(any(n == want for n in it) for want in ["socket", "connect", "send", "recv", "close"]), cnames

    by = {e["call"]: e for e in server}
    assert [e for e in server if e["call"] == "listen"][0]["state"] == "LISTEN"
    acc = [e for e in server if e["call"] == "accept"][0]
    assert acc["state"] == "ESTABLISHED" and acc["ret"] >= 3
    conn = [e for e in client if e["call"] == "connect"][0]
    assert conn["state"] == "ESTABLISHED" and conn["ret"] == 0 and conn["errno"] is None
    # The 4-tuple seen from both ends is the same pair, swapped.
    assert acc["local"] == conn["peer"] and acc["peer"] == conn["local"], (acc, conn)

    # The second recv of the server returns 0 and leaves it in CLOSE_WAIT.
    recvs = [e for e in server if e["call"] == "recv"]
    assert recvs[0]["ret"] == 5 and recvs[0]["data"] == "hello" and recvs[0]["hex"] == "68656c6c6f"
    assert recvs[-1]["ret"] == 0 and recvs[-1]["state"] == "CLOSE_WAIT", recvs[-1]

    # The client closes first: after close the kernel holds its side in
    # FIN_WAIT_1/2 or TIME_WAIT (read through sock_diag).
    cclose = [e for e in client if e["call"] == "close" and e["peer"]][-1]
    assert cclose["state_src"] == "sock_diag"
    assert cclose["state"] in ("FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"), cclose
    out = r.stdout
    assert re.search(r"\[client\].*(FIN_WAIT_2|TIME_WAIT)", out), out
    assert re.search(r"\[server\]\s+fd \d+\s+TCP CLOSE_WAIT", out), out
    assert re.search(r"\[server\]\s+fd \d+\s+TCP LISTEN", out), out
    assert re.search(r"\[server\]\s+fd \d+\s+TCP ESTABLISHED", out), out
    assert re.search(r"\[client\]\s+fd \d+\s+TCP ESTABLISHED", out), out
    # After each call, the socket's state: the client shows its socket after
    # socket(), connect(), send() and recv(), then what close() left.
    shown = re.findall(r"^\[client\]\s+fd \d+\s+TCP (\w+)", out, re.M)
    assert shown[:1] == ["CLOSED"] and len(shown) >= 4, shown
    assert re.search(r"^\[client\]\s+after close: 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+$", out,
                     re.M), out
    # What it prints fits a terminal of 80 columns.
    assert_fits_80(out.splitlines(), "a default run")

    # Source positions point into the lesson.
    assert by["bind"]["src"].startswith("lessons/02-call-sequence.c:")
    # Binary-safe: every line was JSON (read_trace checked), and bytes counted.
    sends = [e for e in client if e["call"] == "send"]
    assert sends[0]["bytes"] == 5


def test_roles_in_two_processes(ctx):
    """--role server and --role client run each side alone, as in two terminals."""
    port = ctx.free_port()
    srv = ctx.start([ctx.lesson("02-call-sequence"), "--role", "server", "--port", str(port)])
    # Wait (bounded) until the server listens, as ss shows it.
    for _ in range(100):
        if ":%d " % port in ctx.ss("state", "listening"):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the server never listened on %d" % port)
    c = ctx.run([ctx.lesson("02-call-sequence"), "--role", "client", "--port", str(port)],
                check=True)
    out, err = srv.communicate(timeout=20)
    ctx.log(out)
    assert srv.returncode == 0, err
    assert "recv(): 5 bytes" in out and "CLOSE_WAIT" in out
    assert "5 bytes back" in c.stdout


def test_step_mode_on_a_terminal(ctx):
    """Step mode stops before each call with the role, file:line, the call and a sentence; one prompt shows at a time; while paused after accept the state agrees with ss; q ends both processes."""
    trace = ctx.path("t.jsonl")
    t = ctx.pty([ctx.lesson("02-call-sequence"), "--step", "--port", "0", "--trace", trace])
    prompt = "Enter=run c=continue q=quit ?=keys>"
    pos = 0
    # Press Enter at each prompt until the server's accept has returned;
    # then a process is paused at its next call.
    for step in range(40):
        pos = t.expect(prompt, timeout=10, start=pos)
        t.settle(0.2, 2)
        screen = t.text()
        # Exactly one prompt is waiting: none after the one just seen.
        assert screen.count(prompt, pos) == 0, "two prompts at once:\n" + screen[pos - 400:]
        if re.search(r"\[server\] accept\(\d+\) = \d+", screen):
            break
        t.send("\r")
    else:
        raise AssertionError("the server's accept never returned")
    screen = t.text()
    port = int(re.search(r"listening on port (\d+)", screen).group(1))
    assert "[server] step 1 at lessons/02-call-sequence.c:" in screen, screen
    assert "next: socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)" in screen
    # The first socket is fd 3 when nothing else is open; under make it
    # may be higher. Read it from the screen.
    fd = int(re.search(r"socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = (\d+)", screen).group(1))
    assert "next: bind(%d, 127.0.0.1:0)" % fd in screen
    assert "[client] step" in screen and "next: connect(%d, 127.0.0.1:%d)" % (fd, port) in screen
    # What the step showed after accept: ESTABLISHED on this very 4-tuple,
    # the same as ss says now, while the lesson waits at its next prompt.
    m = re.search(r"\[server\] accept\(\d+\) = \d+\s+then: ESTABLISHED "
                  r"127\.0\.0\.1:%d <-> 127\.0\.0\.1:(\d+)" % port, screen)
    assert m, screen
    peer_port = int(m.group(1))
    ss = ctx.ss("state", "established", "( sport = :%d )" % port)
    tuples = {tuple(l.split()[-2:]) for l in ss.splitlines() if len(l.split()) >= 2}
    want = ("127.0.0.1:%d" % port, "127.0.0.1:%d" % peer_port)
    assert want in tuples, "ss does not show %s <-> %s ESTABLISHED:\n%s" % (want + (ss,))
    # An errno-free result line and the explanation of what accept does.
    assert "Take the next waiting connection" in screen
    # ? lists the keys; readline's history brings it back with the up
    # arrow; then q quits every process of the lesson.
    t.send("?\r")
    pos = t.expect("q      quit", timeout=5, start=pos)
    pos = t.expect(prompt, timeout=5, start=pos)
    t.send("\x1b[A")  # the up arrow: the line typed before, "?"
    t.settle(0.2, 2)
    assert t.text()[pos:].rstrip().endswith("?"), "no history: %r" % t.text()[pos:]
    t.send("\r")
    t.expect("q      quit", timeout=5, start=pos)
    # Every line of the steps fits 80 columns, the source lines too.
    assert_fits_80(screen_lines(t.text()), "step mode")
    t.send("q\r")
    assert t.wait(10) == 0
    # Both processes of this run (the trace names them) have ended.
    pids = {e["pid"] for e in ctx.read_trace(trace)}
    assert len(pids) == 2, pids
    for _ in range(50):
        left = [pid for pid in pids if running(pid)]
        if not left:
            break
        time.sleep(0.1)
    assert not left, "processes left behind: %s" % left
    assert ":%d " % port not in ctx.ss("state", "listening"), "the listener was left open"


def test_step_continue(ctx):
    """c at a step prompt runs the rest of the lesson without stopping, in every process."""
    t = ctx.pty([ctx.lesson("02-call-sequence"), "--step", "--port", "0"])
    t.expect("Enter=run c=continue q=quit ?=keys>", timeout=10)
    t.send("c\r")
    assert t.wait(20) == 0
    out = t.text()
    assert out.count("Enter=run") == 1, out
    assert "close(): the listener too" in out


def running(pid):
    """The process exists and has not ended (a zombie has ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def in_accept(pid):
    """The process is blocked in accept(), as /proc says (None: cannot tell)."""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            wchan = f.read().strip()
    except OSError:
        return None
    return "accept" in wchan if wchan not in ("", "0") else None


def test_server_does_not_wait_for_a_client_that_died(ctx):
    """If the client process dies before it connects, the server's accept is interrupted: the lesson says so and ends with exit 1, it does not wait forever."""
    # Step mode through a viewer's socket: the test says "go" to each of
    # the server's calls, and none to the client's, which waits before its
    # first call until it is killed.
    path = ctx.path("viewer.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    lsock.bind(path)
    lsock.listen(4)
    srv = ctx.start([ctx.lesson("02-call-sequence"), "--step", "--port", "0"],
                    env={"SOCKSCOPE_SOCKET": path})
    conns, client, accept_go = {}, None, False
    deadline = time.time() + 20
    while time.time() < deadline and not (accept_go and client):
        ready, _, _ = select.select([lsock] + list(conns), [], [], 0.1)
        if lsock in ready:
            c = lsock.accept()[0]
            conns[c] = TracedConn(c)
        # Events wait in each process's ring; a step event comes on the
        # socket, after them.
        for s, tc in list(conns.items()):
            lines, closed = tc.messages()
            if closed:
                del conns[s]
            for line in lines:
                e = json.loads(line)
                ctx.log(line.decode(errors="replace").strip())
                if e["kind"] != "step":
                    continue
                if e["pid"] == srv.pid:
                    s.send(b"go")
                    accept_go = accept_go or e["call"] == "accept"
                else:
                    client = e["pid"]
            if closed:
                tc.close()
    assert accept_go and client, "no accept step, or no client step"
    # Let the server reach the kernel's accept (bounded), then end the client.
    for _ in range(100):
        if in_accept(srv.pid) is not False:
            break
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(client, signal.SIGKILL)
    out, err = srv.communicate(timeout=10)
    for tc in conns.values():
        tc.close()
    lsock.close()
    ctx.log(out + err)
    assert srv.returncode == 1, (srv.returncode, err)
    assert "the client ended before it connected" in err, err


def test_preload_traces_a_program_it_does_not_know(ctx):
    """A program that knows nothing of sockscope, run under LD_PRELOAD, yields a correct trace (nc as client and server)."""
    if not os.path.exists("/bin/nc") and not os.path.exists("/usr/bin/nc"):
        ctx.skip("nc (netcat-openbsd) is not installed")
    port = ctx.free_port()
    trace = ctx.path("nc.jsonl")
    env = {"LD_PRELOAD": ctx.preload, "SOCKSCOPE_TRACE": trace}
    if ctx.sanitized:
        # The sanitized library needs its runtimes loaded first. Leaks are
        # not checked here: nc's own allocations are not ours to judge.
        runtimes = [subprocess.run(["gcc", "-print-file-name=" + lib], capture_output=True,
                                   text=True).stdout.strip() for lib in ("libasan.so", "libubsan.so")]
        env["LD_PRELOAD"] = " ".join(runtimes + [ctx.preload])
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    srv = ctx.start(["nc", "-l", "127.0.0.1", str(port)], env=env)
    for _ in range(100):
        if ":%d " % port in ctx.ss("state", "listening"):
            break
        time.sleep(0.05)
    ctx.run(["nc", "-N", "127.0.0.1", str(port)], input="ping over nc\n", env=env, check=True)
    out, _ = srv.communicate(timeout=10)
    assert out == "ping over nc\n", out
    ev = ctx.read_trace(trace)
    calls = [(e["pid"], e["call"]) for e in ev if e["kind"] == "call"]
    ctx.log(calls)
    listen = [e for e in ev if e["call"] == "listen"]
    assert listen and listen[0]["state"] == "LISTEN" and listen[0]["local"] == "127.0.0.1:%d" % port
    # nc connects without blocking: connect may say EINPROGRESS, and the
    # handshake's end shows on the next call on that fd.
    conn = [e for e in ev if e["call"] == "connect" and e["errno"] in (None, "EINPROGRESS")]
    assert conn and conn[0]["peer"] == "127.0.0.1:%d" % port, conn
    later = [e for e in ev if e["pid"] == conn[0]["pid"] and e["fd"] == conn[0]["fd"]
             and e["kind"] == "call" and e["seq"] > conn[0]["seq"]]
    assert later and later[0]["state"] == "ESTABLISHED", later[:1]
    acc = [e for e in ev if e["call"] in ("accept", "accept4") and e["ret"] >= 0]
    assert acc and acc[0]["peer"] == conn[0]["local"], (acc, conn)
    sent = "".join(e.get("data", "") for e in ev
                   if e["kind"] == "call" and e["call"] in ("write", "send") and e.get("bytes", 0) > 0
                   and e["local"] and e["local"].endswith(conn[0]["local"].rsplit(":", 1)[1]))
    assert "ping over nc" in sent, sent
    got = [e for e in ev if e["call"] in ("read", "recv") and e.get("data") == "ping over nc\n"]
    assert got, "the server's read of the line is not in the trace"
    assert all(e["src"] is None for e in ev if e["kind"] == "call")


def test_error_port_taken(ctx):
    """A port already taken gets EADDRINUSE explained with its number, and exit 1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = ctx.run([ctx.lesson("02-call-sequence"), "--role", "server", "--port", str(port)])
    assert r.returncode == 1, r
    assert "bind failed: EADDRINUSE (Address already in use)" in r.stderr
    assert "127.0.0.1:%d" % port in r.stderr
    assert "--port" in r.stderr and "TIME_WAIT" in r.stderr


def test_error_nothing_listening(ctx):
    """Nothing listening gets ECONNREFUSED explained, and exit 1."""
    port = ctx.free_port()
    r = ctx.run([ctx.lesson("02-call-sequence"), "--role", "client", "--port", str(port)])
    assert r.returncode == 1, r
    assert "connect failed: ECONNREFUSED" in r.stderr
    assert "why:" in r.stderr and "hint:" in r.stderr


def test_error_unknown_host(ctx):
    """An unknown host gets a message that names it, and exit 1."""
    r = ctx.run([ctx.lesson("02-call-sequence"), "--role", "client", "--host",
                 "no-such-host.invalid", "--port", "9"])
    assert r.returncode == 1, r
    assert "no-such-host.invalid" in r.stderr and "hint:" in r.stderr


def test_error_bad_port(ctx):
    """A bad port number gets a message that says what a port is, and exit 2."""
    for bad in ("abc", "70000", "-1", ""):
        r = ctx.run([ctx.lesson("02-call-sequence"), "--port", bad])
        assert r.returncode == 2, r
        assert "port" in r.stderr and "--help" in r.stderr
    r = ctx.run([ctx.lesson("02-call-sequence"), "--port"])
    assert r.returncode == 2 and "'--port' needs a value" in r.stderr, r
    r = ctx.run([ctx.lesson("02-call-sequence"), "--bogus"])
    assert r.returncode == 2 and "unknown option '--bogus'" in r.stderr, r
    r = ctx.run([ctx.lesson("02-call-sequence"), "--help"])
    assert r.returncode == 0 and "--step" in r.stdout and "--trace FILE" in r.stdout


def per_pid(events):
    """Events of each process: {pid: count}, and the most any of them said it dropped."""
    count, dropped = {}, {}
    for e in events:
        count[e["pid"]] = count.get(e["pid"], 0) + 1
        dropped[e["pid"]] = max(dropped.get(e["pid"], 0), e.get("dropped", 0))
    return count, dropped


def test_trace_file_without_a_viewer(ctx):
    """A viewer socket that nobody serves does not stop the lesson: the file gets every event, and each process counts the events the viewer missed."""
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson("02-call-sequence"), "--port", "0", "--trace", trace],
                env={"SOCKSCOPE_SOCKET": ctx.path("nobody-here.sock")}, timeout=30, check=True)
    ev = ctx.read_trace(trace)
    calls = [e for e in ev if e["kind"] == "call"]
    assert len(calls) >= 15 and "close(): the listener too" in r.stdout, r
    count, dropped = per_pid(ev)
    assert len(count) == 2, count
    for pid in count:
        # Every event but the last was written after the ones before it
        # were missed: the last line counts them all but itself.
        assert dropped[pid] == count[pid] - 1, (pid, count, dropped)
    notes = [e["text"] for e in ev if e["kind"] == "note"]
    assert any("the viewer could not take" in n for n in notes), notes


def read_deaf_viewer(ctx, lsock, lines):
    """What a viewer that never read got, read now, process by process:
    {pid: events}. Every line it got is a line of the file."""
    got = {}
    lsock.setblocking(False)
    for _ in range(16):
        try:
            conn, _ = lsock.accept()
        except BlockingIOError:
            break
        tc = TracedConn(conn)
        for _ in range(1000):
            new, closed = tc.messages()
            for line in new:
                assert line in lines, "the viewer got a line the file lacks: %r" % line
                pid = json.loads(line)["pid"]
                got[pid] = got.get(pid, 0) + 1
            if closed or not new:
                break
        tc.close()
    lsock.close()
    return got


def deaf_viewer(ctx, name):
    path = ctx.path(name)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    lsock.bind(path)
    lsock.listen(8)
    return path, lsock


@plain_only
def test_trace_file_survives_a_slow_viewer(ctx):
    """A viewer that never reads does not block the lesson nor lose the file's events; what it could not take is counted, and what it got is the file's lines."""
    # Lesson 01 with 50 connections: some 250 events from its client, which
    # all fit in the ring a process shares with the viewer.
    path, lsock = deaf_viewer(ctx, "viewer.sock")
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson("01-addresses"), "--connections", "50", "--trace", trace],
                env={"SOCKSCOPE_SOCKET": path}, timeout=30, check=True)
    assert r.stdout.count("(client's #") == 50, r
    ev = ctx.read_trace(trace)
    with open(trace, "rb") as f:
        lines = set(f.read().splitlines(keepends=True))
    count, dropped = per_pid(ev)
    got = read_deaf_viewer(ctx, lsock, lines)
    ctx.log("lesson 01: events %s, to the viewer %s, counted as dropped %s" % (count, got, dropped))
    assert set(count) == set(got), (count, got)
    for pid in count:
        missed = count[pid] - got[pid]
        # The last line written counts every miss before it; the last event
        # may itself be missed too.
        assert dropped[pid] <= missed <= dropped[pid] + 1, (pid, count, got, dropped)

    # A program making 20,000 calls a second for 1 s writes some 6 MB of
    # events, far more than the ring holds while nobody reads: it is not
    # held up, the file still gets every event, and what the viewer missed
    # is counted and said.
    path, lsock = deaf_viewer(ctx, "viewer2.sock")
    trace = ctx.path("flood.jsonl")
    flood = os.path.join(ctx.build, "tests", "progs", "flood")
    r = ctx.run([flood, "--rate", "20000", "--seconds", "1"],
                env={"SOCKSCOPE_SOCKET": path, "SOCKSCOPE_TRACE": trace}, timeout=60, check=True)
    m = re.search(r"flood dropped (\d+) calls (\d+) seconds ([\d.]+)", r.stdout)
    assert m, r
    assert float(m.group(3)) < 3, "the flood was held up: %s" % r.stdout
    ev = ctx.read_trace(trace)
    assert sum(1 for e in ev if e.get("call") == "getsockopt") == int(m.group(2)), "the file lost events"
    with open(trace, "rb") as f:
        lines = set(f.read().splitlines(keepends=True))
    count, dropped = per_pid(ev)
    got = read_deaf_viewer(ctx, lsock, lines)
    ctx.log("flood: events %s, to the viewer %s, counted as dropped %s" % (count, got, dropped))
    for pid in count:
        missed = count[pid] - got.get(pid, 0)
        assert dropped[pid] <= missed <= dropped[pid] + 1, (pid, count, got, dropped)
    assert sum(dropped.values()) > 0, "nothing dropped: %s %s" % (count, got)
    notes = [e["text"] for e in ev if e["kind"] == "note"]
    assert any("the viewer could not take" in n for n in notes), notes
