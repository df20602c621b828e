#!/usr/bin/env python3
"""test_quickstart.py: a quick start that cannot trip on a busy machine. With
8443 and 5560 taken by another program, `xbus up` starts the node on free
ports, says so and prints commands with them; `xbus demo`, `xbus call` and
`xbus down` then find the node from the state file; a port that is given and
taken fails with a message that names the port, not the state folder; ports
from the environment, and `xbus up --config --registry`."""
import json
import os
import re
import shutil
import socket
import tempfile
import time

from harness import Check, binary, free_port, registry_copy, xbus_cli

t = Check("quickstart")
binary("xbusd")
binary("xbus-adapter-sample")
tmp = tempfile.mkdtemp(prefix="xbus-it-qs-")
state = os.path.join(tmp, "state")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"


def hold(port):
    """Another program on the port: a listening socket. When something else holds it (another test's
    node, briefly), try again for a while: that holder may let go before xbus up looks, which would
    leave the port free. Past the wait, whoever holds it keeps it taken all the same."""
    deadline = time.monotonic() + 15
    while True:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: a TIME_WAIT does not stop it
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)


held = [hold(8443), hold(5560)]
try:
    res = xbus_cli("up", "--state", state, "--people", "300", timeout=240)
    print(res.stdout[-2500:], res.stderr[-1500:])
    t.eq(res.returncode, 0, "xbus up starts although 8443 and 5560 are taken")
    t.ok("port 8443 is taken" in res.stdout and "port 5560 is taken" in res.stdout, "it says which ports were taken")
    recorded = json.load(open(os.path.join(state, "node.json")))
    url = recorded["url"]
    t.ok(re.fullmatch(r"https://127\.0\.0\.1:\d+", url) and not url.endswith(":8443"), "on another port", url)
    t.ok(recorded["adapters"] != "tcp://127.0.0.1:5560", "adapters on another port", recorded["adapters"])
    t.ok("xbus is up at %s" % url in res.stdout, "it prints where the node is")
    t.ok("--url %s" % url in res.stdout and url + "/r1/" in res.stdout, "the commands it prints carry the port")

    res = xbus_cli("call", "--state", state, "--client", BYT, "--subject", "001090000001", "--purpose",
                   "health-insurance-enrolment", CITIZEN)
    t.ok(res.returncode == 0 and "200" in res.stdout.split("\n")[0], "xbus call finds the node without --url",
         res.stdout[:300] + res.stderr)
    res = xbus_cli("demo", "--state", state, timeout=240)
    t.ok(res.returncode == 0 and "demo: all" in res.stdout, "xbus demo works against it without --url",
         res.stdout[-1500:] + res.stderr)
    res = xbus_cli("up", "--state", state, timeout=120)
    t.ok(res.returncode == 0 and "reusing it" in res.stdout and url in res.stdout, "a second xbus up reuses it",
         res.stdout + res.stderr)

    # a port given is used as is: taken, it fails at once and says why
    other = os.path.join(tmp, "other")
    taken = free_port()
    held.append(hold(taken))
    res = xbus_cli("up", "--state", other, "--port", taken, timeout=60)
    t.ok(res.returncode == 1 and "port %d" % taken in res.stderr and "taken by another program" in res.stderr and
         "XBUS_PORT" in res.stderr and "state folder" not in res.stderr,
         "a taken port that was given: a message that names the port", res.stderr)
    t.ok(not os.path.exists(os.path.join(other, "xbusd.pid")), "and nothing was started")
    env = dict(os.environ, XBUS_PORT=str(taken))
    res = xbus_cli("up", "--state", other, env=env, timeout=60)
    t.ok(res.returncode == 1 and "port %d" % taken in res.stderr, "XBUS_PORT is a port given too", res.stderr)

    res = xbus_cli("down", "--state", state, timeout=60)
    t.ok(res.returncode == 0 and not os.path.exists(os.path.join(state, "node.json")),
         "xbus down stops it and removes the state file", res.stdout + res.stderr)

    # ports from the environment; xbus up --config --registry (a registry without the sample: --no-sample)
    port, aport = free_port(), free_port()
    reg = registry_copy(os.path.join(tmp, "registry"))
    conf = os.path.join(tmp, "node.conf")
    third = os.path.join(tmp, "third")
    open(conf, "w").write("[node]\nstate-dir = %s\nname = quickstart.test\n" % third)
    env = dict(os.environ, XBUS_PORT=str(port), XBUS_ADAPTERS_PORT=str(aport))
    res = xbus_cli("up", "--config", conf, "--registry", reg, "--no-sample", env=env, timeout=120)
    t.eq(res.returncode, 0, "xbus up --config --registry --no-sample, ports from the environment " + res.stderr)
    recorded = json.load(open(os.path.join(third, "node.json"))) if res.returncode == 0 else {}
    t.eq(recorded.get("url"), "https://127.0.0.1:%d" % port, "XBUS_PORT is used")
    t.eq(recorded.get("adapters"), "tcp://127.0.0.1:%d" % aport, "XBUS_ADAPTERS_PORT is used")
    log = open(os.path.join(third, "xbusd.log"), errors="replace").read()
    t.ok("registry %s" % reg in log, "the node runs the registry given", log[-800:])
    res = xbus_cli("down", "--state", third, timeout=60)
    t.eq(res.returncode, 0, "xbus down")
    bad = os.path.join(tmp, "tls.conf")
    open(bad, "w").write("[tls]\ncertificate = /etc/ssl/node.crt\n")
    res = xbus_cli("up", "--config", bad, timeout=60)
    t.ok(res.returncode == 2 and "demo PKI" in res.stderr, "a configuration with its own certificates is refused",
         res.stderr)
finally:
    for d in (state, os.path.join(tmp, "third")):
        if os.path.exists(os.path.join(d, "xbusd.pid")):
            xbus_cli("down", "--state", d, timeout=60)
    for s in held:
        if s:
            s.close()
t.finish()
