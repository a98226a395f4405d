/* source.c: the source line a trace event points at; see source.h. */
#include "source.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons.h"
#include "step.h"

static bool read_line_of(const char *path, int line, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    char tmp[1024];
    bool found = false;
    int n = 0;
    /* Bounded by the file's length. */
    while (fgets(tmp, sizeof tmp, f) != NULL) {
        size_t len = strlen(tmp);
        bool whole = len > 0 && tmp[len - 1] == '\n';
        if (!whole && !feof(f))
            continue; /* the rest of a long line follows */
        if (++n != line)
            continue;
        if (whole)
            tmp[len - 1] = '\0';
        for (char *p = tmp; *p; p++)
            if (*p == '\t')
                *p = ' ';
        size_t keep = strlen(tmp) < size ? strlen(tmp) : size - 1;
        memcpy(buf, tmp, keep);
        buf[keep] = '\0';
        found = true;
        break;
    }
    fclose(f);
    return found;
}

const char *source_line_text(struct source_cache *c, const char *src)
{
    if (src == NULL)
        return NULL;
    if (strcmp(src, c->key) == 0)
        return c->found ? c->text : NULL;
    snprintf(c->key, sizeof c->key, "%s", src);
    c->found = 0;
    const char *colon = strrchr(src, ':');
    if (colon == NULL)
        return NULL;
    char file[300];
    snprintf(file, sizeof file, "%.*s", (int)(colon - src), src);
    int line = atoi(colon + 1);
    char dir[PATH_MAX], path[PATH_MAX + 320];
    const char *bases[3] = {".", NULL, sockscope_srcdir};
    if (self_dir(dir, sizeof dir - 4) != NULL) {
        strcat(dir, "/..");
        bases[1] = dir;
    }
    for (int i = 0; i < 3 && !c->found; i++) {
        if (bases[i] == NULL)
            continue;
        if (file[0] == '/')
            snprintf(path, sizeof path, "%s", file);
        else
            snprintf(path, sizeof path, "%s/%s", bases[i], file);
        c->found = read_line_of(path, line, c->text, sizeof c->text);
    }
    return c->found ? c->text : NULL;
}
