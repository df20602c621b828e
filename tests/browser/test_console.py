#!/usr/bin/env python3
"""test_console.py: the web console in headless Chromium against a real node (docs/console.md).

Auditor: sign in with a link from `xbus console login`, search (filters, the subject typed by the auditor,
paging), open an exchange and see "verified" (computed by the page: SHA-256 leaves and nodes, the
checkpoint's Ed25519 signature against the pinned key), compare two checkpoints, download an export that
`xbus audit verify-export` accepts. Then the verdicts that must not pass: a pinned key other than the
node's; a server that lies (a test proxy changing the proof, the root, the entry); an entry tampered with
on disk (xbus-log-tamper). Citizen: a link from the consent authority shows that citizen's accesses only,
each verifiable, and the consents with revoke; nothing turns it into another citizen's. Operator: the
node's status, the facts of /health and /metrics. Sign-in links work once; sessions end (idle, absolute);
no page loads anything from outside the node, and the CSP stops inline script and outside connections.
Screenshots of every page go to the build's meson-logs folder.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Check, Node, binary  # noqa: E402

from browser import Browser, outside, wait_for_file  # noqa: E402
from lying_proxy import LyingProxy  # noqa: E402

t = Check("console")
XBUS = binary("xbus")
XBUSD = binary("xbusd")
TAMPER = os.environ.get("XBUS_BIN_XBUS_LOG_TAMPER") or os.path.join(os.path.dirname(XBUS), "exchange", "audit",
                                                                   "xbus-log-tamper")

AUD = "VN/GOV/TTCP/inspection"
PORTAL = "VN/GOV/VPCP/national-portal"
BYT = "VN/GOV/BYT/health-services"
VCB = "VN/COM/VCB/kyc"
HN = "VN/GOV/HN-UBND/one-stop-shop"
CITIZEN = "VN/GOV/BCA/population/citizen"
LAND = "VN/GOV/BTNMT/land/land-parcels"

node = Node(top_extra="[log]\ncheckpoint-interval = 200ms\n").start()
node.start_sample(people=300)
subjects = node.sample_ids(3)
origins = [node.url]
browsers = []


def xbus(*args):
    p = subprocess.run([XBUS] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout.strip() + p.stderr.strip()


def login_link(role, url=None, actor="test.%s"):
    rc, out = xbus("console", "login", "--role", role, "--actor", actor % role, "--state", node.state, "--url",
                   url or node.url)
    if rc != 0:
        raise RuntimeError("xbus console login failed: %s" % out)
    return out


def audit_get(path):
    r = node.request(AUD, "GET", path)
    return r.json() if r.status == 200 else None


def wait_checkpoint(size, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = node.request(AUD, "GET", "/audit/checkpoint")
        if r.status == 200 and int(r.body.decode().split("\n")[1]) >= size:
            return int(r.body.decode().split("\n")[1])
        time.sleep(0.05)
    raise RuntimeError("no checkpoint covering %d entries" % size)


def subject_seqs(subject):
    seqs, cursor = [], 0
    while cursor is not None:
        page = audit_get("/audit/entries?subject=%s&limit=1000&cursor=%d" % (subject, cursor))
        seqs += [e["seq"] for e in page["entries"]]
        cursor = page["next_cursor"]
    return seqs


def new_browser():
    b = Browser(os.path.join(node.pki, "node.crt"))
    browsers.append(b)
    return b


def rows(b, table):
    return b.script("return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'), "
                    "r => Number(r.dataset.seq))", table)


def vkey_other():
    """A well-formed verifier key of the node's name but another Ed25519 key."""
    name = "xbus.local"
    key = b"\x01" + hashlib.sha256(b"not the node's key").digest()
    h = hashlib.sha256(name.encode() + b"\n" + key).hexdigest()[:8]
    return "%s+%s+%s" % (name, h, base64.b64encode(key).decode())


# --- exchanges: allowed and refused, three subjects, a consent-based one ---------------------------
iso = lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
r = node.request(PORTAL, "POST", "/consent/consents", headers={"Content-Type": "application/json"},
                 body=json.dumps({"subject": subjects[0], "grantee": HN, "services": [LAND],
                                  "purpose": "public-service-delivery",
                                  "expires": iso(datetime.datetime.now(datetime.timezone.utc) +
                                                 datetime.timedelta(hours=1))}))
t.eq(r.status, 201, "a consent of subject 0 for the one-stop shop")
consent_id = r.json().get("id")
receipts = {}  # seq -> the receipt the client got
for i in range(30):
    client = [BYT, BYT, VCB][i % 3]
    purpose = "loan-application" if client == VCB else "health-insurance-enrolment"
    r = node.call(client, CITIZEN, subject=subjects[i % 3], purpose=purpose)
    if r.header("x-bus-receipt"):
        receipts[int(r.header("x-bus-log-seq"))] = r.header("x-bus-receipt")
time.sleep(1.2)  # the next entries start a second of their own (the time filter's resolution in the page)
r = node.call(HN, LAND, subject=subjects[0], purpose="public-service-delivery", extra={"X-Bus-Consent": consent_id})
land_seq = int(r.header("x-bus-log-seq"))
t.eq(r.status, 200, "an exchange under the consent")
node.call(HN, LAND, subject=subjects[1], purpose="public-service-delivery")  # refused: no consent
size1 = wait_checkpoint(int(node.wait_health()["log_entries"]))
vkey = xbus("audit", "key", "--state", node.state)[1]

# --- the auditor --------------------------------------------------------------------------------------
b = new_browser()
b.get(node.url + "/ui/")
b.wait_visible("#view-signin")
t.ok(not b.visible("#view-auditor") and len(b.finds("#view-signin input")) == 0,
     "without a link, the sign-in page: no form, no subject to type")
b.screenshot("signin")
link = login_link("auditor")
t.ok("#login=" in link and "&vkey=" + vkey in link and "&jwk=" in link,
     "xbus console login prints a link with the token, the vkey and the receipt key")
b.get(link)
b.wait_visible("#view-auditor")
b.wait(lambda: len(rows(b, "results")) > 0, what="the first page of results")
t.ok("#login" not in b.driver.current_url, "the token leaves the address bar once used")
first = rows(b, "results")
t.eq(first, list(range(20)), "the first page: entries 0..19 in order")
t.ok(not b.find("#next-page").get_attribute("disabled"), "a next page is offered")
b.screenshot("auditor-search")
b.find("#next-page").click()
b.wait(lambda: rows(b, "results") and rows(b, "results")[0] == 20, what="the second page")
t.eq(rows(b, "results")[:3], [20, 21, 22], "the next page continues at entry 20")
b.find("#prev-page").click()
b.wait(lambda: rows(b, "results") and rows(b, "results")[0] == 0, what="back to the first page")
t.ok(True, "the previous page comes back")

# filters: decision, client, subject typed by the auditor (the node turns it into the pseudonym)
b.find("#q-decision").send_keys("deny" if False else "")
b.script("document.getElementById('q-decision').value = 'deny'")
b.find("#q-go").click()
b.wait(lambda: all(r.text.split("\n")[0] for r in b.finds("#results tbody tr")) and
       rows(b, "results") != first, what="deny results")
deny = [e["seq"] for e in audit_get("/audit/entries?decision=deny&limit=1000")["entries"]]
t.eq(rows(b, "results"), deny[:20], "decision=deny shows the refused entries the API lists")
b.script("document.getElementById('q-decision').value = ''")
b.find("#q-subject").send_keys(subjects[1])
b.find("#q-go").click()
want = subject_seqs(subjects[1])
t.ok(len(want) >= 10, "the log holds subject 1's entries (%d)" % len(want))
b.wait(lambda: rows(b, "results") == want[:20], what="the subject's entries")
t.eq(rows(b, "results"), want[:20], "a personal id typed by the auditor finds that subject's entries")
page_text = b.find("#view-auditor").text
t.ok(subjects[1] not in b.find("#results").text, "the results show pseudonyms, not the personal id")
b.find("#q-subject").clear()
b.find("#q-client").send_keys(VCB)
b.find("#q-go").click()
vcb = [e["seq"] for e in audit_get("/audit/entries?client=%s&limit=1000" % VCB)["entries"]]
b.wait(lambda: rows(b, "results") == vcb[:20], what="the client's entries")
t.eq(rows(b, "results"), vcb[:20], "client filter")
b.find("#q-client").clear()
b.find("#q-outcome").send_keys("consent_required")
b.find("#q-go").click()
creq = [e["seq"] for e in audit_get("/audit/entries?outcome=consent_required&limit=1000")["entries"]]
b.wait(lambda: rows(b, "results") == creq[:20], what="the outcome's entries")
t.ok(len(creq) >= 1 and rows(b, "results") == creq[:20], "outcome filter (consent_required)")
b.find("#q-outcome").clear()
xid = audit_get("/audit/entries/5")
xid = json.loads(xid["entry"])["xroad_id"]
b.find("#q-xroad-id").send_keys(xid)
b.find("#q-go").click()
b.wait(lambda: rows(b, "results") == [5], what="the X-Road-Id's entry")
t.eq(rows(b, "results"), [5], "X-Road-Id filter")
b.find("#q-xroad-id").clear()
# a time range: from the second of the first LAND exchange, to an hour later (datetime-local, the browser's zone)
land_time = json.loads(audit_get("/audit/entries/%d" % land_seq)["entry"])["time"]
b.script("const loc = (ms) => { const d = new Date(ms); return new Date(d - d.getTimezoneOffset() * 60000)"
         ".toISOString().slice(0, 19); };"
         "const t = Math.floor(Date.parse(arguments[0]) / 1000) * 1000;"
         "document.getElementById('q-from').value = loc(t); document.getElementById('q-to').value = loc(t + 3600000);",
         land_time)
b.find("#q-go").click()
b.wait(lambda: rows(b, "results") and rows(b, "results")[0] == land_seq, what="the time range's entries")
t.eq(rows(b, "results"), list(range(land_seq, land_seq + 2)), "a time range finds the entries of that time only")
b.script("document.getElementById('q-from').value = ''; document.getElementById('q-to').value = '';")
b.find("#q-go").click()
b.wait(lambda: rows(b, "results") == first, what="all entries again")

# one exchange, verified in the browser
b.find("#results tbody tr[data-seq='3'] button.open").click()
b.wait_visible("#view-entry")
t.eq(b.verdict("#entry-verdict"), "verified", "entry 3: the page says verified")
fields = b.find("#entry-fields").text
t.ok("xroad_id" in fields and "request_hash" in fields and "decision" in fields, "every field of the entry is shown")
t.ok("response_hash" in b.find("#entry-receipt").text, "the receipt's values are shown")
t.ok(3 in receipts and 4 in receipts, "the clients got receipts for entries 3 and 4")
b.find("#receipt-input").send_keys(receipts[3])
b.find("#receipt-check").click()
t.eq(b.verdict("#receipt-verdict"), "verified", "the client's receipt of entry 3: verified in the browser")
b.find("#receipt-input").clear()
b.find("#receipt-input").send_keys(receipts[4])
b.find("#receipt-check").click()
t.eq(b.verdict("#receipt-verdict"), "not-verified", "the receipt of entry 4 shown with entry 3: not verified")
forged = receipts[3].split(".")
forged[2] = forged[2][:10] + ("A" if forged[2][10] != "A" else "B") + forged[2][11:]
b.find("#receipt-input").clear()
b.find("#receipt-input").send_keys(".".join(forged))
b.find("#receipt-check").click()
t.eq(b.verdict("#receipt-verdict"), "not-verified", "a receipt with a changed signature: not verified")
b.find("#receipt-input").clear()
b.find("#receipt-input").send_keys(receipts[3])
b.find("#receipt-check").click()
t.eq(b.verdict("#receipt-verdict"), "verified", "... and the right one again: verified")


# receipts of the group-commit form (one tree head per batch, the entry and its RFC 9162 path), made here
# from the node's own proofs and receipt key, so they hold whichever form the node sends
def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def es256(signing_input):
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(node.pki, "signing.key")],
                         input=signing_input, capture_output=True, check=True).stdout
    i, out = 2 if der[1] < 0x80 else 3, b""
    for _ in range(2):  # DER SEQUENCE of two INTEGERs -> r || s
        n = der[i + 1]
        out += int.from_bytes(der[i + 2:i + 2 + n], "big").to_bytes(32, "big")
        i += 2 + n
    return b64u(out)


def batch_receipt(seq, entry=None, path_flip=False, sig_flip=False):
    a = audit_get("/audit/entries/%d" % seq)
    head = b64u(json.dumps({"alg": "ES256", "typ": "xbus-tree-head+jws"}).encode())
    payload = b64u(json.dumps({"origin": a["checkpoint"].split("\n")[0], "size": a["tree_size"],
                               "root": a["checkpoint"].split("\n")[2], "time": "2026-12-06T00:00:00Z"}).encode())
    sig = es256((head + "." + payload).encode())
    if sig_flip:
        sig = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    path = bytearray(b"".join(base64.b64decode(p) for p in a["inclusion_proof"]))
    if path_flip:
        path[5] ^= 0x40
    return "%s.%s.%s~%s~%s" % (head, payload, sig, b64u((entry or a["entry"]).encode()), b64u(bytes(path)))


def check_receipt(receipt):
    b.find("#receipt-input").clear()
    b.find("#receipt-input").send_keys(receipt)
    b.find("#receipt-check").click()
    v = b.verdict("#receipt-verdict")
    failed = b.script("return Array.from(document.querySelectorAll('#receipt-verdict li.fail'), l => l.dataset.step)")
    return v, failed[0] if failed else None


t.eq(check_receipt(batch_receipt(3)), ("verified", None), "a batch receipt of entry 3 (head, entry, path): verified")
shown = b.find("#receipt-verdict .receipt-fields").text
t.ok("head_size" in shown and "request_hash" in shown and "leaf_hash" in shown,
     "the page shows the tree head's and the entry's fields", shown[:300])
t.eq(check_receipt(batch_receipt(3, path_flip=True)), ("not-verified", "receipt_inclusion"),
     "a batch receipt with a tampered path: not verified, at the inclusion step")
t.eq(check_receipt(batch_receipt(3, sig_flip=True)), ("not-verified", "receipt_signature"),
     "a batch receipt with a changed head signature: not verified, at the signature step")
e3 = audit_get("/audit/entries/3")["entry"]
t.eq(check_receipt(batch_receipt(3, entry=e3.replace('"status":200', '"status":201'))),
     ("not-verified", "receipt_inclusion"), "a batch receipt whose entry was changed: its hash leaves the root")
t.eq(check_receipt(batch_receipt(4)), ("not-verified", "receipt_entry"),
     "a valid batch receipt of entry 4 shown with entry 3: not verified, at the entry step")
t.eq(check_receipt("a.b.c~x"), ("not-verified", "receipt_form"), "three parts or nothing: at the form step")
b.find("#receipt-input").clear()
b.find("#receipt-input").send_keys(receipts[3])
b.find("#receipt-check").click()
t.eq(b.verdict("#receipt-verdict"), "verified", "and the client's own receipt again: verified")
b.driver.execute_script("document.getElementById('entry-receipt').scrollIntoView()")
b.screenshot("auditor-entry-receipt")
b.screenshot("auditor-entry")
b.find("#entry-back").click()

# a consistency proof between two checkpoints, verified the same way
for i in range(6):
    node.call(BYT, CITIZEN, subject=subjects[2], purpose="health-insurance-enrolment")
size2 = wait_checkpoint(size1 + 6)
b.find("#c-size1").clear()
b.find("#c-size1").send_keys(str(size1))
b.find("#c-size2").clear()
b.find("#c-size2").send_keys(str(size2))
b.find("#c-go").click()
t.eq(b.verdict("#consistency-verdict"), "verified", "checkpoints %d and %d: consistent, verified" % (size1, size2))
b.screenshot("auditor-consistency")

# the export, for `xbus audit verify-export`
b.find("#export").click()
export = wait_for_file(b.downloads, ".jsonl")
time.sleep(0.5)
rc, out = xbus("audit", "verify-export", "--vkey", vkey, export)
t.ok(rc == 0 and out.startswith("OK"), "the downloaded export passes xbus audit verify-export", out)

# English
b.find("#lang").click()
b.wait(lambda: b.find("#q-go").text == "Search", what="English")
t.eq(b.find("#signout").text, "Sign out", "English on demand (Vietnamese is the default)")
b.screenshot("auditor-search-en")
b.find("#lang").click()
b.wait(lambda: b.find("#q-go").text == "Tìm", what="Vietnamese")

# a pinned key other than the node's: the same entry is not verified
b.find("#pin-input").clear()
b.find("#pin-input").send_keys(vkey_other())
b.find("#pin-save").click()
b.find("#results tbody tr[data-seq='3'] button.open").click()
b.wait_visible("#view-entry")
t.eq(b.verdict("#entry-verdict"), "not-verified", "another pinned key: not verified")
b.screenshot("auditor-entry-wrong-key")
b.find("#entry-back").click()
b.find("#pin-input").clear()
b.find("#pin-input").send_keys(vkey)
b.find("#pin-save").click()
b.find("#results tbody tr[data-seq='3'] button.open").click()
t.eq(b.verdict("#entry-verdict"), "verified", "the node's key pinned again: verified")
b.find("#entry-back").click()

# CSP: no inline script runs, no connection leaves the node
b.script("const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s);")
time.sleep(0.3)
t.ok(b.script("return window.__inline") is None, "the CSP stops inline script")
status, body = b.fetch("https://example.com/")
t.ok(status == 0, "the CSP stops a connection to another site", body)

# a sign-in link works once
b2 = new_browser()
b2.get(link)
b2.wait(lambda: b2.visible("#message") and "error" in b2.find("#message").get_attribute("class"), what="refusal")
t.ok(b2.visible("#view-signin") and not b2.visible("#view-auditor"), "the used link does not sign in again")
t.ok("once" in b2.find("#message").text or "một lần" in b2.find("#message").text, "... and says why",
     b2.find("#message").text)
b2.screenshot("signin-used-link")
bad = login_link("auditor")
token = bad.split("#login=")[1].split("&")[0]
forged = bad.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
b2.get(forged)
b2.wait(lambda: b2.visible("#message") and "error" in b2.find("#message").get_attribute("class"), what="refusal")
t.ok(b2.visible("#view-signin"), "a link with a changed signature does not sign in")

# --- a server that lies: the page does not pass it --------------------------------------------------------
proxy = LyingProxy(node)
origins.append(proxy.url)
bp = new_browser()
bp.get(login_link("auditor", url=proxy.url))
bp.wait(lambda: len(rows(bp, "results")) > 0, what="results through the proxy")
bp.find("#results tbody tr[data-seq='3'] button.open").click()
t.eq(bp.verdict("#entry-verdict"), "verified", "through an honest proxy: verified (the control)")
bp.find("#entry-back").click()
for mode in ("proof", "root", "entry"):
    proxy.mode = mode
    before = proxy.lied
    bp.find("#results tbody tr[data-seq='3'] button.open").click()
    v = bp.verdict("#entry-verdict")
    t.ok(proxy.lied > before and v == "not-verified", "a server that changes the %s: not verified" % mode)
    if mode == "root":
        bp.screenshot("auditor-entry-lying-server")
    bp.find("#entry-back").click()
proxy.mode = "none"

# --- the citizen ---------------------------------------------------------------------------------------------
r = node.request(PORTAL, "POST", "/ui/api/citizen-links", headers={"Content-Type": "application/json"},
                 body=json.dumps({"subject": subjects[0]}))
t.eq(r.status, 201, "the consent authority gets a citizen link")
clink = node.url + r.json()["path"] + "&vkey=" + vkey
t.ok(subjects[0] not in clink, "the citizen link holds no personal id")
r2 = node.request(BYT, "POST", "/ui/api/citizen-links", headers={"Content-Type": "application/json"},
                  body=json.dumps({"subject": subjects[1]}))
t.eq(r2.status, 403, "only a consent authority gets citizen links")
bc = new_browser()
bc.get(clink)
bc.wait_visible("#view-citizen")
bc.wait(lambda: len(rows(bc, "accesses")) > 0, what="the citizen's accesses")
mine = subject_seqs(subjects[0])
shown = rows(bc, "accesses")
t.eq(shown, sorted(mine, reverse=True), "the citizen sees exactly their own accesses, newest first (%d)" % len(mine))
t.eq(len(bc.finds("#view-citizen input")), 0, "the citizen's page takes no typed subject id")
text = bc.find("#accesses").text
t.ok("public-service-delivery" in text and HN in text, "organisation, purpose shown")
t.ok(("đã dùng sự đồng ý" in text) and ("theo sự đồng ý của bạn" in text) and ("theo luật" in text),
     "consent used and the legal basis, in plain Vietnamese")
bc.find("#accesses tbody tr button.verify").click()
t.eq(bc.verdict("#accesses tbody tr .verdict"), "verified", "the citizen verifies an access in the browser")
t.ok(consent_id and len(bc.finds("#consents tbody tr[data-consent='%s']" % consent_id)) == 1, "the consent is listed")
bc.screenshot("citizen")
others = subject_seqs(subjects[1])
st, _ = bc.fetch("/ui/api/citizen/entries/%d" % others[0], csrf="x")
t.ok(st in (403, 404), "the citizen's session cannot read another's entry without its CSRF token (%d)" % st)
csrf = json.loads(bc.fetch("/ui/api/session", csrf="x")[1])["csrf"]
st, _ = bc.fetch("/ui/api/citizen/entries/%d" % others[0], csrf=csrf)
t.eq(st, 404, "another citizen's entry is not found for this citizen")
st, body = bc.fetch("/ui/api/citizen/accesses?subject=%s" % subjects[1], csrf=csrf)
t.ok(st == 200 and sorted(a["seq"] for a in json.loads(body)["accesses"]) == sorted(mine),
     "a subject in the query is ignored: still one's own accesses")
st, _ = bc.fetch("/ui/api/audit/entries?subject=%s" % subjects[1], csrf=csrf)
t.eq(st, 403, "the citizen cannot use the auditor's calls")
bc.find("#consents tbody tr[data-consent='%s'] button.revoke" % consent_id).click()
bc.wait(lambda: bc.find("#consents tbody tr[data-consent='%s'] .status" % consent_id).text in ("đã thu hồi", "revoked"),
        what="revoked")
r = node.request(PORTAL, "GET", "/consent/consents/" + consent_id)
t.eq(r.json().get("status"), "revoked", "revoke from the citizen's page reaches the consent store")
bc.screenshot("citizen-revoked")

# --- the operator ---------------------------------------------------------------------------------------------
bo = new_browser()
bo.get(login_link("operator"))
bo.wait_visible("#view-operator")
bo.wait(lambda: bo.find("#op-cards").get_attribute("data-loaded") == "1", what="the status")
ver = subprocess.run([XBUSD, "--version"], capture_output=True, text=True).stdout.split()
cards = bo.find("#op-cards").text
t.ok(any(v in cards for v in ver if v[:1].isdigit()), "the operator sees the version", cards[:200])
health = node.wait_health()
t.ok(str(health["log_entries"]) in cards or str(health["log_entries"] + 0) in cards, "the log's size as /health has it")
metrics = node.metrics()
t.ok(any(k.startswith("xbus_service_adapters") and CITIZEN in k and v >= 1 for k, v in metrics.items()) and
     CITIZEN in cards, "services with their live adapters")
certs = [k for k in metrics if k.startswith("xbus_certificate_expiry_seconds{")]
t.ok("consent_required" in cards and certs and all(
    "%s: %s" % (re.search(r'certificate="([^"]*)"', k).group(1), re.search(r'subject="([^"]*)"', k).group(1)) in cards
    for k in certs), "refusals by type, and the certificates /metrics lists with their expiry", cards)
st, body = bo.fetch("/ui/api/operator/status", csrf=json.loads(bo.fetch("/ui/api/session", csrf="x")[1])["csrf"])
recent = json.loads(body).get("recent_refusals", {})
denied = [e for e in audit_get("/audit/entries?decision=deny&limit=1000")["entries"]]
t.ok(recent.get("by_type", {}).get("consent_required") == sum(1 for e in denied if e["error"] == "consent_required"),
     "recent refusals by type, as the log holds them", recent)
bo.screenshot("operator")
st, _ = bo.fetch("/ui/api/audit/entries", csrf=json.loads(bo.fetch("/ui/api/session", csrf="x")[1])["csrf"])
t.eq(st, 403, "the operator cannot use the auditor's calls")

# --- logged and counted, without personal ids -------------------------------------------------------------------
log = open(os.path.join(node.tmp, "xbusd.log"), errors="replace").read()
t.ok("Console sign-in: session" in log and "(auditor test.auditor)" in log, "sign-ins are in the operational log")
t.ok("Console call: session" in log, "calls are in the operational log")
t.ok(not any(s in log for s in subjects), "no personal id in the operational log")
metrics = node.metrics()
t.ok(metrics.get('xbus_console_signins_total{role="auditor",result="ok"}', 0) >= 2 and
     metrics.get('xbus_console_signins_total{role="citizen",result="ok"}', 0) >= 1 and
     metrics.get('xbus_console_signins_total{role="unknown",result="refused"}', 0) >= 2, "sign-ins are counted",
     {k: v for k, v in metrics.items() if "console" in k})
t.ok(metrics.get('xbus_console_calls_total{role="auditor"}', 0) > 10, "calls are counted")

# --- an entry tampered with on disk --------------------------------------------------------------------------------
for x in browsers:
    x.collect()
# flip the low bit of the first digit of its response_size: the entry still reads as JSON, with another value
stored = audit_get("/audit/entries/3")["entry"].encode()
offset = stored.index(b'"response_size":') + len(b'"response_size":')
t.eq(node.stop(), 0, "xbusd stops cleanly before the tampering")
subprocess.run([TAMPER, os.path.join(node.state, "log"), "flip", "3", str(offset)], check=True, capture_output=True)
node.start()
bt = new_browser()
bt.get(login_link("auditor"))
bt.wait(lambda: len(rows(bt, "results")) > 0, what="results after the restart")
bt.find("#results tbody tr[data-seq='3'] button.open").click()
t.eq(bt.verdict("#entry-verdict"), "not-verified", "entry 3 changed on disk: not verified")
steps = [(li.get_attribute("class"), li.text) for li in bt.finds("#entry-verdict li")]
t.ok(steps and all(c == "ok" for c, _ in steps[:-1]) and steps[-1][0] == "fail" and "gốc cây" in steps[-1][1] and
     "not reached" not in steps[-1][1], "... at the last step: its hash no longer leads to the signed root", steps)
bt.screenshot("auditor-entry-tampered")
bt.find("#entry-back").click()
bt.find("#results tbody tr[data-seq='4'] button.open").click()
t.eq(bt.verdict("#entry-verdict"), "verified", "entry 4, untouched: still verified")

# --- no page loaded anything from outside the node -------------------------------------------------------------------
urls = []
for x in browsers:
    urls += x.collect()
t.ok(len(urls) > 20 and not outside(urls, origins), "every request of every page went to the node (%d requests)"
     % len(urls), outside(urls, origins)[:5])
t.ok(outside(urls + ["https://cdn.example.net/x.js"], origins) == ["https://cdn.example.net/x.js"],
     "the check of the network log would catch an outside request")
t.ok(any(u.startswith(node.url + "/ui/console.js") for u in urls) and any(u.endswith("/ui/console.css") for u in urls),
     "the network log holds the page's own files")
for x in browsers:
    x.quit()
browsers.clear()

# --- sessions end: idle and absolute timeouts ------------------------------------------------------------------------
t.eq(node.stop(), 0, "xbusd stops cleanly after the tampered log was served")
with open(node.config, "a") as f:
    f.write("[console]\nidle-timeout = 4s\nsession-timeout = 10s\n")
node.start()
bs = new_browser()
bs.get(login_link("auditor"))
bs.wait(lambda: len(rows(bs, "results")) > 0, what="results")
time.sleep(5.5)
bs.find("#q-go").click()
bs.wait(lambda: bs.visible("#view-signin") and "expired" in bs.find("#message").get_attribute("class"),
        what="the idle session expired")
t.ok(True, "an idle session expires (4 s) and the page says so")
bs.screenshot("session-expired")
bs.get(login_link("auditor"))
bs.wait(lambda: bs.visible("#view-auditor") and not bs.visible("#message"), what="signed in again")
start = time.time()
ended = None
while time.time() - start < 15:
    time.sleep(1.5)
    bs.find("#q-go").click()
    time.sleep(0.3)
    if bs.visible("#view-signin"):
        ended = time.time() - start
        break
t.ok(ended is not None and ended >= 8, "a busy session still ends at its absolute timeout (10 s)", "ended %r" % ended)
for x in browsers:
    x.quit()
proxy.close()
t.eq(node.stop(), 0, "xbusd stops cleanly (under the sanitizers: no leak, no error)")
t.finish()
