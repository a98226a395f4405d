/*
 * export.h: a session as a sequence diagram, for slides and lab reports.
 *
 * The participants are the traced processes (and "kernel" for what only
 * sock_diag saw); the messages are the calls, drawn from the caller to the
 * process at the other end of the connection when that end is traced (a
 * connect, a send, a close), else to the caller itself; state transitions
 * are notes. Segments on the wire join them once packets are captured.
 *
 *   export_mermaid  Mermaid's sequenceDiagram syntax
 *   export_text     the same as plain text, one line a message
 */
#ifndef SOCKSCOPE_EXPORT_H
#define SOCKSCOPE_EXPORT_H

#include <stdio.h>

#include "model.h"

void export_mermaid(const struct timeline *t, FILE *out);
void export_text(const struct timeline *t, FILE *out);

#endif
