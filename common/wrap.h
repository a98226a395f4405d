/*
 * wrap.h: what the interposer keeps for the program it traces.
 *
 * The interposer (wrap.c) stands in front of the socket calls: linked into
 * lessons with GNU ld's --wrap=NAME, and built as a shared library for
 * LD_PRELOAD. The traced program does not call anything here; common/die.c
 * does, to word a lesson's error message with the address that failed.
 */
#ifndef SOCKSCOPE_WRAP_H
#define SOCKSCOPE_WRAP_H

#include "addr.h"

/* The calls the interposer wraps, NULL-terminated. */
extern const char *const wrap_calls[];

struct call_failure {
    char call[16]; /* "bind"; "" when no call has failed */
    int err;       /* its errno */
    int fd;
    char addr[ADDR_STRLEN]; /* the address it was given, or "" */
    int port;               /* that address's port, or -1 */
};

/* The last socket call of this thread that failed. */
const struct call_failure *wrap_last_failure(void);

#endif
