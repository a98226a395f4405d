/*
 * export.h: a recording as a sequence diagram, for slides and lab reports.
 *
 * The participants are the endpoints: each traced process ("server 1234"),
 * and any address on the wire that no traced process owns (an untraced
 * peer). The messages, in the recording's order, are the calls (each a
 * process's message to itself, with its result), the segments between
 * the endpoints (flags, relative seq and ack, window, length), and each
 * TCP state a connection enters, as a note.
 *
 *   export_mermaid   Mermaid "sequenceDiagram" text
 *   export_text      the same as plain, aligned text
 */
#ifndef SOCKSCOPE_EXPORT_H
#define SOCKSCOPE_EXPORT_H

#include <stdio.h>

#include "record.h"

int export_mermaid(const struct recording *r, FILE *out);
int export_text(const struct recording *r, FILE *out);

#endif
