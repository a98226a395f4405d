/* grid.c: a screen as plain data; see grid.h. */
#include "grid.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

int grid_init(struct grid *g, int rows, int cols, bool unicode)
{
    if (rows < 1)
        rows = 1;
    if (cols < 1)
        cols = 1;
    g->cells = calloc((size_t)rows * (size_t)cols, sizeof *g->cells);
    if (g->cells == NULL)
        return -1;
    g->rows = rows;
    g->cols = cols;
    g->unicode = unicode;
    grid_clear(g);
    return 0;
}

void grid_free(struct grid *g)
{
    free(g->cells);
    g->cells = NULL;
    g->rows = g->cols = 0;
}

void grid_clear(struct grid *g)
{
    for (int i = 0; i < g->rows * g->cols; i++) {
        g->cells[i].ch = ' ';
        g->cells[i].attr = AT_NORMAL;
    }
}

uint32_t grid_glyph(const struct grid *g, uint32_t ch)
{
    static const uint32_t uni[] = {0,      0x2500, 0x2502, 0x250c, 0x2510, 0x2514, 0x2518,
                                   0x25b6, 0x25c0, 0x25bc, 0x25b2, 0x2588, 0x2591};
    static const char ascii[] = {0, '-', '|', '+', '+', '+', '+', '>', '<', 'v', '^', '#', '.'};
    if (ch == 0 || ch > G_LIGHT)
        return ch;
    return g->unicode ? uni[ch] : (uint32_t)ascii[ch];
}

void grid_put(struct grid *g, int r, int c, uint32_t ch, int attr)
{
    if (r < 0 || c < 0 || r >= g->rows || c >= g->cols)
        return;
    struct cell *cell = &g->cells[r * g->cols + c];
    cell->ch = grid_glyph(g, ch);
    cell->attr = (uint8_t)attr;
}

/* The next code point of a UTF-8 string; invalid bytes give U+FFFD. */
static uint32_t next_cp(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t c = p[0];
    int need = 0;
    if (c < 0x80) {
        *pp = p + 1;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        c &= 0x07;
    } else {
        *pp = p + 1;
        return 0xfffd;
    }
    for (int i = 1; i <= need; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *pp = p + i;
            return 0xfffd;
        }
        c = (c << 6) | (p[i] & 0x3f);
    }
    *pp = p + need + 1;
    return c;
}

int grid_text(struct grid *g, int r, int c, int maxw, const char *utf8, int attr)
{
    if (utf8 == NULL)
        return 0;
    const unsigned char *p = (const unsigned char *)utf8;
    int n = 0;
    while (*p && n < maxw && c + n < g->cols) {
        uint32_t cp = next_cp(&p);
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
            cp = '.';
        else if (cp >= 0x80 && (!g->unicode || wcwidth((wchar_t)cp) != 1))
            cp = '?';
        if (r >= 0 && r < g->rows && c + n >= 0) {
            struct cell *cell = &g->cells[r * g->cols + c + n];
            cell->ch = cp;
            cell->attr = (uint8_t)attr;
        }
        n++;
    }
    return n;
}

int grid_printf(struct grid *g, int r, int c, int maxw, int attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return grid_text(g, r, c, maxw, buf, attr);
}

void grid_hline(struct grid *g, int r, int c, int n, uint32_t ch, int attr)
{
    for (int i = 0; i < n; i++)
        grid_put(g, r, c + i, ch, attr);
}

void grid_vline(struct grid *g, int r, int c, int n, uint32_t ch, int attr)
{
    for (int i = 0; i < n; i++)
        grid_put(g, r + i, c, ch, attr);
}

void grid_paint(struct grid *g, int r, int c, int n, int attr)
{
    for (int i = 0; i < n; i++)
        if (r >= 0 && r < g->rows && c + i >= 0 && c + i < g->cols)
            g->cells[r * g->cols + c + i].attr = (uint8_t)attr;
}

void grid_title(struct grid *g, struct rect rc, const char *title, bool focused)
{
    grid_hline(g, rc.r, rc.c, rc.w, G_H, AT_DIM);
    if (rc.w > 4) {
        char buf[128];
        snprintf(buf, sizeof buf, " %s ", title);
        grid_text(g, rc.r, rc.c + 1, rc.w - 2, buf, focused ? AT_LIT : AT_TITLE);
    }
}

static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

char *grid_row_text(const struct grid *g, int r, char *buf, size_t size)
{
    size_t len = 0, keep = 0;
    buf[0] = '\0';
    if (r < 0 || r >= g->rows || size < 5)
        return buf;
    for (int c = 0; c < g->cols; c++) {
        char u[4];
        size_t n = put_utf8(g->cells[r * g->cols + c].ch, u);
        if (len + n + 1 > size)
            break;
        memcpy(buf + len, u, n);
        len += n;
        if (g->cells[r * g->cols + c].ch != ' ')
            keep = len;
    }
    buf[keep] = '\0';
    return buf;
}

void grid_dump(const struct grid *g, FILE *out)
{
    size_t size = (size_t)g->cols * 4 + 1;
    char *buf = malloc(size);
    if (buf == NULL)
        return;
    for (int r = 0; r < g->rows; r++)
        fprintf(out, "%s\n", grid_row_text(g, r, buf, size));
    free(buf);
}
