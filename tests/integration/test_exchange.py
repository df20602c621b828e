#!/usr/bin/env python3
"""test_exchange.py: the signed REST exchange, end to end, on the embedded sample registry.

A ministry reads a citizen: 200 with the adapter's JSON, X-Road headers, a
receipt that verifies with the openssl and jose commands and describes what
was delivered, and a durable log entry that matches it.
"""
import hashlib
import json
import re
import shutil

from harness import Check, Node, receipt_payload, verify_receipt_jose, verify_receipt_openssl

t = Check("exchange")
# The receipt is checked with tools that are not the project's code; scripts/setup.sh
# installs them. A missing tool is a broken setup: the test fails, it does not pass unchecked.
for tool in ("openssl", "jose"):
    t.ok(shutil.which(tool), "the %s command is on PATH" % tool, "(missing: run scripts/setup.sh)")
if t.failed:
    t.finish()
# This test holds the one-JWS receipt of `[log] receipts = per-exchange`; the default form (one signature per
# group commit) is test_receipts.py's.
node = Node(top_extra="[log]\nreceipts = per-exchange\n").start()
node.start_sample(people=300)
subject = node.sample_ids(2)[0]

BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"

r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment",
              extra={"X-Road-Id": "case-42.a", "X-Road-UserId": "VN-officer-17", "X-Road-Issue": "HS-2026/118"})
t.eq(r.status, 200, "ministry reads a citizen: 200")
doc = r.json()
t.eq(doc.get("id"), subject, "the citizen document is the subject's")
t.ok(isinstance(doc.get("full_name"), str) and doc["full_name"], "the document has a name")
t.eq(r.header("x-road-id"), "case-42.a", "X-Road-Id echoed")
t.eq(r.header("x-road-service"), CITIZEN, "X-Road-Service names the service")
# X-Road-Request-Hash is X-Road's (PR-REST 1.0.4 §4.3: base64 SHA-512 over the request as sent; tests/xroad
# recomputes it), the receipt keeps it with the request id, and the body's own SHA-256 as before
t.ok(re.fullmatch(r"[A-Za-z0-9+/]{86}==", r.header("x-road-request-hash") or "") is not None,
     "X-Road-Request-Hash is base64 of a SHA-512 digest", r.header("x-road-request-hash"))
seq = int(r.header("x-bus-log-seq"))
jws = r.header("x-bus-receipt")
t.ok(jws and jws.count(".") == 2, "X-Bus-Receipt is a compact JWS")
t.ok(verify_receipt_openssl(jws, node.pki), "receipt verifies with the openssl command")
jose = verify_receipt_jose(jws, node.pki)
t.ok(jose, "receipt verifies with the jose command (libjose)")
p = receipt_payload(jws)
t.eq(p.get("seq"), seq, "receipt names the log sequence")
t.eq(p.get("client"), BYT, "receipt names the client")
t.eq(p.get("service"), CITIZEN, "receipt names the service")
t.eq(p.get("xroad_id"), "case-42.a", "receipt names the X-Road-Id")
t.eq(p.get("response_hash"), hashlib.sha256(r.body).hexdigest(), "receipt's response hash is what was delivered")
t.eq(p.get("purpose"), "health-insurance-enrolment", "receipt names the purpose")
t.eq(p.get("basis"), "statute", "receipt names the legal basis")
t.ok(p.get("subject") and subject not in jws and len(p["subject"]) == 64, "receipt has the subject pseudonym, not the id")
t.eq(p.get("request_hash"), hashlib.sha256(b"").hexdigest(), "receipt's request hash is the SHA-256 of the body")
t.eq((p.get("xroad_request_hash"), p.get("request_id")),
     (r.header("x-road-request-hash"), r.header("x-road-request-id")), "receipt has X-Road-Request-Hash and -Id")

# a tampered receipt fails the independent check
h, pl, s = jws.split(".")
bad = json.loads(__import__("base64").urlsafe_b64decode(pl + "=" * (-len(pl) % 4)))
bad["seq"] += 1
import base64
pl2 = base64.urlsafe_b64encode(json.dumps(bad).encode()).rstrip(b"=").decode()
t.ok(not verify_receipt_openssl(h + "." + pl2 + "." + s, node.pki), "a modified receipt does not verify")

# X-Road-Id generated when absent
r2 = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment")
t.eq(r2.status, 200, "second read: 200")
t.ok(r2.header("x-road-id") and r2.header("x-road-id") != "case-42.a", "X-Road-Id generated when absent")
t.ok(int(r2.header("x-bus-log-seq")) > seq, "log sequence grows")

# a subject the database does not know: the provider's 404 passes through, logged, no receipt
r3 = node.call(BYT, CITIZEN, subject="999999999999", purpose="health-insurance-enrolment")
t.eq(r3.status, 404, "unknown subject: the provider's 404")
t.ok(r3.header("x-bus-receipt") is None, "no receipt for a non-2xx answer")

# non-personal service with a path, via a group right, POST with a body
r4 = node.call("VN/GOV/HN-UBND/one-stop-shop", "VN/GOV/BTC/tax/tax-obligation-check", subject=subject,
               purpose="public-service-delivery", method="POST", body=json.dumps({"tax_year": 2025, "include_details": True}))
t.ok(r4.status in (200, 404), "POST tax-obligation-check through a group right: %d" % r4.status)
p4 = receipt_payload(r4.header("x-bus-receipt")) if r4.header("x-bus-receipt") else {}
t.ok(r4.header("x-road-request-hash") not in (None, r.header("x-road-request-hash")) and
     (r4.status != 200 or p4.get("request_hash") ==
      hashlib.sha256(json.dumps({"tax_year": 2025, "include_details": True}).encode()).hexdigest()),
     "request hashes cover the POST body", r4.header("x-road-request-hash"))

# health and metrics
h = node.request(None, "GET", "/health").json()
t.eq(h.get("status"), "ok", "/health answers without a client certificate")
m = node.metrics()
t.ok(m.get("xbus_receipts_total", 0) >= 2, "metrics count receipts")

# the log, read with mdb_dump after a clean stop
t.eq(node.stop(), 0, "xbusd stops cleanly on SIGTERM")
entries = node.log_entries()
e = entries.get(seq, {})
t.eq(e.get("xroad_id"), "case-42.a", "log entry for the exchange exists")
t.eq(e.get("decision"), "allow", "log entry: decision allow")
t.eq(e.get("status"), 200, "log entry: status")
t.eq(e.get("client"), BYT, "log entry: client")
t.eq(e.get("service"), CITIZEN, "log entry: service")
t.eq(e.get("purpose"), "health-insurance-enrolment", "log entry: purpose")
t.eq(e.get("basis"), "statute", "log entry: basis")
t.eq(e.get("user_id"), "VN-officer-17", "log entry: official")
t.eq(e.get("issue"), "HS-2026/118", "log entry: issue")
t.eq(e.get("subject"), p.get("subject"), "log entry: subject pseudonym equals the receipt's")
t.eq(e.get("response_hash"), p.get("response_hash"), "log entry: response hash equals the receipt's")
t.ok(subject not in json.dumps(entries), "the raw personal id is nowhere in the log")
t.eq(sorted(entries), list(range(len(entries))), "log sequence numbers have no gaps")

# restart: numbering continues
node.start()
node.start_sample(people=300)
r5 = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment")
t.eq(int(r5.header("x-bus-log-seq")), len(entries), "after a restart the log continues where it stopped")
t.finish()
