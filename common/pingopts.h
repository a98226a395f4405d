/*
 * pingopts.h: the command line of lesson 04, a ping like iputils' own.
 *
 *   04-raw-ping [-6] [-c count] [-i interval] [-t ttl] [-W timeout]
 *               [-s size] [host]
 *
 *   -c count     requests to send (default 4; iputils' ping goes on until
 *                Ctrl-C, a lesson stops by itself), 1 to 65535
 *   -i interval  seconds between requests (default 1; decimals allowed),
 *                0.01 to 60
 *   -t ttl       the IP time to live of the requests (IPv6: hop limit),
 *                1 to 255 (default: the system's, usually 64)
 *   -W timeout   seconds to wait for replies after the last request
 *                (default 10), 0.1 to 60
 *   -s size      bytes of payload after the 8-byte ICMP header (default
 *                56), 0 to 65000; 16 or more carry the send time
 *   -6           IPv6 (ICMPv6); the host's default becomes ::1
 *   host         a name or an address (default 127.0.0.1)
 *   --step, --trace FILE   acted on by the tracer; accepted and ignored
 *   -h, --help
 *
 * Parsing never prints nor exits: it returns what happened and, for bad
 * input, a message that names the option, what was wrong and what fits.
 */
#ifndef SOCKSCOPE_PINGOPTS_H
#define SOCKSCOPE_PINGOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ping_opts {
    long count;
    double interval_s;
    int ttl; /* 0: the system's default */
    double timeout_s;
    long size;
    bool v6;
    const char *host;
};

enum ping_opts_result { PING_OPTS_OK, PING_OPTS_HELP, PING_OPTS_BAD };

/* Read argv into `o`. On PING_OPTS_BAD, err[errsize] says why. */
enum ping_opts_result ping_opts_parse(int argc, char **argv, struct ping_opts *o, char *err,
                                      size_t errsize);

/* The --help text. */
void ping_opts_usage(FILE *out, const char *name);

#endif
