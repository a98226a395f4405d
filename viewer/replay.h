/*
 * replay.h: a recorded session (or any trace file) played back.
 *
 * A recording is a directory holding timeline.jsonl: the session timeline
 * one entry a line (model.h). The screen at any point is a function of the
 * recording and the cursor alone: replay_dump() prints it as text with no
 * terminal, replay_run() lets a person move the cursor: play at 0.1x to 10x,
 * pause, one event forward or back, start, end.
 */
#ifndef SOCKSCOPE_REPLAY_H
#define SOCKSCOPE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "model.h"

/* Read `path` (a recording's directory or a trace file) into `t`. What is
 * wrong with it is said on `err`; what is intact is kept. `title` gets a
 * short name for the status line. Returns 0, or -1 when nothing could be
 * read. */
int replay_load(const char *path, struct timeline *t, char *title, size_t titlesize, char *warning,
                size_t warnsize, FILE *err);

/* Print the screen (cols x rows) at entry `n` (the first n entries
 * applied). Returns 0, or -1 when out of memory. */
int replay_dump(const struct timeline *t, size_t n, int cols, int rows, bool ascii,
                const char *title, FILE *out);

/* Play `t` on the terminal (tty_start first) until q. With `dump_path`,
 * each screen drawn is also written there as text (for tests). */
void replay_run(const struct timeline *t, const char *title, const char *warning,
                const char *dump_path);

#endif
