/*
 * lessons.h: the lessons the menu offers, in one table.
 *
 * A lesson is a program bin/NN-topic built from lessons/NN-topic.c; the
 * front command finds the binaries next to its own executable.
 */
#ifndef SOCKSCOPE_LESSONS_H
#define SOCKSCOPE_LESSONS_H

#include <stdbool.h>
#include <stddef.h>

struct lesson_entry {
    const char *name;      /* "02-call-sequence": the binary's name */
    const char *title;     /* "The call sequence" */
    const char *concept;   /* one line */
    const char *privilege; /* what it needs beyond a user's rights, or NULL */
};

extern const struct lesson_entry lesson_table[];
extern const size_t lesson_count;

/* The lesson named by `id`: "2", "02", "02-call-sequence"; NULL if none. */
const struct lesson_entry *lesson_find(const char *id);

/* The directory holding this executable (where the lessons are), into
 * `buf`. Returns buf, or NULL. */
char *self_dir(char *buf, size_t size);

/* The path of lesson `l`'s binary into `buf`; returns true when it exists. */
bool lesson_path(const struct lesson_entry *l, char *buf, size_t size);

#endif
