/*
 * wsserve.h: lesson 11's classroom server, many browsers on one port.
 *
 * One process, one thread, epoll (lesson 09's many-clients pattern). On
 * the port it listens on it answers:
 *
 *     GET /      the page (common/wspage.html): a small chat client that
 *                shows the frames it sends and receives
 *     GET /ws    a WebSocket: every message a client sends goes to every
 *                client connected to /ws, the sender included (a chat)
 *     GET /echo  a WebSocket: each message comes back to its sender only
 *                (what benchmarks and conformance runners expect)
 *
 * Everything else gets 404, and a bad upgrade request the status that
 * common/ws chose (400, 426, 431). Pings are answered with pongs, a close
 * frame with the same code, a protocol error with a close frame carrying
 * the code ws_conn_feed returned. A client whose unsent data would pass
 * 64 MiB is dropped, so one stalled browser cannot eat the memory.
 *
 * The function returns when the time limit passes or SIGINT/SIGTERM
 * arrives (it installs handlers for both), after closing every connection
 * with 1001 (going away).
 */
#ifndef SOCKSCOPE_WSSERVE_H
#define SOCKSCOPE_WSSERVE_H

#include <stdbool.h>
#include <stdint.h>

struct wsserve_opts {
    uint64_t max_message; /* 0: WS_DEFAULT_MAX_MESSAGE */
    int max_seconds;      /* stop after this long; 0: 4 hours, a long class */
    bool quiet;           /* do not print a line per chat message */
};

/*
 * Serve on `listener` (a listening TCP socket) until stopped. Prints one
 * line per connection and chat message (through say()). Returns 0, or -1
 * with errno when epoll itself fails.
 */
int wsserve_run(int listener, const struct wsserve_opts *o);

/* The page served at /: HTML with its script, wspage_len bytes. */
extern const char wspage[];
extern const unsigned wspage_len;

#endif
