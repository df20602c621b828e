#!/usr/bin/env python3
"""test_crash.py: kill -9 xbusd under load, restart: every response a client
received with a receipt has its log entry (same X-Road-Id and response hash),
and sequence numbers have no gaps or repeats."""
from harness import Check, Node, ReceiptLoad, receipt_entry_matches, receipt_payload

t = Check("crash")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
CYCLES = 3

node = Node().start()
node.start_sample(people=300, workers=2)
subjects = node.sample_ids(5)
load = ReceiptLoad(node, BYT, CITIZEN, subjects, "health-insurance-enrolment", "crash", backoff=0.02)
receipts = load.receipts

for cycle in range(CYCLES):
    load.burst(6, 1.0, node.kill9)
    node.start()
    node.wait_health(adapters=1)

t.ok(len(receipts) > 50, "clients received receipts under load (%d)" % len(receipts))
node.stop()
entries = node.log_entries()
missing = 0
complete = 0
for xid, jws, h, body, headers in receipts:
    p = receipt_payload(jws)
    e = entries.get(p["seq"])
    # A kill -9 can cut a response anywhere, even inside its header block (the
    # client library then returns what it got). Whatever part of a receipt
    # reached the client, its entry must be durable and say the same; where the
    # whole body arrived, it must be the body the entry describes.
    whole = headers.get("content-length") == str(len(body))
    complete += whole
    if not receipt_entry_matches(e, xid, p) or (whole and h != p["response_hash"]):
        missing += 1
        print("missing: receipt seq %s xroad_id %s; log entry: %r" % (p["seq"], xid, e))
        print("  receipt payload: %r" % p)
        print("  body (%d bytes, sha256 %s): %r" % (len(body), h, body))
        print("  headers: %r" % headers)
t.eq(missing, 0, "every receipt a client saw has its durable log entry after %d kill -9 cycles "
     "(%d receipts, %d with the whole body)" % (CYCLES, len(receipts), complete))
t.eq(sorted(entries), list(range(len(entries))), "sequence numbers: no gaps, no repeats (%d entries)" % len(entries))
t.finish()
