#!/usr/bin/env python3
"""test_minimise.py: data minimisation. A right that lists response fields
gets only those; the receipt and the log describe what was delivered."""
import hashlib

from harness import Check, Node, receipt_payload, verify_receipt_openssl

t = Check("minimise")
node = Node().start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]
CITIZEN = "VN/GOV/BCA/population/citizen"

full = node.call("VN/GOV/BYT/health-services", CITIZEN, subject=subject, purpose="health-insurance-enrolment")
t.eq(full.status, 200, "a right without a field list gets the whole record")
t.ok({"permanent_address", "household_id"} <= set(full.json()), "the whole record has the address and household")

r = node.call("VN/GOV/BCA/immigration", CITIZEN, subject=subject, purpose="immigration-control")
t.eq(r.status, 200, "immigration reads the citizen")
doc = r.json()
t.eq(sorted(doc), sorted(["id", "full_name", "birth_date", "sex", "nationality"]),
     "only the fields its right lists are delivered")
t.eq(doc.get("full_name"), full.json().get("full_name"), "with the provider's values")
p = receipt_payload(r.header("x-bus-receipt"))
t.eq(p["response_hash"], hashlib.sha256(r.body).hexdigest(), "the receipt's hash is that of the minimised answer")
t.ok(verify_receipt_openssl(r.header("x-bus-receipt"), node.pki), "and the receipt verifies")
seq = int(r.header("x-bus-log-seq"))
t.eq(node.stop(), 0, "clean stop")
e = node.log_entries()[seq]
t.eq(e["response_size"], len(r.body), "the log records the size delivered")
t.eq(e["response_hash"], p["response_hash"], "and its hash")
t.finish()
