#!/usr/bin/env python3
"""A deliberately broken WebSocket echo server, to show that the
conformance runner catches what is wrong.

    broken_server.py PORT

Its handshake is right and it echoes well-formed messages, pings and
closes as a good server does, so the runner's framing cases pass. What it
gets wrong, on purpose, one flaw per category of the runner:

  rsv            RSV bits are ignored
  opcodes        reserved opcodes are echoed as binary messages
  pingpong       control frames may be fragmented or longer than 125 bytes
  fragmentation  a continuation with no message open starts one; a new
                 message inside a fragmented one replaces it
  utf8           text is never checked for UTF-8
  close          any close code is echoed, 1-byte closes too
  limits         there is no message limit (1009 is never sent)
  framing        unmasked client frames are accepted

Standard library only; one thread per connection; stops after 600 s.
"""
import base64
import hashlib
import socket
import struct
import sys
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        d = s.recv(n - len(out))
        if not d:
            raise EOFError
        out += d
    return out


def send_frame(s, op, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | op, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | op, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | op, 127, n)
    s.sendall(head + payload)


def serve(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            return
        buf += d
    head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    key = [l.split(":", 1)[1].strip() for l in head.split("\r\n")
           if l.lower().startswith("sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    s.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
    msg_op, msg = None, b""
    while True:
        b0, b1 = recv_exact(s, 2)
        fin, op, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", recv_exact(s, 2))[0]
        elif n == 127:
            n = struct.unpack("!Q", recv_exact(s, 8))[0]
        key = recv_exact(s, 4) if b1 & 0x80 else b"\0\0\0\0"
        data = recv_exact(s, n)
        if data:
            k = (key * (n // 4 + 1))[:n]
            data = (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")
        if op == 9:
            send_frame(s, 10, data)
        elif op == 10:
            pass
        elif op == 8:
            send_frame(s, 8, data)
            return
        elif op in (1, 2):
            msg_op, msg = op, data
            if fin:
                send_frame(s, msg_op, msg)
                msg_op, msg = None, b""
        elif op == 0:
            msg = msg + data
            if fin:
                send_frame(s, msg_op or 1, msg)
                msg_op, msg = None, b""
        else:
            send_frame(s, 2, data)


def handle(s):
    try:
        serve(s)
    except (EOFError, OSError):
        pass
    finally:
        s.close()


def main():
    port = int(sys.argv[1])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    ls.settimeout(1)
    print("listening", flush=True)
    end = time.time() + 600
    while time.time() < end:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        c.settimeout(30)
        threading.Thread(target=handle, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
