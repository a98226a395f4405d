/* sandbox.c: a private user and network namespace; see sandbox.h. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "quiet.h"

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -(n == -1 ? e : EIO);
}

static int loopback_up(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int rc = 0;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
        rc = -errno;
    } else {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1)
            rc = -errno;
    }
    close(fd);
    return rc;
}

int sandbox_enter(char *err, size_t errlen)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1) {
        int e = errno;
        snprintf(err, errlen, "cannot make a private user and network namespace: %s%s", strerror(e),
                 e == EPERM || e == ENOSPC
                     ? " (the system forbids them: as root, sysctl -w "
                       "kernel.unprivileged_userns_clone=1 and user.max_user_namespaces=10000)"
                     : "");
        return -e;
    }
    /* Be root inside, mapped to ourselves outside. */
    char map[64];
    int rc = write_file("/proc/self/setgroups", "deny");
    if (rc == 0 || rc == -ENOENT) {
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
        rc = write_file("/proc/self/uid_map", map);
    }
    if (rc == 0) {
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
        rc = write_file("/proc/self/gid_map", map);
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot map our user into the namespace: %s", strerror(-rc));
        return rc;
    }
    quiet_begin();
    rc = loopback_up();
    quiet_end();
    if (rc != 0) {
        snprintf(err, errlen, "cannot bring up the namespace's loopback: %s", strerror(-rc));
        return rc;
    }
    return 0;
}
