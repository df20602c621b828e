#!/usr/bin/env python3
"""test_validation.py: schemas at the bus. An invalid request is refused with
errors a client can act on and never reaches the adapter; an invalid answer
from a provider is withheld; a registry with a broken schema or an
unsupported keyword is refused at load and at SIGHUP."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from harness import Check, Node, ROOT, _processes, binary, curve_args, registry_copy, set_key

t = Check("validation")
HN = "VN/GOV/HN-UBND/one-stop-shop"
BYT = "VN/GOV/BYT/health-services"
TAX = "VN/GOV/BTC/tax/tax-obligation-check"
CITIZEN = "VN/GOV/BCA/population/citizen"
PSD = "public-service-delivery"

tmp = tempfile.mkdtemp(prefix="xbus-it-")
schemas = os.path.join(tmp, "schemas")
shutil.copytree(os.path.join(ROOT, "schemas"), schemas)
reg = registry_copy(os.path.join(tmp, "registry"), [("[instance]", "schemas", schemas)])
node = Node(registry=reg, tmp=tmp).start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]

# a valid request passes
good = json.dumps({"tax_year": 2025, "include_details": True})
r = node.call(HN, TAX, subject=subject, purpose=PSD, method="POST", body=good)
t.ok(r.status in (200, 404), "a valid POST body reaches the provider (%d)" % r.status)

# invalid requests: refused with errors, and the adapter gets nothing
before = node.metrics().get("xbus_provider_requests_total")
for body, what in [
    (json.dumps({"tax_year": "2025"}), "wrong type"),
    (json.dumps({"tax_year": 2025, "include_details": True, "extra": 1}), "unknown property"),
    (json.dumps({}), "missing required property"),
    ("{not json", "not JSON"),
    ("", "no body"),
    ('{"tax_year": 2025, "tax_year": 2024}', "duplicate key"),
    ("[" * 5000 + "]" * 5000, "deep nesting"),
]:
    r = node.call(HN, TAX, subject=subject, purpose=PSD, method="POST", body=body)
    if t.problem(r, 400, "request_invalid", "invalid request refused: " + what):
        errs = r.json().get("errors")
        t.ok(isinstance(errs, list) and errs and all(set(e) == {"instance", "keyword", "message"} for e in errs),
             "errors name instance, keyword and message: " + what, errs)
r = node.call(HN, TAX, subject=subject, purpose=PSD, method="POST", body=json.dumps({"tax_year": "x"}))
errs = r.json().get("errors", [])
t.ok(any(e["instance"] == "/tax_year" for e in errs), "the failing field is named by JSON pointer", errs)
t.eq(node.metrics().get("xbus_provider_requests_total"), before, "no invalid request reached an adapter")
seq = int(r.header("x-bus-log-seq"))


# an invalid answer from a provider is withheld: a backend that returns a bad citizen
class Bad(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"id": "not-an-id", "full_name": 42}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bad)
threading.Thread(target=srv.serve_forever, daemon=True).start()
# stop the sample adapter so the rest adapter is the only one serving the citizen service
for a in node.adapters:
    a.kill()
    a.wait()
node.adapters.clear()
time.sleep(1.0)
rest = subprocess.Popen([binary("xbus-adapter-rest"), "--bus", "tcp://127.0.0.1:%d" % node.aport, "--route",
                         "%s=http://127.0.0.1:%d/x" % (CITIZEN, srv.server_address[1])] + curve_args(node),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_processes.append(rest)
node.wait_health(adapters=1)
r = node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment")
t.problem(r, 502, "response_invalid", "an answer that breaks the response schema is withheld")
t.ok(b"not-an-id" not in r.body, "none of the invalid answer reaches the client")
t.ok(r.header("x-bus-receipt") is None, "no receipt for a withheld answer")
bad_seq = int(r.header("x-bus-log-seq"))
srv.shutdown()

# a broken schema or an unsupported keyword refuses the registry, at load and at SIGHUP
path = os.path.join(schemas, "population", "citizen.response.json")
doc = json.load(open(path))
doc["properties"]["full_name"]["frobnicate"] = True
json.dump(doc, open(path, "w"))
res = subprocess.run([binary("xbusd"), "--test-config", node.config], capture_output=True, text=True)
t.ok(res.returncode != 0 and "frobnicate" in res.stderr and "40-services.conf:" in res.stderr,
     "an unsupported keyword refuses the registry, naming it and the service's line", res.stderr)
node.hup()
deadline = time.time() + 10
while time.time() < deadline and node.metrics().get("xbus_registry_reload_failures_total", 0) < 1:
    time.sleep(0.1)
t.eq(node.metrics().get("xbus_registry_reload_failures_total"), 1.0, "SIGHUP with that registry is refused")
open(path, "w").write("{ broken")
res = subprocess.run([binary("xbusd"), "--test-config", node.config], capture_output=True, text=True)
t.ok(res.returncode != 0 and "not JSON" in res.stderr, "a broken schema file refuses the registry", res.stderr)
os.remove(path)
res = subprocess.run([binary("xbusd"), "--test-config", node.config], capture_output=True, text=True)
t.ok(res.returncode != 0 and "citizen.response.json" in res.stderr, "a missing schema file refuses the registry",
     res.stderr)
t.eq(node.call(HN, TAX, subject=subject, purpose=PSD, method="POST", body="{}").status, 400,
     "the old registry (and its schemas) keeps serving")

t.eq(node.stop(), 0, "clean stop")
entries = node.log_entries()
t.ok(entries[seq]["decision"] == "deny" and entries[seq]["error"] == "request_invalid",
     "the refused request is logged as request_invalid", entries.get(seq))
e = entries[bad_seq]
t.ok(e["decision"] == "allow" and e["status"] == 502 and e["error"] == "response_invalid"
     and e["response_hash"] is None, "the withheld answer is logged as the provider's fault", e)
t.finish()
