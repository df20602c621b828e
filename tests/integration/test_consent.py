#!/usr/bin/env python3
"""test_consent.py: consent records through the consent authority's API, signed consent
artefacts, every consent refusal reason, the single-use race, and the citizen's access history.

The node runs a copy of the sample registry in which the national portal's
consent-jwk is the key the demo PKI made for it (STATE/pki/authorities/);
artefacts are signed here with the openssl command (not the project's code).
"""
import base64
import concurrent.futures
import datetime
import json
import os
import re
import subprocess
import tempfile
import time

from harness import Check, Node, binary, registry_copy, set_key

t = Check("consent")
tmp = tempfile.mkdtemp(prefix="xbus-consent-")
reg = registry_copy(os.path.join(tmp, "registry"))
node = Node(registry=reg, threads=4, tmp=tmp).start()
node.start_sample(people=300)
alice, bob = node.sample_ids(2)

PORTAL = "VN/GOV/VPCP/national-portal"
HN = "VN/GOV/HN-UBND/one-stop-shop"
HCM = "VN/GOV/HCM-UBND/one-stop-shop"
BYT = "VN/GOV/BYT/health-services"
LAND = "VN/GOV/BTNMT/land/land-parcels"
PURPOSE = "public-service-delivery"
key_file = os.path.join(node.pki, "authorities", "VN_GOV_VPCP_national-portal.key")

# Register the portal's artefact key (made by the demo PKI at first start) and reload.
jwk = json.load(open(os.path.join(node.pki, "authorities", "VN_GOV_VPCP_national-portal.jwk")))
set_key(reg, "[subsystem %s]" % PORTAL, "consent-jwk", json.dumps(jwk))
before = node.metrics().get("xbus_registry_reloads_total", 0)
node.hup()
deadline = time.time() + 10
while node.metrics().get("xbus_registry_reloads_total", 0) <= before and time.time() < deadline:
    time.sleep(0.05)
t.ok(node.metrics().get("xbus_registry_reloads_total", 0) > before, "registry with the portal's consent-jwk loaded")


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def api(method, path, body=None, who=PORTAL):
    h = {"Content-Type": "application/json"} if body is not None else {}
    return node.request(who, method, path, headers=h, body=json.dumps(body) if body is not None else None)


def grant(subject=None, grantee=HN, services=(LAND,), categories=(), purpose=PURPOSE, valid_from=None,
          expires=None, max_uses=None):
    body = {"subject": subject or alice, "grantee": grantee, "purpose": purpose,
            "expires": expires or iso(now() + datetime.timedelta(hours=1))}
    if services:
        body["services"] = list(services)
    if categories:
        body["categories"] = list(categories)
    if valid_from:
        body["valid_from"] = valid_from
    if max_uses:
        body["max_uses"] = max_uses
    r = api("POST", "/consent/consents", body)
    if not t.eq(r.status, 201, "consent created (%s)" % ", ".join(sorted(k for k in body if k != "subject"))):
        print(r)
        return None
    return r.json()["id"]


def land(consent=None, client=HN, subject=None, purpose=PURPOSE):
    extra = {"X-Bus-Consent": consent} if consent is not None else {}
    return node.call(client, LAND, subject=subject or alice, purpose=purpose, extra=extra)


expected_log = {}  # seq -> (decision, consent, reason or None)


def refused(r, reason, what, consent_id=None):
    ok = t.problem(r, 403, "consent_invalid", what)
    detail = r.json().get("detail", "") if r.header("content-type") == "application/problem+json" else ""
    t.ok(detail.endswith(": " + reason), what + ": detail says '%s'" % reason, "(got %r)" % detail)
    if consent_id:
        t.ok(detail.startswith("consent %s:" % consent_id), what + ": detail names the consent", "(got %r)" % detail)
    seq = r.header("x-bus-log-seq")
    if t.ok(seq is not None, what + ": logged"):
        expected_log[int(seq)] = ("deny", consent_id)
    t.eq(r.header("x-bus-receipt"), None, what + ": no receipt")


def allowed(r, what, consent_id):
    ok = t.eq(r.status, 200, what)
    if not ok:
        print(r)
    t.ok(r.header("x-bus-receipt") is not None, what + ": with a receipt")
    seq = r.header("x-bus-log-seq")
    if seq is not None:
        expected_log[int(seq)] = ("allow", consent_id)
    return ok


# --- b64url / artefacts, signed with the openssl command -------------------------------------------
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def der_to_raw(der):
    # SEQUENCE { INTEGER r, INTEGER s }
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n]
        out += v.lstrip(b"\x00").rjust(32, b"\x00")
        i += 2 + n
    return out


def sign(header, claims, key=key_file):
    h = b64(json.dumps(header, separators=(",", ":")).encode())
    p = b64(json.dumps(claims, separators=(",", ":")).encode())
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=(h + "." + p).encode(),
                         check=True, capture_output=True).stdout
    return h + "." + p + "." + b64(der_to_raw(der))


def claims(jti, **kw):
    c = {"iss": PORTAL, "jti": jti, "sub": alice, "grantee": HN, "services": [LAND], "purpose": PURPOSE,
         "nbf": int(time.time()) - 60, "exp": int(time.time()) + 3600}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


HDR = {"alg": "ES256", "typ": "xbus-consent+jws"}
rogue_key = os.path.join(tmp, "rogue.key")
subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", rogue_key],
               check=True, capture_output=True)

# --- the API: who may call it ------------------------------------------------------------------
r = node.request(None, "GET", "/consent/subjects/%s/consents" % alice)
t.problem(r, 401, "client_unknown", "API without a client certificate")
r = api("GET", "/consent/subjects/%s/consents" % alice, who=HN)
t.problem(r, 403, "access_denied", "API called by a client that is not a consent authority")
r = api("POST", "/consent/consents", {"subject": alice, "grantee": HN, "services": [LAND], "purpose": PURPOSE,
                                      "expires": iso(now() + datetime.timedelta(hours=1))}, who=BYT)
t.problem(r, 403, "access_denied", "a ministry cannot create consents")
r = api("POST", "/consent/consents", {"subject": alice, "grantee": HN, "services": [LAND], "purpose": PURPOSE})
t.problem(r, 400, "bad_request", "create without expires")
r = api("POST", "/consent/consents", {"subject": alice, "grantee": "VN/GOV/NOBODY/x", "services": [LAND],
                                      "purpose": PURPOSE, "expires": iso(now() + datetime.timedelta(hours=1))})
t.problem(r, 400, "bad_request", "create for an unregistered grantee")

# --- no consent, then a consent record ------------------------------------------------------------
r = land()
t.problem(r, 403, "consent_required", "consent right without X-Bus-Consent")
cid = grant(max_uses=None)
r = api("GET", "/consent/consents/%s" % cid)
t.eq(r.status, 200, "the authority reads the record")
rec = r.json()
t.eq((rec.get("status"), rec.get("grantee"), rec.get("services"), rec.get("purpose"), rec.get("authority")),
     ("active", HN, [LAND], PURPOSE, PORTAL), "the record says what was granted")
t.ok(alice not in r.body.decode(), "the record holds no raw personal id")
allowed(land(cid), "with the consent record: 200", cid)
allowed(land(cid), "a second use of an unlimited consent: 200", cid)
t.eq(api("GET", "/consent/consents/%s" % cid).json().get("uses"), 2, "uses are counted")

# --- every refusal reason ------------------------------------------------------------------------
refused(land("0123456789abcdef0123456789abcdef01234567"), "unknown consent", "an unknown consent id")
refused(land(cid, subject=bob), "wrong subject", "someone else's consent (wrong subject)", cid)
cid_hcm = grant(grantee=HCM)
refused(land(cid_hcm), "wrong grantee", "a consent granted to another client", cid_hcm)
cid_tax = grant(services=(), categories=("tax",))
refused(land(cid_tax), "out of scope", "a consent for other data categories", cid_tax)
cid_purpose = grant(purpose="residence-registration")
refused(land(cid_purpose), "wrong purpose", "a consent for another purpose", cid_purpose)
cid_later = grant(valid_from=iso(now() + datetime.timedelta(hours=1)),
                  expires=iso(now() + datetime.timedelta(hours=2)))
refused(land(cid_later), "not yet valid", "a consent not valid yet", cid_later)
cid_short = grant(expires=iso(now() + datetime.timedelta(seconds=2)))
allowed(land(cid_short), "a short consent while valid: 200", cid_short)
time.sleep(2.5)
refused(land(cid_short), "expired", "an expired consent", cid_short)
cid_once = grant(max_uses=1)
allowed(land(cid_once), "a single-use consent, first use: 200", cid_once)
refused(land(cid_once), "exhausted", "a single-use consent, second use", cid_once)
cid_rev = grant()
allowed(land(cid_rev), "before revocation: 200", cid_rev)
r = api("POST", "/consent/consents/%s/revoke" % cid_rev)
t.eq((r.status, r.json().get("status")), (200, "revoked"), "the authority revokes it")
refused(land(cid_rev), "revoked", "a revoked consent", cid_rev)
r = api("DELETE", "/consent/consents/%s" % cid, who=BYT)
t.problem(r, 403, "access_denied", "a client cannot revoke")

# artefacts
a_id = "jws:%s:art-1" % PORTAL
art = sign(HDR, claims("art-1"))
allowed(land(art), "a signed consent artefact: 200", a_id)
allowed(land(art), "the same artefact again: 200", a_id)
r = api("GET", "/consent/consents/" + a_id)
t.eq((r.status, r.json().get("source"), r.json().get("uses")), (200, "artefact", 2),
     "the artefact's uses are recorded under its id")
refused(land(sign(HDR, claims("art-2"), key=rogue_key)), "bad signature", "an artefact signed by another key")
refused(land(sign({"alg": "ES256", "jwk": dict(jwk)}, claims("art-3"))), "bad signature",
        "an artefact carrying its own key")
refused(land(sign({"alg": "ES256", "crit": ["x-unknown"], "x-unknown": 1}, claims("art-4"))), "bad signature",
        "an artefact with an unknown crit")
h, p, s = art.split(".")
refused(land(h + "." + b64(json.dumps(claims("art-1", exp=int(time.time()) + 99999)).encode()) + "." + s),
        "bad signature", "an artefact whose claims were edited")
refused(land(b64(b'{"alg":"none"}') + "." + p + "."), "bad signature", "an artefact with alg none")
refused(land(sign(HDR, claims("art-5", iss=BYT))), "bad signature", "an artefact from a subsystem that is no authority")
refused(land(sign(HDR, claims("art-6", sub=bob))), "wrong subject", "an artefact for someone else",
        "jws:%s:art-6" % PORTAL)
refused(land(sign(HDR, claims("art-7", grantee=HCM))), "wrong grantee", "an artefact for another client",
        "jws:%s:art-7" % PORTAL)
refused(land(sign(HDR, claims("art-8", nbf=int(time.time()) - 100, exp=int(time.time()) - 10))), "expired",
        "an expired artefact", "jws:%s:art-8" % PORTAL)
art_once = sign(HDR, claims("art-9", max_uses=1))
allowed(land(art_once), "a single-use artefact: 200", "jws:%s:art-9" % PORTAL)
refused(land(art_once), "exhausted", "a single-use artefact used again", "jws:%s:art-9" % PORTAL)
r = api("POST", "/consent/consents/jws:%s:art-10/revoke" % PORTAL)
t.eq(r.status, 200, "an artefact revoked before its first use")
refused(land(sign(HDR, claims("art-10"))), "revoked", "a revoked artefact", "jws:%s:art-10" % PORTAL)


# --- the race: many concurrent requests on a single-use consent -> exactly one success ------------
def race(consent, what, n=32):
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(lambda _: land(consent), range(n)))
    ok = [r for r in results if r.status == 200]
    exhausted = [r for r in results if r.status == 403 and r.json().get("type") == "consent_invalid"
                 and r.header("x-road-error") == "Server.ServerProxy.AccessDenied"
                 and r.json().get("detail", "").endswith(": exhausted")]
    t.eq((len(ok), len(exhausted)), (1, n - 1), "%s: %d concurrent requests, exactly one success" % (what, n))
    t.ok(all(r.header("x-bus-receipt") is None and r.body.find(b"parcels") < 0 for r in exhausted),
         what + ": the refused ones get no data and no receipt")
    return [int(r.header("x-bus-log-seq")) for r in results if r.header("x-bus-log-seq")]


race_id = grant(max_uses=1)
race_seqs = race(race_id, "single-use record")
race_art = sign(HDR, claims("race-1", max_uses=1))
race_art_seqs = race(race_art, "single-use artefact")

# --- the exchange log: decision, basis, consent id and purpose, allowed or not ------------------
entries = node.log_entries()
bad = []
for seq, (decision, consent_id) in expected_log.items():
    e = entries.get(seq, {})
    if (e.get("decision") != decision or e.get("basis") != "consent" or e.get("purpose") != PURPOSE
            or (consent_id and e.get("consent") != consent_id)):
        bad.append((seq, e.get("decision"), e.get("basis"), e.get("consent")))
t.ok(not bad and expected_log, "%d log entries carry decision, basis, consent id and purpose" % len(expected_log),
     "(%r)" % bad[:3])
for seqs, cid_, what in ((race_seqs, race_id, "record"), (race_art_seqs, "jws:%s:race-1" % PORTAL, "artefact")):
    es = [entries[s] for s in seqs if s in entries]
    t.eq((len(es), sum(1 for e in es if e.get("decision") == "allow")), (32, 1),
         "the %s race: every request logged, one allowed" % what)
    t.ok(all(e.get("consent") == cid_ for e in es), "the %s race: every entry names the consent" % what)
t.ok(not any("." in str(e.get("consent")) and str(e.get("consent")).count(".") >= 2 and
             str(e.get("consent")).startswith("ey") for e in entries.values()),
     "no log entry holds an artefact's text")
t.ok(not any(alice in json.dumps(e) for e in entries.values()), "no log entry holds the raw personal id")

# --- the citizen's view ---------------------------------------------------------------------------
r = api("GET", "/consent/subjects/%s/accesses?limit=500" % alice)
t.eq(r.status, 200, "access history of the subject")
acc = r.json().get("accesses", [])
alice_seqs = sorted((s for s, e in entries.items() if e.get("subject") == r.json().get("subject_pseudonym")),
                    reverse=True)
t.eq([a["seq"] for a in acc], alice_seqs, "the history lists exactly the subject's entries, newest first")
t.ok(all(set(a) >= {"time", "client", "service", "purpose", "basis", "consent", "decision", "status", "error"}
         for a in acc), "each access has time, client, service, purpose, basis, consent and outcome")
t.ok(any(a["decision"] == "allow" for a in acc) and any(a["error"] == "consent_invalid" for a in acc)
     and any(a["error"] == "consent_required" for a in acc), "allowed and refused accesses are both shown")
page1 = api("GET", "/consent/subjects/%s/accesses?limit=3" % alice).json()
page2 = api("GET", "/consent/subjects/%s/accesses?limit=3&cursor=%d" % (alice, page1["next_cursor"])).json()
t.eq([a["seq"] for a in page1["accesses"] + page2["accesses"]], alice_seqs[:6], "paging with the cursor")
r = api("GET", "/consent/subjects/%s/accesses" % bob)
t.ok(r.status == 200 and all(a["seq"] not in alice_seqs for a in r.json()["accesses"]),
     "another subject's history is separate")
r = api("GET", "/consent/subjects/%s/consents" % alice)
ids = [c["id"] for c in r.json().get("consents", [])]
t.ok(r.status == 200 and cid in ids and race_id in ids and a_id in ids and cid_hcm in ids,
     "the subject's consents are listed (records and used artefacts)")

# --- the operator's commands --------------------------------------------------------------------
xbus = binary("xbus")
common = ["--state", node.state, "--url", node.url]
out = subprocess.run([xbus, "consent", "grant"] + common + ["--subject", bob, "--grantee", HN, "--service", LAND,
                     "--purpose", PURPOSE, "--expires", "1h", "--max-uses", "2"], capture_output=True, text=True)
m = re.search(r"consent ([0-9a-f]{40}) \(active\)", out.stdout)
t.ok(out.returncode == 0 and m, "xbus consent grant", out.stdout + out.stderr)
if m:
    allowed(land(m.group(1), subject=bob), "a consent granted with the CLI: 200", m.group(1))
    out = subprocess.run([xbus, "consent", "list"] + common + ["--subject", bob], capture_output=True, text=True)
    t.ok(out.returncode == 0 and m.group(1) in out.stdout and "1/2" in out.stdout, "xbus consent list", out.stdout)
    out = subprocess.run([xbus, "consent", "revoke"] + common + [m.group(1)], capture_output=True, text=True)
    t.ok(out.returncode == 0 and "(revoked)" in out.stdout, "xbus consent revoke", out.stdout + out.stderr)
    refused(land(m.group(1), subject=bob), "revoked", "a consent revoked with the CLI", m.group(1))
out = subprocess.run([xbus, "subject", "accesses"] + common + [bob, "--limit", "5"], capture_output=True, text=True)
t.ok(out.returncode == 0 and "newest first" in out.stdout and LAND in out.stdout, "xbus subject accesses",
     out.stdout + out.stderr)
out = subprocess.run([xbus, "consent", "revoke"] + common + ["--authority", HN, "0" * 40], capture_output=True,
                     text=True)
t.ok(out.returncode == 1 and "access_denied" in out.stdout, "xbus consent as a non-authority is refused",
     out.stdout + out.stderr)

t.eq(node.stop(), 0, "xbusd stops cleanly")
t.finish()
