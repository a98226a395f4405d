/*
 * opts.h: the command line every two-sided lesson shares.
 *
 *   --role both|server|client   run both sides (default), or one of them
 *   --host HOST                 server: the address to listen on
 *                               (default 127.0.0.1, loopback only);
 *                               client: the server to connect to
 *   --port PORT                 the server's port; 0 lets the kernel pick
 *   --step                      pause before every socket call
 *   --trace FILE                write every socket call to FILE (JSON Lines)
 *   --help
 *
 * --step and --trace are acted on by the tracer before main() runs; the
 * parser only accepts them. Bad input exits with status 2 and a message
 * that says what was wrong.
 */
#ifndef SOCKSCOPE_OPTS_H
#define SOCKSCOPE_OPTS_H

#include <stdbool.h>
#include <stdint.h>

enum lesson_role { ROLE_BOTH, ROLE_SERVER, ROLE_CLIENT };

/* Which shared options a lesson takes. */
enum { OPT_ROLE = 1, OPT_HOST = 2, OPT_PORT = 4 };

struct lesson_info {
    const char *name;      /* "02-call-sequence" */
    const char *summary;   /* one line: what the lesson shows */
    const char *args;      /* extra positional arguments, e.g. "[host]", or NULL */
    const char *more_help; /* further lines for --help, or NULL */
    unsigned opts;         /* OPT_ROLE | OPT_HOST | OPT_PORT */
    const char *default_host;
    uint16_t default_port;
    int max_args; /* positional arguments allowed */
};

struct lesson_opts {
    enum lesson_role role;
    const char *host;
    uint16_t port;
    char port_text[8]; /* the port as text, for getaddrinfo */
    int nargs;         /* positional arguments */
    char **args;
};

/* Parse argv; prints --help and exits 0, or exits 2 on bad input. */
void lesson_parse(int argc, char **argv, const struct lesson_info *info, struct lesson_opts *o);

#endif
