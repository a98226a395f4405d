/*
 * explain.h: the catalog of plain explanations.
 *
 * For each socket call sockscope traces, one sentence of what it does; for
 * each errno that call is documented to return, one or two sentences of why
 * it happened and a hint of what to do. Step mode, the viewer and the
 * lessons' error messages all read from here, so a student sees the same
 * words everywhere.
 *
 * Sentences may hold placeholders that explain_fill() replaces:
 *   {port}  the port of the address in the call     ("9000")
 *   {addr}  the address in the call                 ("127.0.0.1:9000")
 *   {fd}    the file descriptor                     ("3")
 * When the value is unknown the placeholder becomes a fitting phrase
 * ("the port", "the address", "the socket").
 */
#ifndef SOCKSCOPE_EXPLAIN_H
#define SOCKSCOPE_EXPLAIN_H

#include <stddef.h>

struct explain_ctx {
    int fd;           /* -1: unknown */
    int port;         /* -1: unknown */
    const char *addr; /* NULL: unknown */
};

struct explanation {
    const char *why;  /* why the call failed: one or two sentences */
    const char *hint; /* what to do about it: one sentence */
};

/* What `call` does, in one plain sentence; NULL for a call not in the
 * catalog. */
const char *explain_call(const char *call);

/*
 * Why `call` failed with `err`. Returns 1 when the catalog has an entry
 * written for this call and errno, 0 when it falls back to a general entry
 * for the errno (or, failing that, the C library's meaning); *out is filled
 * either way.
 */
int explain_errno(const char *call, int err, struct explanation *out);

/*
 * Like explain_errno, for a socket of address family `family`: for
 * AF_UNIX, where the address is a file, some errnos have words of their
 * own (bind EADDRINUSE: the file exists). Other families: explain_errno.
 */
int explain_errno_at(const char *call, int err, int family, struct explanation *out);

/* The family an address written by addr_format() belongs to: AF_UNIX for
 * a path or an @abstract name, AF_INET6 for [..], else AF_INET; AF_UNSPEC
 * for NULL or "". */
int explain_family_of(const char *addr);

/*
 * The errnos documented for `call`, as a zero-terminated array, or NULL for
 * a call not in the catalog.
 */
const int *explain_documented_errnos(const char *call);

/* The calls in the catalog, as a NULL-terminated array. */
const char *const *explain_calls(void);

/* Copy `tmpl` into `buf` (of `size` bytes) with the placeholders replaced
 * from `ctx`. Returns `buf`, always NUL-terminated. */
char *explain_fill(const char *tmpl, const struct explain_ctx *ctx, char *buf, size_t size);

#endif
