#!/usr/bin/env python3
"""openapi-validate.py: install (once) and run the suite's external OpenAPI 3.1 validator.

    openapi-validate.py [--tools DIR] FILE...     validate; exit 0 all valid, 1 some invalid,
                                                  2 the validator could not be installed or run
    openapi-validate.py [--tools DIR] --install   install only

The validator is third-party code, not the project's: @seriousme/openapi-schema-validator
(the OpenAPI Initiative's 3.1 JSON Schema with $ref checks) and Ajv's JSON Schema 2020-12
meta-schema check of every Schema Object, glued by openapi-validator/check.mjs. Versions are
pinned in openapi-validator/package.json and package-lock.json (with integrity hashes) and
installed with `npm ci` into DIR: $XBUS_XROAD_TOOLS (meson sets it to a folder of the build
tree), else build/xroad-tools under the source tree. Nothing is installed on the quick start's
path. Needs node and npm (Debian 12: apt-get install nodejs npm)."""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "openapi-validator")
FILES = ("package.json", "package-lock.json", "check.mjs")


def tools_dir(arg=None):
    if arg:
        return os.path.abspath(arg)
    if os.environ.get("XBUS_XROAD_TOOLS"):
        return os.path.abspath(os.environ["XBUS_XROAD_TOOLS"])
    root = os.environ.get("XBUS_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
    return os.path.abspath(os.path.join(root, "build", "xroad-tools"))


def stamp():
    h = hashlib.sha256()
    for f in FILES:
        with open(os.path.join(SRC, f), "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


def install(dest):
    """Install the pinned validator into dest unless the same files are already installed there.
    Returns None, or a one-line reason why it cannot be used."""
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            return "%s is not installed (Debian 12: apt-get install nodejs npm)" % tool
    os.makedirs(dest, exist_ok=True)
    want = stamp()
    with open(os.path.join(dest, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = os.path.join(dest, ".installed")
        if os.path.exists(marker) and open(marker).read().strip() == want:
            return None
        for f in FILES:
            shutil.copyfile(os.path.join(SRC, f), os.path.join(dest, f))
        res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                             cwd=dest, capture_output=True, text=True)
        if res.returncode != 0:
            return "npm ci failed: " + (res.stderr or res.stdout).strip().replace("\n", " ")[-300:]
        with open(marker, "w") as m:
            m.write(want + "\n")
    return None


def validate(files, dest=None):
    """Validate files; returns (exit code, output)."""
    dest = tools_dir(dest)
    why = install(dest)
    if why:
        return 2, why
    res = subprocess.run(["node", os.path.join(dest, "check.mjs")] + [os.path.abspath(f) for f in files],
                         cwd=dest, capture_output=True, text=True)
    return res.returncode, (res.stdout + res.stderr).strip()


def to_json(file, dest=None):
    """The document in `file` (JSON or YAML, parsed by the validator's own YAML reader) as a
    Python object; raises RuntimeError when the validator cannot be installed or the file parsed."""
    import json
    dest = tools_dir(dest)
    why = install(dest)
    if why:
        raise RuntimeError(why)
    res = subprocess.run(["node", os.path.join(dest, "check.mjs"), "--to-json", os.path.abspath(file)],
                         cwd=dest, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("cannot parse %s: %s" % (file, res.stderr.strip()[-300:]))
    return json.loads(res.stdout)


def main(argv):
    dest = None
    if len(argv) >= 2 and argv[0] == "--tools":
        dest, argv = argv[1], argv[2:]
    if argv == ["--install"]:
        why = install(tools_dir(dest))
        print(why or "installed in " + tools_dir(dest))
        return 2 if why else 0
    if not argv:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    rc, out = validate(argv, dest)
    print(out)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
