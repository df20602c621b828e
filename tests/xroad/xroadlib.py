"""xroadlib.py: the X-Road conformance suite's shared parts (standard library only).

The suite checks xbus against the X-Road specifications (nordic-institute/X-Road,
doc/Protocols: PR-REST 1.0.4, PR-MESS 4.0, PR-META 2.16, PR-MREST 0.8, and the
third-party and targeting extensions), following the requirement digest
/work/notes/xroad-requirements.md and, where the specifications leave a choice, the
integrator's contract (/work/notes/xroad-contract.md). Nothing here is taken from
the node's code: requests are written byte by byte, the request hash is recomputed
with the reference below, and every answer is read off the wire.

What is here:
- Suite / T: one test per requirement, named with its id and its specification
  section, printing `ok` or `FAIL` with a one-line reason, the requirements a single
  node cannot reproduce as `n/a` with the reason, and the closing
  `N passed, M failed` line.
- send(): a raw HTTPS/1.1 client (mutual TLS with the demo PKI's client
  certificates) that sends exactly the request line, headers (in order, repeated
  ones too) and body given, and returns the status, the header list in order and
  the body.
- Echo / SoapEcho: the providers behind xbus-adapter-rest and xbus-adapter-soap.
  They record the request line, the raw target, the headers in order and the body,
  and answer with a scripted status, headers and body.
- World: a node (tests/integration/harness.py's Node) with the suite's own
  registry (instance EE, written below), the echo providers and the adapters.
- canonical_request() / request_hash(): the reference X-Road-Request-Hash,
  written from PR-REST 1.0.4 §4.3 ("Request hash header") and the digest's REST-HASH
  rules.
"""
import base64
import hashlib
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402  (tests/integration/harness.py: Node, binary, free_port, ...)

VERBOSE = os.environ.get("XROAD_VERBOSE", "") not in ("", "0")
# XROAD_ASSIST=1 is a diagnostic aid for running the suite against a node without the contract's
# default purposes: the registry loses its default-purpose keys and every /r1/ request gets an
# X-Bus-Purpose header. It shows whether a test fails for its own reason rather than for the
# missing purpose. It is never used by `meson test`, and a run with it is not a conformance run.
ASSIST = os.environ.get("XROAD_ASSIST", "") not in ("", "0")

# --- the specifications, as cited in test names -------------------------------------------
PR_REST = "PR-REST 1.0.4"
PR_MESS = "PR-MESS 4.0"
PR_META = "PR-META 2.16"
PR_MREST = "PR-MREST 0.8"
PR_THIRD = "PR-THIRDPARTY 1.1"
PR_TARGET = "PR-TARGETSS 1.2"
GOVSTACK = "GovStack IM 1.0.1"

# --- the suite's world: instance EE -------------------------------------------------------
INSTANCE = "EE"
PROVIDER = "EE/GOV/70000001/registry"
CLIENT = "EE/GOV/70000002/portal"          # rights on every test service, with a default purpose
OTHER = "EE/GOV/70000002/other"            # a registered client with no right (certificate for mismatches)
LIMITED = "EE/GOV/70000002/limited"        # GET /pets/* of pets and GET /v1/public/** of echo only
NODEFAULT = "EE/GOV/70000002/nodefault"    # a right on echo whose purposes have no default
NORIGHTS = "EE/COM/12345678/norights"      # a registered client without any right
PURPOSE = "conformance"
MEMBERS = {
    "EE/GOV/70000001": "Provider Agency",
    "EE/GOV/70000002": "Client Agency",
    "EE/COM/12345678": "Example Company",
    "EE/ORG/77000001": "Member Without Subsystems",
}
SUBSYSTEMS = {
    PROVIDER: ("Provider Registry", "provider"),
    CLIENT: ("Client Portal", "client"),
    OTHER: ("Other Client System", "client"),
    LIMITED: ("Limited Client System", "client"),
    NODEFAULT: ("Client Without Default Purpose", "client"),
    NORIGHTS: ("Company System Without Rights", "client"),
}
# Services of PROVIDER: code -> (methods, paths, kind). REST services answer over REST only;
# the SOAP ones have SOAP schemas (xbus offers a service over SOAP only with them).
SERVICES = {
    "echo": (["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], ["/**"], "rest"),
    "pets": (["GET", "POST"], ["/pets", "/pets/*"], "rest"),
    "slow": (["GET"], ["/**"], "rest"),
    "down": (["GET"], ["/**"], "rest"),
    "citizen": (["GET"], ["/"], "soap"),
    "citizen-down": (["GET"], ["/"], "soap"),
}
REST_SERVICES = [s for s, v in SERVICES.items() if v[2] == "rest"]
SOAP_SERVICES = [s for s, v in SERVICES.items() if v[2] == "soap"]
ECHO_LIMIT = 2 * 1024 * 1024          # echo's max-request-size
SLOW_TIMEOUT = 2                      # seconds: slow's timeout; its provider answers after 4
# The node's X-Road security server id. Contract: [node] security-server, default
# <registry instance>/GOV/XBUS/<node name>; the node name is the default "xbus.local".
SECURITY_SERVER = "EE/GOV/XBUS/xbus.local"
SOAP_NS = "http://producer.x-road.eu"

PET_REQUEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://schemas.xroad-suite.invalid/pets/pet.request.json",
    "title": "A new pet",
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "maxLength": 64}, "tag": {"type": "string"}},
    "additionalProperties": False,
}
PET_RESPONSE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://schemas.xroad-suite.invalid/pets/pet.response.json",
    "title": "A pet",
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "tag": {"type": "string"}},
    "additionalProperties": False,
}
CITIZEN_REQUEST_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://producer.x-road.eu"
           elementFormDefault="unqualified">
  <xs:element name="citizen">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="personCode" type="xs:string" minOccurs="0"/>
        <xs:element name="attachment" type="xs:string" minOccurs="0"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
CITIZEN_RESPONSE_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://producer.x-road.eu"
           elementFormDefault="unqualified">
  <xs:element name="citizenResponse">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="personCode" type="xs:string" minOccurs="0"/>
        <xs:element name="name" type="xs:string" minOccurs="0"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def registry_text(extra_services="", extra_rights="", extra_subsystems="", rights_edit=None):
    """The suite's registry (docs/registry.md format) as one file's text. Only one key beyond
    today's registry format is used: `default-purpose` on rights (contract: a right may name a
    default purpose, used when X-Bus-Purpose is absent), because every X-Road client of this suite
    sends X-Road headers only."""
    out = ["[instance]", "id = EE", "name = X-Road conformance suite", "schemas = @SCHEMAS@",
           "schema-base-uri = https://schemas.xroad-suite.invalid/", ""]
    for m, name in MEMBERS.items():
        out += ["[member %s]" % m, "name = %s" % name, ""]
    for s, (name, role) in SUBSYSTEMS.items():
        out += ["[subsystem %s]" % s, "name = %s" % name, "roles = %s" % role]
        if role == "client":
            out.append("tls-cn = %s" % s)
        else:   # the adapters connect with the demo PKI's key pair "sample" (docs/registry.md adapter-key)
            out.append("adapter-key = @state:pki/adapters/sample.pub")
        out.append("")
    out.append(extra_subsystems)
    svc = {
        "echo": ["max-request-size = 2MiB", "max-response-size = 16MiB", "timeout = 10s"],
        "pets": ["request-schema = pets/pet.request.json", "response-schema = pets/pet.response.json"],
        "slow": ["timeout = %ds" % SLOW_TIMEOUT],
        "down": ["timeout = 5s"],
        "citizen": ["soap-request-schema = soap/citizen.request.xsd",
                    "soap-response-schema = soap/citizen.response.xsd"],
        "citizen-down": ["soap-request-schema = soap/citizen-down.request.xsd",
                         "soap-response-schema = soap/citizen.response.xsd", "timeout = 5s"],
    }
    for code, (methods, paths, kind) in SERVICES.items():
        out += ["[service %s/%s]" % (PROVIDER, code), "title = %s (conformance)" % code,
                "methods = %s" % ", ".join(methods), "paths = %s" % ", ".join(paths), "personal-data = no"]
        out += svc[code]
        out += ["adapter = %s" % kind, ""]
    out.append(extra_services)
    out += ["[purpose %s]" % PURPOSE, "title = X-Road conformance testing", ""]
    law = "legal-reference = Conformance Test Act, art. 1"
    rights = [("portal-%s" % code, CLIENT, code, SERVICES[code][0], None, True) for code in SERVICES]
    rights += [("limited-pets", LIMITED, "pets", ["GET"], "/pets/*", True),
               ("limited-echo", LIMITED, "echo", ["GET"], "/v1/public/**", True),
               ("nodefault-echo", NODEFAULT, "echo", ["GET"], None, False)]
    for rid, client, code, methods, paths, default in rights:
        block = ["[right %s]" % rid, "client = %s" % client, "service = %s/%s" % (PROVIDER, code),
                 "methods = %s" % ", ".join(methods)]
        if paths:
            block.append("paths = %s" % paths)
        block += ["basis = statute", law, "purposes = %s" % PURPOSE]
        if default and not ASSIST:
            block.append("default-purpose = %s" % PURPOSE)
        if rights_edit:
            block = rights_edit(rid, block)
        out += block + [""]
    out.append(extra_rights)
    return "\n".join(out) + "\n"


# --- the reference request hash (PR-REST 1.0.4 §4.3 "Request hash header") ------------------
# Headers left out of the serialised request: the filtered hop-by-hop and host-revealing
# headers of PR-REST §4.3 ("Filtered headers"), the specially handled Expect and
# Content-Length, and a client-sent request id or request hash (the node makes its own).
HASH_SKIPPED = frozenset(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                          "trailer", "transfer-encoding", "upgrade", "host", "user-agent", "server",
                          "expect", "content-length", "x-road-request-id", "x-road-request-hash"])
CRLF = b"\r\n"


def _b(s):
    return s if isinstance(s, bytes) else s.encode("utf-8")


def canonical_request(method, target, headers, request_id, generated_id=None):
    """The serialised request X-Road hashes: the method, the request target exactly as sent (raw
    path, `?` and raw query when there was one), then every header as received (`Name:value`, no
    space, surrounding whitespace of the value removed, in order, repeated ones each time) except
    HASH_SKIPPED, then the node's own `x-road-request-id` line, and, only when the client sent no
    X-Road-Id, the `x-road-id` line with the id the node generated. Every line ends in CRLF."""
    out = _b(method) + CRLF + _b(target) + CRLF
    sent_id = False
    for name, value in headers:
        lname = _b(name).decode("latin-1").lower()
        if lname == "x-road-id":
            sent_id = True
        if lname in HASH_SKIPPED:
            continue
        out += _b(name) + b":" + _b(value).strip(b" \t") + CRLF
    out += b"x-road-request-id:" + _b(request_id) + CRLF
    if not sent_id:
        if generated_id is None:
            raise ValueError("no X-Road-Id sent: the generated id is part of the hash")
        out += b"x-road-id:" + _b(generated_id) + CRLF
    return out


def request_hash(canonical, body=b""):
    """Base64 of SHA-512(canonical) when there is no body; otherwise base64 of
    SHA-512(SHA-512(canonical) || SHA-512(body)) (the raw 64-byte digests concatenated)."""
    digest = hashlib.sha512(canonical).digest()
    if body:
        digest = hashlib.sha512(digest + hashlib.sha512(body).digest()).digest()
    return base64.b64encode(digest).decode("ascii")


def soap_request_hash(body):
    """PR-MESS §2.2: base64 of SHA-512 over the SOAP request message as sent."""
    return base64.b64encode(hashlib.sha512(body).digest()).decode("ascii")


HASH_RE = re.compile(r"^[A-Za-z0-9+/]{86}==$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CODE_RE = re.compile(r"^(Client|Server\.ClientProxy|Server\.ServerProxy)\.[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$")


# --- the test runner ----------------------------------------------------------------------
class Failed(Exception):
    pass


class T:
    """One test's checks. check() records and goes on; need() stops the test when false."""

    def __init__(self):
        self.failures = []
        self.count = 0

    def check(self, cond, what, detail=""):
        self.count += 1
        if VERBOSE:
            print("       %s %s %s" % ("." if cond else "x", what, detail if not cond else ""))
        if not cond:
            self.failures.append("%s%s" % (what, (": " + _short(detail)) if detail != "" else ""))
        return bool(cond)

    def need(self, cond, what, detail=""):
        if not self.check(cond, what, detail):
            raise Failed()
        return True

    def eq(self, got, want, what):
        return self.check(got == want, what, "got %s, want %s" % (_short(got), _short(want)))


def _short(x, n=160):
    s = x if isinstance(x, str) else repr(x)
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n] + "..."


class Suite:
    def __init__(self, group):
        self.group = group
        self.tests = []
        self.passed = 0
        self.failed = 0
        self.na = []
        self.blocker = None

    def test(self, rid, doc, title):
        def register(fn):
            self.tests.append(("%s [%s] %s" % (rid, doc, title), fn))
            return fn
        return register

    def not_applicable(self, rid, doc, reason):
        self.na.append("%s [%s]: %s" % (rid, doc, reason))

    def block(self, reason):
        """Every remaining test fails with this reason (say, the node did not start)."""
        self.blocker = reason

    def run(self):
        print("# xroad/%s: %d tests" % (self.group, len(self.tests)))
        if ASSIST:
            print("# XROAD_ASSIST is set: a diagnostic run (X-Bus-Purpose added), not a conformance run")
        for name, fn in self.tests:
            t = T()
            error = None
            if self.blocker:
                t.failures.append(self.blocker)
            else:
                try:
                    fn(t)
                except Failed:
                    pass
                except Exception as e:  # a crash in the test itself: say so, it is not the node's fault
                    error = "TEST ERROR %s: %s" % (type(e).__name__, e)
                    if VERBOSE:
                        traceback.print_exc()
            if error:
                t.failures.insert(0, error)
            if not t.failures and t.count == 0:
                t.failures.append("TEST ERROR: no check was made")
            if t.failures:
                self.failed += 1
                more = " (+%d more)" % (len(t.failures) - 1) if len(t.failures) > 1 else ""
                print("FAIL %s: %s%s" % (name, t.failures[0], more))
            else:
                self.passed += 1
                print("ok   %s" % name)
            sys.stdout.flush()
        for line in self.na:
            print("n/a  %s" % line)

    def finish(self):
        if self.na:
            print("%d requirements not applicable to a single xbus node (listed above)" % len(self.na))
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


# --- the raw HTTPS client -----------------------------------------------------------------
ERRORS_SEEN = []   # (code, status, node port) of every error answer not asked as problem+json


class Reply:
    def __init__(self):
        self.status = None
        self.reason = ""
        self.headers = []        # (name, value) as received, in order; values decoded as UTF-8
        self.raw_headers = []    # (name bytes, value bytes)
        self.body = b""
        self.error = None        # "connection reset", "timeout", ... when no complete answer came
        self.sent = None         # the Sent request

    def get(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def raw(self, name):
        for n, v in self.raw_headers:
            if n.decode("latin-1").lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def media_type(self):
        ct = self.get("content-type")
        return ct.split(";")[0].strip().lower() if ct else None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        if self.status is None:
            return "<no answer: %s>" % self.error
        return "<%s %s %r>" % (self.status, self.get("x-road-error") or "", self.body[:200])


class Sent:
    def __init__(self, method, target, headers, body):
        self.method, self.target, self.headers, self.body = method, target, headers, body


def send(node, subsystem, method, target, headers=(), body=None, chunks=None, timeout=30, host=True,
         cert=None):
    """Send one request over a fresh TLS connection (client certificate of `subsystem`, or `cert`
    (crt, key), or none) and read one answer. headers: a list of (name, value) pairs sent as
    given, in order (values str, encoded as UTF-8, or bytes). `chunks`: a list of bytes sent with
    Transfer-Encoding: chunked instead of `body`."""
    headers = list(headers)
    if ASSIST and _b(target).startswith(b"/r1/") and not any(n.lower() == "x-bus-purpose" for n, _ in headers):
        headers.append(("X-Bus-Purpose", PURPOSE))
    if host and not any(n.lower() == "host" for n, _ in headers):
        headers.insert(0, ("Host", "127.0.0.1:%d" % node.port))
    if body is not None and chunks is None and not any(n.lower() == "content-length" for n, _ in headers):
        headers.append(("Content-Length", str(len(body))))
    if chunks is not None:
        headers.append(("Transfer-Encoding", "chunked"))
    head = _b(method) + b" " + _b(target) + b" HTTP/1.1\r\n"
    for n, v in headers:
        head += _b(n) + b": " + _b(v) + CRLF
    head += CRLF
    payload = head
    if chunks is not None:
        for c in chunks:
            payload += b"%x\r\n" % len(c) + c + CRLF
        payload += b"0\r\n\r\n"
    elif body is not None:
        payload += body
    r = Reply()
    r.sent = Sent(method, target, [(n, v) for n, v in headers], body if chunks is None else b"".join(chunks))
    ctx = ssl.create_default_context(cafile=os.path.join(node.pki, "ca.crt"))
    if subsystem:
        ctx.load_cert_chain(*node.client_files(subsystem))
    elif cert:
        ctx.load_cert_chain(*cert)
    try:
        raw = socket.create_connection(("127.0.0.1", node.port), timeout=timeout)
    except OSError as e:
        r.error = "connect: %s" % e
        return r
    try:
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    except (OSError, ssl.SSLError) as e:
        raw.close()
        r.error = "TLS handshake: %s" % e
        return r
    with s:
        send_error = None
        try:
            s.sendall(payload)
        except (OSError, ssl.SSLError) as e:
            send_error = e
        try:
            _read_reply(s.makefile("rb"), r, method)
        except socket.timeout:
            r.error = "timeout"
        except (OSError, ssl.SSLError, ValueError) as e:
            r.error = "%s%s" % (type(e).__name__, (": %s" % e) if str(e) else "")
        if r.status is None and send_error is not None:
            r.error = "while sending: %s; then %s" % (send_error, r.error)
    code = r.get("x-road-error")
    asked_problem = any(n.lower() == "accept" and "problem+json" in str(v) for n, v in headers)
    if code is not None and r.status is not None and not asked_problem:
        ERRORS_SEEN.append((code, r.status, node.port))
    return r


def _read_reply(f, r, method):
    while True:
        line = f.readline(65537)
        if not line:
            raise ConnectionResetError("connection closed before an answer")
        m = re.match(rb"HTTP/1\.[01] (\d{3})(?: (.*))?\r?\n$", line)
        if not m:
            raise ValueError("not an HTTP status line: %r" % line[:80])
        status = int(m.group(1))
        raw_headers = []
        while True:
            h = f.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.rstrip(b"\r\n").partition(b":")
            raw_headers.append((name, value.strip(b" \t")))
        if 100 <= status < 200:
            continue
        break
    r.status = status
    r.reason = (m.group(2) or b"").decode("latin-1")
    r.raw_headers = raw_headers
    r.headers = [(n.decode("latin-1"), v.decode("utf-8", "replace")) for n, v in raw_headers]
    if method == "HEAD" or status in (204, 304):
        return
    te = (r.get("transfer-encoding") or "").lower()
    if "chunked" in te:
        body = b""
        while True:
            size = int(f.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += f.read(size)
            f.readline()
        r.body = body
    elif r.get("content-length") is not None:
        n = int(r.get("content-length"))
        r.body = f.read(n)
        if len(r.body) != n:
            raise ConnectionResetError("body cut at %d of %d bytes" % (len(r.body), n))
    else:
        r.body = f.read()


def xroad_call(node, service, path="", method="GET", headers=(), client=CLIENT, cert_of=None, body=None,
               query=None, **kw):
    """An X-Road REST call with only the X-Road headers given: GET /r1/{service}{path}[?query]."""
    target = "/r1/" + service + path + ("?" + query if query is not None else "")
    h = [("X-Road-Client", client)] if client else []
    h += list(headers)
    cert = cert_of if cert_of is not None else (client if client in SUBSYSTEMS else CLIENT)
    return send(node, cert, method, target, h, body=body, **kw)


def expected_hash(r):
    """The reference X-Road-Request-Hash of the request `r` answered, with the node's request id
    (and generated X-Road-Id) read from the answer."""
    s = r.sent
    canon = canonical_request(s.method, s.target, s.headers, r.get("x-road-request-id") or "",
                              r.get("x-road-id") or "")
    return request_hash(canon, s.body or b"")


# --- checks shared by many tests ----------------------------------------------------------
def is_xroad_error(t, r, code, what, status=None, media="application/json"):
    """r is a node-made X-Road error: status 400 for a Client.* code, 500 otherwise (contract:
    the status follows the prefix), X-Road-Error = code, the body {type, message, detail} with
    type = code and a UUID detail. `code` may be a set of acceptable codes or a compiled regex."""
    if r.status is None:
        return t.check(False, what, "no answer (%s)" % r.error)
    got = r.get("x-road-error")
    if isinstance(code, re.Pattern):
        code_ok = got is not None and code.match(got) is not None
    elif isinstance(code, (set, frozenset, tuple, list)):
        code_ok = got in code
    else:
        code_ok = got == code
    ok = t.check(code_ok, what + ": X-Road-Error", "got %r (status %s), want %r" % (got, r.status, code))
    if got is None:
        return False
    basis = code if isinstance(code, str) else got
    want_status = status if status is not None else (400 if basis.startswith("Client.") else 500)
    ok = t.check(r.status == want_status, what + ": HTTP status", "got %s, want %s" % (r.status, want_status)) and ok
    if media == "application/json":
        ok = t.check(r.media_type() == "application/json", what + ": Content-Type",
                     "got %r" % r.get("content-type")) and ok
        try:
            body = r.json()
        except ValueError:
            return t.check(False, what + ": body is JSON", repr(r.body[:120]))
        ok = t.check(isinstance(body, dict) and set(body) == {"type", "message", "detail"},
                     what + ": body keys are exactly type, message, detail", repr(body)) and ok
        if isinstance(body, dict):
            ok = t.check(body.get("type") == got, what + ": body type = X-Road-Error", repr(body.get("type"))) and ok
            ok = t.check(isinstance(body.get("message"), str), what + ": message is a string") and ok
            ok = t.check(isinstance(body.get("detail"), str) and UUID_RE.match(body.get("detail") or "") is not None,
                         what + ": detail is a UUID", repr(body.get("detail"))) and ok
    return ok


def no_xroad_error(t, r, what):
    return t.check(r.status is not None and r.get("x-road-error") is None, what + ": no X-Road-Error",
                   r.get("x-road-error") if r.status else r.error)


# --- the echo providers -------------------------------------------------------------------
class Recorded:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target                      # raw, as in the request line
        self.path, _, self.query = target.partition("?")
        self.has_query = "?" in target
        self.version = version
        self.headers = headers                    # [(name, value bytes)] in order
        self.body = body

    def get(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v.decode("utf-8", "replace")
        return None

    def raw(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v.decode("utf-8", "replace") for n, v in self.headers if n.lower() == name.lower()]

    def names(self):
        return [n.lower() for n, _ in self.headers]


class Script:
    def __init__(self, status=200, headers=(), body=b"", delay=0.0, echo_body=False, raw=None):
        self.status, self.headers, self.body = status, list(headers), body
        self.delay, self.echo_body, self.raw = delay, echo_body, raw


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        # every answer of the provider names a server the client must never see (PR-REST §4.3
        # "Filtered headers": Server can leak the origin host)
        return "secret/1.0"

    def log_message(self, *a):
        pass

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._serve()
            self.wfile.flush()
        except (socket.timeout, ConnectionError):
            self.close_connection = True

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _serve(self):
        parts = self.requestline.split(" ")
        method, target, version = parts[0], parts[1] if len(parts) > 1 else "", parts[-1]
        headers = [(n, v.encode("latin-1")) for n, v in self.headers.raw_items()]
        body = self._body()
        owner = self.server.owner
        rec = Recorded(method, target, version, headers, body)
        script = owner._take(rec)
        with owner.lock:
            owner.requests.append(rec)
        if script.delay:
            time.sleep(script.delay)
        if script.raw is not None:
            self.wfile.write(script.raw)
            self.close_connection = True
            return
        out = body if script.echo_body else script.body
        names = [n.lower() for n, _ in script.headers]
        self.send_response_only(script.status)
        if "server" not in names:
            self.send_header("Server", self.version_string())
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        for n, v in script.headers:
            self.send_header(n, v)
        if script.echo_body and "content-type" not in names and rec.get("content-type"):
            self.send_header("Content-Type", rec.get("content-type"))
        if "content-length" not in names and "transfer-encoding" not in names:
            self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if method != "HEAD" and script.status not in (204, 304):
            self.wfile.write(out)


class Echo:
    """A provider that records every request and answers from a script (FIFO), or with the
    default answer when the script is empty."""

    def __init__(self, default=None, handler=_EchoHandler):
        self.lock = threading.Lock()
        self.requests = []
        self.scripts = []
        self.default = default or Script(200, [("Content-Type", "application/json")], b'{"echo":true}')
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.owner = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, *scripts):
        with self.lock:
            self.requests = []
            self.scripts = list(scripts)

    def _take(self, rec):
        with self.lock:
            if self.scripts:
                return self.scripts.pop(0)
        return self.default

    @property
    def last(self):
        with self.lock:
            return self.requests[-1] if self.requests else None


# SOAP: an X-Road provider echo. It answers a request by copying the request's Header and
# putting `<wrapperResponse>` (the request wrapper's local name + "Response", same namespace)
# in the Body (PR-MESS §2.3, §3.2 wrapped style), unless a script says otherwise.
def soap_echo_answer(req):
    text = req.decode("utf-8", "replace")
    env = re.search(r"<([A-Za-z_][\w.-]*):Envelope\b[^>]*>", text)
    if not env:
        return None
    p = env.group(1)
    header = re.search(r"<%s:Header\b.*?</%s:Header>" % (p, p), text, re.S)
    wrapper = re.search(r"<%s:Body\b[^>]*>\s*<(?:([\w.-]+):)?([\w.-]+)\b([^>]*)>" % p, text, re.S)
    if not wrapper:
        return None
    wp, local, attrs = wrapper.group(1), wrapper.group(2), wrapper.group(3)
    qn = (wp + ":" if wp else "") + local + "Response"
    code = re.search(r"<personCode>([^<]*)</personCode>", text)
    inner = "<personCode>%s</personCode><name>Mari Maasikas</name>" % (code.group(1) if code else "")
    xmlns = " ".join(re.findall(r"xmlns(?::[\w.-]+)?=\"[^\"]*\"", attrs))
    out = '<?xml version="1.0" encoding="UTF-8"?>' + env.group(0)
    out += header.group(0) if header else ""
    out += "<%s:Body><%s%s>%s</%s></%s:Body></%s:Envelope>" % (p, qn, (" " + xmlns) if xmlns else "", inner, qn, p, p)
    return out.encode("utf-8")


class _SoapHandler(_EchoHandler):
    def _serve(self):
        parts = self.requestline.split(" ")
        method, target = parts[0], parts[1] if len(parts) > 1 else ""
        headers = [(n, v.encode("latin-1")) for n, v in self.headers.raw_items()]
        body = self._body()
        owner = self.server.owner
        rec = Recorded(method, target, parts[-1], headers, body)
        script = owner._take(rec)
        with owner.lock:
            owner.requests.append(rec)
        if script is owner.default:
            out = soap_echo_answer(body)
            status, hdrs = (200, [("Content-Type", "text/xml; charset=utf-8")]) if out else (500, [])
            out = out or b"not a SOAP request"
        else:
            status, hdrs = script.status, script.headers
            out = script.body(body) if callable(script.body) else script.body
        self.send_response_only(status)
        for n, v in hdrs:
            self.send_header(n, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class SoapEcho(Echo):
    def __init__(self):
        super().__init__(default=Script(), handler=_SoapHandler)


# --- the world ------------------------------------------------------------------------------
def closed_port():
    return harness.free_port()


class World:
    """A node with the suite's registry, the echo providers and the adapters:
    - echo (base http://127.0.0.1:P/api/), pets (base .../petstore), slow: xbus-adapter-rest;
    - down: a REST route to a port nobody listens on;
    - citizen: xbus-adapter-soap to the SOAP echo; citizen-down: to a closed port."""

    def __init__(self, registry=None, extra_conf="", rest_args=(), start=True):
        self.tmp = tempfile.mkdtemp(prefix="xbus-xroad-")
        self.regdir = os.path.join(self.tmp, "registry")
        self.schemas = os.path.join(self.tmp, "schemas")
        write_schemas(self.schemas)
        os.makedirs(self.regdir)
        text = (registry or registry_text()).replace("@SCHEMAS@", self.schemas)
        with open(os.path.join(self.regdir, "00-xroad.conf"), "w", encoding="utf-8") as f:
            f.write(text)
        self.node = harness.Node(registry=self.regdir, tmp=self.tmp, top_extra=extra_conf)
        self.echo = Echo()
        self.pets = Echo(default=Script(200, [("Content-Type", "application/json")], b'{"id":1,"name":"Rex"}'))
        self.slow = Echo(default=Script(200, [("Content-Type", "application/json")], b'{"slow":true}',
                                        delay=SLOW_TIMEOUT + 2))
        self.soap = SoapEcho()
        self.rest_args = list(rest_args)
        self.error = None
        self.adapters = []
        if start:
            self.start()

    def routes(self):
        down = closed_port()
        return {
            "rest": ["%s/echo=http://127.0.0.1:%d/api/" % (PROVIDER, self.echo.port),
                     "%s/pets=http://127.0.0.1:%d/petstore" % (PROVIDER, self.pets.port),
                     "%s/slow=http://127.0.0.1:%d/slow" % (PROVIDER, self.slow.port),
                     "%s/down=http://127.0.0.1:%d/down" % (PROVIDER, down)],
            "soap": ["%s/citizen=http://127.0.0.1:%d/soap" % (PROVIDER, self.soap.port),
                     "%s/citizen-down=http://127.0.0.1:%d/soap" % (PROVIDER, down)],
        }

    def start(self):
        try:
            self.node.start()
        except RuntimeError as e:
            self.error = "the node did not start: " + _log_reason(str(e))
            return self
        routes = self.routes()
        args = {"rest": ["--workers", "2", "--timeout", "20000", "--max-response", str(32 * 1024 * 1024)] +
                self.rest_args, "soap": ["--workers", "1", "--timeout", "20000"]}
        workers = 0
        for kind in ("rest", "soap"):
            cmd = [harness.binary("xbus-adapter-" + kind), "--bus", "tcp://127.0.0.1:%d" % self.node.aport]
            for r in routes[kind]:
                cmd += ["--route", r]
            cmd += args[kind] + harness.curve_args(self.node)
            log = open(os.path.join(self.tmp, "adapter-%s.log" % kind), "ab")
            p = subprocess.Popen(cmd, stdout=log, stderr=log)
            harness._processes.append(p)
            self.adapters.append(p)
            workers += int(args[kind][args[kind].index("--workers") + 1])
        try:
            self.node.wait_health(adapters=workers)
        except RuntimeError as e:
            self.error = "the adapters did not connect: " + _log_reason(str(e))
        return self

    def stop(self):
        for p in self.adapters:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        return self.node.stop()


def _log_reason(text):
    """The first line of the node's log that says what went wrong, without the temporary path."""
    lines = [l for l in text.splitlines() if l.strip()]
    interesting = [l for l in lines if re.search(r"error|refus|unknown|invalid|fail", l, re.I)]
    line = (interesting or lines or ["(no log)"])[0]
    return _short(re.sub(r"/tmp/xbus-xroad-[^/]+/", "", line), 200)


def write_schemas(folder):
    os.makedirs(os.path.join(folder, "pets"), exist_ok=True)
    os.makedirs(os.path.join(folder, "soap"), exist_ok=True)
    with open(os.path.join(folder, "pets", "pet.request.json"), "w") as f:
        json.dump(PET_REQUEST_SCHEMA, f, indent=2)
    with open(os.path.join(folder, "pets", "pet.response.json"), "w") as f:
        json.dump(PET_RESPONSE_SCHEMA, f, indent=2)
    with open(os.path.join(folder, "soap", "citizen.request.xsd"), "w") as f:
        f.write(CITIZEN_REQUEST_XSD)
    with open(os.path.join(folder, "soap", "citizen.response.xsd"), "w") as f:
        f.write(CITIZEN_RESPONSE_XSD)
    # citizen-down's own request element (PR-MESS §2.3: the Body's element is named by the service code)
    with open(os.path.join(folder, "soap", "citizen-down.request.xsd"), "w") as f:
        f.write(CITIZEN_REQUEST_XSD.replace('name="citizen"', 'name="citizen-down"'))


def start_world(suite, **kw):
    """Start a World for `suite`; when it cannot start, every test of the suite fails with the
    reason (today's node, for one, refuses the registry key default-purpose)."""
    w = World(**kw)
    if w.error:
        print("# " + w.error)
        suite.block(w.error)
    return w


def new_id():
    return str(uuid.uuid4())


# --- OpenAPI: the external validator and the exact-listing check ----------------------------
def openapi_tool():
    """tests/xroad/openapi-validate.py as a module (its file name has a hyphen)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("openapi_validate", os.path.join(HERE, "openapi-validate.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_DROP = ("$schema", "$id", "$comment", "title", "description", "examples", "example")


def _normal_schema(s):
    if isinstance(s, dict):
        return {k: _normal_schema(v) for k, v in s.items() if k not in _DROP}
    if isinstance(s, list):
        return [_normal_schema(v) for v in s]
    return s


def _resolve(doc, obj, depth=0):
    while isinstance(obj, dict) and "$ref" in obj and depth < 16:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            return None
        cur = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(cur, dict) or part not in cur:
                return None
            cur = cur[part]
        obj, depth = cur, depth + 1
    return obj


def _json_schema(doc, content_holder):
    content = (_resolve(doc, content_holder) or {}).get("content") or {}
    media = content.get("application/json") or {}
    schema = _resolve(doc, media.get("schema"))
    return _normal_schema(schema) if schema is not None else None


def openapi_listing_problems(doc, methods, paths, request_schema=None, response_schema=None):
    """What differs between an OpenAPI document and a registry service: exactly its paths (a `*`
    segment is a `{name}` path parameter; `**` cannot be written in OpenAPI and is skipped), on
    each path exactly its methods, exactly the path parameters of the template (in: path,
    required) and no query, cookie or other header parameters, on bodies (POST, PUT, PATCH) the
    request schema, and on each operation's success answer the response schema. An empty list
    means the document lists the service exactly."""
    out = []
    if not isinstance(doc, dict):
        return ["the document is not an object"]
    got_paths = doc.get("paths") or {}
    want = {p for p in paths if "**" not in p}
    if not got_paths:
        return ["'paths' is empty"]
    as_patterns = {}
    for tmpl in got_paths:
        segs = tmpl.split("/")
        pat = "/".join("*" if re.fullmatch(r"\{[^{}/]+\}", sg) else sg for sg in segs)
        if "{" in pat or "}" in pat:
            out.append("path %s mixes text and parameters in a segment" % tmpl)
        as_patterns[pat] = tmpl
    if set(as_patterns) != want:
        out.append("paths %s, want %s" % (sorted(as_patterns), sorted(want)))
    body_methods = {"post", "put", "patch"}
    for pat, tmpl in as_patterns.items():
        item = _resolve(doc, got_paths[tmpl]) or {}
        ops = {m for m in HTTP_METHODS if m in item}
        if ops != {m.lower() for m in methods}:
            out.append("%s: methods %s, want %s" % (tmpl, sorted(ops), sorted(m.lower() for m in methods)))
        names = re.findall(r"\{([^{}/]+)\}", tmpl)
        for m in ops:
            op = item[m] or {}
            params = {}
            for p in (item.get("parameters") or []) + (op.get("parameters") or []):
                p = _resolve(doc, p) or {}
                params[(p.get("in"), p.get("name"))] = p
            path_params = sorted(n for (i, n) in params if i == "path")
            if path_params != sorted(names):
                out.append("%s %s: path parameters %s, want %s" % (m, tmpl, path_params, sorted(names)))
            for (i, n), p in params.items():
                if i == "path" and p.get("required") is not True:
                    out.append("%s %s: path parameter %s is not required" % (m, tmpl, n))
                if i in ("query", "cookie") or (i == "header" and not str(n).lower().startswith(("x-road-", "x-bus-"))):
                    out.append("%s %s: parameter %s in %s is not in the registry" % (m, tmpl, n, i))
            if m in body_methods and request_schema is not None:
                got = _json_schema(doc, op.get("requestBody"))
                if got != _normal_schema(request_schema):
                    out.append("%s %s: request body schema %s, want the registry's" % (m, tmpl, _short(got, 80)))
            elif m not in body_methods and op.get("requestBody") is not None:
                out.append("%s %s: a request body on a method without one" % (m, tmpl))
            if response_schema is not None:
                resps = op.get("responses") or {}
                ok = [resps[c] for c in ("200", "201", "2XX", "default") if c in resps]
                got = _json_schema(doc, ok[0]) if ok else None
                if got != _normal_schema(response_schema):
                    out.append("%s %s: success answer schema %s, want the registry's" % (m, tmpl, _short(got, 80)))
    return out
