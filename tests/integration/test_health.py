#!/usr/bin/env python3
"""test_health.py: /health tells the truth (issue 10, finding 4), and the operational log stays
bounded: 503 with the reason while the exchange log cannot be written (a full LMDB map), and one
line per refused request no more; 503 once every adapter of a service is gone, 200 when it is back;
a node that has not seen its adapters yet is not broken. Old configuration keys only, so commit
8503606 fails here at the health and log assertions."""
import re
import time

from harness import Check, Node

t = Check("health")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"


def health(node):
    r = node.request(None, "GET", "/health")
    return r.status, r.json()


def reasons(body, check):
    return [x for x in body.get("reasons", []) if x.get("check") == check]


# 1. A node without adapters yet is healthy (xbus up and the demo wait on this).
node = Node(top_extra="[log]\nmap-size = 256KiB\n").start()
status, body = health(node)
t.ok(status == 200 and body.get("status") == "ok" and body.get("adapters") == 0,
     "no adapter seen yet: 200 ok", body)

# 2. The log's map fills up: exchanges are refused with log_unavailable ...
refused, began = 0, time.time()
for i in range(3000):
    r = node.request(BYT, "GET", "/r1/" + CITIZEN, headers={"X-Road-Client": BYT,
                                                            "Accept": "application/problem+json"})
    if r.status == 503 and r.json().get("type") == "log_unavailable" and \
            r.header("x-road-error") == "Server.ClientProxy.LoggingFailed":  # the X-Road code (issue 11)
        refused += 1
        if refused >= 1000:
            break
storm = time.time() - began
t.eq(refused, 1000, "with the log's map full, exchanges are refused with log_unavailable")
# ... and /health says so, with the reason
status, body = health(node)
t.ok(status == 503 and body.get("status") == "unavailable" and reasons(body, "log"),
     "/health: 503 with the reason while the log cannot be written", (status, body))
t.ok(any("No space left on device" in x.get("detail", "") for x in reasons(body, "log")),
     "the reason names the cause", body)
# ... while the operational log stays bounded: 1000 refusals, a handful of lines
time.sleep(0.5)
log = open(node.tmp + "/xbusd.log", errors="replace").read()
failed_lines = [l for l in log.splitlines() if "Exchange log write failed" in l]
bound = 11 * (2 + int(storm / 10))  # 10 lines and a count per 10 s the storm touched
t.ok(len(failed_lines) <= bound, "stderr stays bounded: %d lines for 1000 refused exchanges in %.1f s (at most %d)" %
     (len(failed_lines), storm, bound))
stamped = [l for l in log.splitlines() if l]
t.ok(stamped and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+\[\d+\]: (error|warning|notice|info|debug): ", l)
                     for l in stamped), "every line has a UTC time stamp (ms) and a level", stamped[:3])
t.eq(node.stop(), 0, "clean stop")
log = open(node.tmp + "/xbusd.log", errors="replace").read()
t.ok(re.search(r": error: suppressed \d+ similar messages \(\"Exchange log write failed", log) is not None,
     "what was held back is counted in one line")

# 3. Every adapter of a service gone: 503 naming the service; back: 200.
node = Node().start()
adapter = node.start_sample(people=300)
status, body = health(node)
t.ok(status == 200 and body.get("adapters") == 1, "with the sample adapter: 200", body)
adapter.kill()
adapter.wait()
node.adapters.remove(adapter)
deadline, status = time.time() + 15, None
while time.time() < deadline:
    status, body = health(node)
    if status == 503:
        break
    time.sleep(0.2)
t.ok(status == 503 and any(x.get("service") == CITIZEN for x in reasons(body, "adapters")),
     "every adapter of a service gone: 503 naming the service", (status, body))
node.start_sample(people=300)
status, body = health(node)
t.ok(status == 200 and body.get("status") == "ok", "the adapter is back: 200", body)
t.eq(node.stop(), 0, "clean stop")
t.finish()
