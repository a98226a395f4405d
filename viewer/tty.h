/*
 * tty.h: the ncurses backend: a grid onto the terminal, keys back.
 *
 * Colours when the terminal has them and NO_COLOR is not set; otherwise
 * bold, reverse and underline stand for them. Box drawing when the locale
 * is UTF-8 (setlocale(LC_ALL, "") first), ASCII otherwise.
 */
#ifndef SOCKSCOPE_TTY_H
#define SOCKSCOPE_TTY_H

#include <stdbool.h>

#include "grid.h"

/* Take the terminal (alternate screen, no echo, keys one by one). Returns
 * 0, or -1 when stdin/stdout is not a terminal ncurses can drive. */
int tty_start(void);

/* Give the terminal back as it was. Safe to call twice. */
void tty_stop(void);

/* The terminal is ours. */
bool tty_active(void);

/* The locale can show box characters. */
bool tty_unicode(void);

/* The screen's size now. */
void tty_size(int *rows, int *cols);

/* Show `g` (the screen's size); only cells that changed since the last
 * call are sent, unless `full`. */
void tty_show(const struct grid *g, bool full);

/* The next key, or -1 when none is waiting (KEY_RESIZE after a resize). */
int tty_key(void);

/* Restore the terminal from a signal handler: only async-signal-safe
 * calls. */
void tty_emergency_restore(void);

#endif
