"""Lesson 11 with real WebSocket peers: python3-websockets, node ws, Chromium."""

import os
import shutil

from wsharness import (PY, WSPEER_JS, WSPEER_PY, need_websockets, node_env, peer_json,
                       start_server, stop_server, wait_port)


def test_python_client(ctx):
    """A python3-websockets client gets back text, binary, fragments, 1 MiB and UTF-8 intact, its ping answered, and a clean close with 1000."""
    need_websockets(ctx)
    p, port = start_server(ctx)
    out = peer_json(ctx, [PY, WSPEER_PY, "client", "ws://127.0.0.1:%d/ws" % port])
    assert out["close_code"] == 1000, out
    log = stop_server(ctx, p)
    assert "closes with 1000" in log and "broke the protocol" not in log, log


def test_node_client(ctx):
    """A node ws client gets back text, binary, fragments, 1 MiB and UTF-8 intact, its ping answered, and a clean close with 1000."""
    env = node_env(ctx)
    p, port = start_server(ctx)
    out = peer_json(ctx, ["node", WSPEER_JS, "client", "ws://127.0.0.1:%d/ws" % port], env=env)
    assert out["close_code"] == 1000 and out["pong"], out
    log = stop_server(ctx, p)
    assert "closes with 1000" in log and "broke the protocol" not in log, log


def test_lesson_client_with_python_server(ctx):
    """The lesson's client does its whole exchange with a python3-websockets echo server."""
    need_websockets(ctx)
    port = ctx.free_port()
    ctx.start([PY, WSPEER_PY, "echo-server", str(port)])
    wait_port(port)
    r = ctx.run([ctx.lesson("11-websocket"), "--role", "client", "--port", str(port)],
                check=True)
    assert "the accept value matches" in r.stdout
    assert r.stdout.count("got back") == 4 and "got the close reply (1000)" in r.stdout, r


def test_lesson_client_with_node_server(ctx):
    """The lesson's client does its whole exchange with a node ws echo server."""
    env = node_env(ctx)
    port = ctx.free_port()
    ctx.start(["node", WSPEER_JS, "echo-server", str(port)], env=env)
    wait_port(port)
    r = ctx.run([ctx.lesson("11-websocket"), "--role", "client", "--port", str(port)],
                check=True)
    assert r.stdout.count("got back") == 4 and "got the close reply (1000)" in r.stdout, r


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_chromium_page(ctx):
    """Headless Chromium opens the page, sends text, binary and 1 MiB through it, gets the echoes, shows the frames and closes with 1000."""
    need_websockets(ctx)
    browser = chromium()
    if browser is None:
        ctx.skip("Chromium is not installed (scripts/deps.sh test)")
    p, port = start_server(ctx)
    out = peer_json(ctx, [PY, WSPEER_PY, "browser", "http://127.0.0.1:%d/" % port, browser,
                          ctx.tmp], timeout=120)
    assert out["text"] == "hello from chromium", out
    assert out["binary_ok"] and out["big_len"] == 1 << 20 and out["big_ok"], out
    assert out["shown_frames"] >= 6, out  # three sent, three received, drawn on the page
    assert out["close_code"] == 1000 and out["was_clean"], out
    assert os.path.getsize(os.path.join(ctx.tmp, "page.png")) > 0
    log = stop_server(ctx, p)
    assert "text, 19 bytes: \"hello from chromium\" -> 1 browsers" in log, log
    assert "binary, 1048576 bytes" in log and "closes with 1000" in log, log
