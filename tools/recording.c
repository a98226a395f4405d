/*
 * recording: look into a recording without the viewer.
 *
 *   recording check DIR              what the recording holds, what is damaged
 *   recording export DIR --mermaid   a Mermaid sequence diagram
 *   recording export DIR --text      the same as plain text
 *
 * The functions are those `sockscope export` uses (common/export.h).
 * Exits 1 when the recording cannot be read, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "export.h"
#include "record.h"

static int usage(FILE *f, int rc)
{
    fprintf(f, "Usage: recording check DIR\n"
               "       recording export DIR --mermaid|--text\n");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        return usage(stdout, 0);
    if (argc < 3)
        return usage(stderr, 2);
    struct recording r;
    char err[512];
    if (record_load(argv[2], &r, err, sizeof err) != 0) {
        fprintf(stderr, "recording: %s\n", err);
        return 1;
    }
    char problems[512];
    record_problems(&r, problems, sizeof problems);
    if (problems[0])
        fprintf(stderr, "recording: %s\n", problems);
    int rc = 0;
    if (strcmp(argv[1], "check") == 0 && argc == 3) {
        size_t calls = 0, packets = 0, kstates = 0;
        for (size_t i = 0; i < r.count; i++) {
            calls += strcmp(r.entries[i].kind, "call") == 0;
            packets += strcmp(r.entries[i].kind, "packet") == 0;
            kstates += strcmp(r.entries[i].kind, "kstate") == 0;
        }
        printf("%zu entries: %zu calls, %zu packets, %zu kernel states\n", r.count, calls, packets,
               kstates);
    } else if (strcmp(argv[1], "export") == 0 && argc == 4 && strcmp(argv[3], "--mermaid") == 0) {
        rc = export_mermaid(&r, stdout);
    } else if (strcmp(argv[1], "export") == 0 && argc == 4 && strcmp(argv[3], "--text") == 0) {
        rc = export_text(&r, stdout);
    } else {
        rc = usage(stderr, 2);
    }
    record_free(&r);
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}
