#!/usr/bin/env python3
"""test_adapters.py: routing to adapters: none connected, too slow, killed mid-request,
load shared between instances, failover."""
import os
import threading
import time

from harness import Check, Node, registry_copy

t = Check("adapters")
BYT = "VN/GOV/BYT/health-services"
HN = "VN/GOV/HN-UBND/one-stop-shop"
CITIZEN = "VN/GOV/BCA/population/citizen"
CARD = "VN/GOV/BHXH/health-insurance/card"
P = "health-insurance-enrolment"

node = Node.__new__(Node)
tmp = __import__("tempfile").mkdtemp(prefix="xbus-it-")
reg = registry_copy(os.path.join(tmp, "registry"), [
    ("[service %s]" % CITIZEN, "timeout", "800ms"),
    ("[service %s]" % CARD, "timeout", "20s"),
])
node.__init__(registry=reg, tmp=tmp)
node.start()
subject = node.sample_ids(1)[0]

# no adapter connected
r = node.call(BYT, CITIZEN, subject=subject, purpose=P)
t.problem(r, 503, "provider_unavailable", "no adapter serves the service: provider_unavailable")
t.ok(r.header("x-bus-log-seq") is not None, "the failed exchange is logged")

# a slow adapter: the service's timeout (800 ms) answers provider_timeout
slow = node.start_sample(delays=[(CITIZEN, 3000)])
start = time.time()
r = node.call(BYT, CITIZEN, subject=subject, purpose=P)
elapsed = time.time() - start
t.problem(r, 504, "provider_timeout", "adapter slower than the service timeout: provider_timeout")
t.ok(elapsed < 2.9, "answered at the service timeout, before the adapter (%.2fs)" % elapsed)

# killed mid-request: the client gets provider_unavailable, not a hang and not the 20 s timeout
results = {}


def call_card(key):
    results[key] = node.call(HN, CARD, subject=subject, purpose="public-service-delivery")


slow.kill()
slow.wait()
node.adapters.remove(slow)
time.sleep(1.0)  # the bus notices the missing heartbeats
a = node.start_sample(delays=[(CARD, 5000)])
th = threading.Thread(target=call_card, args=("k",))
start = time.time()
th.start()
time.sleep(0.5)
a.kill()
a.wait()
node.adapters.remove(a)
th.join(30)
elapsed = time.time() - start
r = results.get("k")
t.ok(r is not None, "the request in flight got an answer")
if r is not None:
    t.problem(r, 503, "provider_unavailable", "adapter killed mid-request: provider_unavailable")
t.ok(elapsed < 10, "answered long before the service timeout (%.2fs)" % elapsed)
time.sleep(1.0)

# two instances share the load: two concurrent slow requests go to different
# instances, so killing one instance fails exactly one of them
a1 = node.start_sample(delays=[(CARD, 2500)], wait=False)
a2 = node.start_sample(delays=[(CARD, 2500)], wait=True)
results.clear()
threads = [threading.Thread(target=call_card, args=(i,)) for i in range(2)]
for th in threads:
    th.start()
    time.sleep(0.1)
time.sleep(0.4)
a1.kill()
a1.wait()
node.adapters.remove(a1)
for th in threads:
    th.join(30)
statuses = sorted(results[i].status for i in range(2) if i in results)
t.eq(statuses, [200, 503], "one request per instance: the survivor's succeeds, the killed one's fails")

# failover: the remaining instance serves everything
ok = sum(1 for _ in range(5) if node.call(BYT, "VN/GOV/BCA/population/citizen", subject=subject, purpose=P).status in (200, 504))
t.eq(ok, 5, "after an instance dies the other keeps serving")
r = node.call(HN, CARD, subject=subject, purpose="public-service-delivery")
t.eq(r.status, 200, "the surviving instance answers")
t.eq(node.stop(), 0, "clean stop")
t.finish()
