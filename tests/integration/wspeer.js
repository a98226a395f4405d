// Real WebSocket peers for lesson 11's tests, on node's `ws` package
// (installed by scripts/ws-node.sh; NODE_PATH points at it).
//
//   node wspeer.js client URL         the exchange of wspeer.py's client:
//                                     text, binary, two fragments, a ping,
//                                     1 MiB, 64 KiB of UTF-8, then close 1000
//   node wspeer.js echo-server PORT [LIMIT]
//                                     an echo server on 127.0.0.1:PORT that
//                                     refuses messages over LIMIT bytes
//                                     (1009); stops after 600 s
"use strict";
const WebSocket = require("ws");

function done(result) {
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

function client(url) {
  const ws = new WebSocket(url, { maxPayload: 0 });
  const big = Buffer.alloc(1 << 20).map((_, i) => i % 251);
  const text = "κόσμε 😀 ".repeat(5000);
  const expected = [
    ["hello", false],
    [Buffer.from([...Array(256).keys()]), true],
    ["fragments", false],
    [big, true],
    [text, false],
  ];
  let n = 0, pong = false;
  const timer = setTimeout(() => done({ ok: false, error: "timed out after " + n }), 20000);
  ws.on("open", () => {
    ws.send("hello");
    ws.send(expected[1][0]);
    ws.send("frag", { fin: false });
    ws.send("ments", { fin: true });
    ws.ping("tick");
    ws.send(big);
    ws.send(text);
  });
  ws.on("pong", (d) => { pong = d.toString() === "tick"; });
  ws.on("message", (data, isBinary) => {
    const [want, wantBinary] = expected[n++];
    const same = wantBinary ? isBinary && Buffer.compare(data, want) === 0
                            : !isBinary && data.toString() === want;
    if (!same) done({ ok: false, error: "echo " + n + " differs" });
    if (n === expected.length) ws.close(1000, "bye");
  });
  ws.on("close", (code) => {
    clearTimeout(timer);
    done({ ok: n === expected.length && pong, close_code: code, messages: n, pong: pong });
  });
  ws.on("error", (e) => done({ ok: false, error: String(e) }));
}

function echoServer(port, limit) {
  const wss = new WebSocket.WebSocketServer({ host: "127.0.0.1", port: port,
                                              maxPayload: limit || 0 });
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on("error", () => {});
  });
  wss.on("listening", () => console.log("listening"));
  setTimeout(() => process.exit(0), 600000);
}

const [cmd, arg, arg2] = process.argv.slice(2);
if (cmd === "client") client(arg);
else if (cmd === "echo-server") echoServer(Number(arg), Number(arg2 || 0));
else done({ ok: false, error: "unknown command " + cmd });
