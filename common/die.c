/* die.c: a lesson's errors, explained; see die.h. */
#include "die.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errnames.h"
#include "explain.h"
#include "show.h"
#include "textwrap.h"
#include "wrap.h"

void die_err(const char *call, int err)
{
    fflush(stdout);
    fprintf(stderr, "[%s] %s failed: %s (%s)\n", show_role(), call, errno_name(err),
            errno_meaning(err));
    struct explain_ctx ctx = {.fd = -1, .port = -1, .addr = NULL};
    const struct call_failure *f = wrap_last_failure();
    if (strcmp(f->call, call) == 0 && f->err == err) {
        ctx.fd = f->fd;
        ctx.port = f->port;
        ctx.addr = f->addr[0] ? f->addr : NULL;
    }
    struct explanation ex;
    explain_errno_at(call, err, explain_family_of(ctx.addr), &ex);
    char buf[512];
    print_wrapped(stderr, "why:", explain_fill(ex.why, &ctx, buf, sizeof buf));
    print_wrapped(stderr, "hint:", explain_fill(ex.hint, &ctx, buf, sizeof buf));
    exit(1);
}

void die_errno(const char *call)
{
    die_err(call, errno);
}

void die_gai(const char *host, const char *service, int rc)
{
    fflush(stdout);
    int err = errno;
    const char *what = rc == EAI_SYSTEM ? strerror(err) : gai_strerror(rc);
    fprintf(stderr, "[%s] getaddrinfo failed for host '%s', port '%s': %s\n", show_role(),
            host ? host : "(none)", service ? service : "(none)", what);
    switch (rc) {
    case EAI_NONAME:
    case EAI_NODATA:
        print_wrapped(stderr, "why:",
                      "No address is known for this name: it may be misspelt, or it exists "
                      "only on another network.");
        print_wrapped(stderr, "hint:",
                      "Check the spelling, or give an address such as 127.0.0.1 or ::1 "
                      "instead of the name.");
        break;
    case EAI_AGAIN:
        print_wrapped(stderr, "why:",
                      "The name server did not answer in time, or cannot be reached from "
                      "this machine.");
        print_wrapped(stderr, "hint:",
                      "Try again, or use an address instead of a name (127.0.0.1 for "
                      "this machine).");
        break;
    case EAI_SERVICE:
        print_wrapped(stderr, "why:",
                      "The port is neither a number nor a service name this system knows "
                      "(see /etc/services).");
        print_wrapped(stderr, "hint:", "Give a number from 0 to 65535 with --port.");
        break;
    case EAI_FAMILY:
    case EAI_ADDRFAMILY:
        print_wrapped(stderr,
                      "why:", "The name has no address of the family asked for (IPv4 or IPv6).");
        print_wrapped(stderr, "hint:",
                      "Ask for the other family, or give an address of the family you "
                      "want.");
        break;
    default:
        print_wrapped(stderr,
                      "hint:", "Check the host and port you gave; try 127.0.0.1 for this machine.");
        break;
    }
    exit(1);
}

void die_usage(const char *fmt, ...)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for the options.\n", program_invocation_short_name);
    exit(2);
}

void die_msg(const char *fmt, ...)
{
    fflush(stdout);
    fprintf(stderr, "[%s] ", show_role());
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}
