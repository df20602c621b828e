#!/usr/bin/env python3
"""test_openapi_validator.py: the suite's tools for getOpenAPI (PR-MREST 0.8 §5) checked on
hand-written documents before they judge the node's: the external OpenAPI 3.1 validator
(openapi-validate.py: pinned @seriousme/openapi-schema-validator and Ajv, installed with npm
into the build folder) accepts a valid 3.1 document and refuses invalid ones, and the
exact-listing check (xroadlib.openapi_listing_problems) accepts a document that lists the pets
service exactly and refuses an empty `paths`, a missing method, an extra parameter, a wrong
path parameter and another schema. No node is started."""
import copy
import json
import os

from xroadlib import (HERE, PET_REQUEST_SCHEMA, PET_RESPONSE_SCHEMA, SERVICES, Suite, openapi_listing_problems,
                      openapi_tool)

s = Suite("openapi-validator")
tool = openapi_tool()
FIX = os.path.join(HERE, "openapi-fixtures")
DOC = "suite self-test for " + "PR-MREST 0.8 §5 Retrieving the OpenAPI description of a Service"
PETS = SERVICES["pets"]


@s.test("SUITE-OAS-1", DOC, "the validator installs with the pinned versions")
def install(t):
    why = tool.install(tool.tools_dir())
    t.need(why is None, "npm ci of openapi-validator/package-lock.json", why)
    pins = json.load(open(os.path.join(HERE, "openapi-validator", "package.json")))["dependencies"]
    for name, version in pins.items():
        p = os.path.join(tool.tools_dir(), "node_modules", name, "package.json")
        got = json.load(open(p)).get("version") if os.path.exists(p) else None
        t.eq(got, version, "%s is installed at its pinned version" % name)


@s.test("SUITE-OAS-2", DOC, "a hand-written valid OpenAPI 3.1 document passes")
def valid(t):
    rc, out = tool.validate([os.path.join(FIX, "valid-3.1.json")])
    t.eq(rc, 0, "valid-3.1.json is valid (%s)" % out[-200:])


@s.test("SUITE-OAS-3", DOC, "invalid documents fail: structure, a Schema Object, a dangling $ref, not 3.1")
def invalid(t):
    for name in ("invalid-3.1-structure.json", "invalid-3.1-schema.json", "invalid-3.1-ref.json",
                 "wrong-version-3.0.json"):
        rc, out = tool.validate([os.path.join(FIX, name)])
        t.eq(rc, 1, "%s is refused" % name)


@s.test("SUITE-OAS-4", DOC, "the exact-listing check: the pets document passes; an empty paths and each "
        "difference from the registry fail")
def listing(t):
    doc = json.load(open(os.path.join(FIX, "valid-3.1.json")))
    t.eq(openapi_listing_problems(doc, PETS[0], PETS[1], PET_REQUEST_SCHEMA, PET_RESPONSE_SCHEMA), [],
         "valid-3.1.json lists pets exactly")
    empty = json.load(open(os.path.join(FIX, "empty-paths-3.1.json")))
    rc, _ = tool.validate([os.path.join(FIX, "empty-paths-3.1.json")])
    t.eq(rc, 0, "an empty paths is valid OpenAPI (so the validator alone would pass it)")
    t.check(openapi_listing_problems(empty, PETS[0], PETS[1]) != [], "an empty paths fails the listing check")
    edits = {
        "a missing method": lambda d: d["paths"]["/pets"].pop("post"),
        "an extra path": lambda d: d["paths"].__setitem__("/owners", d["paths"]["/pets"]),
        "a missing path": lambda d: d["paths"].pop("/pets"),
        "an extra query parameter": lambda d: d["paths"]["/pets"]["get"].__setitem__(
            "parameters", [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]),
        "a path parameter not in the template": lambda d: d["paths"]["/pets/{p1}"]["parameters"][0].__setitem__(
            "name", "id"),
        "another request schema": lambda d: d["components"]["schemas"]["pet.request"]["properties"].pop("tag"),
        "another response schema": lambda d: d["components"]["schemas"]["pet.response"].__setitem__(
            "additionalProperties", True),
        "a body on GET": lambda d: d["paths"]["/pets"]["get"].__setitem__(
            "requestBody", d["paths"]["/pets"]["post"]["requestBody"]),
    }
    for what, edit in edits.items():
        d = copy.deepcopy(doc)
        edit(d)
        t.check(openapi_listing_problems(d, PETS[0], PETS[1], PET_REQUEST_SCHEMA, PET_RESPONSE_SCHEMA) != [],
                "%s fails the listing check" % what)


s.run()
s.finish()
