/*
 * show.h: what a lesson prints about its sockets.
 *
 * Every line a lesson prints starts with its role in brackets, so the
 * output of a server and a client sharing one terminal reads apart:
 *
 *     [server] listening for connections
 *     [server]    fd 3  TCP LISTEN       127.0.0.1:9000
 *
 * The state shown is the kernel's own: TCP_INFO for a socket the process
 * holds, and after close(), which leaves no fd to ask, sock_diag (the
 * interface of `ss`) for the connection the fd had.
 */
#ifndef SOCKSCOPE_SHOW_H
#define SOCKSCOPE_SHOW_H

#include <stdbool.h>
#include <sys/socket.h>

/* The name this process was given with prctl(PR_SET_NAME): "server". */
const char *show_role(void);

/* Print "[role] " and the text, with a newline. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print fd's kind, TCP state, local and peer address, and queued bytes. */
void show_socket(int fd);

/* Which connection a socket is, kept so it can be found after close(). */
struct conn_id {
    struct sockaddr_storage local, peer;
    socklen_t local_len, peer_len;
    bool valid;
};

/* Note the connection of `fd` (call before close). */
struct conn_id conn_id_of(int fd);

/* The TCP state of `fd` (TCP_INFO), given at most `max_ms` to become
 * `expect`: a state that waits for the peer's acknowledgement (FIN_WAIT_1,
 * LAST_ACK...) takes a moment on its way. Asked each millisecond, out of
 * the program's trace. Returns the last state seen. */
int sock_tcp_state_await(int fd, int expect, int max_ms);

/* Print what the kernel holds of a connection after its fd was closed:
 * FIN_WAIT_2, TIME_WAIT, LAST_ACK..., or that it is gone (CLOSED). Returns
 * the state (enum tcp_state). */
int show_closed(const struct conn_id *id);

#endif
