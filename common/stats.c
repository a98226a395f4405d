/* stats.c: median and percentiles; see stats.h. */
#include "stats.h"

#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double stats_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    if (p <= 0)
        return v[0];
    if (p >= 100)
        return v[n - 1];
    /* Nearest rank: ceil(p/100 * n), counted from 1. */
    double x = p / 100.0 * (double)n;
    size_t rank = (size_t)x;
    if ((double)rank < x)
        rank++;
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

double stats_median(double *v, size_t n)
{
    return stats_percentile(v, n, 50);
}
