#!/usr/bin/env python3
"""A WebSocket server conformance runner, modelled on the Autobahn testsuite.

    runner.py ws://HOST:PORT/PATH [--limit BYTES] [--only CATEGORY] [--json]

Runs each case against an echo server (a server that sends every message
back) on a fresh connection, twice: once with each action's bytes written
in one send(), once with one byte per send() (for a large payload: its
first 4 KiB), so a server that assumes one recv() holds a whole frame is
caught. Categories, after Autobahn's: framing, pingpong, rsv, opcodes,
fragmentation, utf8, close, limits.

Each case ends in one of:
  ok          the server did what RFC 6455 asks, in the best way;
  non-strict  what it did is allowed but not the best (it failed a message
              only at its end where it could have failed at the first bad
              fragment, as Autobahn also reports);
  FAIL        anything else; the line says what was expected and seen.

--limit is the server's largest message (default 16 MiB): the limits
cases send one byte more and expect close code 1009. Exits 1 when any case
FAILs. Uses only the Python standard library.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOL = {1002}
BAD_DATA = {1007}


def frame(op, payload=b"", fin=True, rsv=0, mask=True, length=None):
    """A client frame; `length` overrides the length field (for lies)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    k = (key * (len(payload) // 4 + 1))[:len(payload)]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(
        len(payload), "big") if payload else b""
    return head + key + masked


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + (reason.encode() if isinstance(reason, str) else reason)


class Outcome(Exception):
    def __init__(self, verdict, why):
        super().__init__(why)
        self.verdict, self.why = verdict, why


class Conn:
    def __init__(self, url, bytewise, timeout):
        u = urllib.parse.urlparse(url)
        self.bytewise, self.timeout = bytewise, timeout
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (u.path or "/", u.netloc, key))
        self.send(req.encode())
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise Outcome("FAIL", "the connection closed during the handshake")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise Outcome("FAIL", "handshake answered %r" % lines[0])
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        accept = [l.split(":", 1)[1].strip() for l in lines[1:]
                  if l.lower().startswith("sec-websocket-accept:")]
        if accept != [want]:
            raise Outcome("FAIL", "Sec-WebSocket-Accept %r, expected %r" % (accept, want))

    def send(self, data):
        try:
            if not self.bytewise:
                self.sock.sendall(data)
                return
            for i in range(min(len(data), 4096)):
                self.sock.sendall(data[i:i + 1])
                if i < 512:
                    time.sleep(0.0001)
            if len(data) > 4096:
                self.sock.sendall(data[4096:])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may already have failed the connection

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(1 << 20)
            except socket.timeout:
                return False
            except ConnectionResetError:
                d = b""
            if not d:
                raise EOFError
            self.buf += d
        return True

    def read(self, timeout=None):
        """The next server frame as (fin, op, payload); None on timeout;
        raises EOFError when the server closed the TCP connection."""
        deadline = time.time() + (timeout or self.timeout)
        if not self._need(2, deadline):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n, at = b1 & 0x7F, 2
        if n == 126:
            if not self._need(4, deadline):
                return None
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            if not self._need(10, deadline):
                return None
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        if b1 & 0x80:
            raise Outcome("FAIL", "the server sent a masked frame")
        if b0 & 0x70:
            raise Outcome("FAIL", "the server set RSV bits")
        if not self._need(at + n, deadline):
            return None
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def read_message(self, timeout=None):
        """A whole message or control frame: (op, payload)."""
        f = self.read(timeout)
        if f is None:
            return None
        fin, op, data = f
        while not fin and op in (1, 2):
            g = self.read(timeout)
            if g is None:
                return None
            fin = g[0]
            if g[1] >= 8:
                continue
            data += g[2]
        return op, data

    def wait_eof(self, timeout):
        """True when the server closes the TCP connection in time."""
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                self.buf = b""
                self._need(1, deadline)
            return False
        except EOFError:
            return True

    def close(self):
        self.sock.close()


def describe(m):
    if m is None:
        return "nothing (timed out)"
    op, data = m
    name = {1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}.get(op, "op %d" % op)
    if op == 8 and len(data) >= 2:
        return "close %d" % struct.unpack("!H", data[:2])[0]
    return "%s of %d bytes" % (name, len(data))


def expect_fail(c, codes, timeout, first=None):
    """The server must fail the connection: a close frame with one of
    `codes`, then the end of the TCP connection."""
    m = first
    while m is None:
        try:
            m = c.read_message(timeout)
        except EOFError:
            raise Outcome("FAIL", "the connection ended without a close frame (expected %s)"
                          % sorted(codes))
        if m is None:
            raise Outcome("FAIL", "no close frame within %ss (expected %s)"
                          % (timeout, sorted(codes)))
        if m[0] == 10:  # a pong for an earlier ping may still come
            m = None
    if m[0] != 8:
        raise Outcome("FAIL", "expected close %s, got %s" % (sorted(codes), describe(m)))
    code = struct.unpack("!H", m[1][:2])[0] if len(m[1]) >= 2 else 1005
    if code not in codes:
        raise Outcome("FAIL", "closed with %d, expected %s" % (code, sorted(codes)))
    c.send(frame(8, close_payload(code)))
    if not c.wait_eof(timeout):
        raise Outcome("FAIL", "the server sent close %d but kept the TCP connection open" % code)


def run_script(c, script, timeout):
    """Steps: ("send", bytes); ("msg", opcode, payload) and ("pong", payload):
    the next message must be this; ("msgfail", opcode, payload, codes): this
    message, or (non-strict) the failure that follows it; ("fail", codes): the server must fail
    the connection; ("fastfail", codes, rest): it should fail before we
    send `rest`; ("close", payload or None, codes, forbidden opcodes): send
    our close (None: already sent) and get one of `codes` back, with none
    of the forbidden frames before it. A script ends with fail or close."""
    verdict = "ok"
    for step in script:
        kind = step[0]
        if kind == "send":
            c.send(step[1])
        elif kind in ("msg", "pong"):
            want = (step[1], step[2]) if kind == "msg" else (10, step[1])
            if isinstance(want[1], str):
                want = (want[0], want[1].encode())
            try:
                m = c.read_message(max(timeout, len(want[1]) / 2e6))
            except EOFError:
                raise Outcome("FAIL", "the connection ended; expected %s" % describe(want))
            if m != want:
                raise Outcome("FAIL", "expected %s, got %s" % (describe(want), describe(m)))
        elif kind == "msgfail":
            # An echo owed before a failure; a server that fails first has
            # dropped it, which Autobahn allows as non-strict.
            want = (step[1], step[2].encode() if isinstance(step[2], str) else step[2])
            try:
                m = c.read_message(timeout)
            except EOFError:
                raise Outcome("FAIL", "the connection ended; expected %s" % describe(want))
            if m is not None and m[0] == 8:
                expect_fail(c, step[3], timeout, first=m)
                return "non-strict"
            if m != want:
                raise Outcome("FAIL", "expected %s, got %s" % (describe(want), describe(m)))
        elif kind == "fail":
            expect_fail(c, step[1], timeout)
            return verdict
        elif kind == "fastfail":
            try:
                m = c.read_message(min(timeout, 1.0))
            except EOFError:
                raise Outcome("FAIL", "the connection ended without a close frame")
            if m is None:  # not at once: allowed, if it fails once the rest came
                c.send(step[2])
                expect_fail(c, step[1], timeout)
                return "non-strict"
            expect_fail(c, step[1], timeout, first=m)
            return "ok"
        elif kind == "close":
            if step[1] is not None:
                c.send(frame(8, step[1]))
            while True:
                try:
                    m = c.read_message(timeout)
                except EOFError:
                    raise Outcome("FAIL", "the connection ended without a close reply")
                if m is None or m[0] == 8:
                    break
                if step[3] and m[0] in step[3]:
                    raise Outcome("FAIL", "answered with %s after our close" % describe(m))
            if m is None:
                raise Outcome("FAIL", "no close reply within %ss" % timeout)
            code = struct.unpack("!H", m[1][:2])[0] if len(m[1]) >= 2 else 1005
            if code not in step[2]:
                raise Outcome("FAIL", "close reply %d, expected %s" % (code, sorted(step[2])))
            if not c.wait_eof(timeout):
                raise Outcome("FAIL", "the server kept the TCP connection open after the close")
            return "ok"
        else:
            raise ValueError(kind)
    raise ValueError("a script must end in fail or close")


def clean():
    """End a case with our close 1000; the server must answer 1000."""
    return ("close", close_payload(1000), {1000}, None)


# ---------------------------------------------------------------- cases

VALID_UTF8 = ["Hello-µ@ßöäüàá-UTF-8!!", "κόσμε", "\u0080", "\u07ff", "\u0800", "\uffff",
              "\U00010000", "\U0010ffff", "\ufffd", "\ue000", "ab\u00e9\u4e2d\U0001f600"]
INVALID_UTF8 = [
    ("surrogate in text", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
    ("lone continuation byte", b"\x80"), ("lone 0xbf", b"\xbf"),
    ("overlong slash, 2 bytes", b"\xc0\xaf"), ("overlong slash, 3 bytes", b"\xe0\x80\xaf"),
    ("overlong slash, 4 bytes", b"\xf0\x80\x80\xaf"), ("5-byte form", b"\xf8\x88\x80\x80\xaf"),
    ("0xfe", b"\xfe"), ("0xff", b"\xff"), ("U+D800", b"\xed\xa0\x80"), ("U+DFFF", b"\xed\xbf\xbf"),
    ("above U+10FFFF", b"\xf4\x90\x80\x80"), ("overlong NUL", b"\xc0\x80"),
    ("overlong 0xc1", b"\xc1\xbf"), ("truncated 2-byte", b"ab\xc2"),
    ("truncated 3-byte", b"ab\xe0\xa0"), ("truncated 4-byte", b"ab\xf0\x90\x80"),
]


def cases(limit):
    out = []

    def add(cat, desc, *script):
        out.append(("%s.%d" % (cat, sum(1 for c in out if c[1] == cat) + 1), cat, desc, script))

    # framing: text and binary at each length boundary
    for n in (0, 125, 126, 127, 128, 65535, 65536):
        add("framing", "text of %d bytes" % n, ("send", frame(1, "*" * n)), ("msg", 1, "*" * n),
            clean())
        add("framing", "binary of %d bytes" % n, ("send", frame(2, b"\xfe" * n)),
            ("msg", 2, b"\xfe" * n), clean())
    add("framing", "three messages in one write", ("send", frame(1, "a") + frame(2, b"b") +
        frame(1, "c")), ("msg", 1, "a"), ("msg", 2, b"b"), ("msg", 1, "c"), clean())
    add("framing", "an unmasked client frame fails", ("send", frame(1, "x", mask=False)),
        ("fail", PROTOCOL))

    # ping/pong
    add("pingpong", "ping without payload", ("send", frame(9)), ("pong", b""), clean())
    add("pingpong", "ping with 125 bytes", ("send", frame(9, b"\xfe" * 125)),
        ("pong", b"\xfe" * 125), clean())
    add("pingpong", "ping with binary payload", ("send", frame(9, bytes(range(0, 250, 3)))),
        ("pong", bytes(range(0, 250, 3))), clean())
    add("pingpong", "ping with 126 bytes fails", ("send", frame(9, b"x" * 126)), ("fail", PROTOCOL))
    add("pingpong", "unsolicited pong is ignored", ("send", frame(10, "unasked") + frame(1, "t")),
        ("msg", 1, "t"), clean())
    add("pingpong", "ten pings, ten pongs", ("send", b"".join(frame(9, str(i)) for i in range(10))),
        *[("pong", str(i)) for i in range(10)], clean())
    add("pingpong", "fragmented ping fails",
        ("send", frame(9, "ab", fin=False) + frame(0, "cd")), ("fail", PROTOCOL))

    # reserved bits
    for rsv in range(1, 8):
        add("rsv", "text with RSV=%d fails" % rsv, ("send", frame(1, "x", rsv=rsv)), ("fail", PROTOCOL))
    add("rsv", "echo, then RSV=2 on a text, then ping: echo then fail",
        ("send", frame(1, "ok") + frame(1, "x", rsv=2) + frame(9)), ("msgfail", 1, "ok", PROTOCOL),
        ("fail", PROTOCOL))
    add("rsv", "ping with RSV=4 fails", ("send", frame(9, "p", rsv=4)), ("fail", PROTOCOL))
    add("rsv", "close with RSV=1 fails", ("send", frame(8, close_payload(1000), rsv=1)),
        ("fail", PROTOCOL))

    # opcodes
    for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
        add("opcodes", "reserved opcode %d fails" % op, ("send", frame(op, "x")), ("fail", PROTOCOL))
    add("opcodes", "echo, then reserved opcode 5: echo then fail",
        ("send", frame(1, "ok") + frame(5) + frame(9)), ("msgfail", 1, "ok", PROTOCOL),
        ("fail", PROTOCOL))

    # fragmentation
    add("fragmentation", "text in two fragments",
        ("send", frame(1, "frag", fin=False) + frame(0, "ments")), ("msg", 1, "fragments"), clean())
    add("fragmentation", "binary in 100 fragments of 1 byte",
        ("send", frame(2, b"\x00", fin=False) + b"".join(frame(0, b"\x01", fin=False)
                                                       for _ in range(98)) + frame(0, b"\x02")),
        ("msg", 2, b"\x00" + b"\x01" * 98 + b"\x02"), clean())
    add("fragmentation", "a ping between two fragments",
        ("send", frame(1, "frag", fin=False) + frame(9, "p") + frame(0, "ments")),
        ("pong", "p"), ("msg", 1, "fragments"), clean())
    add("fragmentation", "pings between every fragment",
        ("send", frame(1, "a", fin=False) + frame(9, "1") + frame(0, "b", fin=False) +
         frame(9, "2") + frame(0, "c")), ("pong", "1"), ("pong", "2"), ("msg", 1, "abc"), clean())
    add("fragmentation", "empty fragments make an empty message",
        ("send", frame(1, "", fin=False) + frame(0, "", fin=False) + frame(0, "")),
        ("msg", 1, ""), clean())
    add("fragmentation", "continuation with FIN and no message open fails",
        ("send", frame(0, "x")), ("fail", PROTOCOL))
    add("fragmentation", "continuation without FIN and no message open fails",
        ("send", frame(0, "x", fin=False)), ("fail", PROTOCOL))
    add("fragmentation", "a text frame inside a fragmented message fails",
        ("send", frame(1, "a", fin=False) + frame(1, "b")), ("fail", PROTOCOL))
    add("fragmentation", "a message, then a continuation after its end fails",
        ("send", frame(1, "a", fin=False) + frame(0, "b") + frame(0, "c")),
        ("msgfail", 1, "ab", PROTOCOL),
        ("fail", PROTOCOL))
    add("fragmentation", "fragmented pong fails",
        ("send", frame(10, "a", fin=False) + frame(0, "b")), ("fail", PROTOCOL))

    # UTF-8
    for s in VALID_UTF8:
        b = s.encode()
        add("utf8", "valid %r in one frame" % s, ("send", frame(1, b)), ("msg", 1, b), clean())
        add("utf8", "valid %r, one byte per fragment" % s,
            ("send", b"".join(frame(1 if i == 0 else 0, b[i:i + 1], fin=i == len(b) - 1)
                              for i in range(len(b)))), ("msg", 1, b), clean())
    for desc, b in INVALID_UTF8:
        add("utf8", "%s in one frame fails with 1007" % desc, ("send", frame(1, b)),
            ("fail", BAD_DATA))
        add("utf8", "%s, one byte per fragment, fails with 1007" % desc,
            ("send", b"".join(frame(1 if i == 0 else 0, b[i:i + 1], fin=i == len(b) - 1)
                              for i in range(len(b)))), ("fail", BAD_DATA))
    add("utf8", "bad first fragment: fail fast, before the rest comes",
        ("send", frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80",
                       fin=False)),
        ("fastfail", BAD_DATA, frame(0, "-edited", fin=False) + frame(0, "-edited")))
    add("utf8", "binary is not checked for UTF-8", ("send", frame(2, b"\xff\xfe\xc0")),
        ("msg", 2, b"\xff\xfe\xc0"), clean())

    # close handling
    add("close", "close 1000 is answered 1000", clean())
    add("close", "close with a reason is answered with the code",
        ("close", close_payload(1000, "Hello World!"), {1000}, None))
    add("close", "close with a 123-byte reason", ("close", close_payload(1000, "*" * 123), {1000},
                                                  None))
    add("close", "empty close is answered 1000 or empty",
        ("close", b"", {1000, 1005}, None))
    add("close", "a ping after our close gets no pong",
        ("send", frame(8, close_payload(1000)) + frame(9, "late")), ("close", None, {1000}, {10}))
    add("close", "text after our close is not echoed",
        ("send", frame(8, close_payload(1000)) + frame(1, "late")),
        ("close", None, {1000}, {1, 2}))
    add("close", "close in the middle of a fragmented message",
        ("send", frame(1, "a", fin=False)), ("close", close_payload(1000), {1000}, None))
    add("close", "close with 1 byte of payload fails", ("send", frame(8, b"\x03")),
        ("fail", PROTOCOL))
    add("close", "close with 124-byte reason (126 bytes) fails",
        ("send", frame(8, close_payload(1000, "*" * 124))), ("fail", PROTOCOL))
    add("close", "close reason that is not UTF-8 fails with 1007",
        ("send", frame(8, close_payload(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80"))),
        ("fail", BAD_DATA))
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
        add("close", "close %d is echoed" % code, ("close", close_payload(code), {code}, None))
    for code in (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535):
        add("close", "close %d may not be sent: fails" % code,
            ("send", frame(8, close_payload(code))), ("fail", PROTOCOL))

    # limits
    big = bytes(i % 251 for i in range(1 << 20))
    add("limits", "1 MiB binary in one frame", ("send", frame(2, big)), ("msg", 2, big), clean())
    add("limits", "1 MiB text in 16 fragments",
        ("send", b"".join(frame(1 if i == 0 else 0, b"t" * 65536, fin=i == 15) for i in range(16))),
        ("msg", 1, b"t" * (1 << 20)), clean())
    add("limits", "a frame one byte over the limit fails with 1009 at its header",
        ("send", frame(2, b"", length=limit + 1)[:10]), ("fail", {1009}))
    add("limits", "fragments adding up to one byte over the limit fail with 1009",
        ("send", b"".join(frame(2 if i == 0 else 0, big, fin=False)
                          for i in range(limit // len(big))) + frame(0, b"!")), ("fail", {1009}))
    add("limits", "a 64-bit length with its top bit set fails",
        ("send", b"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x01"), ("fail", {1002, 1009}))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--limit", type=int, default=16 << 20)
    ap.add_argument("--only", default=None, help="run one category")
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end")
    a = ap.parse_args()
    results = []
    for cid, cat, desc, script in cases(a.limit):
        if a.only and cat != a.only:
            continue
        for bytewise in (False, True):
            mode = "one byte per write" if bytewise else "whole"
            try:
                c = Conn(a.url, bytewise, a.timeout)
                try:
                    verdict, why = run_script(c, script, a.timeout), ""
                finally:
                    c.close()
            except Outcome as o:
                verdict, why = o.verdict, o.why
            except (OSError, EOFError) as e:
                verdict, why = "FAIL", "%s: %s" % (type(e).__name__, e)
            results.append({"id": cid, "category": cat, "case": desc, "mode": mode,
                            "verdict": verdict, "why": why})
            if not a.json:
                print("%-10s %-16s %-9s %s%s" % (verdict, cid, cat, desc + " [" + mode + "]",
                                                 ": " + why if why else ""), flush=True)
    failed = sum(r["verdict"] == "FAIL" for r in results)
    nonstrict = sum(r["verdict"] == "non-strict" for r in results)
    if a.json:
        print(json.dumps({"results": results, "failed": failed, "non_strict": nonstrict}))
    else:
        print("conformance: %d passed, %d failed (%d of the passed non-strict)"
              % (len(results) - failed, failed, nonstrict))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
