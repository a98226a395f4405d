"""Lesson 03, a stream and datagrams side by side.

Each test runs the whole lesson (a server and a client process) with a
trace, and checks one of its six points from the trace and the output.
Every point must happen on every run: nothing here depends on timing.
"""

import re
import subprocess

LESSON = "03-stream-vs-datagram"


def run(ctx):
    """One traced run of the lesson; returns (stdout, call events)."""
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson(LESSON), "--trace", trace], timeout=60, check=True)
    ev = [e for e in ctx.read_trace(trace) if e["kind"] == "call"]
    return r.stdout, ev


def connections(ev):
    """The server's accept events, one a TCP connection, in order: its
    local is the server's end, its peer the client's."""
    return [e for e in ev if e["role"] == "server" and e["call"] == "accept"]


def on_conn(ev, role, local, peer, call):
    return [e for e in ev if e["role"] == role and e["call"] == call and e["local"] == local
            and e["peer"] == peer]


def test_three_sends_come_out_of_one_recv(ctx):
    """Three sends on a stream socket arrive as one recv: the stream keeps no boundaries."""
    out, ev = run(ctx)
    acc = connections(ev)[0]
    sends = on_conn(ev, "client", acc["peer"], acc["local"], "send")
    assert [e["data"] for e in sends] == ["one", "two", "three"], sends
    recvs = [e for e in on_conn(ev, "server", acc["local"], acc["peer"], "recv") if e["ret"] > 0]
    assert len(recvs) < len(sends), recvs
    assert len(recvs) == 1 and recvs[0]["ret"] == 11 and recvs[0]["data"] == "onetwothree"
    assert '[server] recv(): 11 bytes: "onetwothree"\n' in out, out
    assert "the 3 sends came out of 1 recv" in out


def test_a_length_prefix_gives_the_messages_back(ctx):
    """With a length prefix in front of each message, the reader gets the three messages back, whatever the recvs return."""
    out, ev = run(ctx)
    acc = connections(ev)[1]
    sends = on_conn(ev, "client", acc["peer"], acc["local"], "send")
    assert [e["hex"] for e in sends] == ["03" + b"one".hex(), "03" + b"two".hex(),
                                         "05" + b"three".hex()], sends
    recvs = [e for e in on_conn(ev, "server", acc["local"], acc["peer"], "recv") if e["ret"] > 0]
    got = b"".join(bytes.fromhex(e["hex"]) for e in recvs)
    assert got == b"\3one\3two\5three", got
    # The reader's small buffer cuts the frames at other places than the
    # sends did; the framing puts the messages back together anyway.
    assert [e["ret"] for e in recvs] != [e["ret"] for e in sends]
    msgs = re.findall(r'\[server\] framed message (\d): "(\w+)"', out)
    assert msgs == [("1", "one"), ("2", "two"), ("3", "three")], out
    assert "3 messages from %d recvs" % len(recvs) in out


def test_one_large_send_arrives_in_several_recvs(ctx):
    """One send of 1 MiB arrives in several recvs, each shorter than asked, and the lesson counts them."""
    out, ev = run(ctx)
    acc = connections(ev)[2]
    sends = on_conn(ev, "client", acc["peer"], acc["local"], "send")
    assert len(sends) == 1 and sends[0]["ret"] == 1048576, sends
    recvs = [e for e in on_conn(ev, "server", acc["local"], acc["peer"], "recv") if e["ret"] > 0]
    assert sum(e["ret"] for e in recvs) == 1048576
    assert len(recvs) > 1
    # Each recv asked for all that was still missing, and got less.
    left = 1048576
    for e in recvs[:-1]:
        asked = int(re.match(r"recv\(\d+, buf, (\d+), 0\)", e["args"]).group(1))
        assert asked == left and e["ret"] < asked, e
        left -= e["ret"]
    m = re.search(r"1 send of 1048576 bytes arrived in (\d+) recvs \(1048576 bytes\)", out)
    assert m and int(m.group(1)) == len(recvs), out


def test_datagrams_keep_their_boundaries(ctx):
    """Three sendto calls on a datagram socket arrive as three recvfrom calls, each with the sender's address."""
    out, ev = run(ctx)
    sendtos = [e for e in ev if e["role"] == "client" and e["call"] == "sendto"][:3]
    assert [e["data"] for e in sendtos] == ["one", "two", "three"]
    assert all(e["sock"] == "udp" for e in sendtos)
    port = sendtos[0]["addr"].rsplit(":", 1)[1]
    client_port = sendtos[0]["local"].rsplit(":", 1)[1]
    got = [e for e in ev if e["role"] == "server" and e["call"] == "recvfrom"]
    assert [(e["ret"], e["data"]) for e in got] == [(3, "one"), (3, "two"), (5, "three")], got
    assert all(e["addr"] == "127.0.0.1:" + client_port for e in got), got
    assert all(e["local"] == "127.0.0.1:" + port for e in got)
    for i, w in enumerate(("one", "two", "three"), 1):
        assert '[server] recvfrom(): datagram %d: "%s" (%d bytes) from 127.0.0.1:%s' % (
            i, w, len(w), client_port) in out, out


def test_a_datagram_bigger_than_the_buffer_is_cut(ctx):
    """A datagram of 100 bytes read into 16 is cut; MSG_TRUNC shows its real size."""
    out, ev = run(ctx)
    big = [e for e in ev if e["role"] == "client" and e["call"] == "sendto" and e["ret"] == 100]
    assert len(big) == 1
    cut = [e for e in ev if e["role"] == "server" and e["call"] == "recv" and e["sock"] == "udp"
           and "MSG_TRUNC" in e["args"]]
    assert len(cut) == 1 and cut[0]["ret"] == 100, cut
    assert cut[0]["args"].startswith("recv(") and ", 16, MSG_TRUNC)" in cut[0]["args"]
    assert len(bytes.fromhex(cut[0]["hex"])) == 16, "the buffer held 16 bytes"
    assert "recv(16 bytes, MSG_TRUNC) = 100: the datagram had 100 bytes" in out
    assert "we got the first 16; the other 84 are lost" in out


def test_a_burst_loses_datagrams_silently(ctx):
    """A burst into a small receive buffer loses datagrams without an error; sent equals received plus the kernel's drop count."""
    out, ev = run(ctx)
    m = re.search(r"UDP burst: (\d+) sent, (\d+) received, (\d+) dropped by the kernel", out)
    assert m, out
    sent, got, dropped = map(int, m.groups())
    assert dropped > 0 and got > 0 and sent == got + dropped, m.group(0)
    small = [e for e in ev if e["role"] == "server" and e["call"] == "setsockopt"
             and "SO_RCVBUF, 4096" in e["args"]][0]
    burst = [e for e in ev if e["role"] == "client" and e["call"] == "sendto"
             and e["addr"] == small["local"]]
    assert len(burst) == sent and all(e["ret"] == 1000 and e["errno"] is None for e in burst)
    reads = [e for e in ev if e["role"] == "server" and e["call"] == "recv" and e["fd"] == small["fd"]
             and e["ret"] > 0]
    assert len(reads) == got
    meminfo = [e for e in ev if e["role"] == "server" and e["call"] == "getsockopt"]
    # SO_MEMINFO is option 55 (the tracer may show the number).
    assert meminfo and re.search(r"SOL_SOCKET, (SO_MEMINFO|55)\)", meminfo[-1]["args"]), meminfo


def test_refusal_comes_one_call_late(ctx):
    """A connected UDP socket sending to a port where nothing listens gets ECONNREFUSED on a later call, not on the send."""
    out, ev = run(ctx)
    conn = [e for e in ev if e["role"] == "client" and e["call"] == "connect" and e["sock"] == "udp"]
    assert len(conn) == 1 and conn[0]["ret"] == 0 and conn[0]["state"] is None
    fd, peer = conn[0]["fd"], conn[0]["peer"]
    later = [e for e in ev if e["role"] == "client" and e["fd"] == fd and e["seq"] > conn[0]["seq"]
             and e["peer"] == peer]
    calls = [(e["call"], e["ret"], e["errno"]) for e in later]
    assert calls[0] == ("send", 7, None), calls
    refused = [c for c in calls if c[2] == "ECONNREFUSED"]
    assert refused and refused[0][0] == "recv", calls
    assert "send() to port %s returned 7" % peer.rsplit(":", 1)[1] in out
    assert "[client] recv() failed with ECONNREFUSED:\n" in out, out
    assert "the answer to the earlier send, one call late" in out


def test_udp_has_no_state(ctx):
    """UDP sockets have no connection state: the trace gives null, and ss shows UNCONN."""
    out, ev = run(ctx)
    udp = [e for e in ev if e["sock"] == "udp"]
    assert udp and all(e["state"] is None for e in udp), [e for e in udp if e["state"]][:3]
    # Stop the lesson while its UDP socket is bound and ask ss.
    t = ctx.pty([ctx.lesson(LESSON), "--step"])
    prompt = "Enter=run c=continue q=quit ?=keys>"
    pos, port = 0, None
    for _ in range(20):
        pos = t.expect(prompt, timeout=10, start=pos)
        t.settle(0.2, 2)
        m = re.search(r"\[server\] bind\(4, 127\.0\.0\.1:0\) = 0\s+then: udp 127\.0\.0\.1:(\d+)",
                      t.text())
        if m:
            port = m.group(1)
            break
        t.send("\r")
    assert port, t.text()
    r = subprocess.run(["ss", "-Huan", "sport = :%s" % port], capture_output=True, text=True,
                       timeout=10)
    ctx.log("$ ss -Huan sport = :%s\n%s" % (port, r.stdout))
    assert r.stdout.split()[0] == "UNCONN" and "127.0.0.1:%s" % port in r.stdout, r.stdout
    t.send("c\r")
    assert t.wait(30) == 0
    assert "UDP burst" in t.text()


def test_the_output_tells_the_six_points_in_order(ctx):
    """The two processes take turns, so the output reads as the story: points 1 to 6, each the client's act before the server's report of it."""
    out, _ = run(ctx)
    story = ['[client] sent "one", "two", "three"', '[server] recv(): 11 bytes',
             "[server]   (the server waited for the client's close",
             '[server] framed message 3: "three"', "[server] the length prefix gave back",
             "[client] one send() of 1048576 bytes", "[server] 1 send of 1048576 bytes arrived",
             '[server] recvfrom(): datagram 3: "three"', "[server] recv(16 bytes, MSG_TRUNC)",
             "[client] sent a burst of 64 datagrams", "[server] UDP burst: 64 sent",
             "[client] send() to port", "[client] recv() failed with ECONNREFUSED"]
    at = [out.find(line) for line in story]
    assert all(i >= 0 for i in at), [l for l, i in zip(story, at) if i < 0]
    assert at == sorted(at), "out of order:\n" + out
    assert "no state: UDP has no connection (ss -uan: UNCONN)" in out
    assert all(len(line) <= 80 for line in out.splitlines()), out


def test_help_and_bad_options(ctx):
    """--help says what the lesson shows; an unknown option is named, and exit 2."""
    r = ctx.run([ctx.lesson(LESSON), "--help"])
    assert r.returncode == 0 and "stream" in r.stdout and "--step" in r.stdout
    r = ctx.run([ctx.lesson(LESSON), "--bogus"])
    assert r.returncode == 2 and "--bogus" in r.stderr
