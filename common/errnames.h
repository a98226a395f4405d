/*
 * errnames.h: an errno by its symbolic name.
 *
 * Students search the web for "EADDRINUSE", not for 98. These give the
 * name and the C library's one-line meaning of an errno value.
 */
#ifndef SOCKSCOPE_ERRNAMES_H
#define SOCKSCOPE_ERRNAMES_H

/* "EADDRINUSE" for EADDRINUSE; "E?" for a number the C library does not know. */
const char *errno_name(int err);

/* "Address already in use"; never NULL. */
const char *errno_meaning(int err);

/* The errno whose name is `name`, or 0. */
int errno_from_name(const char *name);

#endif
