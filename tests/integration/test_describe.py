#!/usr/bin/env python3
"""test_describe.py: services that describe themselves (issue 11, deliverable 3). A declared path
parameter is checked before routing: a malformed enterprise code is refused with parameter_invalid
and never reaches the backend, while a valid one does. The X-Road metaservices the node answers from
the registry: listClients (XML and JSON, no X-Road-Client), listMethods, allowedMethods and
getOpenAPI (the generated description of the enterprise service, naming its code and its schema),
the /r1 ones logged as exchanges of the caller, with the X-Road response headers and a receipt.
Runs on the embedded sample registry, with xbus-adapter-rest in front of a backend this test counts.
"""
import http.server
import json
import os
import threading
import xml.etree.ElementTree as ET

from harness import ROOT, Check, Node, start_rest

t = Check("describe")
HN = "VN/GOV/HN-UBND/one-stop-shop"
BYT = "VN/GOV/BYT/health-services"
REGISTRY = "VN/GOV/BKHDT/business-registry"
ENTERPRISE = REGISTRY + "/enterprise"
PROBLEM = {"Accept": "application/problem+json"}
EXAMPLE = open(os.path.join(ROOT, "schemas/business-registry/examples/enterprise.response.valid-1.json"), "rb").read()
CODE = json.loads(EXAMPLE)["code"]


class Backend(http.server.BaseHTTPRequestHandler):
    paths = []

    def do_GET(self):
        Backend.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(EXAMPLE)))
        self.end_headers()
        self.wfile.write(EXAMPLE)

    def log_message(self, *args):
        pass


backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
threading.Thread(target=backend.serve_forever, daemon=True).start()
node = Node(threads=2).start()
start_rest(node, [ENTERPRISE], backend.server_address[1])


def call(client, target, purpose="public-service-delivery", extra=None, method="GET"):
    h = dict(PROBLEM, **{"X-Road-Client": client})
    if purpose:
        h["X-Bus-Purpose"] = purpose
    h.update(extra or {})
    return node.request(client, method, "/r1/" + target, headers=h)


def entry(r):
    seq = r.header("x-bus-log-seq")
    return node.log_entries().get(int(seq)) if seq is not None else None


# --- a declared path parameter, checked before routing --------------------------------------------
r = call(HN, ENTERPRISE + "/" + CODE)
t.eq(r.status, 200, "a valid enterprise code is answered")
t.eq(len(Backend.paths), 1, "... by the backend")
for bad in ("12345", "0100765431-12", "01007654310", "abc%20def", "0100765431x"):
    before = len(Backend.paths)
    r = call(HN, ENTERPRISE + "/" + bad)
    t.problem(r, 400, "parameter_invalid", "a malformed code '%s' is refused" % bad)
    body = r.json() if r.status == 400 else {}
    first = (body.get("errors") or [{}])[0]
    t.eq((first.get("in"), first.get("parameter")), ("path", "code"), "the error names the path parameter 'code'")
    t.eq(len(Backend.paths), before, "'%s' never reached the backend" % bad)
    e = entry(r) or {}
    t.eq((e.get("decision"), e.get("error"), e.get("status")), ("deny", "parameter_invalid", 400),
         "the refusal is logged")
t.eq(Backend.paths, ["/%s/%s" % (ENTERPRISE, CODE)], "only the valid code was forwarded")

# --- listClients: the registry's members and subsystems, no X-Road-Client -------------------------
r = node.request(BYT, "GET", "/listClients")
t.eq((r.status, r.header("content-type")), (200, "text/xml;charset=utf-8"), "listClients: XML by default")
root = ET.fromstring(r.body) if r.status == 200 else ET.Element("none")
t.eq(root.tag, "{http://x-road.eu/xsd/xroad.xsd}clientList", "the root is xroad:clientList")
ids = [m.find("{http://x-road.eu/xsd/xroad.xsd}id") for m in root]
t.ok(any(i is not None and [c.text for c in i] == ["VN", "GOV", "BKHDT", "business-registry"] for i in ids),
     "the provider subsystem is listed")
r = node.request(BYT, "GET", "/listClients?xRoadInstance=VN", headers={"Accept": "application/json"})
members = r.json().get("member", []) if r.status == 200 else []
t.ok(r.status == 200 and any(m["id"].get("subsystem_code") == "business-registry" for m in members),
     "listClients: JSON when asked")
r = node.request(BYT, "GET", "/r1/listClients?instanceId=XX", headers={"Accept": "application/json"})
t.eq((r.status, r.body), (200, b'{"member":[]}'), "/r1/listClients?instanceId= of another instance: empty")
r = node.request(None, "GET", "/listClients", headers=PROBLEM)
t.problem(r, 401, "client_unknown", "listClients without a client certificate")

# --- listMethods, allowedMethods: exchanges of the caller ------------------------------------------
r = call(BYT, REGISTRY + "/listMethods", purpose=None, extra={"X-Road-Id": "meta-1"})
t.eq(r.status, 200, "listMethods needs no right and no purpose")
services = {s["service_code"]: s for s in r.json().get("service", [])} if r.status == 200 else {}
t.eq(sorted(services), ["enterprise", "enterprises-by-owner"], "the subsystem's services")
t.eq(services.get("enterprise", {}).get("endpoint_list"), [{"method": "GET", "path": "/*"}],
     "enterprise: GET on its one path, as X-Road writes it")
t.eq((r.header("x-road-id"), r.header("x-road-service")), ("meta-1", REGISTRY + "/listMethods"),
     "the X-Road response headers")
t.ok(r.header("x-bus-receipt"), "a receipt")
e = entry(r) or {}
t.eq((e.get("decision"), e.get("service"), e.get("client"), e.get("status"), e.get("right")),
     ("allow", REGISTRY + "/listMethods", BYT, 200, None), "logged as an exchange of the caller")
r = call(BYT, REGISTRY + "/allowedMethods", purpose=None)
t.eq((r.status, r.body), (200, b'{"service":[]}'), "allowedMethods: nothing for a client without rights")
r = call(HN, REGISTRY + "/allowedMethods", purpose=None)
got = {s["service_code"]: s["endpoint_list"] for s in r.json().get("service", [])} if r.status == 200 else {}
t.eq(got.get("enterprise"), [{"method": "GET", "path": "/*"}], "allowedMethods: what the one-stop-shop's right covers")
r = call(BYT, REGISTRY + "/listMethods", purpose=None, method="POST")
t.problem(r, 404, "service_unknown", "POST listMethods names no service")

# --- getOpenAPI: the generated description ---------------------------------------------------------
r = call(BYT, REGISTRY + "/getOpenAPI?serviceCode=enterprise", purpose=None)
doc = r.json() if r.status == 200 else {}
t.eq((r.status, doc.get("openapi")), (200, "3.1.0"), "getOpenAPI: an OpenAPI 3.1 document")
t.eq(list(doc.get("paths", {})), ["/{code}"], "its path names the code")
param = ((doc.get("paths", {}).get("/{code}") or {}).get("parameters") or [{}])[0]
t.eq((param.get("name"), param.get("in"), param.get("required")), ("code", "path", True), "the code parameter")
ref = (param.get("schema") or {}).get("$ref", "")
t.eq(ref, "#/components/schemas/common.defs/$defs/enterprise-code", "its schema, bundled in the document")
defs = doc.get("components", {}).get("schemas", {}).get("common.defs", {}).get("$defs", {})
t.eq(defs.get("enterprise-code", {}).get("pattern"), "^[0-9]{10}(-[0-9]{3})?$", "the registry's pattern")
t.eq(doc.get("servers"), [{"url": "/r1/" + ENTERPRISE}], "the server is the bus's own path")
r = call(BYT, REGISTRY + "/getOpenAPI", purpose=None)
t.problem(r, 400, "metaservice_invalid", "getOpenAPI without serviceCode")
r = call(BYT, REGISTRY + "/getOpenAPI?serviceCode=nope", purpose=None)
t.problem(r, 404, "service_unknown", "getOpenAPI for an unknown service")

backend.shutdown()
node.stop()
t.finish()
