/*
 * Lesson 02: the call sequence of a TCP server and a TCP client.
 *
 * A server and a client, each in its own process, make the calls every
 * TCP program makes, in the order they must come:
 *
 *     server                          client
 *     socket                          socket
 *     setsockopt(SO_REUSEADDR)
 *     bind      (take a port)
 *     listen    (LISTEN)
 *     accept    ...waits...    <---   connect   (the three-way handshake)
 *               ESTABLISHED           ESTABLISHED
 *     recv                     <---   send "hello"
 *     send "hello" (echo)      --->   recv
 *                                     close     (FIN: active close)
 *     recv returns 0 (CLOSE_WAIT)     FIN_WAIT_2, then TIME_WAIT
 *     close     (LAST_ACK)
 *
 * After each call the lesson prints what the kernel says about the socket:
 * watch the TCP state change. Run it with --step to stop before each call;
 * run `--role server` and `--role client` in two terminals to play the two
 * parts yourself (extends lesson 01, which showed what an address is).
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
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
    .name = "02-call-sequence",
    .summary = "A TCP server and client make their calls in order; after each call,\n"
               "the kernel's state of the socket is shown.",
    .opts = OPT_ROLE | OPT_HOST | OPT_PORT,
    .default_host = "127.0.0.1",
    .default_port = 9000,
    .more_help = "Two terminals:  02-call-sequence --role server --port 9000\n"
                 "                02-call-sequence --role client --port 9000",
};

/* The server's first half: a socket that listens on host:port. */
static int open_listener(const char *host, const char *port)
{
    /* getaddrinfo turns a name and a port into addresses to bind to;
     * AI_PASSIVE asks for addresses a server listens on. */
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die_gai(host, port, rc);

    /* A name can have several addresses (IPv4 and IPv6); take the first
     * one that works. */
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        /* socket: a new endpoint, not yet attached to any address. */
        say("socket(): a new TCP endpoint, with no address yet");
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1)
            die_errno("socket");
        show_socket(fd);

        /* SO_REUSEADDR: after a restart, connections of the old server may
         * still sit in TIME_WAIT on this port; without this option bind
         * would refuse the port until they expire (about a minute). */
        int on = 1;
        say("setsockopt(SO_REUSEADDR): so a restarted server can bind at once");
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
            die_errno("setsockopt");

        /* bind: give the socket its local address, the one clients use. */
        say("bind(): take the local address clients will connect to");
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (ai->ai_next == NULL)
            die_errno("bind");
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    show_socket(fd);

    /* listen: from now on the kernel completes handshakes for us and
     * queues the connections until we accept them. */
    say("listen(): the kernel may now accept connections for us (LISTEN)");
    if (listen(fd, 8) == -1)
        die_errno("listen");
    show_socket(fd);
    return fd;
}

/* The server's second half: one connection, start to end. */
static void serve_one(int listener)
{
    /* accept: wait for a connection whose handshake is done; it comes on
     * a NEW socket. The listener goes on listening. */
    say("accept(): wait for a client; the connection gets a socket of its own");
    int conn = accept(listener, NULL, NULL);
    if (conn == -1 && errno == EINTR)
        die_msg("the client ended before it connected");
    if (conn == -1)
        die_errno("accept");
    show_socket(conn);

    /* recv: the bytes the client sent, as many as have arrived. */
    char buf[256];
    ssize_t n = recv(conn, buf, sizeof buf, 0);
    if (n == -1)
        die_errno("recv");
    say("recv(): %zd bytes: \"%.*s\"", n, (int)n, buf);
    show_socket(conn);

    /* send: echo them back. */
    if (send(conn, buf, (size_t)n, 0) == -1)
        die_errno("send");
    say("send(): echoed them back");
    show_socket(conn);

    /* recv returns 0 when the peer has closed its side: end of stream.
     * Our side is now in CLOSE_WAIT until we close too. */
    n = recv(conn, buf, sizeof buf, 0);
    if (n == -1)
        die_errno("recv");
    say("recv(): returned %zd: the client closed; ours waits for our close", n);
    show_socket(conn);

    /* close: our FIN goes out; the connection ends in LAST_ACK, then
     * nothing. */
    struct conn_id id = conn_id_of(conn);
    say("close(): the second side to close (passive close)");
    if (close(conn) == -1)
        die_errno("close");
    show_closed(&id);

    /* Closing the listener frees the port for the next server. */
    if (close(listener) == -1)
        die_errno("close");
    say("close(): the listener too; the port is free");
}

static void run_client(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die_gai(host, port, rc);

    /* Try each address of the server until one connects. */
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        say("socket(): a new TCP endpoint");
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1)
            die_errno("socket");
        show_socket(fd);

        /* connect: the kernel picks us an ephemeral port and runs the
         * three-way handshake (SYN, SYN+ACK, ACK). No bind needed. */
        say("connect(): the three-way handshake with the server");
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (ai->ai_next == NULL)
            die_errno("connect");
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    show_socket(fd);

    const char msg[] = "hello";
    if (send(fd, msg, strlen(msg), 0) == -1)
        die_errno("send");
    say("send(): \"%s\"", msg);
    show_socket(fd);

    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == -1)
        die_errno("recv");
    say("recv(): %zd bytes back: \"%.*s\"", n, (int)n, buf);
    show_socket(fd);

    /* close: we close first (active close). Our side goes to FIN_WAIT_2
     * until the server closes, then TIME_WAIT for a minute. */
    struct conn_id id = conn_id_of(fd);
    say("close(): the first side to close (active close)");
    if (close(fd) == -1)
        die_errno("close");
    show_closed(&id);
}

static void on_child_exit(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);

    if (o.role == ROLE_CLIENT) {
        /* Name the process, so ps, ss -p and the viewer can tell it. */
        prctl(PR_SET_NAME, "client");
        run_client(o.host, o.port_text);
        return 0;
    }

    prctl(PR_SET_NAME, "server");
    int listener = open_listener(o.host, o.port_text);

    /* Port 0 asked the kernel for any free port: find out which. */
    struct sockaddr_storage me;
    socklen_t melen = sizeof me;
    if (getsockname(listener, (struct sockaddr *)&me, &melen) == -1)
        die_errno("getsockname");
    char port[8];
    snprintf(port, sizeof port, "%d", addr_port((struct sockaddr *)&me));
    say("listening on port %s", port);

    if (o.role == ROLE_SERVER) {
        serve_one(listener);
        return 0;
    }

    /* Both sides: the client is a second process, started now that the
     * server listens, so its connect cannot come too early. If it ends
     * early, its exit must interrupt our accept, not leave us waiting
     * forever: a handler installed without SA_RESTART does that. */
    struct sigaction sa = {.sa_handler = on_child_exit};
    sigaction(SIGCHLD, &sa, NULL);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        prctl(PR_SET_NAME, "client");
        close(listener); /* the client has no use for the server's socket */
        run_client(o.host, port);
        return 0;
    }
    serve_one(listener);

    int status;
    if (waitpid(pid, &status, 0) == -1)
        die_errno("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
