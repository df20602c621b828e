#!/usr/bin/env python3
"""test_metaservices.py: the X-Road REST metaservices (PR-META 2.16 §2 listClients; PR-MREST 0.8
§2, §4 listMethods/allowedMethods, §5 getOpenAPI, Annex B) and the GovStack Information Mediator
directory API that renames them (requirements META-LC-*, MREST-*, GOVSTACK-1). getOpenAPI
documents are judged by an external validator (openapi-validate.py) and by the exact-listing
check against the suite's registry."""
import os
import xml.etree.ElementTree as ET

from xroadlib import (CLIENT, GOVSTACK, HASH_RE, INSTANCE, LIMITED, MEMBERS, NORIGHTS, PET_REQUEST_SCHEMA,
                      PET_RESPONSE_SCHEMA, PR_META, PR_MREST, PROVIDER, REST_SERVICES, SERVICES, SUBSYSTEMS, Suite,
                      World, expected_hash, is_xroad_error, openapi_listing_problems, openapi_tool, registry_text,
                      send, start_world, xroad_call)

s = Suite("metaservices")
w = start_world(s)
node = w.node
tool = openapi_tool()
XRD = "{http://x-road.eu/xsd/xroad.xsd}"
IDN = "{http://x-road.eu/xsd/identifiers}"
METANAMES = {"listMethods", "allowedMethods", "getOpenAPI", "getWsdl", "listClients"}
LC = PR_META + " §2 Retrieving List of Service Providers"


def expected_clients():
    """(object_type, id) -> (name, subsystem_name) for every member and subsystem of the registry."""
    out = {}
    for m, name in MEMBERS.items():
        out[("MEMBER", m)] = (name, None)
    for sub, (name, _) in SUBSYSTEMS.items():
        out[("SUBSYSTEM", sub)] = (MEMBERS["/".join(sub.split("/")[:3])], name)
    return out


def list_clients(query="", accept="application/json", subsystem=CLIENT, path="/listClients"):
    h = [("Accept", accept)] if accept else []
    return send(node, subsystem, "GET", path + query, h)


def json_clients(t, r, what):
    t.need(r.status == 200, what + ": 200", r)
    try:
        body = r.json()
    except ValueError:
        t.need(False, what + ": JSON body", r.body[:100])
    t.need(isinstance(body, dict) and isinstance(body.get("member"), list), what + ": {\"member\": [...]}", body)
    out = {}
    for e in body["member"]:
        i = e.get("id") or {}
        parts = [i.get("xroad_instance"), i.get("member_class"), i.get("member_code")]
        if "subsystem_code" in i:
            parts.append(i["subsystem_code"])
        key = (i.get("object_type"), "/".join(str(p) for p in parts))
        t.check(key not in out, what + ": %s listed once" % (key,))
        out[key] = (e.get("name"), e.get("subsystem_name"))
    return body, out


@s.test("META-LC-1", LC + "; " + PR_MREST + " §2", "GET /listClients at the root needs no X-Road-Client; "
        "xRoadInstance selects the instance (blank: the node's own)")
def lc1(t):
    _, own = json_clients(t, list_clients(), "GET /listClients")
    t.check(len(own) > 0 and all(k[1].startswith(INSTANCE + "/") for k in own), "entries of instance EE")
    _, same = json_clients(t, list_clients("?xRoadInstance=EE"), "?xRoadInstance=EE")
    t.eq(same, own, "?xRoadInstance=EE is the same list")
    _, blank = json_clients(t, list_clients("?xRoadInstance="), "?xRoadInstance= (blank)")
    t.eq(blank, own, "a blank xRoadInstance is the node's own instance")
    _, other = json_clients(t, list_clients("?xRoadInstance=XX"), "?xRoadInstance=XX")
    t.eq(other, {}, "another instance has no members here")


@s.test("META-LC-2", LC, "XML (text/xml) by default, JSON when any Accept entry is application/json (q ignored)")
def lc2(t):
    r = list_clients(accept=None)
    t.eq((r.status, (r.get("content-type") or "").replace(" ", "").lower()), (200, "text/xml;charset=utf-8"),
         "no Accept: text/xml;charset=utf-8")
    r = list_clients(accept="text/xml;q=1, application/json;q=0.1")
    t.eq((r.status, (r.get("content-type") or "").replace(" ", "").lower()), (200, "application/json;charset=utf-8"),
         "Accept text/xml;q=1, application/json;q=0.1: JSON")


@s.test("META-LC-3", LC + "; " + PR_META + " Annex A (XML schema), Annex C.1", "the XML clientList: members "
        "with namespaced identifiers, objectType, names; every member and subsystem once")
def lc3(t):
    r = list_clients(accept="text/xml")
    t.need(r.status == 200, "GET /listClients, Accept: text/xml", r)
    try:
        root = ET.fromstring(r.body)
    except ET.ParseError as e:
        t.need(False, "the body is XML", e)
    t.eq(root.tag, XRD + "clientList", "root xrd:clientList")
    got = {}
    for m in root:
        t.check(m.tag == XRD + "member", "child xrd:member", m.tag)
        i = m.find(XRD + "id")
        if not t.check(i is not None, "member has xrd:id"):
            continue
        ot = i.get(IDN + "objectType")
        t.check(ot in ("MEMBER", "SUBSYSTEM"), "id:objectType is MEMBER or SUBSYSTEM", ot)
        names = [c.tag for c in i]
        want = [IDN + n for n in ("xRoadInstance", "memberClass", "memberCode")] + \
            ([IDN + "subsystemCode"] if ot == "SUBSYSTEM" else [])
        t.eq(names, want, "identifier children in order for %s" % ot)
        key = (ot, "/".join(c.text or "" for c in i))
        t.check(key not in got, "%s listed once" % (key,))
        got[key] = (m.findtext(XRD + "name"), m.findtext(XRD + "subsystemName"))
    t.eq(got, expected_clients(), "the members and subsystems of the registry, with their names")


@s.test("META-LC-4", LC + "; " + PR_META + " Annex B (OpenAPI definition), Annex C.1 (JSON response)",
        "the JSON clientList: snake_case identifiers, no subsystem_code on members")
def lc4(t):
    body, got = json_clients(t, list_clients(), "GET /listClients (JSON)")
    t.eq(got, expected_clients(), "the members and subsystems of the registry, with their names")
    for e in body["member"]:
        i = e.get("id") or {}
        if i.get("object_type") == "MEMBER":
            t.check("subsystem_code" not in i and "subsystem_name" not in e, "no subsystem keys on a MEMBER", e)
        keys = {"object_type", "xroad_instance", "member_class", "member_code"} | (
            {"subsystem_code"} if i.get("object_type") == "SUBSYSTEM" else set())
        t.eq(set(i), keys, "id keys of a %s" % i.get("object_type"))
        t.check(set(e) <= {"id", "name", "subsystem_name"}, "entry keys id, name, subsystem_name", sorted(e))


@s.test("META-LC-5", PR_META + " §1, §2", "every member and subsystem, whatever the caller's rights")
def lc5(t):
    _, got = json_clients(t, list_clients(subsystem=NORIGHTS), "a caller without rights")
    t.eq(len(got), len(MEMBERS) + len(SUBSYSTEMS), "members + subsystems")


# --- listMethods / allowedMethods --------------------------------------------------------------
MR = PR_MREST + " §4 Retrieving List of Services"


def services(t, r, what):
    t.need(r.status == 200, what + ": 200", r)
    t.check(r.media_type() == "application/json", what + ": application/json", r.get("content-type"))
    try:
        body = r.json()
    except ValueError:
        t.need(False, what + ": JSON body", r.body[:100])
    t.need(isinstance(body, dict) and isinstance(body.get("service"), list), what + ": {\"service\": [...]}", body)
    out = {}
    for e in body["service"]:
        code = e.get("service_code")
        out[code] = {(x.get("method"), x.get("path")) for x in (e.get("endpoint_list") or [])}
    return body, out


def pets_endpoints(methods=None, paths=None):
    # xbus services list methods and paths separately: the registry's endpoints are methods x paths
    return {(m, p) for m in (methods or SERVICES["pets"][0]) for p in (paths or SERVICES["pets"][1])}


@s.test("MREST-1", MR + "; " + PR_MREST + " Annex A", "GET .../listMethods is an r1 call answered with the "
        "X-Road response headers; another method falls through to UnknownService")
def mrest1(t):
    r = xroad_call(node, PROVIDER + "/listMethods", headers=[("X-Road-Id", "lm-1")])
    services(t, r, "GET listMethods")
    for h in ("X-Road-Client", "X-Road-Id", "X-Road-Request-Id", "X-Road-Request-Hash"):
        t.check(r.get(h), "the answer has %s" % h)
    t.eq(r.get("x-road-service"), PROVIDER + "/listMethods", "X-Road-Service names the metaservice")
    is_xroad_error(t, xroad_call(node, PROVIDER + "/listMethods", method="POST", body=b""),
                   "Server.ServerProxy.UnknownService", "POST listMethods")


@s.test("MREST-2", MR + "; " + PR_MREST + " Annex B.1", "the services list: snake_case keys, REST services with "
        "their endpoints, no metaservices, no service_version")
def mrest2(t):
    body, got = services(t, xroad_call(node, PROVIDER + "/listMethods"), "listMethods")
    keys = {"object_type", "xroad_instance", "member_class", "member_code", "subsystem_code", "service_code",
            "service_type", "endpoint_list"}
    for e in body["service"]:
        t.eq(set(e), keys, "keys of %s" % e.get("service_code"))
        t.eq((e.get("object_type"), e.get("xroad_instance"), e.get("member_class"), e.get("member_code"),
              e.get("subsystem_code")), ("SERVICE",) + tuple(PROVIDER.split("/")),
             "identifier of %s" % e.get("service_code"))
        t.check(e.get("service_type") in ("REST", "OPENAPI"), "service_type REST or OPENAPI", e.get("service_type"))
    t.check(set(REST_SERVICES) <= set(got), "every REST service is listed", sorted(got))
    t.check(set(got) <= set(SERVICES), "only this subsystem's services are listed", sorted(got))
    t.eq(METANAMES & set(got), set(), "no metaservice is listed")
    t.eq(got.get("pets"), pets_endpoints(), "pets' endpoints: its methods x its paths")


@s.test("MREST-3", MR + "; " + PR_MREST + " Annex B.2", "allowedMethods lists only what the caller's rights "
        "cover, endpoint by endpoint")
def mrest3(t):
    _, got = services(t, xroad_call(node, PROVIDER + "/allowedMethods", client=LIMITED), "allowedMethods as limited")
    t.eq(got, {"pets": {("GET", "/pets/*")}, "echo": {("GET", "/v1/public/**")}},
         "limited: GET /pets/* of pets and GET /v1/public/** of echo")
    body, got = services(t, xroad_call(node, PROVIDER + "/allowedMethods", client=NORIGHTS),
                         "as a client without rights")
    t.eq(body, {"service": []}, "a client without rights: {\"service\": []}")
    _, got = services(t, xroad_call(node, PROVIDER + "/allowedMethods"), "as portal")
    t.check(set(REST_SERVICES) <= set(got), "portal: every REST service", sorted(got))
    t.eq(got.get("pets"), pets_endpoints(), "portal: all of pets' endpoints")


@s.test("MREST-4", MR + " (metaservices skip the access check)", "a registered client without rights may list")
def mrest4(t):
    _, mine = services(t, xroad_call(node, PROVIDER + "/listMethods"), "portal")
    _, theirs = services(t, xroad_call(node, PROVIDER + "/listMethods", client=NORIGHTS), "a client without rights")
    t.eq(theirs, mine, "the same list")
    is_xroad_error(t, xroad_call(node, PROVIDER + "/listMethods", client="EE/GOV/99999999/ghost", cert_of=CLIENT),
                   "Server.ClientProxy.UnknownMember", "an unregistered client is still refused")


def get_openapi(t, code, what, param="serviceCode", w_=None):
    r = xroad_call((w_ or w).node, PROVIDER + "/getOpenAPI", query="%s=%s" % (param, code))
    t.need(r.status == 200, what + ": 200", r)
    path = os.path.join(w.tmp, "openapi-%s-%d.out" % (code, len(os.listdir(w.tmp))))
    open(path, "wb").write(r.body)
    rc, out = tool.validate([path])
    t.check(rc == 0, what + ": the external OpenAPI 3.1 validator accepts it", out[-300:])
    try:
        doc = tool.to_json(path)
    except RuntimeError as e:
        t.need(False, what + ": parsed", e)
    return r, doc


@s.test("MREST-5", PR_MREST + " §5 Retrieving the OpenAPI description of a Service; Annex B.3",
        "getOpenAPI?serviceCode=: a valid OpenAPI 3.1 document listing exactly the registry's paths, methods, "
        "parameters and schemas (generated, per the contract), no backend address; errors")
def mrest5(t):
    r, doc = get_openapi(t, "pets", "pets")
    problems = openapi_listing_problems(doc, SERVICES["pets"][0], SERVICES["pets"][1], PET_REQUEST_SCHEMA,
                                        PET_RESPONSE_SCHEMA)
    t.eq(problems, [], "the document lists pets exactly")
    t.check(str(w.pets.port).encode() not in r.body, "the backend's address is not in it")
    r2 = xroad_call(node, PROVIDER + "/getOpenAPI", query="servicecode=pets")
    t.eq(r2.status, 200, "the parameter name is case-insensitive")
    r, doc = get_openapi(t, "echo", "echo (paths /**)")
    t.check(isinstance(doc.get("paths"), dict) and doc["paths"], "echo's document has paths", doc.get("paths"))
    is_xroad_error(t, xroad_call(node, PROVIDER + "/getOpenAPI"), "Server.ServerProxy.InvalidRequest", "no serviceCode")
    is_xroad_error(t, xroad_call(node, PROVIDER + "/getOpenAPI", query="serviceCode=nosuchservice"),
                   {"Server.ServerProxy.InternalError", "Server.ServerProxy.UnknownService"}, "an unknown service")


PETS_YAML = """openapi: 3.1.0
info:
  title: pets (the provider's own description)
  version: "2"
servers:
  - url: https://backend.internal:8443/petstore
paths:
  /pets:
    get:
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/pet"}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/newpet"}
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/pet"}
  /pets/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/pet"}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/newpet"}
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/pet"}
components:
  schemas:
    newpet:
      type: object
      required: [name]
      properties:
        name: {type: string, maxLength: 64}
        tag: {type: string}
      additionalProperties: false
    pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
        tag: {type: string}
      additionalProperties: false
"""


@s.test("MREST-5-DOC", PR_MREST + " §5; digest MREST-5 (Openapi3Anonymiser)", "a registry-provided description "
        "(contract: openapi = FILE) is served in its own syntax, servers reduced to their path")
def mrest5doc(t):
    text = registry_text().replace("request-schema = pets/pet.request.json",
                                   "openapi = pets/pets.openapi.yaml\nrequest-schema = pets/pet.request.json")
    w2 = World(registry=text, start=False)
    open(os.path.join(w2.schemas, "pets", "pets.openapi.yaml"), "w").write(PETS_YAML)
    w2.start()
    try:
        t.need(w2.error is None, "a registry naming an OpenAPI file loads", w2.error)
        r, doc = get_openapi(t, "pets", "pets with its own description", w_=w2)
        t.check(not r.body.lstrip().startswith(b"{") and b"openapi: 3.1.0" in r.body, "still YAML", r.body[:60])
        t.eq([s_.get("url") for s_ in doc.get("servers", [])], ["/petstore"], "servers[].url reduced to its path")
        t.eq(doc.get("info", {}).get("title"), "pets (the provider's own description)", "the provider's document")
        t.eq(openapi_listing_problems(doc, SERVICES["pets"][0], SERVICES["pets"][1]), [],
             "it lists the registry's paths and methods")
    finally:
        w2.stop()


@s.test("MREST-6", PR_MREST + " §4 (metaservices are regular r1 calls); " + PR_META + " §1",
        "metaservice answers carry X-Road-Request-Hash (headers only) and echo X-Road-Id")
def mrest6(t):
    r = xroad_call(node, PROVIDER + "/listMethods", headers=[("X-Road-Id", "lm-6")])
    t.need(r.status == 200, "listMethods", r)
    t.eq(r.get("x-road-id"), "lm-6", "X-Road-Id echoed")
    h = r.get("x-road-request-hash") or ""
    t.check(HASH_RE.match(h), "X-Road-Request-Hash is 88 base64 characters", h)
    t.eq(h, expected_hash(r), "X-Road-Request-Hash equals the reference")


# --- GovStack IM directory API -------------------------------------------------------------------
GS = GOVSTACK + " §8.2 Directory Services (GovStack_IM_Directory_Services_API.yaml)"


@s.test("GOVSTACK-1 instanceId", GS, "GET /listClients?instanceId=EE answers as ?xRoadInstance=EE")
def gs_instance(t):
    _, a = json_clients(t, list_clients("?instanceId=EE"), "?instanceId=EE")
    _, b = json_clients(t, list_clients("?xRoadInstance=EE"), "?xRoadInstance=EE")
    t.eq(a, b, "the same list")
    _, c = json_clients(t, list_clients("?instanceId=XX"), "?instanceId=XX")
    t.eq(c, {}, "instanceId selects the instance")


@s.test("GOVSTACK-1 /r1/listClients", GS + " (IM 0.9 path)", "GET /r1/listClients is an alias (contract)")
def gs_r1(t):
    _, a = json_clients(t, list_clients(path="/r1/listClients"), "/r1/listClients")
    t.eq(a, expected_clients(), "the registry's members and subsystems")


@s.test("GOVSTACK-1 X-GovStack-Client", GS, "X-GovStack-Client stands for an absent X-Road-Client (contract)")
def gs_alias(t):
    r = send(node, LIMITED, "GET", "/r1/%s/allowedMethods" % PROVIDER, [("X-GovStack-Client", LIMITED)])
    _, got = services(t, r, "allowedMethods with X-GovStack-Client only")
    t.eq(set(got), {"pets", "echo"}, "the limited client's services")
    r = send(node, CLIENT, "GET", "/r1/%s/echo/gs" % PROVIDER, [("X-GovStack-Client", CLIENT)])
    t.eq((r.status, r.get("x-road-client")), (200, CLIENT), "an ordinary service call with X-GovStack-Client only")


@s.test("GOVSTACK-1 both headers", GS, "with both headers X-Road-Client wins (contract)")
def gs_both(t):
    r = send(node, LIMITED, "GET", "/r1/%s/allowedMethods" % PROVIDER,
             [("X-GovStack-Client", NORIGHTS), ("X-Road-Client", LIMITED)])
    _, got = services(t, r, "allowedMethods with both")
    t.eq(set(got), {"pets", "echo"}, "X-Road-Client's (limited's) services, not X-GovStack-Client's (none)")


s.not_applicable("GOVSTACK-1 (?format=govstack)", GS, "the camelCase Annex-A body shape is an optional extension "
                 "the contract did not adopt; bodies stay in X-Road's shape")
s.not_applicable("META-LC-1 (a federated instance)", LC, "xRoadInstance naming another, federated instance needs "
                 "a second instance's global configuration; a single node answers an empty list")

s.run()
w.stop()
s.finish()
