/*
 * draw.h: the viewer's screen, drawn from the model into a grid.
 *
 * draw_screen() is a pure function of the timeline, the model at its
 * cursor and the view (size, pane maximised, selection, scroll, and the
 * few things the live session knows that are not in the timeline: the
 * lesson's output, its mode). The same call renders the terminal screen,
 * a test's text dump and `sockscope render`.
 *
 * Panes: endpoints (one column per process, each socket with fd, kind,
 * addresses, state and where the state came from, queue bars), the TCP
 * state diagram, bytes (the last data sent and received, hex and text),
 * the call log with explanations, the lesson's output, the wire (the
 * captured packets as a sequence diagram between the endpoints, shown
 * once there are packets or a reason there are none); a status line, the
 * next call with its source line, and the key bar on the last row.
 */
#ifndef SOCKSCOPE_DRAW_H
#define SOCKSCOPE_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include "grid.h"
#include "model.h"

enum pane {
    PANE_NONE = -1,
    PANE_ENDPOINTS,
    PANE_DIAGRAM,
    PANE_BYTES,
    PANE_LOG,
    PANE_OUTPUT,
    PANE_WIRE,
    PANE_COUNT
};

struct view {
    int maximized;        /* enum pane; PANE_NONE: all panes */
    int sel;              /* selected socket (index in the model); -1: the last to change */
    int log_scroll;       /* call log lines scrolled back from the newest */
    int help;             /* the help overlay is shown */
    int replay;           /* the keys are a replay's */
    const char *title;    /* what runs: "02-call-sequence", "nc -l ..." */
    const char *mode;     /* "paused", "running", "live", "ended (exit 0)" */
    const char *status;   /* a remark for the status line, or NULL */
    int speed_ms;         /* delay between automatic steps; -1: not stepping */
    long next;            /* timeline index of the step waiting for a go, -1 */
    const char *src_text; /* the source line of `next` (or of the last call) */
    const char *partial;  /* live: the output line being written, or NULL */
    uint64_t now_ns;      /* for the transition's highlight; 0: none */
    const char *wire;     /* live: why packets are or are not captured, or NULL */
};

void view_init(struct view *v);

/* Draw everything into `g` (its size is the screen's). */
void draw_screen(struct grid *g, const struct timeline *t, const struct model *m,
                 const struct view *v);

/* The sockets the endpoints pane shows, in the order it shows them
 * (indexes into m->socks); returns how many, at most `max`. */
int draw_visible_socks(const struct model *m, int *out, int max);

/* A transition happened so recently that the diagram animates it: draw
 * again every quarter second until this is false. */
bool draw_animating(const struct timeline *t, const struct model *m, uint64_t now_ns);

/* A pane's name for the key bar and the help: "endpoints". */
const char *pane_name(int pane);

#endif
