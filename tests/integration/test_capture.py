"""Packets on the wire: capture in a private namespace, compared with tshark."""

import json
import os
import shutil
import subprocess

FLAG_BITS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "URG": 0x20, "ACK": 0x10}


def capture_lesson02(ctx, iface):
    seg = ctx.path("seg-%s.jsonl" % iface)
    pcap = ctx.path("cap-%s.pcap" % iface)
    r = ctx.run([os.path.join(ctx.build, "tools", "capture-run"), "--sandbox", "--iface", iface,
                 "--filter", "tcp", "--pcap", pcap, "--segments", seg, "--",
                 ctx.lesson("02-call-sequence"), "--port", "0"], timeout=30)
    if r.returncode == 3 and "namespace" in r.stderr:
        ctx.skip("this system forbids unprivileged user namespaces: " + r.stderr.strip())
    assert r.returncode == 0, r
    with open(seg) as f:
        segments = [json.loads(line) for line in f]
    ctx.log("\n".join("%s > %s %s seq %d ack %d len %d" % (s["src"], s["dst"], s["flags"],
                                                         s["seq"], s["ack"], s["len"])
                      for s in segments))
    return segments, pcap, r


def test_handshake_and_fin_once_each(ctx):
    """Lesson 02's handshake is exactly SYN, SYN+ACK, ACK, each once, and its close a FIN from each side, each ACKed, with no host privilege."""
    for iface in ("lo", "any"):
        segs, _, r = capture_lesson02(ctx, iface)
        flags = [s["flags"] for s in segs]
        assert flags[:3] == ["SYN", "SYN+ACK", "ACK"], (iface, flags)
        assert flags.count("SYN") == 1 and flags.count("SYN+ACK") == 1, (iface, flags)
        client, server = segs[0]["src"], segs[0]["dst"]
        assert segs[1]["src"] == server and segs[2]["src"] == client
        assert (segs[0]["seq"], segs[1]["seq"], segs[1]["ack"], segs[2]["seq"], segs[2]["ack"]) \
            == (0, 0, 1, 1, 1)
        fins = [s for s in segs if "FIN" in s["flags"]]
        assert [f["src"] for f in fins] == [client, server], (iface, fins)
        # The last segment acknowledges the server's FIN: seq and ack past it.
        last = segs[-1]
        assert last["flags"] == "ACK" and last["src"] == client, last
        assert last["ack"] == fins[1]["seq"] + 1
        # "hello" both ways: one 5-byte segment each.
        data = [s for s in segs if s["len"] > 0]
        assert [(d["src"], d["len"]) for d in data] == [(client, 5), (server, 5)], data
        if iface == "any":
            # The "any" interface hands over each loopback packet twice
            # (going out and coming in): each is shown once.
            import re
            m = re.search(r"(\d+) segments shown \((\d+) packets captured", r.stderr)
            assert m and int(m.group(2)) == 2 * int(m.group(1)) == 2 * len(segs), r.stderr


def test_pcap_matches_tshark(ctx):
    """The pcap file opens in tshark, and its segments equal the ones shown, field by field."""
    if shutil.which("tshark") is None:
        ctx.skip("tshark is not installed")
    segs, pcap, _ = capture_lesson02(ctx, "lo")
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=,",
                          "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport",
                          "-e", "tcp.flags", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len",
                          "-e", "tcp.window_size"],
                         capture_output=True, text=True, timeout=60)
    ctx.log(out.stdout)
    assert out.returncode == 0, out.stderr
    rows = [line.split(",") for line in out.stdout.splitlines() if line]
    assert len(rows) == len(segs), "tshark read %d packets, we showed %d" % (len(rows), len(segs))
    for row, s in zip(rows, segs):
        src, sport, dst, dport, flags, seq, ack, length, win = row
        assert "%s:%s" % (src, sport) == s["src"] and "%s:%s" % (dst, dport) == s["dst"]
        want = sum(FLAG_BITS[f] for f in s["flags"].split("+"))
        assert int(flags, 16) == want, (row, s)
        assert int(seq) == s["seq"] and int(length) == s["len"], (row, s)
        assert int(ack) == s["ack"] or (s["flags"] == "SYN" and s["ack"] == 0), (row, s)
        assert int(win) == s["win"], (row, s)


def test_capture_without_privilege_says_how(ctx):
    """Without CAP_NET_RAW, capturing stops with a message that names the ways to get packets."""
    argv = [os.path.join(ctx.build, "tools", "capture-run"), "--iface", "lo", "--", "true"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            ctx.skip("setpriv is not installed to drop root's privileges")
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"] + argv
    r = ctx.run(argv)
    assert r.returncode == 3, r
    assert "CAP_NET_RAW" in r.stderr and "setcap" in r.stderr and "sandbox" in r.stderr, r.stderr
