/*
 * Unit tests of proc.c: a lesson's child processes are named, die with
 * their parent, report how they ended, and (as root) become another user.
 * Each test forks real processes; a child answers by its exit status.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "proc.h"
#include "unit.h"

static void a_child_is_named_and_dies_with_its_parent(void)
{
    pid_t pid = proc_spawn("worker");
    CU_ASSERT_FATAL(pid != -1);
    if (pid == 0) {
        char name[17] = "";
        int sig = 0;
        prctl(PR_GET_NAME, name);
        prctl(PR_GET_PDEATHSIG, &sig);
        _exit(strcmp(name, "worker") == 0 && sig == SIGKILL ? 0 : 1);
    }
    CU_ASSERT_EQUAL(proc_reap(pid), 0);
}

static void reap_tells_success_from_failure_and_a_kill(void)
{
    pid_t ok = proc_spawn("ok");
    if (ok == 0)
        _exit(0);
    pid_t bad = proc_spawn("bad");
    if (bad == 0)
        _exit(3);
    pid_t killed = proc_spawn("killed");
    if (killed == 0) {
        pause();
        _exit(0);
    }
    CU_ASSERT_FATAL(ok > 0 && bad > 0 && killed > 0);
    CU_ASSERT_EQUAL(proc_reap(ok), 0);
    CU_ASSERT_EQUAL(proc_reap(bad), 1);
    kill(killed, SIGKILL);
    CU_ASSERT_EQUAL(proc_reap(killed), 1);
    errno = 0;
    CU_ASSERT_EQUAL(proc_reap(killed), -1); /* reaped already: no such child */
    CU_ASSERT_EQUAL(errno, ECHILD);
}

/* As root the child becomes nobody, without root's groups, and still dies
 * with its parent; as anyone else the change is refused with EPERM. */
static void become_changes_user_only_for_root(void)
{
    bool root = geteuid() == 0;
    struct passwd *pw = getpwnam("nobody");
    uid_t want = pw ? pw->pw_uid : 65534;
    pid_t pid = proc_spawn("become");
    CU_ASSERT_FATAL(pid != -1);
    if (pid == 0) {
        int rc = proc_become("nobody"), err = errno;
        if (!root)
            _exit(rc == -1 && err == EPERM ? 0 : 1);
        int sig = 0;
        prctl(PR_GET_PDEATHSIG, &sig);
        gid_t groups[4];
        int n = getgroups(4, groups);
        bool gone = n == 0 || (n == 1 && groups[0] == getgid());
        _exit(rc == 0 && getuid() == want && geteuid() == want && gone && sig == SIGKILL ? 0 : 1);
    }
    CU_ASSERT_EQUAL(proc_reap(pid), 0);
}

UNIT_MAIN("proc",
          {"a child is named and is killed when its parent dies",
           a_child_is_named_and_dies_with_its_parent},
          {"reap tells an exit 0 from a failure and a kill, and a child reaped twice",
           reap_tells_success_from_failure_and_a_kill},
          {"becoming nobody works for root only, and keeps the parent-death signal",
           become_changes_user_only_for_root});
