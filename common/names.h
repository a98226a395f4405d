/*
 * names.h: the symbolic names of the constants socket calls take, so a
 * call reads as a student wrote it: socket(AF_INET, SOCK_STREAM, 0), not
 * socket(2, 1, 0).
 */
#ifndef SOCKSCOPE_NAMES_H
#define SOCKSCOPE_NAMES_H

#include <stddef.h>

const char *name_family(int family, char *buf, size_t size); /* AF_INET */
/* SOCK_STREAM|SOCK_CLOEXEC */
const char *name_socktype(int type, char *buf, size_t size);
const char *name_protocol(int family, int protocol, char *buf, size_t size); /* IPPROTO_TCP */
const char *name_level(int level, char *buf, size_t size);                   /* SOL_SOCKET */
const char *name_sockopt(int level, int opt, char *buf, size_t size);        /* SO_REUSEADDR */
const char *name_msgflags(int flags, char *buf, size_t size); /* MSG_DONTWAIT|MSG_PEEK, or 0 */
const char *name_shutdown(int how);                           /* SHUT_WR */

#endif
