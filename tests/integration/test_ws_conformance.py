"""The WebSocket conformance runner (tests/ws_conformance/runner.py):
first shown to pass servers known to be good and to catch a broken one,
then run on lesson 11's server, where every case must pass."""

import json
import os
import sys

from harness import plain_only
import signal
import subprocess

from wsharness import PY, WSPEER_JS, WSPEER_PY, need_websockets, node_env, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "..", "ws_conformance", "runner.py")
BROKEN = os.path.join(HERE, "..", "ws_conformance", "broken_server.py")
CATEGORIES = {"framing", "pingpong", "rsv", "opcodes", "fragmentation", "utf8", "close", "limits"}
LIMIT = 16 << 20  # the default largest message of common/ws and of both peers below


def conformance(ctx, url, timeout=3.0):
    """Run every case against `url`; the runner's JSON result."""
    r = ctx.run([sys.executable, RUNNER, url, "--json", "--limit", str(LIMIT),
                 "--timeout", str(timeout)], timeout=300)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert lines, "the runner printed no result: %r" % r
    out = json.loads(lines[-1])
    cats = {x["category"] for x in out["results"]}
    assert cats == CATEGORIES, "the runner ran categories %s" % sorted(cats)
    modes = {x["mode"] for x in out["results"]}
    assert modes == {"whole", "one byte per write"}, modes
    return out


def failures(out):
    return ["%s %s [%s]: %s" % (x["id"], x["case"], x["mode"], x["why"])
            for x in out["results"] if x["verdict"] == "FAIL"]


def reference_passes(ctx, argv, env=None):
    """Start a server known to be good on a free port; every case must pass."""
    port = ctx.free_port()
    ctx.start(argv + [str(port), str(LIMIT)], env=env, output=ctx.path("server.log"))
    wait_port(port)
    out = conformance(ctx, "ws://127.0.0.1:%d/" % port)
    assert out["failed"] == 0, "\n".join(failures(out))


@plain_only
def test_runner_passes_python_websockets(ctx):
    """The runner passes python3-websockets, a server known to be good: every case, whole and one byte per write."""
    need_websockets(ctx)
    reference_passes(ctx, [PY, WSPEER_PY, "echo-server"])


@plain_only
def test_runner_passes_node_ws(ctx):
    """The runner passes node ws, a server known to be good: every case, whole and one byte per write."""
    reference_passes(ctx, ["node", WSPEER_JS, "echo-server"], env=node_env(ctx))


@plain_only
def test_runner_catches_a_broken_server(ctx):
    """A server broken on purpose, one flaw per category, fails cases in every category, while its well-formed echoes pass."""
    port = ctx.free_port()
    ctx.start([sys.executable, BROKEN, str(port)], output=ctx.path("broken-server.log"))
    wait_port(port)
    out = conformance(ctx, "ws://127.0.0.1:%d/" % port, timeout=1.0)
    failed = {x["category"] for x in out["results"] if x["verdict"] == "FAIL"}
    assert failed == CATEGORIES, "no case failed in %s" % sorted(CATEGORIES - failed)
    # Its flaws are in the error paths only: plain echoes must still pass,
    # or the runner would be failing it for the wrong reason.
    echo = [x for x in out["results"]
            if x["category"] == "framing" and x["case"].startswith(("text of", "binary of"))]
    assert echo and all(x["verdict"] == "ok" for x in echo), failures({"results": echo})


def test_lesson_server_passes_every_case(ctx):
    """Lesson 11's server passes every case of the runner, whole and one byte per write, in the best way (none non-strict), and stops cleanly."""
    # The server prints a line for each of the ~600 connections: to a file,
    # since a pipe nobody reads would fill and stop it.
    port = ctx.free_port()
    log = ctx.path("server.log")
    p = ctx.start([ctx.lesson("11-websocket"), "--role", "server", "--port", str(port)],
                  output=log)
    wait_port(port, p)
    out = conformance(ctx, "ws://127.0.0.1:%d/echo" % port)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise AssertionError("the server did not stop within 15 s of SIGTERM")
    text = open(log, errors="replace").read()
    ctx.log("server exit %s, last lines:\n%s" % (p.returncode, "\n".join(text.splitlines()[-5:])))
    assert out["failed"] == 0, "\n".join(failures(out))
    lenient = ["%s %s [%s]" % (x["id"], x["case"], x["mode"])
               for x in out["results"] if x["verdict"] == "non-strict"]
    assert not lenient, "passed, but not in the best way:\n" + "\n".join(lenient)
    assert len(out["results"]) >= 300, len(out["results"])
    assert p.returncode == 0, "the server exited %s" % p.returncode
    if ctx.sanitized:
        assert "runtime error:" not in text and "Sanitizer" not in text, text[-4000:]
