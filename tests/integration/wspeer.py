"""Real WebSocket peers for lesson 11's tests, on python3-websockets.

Run with Debian's /usr/bin/python3, where python3-websockets is installed:

    wspeer.py client URL          the exchange every peer does (below); JSON
    wspeer.py chat URL            two clients; one speaks, both must hear it
    wspeer.py wait-close URL      connect, say "connected", wait for the
                                  server's close frame; JSON with its code
    wspeer.py echo-server PORT [LIMIT]
                                  an echo server on 127.0.0.1:PORT for 600 s,
                                  refusing messages over LIMIT bytes (1009)
    wspeer.py browser URL CHROMIUM DIR
                                  headless Chromium (driven over its DevTools
                                  WebSocket) opens the page at URL, sends
                                  text, binary and 1 MiB through it, closes
                                  with 1000; JSON with what it saw

The exchange: text, binary, a message in two fragments, a ping, 1 MiB of
binary, 64 KiB of multi-byte UTF-8 text, each echoed back intact, then a
close with 1000. Prints one JSON object; exits 1 when anything differed.
"""
import asyncio
import json
import os
import subprocess
import sys
import time

import websockets


def fail(what):
    print(json.dumps({"ok": False, "error": what}))
    sys.exit(1)


async def exchange(url):
    async with websockets.connect(url, max_size=None, open_timeout=10,
                                  close_timeout=10) as ws:
        big = bytes(i % 251 for i in range(1 << 20))
        text = "κόσμε 😀 " * 5000
        for msg in ["hello", bytes(range(256)), big, text]:
            await ws.send(msg)
            back = await asyncio.wait_for(ws.recv(), 10)
            if back != msg:
                fail("echo of a %s message of %d differs" % (type(msg).__name__, len(msg)))
        await ws.send(["frag", "ments"])
        if await asyncio.wait_for(ws.recv(), 10) != "fragments":
            fail("the fragmented message did not come back whole")
        pong = await ws.ping(b"tick")
        await asyncio.wait_for(pong, 10)
        await ws.close(1000, "bye")
        return {"ok": True, "close_code": ws.close_code, "messages": 5}


async def chat(url):
    async with websockets.connect(url) as a, websockets.connect(url) as b:
        await a.send("hi all")
        got_a = await asyncio.wait_for(a.recv(), 10)
        got_b = await asyncio.wait_for(b.recv(), 10)
        await b.send(b"\x01\x02")
        got_a2 = await asyncio.wait_for(a.recv(), 10)
        return {"ok": got_a == got_b == "hi all" and got_a2 == b"\x01\x02",
                "a": got_a, "b": got_b}


async def wait_close(url):
    async with websockets.connect(url) as ws:
        print("connected", flush=True)
        try:
            await asyncio.wait_for(ws.recv(), 20)
        except websockets.ConnectionClosed:
            pass
        await ws.wait_closed()
        return {"ok": True, "close_code": ws.close_code, "reason": ws.close_reason}


async def echo_server(port, limit):
    async def echo(ws, path=None):
        async for msg in ws:
            await ws.send(msg)
    async with websockets.serve(echo, "127.0.0.1", port, max_size=limit, ping_interval=None):
        print("listening", flush=True)
        await asyncio.sleep(600)


# The test that runs inside the page: it uses the page's own WebSocket and
# its send() (which also draws the frames), and resolves with what it saw.
PAGE_TEST = r"""
(async () => {
  const s = window.sockscope;
  const until = (cond, what) => new Promise((ok, no) => {
    const t0 = Date.now();
    const tick = () => cond() ? ok() : Date.now() - t0 > 15000 ? no(new Error(what)) :
      setTimeout(tick, 20);
    tick();
  });
  await until(() => s.ws.readyState === WebSocket.OPEN, "the WebSocket did not open");
  const got = [];
  s.ws.addEventListener("message", e => got.push(e.data));
  const closed = new Promise(ok => s.ws.addEventListener("close", e => ok(e)));
  document.getElementById("text").value = "hello from chromium";
  document.getElementById("form").requestSubmit();
  const bin = new Uint8Array(256).map((_, i) => i);
  send(bin.buffer);
  const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
  send(big.buffer);
  await until(() => got.length >= 3, "the echoes did not all come back");
  const same = (a, b) => a.byteLength === b.byteLength &&
    new Uint8Array(a).every((v, i) => v === b[i]);
  const result = {
    text: got[0],
    binary_ok: got[1] instanceof ArrayBuffer && same(got[1], bin),
    big_len: got[2] instanceof ArrayBuffer ? got[2].byteLength : -1,
    big_ok: got[2] instanceof ArrayBuffer && same(got[2], big),
    shown_frames: document.querySelectorAll(".frame.sent, .frame.recv").length,
  };
  s.ws.close(1000, "done");
  const e = await closed;
  result.close_code = e.code;
  result.was_clean = e.wasClean;
  result.state = document.getElementById("state").textContent;
  return JSON.stringify(result);
})()
"""


async def browser(url, chromium, tmp):
    profile = os.path.join(tmp, "chromium-profile")
    env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_CACHE_HOME=tmp)
    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "chromium.log"), "w"),
        env=env)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or len(open(port_file).read().split()) < 2:
            if time.time() > deadline or proc.poll() is not None:
                fail("Chromium did not start its DevTools endpoint")
            await asyncio.sleep(0.1)
        port, path = open(port_file).read().split()[:2]
        async with websockets.connect("ws://127.0.0.1:%s%s" % (port, path), max_size=None) as cdp:
            ids = iter(range(1, 1000))

            async def call(method, params=None, session=None):
                i = next(ids)
                msg = {"id": i, "method": method, "params": params or {}}
                if session:
                    msg["sessionId"] = session
                await cdp.send(json.dumps(msg))
                while True:
                    r = json.loads(await asyncio.wait_for(cdp.recv(), 60))
                    if r.get("id") == i:
                        if "error" in r:
                            fail("%s: %s" % (method, r["error"]))
                        return r["result"]

            target = (await call("Target.createTarget", {"url": url}))["targetId"]
            session = (await call("Target.attachToTarget",
                                  {"targetId": target, "flatten": True}))["sessionId"]
            # Wait for the page's script to have run.
            for _ in range(300):
                r = await call("Runtime.evaluate",
                               {"expression": "typeof window.sockscope", "returnByValue": True},
                               session)
                if r["result"].get("value") == "object":
                    break
                await asyncio.sleep(0.05)
            r = await call("Runtime.evaluate", {"expression": PAGE_TEST, "awaitPromise": True,
                                                "returnByValue": True}, session)
            if "exceptionDetails" in r:
                fail("the page's test failed: %s" % r["exceptionDetails"])
            result = json.loads(r["result"]["value"])
            shot = await call("Page.captureScreenshot", {"format": "png"}, session)
            import base64
            with open(os.path.join(tmp, "page.png"), "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            result["ok"] = True
            return result
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "client":
        out = asyncio.run(exchange(args[0]))
    elif cmd == "chat":
        out = asyncio.run(chat(args[0]))
    elif cmd == "wait-close":
        out = asyncio.run(wait_close(args[0]))
    elif cmd == "echo-server":
        asyncio.run(echo_server(int(args[0]), int(args[1]) if len(args) > 1 else None))
        return 0
    elif cmd == "browser":
        out = asyncio.run(browser(args[0], args[1], args[2]))
    else:
        fail("unknown command " + cmd)
    print(json.dumps(out), flush=True)
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
