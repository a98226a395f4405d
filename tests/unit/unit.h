/*
 * unit.h: the shape of a CUnit test program.
 *
 * Each tests/unit/test_NAME.c is its own program: it lists its tests with
 * a name that reads as a sentence of the lab sheet, and ends with
 *
 *     UNIT_MAIN("addresses", {"an IPv4 address shows as a.b.c.d:port", test_ipv4}, ...);
 *
 * The Makefile builds and runs every test_*.c it finds, plain and under the
 * sanitizers; a test program exits non-zero when any test failed.
 */
#ifndef SOCKSCOPE_UNIT_H
#define SOCKSCOPE_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>

struct unit_test {
    const char *name;
    void (*fn)(void);
};

static inline int unit_run(const char *suite_name, const struct unit_test *tests, size_t n)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    if (suite == NULL)
        return 2;
    for (size_t i = 0; i < n; i++)
        if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
            return 2;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed == 0 && ran == n) ? 0 : 1;
}

#define UNIT_MAIN(suite_name, ...)                                                   \
    int main(void)                                                                   \
    {                                                                                \
        static const struct unit_test tests_[] = {__VA_ARGS__};                      \
        return unit_run(suite_name, tests_, sizeof tests_ / sizeof tests_[0]);       \
    }

#endif
