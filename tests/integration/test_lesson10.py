"""Lesson 10, HTTP over sockets: a GET by hand over TCP and a Unix socket."""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

LESSON = "10-http-over-sockets"


def wait_listening(ctx, proc, what="listening on port"):
    """Read the server's first lines until it says where it listens."""
    deadline = time.time() + 10
    line, port = "", None
    while time.time() < deadline:
        line = proc.stdout.readline()
        ctx.log(line.rstrip())
        m = re.search(r"listening on TCP port (\d+)$", line)
        if m:
            port = int(m.group(1))
        m = re.search(r"and on the Unix socket (\S+)$", line)
        if m and port is not None:
            return port, m.group(1)
        if not line and proc.poll() is not None:
            break
    raise AssertionError("the server never said where it listens (last line %r)" % line)


class FakeServer:
    """A peer that answers any request with canned bytes, then closes or
    holds the connection open (as a lying or slow server would)."""

    def __init__(self, answer, close=True):
        self.answer, self.close = answer, close
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(15)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(10)
        got = b""
        try:
            while b"\r\n\r\n" not in got and len(got) < 65536:
                data = conn.recv(4096)
                if not data:
                    break
                got += data
            conn.sendall(self.answer)
        except OSError:
            pass
        if self.close:
            conn.close()
        else:
            self.held.append(conn)

    def stop(self):
        self.sock.close()
        for c in self.held:
            c.close()
        self.thread.join(5)


def test_default_run(ctx):
    """The client writes a GET by hand, reads a Content-Length body and then a chunked body on the same connection, over TCP and over the Unix socket, and prints the time of each."""
    r = ctx.run([ctx.lesson(LESSON), "--port", "0"], check=True, timeout=30)
    out = r.stdout
    assert "-> GET / HTTP/1.1\\r\\n" in out, out
    assert re.search(r"-> Host: localhost:\d+\\r\\n", out), out
    assert "localhost resolves to" in out
    assert "<- HTTP/1.1 200 OK\\r\\n" in out
    assert "body: 40 bytes, framed by Content-Length" in out
    assert "hello over TCP from the lesson's server" in out
    assert "hello over Unix from the lesson's server" in out
    assert out.count("framed by chunked encoding") == 2
    assert "three chunks over TCP" in out and "three chunks over Unix" in out
    # Keep-alive: one accept per transport, for two requests each.
    assert out.count("[server] accepted a connection over TCP") == 1
    assert out.count("[server] accepted a connection over Unix") == 1
    assert out.count("a second request on the same connection (keep-alive)") == 2
    # Both requests of the TCP connection leave from the same local port.
    ports = re.findall(r"\[client\]\s+fd \d+\s+TCP ESTABLISHED (\S+) <->", out)
    assert len(ports) >= 3 and len(set(ports)) == 1, ports
    assert re.search(r"time of GET /: +[\d.]+ ms over TCP, +[\d.]+ ms over Unix$", out, re.M)
    assert re.search(r"time of GET /chunked: +[\d.]+ ms over TCP", out)
    assert "server done" in out
    # The lesson's own lines fit 80 columns (a socket's line, drawn by the
    # common show_socket, carries the whole path).
    long = [l for l in out.splitlines() if len(l) > 80 and not re.match(r"\[\w+\]\s+fd \d+ ", l)]
    assert not long, long


def test_against_python_http_server(ctx):
    """--url fetches a file from python3 -m http.server, another program's server, by the same bytes."""
    root = ctx.path("www")
    os.makedirs(root)
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("a file served by python\n")
    port = ctx.free_port()
    srv = ctx.start([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                     "--directory", root, str(port)])
    for _ in range(100):
        if ":%d " % port in ctx.ss("state", "listening"):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("python3 -m http.server never listened")
    r = ctx.run([ctx.lesson(LESSON), "--url", "http://127.0.0.1:%d/hello.txt" % port],
                check=True)
    assert "status 200" in r.stdout, r
    assert "a file served by python" in r.stdout
    assert "body: 24 bytes, framed by Content-Length" in r.stdout
    # And by name, resolved first.
    r = ctx.run([ctx.lesson(LESSON), "--url", "http://localhost:%d/nothing-here" % port],
                check=True)
    assert "localhost resolves to" in r.stdout and "status 404" in r.stdout, r
    # The lesson's own client role against the same server: / is a listing.
    r = ctx.run([ctx.lesson(LESSON), "--role", "client", "--port", str(port)], check=True)
    assert "status 200" in r.stdout and "Directory listing" in r.stdout, r
    srv.terminate()


def test_curl_over_tcp_and_unix(ctx):
    """curl talks to the lesson's server over TCP and with --unix-socket, and reuses one connection for two URLs."""
    if shutil.which("curl") is None:
        ctx.skip("curl is not installed")
    path = ctx.path("app.sock")
    srv = ctx.start([ctx.lesson(LESSON), "--role", "server", "--host", "127.0.0.1", "--port", "0",
                     "--unix", path, "--serve", "60"])
    port, said = wait_listening(ctx, srv)
    assert said == path
    r = ctx.run(["curl", "-sS", "--max-time", "10", "http://127.0.0.1:%d/" % port], check=True)
    assert r.stdout == "hello over TCP from the lesson's server\n", r
    r = ctx.run(["curl", "-sS", "--max-time", "10", "--unix-socket", path,
                 "http://localhost/chunked"], check=True)
    assert r.stdout == "three chunks over Unix\n", r
    r = ctx.run(["curl", "-sSv", "--max-time", "10", "http://127.0.0.1:%d/" % port,
                 "http://127.0.0.1:%d/chunked" % port], check=True)
    assert "three chunks over TCP" in r.stdout
    assert re.search(r"Re-using existing connection|Reusing existing", r.stderr), r.stderr
    r = ctx.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                 "http://127.0.0.1:%d/no-such" % port])
    assert r.stdout == "404", r
    srv.terminate()
    out, _ = srv.communicate(timeout=10)
    ctx.log(out)
    assert "GET /chunked over Unix: 200 OK" in out
    assert not os.path.exists(path), "the server left its socket file behind"


def run_against(ctx, answer, close=True, timeout="2"):
    fake = FakeServer(answer, close)
    try:
        return ctx.run([ctx.lesson(LESSON), "--timeout", timeout, "--url",
                        "http://127.0.0.1:%d/" % fake.port], timeout=20)
    finally:
        fake.stop()


def test_interim_and_long_body(ctx):
    """A 100 Continue before the answer is skipped, and a long body is read whole but shown only at its start."""
    body = b"x" * 200000
    r = run_against(ctx, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert r.returncode == 0, r
    assert "an interim answer, 100 Continue" in r.stdout
    assert "body: 200000 bytes, framed by Content-Length" in r.stdout
    assert len(r.stdout.splitlines()) < 200, "the whole body was printed"


def test_bad_status_line(ctx):
    """A malformed status line is refused with a message that quotes it."""
    r = run_against(ctx, b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n")
    assert r.returncode == 1, r
    assert "bad response: bad status line" in r.stderr and "HTTP/1.1 OK" in r.stderr, r


def test_header_too_long(ctx):
    """A header longer than the cap is refused, without reading on."""
    r = run_against(ctx, b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert r.returncode == 1, r
    assert "longer than the cap of 8192 bytes" in r.stderr, r


def test_lying_content_length(ctx):
    """A Content-Length larger than the body sent, on a connection held open, ends in a timeout that says how far the body got."""
    r = run_against(ctx, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten!!",
                    close=False, timeout="1")
    assert r.returncode == 1, r
    assert "no answer within 1 s" in r.stderr, r
    assert "10 of the 100 bytes Content-Length promised" in r.stderr, r


def test_peer_closes_early(ctx):
    """A peer that closes before the body ends is named as closing early."""
    r = run_against(ctx, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten!!")
    assert r.returncode == 1, r
    assert "closed the connection early" in r.stderr and "10 of the 100" in r.stderr, r
    r = run_against(ctx, b"")
    assert r.returncode == 1 and "without sending anything" in r.stderr, r


def test_server_refuses_bad_requests(ctx):
    """The lesson's server answers a malformed request with 400 and a too-long one with 431, then closes."""
    path = ctx.path("app.sock")
    srv = ctx.start([ctx.lesson(LESSON), "--role", "server", "--host", "127.0.0.1", "--port", "0",
                     "--unix", path, "--serve", "60"])
    port, _ = wait_listening(ctx, srv)
    for req, want in ((b"HELLO THERE\r\n\r\n", b"400 Bad Request"),
                      (b"GET / HTTP/1.1\r\nX: " + b"b" * 9000 + b"\r\n\r\n", b"431 ")):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(req)
            got = b""
            while True:
                data = s.recv(4096)
                if not data:
                    break
                got += data
            ctx.log(got)
            assert want in got, got
    srv.terminate()
    srv.communicate(timeout=10)


def test_bad_options(ctx):
    """A bad --url or --timeout gets a message saying what is expected, and exit 2."""
    for argv, words in ((["--url", "https://example.org/"], "starts with http://"),
                        (["--url", "http://127.0.0.1:99999/"], "bad port"),
                        (["--url", "http://x/a\r\nInjected: yes"], "control byte"),
                        (["--url", "http:///x"], "no host name"),
                        (["--timeout", "0"], "--timeout takes seconds"),
                        (["--url"], "needs a value")):
        r = ctx.run([ctx.lesson(LESSON)] + argv)
        assert r.returncode == 2 and words in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "--help"])
    assert r.returncode == 0 and "--url" in r.stdout and "--unix PATH" in r.stdout
