/* errnames.c: errno names through the C library; see errnames.h. */
#include "errnames.h"

#include <string.h>

const char *errno_name(int err)
{
    const char *n = strerrorname_np(err);
    return n != NULL ? n : "E?";
}

const char *errno_meaning(int err)
{
    const char *m = strerrordesc_np(err);
    return m != NULL ? m : "unknown error";
}

int errno_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    /* Linux errno values stay below 200. */
    for (int e = 1; e < 200; e++) {
        const char *n = strerrorname_np(e);
        if (n != NULL && strcmp(n, name) == 0)
            return e;
    }
    return 0;
}
