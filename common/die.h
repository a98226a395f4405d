/*
 * die.h: how a lesson stops on an error.
 *
 * A lesson's error handling is one short line that names the call:
 *
 *     if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
 *         die_errno("bind");
 *
 * which prints to stderr, and exits with status 1:
 *
 *     [server] bind failed: EADDRINUSE (Address already in use)
 *       why:  Port 9000 is taken by another socket on this machine ...
 *       hint: Pick another with --port, or wait for TIME_WAIT to end ...
 *
 * The words come from the catalog (explain.h); the address and port come
 * from the call that failed, as the interposer saw it. Only lessons and
 * front-ends call these: library functions return errors instead.
 */
#ifndef SOCKSCOPE_DIE_H
#define SOCKSCOPE_DIE_H

#include <stdnoreturn.h>

/* `call` failed with errno: explain and exit(1). */
noreturn void die_errno(const char *call);

/* Like die_errno, with the errno given (for calls that return it, like
 * getsockopt(SO_ERROR) after a non-blocking connect). */
noreturn void die_err(const char *call, int err);

/* getaddrinfo() failed with `rc` for `host` and `service`: explain and
 * exit(1). */
noreturn void die_gai(const char *host, const char *service, int rc);

/* A bad command line: print the message and "try --help", exit(2). */
noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A lesson's own check failed: print the message and exit(1). */
noreturn void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
