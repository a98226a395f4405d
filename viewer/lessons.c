/* lessons.c: the lesson table; see lessons.h. Keep it in step with
 * DESIGN.md's lesson list and docs/. */
#include "lessons.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct lesson_entry lesson_table[] = {
    {"01-addresses", "Addresses",
     "a socket's identity: IP, port, protocol; getaddrinfo; the 4-tuple", NULL},
    {"02-call-sequence", "The call sequence",
     "socket, bind, listen, accept / connect; send, recv, close; the states", NULL},
    {"03-stream-vs-datagram", "Stream vs datagram",
     "message boundaries, short reads and framing, UDP truncation", NULL},
    {"04-raw-ping", "Raw ping", "ICMP echo on a raw socket: checksum, id/seq, TTL, RTT",
     "CAP_NET_RAW (or a user namespace)"},
    {"05-unix-permissions", "Unix socket permissions",
     "a socket as a file: path, mode, umask, EACCES, abstract names, SO_PEERCRED", NULL},
    {"06-unix-passing", "Passing descriptors",
     "socketpair, datagram and seqpacket Unix sockets, SCM_RIGHTS", NULL},
    {"07-local-speed", "Local speed", "Unix socket vs TCP loopback vs pipe, measured", NULL},
    {"08-tcp-states", "TCP states",
     "every TCP state: handshake, half-close, TIME_WAIT, CLOSE_WAIT, RST", NULL},
    {"09-many-clients", "Many clients",
     "one port, many 4-tuples: iterative, fork, poll, epoll; fd limits", NULL},
    {"10-http-over-sockets", "HTTP over sockets",
     "an API endpoint is bytes on a socket: HTTP by hand over TCP and Unix", NULL},
    {"11-websocket", "WebSocket",
     "the Upgrade handshake, the accept key, frames, masking, ping/pong, close", NULL},
};
const size_t lesson_count = sizeof lesson_table / sizeof lesson_table[0];

const struct lesson_entry *lesson_find(const char *id)
{
    if (id == NULL || *id == '\0')
        return NULL;
    char *end;
    long n = strtol(id, &end, 10);
    for (size_t i = 0; i < lesson_count; i++) {
        const struct lesson_entry *l = &lesson_table[i];
        if (strcmp(id, l->name) == 0)
            return l;
        if (end != id && *end == '\0' && n == atol(l->name))
            return l;
    }
    return NULL;
}

char *self_dir(char *buf, size_t size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    snprintf(buf, size, "%s", dirname(exe));
    return buf;
}

bool lesson_path(const struct lesson_entry *l, char *buf, size_t size)
{
    char dir[4096];
    if (self_dir(dir, sizeof dir) == NULL)
        return false;
    snprintf(buf, size, "%s/%s", dir, l->name);
    return access(buf, X_OK) == 0;
}
