#!/usr/bin/env python3
"""test_rest_errors.py: errors the node itself produces on the X-Road REST profile
(PR-REST 1.0.4 §4.3 X-Road error header, §4.6 Error handling; PR-MREST 0.8 §5; requirements
REST-ERR-1..7 of the digest, with the codes of its table REST-ERR-7 and section H as adopted by
the contract: spec CamelCase codes, status 400 for Client.* and 500 for the rest, problem+json
only on request)."""
import re
import xml.etree.ElementTree as ET

from xroadlib import (CLIENT, CODE_RE, ERRORS_SEEN, NODEFAULT, NORIGHTS, OTHER, PR_MREST, PR_REST, PROVIDER,
                      UUID_RE, Script, Suite, World, is_xroad_error, registry_text, send, start_world, xroad_call)

s = Suite("rest-errors")
w = start_world(s)
node = w.node
E = PROVIDER + "/echo"
UNKNOWN = PROVIDER + "/nosuchservice"
ERR = PR_REST + " §4.6 Error handling"


@s.test("REST-ERR-1", ERR + " (examples 2-4)", "a JSON error body has exactly type, message and detail (a UUID)")
def err1(t):
    r = xroad_call(node, UNKNOWN)
    is_xroad_error(t, r, "Server.ServerProxy.UnknownService", "an unknown service")
    a, b = xroad_call(node, UNKNOWN), xroad_call(node, UNKNOWN)
    try:
        t.check(a.json()["detail"] != b.json()["detail"], "each error has its own detail UUID")
    except (ValueError, KeyError, TypeError):
        t.check(False, "each error has its own detail UUID", (a, b))


def xml_error(t, r, media, what):
    ct = (r.get("content-type") or "").replace(" ", "").lower()
    t.eq(ct, media + ";charset=utf-8", what + ": Content-Type")
    try:
        root = ET.fromstring(r.body)
    except ET.ParseError as e:
        return t.check(False, what + ": the body is XML", "%s: %r" % (e, r.body[:100]))
    t.eq(root.tag, "error", what + ": the root is <error> without a namespace")
    t.eq([c.tag for c in root], ["type", "message", "detail"], what + ": children type, message, detail in order")
    t.check(all(len(c) == 0 for c in root), what + ": the children hold text only")
    t.eq(root.findtext("type"), r.get("x-road-error"), what + ": /error/type = X-Road-Error")
    t.check(UUID_RE.match(root.findtext("detail") or "") is not None, what + ": /error/detail is a UUID")


@s.test("REST-ERR-2", ERR + " (honour Accept)", "with Accept: application/xml the error is <error><type/><message/>"
        "<detail/></error>")
def err2(t):
    r = xroad_call(node, UNKNOWN, headers=[("Accept", "application/xml")])
    t.need(r.status == 500, "an unknown service with Accept: application/xml", r)
    xml_error(t, r, "application/xml", "XML error")


@s.test("REST-ERR-3", PR_REST + " §4.3 Use of HTTP Headers (X-Road error header); " + ERR,
        "every node error carries X-Road-Error equal to the body's type")
def err3(t):
    cases = [("an unknown service", lambda: xroad_call(node, UNKNOWN)),
             ("no X-Road-Client", lambda: send(node, CLIENT, "GET", "/r1/" + E, [])),
             ("no access right", lambda: xroad_call(node, E, client=NORIGHTS)),
             ("a wrong security server",
              lambda: xroad_call(node, E, headers=[("X-Road-Security-Server", "EE/GOV/XBUS/another")]))]
    for what, call in cases:
        r = call()
        try:
            typ = r.json().get("type")
        except (ValueError, AttributeError):
            typ = None
        t.check(r.get("x-road-error") and r.get("x-road-error") == typ, what + ": X-Road-Error = type",
                (r.get("x-road-error"), typ))


ACCEPT_CASES = [(None, "application/json"), ("*/*", "application/json"), ("foobarbaz", "application/json"),
                ("text/xml-patch+xml", "application/json"), ("application/json, application/xml", "application/xml"),
                ("application/xml; q=0.2", "application/xml"),
                ("text/xml, application/xml, application/json", "text/xml"),
                ("text/*", "text/xml"), ("application/json;q=1, text/xml;q=0.1", "text/xml")]


@s.test("REST-ERR-4", ERR + " (honour Accept, default application/json); RestProxyTest.shouldRespectAcceptHeader"
        "InErrorResponse", "the first text/xml, application/xml or text/* in Accept (q ignored) gives XML, "
        "anything else JSON")
def err4(t):
    for accept, want in ACCEPT_CASES:
        r = xroad_call(node, UNKNOWN, headers=[("Accept", accept)] if accept else [])
        what = "Accept: %s" % accept
        if want == "application/json":
            is_xroad_error(t, r, "Server.ServerProxy.UnknownService", what)
        else:
            xml_error(t, r, want, what)


@s.test("REST-ERR-4-EXT", "contract: xbus extension beside " + ERR, "Accept: application/problem+json, or the "
        "client's registry key error-format = problem, gives RFC 9457 with the xbus type, X-Road-Error the X-Road code")
def err4ext(t):
    def problem(r, what):
        t.eq(r.media_type(), "application/problem+json", what + ": Content-Type")
        try:
            body = r.json()
        except ValueError:
            return t.check(False, what + ": JSON body", r.body[:100])
        t.eq((body.get("type"), body.get("status"), r.status), ("service_unknown", 404, 404),
             what + ": xbus type and its status (contract: problem+json keeps today's statuses)")
        t.eq(r.get("x-road-error"), "Server.ServerProxy.UnknownService", what + ": X-Road-Error has the X-Road code")
        t.eq(body.get("xroad_code"), "Server.ServerProxy.UnknownService", what + ": xroad_code in the body")
    problem(xroad_call(node, UNKNOWN, headers=[("Accept", "application/problem+json")]),
            "Accept: application/problem+json")
    problem(xroad_call(node, UNKNOWN, headers=[("Accept", "application/xml, application/problem+json")]),
            "problem+json checked before the X-Road rule")
    text = registry_text().replace("tls-cn = %s\n" % NORIGHTS, "tls-cn = %s\nerror-format = problem\n" % NORIGHTS)
    w2 = World(registry=text)
    try:
        t.need(w2.error is None, "a registry with error-format = problem on a client loads", w2.error)
        problem(xroad_call(w2.node, UNKNOWN, client=NORIGHTS), "a client with error-format = problem")
        is_xroad_error(t, xroad_call(w2.node, UNKNOWN), "Server.ServerProxy.UnknownService",
                       "the other clients keep the X-Road format")
    finally:
        w2.stop()


# --- REST-ERR-7: one test per code the node can produce -------------------------------------
CODES = PR_REST + " §4.6; digest REST-ERR-7 and section H (contract)"


def row(code, title, doc=CODES):
    return s.test("REST-ERR-7 %s" % code, doc, title)


@row("Client.BadRequest", "a malformed request (PR-REST §4.6 example 3)")
def r_bad(t):
    w.echo.reset()
    is_xroad_error(t, send(node, CLIENT, "GET", "/r1/EE/GOV", [("X-Road-Client", CLIENT)]), "Client.BadRequest",
                   "GET /r1/EE/GOV")
    is_xroad_error(t, send(node, CLIENT, "GET", "/nothing-here", [("X-Road-Client", CLIENT)]), "Client.BadRequest",
                   "a path outside /r1 (contract)")
    t.eq(w.echo.last, None, "the provider was not called")


@row("Client.InvalidClientIdentifier", "X-Road-Client missing or unparsable")
def r_cid(t):
    is_xroad_error(t, send(node, CLIENT, "GET", "/r1/" + E, []), "Client.InvalidClientIdentifier", "missing")
    is_xroad_error(t, xroad_call(node, E, client="EE/GOV"), "Client.InvalidClientIdentifier", "two parts")


@row("Client.InvalidProtocolVersion", "an unsupported /rN/ (contract)")
def r_ver(t):
    is_xroad_error(t, send(node, CLIENT, "GET", "/r9/" + E, [("X-Road-Client", CLIENT)]),
                   "Client.InvalidProtocolVersion", "GET /r9/...")


@row("Server.ClientProxy.UnknownMember", "the client, or the provider member, is not registered")
def r_member(t):
    is_xroad_error(t, xroad_call(node, E, client="EE/GOV/99999999/ghost", cert_of=CLIENT),
                   "Server.ClientProxy.UnknownMember", "an unregistered X-Road-Client")
    is_xroad_error(t, xroad_call(node, "EE/GOV/99999999/ghost/echo"), "Server.ClientProxy.UnknownMember",
                   "an unregistered provider member")


@row("Server.ClientProxy.SslAuthenticationFailed", "the client certificate is missing or another subsystem's")
def r_ssl(t):
    is_xroad_error(t, xroad_call(node, E, cert_of=OTHER), "Server.ClientProxy.SslAuthenticationFailed",
                   "another subsystem's certificate")
    r = send(node, None, "GET", "/r1/" + E, [("X-Road-Client", CLIENT)])
    is_xroad_error(t, r, "Server.ClientProxy.SslAuthenticationFailed", "no certificate")


@row("Server.ClientProxy.InvalidSecurityServer", "X-Road-Security-Server names another server")
def r_ss(t):
    is_xroad_error(t, xroad_call(node, E, headers=[("X-Road-Security-Server", "EE/GOV/XBUS/another")]),
                   "Server.ClientProxy.InvalidSecurityServer", "another server")


@row("Server.ServerProxy.UnknownService", "no such service")
def r_unknown(t):
    is_xroad_error(t, xroad_call(node, UNKNOWN), "Server.ServerProxy.UnknownService", "an unknown service code")


@row("Server.ServerProxy.AccessDenied", "no right; a method or path the right or service does not cover; "
     "no purpose where the right has no default (contract)")
def r_denied(t):
    w.echo.reset()
    is_xroad_error(t, xroad_call(node, E, client=NORIGHTS), "Server.ServerProxy.AccessDenied", "no right at all")
    is_xroad_error(t, xroad_call(node, PROVIDER + "/pets", "/pets/1", method="PUT", body=b"{}",
                                 headers=[("Content-Type", "application/json")]),
                   "Server.ServerProxy.AccessDenied", "PUT, which the service does not offer")
    is_xroad_error(t, xroad_call(node, PROVIDER + "/pets", "/owners/1"), "Server.ServerProxy.AccessDenied",
                   "a path the service does not serve")
    r = xroad_call(node, E, client=NODEFAULT)
    if is_xroad_error(t, r, "Server.ServerProxy.AccessDenied", "a right without a default purpose, no X-Bus-Purpose"):
        t.check("purpose" in r.json().get("message", "").lower(), "the message says purpose", r.json())
    t.eq(w.echo.last, None, "the provider was not called")


@row("Server.ServerProxy.NetworkError", "the REST backend is unreachable (PR-REST §4.6 example 2)")
def r_net(t):
    is_xroad_error(t, xroad_call(node, PROVIDER + "/down", "/x"), "Server.ServerProxy.NetworkError",
                   "connection refused")


@row("Server.ServerProxy.IOError", "the REST backend does not answer in time (section H: provider_timeout)")
def r_io(t):
    is_xroad_error(t, xroad_call(node, PROVIDER + "/slow", "/x"), "Server.ServerProxy.IOError", "a read timeout")


@row("Server.ServerProxy.InvalidRequest", "getOpenAPI without serviceCode", doc=PR_MREST + " §5; digest MREST-5")
def r_invreq(t):
    is_xroad_error(t, xroad_call(node, PROVIDER + "/getOpenAPI"), "Server.ServerProxy.InvalidRequest", "no serviceCode")
    is_xroad_error(t, xroad_call(node, PROVIDER + "/getOpenAPI", query="serviceCode="),
                   "Server.ServerProxy.InvalidRequest", "an empty serviceCode")


@row("Client.BadRequest (size)", "a body over the service's limit (contract)")
def r_size(t):
    is_xroad_error(t, xroad_call(node, E, method="POST", body=b"x" * (3 * 1024 * 1024),
                                 headers=[("Content-Type", "text/plain")]), "Client.BadRequest",
                   "3 MiB to a 2 MiB service")


@row("Client.InvalidBody", "a request body that breaks the service's request schema (section H: request_invalid)")
def r_body(t):
    w.pets.reset()
    is_xroad_error(t, xroad_call(node, PROVIDER + "/pets", "/pets", method="POST", body=b'{"nme":1}',
                                 headers=[("Content-Type", "application/json")]), "Client.InvalidBody",
                   "POST /pets with a body the schema refuses")
    t.eq(w.pets.last, None, "the provider was not called")


@row("Server.ServerProxy.ServiceFailed.InvalidResponse", "a provider answer that breaks the response schema "
     "(section H: response_invalid)")
def r_resp(t):
    w.pets.reset(Script(200, [("Content-Type", "application/json")], b'{"unexpected":true}'))
    r = xroad_call(node, PROVIDER + "/pets", "/pets", method="POST", body=b'{"name":"Rex"}',
                   headers=[("Content-Type", "application/json")])
    is_xroad_error(t, r, "Server.ServerProxy.ServiceFailed.InvalidResponse", "an answer the schema refuses")
    t.check(b"unexpected" not in r.body, "the refused answer is withheld")


for code, why in (("Server.ClientProxy.MaintenanceMode", "a provider security server in maintenance: xbus has no "
                   "separate provider-side server to put in maintenance (its shutdown is the contract's Busy)"),
                  ("Server.ClientProxy.OutdatedGlobalConf", "there is no global configuration to expire"),
                  ("Server.ClientProxy.NetworkError", "there is no second security server to be unreachable"),
                  ("Server.ClientProxy.InconsistentResponse", "no provider-side server can disagree with the node"),
                  ("Server.ServerProxy.DatabaseError", "no provider-side server database exists to fail"),
                  ("Server.*.LoggingFailed", "a failing exchange log cannot be provoked from the outside of a running "
                   "node (covered by the integration tests' log failure tests, not an X-Road client's view)"),
                  ("Server.ServerProxy.ServiceDisabled", "the xbus registry has no disabled state for a service"),
                  ("Server.ServerProxy.ServiceMissingUrl/ServiceMalformedUrl", "backend URLs live in the adapters, "
                   "not in the node"),
                  ("Server.ServerProxy.ServiceType (over REST)", "every xbus service is served over REST (a SOAP "
                   "rendering is in addition); the SOAP direction is tested in test_soap.py"),
                  ("Server.ClientProxy.ServiceFailed.*", "no second node's answer to decode")):
    s.not_applicable("REST-ERR-7 " + code, CODES, why)


# --- over everything this group saw -----------------------------------------------------------
@s.test("REST-ERR-5", ERR + " (four categories)", "node errors use 400 (client fault) and 500 only; the status "
        "follows the code prefix (contract)")
def err5(t):
    is_xroad_error(t, xroad_call(node, E, client="EE/GOV"), re.compile(r"^Client\."), "a malformed X-Road-Client")
    is_xroad_error(t, xroad_call(node, E, client=NORIGHTS), "Server.ServerProxy.AccessDenied", "access denied")
    is_xroad_error(t, xroad_call(node, PROVIDER + "/down"), re.compile(r"^Server\."), "the provider is down")
    seen = [(c, st) for c, st, port in ERRORS_SEEN if port == node.port]
    t.need(len(seen) > 20, "this group saw the node's errors", len(seen))
    bad = sorted(set((c, st) for c, st in seen if st != (400 if c.startswith("Client.") else 500)))
    t.eq(bad, [], "every X-Road error of this group had status 400 for Client.* and 500 otherwise "
         "(problem+json answers excepted)")


@s.test("REST-ERR-6", ERR + " (the type field shows the origin; example 5 B)", "codes are Client.*, "
        "Server.ClientProxy.* (consumer side) or Server.ServerProxy.* (provider side)")
def err6(t):
    codes = sorted(set(c for c, _, port in ERRORS_SEEN if port == node.port))
    t.need(len(codes) > 5, "this group saw the node's errors", codes)
    t.eq([c for c in codes if not CODE_RE.match(c)], [], "every X-Road-Error this group saw has an origin prefix")
    sides = {"Server.ClientProxy.": [xroad_call(node, E, headers=[("X-Road-Security-Server", "EE/GOV/XBUS/x")]),
                                     xroad_call(node, E, cert_of=OTHER)],
             "Server.ServerProxy.": [xroad_call(node, UNKNOWN), xroad_call(node, E, client=NORIGHTS),
                                     xroad_call(node, PROVIDER + "/down")],
             "Client.": [send(node, CLIENT, "GET", "/r1/" + E, [])]}
    for prefix, rs in sides.items():
        for r in rs:
            t.check((r.get("x-road-error") or "").startswith(prefix), "%s error from that side" % prefix,
                    r.get("x-road-error"))


s.run()
w.stop()
s.finish()
