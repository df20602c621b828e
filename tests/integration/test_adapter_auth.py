#!/usr/bin/env python3
"""test_adapter_auth.py: adapters authenticate (issue 10, finding 2: adapter takeover).

Any process that could reach the adapter port could announce any service and
receive its requests. Now every adapter is a CURVE client; the node admits only
keys the registry lists and registers only the services bound to the key.
Attacks, with real processes: an adapter without a key, and one with a key no
provider lists, announcing population/citizen (refused, the client is not
served by it, logged, counted); an adapter announcing a service bound to
another key (refused for that service only). Then: a subsystem with two keys
works with either, and a reload that removes a key takes the service away.

Part 1 uses the embedded registry and no key anywhere, so the node of a build
before adapter authentication (commit 8503606) accepts its set-up: there it
fails at the attack assertions."""
import http.server
import json
import os
import subprocess
import threading
import time

from harness import (Check, Node, _processes, binary, curve_args, free_port, keygen, registry_copy, set_key)

t = Check("adapter_auth")
BYT = "VN/GOV/BYT/health-services"
HN = "VN/GOV/HN-UBND/one-stop-shop"
CITIZEN = "VN/GOV/BCA/population/citizen"
BIRTH = "VN/GOV/BTP/civil-status/birth-record"
PSD = "public-service-delivery"
POPULATION = "[subsystem VN/GOV/BCA/population]"
CIVIL = "[subsystem VN/GOV/BTP/civil-status]"


class Honeypot(http.server.BaseHTTPRequestHandler):
    """The backend behind rogue adapters: records what reaches it, answers like a citizen record."""
    seen = []

    def do_GET(self):
        Honeypot.seen.append(self.path)
        body = json.dumps({"id": "000000000000", "full_name": "stolen"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


pot = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Honeypot)
threading.Thread(target=pot.serve_forever, daemon=True).start()
POT = "http://127.0.0.1:%d" % pot.server_address[1]


def rest_adapter(node, routes, log, extra=()):
    args = [binary("xbus-adapter-rest"), "--bus", "tcp://127.0.0.1:%d" % node.aport, "--workers", "1",
            "--timeout", "2000"]
    for service, url in routes:
        args += ["--route", "%s=%s" % (service, url)]
    out = open(os.path.join(node.tmp, log), "ab")
    p = subprocess.Popen(args + list(extra), stdout=out, stderr=out)
    _processes.append(p)
    return p


def text(node, name):
    try:
        return open(os.path.join(node.tmp, name), errors="replace").read()
    except OSError:
        return ""


def refusals(node, *reasons):
    m = node.metrics()
    return sum(m.get('xbus_adapter_refusals_total{reason="%s"}' % r, 0) for r in reasons)


# A client without CURVE meets the node's CURVE greeting: the node sees the mechanism mismatch (no_key),
# or, when the client hangs up first, a handshake cut short (handshake).
UNKEYED = ("no_key", "handshake")


def wait_for(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def stop(p):
    p.terminate()
    p.wait()


# --- part 1: an adapter without a key announces population/citizen --------------------------------
node = Node().start()
subject = node.sample_ids(1)[0]
rogue = rest_adapter(node, [(CITIZEN, POT + "/citizen")], "rogue.log")
# set-up, not an assertion: wait until the node refused it (or, on a node without CURVE, took it)
wait_for(lambda: refusals(node, *UNKEYED) >= 1 or node.wait_health().get("adapters", 0) >= 1)
r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment",
              extra={"Accept": "application/problem+json"})
t.eq(Honeypot.seen, [], "attack: an adapter without a key receives no request (no citizen id reaches it)")
t.problem(r, 503, "provider_unavailable", "attack: the client is not served by the unkeyed adapter")
t.ok(refusals(node, *UNKEYED) >= 1, "the refused connection is counted (reason no_key or handshake)")
log = text(node, "xbusd.log")
t.ok("Adapter refused (no_key)" in log or "Adapter refused (handshake)" in log, "and logged by the node")
t.ok(wait_for(lambda: "the bus requires CURVE" in text(node, "rogue.log")),
     "the unkeyed adapter says why in its own log", text(node, "rogue.log")[-500:])
# it retries after 1, 2, 4 s: at most 3 attempts in 6 s (each counted once or, when both ends see the
# mismatch, twice); reconnecting in a loop (libzmq's own 0.1 .. 2 s) would make many more
attempts = refusals(node, *UNKEYED)
time.sleep(6)
t.ok(refusals(node, *UNKEYED) - attempts <= 6, "and waits between attempts instead of reconnecting in a loop",
     "(%d refusals in 6 s)" % (refusals(node, *UNKEYED) - attempts))

# the legitimate sample adapter (the demo PKI's key) serves; the rogue still gets nothing
node.start_sample(people=300)
for i in range(5):
    r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment")
    t.eq(r.status, 200, "the sample adapter with its key serves (%d)" % i)
t.eq(Honeypot.seen, [], "the unkeyed adapter still received nothing")

# --- part 1b: a key that no provider lists ----------------------------------------------------------
keys = os.path.join(node.tmp, "keys")
stranger = keygen(keys, "stranger")
for a in node.adapters:
    stop(a)
node.adapters.clear()
stop(rogue)
rogue = rest_adapter(node, [(CITIZEN, POT + "/citizen")], "stranger.log", curve_args(node, "stranger", keys))
wait_for(lambda: refusals(node, "key_unknown") >= 1)
r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment",
              extra={"Accept": "application/problem+json"})
t.eq(Honeypot.seen, [], "attack: an adapter whose key no provider lists receives no request")
t.problem(r, 503, "provider_unavailable", "attack: the client is not served by it")
t.ok(refusals(node, "key_unknown") >= 1, "the refused key is counted (reason key_unknown)")
log = text(node, "xbusd.log")
t.ok("Adapter refused (key_unknown)" in log and stranger in log, "and logged with its public key")
secret = open(os.path.join(keys, "stranger.key")).read().strip()
t.ok(secret not in log and secret not in text(node, "stranger.log"), "its secret key is never logged")
t.ok(wait_for(lambda: "refused this adapter's CURVE key" in text(node, "stranger.log")),
     "the adapter says why in its own log", text(node, "stranger.log")[-500:])
stop(rogue)
t.eq(node.stop(), 0, "clean stop")

# --- part 2: keys per subsystem, several keys, a key bound to another subsystem, reload --------------
tmp = node.tmp + "-2"
os.makedirs(os.path.join(tmp, "state"), mode=0o700)
second = keygen(os.path.join(tmp, "keys"), "second")
keygen(os.path.join(tmp, "state", "keys"), "civil")  # named by reference: @state:keys/civil.pub
reg = registry_copy(os.path.join(tmp, "registry"))
set_key(reg, POPULATION, "adapter-key", "@state:pki/adapters/sample.pub, " + second)
set_key(reg, CIVIL, "adapter-key", "@state:pki/adapters/sample.pub\nadapter-key = @state:keys/civil.pub")
node = Node(registry=reg, tmp=tmp).start()
bport = free_port()
backend = subprocess.Popen([binary("xbus-sample-backend"), "--listen", "127.0.0.1:%d" % bport, "--data",
                            os.path.join(tmp, "sample"), "--people", "300"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_processes.append(backend)
subject = node.sample_ids(1)[0]
BACKEND = "http://127.0.0.1:%d/%s" % (bport, CITIZEN)

# the civil-status key announces the citizen service too: refused for that one, accepted for its own
# (its keys as files: the node's public key from node-curve.pub, its own public key derived)
civil = rest_adapter(node, [(CITIZEN, POT + "/citizen"), (BIRTH, POT + "/birth")], "civil.log",
                     ["--curve-server-key-file", os.path.join(node.pki, "node-curve.pub"),
                      "--curve-secret-key-file", os.path.join(tmp, "state", "keys", "civil.key")])
node.wait_health(adapters=1)
r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment",
              extra={"Accept": "application/problem+json"})
t.problem(r, 503, "provider_unavailable", "attack: a key bound to civil-status is not served population/citizen")
t.ok(not any(p.startswith("/citizen") for p in Honeypot.seen),
     "attack: no citizen request reaches the adapter of another subsystem")
node.call(HN, BIRTH, subject=subject, purpose=PSD)
t.ok(any(p.startswith("/birth") for p in Honeypot.seen), "the same adapter serves the service bound to its key")
t.ok(refusals(node, "service_not_allowed") >= 1, "the refused service is counted (service_not_allowed)")
log = text(node, "xbusd.log")
t.ok("Adapter refused (service_not_allowed)" in log and CITIZEN in log, "and logged with the service")
t.ok(wait_for(lambda: "the bus refused 1 announced service(s)" in text(node, "civil.log")),
     "the adapter hears which service was refused", text(node, "civil.log")[-500:])
stop(civil)

# two keys on population: the sample adapter (reference) and a REST adapter (literal key) each serve
node.start_sample(people=300)
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment").status, 200,
     "population/citizen served by its first key (the sample adapter)")
for a in node.adapters:
    stop(a)
node.adapters.clear()
rest = rest_adapter(node, [(CITIZEN, BACKEND)], "second.log", curve_args(node, "second", os.path.join(tmp, "keys")))
wait_for(lambda: node.wait_health().get("adapters", 0) == 1)
r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment")
t.eq(r.status, 200, "and by its second key (a REST adapter)")
t.eq(r.json().get("id"), subject, "with the backend's record")

# a reload that removes the second key takes the service away from that adapter
set_key(reg, POPULATION, "adapter-key", "@state:pki/adapters/sample.pub")
node.hup()
wait_for(lambda: node.metrics().get("xbus_registry_reloads_total", 0) >= 1)
t.ok(wait_for(lambda: refusals(node, "revoked") >= 1), "the reload revokes the second key's service (counted)")
r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment",
              extra={"Accept": "application/problem+json"})
t.problem(r, 503, "provider_unavailable", "after the reload the removed key no longer serves")
t.ok("lost 1 of its 1 service(s) at the registry reload" in text(node, "xbusd.log"), "the revocation is logged")
t.ok(wait_for(lambda: "nothing announced was accepted" in text(node, "second.log")),
     "the adapter says why it stopped serving", text(node, "second.log")[-500:])
t.ok(wait_for(lambda: "refused this adapter's CURVE key" in text(node, "second.log"), timeout=15),
     "and its key is refused at its next connection", text(node, "second.log")[-500:])
stop(rest)
t.eq(node.stop(), 0, "clean stop")
t.finish()
