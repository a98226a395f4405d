/*
 * explain.c: the catalog of plain explanations; see explain.h.
 *
 * The catalog is three tables of text:
 *   - calls:   each traced call, what it does, and the errnos its man pages
 *              (section 2, plus ip(7), tcp(7), udp(7) and unix(7) for the
 *              network errors) say it can fail with;
 *   - rows:    why a call failed with an errno, and what to do about it;
 *   - general: the same for an errno alone, when the call is not known or
 *              the errno is not one of the call's documented ones.
 * A row names the calls it holds for, separated by spaces, because many
 * calls fail for the same reason (EBADF means the same for bind and for
 * listen). Lookup takes the first row that names the call, so rows written
 * for one call come before the rows it shares with others.
 *
 * explain_fill() puts "the socket", "the address" or "the port" where a
 * value is unknown, with a capital letter when it opens a sentence, so
 * "{fd} is not open." reads "The socket is not open." Nothing here
 * allocates: every string is static, and explain_fill() writes only into
 * the caller's buffer.
 */
#include "explain.h"

#include <sys/socket.h>

#include "errnames.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * The calls.
 */

struct call_entry {
    const char *name;
    const char *what;
    const int *errnos; /* zero-terminated; EWOULDBLOCK is EAGAIN on Linux */
};

static const int socket_errnos[] = {
    EACCES,  EAFNOSUPPORT, EINVAL,          EMFILE,          ENFILE,
    ENOBUFS, ENOMEM,       EPROTONOSUPPORT, ESOCKTNOSUPPORT, 0,
};
static const int socketpair_errnos[] = {
    EAFNOSUPPORT, EFAULT, EMFILE, ENFILE, EOPNOTSUPP, EPROTONOSUPPORT, 0,
};
static const int bind_errnos[] = {
    EACCES,        EADDRINUSE,   EBADF,   EINVAL, ENOTSOCK,
    EADDRNOTAVAIL, EAFNOSUPPORT, EFAULT,  ELOOP,  ENAMETOOLONG,
    ENOENT,        ENOMEM,       ENOTDIR, EROFS,  0,
};
static const int listen_errnos[] = {EADDRINUSE, EBADF, EINVAL, ENOTSOCK, EOPNOTSUPP, 0};
static const int accept_errnos[] = {
    EAGAIN,  EBADF,  ECONNABORTED, EFAULT,     EINTR, EINVAL, EMFILE, ENFILE,
    ENOBUFS, ENOMEM, ENOTSOCK,     EOPNOTSUPP, EPERM, EPROTO, 0,
};
static const int connect_errnos[] = {
    EACCES,      EPERM,        EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN,    EALREADY,
    EBADF,       ECONNREFUSED, EFAULT,     EINPROGRESS,   EINTR,        EINVAL,    EISCONN,
    ENETUNREACH, EHOSTUNREACH, ENOENT,     ENOTSOCK,      EPROTOTYPE,   ETIMEDOUT, 0,
};
static const int send_errnos[] = {
    EACCES,       EAGAIN,      EALREADY,     EBADF,    ECONNRESET, ECONNREFUSED,
    EDESTADDRREQ, EFAULT,      EINTR,        EINVAL,   EISCONN,    EMSGSIZE,
    ENOBUFS,      ENOMEM,      ENOTCONN,     ENOTSOCK, EOPNOTSUPP, EPIPE,
    ETIMEDOUT,    ENETUNREACH, EHOSTUNREACH, 0,
};
static const int recv_errnos[] = {
    EAGAIN, EBADF,  ECONNREFUSED, ECONNRESET, EFAULT,    EINTR,
    EINVAL, ENOMEM, ENOTCONN,     ENOTSOCK,   ETIMEDOUT, 0,
};
static const int read_errnos[] = {
    EAGAIN, EBADF, EFAULT, EINTR, EINVAL, EIO, EISDIR, ECONNRESET, ENOTCONN, ETIMEDOUT, 0,
};
static const int write_errnos[] = {
    EAGAIN, EBADF, EDESTADDRREQ, EDQUOT, EFAULT, EFBIG,      EINTR,
    EINVAL, EIO,   ENOSPC,       EPERM,  EPIPE,  ECONNRESET, 0,
};
static const int shutdown_errnos[] = {EBADF, EINVAL, ENOTCONN, ENOTSOCK, 0};
static const int close_errnos[] = {EBADF, EINTR, EIO, ENOSPC, EDQUOT, 0};
static const int sockopt_errnos[] = {EBADF, EFAULT, EINVAL, ENOPROTOOPT, ENOTSOCK, 0};
static const int poll_errnos[] = {EFAULT, EINTR, EINVAL, ENOMEM, 0};
static const int select_errnos[] = {EBADF, EINTR, EINVAL, ENOMEM, 0};
static const int epoll_wait_errnos[] = {EBADF, EFAULT, EINTR, EINVAL, 0};
static const int getsockname_errnos[] = {EBADF, EFAULT, EINVAL, ENOBUFS, ENOTSOCK, 0};
static const int getpeername_errnos[] = {EBADF, EFAULT, EINVAL, ENOBUFS, ENOTCONN, ENOTSOCK, 0};
static const int epoll_ctl_errnos[] = {
    EBADF, EEXIST, EINVAL, ELOOP, ENOENT, ENOMEM, ENOSPC, EPERM, 0,
};
static const int epoll_create1_errnos[] = {EINVAL, EMFILE, ENFILE, ENOMEM, 0};
static const int fork_errnos[] = {EAGAIN, ENOMEM, ENOSYS, 0};

static const struct call_entry calls[] = {
    {"socket",
     "Create a socket, an endpoint for talking over a network, and return a file descriptor for "
     "it.",
     socket_errnos},
    {"socketpair",
     "Create two sockets already connected to each other, handy for a parent and a child process "
     "to talk.",
     socketpair_errnos},
    {"bind", "Give the socket its local address: the IP and port that peers will use to reach it.",
     bind_errnos},
    {"listen",
     "Turn the socket into a server socket that waits for connections, and set how many may "
     "queue up.",
     listen_errnos},
    {"accept",
     "Take the next waiting connection off a listening socket and return a new socket for "
     "talking to that client.",
     accept_errnos},
    {"accept4",
     "Like accept, and also set flags such as SOCK_NONBLOCK or SOCK_CLOEXEC on the new socket "
     "in the same step.",
     accept_errnos},
    {"connect",
     "Reach out to a peer at the given address: TCP runs its three-way handshake, UDP just "
     "remembers the peer.",
     connect_errnos},
    {"send",
     "Hand bytes to the kernel to send on a connected socket; it may take fewer bytes than "
     "asked.",
     send_errnos},
    {"sendto", "Send bytes to the given address, typically as one UDP datagram.", send_errnos},
    {"sendmsg",
     "Send data gathered from several buffers, with an optional address and control data such "
     "as file descriptors.",
     send_errnos},
    {"recv",
     "Take bytes that have arrived on the socket, waiting if none are there yet; 0 means the "
     "peer closed.",
     recv_errnos},
    {"recvfrom",
     "Receive bytes like recv, and also learn the address they came from (typical for UDP).",
     recv_errnos},
    {"recvmsg",
     "Receive data into several buffers, with the sender's address and control data such as "
     "passed descriptors.",
     recv_errnos},
    {"read", "Read bytes from a file descriptor; on a socket it works like recv with no flags.",
     read_errnos},
    {"write", "Write bytes to a file descriptor; on a socket it works like send with no flags.",
     write_errnos},
    {"shutdown",
     "Close one or both directions of a connection (SHUT_WR sends FIN) while the socket stays "
     "open.",
     shutdown_errnos},
    {"close",
     "Release the file descriptor; when it was the socket's last one, the connection is closed "
     "too.",
     close_errnos},
    {"setsockopt", "Change a socket option, such as SO_REUSEADDR or TCP_NODELAY.", sockopt_errnos},
    {"getsockopt", "Read the current value of a socket option, such as SO_ERROR or SO_RCVBUF.",
     sockopt_errnos},
    {"poll",
     "Wait until one of several descriptors is ready to read or write, or a timeout passes.",
     poll_errnos},
    {"select",
     "Wait until one of the descriptors in the given bit sets is ready to read or write, or a "
     "timeout passes.",
     select_errnos},
    {"epoll_wait",
     "Wait for events on the descriptors an epoll instance watches, and return the ready ones.",
     epoll_wait_errnos},
    {"getsockname",
     "Ask which local address and port the socket is bound to, e.g. the port chosen for port 0.",
     getsockname_errnos},
    {"getpeername", "Ask for the address and port of the peer the socket is connected to.",
     getpeername_errnos},
    {"epoll_ctl", "Add, change or remove a descriptor in the set an epoll instance watches.",
     epoll_ctl_errnos},
    {"epoll_create1",
     "Create an epoll instance, a kernel object that watches many descriptors, and return its "
     "descriptor.",
     epoll_create1_errnos},
    {"fork",
     "Create a child process as a copy of this one; both go on from here, sharing the open "
     "sockets.",
     fork_errnos},
};

#define NCALLS (sizeof calls / sizeof calls[0])

/* The same names, in the same order, in the shape explain_calls() promises. */
static const char *const call_names[] = {
    "socket",     "socketpair",  "bind",        "listen",     "accept",        "accept4", "connect",
    "send",       "sendto",      "sendmsg",     "recv",       "recvfrom",      "recvmsg", "read",
    "write",      "shutdown",    "close",       "setsockopt", "getsockopt",    "poll",    "select",
    "epoll_wait", "getsockname", "getpeername", "epoll_ctl",  "epoll_create1", "fork",    NULL,
};

_Static_assert(sizeof call_names / sizeof call_names[0] == NCALLS + 1,
               "call_names must list every call in calls[]");

/* ------------------------------------------------------------------------
 * Why a call failed. Rows for one call first, shared rows after them.
 */

struct row {
    const char *calls; /* the calls this row holds for, separated by spaces */
    int err;
    const char *why;
    const char *hint;
};

/* Calls whose first argument is a socket descriptor. */
#define SOCKET_FD_CALLS                                                                            \
    "bind listen accept accept4 connect send sendto sendmsg recv recvfrom recvmsg shutdown "       \
    "setsockopt getsockopt getsockname getpeername"

static const struct row rows[] = {
    /* socket */
    {"socket", EACCES,
     "This process may not create this kind of socket: raw sockets (SOCK_RAW) and some "
     "protocols need root or CAP_NET_RAW.",
     "Run it with sudo or grant CAP_NET_RAW, or use SOCK_STREAM or SOCK_DGRAM, which need no "
     "privilege."},
    {"socket", EAFNOSUPPORT,
     "This kernel does not offer the address family asked for (the first argument), e.g. "
     "AF_INET6 with IPv6 turned off.",
     "Use AF_INET, AF_INET6 or AF_UNIX, or take ai_family from a getaddrinfo result."},
    {"socket", EINVAL,
     "The protocol is unknown, or the type holds flags other than SOCK_NONBLOCK and "
     "SOCK_CLOEXEC.",
     "Pass 0 as the protocol to get the default one, and add only SOCK_NONBLOCK or SOCK_CLOEXEC "
     "to the type."},
    {"socket", EPROTONOSUPPORT,
     "The protocol does not exist in this family or does not fit the type, e.g. IPPROTO_UDP "
     "with SOCK_STREAM.",
     "Pass 0 as the protocol and the kernel picks the right one for the type."},
    {"socket", ESOCKTNOSUPPORT,
     "This family does not offer the socket type asked for, e.g. SOCK_SEQPACKET in AF_INET "
     "without SCTP.",
     "Use SOCK_STREAM for TCP or SOCK_DGRAM for UDP."},

    /* socketpair */
    {"socketpair", EAFNOSUPPORT,
     "The address family is not known to this kernel; on Linux, socket pairs exist only in "
     "AF_UNIX.",
     "Call socketpair(AF_UNIX, SOCK_STREAM, 0, sv) with int sv[2]."},
    {"socketpair", EFAULT,
     "The array for the two descriptors (sv) points to memory the program does not own.",
     "Pass an array of two ints: int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv)."},
    {"socketpair", EOPNOTSUPP,
     "This family or protocol cannot make socket pairs: on Linux only AF_UNIX can, AF_INET "
     "cannot.",
     "Call socketpair(AF_UNIX, SOCK_STREAM, 0, sv); for TCP, connect two sockets yourself."},
    {"socketpair", EPROTONOSUPPORT, "The protocol is not one AF_UNIX supports; it takes only 0.",
     "Pass 0 as the protocol."},

    /* bind */
    /* For an AF_UNIX path, EACCES and EADDRINUSE have words of their own
     * (unix_rows below): these speak of ports. */
    {"bind", EACCES,
     "Ports below 1024 are reserved: only root, or a program given CAP_NET_BIND_SERVICE, may "
     "bind {addr}.",
     "Use a port of 1024 or above (e.g. --port 8080)."},
    {"bind", EADDRINUSE,
     "The port in {addr} is taken by another socket on this machine, or by a connection still "
     "in TIME_WAIT.",
     "Pick another with --port, or wait for TIME_WAIT to end (about a minute); a server sets "
     "SO_REUSEADDR before bind."},
    {"bind", EINVAL,
     "The socket is already bound, or the address length does not fit the address family.",
     "Call bind() once per socket, before listen(), and pass the length of the address you "
     "filled."},
    {"bind", EADDRNOTAVAIL,
     "{addr} does not belong to any interface of this machine, so the socket cannot be bound "
     "to it.",
     "Bind an address this machine has (see ip addr), or 0.0.0.0 or :: for every interface."},
    {"bind", EAFNOSUPPORT,
     "The address's family (sa_family) is not the socket's family, e.g. an IPv6 address for an "
     "AF_INET socket.",
     "Fill the address in the socket's family, e.g. from the getaddrinfo result you made the "
     "socket with."},
    {"bind", ELOOP,
     "The AF_UNIX socket path runs through too many symbolic links, perhaps one that points to "
     "itself.",
     "Use a plain path without symbolic links, e.g. in /tmp or your own directory."},
    {"bind", ENAMETOOLONG,
     "The AF_UNIX socket path is too long: sun_path holds at most 107 characters and the final "
     "NUL.",
     "Use a shorter path, e.g. in /tmp, or chdir() to the directory and bind a short relative "
     "name."},
    {"bind", ENOENT,
     "A directory in the AF_UNIX socket path does not exist, so the socket file cannot be "
     "created there.",
     "Create the directory first (mkdir -p), or choose a path in a directory that exists, such "
     "as /tmp."},
    {"bind", ENOTDIR,
     "A part of the AF_UNIX socket path that should be a directory is a regular file.",
     "Check the path: everything before the last name must be a directory."},
    {"bind", EROFS, "The AF_UNIX socket file would be created on a read-only filesystem.",
     "Put the socket in a writable directory, such as /tmp or $XDG_RUNTIME_DIR."},

    /* listen */
    {"listen", EADDRINUSE,
     "Another socket already listens on this port (both were bound with SO_REUSEADDR), or no "
     "ephemeral port was left for an unbound socket.",
     "Stop the other server or pick another port with --port, and bind() before listen()."},
    {"listen", EINVAL,
     "The socket is already connected, so it cannot become a socket that waits for "
     "connections.",
     "Use a fresh socket for a server: socket(), bind(), listen(), and never connect() it."},
    {"listen", EOPNOTSUPP,
     "This kind of socket cannot listen: only stream sockets such as TCP take connections, UDP "
     "does not.",
     "Create a server socket with SOCK_STREAM; a UDP server skips listen() and calls recvfrom()."},

    /* accept, accept4 */
    {"accept accept4", EAGAIN, "The socket is nonblocking and no connection is waiting yet.",
     "Not an error: wait with poll() or epoll for {fd} to become readable, then accept() again."},
    {"accept accept4", ECONNABORTED,
     "A client connected and then gave up (reset) before accept() took the connection off the "
     "queue.",
     "Nothing to fix: a server ignores this error and calls accept() again."},
    {"accept4", EINVAL,
     "The socket is not listening (listen() was not called on it), or the flags hold something "
     "other than SOCK_NONBLOCK and SOCK_CLOEXEC.",
     "Call listen() after bind() and before accept4(), and pass only SOCK_NONBLOCK or "
     "SOCK_CLOEXEC."},
    {"accept", EINVAL,
     "The socket is not listening: listen() was not called on it (or addrlen is invalid).",
     "Call listen() after bind() and before accept(), and set addrlen to the size of the "
     "address buffer."},
    {"accept accept4", ENOBUFS,
     "Not enough memory for the new connection, usually because socket buffer limits are "
     "reached rather than RAM.",
     "Close idle connections and try again; look for connections that are never closed."},
    {"accept accept4", ENOMEM,
     "Not enough memory for the new connection, usually because socket buffer limits are "
     "reached rather than RAM.",
     "Close idle connections and try again; look for connections that are never closed."},
    {"accept accept4", EOPNOTSUPP,
     "The socket is not a stream socket: a UDP socket has no connections to accept.",
     "Use SOCK_STREAM for a server that accepts; with UDP, read datagrams with recvfrom()."},
    {"accept accept4", EPERM, "A firewall rule forbids this connection.",
     "Check the firewall rules for the port (nft list ruleset, or iptables -L)."},
    {"accept accept4", EPROTO,
     "A protocol error happened on the new connection before it could be accepted.",
     "Treat it like ECONNABORTED: skip this connection and call accept() again."},

    /* connect */
    {"connect", EACCES,
     "For AF_UNIX you may not write the socket file or enter a directory on its path; "
     "otherwise a broadcast target or a firewall rule blocks it.",
     "Check the permissions of the AF_UNIX path; for broadcast, set SO_BROADCAST first."},
    {"connect", EPERM,
     "A local firewall rule blocks this connection, or the target is a broadcast address and "
     "SO_BROADCAST is not set.",
     "Check the firewall rules (nft list ruleset), or set SO_BROADCAST to reach a broadcast "
     "address."},
    {"connect", EADDRINUSE,
     "The local address for this connection is taken: the socket was bound to a port that "
     "another connection to the same peer already uses.",
     "Do not bind() a client socket: connect() picks a free local port by itself."},
    {"connect", EADDRNOTAVAIL,
     "No local port is free for this connection: the ephemeral port range is used up, often by "
     "connections in TIME_WAIT.",
     "Reuse connections rather than open one per request, or wait for TIME_WAIT to end (ss -tan "
     "state time-wait)."},
    {"connect", EAFNOSUPPORT,
     "The address's family (sa_family) does not match the socket, e.g. an IPv6 address for an "
     "AF_INET socket.",
     "Create the socket with ai_family from the same getaddrinfo result you connect to."},
    {"connect", EAGAIN,
     "The AF_UNIX socket is nonblocking and the server's queue of waiting connections is full.",
     "Wait a little and try again; the server should accept() faster or use a larger backlog."},
    {"connect", EALREADY,
     "The socket is nonblocking and its earlier connect() is still in progress.",
     "Do not call connect() again: poll() for {fd} to become writable, then read SO_ERROR."},
    {"connect", ECONNREFUSED,
     "Nothing is listening at {addr}: the machine answered, but no socket there accepts "
     "connections on that port.",
     "Start the server first, and check that it listens on the same address and port (ss "
     "-ltn)."},
    {"connect", EINPROGRESS,
     "The socket is nonblocking, so connect() returned at once while the handshake goes on in "
     "the background.",
     "Not an error: poll() for {fd} to become writable, then read SO_ERROR with getsockopt()."},
    {"connect", EINTR,
     "A signal arrived while connect() was waiting; the connection attempt goes on in the "
     "background.",
     "Do not call connect() again: poll() for {fd} to become writable, then read SO_ERROR."},
    {"connect", EINVAL,
     "The address length does not match the address family, or the address is not valid for "
     "this socket.",
     "Pass the length that goes with the address, e.g. ai_addrlen from getaddrinfo."},
    {"connect", EISCONN, "The socket is already connected; a TCP socket connects only once.",
     "Use a new socket for each new connection."},
    {"connect", ENETUNREACH,
     "This machine has no route to the network of {addr}: no interface or gateway leads there.",
     "Check the address and the routes (ip route); try the next getaddrinfo result, e.g. IPv4 "
     "not IPv6."},
    {"connect", EHOSTUNREACH,
     "{addr} cannot be reached: a router reported the host unreachable, or it did not answer on "
     "the local network.",
     "Check that the host is up and the address is right; a firewall that rejects can also "
     "cause this."},
    {"connect", ENOENT,
     "The AF_UNIX socket path does not exist: the server has not created it yet, or it uses "
     "another path.",
     "Start the server first, and use exactly the path it bound (check with ls -l)."},
    {"connect", EPROTOTYPE,
     "The socket types do not match, e.g. an AF_UNIX datagram socket connecting to a stream "
     "socket.",
     "Create the client with the same type as the server, SOCK_STREAM or SOCK_DGRAM."},
    {"connect", ETIMEDOUT,
     "No answer came from {addr}: the handshake was retried until it timed out; the host may be "
     "down or a firewall drops the packets.",
     "Check the address, that the host is up, and that no firewall drops the port."},

    /* send, sendto, sendmsg, write */
    {"write", EBADF, "{fd} is not an open file descriptor, or it is not open for writing.",
     "Write to the descriptor that socket(), accept() or open() returned, before it is closed."},
    {"write", EINVAL,
     "The descriptor is attached to something that cannot be written this way, e.g. a file opened "
     "with "
     "O_DIRECT and an unaligned buffer.",
     "Check that the descriptor is the one you meant to write to."},
    {"write", EDQUOT, "Your disk quota on the filesystem of the file is used up.",
     "Free some of your files or ask for a larger quota."},
    {"write", EFBIG, "The file would grow past the largest size allowed for it.",
     "Write less, or check the file size limit with ulimit -f."},
    {"write", EIO, "A low-level I/O error happened while writing to the file or device.",
     "Check the disk or device (dmesg); data written earlier may be lost."},
    {"write", ENOSPC, "The device that holds the file has no room left for the data.",
     "Free disk space (df -h shows where) and write again."},
    {"write", EPIPE,
     "The other end is closed: the peer closed the connection (or a pipe's reader exited), or "
     "this side called shutdown().",
     "Stop writing and close {fd}; ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) so this is an error "
     "return, not a crash."},
    {"write", EPERM, "A seal on the file (see fcntl F_ADD_SEALS) forbids writing to it.",
     "Write to another file; a sealed file stays read-only."},
    {"send sendto sendmsg", EACCES,
     "Sending to a broadcast address needs SO_BROADCAST, or for AF_UNIX you may not write the "
     "destination socket file.",
     "Set SO_BROADCAST with setsockopt() before sending to a broadcast address."},
    {"send sendto sendmsg write", EAGAIN,
     "The socket is nonblocking and its send buffer is full: the peer is not reading as fast as "
     "you send.",
     "Not an error: wait with poll() for {fd} to become writable, then send the rest."},
    {"send sendto sendmsg", EALREADY,
     "A TCP Fast Open connection started by an earlier send is still in progress.",
     "Wait with poll() for {fd} to become writable before you send more."},
    {"send sendto sendmsg write", ECONNRESET,
     "The peer reset the connection: it closed with data unread, or crashed, so the connection "
     "is gone.",
     "Close {fd}, and connect again if you need to; data sent last may never have arrived."},
    {"send sendto sendmsg", ECONNREFUSED,
     "An earlier datagram from this socket reached a host where nothing listens on that port; "
     "its ICMP reply is reported now.",
     "Start the receiver first; on UDP this reports a past datagram, so the next send may work."},
    {"send sendto sendmsg write", EDESTADDRREQ,
     "The socket has no destination: it is not connected, and no address was given.",
     "Call connect() first, or use sendto() with the destination address."},
    {"send sendto sendmsg write", EINTR,
     "A signal arrived while the call waited for room in the send buffer, before any data was "
     "sent.",
     "Send again, or install signal handlers with SA_RESTART so the kernel restarts the call."},
    {"send sendto sendmsg", EINVAL,
     "An argument is invalid, e.g. an unknown flag or an address length that does not fit the "
     "family.",
     "Check the flags (usually 0 or MSG_NOSIGNAL) and pass the length that goes with the "
     "address."},
    {"send sendto sendmsg", EISCONN,
     "The socket is connected, yet a destination address was given as well.",
     "On a connected socket call send() without an address, or leave it unconnected for "
     "sendto()."},
    {"send sendto sendmsg", EMSGSIZE,
     "The datagram is too big to send in one piece: over the socket's limit (about 64 KiB for "
     "UDP) or over the path MTU.",
     "Send smaller datagrams (under about 1400 bytes is safe on most networks), or use TCP."},
    {"send sendto sendmsg", ENOBUFS,
     "The network interface's output queue is full, or the kernel is short of buffer memory.",
     "Wait a moment and send again; slow down when you send a burst of datagrams."},
    {"send sendto sendmsg", ENOTCONN,
     "The socket is not connected and no destination was given, e.g. an AF_UNIX stream socket "
     "before connect().",
     "Connect the socket first, or give the destination with sendto()."},
    {"send sendto sendmsg", EOPNOTSUPP,
     "A flag is not supported for this socket type, e.g. MSG_OOB on a UDP or AF_UNIX socket.",
     "Remove the flag; most programs pass 0 or MSG_NOSIGNAL."},
    {"send sendto sendmsg write", EPIPE,
     "The connection is closed for sending: the peer closed it, this side called shutdown(), or "
     "a TCP socket was never connected.",
     "Stop sending and close {fd}; pass MSG_NOSIGNAL (or ignore SIGPIPE) so this is an error "
     "return, not a crash."},
    {"send sendto sendmsg", ETIMEDOUT,
     "The peer stopped acknowledging data: TCP sent it again and again until it gave up, so the "
     "connection is dead.",
     "Close {fd} and connect again if needed; the peer or the network between you went away."},
    {"send sendto sendmsg", ENETUNREACH,
     "This machine has no route to the destination network: no interface or gateway leads "
     "there.",
     "Check the destination address and the routes (ip route)."},
    {"send sendto sendmsg", EHOSTUNREACH,
     "The destination host cannot be reached: a router reported it unreachable, or it did not "
     "answer on the local network.",
     "Check that the host is up and the destination address is right."},

    /* recv, recvfrom, recvmsg, read */
    {"read", EBADF, "{fd} is not an open file descriptor, or it is not open for reading.",
     "Read from the descriptor that socket(), accept() or open() returned, before it is closed."},
    {"read", EINVAL,
     "The descriptor is attached to something that cannot be read this way, e.g. a file opened "
     "with "
     "O_DIRECT and an unaligned buffer.",
     "Check that the descriptor is the one you meant to read from."},
    {"read", EIO,
     "A low-level I/O error happened, or a background process tried to read from its terminal.",
     "Check the device (dmesg); a program run in the background should not read the terminal."},
    {"read", EISDIR, "The descriptor refers to a directory, which read() cannot read.",
     "Use opendir() and readdir() for a directory, or open the file you meant."},
    {"recv recvfrom recvmsg read", EAGAIN,
     "Nothing has arrived yet, and {fd} is nonblocking (or its receive timeout, SO_RCVTIMEO, "
     "expired).",
     "Not an error: wait with poll() for {fd} to become readable, then receive again."},
    {"recv recvfrom recvmsg", ECONNREFUSED,
     "An earlier datagram reached a host where nothing listens on that port; its ICMP port "
     "unreachable reply arrives now as this error.",
     "Start the receiver first; on UDP this reports a past datagram, so you may send and "
     "receive again."},
    {"recv recvfrom recvmsg read", ECONNRESET,
     "The peer reset the connection (it closed with data unread, crashed, or aborted), so no "
     "more data will come.",
     "Close {fd} as at end of stream; what the peer sent last may have been lost."},
    {"recv recvfrom recvmsg read", EINTR,
     "A signal arrived while the call waited for data, before any arrived.",
     "Receive again, or install signal handlers with SA_RESTART so the kernel restarts the "
     "call."},
    {"recv recvfrom recvmsg", EINVAL,
     "An argument is invalid, e.g. an unknown flag, or MSG_OOB when no urgent data is waiting.",
     "Check the flags (usually 0) and pass the buffer's real size as the length."},
    {"recv recvfrom recvmsg", ENOMEM, "The kernel could not allocate memory to receive the data.",
     "Try again in a moment; close sockets you no longer need."},
    {"recv recvfrom recvmsg read", ENOTCONN,
     "The stream socket is not connected: neither connect() nor accept() has given it a peer.",
     "Receive on the socket accept() returned, not on the listening one, or connect() first."},
    {"recv recvfrom recvmsg read", ETIMEDOUT,
     "The connection died: the peer stopped acknowledging data, or keepalive probes got no "
     "answer.",
     "Close {fd} and connect again if needed; the peer or the network between you went away."},

    /* shutdown */
    {"shutdown", EINVAL, "The how argument is not SHUT_RD, SHUT_WR or SHUT_RDWR.",
     "Pass SHUT_WR to stop sending (the peer then reads end of stream), or SHUT_RDWR for both."},
    {"shutdown", ENOTCONN, "The socket is not connected, so it has no connection to shut down.",
     "Call shutdown() only on a connected socket; to get rid of any socket, use close()."},

    /* close */
    {"close", EBADF,
     "{fd} is not an open file descriptor: it was never opened or is already closed (closing "
     "twice is a common bug).",
     "Close each descriptor once; set the variable to -1 after close() to catch a second close."},
    {"close", EINTR, "A signal arrived during close(); on Linux the descriptor is released anyway.",
     "Do not call close() again: the number may already belong to another file."},
    {"close", EIO,
     "An I/O error was reported while releasing the descriptor; data written earlier may not "
     "have reached its destination.",
     "Treat the last writes as possibly lost, and do not retry close()."},
    {"close", ENOSPC,
     "A delayed write on a network filesystem (NFS) failed because the disk is full.",
     "Free disk space; data written before close() may be lost."},
    {"close", EDQUOT,
     "A delayed write on a network filesystem (NFS) failed because your disk quota is used up.",
     "Free some of your files or ask for a larger quota; data written before may be lost."},

    /* setsockopt, getsockopt */
    {"setsockopt getsockopt", EFAULT,
     "The option value pointer (optval) or its length points to memory the program does not "
     "own.",
     "Pass the address of a real variable and its size, e.g. &on and sizeof on."},
    {"getsockopt", EINVAL,
     "The optlen argument is invalid, e.g. negative or not set before the call.",
     "Set the length to the variable's size before the call: socklen_t len = sizeof val."},
    {"setsockopt", EINVAL,
     "The option length does not match the option (most take an int), or the value is out of "
     "range.",
     "Pass an int variable and its size: int on = 1; then &on and sizeof on."},
    {"setsockopt getsockopt", ENOPROTOOPT,
     "The option is not known at the level given, e.g. a TCP option with SOL_SOCKET, or "
     "TCP_NODELAY on a UDP socket.",
     "Match option and level: SO_* with SOL_SOCKET, TCP_* with IPPROTO_TCP, IP_* with "
     "IPPROTO_IP."},

    /* poll, select, epoll_wait */
    {"poll", EFAULT,
     "The array of pollfd structs points to memory the program does not own, or nfds is larger "
     "than the array.",
     "Pass the array and the number of entries in it: poll(fds, count, timeout)."},
    {"poll", EINTR, "A signal arrived before any descriptor became ready or the timeout passed.",
     "Call poll() again; this is normal when signal handlers are installed."},
    {"poll", EINVAL, "nfds is larger than the process's limit on open files (RLIMIT_NOFILE).",
     "Pass the number of entries in the array, not a descriptor number."},
    {"select", EBADF,
     "One of the sets holds a descriptor that is not open, perhaps one already closed.",
     "FD_CLR a descriptor when you close it, and rebuild the sets before every select()."},
    {"select", EINTR, "A signal arrived before any descriptor became ready or the timeout passed.",
     "Rebuild the sets and call select() again; this is normal when signal handlers are "
     "installed."},
    {"select", EINVAL,
     "nfds is negative or above the open file limit, or the timeout holds a negative value.",
     "Pass the highest descriptor plus one as nfds, and a timeout of zero or more."},
    {"epoll_wait", EBADF, "The epoll descriptor is not open, so there is no epoll set to wait on.",
     "Pass the descriptor epoll_create1() returned, and keep it open while you wait on it."},
    {"epoll_wait", EFAULT,
     "The events array points to memory the program does not own or cannot write.",
     "Pass a real array and its length: struct epoll_event ev[16]; epoll_wait(ep, ev, 16, t)."},
    {"epoll_wait", EINTR, "A signal arrived before any event came or the timeout passed.",
     "Call epoll_wait() again; signal handlers never restart it, even with SA_RESTART."},
    {"epoll_wait", EINVAL,
     "The descriptor passed is not an epoll instance, or maxevents is zero or negative.",
     "Pass the descriptor from epoll_create1() and the length of the events array (at least 1)."},
    {"poll select", ENOMEM,
     "The kernel could not allocate memory for its copy of the descriptors to watch.",
     "Free resources and try again, or watch fewer descriptors at a time."},

    /* getsockname, getpeername */
    {"getsockname getpeername", EINVAL,
     "addrlen is invalid, e.g. negative or not set before the call.",
     "Set the length to the buffer's size first: socklen_t len = sizeof addr."},
    {"getsockname getpeername", ENOBUFS, "The kernel lacked the resources to complete the call.",
     "Try again in a moment; close sockets you no longer need."},
    {"getpeername", ENOTCONN,
     "The socket has no peer: it is not connected, or it is the listening socket.",
     "Ask on a connected socket, e.g. the one accept() returned; a UDP socket needs connect() "
     "first."},

    /* epoll_ctl */
    {"epoll_ctl", EBADF,
     "The epoll descriptor or the descriptor to watch is not open, perhaps already closed.",
     "Add a descriptor right after you create it, and remove it (EPOLL_CTL_DEL) before "
     "close()."},
    {"epoll_ctl", EEXIST,
     "The descriptor is already in this epoll set, and EPOLL_CTL_ADD adds it only once.",
     "Use EPOLL_CTL_MOD to change the events of a descriptor that is already added."},
    {"epoll_ctl", EINVAL,
     "The first argument is not an epoll instance, a set was added to itself, or the op or "
     "EPOLLEXCLUSIVE is used wrongly.",
     "Pass the descriptor from epoll_create1() first, and EPOLL_CTL_ADD, EPOLL_CTL_MOD or "
     "EPOLL_CTL_DEL."},
    {"epoll_ctl", ELOOP,
     "Adding this epoll instance to another would make epoll sets watch each other in a loop, "
     "or nest too deep.",
     "Do not add epoll instances to each other; one epoll set per event loop is enough."},
    {"epoll_ctl", ENOENT,
     "The descriptor is not in this epoll set, so it cannot be changed or removed.",
     "Add it with EPOLL_CTL_ADD first; closing a descriptor usually removes it from the set by "
     "itself."},
    {"epoll_ctl", ENOMEM, "The kernel could not allocate memory to watch one more descriptor.",
     "Free resources and try again, or watch fewer descriptors."},
    {"epoll_ctl", ENOSPC,
     "The per-user limit on watched descriptors (/proc/sys/fs/epoll/max_user_watches) is "
     "reached.",
     "Remove descriptors you no longer watch, or raise fs.epoll.max_user_watches with sysctl."},
    {"epoll_ctl", EPERM,
     "This descriptor cannot be watched by epoll: a regular file or a directory is always "
     "ready, so epoll refuses it.",
     "Watch only sockets, pipes, terminals and the like; read regular files directly."},

    /* epoll_create1 */
    {"epoll_create1", EINVAL, "The flags argument holds something other than EPOLL_CLOEXEC.",
     "Pass 0 or EPOLL_CLOEXEC."},
    {"epoll_create1", EMFILE,
     "This process reached its limit of open descriptors, or the per-user limit on epoll "
     "instances was reached.",
     "Close descriptors you no longer need; one epoll instance per event loop is enough."},
    {"epoll_create1", ENOMEM, "The kernel could not allocate memory for the epoll instance.",
     "Free resources and try again."},

    /* fork */
    {"fork", EAGAIN,
     "A limit on processes was reached (per user, system-wide or in a cgroup), often by a "
     "server that never reaps its finished children.",
     "Reap finished children with waitpid() (e.g. in a SIGCHLD handler) and cap how many run at "
     "once."},
    {"fork", ENOMEM, "The kernel could not allocate memory for the new process.",
     "Free memory or run fewer processes; reap finished children with waitpid()."},
    {"fork", ENOSYS, "This platform cannot fork, e.g. hardware without a memory management unit.",
     "Use posix_spawn() or threads instead."},

    /* Shared by many calls. */
    {SOCKET_FD_CALLS, EBADF,
     "{fd} is not an open file descriptor: it was never opened, or it was already closed.",
     "Use the descriptor that socket() or accept() returned, and do not use it after close()."},
    {SOCKET_FD_CALLS, ENOTSOCK,
     "The descriptor passed is open, but it refers to a file, pipe or terminal, not a socket.",
     "Pass the descriptor that socket() or accept() returned; check for swapped variables."},
    {"bind connect accept accept4 getsockname getpeername", EFAULT,
     "The address or its length points to memory the program does not own.",
     "Pass &addr and a socklen_t holding sizeof addr, not an uninitialised pointer."},
    {"send sendto sendmsg recv recvfrom recvmsg read write", EFAULT,
     "The buffer (or the address given with it) points to memory the program does not own, or "
     "the length runs past it.",
     "Pass a real buffer with its true size (sizeof buf for an array), not an uninitialised "
     "pointer."},
    {"accept accept4", EINTR,
     "A signal (e.g. SIGCHLD from a finished child) arrived while accept() waited for a "
     "connection.",
     "Call accept() again, or install signal handlers with SA_RESTART so the kernel restarts it."},
    {"socket socketpair accept accept4", EMFILE,
     "This process has reached its limit of open file descriptors (ulimit -n), usually because "
     "descriptors are never closed.",
     "Call close() on every socket when done with it (check loops and error paths), or raise "
     "the limit with ulimit -n."},
    {"socket socketpair accept accept4 epoll_create1", ENFILE,
     "The whole system has reached its limit of open files, so no process can open another one.",
     "Close descriptors you no longer need; lsof shows who holds many files."},
    {"socket bind", ENOMEM, "The kernel ran short of memory for this call.",
     "Wait a moment and try again; look for sockets that are never closed."},
    {"socket", ENOBUFS, "The kernel ran short of buffer memory for a new socket.",
     "Wait a moment and try again; look for sockets that are never closed."},
    {"send sendto sendmsg", ENOMEM, "The kernel ran short of memory to send the data.",
     "Wait a moment and try again; look for sockets that are never closed."},
};

#define NROWS (sizeof rows / sizeof rows[0])

/* ------------------------------------------------------------------------
 * Why a call failed, when the catalog knows only the errno.
 */

struct general {
    int err;
    const char *why;
    const char *hint;
};

static const struct general general[] = {
    {EACCES, "The call was refused for lack of permission.",
     "Check file permissions, or whether the call needs root (e.g. ports below 1024)."},
    {EPERM, "The operation is not permitted for this process.",
     "Check whether it needs root or a capability, or whether a firewall rule blocks it."},
    {EADDRINUSE, "{addr} is already in use by another socket on this machine.",
     "Pick another port with --port, or set SO_REUSEADDR before bind."},
    {EADDRNOTAVAIL, "{addr} is not available on this machine.",
     "Use an address this machine has (see ip addr), or 0.0.0.0 or :: for all of them."},
    {EAFNOSUPPORT, "The address family does not match the socket or is not supported.",
     "Use the family of the getaddrinfo result for both the socket and the address."},
    {EAGAIN, "The descriptor is nonblocking and the call would have to wait.",
     "Not an error: wait with poll() until {fd} is ready, then call again."},
    {EALREADY, "An earlier operation on the socket is still in progress.",
     "Wait with poll() until {fd} is ready instead of repeating the call."},
    {EBADF, "{fd} is not an open file descriptor.",
     "Use the descriptor the creating call returned, and not after close()."},
    {ECONNABORTED, "The connection was aborted before the call could use it.",
     "Skip this connection and go on; for accept(), just call it again."},
    {ECONNREFUSED, "The peer refused: nothing listens at {addr}.",
     "Start the server first, and check the address and port."},
    {ECONNRESET, "The peer reset the connection, so it no longer exists.",
     "Close {fd}, and connect again if you need to."},
    {EDESTADDRREQ, "The socket has no destination address.",
     "Call connect() first, or give the destination with sendto()."},
    {EFAULT, "A pointer passed to the call points to memory the program does not own.",
     "Pass the address of a real variable or buffer, not an uninitialised pointer."},
    {EHOSTUNREACH, "The host cannot be reached from this machine.",
     "Check that the host is up and that the address is right."},
    {EINPROGRESS, "The nonblocking operation started and goes on in the background.",
     "Not an error: wait with poll() until {fd} is ready to learn the result."},
    {EINTR, "A signal arrived while the call was waiting.",
     "Call it again, or install signal handlers with SA_RESTART."},
    {EINVAL, "An argument has a value the call does not accept.",
     "Check each argument against the call's man page (man 2 and the call's name)."},
    {EISCONN, "The socket is already connected.", "Use a new socket for a new connection."},
    {EMFILE, "This process has reached its limit of open file descriptors.",
     "Close descriptors you no longer need, or raise the limit with ulimit -n."},
    {EMSGSIZE, "The message is too big to send in one piece.",
     "Send smaller messages, or use a stream socket for large data."},
    {ENETDOWN, "The network interface to use is down.", "Bring the interface up (ip link)."},
    {ENETUNREACH, "No route leads from this machine to that network.",
     "Check the address and the routes (ip route)."},
    {ENFILE, "The whole system has reached its limit of open files.",
     "Close descriptors you no longer need."},
    {ENOBUFS, "The kernel ran short of buffer space.", "Wait a moment and try again."},
    {ENOENT, "A file or path the call needs does not exist.",
     "Check the path, and that whoever creates the file has run first."},
    {ENOMEM, "The kernel ran short of memory.", "Wait a moment and try again."},
    {ENOPROTOOPT, "The option is not known at the level given.",
     "Match option and level: SO_* with SOL_SOCKET, TCP_* with IPPROTO_TCP."},
    {ENOTCONN, "The socket is not connected.",
     "Connect it first, or use the socket accept() returned."},
    {ENOTSOCK, "The descriptor passed is not a socket.",
     "Pass the descriptor socket() or accept() returned."},
    {EOPNOTSUPP, "This kind of socket does not support the operation.",
     "Check the socket type: SOCK_STREAM and SOCK_DGRAM allow different calls."},
    {EPIPE, "The connection is closed for writing.",
     "Stop writing and close {fd}; use MSG_NOSIGNAL so this does not raise SIGPIPE."},
    {EPROTONOSUPPORT, "The protocol is not supported here.",
     "Pass 0 as the protocol to get the default."},
    {ETIMEDOUT, "The peer did not answer in time.",
     "Check that the peer is up and reachable, and that no firewall drops the packets."},
};

#define NGENERAL (sizeof general / sizeof general[0])

static const char fallback_hint[] =
    "See the ERRORS section of the call's man page (man 2 and the call's name).";

/* ------------------------------------------------------------------------
 * Lookup.
 */

static const struct call_entry *find_call(const char *call)
{
    if (call == NULL)
        return NULL;
    for (size_t i = 0; i < NCALLS; i++)
        if (strcmp(calls[i].name, call) == 0)
            return &calls[i];
    return NULL;
}

/* Does the space-separated list `names` hold the word `call`? */
static int names_call(const char *names, const char *call)
{
    size_t n = strlen(call);
    const char *p = names;
    while (*p != '\0') {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, call, n) == 0)
            return 1;
        p += len;
        p += strspn(p, " ");
    }
    return 0;
}

static int documents(const struct call_entry *c, int err)
{
    for (const int *e = c->errnos; *e != 0; e++)
        if (*e == err)
            return 1;
    return 0;
}

const char *explain_call(const char *call)
{
    const struct call_entry *c = find_call(call);
    return c != NULL ? c->what : NULL;
}

const int *explain_documented_errnos(const char *call)
{
    const struct call_entry *c = find_call(call);
    return c != NULL ? c->errnos : NULL;
}

const char *const *explain_calls(void)
{
    return call_names;
}

/* For a Unix domain socket the same errno means something else: the
 * address is a file, not a port. These come before the rows above. */
static const struct row unix_rows[] = {
    {"bind", EADDRINUSE,
     "The path {addr} already exists: a socket file left by a server that ended without "
     "removing it, or one another server is using.",
     "If nothing answers on it, the file is stale: remove it (unlink) and bind again; never "
     "remove a path you did not make."},
    {"bind", EACCES,
     "You may not create a file in the directory of {addr}: it lacks write or search "
     "permission for you.",
     "Bind a path in a directory you own, such as one made with mkdtemp."},
    {"bind", ENOENT,
     "A directory on the way to {addr} does not exist, so the socket file cannot be made.",
     "Create the directory first, or choose a path whose directory exists."},
    {"connect", ECONNREFUSED,
     "The socket file {addr} exists, but no server listens on it: its server ended without "
     "removing it.",
     "Start the server; if it is not running, the file is stale and can be removed."},
    {"connect", ENOENT,
     "There is no socket file at {addr}: the server is not running, or it uses another path.",
     "Start the server first, and check the path it binds."},
    {"connect", EACCES,
     "Its permissions keep you out: you may not write to the socket file {addr}, or may not "
     "search a directory on its path.",
     "Check the modes of the file and each directory (ls -ld); the server decides who may "
     "connect."},
    {"sendto sendmsg", ECONNREFUSED,
     "No socket is bound to the path {addr} any more: the receiver has gone.",
     "Start the receiver, or check the path you send to."},
};

int explain_family_of(const char *addr)
{
    if (addr == NULL || *addr == '\0')
        return AF_UNSPEC;
    if (*addr == '/' || *addr == '@' || *addr == '(')
        return AF_UNIX;
    return *addr == '[' ? AF_INET6 : AF_INET;
}

int explain_errno_at(const char *call, int err, int family, struct explanation *out)
{
    if (family == AF_UNIX)
        for (size_t i = 0; i < sizeof unix_rows / sizeof unix_rows[0]; i++)
            if (unix_rows[i].err == err && names_call(unix_rows[i].calls, call)) {
                if (out != NULL)
                    *out = (struct explanation){unix_rows[i].why, unix_rows[i].hint};
                return 1;
            }
    return explain_errno(call, err, out);
}

int explain_errno(const char *call, int err, struct explanation *out)
{
    struct explanation ex = {errno_meaning(err), fallback_hint};
    int specific = 0;

    const struct call_entry *c = find_call(call);
    if (c != NULL && err != 0 && documents(c, err)) {
        for (size_t i = 0; i < NROWS && !specific; i++)
            if (rows[i].err == err && names_call(rows[i].calls, c->name)) {
                ex = (struct explanation){rows[i].why, rows[i].hint};
                specific = 1;
            }
    }
    if (!specific)
        for (size_t i = 0; i < NGENERAL; i++)
            if (general[i].err == err) {
                ex = (struct explanation){general[i].why, general[i].hint};
                break;
            }

    if (out != NULL)
        *out = ex;
    return specific;
}

/* ------------------------------------------------------------------------
 * Filling in the placeholders.
 */

enum placeholder_kind { PH_PORT, PH_ADDR, PH_FD, PH_NONE };

struct placeholder {
    const char *token;
    const char *unknown; /* what the sentence says when the value is not known */
};

static const struct placeholder placeholders[] = {
    [PH_PORT] = {"{port}", "the port"},
    [PH_ADDR] = {"{addr}", "the address"},
    [PH_FD] = {"{fd}", "the socket"},
};

/* Which placeholder starts at p, if any. */
static enum placeholder_kind placeholder_at(const char *p)
{
    if (*p != '{')
        return PH_NONE;
    for (int k = 0; k < PH_NONE; k++)
        if (strncmp(p, placeholders[k].token, strlen(placeholders[k].token)) == 0)
            return (enum placeholder_kind)k;
    return PH_NONE;
}

/* Append up to n bytes of s, always keeping one byte for the NUL. */
static void append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i] != '\0' && *len + 1 < size; i++)
        buf[(*len)++] = s[i];
}

/* Does the placeholder at `at` open a sentence of `tmpl`? Then a phrase put
 * there needs a capital: "The socket is not open", not "the socket". */
static int opens_sentence(const char *tmpl, const char *at)
{
    while (at > tmpl && at[-1] == ' ')
        at--;
    return at == tmpl || at[-1] == '.' || at[-1] == '!' || at[-1] == '?';
}

/* The value of placeholder `kind` from ctx, or NULL when it is unknown. */
static const char *known_value(enum placeholder_kind kind, const struct explain_ctx *ctx, char *num,
                               size_t numsize)
{
    if (ctx == NULL)
        return NULL;
    switch (kind) {
    case PH_PORT:
        if (ctx->port < 0)
            return NULL;
        snprintf(num, numsize, "%d", ctx->port);
        return num;
    case PH_ADDR: return (ctx->addr != NULL && ctx->addr[0] != '\0') ? ctx->addr : NULL;
    case PH_FD:
        if (ctx->fd < 0)
            return NULL;
        snprintf(num, numsize, "%d", ctx->fd);
        return num;
    default: return NULL;
    }
}

char *explain_fill(const char *tmpl, const struct explain_ctx *ctx, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    if (tmpl == NULL)
        tmpl = "";
    size_t len = 0;
    const char *p = tmpl;

    while (*p != '\0' && len + 1 < size) {
        enum placeholder_kind kind = placeholder_at(p);
        if (kind == PH_NONE) {
            buf[len++] = *p++; /* plain text, or a brace that is not ours */
            continue;
        }

        char num[24];
        const char *value = known_value(kind, ctx, num, sizeof num);
        if (value != NULL) {
            append(buf, size, &len, value, strlen(value));
        } else {
            const char *phrase = placeholders[kind].unknown;
            if (opens_sentence(tmpl, p)) {
                char capital = (char)(phrase[0] - 'a' + 'A');
                append(buf, size, &len, &capital, 1);
                phrase++;
            }
            append(buf, size, &len, phrase, strlen(phrase));
        }
        p += strlen(placeholders[kind].token);
    }
    buf[len] = '\0';
    return buf;
}
