#!/usr/bin/env python3
"""test_install.py: `meson install` into a throwaway root, then run what it installed.

Checks, each failing loudly when a piece is missing (never a skip):
- the programs: exactly the installed_programs of meson.build (no benchmark or
  test tool), each with its man page;
- the man pages: present, and `man -l` renders each without a warning;
- the systemd units: present, naming the installed programs and configuration,
  with readiness (Type=notify), reload and the hardening docs/operations.md lists;
- the default configuration: every key of exchange/daemon/config.c, commented
  with the default docs/configuration.md gives, also in xbusd.conf(5); it passes
  `xbusd --test-config` as installed and with every default uncommented;
- the documentation: README.md and every docs/*.md;
- the installed xbusd, on the installed configuration moved to free ports and a
  temporary state folder: READY=1 on $NOTIFY_SOCKET, /health answers at once,
  SIGHUP gives RELOADING=1 then READY=1, SIGTERM gives STOPPING=1 and exit 0.

meson passes the build folder, the meson program, the install layout and the
lists to check in the environment (tests/install/meson.build).
"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

ROOT = os.environ["XBUS_SOURCE_ROOT"]
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402  (after the path is set)

ENV = os.environ
check = harness.Check("install")


def installed(destdir, path):
    """The file `path` (absolute, as on the target system) inside the throwaway root."""
    return os.path.join(destdir, path.lstrip("/"))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def meson_install(destdir):
    r = subprocess.run([ENV["MESON"], "install", "-C", ENV["XBUS_BUILD_ROOT"], "--no-rebuild", "--quiet",
                        "--destdir", destdir], capture_output=True, text=True)
    if not check.ok(r.returncode == 0, "meson install --destdir succeeds", r.stdout + r.stderr):
        shutil.rmtree(destdir, ignore_errors=True)
        check.finish()


def check_programs(destdir):
    bindir = installed(destdir, ENV["XBUS_BINDIR"])
    want = sorted(ENV["XBUS_INSTALLED_PROGRAMS"].split())
    got = sorted(os.listdir(bindir)) if os.path.isdir(bindir) else []
    check.eq(got, want, "bindir holds exactly the node, the CLI and the adapters (no benchmark, no test tool)")
    for name in want:
        path = os.path.join(bindir, name)
        check.ok(os.path.isfile(path) and os.access(path, os.X_OK), "%s is installed and executable" % name)


def check_man_pages(destdir):
    man = shutil.which("man")
    check.ok(man is not None, "man is installed (Debian: apt-get install man-db)")
    pages = ENV["XBUS_MAN_PAGES"].split()
    documented = set()
    for page in pages:
        name, section = page.rsplit(".", 1)
        path = installed(destdir, os.path.join(ENV["XBUS_MANDIR"], "man" + section, page))
        if not check.ok(os.path.isfile(path), "man page %s is installed" % page,
                        "(%s is missing: the pages are built only when scdoc is found and -Dman is not "
                        "disabled: apt-get install scdoc, then meson setup --reconfigure)" % path):
            continue
        documented.add(name)
        if man is None:
            continue
        r = subprocess.run([man, "--warnings", "-E", "UTF-8", "-l", path], capture_output=True, text=True,
                           env=dict(ENV, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8"))
        check.ok(r.returncode == 0 and not r.stderr.strip() and "NAME" in r.stdout and name in r.stdout,
                 "man -l %s renders without warnings" % page, "(status %d: %s)" % (r.returncode, r.stderr[-2000:]))
    for program in ENV["XBUS_INSTALLED_PROGRAMS"].split():
        check.ok(program in documented, "%s has a man page" % program)


def unit_keys(text):
    keys = {}
    for line in text.split("\n"):
        m = re.match(r"([A-Za-z]+)=(.*)$", line)
        if m:
            keys.setdefault(m.group(1), []).append(m.group(2))
    return keys


def check_units(destdir):
    unitdir = installed(destdir, ENV["XBUS_UNITDIR"])
    conf = os.path.join(ENV["XBUS_SYSCONFDIR"], "xbus", "xbusd.conf")
    xbusd = os.path.join(ENV["XBUS_BINDIR"], "xbusd")
    path = os.path.join(unitdir, "xbusd.service")
    if check.ok(os.path.isfile(path), "xbusd.service is installed", "(%s)" % path):
        k = unit_keys(read(path))
        check.eq(k.get("ExecStart"), ["%s --config %s" % (xbusd, conf)], "xbusd.service runs the installed xbusd "
                 "on the installed configuration")
        for key, value in [("Type", "notify"), ("ExecReload", "kill -HUP $MAINPID"), ("User", "xbus"),
                           ("StateDirectory", "xbus"), ("StateDirectoryMode", "0700"), ("ProtectSystem", "strict"),
                           ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"), ("ProtectHome", "yes"),
                           ("WantedBy", "multi-user.target")]:
            check.eq(k.get(key), [value], "xbusd.service: %s=%s" % (key, value))
    path = os.path.join(unitdir, "xbus-adapter@.service")
    if check.ok(os.path.isfile(path), "xbus-adapter@.service is installed", "(%s)" % path):
        k = unit_keys(read(path))
        envdir = os.path.join(ENV["XBUS_SYSCONFDIR"], "xbus", "adapters")
        check.eq(k.get("EnvironmentFile"), [os.path.join(envdir, "%i.env")], "the adapter template reads NAME.env")
        check.eq(k.get("ExecStart"),
                 ["/usr/bin/env %s/xbus-adapter-${ADAPTER} --name %%i $OPTIONS" % ENV["XBUS_BINDIR"]],
                 "the adapter template runs the installed adapter ADAPTER names")
        for key, value in [("User", "xbus-adapter"), ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                           ("PrivateTmp", "yes"), ("ProtectHome", "yes")]:
            check.eq(k.get(key), [value], "xbus-adapter@.service: %s=%s" % (key, value))
        env = installed(destdir, os.path.join(envdir, "sample.env"))
        if check.ok(os.path.isfile(env), "adapters/sample.env is installed"):
            adapter = re.search(r"^ADAPTER=(\S+)$", read(env), re.M)
            program = installed(destdir, os.path.join(ENV["XBUS_BINDIR"], "xbus-adapter-%s" % (adapter and adapter.group(1))))
            check.ok(os.path.isfile(program), "sample.env names an installed adapter", "(%s)" % program)


def config_keys():
    """{section: [key, ...]} from the IniItem tables of config.c."""
    src = read(os.path.join(ROOT, "exchange", "daemon", "config.c"))
    return {m.group(1): re.findall(r'\{ "([a-z-]+)", \w+, OFF\(', m.group(2))
            for m in re.finditer(r"static const IniItem (\w+)_items\[\] = \{(.*?)\n\};", src, re.S)}


def doc_defaults():
    """{(section, key): default} from docs/configuration.md ("" when the docs name no literal default)."""
    out, section = {}, None
    for line in read(os.path.join(ROOT, "docs", "configuration.md")).split("\n"):
        m = re.match(r"## \[(\w+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"\| `([a-z-]+)` \| (.*?) \|", line)
        if m and section:
            d = re.fullmatch(r"`([^`]*)`", m.group(2).strip())
            out[(section, m.group(1))] = d.group(1) if d else ""
    return out


def conf_lines(text):
    """{(section, key): (value, commented)} of the "key = value" and "#key = value" lines."""
    out, section = {}, None
    for line in text.split("\n"):
        m = re.match(r"\[(\w+)\]\s*$", line)
        if m:
            section = m.group(1)
        m = re.match(r"(#?)([a-z-]+) = (.*)$", line)
        if m and section:
            out[(section, m.group(2))] = (m.group(3), m.group(1) == "#")
    return out


def check_default_config(destdir, xbusd):
    path = installed(destdir, os.path.join(ENV["XBUS_SYSCONFDIR"], "xbus", "xbusd.conf"))
    if not check.ok(os.path.isfile(path), "the default xbusd.conf is installed", "(%s)" % path):
        return None
    text = read(path)
    lines = conf_lines(text)
    docs = doc_defaults()
    manual = read(os.path.join(ROOT, "docs", "man", "xbusd.conf.5.scd"))
    for section, keys in config_keys().items():
        for key in keys:
            what = "[%s] %s" % (section, key)
            check.ok((section, key) in docs, "%s is in docs/configuration.md" % what)
            check.ok(re.search(r"^\*%s\* = " % re.escape(key), manual, re.M) is not None, "%s is in xbusd.conf(5)" % what)
            if not check.ok((section, key) in lines, "%s is in the default xbusd.conf" % what):
                continue
            value, commented = lines[(section, key)]
            if (section, key) == ("node", "state-dir"):
                check.eq((value, commented), ("/var/lib/xbus", False), "the default xbusd.conf keeps state in /var/lib/xbus")
            elif docs.get((section, key)):
                check.eq((value, commented), (docs[(section, key)], True),
                         "%s: commented out with the documented default" % what)
            else:
                check.ok(commented, "%s (no literal default: the demo PKI) is commented out" % what)
    r = subprocess.run([xbusd, "--test-config", path], capture_output=True, text=True)
    check.ok(r.returncode == 0, "xbusd --test-config accepts the installed xbusd.conf", r.stdout + r.stderr)
    # Every default uncommented must mean the same: the file still loads.
    tmp = tempfile.mkdtemp(prefix="xbus-install-conf-")
    uncommented = os.path.join(tmp, "xbusd.conf")
    section, out = None, []
    for line in text.split("\n"):
        m = re.match(r"\[(\w+)\]\s*$", line)
        if m:
            section = m.group(1)
        # [tls] and [keys] show example paths; [snapshot] too, and its url would switch the registry source
        if section not in ("tls", "keys", "snapshot") and re.match(r"#[a-z-]+ = ", line):
            line = line[1:]
        out.append(line)
    with open(uncommented, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    r = subprocess.run([xbusd, "--test-config", uncommented], capture_output=True, text=True)
    check.ok(r.returncode == 0, "xbusd --test-config accepts it with every default uncommented", r.stdout + r.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    return text


def check_docs(destdir):
    docdir = installed(destdir, ENV["XBUS_DOCDIR"])
    want = ["README.md"] + sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    for name in want:
        check.ok(os.path.isfile(os.path.join(docdir, name)), "%s is installed with the documentation" % name)


def set_in_section(text, section, key, value):
    """Put "key = value" first in [section], dropping the key's lines (commented or not) there."""
    out, current = [], None
    for line in text.split("\n"):
        m = re.match(r"\[(\w+)\]\s*$", line)
        if m:
            current = m.group(1)
            out.append(line)
            if current == section:
                out.append("%s = %s" % (key, value))
            continue
        if current == section and re.match(r"#?%s = " % re.escape(key), line):
            continue
        out.append(line)
    return "\n".join(out)


def receive(sock, what, timeout):
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096).decode()
    except socket.timeout:
        data = None
    check.ok(data is not None and what in data.split("\n"), "xbusd sends %s to $NOTIFY_SOCKET" % what, "(got %r)" % data)
    return data


def run_installed_node(xbusd, conf_text):
    """Start the installed xbusd as xbusd.service would, on free ports and a temporary state folder."""
    node = harness.Node()
    text = set_in_section(conf_text, "node", "state-dir", node.state)
    text = set_in_section(text, "http", "listen", "127.0.0.1:%d" % node.port)
    text = set_in_section(text, "adapters", "listen", "tcp://127.0.0.1:%d" % node.aport)
    with open(node.config, "w", encoding="utf-8") as f:
        f.write(text)
    notify_path = os.path.join(node.tmp, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    os.environ["XBUS_BIN_XBUSD"] = xbusd
    os.environ["NOTIFY_SOCKET"] = notify_path
    try:
        node.start(wait=False)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    # The demo PKI is generated at first start: allow for it.
    if receive(sock, "READY=1", 60) is None:
        print(node.read_log())
        return
    try:
        r = node.request(None, "GET", "/health")
        check.ok(r.status == 200 and r.json().get("status") == "ok", "once READY=1 is sent, /health answers", repr(r))
    except Exception as e:  # noqa: BLE001 (any failure here is the finding)
        check.ok(False, "once READY=1 is sent, /health answers", repr(e))
    node.hup()
    receive(sock, "RELOADING=1", 30)
    receive(sock, "READY=1", 30)
    node.proc.send_signal(signal.SIGTERM)
    receive(sock, "STOPPING=1", 30)
    try:
        code = node.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        code = None
    check.eq(code, 0, "the installed xbusd exits 0 on SIGTERM")
    if code != 0:
        print(node.read_log())
    sock.close()
    shutil.rmtree(node.tmp, ignore_errors=True)


def main():
    destdir = tempfile.mkdtemp(prefix="xbus-install-")
    meson_install(destdir)
    check_programs(destdir)
    check_man_pages(destdir)
    check_units(destdir)
    check_docs(destdir)
    xbusd = installed(destdir, os.path.join(ENV["XBUS_BINDIR"], "xbusd"))
    if os.path.isfile(xbusd):
        conf_text = check_default_config(destdir, xbusd)
        if conf_text is not None:
            run_installed_node(xbusd, conf_text)
    shutil.rmtree(destdir, ignore_errors=True)
    check.finish()


if __name__ == "__main__":
    main()
