#!/usr/bin/env python3
"""test_eio.py: when the disk under the exchange log fails, the node fails closed (issue 14).

The fault shim (LD_PRELOAD, fault-shim.c) makes calls on the log's files (the
segment files and LMDB's data.mdb) fail with EIO. One node, five phases, each
ended by a simulated power loss (the files keep only what reached the disk)
and a restart:

  A. fsync and fdatasync fail while a trigger file exists: every exchange asked
     meanwhile is refused (503 log_unavailable), none is answered, and /health
     answers 503 with the log's reason (the errno);
  B. every write to the files fails while the trigger exists: the same;
  C. under load, one write to the segment fails once (before the segments:
     the write of LMDB's meta page through its O_DSYNC descriptor, which LMDB
     no longer does once open);
  D. under load, one fdatasync fails once; Linux then drops the dirty pages
     (the shim models it), so a later successful fsync does not save them;
  E. under load, the fdatasync of data.mdb that makes a base fails once: no
     later base is trusted, the entries stay durable in the segments, and the
     power loss that follows is recovered from the last good base.

After every phase `xbus audit verify` accepts the store, and at the end every
response a client received with a receipt has its entry: no answer without a
durable entry. What the node does after a one-off error (recover, or refuse
until restarted) is printed, not asserted.

LD_PRELOAD cannot run under AddressSanitizer: this test is in the `faults`
suite, built and run in the normal build only.
"""
import hashlib
import os
import time

from faults import FaultNode, missing_receipts, wait_until
from harness import Check, ReceiptLoad

t = Check("eio")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
PURPOSE = "health-insurance-enrolment"

node = FaultNode(top_extra="[log]\ncheckpoint-interval = 200ms\n")
node.start()
node.start_sample(people=300, workers=2)
subjects = node.sample_ids(5)
load = ReceiptLoad(node, BYT, CITIZEN, subjects, PURPOSE, "eio", backoff=0.01)
receipts = load.receipts  # every 200 with a receipt, from the load and from exchange() below
counter = [0]


def exchange(tag):
    counter[0] += 1
    xid = "eio-%s-%d-%f" % (tag, counter[0], time.time())
    r = node.call(BYT, CITIZEN, subject=subjects[counter[0] % len(subjects)], purpose=PURPOSE,
                  extra={"X-Road-Id": xid, "Accept": "application/problem+json"})
    if r.status == 200 and r.header("x-bus-receipt"):
        receipts.append((xid, r.header("x-bus-receipt"), hashlib.sha256(r.body).hexdigest(), r.body, r.headers))
    return r


def refused_log(r):
    """503 because the exchange could not be logged (the problem type, or its X-Road code)."""
    return r.status == 503 and (r.header("x-road-error") in ("log_unavailable", "Server.ClientProxy.LoggingFailed")
                                or b"log_unavailable" in r.body)


def health():
    r = node.request(None, "GET", "/health")
    try:
        return r.status, r.json()
    except ValueError:
        return r.status, {}


def log_reasons(body):
    return [x for x in body.get("reasons", []) if x.get("check") == "log"]


def restart(fault):
    if node.proc.poll() is None:
        node.stop()
    node.fault = fault
    node.start()
    node.wait_health(adapters=1)


def after_power_loss(phase):
    pages = node.power_loss()
    print("%s: the power loss gave %d pages back their disk bytes" % (phase, pages))
    restart({})
    rc, out = node.verify_store()
    t.ok(rc == 0, "%s: xbus audit verify accepts the store after the power loss" % phase, out)


def sticky(phase, kind):
    """The disk fails (`kind`) while the trigger exists: nothing is answered meanwhile."""
    restart({"XBUS_FAULT_CALL": kind, "XBUS_FAULT_TRIGGER": node.trigger})
    t.eq(exchange(phase).status, 200, "%s: before the fault, an exchange is answered" % phase)
    failures0 = node.metrics().get("xbus_log_failures_total", 0)
    open(node.trigger, "w").close()
    rs = [exchange(phase) for _ in range(20)]
    t.ok(all(refused_log(r) for r in rs), "%s: while %s fails, every exchange is refused with log_unavailable "
         "(%d of 20)" % (phase, kind, sum(refused_log(r) for r in rs)), [r for r in rs if not refused_log(r)][:2])
    t.ok(node.metrics().get("xbus_log_failures_total", 0) - failures0 >= 20,
         "%s: xbus_log_failures_total counts the refusals" % phase)
    status, body = health()
    t.ok(status == 503 and body.get("status") == "unavailable" and
         any("Input/output error" in x.get("detail", "") for x in log_reasons(body)),
         "%s: /health says why: 503, the log's commit failed with EIO" % phase, (status, body))
    os.unlink(node.trigger)
    print("%s: the disk works again; the next exchange: %d" % (phase, exchange(phase).status))
    after_power_loss(phase)


def once_under_load(phase, kind, path=None, health_says=None):
    """Under load, one call of `kind` (on the files whose path contains `path`) fails once; then the power goes."""
    fault = {"XBUS_FAULT_CALL": kind, "XBUS_FAULT_TRIGGER": node.trigger, "XBUS_FAULT_ONCE": "1"}
    if path:
        fault["XBUS_FAULT_PATH"] = path
    restart(fault)
    before = len(receipts)
    fired = []

    def fault_then_power_loss():
        open(node.trigger, "w").close()
        fired.append(wait_until("the fault to fire", lambda: not os.path.exists(node.trigger), timeout=30))
        time.sleep(0.3)
        fired.append(exchange(phase).status)
        status, body = health()
        fired.append(status)
        if health_says:
            t.ok(status == 503 and any(health_says in x.get("detail", "") for x in log_reasons(body)),
                 "%s: /health says why: 503, %s" % (phase, health_says), (status, body))
        node.power_loss()

    load.burst(3, 0.4, fault_then_power_loss)
    t.ok(fired and fired[0], "%s: the one-off %s error fired under load" % (phase, kind))
    print("%s: %d receipts under load; after the error, the next exchange and /health: %s" %
          (phase, len(receipts) - before, fired[1:] or "-"))
    restart({})
    rc, out = node.verify_store()
    t.ok(rc == 0, "%s: xbus audit verify accepts the store after the power loss" % phase, out)


sticky("A", "fsync")
sticky("B", "write")
once_under_load("C", "write", "/segments/")
once_under_load("D", "fsync")
once_under_load("E", "fsync", "data.mdb", health_says="data.mdb could not be made durable")

t.eq(node.stop(), 0, "xbusd stops")
entries = node.log_entries()
missing = missing_receipts(entries, receipts)
for m in missing[:20]:
    print("missing: " + m)
t.eq(len(missing), 0, "every receipt a client saw has its entry after the disk errors and power losses "
     "(%d receipts)" % len(receipts))
t.eq(sorted(entries), list(range(len(entries))), "sequence numbers: no gaps, no repeats (%d entries)" % len(entries))
t.finish()
