/*
 * stats.h: the figures a measurement is summed up by.
 *
 * A latency benchmark records one time per round trip; its story is told
 * by the median (half the round trips were faster) and the 99th
 * percentile (one in a hundred was slower), not by the mean, which a few
 * long stalls (a page fault, a timer interrupt) pull far away from what is
 * typical.
 */
#ifndef SOCKSCOPE_STATS_H
#define SOCKSCOPE_STATS_H

#include <stddef.h>

/*
 * The p-th percentile (0 <= p <= 100) of the n values in v, by the
 * nearest-rank method: the smallest value that at least p percent of the
 * values are less than or equal to (p = 0 gives the smallest). Sorts v in
 * place. Returns 0 for n == 0.
 */
double stats_percentile(double *v, size_t n, double p);

/* The median: stats_percentile(v, n, 50). Sorts v in place. */
double stats_median(double *v, size_t n);

#endif
