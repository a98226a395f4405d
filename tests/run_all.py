#!/usr/bin/env python3
"""Run every test: the CUnit programs and the integration tests, on the
plain build and on the sanitizer build. Prints each part as it goes and
ends with one line "N passed, N failed, N skipped"; exits non-zero when
anything failed.

    run_all.py --plain-bin bin --plain-build build \
               --san-bin build/asan/bin --san-build build/asan
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_units(build, label, env):
    """Each test_* program in BUILD/tests; CUnit prints its own summary."""
    passed = failed = 0
    for prog in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        if not os.access(prog, os.X_OK) or prog.endswith(".d"):
            continue
        t0 = time.time()
        try:
            p = subprocess.run([prog], capture_output=True, text=True, timeout=300, env=env,
                               errors="replace")
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, rc = "timed out after 300 s", 1
        m = re.search(r"tests\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)", out)
        ran, ok, bad = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 1)
        sanitizer = "runtime error:" in out or "Sanitizer" in out
        if rc != 0 or bad or sanitizer or not m:
            failed += max(bad, 1)
            passed += ok
            print("FAIL  [%s] %s (exit %d)\n%s" % (label, os.path.basename(prog), rc,
                                                   "  " + out.replace("\n", "\n  ")), flush=True)
        else:
            passed += ok
            print("ok    [%s] %s: %d tests (%.1fs)" % (label, os.path.basename(prog), ran,
                                                       time.time() - t0), flush=True)
    print("unit [%s]: %d passed, %d failed" % (label, passed, failed), flush=True)
    return passed, failed


def unprivileged_user():
    """The user to run the tests as a second time when we are root: the
    tests must pass for an ordinary user too."""
    import pwd
    for name in ("nobody",):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    return None


def run_integration(bin_dir, build, sanitized, as_user=None):
    argv = [sys.executable, os.path.join(HERE, "run_integration.py"), "--bin", bin_dir,
            "--build", build] + (["--sanitized"] if sanitized else [])
    if as_user:
        argv = ["runuser", "-u", as_user, "--"] + argv + ["--label", "as " + as_user]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    last = ""
    for line in p.stdout:
        print(line, end="", flush=True)
        if line.startswith("integration ["):
            last = line
    p.wait()
    m = re.search(r"(\d+) passed, (\d+) failed, (\d+) skipped", last)
    if not m:
        return 0, 1, 0
    return int(m.group(1)), int(m.group(2)) + (1 if p.returncode and not int(m.group(2)) else 0), \
        int(m.group(3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plain-bin", required=True)
    ap.add_argument("--plain-build", required=True)
    ap.add_argument("--san-bin", required=True)
    ap.add_argument("--san-build", required=True)
    a = ap.parse_args()

    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    t0 = time.time()
    total_p = total_f = total_s = 0
    for build, label in ((a.plain_build, "plain"), (a.san_build, "sanitized")):
        p, f = run_units(build, label, env)
        total_p += p
        total_f += f
    runs = [(a.plain_bin, a.plain_build, False, None), (a.san_bin, a.san_build, True, None)]
    user = unprivileged_user() if os.geteuid() == 0 else None
    if user:
        runs.append((a.plain_bin, a.plain_build, False, user))
    else:
        print("(not root: the integration tests ran as this ordinary user only)")
    for bin_dir, build, san, as_user in runs:
        p, f, s = run_integration(bin_dir, build, san, as_user)
        total_p += p
        total_f += f
        total_s += s
    print("\nall tests in %.0f s" % (time.time() - t0))
    print("%d passed, %d failed, %d skipped" % (total_p, total_f, total_s))
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
