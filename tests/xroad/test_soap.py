#!/usr/bin/env python3
"""test_soap.py: the X-Road SOAP profile (PR-MESS 4.0 §2 Format of Messages, §3.2, Annexes D-G;
PR-THIRDPARTY; PR-TARGETSS) and the SOAP metaservices (PR-META 2.16 §3, §4; requirements SOAP-*
and META-SOAP-*). Requests are written as an unmodified X-Road SOAP client writes them: the
X-Road header only (no xbus elements), POST / with text/xml. The provider is a SOAP echo behind
xbus-adapter-soap that answers as an X-Road provider does (header copied, `<code>Response`)."""
import email.parser
import re
import xml.etree.ElementTree as ET

from xroadlib import (ASSIST, CLIENT, LIMITED, PURPOSE, NORIGHTS, PR_MESS, PR_META, PR_TARGET, PR_THIRD, PROVIDER,
                      SECURITY_SERVER, SOAP_NS, SOAP_SERVICES, UUID_RE, Script, Suite, send, soap_echo_answer,
                      soap_request_hash, start_world)

s = Suite("soap")
w = start_world(s)
node = w.node
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XRD = "http://x-road.eu/xsd/xroad.xsd"
IDN = "http://x-road.eu/xsd/identifiers"
REPR = "http://x-road.eu/xsd/representation.xsd"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
BODY = "<ns1:citizen><personCode>38001010000</personCode></ns1:citizen>"
DOC_FAULT = PR_MESS + " §2.5 Fault Messages; Annex D.1"


def ident(tag, oid, otype, p):
    parts = oid.split("/")
    names = ["xRoadInstance", "memberClass", "memberCode", "subsystemCode", "serviceCode", "serviceVersion"]
    if otype == "SERVER":
        names = ["xRoadInstance", "memberClass", "memberCode", "serverCode"]
    inner = "".join("<{i}:{n}>{v}</{i}:{n}>".format(i=p["id"], n=n, v=v) for n, v in zip(names, parts))
    return '<{x}:{t} {i}:objectType="{o}">{inner}</{x}:{t}>'.format(x=p["xrd"], t=tag, i=p["id"], o=otype, inner=inner)


def envelope(body=BODY, client=CLIENT, service=PROVIDER + "/citizen", xid="soap-1", protocol="4.0", extra="",
             prefixes=None, header=True, fields=None, client_type=None):
    """An X-Road 4.0 request. fields: the header elements in order, as (name, xml) pairs, to edit."""
    p = prefixes or {"env": "SOAP-ENV", "xrd": "xrd", "id": "id"}
    ctype = client_type or ("SUBSYSTEM" if client.count("/") == 3 else "MEMBER")
    f = [("client", ident("client", client, ctype, p)), ("service", ident("service", service, "SERVICE", p)),
         ("id", "<{x}:id>{v}</{x}:id>".format(x=p["xrd"], v=xid)),
         ("protocolVersion", "<{x}:protocolVersion>{v}</{x}:protocolVersion>".format(x=p["xrd"], v=protocol))]
    if fields:
        f = fields(f, p)
    head = ("<{e}:Header>".format(e=p["env"]) + "".join(x for _, x in f) + extra + "</{e}:Header>".format(e=p["env"])
            ) if header else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><{e}:Envelope xmlns:{e}="{env}" xmlns:{x}="{xrd}" xmlns:{i}="{idn}" '
            'xmlns:ns1="{ns}">{head}<{e}:Body>{body}</{e}:Body></{e}:Envelope>').format(
        e=p["env"], env=ENV, x=p["xrd"], xrd=XRD, i=p["id"], idn=IDN, ns=SOAP_NS, head=head,
        body=body).encode("utf-8")


def soap(xml, cert=CLIENT, ctype="text/xml; charset=utf-8", action='""', method="POST", headers=()):
    if ASSIST and xml:   # diagnostics only (see xroadlib.ASSIST): the purpose a default would supply
        xml = re.sub(rb"(</[\w.-]+:Header>)", b'<xbus:purpose xmlns:xbus="https://schemas.xbus.gov.vn/soap/header">'
                     + PURPOSE.encode() + rb"</xbus:purpose>\1", xml, count=1)
    h = [("Content-Type", ctype)] if ctype else []
    if action is not None:
        h.append(("SOAPAction", action))
    return send(node, cert, method, "/", h + list(headers), body=xml if method == "POST" else None)


def parse(r):
    try:
        return ET.fromstring(r.body)
    except ET.ParseError:
        return None


def fault_of(r):
    root = parse(r)
    if root is None or root.tag != "{%s}Envelope" % ENV:
        return None
    return root.find("{%s}Body/{%s}Fault" % (ENV, ENV))


def is_fault(t, r, code, what):
    """An X-Road fault (PR-MESS §2.5, Annex D.1): HTTP 200, text/xml;charset=utf-8, Body/Fault with
    unqualified faultcode (the dotted code as text), faultstring, faultactor, detail/faultDetail (a UUID)."""
    if r.status is None:
        return t.check(False, what, "no answer (%s)" % r.error)
    f = fault_of(r)
    if not t.check(f is not None, what + ": a SOAP Fault", r):
        return False
    fc = f.find("faultcode")
    got = fc.text.strip() if fc is not None and fc.text else None
    want = code if isinstance(code, (set, frozenset)) else {code}
    ok = t.check(got in want, what + ": faultcode", "got %r (status %s), want %s" % (
        got if fc is not None else [c.tag for c in f], r.status, sorted(want)))
    ok = t.check(r.status == 200, what + ": HTTP 200", r.status) and ok
    ok = t.eq((r.get("content-type") or "").replace(" ", "").lower(), "text/xml;charset=utf-8",
              what + ": Content-Type") and ok
    ok = t.check(f.find("faultstring") is not None and f.find("faultactor") is not None,
                 what + ": unqualified faultstring and faultactor", [c.tag for c in f]) and ok
    fd = f.find("detail/faultDetail")
    ok = t.check(fd is not None and UUID_RE.match((fd.text or "").strip()) is not None,
                 what + ": detail/faultDetail is a UUID", [c.tag for c in f]) and ok
    return ok


def ok_answer(t, r, what, wrapper="citizenResponse"):
    root = parse(r)
    t.need(r.status == 200 and root is not None and fault_of(r) is None, what + ": answered without a Fault", r)
    body = root.find("{%s}Body" % ENV)
    kids = list(body) if body is not None else []
    t.need(len(kids) == 1, what + ": one Body child", [k.tag for k in kids])
    t.eq(kids[0].tag, "{%s}%s" % (SOAP_NS, wrapper), what + ": the answer's wrapper")
    return root


def header_of(root):
    h = root.find("{%s}Header" % ENV)
    return list(h) if h is not None else []


@s.test("SOAP-ENV-1", PR_MESS + " §1, §2 Format of Messages", "SOAP over HTTP POST with text/xml: another method or "
        "media type is a fault (Client.InvalidHttpMethod, Client.InvalidContentType)")
def env1(t):
    is_fault(t, soap(None, method="GET", ctype=None, action=None), "Client.InvalidHttpMethod", "GET /")
    is_fault(t, soap(envelope(), ctype="application/json"), "Client.InvalidContentType", "POST application/json")
    ok_answer(t, soap(envelope()), "POST text/xml")


@s.test("SOAP-HDR-1", PR_MESS + " §2.1 Identifiers, §2.2 Message Headers, Annex E.1", "the header's namespaces "
        "count, not its prefixes")
def hdr1(t):
    w.soap.reset()
    ok_answer(t, soap(envelope(prefixes={"env": "a", "xrd": "b", "id": "c"})), "prefixes a:, b:, c:")
    t.check(w.soap.last is not None, "the provider was called")


@s.test("SOAP-HDR-2", PR_MESS + " §2.2 Message Headers (Table 1); Annex B", "header errors: missing header, "
        "missing or repeated field, bad objectType, not XML")
def hdr2(t):
    w.soap.reset()
    is_fault(t, soap(envelope(header=False)), "Client.MissingHeader", "no Header")
    for name in ("client", "service", "id", "protocolVersion"):
        x = envelope(fields=lambda f, p, n=name: [e for e in f if e[0] != n])
        is_fault(t, soap(x), "Client.MissingHeaderField", "no %s" % name)
    x = envelope(fields=lambda f, p: f[:3] + [("id", "<xrd:id>again</xrd:id>")] + f[3:])
    is_fault(t, soap(x), "Client.DuplicateHeaderField", "id twice")
    x = envelope().replace(b' id:objectType="SUBSYSTEM"', b"", 1)
    is_fault(t, soap(x), "Client.InvalidXml", "client without objectType")
    x = envelope().replace(b'id:objectType="SUBSYSTEM"', b'id:objectType="SERVICE"', 1)
    is_fault(t, soap(x), "Client.InvalidXml", "client with objectType SERVICE")
    is_fault(t, soap(b"this is not XML <"), {"Client.InvalidXml", "Client.InvalidSoap"}, "not XML")
    t.eq(w.soap.last, None, "the provider was never called")


@s.test("SOAP-HDR-3", PR_MESS + " §2.2 Message Headers (protocolVersion)", "protocolVersion 4.x is accepted, "
        "another major version is Client.InvalidProtocolVersion")
def hdr3(t):
    ok_answer(t, soap(envelope(protocol="4.1")), "protocolVersion 4.1")
    is_fault(t, soap(envelope(protocol="5.0")), "Client.InvalidProtocolVersion", "protocolVersion 5.0")


@s.test("SOAP-HDR-4", PR_MESS + " §2.2; " + PR_THIRD + " §2.2-2.3; " + PR_TARGET + " §2.2-2.3",
        "representedParty, userId and issue reach the provider; securityServer must be this node")
def hdr4(t):
    rp = ('<repr:representedParty xmlns:repr="%s"><repr:partyClass>COM</repr:partyClass>'
          '<repr:partyCode>12345</repr:partyCode></repr:representedParty>' % REPR)

    def more(f, p):
        return f[:3] + [("userId", "<xrd:userId>EE38001010000</xrd:userId>"),
                        ("issue", "<xrd:issue>case-17</xrd:issue>")] + f[3:]
    w.soap.reset()
    ok_answer(t, soap(envelope(fields=more, extra=rp)), "with userId, issue and representedParty")
    got = w.soap.last.body if w.soap.last else b""
    for what, needle in (("userId", rb">EE38001010000<"), ("issue", rb">case-17<"), ("partyCode", rb">12345<"),
                         ("the representation namespace", REPR.encode())):
        t.check(re.search(needle, got) is not None, "the provider gets " + what)
    own = ident("securityServer", SECURITY_SERVER, "SERVER", {"xrd": "xrd", "id": "id"})
    ok_answer(t, soap(envelope(extra=own)), "securityServer = this node (%s)" % SECURITY_SERVER)
    other = ident("securityServer", "EE/GOV/XBUS/another", "SERVER", {"xrd": "xrd", "id": "id"})
    is_fault(t, soap(envelope(extra=other)), {"Server.ServerProxy.InvalidSecurityServer",
                                              "Server.ClientProxy.InvalidSecurityServer"}, "another securityServer")


@s.test("SOAP-BODY-1", PR_MESS + " §2.3 Message Body, §3.2 (wrapped style)", "the Body's one element is named after "
        "the service code; the answer's is that name + Response in the same namespace")
def body1(t):
    ok_answer(t, soap(envelope()), "<ns1:citizen>")
    is_fault(t, soap(envelope(body="<ns1:getCitizen/>")), "Client.InconsistentHeaders", "<ns1:getCitizen>")
    is_fault(t, soap(envelope(body=BODY + BODY)), "Client.InvalidBody", "two Body children")
    x = envelope().replace(b"<SOAP-ENV:Body>" + BODY.encode() + b"</SOAP-ENV:Body>", b"")
    is_fault(t, soap(x), "Client.MissingBody", "no Body")


@s.test("SOAP-BODY-2", PR_MESS + " §2.2 Message Headers (the response copies the header)", "the answer's header "
        "holds the request's fields in order, plus requestHash after id; an altered id is a fault")
def body2(t):
    def more(f, p):
        return f[:3] + [("userId", "<xrd:userId>EE1</xrd:userId>"), ("issue", "<xrd:issue>I-2</xrd:issue>")] + f[3:]
    req = envelope(fields=more, xid="echo-2")
    root = ok_answer(t, soap(req), "a request with userId and issue")
    got = [(e.tag, "".join(e.itertext()).strip()) for e in header_of(root)]
    want = [(e.tag, "".join(e.itertext()).strip()) for e in header_of(ET.fromstring(req))]
    want.insert(3, ("{%s}requestHash" % XRD, None))
    t.eq([g[0] for g in got], [x[0] for x in want], "header elements in order")
    t.eq([g for g in got if g[0] != "{%s}requestHash" % XRD], [x for x in want if x[1] is not None],
         "the same values")
    w.soap.reset(Script(200, [("Content-Type", "text/xml; charset=utf-8")],
                        lambda b: soap_echo_answer(b).replace(b">echo-2b<", b">altered<")))
    is_fault(t, soap(envelope(xid="echo-2b")), {"Server.ClientProxy.ServiceFailed.InconsistentResponse",
                                                "Server.ServerProxy.ServiceFailed.InconsistentResponse"},
             "a provider that alters id")


S1 = (b'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/'
      b'envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" '
      b'xmlns:ns1="http://producer.x-road.eu"><SOAP-ENV:Header><xrd:client id:objectType="SUBSYSTEM">'
      b'<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>70000002'
      b'</id:memberCode><id:subsystemCode>portal</id:subsystemCode></xrd:client><xrd:service id:objectType="SERVICE">'
      b'<id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>70000001'
      b'</id:memberCode><id:subsystemCode>registry</id:subsystemCode><id:serviceCode>citizen</id:serviceCode>'
      b'<id:serviceVersion>v1</id:serviceVersion></xrd:service><xrd:id>4894e35d-bf0f-44a6-867a-8e51f1daa7e0'
      b'</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion></SOAP-ENV:Header><SOAP-ENV:Body><ns1:citizen>'
      b'<personCode>38001010000</personCode></ns1:citizen></SOAP-ENV:Body></SOAP-ENV:Envelope>')
S1_HASH = "GV5xo0ZlLJhQQoeNrlUGIjwEdIQzxEpl4GSIqp0ZdYb7Z2Mo2/xRJDIqGdAUX7AEe2y8DumuvkZvaUVQABOJVg=="


def request_hashes(root):
    return [e for e in header_of(root) if e.tag == "{%s}requestHash" % XRD]


@s.test("SOAP-RH-1", PR_MESS + " §2.2 Message Headers (requestHash), Annex B", "requestHash: base64 SHA-512 of the "
        "request as sent (vector S1), algorithmId xmlenc#sha512, after id; the provider's own is replaced")
def rh1(t):
    root = ok_answer(t, soap(S1), "the S1 request, byte for byte")
    rh = request_hashes(root)
    t.need(len(rh) == 1, "one requestHash", len(rh))
    t.eq("".join((rh[0].text or "").split()), S1_HASH, "requestHash = the S1 vector")
    t.eq(rh[0].get("algorithmId"), SHA512, "algorithmId")
    tags = [e.tag for e in header_of(root)]
    t.eq(tags.index("{%s}requestHash" % XRD), tags.index("{%s}id" % XRD) + 1, "right after id")
    w.soap.reset(Script(200, [("Content-Type", "text/xml; charset=utf-8")],
                        lambda b: soap_echo_answer(b).replace(b"</xrd:id>", b'</xrd:id><xrd:requestHash algorithmId="'
                                                              + SHA512.encode() + b'">Ym9ndXM=</xrd:requestHash>', 1)))
    r = soap(envelope(xid="rh-2"))
    root = ok_answer(t, r, "a provider that sends its own requestHash")
    rh = request_hashes(root)
    t.eq(["".join((e.text or "").split()) for e in rh], [soap_request_hash(r.sent.body)], "only the node's requestHash")


@s.test("SOAP-HTTP-1", PR_MESS + " §2.2 Message Headers (HTTP headers)", "only Content-Type and SOAPAction go to the "
        "provider and only Content-Type comes back; a SOAPAction that is not a quoted URI is refused")
def http1(t):
    w.soap.reset(Script(200, [("Content-Type", "text/xml; charset=utf-8"), ("X-Provider", "1")], soap_echo_answer))
    r = soap(envelope(), action='"urn:x"', headers=[("X-Custom", "1"), ("Authorization", "Bearer t")])
    ok_answer(t, r, "SOAPAction \"urn:x\" with other headers")
    rec = w.soap.last
    t.need(rec is not None, "the provider was called")
    t.eq(rec.get("soapaction"), '"urn:x"', "the provider sees SOAPAction")
    t.check(rec.get("x-custom") is None and rec.get("authorization") is None, "the provider sees no other header")
    t.eq(r.get("x-provider"), None, "the provider's other headers do not come back")
    is_fault(t, soap(envelope(), action="urn:x"), "Client.InvalidSoapAction", "SOAPAction: urn:x (unquoted)")
    ok_answer(t, soap(envelope(), action=None), "no SOAPAction")


@s.test("SOAP-FAULT-1", DOC_FAULT, "the node's faults: unqualified faultcode with the dotted code, faultactor, "
        "detail/faultDetail UUID, HTTP 200, no xbus namespace")
def fault1(t):
    # the Body's element is named by the service code (PR-MESS §2.3; X-Road checks it while parsing, before
    # looking the service up), so an unknown service is asked for with its own element
    r = soap(envelope(service=PROVIDER + "/nosuchservice", body="<ns1:nosuchservice/>"))
    is_fault(t, r, "Server.ServerProxy.UnknownService", "an unknown service")
    t.check(b"schemas.xbus" not in r.body, "no xbus namespace in the fault")
    root = parse(r)
    t.check(root is not None and root.find("{%s}Header" % ENV) is None, "the fault has no SOAP header")


@s.test("SOAP-FAULT-2", DOC_FAULT, "a provider's own fault reaches the client unchanged")
def fault2(t):
    mine = (b'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="%s"><SOAP-ENV:Body>'
            b'<SOAP-ENV:Fault><faultcode>Server.Foo</faultcode><faultstring>backend says no</faultstring>'
            b'<detail><reason>quota</reason></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>'
            % ENV.encode())
    w.soap.reset(Script(500, [("Content-Type", "text/xml; charset=utf-8")], mine))
    r = soap(envelope())
    f = fault_of(r)
    t.need(f is not None, "a Fault reaches the client", r)
    t.eq((f.findtext("faultcode"), f.findtext("faultstring"), f.findtext("detail/reason")),
         ("Server.Foo", "backend says no", "quota"), "the provider's faultcode, faultstring and detail")


@s.test("SOAP-FAULT-3", PR_MESS + " §2.5, Annex D.1; digest SOAP-FAULT-3 and section H", "node fault codes: "
        "ServiceFailed.* for backend failures, ServiceType, AccessDenied, UnknownMember")
def fault3(t):
    is_fault(t, soap(envelope(service=PROVIDER + "/citizen-down",
                              body="<ns1:citizen-down><personCode>38001010000</personCode></ns1:citizen-down>")),
             "Server.ServerProxy.ServiceFailed.NetworkError", "the backend is down")
    w.soap.reset(Script(200, [("Content-Type", "text/xml")], b"not xml"))
    is_fault(t, soap(envelope()), {"Server.ServerProxy.ServiceFailed.InvalidXml",
                                   "Server.ServerProxy.ServiceFailed.InvalidSoap"}, "the backend answers not-XML")
    is_fault(t, soap(envelope(service=PROVIDER + "/echo", body="<ns1:echo/>")), "Server.ServerProxy.ServiceType",
             "a REST service called over SOAP")
    is_fault(t, soap(envelope(client=NORIGHTS), cert=NORIGHTS), "Server.ServerProxy.AccessDenied", "no right")
    is_fault(t, soap(envelope(client="EE/GOV/99999999/ghost")), "Server.ClientProxy.UnknownMember",
             "an unregistered client")
    is_fault(t, soap(envelope(), cert=LIMITED), "Server.ClientProxy.SslAuthenticationFailed",
             "another subsystem's certificate")


def multipart_parts(r):
    ct = r.get("content-type") or ""
    msg = email.parser.BytesParser().parsebytes(b"Content-Type: " + ct.encode() + b"\r\n\r\n" + r.body)
    return msg.get_payload() if msg.is_multipart() else None


@s.test("SOAP-SWA-1", PR_MESS + " §2.4 Attachments, Annex F", "multipart/related: the attachment reaches the "
        "provider intact and requestHash covers the SOAP part only, or (contract: the SOAP implementer's choice) "
        "the message is refused with Client.InvalidContentType")
def swa1(t):
    soap_part = envelope(body="<ns1:citizen><personCode>1</personCode><attachment>cid:data.bin</attachment>"
                              "</ns1:citizen>", xid="swa-1")
    data = bytes(range(256)) * 4
    boundary = b"jetty771207119h3h10dty"
    body = (b"--" + boundary + b"\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
            soap_part + b"\r\n--" + boundary + b"\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\nContent-ID: <data.bin>\r\n\r\n" + data +
            b"\r\n--" + boundary + b"--\r\n")
    w.soap.reset()
    r = soap(body, ctype='multipart/related; type="text/xml"; boundary=%s' % boundary.decode())
    f = fault_of(r) if (r.get("content-type") or "").startswith("text/xml") else None
    if f is not None:
        is_fault(t, r, "Client.InvalidContentType", "SwA refused")
        return
    t.need(r.status == 200, "SwA accepted", r)
    rec = w.soap.last
    t.need(rec is not None, "the provider was called")
    t.check(data in rec.body and b"<data.bin>" in rec.body, "the provider gets the attachment and its Content-ID")
    parts = multipart_parts(r)
    soap_answer = parts[0].get_payload(decode=True) if parts else r.body
    root = ET.fromstring(soap_answer)
    rh = ["".join((e.text or "").split()) for e in request_hashes(root)]
    t.eq(rh, [soap_request_hash(soap_part)], "requestHash covers the SOAP part only")


@s.test("SOAP-CHAR-1", PR_MESS + " §2.6 Character Encoding", "a UTF-8 request with a byte order mark is accepted")
def char1(t):
    ok_answer(t, soap(b"\xef\xbb\xbf" + envelope(xid="bom")), "a leading BOM")


# --- SOAP metaservices --------------------------------------------------------------------------
def meta(code, body, cert=CLIENT, client=None):
    return soap(envelope(service=PROVIDER + "/" + code, body=body, client=client or cert, xid="meta-" + code),
                cert=cert)


def listed(t, r, wrapper, what):
    root = parse(r)
    t.need(r.status == 200 and root is not None and fault_of(r) is None, what + ": answered", r)
    b = root.find("{%s}Body/{%s}%s" % (ENV, XRD, wrapper))
    t.need(b is not None, what + ": Body holds xrd:" + wrapper, r.body[:300])
    codes = []
    for svc in b:
        t.check(svc.tag == "{%s}service" % XRD and svc.get("{%s}objectType" % IDN) == "SERVICE",
                what + ": xrd:service with id:objectType SERVICE", svc.tag)
        ids = {c.tag.split("}")[1]: c.text for c in svc}
        t.eq("/".join(ids.get(k, "") for k in ("xRoadInstance", "memberClass", "memberCode", "subsystemCode")),
             PROVIDER, what + ": the provider's identifier")
        codes.append(ids.get("serviceCode"))
    t.check(request_hashes(root), what + ": the header has requestHash")
    return codes


@s.test("META-SOAP-1", PR_META + " §3 Retrieving List of Services; Annex A, C.2-C.3", "listMethods lists the "
        "provider's SOAP services, no metaservices")
def msoap1(t):
    codes = listed(t, meta("listMethods", "<xrd:listMethods/>"), "listMethodsResponse", "listMethods")
    t.eq(sorted(codes), sorted(SOAP_SERVICES), "exactly the SOAP services")


@s.test("META-SOAP-2", PR_META + " §3; Annex C.4-C.5", "allowedMethods lists the SOAP services the caller has a "
        "right on")
def msoap2(t):
    codes = listed(t, meta("allowedMethods", "<xrd:allowedMethods/>"), "allowedMethodsResponse", "portal")
    t.eq(sorted(codes), sorted(SOAP_SERVICES), "portal: both SOAP services")
    codes = listed(t, meta("allowedMethods", "<xrd:allowedMethods/>", cert=LIMITED), "allowedMethodsResponse",
                   "limited")
    t.eq(codes, [], "limited (REST rights only): none")


@s.test("META-SOAP-3", PR_META + " §4 Retrieving the WSDL of a Service (WSDL-information modifications); "
        "Annex C.6-C.8", "getWsdl answers multipart/related: the SOAP answer, then the WSDL with neutral addresses")
def msoap3(t):
    r = meta("getWsdl", "<xrd:getWsdl><xrd:serviceCode>citizen</xrd:serviceCode></xrd:getWsdl>")
    t.need(r.status == 200 and (r.get("content-type") or "").lower().startswith("multipart/related"),
           "getWsdl: multipart/related", r)
    parts = multipart_parts(r) or []
    t.need(len(parts) == 2, "two parts", len(parts))
    first = ET.fromstring(parts[0].get_payload(decode=True))
    t.eq(first.findtext("{%s}Body/{%s}getWsdlResponse/{%s}serviceCode" % (ENV, XRD, XRD)), "citizen",
         "part 1: getWsdlResponse echoes serviceCode")
    t.check(request_hashes(first), "part 1 has requestHash")
    t.eq(parts[1].get_content_type(), "text/xml", "part 2 is text/xml")
    wsdl = parts[1].get_payload(decode=True)
    root = ET.fromstring(wsdl)
    t.eq(root.tag, "{http://schemas.xmlsoap.org/wsdl/}definitions", "part 2 is a WSDL 1.1 document")
    t.check(str(w.soap.port).encode() not in wsdl, "no backend address in the WSDL")
    locs = [e.get("location") for e in root.iter() if e.tag.endswith("}address")]
    t.eq(sorted(set(locs)), ["http://example.org/xroad-endpoint"], "every soap:address is the neutral endpoint")
    is_fault(t, meta("getWsdl", "<xrd:getWsdl/>"), "Server.ServerProxy.InvalidRequest", "no serviceCode")
    is_fault(t, meta("getWsdl", "<xrd:getWsdl><xrd:serviceCode>echo</xrd:serviceCode></xrd:getWsdl>"),
             "Server.ServerProxy.ServiceType", "a REST service")
    is_fault(t, meta("getWsdl", "<xrd:getWsdl><xrd:serviceCode>nosuch</xrd:serviceCode></xrd:getWsdl>"),
             "Server.ServerProxy.UnknownService", "an unknown service")


@s.test("META-SOAP-4", PR_META + " §3", "SOAP metaservices need no access right (the caller must be registered)")
def msoap4(t):
    codes = listed(t, meta("listMethods", "<xrd:listMethods/>", cert=NORIGHTS), "listMethodsResponse",
                   "a client without rights")
    t.eq(sorted(codes), sorted(SOAP_SERVICES), "the same list")


s.not_applicable("META-SOAP-5", PR_META + " §2",
                 "listClients has no SOAP form; its HTTP GET is tested as META-LC-1..5")

s.run()
w.stop()
s.finish()
