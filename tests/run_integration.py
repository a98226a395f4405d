#!/usr/bin/env python3
"""Run the integration tests: tests/integration/test_*.py.

    run_integration.py --bin DIR --build DIR [--sanitized] [-k WORD] [FILE...]

Prints each test's sentence with ok, FAIL or skip; for a failure, the whole
history the test recorded. Ends with "N passed, N failed, N skipped" and
exits non-zero when any test failed.
"""
import argparse
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))

import harness  # noqa: E402


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--sanitized", action="store_true")
    ap.add_argument("--label", default=None, help="shown beside each result")
    ap.add_argument("-k", default=None, help="run only tests whose name contains this")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()

    files = a.files or sorted(
        os.path.join(HERE, "integration", f) for f in os.listdir(os.path.join(HERE, "integration"))
        if f.startswith("test_") and f.endswith(".py"))
    passed = failed = skipped = 0
    label = "sanitized" if a.sanitized else "plain"
    if a.label:
        label += ", " + a.label
    for path in files:
        mod = load(path)
        tests = [(n, getattr(mod, n)) for n in sorted(dir(mod), key=lambda n: getattr(
            getattr(mod, n), "__code__", None) and getattr(mod, n).__code__.co_firstlineno or 0)
            if n.startswith("test_") and callable(getattr(mod, n))]
        for name, fn in tests:
            if a.k and a.k not in name:
                continue
            if a.sanitized and getattr(fn, "plain_only", False):
                continue
            sentence = (fn.__doc__ or name).strip().splitlines()[0]
            ctx = harness.Context(a.bin, a.build, sanitized=a.sanitized)
            t0 = time.time()
            try:
                fn(ctx)
                passed += 1
                print("ok    [%s] %s: %s (%.1fs)" % (label, os.path.basename(path), sentence,
                                                     time.time() - t0), flush=True)
            except harness.Skip as s:
                skipped += 1
                print("skip  [%s] %s: %s -- %s" % (label, os.path.basename(path), sentence, s),
                      flush=True)
            except Exception:
                failed += 1
                print("FAIL  [%s] %s: %s" % (label, os.path.basename(path), sentence), flush=True)
                print("  --- what happened, step by step ---")
                for h in ctx.history:
                    print("  " + str(h).replace("\n", "\n  "))
                print("  --- the failure ---")
                print("  " + traceback.format_exc().replace("\n", "\n  "), flush=True)
            finally:
                ctx.cleanup()
    print("integration [%s]: %d passed, %d failed, %d skipped" % (label, passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
