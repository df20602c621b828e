#!/usr/bin/env python3
"""test_refusals.py: every refusal the front door makes, each answered with
problem+json and a stable type, and each recorded in the exchange log."""
import http.client
import os
import socket
import ssl
import subprocess
import tempfile

from harness import Check, Node

t = Check("refusals")
node = Node().start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]

BYT = "VN/GOV/BYT/health-services"
HN = "VN/GOV/HN-UBND/one-stop-shop"
VCB = "VN/COM/VCB/kyc"
CITIZEN = "VN/GOV/BCA/population/citizen"
LAND = "VN/GOV/BTNMT/land/land-parcels"
PURPOSE = "health-insurance-enrolment"
logged = {}  # seq -> expected error type


def refused(r, status, type_, what):
    ok = t.problem(r, status, type_, what)
    seq = r.header("x-bus-log-seq")
    if t.ok(seq is not None, what + ": refusal is logged (X-Bus-Log-Seq)"):
        logged[int(seq)] = type_
    return ok


# identity
r = node.request(None, "GET", "/r1/" + CITIZEN, headers={"X-Road-Client": BYT, "X-Bus-Subject": subject})
refused(r, 401, "client_unknown", "no client certificate")

d = tempfile.mkdtemp(prefix="xbus-rogue-")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", d + "/k.pem", "-out", d + "/c.pem", "-subj", "/CN=" + BYT.replace("/", "\\/"), "-days", "1"],
               check=True, capture_output=True)
r = node.request(None, "GET", "/r1/" + CITIZEN, cert=(d + "/c.pem", d + "/k.pem"),
                 headers={"X-Road-Client": BYT, "X-Bus-Subject": subject, "X-Bus-Purpose": PURPOSE})
refused(r, 401, "client_unknown", "self-signed certificate with a registered CN (wrong CA)")

refused(node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, header_client=HN), 403, "client_mismatch",
        "X-Road-Client does not match the certificate")
refused(node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, header_client=""), 400, "bad_request",
        "X-Road-Client missing")

# service
refused(node.call(BYT, "VN/GOV/BCA/population/no-such-service", subject=subject, purpose=PURPOSE), 404,
        "service_unknown", "unknown service")
refused(node.call(BYT, "XX/GOV/BCA/population/citizen", subject=subject, purpose=PURPOSE), 404, "service_unknown",
        "another instance")
refused(node.call(BYT, "VN/GOV/BCA", subject=subject, purpose=PURPOSE), 400, "bad_request", "truncated service id")
refused(node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, method="DELETE"), 405, "method_not_allowed",
        "a method the service does not offer")

# access rights
refused(node.call(VCB, CITIZEN, subject=subject, purpose="loan-application"), 403, "access_denied",
        "client without a right")
refused(node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, path="/extra/path"), 403, "access_denied",
        "a path the right does not cover")

# legal basis
refused(node.call(BYT, CITIZEN, purpose=PURPOSE), 400, "subject_required", "personal service without a subject")
refused(node.call(BYT, CITIZEN, subject=subject), 403, "purpose_invalid", "no purpose")
refused(node.call(BYT, CITIZEN, subject=subject, purpose="no-such-purpose"), 403, "purpose_invalid",
        "unknown purpose")
refused(node.call(BYT, CITIZEN, subject=subject, purpose="tax-administration"), 403, "purpose_invalid",
        "a registered purpose the right does not list")
refused(node.call(HN, LAND, subject=subject, purpose="public-service-delivery"), 403, "consent_required",
        "consent-based right without consent")

# malformed headers
# X-Road-Id is any printable string of 1..255 bytes (issue 11, PR-REST 1.0.4 §4.3): one byte more is refused
refused(node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, extra={"X-Road-Id": "i" * 256}),
        400, "bad_request", "X-Road-Id over 255 bytes")
refused(node.call(BYT, CITIZEN, subject="00 1 2", purpose=PURPOSE), 400, "bad_request", "malformed subject")
refused(node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, extra={"X-Road-UserId": "x" * 300}), 400,
        "bad_request", "over-long X-Road-UserId")


def raw(request_bytes):
    """Send bytes over mutual TLS and return the status line and headers."""
    ctx = node.context(BYT)
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as ss:
            ss.sendall(request_bytes)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = ss.recv(65536)
                if not chunk:
                    break
                data += chunk
            while True:
                try:
                    chunk = ss.recv(65536)
                except (socket.timeout, ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                data += chunk
                if len(data) > 1 << 20:
                    break
            return data


dup = ("GET /r1/%s HTTP/1.1\r\nHost: x\r\nAccept: application/problem+json\r\nX-Road-Client: %s\r\n"
       "X-Bus-Purpose: %s\r\nX-Bus-Subject: %s\r\nX-Bus-Subject: 001000000000\r\nConnection: close\r\n\r\n"
       % (CITIZEN, BYT, PURPOSE, subject)).encode()
resp = raw(dup)
t.ok(resp.startswith(b"HTTP/1.1 400") and b"bad_request" in resp, "a repeated X-Bus-Subject header is refused",
     resp[:200])

# body limits: the service's (problem+json, logged) and the transport's (libevent, before the bus)
refused(node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE, method="GET", body="x" * (1024 * 1024 + 10)), 413,
        "payload_too_large", "body over the service's limit")
big = ("POST /r1/%s HTTP/1.1\r\nHost: x\r\nX-Road-Client: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
       % (CITIZEN, BYT, 64 * 1024 * 1024)).encode()
resp = raw(big)
t.ok(resp.startswith(b"HTTP/1.1 413") or resp == b"", "body over the node's transport limit: 413 or closed",
     resp[:100])

# header block over the limit
resp = raw(("GET /r1/%s HTTP/1.1\r\nHost: x\r\nX-Junk: %s\r\nConnection: close\r\n\r\n" % (CITIZEN, "a" * 40000)).encode())
t.ok(resp == b"" or resp.split(b" ")[1][:1] == b"4", "oversized header block: 4xx or closed", resp[:100])

# garbage request line
resp = raw(b"\x16\x03garbage\r\n\r\n")
t.ok(resp == b"" or resp.split(b" ")[1][:1] == b"4", "garbage request: 4xx or closed", resp[:100])

# not an exchange path
r = node.request(BYT, "GET", "/nope")
t.problem(r, 404, "not_found", "a path outside /r1: 404 problem")

# the node still serves after all of this
r = node.call(BYT, CITIZEN, subject=subject, purpose=PURPOSE)
t.eq(r.status, 200, "still serving after the refusals")

# every refusal is in the log, as a deny with its type
t.eq(node.stop(), 0, "clean stop")
entries = node.log_entries()
for seq, type_ in sorted(logged.items()):
    e = entries.get(seq, {})
    t.ok(e.get("decision") == "deny" and e.get("error") == type_, "log entry %d: deny %s" % (seq, type_), e)
t.finish()
