#!/usr/bin/env python3
"""test_rest_request.py: the X-Road REST request (PR-REST 1.0.4 §2.3, §4.1-4.3, §4.5, §4.7,
§4.8; PR-THIRDPARTY; PR-TARGETSS): URL layout, percent-encoding and the request headers
(requirements REST-URL-*, REST-ENC-*, REST-HDR-* of the digest). Every call is what an
unmodified X-Road client sends: X-Road headers only, no X-Bus-* header."""
import os
import subprocess

from xroadlib import harness
from xroadlib import (CLIENT, CODE_RE, LIMITED, OTHER, PR_REST, PR_TARGET, PR_THIRD, PROVIDER, SECURITY_SERVER,
                      UUID_RE, Suite, is_xroad_error, no_xroad_error, registry_text, send,
                      start_world, xroad_call)

s = Suite("rest-request")
w = start_world(s)
node = w.node
E = PROVIDER + "/echo"


def echo_call(path="", **kw):
    w.echo.reset()
    r = xroad_call(node, E, path, **kw)
    return r, w.echo.last


def reached(t, r, rec, what):
    t.need(r.status == 200 and rec is not None, what + ": answered 200 by the provider", r)


def not_reached(t, what):
    t.check(w.echo.last is None, what + ": the provider was not called",
            w.echo.last.target if w.echo.last else "")


# --- URL layout -----------------------------------------------------------------------------
@s.test("REST-URL-1", PR_REST + " §4.1 REST Interface", "service path and query reach the service's base URL")
def url1(t):
    r, rec = echo_call("/v1/bar/zyggy", query="quu=1")
    reached(t, r, rec, "GET /r1/.../echo/v1/bar/zyggy?quu=1")
    t.eq(rec.method, "GET", "the provider sees the method")
    t.eq(rec.target, "/api/v1/bar/zyggy?quu=1", "the provider sees base path + service path + query")
    no_xroad_error(t, r, "a provider answer")


@s.test("REST-URL-2", PR_REST + " §4.1 REST Interface", "a service id of fewer than five parts is refused "
        "(contract: malformed request = Client.BadRequest, 400)")
def url2(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/EE/GOV/70000001/echo", [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, "Client.BadRequest", "GET /r1/EE/GOV/70000001/echo")
    not_reached(t, "short service id")


@s.test("REST-URL-3", PR_REST + " §2.3 Versioning", "only r1 is served (contract: Client.InvalidProtocolVersion, 400)")
def url3(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r2/" + E, [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, "Client.InvalidProtocolVersion", "GET /r2/...")
    not_reached(t, "r2")


@s.test("REST-URL-4", PR_REST + " §4.1 REST Interface", "any RFC 7231 method the service offers reaches it; "
        "an unknown method is an X-Road error")
def url4(t):
    r, rec = echo_call("/items/1", method="PATCH", headers=[("Content-Type", "application/merge-patch+json")],
                       body=b'{"a":1}')
    reached(t, r, rec, "PATCH")
    t.eq((rec.method, rec.body), ("PATCH", b'{"a":1}'), "the provider sees PATCH and its body")
    r, rec = echo_call("/items/1", method="DELETE")
    reached(t, r, rec, "DELETE")
    t.eq(rec.method, "DELETE", "the provider sees DELETE")
    w.echo.reset()
    r = xroad_call(node, E, "/x", method="PROPFIND")
    is_xroad_error(t, r, CODE_RE, "PROPFIND")
    not_reached(t, "PROPFIND")


@s.test("REST-URL-5", PR_REST + " §4.1 REST Interface (breakdown example)",
        "the service path is appended to the base URL without a doubled slash")
def url5(t):
    for path, want in (("/v1/x", "/api/v1/x"), ("/", "/api/"), ("", "/api/")):
        r, rec = echo_call(path)
        if t.check(r.status == 200 and rec is not None, "GET .../echo%s answered by the provider" % path, r):
            t.eq(rec.target, want, "GET .../echo%s reaches the provider as" % path)


@s.test("REST-URL-6", PR_REST + " §4.5 Use of Query Parameters", "the query reaches the provider byte for byte")
def url6(t):
    q = "b=2&a=1&a=%2F&c=x+y&d=%C3%A4&e=&f"
    r, rec = echo_call("/q", query=q)
    reached(t, r, rec, "a query with duplicates, escapes and +")
    t.eq(rec.query, q, "the raw query (order, duplicates, %2F, +, UTF-8 escapes) unchanged")


@s.test("REST-URL-7", PR_REST + " §4.2 URI Sanitation", "a 2000-character URI (what clients assume) is served; one longer "
        "than the node accepts is a complete X-Road error, never a reset or an HTML page")
def url7(t):
    prefix = "/r1/" + E
    segs, n = [], len(prefix)
    while n + 100 <= 2000:
        segs.append("s" * 99)
        n += 100
    path = "/" + "/".join(segs)
    path += "/" + "t" * (2000 - len(prefix) - len(path) - 1)
    t.eq(len(prefix + path), 2000, "the request target is 2000 characters")
    r, rec = echo_call(path)
    reached(t, r, rec, "a 2000-character URI")
    t.eq(rec.path, "/api" + path, "the whole path reaches the provider")
    r = xroad_call(node, E, "/" + "u" * 20000)
    is_xroad_error(t, r, "Client.BadRequest", "a 20000-character URI")


# --- percent-encoding -----------------------------------------------------------------------
@s.test("REST-ENC-1", PR_REST + " §4.2 URI Sanitation", "each identifier part is percent-decoded on its own; an "
        "encoded / stays inside its part")
def enc1(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/EE/GOV/7000000%31/registry/%65cho/x", [("X-Road-Client", CLIENT)])
    rec = w.echo.last
    reached(t, r, rec, "GET /r1/EE/GOV/7000000%31/registry/%65cho/x")
    t.eq(rec.target, "/api/x", "the encoded identifiers name the echo service")
    t.eq(r.get("x-road-service"), E, "X-Road-Service names the decoded service")
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/EE/GOV/70000001/registry%2Fecho/x", [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, {"Server.ClientProxy.UnknownMember", "Server.ServerProxy.UnknownService"},
                   "subsystem 'registry/echo' (an encoded / inside the part) does not exist")
    not_reached(t, "registry%2Fecho")


@s.test("REST-ENC-2", PR_REST + " §4.2 URI Sanitation; RFC 3986 §2.1, §3.3", "a broken escape or a raw non-ASCII "
        "byte in an identifier is refused (contract: Client.BadRequest); hex digits in either case")
def enc2(t):
    for seg in ("regist%2", "regist%4", "regist%G1", "regist\xc3\xb6ry"):
        w.echo.reset()
        target = b"/r1/EE/GOV/70000001/" + seg.encode("latin-1") + b"/echo/x"
        r = send(node, CLIENT, "GET", target, [("X-Road-Client", CLIENT)])
        is_xroad_error(t, r, "Client.BadRequest", "identifier segment %r" % seg)
        not_reached(t, repr(seg))
    for code in ("ech%6f", "ech%6F"):
        w.echo.reset()
        r = send(node, CLIENT, "GET", "/r1/EE/GOV/70000001/registry/%s/x" % code, [("X-Road-Client", CLIENT)])
        t.check(r.status == 200 and w.echo.last is not None, "service code %s is 'echo'" % code, r)


@s.test("REST-ENC-3", PR_REST + " §4.2 URI Sanitation (the invalid example)",
        "the whole service id encoded as one segment is refused (contract: Client.BadRequest)")
def enc3(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/EE%2FGOV%2F70000001%2Fregistry%2Fecho", [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, "Client.BadRequest", "GET /r1/EE%2FGOV%2F70000001%2Fregistry%2Fecho")
    not_reached(t, "one encoded segment")


@s.test("REST-ENC-4", PR_REST + " §4.1 REST Interface, §4.2 URI Sanitation",
        "the service path reaches the provider raw, escapes untouched")
def enc4(t):
    path = "/name/J%C3%BCri%20Tamm/a%2Fb/p%3B/%7e"
    r, rec = echo_call(path)
    reached(t, r, rec, "GET .../echo" + path)
    t.eq(rec.path, "/api" + path, "the provider's raw path")


@s.test("REST-ENC-5", PR_REST + " §4.2 URI Sanitation (SSRF); §4.6 Error handling",
        "access rights are matched on the decoded, normalised path: an encoded dot-dot does not escape a right "
        "(contract: Server.ServerProxy.AccessDenied)")
def enc5(t):
    r, rec = echo_call("/v1/public/x", client=LIMITED)
    reached(t, r, rec, "the limited client inside its right (GET /v1/public/**)")
    for path in ("/v1/public/%2e%2e/secret", "/v1/public/%2E%2E/secret", "/v1/public/.%2e/secret"):
        w.echo.reset()
        r = xroad_call(node, E, path, client=LIMITED)
        is_xroad_error(t, r, "Server.ServerProxy.AccessDenied", "GET .../echo" + path)
        not_reached(t, path)


@s.test("REST-ENC-6", PR_REST + " §4.8 Identifier Character Restrictions",
        "identifiers outside the allowed characters cannot be registered; asking for one is an "
        "unknown-service error, not a crash")
def enc6(t):
    for bad in ("a;b", "a:b", "a%41b"):
        regdir = os.path.join(w.tmp, "badreg-%d" % ord(bad[1]))
        os.makedirs(regdir, exist_ok=True)
        extra = "[service %s/%s]\ntitle = bad\nmethods = GET\npersonal-data = no\nadapter = rest\n" % (PROVIDER, bad)
        text = registry_text(extra_services=extra).replace("@SCHEMAS@", w.schemas)
        open(os.path.join(regdir, "00-xroad.conf"), "w").write(text)
        conf = os.path.join(regdir, "xbusd.conf")
        open(conf, "w").write("[node]\nstate-dir = %s\nregistry = %s\n" % (os.path.join(regdir, "state"), regdir))
        res = subprocess.run([harness.binary("xbusd"), "--test-config", conf], capture_output=True, text=True)
        t.check(res.returncode != 0 and bad in (res.stdout + res.stderr),
                "a registry with service code %r is refused, naming it" % bad,
                (res.returncode, (res.stdout + res.stderr)[-200:]))
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/EE/GOV/70000001/registry/a%3Bb", [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, "Server.ServerProxy.UnknownService", "GET .../registry/a%3Bb")
    h = node.request(None, "GET", "/health")
    t.eq(h.status, 200, "the node is still healthy")


s.not_applicable("REST-ENC-1/-2 (identifiers with '/', spaces or UTF-8)", PR_REST + " §4.2 URI Sanitation",
                 "xbus registers only identifiers of letters, digits, '.', '_' and '-' (docs/registry.md, in line "
                 "with §4.8), so a service whose code holds an encoded '/' or UTF-8 cannot exist on a node; decoding "
                 "is tested with encoded characters that can be registered")


# --- request headers --------------------------------------------------------------------------
@s.test("REST-HDR-1", PR_REST + " §4.3 Use of HTTP Headers (mandatory X-Road-Client)", "X-Road-Client: any case "
        "of the name, percent-encoded parts; 3 or 4 parts only (contract: Client.InvalidClientIdentifier)")
def hdr1(t):
    r, rec = echo_call("/h", client=None, headers=[("x-road-client", CLIENT)], cert_of=CLIENT)
    reached(t, r, rec, "header name x-road-client")
    r, rec = echo_call("/h", client="EE/GOV/7000000%32/%70ortal", cert_of=CLIENT)
    reached(t, r, rec, "X-Road-Client: EE/GOV/7000000%32/%70ortal")
    t.eq(r.get("x-road-client"), CLIENT, "the answer's X-Road-Client is the decoded client")
    for bad in ("EE/GOV", "EE/GOV/70000002/portal/x", "EE/GOV/70000002/port%2"):
        w.echo.reset()
        r = xroad_call(node, E, "/h", client=bad, cert_of=CLIENT)
        is_xroad_error(t, r, "Client.InvalidClientIdentifier", "X-Road-Client: " + bad)
        not_reached(t, bad)


s.not_applicable("REST-HDR-1 (member-level client)", PR_REST + " §4.3 Use of HTTP Headers",
                 "xbus clients are subsystems (certificates and rights name subsystems, docs/registry.md): a "
                 "member-level X-Road-Client cannot be registered")


@s.test("REST-HDR-2", PR_REST + " §4.3 Use of HTTP Headers (mandatory X-Road-Client)",
        "a missing X-Road-Client is an X-Road error (contract: Client.InvalidClientIdentifier, 400)")
def hdr2(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/" + E + "/h", [])
    is_xroad_error(t, r, "Client.InvalidClientIdentifier", "no X-Road-Client")
    not_reached(t, "no X-Road-Client")


@s.test("REST-HDR-3", PR_REST + " §4.3 Use of HTTP Headers (multiple X-Road-Client headers)",
        "with two X-Road-Client headers the last one is the client")
def hdr3(t):
    w.echo.reset()
    r = send(node, CLIENT, "GET", "/r1/" + E + "/h", [("X-Road-Client", OTHER), ("X-Road-Client", CLIENT)])
    reached(t, r, w.echo.last, "X-Road-Client: other, then X-Road-Client: portal (portal's certificate)")
    t.eq(r.all("x-road-client"), [CLIENT], "the answer names the last one, once")


@s.test("REST-HDR-4", PR_REST + " §4.7 Security; §4.6 Error handling", "the client must be registered and prove "
        "its identity with its certificate (contract codes: SslAuthenticationFailed, UnknownMember)")
def hdr4(t):
    w.echo.reset()
    r = send(node, None, "GET", "/r1/" + E + "/h", [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, "Server.ClientProxy.SslAuthenticationFailed", "no client certificate")
    r = send(node, OTHER, "GET", "/r1/" + E + "/h", [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, "Server.ClientProxy.SslAuthenticationFailed", "another subsystem's certificate")
    r = send(node, CLIENT, "GET", "/r1/" + E + "/h", [("X-Road-Client", "EE/GOV/99999999/ghost")])
    is_xroad_error(t, r, "Server.ClientProxy.UnknownMember", "an X-Road-Client that is not registered")
    not_reached(t, "unauthenticated clients")


@s.test("REST-HDR-5", PR_REST + " §4.3 Use of HTTP Headers (optional X-Road-Id)", "X-Road-Id: any printable "
        "string kept byte for byte; generated when absent; echoed (contract: 1..255 bytes, else Client.BadRequest)")
def hdr5(t):
    xid = "my id/\u00e4 42"
    r, rec = echo_call("/h", headers=[("X-Road-Id", xid)])
    reached(t, r, rec, "X-Road-Id with a space, '/' and UTF-8")
    t.eq(rec.raw("x-road-id"), xid.encode("utf-8"), "the provider sees it byte for byte")
    t.eq(r.raw("x-road-id"), xid.encode("utf-8"), "the answer echoes it byte for byte")
    r, rec = echo_call("/h")
    reached(t, r, rec, "no X-Road-Id")
    gen = rec.get("x-road-id")
    t.check(gen, "the provider gets a generated X-Road-Id")
    t.eq(r.get("x-road-id"), gen, "the answer carries the same generated id")
    r, rec = echo_call("/h", headers=[("X-Road-Id", "i" * 255)])
    t.check(r.status == 200 and rec is not None and rec.get("x-road-id") == "i" * 255, "a 255-byte X-Road-Id", r)
    w.echo.reset()
    r = xroad_call(node, E, "/h", headers=[("X-Road-Id", "i" * 256)])
    is_xroad_error(t, r, "Client.BadRequest", "a 256-byte X-Road-Id")


@s.test("REST-HDR-6", PR_REST + " §4.3 Use of HTTP Headers (optional X-Road-UserId)",
        "X-Road-UserId is free text, forwarded unchanged")
def hdr6(t):
    for v in ("EE38001010000", "someone else (no country prefix)"):
        r, rec = echo_call("/h", headers=[("X-Road-UserId", v)])
        reached(t, r, rec, "X-Road-UserId: " + v)
        t.eq(rec.get("x-road-userid"), v, "the provider sees X-Road-UserId")


@s.test("REST-HDR-7", PR_REST + " §4.3 Use of HTTP Headers (optional X-Road-Issue)",
        "X-Road-Issue is free text, forwarded unchanged")
def hdr7(t):
    v = "MT324223MSD / case 7: \u00f5ige"
    r, rec = echo_call("/h", headers=[("X-Road-Issue", v)])
    reached(t, r, rec, "X-Road-Issue")
    t.eq(rec.raw("x-road-issue"), v.encode("utf-8"), "the provider sees X-Road-Issue byte for byte")


@s.test("REST-HDR-8", PR_REST + " §4.3 (X-Road-Represented-Party); " + PR_THIRD + " §2.2",
        "X-Road-Represented-Party is [class/]code, forwarded unchanged; more parts are refused "
        "(contract: validated; Client.BadRequest)")
def hdr8(t):
    for v in ("COM/12345", "12345", "COM/1234%2F5"):
        r, rec = echo_call("/h", headers=[("X-Road-Represented-Party", v)])
        reached(t, r, rec, "X-Road-Represented-Party: " + v)
        t.eq(rec.get("x-road-represented-party"), v, "the provider sees it unchanged")
    w.echo.reset()
    r = xroad_call(node, E, "/h", headers=[("X-Road-Represented-Party", "EE/COM/12345")])
    is_xroad_error(t, r, "Client.BadRequest", "three parts")
    not_reached(t, "three parts")


@s.test("REST-HDR-9", PR_REST + " §4.3 (X-Road-Security-Server); " + PR_TARGET + " §2.2-2.3",
        "X-Road-Security-Server must name this node (contract: default %s; Server.ClientProxy."
        "InvalidSecurityServer)" % SECURITY_SERVER)
def hdr9(t):
    r, rec = echo_call("/h", headers=[("X-Road-Security-Server", SECURITY_SERVER)])
    reached(t, r, rec, "the node's own id")
    r, rec = echo_call("/h", headers=[("X-Road-Security-Server", SECURITY_SERVER.replace(".", "%2E"))])
    reached(t, r, rec, "the node's own id, percent-encoded")
    w.echo.reset()
    r = xroad_call(node, E, "/h", headers=[("X-Road-Security-Server", "EE/GOV/XBUS/another")])
    is_xroad_error(t, r, "Server.ClientProxy.InvalidSecurityServer", "another server's id")
    r = xroad_call(node, E, "/h", headers=[("X-Road-Security-Server", "A/B/C")])
    is_xroad_error(t, r, {"Server.ClientProxy.InvalidSecurityServer", "Client.BadRequest"}, "three parts")
    not_reached(t, "a wrong security server")


@s.test("REST-HDR-10", PR_REST + " §4.3 Use of HTTP Headers (request hash header; X-Road-Request-Id)",
        "a client's X-Road-Request-Id and X-Road-Request-Hash are dropped; the node's own request id goes to "
        "the provider and back")
def hdr10(t):
    r, rec = echo_call("/h", headers=[("X-Road-Request-Id", "foo"), ("X-Road-Request-Hash", "bar")])
    reached(t, r, rec, "a client-sent request id and hash")
    got = rec.all("x-road-request-id")
    t.check(len(got) == 1 and UUID_RE.match(got[0] or "") is not None,
            "the provider sees one x-road-request-id, a UUID", got)
    t.check("bar" not in rec.all("x-road-request-hash"), "the client's X-Road-Request-Hash is not forwarded")
    t.eq(r.get("x-road-request-id"), got[0] if got else None, "the answer's X-Road-Request-Id is the provider's")


s.run()
w.stop()
s.finish()
