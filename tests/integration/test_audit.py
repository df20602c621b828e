#!/usr/bin/env python3
"""test_audit.py: the auditor's side of the exchange log, end to end.

A node with the sample adapter makes exchanges (some refused); then the
auditor API (each filter, paging, subject search without raw ids, refusals
for non-auditors), `xbus audit show` with a real receipt and `verify-proof`
on that bundle and on tampered copies of it, export and `verify-export`.
Then the node stops and, on fresh copies of its state, the log tamper tool
changes one byte of an entry, deletes one, swaps two, cuts the tail (keeping
the checkpoints, or removing them too): `xbus audit verify` detects each and
names the entry, and so does offline verification of a new export against the
export made before the damage.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

from harness import Check, Node, binary, receipt_payload

t = Check("audit")
XBUS = binary("xbus")
TAMPER = os.environ.get("XBUS_BIN_XBUS_LOG_TAMPER") or os.path.join(os.path.dirname(XBUS), "exchange", "audit",
                                                                   "xbus-log-tamper")
if not os.path.exists(TAMPER):
    print("SKIP: xbus-log-tamper is not built")
    sys.exit(77)

AUD = "VN/GOV/TTCP/inspection"
BYT = "VN/GOV/BYT/health-services"
VCB = "VN/COM/VCB/kyc"
CITIZEN = "VN/GOV/BCA/population/citizen"
NOSUCH = "VN/GOV/BCA/population/no-such-service"

# The bundles here hold the one-JWS receipt of `receipts = per-exchange`; test_receipts.py checks bundles with the
# default form (one signature per group commit).
node = Node(top_extra="[log]\ncheckpoint-interval = 200ms\nreceipts = per-exchange\n").start()
node.start_sample(people=300)
subjects = node.sample_ids(3)
work = os.path.join(node.tmp, "audit")
os.makedirs(work)


def audit(*args, online=True):
    cmd = [XBUS, "audit"] + list(args)
    if online:
        cmd += ["--state", node.state, "--url", node.url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def api(path, who=AUD):
    return node.request(who, "GET", path)


def wait_checkpoint(size, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = api("/audit/checkpoint")
        if r.status == 200 and int(r.body.decode().split("\n")[1]) >= size:
            return r.body.decode()
        time.sleep(0.05)
    raise RuntimeError("no checkpoint covering %d entries" % size)


# --- exchanges: allowed, refused, unknown service; two phases with a checkpoint between ---
calls = []  # (client, service, subject, response)


def exchange(i):
    client, service = [(BYT, CITIZEN), (BYT, CITIZEN), (VCB, CITIZEN), (BYT, NOSUCH)][i % 4]
    purpose = "loan-application" if client == VCB else "health-insurance-enrolment"
    s = subjects[i % 3]
    r = node.call(client, service, subject=s, purpose=purpose)
    calls.append((client, service, s, r))


for i in range(20):
    exchange(i)
wait_checkpoint(20)
for i in range(20, 32):
    exchange(i)
N = len(calls)
cp_text = wait_checkpoint(N)
t.eq(sorted(int(c[3].header("x-bus-log-seq")) for c in calls), list(range(N)), "%d exchanges logged" % N)

# --- the API: refusals ---
t.problem(api("/audit/entries", who=BYT), 403, "access_denied", "a client system is not an auditor: 403")
t.problem(api("/audit/entries", who=None), 401, "client_unknown", "no client certificate: 401")
t.problem(node.request(AUD, "POST", "/audit/entries", body=b"{}"), 405, "method_not_allowed", "POST: 405")
t.problem(api("/audit/entries?limit=5000"), 400, "bad_request", "limit over 1000: 400")
t.problem(api("/audit/entries/9999"), 404, "not_found", "an entry that does not exist: 404")

# --- the API: queries ---
r = api("/audit/entries?limit=1000")
t.eq(r.status, 200, "all entries: 200")
everything = r.json()["entries"]
t.eq([e["seq"] for e in everything], list(range(N)), "all entries, in sequence order")
t.eq(r.json()["next_cursor"], None, "next_cursor null at the end")
by_seq = {e["seq"]: e for e in everything}


def query(q):
    r = api("/audit/entries?" + q)
    assert r.status == 200, r
    return r.json()


def seqs_of(q):
    return [e["seq"] for e in query(q)["entries"]]


t.eq(seqs_of("client=" + VCB + "&limit=1000"), [s for s, e in by_seq.items() if e["client"] == VCB],
     "filter by client")
t.eq(seqs_of("service=" + NOSUCH + "&limit=1000"), [s for s, e in by_seq.items() if e["service"] == NOSUCH],
     "filter by service")
t.eq(seqs_of("status=403&limit=1000"), [s for s, e in by_seq.items() if e["status"] == 403], "filter by status")
t.eq(seqs_of("decision=deny&limit=1000"), [s for s, e in by_seq.items() if e["decision"] == "deny"],
     "filter by decision")
t.ok(len(seqs_of("decision=allow&limit=1000")) == sum(1 for e in everything if e["decision"] == "allow") > 0,
     "allow and deny both present")
t10, t20 = by_seq[10]["time"], by_seq[20]["time"]
t.eq(seqs_of("from=%s&to=%s&limit=1000" % (urllib.parse.quote(t10), urllib.parse.quote(t20))),
     [s for s, e in by_seq.items() if t10 <= e["time"] < t20], "time range [from, to)")
# paging with the cursor
seen, cursor = [], 0
while cursor is not None:
    page = query("limit=7&cursor=%d" % cursor)
    seen += [e["seq"] for e in page["entries"]]
    cursor = page["next_cursor"]
t.eq(seen, list(range(N)), "paging with limit=7 visits every entry once, in order")
# by subject: the bus computes the pseudonym, the id appears nowhere
pseud = {}
for client, service, s, resp in calls:
    if resp.header("x-bus-receipt"):
        pseud[s] = receipt_payload(resp.header("x-bus-receipt"))["subject"]
r = api("/audit/entries?limit=1000&subject=" + subjects[0])
got = [e["seq"] for e in r.json()["entries"]]
t.eq(got, [int(c[3].header("x-bus-log-seq")) for c in calls if c[2] == subjects[0]],
     "subject search returns exactly that subject's entries")
t.ok(all(e["subject"] == pseud[subjects[0]] for e in r.json()["entries"]), "all carry the subject's pseudonym")
t.ok(subjects[0].encode() not in r.body, "the raw subject id is not in the answer")
sp, cursor = [], 0
while cursor is not None:
    page = query("limit=3&subject=%s&cursor=%d" % (subjects[1], cursor))
    sp += [e["seq"] for e in page["entries"]]
    cursor = page["next_cursor"]
t.eq(sp, [int(c[3].header("x-bus-log-seq")) for c in calls if c[2] == subjects[1]], "subject search pages")
t.ok(subjects[0] not in node.read_log(), "the raw subject id is not in the node's log either")

# consistency and checkpoint
r = api("/audit/consistency?from=20&to=%d" % N)
t.ok(r.status == 200 and r.json()["from"] == 20 and isinstance(r.json()["proof"], list), "consistency proof 20..N")
r = api("/audit/checkpoint")
t.ok(r.status == 200 and r.header("content-type").startswith("text/plain") and r.body.decode().startswith(
    "xbus.local\n%d\n" % N), "latest checkpoint as a signed note")

# --- the CLI: key, query, show + verify-proof ---
rc, out = audit("key", "--state", node.state, online=False)
vkey = out.strip().split("\n")[0]
t.ok(rc == 0 and vkey.startswith("xbus.local+"), "xbus audit key prints the vkey")
r = api("/audit/key")
t.ok(r.status == 200 and r.body.decode().strip() == vkey, "GET /audit/key publishes the same vkey")
vkey_file = os.path.join(work, "log.vkey")
open(vkey_file, "w").write(vkey + "\n")
jwk = os.path.join(node.pki, "signing.jwk")
rc, out = audit("query", "--client", VCB, "--json", "--limit", "1000")
t.ok(rc == 0 and len([l for l in out.split("\n") if l.startswith("{")]) == sum(
    1 for e in everything if e["client"] == VCB), "xbus audit query --client --json")

ok_calls = [c for c in calls if c[3].status == 200 and c[3].header("x-bus-receipt")]
t.ok(len(ok_calls) >= 8, "exchanges with receipts (%d)" % len(ok_calls))
resp = ok_calls[3][3]
seq = int(resp.header("x-bus-log-seq"))
rfile = os.path.join(work, "receipt.jws")
open(rfile, "w").write(resp.header("x-bus-receipt"))
bundle = os.path.join(work, "bundle.json")
rc, out = audit("show", str(seq), "--receipt", "@" + rfile, "--bundle", bundle, "--vkey", "@" + vkey_file, "--jwk",
                jwk)
t.ok(rc == 0 and "OK: proof" in out and "proof bundle written" in out, "xbus audit show SEQ --bundle", out[-300:])
rc, out = audit("verify-proof", "--vkey", "@" + vkey_file, "--jwk", jwk, "--require-receipt", bundle, online=False)
t.ok(rc == 0 and out.startswith("OK"), "verify-proof accepts the receipt + proof + checkpoint bundle", out)
b = json.load(open(bundle))


def tampered_bundle(name, edit, want, extra=()):
    d = json.loads(json.dumps(b))
    edit(d)
    path = os.path.join(work, "bundle-%s.json" % name)
    json.dump(d, open(path, "w"))
    rc, out = audit("verify-proof", "--vkey", "@" + vkey_file, "--jwk", jwk, *extra, path, online=False)
    t.ok(rc == 1 and want in out, "verify-proof refuses a bundle with %s" % name, out)


def edit_entry(d):
    d["entry"] = d["entry"].replace('"status":200', '"status":201')


def other_receipt(d):
    d["receipt"] = ok_calls[4][3].header("x-bus-receipt")


def bad_signature(d):
    lines = d["checkpoint"].split("\n")
    sig = lines[-2].split(" ")
    raw = bytearray(base64.b64decode(sig[2]))
    raw[10] ^= 1
    sig[2] = base64.b64encode(bytes(raw)).decode()
    lines[-2] = " ".join(sig)
    d["checkpoint"] = "\n".join(lines)


def bad_proof(d):
    raw = bytearray(base64.b64decode(d["inclusion_proof"][0]))
    raw[0] ^= 1
    d["inclusion_proof"][0] = base64.b64encode(bytes(raw)).decode()


def forged_receipt(d):
    h, p, s = d["receipt"].split(".")
    pl = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    pl["response_hash"] = "0" * 64
    p2 = base64.urlsafe_b64encode(json.dumps(pl, separators=(",", ":")).encode()).rstrip(b"=").decode()
    d["receipt"] = ".".join([h, p2, s])


tampered_bundle("a changed entry", edit_entry, "entry %d: leaf hash does not match the proof" % seq)
tampered_bundle("another exchange's receipt", other_receipt, "the receipt is for log entry")
tampered_bundle("a bad checkpoint signature", bad_signature, "checkpoint signature invalid for key xbus.local")
tampered_bundle("a changed proof", bad_proof, "leaf hash does not match the proof")
tampered_bundle("a forged receipt", forged_receipt, "the receipt is not signed by the node's key")
tampered_bundle("no receipt", lambda d: d.pop("receipt"), "the bundle holds no receipt", ("--require-receipt",))
rc, out = audit("key", "--state", node.state, "--name", "other.log", online=False)
other = out.strip()
rc, out = audit("verify-proof", "--vkey", other, "--jwk", jwk, bundle, online=False)
t.ok(rc == 1 and "checkpoint signature invalid for key other.log" in out, "verify-proof with another key", out)

# --- export and verify-export ---
e1 = os.path.join(work, "export-1.jsonl")
rc, out = audit("export", "--out", e1)
t.ok(rc == 0, "xbus audit export (API)", out)
rc, out = audit("verify-export", "--vkey", "@" + vkey_file, e1, online=False)
t.ok(rc == 0 and ("%d entries" % N) in out, "verify-export: OK", out)
lines = open(e1).read().split("\n")
first = json.loads(lines[1])
t.ok(first["seq"] == 0 and first["entry"].startswith('{"v":1,"seq":0,"time":') and
     json.loads(first["entry"]) == by_seq[0], "export lines hold the stored entries")
e2 = os.path.join(work, "export-range.jsonl")
rc, out = audit("export", "--from-seq", "5", "--to-seq", "12", "--out", e2)
rc2, out2 = audit("verify-export", "--vkey", "@" + vkey_file, e2, online=False)
t.ok(rc == 0 and rc2 == 0 and "7 entries" in out2, "a range with inclusion proofs verifies", out + out2)
e3 = os.path.join(work, "export-prefix.jsonl")
rc, out = audit("export", "--to-seq", "20", "--out", e3)
rc2, out2 = audit("verify-export", "--vkey", "@" + vkey_file, e3, online=False)
t.ok(rc == 0 and rc2 == 0, "a prefix with its consistency proof verifies", out + out2)
# an export file cut short or edited is refused
cut = os.path.join(work, "export-cut.jsonl")
open(cut, "w").write("\n".join(lines[:-3]) + "\n")
rc, out = audit("verify-export", "--vkey", "@" + vkey_file, cut, online=False)
t.ok(rc == 1 and "the file was truncated" in out, "verify-export: a cut file", out)
cp_file = os.path.join(work, "checkpoint-before.txt")
rc, out = audit("checkpoint", "--out", cp_file)
t.ok(rc == 0 and open(cp_file).read() == cp_text, "xbus audit checkpoint saves the latest")
rc, out = audit("verify", "--state", node.state, "--checkpoint", cp_file, online=False)
t.ok(rc == 0 and out.startswith("OK"), "xbus audit verify on the running node", out)

# --- tampering, on fresh copies of the stopped node's state ---
t.eq(node.stop(), 0, "xbusd stops")
N = sum(1 for _ in open(e1)) - 1

kinds = [
    ("one byte of an entry", ["flip", "7"], "entry 7: its leaf hash does not match", "entry 7 differs from the earlier export"),
    ("a deleted entry", ["delete", "12"], "entry 12 is missing", "entry 12 is missing from the export"),
    ("two entries swapped", ["swap", "4", "15"], "entry 4: it holds the bytes of entry 15",
     "entry 4: it holds the bytes of entry 15"),
    ("the tail cut", ["truncate", "5"], "the log holds %d entries but the stored checkpoint of size" % (N - 5),
     "export ends at %d but the checkpoint covers %d: truncated" % (N - 5, N)),
    ("the tail cut cleanly (checkpoints too)", ["truncate", "5", "--drop-checkpoints"],
     "the log holds %d entries but the checkpoint you held (size %d)" % (N - 5, N),
     "the earlier export's checkpoint (size %d) covers %d entries but the checkpoint of" % (N, N)),
]
for name, cmd, want_verify, want_export in kinds:
    copy = os.path.join(work, "copy-" + cmd[0] + str(len(cmd)))
    shutil.copytree(node.state, copy)
    p = subprocess.run([TAMPER, os.path.join(copy, "log")] + cmd, capture_output=True, text=True)
    t.ok(p.returncode == 0, "tamper: %s (%s)" % (name, p.stdout.strip()), p.stderr)
    rc, out = audit("verify", "--state", copy, "--checkpoint", cp_file, online=False)
    t.ok(rc == 1 and want_verify in out, "xbus audit verify detects %s" % name, out)
    if "--drop-checkpoints" not in cmd:
        rc, out = audit("verify", "--state", copy, online=False)
        t.ok(rc == 1 and "FAILED" in out, "... even without the checkpoint held from before", out)
    later = os.path.join(work, "export-after-" + cmd[0] + str(len(cmd)) + ".jsonl")
    rc, out = audit("export", "--offline", "--state", copy, "--out", later, online=False)
    t.ok(rc == 0, "export of the damaged log", out)
    rc, out = audit("verify-export", "--vkey", "@" + vkey_file, "--earlier", e1, later, online=False)
    t.ok(rc == 1 and want_export in out, "verify-export against the earlier export detects %s" % name, out)
    rc, out = audit("verify-export", "--vkey", "@" + vkey_file, "--checkpoint", cp_file, later, online=False)
    t.ok(rc == 1 and "FAILED" in out, "... and against the checkpoint held from before", out)
t.finish()
