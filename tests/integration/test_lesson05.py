"""Lesson 05, Unix socket permissions: who may connect, who connected, stale
files, abstract names, and nothing left behind."""

import os
import re
import signal
import socket
import time

LESSON = "05-unix-permissions"


def private_dir(out):
    m = re.search(r"private directory: (\S+)", out)
    assert m, "the lesson did not print its directory:\n" + out
    return m.group(1)


def connects(events):
    return [e for e in events if e["kind"] == "call" and e["call"] == "connect"]


def test_allowed_and_refused_connects(ctx):
    """The owner's client connects to the 0755 socket file; a client without write permission on it is refused with EACCES, explained."""
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson(LESSON), "--trace", trace], check=True)
    ev = ctx.read_trace(trace)
    d = private_dir(r.stdout)
    sock = d + "/server.sock"
    assert re.search(r"ls -l: srwxr-xr-x \S+ \S+ %s\n\[server\]\s+mode 0755" % re.escape(sock),
                     r.stdout), r.stdout
    assert "umask 0022" in r.stdout
    to_sock = [e for e in connects(ev) if e["addr"] == sock]
    allowed = [e for e in to_sock if e["ret"] == 0 and e["errno"] is None]
    refused = [e for e in to_sock if e["errno"] == "EACCES"]
    assert allowed and allowed[0]["role"] == "client", to_sock
    assert refused, "no connect was refused with EACCES: %s" % to_sock
    # As root, the refused client is another user; as an ordinary user, the
    # mode 0077 shuts out the owner's own client.
    assert refused[0]["role"] == ("nobody" if os.geteuid() == 0 else "client"), refused
    assert re.search(r"\[(nobody|client)\] connect failed: EACCES \(Permission denied\)",
                     r.stdout), r.stdout
    # The refusal is explained in the words of a file, not of a port.
    assert re.search(r"connect failed: EACCES \(Permission denied\)\n  why: .*may not "
                     r"write to the socket file", r.stdout, re.S), r.stdout
    if os.geteuid() == 0:
        assert "but it may not write the socket file (no w for others)" in r.stdout
    assert "CAP_DAC_OVERRIDE" in r.stdout
    if os.geteuid() == 0:
        # Root's own client passes the 0077 mode: no EACCES for role client.
        assert not [e for e in refused if e["role"] == "client"], refused


def test_peer_credentials_are_the_clients_real_ids(ctx):
    """SO_PEERCRED gives the server the pid, uid and gid each client really has, and a uid not on the list is refused with the reason."""
    r = ctx.run([ctx.lesson(LESSON)], check=True)
    said = {int(m.group(2)): (m.group(1), int(m.group(3)), int(m.group(4))) for m in re.finditer(
        r"\[(client|nobody)\] I am pid (\d+), uid (\d+), gid (\d+)", r.stdout)}
    creds = [tuple(int(x) for x in m.groups()) for m in re.finditer(
        r"\[server\] SO_PEERCRED: pid (\d+), uid (\d+), gid (\d+)", r.stdout)]
    ctx.log("said: %s\ncreds: %s" % (said, creds))
    assert len(creds) >= 3, r.stdout
    for pid, uid, gid in creds:
        assert pid in said, "SO_PEERCRED named pid %d, which no client was" % pid
        assert said[pid][1:] == (uid, gid), (pid, said[pid], uid, gid)
    own = [c for c in creds if said[c[0]][0] == "client"]
    assert all(c[1] == os.getuid() and c[2] == os.getgid() for c in own), own
    if os.geteuid() == 0:
        assert any(said[c[0]][0] == "nobody" and c[1] != 0 for c in creds), creds
    assert re.search(r"refused: uid \d+ is not on my list", r.stdout), r.stdout
    assert re.search(r"\[(nobody|client)\] connected; the server says: refused", r.stdout)


def test_stale_socket_file_after_a_killed_server(ctx):
    """A server killed with SIGKILL leaves its file; bind then fails with EADDRINUSE, and the safe clean-up removes it so bind works."""
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson(LESSON), "--trace", trace], check=True)
    ev = ctx.read_trace(trace)
    stale = private_dir(r.stdout) + "/stale.sock"
    binds = [e for e in ev if e["kind"] == "call" and e["call"] == "bind" and e["addr"] == stale]
    assert [e["errno"] for e in binds] == [None, "EADDRINUSE", None], binds
    assert binds[0]["role"] == "old-server" and binds[1]["role"] == "server"
    refused = [e for e in connects(ev) if e["addr"] == stale and e["errno"] == "ECONNREFUSED"]
    assert refused, "the clean-up did not check with connect first"
    # Explained as a file that exists, not as a port in use.
    assert re.search(r"bind failed: EADDRINUSE .*\n  why:  The path \S+/stale\.sock\s+already "
                     r"exists", r.stdout), r.stdout
    assert "stale.sock: a socket nobody answers on: stale, removed" in r.stdout
    assert "notes.txt is not a socket: left alone" in r.stdout
    assert "stale.sock: a server answers on it: left alone" in r.stdout


def test_clean_up_refuses_what_is_not_stale(ctx):
    """The clean-up refuses to remove a regular file, a symlink, or a socket something answers on, and removes a socket nobody answers on."""
    lesson = ctx.lesson(LESSON)
    regular = ctx.path("notes.txt")
    with open(regular, "w") as f:
        f.write("keep me\n")
    r = ctx.run([lesson, "clean", regular])
    assert r.returncode == 1 and "not a socket: left alone" in r.stdout, r
    assert open(regular).read() == "keep me\n"

    live = ctx.path("live.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(live)
    srv.listen()
    r = ctx.run([lesson, "clean", live])
    assert r.returncode == 1 and "a server answers on it: left alone" in r.stdout, r
    assert os.path.exists(live)

    link = ctx.path("link.sock")
    os.symlink(live, link)
    r = ctx.run([lesson, "clean", link])
    assert r.returncode == 1 and "not a socket: left alone" in r.stdout, r
    assert os.path.lexists(link) and os.path.exists(live)
    srv.close()

    # The listener is gone but its file stays: now it is stale.
    assert os.path.exists(live)
    r = ctx.run([lesson, "clean", live])
    assert r.returncode == 0 and "stale, removed" in r.stdout, r
    assert not os.path.exists(live)


def test_abstract_name_has_no_file(ctx):
    """An abstract name is in no directory and has no mode; another user connects all the same, and SO_PEERCRED is the only guard."""
    trace = ctx.path("t.jsonl")
    r = ctx.run([ctx.lesson(LESSON), "--trace", trace], check=True)
    ev = ctx.read_trace(trace)
    binds = [e for e in ev if e["kind"] == "call" and e["call"] == "bind"
             and (e["addr"] or "").startswith("@")]
    assert binds and binds[0]["errno"] is None, binds
    name = binds[0]["addr"]
    conn = [e for e in connects(ev) if e["addr"] == name]
    assert conn and conn[0]["ret"] == 0, conn
    if os.geteuid() == 0:
        assert conn[0]["role"] == "nobody", conn
    assert "no file anywhere" in r.stdout and "pose as the server" in r.stdout


def test_nothing_is_left_behind(ctx):
    """After a run, the private directory and every socket file in it are gone."""
    r = ctx.run([ctx.lesson(LESSON)], check=True)
    d = private_dir(r.stdout)
    assert not os.path.exists(d), "%s was left behind" % d
    assert "nothing is left" in r.stdout


def interrupted(ctx, how):
    t = ctx.pty([ctx.lesson(LESSON), "--step"])
    prompt = "Enter=run c=continue q=quit ?=keys>"
    pos = t.expect(prompt, timeout=10)
    d = private_dir(t.text())
    sock = d + "/server.sock"
    # Step through socket and bind, until the socket file exists.
    for _ in range(10):
        if os.path.exists(sock):
            break
        t.send("\r")
        pos = t.expect(prompt, timeout=10, start=pos)
    assert os.path.exists(sock), "the socket file never appeared"
    how(t)
    t.wait(10)
    ctx.log(t.text())
    assert not os.path.exists(d), "%s was left behind after the interruption" % d


def test_interrupted_by_sigterm_leaves_nothing(ctx):
    """Killed with SIGTERM while it waits in step mode, the lesson still removes its directory."""
    interrupted(ctx, lambda t: os.kill(t.pid, signal.SIGTERM))


def test_interrupted_by_ctrl_c_leaves_nothing(ctx):
    """Stopped with Ctrl-C while it waits in step mode, the lesson still removes its directory."""
    interrupted(ctx, lambda t: t.send("\x03"))


def test_bad_arguments(ctx):
    """A wrong argument gets a message naming the one that is allowed, and exit 2."""
    r = ctx.run([ctx.lesson(LESSON), "wipe", "/tmp/x"])
    assert r.returncode == 2 and "clean PATH" in r.stderr, r
    r = ctx.run([ctx.lesson(LESSON), "--help"])
    assert r.returncode == 0 and "clean PATH" in r.stdout
