"""Packets on the wire: capture in a private namespace, compared with tshark."""

import json
import os
import re
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
        # Loopback hands a capture each packet twice (going out and coming
        # in), on "lo" and on "any" alike: the kernel's filter refuses the
        # outgoing copy, so each packet is captured once, not only shown once.
        m = re.search(r"(\d+) segments shown \((\d+) packets captured", r.stderr)
        assert m and int(m.group(2)) == int(m.group(1)) == len(segs), (iface, r.stderr)


def test_pcap_matches_tshark(ctx):
    """The pcap file opens in tshark with its interface's link type, and its segments equal the ones shown, field by field."""
    if shutil.which("tshark") is None:
        ctx.skip("tshark is not installed")
    for iface, encap in (("lo", "Ethernet"), ("any", "Linux cooked-mode capture v2")):
        segs, pcap, _ = capture_lesson02(ctx, iface)
        if shutil.which("capinfos") is not None:
            info = subprocess.run(["capinfos", "-E", pcap], capture_output=True, text=True,
                                  timeout=60)
            assert re.search(r"File encapsulation:\s+%s$" % re.escape(encap), info.stdout,
                             re.M), (iface, info.stdout, info.stderr)
        out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=,",
                              "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst",
                              "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "tcp.seq",
                              "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.window_size"],
                             capture_output=True, text=True, timeout=60)
        ctx.log(out.stdout)
        assert out.returncode == 0, out.stderr
        rows = [line.split(",") for line in out.stdout.splitlines() if line]
        assert len(rows) == len(segs), \
            "%s: tshark read %d packets, we showed %d" % (iface, len(rows), len(segs))
        for row, s in zip(rows, segs):
            src, sport, dst, dport, flags, seq, ack, length, win = row
            assert "%s:%s" % (src, sport) == s["src"] and "%s:%s" % (dst, dport) == s["dst"]
            want = sum(FLAG_BITS[f] for f in s["flags"].split("+"))
            assert int(flags, 16) == want, (iface, row, s)
            assert int(seq) == s["seq"] and int(length) == s["len"], (iface, row, s)
            assert int(ack) == s["ack"] or (s["flags"] == "SYN" and s["ack"] == 0), (iface, row, s)
            assert int(win) == s["win"], (iface, row, s)


# Run inside the sandbox's namespace: a veth pair whose far end lives in a
# namespace of its own, so a datagram sent to 10.201.0.2 leaves through
# sc0 and is seen nowhere else; then one datagram over loopback.
NON_LOOPBACK = r"""
set -e
ip link add sc0 type veth peer name sc1 || { echo "NOLINK: cannot create a veth pair"; exit 0; }
unshare -n sleep 20 &
far=$!
trap 'kill $far' EXIT
i=0
until [ "$(readlink /proc/$far/ns/net)" != "$(readlink /proc/self/ns/net)" ]; do
    i=$((i + 1)); [ $i -lt 200 ] || { echo "NOLINK: no second namespace"; exit 0; }
    sleep 0.01
done
ip link set sc1 netns $far
nsenter -t $far -n ip link set sc1 up
ip addr add 10.201.0.1/24 dev sc0
ip link set sc0 up
ip neigh replace 10.201.0.2 lladdr 02:00:00:00:00:02 dev sc0 nud permanent
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"over there", ("10.201.0.2", 9))
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
s.sendto(b"right here", r.getsockname())
assert r.recv(100) == b"right here"
print("SENT")
'
"""


def test_any_keeps_a_packet_leaving_another_interface(ctx):
    """On "any", a datagram leaving through a non-loopback interface is captured once, and one over loopback once, not twice."""
    for tool in ("ip", "nsenter", "unshare"):
        if shutil.which(tool) is None:
            ctx.skip("%s is not installed" % tool)
    seg, pcap = ctx.path("seg.jsonl"), ctx.path("cap.pcap")
    script = ctx.path("non-loopback.sh")
    with open(script, "w") as f:
        f.write(NON_LOOPBACK)
    r = ctx.run([os.path.join(ctx.build, "tools", "capture-run"), "--sandbox", "--iface", "any",
                 "--filter", "udp", "--pcap", pcap, "--segments", seg, "--", "sh", script],
                timeout=30)
    if r.returncode == 3 and "namespace" in r.stderr:
        ctx.skip("this system forbids unprivileged user namespaces: " + r.stderr.strip())
    if "NOLINK" in r.stdout:
        ctx.skip("the namespace cannot make a second interface here: " + r.stdout.strip())
    assert r.returncode == 0 and "SENT" in r.stdout, r
    with open(seg) as f:
        segs = [json.loads(line) for line in f]
    ctx.log("\n".join("%s > %s %s len %d" % (s["src"], s["dst"], s["proto"], s["len"])
                      for s in segs))
    away = [s for s in segs if s["dst"] == "10.201.0.2:9"]
    home = [s for s in segs if s["dst"].startswith("127.0.0.1:")]
    assert len(away) == 1 and away[0]["len"] == 10, segs
    assert len(home) == 1 and home[0]["len"] == 10, segs
    # The kernel handed over the loopback datagram's incoming copy only.
    m = re.search(r"(\d+) segments shown \((\d+) packets captured", r.stderr)
    assert m and int(m.group(1)) == int(m.group(2)) == 2, r.stderr
    if shutil.which("tshark") is not None:
        out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=,",
                              "-e", "sll.pkttype", "-e", "ip.dst"],
                             capture_output=True, text=True, timeout=60)
        ctx.log(out.stdout)
        assert out.returncode == 0, out.stderr
        # Packet types: 4 going out (of sc0), 0 coming in (to lo).
        assert sorted(out.stdout.split()) == ["0,127.0.0.1", "4,10.201.0.2"], out.stdout


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


def test_busy_capture_keeps_headers_of_every_packet(ctx):
    """A bulk transfer at full speed is captured without losing packets: once whole packets come faster than some 32 MB a second, each keeps its headers and first bytes, its real length stays in the pcap, and tshark still reads every segment's length."""
    bulk = os.path.join(ctx.build, "bench", "bulk-plain")
    if not os.path.exists(bulk):
        ctx.skip("bench/bulk-plain is not built (make %s)" % bulk)
    seg = ctx.path("bulk.jsonl")
    pcap = ctx.path("bulk.pcap")
    r = ctx.run([os.path.join(ctx.build, "tools", "capture-run"), "--sandbox", "--filter", "tcp",
                 "--pcap", pcap, "--segments", seg, "--", bulk, "tcp", "300"], timeout=120)
    if r.returncode == 3 and "namespace" in r.stderr:
        ctx.skip("this system forbids unprivileged user namespaces: " + r.stderr.strip())
    assert r.returncode == 0, r
    m = re.search(r"(\d+) segments shown \((\d+) packets captured, (\d+) dropped\)", r.stderr)
    t = re.search(r"(\d+) packets came so fast", r.stderr)
    assert m and t, r.stderr
    ctx.log(r.stderr)
    assert int(t.group(1)) > 0
    assert int(m.group(3)) == 0, "the kernel dropped packets: " + r.stderr
    with open(seg) as f:
        segments = [json.loads(line) for line in f]
    # Every byte the client sent is in some captured segment: their
    # sequence ranges cover the stream without a gap (a retransmission may
    # cover a range twice). Changing to trimmed packets lost none.
    to_server = sorted((s["seq"], s["seq"] + s["len"]) for s in segments
                       if s["dst"] == segments[0]["dst"] and s["len"] > 0)
    covered, gaps = 1, []
    for a, b in to_server:
        if a > covered:
            gaps.append((covered, a))
        covered = max(covered, b)
    assert not gaps and covered == 1 + 300 * 1024 * 1024, (gaps[:5], covered)
    if shutil.which("tshark") is None:
        return
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=,",
                          "-e", "frame.cap_len", "-e", "frame.len", "-e", "tcp.len"],
                         capture_output=True, text=True, timeout=120)
    rows = [line.split(",") for line in out.stdout.splitlines()]
    assert len(rows) == len(segments), (len(rows), len(segments))
    cut = [r for r in rows if int(r[0]) < int(r[1])]
    assert len(cut) == int(t.group(1)), (len(cut), t.group(1))
    # A packet cut short still says its whole length, and tshark the
    # payload it had on the wire.
    assert all(int(r[0]) <= 300 and int(r[2]) > 0 for r in cut), cut[:5]
    assert [int(r[2]) for r in rows] == [s["len"] for s in segments]
