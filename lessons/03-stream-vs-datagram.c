/*
 * Lesson 03: a stream (TCP) and datagrams (UDP), side by side.
 *
 * Lesson 02 sent one "hello" and got it back whole. That was luck. A TCP
 * socket carries a STREAM of bytes: the sender's calls leave no mark in it,
 * so one recv may return several sends, or part of one. A UDP socket
 * carries DATAGRAMS: each sendto arrives whole, by itself, or not at all.
 * A server and a client process show six things:
 *
 *   1. TCP: three sends, "one" "two" "three", come out of ONE recv; then a
 *      length prefix (our framing) gets the three messages back;
 *   2. TCP: one send of 1 MiB comes out of many recvs, each one short;
 *   3. UDP: three sendto calls are three recvfrom calls, each with the
 *      sender's address;
 *   4. UDP: a datagram bigger than the buffer is cut; MSG_TRUNC tells its
 *      real size;
 *   5. UDP: a burst into a small receive buffer loses datagrams, with no
 *      error anywhere; only the kernel's drop counter knows;
 *   6. UDP: a "connected" UDP socket sending to a port where nothing
 *      listens hears ECONNREFUSED, but one call late.
 *
 * UDP has no connection and so no state: `ss -uan` says UNCONN (or ESTAB
 * for a connect()ed one: a remembered peer address, no handshake).
 */
#include <errno.h>
#include <linux/sock_diag.h> /* SK_MEMINFO_DROPS */
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "die.h"
#include "opts.h"
#include "show.h"

static const struct lesson_info lesson = {
    .name = "03-stream-vs-datagram",
    .summary = "TCP is a stream without message boundaries; UDP keeps them, and can\n"
               "cut, lose and refuse datagrams. A server and a client show both.",
};

#define BIG (1024 * 1024) /* point 2: one send of 1 MiB */
#define BURST 64          /* point 5: datagrams sent at once */

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A socket of `type` bound to 127.0.0.1 on a port the kernel picks. */
static int bound_socket(int type, uint16_t *port)
{
    int fd = socket(AF_INET, type, 0);
    if (fd == -1)
        die_errno("socket");
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == -1)
        die_errno("bind");
    if (getsockname(fd, (struct sockaddr *)&a, &len) == -1)
        die_errno("getsockname");
    *port = ntohs(a.sin_port);
    return fd;
}

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    if (fd == -1 || connect(fd, (struct sockaddr *)&a, sizeof a) == -1)
        die_errno(fd == -1 ? "socket" : "connect");
    return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
    if (send(fd, buf, len, 0) != (ssize_t)len)
        die_errno("send");
}

/* Wait until the server has said what it saw, so that the lines come out
 * in the order of the story (the server writes one byte a step). */
static void wait_turn(int go)
{
    char c;
    if (read(go, &c, 1) != 1)
        die_msg("the server stopped");
}

static void run_client(uint16_t tcp_port, uint16_t udp_port, uint16_t small_port, int done, int go)
{
    /* 1. Three sends on one connection. */
    int fd = tcp_connect(tcp_port);
    const char *words[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++)
        send_all(fd, words[i], strlen(words[i]));
    say("sent \"one\", \"two\", \"three\": three send() calls, then close");
    close(fd);

    /* 1b. The same three, each behind its length in one byte (so up to
     * 255 bytes; real protocols take 2 or 4): the receiver reads the
     * length first, then knows where the message ends. */
    fd = tcp_connect(tcp_port);
    for (int i = 0; i < 3; i++) {
        uint8_t frame[1 + 8];
        size_t n = strlen(words[i]);
        frame[0] = (uint8_t)n;
        memcpy(frame + 1, words[i], n);
        send_all(fd, frame, 1 + n);
    }
    close(fd);
    wait_turn(go);

    /* 2. One call, 1 MiB: send blocks until the kernel has taken it all. */
    fd = tcp_connect(tcp_port);
    char *big = malloc(BIG);
    if (big == NULL)
        die_msg("out of memory");
    memset(big, 'b', BIG);
    say("one send() of 1048576 bytes: it returns when the kernel took them all");
    send_all(fd, big, BIG);
    free(big);
    close(fd);
    wait_turn(go);

    /* 3. Three datagrams, and 4. one of 100 bytes. No connect: each
     * sendto names its destination. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    if (u == -1)
        die_errno("socket");
    struct sockaddr_in to = loopback(udp_port);
    for (int i = 0; i < 3; i++)
        if (sendto(u, words[i], strlen(words[i]), 0, (struct sockaddr *)&to, sizeof to) == -1)
            die_errno("sendto");
    char hundred[100];
    memset(hundred, 'x', sizeof hundred);
    if (sendto(u, hundred, sizeof hundred, 0, (struct sockaddr *)&to, sizeof to) == -1)
        die_errno("sendto");

    /* 5. A burst at a socket that is not reading. Every sendto succeeds:
     * UDP has no flow control, the sender never learns of the loss. */
    wait_turn(go);
    to = loopback(small_port);
    char kb[1000];
    memset(kb, 'u', sizeof kb);
    for (int i = 0; i < BURST; i++)
        if (sendto(u, kb, sizeof kb, 0, (struct sockaddr *)&to, sizeof to) == -1)
            die_errno("sendto");
    say("sent a burst of %d datagrams of 1000 bytes; every sendto succeeded", BURST);
    close(u);
    if (write(done, "x", 1) != 1) /* tell the server: the burst is over */
        die_errno("write");
    wait_turn(go);

    /* 6. A port where nothing listens: take one, and let it go. */
    uint16_t dead;
    close(bound_socket(SOCK_DGRAM, &dead));
    u = socket(AF_INET, SOCK_DGRAM, 0);
    to = loopback(dead);
    /* connect on UDP sends nothing: it only fixes the peer, so send()
     * needs no address, and errors about that peer come back to us. */
    if (u == -1 || connect(u, (struct sockaddr *)&to, sizeof to) == -1)
        die_errno(u == -1 ? "socket" : "connect");
    show_socket(u);
    if (send(u, "anyone?", 7, 0) == -1)
        die_errno("send");
    say("send() to port %u returned 7: nothing has failed yet", dead);
    /* The refusal is an ICMP "port unreachable" from the other host's
     * kernel. It comes back after send() returned; the kernel keeps it
     * on the socket and hands it to the NEXT call. poll shows it as an
     * error condition (POLLERR). */
    struct pollfd p = {.fd = u, .events = POLLIN};
    if (poll(&p, 1, 2000) == 0)
        say("no ICMP came back within 2 s (a firewall may drop it)");
    char buf[16];
    if (recv(u, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == ECONNREFUSED) {
        say("recv() failed with ECONNREFUSED:");
        say("  the answer to the earlier send, one call late");
    } else {
        say("recv() did not report the refusal (%s)", strerror(errno));
    }
    close(u);
}

/* A framed reader: receive into a small buffer, whatever arrives; take
 * out every complete message (length, then bytes); keep the rest. */
static void read_framed(int conn)
{
    uint8_t acc[64];
    size_t have = 0;
    int got = 0, recvs = 0;
    for (;;) {
        ssize_t n = recv(conn, acc + have, sizeof acc - have < 5 ? sizeof acc - have : 5, 0);
        if (n == -1)
            die_errno("recv");
        if (n == 0)
            break;
        recvs++;
        have += (size_t)n;
        while (have >= 1 && have >= 1 + (size_t)acc[0]) {
            size_t len = acc[0];
            say("framed message %d: \"%.*s\" (%zu bytes)", ++got, (int)len, acc + 1, len);
            memmove(acc, acc + 1 + len, have - 1 - len);
            have -= 1 + len;
        }
        if (have == sizeof acc)
            die_msg("a frame longer than the buffer");
    }
    say("the length prefix gave back %d messages from %d recvs of at most 5 bytes", got, recvs);
}

/* The client may go on: what the server saw is printed. */
static void give_turn(int go)
{
    if (write(go, "g", 1) != 1)
        die_errno("write");
}

static void run_server(int listener, int udp, int small, int done, int go)
{
    /* 1. Wait until the client has closed its side (POLLRDHUP). TCP
     * delivers in order, so its FIN comes after all 11 bytes: they wait
     * side by side in our receive buffer. (A slow reader meets this in
     * real life; here we make sure of it.) Then one recv takes them. */
    int conn = accept(listener, NULL, NULL);
    if (conn == -1)
        die_errno("accept");
    struct pollfd p = {.fd = conn, .events = POLLRDHUP};
    if (poll(&p, 1, -1) != 1)
        die_msg("the client did not finish its three sends");
    char buf[64];
    ssize_t n = recv(conn, buf, sizeof buf, 0);
    if (n == -1)
        die_errno("recv");
    say("recv(): %zd bytes: \"%.*s\"", n, (int)n, buf);
    say("  the 3 sends came out of 1 recv; where did \"one\" end?");
    say("  (the server waited for the client's close, so all 11 bytes were");
    say("  queued: a slow reader gets the same on every run)");
    close(conn);

    /* 1b. The same three with their lengths in front: messages again. */
    if ((conn = accept(listener, NULL, NULL)) == -1)
        die_errno("accept");
    read_framed(conn);
    close(conn);
    give_turn(go);

    /* 2. Ask for all 1 MiB each time; recv returns what has arrived. */
    if ((conn = accept(listener, NULL, NULL)) == -1)
        die_errno("accept");
    char *big = malloc(BIG);
    if (big == NULL)
        die_msg("out of memory");
    size_t total = 0;
    int recvs = 0;
    while (total < BIG && (n = recv(conn, big + total, BIG - total, 0)) > 0)
        total += (size_t)n, recvs++;
    if (n == -1)
        die_errno("recv");
    say("1 send of %d bytes arrived in %d recvs (%zu bytes)", BIG, recvs, total);
    say("  short reads are normal: recv returns what has arrived so far");
    free(big);
    close(conn);
    give_turn(go);

    /* 3. Each recvfrom returns exactly one datagram, and who sent it. */
    for (int i = 0; i < 3; i++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        char who[ADDR_STRLEN];
        n = recvfrom(udp, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n == -1)
            die_errno("recvfrom");
        say("recvfrom(): datagram %d: \"%.*s\" (%zd bytes) from %s", i + 1, (int)n, buf, n,
            addr_format((struct sockaddr *)&from, fl, who, sizeof who));
    }
    show_socket(udp);

    /* 4. A 16-byte buffer for a 100-byte datagram. With MSG_TRUNC recv
     * returns the datagram's real length; the rest of it is gone. */
    n = recv(udp, buf, 16, MSG_TRUNC);
    if (n == -1)
        die_errno("recv");
    say("recv(16 bytes, MSG_TRUNC) = %zd: the datagram had %zd bytes;", n, n);
    say("  we got the first 16; the other %zd are lost", n - 16);
    give_turn(go);

    /* 5. Wait for the end of the burst, then read what the small buffer
     * kept. SO_MEMINFO gives the kernel's count of datagrams it dropped
     * on this socket (the `drops` column of /proc/net/udp). */
    if (read(done, buf, 1) != 1)
        die_msg("the client stopped before its burst");
    int received = 0;
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    for (int tries = 0; tries < 50; tries++) {
        while (recv(small, buf, sizeof buf, MSG_DONTWAIT) > 0)
            received++;
        socklen_t ml = sizeof mem;
        if (getsockopt(small, SOL_SOCKET, SO_MEMINFO, mem, &ml) == -1)
            die_errno("getsockopt");
        if (received + (int)mem[SK_MEMINFO_DROPS] >= BURST)
            break;
        poll(NULL, 0, 20); /* some may still be on their way through loopback */
    }
    say("UDP burst: %d sent, %d received, %u dropped by the kernel", BURST, received,
        mem[SK_MEMINFO_DROPS]);
    say("  (its receive buffer was full; no call reported an error)");
    give_turn(go);
    close(udp);
    close(small);
    close(listener);
}

int main(int argc, char **argv)
{
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    prctl(PR_SET_NAME, "server");

    /* Every socket the server needs, before the client starts. */
    uint16_t tcp_port, udp_port, small_port;
    int listener = bound_socket(SOCK_STREAM, &tcp_port);
    /* A small receive buffer (the kernel doubles it for its bookkeeping),
     * passed on to accepted connections: 1 MiB cannot wait in it at once. */
    int size = 64 * 1024;
    if (setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == -1)
        die_errno("setsockopt");
    if (listen(listener, 8) == -1)
        die_errno("listen");
    int udp = bound_socket(SOCK_DGRAM, &udp_port);
    int small = bound_socket(SOCK_DGRAM, &small_port);
    size = 4096; /* room for a few datagrams only */
    if (setsockopt(small, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == -1)
        die_errno("setsockopt");
    say("TCP port %u, UDP port %u, small UDP port %u", tcp_port, udp_port, small_port);
    show_socket(udp);
    say("  no state: UDP has no connection (ss -uan: UNCONN)");

    /* Two pipes between the processes: "the burst is over" to the
     * server, "your turn" to the client. */
    int pipefd[2], gofd[2];
    if (pipe(pipefd) == -1 || pipe(gofd) == -1)
        die_errno("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        prctl(PR_SET_NAME, "client");
        close(listener), close(udp), close(small), close(pipefd[0]), close(gofd[1]);
        run_client(tcp_port, udp_port, small_port, pipefd[1], gofd[0]);
        return 0;
    }
    close(pipefd[1]);
    close(gofd[0]);
    run_server(listener, udp, small, pipefd[0], gofd[1]);
    int status;
    if (waitpid(pid, &status, 0) == -1)
        die_errno("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
