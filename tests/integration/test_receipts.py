#!/usr/bin/env python3
"""test_receipts.py: the receipt of one signature per group commit (`[log] receipts = per-batch`, the default).

A node answers with X-Bus-Receipt "<tree head JWS>~<entry>~<inclusion path>": the head, signed once for
its batch, verifies with the openssl and jose commands, the entry's RFC 9162 path (walked in Python, not
the project's code) leads to the head's root, and the entry describes the exchange. Then a tampered
entry, a tampered path, a head signed by another key and the receipt of another exchange are each
refused by the project's C verifier (`xbus audit verify-proof` on a bundle) and by the independent one
(openssl/jose and Python). Last, the node is restarted with `receipts = per-exchange`: the one-JWS form
comes back, and both forms verify in bundles of the same log.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from harness import (Check, Node, b64url_decode, binary, receipt_head, receipt_payload, verify_receipt_jose,
                     verify_receipt_openssl)

t = Check("receipts")
for tool in ("openssl", "jose"):
    t.ok(shutil.which(tool), "the %s command is on PATH" % tool, "(missing: run scripts/setup.sh)")
if t.failed:
    t.finish()

BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
AUD = "VN/GOV/TTCP/inspection"
XBUS = binary("xbus")

node = Node(top_extra="[log]\ncheckpoint-interval = 200ms\n").start()
node.start_sample(people=300, workers=2)
subjects = node.sample_ids(3)
work = tempfile.mkdtemp(prefix="xbus-rc-", dir=node.tmp)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def call(xid, i=0):
    return node.call(BYT, CITIZEN, subject=subjects[i % 3], purpose="health-insurance-enrolment",
                     extra={"X-Road-Id": xid})


# --- a batch of several exchanges at once, so that paths are not empty --------------------------------------------
answers = {}


def client(k):
    for j in range(4):
        xid = "rc-%d-%d" % (k, j)
        answers[xid] = call(xid, k + j)


threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
for th in threads:
    th.start()
for th in threads:
    th.join()
t.ok(all(r.status == 200 and r.header("x-bus-receipt") for r in answers.values()),
     "24 concurrent exchanges: 200, each with a receipt")

xid = "rc-2-1"
r = answers[xid]
rc = r.header("x-bus-receipt")
seq = int(r.header("x-bus-log-seq"))
parts = rc.split("~")
t.eq(len(parts), 3, "the receipt is three parts joined by '~'")
hdr = json.loads(b64url_decode(parts[0].split(".")[0]))
head = receipt_head(rc)
t.eq((hdr.get("alg"), hdr.get("typ")), ("ES256", "xbus-tree-head+jws"), "the head is an ES256 JWS of typ "
     "xbus-tree-head+jws")
t.eq(head.get("origin"), "xbus.local", "the head names the log (its checkpoint origin)")
t.ok(isinstance(head.get("size"), int) and head["size"] > seq, "the head's tree holds the entry", head)
t.ok(len(b64url_decode(parts[2])) % 32 == 0 and len(b64url_decode(parts[2])) > 0,
     "the path is whole SHA-256 hashes")
t.ok(verify_receipt_openssl(rc, node.pki), "the receipt verifies: head with the openssl command, path in Python")
t.ok(verify_receipt_jose(rc, node.pki), "the receipt verifies: head with the jose command, path in Python")
p = receipt_payload(rc)
t.eq((p.get("seq"), p.get("xroad_id"), p.get("client"), p.get("service")), (seq, xid, BYT, CITIZEN),
     "the entry names the log sequence, the X-Road-Id, the client and the service")
t.eq(p.get("response_hash"), hashlib.sha256(r.body).hexdigest(), "the entry's response hash is what was delivered")
t.eq(p.get("request_hash"), hashlib.sha256(b"").hexdigest(), "the entry's request hash is the body's")
t.eq((p.get("purpose"), p.get("basis")), ("health-insurance-enrolment", "statute"), "purpose and legal basis")
t.ok(p.get("subject") and len(p["subject"]) == 64 and subjects[2 % 3] not in rc, "the subject pseudonym, not the id")
t.eq((p.get("xroad_request_hash"), p.get("request_id")),
     (r.header("x-road-request-hash"), r.header("x-road-request-id")), "X-Road-Request-Hash and -Id")
heads = {rr.header("x-bus-receipt").split("~")[0] for rr in answers.values()}
t.ok(len(heads) < len(answers), "exchanges of one group commit share one signed head (%d heads for %d answers)" %
     (len(heads), len(answers)))
m = node.metrics()
t.ok(m.get("xbus_receipts_total", 0) >= 24, "metrics count the receipts")


# --- tampering: each refused by the independent check and by the C verifier ----------------------------------------
def python_accepts(receipt, want_xid, want_seq, body):
    """The independent check of a receipt for one exchange: openssl (head) and Python (path), then the entry
    must describe that exchange."""
    if not verify_receipt_openssl(receipt, node.pki):
        return False
    q = receipt_payload(receipt)
    return (q.get("xroad_id"), q.get("seq"), q.get("response_hash")) == (want_xid, want_seq,
                                                                          hashlib.sha256(body).hexdigest())


def with_entry(receipt, edit):
    h, e, pa = receipt.split("~")
    entry = b64url_decode(e).decode()
    return "~".join([h, b64url(edit(entry).encode()), pa])


def with_path(receipt):
    h, e, pa = receipt.split("~")
    raw = bytearray(b64url_decode(pa))
    raw[5] ^= 1
    return "~".join([h, e, b64url(bytes(raw))])


def sign_other_key(receipt):
    """The same head payload signed by a key that is not the node's (made here with openssl)."""
    h, e, pa = receipt.split("~")
    hh, hp, _ = h.split(".")
    key, data, sig = (os.path.join(work, n) for n in ("other.key", "head.in", "head.sig"))
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], check=True,
                   capture_output=True)
    with open(data, "w") as f:
        f.write(hh + "." + hp)
    subprocess.run(["openssl", "dgst", "-sha256", "-sign", key, "-out", sig, data], check=True, capture_output=True)
    der = open(sig, "rb").read()
    # DER SEQUENCE { INTEGER r, INTEGER s } to the JWS form r || s, 32 bytes each
    i = 2 if der[1] < 0x80 else 3
    rl = der[i + 1]
    rv = der[i + 2:i + 2 + rl]
    j = i + 2 + rl
    sv = der[j + 2:j + 2 + der[j + 1]]
    raw = int.from_bytes(rv, "big").to_bytes(32, "big") + int.from_bytes(sv, "big").to_bytes(32, "big")
    return "~".join([hh + "." + hp + "." + b64url(raw), e, pa])


other_xid = "rc-4-3"
other = answers[other_xid].header("x-bus-receipt")
tampered = [
    ("a tampered entry", with_entry(rc, lambda s: s.replace('"status":200', '"status":201'))),
    ("a tampered path", with_path(rc)),
    ("a head signed by another key", sign_other_key(rc)),
    ("the receipt of another exchange", other),
]
t.ok(python_accepts(rc, xid, seq, r.body), "control: the independent check accepts the exchange's own receipt")
t.ok(verify_receipt_openssl(other, node.pki), "control: the other exchange's receipt is valid by itself")
for name, bad in tampered:
    t.ok(not python_accepts(bad, xid, seq, r.body), "openssl/Python refuse %s" % name)
t.ok(not verify_receipt_jose(sign_other_key(rc), node.pki), "jose refuses a head signed by another key")


def audit(*args, online=True):
    cmd = [XBUS, "audit"] + list(args)
    if online:
        cmd += ["--state", node.state, "--url", node.url]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return res.returncode, res.stdout + res.stderr


def wait_checkpoint(size, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        res = node.request(AUD, "GET", "/audit/checkpoint")
        if res.status == 200 and int(res.body.decode().split("\n")[1]) >= size:
            return
        time.sleep(0.05)
    raise RuntimeError("no checkpoint covering %d entries" % size)


rc_, out = audit("key", "--state", node.state, online=False)
vkey_file = os.path.join(work, "log.vkey")
with open(vkey_file, "w") as f:
    f.write(out.strip().split("\n")[0] + "\n")
jwk = os.path.join(node.pki, "signing.jwk")


def bundle_of(s, receipt, name):
    rfile, out_path = os.path.join(work, name + ".rc"), os.path.join(work, name + ".json")
    with open(rfile, "w") as f:
        f.write(receipt)
    code, out = audit("show", str(s), "--receipt", "@" + rfile, "--bundle", out_path, "--vkey", "@" + vkey_file,
                      "--jwk", jwk)
    return code, out, out_path


def verify_proof(path):
    return audit("verify-proof", "--vkey", "@" + vkey_file, "--jwk", jwk, "--require-receipt", path, online=False)


wait_checkpoint(len(answers))
code, out, bpath = bundle_of(seq, rc, "good")
t.ok(code == 0 and "OK: proof" in out, "xbus audit show SEQ --receipt (per-batch) --bundle", out[-300:])
code, out = verify_proof(bpath)
t.ok(code == 0 and out.startswith("OK"), "C verifier: verify-proof accepts the bundle with the receipt", out)
good_bundle = json.load(open(bpath))
wants = {
    "a tampered entry": "the receipt is not valid (entry not under the tree head's root)",
    "a tampered path": "the receipt is not valid (entry not under the tree head's root)",
    "a head signed by another key": "the receipt's tree head is not signed by the node's key",
    "the receipt of another exchange": "the receipt's entry is not the bundle's entry %d" % seq,
}
for k, (name, bad) in enumerate(tampered):
    d = dict(good_bundle, receipt=bad)
    path = os.path.join(work, "bad-%d.json" % k)
    with open(path, "w") as f:
        json.dump(d, f)
    code, out = verify_proof(path)
    t.ok(code == 1 and wants[name] in out, "C verifier: verify-proof refuses a bundle with %s" % name, out)

# --- the other form, on the same log -------------------------------------------------------------------------------
t.eq(node.stop(), 0, "the node stops")
with open(node.config, "a") as f:
    f.write("receipts = per-exchange\n")  # the [log] section is the file's last
node.start()
node.start_sample(people=300)
r2 = call("rc-per-exchange")
jws = r2.header("x-bus-receipt")
seq2 = int(r2.header("x-bus-log-seq"))
t.ok(r2.status == 200 and jws and "~" not in jws and jws.count(".") == 2,
     "receipts = per-exchange: the answer's receipt is one compact JWS")
t.ok(verify_receipt_openssl(jws, node.pki) and verify_receipt_jose(jws, node.pki), "it verifies (openssl, jose)")
t.eq((receipt_payload(jws).get("seq"), receipt_payload(jws).get("xroad_id")), (seq2, "rc-per-exchange"),
     "and names its exchange")
wait_checkpoint(seq2 + 1)
code, out, bpath2 = bundle_of(seq2, jws, "per-exchange")
code2, out2 = verify_proof(bpath2)
t.ok(code == 0 and code2 == 0, "a bundle with the one-JWS receipt verifies", out + out2)
code, out, bpath3 = bundle_of(seq, rc, "per-batch-later")
code2, out2 = verify_proof(bpath3)
t.ok(code == 0 and code2 == 0, "a receipt of the earlier group commit still verifies in a bundle", out + out2)
t.finish()
