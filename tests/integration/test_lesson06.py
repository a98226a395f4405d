"""Lesson 06, what only a Unix socket can do: socketpair, datagram and
seqpacket messages that are never dropped, and descriptors passed with
SCM_RIGHTS."""

import os
import re

LESSON = "06-unix-passing"


def run(ctx):
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson(LESSON), "--trace", trace], check=True, timeout=40)
    return r.stdout, ctx.read_trace(trace)


def calls(ev, name):
    return [e for e in ev if e["kind"] == "call" and e["call"] == name]


def test_socketpair_stream_has_no_boundaries(ctx):
    """A socketpair needs no path; on its stream the three sends arrive as one recv in the child."""
    out, ev = run(ctx)
    pair = calls(ev, "socketpair")[0]
    assert pair["sock"] == "unix-stream" and pair["ret"] == 0, pair
    assert '[child] recv(): 12 bytes: "onetwo!three"' in out, out


def test_datagram_and_seqpacket_keep_boundaries_and_lose_nothing(ctx):
    """Over SOCK_DGRAM and SOCK_SEQPACKET each message arrives whole and alone; a full queue makes the sender wait, and every message of the burst arrives."""
    out, ev = run(ctx)
    for kind in ("SOCK_DGRAM", "SOCK_SEQPACKET"):
        part = out.split("socketpair(AF_UNIX, %s) ---" % kind, 1)[1].split("[parent] ---", 1)[0]
        assert '[parent] recv(): 3 bytes: "one"' in part, part
        assert '[parent] recv(): 4 bytes: "two!"' in part
        assert '[parent] recv(): 5 bytes: "three"' in part
        m = re.search(r"(\d+) messages queued, then EAGAIN", part)
        assert m and int(m.group(1)) > 0, part
        m = re.search(r"received (\d+) of (\d+) messages, in order", part)
        assert m and m.group(1) == m.group(2) and int(m.group(2)) > 1000, part
    for sock in ("unix-dgram", "unix-seqpacket"):
        full = [e for e in calls(ev, "send") if e["sock"] == sock and e["errno"] == "EAGAIN"]
        assert len(full) == 1, "one send of %s should meet a full queue: %s" % (sock, full)


def test_passed_descriptor_reads_a_file_the_receiver_cannot_open(ctx):
    """The worker cannot open the file (EACCES), yet reads its real contents through the descriptor passed with SCM_RIGHTS."""
    out, ev = run(ctx)
    wrote = re.search(r'\[parent\] wrote "([^"]+)" to (\S+),\n\[parent\] kept it open, then chmod 0000',
                      out)
    assert wrote, out
    text, path = wrote.groups()
    refused = out.find("[worker] open failed: EACCES (Permission denied)")
    read = re.search(r'\[worker\] read through the passed descriptor \d+: "([^"]*)"', out)
    assert refused >= 0 and read, out
    assert refused < read.start(), "the refusal must be shown before the read"
    # The permissions are shown first, then the refusal, and only then is
    # the descriptor sent.
    mode = re.search(r"\[worker\] I am uid \d+; the file is mode 0000, owner uid (\d+): no r", out)
    assert mode and int(mode.group(1)) == os.getuid() and mode.start() < refused, out
    assert refused < out.find("[parent] sent descriptor"), out
    assert read.group(1) == text, (read.group(1), text)
    m = re.search(r"\[worker\] I am uid (\d+)", out)
    assert m and int(m.group(1)) == (65534 if os.geteuid() == 0 else os.getuid()), out
    sends = [e for e in calls(ev, "sendmsg") if "SCM_RIGHTS" in e["args"]]
    recvs = [e for e in calls(ev, "recvmsg") if "SCM_RIGHTS" in e["args"]]
    assert len(sends) == 2 and len(recvs) == 2, (sends, recvs)
    assert recvs[0]["role"] == "worker" and recvs[0]["ret"] == 1
    assert not os.path.exists(os.path.dirname(path)), "the secret's directory was left behind"


def test_server_hands_a_connection_to_a_worker(ctx):
    """The server accepts a TCP connection and passes it to a worker, which serves the client on the same 4-tuple."""
    out, ev = run(ctx)
    acc = [e for e in calls(ev, "accept") if e["role"] == "parent"]
    assert acc and acc[0]["sock"] == "tcp", acc
    tup = "%s <-> %s" % (acc[0]["local"], acc[0]["peer"])
    assert "[worker]    fd" in out and tup in out.split("[worker] got a connection", 1)[1], out
    wsend = [e for e in calls(ev, "send") if e["role"] == "worker" and e["sock"] == "tcp"]
    assert wsend and wsend[0]["local"] == acc[0]["local"] and wsend[0]["peer"] == acc[0]["peer"]
    m = re.search(r"\[client\] asked the server; the answer: served by worker pid (\d+)", out)
    assert m and int(m.group(1)) == wsend[0]["pid"], out
    conn = [e for e in calls(ev, "connect") if e["role"] == "client"]
    assert conn and conn[0]["local"] == acc[0]["peer"], conn


def test_help(ctx):
    """--help says what the lesson shows, and an unknown option is refused with exit 2."""
    r = ctx.run([ctx.lesson(LESSON), "--help"])
    assert r.returncode == 0 and "SCM_RIGHTS" in r.stdout, r
    r = ctx.run([ctx.lesson(LESSON), "--bogus"])
    assert r.returncode == 2 and "--bogus" in r.stderr, r
