"""Recordings: written headless, read back even when damaged, exported."""

import json
import os
import re
import shutil
import subprocess


def tool(ctx, name):
    return os.path.join(ctx.build, "tools", name)


def record_lesson02(ctx):
    rec = ctx.path("rec")
    r = ctx.run([tool(ctx, "capture-run"), "--sandbox", "--record", rec, "--",
                 ctx.lesson("02-call-sequence"), "--port", "0"], timeout=30)
    if r.returncode == 3 and "namespace" in r.stderr:
        ctx.skip("this system forbids unprivileged user namespaces: " + r.stderr.strip())
    assert r.returncode == 0, r
    return rec


def test_a_recording_holds_calls_packets_and_kernel_states(ctx):
    """A recording of lesson 02 holds its calls, its packets (also as a pcap file) and the kernel's TIME_WAIT after the client's close, in time order."""
    rec = record_lesson02(ctx)
    for name in ("timeline.jsonl", "packets.pcap", "meta.json"):
        assert os.path.exists(os.path.join(rec, name)), name
    entries = [json.loads(line) for line in open(os.path.join(rec, "timeline.jsonl"))]
    kinds = {e["kind"] for e in entries}
    assert {"call", "packet", "kstate", "proc", "exit"} <= kinds, kinds
    ts = [e["ts_ns"] for e in entries]
    assert ts == sorted(ts), "the timeline is not in time order"
    packets = [e for e in entries if e["kind"] == "packet"]
    assert [p["frame"] for p in packets] == sorted(p["frame"] for p in packets)
    assert packets[0]["flags"] == "SYN" and len(packets) == 10
    kstates = [e["state"] for e in entries if e["kind"] == "kstate"]
    assert "TIME_WAIT" in kstates, kstates
    meta = json.load(open(os.path.join(rec, "meta.json")))
    assert meta["v"] == 1 and meta["capture"] == "any" and "02-call-sequence" in meta["argv"][0]
    r = ctx.run([tool(ctx, "recording"), "check", rec], check=True)
    assert re.match(r"\d+ entries: \d+ calls, 10 packets, \d+ kernel states", r.stdout), r.stdout
    assert r.stderr == "", r.stderr


def test_mermaid_export_lists_the_handshake(ctx):
    """The Mermaid export of lesson 02 is a sequence diagram whose every line is a Mermaid statement, with the handshake in order between the two processes."""
    rec = record_lesson02(ctx)
    out = ctx.run([tool(ctx, "recording"), "export", rec, "--mermaid"], check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "sequenceDiagram"
    statement = re.compile(
        r"^    (participant P\d+ as [^;#\n]+"
        r"|P\d+(->>|-\))P\d+: [^;\n]*"
        r"|Note over P\d+: [^;\n]*)$")
    for line in lines[1:]:
        assert statement.match(line), "not a Mermaid statement: %r" % line
        # '#' may only start an entity code such as #59;
        assert re.sub(r"#\d+;", "", line).count("#") == 0, line
    # Mermaid's own parser accepts it as a sequence diagram.
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    checker = os.path.join(repo, "build", "node-mermaid", "check.mjs")
    assert os.path.exists(checker), "the Mermaid checker is not installed (make test installs it)"
    path = ctx.path("lesson02.mmd")
    with open(path, "w") as f:
        f.write(out)
    r = subprocess.run(["node", checker, path], capture_output=True, text=True, timeout=120)
    ctx.log("mermaid: %s %s" % (r.stdout, r.stderr))
    assert r.returncode == 0 and r.stdout.strip() == "sequence", r.stdout + r.stderr
    # ...and rejects a broken one, so the check can fail.
    with open(path, "w") as f:
        f.write("sequenceDiagram\n    P0->>P1 no colon here\n")
    r = subprocess.run(["node", checker, path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "error" in r.stdout, r.stdout
    parts = dict(re.findall(r"participant (P\d+) as (\S+)", out))
    assert sorted(parts.values()) == ["client", "server"], parts
    server = [p for p, n in parts.items() if n == "server"][0]
    client = [p for p, n in parts.items() if n == "client"][0]
    wire = [l.strip() for l in lines if "-)" in l]
    assert wire[0].startswith("%s-)%s: SYN seq=0" % (client, server)), wire[:3]
    assert wire[1].startswith("%s-)%s: SYN+ACK seq=0 ack=1" % (server, client)), wire[:3]
    assert wire[2].startswith("%s-)%s: ACK seq=1 ack=1" % (client, server)), wire[:3]
    assert "Note over %s: LISTEN" % server in out and "Note over %s: CLOSE_WAIT" % server in out
    text = ctx.run([tool(ctx, "recording"), "export", rec, "--text"], check=True).stdout
    assert re.search(r"client \d+ -> server \d+ +SYN seq=0", text), text


def test_damaged_recordings_replay_what_is_intact(ctx):
    """A recording cut short, with a corrupt line, or without its pcap gets a clear message and still gives what is intact."""
    rec = record_lesson02(ctx)
    path = os.path.join(rec, "timeline.jsonl")
    good = open(path).read().splitlines(keepends=True)
    n = len(good)
    # A crash mid-write: the last line lacks its end.
    with open(path, "w") as f:
        f.writelines(good[:-1])
        f.write(good[-1][: len(good[-1]) // 2])
    r = ctx.run([tool(ctx, "recording"), "check", rec])
    assert r.returncode == 0 and "cut short" in r.stderr, r
    assert r.stdout.startswith("%d entries" % (n - 1)), r.stdout
    # A corrupt line in the middle, and binary garbage.
    with open(path, "w") as f:
        f.writelines(good[:5])
        f.write("{this is not json\n")
        f.write("\x00\xff\xfe garbage\n")
        f.writelines(good[5:])
    r = ctx.run([tool(ctx, "recording"), "check", rec])
    assert r.returncode == 0, r
    assert "2 corrupt lines skipped (the first is line 6)" in r.stderr, r.stderr
    assert r.stdout.startswith("%d entries" % n), r.stdout
    # No pcap: said, and the rest replays.
    os.unlink(os.path.join(rec, "packets.pcap"))
    r = ctx.run([tool(ctx, "recording"), "export", rec, "--text"])
    assert r.returncode == 0 and "no packets.pcap" in r.stderr, r
    assert "SYN+ACK" in r.stdout
    # Not a recording at all: a clear error and a non-zero exit.
    r = ctx.run([tool(ctx, "recording"), "check", ctx.path("nothing-here")])
    assert r.returncode == 1 and "is not a recording" in r.stderr, r


def test_recording_without_capture_says_so(ctx):
    """Without the right to capture, a recording is made without packets and says why."""
    rec = ctx.path("rec-noperm")
    argv = [tool(ctx, "capture-run"), "--record", rec, "--", ctx.lesson("02-call-sequence"),
            "--port", "0"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            ctx.skip("setpriv is not installed to drop root's privileges")
        os.chmod(ctx.tmp, 0o777)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"] + argv
    r = ctx.run(argv, timeout=30)
    assert r.returncode == 0, r
    assert "recording without packets" in r.stderr and "CAP_NET_RAW" in r.stderr, r.stderr
    entries = [json.loads(l) for l in open(os.path.join(rec, "timeline.jsonl"))]
    assert any(e["kind"] == "call" for e in entries)
    assert not any(e["kind"] == "packet" for e in entries)
