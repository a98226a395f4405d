/* test_moreopts.c: a lesson's own options are taken out of argv, and the
 * shared ones are left for lesson_parse. */
#include <string.h>

#include "moreopts.h"
#include "unit.h"

static void test_take(void)
{
    char *argv[] = {"lesson",       "--port", "0",  "--url", "http://x/", "--trace", "--only",
                    "--only=reset", "--step", "--", "--url", "kept",      NULL};
    int argc = 12;
    const char *url = NULL, *only = NULL;
    struct more_opt mine[] = {{"url", &url}, {"only", &only}};
    char err[64];
    CU_ASSERT_EQUAL(more_opts_take(&argc, argv, mine, 2, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(url, "http://x/");
    CU_ASSERT_STRING_EQUAL(only, "reset");
    /* "--trace --only": --only is the trace file's name, left in place. */
    const char *want[] = {"lesson", "--port", "0",     "--trace", "--only",
                          "--step", "--",     "--url", "kept"};
    CU_ASSERT_EQUAL_FATAL(argc, 9);
    for (int i = 0; i < argc; i++)
        CU_ASSERT_STRING_EQUAL(argv[i], want[i]);
    CU_ASSERT_PTR_NULL(argv[argc]);
}

static void test_missing_value(void)
{
    char *argv[] = {"lesson", "--clients", NULL};
    int argc = 2;
    const char *n = NULL;
    struct more_opt mine[] = {{"clients", &n}};
    char err[64] = "";
    CU_ASSERT_EQUAL(more_opts_take(&argc, argv, mine, 1, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'--clients' needs a value"));
}

static void test_number(void)
{
    long v = 0;
    CU_ASSERT_EQUAL(more_opts_number("10000", 1, 100000, &v), 0);
    CU_ASSERT_EQUAL(v, 10000);
    const char *bad[] = {"", "0", "100001", "12a", "-5", "+5", " 5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(more_opts_number(bad[i], 1, 100000, &v), -1);
}

UNIT_MAIN("moreopts", {"a lesson's own options are taken out, the shared ones left", test_take},
          {"an option without its value is named", test_missing_value},
          {"a number is a plain whole number within its range", test_number});
