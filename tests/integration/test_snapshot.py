#!/usr/bin/env python3
"""test_snapshot.py: a node whose registry comes from signed snapshots (issue 13, step 1).

A registry authority publishes with `xbus registry publish`; a static HTTPS server
(Python's http.server over TLS) serves the snapshot; the node fetches it every second,
verifies it against its anchors, swaps a newer one in without a restart, refuses a forged,
an older, an expired, an unknown key's and a retired key's snapshot while the last good one
keeps serving, starts again from the one it kept, refuses exchanges once the snapshot is
past its grace period, and shows version, age and source in /health and /metrics. A second
node fetches the same snapshot from the first node's /registry/snapshot."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness import (Check, Node, StaticHttps, authority_key, binary, publish, registry_copy, self_signed,
                     set_key)

t = Check("snapshot")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
PURPOSE = "public-service-delivery"
PROBLEM = {"Accept": "application/problem+json"}
tmp = tempfile.mkdtemp(prefix="xbus-it-snapshot-")
keys, www = os.path.join(tmp, "keys"), os.path.join(tmp, "www")
os.makedirs(keys)
os.makedirs(www)
reg = registry_copy(os.path.join(tmp, "registry"))
key_a, pub_a = authority_key(keys, "a")
key_b, pub_b = authority_key(keys, "b")
key_c, _ = authority_key(keys, "c")  # nobody's anchor
served = os.path.join(www, "snapshot.jws")
kept = {}  # what the authority published, by name


def pub(name, key, *args):
    """Publish into keys/NAME.jws (the authority's copy), then serve it."""
    out = os.path.join(keys, name + ".jws")
    publish(reg, key, out, *args)
    kept[name] = out
    shutil.copy(out, served)
    return out


def health(node):
    return node.request(None, "GET", "/health").json()


def snap(node):
    return health(node).get("snapshot") or {}


def wait(what, cond, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    return None


def fetches(node, result):
    return node.metrics().get('xbus_registry_snapshot_fetches_total{result="%s"}' % result, 0)


def refused_next(node, why, log_text):
    """Wait for the fetcher to refuse what is served now; the version in force stays, exchanges go on."""
    before = fetches(node, "refused")
    version = snap(node).get("version")
    got = wait("refusal", lambda: fetches(node, "refused") > before)
    t.ok(got, "%s: refused" % why)
    t.eq(snap(node).get("version"), version, "%s: version %s keeps serving" % (why, version))
    t.ok(log_text in node.read_log(), "%s: the log says why (%r)" % (why, log_text))
    t.eq(call(node).status, 200, "%s: exchanges go on" % why)


def call(node):
    return node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, extra=PROBLEM)


# --- the authority and a static HTTPS server ----------------------------------------------------
cert, cert_key = self_signed(tmp)
server = StaticHttps(www, cert, cert_key)
kept["v1"] = os.path.join(keys, "v1.jws")
out = publish(reg, key_a, kept["v1"], "--version", "1")
t.ok("version 1" in out, "xbus registry publish says what it made", out)
shutil.copy(kept["v1"], served)
res = subprocess.run([binary("xbus"), "registry", "verify", "--anchor", pub_a, served], capture_output=True, text=True)
t.ok(res.returncode == 0 and "version 1" in res.stdout and "the registry loads" in res.stdout,
     "xbus registry verify accepts it", res.stdout + res.stderr)
res = subprocess.run([binary("xbus"), "registry", "verify", "--anchor", pub_b, served], capture_output=True, text=True)
t.ok(res.returncode == 1 and "not an anchor" in res.stderr, "xbus registry verify refuses another key's", res.stderr)

# the signature is a standard ES256 JWS: the openssl command verifies it with the anchor
jws = open(served).read().strip()
h, p, s = jws.split(".")
sig = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def der_int(v):
    b = v.to_bytes((v.bit_length() + 8) // 8 or 1, "big")
    return b"\x02" + bytes([len(b)]) + b


seq = der_int(int.from_bytes(sig[:32], "big")) + der_int(int.from_bytes(sig[32:], "big"))
open(os.path.join(tmp, "sig.der"), "wb").write(b"\x30" + bytes([len(seq)]) + seq)
open(os.path.join(tmp, "signed"), "w").write(h + "." + p)
res = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub_a, "-signature", os.path.join(tmp, "sig.der"),
                      os.path.join(tmp, "signed")], capture_output=True, text=True)
t.ok(res.returncode == 0, "openssl verifies the snapshot's signature with the anchor", res.stdout + res.stderr)
payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
t.ok(payload["version"] == 1 and payload["instance"] == "VN" and
     any(f["path"] == "schemas/population/citizen.response.json" for f in payload["files"]),
     "the payload carries the registry and its schemas")

# --- a node on it: two URLs, the first one missing ---------------------------------------------
snapshot_conf = ("[snapshot]\nurl = %s, %s\nanchor = %s\nanchor = %s\nca = %s\ninterval = 1s\ngrace = 4s\n"
                 % (server.url("missing.jws"), server.url("snapshot.jws"), pub_a, pub_b, cert))
os.makedirs(os.path.join(tmp, "n1"))
node = Node(top_extra=snapshot_conf, tmp=os.path.join(tmp, "n1"))
res = subprocess.run([binary("xbusd"), "--test-config", node.config], capture_output=True, text=True)
t.ok(res.returncode == 0 and "signed snapshots" in res.stdout, "--test-config before the first start",
     res.stdout + res.stderr)
node.start()
node.start_sample(people=50)
subject = node.sample_ids(1, people=50)[0]
s1 = snap(node)
t.eq(s1.get("version"), 1, "the node started on version 1")
t.eq(s1.get("source"), server.url("snapshot.jws"), "from the second URL (the first is missing)")
t.eq(s1.get("state"), "valid", "valid")
t.eq(call(node).status, 200, "it serves exchanges")
t.ok(os.path.exists(os.path.join(node.state, "registry-snapshot.jws")), "it kept the snapshot in its state folder")
m = node.metrics()
t.eq(m.get("xbus_registry_snapshot_version"), 1.0, "/metrics: the version")
t.ok(m.get("xbus_registry_snapshot_age_seconds", -1) >= 0, "/metrics: the age")
t.ok(any(k.startswith("xbus_registry_snapshot_info{source=\"%s\"" % server.url("snapshot.jws")) for k in m),
     "/metrics: the source")
pid = node.proc.pid

# --- a new version, picked up within an interval, without a restart ----------------------------
set_key(reg, "[purpose %s]" % PURPOSE, "title", "Public service delivery (v2)")
start = time.time()
pub("v2", key_a, "--previous", kept["v1"])
got = wait("v2", lambda: snap(node).get("version") == 2, timeout=10)
t.ok(got, "version 2 is swapped in (%.1f s after publishing, interval 1 s)" % (time.time() - start))
t.ok(time.time() - start < 5, "within a few intervals")
t.eq(node.proc.pid, pid, "without a restart")
t.ok(node.proc.poll() is None, "the node runs")
t.eq(call(node).status, 200, "exchanges go on under version 2")
t.ok(fetches(node, "accepted") >= 1, "/metrics counts the accepted fetch")
t.ok("swapped in; it was version 1" in node.read_log(), "the log says what was swapped in")

# an xbusd serves the snapshot it uses
r = node.request(None, "GET", "/registry/snapshot")
t.ok(r.status == 200 and r.header("content-type") == "application/jose" and
     r.body.decode() == open(kept["v2"]).read().strip(), "GET /registry/snapshot: the snapshot in force, as signed")

# --- refusals: the last good one keeps serving ------------------------------------------------
# forged: another version in the payload, the authority's signature kept
hh, pp, ss = open(kept["v2"]).read().strip().split(".")
body = json.loads(base64.urlsafe_b64decode(pp + "=" * (-len(pp) % 4)))
body["version"] = 99
pp = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
open(served, "w").write("%s.%s.%s\n" % (hh, pp, ss))
refused_next(node, "forged", "the signature does not verify")
# older
shutil.copy(kept["v1"], served)
refused_next(node, "older", "older than the snapshot in force")
# expired
pub("expired", key_a, "--version", "50", "--created", "2020-01-01T00:00:00Z", "--expires", "1h")
refused_next(node, "expired", "): expired; version 2 keeps serving")
# signed by a key that is no anchor
pub("unknown", key_c, "--version", "51")
refused_next(node, "a key that is not an anchor", "signed by a key that is not an anchor")
# the same version with other content
set_key(reg, "[purpose %s]" % PURPOSE, "title", "Public service delivery (v2, changed)")
pub("conflict", key_a, "--version", "2")
refused_next(node, "the version in force with other content", "the version in force, with other content")

# --- anchor rotation: B retires A, then A's snapshots are refused ------------------------------
pub("v3", key_b, "--previous", kept["v2"], "--retire", pub_a)
t.ok(wait("v3", lambda: snap(node).get("version") == 3), "version 3, signed by the new anchor B, is swapped in")
t.eq(snap(node).get("key"), subprocess.run([binary("xbus"), "registry", "verify", "--anchor", pub_b, kept["v3"]],
                                           capture_output=True, text=True).stdout.split("signed by key ")[1].split()[0],
     "/health names the key that signed it")
pub("v4-by-a", key_a, "--version", "4")
refused_next(node, "signed by a retired anchor", "signed by a retired anchor")
t.eq(call(node).status, 200, "version 3 keeps serving")

# --- a restart: the node comes back on the snapshot it kept ------------------------------------
node.stop()
node.start()
node.wait_health(adapters=1)
s = snap(node)
t.eq(s.get("version"), 3, "after a restart the node serves the snapshot it kept")
t.eq(s.get("source"), os.path.join(node.state, "registry-snapshot.jws"), "from its state folder")
t.eq(call(node).status, 200, "and exchanges go on")

# --- a second node fetches from the first node's /registry/snapshot ---------------------------
os.makedirs(os.path.join(tmp, "n2"))
node2 = Node(tmp=os.path.join(tmp, "n2"),
             top_extra="[snapshot]\nurl = %s/registry/snapshot\nanchor = %s\nca = %s\ninterval = 1s\n"
             % (node.url, pub_b, os.path.join(node.pki, "ca.crt")))
node2.start()
t.eq(snap(node2).get("version"), 3, "a node fetches the snapshot from another xbusd's /registry/snapshot")
# ETag and 304: the next fetches of an unchanged snapshot transfer and verify nothing
r = node.request(None, "GET", "/registry/snapshot")
etag = r.header("etag")
t.ok(r.status == 200 and etag and etag.startswith('"3-'), "the xbusd serves the snapshot with an ETag", r.headers)
r = node.request(None, "GET", "/registry/snapshot", headers={"If-None-Match": etag})
t.ok(r.status == 304 and r.body == b"" and r.header("etag") == etag, "If-None-Match with it: 304, no body", r)
r = node.request(None, "GET", "/registry/snapshot", headers={"If-None-Match": '"2-0000000000000000", W/' + etag})
t.eq(r.status, 304, "a list that names it (weakly): 304")
r = node.request(None, "GET", "/registry/snapshot", headers={"If-None-Match": '"2-0000000000000000"'})
t.ok(r.status == 200 and r.body.decode() == open(kept["v3"]).read().strip(), "another ETag: 200, the snapshot")
t.ok(wait("a 304", lambda: node2.metrics().get("xbus_registry_snapshot_not_modified_total", 0) >= 1, timeout=10),
     "node2's second fetch is answered 304 (xbus_registry_snapshot_not_modified_total)")
t.ok(fetches(node2, "unchanged") >= 1 and fetches(node2, "accepted") == 0, "and counted unchanged")
node2.stop()

# --- expiry: served for the grace period, then exchanges are refused --------------------------
pub("v5", key_b, "--previous", kept["v3"], "--version", "5", "--expires", "3s")
t.ok(wait("v5", lambda: snap(node).get("version") == 5), "version 5 (valid 3 s) is swapped in")
t.ok(wait("expired", lambda: snap(node).get("state") == "expired"), "it expires: /health says so")
r = call(node)
t.eq(r.status, 200, "within the grace period (4 s) exchanges are served")
t.ok(wait("outdated", lambda: snap(node).get("state") == "outdated"), "past the grace period: outdated")
r = call(node)
body = r.json() if r.body else {}
t.ok(r.status == 503 and body.get("type") == "registry_outdated" and "version 5" in body.get("detail", "") and
     r.header("x-road-error") in ("registry_outdated", "Server.ClientProxy.OutdatedGlobalConf"),
     "then exchanges are refused with registry_outdated (Server.ClientProxy.OutdatedGlobalConf)", repr(r))
hr = node.request(None, "GET", "/health")
t.ok(hr.status == 503 and any(x.get("check") == "registry" and "grace period" in x.get("detail", "")
                              for x in hr.json().get("reasons", [])), "/health is 503 and says why", repr(hr))
t.eq(node.metrics().get("xbus_registry_snapshot_outdated"), 1.0, "/metrics: outdated")
entries = node.log_entries()
t.ok(any(e.get("error") == "registry_outdated" and e.get("decision") == "deny" for e in entries.values()),
     "the refusal is logged")
t.ok(wait("log", lambda: "grace period is over" in node.read_log()), "the operational log says so")
# a fresh snapshot ends it
pub("v6", key_b, "--previous", kept["v5"])
t.ok(wait("v6", lambda: snap(node).get("state") == "valid" and snap(node).get("version") == 6),
     "a fresh snapshot is swapped in")
t.eq(call(node).status, 200, "and exchanges are served again")
t.eq(node.request(None, "GET", "/health").status, 200, "/health is 200 again")

# SIGHUP fetches at once (a long interval would not)
node.stop()
conf = open(node.config).read().replace("interval = 1s", "interval = 1h")
open(node.config, "w").write(conf)
node.start()
node.wait_health(adapters=1)
pub("v7", key_b, "--previous", kept["v6"])
time.sleep(1.5)
t.eq(snap(node).get("version"), 6, "with a 1 h interval nothing is fetched on its own")
node.hup()
t.ok(wait("v7", lambda: snap(node).get("version") == 7, timeout=10), "SIGHUP fetches the new version at once")
t.ok(node.stop() == 0, "the node stops cleanly")
server.stop()
t.finish()
