#!/usr/bin/env python3
"""test_federation.py: node-to-node exchanges between real xbusd processes (issue 13, steps 2 and 6).

Three nodes on loopback, each with its own state, keys and adapters, enrolled with `xbus node keygen`,
on one registry authority's signed snapshot served by a static HTTPS server:
  bca  hosts the provider VN/GOV/BCA/population (the sample adapter runs there only),
  byt  hosts the client VN/GOV/BYT/health-services and the national portal (the consent authority),
  hn   hosts the client VN/GOV/HN-UBND/one-stop-shop and the provider VN/GOV/BHXH/health-insurance.
A client of byt reads a citizen from bca through its own node: both nodes log the exchange under
one X-Road-Id and request hash, and the client gets both nodes' evidence. Then the refusals, each
at the node whose check it is: a node forwarding for a client it does not host (refused by that node;
and by the provider's node when the test forges the forward as that node), a provider node
whose certificate is not the snapshot's, a receipt signed by the wrong node, a provider node down,
a node dropped from the snapshot. Consent and the citizen's view across nodes: the portal, at byt, sees the
accesses served at bca and at hn in one view; consents granted and revoked through byt land at bca.
Last, a fourth node joins by a new snapshot, without a restart."""
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import batch_receipt as batch_receipt_mod

from harness import (ROOT, Check, Node, StaticHttps, _processes, authority_key, b64url_decode, binary, curve_args, publish,
                     receipt_payload, registry_copy, self_signed, verify_receipt_openssl)

t = Check("federation")
BYT = "VN/GOV/BYT/health-services"
HN = "VN/GOV/HN-UBND/one-stop-shop"
CITIZEN = "VN/GOV/BCA/population/citizen"
CARD = "VN/GOV/BHXH/health-insurance/card"
PORTAL = "VN/GOV/VPCP/national-portal"
PURPOSE = "public-service-delivery"
PROBLEM = {"Accept": "application/problem+json"}
tmp = tempfile.mkdtemp(prefix="xbus-fed-")
keys, www = os.path.join(tmp, "keys"), os.path.join(tmp, "www")
os.makedirs(keys)
os.makedirs(www)
# a consent-based right for the portal (hosted at byt, a client too here) on the population database (at bca):
# its consent is decided at bca
reg = registry_copy(os.path.join(tmp, "registry"),
                    [("[subsystem VN/GOV/VPCP/national-portal]", "roles", "consent-authority, client")])
open(os.path.join(reg, "65-fed-soap.conf"), "w").write(
    "[right fed-portal-citizen]\nclient = VN/GOV/VPCP/national-portal\nservice = VN/GOV/BCA/population/citizen\n"
    "methods = GET\nbasis = consent\npurposes = public-service-delivery\n")
key_a, pub_a = authority_key(keys, "authority")
cert, cert_key = self_signed(tmp)
server = StaticHttps(www, cert, cert_key)
served = os.path.join(www, "snapshot.jws")
version = [0]
SNAPSHOT_CONF = ("[snapshot]\nurl = %s\nanchor = %s\nca = %s\ninterval = 1s\n[log]\ncheckpoint-interval = 300ms\n"
                 % (server.url("snapshot.jws"), pub_a, cert))


def make_node(nid, member, subsystems):
    """A node's folder, configuration and keys (`xbus node keygen`); returns (Node, its [node] section)."""
    os.makedirs(os.path.join(tmp, nid))
    n = Node(top_extra=SNAPSHOT_CONF, tmp=os.path.join(tmp, nid))
    text = open(n.config).read().replace("[node]\n", "[node]\nname = %s\n" % nid, 1)
    open(n.config, "w").write(text)
    res = subprocess.run([binary("xbus"), "node", "keygen", "--state", n.state, "--id", nid, "--member", member,
                          "--address", n.url, "--subsystems", subsystems], capture_output=True, text=True)
    t.ok(res.returncode == 0 and ("[node %s]" % nid) in res.stdout, "xbus node keygen for %s" % nid,
         res.stdout + res.stderr)
    section = "\n".join(l for l in res.stdout.splitlines() if not l.startswith("#")) + "\n"
    n.id = nid
    return n, section


def publish_nodes(sections, edit=None):
    """The authority adds the [node] sections and publishes the next version; returns it."""
    text = "".join(sections.values())
    if edit:
        text = edit(text)
    open(os.path.join(reg, "70-nodes.conf"), "w").write("# the nodes of the federation\n" + text)
    version[0] += 1
    out = os.path.join(keys, "v%d.jws" % version[0])
    publish(reg, key_a, out, "--version", str(version[0]))
    shutil.copy(out, served + ".tmp")
    os.replace(served + ".tmp", served)
    return version[0]


def snap_version(n):
    try:
        return (n.request(None, "GET", "/health").json().get("snapshot") or {}).get("version")
    except Exception:
        return None


def wait_version(nodes, v, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(snap_version(n) == v for n in nodes):
            return True
        time.sleep(0.1)
    return False


def call(n, client, subject, extra=None):
    h = dict(PROBLEM)
    h.update(extra or {})
    return n.call(client, CITIZEN, subject=subject, purpose=PURPOSE, extra=h)


SOAP_TEMPLATE = open(os.path.join(ROOT, "tests", "soap", "requests", "citizen.xml")).read()


def soap_message(client, xid, subject, consent=None):
    """An X-Road SOAP request for the citizen service (tests/soap/requests/citizen.xml) from `client`."""
    member, sub = client.split("/")[2:]
    xml = SOAP_TEMPLATE.replace("<id:memberCode>BYT</id:memberCode>", "<id:memberCode>%s</id:memberCode>" % member, 1)
    xml = xml.replace("<id:subsystemCode>health-services</id:subsystemCode>",
                      "<id:subsystemCode>%s</id:subsystemCode>" % sub, 1)
    xml = re.sub(r"<xroad:id>[^<]*</xroad:id>", "<xroad:id>%s</xroad:id>" % xid, xml)
    xml = re.sub(r"<xbus:subject>[^<]*</xbus:subject>", "<xbus:subject>%s</xbus:subject>" % subject, xml)
    xml = re.sub(r"<xbus:purpose>[^<]*</xbus:purpose>", "<xbus:purpose>%s</xbus:purpose>%s" % (
        PURPOSE, "<xbus:consent>%s</xbus:consent>" % consent if consent else ""), xml)
    return xml.encode()


def soap_call(n, client, message):
    return n.request(client, "POST", "/", headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""',
                                                   "Accept": None}, body=message)


def soap_fault(r):
    m = re.search(rb"<faultcode>([A-Za-z_.]+)</faultcode>", r.body)
    return m.group(1).decode() if m else None


def es256_sign(key_file, signing_input):
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file], input=signing_input,
                         capture_output=True, check=True).stdout
    # DER SEQUENCE of two INTEGERs -> r||s
    i = 2 if sig[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        n = sig[i + 1]
        v = int.from_bytes(sig[i + 2:i + 2 + n], "big")
        out += v.to_bytes(32, "big")
        i += 2 + n
    return base64.urlsafe_b64encode(out).rstrip(b"=").decode()


def b64(d):
    return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).rstrip(b"=").decode()


def entry(n, xid):
    hits = [e for e in n.log_entries().values() if e.get("xroad_id") == xid]
    return hits[-1] if hits else None


# --- enrolment: three nodes, one snapshot ----------------------------------------------------------
bca, sec_bca = make_node("bca", "VN/GOV/BCA", "VN/GOV/BCA/population, VN/GOV/BTNMT/land")
byt, sec_byt = make_node("byt", "VN/GOV/BYT", BYT + ", " + PORTAL)
hn, sec_hn = make_node("hn", "VN/GOV/HN-UBND", HN + ", VN/GOV/BHXH/health-insurance")
sections = {"bca": sec_bca, "byt": sec_byt, "hn": sec_hn}
v1 = publish_nodes(sections)
for n in (bca, byt, hn):
    n.start()
bca.start_sample(people=50)
subject = bca.sample_ids(1, people=50)[0]
# hn's adapter serves only the database hn hosts
hn_sample = subprocess.Popen([binary("xbus-adapter-sample"), "--bus", "tcp://127.0.0.1:%d" % hn.aport, "--workers", "1",
                              "--provider", "VN/GOV/BHXH/health-insurance"] + hn.sample_args(50) + curve_args(hn),
                             stdout=open(os.path.join(hn.tmp, "adapter-hn.log"), "ab"), stderr=subprocess.STDOUT)
_processes.append(hn_sample)
hn.wait_health(adapters=1)
t.ok(wait_version((bca, byt, hn), v1), "the three nodes run on snapshot version %d" % v1)

# --- a cross-node exchange -------------------------------------------------------------------------
xid = "fed-ok-1"
r = call(byt, BYT, subject, {"X-Road-Id": xid})
t.eq(r.status, 200, "a client of byt reads a citizen hosted at bca through its own node")
t.ok(r.json().get("id") == subject or subject in r.body.decode(), "the answer is the citizen's", r.body[:200])
t.eq(r.header("x-bus-provider-node"), "bca", "the answer names the provider's node")
own, theirs = r.header("x-bus-receipt"), r.header("x-bus-provider-receipt")
t.ok(own and theirs, "both nodes' receipts come back", r.headers)
t.ok(batch_receipt_mod.is_batch_receipt(own or "") and batch_receipt_mod.is_batch_receipt(theirs or ""),
     "both of the group-commit form (receipts = per-batch, the default): head~entry~path")
t.ok(own and verify_receipt_openssl(own, byt.pki), "byt's receipt verifies with byt's key (openssl)")
t.ok(theirs and verify_receipt_openssl(theirs, bca.pki), "bca's receipt verifies with bca's key (openssl)")
p_own, p_theirs = receipt_payload(own), receipt_payload(theirs)
body_hash = hashlib.sha256(r.body).hexdigest()
t.ok(p_own["xroad_id"] == p_theirs["xroad_id"] == xid, "both receipts are for the X-Road-Id")
t.ok(p_own["request_hash"] == p_theirs["request_hash"], "both receipts name the same request hash")
t.ok(p_own["response_hash"] == p_theirs["response_hash"] == body_hash, "and the body delivered")
t.eq(str(p_own["seq"]), r.header("x-bus-log-seq"), "X-Bus-Log-Seq is byt's entry")
t.eq(str(p_theirs["seq"]), r.header("x-bus-provider-log-seq"), "X-Bus-Provider-Log-Seq is bca's entry")
e_byt, e_bca = entry(byt, xid), entry(bca, xid)
t.ok(e_byt and e_bca, "both nodes logged the exchange", (e_byt, e_bca))
if e_byt and e_bca:
    t.ok(e_byt["request_hash"] == e_bca["request_hash"] == p_own["request_hash"], "under the same request hash")
    t.eq((e_byt.get("peer_node"), e_byt.get("peer_role"), e_byt.get("peer_seq")), ("bca", "provider", p_theirs["seq"]),
         "byt's entry names bca and bca's entry")
    t.eq((e_bca.get("peer_node"), e_bca.get("peer_role"), e_bca.get("client")), ("byt", "client", BYT),
         "bca's entry names byt and the client")
    t.eq(e_byt.get("xroad_request_hash"), r.header("x-road-request-hash"),
         "byt logs the X-Road request hash over what the client sent")
    t.eq((e_byt["decision"], e_bca["decision"]), ("allow", "allow"), "both allowed")
    reqs = [e for e in byt.log_entries().values() if e.get("xroad_id") == xid and e.get("stage") == "request"]
    t.ok(len(reqs) == 1 and reqs[0]["seq"] < e_byt["seq"] and reqs[0]["request_hash"] == e_byt["request_hash"]
         and (reqs[0]["decision"], reqs[0]["status"], reqs[0]["response_hash"], reqs[0].get("peer_node"))
         == ("allow", 0, None, "bca"), "byt logged the request before it forwarded it (stage request)", reqs)
    t.eq(e_byt.get("request_seq"), reqs[0]["seq"] if reqs else None, "byt's answer entry names its request entry")
# --- audit across nodes: both sides of the exchange, offline, with the keys the snapshot names -----


def bundle(n, seq, receipt, name):
    out = os.path.join(tmp, name)
    for _ in range(50):  # until a checkpoint covers the entry (every 300 ms here)
        res = subprocess.run([binary("xbus"), "audit", "show", "--state", n.state, "--url", n.url, "--receipt",
                              receipt, "--bundle", out, str(seq)], capture_output=True, text=True)
        if res.returncode == 0 or "no checkpoint covers" not in res.stderr:
            break
        time.sleep(0.2)
    t.ok(res.returncode == 0 and os.path.exists(out), "xbus audit show --bundle on %s" % n.id, res.stdout + res.stderr)
    return out


def cross(xid, *bundles):
    return subprocess.run([binary("xbus"), "audit", "verify-cross", "--snapshot", os.path.join(keys, "v1.jws"),
                           "--anchor", pub_a, "--id", xid] + list(bundles), capture_output=True, text=True)


b_byt = bundle(byt, r.header("x-bus-log-seq"), own, "byt.json")
b_bca = bundle(bca, r.header("x-bus-provider-log-seq"), theirs, "bca.json")
res = cross(xid, b_bca, b_byt)
t.ok(res.returncode == 0 and res.stdout.startswith("OK: X-Road-Id " + xid), "xbus audit verify-cross: both sides of "
     "the exchange verify offline, in either order", res.stdout + res.stderr)
t.ok(cross("fed-other", b_byt, b_bca).returncode == 1, "verify-cross refuses another X-Road-Id")
t.ok(cross(xid, b_byt, b_byt).returncode == 1, "verify-cross refuses one node's side twice")
forged = json.load(open(b_bca))
forged["entry"] = forged["entry"].replace(e_bca["request_hash"], "0" * 64)
json.dump(forged, open(os.path.join(tmp, "forged.json"), "w"))
res = cross(xid, b_byt, os.path.join(tmp, "forged.json"))
t.ok(res.returncode == 1 and "FAILED" in res.stdout, "verify-cross refuses a provider entry whose request hash was "
     "changed (its proof no longer holds)", res.stdout + res.stderr)



def export(n, name):
    """The node's whole log as an export (through its auditor API), once a checkpoint covers xid's entries."""
    out = os.path.join(tmp, name)
    for _ in range(50):
        res = subprocess.run([binary("xbus"), "audit", "export", "--state", n.state, "--url", n.url, "--out", out],
                             capture_output=True, text=True)
        if res.returncode == 0 and xid in open(out).read():
            break
        time.sleep(0.2)
    t.ok(res.returncode == 0 and os.path.exists(out), "xbus audit export on %s" % n.id, res.stdout + res.stderr)
    return out


x_byt, x_bca = export(byt, "byt.jsonl"), export(bca, "bca.jsonl")
res = cross(xid, x_byt, x_bca)
t.ok(res.returncode == 0 and res.stdout.startswith("OK: X-Road-Id " + xid) and
     ("entry %s" % r.header("x-bus-log-seq")) in res.stdout,
     "verify-cross on the two nodes' exports: each verified against its checkpoint, the exchange's entries found "
     "and matched", res.stdout + res.stderr)
res = cross(xid, x_bca, b_byt)
t.ok(res.returncode == 0 and res.stdout.startswith("OK:"), "an export and a proof bundle together",
     res.stdout + res.stderr)
res = cross("fed-other", x_byt, x_bca)
t.ok(res.returncode == 1 and "no entry" in res.stdout, "verify-cross on exports refuses another X-Road-Id",
     res.stdout + res.stderr)
res = cross(xid, x_byt, x_byt)
t.ok(res.returncode == 1 and "both files are node 'byt'" in res.stdout,
     "verify-cross refuses one node's export twice", res.stdout + res.stderr)
lines = open(x_bca).read().splitlines(True)
tampered = [l.replace(e_bca["request_hash"], "0" * 64) if xid in l else l for l in lines]
t.ok(tampered != lines, "the test tampers with bca's entry in its export")
open(os.path.join(tmp, "tampered.jsonl"), "w").write("".join(tampered))
res = cross(xid, x_byt, os.path.join(tmp, "tampered.jsonl"))
t.ok(res.returncode == 1 and res.stdout.startswith("FAILED") and "tampered.jsonl" in res.stdout,
     "verify-cross refuses a tampered export (its entry no longer matches its checkpoint)", res.stdout + res.stderr)

# --- a SOAP exchange across nodes: the message as the client sent it, forwarded to bca -------------------
msg = soap_message(BYT, "fed-soap-1", subject)
r = soap_call(byt, BYT, msg)
t.ok(r.status == 200 and b"<pop:citizenResponse" in r.body and b"Fault" not in r.body and subject.encode() in r.body,
     "a SOAP client of byt reads a citizen hosted at bca through its own node", (r.status, r.body[:300]))
t.eq(r.header("x-bus-provider-node"), "bca", "the SOAP answer names the provider's node")
own, theirs = r.header("x-bus-receipt"), r.header("x-bus-provider-receipt")
t.ok(own and verify_receipt_openssl(own, byt.pki) and theirs and verify_receipt_openssl(theirs, bca.pki),
     "both nodes' receipts come back and verify (openssl)", r.headers)
sha512 = base64.b64encode(hashlib.sha512(msg).digest()).decode()
t.ok(("<xroad:requestHash algorithmId=\"http://www.w3.org/2001/04/xmlenc#sha512\">%s</xroad:requestHash>" % sha512)
     .encode() in r.body, "the answer's xroad:requestHash is over the message byt's client sent", r.body[:600])
if own and theirs:
    p_own, p_theirs = receipt_payload(own), receipt_payload(theirs)
    t.ok(p_own["xroad_id"] == p_theirs["xroad_id"] == "fed-soap-1" and
         p_own["request_hash"] == p_theirs["request_hash"] == hashlib.sha256(msg).hexdigest() and
         p_own["response_hash"] == p_theirs["response_hash"] == hashlib.sha256(r.body).hexdigest(),
         "both receipts: the X-Road-Id, the message as sent, the envelope delivered", (p_own, p_theirs))
e_byt, e_bca = entry(byt, "fed-soap-1"), entry(bca, "fed-soap-1")
t.ok(e_byt and e_bca and e_byt.get("xroad_request_hash") == e_bca.get("xroad_request_hash") == sha512 and
     e_byt["request_hash"] == e_bca["request_hash"] and (e_byt["decision"], e_bca["decision"]) == ("allow", "allow")
     and (e_byt.get("peer_node"), e_byt.get("peer_role"), e_bca.get("peer_node"), e_bca.get("peer_role")) ==
     ("bca", "provider", "byt", "client"), "both nodes logged it under the X-Road-Id and the X-Road request hash",
     (e_byt, e_bca))
# refused by bca, whose check it is (the consent): an X-Road SOAP Fault through byt
other = bca.sample_ids(2, people=50)[1]  # not the subject of the citizen's view below, which lists BYT and HN only
r = soap_call(byt, PORTAL, soap_message(PORTAL, "fed-soap-consent", other, consent="0" * 40))
t.ok((r.status, soap_fault(r), r.header("x-road-error")) ==
     (200, "Server.ServerProxy.AccessDenied", "Server.ServerProxy.AccessDenied") and
     r.header("x-bus-provider-receipt") is None, "a SOAP refusal by bca (an unknown consent) comes back through byt "
     "as a SOAP Fault with the X-Road code", (r.status, r.headers, r.body[:400]))
e_bca = entry(bca, "fed-soap-consent")
t.ok(e_bca and e_bca["error"] == "consent_invalid" and e_bca.get("peer_node") == "byt", "bca logged the refusal",
     e_bca)

# keep-alive: more exchanges reuse the connection (no new TLS handshake needed for each)
more = [call(byt, BYT, subject) for _ in range(20)]
t.eq(sum(x.status == 200 for x in more), 20, "20 more cross-node exchanges")
swapped = json.load(open(b_bca))
swapped["receipt"] = more[-1].header("x-bus-provider-receipt")
json.dump(swapped, open(os.path.join(tmp, "swapped.json"), "w"))
res = cross(xid, b_byt, os.path.join(tmp, "swapped.json"))
t.ok(res.returncode == 1 and "FAILED" in res.stdout and "receipt" in res.stdout, "verify-cross refuses bca's bundle "
     "holding the batch receipt of another exchange", res.stdout + res.stderr)

# --- the client node killed (SIGKILL) while the provider is slow: its request entry survives ----------
bca.adapters[0].terminate()
bca.adapters[0].wait()
slow = bca.start_sample(people=50, delays=[(CITIZEN, 2000)])


def call_dying():
    try:
        call(byt, BYT, subject, {"X-Road-Id": "fed-crash"})
    except (OSError, http.client.HTTPException):
        pass  # byt dies under it


caller = threading.Thread(target=call_dying, daemon=True)
caller.start()
time.sleep(0.7)  # forwarded; bca's adapter is still sleeping on it
byt.kill9()
caller.join(10)
deadline = time.time() + 10
while entry(bca, "fed-crash") is None and time.time() < deadline:
    time.sleep(0.2)
e_bca = entry(bca, "fed-crash")
t.ok(e_bca and e_bca["status"] == 200 and e_bca.get("peer_node") == "byt",
     "bca served the exchange after byt was killed", e_bca)
byt.start()
hits = [e for e in byt.log_entries().values() if e.get("xroad_id") == "fed-crash"]
t.ok(len(hits) == 1 and hits[0].get("stage") == "request" and hits[0].get("peer_node") == "bca"
     and e_bca and hits[0]["request_hash"] == e_bca["request_hash"] and hits[0]["client"] == BYT,
     "after a restart, byt's log holds the request it forwarded before it was killed", hits)
slow.terminate()
slow.wait()
bca.start_sample(people=50)
t.eq(call(byt, BYT, subject).status, 200, "byt serves again after its restart")

# --- consent across nodes: decided by the provider's node, where the record is ----------------------
LAND = "VN/GOV/BTNMT/land/land-parcels"
exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
r = bca.request(PORTAL, "POST", "/consent/consents", headers={"Content-Type": "application/json"},
                body=json.dumps({"subject": subject, "grantee": HN, "services": [LAND], "purpose": PURPOSE,
                                 "expires": exp}))
t.eq(r.status, 201, "the portal grants a consent at bca, the node that hosts the land registry")
cid = r.json().get("id") if r.status == 201 else "none"
r = hn.call(HN, LAND, subject=subject, purpose=PURPOSE, extra={"X-Bus-Consent": cid, "X-Road-Id": "fed-consent"})
t.eq(r.status, 200, "a consent-based read across nodes: hn forwards, bca checks the consent it holds")
e_bca, e_hn = entry(bca, "fed-consent"), entry(hn, "fed-consent")
t.ok(e_bca and e_bca.get("basis") == "consent" and e_bca.get("consent") == cid, "bca logged the consent used", e_bca)
t.ok(e_hn and e_hn.get("consent") == cid and e_hn.get("peer_node") == "bca", "hn logged it too", e_hn)
r = bca.request(PORTAL, "POST", "/consent/consents/%s/revoke" % cid)
t.eq(r.status, 200, "the portal revokes it at bca")
r = hn.call(HN, LAND, subject=subject, purpose=PURPOSE, extra=dict(PROBLEM, **{"X-Bus-Consent": cid}))
t.problem(r, 403, "consent_invalid", "the next read through hn is refused by bca: revoked")

# --- the citizen's view across nodes: the portal at byt, the accesses served at bca and at hn ----------
JSON = {"Content-Type": "application/json"}
r = call(byt, BYT, subject, {"X-Road-Id": "fed-view-bca"})
t.eq(r.status, 200, "an access served at bca (byt's client)")
r = byt.call(BYT, CARD, subject=subject, purpose="health-insurance-enrolment",
             extra=dict(PROBLEM, **{"X-Road-Id": "fed-view-hn"}))
t.ok(r.status == 200, "an access served at hn (byt's client reads a health insurance card)", r.body[:300])


def view(n=byt, body=None, cert=None):
    r = n.request(None if cert else PORTAL, "POST", "/consent/accesses", headers=JSON, cert=cert,
                  body=json.dumps(body if body is not None else {"subject": subject}))
    return r, (r.json() if r.status == 200 else {})


def lines(v, xid):
    return [(a.get("node"), a.get("peer_role")) for a in v.get("accesses", []) if a.get("xroad_id") == xid]


r, v = view()
t.ok(r.status == 200, "the portal asks byt for the citizen's view (POST, the subject in the body)", r.body[:300])
t.ok(sorted((s["node"], s["status"]) for s in v.get("nodes", [])) == [("bca", "ok"), ("byt", "ok"), ("hn", "ok")],
     "every node of the snapshot answered", v.get("nodes"))
t.eq(lines(v, "fed-view-bca"), [("bca", "client")], "the access served at bca, named bca (byt's own line of it "
     "is left out: bca's is the one shown)")
t.eq(lines(v, "fed-view-hn"), [("hn", "client")], "the access served at hn, named hn")
t.ok(lines(v, "fed-consent") == [("bca", "client")], "the consent-based read through hn, served at bca",
     lines(v, "fed-consent"))
times = [a["time"] for a in v.get("accesses", [])]
t.ok(times and times == sorted(times, reverse=True), "newest first")
t.ok(all(a["client"] in (BYT, HN) for a in v.get("accesses", [])), "each names its client")
r = byt.request(PORTAL, "GET", "/consent/subjects/%s/accesses" % subject)
t.ok(r.status == 200 and len(r.json().get("nodes", [])) == 3 and lines(r.json(), "fed-view-hn") == [("hn", "client")],
     "the GET form gives the same view (the id in its path reaches no log: see below)", r.body[:300])
r = byt.request(PORTAL, "GET", "/consent/subjects/%s/accesses?cursor=5" % subject)
t.problem(r, 400, "bad_request", "across nodes, GET with a cursor points to POST and \"cursors\"")
r, v2 = view(body={"subject": subject, "limit": 1})
t.ok(r.status == 200 and all(s.get("next_cursor") for s in v2.get("nodes", [])), "limit 1 per node: each node "
     "gives its next cursor", v2.get("nodes"))
cursors = {s["node"]: s["next_cursor"] for s in v2.get("nodes", []) if s.get("next_cursor")}
r, v3 = view(body={"subject": subject, "limit": 1, "cursors": {"hn": cursors.get("hn", 0)}})
t.ok(r.status == 200 and [s["node"] for s in v3.get("nodes", [])] == ["byt", "hn"] and
     all(a["node"] == "hn" for a in v3.get("accesses", [])), "the next page of hn alone (\"cursors\")", v3)
r, _ = view(body={"subject": subject, "subjects": []})
t.problem(r, 400, "bad_request", "an unknown member in the body is refused")

# node calls, made by hand: only a node whose certificate the snapshot pins, for a consent authority it hosts
body = json.dumps({"subject": subject, "limit": 5, "cursor": None})


def node_call(signer, nid, to="bca", client=PORTAL, kind="accesses", target="/consent/accesses", data=body):
    head = b64({"alg": "ES256", "typ": "xbus-node-call+jws"})
    payload = b64({"v": 1, "node": nid, "to": to, "kind": kind, "client": client, "method": "POST", "target": target,
                   "body_hash": hashlib.sha256(data.encode()).hexdigest(), "iat": int(time.time())})
    return head + "." + payload + "." + es256_sign(os.path.join(signer.pki, "signing.key"),
                                                    (head + "." + payload).encode())


def node_cert(n):
    return (os.path.join(n.pki, "node.crt"), os.path.join(n.pki, "node.key"))


def call_bca(jws, cert, data=body):
    return bca.request(None, "POST", "/consent/accesses", cert=cert, body=data,
                       headers=dict(JSON, **{"X-Bus-Node-Call": jws}))


r = call_bca(node_call(byt, "byt"), node_cert(byt))
t.ok(r.status == 200 and lines(r.json(), "fed-view-bca") == [(None, "client")] and
     "subject_pseudonym" not in r.json(), "control: byt's certificate and envelope, for the portal it hosts: bca "
     "answers from its own index", r.body[:300])
r = call_bca(node_call(byt, "byt"), byt.client_files(PORTAL))
t.problem(r, 403, "node_refused", "the same envelope over a certificate no node pins (the portal's own) is refused")
t.ok("not any node's" in r.body.decode(), "and says why", r.body)
r = call_bca(node_call(hn, "hn"), node_cert(hn))
t.problem(r, 403, "node_refused", "hn calls for the portal, which hn does not host: refused")
t.ok("does not host" in r.body.decode(), "and says why", r.body)
r = call_bca(node_call(byt, "hn"), node_cert(hn))
t.problem(r, 403, "node_refused", "hn's certificate with an envelope signed by byt's key: refused")
r = call_bca(node_call(byt, "byt"), node_cert(byt), data=body.replace("5", "6"))
t.problem(r, 403, "node_refused", "an envelope for another body: refused")
r = call_bca(node_call(byt, "byt", to="hn"), node_cert(byt))
t.problem(r, 403, "node_refused", "an envelope meant for another node: refused")
r = bca.request(None, "POST", "/consent/accesses", cert=node_cert(byt), body=body, headers=JSON)
t.problem(r, 401, "client_unknown", "a node's certificate without an envelope is no consent authority")

# a node that does not answer is named; the others are still shown
hn.proc.send_signal(signal.SIGSTOP)  # connections hang: the per-node deadline


def all_stopped(pid):
    """Whether every thread of `pid` is stopped (a stop is asynchronous)."""
    tasks = "/proc/%d/task" % pid
    return all(open(os.path.join(tasks, k, "stat")).read().rsplit(")", 1)[1].split()[0] == "T"
               for k in os.listdir(tasks))


for _ in range(200):
    if all_stopped(hn.proc.pid):
        break
    time.sleep(0.01)
t0 = time.time()
r, v = view()
took = time.time() - t0
hn.proc.send_signal(signal.SIGCONT)
t.ok(r.status == 200 and ("hn", "timeout") in [(s["node"], s["status"]) for s in v.get("nodes", [])] and
     lines(v, "fed-view-bca") == [("bca", "client")], "hn hangs: the view names it (timeout) and shows the rest",
     v.get("nodes"))
t.ok(2.5 < took < 6, "after the per-node deadline of 3 s (%.2f s)" % took)
hn.stop()
t0 = time.time()
r, v = view()
t.ok(r.status == 200 and ("hn", "unreachable") in [(s["node"], s["status"]) for s in v.get("nodes", [])],
     "hn is down: the view names it unreachable (%.2f s)" % (time.time() - t0), v.get("nodes"))
t.eq(lines(v, "fed-view-bca"), [("bca", "client")], "and still shows bca's accesses")
t.eq(lines(v, "fed-view-hn"), [("byt", "provider")], "and byt's own line of the access served at hn")
hn.start()
hn.wait_health(adapters=1)

# --- consent records through the bus: granted and revoked at byt, the portal's node; held at bca -------
grant = {"subject": subject, "grantee": HN, "services": [LAND], "purpose": PURPOSE, "expires": exp}
r = byt.request(PORTAL, "POST", "/consent/consents", headers=JSON, body=json.dumps(grant))
t.ok((r.status, r.header("x-bus-node")) == (201, "bca"), "the portal grants at byt; byt forwards it to bca, which "
     "hosts the land registry, and answers with bca's answer", r.body[:300])
cid2 = r.json().get("id") if r.status == 201 else "none"
t.eq(bca.request(PORTAL, "GET", "/consent/consents/%s" % cid2).status, 200, "the record is at bca")
t.eq(byt.request(PORTAL, "GET", "/consent/consents/%s" % cid2).status, 404, "and not at byt")
r = hn.call(HN, LAND, subject=subject, purpose=PURPOSE, extra={"X-Bus-Consent": cid2, "X-Road-Id": "fed-consent-2"})
t.eq(r.status, 200, "hn reads land parcels at bca with it")
r = byt.request(PORTAL, "POST", "/consent/consents/%s/revoke" % cid2)
t.ok((r.status, r.header("x-bus-node"), r.json().get("status") if r.status == 200 else None) ==
     (200, "bca", "revoked"), "the portal revokes it at byt; it is revoked at bca", r.body[:300])
r = hn.call(HN, LAND, subject=subject, purpose=PURPOSE, extra=dict(PROBLEM, **{"X-Bus-Consent": cid2}))
t.problem(r, 403, "consent_invalid", "the next read through hn is refused by bca: revoked")
r = byt.request(PORTAL, "POST", "/consent/consents/%s/revoke" % ("0" * 40))
t.problem(r, 404, "not_found", "revoking an unknown consent through byt: no node holds it")
r = byt.request(PORTAL, "POST", "/consent/consents", headers=JSON, body=json.dumps(dict(grant, services=[LAND, CARD])))
t.problem(r, 400, "bad_request", "a consent whose scope spans bca and hn is refused: one consent per node")
t.ok("spans nodes" in r.body.decode(), "and says why", r.body)
jws = node_call(hn, "hn", kind="consent-create", target="/consent/consents", data=json.dumps(grant))
r = bca.request(None, "POST", "/consent/consents", cert=node_cert(hn), body=json.dumps(grant),
                headers=dict(JSON, **{"X-Bus-Node-Call": jws}))
t.problem(r, 403, "node_refused", "bca refuses a consent from hn, which does not host the portal")

# the subject never reaches a node's log (the GET form put it in a URL above)
for n in (bca, byt, hn):
    text = open(os.path.join(n.tmp, "xbusd.log"), errors="replace").read()
    t.ok(subject not in text, "the subject is nowhere in %s's output (%d bytes)" % (n.id, len(text)))

# --- a client node forwarding for a client it does not host: refused by both nodes ---------------------
# hn's demo PKI issued a certificate for every subsystem, BYT's too: hn refuses to forward for it
r = call(hn, BYT, subject, {"X-Road-Id": "fed-not-hosted"})
t.problem(r, 403, "client_not_hosted", "hn refuses to forward for a client it does not host")
t.ok("not hosted by this node" in r.body.decode(), "and says why", r.body)
r = hn.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, extra={"Accept": None})
t.eq((r.status, r.header("x-road-error")), (500, "Server.ClientProxy.UnknownMember"),
     "in the X-Road format: Server.ClientProxy.UnknownMember")
e = entry(hn, "fed-not-hosted")
t.ok(e and e["decision"] == "deny" and e["error"] == "client_not_hosted" and e.get("peer_node") is None,
     "hn logged the refusal", e)
t.ok(entry(bca, "fed-not-hosted") is None, "and forwarded nothing: bca never saw it")


def forged_forward(client, xid):
    """What a node would forward, made here as hn (its TLS certificate, an envelope signed with its receipt key)
    but without hn's own check: the provider node's check must stand alone."""
    target = "/r1/" + CITIZEN
    claims = {"v": 1, "node": "hn", "to": "bca", "client": client, "service": CITIZEN, "method": "GET",
              "target": target, "xroad_id": xid, "request_hash": hashlib.sha256(b"").hexdigest(),
              "iat": int(time.time())}
    head, payload = b64({"alg": "ES256", "typ": "xbus-forward+jws"}), b64(claims)
    jws = head + "." + payload + "." + es256_sign(os.path.join(hn.pki, "signing.key"), (head + "." + payload).encode())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(os.path.join(hn.pki, "node.crt"), os.path.join(hn.pki, "node.key"))
    conn = http.client.HTTPSConnection("127.0.0.1", bca.port, context=ctx, timeout=15)
    conn.request("GET", target, headers={"X-Road-Client": client, "X-Road-Id": xid, "X-Bus-Purpose": PURPOSE,
                                         "X-Bus-Subject": subject, "X-Bus-Forward": jws,
                                         "Accept": "application/problem+json"})
    a = conn.getresponse()
    out = (a.status, a.read())
    conn.close()
    return out


status, body = forged_forward(HN, "fed-forged-own")
t.eq(status, 200, "control: a forward made by the test as hn, for hn's own client, is served by bca")
status, body = forged_forward(BYT, "fed-forged-not-hosted")
t.ok(status == 403 and b"node_refused" in body and b"which it does not host" in body,
     "bca refuses a forward from hn for a client hn does not host (hn's own check bypassed)", (status, body))
e = entry(bca, "fed-forged-not-hosted")
t.ok(e and e["decision"] == "deny" and e["error"] == "node_refused" and e.get("peer_node") is None,
     "bca logged the refusal", e)
r = call(hn, HN, subject, {"X-Road-Id": "fed-hn-own"})
t.eq(r.status, 200, "control: hn forwards for its own client, and bca serves it")

# --- a provider node whose certificate is not the snapshot's ---------------------------------------
wrong = "tls-fingerprint = sha256:" + "ab" * 32


repinned = dict(sections)
repinned["bca"] = "\n".join(wrong if l.startswith("tls-fingerprint") else l for l in sec_bca.split("\n"))
v2 = publish_nodes(repinned)
t.ok(wait_version((bca, byt, hn), v2), "version %d pins another certificate for bca" % v2)
r = call(byt, BYT, subject, {"X-Road-Id": "fed-pin"})
t.problem(r, 502, "node_untrusted", "byt refuses bca's certificate, which the snapshot no longer names")
e = entry(byt, "fed-pin")
t.ok(e and e["error"] == "node_untrusted" and e.get("peer_node") == "bca", "byt logged it", e)
r = byt.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, extra={"Accept": None})
t.eq((r.status, r.header("x-road-error")), (500, "Server.ClientProxy.SslAuthenticationFailed"),
     "in the X-Road format: Server.ClientProxy.SslAuthenticationFailed")
v3 = publish_nodes(sections)
t.ok(wait_version((bca, byt, hn), v3), "version %d pins bca's certificate again" % v3)
t.eq(call(byt, BYT, subject).status, 200, "exchanges go through again")

# --- a provider node that does not answer: stopped (SIGSTOP), so connections hang ------------------
bca.proc.send_signal(signal.SIGSTOP)
t0 = time.time()
r = call(byt, BYT, subject, {"X-Road-Id": "fed-timeout"})
took = time.time() - t0
bca.proc.send_signal(signal.SIGCONT)
t.problem(r, 504, "node_timeout", "bca hangs: byt answers node_timeout after the service's timeout")
t.ok(4 < took < 8, "after the service's timeout of 5 s (%.2f s)" % took)
e = entry(byt, "fed-timeout")
t.ok(e and e["error"] == "node_timeout", "byt logged it", e)
bca.wait_health(adapters=1)  # its adapter missed heartbeats meanwhile: it comes back by itself
deadline = time.time() + 10
while True:  # the adapter that missed its heartbeats comes back by itself
    r = call(byt, BYT, subject)
    if r.status == 200 or time.time() > deadline:
        break
    time.sleep(0.2)
t.eq(r.status, 200, "bca answers again once it runs") or print(r)

# --- a provider node down ---------------------------------------------------------------------------
bca.stop()
t0 = time.time()
r = call(byt, BYT, subject, {"X-Road-Id": "fed-down"})
took = time.time() - t0
t.problem(r, 503, "node_unreachable", "bca is down: byt answers node_unreachable")
t.ok(took < 3, "fast (%.2f s)" % took)
r = byt.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, extra={"Accept": None})
t.eq((r.status, r.header("x-road-error")), (500, "Server.ClientProxy.NetworkError"),
     "in the X-Road format: Server.ClientProxy.NetworkError")
e = entry(byt, "fed-down")
t.ok(e and e["error"] == "node_unreachable", "byt logged it", e)
r = soap_call(byt, BYT, soap_message(BYT, "fed-soap-down", subject))
t.eq((r.status, soap_fault(r), r.header("x-road-error")), (200, "Server.ClientProxy.NetworkError",
     "Server.ClientProxy.NetworkError"), "a SOAP exchange while bca is down: a Server.ClientProxy.NetworkError Fault")
e = entry(byt, "fed-soap-down")
t.ok(e and e["error"] == "node_unreachable" and e.get("peer_node") == "bca", "byt logged it", e)

# --- a receipt signed by the wrong node: an impostor with bca's certificate, signing with hn's key ----


def bca_origin():
    """The origin of bca's log: the name of its checkpoint key in the snapshot (a vkey NAME+HASH+KEY)."""
    line = [l for l in sec_bca.split("\n") if l.startswith("checkpoint-key")][0]
    return line.split("=", 1)[1].strip().split("+")[0]


def batch_receipt(signer, entry, tamper=None):
    """A receipt of the group-commit form for `entry` at seq 1 of a tree of two (head~entry~path)."""
    other = json.dumps({"v": 1, "seq": 0, "xroad_id": "fed-other-entry"}, separators=(",", ":")).encode()
    raw = json.dumps(entry, separators=(",", ":")).encode()
    leaf0, leaf1 = (hashlib.sha256(b"\x00" + x).digest() for x in (other, raw))
    root = hashlib.sha256(b"\x01" + leaf0 + leaf1).digest()
    head = b64({"alg": "ES256", "typ": "xbus-tree-head+jws"})
    payload = b64({"origin": bca_origin(), "size": 2, "root": base64.b64encode(root).decode(),
                   "time": "2026-12-06T00:00:00Z"})
    path = bytearray(leaf0)
    if tamper == "path":
        path[0] ^= 1
    enc = lambda b: base64.urlsafe_b64encode(bytes(b)).rstrip(b"=").decode()  # noqa: E731
    jws = head + "." + payload + "." + es256_sign(signer, (head + "." + payload).encode())
    return jws + "~" + enc(raw) + "~" + enc(path)


class Impostor(http.server.BaseHTTPRequestHandler):
    signer = os.path.join(hn.pki, "signing.key")
    form = "jws"  # or "batch", "batch-other" (the entry of another exchange), "batch-path" (a tampered path)

    def do_GET(self):
        body = json.dumps({"id": subject, "impostor": True}).encode()
        claims = {"seq": 1, "time": "2026-12-06T00:00:00Z", "xroad_id": self.headers.get("X-Road-Id", ""),
                  "client": self.headers.get("X-Road-Client"), "service": CITIZEN,
                  "request_hash": hashlib.sha256(b"").hexdigest(), "response_hash": hashlib.sha256(body).hexdigest()}
        if self.form == "jws":
            head = b64({"alg": "ES256", "typ": "xbus-receipt+jws"})
            payload = b64(claims)
            receipt = head + "." + payload + "." + es256_sign(self.signer, (head + "." + payload).encode())
        else:
            entry = dict(claims, v=1, decision="allow")
            if self.form == "batch-other":
                entry["xroad_id"] = "fed-someone-else"
            receipt = batch_receipt(self.signer, entry, "path" if self.form == "batch-path" else None)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Bus-Receipt", receipt)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


imp = http.server.ThreadingHTTPServer(("127.0.0.1", bca.port), Impostor)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(bca.pki, "node.crt"), os.path.join(bca.pki, "node.key"))
imp.socket = ctx.wrap_socket(imp.socket, server_side=True)
threading.Thread(target=imp.serve_forever, daemon=True).start()
r = call(byt, BYT, subject, {"X-Road-Id": "fed-wrong-receipt"})
t.problem(r, 502, "node_inconsistent", "a receipt signed by hn's key, not bca's, is refused")
t.ok(b"impostor" not in r.body, "the impostor's answer is withheld")
e = entry(byt, "fed-wrong-receipt")
t.ok(e and e["error"] == "node_inconsistent" and e.get("response_hash") is None, "byt logged it", e)
# the same refusals with receipts of the group-commit form (one tree head per batch, the entry and its path)
Impostor.form = "batch"
r = call(byt, BYT, subject, {"X-Road-Id": "fed-wrong-head"})
t.problem(r, 502, "node_inconsistent", "a batch receipt whose tree head hn signed, not bca, is refused")
t.ok(b"impostor" not in r.body and "does not verify" in r.body.decode(), "the answer is withheld, and why", r.body)
Impostor.signer = os.path.join(bca.pki, "signing.key")
Impostor.form = "batch-other"
r = call(byt, BYT, subject, {"X-Road-Id": "fed-other-entry"})
t.problem(r, 502, "node_inconsistent", "a batch receipt (bca's head) whose entry is another exchange is refused")
t.ok(b"impostor" not in r.body and "another exchange" in r.body.decode(), "the answer is withheld, and why", r.body)
Impostor.form = "batch-path"
r = call(byt, BYT, subject, {"X-Road-Id": "fed-tampered-path"})
t.problem(r, 502, "node_inconsistent", "a batch receipt whose inclusion path was tampered with is refused")
t.ok(b"impostor" not in r.body and "does not prove" in r.body.decode(), "the answer is withheld, and why", r.body)
e = entry(byt, "fed-tampered-path")
t.ok(e and e["error"] == "node_inconsistent" and e.get("response_hash") is None, "byt logged it", e)
Impostor.form = "batch"
r = call(byt, BYT, subject, {"X-Road-Id": "fed-right-head"})
t.eq(r.status, 200, "control: a batch receipt under bca's head, for this exchange, passes")
t.ok(batch_receipt_mod.is_batch_receipt(r.header("x-bus-provider-receipt") or ""),
     "and comes back in X-Bus-Provider-Receipt as it was")
Impostor.form = "jws"
r = call(byt, BYT, subject, {"X-Road-Id": "fed-right-key"})
t.eq(r.status, 200, "control: the same answer with a receipt signed by bca's key passes")
imp.shutdown()
imp.server_close()
# bca comes back with receipts of the older form (one JWS per exchange): byt checks those as before
text = open(bca.config).read()
open(bca.config, "w").write(text.replace("[log]\n", "[log]\nreceipts = per-exchange\n", 1))
bca.start()
bca.wait_health(adapters=1)
r = call(byt, BYT, subject, {"X-Road-Id": "fed-per-exchange"})
t.eq(r.status, 200, "bca with receipts = per-exchange: byt takes its answer")
theirs = r.header("x-bus-provider-receipt") or ""
t.ok(theirs.count(".") == 2 and not batch_receipt_mod.is_batch_receipt(theirs) and
     verify_receipt_openssl(theirs, bca.pki), "bca's receipt is one JWS, and verifies with bca's key (openssl)")
t.eq(receipt_payload(theirs).get("xroad_id"), "fed-per-exchange", "for this exchange")
res = cross("fed-per-exchange", bundle(byt, r.header("x-bus-log-seq"), r.header("x-bus-receipt"), "byt-pe.json"),
            bundle(bca, r.header("x-bus-provider-log-seq"), theirs, "bca-pe.json"))
t.ok(res.returncode == 0 and res.stdout.startswith("OK: X-Road-Id fed-per-exchange"), "verify-cross: a bca bundle "
     "with a per-exchange receipt and a byt bundle with a batch receipt", res.stdout + res.stderr)

# --- a node dropped from the snapshot ----------------------------------------------------------------
dropped = dict(sections)
del dropped["bca"]
v4 = publish_nodes(dropped)
t.ok(wait_version((bca, byt, hn), v4), "version %d drops bca" % v4)
r = call(byt, BYT, subject, {"X-Road-Id": "fed-dropped"})
t.problem(r, 503, "node_unknown", "byt: no node hosts the provider any more")
r = byt.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, extra={"Accept": None})
t.eq((r.status, r.header("x-road-error")), (500, "Server.ClientProxy.UnknownMember"),
     "in the X-Road format: Server.ClientProxy.UnknownMember")

# --- enrolment of a fourth node, without a restart --------------------------------------------------
hcm, sec_hcm = make_node("hcm", "VN/GOV/HCM-UBND", "VN/GOV/HCM-UBND/one-stop-shop")
pids = [n.proc.pid for n in (bca, byt, hn)]
sections["hcm"] = sec_hcm
t0 = time.time()
v5 = publish_nodes(sections)
hcm.start()
t.ok(wait_version((bca, byt, hn, hcm), v5, timeout=5), "every node takes version %d (hcm joins) within one fetch "
     "interval or so (%.1f s)" % (v5, time.time() - t0))
t.eq([n.proc.pid for n in (bca, byt, hn)], pids, "no restart")
r = call(hcm, "VN/GOV/HCM-UBND/one-stop-shop", subject, {"X-Road-Id": "fed-hcm"})
t.eq(r.status, 200, "a one-stop-shop of the new node reads from bca")
e = entry(bca, "fed-hcm")
t.ok(e and e.get("peer_node") == "hcm", "bca logged it from hcm", e)
t.eq(call(byt, BYT, subject).status, 200, "byt reads from bca again")

for n in (bca, byt, hn, hcm):
    t.eq(n.stop(), 0, "%s stops cleanly" % n.id)
server.stop()
shutil.rmtree(tmp, ignore_errors=True)
t.finish()
