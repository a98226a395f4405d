/* saywhy.c: an expected failure, explained; see saywhy.h. */
#include "saywhy.h"

#include <stdio.h>
#include <string.h>

#include "errnames.h"
#include "explain.h"
#include "show.h"
#include "textwrap.h"
#include "wrap.h"

void say_failed(const char *call, int err)
{
    say("%s failed: %s (%s)", call, errno_name(err), errno_meaning(err));
    struct explain_ctx ctx = {.fd = -1, .port = -1, .addr = NULL};
    const struct call_failure *f = wrap_last_failure();
    if (strcmp(f->call, call) == 0 && f->err == err) {
        ctx.fd = f->fd;
        ctx.port = f->port;
        ctx.addr = f->addr[0] ? f->addr : NULL;
    }
    /* A Unix socket's address is a path: the same errno there means
     * something about a file, not a port. */
    struct explanation ex;
    explain_errno_at(call, err, explain_family_of(ctx.addr), &ex);
    char buf[512];
    print_wrapped(stdout, "why:", explain_fill(ex.why, &ctx, buf, sizeof buf));
    print_wrapped(stdout, "hint:", explain_fill(ex.hint, &ctx, buf, sizeof buf));
    fflush(stdout);
}
