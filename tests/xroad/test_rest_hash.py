#!/usr/bin/env python3
"""test_rest_hash.py: X-Road-Request-Hash on real calls (PR-REST 1.0.4 §4.3, request hash
header; requirements REST-HASH-1..5). The node has no test hook: each check reads the node's
X-Road-Request-Id (and, when the client sent none, its generated X-Road-Id) from the answer and
recomputes the hash from exactly what was sent, with the suite's reference
(xroadlib.canonical_request/request_hash, itself checked against the digest's vectors by
test_hash_vectors.py)."""
import gzip

from xroadlib import (CLIENT, HASH_RE, PR_MREST, PR_REST, PROVIDER, Script, Suite, expected_hash, harness,
                      send, start_world, xroad_call)

s = Suite("rest-hash")
w = start_world(s)
node = w.node
E = PROVIDER + "/echo"
DOC = PR_REST + " §4.3 Use of HTTP Headers (request hash header)"


def hashed(t, r, what):
    got = r.get("x-road-request-hash")
    if not t.check(r.status is not None and got is not None, what + ": X-Road-Request-Hash present", r):
        return False
    return t.eq(got, expected_hash(r), what + ": X-Road-Request-Hash equals the reference")


@s.test("REST-HASH-1", DOC, "the hash covers the method, the raw target and the headers as sent "
        "(order, case, repeats, trimmed values; deny-list out), the request id and a generated X-Road-Id")
def hash1(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/" + E + "/v1/persons/38001010000?lang=et&b=%C3%A4",
             [("User-Agent", "conformance/1.0"), ("Accept", "application/json"), ("X-Road-Client", CLIENT),
              ("x-road-id", "hash-1"), ("X-Road-UserId", "EE38001010000"), ("X-Mixed-CASE", "a"),
              ("X-Mixed-CASE", "b"), ("X-Pad", "   padded value   ")])
    t.need(r.status == 200, "GET served", r)
    hashed(t, r, "GET with query, repeated and padded headers, client X-Road-Id")
    w.echo.reset()
    r = xroad_call(node, E, "/v1/items", headers=[("Accept", "text/csv")])
    t.need(r.status == 200, "GET without X-Road-Id served", r)
    hashed(t, r, "no X-Road-Id: the generated id is hashed after the request id")
    r = xroad_call(node, E, "/name/J%C3%BCri%20Tamm", query="q=%C3%A4+b", headers=[("X-Road-Id", "hash-1c")])
    t.check(r.status is not None and r.get("x-road-error") is None, "a percent-encoded target is answered", r) and \
        hashed(t, r, "percent-encoded path and query hashed raw")


@s.test("REST-HASH-2", DOC, "with a body the hash is SHA-512(SHA-512(headers) || SHA-512(body)) over the body "
        "as sent (chunking removed, content encoding kept); an empty body counts as none")
def hash2(t):
    w.echo.reset()
    r = xroad_call(node, E, "/items", method="POST", headers=[("Content-Type", "application/json"),
                                                             ("X-Road-Id", "hash-2a")], body=b'{"value":42}')
    t.need(r.status == 200, "POST served", r)
    hashed(t, r, "POST with a JSON body")
    r = send(node, CLIENT, "POST", "/r1/" + E + "/items", [("X-Road-Client", CLIENT), ("Content-Type", "text/plain"),
                                                          ("X-Road-Id", "hash-2b")], chunks=[b"chunk one, ", b"two"])
    t.check(r.status == 200, "chunked POST served", r) and hashed(t, r, "chunked POST (hash of the joined body)")
    zipped = gzip.compress(b'{"value":43}', mtime=0)
    r = xroad_call(node, E, "/items", method="POST", body=zipped,
                   headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                            ("X-Road-Id", "hash-2c")])
    t.check(r.status == 200, "gzip POST served", r) and hashed(t, r, "gzip-encoded body (hash of the gzip bytes)")
    r = xroad_call(node, E, "/items", method="POST", body=b"", headers=[("X-Road-Id", "hash-2d")])
    t.check(r.status == 200, "empty POST served", r) and hashed(t, r, "an empty body: headers only")


@s.test("REST-HASH-3", DOC, "the value is standard base64 of the 64-byte SHA-512 digest (88 characters)")
def hash3(t):
    r = xroad_call(node, E, "/h")
    got = r.get("x-road-request-hash") or ""
    t.check(HASH_RE.match(got) is not None, "X-Road-Request-Hash matches ^[A-Za-z0-9+/]{86}==$", got)


@s.test("REST-HASH-4", DOC + "; RestProxyTest.requestHashShouldBeUnique",
        "two identical requests have different request ids and hashes")
def hash4(t):
    a = xroad_call(node, E, "/same", headers=[("X-Road-Id", "same-id")])
    b = xroad_call(node, E, "/same", headers=[("X-Road-Id", "same-id")])
    t.need(a.status == 200 and b.status == 200, "both served", (a, b))
    t.check(a.get("x-road-request-id") != b.get("x-road-request-id"), "different X-Road-Request-Id")
    t.check(a.get("x-road-request-hash") != b.get("x-road-request-hash"), "different X-Road-Request-Hash",
            a.get("x-road-request-hash"))


@s.test("REST-HASH-5", DOC + "; " + PR_MREST + " §4 (metaservices are r1 calls)",
        "the hash ties any answer the provider gave (non-2xx, metaservice) to the request, is absent on the node's "
        "refusals, and is kept in the log entry and receipt (contract: xroad_request_hash, request_id)")
def hash5(t):
    w.echo.reset(Script(404, [("Content-Type", "application/json")], b'{"error":"no such person"}'))
    r404 = xroad_call(node, E, "/missing", headers=[("X-Road-Id", "hash-5a")])
    t.check(r404.status == 404, "the provider's 404 comes back", r404) and hashed(t, r404, "a provider 404")
    lm = xroad_call(node, PROVIDER + "/listMethods", headers=[("X-Road-Id", "hash-5b")])
    t.check(lm.status == 200, "listMethods served", lm) and hashed(t, lm, "listMethods (headers only)")
    bad = xroad_call(node, PROVIDER + "/nosuchservice", headers=[("X-Road-Id", "hash-5c")])
    t.check(bad.get("x-road-error") is not None and bad.get("x-road-request-hash") is None,
            "a node refusal carries no X-Road-Request-Hash", bad.get("x-road-request-hash"))
    ok = xroad_call(node, E, "/logged", method="POST", headers=[("X-Road-Id", "hash-5d"),
                                                             ("Content-Type", "application/json")], body=b'{"a":1}')
    t.need(ok.status == 200, "a POST served", ok)
    want, rid = ok.get("x-road-request-hash"), ok.get("x-road-request-id")
    receipt = ok.get("x-bus-receipt")
    if t.check(receipt, "the answer has a receipt"):
        p = harness.receipt_payload(receipt)
        t.eq((p.get("xroad_request_hash"), p.get("request_id")), (want, rid), "the receipt carries the hash and id")
    seq = ok.get("x-bus-log-seq")
    t.need(seq is not None, "the answer names its log entry")
    w.stop()
    e = node.log_entries().get(int(seq), {})
    t.eq((e.get("xroad_request_hash"), e.get("request_id")), (want, rid), "the log entry carries the hash and id")


s.run()
w.stop()
s.finish()
