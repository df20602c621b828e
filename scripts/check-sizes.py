#!/usr/bin/env python3
"""check-sizes.py: the size gates of STYLE.md, checked over the tracked C sources.

Outside tests (test-*.c, tests/) and generated code, no .c file may pass
MAX_FILE lines and no function MAX_FUNC lines (STYLE.md aims at 1,000 and
100; these are the limits). A function is counted from the line that opens
its body ('{' in column 0) to the one that closes it ('}' in column 0), the
shape .clang-format gives every function in this tree.

usage: scripts/check-sizes.py [--report N]   (--report: list the N largest files and functions)
"""
import re
import subprocess
import sys
from pathlib import Path

MAX_FILE = 1200
MAX_FUNC = 150
ROOT = Path(__file__).resolve().parent.parent


def sources():
    out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '*.c', '*.h'], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in out.stdout.split():
        if re.search(r'(^|/)tests?/|(^|/)test-', name):
            continue
        yield name


def functions(lines):
    """(name, first line, length) of each top-level function body."""
    start = None
    for i, line in enumerate(lines):
        if line.startswith('{') and start is None:
            # the signature is the nearest line above that names a function
            head = ''
            for j in range(i - 1, max(i - 6, -1), -1):
                head = lines[j] + head
                m = re.search(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(', head)
                if m and not lines[j].startswith(' '):
                    break
            m = re.search(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(', head)
            start = (m.group(1) if m else '?', i + 1)
        elif line.startswith('}') and start is not None:
            name, first = start
            if not re.match(r'}\s*[A-Za-z_]', line) and not line.startswith('};'):
                yield name, first, i + 1 - first + 1
            start = None


def main():
    report = 0
    if len(sys.argv) > 2 and sys.argv[1] == '--report':
        report = int(sys.argv[2])
    files, funcs, bad = [], [], []
    for name in sources():
        lines = (ROOT / name).read_text(errors='replace').splitlines()
        if name.endswith('.c'):
            files.append((len(lines), name))
            if len(lines) > MAX_FILE:
                bad.append(f'{name}: {len(lines)} lines (limit {MAX_FILE})')
        for fn, first, n in functions(lines):
            funcs.append((n, f'{name}:{first} {fn}()'))
            if n > MAX_FUNC:
                bad.append(f'{name}:{first}: {fn}() is {n} lines (limit {MAX_FUNC})')
    if report:
        print('largest files:')
        for n, name in sorted(files, reverse=True)[:report]:
            print(f'  {n:6} {name}')
        print('largest functions:')
        for n, where in sorted(funcs, reverse=True)[:report]:
            print(f'  {n:6} {where}')
    for b in bad:
        print('check-sizes: ' + b, file=sys.stderr)
    print(f'check-sizes: {len(files)} files, {len(funcs)} functions, {len(bad)} over the limits')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
