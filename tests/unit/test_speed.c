/* Unit tests of speed.c: lesson 07's table, bars and JSON. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "speed.h"
#include "unit.h"

static const struct speed_result results[] = {
    {"unix-stream", 8.0, 16.0, 1000, 5000.0, 5e9, 1.0},
    {"tcp-loopback", 16.0, 40.0, 1000, 2500.0, 2.5e9, 1.0},
    {"pipe", 0.0, 0.0, 0, 0.0, 0.0, 1.0},
};

static char *capture_table(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    speed_print_table(f, results, 3, 1);
    fclose(f);
    return text;
}

static void table_shows_ratios_to_the_reference(void)
{
    char *text = capture_table();
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "unix-stream        8.00     16.00    2.00x"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "5000.0    2.00x"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "tcp-loopback      16.00     40.00    1.00x"));
    free(text);
}

static void every_line_fits_80_columns_and_the_longest_bar_is_50(void)
{
    char *text = capture_table();
    size_t longest_bar = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        CU_ASSERT(strlen(line) <= 80);
        size_t bar = strspn(line + (strlen(line) > 15 ? 15 : 0), "#");
        longest_bar = bar > longest_bar ? bar : longest_bar;
    }
    CU_ASSERT_EQUAL(longest_bar, 50);
    free(text);
}

static void json_has_every_figure_and_zero_for_a_ratio_without_data(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct speed_options o = {.size = 1, .bulk = 65536, .count = 1000, .duration = 0.5};
    CU_ASSERT_EQUAL(speed_print_json(f, results, 3, 1, &o), 0);
    fclose(f);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *list = json_object_get(doc, "transports");
    CU_ASSERT_EQUAL(json_array_size(list), 3);
    json_t *unix_ = json_array_get(list, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(unix_, "name")), "unix-stream");
    CU_ASSERT_DOUBLE_EQUAL(
        json_real_value(json_object_get(json_object_get(unix_, "latency_us"), "p99")), 16.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(
        json_real_value(json_object_get(json_object_get(unix_, "vs_tcp"), "throughput")), 2.0,
        1e-9);
    json_t *pipe = json_array_get(list, 2);
    CU_ASSERT_DOUBLE_EQUAL(
        json_real_value(json_object_get(json_object_get(pipe, "vs_tcp"), "latency")), 0.0, 1e-9);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(doc, "options"), "bulk")),
                    65536);
    json_decref(doc);
    free(text);
}

UNIT_MAIN("speed", {"the table shows each ratio to TCP", table_shows_ratios_to_the_reference},
          {"every line fits 80 columns and the longest bar is 50 marks",
           every_line_fits_80_columns_and_the_longest_bar_is_50},
          {"the JSON has every figure, and 0 for a ratio without data",
           json_has_every_figure_and_zero_for_a_ratio_without_data});
