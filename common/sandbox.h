/*
 * sandbox.h: a private user and network namespace, entered without any
 * privilege on the host (what `unshare -rn` does).
 *
 * Inside, this process is root of its own user namespace, so it holds
 * CAP_NET_RAW for its own network namespace: it can capture packets and
 * open raw sockets there. The namespace has its own loopback interface,
 * brought up here, and nothing else: no route out, and no host process can
 * be reached or disturbed. Programs started after sandbox_enter() share it.
 */
#ifndef SOCKSCOPE_SANDBOX_H
#define SOCKSCOPE_SANDBOX_H

#include <stddef.h>

/*
 * Enter a new user and network namespace and bring `lo` up. Returns 0, or
 * a negative errno with a sentence in `err` (for example when the system
 * forbids unprivileged user namespaces, with the setting to change).
 */
int sandbox_enter(char *err, size_t errlen);

#endif
