/*
 * Lesson 05: a Unix socket is a file, and the file decides who may connect.
 *
 * A server binds a path instead of a port. bind() creates a file of type
 * socket ('s' in ls -l) with a mode made by the umask; connect() to it
 * needs write permission on that file (and search on each directory on the
 * way). Watch, in order:
 *
 *   1. the file bind made, as ls -l shows it, and how the umask made it;
 *   2. who may connect: an allowed client and a refused one (EACCES);
 *   3. SO_PEERCRED: the server learns the client's pid, uid and gid from
 *      the kernel, and refuses a uid that is not on its list;
 *   4. a stale file: a server killed without unlink leaves its file, the
 *      next bind fails with EADDRINUSE; the safe clean-up removes the path
 *      only if it is a socket that nothing answers on;
 *   5. the abstract namespace: a name with no file and no permission bits;
 *   6. nothing is left behind, even when interrupted (Ctrl-C, kill).
 *
 * Run as root, the refused client really is another user (nobody); run as
 * an ordinary user, a mode that excludes yourself shows the same refusal.
 * `05-unix-permissions clean PATH` runs only the safe clean-up of step 4.
 * Extends lesson 02 (the call sequence), with a path for an address.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "die.h"
#include "opts.h"
#include "proc.h"
#include "saywhy.h"
#include "show.h"

static const struct lesson_info lesson = {
    .name = "05-unix-permissions",
    .summary = "A Unix socket is a file: its mode, EACCES, SO_PEERCRED, stale files,\n"
               "the abstract namespace; nothing is left behind.",
    .args = "[clean PATH]",
    .max_args = 2,
    .more_help = "  clean PATH   only the safe clean-up: remove PATH if it is a socket that\n"
                 "               nothing answers on (exit 0), else leave it (exit 1)",
};

/* Everything the lesson makes in the filesystem, so that an exit or a
 * signal can remove it all. Only the first process removes anything. */
static char dir[64], sock_path[128], stale_path[128], file_path[128];
static pid_t owner;

static void remove_all(void)
{
    if (getpid() != owner)
        return;
    unlink(sock_path); /* unlink and rmdir are safe inside a signal handler */
    unlink(stale_path);
    unlink(file_path);
    rmdir(dir);
}

static void on_signal(int sig)
{
    remove_all();
    signal(sig, SIG_DFL);
    raise(sig); /* die of the signal, as the shell expects */
}

static socklen_t unix_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
    return sizeof *sa;
}

/* The file as `ls -l` shows it: type, mode, owner, group. */
static void show_file(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == -1)
        die_errno("lstat");
    char m[11] = "?rwxrwxrwx";
    m[0] = S_ISSOCK(st.st_mode) ? 's' : S_ISREG(st.st_mode) ? '-' : '?';
    for (int i = 0; i < 9; i++)
        if (!(st.st_mode & (0400 >> i)))
            m[i + 1] = '-';
    struct passwd *pw = getpwuid(st.st_uid);
    struct group *gr = getgrgid(st.st_gid);
    say("ls -l: %s %s %s %s", m, pw ? pw->pw_name : "?", gr ? gr->gr_name : "?", path);
    say("       mode %04o", (unsigned)(st.st_mode & 07777));
}

/*
 * One client, start to end. The client process connects and tells the
 * server through a pipe whether it got in (so the server never waits for a
 * connection that will not come); if it did, the server accepts and asks
 * the kernel who is on the other end.
 */
static void one_client(int listener, const struct sockaddr_un *sa, socklen_t len, bool as_nobody,
                       uid_t allowed)
{
    int tell[2];
    if (pipe(tell) == -1)
        die_errno("pipe");
    pid_t pid = proc_spawn(as_nobody ? "nobody" : "client");
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        close(listener);
        /* Root may do anything; as another user, the mode applies. */
        if (as_nobody && proc_become("nobody") == -1)
            die_errno("setuid");
        say("I am pid %d, uid %d, gid %d", (int)getpid(), (int)getuid(), (int)getgid());
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd == -1)
            die_errno("socket");
        bool in = connect(fd, (const struct sockaddr *)sa, len) == 0;
        if (!in)
            say_failed("connect", errno);
        if (write(tell[1], in ? "1" : "0", 1) != 1)
            die_errno("write");
        if (in) {
            char reply[128];
            ssize_t n = read(fd, reply, sizeof reply);
            say("connected; the server says: %.*s", n > 0 ? (int)n : 0, reply);
        }
        close(fd);
        exit(0);
    }
    close(tell[1]);
    char in = '0';
    if (read(tell[0], &in, 1) == -1)
        die_errno("read");
    close(tell[0]);
    if (in == '1') {
        int conn = accept(listener, NULL, NULL);
        if (conn == -1)
            die_errno("accept");
        /* SO_PEERCRED: the ids the kernel recorded when the client called
         * connect(). The client cannot lie about them. */
        struct ucred cred;
        socklen_t clen = sizeof cred;
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1)
            die_errno("getsockopt");
        say("SO_PEERCRED: pid %d, uid %d, gid %d", (int)cred.pid, (int)cred.uid, (int)cred.gid);
        char reply[128];
        if (cred.uid == allowed)
            snprintf(reply, sizeof reply, "welcome, uid %d", (int)cred.uid);
        else
            snprintf(reply, sizeof reply, "refused: uid %d is not on my list", (int)cred.uid);
        say("%s (only uid %d is)", reply, (int)allowed);
        if (write(conn, reply, strlen(reply)) == -1)
            die_errno("write");
        close(conn);
    }
    if (proc_reap(pid) != 0)
        die_msg("the client failed");
}

/*
 * The safe clean-up of a stale socket file. Remove `path` only when it is
 * a socket (lstat: not a file, not a symlink to one) and a connect gets
 * ECONNREFUSED: no process listens on it any more. Anything else is left
 * alone. (Between the check and the unlink another server could bind;
 * in a directory only we may write, nobody else can.)
 */
static bool remove_if_stale(const char *path)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct stat st;
    if (lstat(path, &st) == -1) {
        say("%s: nothing to clean (%s)", name, strerror(errno));
        return errno == ENOENT;
    }
    if (!S_ISSOCK(st.st_mode)) {
        say("%s is not a socket: left alone", name);
        return false;
    }
    struct sockaddr_un sa;
    socklen_t len = unix_addr(&sa, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1)
        die_errno("socket");
    int rc = connect(fd, (struct sockaddr *)&sa, len), err = errno;
    close(fd);
    if (rc == 0) {
        say("%s: a server answers on it: left alone", name);
        return false;
    }
    if (err != ECONNREFUSED) {
        say("%s: connect said %s, not ECONNREFUSED: left alone", name, strerror(err));
        return false;
    }
    if (unlink(path) == -1)
        die_errno("unlink");
    say("%s: a socket nobody answers on: stale, removed", name);
    return true;
}

static int listen_on(const struct sockaddr_un *sa, socklen_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1)
        die_errno("socket");
    if (bind(fd, (const struct sockaddr *)sa, len) == -1)
        die_errno("bind");
    if (listen(fd, 8) == -1)
        die_errno("listen");
    return fd;
}

int main(int argc, char **argv)
{
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    prctl(PR_SET_NAME, "server");
    if (o.nargs > 0) {
        if (o.nargs != 2 || strcmp(o.args[0], "clean") != 0)
            die_usage("the only argument is 'clean PATH'");
        return remove_if_stale(o.args[1]) ? 0 : 1;
    }
    bool root = geteuid() == 0;

    /* A private directory, made 0700 by mkdtemp; then 0711 so that other
     * users may pass through it (search, x) but not list it. The socket
     * file itself then decides who connects. */
    owner = getpid();
    snprintf(dir, sizeof dir, "/tmp/sockscope-05-XXXXXX");
    if (mkdtemp(dir) == NULL)
        die_errno("mkdtemp");
    snprintf(sock_path, sizeof sock_path, "%s/server.sock", dir);
    snprintf(stale_path, sizeof stale_path, "%s/stale.sock", dir);
    snprintf(file_path, sizeof file_path, "%s/notes.txt", dir);
    atexit(remove_all);
    struct sigaction act = {.sa_handler = on_signal};
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGHUP, &act, NULL);
    if (chmod(dir, 0711) == -1)
        die_errno("chmod");
    say("private directory: %s (mode 0711)", dir);

    /* 1. bind creates the file with mode 0777 minus the umask's bits. */
    say("--- 1. bind makes a file ---");
    mode_t old = umask(022);
    struct sockaddr_un sa;
    socklen_t len = unix_addr(&sa, sock_path);
    int listener = listen_on(&sa, len);
    umask(old);
    show_file(sock_path);
    say("bind made it 0777 & ~umask 0022 = 0755: only the owner may write,");
    say("so only the owner may connect");

    /* 2. Who may connect: write permission on the socket file. */
    uid_t me = getuid();
    say("--- 2. who may connect ---");
    one_client(listener, &sa, len, false, me);
    if (root) {
        say("another user (nobody) tries: it may search the directory (x),");
        say("but it may not write the socket file (no w for others)");
        one_client(listener, &sa, len, true, me);
    }
    if (chmod(sock_path, 0077) == -1)
        die_errno("chmod");
    show_file(sock_path);
    say("mode 0077 excludes the owner: its own client tries now");
    one_client(listener, &sa, len, false, me);
    say(root ? "root got in all the same: CAP_DAC_OVERRIDE skips the permission check"
             : "refused: we own the file but its owner bits say ---. As root it\n"
               "         would get in: CAP_DAC_OVERRIDE skips the permission check");

    /* 3. A mode that lets everyone in leaves the check to the server:
     * SO_PEERCRED tells it who connected, and it refuses strangers. */
    say("--- 3. the server checks who connected (SO_PEERCRED) ---");
    if (chmod(sock_path, 0777) == -1)
        die_errno("chmod");
    show_file(sock_path);
    if (root) {
        one_client(listener, &sa, len, true, me);
    } else {
        say("an ordinary user cannot become another user; the server's list");
        say("now holds only root (uid 0), so our own client is refused");
        one_client(listener, &sa, len, false, 0);
    }
    close(listener);

    /* 4. A server killed with SIGKILL cannot unlink its file. */
    say("--- 4. a stale socket file ---");
    struct sockaddr_un st;
    socklen_t stlen = unix_addr(&st, stale_path);
    int ready[2];
    if (pipe(ready) == -1)
        die_errno("pipe");
    pid_t old_server = proc_spawn("old-server");
    if (old_server == -1)
        die_errno("fork");
    if (old_server == 0) {
        listen_on(&st, stlen);
        if (write(ready[1], "1", 1) != 1)
            die_errno("write");
        pause(); /* until it is killed */
        exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        die_msg("the old server did not start");
    kill(old_server, SIGKILL);
    proc_reap(old_server); /* killed: no exit status to check */
    close(ready[0]);
    close(ready[1]);
    say("the old server was killed (SIGKILL); its file is still there:");
    show_file(stale_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1)
        die_errno("socket");
    if (bind(fd, (struct sockaddr *)&st, stlen) == -1)
        say_failed("bind", errno);
    close(fd);
    say("for a Unix socket, EADDRINUSE means the path exists: bind() never");
    say("replaces a file, not even a dead socket's");
    say("the safe clean-up: remove it only if it is a socket nobody answers on");
    remove_if_stale(stale_path);
    listener = listen_on(&st, stlen);
    say("bind and listen worked; now what the clean-up must never remove:");
    int f = open(file_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (f == -1)
        die_errno("open");
    close(f);
    remove_if_stale(file_path);
    remove_if_stale(stale_path); /* our own live server */
    close(listener);

    /* 5. An abstract name starts with a NUL byte: it is not in any
     * directory, so no mode guards it. Any process of this network
     * namespace, any user, can connect; SO_PEERCRED is the only guard. */
    say("--- 5. the abstract namespace ---");
    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    int n = snprintf(ab.sun_path + 1, sizeof ab.sun_path - 1, "sockscope-05-%d", (int)owner);
    socklen_t ablen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    listener = listen_on(&ab, ablen);
    say("bound @%s: no file anywhere, no mode, no owner", ab.sun_path + 1);
    say("(ss -xl lists it, with its leading @)");
    one_client(listener, &ab, ablen, root, me);
    say("a risk when the server trusts whoever connects, and because anyone");
    say("can bind the name first and pose as the server; a path in a private");
    say("directory cannot be taken that way");
    close(listener);

    /* 6. Clean up; the same runs at exit and on SIGINT/SIGTERM. */
    remove_all();
    say("removed %s and everything in it: nothing is left", dir);
    return 0;
}
