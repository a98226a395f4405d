/*
 * Lesson 06: what only a Unix socket can do.
 *
 *   1. socketpair(): two connected sockets in one call, with no path and
 *      no port, for a parent and the child it forks.
 *   2. SOCK_DGRAM and SOCK_SEQPACKET over a Unix socket keep message
 *      boundaries like UDP, but lose nothing: when the receiver's queue is
 *      full, the sender waits (or gets EAGAIN) instead of the message
 *      being dropped.
 *   3. SCM_RIGHTS: a process passes an open file descriptor to another.
 *      The receiver, which the permissions forbid to open the file, reads
 *      it through the descriptor it was given. Then a server hands a
 *      connected TCP socket to a worker process, which serves the client.
 *
 * Watch the message sizes in part 2, and in part 3 the EACCES before the
 * read that works. Extends lesson 05 (a Unix socket as a file).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "errnames.h"
#include "opts.h"
#include "proc.h"
#include "show.h"

static const struct lesson_info lesson = {
    .name = "06-unix-passing",
    .summary = "socketpair, Unix datagram and seqpacket sockets, and passing an open\n"
               "file descriptor (a file, then a TCP connection) with SCM_RIGHTS.",
};

/* The file part 3 makes, removed at exit and on SIGINT/TERM/HUP, by the
 * process that made it. */
static char dir[64], secret[128];
static pid_t owner;

static void remove_secret(void)
{
    if (getpid() == owner) {
        unlink(secret);
        rmdir(dir);
    }
}

static void on_signal(int sig)
{
    remove_secret();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A part of the lesson in its own named process. */
static pid_t spawn(const char *name)
{
    pid_t pid = proc_spawn(name);
    if (pid == -1)
        die_errno("fork");
    return pid;
}

static void reap(pid_t pid)
{
    if (proc_reap(pid) != 0)
        die_msg("a child process failed");
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Three messages, sent before anyone reads them. */
static void send_three(int fd)
{
    const char *msgs[] = {"one", "two!", "three"};
    for (int i = 0; i < 3; i++)
        if (send(fd, msgs[i], strlen(msgs[i]), 0) == -1)
            die_errno("send");
    say("sent 3 messages: \"one\" (3 bytes), \"two!\" (4), \"three\" (5)");
}

/* Read whatever arrives until `total` bytes came, one recv at a time. */
static void recv_all(int fd, size_t total)
{
    char buf[64];
    for (size_t got = 0; got < total;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            die_errno("recv");
        say("recv(): %zd bytes: \"%.*s\"", n, (int)n, buf);
        got += (size_t)n;
    }
}

/* Part 2: boundaries, then a burst larger than the receiver's queue. */
static void messages(int type, const char *name)
{
    say("--- socketpair(AF_UNIX, %s) ---", name);
    int sv[2];
    if (socketpair(AF_UNIX, type, 0, sv) == -1)
        die_errno("socketpair");
    /* A bound on every wait: no send or recv may hang the lesson. */
    struct timeval limit = {.tv_sec = 10};
    setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    send_three(sv[0]);
    recv_all(sv[1], 12);
    say("three recv() for three send(): each message arrived whole, alone");

    /* Fill the queue without blocking (MSG_DONTWAIT) to see its size. */
    char msg[200];
    memset(msg, 'x', sizeof msg);
    unsigned queued = 0;
    for (;; queued++) {
        memcpy(msg, &queued, sizeof queued); /* each message has its number */
        if (send(sv[0], msg, 100 + queued % 100, MSG_DONTWAIT) == -1)
            break;
    }
    if (errno != EAGAIN)
        die_errno("send");
    say("%u messages queued, then EAGAIN: the receiver's queue is full.", queued);
    say("A blocking send() waits now; nothing is thrown away, unlike UDP");

    /* The receiver starts reading after 0.2 s; the sender sends 1000 more
     * with blocking send()s meanwhile, and has to wait for it. */
    unsigned burst = queued + 1000;
    pid_t child = spawn("receiver");
    if (child == 0) {
        close(sv[0]);
        usleep(200 * 1000);
        unsigned ok = 0;
        for (unsigned i = 0; i < burst; i++) {
            ssize_t n = recv(sv[1], msg, sizeof msg, 0);
            unsigned seq;
            memcpy(&seq, msg, sizeof seq);
            if (n == 100 + (ssize_t)(i % 100) && seq == i)
                ok++;
            else if (n == -1)
                die_errno("recv");
        }
        say("received %u of %u messages, in order, each of the size sent", ok, burst);
        exit(ok == burst ? 0 : 1);
    }
    close(sv[1]);
    double t0 = now();
    for (unsigned i = queued; i < burst; i++) {
        memcpy(msg, &i, sizeof i);
        if (send(sv[0], msg, 100 + i % 100, 0) == -1)
            die_errno("send");
    }
    say("sent %u messages in %.2f s: send() waited until the receiver read", burst, now() - t0);
    close(sv[0]);
    reap(child);
}

/* Part 3: pass an open descriptor. The descriptor travels in a control
 * message (ancillary data) beside at least one byte of ordinary data. */
static void send_fd(int sock, int fd)
{
    char byte = 'F';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { /* aligned room for one cmsghdr and one int */
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &m, 0) == -1)
        die_errno("sendmsg");
}

/* The kernel installs the descriptor in the receiver under a new number
 * (the lowest free one), pointing to the same open file. */
static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) <= 0)
        die_errno("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        die_msg("the message carried no descriptor");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void pass_a_file(void)
{
    say("--- SCM_RIGHTS: a file the receiver may not open ---");
    snprintf(dir, sizeof dir, "/tmp/sockscope-06-XXXXXX");
    if (mkdtemp(dir) == NULL || chmod(dir, 0711) == -1)
        die_errno("mkdtemp");
    snprintf(secret, sizeof secret, "%s/secret.txt", dir);
    owner = getpid();
    atexit(remove_secret);
    struct sigaction act = {.sa_handler = on_signal};
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGHUP, &act, NULL);
    char text[64];
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(text, sizeof text, "secret number %d", rand() % 100000);
    int fd = open(secret, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd == -1 || write(fd, text, strlen(text)) == -1 || lseek(fd, 0, SEEK_SET) == -1)
        die_errno("open");
    /* Permission is checked by open(), once. We keep our open descriptor
     * and take every permission away from the file. */
    if (fchmod(fd, 0) == -1)
        die_errno("fchmod");
    say("wrote \"%s\" to %s,", text, secret);
    say("kept it open, then chmod 0000");

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die_errno("socketpair");
    pid_t child = spawn("worker");
    if (child == 0) {
        close(sv[0]);
        /* Root may open anything (CAP_DAC_OVERRIDE): as root, the worker
         * becomes nobody so that the mode stops it. */
        if (geteuid() == 0 && proc_become("nobody") == -1)
            die_errno("setuid");
        struct stat st;
        if (stat(secret, &st) == -1)
            die_errno("stat");
        say("I am uid %d; the file is mode %04o, owner uid %d: no r for me", (int)getuid(),
            (unsigned)(st.st_mode & 07777), (int)st.st_uid);
        int own = open(secret, O_RDONLY);
        if (own != -1)
            die_msg("open() worked: the demonstration needs a file I cannot open");
        say("open failed: %s (%s): the mode says so", errno_name(errno), strerror(errno));
        /* Tell the parent we tried: only now does it send the descriptor. */
        if (write(sv[1], "?", 1) != 1)
            die_errno("write");
        int got = recv_fd(sv[1]);
        char buf[64];
        ssize_t n = read(got, buf, sizeof buf);
        if (n == -1)
            die_errno("read");
        say("read through the passed descriptor %d: \"%.*s\"", got, (int)n, buf);
        say("open() checks permission once; a descriptor keeps the access it was");
        say("opened with, wherever it goes");
        close(got);
        exit(0);
    }
    close(sv[1]);
    char tried;
    if (read(sv[0], &tried, 1) != 1)
        die_msg("the worker did not try the file");
    send_fd(sv[0], fd);
    say("sent descriptor %d with sendmsg(SCM_RIGHTS)", fd);
    close(fd);
    close(sv[0]);
    reap(child);
}

/* The server accepts; a worker process serves the connection. */
static void pass_a_connection(void)
{
    say("--- SCM_RIGHTS: a server hands a TCP connection to a worker ---");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die_errno("socketpair");
    pid_t worker = spawn("worker");
    if (worker == 0) {
        close(sv[0]);
        int conn = recv_fd(sv[1]);
        say("got a connection from the server:");
        show_socket(conn);
        char buf[64];
        ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n == -1)
            die_errno("recv");
        char reply[96];
        snprintf(reply, sizeof reply, "served by worker pid %d", (int)getpid());
        if (send(conn, reply, strlen(reply), 0) == -1)
            die_errno("send");
        close(conn);
        exit(0);
    }
    close(sv[1]);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&a, sizeof a) == -1 || listen(lfd, 8) == -1 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) == -1)
        die_errno("listen");
    pid_t client = spawn("client");
    if (client == 0) {
        close(lfd);
        close(sv[0]);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd == -1 || connect(fd, (struct sockaddr *)&a, sizeof a) == -1)
            die_errno("connect");
        if (send(fd, "hello?", 6, 0) == -1)
            die_errno("send");
        char buf[96];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        say("asked the server; the answer: %.*s", n > 0 ? (int)n : 0, buf);
        close(fd);
        exit(0);
    }
    int conn = accept(lfd, NULL, NULL);
    if (conn == -1)
        die_errno("accept");
    show_socket(conn);
    send_fd(sv[0], conn);
    say("handed the connection to worker %d; closing our copy of it", (int)worker);
    close(conn); /* the worker's descriptor keeps the connection open */
    close(lfd);
    close(sv[0]);
    reap(client);
    reap(worker);
}

int main(int argc, char **argv)
{
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    prctl(PR_SET_NAME, "parent");

    /* 1. socketpair: connected from birth, inherited by fork. */
    say("--- socketpair(AF_UNIX, SOCK_STREAM): no path, no port ---");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die_errno("socketpair");
    show_socket(sv[0]);
    send_three(sv[0]);
    pid_t child = spawn("child");
    if (child == 0) {
        close(sv[0]);
        recv_all(sv[1], 12);
        say("a stream keeps no boundaries: the three came as one byte stream");
        exit(0);
    }
    close(sv[0]);
    close(sv[1]);
    reap(child);

    /* 2. Messages whose boundaries are kept, and never dropped. */
    messages(SOCK_DGRAM, "SOCK_DGRAM");
    messages(SOCK_SEQPACKET, "SOCK_SEQPACKET");

    /* 3. Descriptors passed between processes. */
    pass_a_file();
    pass_a_connection();
    return 0;
}
