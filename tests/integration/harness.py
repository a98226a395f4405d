"""Integration test harness: real lessons, real kernel, real peers.

Each tests/integration/test_NAME.py defines functions test_*(ctx) whose
docstring is one sentence in the words of the lesson ("three sends arrive
as one recv on a stream socket"). A test passes by returning, fails by
raising (assert). tests/run_integration.py runs them all, prints each
sentence with ok or FAIL and, on failure, the whole history the test
recorded with ctx.log(), then the line "N passed, N failed".

A test that cannot run here (a missing privilege it cannot get through a
user namespace, a peer program that is not installed) calls ctx.skip(why);
it is counted and printed as skipped, with the reason.

Everything runs on loopback with ports found free, and every wait has a
time limit.
"""

import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time


class Skip(Exception):
    pass


class Result:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv, self.returncode = argv, returncode
        self.stdout, self.stderr = stdout, stderr

    def __repr__(self):
        return "exit %s from %s\n--- stdout\n%s--- stderr\n%s" % (
            self.returncode, " ".join(self.argv), self.stdout, self.stderr)


class Context:
    def __init__(self, bin_dir, build_dir, sanitized=False):
        self.bin = os.path.abspath(bin_dir)
        self.build = os.path.abspath(build_dir)
        self.sanitized = sanitized
        self.preload = os.path.join(self.build, "libsockscope-preload.so")
        self.tmp = tempfile.mkdtemp(prefix="sockscope-test-")
        self.history = []
        self._procs = []

    # --- bookkeeping -------------------------------------------------------
    def log(self, text):
        """Record a step of the test; printed in full when the test fails."""
        self.history.append(str(text))

    def skip(self, why):
        raise Skip(why)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def lesson(self, name):
        """The path of a built program in the bin directory."""
        p = os.path.join(self.bin, name)
        assert os.path.exists(p), "%s is not built" % p
        return p

    def cleanup(self):
        for p in self._procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, extra=None):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("SOCKSCOPE_"):
                del e[k]
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if extra:
            e.update(extra)
        return e

    # --- running programs --------------------------------------------------
    def run(self, argv, timeout=20, env=None, input=None, check=False):
        """Run a program to its end (bounded by timeout); return a Result."""
        self.log("$ " + " ".join(argv))
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                               env=self.env(env), input=input, errors="replace")
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            raise AssertionError("%s did not end within %ss; output so far:\n%s"
                                 % (" ".join(argv), timeout, out))
        r = Result(argv, p.returncode, p.stdout, p.stderr)
        self.log(r)
        if check:
            assert r.returncode == 0, "expected exit 0: %r" % r
        if self.sanitized:
            assert "runtime error:" not in r.stderr, "UBSan: %s" % r.stderr
            assert "AddressSanitizer" not in r.stderr, "ASan: %s" % r.stderr
        return r

    def start(self, argv, env=None, output=None):
        """Start a program in the background; it is killed at the end of the test.
        Its stdout and stderr are pipes, or go to the file `output` (for a
        program that writes more than a pipe holds while nobody reads)."""
        self.log("$ %s &%s" % (" ".join(argv), " > " + output if output else ""))
        if output:
            with open(output, "w") as f:
                p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, text=True,
                                     env=self.env(env))
            self._procs.append(p)
            return p
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=self.env(env))
        self._procs.append(p)
        return p

    def pty(self, argv, env=None, rows=24, cols=80):
        """Start a program on a pseudo-terminal; returns a Terminal."""
        t = Terminal(argv, self.env(env), rows, cols, self)
        self._procs.append(t)
        return t

    # --- sockets and traces ------------------------------------------------
    @staticmethod
    def free_port(family=socket.AF_INET):
        """A TCP port that is free now (bind to port 0, read it, release it)."""
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
            return s.getsockname()[1]

    def read_trace(self, path):
        """Every event of a JSON Lines trace, each line checked to be JSON."""
        events = []
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                assert raw.endswith(b"\n"), "line %d of %s is cut short" % (n, path)
                events.append(json.loads(raw.decode("utf-8")))
        self.log("trace %s: %d events" % (path, len(events)))
        return events

    def ss(self, *args):
        """Run ss with the given filter words; return its output."""
        r = subprocess.run(["ss", "-Htan"] + list(args), capture_output=True, text=True,
                           timeout=10)
        self.log("$ ss -Htan %s\n%s" % (" ".join(args), r.stdout))
        return r.stdout


class Terminal:
    """A program on a pseudo-terminal: keys in, screen text out."""

    def __init__(self, argv, env, rows, cols, ctx):
        import fcntl
        import struct
        import termios
        self.ctx = ctx
        self.argv = argv
        self.output = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                # Only the terminal, as in a shell: no fd the test runner
                # inherited (make's, for one) reaches the program.
                os.closerange(3, 65536)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.returncode = None
        ctx.log("$ %s (on a pty)" % " ".join(argv))

    def _pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return None
        if not data:
            return None
        self.output += data
        return True

    def text(self):
        return self.output.decode("utf-8", errors="replace")

    def expect(self, needle, timeout=10, start=0):
        """Wait until `needle` appears in the output after offset `start`;
        return the offset just past it."""
        deadline = time.time() + timeout
        while True:
            i = self.text().find(needle, start)
            if i >= 0:
                return i + len(needle)
            left = deadline - time.time()
            if left <= 0 or self._pump(min(left, 0.1)) is None:
                i = self.text().find(needle, start)
                if i >= 0:
                    return i + len(needle)
                self.ctx.log("--- terminal output so far ---\n" + self.text())
                raise AssertionError("expected %r on the terminal within %ss" % (needle, timeout))

    def count(self, needle):
        return self.text().count(needle)

    def settle(self, quiet=0.3, limit=5):
        """Read until nothing new arrives for `quiet` seconds (at most `limit`)."""
        deadline = time.time() + limit
        while time.time() < deadline:
            if not self._pump(quiet):
                return

    def send(self, keys):
        self.ctx.log("keys: %r" % keys)
        os.write(self.fd, keys.encode())

    def wait(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._pump(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                self.settle(0.1, 1)
                return self.returncode
        raise AssertionError("%s did not end within %ss" % (self.argv[0], timeout))

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait_noreturn(self, timeout=5):
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def plain_only(fn):
    """Mark a test that runs in the plain build only (it measures or floods,
    and the sanitizers add nothing but time)."""
    fn.plain_only = True
    return fn


class TracedConn:
    """One traced process's connection to a viewer, read the way the
    viewer reads it (docs/trace-format.md, "The viewer's socket and ring"):
    the process first hands over its ring (the message "ring\\n" with a
    memfd); events then wait in the ring, and the socket carries step
    events and doorbells. messages() gives every event line in order."""

    HEADER = 192  # head at 0, tail at 64, asleep at 128, size at 132

    def __init__(self, sock):
        self.sock = sock
        self.ring = None
        self.size = 0

    def _take_ring(self):
        """The lines the ring holds, taken (tail moved up to head)."""
        import struct
        if self.ring is None:
            return []
        head = struct.unpack_from("<Q", self.ring, 0)[0]
        tail = struct.unpack_from("<Q", self.ring, 64)[0]
        n = head - tail
        assert 0 <= n <= self.size, "ring positions out of bounds: head %d tail %d" % (head, tail)
        at = tail % self.size
        first = min(n, self.size - at)
        data = self.ring[self.HEADER + at:self.HEADER + at + first] + \
            self.ring[self.HEADER:self.HEADER + n - first]
        assert data.endswith(b"\n") or not data, "the ring holds a part of a line: %r" % data[-80:]
        struct.pack_into("<Q", self.ring, 64, head)
        return data.splitlines(keepends=True)

    def messages(self):
        """Read without waiting. Returns (lines, closed): every event line
        that came, ring and socket in order, and whether the process has
        closed its end."""
        import mmap
        import struct
        import array
        lines = []
        for _ in range(100000):
            try:
                msg, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_LEN(4 * 4),
                                                   socket.MSG_DONTWAIT)
            except BlockingIOError:
                return lines + self._take_ring(), False
            fds = array.array("i")
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            if fds:
                assert msg == b"ring\n", "a descriptor came with %r" % msg
                assert self.ring is None, "a second ring"
                total = os.fstat(fds[0]).st_size
                self.ring = mmap.mmap(fds[0], total)
                self.size = struct.unpack_from("<I", self.ring, 132)[0]
                assert self.size + self.HEADER == total, (self.size, total)
                for fd in fds:
                    os.close(fd)
                continue
            lines += self._take_ring()
            if not msg:
                return lines, True
            if msg == b"\n":
                continue  # a doorbell
            assert msg.endswith(b"\n"), "a message that is not whole lines: %r" % msg
            lines += msg.splitlines(keepends=True)
        return lines + self._take_ring(), False

    def close(self):
        if self.ring is not None:
            self.ring.close()
        self.sock.close()
