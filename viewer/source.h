/*
 * source.h: the source line a trace event points at.
 *
 * Events carry "src": "lessons/02-call-sequence.c:107", a path relative to
 * the repository. The file is looked for from the current directory, from
 * the executable's ../ (bin/ sits in the repository), and from the tree
 * the library was built from; when none has it, there is no line to show.
 */
#ifndef SOCKSCOPE_SOURCE_H
#define SOCKSCOPE_SOURCE_H

struct source_cache {
    char key[300];
    char text[300];
    int found;
};

/* The text of the line `src` names ("file:line"), tabs as spaces, or NULL.
 * The last answer is cached in `c`. */
const char *source_line_text(struct source_cache *c, const char *src);

#endif
