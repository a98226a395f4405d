/*
 * moreopts.h: a lesson's own options, beside the shared ones of opts.h.
 *
 * A lesson that takes options of its own (--url, --clients N, --only
 * STATE) takes them out of argv first, then hands the rest to
 * lesson_parse, which knows --role, --host, --port, --step, --trace and
 * --help:
 *
 *     const char *url = NULL;
 *     struct more_opt mine[] = {{"url", &url}};
 *     char err[128];
 *     if (more_opts_take(&argc, argv, mine, 1, err, sizeof err) == -1)
 *         die_usage("%s", err);
 *     lesson_parse(argc, argv, &lesson, &o);
 *
 * Each option takes a value, as "--url VALUE" or "--url=VALUE". The values
 * of the shared options are stepped over, so "--trace --url" names a file.
 * Arguments after "--" are left alone. Nothing here prints or exits.
 */
#ifndef SOCKSCOPE_MOREOPTS_H
#define SOCKSCOPE_MOREOPTS_H

#include <stddef.h>

struct more_opt {
    const char *name;   /* "url", without the dashes */
    const char **value; /* set to the value when the option is given */
};

/* Remove the options in `opts` from argv (updating *argc) and store their
 * values. Returns 0, or -1 with a sentence in `err` (an option without
 * its value). */
int more_opts_take(int *argc, char **argv, const struct more_opt *opts, size_t n, char *err,
                   size_t errlen);

/* Read a whole number from `lo` to `hi` typed by a person. Returns 0 and
 * stores it, or -1 when the text is not such a number. */
int more_opts_number(const char *text, long lo, long hi, long *out);

#endif
