#!/usr/bin/env python3
"""test_crash.py: kill -9 xbusd under load, restart: every response a client
received with a receipt has its log entry (same X-Road-Id and response hash),
and sequence numbers have no gaps or repeats."""
import hashlib
import threading
import time

from harness import Check, Node, receipt_payload

t = Check("crash")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
CYCLES = 3

node = Node().start()
node.start_sample(people=300, workers=2)
subjects = node.sample_ids(5)
receipts = []
lock = threading.Lock()


def load(stop, n):
    i = 0
    while not stop.is_set():
        i += 1
        xid = "crash-%d-%d-%f" % (n, i, time.time())
        try:
            r = node.call(BYT, CITIZEN, subject=subjects[i % len(subjects)], purpose="health-insurance-enrolment",
                          extra={"X-Road-Id": xid})
        except Exception:
            time.sleep(0.02)
            continue
        if r.status == 200 and r.header("x-bus-receipt"):
            with lock:
                receipts.append((xid, r.header("x-bus-receipt"), hashlib.sha256(r.body).hexdigest(), r.body,
                                 r.headers))


for cycle in range(CYCLES):
    stop = threading.Event()
    threads = [threading.Thread(target=load, args=(stop, k)) for k in range(6)]
    for th in threads:
        th.start()
    time.sleep(1.0)
    node.kill9()
    stop.set()
    for th in threads:
        th.join()
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
    if (not e or e.get("xroad_id") != xid or e.get("response_hash") != p["response_hash"] or
            e.get("status") != 200 or (whole and h != p["response_hash"])):
        missing += 1
        print("missing: receipt seq %s xroad_id %s; log entry: %r" % (p["seq"], xid, e))
        print("  receipt payload: %r" % p)
        print("  body (%d bytes, sha256 %s): %r" % (len(body), h, body))
        print("  headers: %r" % headers)
t.eq(missing, 0, "every receipt a client saw has its durable log entry after %d kill -9 cycles "
     "(%d receipts, %d with the whole body)" % (CYCLES, len(receipts), complete))
t.eq(sorted(entries), list(range(len(entries))), "sequence numbers: no gaps, no repeats (%d entries)" % len(entries))
t.finish()
