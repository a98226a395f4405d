"""Lesson 08, TCP states: every state held, as the kernel and ss report it."""

import os
import re
import select
import shutil
import subprocess
import time

LESSON = "08-tcp-states"

# The tour's states in order, as the lesson reports them (who, state).
TOUR = [("listener", "LISTEN"), ("client", "SYN_SENT"), ("server", "SYN_RECEIVED"),
        ("client", "ESTABLISHED"), ("server", "ESTABLISHED"),
        ("server", "FIN_WAIT_1"), ("server", "FIN_WAIT_2"), ("server", "TIME_WAIT"),
        ("server", "CLOSE_WAIT"), ("server", "LAST_ACK"),
        ("server", "CLOSING"), ("server", "TIME_WAIT"), ("client", "TIME_WAIT"),
        ("server", "CLOSE_WAIT"), ("client", "FIN_WAIT_2"),
        ("client", "CLOSED"), ("server", "CLOSED")]

# ss names the states its own way.
SS_NAME = {"ESTABLISHED": "ESTAB", "FIN_WAIT_1": "FIN-WAIT-1", "FIN_WAIT_2": "FIN-WAIT-2",
           "TIME_WAIT": "TIME-WAIT", "CLOSE_WAIT": "CLOSE-WAIT", "LAST_ACK": "LAST-ACK",
           "CLOSING": "CLOSING", "SYN_SENT": "SYN-SENT", "SYN_RECEIVED": "SYN-RECV",
           "LISTEN": "LISTEN"}


def states(out):
    return re.findall(r"STATE (\w+)\s+(\w+)\s+port (\d+), asked by (TCP_INFO|sock_diag)", out)


def test_every_state_in_order(ctx):
    """Every state of the tour is reported in order by the kernel's own answer (TCP_INFO or sock_diag), with the resets' errors, and no host privilege."""
    r = ctx.run([ctx.lesson(LESSON), "--hold", "0"], timeout=90, check=True)
    seen = [(who, st) for st, who, _, _ in states(r.stdout)]
    it = iter(seen)
    missing = [want for want in TOUR if want not in it]
    no_sandbox = "SYN_SENT and SYN_RECEIVED are not shown" in r.stdout
    if no_sandbox:
        missing = [m for m in missing if m[1] not in ("SYN_SENT", "SYN_RECEIVED")]
    assert not missing, "not reported in order: %s\nseen: %s" % (missing, seen)
    out = r.stdout
    assert re.search(r"without SO_REUSEADDR: EADDRINUSE", out), out
    assert "with SO_REUSEADDR: works despite TIME_WAIT" in out
    assert "the server reads 17 bytes, then 0: end of file" in out
    assert "yet the server still sends, and the client reads: \"heard you\"" in out
    assert "the server's recv(): ECONNRESET" in out
    assert re.search(r"\(no listener\): ECONNREFUSED", out)
    assert "with MSG_NOSIGNAL: EPIPE" in out
    assert "killed its process: SIGPIPE" in out
    if no_sandbox:
        ctx.skip("no private namespace here: " + out.split("are not shown:")[1].splitlines()[0])


def read_until_end(ctx, proc, on_line, timeout=90):
    """Feed each line of the lesson's output to on_line as soon as it comes
    (read from the pipe unbuffered, so no line waits in a buffer)."""
    deadline = time.time() + timeout
    fd = proc.stdout.fileno()
    out, pending = "", b""
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            text = line.decode(errors="replace") + "\n"
            out += text
            on_line(text)
    proc.wait(timeout=10)
    ctx.log(out)
    assert proc.returncode == 0, "the lesson failed:\n%s%s" % (out, proc.stderr.read())
    return out


def ss_at_holds(ctx, only, ss_cmd=None):
    """Run the part; at each 'holding' line, ask ss about the held state."""
    proc = ctx.start([ctx.lesson(LESSON), "--only", only, "--hold", "4"])
    checked = []
    last = {}

    def on_line(line):
        m = re.search(r"STATE (\w+)\s+\w+\s+port (\d+)", line)
        if m:
            last["state"], last["port"] = m.group(1), int(m.group(2))
        m = re.search(r"nsenter (.*) ss -tan", line)
        if m:
            last["nsenter"] = ["nsenter"] + m.group(1).split()
        m = re.search(r"holding (.+?) for \d+ s", line)
        if m and "port" in last:
            port = last["port"]
            argv = (last.get("nsenter", []) + ["ss", "-Htan"]) if ss_cmd else ["ss", "-Htan"]
            got = subprocess.run(argv + ["( sport = :%d or dport = :%d )" % (port, port)],
                                 capture_output=True, text=True, timeout=10).stdout
            ctx.log("$ %s\n%s" % (" ".join(argv), got))
            checked.append((m.group(1), last["state"], got))

    read_until_end(ctx, proc, on_line)
    return checked


def test_ss_agrees_while_held(ctx):
    """While each state is held, ss shows the same: ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSE_WAIT and LAST_ACK."""
    if shutil.which("ss") is None:
        ctx.skip("ss (iproute2) is not installed")
    checked = []
    for only in ("ESTABLISHED", "FIN_WAIT_1", "CLOSE_WAIT"):
        checked += ss_at_holds(ctx, only)
    held = [h for h, _, _ in checked]
    assert held == ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSE_WAIT",
                    "LAST_ACK"], held
    for held_state, reported, ss_out in checked:
        assert held_state == reported, (held_state, reported)
        assert re.search(r"^%s\s" % SS_NAME[held_state], ss_out, re.M), \
            "ss does not show %s:\n%s" % (held_state, ss_out)


def test_handshake_inside_the_namespace(ctx):
    """SYN_SENT and SYN_RECEIVED are held by a packet filter in a private namespace, and ss run inside it shows both."""
    if shutil.which("nsenter") is None or shutil.which("ss") is None:
        ctx.skip("nsenter (util-linux) or ss (iproute2) is not installed")
    checked = ss_at_holds(ctx, "SYN_SENT", ss_cmd=True)
    if not checked:
        ctx.skip("the lesson could not make a private namespace with a filter here")
    (_, _, ss_out), = checked
    assert re.search(r"^SYN-SENT\s", ss_out, re.M) and re.search(r"^SYN-RECV\s", ss_out, re.M), \
        ss_out


def test_bad_options(ctx):
    """An unknown --only or a bad --hold is refused with the list of what is accepted, and exit 2."""
    r = ctx.run([ctx.lesson(LESSON), "--only", "SYN_ACKED"])
    assert r.returncode == 2 and "CLOSE_WAIT" in r.stderr and "SYN_ACKED" in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "--hold", "-1"])
    assert r.returncode == 2 and "--hold takes seconds" in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "--only", "reset", "--hold", "0"], check=True)
    assert "LISTEN" not in r.stdout and "SIGPIPE" in r.stdout
