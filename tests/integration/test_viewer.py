"""The viewer (bin/sockscope): a lesson's sockets change state on screen
as it runs, one call at a time.

Each test runs the real viewer on a pseudo-terminal and reads its screen
from the text dump it writes after every redraw (--dump-screen FILE), which
is the same drawing code that fills the terminal.
"""
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import termios
import time

from harness import plain_only

ENV = {"TERM": "xterm", "LC_ALL": "C.UTF-8"}


class Viewer:
    """bin/sockscope run ... on a pty, its screen read from the dump."""

    def __init__(self, ctx, args, rows=30, cols=100, env=None, shell_wrap=False, prefix=()):
        self.ctx = ctx
        self.dump = ctx.path("screen-%d.txt" % len(os.listdir(ctx.tmp)))
        self.rt = ctx.path("rt")
        os.makedirs(self.rt, exist_ok=True)
        os.chmod(self.rt, 0o700)
        e = dict(ENV)
        e["XDG_RUNTIME_DIR"] = self.rt
        if env:
            e.update(env)
        argv = list(prefix) + [ctx.lesson("sockscope"), "run", "--dump-screen", self.dump] + args
        if shell_wrap:
            # The terminal's settings before and after, to compare.
            self.before, self.after = ctx.path("stty-before"), ctx.path("stty-after")
            cmd = "stty -g > %s; %s; echo viewer-exit $?; stty -g > %s" % (
                self.before, " ".join("'%s'" % a for a in argv), self.after)
            argv = ["/bin/sh", "-c", cmd]
        self.term = ctx.pty(argv, env=e, rows=rows, cols=cols)

    def screen(self):
        try:
            with open(self.dump, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait(self, pred, what, timeout=15):
        """Wait until pred(screen) holds; return the screen."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen()
            if pred(s):
                return s
            self.term._pump(0.05)
        self.ctx.log("--- the screen ---\n" + self.screen())
        raise AssertionError("expected on the viewer's screen within %ss: %s" % (timeout, what))

    def settle(self, quiet=0.5, limit=8):
        """Read until the screen has not changed for `quiet` seconds."""
        last, since = self.screen(), time.time()
        deadline = time.time() + limit
        while time.time() < deadline:
            self.term._pump(0.05)
            s = self.screen()
            if s != last:
                last, since = s, time.time()
            elif time.time() - since >= quiet:
                break
        return last

    def key(self, k):
        self.term.send(k)

    def resize(self, rows, cols):
        fcntl.ioctl(self.term.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.ctx.log("resized to %dx%d" % (cols, rows))

    def quit(self, timeout=15):
        self.key("q")
        rc = self.term.wait(timeout)
        self.clean()
        return rc

    def clean(self):
        """No sanitizer report on the terminal."""
        if self.ctx.sanitized:
            out = self.term.output
            for word in (b"AddressSanitizer", b"LeakSanitizer", b"runtime error:"):
                assert word not in out, "sanitizer report:\n" + self.term.text()


def columns(screen):
    """The endpoints pane: {role: [lines]} for each process column."""
    lines = screen.split("\n")
    start = next((i for i, l in enumerate(lines) if "Endpoints" in l), None)
    if start is None:
        return {}
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("\u2500 ") or lines[i].startswith("- ")), len(lines))
    rows = [l.split("\u2502") for l in lines[start + 1:end]]
    if not rows:
        return {}
    cols = {}
    for k, head in enumerate(rows[0]):
        words = head.split()
        if not words:
            continue
        cols.setdefault(words[0], []).extend(r[k] if k < len(r) else "" for r in rows[1:])
    return cols


def text_of(col):
    return "\n".join(col)


def status(screen):
    return screen.split("\n", 1)[0]


def lesson02(ctx, rows=30, cols=100, **kw):
    return Viewer(ctx, ["02", "--step", "--", "--port", "0"], rows=rows, cols=cols, **kw)


def test_stepping_lesson02_shows_each_state_at_its_call(ctx):
    """Stepping lesson 02 one call at a time shows LISTEN after listen, ESTABLISHED on both ends after the handshake, the 5 bytes sent waiting in the server's receive queue until its recv, then CLOSE_WAIT and FIN_WAIT_2 or TIME_WAIT after the client's close."""
    v = lesson02(ctx)
    v.wait(lambda s: "next [server] socket(" in s, "the first call waiting for a go")
    s = v.screen()
    assert "step: paused" in status(s), status(s)
    screens = []

    def col(s, role):
        return text_of(columns(s).get(role, []))

    def step(key):
        v.key(key)
        s = v.settle()
        screens.append(s)
        ctx.log("--- after %r (screen %d) ---\n%s" % (key, len(screens) - 1, s))
        return s

    # Up to the handshake, one call at a time, whichever side waited longest.
    for _ in range(25):
        s = step("n")
        if re.search(r"\[client\] connect\(3, [^)]*\) = 0", s):
            # The server's accept, let go earlier, returns with the handshake.
            s = v.wait(lambda s: "accept(3) = 4" in s, "the server's accept returning")
            break
    assert "ESTABLISHED" in col(s, "server") and "ESTABLISHED" in col(s, "client"), s

    # Now the client alone: its send fills the server's receive queue,
    # which the server has not read yet.
    for _ in range(10):
        if "TCP states: client" in s:
            break
        v.key("\t")
        s = v.settle(quiet=0.3)
    assert "TCP states: client" in s, "Tab did not select the client's socket"
    s = step("s")
    assert '[client] send(3, "hello", 5, 0) = 5' in s, s
    s = v.wait(lambda s: re.search(r"rx\[[^\]]*\]5\b", col(s, "server")),
               "the server's receive queue holding the 5 bytes")
    assert '5 B "hello" 68 65 6c 6c 6f' in s
    assert "recv(4" not in s.split("Calls", 1)[-1], "the server read before its step"

    for _ in range(30):
        s = step("n")
        if "ended" in status(s):
            break
    assert "ended" in status(screens[-1]), "the lesson did not reach its end"

    def first(pred):
        return next((i for i, s in enumerate(screens) if pred(s)), None)

    listen_call = first(lambda s: "listen(3, 8) = 0" in s)
    listen = first(lambda s: "LISTEN (tcp_info)" in col(s, "server"))
    assert listen is not None and listen == listen_call, (listen, listen_call)

    connect_call = first(lambda s: re.search(r"\[client\] connect\(3, [^)]*\) = 0", s))
    both = first(lambda s: "ESTABLISHED" in col(s, "server") and "ESTABLISHED" in col(s, "client"))
    assert connect_call is not None and both is not None and both >= connect_call, (
        connect_call, both)
    assert both > listen

    close_call = first(lambda s: "[client] close(3) = 0" in s.split("Calls", 1)[-1]
                       and "ESTABLISHED" not in col(s, "client"))
    close_wait = first(lambda s: "CLOSE_WAIT" in col(s, "server"))
    fin = first(lambda s: re.search(r"FIN_WAIT_2|TIME_WAIT", col(s, "client")))
    assert close_call is not None, "the client's close was not seen"
    assert close_wait is not None and close_wait >= close_call - 1 and close_wait > both, (
        close_wait, close_call)
    assert fin is not None and fin >= close_call - 1 and fin > both, (fin, close_call)
    # TIME_WAIT after close: only the kernel knows it, through sock_diag.
    assert any("TIME_WAIT (sock_diag)" in col(s, "client") for s in screens)
    assert v.quit() == 0


def calls(screen):
    return int(re.search(r"calls (\d+)", status(screen)).group(1))


def test_c_runs_on_and_p_pauses_again(ctx):
    """c lets the lesson run on by itself, one call after another; p holds it again before the next call, and faster speeds take it to its end."""
    v = lesson02(ctx)
    v.wait(lambda s: "next [server] socket(" in s, "the first call waiting")
    v.key("c")
    v.wait(lambda s: calls(s) >= 3, "three calls run without a key each")
    assert "step: running" in status(v.screen())
    v.key("p")
    s = v.settle(quiet=1.5)
    assert "step: paused" in status(s), status(s)
    held = calls(s)
    s = v.settle(quiet=1.5)
    assert calls(s) == held, "calls ran while paused"
    assert "next [" in s
    v.key("c++++")
    s = v.wait(lambda s: "ended" in status(s), "the lesson's end at full speed")
    assert "speed 0ms" in status(s)
    assert v.quit() == 0


def test_resizing_while_running_keeps_the_key_bar(ctx):
    """Resized to 80x24 and to 200x60 while the lesson runs, the viewer redraws to the new size with its key bar on the last row."""
    v = lesson02(ctx)
    v.wait(lambda s: "next [server] socket(" in s, "the first call waiting")
    for _ in range(6):
        v.key("n")
    for rows, cols in ((24, 80), (60, 200), (24, 80)):
        v.resize(rows, cols)
        s = v.wait(lambda s: len(s.rstrip("\n").split("\n")) == rows, "%d rows" % rows)
        lines = s.rstrip("\n").split("\n")
        assert "q quit" in lines[-1], lines[-1]
        assert max(len(l) for l in lines) <= cols
        assert "Endpoints" in s and "TCP states" in s
        v.key("n")
    # The big screen has room for the whole state diagram.
    v.resize(60, 200)
    s = v.wait(lambda s: "rcv SYN+ACK" in s, "the full state diagram at 200x60")
    assert v.term.poll() is None, "the viewer ended"
    assert v.quit() == 0


def test_quitting_restores_the_terminal_and_leaves_nothing(ctx):
    """Quitting mid-lesson gives the terminal back as it was, ends the lesson's processes and removes the viewer's socket."""
    v = lesson02(ctx, shell_wrap=True)
    v.wait(lambda s: "next [server] socket(" in s, "the first call waiting")
    for _ in range(8):
        v.key("n")
    s = v.settle()
    pids = [int(p) for p in re.findall(r"(?:server|client) (\d+)", s)]
    assert pids, s
    assert len(os.listdir(v.rt)) == 1, "the viewer's private directory"
    v.key("q")
    v.term.expect("viewer-exit 0", timeout=15)
    v.term.wait(10)
    v.clean()
    out = v.term.output
    assert b"\x1b[?1049l" in out, "the alternate screen was not left"
    with open(v.before) as b, open(v.after) as a:
        assert b.read() == a.read(), "the terminal's settings differ after quit"
    assert os.listdir(v.rt) == [], os.listdir(v.rt)
    for pid in pids:
        assert not alive(pid), "process %d of the lesson still runs" % pid


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_crashing_program_leaves_the_viewer_usable(ctx):
    """When the program crashes, the viewer says so and, on quit, restores the terminal and removes its socket."""
    flood = os.path.join(ctx.build, "tests", "progs", "flood")
    v = Viewer(ctx, ["--no-preload", "--", flood, "--crash"], shell_wrap=True,
               env={"ASAN_OPTIONS": "detect_leaks=1:handle_abort=0"})
    s = v.wait(lambda s: "ended" in status(s), "the program's end")
    assert "signal 6" in s, status(s)
    assert "tcp" in s
    v.key("q")
    v.term.expect("viewer-exit 0", timeout=15)
    v.term.wait(10)
    v.clean()
    assert b"\x1b[?1049l" in v.term.output
    with open(v.before) as b, open(v.after) as a:
        assert b.read() == a.read()
    assert os.listdir(v.rt) == []


def preload_env(ctx):
    env = {}
    if ctx.sanitized:
        # The sanitized library needs its runtimes loaded first.
        runtimes = [subprocess.run(["gcc", "-print-file-name=" + lib], capture_output=True,
                                   text=True).stdout.strip() for lib in ("libasan.so", "libubsan.so")]
        env["SOCKSCOPE_PRELOAD_LIB"] = " ".join(runtimes + [ctx.preload])
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def test_nc_under_the_viewer_shows_its_sockets(ctx):
    """nc run under the viewer shows its listening socket, the connection it accepts, and the untraced client's end as the kernel sees it."""
    if not os.path.exists("/bin/nc") and not os.path.exists("/usr/bin/nc"):
        ctx.skip("nc (netcat-openbsd) is not installed")
    port = ctx.free_port()
    v = Viewer(ctx, ["--", "nc", "-l", "127.0.0.1", str(port)], cols=120, env=preload_env(ctx))
    s = v.wait(lambda s: "LISTEN" in text_of(columns(s).get("nc", [])), "nc's listening socket")
    assert "127.0.0.1:%d" % port in text_of(columns(s)["nc"])
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        c.sendall(b"ping\n")
        s = v.wait(lambda s: "ESTABLISHED" in text_of(columns(s).get("nc", []))
                   and "kernel" in columns(s), "nc's connection and the client's end")
        me = "127.0.0.1:%d" % c.getsockname()[1]
        assert me in text_of(columns(s)["kernel"]), s
        assert "ESTABLISHED (sock_diag)" in text_of(columns(s)["kernel"])
        v.wait(lambda s: "ping" in s, "nc's output in its pane")
    finally:
        c.close()
    assert v.quit() == 0


@plain_only
def test_a_flood_of_calls_is_never_held_up(ctx):
    """A program making 20,000 calls a second is never held up by the viewer, and what the viewer could not take is counted on screen."""
    flood = os.path.join(ctx.build, "tests", "progs", "flood")
    for rate, seconds in ((20000, 3), (300000, 1)):
        v = Viewer(ctx, ["--no-preload", "--", flood, "--rate", str(rate), "--seconds",
                         str(seconds)], rows=40, cols=160)
        s = v.wait(lambda s: "ended" in status(s), "the flood's end", timeout=seconds + 30)
        m = re.search(r"flood dropped (\d+) calls (\d+) seconds ([\d.]+) max_call_us (\d+)", s)
        assert m, s
        dropped, calls, took = int(m.group(1)), int(m.group(2)), float(m.group(3))
        ctx.log("rate %d: %d calls in %.1fs, longest call %sus, dropped %d"
                % (rate, calls, took, m.group(4), dropped))
        shown = int(re.search(r"dropped (\d+)", status(s)).group(1))
        assert shown == dropped, (shown, dropped)
        if rate > 20000:
            assert dropped > 0, "a burst this fast should outrun the viewer"
        assert v.quit() == 0


def test_render_draws_a_trace_without_a_terminal(ctx):
    """sockscope render prints the screen at any event of a trace as text, the same each time, in ASCII when the locale is not UTF-8."""
    trace = ctx.path("t.jsonl")
    ctx.run([ctx.lesson("02-call-sequence"), "--port", "0", "--trace", trace], check=True)
    ev = ctx.read_trace(trace)
    n = next(i for i, e in enumerate(ev) if e["call"] == "listen") + 1
    argv = [ctx.lesson("sockscope"), "render", trace, "--at", str(n), "--size", "100x30"]
    a = ctx.run(argv, env={"LC_ALL": "C.UTF-8"}, check=True).stdout
    b = ctx.run(argv, env={"LC_ALL": "C.UTF-8"}, check=True).stdout
    assert a == b
    lines = a.rstrip("\n").split("\n")
    assert len(lines) == 30 and max(len(l) for l in lines) <= 100
    assert "LISTEN (tcp_info)" in text_of(columns(a)["server"])
    assert "listen(3, 8) = 0" in a and "q quit" in lines[-1]
    plain = ctx.run(argv, env={"LC_ALL": "C"}, check=True).stdout
    assert plain.isascii() and "LISTEN" in plain
    bad = ctx.run([ctx.lesson("sockscope"), "render", trace, "--size", "huge"])
    assert bad.returncode == 2 and "COLSxROWS" in bad.stderr


def test_the_menu_lists_the_lessons(ctx):
    """With no arguments sockscope shows the menu of lessons, without colour when NO_COLOR is set; Enter runs a lesson under the viewer, q returns to the menu and q leaves it."""
    t = ctx.pty([ctx.lesson("sockscope")], env=dict(ENV, NO_COLOR="1", TERM="xterm-256color"))
    t.expect("The call sequence")
    t.expect("WebSocket")
    t.settle(0.3)
    # 0 2 Enter: lesson 02 under the viewer; q comes back to the menu.
    t.send("02\r")
    mark = t.expect("step: paused", timeout=15)
    t.settle(0.5)
    t.send("q")
    t.expect("The call sequence", start=mark, timeout=15)
    t.settle(0.3)
    t.send("q")
    assert t.wait(10) == 0
    assert not re.search(rb"\x1b\[(3|4)[0-7]m", t.output), "colour despite NO_COLOR"
    r = ctx.run([ctx.lesson("sockscope"), "list"], check=True)
    assert "02  The call sequence" in r.stdout and "04" in r.stdout
    r = ctx.run([ctx.lesson("sockscope"), "run", "99"])
    assert r.returncode == 2 and "sockscope list" in r.stderr


def record_lesson02(ctx):
    """Record lesson 02 run to its end; return the recording's directory."""
    rec = ctx.path("recording")
    v = Viewer(ctx, ["02", "--step", "--record", rec, "--keys", "c++++", "--", "--port", "0"])
    v.wait(lambda s: "ended" in status(s), "the lesson's end", timeout=30)
    v.settle()
    assert v.quit() == 0
    assert os.path.exists(os.path.join(rec, "timeline.jsonl"))
    return rec


def body(screen):
    """The screen below its status line (which names the mode)."""
    return screen.split("\n", 1)[1]


def test_a_recording_replays_the_same_screen(ctx):
    """A recorded session replays deterministically: two dumps at the same event are identical, and stepping back then forward returns to the same screen."""
    rec = record_lesson02(ctx)
    lines = open(os.path.join(rec, "timeline.jsonl")).read().splitlines()
    kinds = [json.loads(l)["kind"] for l in lines]
    ctx.log("recorded %d entries: %s" % (len(lines), sorted(set(kinds))))
    assert {"proc", "call", "step", "output", "viewer"} <= set(kinds)
    listen = next(i for i, l in enumerate(lines) if '"call":"listen"' in l and '"kind":"call"' in l)
    argv = [ctx.lesson("sockscope"), "replay", rec, "--size", "100x30", "--dump-at"]
    a = ctx.run(argv + [str(listen + 1)], check=True).stdout
    b = ctx.run(argv + [str(listen + 1)], check=True).stdout
    assert a == b
    assert "LISTEN (tcp_info)" in text_of(columns(a)["server"])
    end = ctx.run(argv + [str(len(lines))], check=True).stdout
    assert "TIME_WAIT" in end or "FIN_WAIT_2" in end

    # The same recording played on a terminal: to the end, back one, forward one.
    dump = ctx.path("replay-screen.txt")
    t = ctx.pty([ctx.lesson("sockscope"), "replay", rec, "--dump-screen", dump],
                env=ENV, rows=30, cols=100)
    v = Viewer.__new__(Viewer)
    v.ctx, v.dump, v.term = ctx, dump, t
    v.wait(lambda s: "event 0 of %d" % len(lines) in s, "the replay at its start")
    v.key("G")
    at_end = v.wait(lambda s: "event %d of" % len(lines) in s, "the replay at its end")
    v.key("b")
    v.wait(lambda s: "event %d of" % (len(lines) - 1) in s, "one event back")
    v.key("n")
    again = v.wait(lambda s: "event %d of" % len(lines) in s, "one event forward")
    assert again == at_end
    assert body(again) == body(end), "the terminal's screen and --dump-at differ"
    assert v.quit() == 0


def test_a_damaged_recording_replays_what_is_intact(ctx):
    """A recording with a corrupt line and a last line cut short gets a clear message and replays the entries that are intact."""
    rec = record_lesson02(ctx)
    path = os.path.join(rec, "timeline.jsonl")
    lines = open(path).read().splitlines(True)
    good = len(lines)
    lines.insert(5, "this is not json\n")
    lines.append(lines[-1][: len(lines[-1]) // 2])
    with open(path, "w") as f:
        f.writelines(lines)
    r = ctx.run([ctx.lesson("sockscope"), "replay", rec, "--dump-at", "100000"])
    assert r.returncode == 0, r
    assert "line 6" in r.stderr and "cut short" in r.stderr, r.stderr
    assert "event %d of %d" % (good, good) in r.stdout
    r = ctx.run([ctx.lesson("sockscope"), "replay", ctx.path("nothing-here"), "--dump-at", "1"])
    assert r.returncode == 1 and "cannot read" in r.stderr, r


MERMAID_LINE = [
    re.compile(r"^sequenceDiagram$"),
    re.compile(r"^    participant (\w+) as [^;#\n]+$"),
    re.compile(r"^    (\w+)-?->>(\w+): [^;\n]*$"),
    re.compile(r"^    Note over (\w+): [^;\n]*$"),
]


def test_export_writes_the_session_as_a_sequence_diagram(ctx):
    """The Mermaid export of lesson 02 is a well-formed sequence diagram: connect, send and close go from the client to the server, each side's calls in order."""
    rec = record_lesson02(ctx)
    out = ctx.run([ctx.lesson("sockscope"), "export", rec, "--mermaid"], check=True).stdout
    lines = out.rstrip("\n").split("\n")
    assert lines[0] == "sequenceDiagram"
    declared, used = set(), set()
    for n, line in enumerate(lines[1:], 2):
        m = next((r.match(line) for r in MERMAID_LINE if r.match(line)), None)
        assert m, "line %d is not sequenceDiagram syntax: %r" % (n, line)
        if line.startswith("    participant"):
            assert not used, "participant declared after a message (line %d)" % n
            declared.add(m.group(1))
        else:
            used.update(g for g in m.groups())
    assert used <= declared, used - declared
    roles = dict(re.findall(r"participant (\w+) as (\w+)", out))
    server = next(k for k, v in roles.items() if v == "server")
    client = next(k for k, v in roles.items() if v == "client")
    # Each process's calls in the order it made them (the two processes'
    # messages interleave in the order the viewer received them).
    for chain in (("%s->>%s: connect(" % (client, server), '%s->>%s: send(3, "hello"' % (
                   client, server), "%s->>%s: close(3)" % (client, server)),
                  ("%s->>%s: listen(" % (server, server), "%s->>%s: accept(" % (server, server),
                   '%s->>%s: send(4, "hello"' % (server, client),
                   "%s->>%s: close(4)" % (server, client))):
        order = [out.index(s) for s in chain]
        assert order == sorted(order), (chain, order)
    text = ctx.run([ctx.lesson("sockscope"), "export", rec, "--text"], check=True).stdout
    assert "client -> server     connect(" in text


FLAG_BITS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "URG": 0x20, "ACK": 0x10}


def wire(screen):
    """The wire pane's lines."""
    lines = screen.split("\n")
    start = next((i for i, l in enumerate(lines) if "Wire (" in l), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("\u2500 ") or lines[i].startswith("- ")), len(lines))
    return lines[start + 1:end]


def test_the_sandbox_shows_the_wire_and_records_a_pcap(ctx):
    """In the sandbox (no privilege on the host), the viewer captures lesson 02: its wire shows the handshake as SYN, SYN+ACK, ACK, each once, and a FIN from each side; the recording's pcap opens in tshark with the same segments, field by field; a captured FIN is named as the cause of CLOSE_WAIT; the Mermaid export draws the segments between client and server."""
    rec = ctx.path("sandboxed")
    v = Viewer(ctx, ["02", "--step", "--sandbox", "--record", rec, "--keys", "c++++", "--",
                     "--port", "0"], rows=40, cols=120)
    deadline = time.time() + 15
    while time.time() < deadline and v.term.poll() is None and not v.screen():
        v.term._pump(0.05)
    if not v.screen():
        out = v.term.text()
        if "namespace" in out:
            ctx.skip("this system forbids unprivileged user namespaces: " + out.strip()[-200:])
        raise AssertionError("the viewer did not start in its sandbox:\n" + out)
    screen = v.wait(lambda s: "ended" in status(s) and "FIN" in "\n".join(wire(s)),
                    "the lesson's end, its FIN on the wire", timeout=30)
    assert "CAP_NET_RAW" not in screen, "capture failed inside the sandbox"
    assert v.quit() == 0

    entries = [json.loads(l) for l in open(os.path.join(rec, "timeline.jsonl"))]
    pkts = [e for e in entries if e["kind"] == "packet" and e["proto"] == "tcp"]
    ctx.log("\n".join("%s > %s %s seq %d ack %d len %d" % (p["src"], p["dst"], p["flags"], p["seq"],
                                                         p["ack"], p["len"]) for p in pkts))
    flags = [p["flags"] for p in pkts]
    assert flags[:3] == ["SYN", "SYN+ACK", "ACK"], flags
    assert flags.count("SYN") == 1 and flags.count("SYN+ACK") == 1, flags
    client, server = pkts[0]["src"], pkts[0]["dst"]
    fins = [p for p in pkts if "FIN" in p["flags"]]
    assert [f["src"] for f in fins] == [client, server], fins

    # The pcap holds the same segments as the timeline (the sandbox's
    # loopback carries nothing else).
    if shutil.which("tshark") is None:
        ctx.skip("tshark is not installed")
    pcap = os.path.join(rec, "packets.pcap")
    info = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=,",
                           "-e", "frame.cap_len", "-e", "frame.len", "-e", "ip.src",
                           "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport",
                           "-e", "tcp.flags", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len",
                           "-e", "tcp.window_size"],
                          capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    rows = [line.split(",") for line in info.stdout.splitlines() if line]
    assert len(rows) == len(pkts), "tshark read %d packets, the timeline has %d" % (
        len(rows), len(pkts))
    for row, p in zip(rows, pkts):
        caplen, length, src, sport, dst, dport, fl, seq, ack, tlen, win = row
        assert caplen == length, "a packet cut by the snaplen: %s" % row
        assert "%s:%s" % (src, sport) == p["src"] and "%s:%s" % (dst, dport) == p["dst"]
        assert int(fl, 16) == sum(FLAG_BITS[f] for f in p["flags"].split("+")), (row, p)
        assert int(seq) == p["seq"] and int(tlen) == p["len"] and int(win) == p["win"], (row, p)
        assert int(ack) == p["ack"] or (p["flags"] == "SYN" and p["ack"] == 0), (row, p)
    # Whole packets, with the link type of the interface the recording
    # names: Ethernet-like on "lo", Linux cooked v2 on "any".
    iface = json.load(open(os.path.join(rec, "meta.json")))["capture"]
    want = {"lo": ("262144", "Ethernet"), "any": ("65599", "Linux cooked-mode capture v2")}
    assert iface in want, iface
    snap = subprocess.run(["capinfos", "-l", "-E", pcap], capture_output=True, text=True,
                          timeout=60)
    if snap.returncode == 0:
        assert all(w in snap.stdout for w in want[iface]), (iface, snap.stdout)

    # Somewhere in the replay, the server's CLOSE_WAIT names the FIN it got.
    argv = [ctx.lesson("sockscope"), "replay", rec, "--size", "120x40", "--dump-at"]
    causes = set()
    for n in range(len(entries) + 1):
        out = ctx.run(argv + [str(n)], check=True).stdout
        causes.update(l.strip() for l in out.split("\n") if "-> CLOSE_WAIT" in l or
                      "\u2192 CLOSE_WAIT" in l)
    ctx.log("causes: %s" % causes)
    assert any("rcv FIN" in c and "frame" in c for c in causes), causes

    out = ctx.run([ctx.lesson("sockscope"), "export", rec, "--mermaid"], check=True).stdout
    ctx.log(out)
    roles = dict(re.findall(r"participant (\w+) as (\w+)", out))
    srv = next(k for k, r in roles.items() if r == "server")
    cli = next(k for k, r in roles.items() if r == "client")
    hs = [out.index("%s-->>%s: SYN seq=0" % (cli, srv)),
          out.index("%s-->>%s: SYN+ACK seq=0 ack=1" % (srv, cli)),
          out.index("%s-->>%s: ACK seq=1 ack=1" % (cli, srv))]
    assert hs == sorted(hs), hs

    # Without its pcap file, the recording says so and still replays its packets.
    os.unlink(pcap)
    r = ctx.run(argv + [str(len(entries))])
    assert r.returncode == 0 and "packets.pcap is missing" in r.stderr, r
    assert "FIN" in "\n".join(wire(r.stdout)), r.stdout


def test_without_cap_net_raw_the_viewer_says_how_to_get_packets(ctx):
    """Without CAP_NET_RAW, the viewer says so in its status line, names the ways to get packets (root, setcap, the sandbox) in the wire pane, and goes on with the calls and kernel states."""
    prefix = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            ctx.skip("setpriv is not installed to drop CAP_NET_RAW")
        prefix = (shutil.which("setpriv"), "--bounding-set=-net_raw", "--inh-caps=-net_raw")
    v = Viewer(ctx, ["02", "--step", "--", "--port", "0"], rows=24, cols=80, prefix=prefix)
    first = v.wait(lambda s: "CAP_NET_RAW" in status(s), "the status line's CAP_NET_RAW")
    text = " ".join(l.strip() for l in wire(first))
    assert "root" in text and "setcap cap_net_raw+ep" in text and "--sandbox" in text, text
    v.key("c")
    end = v.wait(lambda s: "ended" in status(s), "the lesson's end without packets", timeout=30)
    assert "TIME_WAIT" in end or "FIN_WAIT_2" in end
    assert v.quit() == 0
