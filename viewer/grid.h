/*
 * grid.h: a screen as plain data, rows x cols of cells.
 *
 * The viewer draws into a grid, never into the terminal: drawing is a pure
 * function of the session and the view, and a grid can be copied to the
 * terminal (tty.c), or written out as text for a test or a document
 * (grid_dump). Each cell holds one Unicode code point and one attribute.
 *
 * Line drawing goes through the G_* glyphs: box characters in a UTF-8
 * locale, plain ASCII (- | + > v) otherwise.
 */
#ifndef SOCKSCOPE_GRID_H
#define SOCKSCOPE_GRID_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What a cell means; the terminal backend turns it into colour or, without
 * colour, into bold, reverse and underline. */
enum attr {
    AT_NORMAL = 0,
    AT_TITLE, /* a pane's title */
    AT_DIM,   /* less important: closed sockets, explanations */
    AT_LIT,   /* the current TCP state, the selected socket */
    AT_PREV,  /* the state just left */
    AT_OK,    /* a call that succeeded */
    AT_ERR,   /* a call that failed, an error */
    AT_KEY,   /* a key in the key bar */
    AT_BAR,   /* the key bar and status line */
    AT_DATA,  /* bytes in the queues */
    AT_WARN,  /* dropped events, a missing thing */
    AT_COUNT
};

/* Line drawing glyphs: code points below 32 that grid_put turns into box
 * characters or their ASCII stand-ins. */
enum glyph { G_H = 1, G_V, G_TL, G_TR, G_BL, G_BR, G_RIGHT, G_LEFT, G_DOWN, G_UP, G_FULL, G_LIGHT };

struct cell {
    uint32_t ch;
    uint8_t attr;
};

struct grid {
    int rows, cols;
    bool unicode; /* box characters and non-ASCII text may be drawn */
    struct cell *cells;
};

/* A rectangle of the grid; drawing functions clip to it. */
struct rect {
    int r, c, h, w;
};

/* Allocate a grid of rows x cols (both at least 1), blank. Returns 0 or -1. */
int grid_init(struct grid *g, int rows, int cols, bool unicode);
void grid_free(struct grid *g);
void grid_clear(struct grid *g);

/* One cell; outside the grid nothing happens. */
void grid_put(struct grid *g, int r, int c, uint32_t ch, int attr);

/* UTF-8 text from (r, c), at most `maxw` cells (and never past the grid's
 * edge); control characters become '.', and without Unicode every non-ASCII
 * character becomes '?'. Returns the number of cells written. */
int grid_text(struct grid *g, int r, int c, int maxw, const char *utf8, int attr);

/* printf into the grid, clipped like grid_text. */
int grid_printf(struct grid *g, int r, int c, int maxw, int attr, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Fill `n` cells of row r from c with ch. */
void grid_hline(struct grid *g, int r, int c, int n, uint32_t ch, int attr);
void grid_vline(struct grid *g, int r, int c, int n, uint32_t ch, int attr);

/* Set the attribute of `n` cells, keeping their characters. */
void grid_paint(struct grid *g, int r, int c, int n, int attr);

/* A pane's title bar across row rect.r: "── Title ───". */
void grid_title(struct grid *g, struct rect rc, const char *title, bool focused);

/* The code point grid_put stores for a cell: glyphs resolved. */
uint32_t grid_glyph(const struct grid *g, uint32_t ch);

/* Write the grid as text: one line a row, trailing blanks removed, UTF-8. */
void grid_dump(const struct grid *g, FILE *out);

/* Row r as UTF-8 text into buf (trailing blanks removed). */
char *grid_row_text(const struct grid *g, int r, char *buf, size_t size);

#endif
