#!/usr/bin/env python3
"""test_consent_power.py: a consent and its uses survive a power loss as they were acknowledged (issue 14).

The log commits LMDB without a sync and makes it durable behind its segment
files (docs/ARCHITECTURE.md, "The exchange log's commit"); after a power loss
recovery puts LMDB back to its last durable base and replays the segments. So:

  - a consent the API answered 201 for is there after a power loss that
    follows at once (the API answers after exlog_sync(): a base holds it);
  - a single-use consent used once (200) and then a power loss: the use was
    counted in the entry's segment record, so a second use is refused as
    exhausted after the restart;
  - two requests race on a fresh single-use consent, then the power goes:
    exactly one got the data, and afterwards the consent is used up.

The fault shim (LD_PRELOAD, fault-shim.c) gives the log's files back what a
power loss leaves. LD_PRELOAD cannot run under AddressSanitizer: this test is
in the `faults` suite, built and run in the normal build only.
"""
import concurrent.futures
import datetime
import json

from faults import FaultNode
from harness import Check

t = Check("consent_power")
PORTAL = "VN/GOV/VPCP/national-portal"
HN = "VN/GOV/HN-UBND/one-stop-shop"
LAND = "VN/GOV/BTNMT/land/land-parcels"
PURPOSE = "public-service-delivery"

node = FaultNode(threads=4).start()
node.start_sample(people=300)
alice, bob = node.sample_ids(2)


def grant(subject):
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"subject": subject, "grantee": HN, "purpose": PURPOSE, "expires": expires, "services": [LAND], "max_uses": 1}
    r = node.request(PORTAL, "POST", "/consent/consents", headers={"Content-Type": "application/json"},
                     body=json.dumps(body))
    t.eq(r.status, 201, "a single-use consent is created")
    return r.json()["id"] if r.status == 201 else None


def land(consent, subject):
    return node.call(HN, LAND, subject=subject, purpose=PURPOSE,
                     extra={"X-Bus-Consent": consent, "Accept": "application/problem+json"})


def exhausted(r):
    try:
        body = r.json()
    except ValueError:
        return False
    return r.status == 403 and body.get("type") == "consent_invalid" and body.get("detail", "").endswith(": exhausted")


def power_loss_restart(what):
    pages = node.power_loss()
    print("%s: the power loss gave %d pages back their disk bytes" % (what, pages))
    node.start()
    node.wait_health(adapters=1)
    rc, out = node.verify_store()
    t.ok(rc == 0, "%s: xbus audit verify accepts the store" % what, out)


cid = grant(alice)
power_loss_restart("right after the consent was created")
r = land(cid, alice)
t.eq(r.status, 200, "the consent created before the power loss is there: its first use is answered")
power_loss_restart("right after its first use")
t.ok(exhausted(land(cid, alice)), "after the power loss its second use is refused: exhausted")

cid2 = grant(bob)
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    results = list(pool.map(lambda _: land(cid2, bob), range(8)))
ok = sum(1 for r in results if r.status == 200)
t.eq((ok, sum(1 for r in results if exhausted(r))), (1, 7), "8 racing uses of a single-use consent: exactly one success")
power_loss_restart("right after the race")
t.ok(exhausted(land(cid2, bob)), "after the power loss the raced consent is used up")
t.eq(node.stop(), 0, "xbusd stops")
t.finish()
