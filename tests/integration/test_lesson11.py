"""Lesson 11, WebSocket: the handshake, frames bit by bit, the classroom server."""

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import time

from wsharness import PY, WSPEER_PY, need_websockets, peer_json, start_server, stop_server

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_of(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def test_default_run(ctx):
    """A default run shows the RFC's example accept value step by step, then a real client and server exchange text, binary, fragments, ping and close over one connection."""
    r = ctx.run([ctx.lesson("11-websocket"), "--port", "0"], check=True)
    out = r.stdout
    assert "Sec-WebSocket-Key:    dGhlIHNhbXBsZSBub25jZQ==" in out
    assert "key + GUID:           dGhlIHNhbXBsZSBub25jZQ==" + GUID in out
    assert "SHA-1, in hex:        b37a4f2cc0624f1690f64606cf385945b2bec4ea" in out
    assert "base64 of the digest: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in out
    assert "HTTP/1.1 101 Switching Protocols" in out
    assert out.count("got back") == 4, out
    assert "got the close reply (1000)" in out
    assert "[server] close 1000 \"bye\"" in out


def test_this_runs_key(ctx):
    """This run's key gives the accept value Python computes, and the server answers with it."""
    out = ctx.run([ctx.lesson("11-websocket"), "--port", "0"], check=True).stdout
    keys = re.findall(r"\[client\]\s+Sec-WebSocket-Key:\s+(\S+)", out)
    assert len(keys) == 1, out
    key = keys[0]
    assert key != "dGhlIHNhbXBsZSBub25jZQ==" and len(base64.b64decode(key)) == 16
    want = accept_of(key)
    assert "[client]   base64 of the digest: %s" % want in out, out
    assert "Sec-WebSocket-Accept: %s" % want in out, out


def test_frames_bit_by_bit(ctx):
    """The frames on paper show FIN, opcode, MASK, the length and the masking key, and unmask to the text."""
    out = ctx.run([ctx.lesson("11-websocket"), "--port", "0"], check=True).stdout
    assert "byte 0 10000001  FIN=1 RSV=000 opcode=1 (text)" in out
    assert "byte 1 10000101  MASK=1 length=5" in out
    assert "payload as text, unmasked: \"Hello\"" in out
    assert "byte 1 00000100  MASK=0 length=4" in out  # the server's binary frame
    assert "byte 0 00000001  FIN=0 RSV=000 opcode=1 (text)" in out  # first fragment
    assert "opcode=0 (continuation)" in out
    assert "opcode=9 (ping)" in out and "opcode=a (pong)" in out
    assert "close code 1000, reason \"bye\"" in out


def test_upgrade_on_the_same_socket(ctx):
    """The trace shows the request, the 101 and the frames on the one socket accept returned."""
    trace = ctx.path("t.jsonl")
    ctx.run([ctx.lesson("11-websocket"), "--port", "0", "--trace", trace], check=True)
    ev = [e for e in ctx.read_trace(trace) if e["kind"] == "call" and e["role"] == "server"]
    acc = [e for e in ev if e["call"] in ("accept", "accept4")]
    assert len(acc) == 1, ev
    conn = acc[0]["ret"]
    recvs = [e for e in ev if e["call"] == "recv" and e["fd"] == conn]
    sends = [e for e in ev if e["call"] == "send" and e["fd"] == conn]
    assert recvs and recvs[0]["data"].startswith("GET /ws HTTP/1.1"), recvs[:1]
    assert sends and sends[0]["data"].startswith("HTTP/1.1 101 Switching Protocols"), sends[:1]
    # After the 101, frames: an unmasked text frame "Hello" is 81 05 48 65 6c 6c 6f.
    assert sends[1]["hex"] == "810548656c6c6f", sends[1]
    assert any(e["hex"].startswith("8802") for e in sends[2:]), "no close frame sent"


def test_server_serves_the_page(ctx):
    """--role server serves the chat page at / and 404 elsewhere."""
    p, port = start_server(ctx)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        page = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            page += d
    assert page.startswith(b"HTTP/1.1 200 OK\r\n"), page[:200]
    assert b"text/html" in page and b"new WebSocket(url)" in page and b'"/ws"' in page
    assert raw(port, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 404")
    stop_server(ctx, p)


def raw(port, request, pieces=None):
    """Send a request (optionally one byte per send) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if pieces:
            for i in range(0, len(request), pieces):
                s.sendall(request[i:i + pieces])
                time.sleep(0.001)
        else:
            s.sendall(request)
        got = b""
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            got += d
        return got


REQ = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def test_bad_upgrades_are_refused(ctx):
    """A wrong version is answered 426 naming version 13; a bad key, a POST and huge headers 400 or 431; the server goes on."""
    p, port = start_server(ctx)
    r = raw(port, REQ.replace("Version: 13", "Version: 8").encode())
    assert r.startswith(b"HTTP/1.1 426 ") and b"\r\nSec-WebSocket-Version: 13\r\n" in r, r
    r = raw(port, REQ.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=").encode())
    assert r.startswith(b"HTTP/1.1 400 "), r
    r = raw(port, REQ.replace("GET", "POST").encode())
    assert r.startswith(b"HTTP/1.1 400 "), r
    r = raw(port, REQ.replace("Host", "X-Big: " + "a" * 9000 + "\r\nHost").encode())
    assert r.startswith(b"HTTP/1.1 431 "), r
    r = raw(port, REQ.replace("Upgrade: websocket", "Upgrade: h2c").encode())
    assert r.startswith(b"HTTP/1.1 400 "), r
    out = stop_server(ctx, p)
    assert "Sec-WebSocket-Version is not 13" in out


def test_handshake_one_byte_at_a_time(ctx):
    """A request sent one byte per send, with a frame glued behind it, is upgraded and the frame echoed."""
    p, port = start_server(ctx)
    frame = bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
    close = bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2])
    r = raw(port, REQ.replace("/ws", "/echo").encode() + frame + close, pieces=1)
    head, _, rest = r.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols"), r
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert rest == b"\x81\x05Hello\x88\x02\x03\xe8", rest
    stop_server(ctx, p)


def test_chat_reaches_every_browser(ctx):
    """What one client sends on /ws reaches every connected client, the sender included."""
    need_websockets(ctx)
    p, port = start_server(ctx)
    out = peer_json(ctx, [PY, WSPEER_PY, "chat", "ws://127.0.0.1:%d/ws" % port])
    assert out["a"] == out["b"] == "hi all"
    log = stop_server(ctx, p)
    assert "text, 6 bytes: \"hi all\" -> 2 browsers" in log, log


def test_stopping_says_going_away(ctx):
    """When the server is stopped, each connected client gets a close frame with 1001."""
    need_websockets(ctx)
    p, port = start_server(ctx)
    c = ctx.start([PY, WSPEER_PY, "wait-close", "ws://127.0.0.1:%d/ws" % port])
    line = c.stdout.readline()
    assert line.strip() == "connected", line + c.stderr.read()
    stop_server(ctx, p)
    out, err = c.communicate(timeout=30)
    ctx.log(out + err)
    result = json.loads(out.splitlines()[-1])
    assert result["close_code"] == 1001, result


def test_help_and_bad_input(ctx):
    """--help says how to run the classroom server; a bad port is refused with exit 2."""
    r = ctx.run([ctx.lesson("11-websocket"), "--help"])
    assert r.returncode == 0 and "--role server" in r.stdout, r
    r = ctx.run([ctx.lesson("11-websocket"), "--port", "70000"])
    assert r.returncode == 2 and r.stderr, r
