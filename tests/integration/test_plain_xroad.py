#!/usr/bin/env python3
"""test_plain_xroad.py: unmodified X-Road calls on the sample registry (issue 11): X-Road-Client alone
is served where a right names a default purpose, personal (the subject in the path) and non-personal,
and refused with an X-Road error where it does not, or where there is no right."""
import re

from harness import Check, Node, receipt_payload

t = Check("plain-xroad")
node = Node().start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]

IMMIGRATION = "VN/GOV/BCA/immigration"
HN = "VN/GOV/HN-UBND/one-stop-shop"
BYT = "VN/GOV/BYT/health-services"
VCB = "VN/COM/VCB/kyc"
CITIZEN = "VN/GOV/BCA/population/citizen"
ENTERPRISE = "VN/GOV/BKHDT/business-registry/enterprise"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def plain(client, path):
    """What an X-Road client sends: X-Road-Client, nothing else (no Accept either)."""
    return node.request(client, "GET", "/r1/" + path, headers={"X-Road-Client": client, "Accept": None})


def xroad_error(r, code, what):
    try:
        body = r.json()
    except ValueError:
        body = None
    ok = (r.status == (400 if code.startswith("Client.") else 500) and r.header("x-road-error") == code and
          (r.header("content-type") or "").startswith("application/json") and isinstance(body, dict) and
          set(body) == {"type", "message", "detail"} and body["type"] == code and UUID.match(body["detail"]))
    t.ok(ok, what + ": X-Road error " + code, r)
    return body if ok else {}


# personal, the subject in the path, the right's default purpose
r = plain(IMMIGRATION, CITIZEN + "/" + subject)
t.eq(r.status, 200, "immigration reads a citizen with X-Road-Client alone")
t.eq(r.header("x-road-error"), None, "no X-Road-Error on an answer")
t.eq((r.header("x-road-client"), r.header("x-road-service")), (IMMIGRATION, CITIZEN), "X-Road-Client and -Service")
t.ok(UUID.match(r.header("x-road-id") or "") and UUID.match(r.header("x-road-request-id") or ""),
     "a generated X-Road-Id and the node's X-Road-Request-Id")
t.ok(re.fullmatch(r"[A-Za-z0-9+/]{86}==", r.header("x-road-request-hash") or ""), "X-Road-Request-Hash")
doc = r.json() if r.status == 200 else {}
t.eq(sorted(doc), sorted(["id", "full_name", "birth_date", "sex", "nationality"]), "minimised to the right's fields")
p = receipt_payload(r.header("x-bus-receipt")) if r.header("x-bus-receipt") else {}
t.eq(p.get("purpose"), "immigration-control", "the receipt names the default purpose")
seq_ok = int(r.header("x-bus-log-seq") or -1)

# the GovStack name of X-Road-Client; a represented party, logged as sent
r = node.request(IMMIGRATION, "GET", "/r1/" + CITIZEN + "/" + subject,
                 headers={"X-GovStack-Client": IMMIGRATION, "X-Road-Represented-Party": "COM/1234%2F5", "Accept": None})
t.eq((r.status, r.header("x-road-client")), (200, IMMIGRATION), "X-GovStack-Client when X-Road-Client is absent")
seq_party = int(r.header("x-bus-log-seq") or -1)

# non-personal, the right's default purpose
r = plain(HN, ENTERPRISE + "/0100000001")
t.ok(r.status in (200, 404) and r.header("x-road-error") is None,
     "a one-stop-shop reads an enterprise with X-Road-Client alone (%d)" % r.status, r)

# fail closed: a right without a default purpose needs X-Bus-Purpose; no right is no access
body = xroad_error(plain(BYT, CITIZEN + "/" + subject), "Server.ServerProxy.AccessDenied",
                   "the ministry's right names no default purpose")
t.ok("purpose" in body.get("message", "").lower(), "the message says the purpose is missing", body)
denied = plain(VCB, CITIZEN + "/" + subject)
body_vcb = xroad_error(denied, "Server.ServerProxy.AccessDenied", "a client without a right")
xroad_error(plain(IMMIGRATION, CITIZEN), "Client.InvalidRequest", "a personal service without a subject")

# the same refusal in problem+json when asked (the xbus extension)
r = node.request(VCB, "GET", "/r1/" + CITIZEN + "/" + subject,
                 headers={"X-Road-Client": VCB, "Accept": "application/problem+json"})
t.problem(r, 403, "access_denied", "Accept: application/problem+json gives the xbus type")

# the log: the default purpose says so, a refusal holds its error id
node.stop()
entries = node.log_entries()
e = entries.get(seq_ok, {})
t.eq((e.get("purpose"), e.get("purpose_default")), ("immigration-control", True), "logged as the default purpose")
t.eq(e.get("xroad_request_hash"), p.get("xroad_request_hash"), "the entry and the receipt hold the same request hash")
t.eq(entries.get(seq_party, {}).get("represented_party"), "COM/1234%2F5", "X-Road-Represented-Party is logged")
seq_denied = int(denied.header("x-bus-log-seq") or -1)
t.eq(entries.get(seq_denied, {}).get("error_id"), body_vcb.get("detail"), "the refusal's detail is its entry's error_id")
t.ok(e.get("subject") and subject not in e["subject"], "logged under the subject's pseudonym")
t.finish()
