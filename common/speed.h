/*
 * speed.h: how lesson 07 shows what it measured.
 *
 * One result per transport: the round trips of a ping-pong (median and
 * 99th percentile, in microseconds) and a bulk transfer (bytes the
 * receiver counted, over seconds). Each is shown beside a reference
 * transport (TCP), as a ratio: how many times faster than the reference,
 * for latency (ref median / median) and for throughput (MB/s / ref MB/s).
 * MB are 10^6 bytes.
 */
#ifndef SOCKSCOPE_SPEED_H
#define SOCKSCOPE_SPEED_H

#include <stddef.h>
#include <stdio.h>

struct speed_result {
    const char *name; /* "unix-stream" */
    double median_us, p99_us;
    size_t trips; /* round trips measured */
    double mb_per_s, bytes, seconds;
};

/* What the measurement was asked to do, echoed in the JSON. */
struct speed_options {
    size_t size, bulk; /* ping-pong message size, bulk write size */
    long count;        /* round trips at most */
    double duration;   /* seconds per measurement at most */
};

/* A table of the n results with the ratios to r[ref], then a bar chart of
 * the median round trips and one of the throughputs; 80 columns. */
void speed_print_table(FILE *f, const struct speed_result *r, int n, int ref);

/*
 * The same as one JSON document:
 *   {"transports": [{"name", "latency_us": {"median", "p99", "round_trips"},
 *                    "throughput": {"mb_per_s", "bytes", "seconds"},
 *                    "vs_tcp": {"latency", "throughput"}}, ...],
 *    "options": {"size", "bulk", "count", "duration"}}
 * A ratio that cannot be computed (a zero figure) is 0. Returns 0, or -1
 * when the document could not be made.
 */
int speed_print_json(FILE *f, const struct speed_result *r, int n, int ref,
                     const struct speed_options *o);

#endif
