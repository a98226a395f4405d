/*
 * textwrap.h: explanations printed for a person, wrapped to fit an
 * 80-column terminal:
 *
 *   why:  The port in 127.0.0.1:9000 is taken by another socket on this
 *         machine (or by a connection still in TIME_WAIT).
 */
#ifndef SOCKSCOPE_TEXTWRAP_H
#define SOCKSCOPE_TEXTWRAP_H

#include <stdio.h>

/* Print "  LABEL " then `text`, wrapped at 78 columns with following lines
 * indented under the text. */
void print_wrapped(FILE *f, const char *label, const char *text);

#endif
