#!/usr/bin/env python3
"""test_soap.py: SOAP 1.1 exchanges through xbusd: the X-Road SOAP header
profile, the same checks as REST, answers to signed requests signed as the
Debian xmlsec1 command verifies, requests signed by xmlsec1 accepted, and every
attack of the generated attack corpus refused with an X-Road Fault and logged
with its type. The samples and attacks come from $XBUS_SOAP_FIXTURES
(tests/soap/make-corpus.py --out, run by the build)."""
import hashlib
import http.server
import os
import re
import sys
import shutil
import subprocess
import socket
import tempfile
import threading
import time

from harness import (Check, Node, _processes, binary, curve_args, free_port, receipt_payload, registry_copy,
                     verify_receipt_openssl)

t = Check("soap")
BYT = "VN/GOV/BYT/health-services"
HN = "VN/GOV/HN-UBND/one-stop-shop"
FIXTURES = os.environ.get("XBUS_SOAP_FIXTURES", "")
if not FIXTURES or not os.path.isfile(os.path.join(FIXTURES, "attacks", "manifest.txt")):
    sys.exit("test_soap.py: XBUS_SOAP_FIXTURES (%r) does not name the folder tests/soap/make-corpus.py --out "
             "generates (run through meson test)" % FIXTURES)
REQ = os.path.join(FIXTURES, "requests")
ATTACKS = os.path.join(FIXTURES, "attacks")
tmp = tempfile.mkdtemp(prefix="xbus-it-")
# the ministry must sign its SOAP requests; the one-stop-shop may send them unsigned
reg = registry_copy(os.path.join(tmp, "registry"), [("[subsystem %s]" % BYT, "soap-signed-requests", "yes")])
node = Node(registry=reg, tmp=tmp).start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]
logged = {}


def soap(client, xml):
    return node.request(client, "POST", "/", headers={"Content-Type": "text/xml; charset=utf-8",
                                                        "SOAPAction": '""'}, body=xml)


def fault_code(r):
    """The faultcode of an X-Road Fault (PR-MESS §2.5: unqualified, the dotted code as text), or None."""
    m = re.search(rb"<SOAP-ENV:Fault><faultcode>([A-Za-z_.]+)</faultcode>", r.body)
    return m.group(1).decode() if m else None


# The X-Road code each refusal below carries (exchange/policy/problem.c, soap.h); the log keeps the xbus type.
XROAD = {"bad_request": "Client.BadRequest", "purpose_invalid": "Server.ServerProxy.AccessDenied",
         "access_denied": "Server.ServerProxy.AccessDenied", "client_unknown": "Server.ClientProxy.UnknownMember",
         "client_mismatch": "Server.ClientProxy.SslAuthenticationFailed",
         "service_unknown": "Server.ServerProxy.UnknownService"}
CODE_RE = re.compile(r"^(Client|Server\.ClientProxy|Server\.ServerProxy)\.[A-Z][A-Za-z]*(\.[A-Z][A-Za-z]*)*$")


def is_fault(r, code=None):
    """An X-Road Fault: HTTP 200, text/xml, a dotted faultcode (`code` when given), a faultDetail UUID."""
    got = fault_code(r)
    return (r.status == 200 and (r.header("content-type") or "").startswith("text/xml") and got is not None and
            CODE_RE.match(got) is not None and (code is None or got == code) and
            re.search(rb"<detail><faultDetail>[0-9a-f-]{36}</faultDetail></detail>", r.body) is not None)


def as_hn(xml, purpose="public-service-delivery", subj=None):
    xml = xml.replace("<id:memberCode>BYT</id:memberCode>\n      <id:subsystemCode>health-services</id:subsystemCode>",
                      "<id:memberCode>HN-UBND</id:memberCode>\n      <id:subsystemCode>one-stop-shop</id:subsystemCode>", 1)
    xml = re.sub(r"<xbus:purpose>[^<]*</xbus:purpose>", "<xbus:purpose>%s</xbus:purpose>" % purpose, xml)
    xml = re.sub(r"<xbus:subject>[^<]*</xbus:subject>", "<xbus:subject>%s</xbus:subject>" % (subj or subject), xml)
    return xml


plain = open(os.path.join(REQ, "citizen.xml")).read()
plain = re.sub(r"<ds:Signature.*?</ds:Signature>", "", plain, flags=re.S)

# an unsigned request from a client that may send them: the answer, as X-Road's (no signature)
r = soap(HN, as_hn(plain))
t.eq(r.status, 200, "SOAP exchange: 200")
t.ok(r.header("content-type", ).startswith("text/xml"), "answered with text/xml")
t.ok(b"<SOAP-ENV:Body" in r.body and b"Fault" not in r.body, "a Body with the payload, no Fault")
t.ok(b"<pop:citizenResponse" in r.body, "the answer's element is the service code and Response")
t.ok(b"Nguy" in r.body or b"full" in r.body.lower() or subject.encode() in r.body, "the citizen's record is in it")
t.ok(b"Signature" not in r.body, "an unsigned request gets an unsigned answer")
jws = r.header("x-bus-receipt")
t.ok(jws and verify_receipt_openssl(jws, node.pki), "the answer carries a receipt that verifies")
p = receipt_payload(jws)
t.eq(p["response_hash"], hashlib.sha256(r.body).hexdigest(), "the receipt covers the exact envelope")
seq_ok = int(r.header("x-bus-log-seq"))

# a request signed by the xmlsec1 command with the client's own certificate is accepted, and answered signed
tmpl = os.path.join(tmp, "tmpl.xml")
open(tmpl, "w").write(re.sub(r"<xbus:subject>[^<]*</xbus:subject>", "<xbus:subject>%s</xbus:subject>" % subject,
                             open(os.path.join(REQ, "citizen-template.xml")).read()))
signed = os.path.join(tmp, "signed.xml")
crt, key = node.client_files(BYT)
res = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", key + "," + crt, "--id-attr:Id",
                      "http://schemas.xmlsoap.org/soap/envelope/:Body", "--output", signed, tmpl],
                     capture_output=True, text=True)
t.eq(res.returncode, 0, "xmlsec1 signs a request template")
r = soap(BYT, open(signed, "rb").read())
t.eq(r.status, 200, "a request signed by xmlsec1 is accepted")
answer = os.path.join(tmp, "answer.xml")
open(answer, "wb").write(r.body)
res = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", os.path.join(node.pki, "ca.crt"),
                      "--id-attr:Id", "http://schemas.xmlsoap.org/soap/envelope/:Body",
                      "--id-attr:Id", "http://schemas.xmlsoap.org/soap/envelope/:Header", answer],
                     capture_output=True, text=True)
t.eq(res.returncode, 0, "the Debian xmlsec1 command verifies the bus's signed answer")
t.eq(receipt_payload(r.header("x-bus-receipt"))["response_hash"], hashlib.sha256(r.body).hexdigest(),
     "the receipt covers the exact signed envelope")

# tampering with the signed answer is noticed by xmlsec1
bad = r.body.replace(subject.encode(), b"000000000000", 1)
open(answer, "wb").write(bad)
res = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", os.path.join(node.pki, "ca.crt"),
                      "--id-attr:Id", "http://schemas.xmlsoap.org/soap/envelope/:Body",
                      "--id-attr:Id", "http://schemas.xmlsoap.org/soap/envelope/:Header", answer],
                     capture_output=True, text=True)
t.ok(res.returncode != 0, "xmlsec1 refuses a modified answer")

# the ministry must sign: its unsigned request is refused
r = soap(BYT, plain)
t.ok(is_fault(r, "Client.BadRequest"), "an unsigned request from a client that must sign: Fault", r)
logged[int(r.header("x-bus-log-seq"))] = "bad_request"

# the same checks as REST, as Faults with X-Road's codes; the log keeps the xbus type
cases = [
    (HN, as_hn(plain, purpose="tax-administration"), "purpose_invalid", "a purpose the right does not list"),
    ("VN/COM/VCB/kyc", as_hn(plain).replace("<id:memberClass>GOV</id:memberClass>\n      <id:memberCode>HN-UBND",
                                            "<id:memberClass>COM</id:memberClass>\n      <id:memberCode>VCB", 1)
                                   .replace("one-stop-shop", "kyc", 1), "access_denied", "a client without a right"),
    (BYT, as_hn(plain), "client_mismatch", "xroad:client other than the certificate's subsystem"),
    (HN, as_hn(plain).replace("<id:serviceCode>citizen</id:serviceCode>", "<id:serviceCode>nope</id:serviceCode>")
                     .replace("<pop:citizen/>", "<pop:nope/>"),
     "service_unknown", "an unknown service"),
    (HN, as_hn(plain).replace("<id:subsystemCode>population</id:subsystemCode>",
                              "<id:subsystemCode>health-insurance</id:subsystemCode>")
                     .replace("<id:memberCode>BCA</id:memberCode>", "<id:memberCode>BHXH</id:memberCode>")
                     .replace("<id:serviceCode>citizen</id:serviceCode>", "<id:serviceCode>card</id:serviceCode>")
                     .replace("<pop:citizen/>", "<pop:card/>"),
     "service_unknown", "a service without a SOAP rendering", "Server.ServerProxy.ServiceType"),
    (None, as_hn(plain), "client_unknown", "no client certificate", "Server.ClientProxy.SslAuthenticationFailed"),
    (HN, "<notsoap/>", "bad_request", "not a SOAP envelope", "Client.InvalidSoap"),
    (HN, as_hn(plain).replace("<pop:citizen/>", "<pop:getCitizen/>"), "bad_request",
     "a Body element not named after the service code", "Client.InconsistentHeaders"),
]
for client, xml, want, what, *code in cases:
    r = soap(client, xml)
    code = code[0] if code else XROAD[want]
    t.ok(is_fault(r, code) and r.header("x-road-error") == code, "%s: Fault %s" % (what, code),
         (r.status, fault_code(r)))
    if r.header("x-bus-log-seq"):
        logged[int(r.header("x-bus-log-seq"))] = want
    else:
        t.ok(False, what + ": logged")

# the provider's own Fault (the sample's, for an unknown subject) is relayed unchanged, and logged as its answer
r = soap(HN, as_hn(plain, subj="999999999999"))
t.ok(r.status == 200 and fault_code(r) == "Client.not_found" and b"faultDetail" not in r.body,
     "an unknown subject: the provider's own Fault, relayed", r)
unknown_subject_seq = int(r.header("x-bus-log-seq"))

# every attack of the corpus: refused with a Fault, logged, nothing leaks
secret = open(os.path.join(FIXTURES, "secret.txt"), "rb").read().strip()
manifest = [l.split() for l in open(os.path.join(ATTACKS, "manifest.txt")) if l.strip() and not l.startswith("#")]
for name, stage, want in manifest:
    body = open(os.path.join(ATTACKS, name), "rb").read()
    if stage == "validate":
        # unsigned payload attacks come from the client that may send unsigned requests
        r = soap(HN, as_hn(body.decode()))
    else:
        r = soap(BYT, body)
    got = fault_code(r)
    # signature attacks are made with the corpus's own test CA, which this node does not trust:
    # refused either for what they are or because their certificate is not trusted (the log says which)
    t.ok(is_fault(r) and r.header("x-bus-log-seq") is not None and secret not in r.body,
         "attack %s refused (%s)" % (name, got), (r.status, got, want))
    if r.header("x-bus-log-seq"):
        logged[int(r.header("x-bus-log-seq"))] = {want} | ({"client_unknown"} if stage == "verify" else set())

# the X-Road profile at the door: the method, the media type (attachments refused), SOAPAction, 4.x
r = node.request(HN, "GET", "/")
t.ok(is_fault(r, "Client.InvalidHttpMethod") and r.header("x-bus-log-seq") is None,
     "GET /: Client.InvalidHttpMethod, not an exchange", r)
r = node.request(HN, "POST", "/", headers={"Content-Type": 'multipart/related; type="text/xml"; boundary=b'},
                 body=b"--b\r\nContent-Type: text/xml\r\n\r\n" + as_hn(plain).encode() + b"\r\n--b--\r\n")
t.ok(is_fault(r, "Client.InvalidContentType") and b"attachments" in r.body, "SwA is refused: Client.InvalidContentType", r)
r = node.request(HN, "POST", "/", headers={"Content-Type": "text/xml", "SOAPAction": "urn:unquoted"},
                 body=as_hn(plain))
t.ok(is_fault(r, "Client.InvalidSoapAction"), "an unquoted SOAPAction: Client.InvalidSoapAction", r)
r = soap(HN, as_hn(plain).replace("<xroad:protocolVersion>4.0<", "<xroad:protocolVersion>4.1<"))
t.ok(r.status == 200 and b"<xroad:protocolVersion>4.1</xroad:protocolVersion>" in r.body and b"Fault" not in r.body,
     "protocolVersion 4.1 is accepted and echoed", r)
own = ("<xroad:securityServer id:objectType=\"SERVER\"><id:xRoadInstance>VN</id:xRoadInstance><id:memberClass>GOV"
       "</id:memberClass><id:memberCode>XBUS</id:memberCode><id:serverCode>%s</id:serverCode></xroad:securityServer>")
r = soap(HN, as_hn(plain).replace("</SOAP-ENV:Header>", own % "xbus.local" + "</SOAP-ENV:Header>"))
t.ok(r.status == 200 and b"Fault" not in r.body, "xroad:securityServer naming this node", r)
r = soap(HN, as_hn(plain).replace("</SOAP-ENV:Header>", own % "elsewhere" + "</SOAP-ENV:Header>"))
t.ok(is_fault(r, "Server.ClientProxy.InvalidSecurityServer"), "xroad:securityServer naming another node", r)
logged[int(r.header("x-bus-log-seq"))] = "bad_request"


# the SOAP metaservices (PR-META): answered by the node for any registered client
def meta(client, code, body):
    xml = as_hn(plain).replace("<id:serviceCode>citizen</id:serviceCode>", "<id:serviceCode>%s</id:serviceCode>" % code)
    if client == "VN/COM/VCB/kyc":
        xml = xml.replace("<id:memberClass>GOV</id:memberClass>\n      <id:memberCode>HN-UBND",
                          "<id:memberClass>COM</id:memberClass>\n      <id:memberCode>VCB", 1).replace("one-stop-shop",
                                                                                                     "kyc", 1)
    xml = re.sub(r"<xbus:(subject|purpose)>[^<]*</xbus:(subject|purpose)>", "", xml)
    return soap(client, xml.replace("<pop:citizen/>", body))


r = meta(HN, "listMethods", "<xroad:listMethods/>")
t.ok(r.status == 200 and b"<xroad:listMethodsResponse>" in r.body and b"<id:serviceCode>citizen</id:serviceCode>" in r.body
     and b"<xroad:requestHash" in r.body, "listMethods lists the population subsystem's SOAP service", r)
r = meta("VN/COM/VCB/kyc", "allowedMethods", "<xroad:allowedMethods/>")
t.ok(r.status == 200 and b"<xroad:allowedMethodsResponse/>" in r.body, "allowedMethods: none for a client without a right",
     r)
r = meta(HN, "getWsdl", "<xroad:getWsdl><xroad:serviceCode>citizen</xroad:serviceCode></xroad:getWsdl>")
t.ok(r.status == 200 and r.header("content-type").startswith("multipart/related") and
     b"<xroad:getWsdlResponse>" in r.body and b"wsdl:definitions" in r.body and
     b'location="http://example.org/xroad-endpoint"' in r.body, "getWsdl: the SOAP answer and the WSDL", r)
r = meta(HN, "getWsdl", "<xroad:getWsdl><xroad:serviceCode>birth-record</xroad:serviceCode></xroad:getWsdl>")
t.ok(is_fault(r, "Server.ServerProxy.UnknownService"), "getWsdl of a service of another subsystem: unknown", r)
r = meta(HN, "getWsdl", "<xroad:getWsdl/>")
t.ok(is_fault(r, "Server.ServerProxy.InvalidRequest"), "getWsdl without serviceCode", r)

t.eq(node.call(HN, "VN/GOV/BCA/population/citizen", subject=subject, purpose="public-service-delivery").status, 200,
     "REST still served after the attacks")

# the second sample service with a SOAP rendering: tax status
tax = as_hn(plain).replace("<id:memberCode>BCA</id:memberCode>", "<id:memberCode>BTC</id:memberCode>") \
    .replace("<id:subsystemCode>population</id:subsystemCode>", "<id:subsystemCode>tax</id:subsystemCode>") \
    .replace("<id:serviceCode>citizen</id:serviceCode>", "<id:serviceCode>tax-status</id:serviceCode>") \
    .replace('xmlns:pop="https://schemas.xbus.gov.vn/soap/population/citizen"',
             'xmlns:tax="https://schemas.xbus.gov.vn/soap/tax/tax-status"') \
    .replace("<pop:citizen/>", "<tax:tax-status/>")
r = soap(HN, tax)
t.ok(r.status == 200 and b"Fault" not in r.body, "the tax-status SOAP rendering", r)

# the soap adapter: a SOAP backend (xbus-sample-backend's /soap) instead of the sample adapter
for a in node.adapters:
    a.kill()
    a.wait()
node.adapters.clear()
time.sleep(1.0)
bport = free_port()
data = os.path.join(tmp, "backend-data")
backend = subprocess.Popen([binary("xbus-sample-backend"), "--listen", "127.0.0.1:%d" % bport, "--data", data,
                            "--people", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_processes.append(backend)
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", bport), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
sa = subprocess.Popen([binary("xbus-adapter-soap"), "--bus", "tcp://127.0.0.1:%d" % node.aport, "--route",
                       "VN/GOV/BCA/population/citizen=http://127.0.0.1:%d/soap" % bport] + curve_args(node),
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_processes.append(sa)
node.wait_health(adapters=1)
r = soap(HN, as_hn(plain))
t.ok(r.status == 200 and b"Fault" not in r.body and subject.encode() in r.body,
     "a SOAP exchange served by the soap adapter from a SOAP backend", r)
r = soap(HN, as_hn(plain, subj="999999999999"))
t.ok(r.status == 200 and fault_code(r) == "Client.not_found",
     "the backend's Fault for an unknown subject reaches the client unchanged", (r.status, fault_code(r)))
sa.kill()
sa.wait()
backend.kill()
backend.wait()
time.sleep(1.0)


# a provider whose answer breaks the response XSD: withheld
class BadSoap(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = ('<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
                '<SOAP-ENV:Body><pop:citizen xmlns:pop="https://schemas.xbus.gov.vn/soap/population/citizen">'
                '<pop:unexpected>not-in-the-schema</pop:unexpected></pop:citizen></SOAP-ENV:Body>'
                '</SOAP-ENV:Envelope>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BadSoap)
threading.Thread(target=srv.serve_forever, daemon=True).start()
sa = subprocess.Popen([binary("xbus-adapter-soap"), "--bus", "tcp://127.0.0.1:%d" % node.aport, "--route",
                       "VN/GOV/BCA/population/citizen=http://127.0.0.1:%d/soap" % srv.server_address[1]]
                      + curve_args(node),
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_processes.append(sa)
node.wait_health(adapters=1)
r = soap(HN, as_hn(plain))
t.ok(is_fault(r, "Server.ServerProxy.ServiceFailed.InvalidResponse") and b"not-in-the-schema" not in r.body,
     "an answer that breaks the response XSD is withheld (Fault response_invalid)", (r.status, fault_code(r)))
logged[int(r.header("x-bus-log-seq"))] = "response_invalid"
srv.shutdown()
t.eq(node.stop(), 0, "clean stop")
entries = node.log_entries()
e = entries[seq_ok]
t.ok(e["decision"] == "allow" and e["status"] == 200 and e["method"] == "GET" and e["client"] == HN,
     "the SOAP exchange is logged like a REST one", e)
bad = [(s, w, entries.get(s, {}).get("error")) for s, w in logged.items()
       if entries.get(s, {}).get("error") not in (w if isinstance(w, set) else {w})]
t.eq(bad, [], "every refused SOAP request is logged with its type")
e = entries[unknown_subject_seq]
t.ok(e["decision"] == "allow" and e["status"] == 404 and e["error"] is None,
     "the provider's relayed Fault is logged as its answer", e)
t.ok(all(secret.decode() not in open(os.path.join(tmp, f), errors="replace").read()
         for f in os.listdir(tmp) if f.endswith(".log")), "no attack made the node read the secret file")
t.finish()
