/* opts.c: the shared lesson command line; see opts.h. */
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "die.h"

static void usage(const struct lesson_info *info)
{
    printf("Usage: %s [options]%s%s\n%s\n\nOptions:\n", info->name, info->args ? " " : "",
           info->args ? info->args : "", info->summary);
    if (info->opts & OPT_ROLE)
        printf("  --role both|server|client  run both sides (default), or one side alone\n"
               "                             for two terminals or two machines\n");
    if (info->opts & OPT_HOST)
        printf("  --host HOST                server: address to listen on (default %s,\n"
               "                             loopback only); client: server to connect to\n",
               info->default_host);
    if (info->opts & OPT_PORT)
        printf("  --port PORT                the server's port (default %u; 0: the kernel\n"
               "                             picks a free one)\n",
               info->default_port);
    printf("  --step                     pause before every socket call\n"
           "                             (also SOCKSCOPE_STEP=1)\n"
           "  --trace FILE               write every socket call to FILE as JSON Lines\n"
           "  --help                     show this help\n");
    if (info->more_help)
        printf("\n%s\n", info->more_help);
}

void lesson_parse(int argc, char **argv, const struct lesson_info *info, struct lesson_opts *o)
{
    enum { O_ROLE = 256, O_HOST, O_PORT, O_STEP, O_TRACE, O_HELP };
    static const struct option longs[] = {
        {"role", required_argument, NULL, O_ROLE},
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"step", no_argument, NULL, O_STEP},
        {"trace", required_argument, NULL, O_TRACE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->role = ROLE_BOTH;
    o->host = info->default_host;
    o->port = info->default_port;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:h", longs, NULL)) != -1) {
        switch (c) {
        case O_ROLE:
            if (!(info->opts & OPT_ROLE))
                goto unknown;
            if (strcmp(optarg, "both") == 0)
                o->role = ROLE_BOTH;
            else if (strcmp(optarg, "server") == 0)
                o->role = ROLE_SERVER;
            else if (strcmp(optarg, "client") == 0)
                o->role = ROLE_CLIENT;
            else
                die_usage("--role takes both, server or client, not '%s'", optarg);
            break;
        case O_HOST:
            if (!(info->opts & OPT_HOST))
                goto unknown;
            if (*optarg == '\0')
                die_usage("--host needs a name or an address, such as 127.0.0.1");
            o->host = optarg;
            break;
        case O_PORT:
            if (!(info->opts & OPT_PORT))
                goto unknown;
            if (addr_parse_port(optarg, &o->port) == -1)
                die_usage("bad port '%s': a port is a whole number from 0 to 65535", optarg);
            break;
        case O_STEP:
        case O_TRACE:
            /* The tracer read these before main(). */
            break;
        case 'h':
        case O_HELP: usage(info); exit(0);
        case ':': die_usage("option '%s' needs a value", argv[optind - 1]);
        default:
        unknown:
            if (optopt == O_TRACE || (optind > 0 && strcmp(argv[optind - 1], "--trace") == 0))
                die_usage("--trace needs a file name");
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    o->nargs = argc - optind;
    o->args = argv + optind;
    if (o->nargs > info->max_args)
        die_usage("unexpected argument '%s'", argv[optind + info->max_args]);
    snprintf(o->port_text, sizeof o->port_text, "%u", o->port);
}
