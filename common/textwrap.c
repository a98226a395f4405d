/* textwrap.c: wrapped explanations; see textwrap.h. */
#include "textwrap.h"

#include <string.h>

void print_wrapped(FILE *f, const char *label, const char *text)
{
    const int width = 78, indent = 8;
    fprintf(f, "  %-5s ", label);
    int col = indent;
    for (const char *p = text; *p;) {
        const char *space = strchr(p, ' ');
        int wl = space ? (int)(space - p) : (int)strlen(p);
        if (col > indent && col + 1 + wl > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", wl, p);
        col += wl;
        p += wl;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}
