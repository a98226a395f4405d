/* tty.c: the ncurses backend; see tty.h. */
#include "tty.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curses.h>

static bool active;
static SCREEN *screen;
static bool colour;
static struct grid shown; /* what the terminal shows now */
static struct termios saved;
static bool saved_ok;

bool tty_active(void)
{
    return active;
}

bool tty_unicode(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && strcmp(cs, "UTF-8") == 0;
}

int tty_start(void)
{
    if (active)
        return 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -1;
    saved_ok = tcgetattr(STDIN_FILENO, &saved) == 0;
    screen = newterm(NULL, stdout, stdin);
    if (screen == NULL)
        return -1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(50);
    curs_set(0);
    colour = has_colors() && getenv("NO_COLOR") == NULL;
    if (colour) {
        start_color();
        use_default_colors();
        init_pair(AT_TITLE, COLOR_CYAN, -1);
        init_pair(AT_DIM, COLOR_BLUE, -1);
        init_pair(AT_LIT, COLOR_BLACK, COLOR_GREEN);
        init_pair(AT_PREV, COLOR_BLACK, COLOR_YELLOW);
        init_pair(AT_OK, COLOR_GREEN, -1);
        init_pair(AT_ERR, COLOR_RED, -1);
        init_pair(AT_KEY, COLOR_BLACK, COLOR_CYAN);
        init_pair(AT_BAR, COLOR_WHITE, COLOR_BLUE);
        init_pair(AT_DATA, COLOR_MAGENTA, -1);
        init_pair(AT_WARN, COLOR_YELLOW, -1);
    }
    active = true;
    memset(&shown, 0, sizeof shown);
    return 0;
}

void tty_stop(void)
{
    if (!active)
        return;
    active = false;
    curs_set(1);
    endwin();
    delscreen(screen);
    screen = NULL;
    grid_free(&shown);
    if (saved_ok)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

void tty_emergency_restore(void)
{
    if (!active)
        return;
    static const char leave[] = "\033[?1049l\033[?25h\033[0m\r\n";
    if (write(STDOUT_FILENO, leave, sizeof leave - 1) < 0) {
        /* Nothing more can be done from a signal handler. */
    }
    if (saved_ok)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

void tty_size(int *rows, int *cols)
{
    getmaxyx(stdscr, *rows, *cols);
}

static attr_t mono(int a)
{
    switch (a) {
    case AT_TITLE: return A_BOLD;
    case AT_LIT: return A_REVERSE | A_BOLD;
    case AT_PREV: return A_UNDERLINE;
    case AT_ERR: return A_BOLD;
    case AT_KEY: return A_BOLD;
    case AT_BAR: return A_REVERSE;
    case AT_WARN: return A_BOLD;
    default: return A_NORMAL;
    }
}

void tty_show(const struct grid *g, bool full)
{
    if (!active)
        return;
    if (shown.rows != g->rows || shown.cols != g->cols) {
        grid_free(&shown);
        if (grid_init(&shown, g->rows, g->cols, g->unicode) == -1)
            return;
        full = true;
    }
    if (full)
        clearok(curscr, TRUE);
    for (int r = 0; r < g->rows; r++) {
        for (int c = 0; c < g->cols; c++) {
            const struct cell *cl = &g->cells[r * g->cols + c];
            struct cell *old = &shown.cells[r * g->cols + c];
            if (!full && old->ch == cl->ch && old->attr == cl->attr)
                continue;
            *old = *cl;
            wchar_t wc[2] = {(wchar_t)cl->ch, 0};
            cchar_t cc;
            attr_t at = colour ? (cl->attr == AT_LIT || cl->attr == AT_TITLE ? A_BOLD : A_NORMAL)
                               : mono(cl->attr);
            short pair = colour ? (short)cl->attr : 0;
            setcchar(&cc, wc, at, pair, NULL);
            mvadd_wch(r, c, &cc);
        }
    }
    wnoutrefresh(stdscr);
    doupdate();
}

int tty_key(void)
{
    int k = getch();
    return k == ERR ? -1 : k;
}
