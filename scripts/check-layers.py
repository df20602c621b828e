#!/usr/bin/env python3
"""check-layers.py: every #include follows the layer order of scripts/layers.txt, and no modules include each other.

Rules (scripts/layers.txt says them to people):
  1. Every folder that holds a tracked .c/.h file is named in layers.txt.
  2. A file includes headers of its own folder or of folders earlier in the
     list, never of a later one. Test code (test-*.c, everything under tests/)
     may include any layer.
  3. Nothing but test code includes tests/support.
  4. No include circle between modules. A module is a file name without
     ".c"/".h" and without a "-internal" suffix (foo.c, foo.h and
     foo-internal.h are module foo); module A depends on module B when a file
     of A includes a header of B.

usage: scripts/check-layers.py [--plant FILE:HEADER ...] | --self-test
  --plant pretends FILE also includes HEADER (both repository paths).
  --self-test plants an upward include, a circle and a tests/support include
  in turn and passes only if the check reports each one (the suite runs it,
  so a check that can no longer fail fails).
Exit status: 0 clean, 1 violations (listed), 2 usage.
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the include directories of meson.build (besides the including file's own folder)
INCLUDE_DIRS = ['', 'exchange', 'registry', 'adapters']
GENERATED = {'xbus-config.h', 'embedded.h'}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_layers():
    order = []
    for line in (ROOT / 'scripts/layers.txt').read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            order.append(line)
    return order


def tracked():
    out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '*.c', '*.h'], cwd=ROOT, capture_output=True, text=True, check=True)
    return [p for p in out.stdout.split() if (ROOT / p).exists()]


def is_test(path):
    return path.startswith('tests/') or Path(path).name.startswith('test-')


def module(path):
    p = Path(path)
    name = p.name.rsplit('.', 1)[0]
    if name.endswith('-internal'):
        name = name[: -len('-internal')]
    return str(p.parent / name)


def resolve(including, header, files):
    """The repository path an include names, or None (a generated or system header)."""
    own = str(Path(including).parent / header)
    if own in files:
        return own
    for d in INCLUDE_DIRS:
        cand = str(Path(d) / header) if d else header
        if cand in files:
            return cand
    return None


def layer_of(path, order):
    folder = str(Path(path).parent)
    return order.index(folder) if folder in order else None


def find_circle(graph):
    """One circle of module names, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


SELF_TESTS = [
    ('exchange/util/macro.h:exchange/http/frontdoor.h', 'a layer above exchange/util'),
    ('exchange/soap/soap-xml.h:exchange/soap/soap.h', 'include circle: '),
    ('exchange/log/exlog.c:tests/support/test-util.h', 'only test code may use tests/support'),
]


def self_test():
    import contextlib
    import io
    failed = 0
    for plant, want in SELF_TESTS:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            r = main(['check-layers', '--plant', plant])
        ok = r == 1 and want in err.getvalue()
        print(f'{"ok  " if ok else "FAIL"} planted {plant}: {"reported" if ok else "NOT reported"} ({want.strip()})')
        failed += not ok
    print(f'{len(SELF_TESTS) - failed} passed, {failed} failed')
    return 1 if failed else 0


def main(argv):
    planted = []
    args = argv[1:]
    if args == ['--self-test']:
        return self_test()
    while args:
        if args[0] == '--plant' and len(args) > 1 and ':' in args[1]:
            planted.append(tuple(args[1].split(':', 1)))
            args = args[2:]
        else:
            print(__doc__.split('\n\n')[-2], file=sys.stderr)
            return 2
    order = read_layers()
    files = tracked()
    fileset = set(files)
    problems = []

    for folder in sorted({str(Path(f).parent) for f in files}):
        if folder not in order:
            problems.append(f'{folder}/: a folder with C code that scripts/layers.txt does not place')

    includes = {f: [] for f in files}
    for f in files:
        for n, line in enumerate((ROOT / f).read_text(errors='replace').splitlines(), 1):
            m = INCLUDE.match(line)
            if m:
                includes[f].append((n, m.group(1)))
    for f, h in planted:
        includes.setdefault(f, []).append((0, h))

    graph = {}
    for f, incs in includes.items():
        for n, header in incs:
            if Path(header).name in GENERATED:
                continue
            target = resolve(f, header, fileset)
            if target is None:
                problems.append(f'{f}:{n}: "{header}" names no file of the repository')
                continue
            if target.startswith('tests/support/') and not is_test(f):
                problems.append(f'{f}:{n}: includes "{header}": only test code may use tests/support')
            if not is_test(f):
                lf, lt = layer_of(f, order), layer_of(target, order)
                if lf is not None and lt is not None and lt > lf:
                    problems.append(f'{f}:{n}: includes "{header}" from {order[lt]}, a layer above {order[lf]}')
                if module(f) != module(target):
                    graph.setdefault(module(f), set()).add(module(target))

    circle = find_circle(graph)
    if circle:
        problems.append('include circle: ' + ' -> '.join(circle))
    for p in problems:
        print('check-layers: ' + p, file=sys.stderr)
    print(f'check-layers: {len(files)} files, {len(order)} layers, {sum(len(v) for v in graph.values())} module '
          f'dependencies, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
