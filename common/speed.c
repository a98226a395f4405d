/* speed.c: lesson 07's table, bar charts and JSON; see speed.h. */
#include "speed.h"

#include <jansson.h>
#include <stdlib.h>

static double ratio(double a, double b)
{
    return a > 0 && b > 0 ? a / b : 0;
}

static void bar(FILE *f, const char *name, double v, double max, const char *fmt)
{
    int w = max > 0 ? (int)(50.0 * v / max + 0.5) : 0;
    fprintf(f, "  %-12s %-50.*s ", name, w, "##################################################");
    fprintf(f, fmt, v);
    fprintf(f, "\n");
}

void speed_print_table(FILE *f, const struct speed_result *r, int n, int ref)
{
    fprintf(f, "\n%-13s %27s  %27s\n", "", "round trip, microseconds", "bulk transfer");
    fprintf(f, "%-13s %9s %9s %8s  %12s %8s\n", "transport", "median", "p99", "vs TCP", "MB/s",
            "vs TCP");
    double lmax = 0, tmax = 0;
    for (int i = 0; i < n; i++) {
        fprintf(f, "%-13s %9.2f %9.2f %7.2fx  %12.1f %7.2fx\n", r[i].name, r[i].median_us,
                r[i].p99_us, ratio(r[ref].median_us, r[i].median_us), r[i].mb_per_s,
                ratio(r[i].mb_per_s, r[ref].mb_per_s));
        lmax = r[i].median_us > lmax ? r[i].median_us : lmax;
        tmax = r[i].mb_per_s > tmax ? r[i].mb_per_s : tmax;
    }
    fprintf(f, "\nMedian round trip (shorter is faster):\n");
    for (int i = 0; i < n; i++)
        bar(f, r[i].name, r[i].median_us, lmax, "%7.2f us");
    fprintf(f, "\nThroughput (longer is faster):\n");
    for (int i = 0; i < n; i++)
        bar(f, r[i].name, r[i].mb_per_s, tmax, "%7.0f MB/s");
}

int speed_print_json(FILE *f, const struct speed_result *r, int n, int ref,
                     const struct speed_options *o)
{
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        json_t *t = json_pack("{s:s, s:{s:f, s:f, s:I}, s:{s:f, s:f, s:f}, s:{s:f, s:f}}", "name",
                              r[i].name, "latency_us", "median", r[i].median_us, "p99", r[i].p99_us,
                              "round_trips", (json_int_t)r[i].trips, "throughput", "mb_per_s",
                              r[i].mb_per_s, "bytes", r[i].bytes, "seconds", r[i].seconds, "vs_tcp",
                              "latency", ratio(r[ref].median_us, r[i].median_us), "throughput",
                              ratio(r[i].mb_per_s, r[ref].mb_per_s));
        if (t == NULL || json_array_append_new(list, t) == -1) {
            json_decref(list);
            return -1;
        }
    }
    json_t *doc = json_pack("{s:o, s:{s:I, s:I, s:I, s:f}}", "transports", list, "options", "size",
                            (json_int_t)o->size, "bulk", (json_int_t)o->bulk, "count",
                            (json_int_t)o->count, "duration", o->duration);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (text == NULL)
        return -1;
    fprintf(f, "%s\n", text);
    free(text);
    return 0;
}
