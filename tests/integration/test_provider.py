#!/usr/bin/env python3
"""test_provider.py: a provider that is not in the sample, with its schemas
beside its registry fragment (`schemas = DIR` on its member; one service with
a folder of its own), served by xbus-adapter-rest from a backend of its own:
its answers are checked against its own schemas, whose $refs find the
instance's common definitions; a schema changed beside the fragment takes
effect at the next reload; a fragment naming a folder that does not exist is
refused at reload with its file and line."""
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time

from harness import (Check, Node, binary, curve_args, free_port, keygen, registry_copy, wait_reloads,
                     write_fragment, _processes)

t = Check("provider")
VEHICLE = "VN/GOV/BGTVT/vehicles/vehicle"
INSPECTION = "VN/GOV/BGTVT/vehicles/inspection"
CLIENT = "VN/GOV/CSGT/traffic-police"
tmp = tempfile.mkdtemp(prefix="xbus-it-provider-")
reg = registry_copy(os.path.join(tmp, "registry"))
keys = os.path.join(tmp, "adapter-keys")
pub = keygen(keys, "vehicles")

answer = {"vehicle": {"plate": "29A-123.45", "make": "VinFast", "address": {"ward": "Dich Vong", "province": "Ha Noi"}},
          "inspection": {"plate": "29A-123.45", "valid_until": "2027-01-31"}}


class Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(answer[self.path.strip("/").split("/")[0]]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


backend = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Backend)
threading.Thread(target=backend.serve_forever, daemon=True).start()

write_fragment(reg, "70-vehicles.conf", """
# The vehicle register: its schemas are in vehicles-schemas/, beside this file.
[member VN/GOV/BGTVT]
name = Bo Giao thong van tai (Ministry of Transport)
schemas = vehicles-schemas

[subsystem VN/GOV/BGTVT/vehicles]
name = Vehicle register
roles = provider
adapter-key = %(pub)s

[service %(vehicle)s]
title = A vehicle by plate
methods = GET
personal-data = no
response-schema = vehicles/vehicle.response.json
adapter = rest

[service %(inspection)s]
title = Its inspection
methods = GET
personal-data = no
schemas = inspection-schemas
response-schema = vehicles/vehicle.response.json
adapter = rest

[member VN/GOV/CSGT]
name = Traffic police

[subsystem %(client)s]
name = Traffic police systems
roles = client
tls-cn = %(client)s

[right csgt-vehicles]
client = %(client)s
service = %(vehicle)s
methods = GET
basis = statute
legal-reference = Road Traffic Law 2008, art. 50
purposes = public-service-delivery

[right csgt-inspection]
client = %(client)s
service = %(inspection)s
methods = GET
basis = statute
legal-reference = Road Traffic Law 2008, art. 55
purposes = public-service-delivery
""" % {"pub": pub, "vehicle": VEHICLE, "inspection": INSPECTION, "client": CLIENT})
schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
          "$id": "https://schemas.xbus.gov.vn/vehicles/vehicle.response.json",
          "type": "object", "required": ["plate", "make"], "additionalProperties": False,
          "properties": {"plate": {"type": "string", "pattern": "^[0-9]{2}[A-Z]-[0-9]{3}\\.[0-9]{2}$"},
                         "make": {"type": "string"},
                         "address": {"$ref": "../common/address.json"}}}
os.makedirs(os.path.join(reg, "vehicles-schemas", "vehicles"))
os.makedirs(os.path.join(reg, "inspection-schemas", "vehicles"))
vehicle_schema = os.path.join(reg, "vehicles-schemas", "vehicles", "vehicle.response.json")
json.dump(schema, open(vehicle_schema, "w"))
json.dump({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["valid_until"],
           "properties": {"valid_until": {"type": "string"}}},
          open(os.path.join(reg, "inspection-schemas", "vehicles", "vehicle.response.json"), "w"))

node = Node(registry=reg, tmp=tmp)
res = subprocess.run([binary("xbusd"), "--test-config", node.config], capture_output=True, text=True)
t.ok(res.returncode == 0, "the registry with the provider's own schemas loads", res.stdout + res.stderr)
node.start()
port = backend.server_address[1]
rest = subprocess.Popen([binary("xbus-adapter-rest"), "--bus", "tcp://127.0.0.1:%d" % node.aport, "--workers", "1",
                         "--route", "%s=http://127.0.0.1:%d/vehicle" % (VEHICLE, port),
                         "--route", "%s=http://127.0.0.1:%d/inspection" % (INSPECTION, port)] +
                        curve_args(node, "vehicles", keys),
                        stdout=open(os.path.join(tmp, "rest.log"), "ab"), stderr=subprocess.STDOUT)
_processes.append(rest)
node.adapters.append(rest)
node.wait_health(adapters=1)


def call(service):
    return node.request(CLIENT, "GET", "/r1/" + service, headers={
        "X-Road-Client": CLIENT, "X-Bus-Purpose": "public-service-delivery", "Accept": "application/problem+json"})


r = call(VEHICLE)
t.ok(r.status == 200 and r.json().get("plate") == "29A-123.45", "the new provider answers, checked against its "
     "schema (a $ref to the instance's common address)", repr(r))
t.eq(call(INSPECTION).status, 200, "a service with a folder of its own: the same file name, its own schema")
answer["vehicle"]["plate"] = "not a plate"
r = call(VEHICLE)
t.ok(r.status == 502 and r.json().get("type") == "response_invalid",
     "an answer against the provider's schema is refused (502 response_invalid)", repr(r))
answer["vehicle"]["plate"] = "29A-123.45"
answer["vehicle"]["colour"] = "red"
t.eq(call(VEHICLE).status, 502, "additionalProperties of the provider's schema holds")
# the provider changes its schema beside its fragment; a reload takes it
schema["additionalProperties"] = True
json.dump(schema, open(vehicle_schema, "w"))
node.hup()
wait_reloads(node, 1)
t.eq(call(VEHICLE).status, 200, "after a reload the changed schema is in use")
# a fragment that names a folder that is not there: the reload is refused, with file:line
frag = os.path.join(reg, "70-vehicles.conf")
text = open(frag).read()
open(frag, "w").write(text.replace("schemas = vehicles-schemas", "schemas = vehicle-schemas"))
res = subprocess.run([binary("xbusd"), "--test-config", node.config], capture_output=True, text=True)
t.ok(res.returncode != 0 and "70-vehicles.conf:5: schema folder 'vehicle-schemas'" in res.stderr,
     "a folder that is not there: refused with file:line", res.stderr)
node.hup()
deadline = time.time() + 20
while node.metrics().get("xbus_registry_reload_failures_total", 0) < 1 and time.time() < deadline:
    time.sleep(0.05)
t.eq(node.metrics().get("xbus_registry_reload_failures_total"), 1.0, "and the reload is refused")
t.eq(call(VEHICLE).status, 200, "while the previous registry keeps serving")
node.stop()
backend.shutdown()
t.finish()
