#!/usr/bin/env python3
"""test_audit_crash.py: kill -9 xbusd under load, again and again; the log stays verifiable.

50 cycles (XBUS_AUDIT_CRASH_CYCLES for more): three client threads load the
node for a short while, xbusd is killed with SIGKILL and restarted. After
every restart `xbus audit verify` accepts the whole store (every entry, the
Merkle tree, every checkpoint signature and root, no sequence number missing
or repeated). At the end every response a client received with a receipt
(even one cut inside its header block) has its entry, and an inclusion proof
from the auditor API that verifies against a signed checkpoint.
"""
import base64
import hashlib
import http.client
import json
import os
import subprocess
import time

from harness import Check, Node, ReceiptLoad, binary, receipt_entry_matches, receipt_payload

t = Check("audit_crash")
XBUS = binary("xbus")
AUD = "VN/GOV/TTCP/inspection"
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
CYCLES = int(os.environ.get("XBUS_AUDIT_CRASH_CYCLES", "50"))
LOAD_SECONDS = 0.35

node = Node(top_extra="[log]\ncheckpoint-interval = 200ms\n").start()
node.start_sample(people=300, workers=2)
subjects = node.sample_ids(5)
load = ReceiptLoad(node, BYT, CITIZEN, subjects, "health-insurance-enrolment", "ac", backoff=0.01)
receipts = load.receipts


def verify_store():
    p = subprocess.run([XBUS, "audit", "verify", "--state", node.state], capture_output=True, text=True, timeout=120)
    return p.returncode, (p.stdout + p.stderr).strip()


failures = []
started = time.time()
for cycle in range(CYCLES):
    load.burst(3, LOAD_SECONDS, node.kill9)
    node.start()
    rc, out = verify_store()
    if rc != 0:
        failures.append("cycle %d: %s" % (cycle, out))
        print("verify failed after cycle %d: %s" % (cycle, out))
    node.wait_health(adapters=1)
t.eq(failures, [], "xbus audit verify accepts the log after each of %d kill -9 restarts (%.0f s)" %
     (CYCLES, time.time() - started))
t.ok(len(receipts) > CYCLES, "clients received receipts under load (%d)" % len(receipts))

# a last checkpoint covering everything, then every receipt's entry and proof through the auditor API
size = int(node.request(None, "GET", "/health").json()["log_entries"])
deadline = time.time() + 10
while time.time() < deadline:
    r = node.request(AUD, "GET", "/audit/checkpoint")
    lines = r.body.decode().split("\n")
    if r.status == 200 and int(lines[1]) >= size:
        break
    time.sleep(0.05)
cp_size, cp_root = int(lines[1]), base64.b64decode(lines[2])
cp_file = os.path.join(node.tmp, "checkpoint.txt")
open(cp_file, "wb").write(r.body)
p = subprocess.run([XBUS, "audit", "verify", "--state", node.state, "--checkpoint", cp_file], capture_output=True,
                   text=True)
t.ok(p.returncode == 0, "the checkpoint given to the auditor is signed and reproduced by the store", p.stdout + p.stderr)


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 section 2.1.3.2, written here independently of the project's C code."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


conn = http.client.HTTPSConnection("127.0.0.1", node.port, context=node.context(AUD), timeout=15)
bad = 0
for xid, jws, *_ in receipts:
    pl = receipt_payload(jws)
    r = node.request(AUD, "GET", "/audit/entries/%d?tree_size=%d" % (pl["seq"], cp_size), conn=conn)
    ok = r.status == 200
    if ok:
        d = r.json()
        entry = d["entry"].encode()
        e = json.loads(entry)
        leaf = hashlib.sha256(b"\x00" + entry).digest()
        proof = [base64.b64decode(h) for h in d["inclusion_proof"]]
        ok = (receipt_entry_matches(e, xid, pl) and e.get("seq") == pl["seq"]
              and d["checkpoint"].encode() == open(cp_file, "rb").read()
              and verify_inclusion(leaf, pl["seq"], cp_size, proof, cp_root))
    if not ok:
        bad += 1
        print("receipt seq %s (%s): %r" % (pl["seq"], xid, r))
conn.close()
t.eq(bad, 0, "every receipt a client saw has its entry and an inclusion proof that verifies (%d receipts)" %
     len(receipts))
t.eq(node.stop(), 0, "xbusd stops")
entries = node.log_entries()
t.eq(sorted(entries), list(range(len(entries))), "sequence numbers: no gaps, no repeats (%d entries)" % len(entries))
t.finish()
