"""Lesson 04, a raw ICMP ping, in a private user and network namespace.

Every run that opens an ICMP socket happens inside `unshare -rn`: a new
user namespace, where this user is root, and a new network namespace owned
by it, whose loopback is brought up first. Root there may open raw sockets
in that network and nowhere else, so no privilege of the machine is needed.
To take the capability away again, `setpriv --bounding-set=-all
--inh-caps=-all` runs the lesson with none: root without capabilities.
"""

import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import time

SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received,(?: \+(\d+) errors,)? "
                     r"(\d+)% packet loss, time (\d+)ms")
RTT = re.compile(r"rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")
NO_CAPS = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]


def netns(ctx, argv, setup=""):
    """argv run inside a new user and network namespace, lo up, after the
    shell commands `setup`. Skips the test when namespaces are not allowed."""
    unshare = shutil.which("unshare")
    if not unshare:
        ctx.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        ctx.skip("this system does not allow user namespaces: " + probe.stderr.strip())
    script = "ip link set lo up && %s exec \"$@\"" % (setup + " &&" if setup else "")
    return [unshare, "-rn", "sh", "-c", script, "sh"] + argv


def summary_of(out):
    m = SUMMARY.search(out)
    assert m, "no summary in:\n" + out
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), int(m.group(4))


def checksum(data):
    """RFC 1071, in Python, to check the lesson's own."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def read_until(proc, needle, timeout=10):
    """Read a running program's stdout until `needle` shows; return it all."""
    out = b""
    deadline = time.time() + timeout
    while needle.encode() not in out:
        left = deadline - time.time()
        assert left > 0, "no %r within %ss; output so far:\n%s" % (needle, timeout, out.decode())
        r, _, _ = select.select([proc.stdout], [], [], left)
        if r:
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, "the program ended before %r:\n%s" % (needle, out.decode())
            out += chunk
    return out.decode()


def status_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def test_three_pings_like_iputils(ctx):
    """Three echo requests to 127.0.0.1 on a raw socket get three replies, summed up in ping's words, with the same counts as iputils ping run the same way."""
    trace = ctx.path("t.jsonl")
    r = ctx.run(netns(ctx, [ctx.lesson("04-raw-ping"), "-c", "3", "-i", "0.2", "--trace", trace]),
                check=True)
    out = r.stdout
    assert "SOCK_RAW: allowed, this process holds CAP_NET_RAW" in out, out
    assert "privileges dropped" in out
    assert "a raw socket has no port: it gets every ICMP packet the host gets" in out
    assert "and may send any, so the kernel asks for that privilege" in out
    assert out.startswith("[ping] SOCK_RAW") and "PING 127.0.0.1 (127.0.0.1) 56(84) bytes" in out
    replies = re.findall(r"^64 bytes from 127\.0\.0\.1: icmp_seq=(\d) ttl=64 time=[\d.]+ ms$",
                         out, re.M)
    assert replies == ["1", "2", "3"], out
    assert re.search(r"^    ICMP: type 0 \(echo reply\), code 0, checksum [0-9a-f]{4} ok, id ", out,
                     re.M), out
    assert "    IP header: 20 bytes, TTL 64 (byte 8), source 127.0.0.1 (bytes 12-15)" in out
    # The IP header a raw socket hands over, as bytes: version 4, 20 bytes.
    assert re.search(r"^    0000  45 00 00 54 ", out, re.M), out
    # Our own requests come back to a raw socket on loopback: said, skipped.
    assert "our own request seen on loopback" in out
    assert "--- 127.0.0.1 ping statistics ---" in out
    sent, got, errors, loss = summary_of(out)
    assert (sent, got, errors, loss) == (3, 3, 0, 0), out
    assert RTT.search(out), out

    ping = ctx.run(netns(ctx, ["ping", "-c", "3", "-i", "0.2", "127.0.0.1"]))
    assert ping.returncode == 0, ping
    assert summary_of(ping.stdout)[:3] == (sent, got, errors), (ping.stdout, out)
    assert RTT.search(ping.stdout)

    # The trace: a raw socket, three requests of 64 bytes whose checksum
    # (the lesson's own, RFC 1071) is right, and replies with the IP header.
    ev = [e for e in ctx.read_trace(trace) if e["kind"] == "call"]
    sock = [e for e in ev if e["call"] == "socket"]
    assert sock[0]["args"] == "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)" and sock[0]["ret"] >= 0
    sends = [e for e in ev if e["call"] == "sendto"]
    assert len(sends) == 3, sends
    for seq, e in enumerate(sends, 1):
        assert e["bytes"] == 64 and e["addr"] == "127.0.0.1", e
        data = bytes.fromhex(e["hex"])
        assert data[0] == 8 and data[1] == 0, e["hex"]
        assert struct.unpack("!H", data[6:8])[0] == seq
        assert checksum(data) == 0, "the request's checksum is wrong: " + e["hex"]
    recvs = [e for e in ev if e["call"] == "recvmsg" and e["ret"] > 0]
    assert recvs and all(e["hex"].startswith("45") and e["bytes"] == 84 for e in recvs), recvs
    assert ev[-1]["call"] == "close"


def test_privileges_dropped_and_ctrl_c(ctx):
    """Right after opening the socket the process holds no capability and its user and group ids are the real ones; Ctrl-C prints the summary."""
    p = ctx.start(netns(ctx, [ctx.lesson("04-raw-ping"), "-c", "200", "-i", "0.05"]))
    out = read_until(p, " bytes from 127.0.0.1: icmp_seq=1 ")
    st = status_of(p.pid)
    ctx.log(st)
    assert st["Name"] == "ping", st
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, "%s is %s after the drop" % (cap, st[cap])
    assert st["NoNewPrivs"] == "1"
    # Root in the namespace is this user outside it: /proc shows our ids.
    assert st["Uid"].split() == [str(os.getuid())] * 4, st["Uid"]
    assert st["Gid"].split() == [str(os.getgid())] * 4, st["Gid"]
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=10)
    out += rest
    ctx.log(out + err)
    assert p.returncode == 0, err
    sent, got, _, _ = summary_of(out)
    assert 1 <= sent < 200 and got >= 1, out
    assert "--- 127.0.0.1 ping statistics ---" in out


def test_setuid_like_process_gives_up_its_user(ctx):
    """A process started as user nobody with an effective root (as a setuid program is) opens the raw socket, then its real, effective and saved ids are all nobody's."""
    if os.geteuid() != 0:
        ctx.skip("making a process whose real and effective users differ needs root")
    import pwd
    nobody = pwd.getpwnam("nobody")
    argv = ["unshare", "-n", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh",
            "setpriv", "--ruid", str(nobody.pw_uid), "--rgid", str(nobody.pw_gid),
            "--clear-groups", ctx.lesson("04-raw-ping"), "-c", "200", "-i", "0.05"]
    p = ctx.start(argv)
    out = read_until(p, " bytes from 127.0.0.1: icmp_seq=1 ")
    st = status_of(p.pid)
    ctx.log(st)
    assert "SOCK_RAW: allowed" in out, out
    assert st["Uid"].split() == [str(nobody.pw_uid)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(nobody.pw_gid)] * 4, st["Gid"]
    assert st["Groups"].strip() == "", st["Groups"]
    for cap in ("CapPrm", "CapEff", "CapBnd"):
        assert int(st[cap], 16) == 0, "%s is %s after the drop" % (cap, st[cap])
    p.send_signal(signal.SIGINT)
    rest, _ = p.communicate(timeout=10)
    assert p.returncode == 0 and "packet loss" in rest, rest


def test_root_gives_up_uid_0(ctx):
    """Started by root itself (as a root shell does), the lesson opens the raw socket, then becomes nobody: uid 0 would still own root's files."""
    if os.geteuid() != 0:
        ctx.skip("a process of the real root needs root")
    import pwd
    nobody = pwd.getpwnam("nobody")
    argv = ["unshare", "-n", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh",
            ctx.lesson("04-raw-ping"), "-c", "200", "-i", "0.05"]
    p = ctx.start(argv)
    out = read_until(p, " bytes from 127.0.0.1: icmp_seq=1 ")
    st = status_of(p.pid)
    ctx.log(st)
    assert "SOCK_RAW: allowed, this process holds CAP_NET_RAW (root)" in out, out
    assert "privileges dropped: uid %d, gid %d" % (nobody.pw_uid, nobody.pw_gid) in out, out
    assert st["Uid"].split() == [str(nobody.pw_uid)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(nobody.pw_gid)] * 4, st["Gid"]
    assert st["Groups"].strip() == "", st["Groups"]
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, "%s is %s after the drop" % (cap, st[cap])
    p.send_signal(signal.SIGINT)
    rest, _ = p.communicate(timeout=10)
    assert p.returncode == 0 and "packet loss" in rest, rest


def test_ping_socket_without_privilege(ctx):
    """Without CAP_NET_RAW, a group within net.ipv4.ping_group_range gets the unprivileged ping socket, whose identifier the kernel sets."""
    trace = ctx.path("t.jsonl")
    r = ctx.run(netns(ctx, NO_CAPS + [ctx.lesson("04-raw-ping"), "-c", "2", "-i", "0.2",
                                      "--trace", trace],
                      setup="echo '0 0' > /proc/sys/net/ipv4/ping_group_range"))
    assert r.returncode == 0, r
    out = r.stdout
    assert "SOCK_RAW refused (EPERM): no CAP_NET_RAW" in out
    assert "using the ping socket (SOCK_DGRAM): group 0 is within" in out
    assert "net.ipv4.ping_group_range 0-0" in out
    assert "identifier, set by the kernel" in out
    assert re.findall(r"^64 bytes from 127\.0\.0\.1: icmp_seq=(\d) ttl=64 ", out, re.M) == \
        ["1", "2"], out
    # No IP header on a ping socket: the bytes start with the ICMP type.
    assert re.search(r"^    0000  00 00 [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} 00 01$",
                     out, re.M), out
    assert summary_of(out)[:2] == (2, 2)
    ev = [e for e in ctx.read_trace(trace) if e["kind"] == "call" and e["call"] == "socket"]
    assert ev[0]["args"] == "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)" and ev[0]["errno"] == "EPERM"
    assert ev[1]["args"] == "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)" and ev[1]["ret"] >= 0


def test_neither_socket_allowed_says_how_to_enable_one(ctx):
    """Without CAP_NET_RAW and outside the ping group range, the lesson stops and names both ways to allow it."""
    # A new network namespace starts with the range empty: "1 0".
    r = ctx.run(netns(ctx, NO_CAPS + [ctx.lesson("04-raw-ping"), "-c", "1"]))
    assert r.returncode == 1, r
    err = r.stderr
    assert "cannot open an ICMP socket" in err
    assert "SOCK_RAW needs root or CAP_NET_RAW: socket() said EPERM" in err, err
    assert "net.ipv4.ping_group_range, which is" in err, err
    assert "said EACCES" in err, err
    assert "setcap cap_net_raw+ep " in err and "04-raw-ping" in err
    assert 'sysctl -w net.ipv4.ping_group_range="0 2147483647"' in err
    assert "PING" not in r.stdout


def test_ipv6_leaves_the_checksum_to_the_kernel(ctx):
    """With -6 the lesson sends ICMPv6 echo requests to ::1 and says the kernel computes their checksum."""
    r = ctx.run(netns(ctx, [ctx.lesson("04-raw-ping"), "-6", "-c", "2", "-i", "0.2"]))
    if r.returncode != 0 and "EADDRNOTAVAIL" in r.stdout + r.stderr:
        ctx.skip("IPv6 is disabled on this system")
    assert r.returncode == 0, r
    out = r.stdout
    assert "PING ::1 (::1) 56(104) bytes" in out
    assert "type 80 (echo request) | code 00 | checksum 0000 |" in out, out
    assert "checksum left at 0: for ICMPv6 the kernel computes it" in out
    assert re.findall(r"^64 bytes from ::1: icmp_seq=(\d) ttl=64 ", out, re.M) == ["1", "2"]
    assert "ICMP: type 129 (echo reply)" in out
    assert summary_of(out)[:2] == (2, 2)


INJECT = r"""
import socket, struct, sys
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def icmp(t, code, ident, seq, payload, bad=False):
    h = struct.pack("!BBHHH", t, code, 0, ident, seq) + payload
    c = csum(h) ^ (0x5555 if bad else 0)
    return h[:2] + struct.pack("!H", c) + h[4:]
ident = int(sys.argv[1]) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
to = ("127.0.0.1", 0)
s.sendto(icmp(0, 0, ident, 9, b"x" * 56, bad=True), to)
s.sendto(icmp(0, 0, (ident + 1) & 0xffff, 1, b"y" * 56), to)
quoted = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 84, 0, 0, 1, 1, 0,
                     bytes([127, 0, 0, 1]), bytes([10, 9, 9, 9])) + icmp(8, 0, ident, 1, b"")
s.sendto(icmp(11, 0, 0, 0, quoted), to)
s.sendto(icmp(3, 1, 0, 0, quoted), to)
"""


def test_replies_not_ours_bad_checksums_and_errors(ctx):
    """A reply with a bad checksum is reported and not counted, another process's reply is skipped, time exceeded and unreachable are explained and counted as errors."""
    inject = ctx.path("inject.py")
    with open(inject, "w") as f:
        f.write(INJECT)
    # In one namespace: the lesson in the background, then forged ICMP
    # messages sent to it while it waits, from a second raw socket.
    script = ("ip link set lo up && { \"$1\" -c 4 -i 0.3 & pid=$!; sleep 0.45; "
              "\"$2\" \"$3\" $pid; wait $pid; }")
    netns(ctx, ["true"])  # skips when namespaces are not allowed
    r = ctx.run(["unshare", "-rn", "sh", "-c", script, "sh", ctx.lesson("04-raw-ping"),
                 sys.executable, inject], timeout=30)
    assert r.returncode == 0, r
    out = r.stdout
    assert re.search(r"icmp_seq=9 \(BAD CHECKSUM 0x[0-9a-f]{4}: damaged, not counted\)", out), out
    assert "a reply for another process (another identifier)" in out
    assert "From 127.0.0.1 icmp_seq=1 time exceeded\n" in out, out
    assert "the TTL (hop limit) reached 0 in transit" in out
    assert "each router lowers the TTL by one" in out
    assert "From 127.0.0.1 icmp_seq=1 destination unreachable\n" in out
    assert "[ping]   host unreachable\n" in out
    assert "1 replies with a bad checksum were not counted" in out
    assert summary_of(out) == (4, 4, 2, 0), out


def test_step_mode_shows_the_request_bytes_before_sending(ctx):
    """In step mode the request's bytes, with the checksum, show before the sendto that sends them."""
    t = ctx.pty(netns(ctx, [ctx.lesson("04-raw-ping"), "--step", "-c", "1"]))
    prompt = "Enter=run c=continue q=quit ?=keys>"
    pos = 0
    for _ in range(10):
        pos = t.expect(prompt, timeout=10, start=pos)
        t.settle(0.2, 2)
        if "next: sendto(" in t.text():
            break
        t.send("\r")
    screen = t.text()
    dump = screen.find("    0000  08 00 ")
    assert dump >= 0, screen
    assert "type 08 (echo request) | code 00 | checksum " in screen
    assert "as a receiver checks: 0x0000" in screen
    assert dump < screen.find("next: sendto("), screen
    t.send("c\r")
    assert t.wait(20) == 0
    assert "1 packets transmitted, 1 received" in t.text()


def test_bad_options_are_named(ctx):
    """Bad options get a message that names the option and what it takes, and exit 2."""
    lesson = ctx.lesson("04-raw-ping")
    for argv, words in ((["-c", "0"], "bad value '0' for -c"), (["-i", "x"], "for -i"),
                        (["-t", "256"], "time to live from 1 to 255"), (["-s", "-1"], "for -s"),
                        (["-W", "0"], "for -W"), (["-q"], "unknown option '-q'"),
                        (["-c"], "-c needs a value"), (["a", "b"], "one host only")):
        r = ctx.run([lesson] + argv)
        assert r.returncode == 2 and words in r.stderr and "--help" in r.stderr, r
    r = ctx.run([lesson, "--help"])
    assert r.returncode == 0 and "-c count" in r.stdout and "--trace FILE" in r.stdout


def test_a_payload_too_small_for_the_time_gives_no_round_trip(ctx):
    """With fewer than 16 bytes of payload there is no room for the send time: replies come without a round trip and the summary has no rtt line, as with iputils ping."""
    r = ctx.run(netns(ctx, [ctx.lesson("04-raw-ping"), "-s", "8", "-c", "2", "-i", "0.2"]),
                check=True)
    ping = ctx.run(netns(ctx, ["ping", "-s", "8", "-c", "2", "-i", "0.2", "127.0.0.1"]))
    assert ping.returncode == 0, ping
    for out in (r.stdout, ping.stdout):
        assert re.findall(r"^16 bytes from 127\.0\.0\.1: icmp_seq=(\d) ttl=64$", out, re.M) == \
            ["1", "2"], out
        assert summary_of(out)[:2] == (2, 2) and not RTT.search(out), out
    assert "then 8 bytes of filler: no room for the send time" in r.stdout
