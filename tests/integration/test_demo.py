#!/usr/bin/env python3
"""test_demo.py: the newcomer's path. `xbus demo` starts a node on a fresh
state folder (demo PKI generated at first start, sample adapter), tells its
story and exits 0; `xbus log` shows the entries; `xbus down` stops it all."""
import os
import subprocess
import tempfile

from harness import Check, binary, free_port

t = Check("demo")
xbus = binary("xbus")
binary("xbusd")
binary("xbus-adapter-sample")
state = os.path.join(tempfile.mkdtemp(prefix="xbus-demo-"), "state")
url = "https://127.0.0.1:%d" % free_port()
adapters = "tcp://127.0.0.1:%d" % free_port()
try:
    res = subprocess.run([xbus, "demo", "--state", state, "--url", url, "--adapters", adapters],
                         capture_output=True, text=True, timeout=240)
    print(res.stdout[-3000:])
    t.eq(res.returncode, 0, "xbus demo exits 0")
    t.ok("part 1: all 6 steps behaved as expected" in res.stdout, "part 1 (exchanges and refusals) as expected")
    t.ok("part 2: all" in res.stdout and "steps behaved as expected" in res.stdout.splitlines()[-1],
         "part 2 (consent) as expected, and the story ends with every step as expected")
    for step in ["access_denied", "service_unknown", "purpose_invalid", "consent_required", "consent_invalid",
                 "receipt:  verified"]:
        t.ok(step in res.stdout, "the story shows " + step)
    t.ok(os.stat(os.path.join(state, "pki", "signing.key")).st_mode & 0o077 == 0, "the demo keys are private (0600)")
    log = subprocess.run([xbus, "log", "--state", state, "--json"], capture_output=True, text=True, timeout=60)
    t.eq(log.returncode, 0, "xbus log reads the log while the node runs")
    t.ok(len(log.stdout.strip().splitlines()) >= 5, "every demo exchange is in the log")
    t.ok("001090000001" not in log.stdout, "no raw personal id in the log")
    # a second run reuses the running node
    res = subprocess.run([xbus, "demo", "--state", state, "--url", url, "--adapters", adapters],
                         capture_output=True, text=True, timeout=240)
    t.eq(res.returncode, 0, "a second demo run reuses the node and passes")
finally:
    res = subprocess.run([xbus, "down", "--state", state], capture_output=True, text=True, timeout=60)
    t.eq(res.returncode, 0, "xbus down stops the node and the adapter")
t.finish()
