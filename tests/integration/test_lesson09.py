"""Lesson 09, many clients: one port, many 4-tuples, four ways to serve them."""

import re
import shutil

from harness import plain_only

LESSON = "09-many-clients"


def run_part(ctx, part, timeout=30):
    r = ctx.run([ctx.lesson(LESSON), "--only", part], timeout=timeout, check=True)
    return r.stdout.splitlines()


def events(lines):
    """The server's 'serving' and 'done with' lines, in the order printed."""
    out = []
    for line in lines:
        m = re.match(r"\[server(?:-child)?\] (serving|done with) \(TCP, [\d.]+:\d+, [\d.]+:(\d+)\)",
                     line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def test_tuples(ctx):
    """Three clients on one server port make three 4-tuples that differ only in the client's port, and ss lists each from both ends."""
    out = "\n".join(run_part(ctx, "tuples"))
    servers = re.findall(r"server's socket \d  \(TCP, ([\d.]+:\d+), ([\d.]+:\d+)\)", out)
    clients = re.findall(r"client \d's socket \(TCP, ([\d.]+:\d+), ([\d.]+:\d+)\)", out)
    assert len(servers) == 3 and len(clients) == 3, out
    assert len({s[0] for s in servers}) == 1, "the server side should be one port: %s" % servers
    assert len({s[1] for s in servers}) == 3, "three different client ports: %s" % servers
    for (cl, cp), (sl, sp) in zip(clients, servers):
        assert cl == sp and cp == sl, "the two ends see the same tuple swapped"
    if shutil.which("ss"):
        for local, peer in servers:
            assert re.search(r"%s\s+%s" % (re.escape(local), re.escape(peer)), out), \
                "ss did not list %s <-> %s:\n%s" % (local, peer, out)


def test_iterative_serves_in_turn(ctx):
    """The iterative server serves one client at a time: the second is connected but waits until the first is done."""
    lines = run_part(ctx, "iterative")
    ev = events(lines)
    assert [e[0] for e in ev] == ["serving", "done with"] * 3, ev
    # Each 'done with' is for the client just served.
    assert ev[0][1] == ev[1][1] and ev[2][1] == ev[3][1] and ev[4][1] == ev[5][1], ev
    text = "\n".join(lines)
    # The clients served second and third were connected before the first
    # was done (the kernel accepted them), but got their first echo only after.
    first_done = next(i for i, l in enumerate(lines) if "[server] done with" in l)
    echoes = [l.split("]")[0] + "]" for l in lines if "echo of line 1" in l]
    assert len(echoes) == 3, text
    for who in echoes[1:]:
        conn = next(i for i, l in enumerate(lines) if l.startswith(who + " connected"))
        echo = next(i for i, l in enumerate(lines) if l.startswith(who + " echo of line 1"))
        assert conn < first_done < echo, "%s did not wait its turn:\n%s" % (who, text)


def check_concurrent(ctx, part):
    lines = run_part(ctx, part)
    ev = events(lines)
    assert len(ev) == 6, "\n".join(lines)
    kinds = [e[0] for e in ev]
    # All three are being served before any is done: at once, not in turn.
    assert kinds[:3] == ["serving"] * 3, "\n".join(lines)
    assert sorted(e[1] for e in ev if e[0] == "serving") == \
        sorted(e[1] for e in ev if e[0] == "done with")
    for n in (1, 2, 3):
        assert any(l.startswith("[client%d] echo of line 2" % n) for l in lines), lines
    return lines


def test_fork_serves_at_once(ctx):
    """A process per client serves all three clients at once, each in a child named server-child."""
    lines = check_concurrent(ctx, "fork")
    assert sum(1 for l in lines if l.startswith("[server-child] serving")) == 3


def test_poll_serves_at_once(ctx):
    """One process with poll serves all three clients at once."""
    check_concurrent(ctx, "poll")


def test_epoll_level_serves_at_once(ctx):
    """epoll, level-triggered, serves all three at once even reading 8 bytes at a time."""
    check_concurrent(ctx, "epoll")


def test_epoll_edge_serves_at_once(ctx):
    """epoll, edge-triggered and reading until EAGAIN, serves all three at once."""
    check_concurrent(ctx, "epoll-et")


def test_edge_triggered_bug(ctx):
    """Edge-triggered code that reads once per event leaves bytes in the socket and the clients get only part of their echo."""
    lines = run_part(ctx, "et-bug")
    text = "\n".join(lines)
    assert len(re.findall(r"\[client\d\] only 8 of the 19 bytes of line 1 came back", text)) == 3, text
    # Each socket's line may carry its queues, or (to fit 80 columns) put
    # them on the line below.
    queued = r"TCP ESTABLISHED [^\n]*(?:\n\[server\])?\s+\(queued: 11 in, 0 out\)"
    assert len(re.findall(queued, text)) == 3, text
    assert "read until EAGAIN" in text


def test_accept_queue(ctx):
    """With backlog 2 and no accept, three connections wait in the queue (Recv-Q 3, Send-Q 2) and the others stay in SYN_SENT until accept makes room."""
    lines = run_part(ctx, "accept-queue")
    text = "\n".join(lines)
    states = re.findall(r"client \d: (\w+)", text)
    assert states.count("ESTABLISHED") == 3 and states.count("SYN_SENT") == 3, text
    assert "3 connections wait in its accept queue (ss: Recv-Q)" in text
    assert "the cap is 2, the backlog (ss: Send-Q)" in text
    if shutil.which("ss"):
        assert re.search(r"\]\s+3\s+2\s+127\.0\.0\.1:\d+", text), "ss shows Recv-Q 3 Send-Q 2:\n" + text
    assert "accepted connection 6" in text


def test_limits(ctx):
    """With the soft limit lowered, socket() fails with EMFILE; the soft limit is raised back to the hard limit."""
    text = "\n".join(run_part(ctx, "limits"))
    assert re.search(r"RLIMIT_NOFILE: soft \d+, hard \d+", text)
    assert "failed: EMFILE (Too many open files)" in text
    assert "soft limit raised to the hard limit" in text


def test_large_run_holds_all(ctx):
    """With --clients 2000 the epoll server holds all 2000 connections at once, as the kernel counts them."""
    r = ctx.run([ctx.lesson(LESSON), "--clients", "2000"], timeout=120, check=True)
    assert "all 2000 clients connected" in r.stdout, r
    assert "holding all 2000 connections at once" in r.stdout
    assert "counts 2000 ESTABLISHED" in r.stdout
    assert "all 2000 connections echoed one byte" in r.stdout
    assert re.search(r"server RSS \d+ KiB, \d+ KiB before: -?\d+ bytes per connection", r.stdout)


def test_hard_limit_too_low(ctx):
    """A hard limit below what --clients needs is named, with what to do, and exit 1."""
    if not shutil.which("prlimit"):
        ctx.skip("prlimit (util-linux) is not installed")
    r = ctx.run(["prlimit", "--nofile=200:200", ctx.lesson(LESSON), "--clients", "1000"])
    assert r.returncode == 1, r
    assert "the hard limit on open files is 200, below the 1064 this run needs" in r.stderr, r
    assert "fewer --clients" in r.stderr


def test_bad_options(ctx):
    """A bad --only or --clients gets a message listing what is accepted, and exit 2."""
    r = ctx.run([ctx.lesson(LESSON), "--only", "threads"])
    assert r.returncode == 2 and "accept-queue" in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "--clients", "many"])
    assert r.returncode == 2 and "--clients takes a number" in r.stderr, r
