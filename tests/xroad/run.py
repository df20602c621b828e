#!/usr/bin/env python3
"""run.py: run every group of the X-Road conformance suite in turn and end with the total
`N passed, M failed` (meson runs the groups as separate tests of the suite `xroad`; this is
for people and reports). Set the environment as tests/xroad/meson.build does (XBUS_BIN_*,
XBUS_SOURCE_ROOT, XBUS_XROAD_TOOLS). `run.py -q` prints only the summary lines."""
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    quiet = "-q" in sys.argv[1:]
    passed = failed = na = 0
    rows = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        name = os.path.basename(path)[5:-3]
        res = subprocess.run([sys.executable, path], capture_output=True, text=True)
        out = res.stdout + res.stderr
        if not quiet:
            print(out, end="" if out.endswith("\n") else "\n")
        m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
        n = re.search(r"^(\d+) requirements not applicable", out, re.M)
        p, f = (int(m.group(1)), int(m.group(2))) if m else (0, 1)
        a = int(n.group(1)) if n else 0
        rows.append((name, p, f, a, "" if m else "no summary line (exit %d)" % res.returncode))
        passed, failed, na = passed + p, failed + f, na + a
    print("# xroad suite by group: passed / failed / not applicable")
    for name, p, f, a, note in rows:
        print("#   %-18s %3d %3d %3d %s" % (name, p, f, a, note))
    print("%d requirements not applicable to a single xbus node" % na)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
