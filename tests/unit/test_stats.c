/* Unit tests of stats.c: the median and the 99th percentile. */
#include "stats.h"
#include "unit.h"

static void median_of_odd_count(void)
{
    double v[] = {5, 1, 4, 2, 3};
    CU_ASSERT_DOUBLE_EQUAL(stats_median(v, 5), 3, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(v[0], 1, 1e-9); /* sorted in place */
}

static void median_of_even_count_is_lower_middle(void)
{
    double v[] = {4, 1, 3, 2};
    CU_ASSERT_DOUBLE_EQUAL(stats_median(v, 4), 2, 1e-9);
}

static void p99_of_a_hundred_is_the_99th(void)
{
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 100 - i; /* 100 .. 1 */
    CU_ASSERT_DOUBLE_EQUAL(stats_percentile(v, 100, 99), 99, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(stats_percentile(v, 100, 100), 100, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(stats_percentile(v, 100, 0), 1, 1e-9);
}

static void one_stall_does_not_move_the_median(void)
{
    double v[] = {10, 11, 9, 10, 5000};
    CU_ASSERT_DOUBLE_EQUAL(stats_median(v, 5), 10, 1e-9);
}

static void empty_gives_zero(void)
{
    CU_ASSERT_DOUBLE_EQUAL(stats_percentile(NULL, 0, 50), 0, 1e-9);
}

UNIT_MAIN("stats", {"the median of 5 values is the middle one", median_of_odd_count},
          {"the median of an even count is the lower middle value (nearest rank)",
           median_of_even_count_is_lower_middle},
          {"the 99th percentile of 1..100 is 99", p99_of_a_hundred_is_the_99th},
          {"one long stall does not move the median", one_stall_does_not_move_the_median},
          {"no values give 0", empty_gives_zero});
