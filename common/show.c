/* show.c: a lesson's view of its sockets; see show.h. */
#include "show.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "addr.h"
#include "diag.h"
#include "quiet.h"
#include "sockstate.h"

const char *show_role(void)
{
    static __thread char name[17];
    if (prctl(PR_GET_NAME, name, 0, 0, 0) == -1)
        snprintf(name, sizeof name, "?");
    return name;
}

void say(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("[%s] %s\n", show_role(), line);
    fflush(stdout);
}

void show_socket(int fd)
{
    /* These questions are ours, not the lesson's calls: keep them out of
     * the trace. */
    quiet_begin();
    struct sock_kind k;
    if (sock_kind_get(fd, &k) == -1) {
        say("   fd %d  is not an open socket", fd);
        quiet_end();
        return;
    }
    char local[ADDR_STRLEN] = "", peer[ADDR_STRLEN] = "";
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        addr_format((struct sockaddr *)&ss, len, local, sizeof local);
    len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        addr_format((struct sockaddr *)&ss, len, peer, sizeof peer);

    char kind[24];
    snprintf(kind, sizeof kind, "%s", sock_kind_name(&k));
    for (char *p = kind; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    const char *state = sock_kind_is_tcp(&k) ? tcp_state_name(sock_tcp_state(fd)) : NULL;
    int in = 0, out = 0;
    bool queues = sock_queues(fd, &in, &out) == 0 && (in || out);
    char line[2 * ADDR_STRLEN + 64];
    snprintf(line, sizeof line, "   fd %d  %s %-11s %s%s%s", fd, kind, state ? state : "", local,
             peer[0] ? " <-> " : "", peer);
    /* "[role] " and the line fit 80 columns, or the peer goes below (a
     * Unix socket's path can be long). */
    size_t room = 80 - strlen(show_role()) - 3;
    if (peer[0] && strlen(line) > room) {
        snprintf(line, sizeof line, "   fd %d  %s %-11s %s", fd, kind, state ? state : "", local);
        say("%s", line);
        snprintf(line, sizeof line, "         <-> %s", peer);
    }
    /* The queues must fit too, or go below. */
    char q[48] = "";
    if (queues)
        snprintf(q, sizeof q, "(queued: %d in, %d out)", in, out);
    if (queues && strlen(show_role()) + 3 + strlen(line) + 2 + strlen(q) <= 80) {
        say("%s  %s", line, q);
    } else {
        say("%s", line);
        if (queues)
            say("         %s", q);
    }
    quiet_end();
}

int sock_tcp_state_await(int fd, int expect, int max_ms)
{
    int st;
    quiet_begin();
    for (int i = 0; (st = sock_tcp_state(fd)) != expect && i < max_ms; i++) {
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&ms, NULL);
    }
    quiet_end();
    return st;
}

struct conn_id conn_id_of(int fd)
{
    struct conn_id id;
    memset(&id, 0, sizeof id);
    quiet_begin();
    id.local_len = sizeof id.local;
    id.peer_len = sizeof id.peer;
    id.valid = getsockname(fd, (struct sockaddr *)&id.local, &id.local_len) == 0 &&
               getpeername(fd, (struct sockaddr *)&id.peer, &id.peer_len) == 0;
    quiet_end();
    return id;
}

int show_closed(const struct conn_id *id)
{
    if (!id->valid) {
        say("   after close: the socket had no connection; it is gone (CLOSED)");
        return TCPS_CLOSED;
    }
    char local[ADDR_STRLEN], peer[ADDR_STRLEN];
    addr_format((const struct sockaddr *)&id->local, id->local_len, local, sizeof local);
    addr_format((const struct sockaddr *)&id->peer, id->peer_len, peer, sizeof peer);
    struct diag_sock ds;
    int rc = diag_query_tcp((const struct sockaddr *)&id->local, (const struct sockaddr *)&id->peer,
                            &ds);
    /* The connection on a line of its own, what the kernel says below it:
     * two lines that fit 80 columns where one would not. */
    if (rc == 0 || rc == -ENOENT)
        say("   after close: %s <-> %s", local, peer);
    if (rc == 0) {
        int st = ds.state == TCPS_NEW_SYN_RECV ? TCPS_SYN_RECEIVED : ds.state;
        say("   the kernel still holds it in %s (sock_diag, like ss)", tcp_state_name(st));
        if (st != TCPS_FIN_WAIT_1 && st != TCPS_LAST_ACK && st != TCPS_CLOSING)
            return st;
        /* These states wait for the peer to acknowledge our FIN. On
         * loopback that takes a moment, longer when the peer delays its
         * ACK (some 40 ms): look again, for at most half a second. */
        for (int i = 0; i < 250; i++) {
            struct timespec ms = {.tv_sec = 0, .tv_nsec = 2000000};
            nanosleep(&ms, NULL);
            rc = diag_query_tcp((const struct sockaddr *)&id->local,
                                (const struct sockaddr *)&id->peer, &ds);
            int now = rc == 0 ? ds.state : TCPS_CLOSED;
            if (now != st) {
                say("   a moment later, our FIN acknowledged: %s", tcp_state_name(now));
                return now;
            }
        }
        return st;
    }
    if (rc == -ENOENT) {
        say("   the kernel holds nothing of it: CLOSED (sock_diag, like ss)");
        return TCPS_CLOSED;
    }
    say("   after close: sock_diag could not be asked (%s)", strerror(-rc));
    return TCPS_NONE;
}
