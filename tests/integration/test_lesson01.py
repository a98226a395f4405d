"""Lesson 01, addresses: a socket's identity, run for real."""

import re
import socket

LESSON = "01-addresses"
CLIENT_LINE = re.compile(r"^\[client\] connection (\d+): TCP (\S+):(\d+) -> (\S+):(\d+)$", re.M)
SERVER_LINE = re.compile(
    r"^\[server\] connection (\d+): TCP (\S+):(\d+) <- (\S+):(\d+) \(client's #(\d+)\)$", re.M)


def ephemeral_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = f.read().split()
    return int(lo), int(hi)


def part1_rows(out):
    """The (family, type, protocol, address) rows of part 1's table."""
    table = out.split("Part 2:")[0]
    return re.findall(r"^  (AF_\w+)\s+(SOCK_\w+)\s+(\S+)\s+(\S+)$", table, re.M)


def describe(ctx, port):
    r = ctx.run([ctx.lesson(LESSON), "--port", str(port), "--connections", "0"], check=True)
    assert "Part 3" not in r.stdout, r
    return r.stdout


def test_localhost_resolves(ctx):
    """localhost resolves to 127.0.0.1, and to ::1 as well wherever the resolver gives it."""
    r = ctx.run([ctx.lesson(LESSON), "--connections", "0"], check=True)
    rows = part1_rows(r.stdout)
    addrs = {row[3] for row in rows}
    assert "127.0.0.1" in addrs, r
    assert ("AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "127.0.0.1") in rows, rows
    # The lesson shows what getaddrinfo gives; Python asks the same resolver.
    want = {ai[4][0] for ai in socket.getaddrinfo("localhost", None)}
    assert want <= addrs, "resolver gives %s, lesson shows %s" % (want, addrs)
    with open("/proc/net/if_inet6") as f:
        lo6 = any(line.split()[0] == "0" * 31 + "1" for line in f)
    if lo6 and "::1" in want:
        assert ("AF_INET6", "SOCK_STREAM", "IPPROTO_TCP", "::1") in rows, rows
    elif lo6:
        ctx.log("note: lo has ::1 but the resolver does not map localhost to it here")


def test_numeric_hosts(ctx):
    """A numeric host resolves to itself, once for each socket type, IPv4 and IPv6 alike."""
    r = ctx.run([ctx.lesson(LESSON), "127.0.0.1", "--connections", "0"], check=True)
    rows = part1_rows(r.stdout)
    assert ("AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "127.0.0.1") in rows, rows
    assert ("AF_INET", "SOCK_DGRAM", "IPPROTO_UDP", "127.0.0.1") in rows, rows
    assert all(row[0] == "AF_INET" for row in rows), rows
    r = ctx.run([ctx.lesson(LESSON), "--connections", "0", "::1"], check=True)
    rows = part1_rows(r.stdout)
    assert ("AF_INET6", "SOCK_STREAM", "IPPROTO_TCP", "::1") in rows, rows
    assert all(row[0] == "AF_INET6" for row in rows), rows


def test_ipv4_and_ipv6_forms(ctx):
    """One endpoint shows as 127.0.0.1, [::1] and the IPv4-mapped [::ffff:127.0.0.1], with the port."""
    out = describe(ctx, 8080)
    for form in ("127.0.0.1:8080", "[::1]:8080", "[::ffff:127.0.0.1]:8080"):
        assert re.search(r"^  %s\s" % re.escape(form), out, re.M), out
    assert "sockaddr_in," in out and "sockaddr_in6," in out and "IPv4-mapped" in out


def test_port_names_and_ranges(ctx):
    """Port 22 is ssh and well-known; a port inside the kernel's ephemeral range is ephemeral."""
    lo, hi = ephemeral_range()
    out = describe(ctx, 22)
    assert "port 22: service ssh" in out, out
    assert "port 22: range well-known" in out, out
    assert "ephemeral range is %d-%d" % (lo, hi) in out, out
    out = describe(ctx, 80)
    assert "port 80: service http" in out, out

    mid = max(lo, 1024) + (hi - max(lo, 1024)) // 2
    out = describe(ctx, mid)
    assert "port %d: range ephemeral" % mid in out, out

    # A registered port outside the ephemeral range, and a dynamic one.
    reg = next(p for p in range(1024, 49152) if not lo <= p <= hi)
    out = describe(ctx, reg)
    assert "port %d: range registered" % reg in out, out
    dyn = next((p for p in range(65535, 49151, -1) if not lo <= p <= hi), None)
    if dyn is not None:
        out = describe(ctx, dyn)
        assert "port %d: range dynamic" % dyn in out, out

    # The default, port 0, has no name: the lesson shows ports that do,
    # with the names the services database gives them.
    out = describe(ctx, 0)
    line = [l for l in out.splitlines() if "ports with names in /etc/services" in l]
    assert line, out
    for port in (22, 80, 443):
        assert " %d %s" % (port, socket.getservbyport(port, "tcp")) in line[0], line


def tcp_aborts():
    """The kernel's counts of aborted connections, loss probes and TIME_WAIT
    sockets killed or recycled (/proc/net/netstat): a loss probe that sends
    a FIN again can draw a reset that ends the peer's TIME_WAIT."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    out = {}
    for names, values in zip(lines[0::2], lines[1::2]):
        for k, v in zip(names.split()[1:], values.split()[1:]):
            if k.startswith(("TCPAbort", "TCPLossProbe", "TW", "TCPTimeWait")):
                out[k] = int(v)
    return out


def test_connections_share_the_server_port(ctx):
    """N connections print N distinct 4-tuples that share the server's port and differ in the client's port."""
    n = 5
    trace = ctx.path("t.jsonl")
    aborts = tcp_aborts()
    r = ctx.run([ctx.lesson(LESSON), "--connections", str(n), "--trace", trace], check=True)
    aborts = {k: v - aborts.get(k, 0) for k, v in tcp_aborts().items()}
    clients = CLIENT_LINE.findall(r.stdout)
    servers = SERVER_LINE.findall(r.stdout)
    assert len(clients) == n and len(servers) == n, r

    m = re.search(r"^\[server\] listening on 127\.0\.0\.1:(\d+)$", r.stdout, re.M)
    assert m, r
    port = int(m.group(1))
    lo, hi = ephemeral_range()
    # Port 0 asked the kernel: it chose from its ephemeral range, and says so.
    assert lo <= port <= hi and "port %d: range ephemeral" % port in r.stdout, r

    client_tuples = set()
    for num, lip, lport, pip, pport in clients:
        assert (lip, pip, int(pport)) == ("127.0.0.1", "127.0.0.1", port), clients
        assert lo <= int(lport) <= hi, "client port %s outside %d-%d" % (lport, lo, hi)
        client_tuples.add((lip, int(lport), pip, int(pport)))
    assert len(client_tuples) == n, "4-tuples not distinct: %s" % clients

    # The server sees the same connections, mirrored, on its one port.
    server_tuples = set()
    for num, lip, lport, pip, pport, said in servers:
        assert int(lport) == port and lip == "127.0.0.1", servers
        server_tuples.add((pip, int(pport), lip, int(lport)))
        # The byte the client sent names the client's connection with this
        # very 4-tuple: data arrives on the connection it was sent on.
        c = clients[int(said) - 1]
        assert int(c[2]) == int(pport), (c, pport)
    assert server_tuples == client_tuples, (server_tuples, client_tuples)
    assert "%d connections share local port %d" % (n, port) in r.stdout

    # The trace agrees: accept's and connect's local and peer fields.
    ev = [e for e in ctx.read_trace(trace) if e["kind"] == "call"]
    calls = {e["call"] for e in ev}
    for want in ("socket", "setsockopt", "bind", "listen", "accept", "connect", "send", "recv",
                 "close"):
        assert want in calls, "no %s in the trace: %s" % (want, sorted(calls))
    accepts = [e for e in ev if e["call"] == "accept"]
    connects = [e for e in ev if e["call"] == "connect"]
    assert len(accepts) == n and len(connects) == n, (len(accepts), len(connects))
    assert all(e["role"] == "server" for e in accepts)
    assert all(e["role"] == "client" and e["ret"] == 0 for e in connects)
    assert {(e["peer"], e["local"]) for e in accepts} == \
        {(e["local"], e["peer"]) for e in connects}
    assert {e["local"] for e in accepts} == {"127.0.0.1:%d" % port}
    assert {e["local"] for e in connects} == {"%s:%d" % (t[0], t[1]) for t in client_tuples}
    assert all(e["state"] == "ESTABLISHED" for e in accepts + connects)
    bind = [e for e in ev if e["call"] == "bind"][0]
    assert bind["src"].startswith("lessons/01-addresses.c:") and bind["local"].startswith("127.")

    # The server closed first, so the kernel still holds its side of each
    # connection in TIME_WAIT: ss shows the same 4-tuples.
    held = set()
    for line in ctx.ss("state", "time-wait", "sport", "=", ":%d" % port).splitlines():
        f = line.split()
        if len(f) >= 4:
            la, pa = f[-2], f[-1]
            held.add((pa.rsplit(":", 1)[0], int(pa.rsplit(":", 1)[1]),
                      la.rsplit(":", 1)[0], int(la.rsplit(":", 1)[1])))
    if not client_tuples <= held:
        # Where did the others go? Every state, both ends, for the record,
        # and the machine's count of connections aborted meanwhile.
        ctx.ss("sport", "=", ":%d" % port, "or", "dport", "=", ":%d" % port)
        ctx.log("TCP aborts, loss probes and TIME_WAIT counts during the run "
                "(machine-wide): %s" % aborts)
        for e in ev:
            if e.get("call") in ("close", "recv", "shutdown"):
                ctx.log("%s %s fd %s ret %s %s %s %s" % (e["role"], e["call"], e.get("fd"),
                                                         e.get("ret"), e.get("local"),
                                                         e.get("peer"), e.get("state")))
    assert client_tuples <= held, "ss shows %s, the lesson printed %s" % (held, client_tuples)


def test_given_port_is_the_servers(ctx):
    """--port sets the server's port, and a second run can bind it at once thanks to SO_REUSEADDR."""
    port = ctx.free_port()
    for _ in range(2):
        r = ctx.run([ctx.lesson(LESSON), "--port", str(port), "--connections", "2"], check=True)
        assert "[server] listening on 127.0.0.1:%d" % port in r.stdout, r
        assert len(SERVER_LINE.findall(r.stdout)) == 2, r


def test_unknown_host(ctx):
    """An unknown host ends the lesson with a message that names the host, and a non-zero exit."""
    host = "no-such-host.invalid"
    r = ctx.run([ctx.lesson(LESSON), host])
    assert r.returncode != 0, r
    assert host in r.stderr and "getaddrinfo" in r.stderr, r
    assert "Traceback" not in r.stderr and "Part 3" not in r.stdout


def test_port_taken(ctx):
    """A server port another socket listens on ends the lesson with EADDRINUSE, naming the port."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        r = ctx.run([ctx.lesson(LESSON), "--port", str(port)])
    assert r.returncode == 1, r
    assert "bind failed: EADDRINUSE" in r.stderr and str(port) in r.stderr, r
    assert "[client]" not in r.stdout, r


def test_bad_arguments(ctx):
    """A bad port or a bad number of connections exits 2 with a message naming what was wrong."""
    for port in ("abc", "70000", "-1", ""):
        r = ctx.run([ctx.lesson(LESSON), "--port", port])
        assert r.returncode == 2, r
        assert "bad port '%s'" % port in r.stderr and "0 to 65535" in r.stderr, r
    for n in ("x", "51", "-2", ""):
        r = ctx.run([ctx.lesson(LESSON), "--connections", n])
        assert r.returncode == 2 and "--connections" in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "--connections"])
    assert r.returncode == 2 and "--connections" in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "localhost", "extra"])
    assert r.returncode == 2 and "extra" in r.stderr, r


def test_help_and_width(ctx):
    """--help lists the options, and everything the lesson prints fits 80 columns."""
    r = ctx.run([ctx.lesson(LESSON), "--help"], check=True)
    for opt in ("--port", "--connections", "--step", "--trace", "host"):
        assert opt in r.stdout, r
    # The shared lines of --help (common/opts.c) are checked where they are
    # written; here, the lesson's own.
    outs = ["\n".join(l for l in r.stdout.splitlines() if not l.startswith("  --step"))]
    port = ctx.free_port()
    outs.append(ctx.run([ctx.lesson(LESSON), "--port", str(port), "--connections", "50"],
                        check=True).stdout)
    outs.append(describe(ctx, 22))
    outs.append(ctx.run([ctx.lesson(LESSON)], check=True).stdout)  # the default run
    for out in outs:
        for line in out.splitlines():
            assert len(line) < 80, "too wide (%d): %r" % (len(line), line)


def test_step_mode(ctx):
    """In step mode the lesson stops before its first socket call, showing the line, and c runs it to the end."""
    t = ctx.pty([ctx.lesson(LESSON), "--step", "--connections", "2"])
    t.expect("lessons/01-addresses.c:", timeout=15)
    t.expect("socket(AF_INET, SOCK_STREAM, 0)", timeout=10)
    t.settle()
    assert "Part 3" in t.text() and "[client]" not in t.text(), t.text()
    t.send("c\r")
    assert t.wait(timeout=20) == 0, t.text()
    assert t.count("(client's #") == 2, t.text()
