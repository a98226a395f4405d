/* moreopts.c: a lesson's own options; see moreopts.h. */
#include "moreopts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shared options that take a value (opts.h). */
static int shared_takes_value(const char *arg)
{
    static const char *const names[] = {"--role", "--host", "--port", "--trace"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(arg, names[i]) == 0)
            return 1;
    return 0;
}

int more_opts_take(int *argc, char **argv, const struct more_opt *opts, size_t n, char *err,
                   size_t errlen)
{
    int out = 1;
    int i = 1;
    while (i < *argc) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (shared_takes_value(a) && i + 1 < *argc) {
            argv[out++] = argv[i++];
            argv[out++] = argv[i++];
            continue;
        }
        const struct more_opt *hit = NULL;
        const char *value = NULL;
        if (strncmp(a, "--", 2) == 0) {
            for (size_t k = 0; k < n && hit == NULL; k++) {
                size_t len = strlen(opts[k].name);
                if (strncmp(a + 2, opts[k].name, len) != 0)
                    continue;
                if (a[2 + len] == '\0')
                    hit = &opts[k];
                else if (a[2 + len] == '=')
                    hit = &opts[k], value = a + 3 + len;
            }
        }
        if (hit == NULL) {
            argv[out++] = argv[i++];
            continue;
        }
        if (value == NULL) {
            if (i + 1 >= *argc) {
                snprintf(err, errlen, "option '--%s' needs a value", hit->name);
                return -1;
            }
            value = argv[++i];
        }
        *hit->value = value;
        i++;
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int more_opts_number(const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || text[0] == '+' ||
        text[0] == ' ' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
