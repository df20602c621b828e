#!/usr/bin/env python3
"""test_subject.py: the bus, not a free header, decides the data subject (issue 10, finding 1), and strict
input (finding 4): the subject smuggled through the query past xbus-adapter-rest and xbus-sample-backend,
on a statute right and on a consent right; a NUL in a header; an encoded '/' in an identifier; the places
a service declares for its subject (path, query, body) and their conflicts; a person an answer names,
logged and shown in that person's access history.

The first part uses only what commit 8503606 already had (the embedded registry, the same adapters), so
that it can run against those binaries too: its attack checks are the ones marked "ATTACK".
"""
import datetime
import hashlib
import json
import os
import tempfile

from harness import (Check, Node, raw_request, registry_copy, set_key, start_backend, start_rest)

t = Check("subject")
BYT = "VN/GOV/BYT/health-services"
HN = "VN/GOV/HN-UBND/one-stop-shop"
PORTAL = "VN/GOV/VPCP/national-portal"
CITIZEN = "VN/GOV/BCA/population/citizen"
LAND = "VN/GOV/BTNMT/land/land-parcels"
MARITAL = "VN/GOV/BTP/civil-status/marital-status"
BIRTH = "VN/GOV/BTP/civil-status/birth-record"
TAX_CHECK = "VN/GOV/BTC/tax/tax-obligation-check"
P_BYT = "health-insurance-enrolment"
P_OSS = "public-service-delivery"
PROBLEM = {"Accept": "application/problem+json"}

node = Node(threads=2).start()
bport = start_backend(node)
start_rest(node, [CITIZEN, LAND, MARITAL], bport)
ids = node.sample_ids(300)
alice, bob = ids[0], ids[1]


def call(client, target, subject=None, purpose=None, extra=None, method="GET", body=None, on=None):
    h = dict(PROBLEM, **{"X-Road-Client": client})
    if subject:
        h["X-Bus-Subject"] = subject
    if purpose:
        h["X-Bus-Purpose"] = purpose
    if body is not None:
        h["Content-Type"] = "application/json"
    h.update(extra or {})
    return (on or node).request(client, method, "/r1/" + target, headers=h, body=body)


def api(method, path, body=None, on=None):
    on = on or node
    h = {"Content-Type": "application/json"} if body is not None else {}
    return on.request(PORTAL, method, path, headers=h, body=json.dumps(body) if body is not None else None)


def grant(on, subject, service, max_uses=None):
    body = {"subject": subject, "grantee": HN, "purpose": P_OSS, "services": [service],
            "expires": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
            .strftime("%Y-%m-%dT%H:%M:%SZ")}
    if max_uses:
        body["max_uses"] = max_uses
    r = api("POST", "/consent/consents", body, on)
    t.eq(r.status, 201, "consent for %s on %s created" % (subject, service.split("/")[-1]))
    return r.json().get("id") if r.status == 201 else "none"


def history(subject, on=None):
    r = api("GET", "/consent/subjects/%s/accesses?limit=500" % subject, on=on)
    return r.json() if r.status == 200 else {"accesses": [], "subject_pseudonym": None}


def entry(r, on=None):
    seq = r.header("x-bus-log-seq")
    return (on or node).log_entries().get(int(seq)) if seq is not None else None


def holds(r, person):
    return person.encode() in r.body


def adapter_refused(r, what):
    """The adapter's own refusal: passed through by the bus as the provider's answer (400, its error document)."""
    try:
        body = r.json()
    except ValueError:
        body = {}
    return t.ok(r.status == 400 and body.get("error") == "bad_request" and "subject" in body.get("detail", ""),
                what, repr(r))

# --- finding 1: the subject smuggled through the query ----------------------------------------------------------
# Through xbus-adapter-rest to xbus-sample-backend, which reads the first "subject" it finds: the adapter used
# to send URL?subject=B&subject=A, and the answer about B went back, receipted and logged under A.
r = call(BYT, CITIZEN + "?subject=" + bob, subject=alice, purpose=P_BYT)
t.ok(r.status != 200 and not holds(r, bob), "ATTACK query smuggling (statute): B's record is not served", repr(r))
adapter_refused(r, "the adapter refuses a query that names 'subject' (400 bad_request)")
e = entry(r)
t.ok(e is not None and e.get("status") == 400, "ATTACK the log files no delivered answer under A for it", repr(e))
xid_smuggled = r.header("x-road-id")

# The same with a consent right: a consent for A only, on land-parcels.
cid = grant(node, alice, LAND, max_uses=1)
r = call(HN, LAND + "?subject=" + bob, subject=alice, purpose=P_OSS, extra={"X-Bus-Consent": cid})
t.ok(r.status != 200 and not holds(r, bob), "ATTACK query smuggling (consent for A): B's parcels are not served",
     repr(r))
adapter_refused(r, "refused by the adapter: 400 bad_request")
r = call(HN, LAND, subject=alice, purpose=P_OSS, extra={"X-Bus-Consent": cid})
t.ok(r.status == 200 and holds(r, alice), "ATTACK the single-use consent was not used up by the attempt", repr(r))

h = history(bob)
t.ok(not any(a.get("status") == 200 for a in h["accesses"]), "B's access history: nothing was served", repr(h))
h = history(alice)
t.ok(not any(a.get("status") == 200 and a.get("service") == CITIZEN for a in h["accesses"]),
     "ATTACK A's access history: no citizen record delivered under A's name", repr(h))

# --- finding 4: strict input -----------------------------------------------------------------------------------
def head(client_value, extra=b""):
    return (b"GET /r1/" + CITIZEN.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/problem+json\r\n"
            b"X-Road-Client: " + client_value + b"\r\nX-Bus-Subject: " + alice.encode() +
            b"\r\nX-Bus-Purpose: " + P_BYT.encode() + b"\r\n" + extra + b"Connection: close\r\n\r\n")


r = raw_request(node, BYT, head(BYT.encode()))
t.eq(r.status, 200, "the same request, well-formed, is served")
r = raw_request(node, BYT, head(BYT.encode() + b"\0x"))
t.ok(r.status != 200, "ATTACK a NUL in X-Road-Client is refused, not cut", repr(r))
t.problem(r, 400, "bad_request", "a NUL in a header: 400 bad_request")
r = raw_request(node, BYT, head(BYT.encode(), b"X-Note: a\x01b\r\n"))
t.problem(r, 400, "bad_request", "a control byte in any header: 400 bad_request")
r = raw_request(node, BYT, head(BYT.encode(), b"X-Note: a\r\n folded\r\n"))
t.problem(r, 400, "bad_request", "a folded header line: 400 bad_request")
# a pipelined second request on the same connection is scanned as well
r = raw_request(node, BYT, head(BYT.encode()).replace(b"Connection: close\r\n", b"") + head(BYT.encode() + b"\0x"))
t.eq(r.status, 200, "pipelined: the first, clean request is served")

r = call(BYT, "VN/GOV/BCA/population%2Fcitizen", subject=alice, purpose=P_BYT)
t.ok(r.status != 200 and not holds(r, alice), "ATTACK %2F inside an identifier is not a separator", repr(r))
t.problem(r, 400, "bad_request", "/r1/VN/GOV/BCA/population%2Fcitizen has four segments: 400 bad_request")
r = call(BYT, "VN/GOV/BCA/population/citizen%2Fx", subject=alice, purpose=P_BYT)
t.problem(r, 404, "service_unknown", "citizen%2Fx names no service: 404 service_unknown")
e = entry(r)
t.ok(e is not None and e.get("service") == "VN/GOV/BCA/population/citizen%2Fx",
     "the log keeps the identifier as sent", repr(e))
r = call(BYT, "VN/GOV/BCA/population/%63itizen", subject=alice, purpose=P_BYT)
t.ok(r.status == 200 and holds(r, alice), "an encoded letter is decoded inside its segment", repr(r))

# --- log entries record the query (a digest) -------------------------------------------------------------------
e = [v for v in node.log_entries().values() if v.get("xroad_id") == xid_smuggled]
t.ok(len(e) == 1 and e[0].get("query_hash") == hashlib.sha256(("subject=" + bob).encode()).hexdigest(),
     "the smuggling attempt's entry records the query's SHA-256", repr(e))
r = call(BYT, CITIZEN, subject=alice, purpose=P_BYT)
t.ok(entry(r) is not None and "query_hash" in entry(r) and entry(r)["query_hash"] is None,
     "no query: query_hash is null")

# --- the path form of population/citizen (the sample registry's subject = path /{subject}) ----------------------
r = call(BYT, CITIZEN + "/" + alice, purpose=P_BYT)
t.ok(r.status == 200 and r.json().get("id") == alice, "GET .../citizen/{id} without xbus headers: served", repr(r))
t.ok(entry(r) is not None and entry(r).get("subject") == history(alice)["subject_pseudonym"],
     "logged under the subject from the path")
t.ok(entry(r) is not None and entry(r).get("path") == "/{subject}" and alice not in json.dumps(entry(r)),
     "the log keeps the path without the personal id (/{subject}); only the pseudonym names the person",
     repr(entry(r)))
r = call(BYT, CITIZEN + "/" + alice, subject=alice, purpose=P_BYT)
t.eq(r.status, 200, "path and X-Bus-Subject agreeing: served")
r = call(BYT, CITIZEN + "/" + bob, subject=alice, purpose=P_BYT)
t.problem(r, 400, "subject_conflict", "path and X-Bus-Subject disagreeing: 400 subject_conflict")
t.ok(r.header("x-bus-log-seq") is not None, "and the refusal is logged")
r = call(BYT, CITIZEN + "/" + alice + "?subject=" + bob, purpose=P_BYT)
adapter_refused(r, "a path subject with a smuggled query: refused by the adapter")

# --- a person the answer names: marital-status's spouse (response-subject = /spouse_id) -------------------------
married = None
for pid in ids[:60]:
    r = call(HN, MARITAL, subject=pid, purpose=P_OSS)
    if r.status == 200 and r.json().get("spouse_id"):
        married = (pid, r.json()["spouse_id"], r)
        break
if t.ok(married is not None, "a married person in the sample data"):
    pid, spouse, r = married
    e = entry(r)
    hs, hp = history(spouse), history(pid)
    t.ok(e is not None and e.get("revealed_subject") == hs["subject_pseudonym"] and
         e.get("subject") == hp["subject_pseudonym"], "the entry records the spouse's pseudonym", repr(e))
    t.ok(spouse not in json.dumps(e), "and never the spouse's raw id")
    mine = [a for a in hs["accesses"] if a["seq"] == int(r.header("x-bus-log-seq"))]
    t.ok(len(mine) == 1 and mine[0].get("revealed") is True, "the exchange is in the spouse's access history",
         repr(hs))
    mine = [a for a in hp["accesses"] if a["seq"] == int(r.header("x-bus-log-seq"))]
    t.ok(len(mine) == 1 and mine[0].get("revealed") is False, "and in the subject's own, as its subject")
t.eq(node.stop(), 0, "xbusd stops cleanly")

# --- a query parameter and a body member as the declared place (a registry copy) ---------------------------------
tmp = tempfile.mkdtemp(prefix="xbus-subject-")
reg = registry_copy(os.path.join(tmp, "registry"), [
    ("[service %s]" % BIRTH, "subject", "query subject"),
    ("[service %s]" % TAX_CHECK, "subject", "body /subject"),
    ("[service %s]" % TAX_CHECK, "request-schema", None),
])
node2 = Node(registry=reg, tmp=tmp).start()
bport2 = start_backend(node2)
start_rest(node2, [BIRTH, TAX_CHECK], bport2)

r = call(HN, BIRTH + "?subject=" + alice, purpose=P_OSS, on=node2)
t.ok(r.status == 200 and holds(r, alice), "subject = query subject: served from the query alone", repr(r))
t.ok(entry(r, node2).get("subject") == history(alice, node2)["subject_pseudonym"], "and logged under it")
r = call(HN, BIRTH + "?subject=" + alice, subject=alice, purpose=P_OSS, on=node2)
t.eq(r.status, 200, "query and X-Bus-Subject agreeing: served")
r = call(HN, BIRTH + "?subject=" + bob, subject=alice, purpose=P_OSS, on=node2)
t.problem(r, 400, "subject_conflict", "query and X-Bus-Subject disagreeing: subject_conflict")
r = call(HN, BIRTH + "?subject=" + alice + "&Subject=" + alice, purpose=P_OSS, on=node2)
t.problem(r, 400, "subject_conflict", "the carrying parameter repeated (any case): subject_conflict")
r = call(HN, BIRTH + "?%73ubject=" + bob + "&subject=" + alice, purpose=P_OSS, on=node2)
t.problem(r, 400, "subject_conflict", "the carrying parameter repeated (percent-encoded): subject_conflict")

body = json.dumps({"tax_year": 2024, "subject": alice})
r = call(HN, TAX_CHECK, purpose=P_OSS, method="POST", body=body, on=node2)
t.ok(r.status == 200 and r.json().get("id") == alice, "subject = body /subject: served from the body", repr(r))
r = call(HN, TAX_CHECK, subject=bob, purpose=P_OSS, method="POST", body=body, on=node2)
t.problem(r, 400, "subject_conflict", "body and X-Bus-Subject disagreeing: subject_conflict")
r = call(HN, TAX_CHECK, purpose=P_OSS, method="POST",
         body='{"tax_year": 2024, "subject": "%s", "subject": "%s"}' % (alice, bob), on=node2)
t.problem(r, 400, "bad_request", "a body member given twice: bad_request")
t.eq(node2.stop(), 0, "xbusd stops cleanly")
t.finish()
