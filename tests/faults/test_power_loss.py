#!/usr/bin/env python3
"""test_power_loss.py: a machine crash under load loses no acknowledged exchange (issue 14).

kill -9 models a process crash only: the kernel keeps every write. Here the
fault shim (LD_PRELOAD, fault-shim.c) watches the exchange log's files (the
segment files, where each group commit is made durable with one fdatasync,
and LMDB's data.mdb, written behind them and synced at each base) and
remembers the disk's bytes of every page written since a file was last made
durable; at each simulated power loss xbusd dies and xbus-fault-restore gives
the files back those bytes, so they hold only what a power loss leaves.

XBUS_POWER_LOSS_CYCLES cycles (default 12) while three clients load the node,
the power goes in turn:
  - at a random moment (the test kills xbusd),
  - at a segment's fdatasync, before it runs (the batch written, not durable),
  - at a segment write (a group commit half written),
  - at the fdatasync of data.mdb that makes a base (exlog-base.c),
  - at a data page write of LMDB (a commit behind the segments half written),
and the files keep either only what was durable or, in "torn" cycles, also a
random part of what was not (writeback that happened before the power went;
the seed is printed). (Before the segments, the points were LMDB's fdatasync,
its O_DSYNC meta page write and a data page write: LMDB no longer syncs on an
answer's path, and writes no meta page through O_DSYNC once open.) After each, `xbus audit verify` must accept the store.
At the end every response a client received with a receipt has its entry
(same X-Road-Id and response hash) and sequence numbers have no gaps.

A control run shows the check can fail: on a disk that claims to sync but
keeps nothing (XBUS_FAULT_LIE), the same power loss does lose receipts.

LD_PRELOAD cannot run under AddressSanitizer: this test is in the `faults`
suite, built and run in the normal build only.
"""
import os
import random

from faults import FaultNode, missing_receipts, wait_until
from harness import Check, ReceiptLoad

t = Check("power_loss")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
PURPOSE = "health-insurance-enrolment"
CYCLES = int(os.environ.get("XBUS_POWER_LOSS_CYCLES", "12"))
SEED = int(os.environ.get("XBUS_POWER_LOSS_SEED", "14"))
LOAD_SECONDS = 0.3
# (where the power goes, the shim's call to die at, on which files, torn writeback)
POINTS = [("at a random moment", None, None, False), ("at a segment fdatasync", "fsync", "/segments/", True),
          ("at a segment write", "write", "/segments/", False), ("at a base's fdatasync", "fsync", "data.mdb", True),
          ("at a data page write", "write", "data.mdb", True)]

rng = random.Random(SEED)
print("random choices from seed %d (XBUS_POWER_LOSS_SEED)" % SEED)
node = FaultNode(top_extra="[log]\ncheckpoint-interval = 200ms\n").start()
node.start_sample(people=300, workers=2)
subjects = node.sample_ids(5)
load = ReceiptLoad(node, BYT, CITIZEN, subjects, PURPOSE, "pl", backoff=0.01)
node.stop()

failures, restored, at_point = [], [], 0
for cycle in range(CYCLES):
    where, call, path, torn = POINTS[cycle % len(POINTS)]
    seed = rng.randrange(1 << 30) if torn else None
    node.fault = {}
    if call:
        node.fault = {"XBUS_FAULT_CALL": call, "XBUS_FAULT_ACTION": "kill", "XBUS_FAULT_TRIGGER": node.trigger,
                      "XBUS_FAULT_AFTER": str(rng.randrange(4)), "XBUS_FAULT_PATH": path}
    node.start()
    rc, out = node.verify_store()
    if rc != 0:
        failures.append("before cycle %d: %s" % (cycle, out))
    node.wait_health(adapters=1)

    def power_loss():
        global at_point
        if call:
            open(node.trigger, "w").close()
            if wait_until("xbusd to die " + where, lambda: node.proc.poll() is not None, timeout=30):
                at_point += 1
        restored.append(node.power_loss(seed))
        if os.path.exists(node.trigger):
            os.unlink(node.trigger)
        print("cycle %d: power lost %s%s, %d pages given back their disk bytes" %
              (cycle, where, ", torn writeback (seed %d)" % seed if torn else "", restored[-1]))

    load.burst(3, LOAD_SECONDS, power_loss)

node.fault = {}
node.start()
rc, out = node.verify_store()
if rc != 0:
    failures.append("after the last cycle: %s" % out)
for f in failures:
    print("verify failed " + f)
t.eq(failures, [], "xbus audit verify accepts the log after each of %d power losses" % CYCLES)
crashes = sum(1 for c in range(CYCLES) if POINTS[c % len(POINTS)][1])
t.eq(at_point, crashes, "xbusd died at the chosen call in every cycle that chose one (%d)" % crashes)
t.ok(sum(restored) > 0, "the power losses took writes that were not durable away (%d pages over %d cycles)" %
     (sum(restored), CYCLES), restored)
t.ok(len(load.receipts) > CYCLES, "clients received receipts under load (%d)" % len(load.receipts))
t.eq(node.stop(), 0, "xbusd stops")
entries = node.log_entries()
missing = missing_receipts(entries, load.receipts)
for m in missing[:20]:
    print("missing: " + m)
t.eq(len(missing), 0, "every receipt a client saw has its entry after %d power losses (%d receipts)" %
     (CYCLES, len(load.receipts)))
t.eq(sorted(entries), list(range(len(entries))), "sequence numbers: no gaps, no repeats (%d entries)" % len(entries))

# The control: a disk that acknowledges fsync and O_DSYNC writes but keeps nothing.
liar = FaultNode()
liar.fault = {"XBUS_FAULT_LIE": "1"}
liar.start()
liar.start_sample(people=300, workers=1)
lie_load = ReceiptLoad(liar, BYT, CITIZEN, liar.sample_ids(3), PURPOSE, "lie", backoff=0.01)
lie_load.burst(2, 1.0, liar.power_loss)
liar.fault = {}
liar.start()
liar.stop()
lost = missing_receipts(liar.log_entries(), lie_load.receipts)
t.ok(lie_load.receipts and lost, "control: on a disk that lies about fsync, the same check finds lost receipts "
     "(%d of %d)" % (len(lost), len(lie_load.receipts)))
t.finish()
