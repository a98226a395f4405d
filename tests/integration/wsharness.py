"""What lesson 11's tests share: start the lesson's server, find the real
peers (python3-websockets under Debian's python, node `ws`, Chromium)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"  # where python3-websockets is installed
WSPEER_PY = os.path.join(HERE, "wspeer.py")
WSPEER_JS = os.path.join(HERE, "wspeer.js")


def need_websockets(ctx):
    r = subprocess.run([PY, "-c", "import websockets"], capture_output=True)
    if r.returncode != 0:
        ctx.skip("python3-websockets is not installed (scripts/deps.sh test)")


def node_env(ctx):
    """The environment for node with `ws` on its path, or skip."""
    if shutil.which("node") is None:
        ctx.skip("node is not installed (scripts/deps.sh test)")
    for d in (ctx.build, os.path.dirname(ctx.build)):
        mods = os.path.join(d, "node_modules")
        if os.path.exists(os.path.join(mods, "ws", "package.json")):
            return {"NODE_PATH": mods}
    ctx.skip("node ws is not installed: make ws-node")


def wait_port(port, proc=None, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError("the server ended early: exit %s\n%s" % (
                proc.returncode, proc.stderr.read() if proc.stderr else ""))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on port %d after %ss" % (port, timeout))


def start_server(ctx, *extra):
    """bin/11-websocket --role server on a free port; returns (proc, port)."""
    port = ctx.free_port()
    p = ctx.start([ctx.lesson("11-websocket"), "--role", "server", "--port", str(port)]
                  + list(extra))
    wait_port(port, p)
    return p, port


def stop_server(ctx, p):
    """SIGTERM, as Ctrl-C would; the server must end by itself, cleanly."""
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("the server did not stop within 15 s of SIGTERM")
    ctx.log("server exit %s\n--- stdout\n%s--- stderr\n%s" % (p.returncode, out, err))
    assert p.returncode == 0, "the server exited %s: %s" % (p.returncode, err)
    if ctx.sanitized:
        assert "runtime error:" not in err and "Sanitizer" not in err, err
    return out


def peer_json(ctx, argv, timeout=60, env=None):
    """Run a peer to its end; its last line is JSON; return it (exit 0 expected)."""
    r = ctx.run(argv, timeout=timeout, env=env)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert lines, "the peer printed no result: %r" % r
    out = json.loads(lines[-1])
    assert r.returncode == 0 and out.get("ok"), "the peer failed: %r" % r
    return out
