#!/usr/bin/env python3
"""test_rest_passthrough.py: what the node carries between an X-Road client and the provider
and back (PR-REST 1.0.4 §3.1, §4.3, §4.4, §4.6, §4.7): request headers and the filtered ones,
bodies, Accept, sizes, the provider's answers of any status, the response headers the node
sets, caching and CORS headers (requirements REST-PASS-*, REST-ACC-1, REST-RSP-*)."""
import hashlib
import os

from xroadlib import (CLIENT, ECHO_LIMIT, PR_REST, PROVIDER, Script, Suite, World, expected_hash,
                      is_xroad_error, no_xroad_error, registry_text, send, start_world, xroad_call)

s = Suite("rest-passthrough")
w = start_world(s)
node = w.node
E = PROVIDER + "/echo"


def echo_call(path="/p", *scripts, **kw):
    w.echo.reset(*scripts)
    r = xroad_call(node, E, path, **kw)
    return r, w.echo.last


def reached(t, r, rec, what):
    t.need(r.status is not None and rec is not None, what + ": the provider was called", r)


def order_of(names, seen):
    return [n for n in seen if n in names]


@s.test("REST-PASS-1", PR_REST + " §4.3 Use of HTTP Headers (user-defined, extension headers); §4.7 Security "
        "(JWT passthrough)", "every header outside the deny-list reaches the provider unchanged and in order")
def pass1(t):
    sent = [("Authorization", "Bearer abc.def.ghi"), ("X-Custom", "1"), ("X-Road-Foo", "bar"), ("Cookie", "a=b; c=d"),
            ("Accept-Language", "et, en;q=0.5"), ("X-Road-UserId", "EE38001010000"), ("X-Road-Issue", "I-17"),
            ("X-Road-Id", "pass-1"), ("X-Custom", "2")]
    r, rec = echo_call("/p", headers=sent)
    reached(t, r, rec, "a request with user-defined headers")
    t.eq(r.status, 200, "answered")
    for name, value in dict((n, v) for n, v in sent if n != "X-Custom").items():
        t.eq(rec.get(name), value, "the provider sees %s" % name)
    t.eq(rec.all("x-custom"), ["1", "2"], "a repeated user-defined header arrives twice, in order")
    t.eq(rec.get("x-road-client"), CLIENT, "the provider sees X-Road-Client")
    names = [n.lower() for n, _ in sent]
    t.eq(order_of(set(names), rec.names()), names, "in the order sent")


@s.test("REST-PASS-2", PR_REST + " §4.3 Use of HTTP Headers (filtered, specially handled headers)",
        "hop-by-hop, host-revealing and Expect headers are not passed on, in either direction")
def pass2(t):
    sent = [("User-Agent", "leak/1.0"), ("Proxy-Authorization", "Basic eDp5"), ("Keep-Alive", "timeout=77"),
            ("TE", "trailers"), ("Expect", "100-continue"), ("Content-Type", "application/json")]
    answer = Script(200, [("Content-Type", "application/json"), ("Keep-Alive", "timeout=99"),
                          ("Proxy-Authenticate", 'Basic realm="p"')], b"{}")
    r, rec = echo_call("/p", answer, method="POST", headers=sent, body=b'{"x":1}')
    reached(t, r, rec, "a POST with filtered headers")
    t.check(rec.get("user-agent") != "leak/1.0", "the client's User-Agent is not passed on", rec.get("user-agent"))
    t.eq(rec.get("proxy-authorization"), None, "Proxy-Authorization is not passed on")
    t.check(rec.get("keep-alive") != "timeout=77", "the client's Keep-Alive is not passed on")
    t.check(rec.get("te") != "trailers", "the client's TE is not passed on")
    t.eq(rec.get("expect"), None, "Expect is handled by the node, not passed on (small body)")
    t.eq(rec.body, b'{"x":1}', "the body arrives")
    values = [v for _, v in r.headers]
    t.check("secret/1.0" not in values, "the provider's Server header does not reach the client", r.get("server"))
    t.check("timeout=99" not in values, "the provider's Keep-Alive does not reach the client")
    t.eq(r.get("proxy-authenticate"), None, "the provider's Proxy-Authenticate does not reach the client")


@s.test("REST-PASS-3", PR_REST + " §3.1 Scope and Requirements; §4.3 (Content-Type header)",
        "bodies of any media type and Content-Type pass unchanged both ways; no Content-Type is no refusal")
def pass3(t):
    body = os.urandom(1024 * 1024)
    r, rec = echo_call("/p", Script(200, echo_body=True), method="POST",
                       headers=[("Content-Type", "application/octet-stream")], body=body)
    reached(t, r, rec, "a 1 MiB binary body")
    t.check(rec.body == body, "the provider gets the body byte for byte", "%d bytes" % len(rec.body))
    t.eq(hashlib.sha256(r.body).hexdigest(), hashlib.sha256(body).hexdigest(), "the echoed body comes back unchanged")
    t.eq(r.get("content-type"), "application/octet-stream", "the provider's Content-Type comes back")
    for ct in ("text/plain; charset=iso-8859-1", "multipart/form-data; boundary=something"):
        r, rec = echo_call("/p", method="POST", headers=[("Content-Type", ct)], body=b"caf\xe9" if "plain" in ct else
                           b"--something\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--something--\r\n")
        reached(t, r, rec, "Content-Type " + ct)
        t.eq(rec.get("content-type"), ct, "Content-Type arrives byte for byte")
    r, rec = echo_call("/p", method="POST", body=b"no type")
    reached(t, r, rec, "a POST without Content-Type")
    t.eq((r.status, rec.body, rec.get("content-type")), (200, b"no type", None),
         "forwarded as it is, no Content-Type added")


@s.test("REST-ACC-1", PR_REST + " §4.3 Use of HTTP Headers (Accept header)",
        "Accept reaches the provider unchanged; none sent, none forwarded")
def acc1(t):
    r, rec = echo_call("/p", headers=[("Accept", "application/xml;q=0.9, text/csv")])
    reached(t, r, rec, "Accept: application/xml;q=0.9, text/csv")
    t.eq(rec.all("accept"), ["application/xml;q=0.9, text/csv"], "the provider sees the same Accept")
    r, rec = echo_call("/p")
    reached(t, r, rec, "no Accept")
    t.eq(rec.all("accept"), [], "the provider sees no Accept (never */*)")


@s.test("REST-PASS-4", PR_REST + " §3.1 Scope and Requirements (message size)", "a body over a limit is a complete "
        "X-Road error, never a reset (contract: Client.BadRequest); a 13 MiB answer streams through")
def pass4(t):
    for size, what in ((ECHO_LIMIT + 1024 * 1024, "3 MiB, over the service's 2 MiB"),
                       (6 * 1024 * 1024, "6 MiB, over the node's 4 MiB transport cap")):
        w.echo.reset()
        r = xroad_call(node, E, "/p", method="POST", headers=[("Content-Type", "application/octet-stream")],
                       body=b"\0" * size)
        is_xroad_error(t, r, "Client.BadRequest", "a body of " + what)
        t.eq(w.echo.last, None, what + ": the provider was not called")
    big = os.urandom(13 * 1024 * 1024)
    r, rec = echo_call("/big", Script(200, [("Content-Type", "application/octet-stream")], big), timeout=60)
    t.check(r.status == 200 and hashlib.sha256(r.body).digest() == hashlib.sha256(big).digest(),
            "a 13 MiB answer arrives whole (service limit 16 MiB)", r)


@s.test("REST-RSP-1", PR_REST + " §4.6 Error handling (category 1; examples 1 and 5 A)",
        "a provider answer of any status comes back as it is, with no X-Road-Error")
def rsp1(t):
    cases = [Script(418, [("Content-Type", "application/json")], b'{"teapot":true}'),
             Script(500, [("Content-Type", "text/html")], b"<html><body>Oops</body></html>"),
             Script(503, [("Content-Type", "text/plain"), ("Retry-After", "5")], b"later"),
             Script(404, [("Content-Type", "application/problem+json")], b'{"title":"no such pet"}'),
             Script(201, [("Content-Type", "application/json"), ("Location", "/api/items/9")], b'{"id":9}')]
    for sc in cases:
        r, rec = echo_call("/p", sc)
        what = "provider %d" % sc.status
        t.eq((r.status, r.body), (sc.status, sc.body), what + ": status and body as sent")
        for n, v in sc.headers:
            t.eq(r.get(n), v, what + ": header " + n)
        no_xroad_error(t, r, what)


@s.test("REST-RSP-2", PR_REST + " §4.4 HTTP Redirects", "redirects are not followed; the 3xx reaches the client")
def rsp2(t):
    r, rec = echo_call("/p", Script(302, [("Location", "/elsewhere")], b""))
    t.eq((r.status, r.get("location")), (302, "/elsewhere"), "302 and its Location reach the client")
    t.eq(len(w.echo.requests), 1, "the node did not follow the redirect")
    no_xroad_error(t, r, "a redirect")


@s.test("REST-RSP-3", PR_REST + " §4.3 Use of HTTP Headers (headers returned in the response; request hash header)",
        "the answer carries the node's X-Road-Id, -Client, -Service, -Request-Id and -Request-Hash; the "
        "provider's own values are replaced")
def rsp3(t):
    bogus = Script(200, [("Content-Type", "application/json"), ("X-Road-Request-Hash", "bogus"),
                         ("X-Road-Client", "X/Y/Z"), ("X-Road-Id", "provider-id"), ("X-Road-Request-Id", "prov"),
                         ("X-Road-Service", "X/Y/Z/W/V")], b"{}")
    r, rec = echo_call("/p", bogus, headers=[("X-Road-Id", "rsp-3")])
    reached(t, r, rec, "an answer with the provider's own X-Road headers")
    for name in ("X-Road-Client", "X-Road-Service", "X-Road-Id", "X-Road-Request-Id", "X-Road-Request-Hash"):
        t.eq(len(r.all(name)), 1, "one %s" % name)
    t.eq(r.get("x-road-client"), CLIENT, "X-Road-Client is the client")
    t.eq(r.get("x-road-service"), E, "X-Road-Service is the service")
    t.eq(r.get("x-road-id"), "rsp-3", "X-Road-Id is the client's")
    t.eq(r.get("x-road-request-id"), rec.get("x-road-request-id"), "X-Road-Request-Id is the one the provider got")
    t.eq(r.get("x-road-request-hash"), expected_hash(r), "X-Road-Request-Hash is the node's (reference hash)")


@s.test("REST-RSP-4", PR_REST + " §4.2 URI Sanitation, §4.3 (identifier form)", "X-Road-Client and X-Road-Service "
        "are written part by part in canonical percent-encoding, whatever encoding the request used")
def rsp4(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/EE/GOV/70000001/registry/ech%6f/p",
             [("X-Road-Client", "EE/%47OV/70000002/portal")])
    t.need(r.status == 200, "a request with encoded unreserved characters is served", r)
    t.eq(r.get("x-road-client"), CLIENT, "X-Road-Client")
    t.eq(r.get("x-road-service"), E, "X-Road-Service")


s.not_applicable("REST-RSP-4 (escaped identifier parts)", PR_REST + " §4.3",
                 "identifiers holding '/', spaces or UTF-8 cannot be registered in xbus (docs/registry.md), so their "
                 "escaping in X-Road-Client/X-Road-Service cannot be observed")


@s.test("REST-RSP-5", PR_REST + " §4.3 Use of HTTP Headers (Content-Type header)",
        "the provider's Content-Type comes back unchanged; none sent, none added")
def rsp5(t):
    ct = "application/vnd.x+json; charset=utf-8"
    r, rec = echo_call("/p", Script(200, [("Content-Type", ct)], b'{"a":1}'))
    t.eq(r.get("content-type"), ct, "the provider's Content-Type")
    r, rec = echo_call("/p", Script(200, [], b"raw bytes"))
    t.eq((r.status, r.get("content-type"), r.body), (200, None, b"raw bytes"), "an answer without Content-Type")


@s.test("REST-RSP-6", PR_REST + " §4.3 Use of HTTP Headers (cache headers)",
        "cache headers pass unchanged both ways; the node does not cache")
def rsp6(t):
    cache = [("Cache-Control", "public, max-age=60"), ("ETag", '"x"'),
             ("Last-Modified", "Tue, 01 Jan 2030 00:00:00 GMT"),
             ("Expires", "Wed, 02 Jan 2030 00:00:00 GMT"), ("Pragma", "no-cache"), ("Vary", "Accept")]
    r, rec = echo_call("/p", Script(200, [("Content-Type", "application/json")] + cache, b"{}"),
                       headers=[("If-None-Match", '"y"'), ("Cache-Control", "no-cache")])
    for n, v in cache:
        t.eq(r.all(n), [v], "the client sees %s" % n)
    t.eq(rec.get("if-none-match"), '"y"', "the provider sees If-None-Match")
    t.eq(rec.get("cache-control"), "no-cache", "the provider sees the client's Cache-Control")
    r, rec = echo_call("/p", Script(304, [("ETag", '"x"')], b""), headers=[("If-None-Match", '"x"')])
    t.eq((r.status, r.get("etag")), (304, '"x"'), "the provider's 304 reaches the client")
    r2, rec2 = echo_call("/p", Script(200, [("Content-Type", "application/json")], b'{"n":2}'))
    t.eq((r2.body, len(w.echo.requests)), (b'{"n":2}', 1), "the next identical GET reaches the provider again")


@s.test("REST-RSP-7", PR_REST + " §4.3 Use of HTTP Headers (user-defined headers)",
        "user-defined response headers and cookies reach the client; one Date, the provider's")
def rsp7(t):
    date = "Tue, 01 Jan 2030 00:00:00 GMT"
    r, rec = echo_call("/p", Script(200, [("Content-Type", "application/json"), ("Date", date),
                                          ("X-Powered-By", "PHP/5.2.17"),
                                          ("X-Pingback", "https://example.com/xmlrpc.php"),
                                          ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")], b"{}"))
    t.eq(r.get("x-powered-by"), "PHP/5.2.17", "X-Powered-By")
    t.eq(r.get("x-pingback"), "https://example.com/xmlrpc.php", "X-Pingback")
    t.eq(r.all("set-cookie"), ["a=1; Path=/", "b=2; Path=/"], "both Set-Cookie headers, in order")
    t.eq(r.all("date"), [date], "exactly one Date, the provider's")


@s.test("REST-RSP-8", PR_REST + " §4.3 (X-Road error header); §4.6 Error handling (example 5)",
        "X-Road-Error marks the node's own errors only")
def rsp8(t):
    r, rec = echo_call("/p", Script(500, [("Content-Type", "application/json")], b'{"error":"db down"}'))
    t.eq(r.status, 500, "the provider's 500")
    no_xroad_error(t, r, "the provider's 500")
    r = xroad_call(node, PROVIDER + "/nosuchservice", "/p")
    t.check(r.status is not None and r.get("x-road-error"), "a node error carries X-Road-Error", r)


# --- CORS: OPTIONS goes to the provider like any method ------------------------------------
@s.test("REST-RSP-9", PR_REST + " §4.3 Use of HTTP Headers (cross-origin resource sharing)",
        "OPTIONS with CORS headers reaches the provider and its answer comes back (needs OPTIONS in the "
        "registry's methods)")
def rsp9(t):
    six = "GET, HEAD, POST, PUT, PATCH, DELETE"
    text = registry_text().replace("methods = " + six, "methods = " + six + ", OPTIONS")
    w2 = World(registry=text)
    try:
        t.need(w2.error is None, "a registry whose echo service and right list OPTIONS loads", w2.error)
        w2.echo.reset(Script(204, [("Access-Control-Allow-Origin", "https://app.example"),
                                   ("Access-Control-Allow-Methods", "GET, POST")], b""))
        r = xroad_call(w2.node, E, "/p", method="OPTIONS",
                       headers=[("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")])
        rec = w2.echo.last
        t.need(rec is not None, "the provider gets the OPTIONS request", r)
        t.eq((rec.method, rec.get("origin"), rec.get("access-control-request-method")),
             ("OPTIONS", "https://app.example", "POST"), "the provider sees OPTIONS and the CORS headers")
        t.eq((r.status, r.get("access-control-allow-origin"), r.get("access-control-allow-methods")),
             (204, "https://app.example", "GET, POST"), "the provider's CORS answer reaches the client")
    finally:
        w2.stop()


s.run()
w.stop()
s.finish()
