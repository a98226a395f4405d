/* pingopts.c: the command line of lesson 04; see pingopts.h. */
#include "pingopts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ping_opts_usage(FILE *out, const char *name)
{
    fprintf(out,
            "Usage: %s [-6] [-c count] [-i interval] [-t ttl] [-W timeout]\n"
            "                   [-s size] [host]\n"
            "A ping written for reading: ICMP echo requests built by hand on a raw\n"
            "socket (or the unprivileged ping socket), their replies taken apart.\n"
            "\n"
            "Options:\n"
            "  -c count     requests to send (default 4), 1 to 65535\n"
            "  -i interval  seconds between requests (default 1), 0.01 to 60\n"
            "  -t ttl       time to live of the requests, 1 to 255\n"
            "  -W timeout   seconds to wait for replies after the last request\n"
            "               (default 10), 0.1 to 60\n"
            "  -s size      payload bytes (default 56), 0 to 65000\n"
            "  -6           use IPv6 (ICMPv6); the default host becomes ::1\n"
            "  host         name or address to ping (default 127.0.0.1)\n"
            "  --step       pause before every socket call (also SOCKSCOPE_STEP=1)\n"
            "  --trace FILE write every socket call to FILE as JSON Lines\n"
            "  --help       show this help\n"
            "\n"
            "Ctrl-C stops early and prints the summary, as ping does.\n"
            "A raw socket needs root or CAP_NET_RAW; without it the ping socket needs\n"
            "your group in net.ipv4.ping_group_range. The lesson says which it used.\n",
            name);
}

static bool read_long(const char *text, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

static bool read_seconds(const char *text, double lo, double hi, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(x) || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

enum ping_opts_result ping_opts_parse(int argc, char **argv, struct ping_opts *o, char *err,
                                      size_t errsize)
{
    enum { O_STEP = 256, O_TRACE, O_HELP };
    static const struct option longs[] = {
        {"step", no_argument, NULL, O_STEP},
        {"trace", required_argument, NULL, O_TRACE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    *o = (struct ping_opts){.count = 4, .interval_s = 1, .timeout_s = 10, .size = 56};
    long ttl = 0;
    opterr = 0;
    optind = 0; /* 0, not 1: GNU getopt starts afresh, so parsing twice works */
    int c;
    while ((c = getopt_long(argc, argv, ":6c:i:t:W:s:h", longs, NULL)) != -1) {
        switch (c) {
        case '6': o->v6 = true; break;
        case 'c':
            if (!read_long(optarg, 1, 65535, &o->count))
                goto bad_value;
            break;
        case 'i':
            if (!read_seconds(optarg, 0.01, 60, &o->interval_s))
                goto bad_value;
            break;
        case 't':
            if (!read_long(optarg, 1, 255, &ttl))
                goto bad_value;
            o->ttl = (int)ttl;
            break;
        case 'W':
            if (!read_seconds(optarg, 0.1, 60, &o->timeout_s))
                goto bad_value;
            break;
        case 's':
            if (!read_long(optarg, 0, 65000, &o->size))
                goto bad_value;
            break;
        case O_STEP:
        case O_TRACE: break; /* the tracer read these before main() */
        case 'h':
        case O_HELP: return PING_OPTS_HELP;
        case ':': snprintf(err, errsize, "option -%c needs a value", optopt); return PING_OPTS_BAD;
        default:
            if (optopt)
                snprintf(err, errsize, "unknown option '-%c'", optopt);
            else
                snprintf(err, errsize, "unknown option '%s'", argv[optind - 1]);
            return PING_OPTS_BAD;
        }
    }
    if (argc - optind > 1) {
        snprintf(err, errsize, "one host only, not '%s' and '%s'", argv[optind], argv[optind + 1]);
        return PING_OPTS_BAD;
    }
    o->host = argc - optind == 1 ? argv[optind] : (o->v6 ? "::1" : "127.0.0.1");
    if (*o->host == '\0') {
        snprintf(err, errsize, "the host is empty: give a name or an address, such as 127.0.0.1");
        return PING_OPTS_BAD;
    }
    return PING_OPTS_OK;

bad_value:;
    static const char *const ranges[128] = {
        ['c'] = "a whole number of requests from 1 to 65535",
        ['i'] = "seconds between requests, from 0.01 to 60",
        ['t'] = "a time to live from 1 to 255",
        ['W'] = "seconds to wait, from 0.1 to 60",
        ['s'] = "payload bytes from 0 to 65000",
    };
    snprintf(err, errsize, "bad value '%s' for -%c: it takes %s", optarg, c, ranges[c & 127]);
    return PING_OPTS_BAD;
}
