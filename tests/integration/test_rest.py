#!/usr/bin/env python3
"""test_rest.py: the rest adapter forwards to an HTTP backend with libcurl and
maps backend failures to the bus's error types."""
import os
import subprocess
import time
import urllib.request

from harness import Check, Node, _processes, binary, curve_args, free_port

t = Check("rest")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
P = "health-insurance-enrolment"

node = Node().start()
bport = free_port()
data = os.path.join(node.tmp, "backend-data")
backend = subprocess.Popen([binary("xbus-sample-backend"), "--listen", "127.0.0.1:%d" % bport, "--data", data,
                            "--people", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_processes.append(backend)
subject = subprocess.run([binary("xbus-adapter-sample"), "--print-ids", "1", "--data", data, "--people", "300"],
                         check=True, capture_output=True, text=True).stdout.split()[0]
deadline = time.time() + 20
while time.time() < deadline:
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/%s?subject=%s" % (bport, CITIZEN, subject), timeout=2)
        break
    except Exception:
        time.sleep(0.1)

rest = subprocess.Popen([binary("xbus-adapter-rest"), "--bus", "tcp://127.0.0.1:%d" % node.aport, "--route",
                         "%s=http://127.0.0.1:%d/%s" % (CITIZEN, bport, CITIZEN), "--workers", "2",
                         "--timeout", "2000"] + curve_args(node),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_processes.append(rest)
node.wait_health(adapters=1)

r = node.call(BYT, CITIZEN, subject=subject, purpose=P)
t.eq(r.status, 200, "exchange through the rest adapter: 200")
t.eq(r.json().get("id"), subject, "the backend's document is delivered")
t.ok(r.header("x-bus-receipt") is not None, "with a receipt")
direct = urllib.request.urlopen("http://127.0.0.1:%d/%s?subject=%s" % (bport, CITIZEN, subject)).read()
t.eq(r.body, direct, "byte for byte what the backend answered")

r = node.call(BYT, CITIZEN, subject="999999999999", purpose=P)
t.eq(r.status, 404, "the backend's 404 passes through")

backend.kill()
backend.wait()
r = node.call(BYT, CITIZEN, subject=subject, purpose=P)
t.problem(r, 503, "provider_unavailable", "backend down: provider_unavailable")
t.ok(r.header("x-bus-log-seq") is not None, "and logged")
t.eq(node.stop(), 0, "clean stop")
t.finish()
