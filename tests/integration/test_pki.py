#!/usr/bin/env python3
"""test_pki.py: certificates as a workflow. A client added by a reload gets a
certificate from the CLI (its own key and request, issued by the demo CA) and
calls at once; the demo PKI issues one for it too; a revoked client is
refused after SIGHUP, on a new connection and on one made before; renewal
(a client, and the node's own certificate, which a reload puts in use and
which the expiry warning and gauge report); a broken CRL is refused at
reload while the old trust stays."""
import http.client
import os
import socket
import ssl
import subprocess
import tempfile

from harness import Check, Node, Response, registry_copy, wait_reloads, write_fragment, xbus_cli

t = Check("pki")
CITIZEN = "VN/GOV/BCA/population/citizen"
BYT = "VN/GOV/BYT/health-services"
APP = "VN/GOV/NEWORG/app"        # gets its certificate from the CLI
PORTAL = "VN/GOV/NEWORG/portal"  # gets its certificate from the demo PKI at reload
tmp = tempfile.mkdtemp(prefix="xbus-it-pki-")
reg = registry_copy(os.path.join(tmp, "registry"))
node = Node(registry=reg, tmp=tmp)
node.start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]
state = node.state


def call(client, cert=None, conn=None):
    h = {"X-Road-Client": client, "X-Bus-Subject": subject, "X-Bus-Purpose": "public-service-delivery",
         "Accept": "application/problem+json"}
    if conn:
        conn.request("GET", "/r1/" + CITIZEN, headers=h)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    return node.request(client if not cert else None, "GET", "/r1/" + CITIZEN, headers=h, cert=cert)


# --- a new client, added by a reload -------------------------------------------------------------------------
write_fragment(reg, "70-neworg.conf", """
[member VN/GOV/NEWORG]
name = A new organisation

[subsystem %(app)s]
name = Its application
roles = client
tls-cn = %(app)s

[subsystem %(portal)s]
name = Its portal
roles = client
tls-cn = %(portal)s

[right neworg-citizen]
group = neworg
service = %(citizen)s
methods = GET
basis = statute
legal-reference = Law on Identification 2023, art. 10
purposes = public-service-delivery

[group neworg]
title = The new organisation's systems
members = %(app)s, %(portal)s
""" % {"app": APP, "portal": PORTAL, "citizen": CITIZEN})
node.hup()
wait_reloads(node, 1)

# the client's side: its own key and request, on its own machine
client_dir = os.path.join(tmp, "client")
res = xbus_cli("pki", "request", "--name", APP, "--out", client_dir)
t.eq(res.returncode, 0, "xbus pki request makes a key and a request" + res.stderr)
key = os.path.join(client_dir, "VN_GOV_NEWORG_app.key")
csr = os.path.join(client_dir, "VN_GOV_NEWORG_app.csr")
t.ok(os.path.exists(csr) and os.stat(key).st_mode & 0o777 == 0o600, "the key is private (0600), the request beside it")
t.ok("PRIVATE KEY" not in res.stdout + res.stderr, "the private key is never printed")
# the CA's side: the demo CA of the node's state folder
res = xbus_cli("pki", "issue", "--state", state, "--csr", csr)
cert = os.path.join(client_dir, "VN_GOV_NEWORG_app.crt")
t.eq(res.returncode, 0, "xbus pki issue issues for the request " + res.stderr)
t.ok(os.path.exists(cert) and "tls-cn = %s" % APP in res.stdout, "the certificate, and what the registry needs",
     res.stdout)
r = call(APP, cert=(cert, key))
t.eq(r.status, 200, "the client added by reload calls at once with the CLI's certificate")
res = xbus_cli("call", "--state", state, "--url", node.url, "--client", APP, "--cert", cert, "--cert-key", key,
               "--subject", subject, "--purpose", "public-service-delivery", CITIZEN)
t.ok(res.returncode == 0 and "receipt: verified" in res.stdout, "xbus call --cert/--cert-key too", res.stdout + res.stderr)

# the demo PKI issued the portal's at the reload, without a restart
t.ok(os.path.exists(os.path.join(node.pki, "clients", "VN_GOV_NEWORG_portal.crt")),
     "the demo PKI issued a certificate for the subsystem the reload added")
t.eq(call(PORTAL).status, 200, "and it calls at once")

res = xbus_cli("pki", "list", "--state", state)
t.ok(res.returncode == 0 and APP in res.stdout and PORTAL in res.stdout and "xbus demo CA" in res.stdout,
     "xbus pki list shows what was issued", res.stdout + res.stderr)

# --- revoke ---------------------------------------------------------------------------------------------------
ctx = ssl.create_default_context(cafile=os.path.join(node.pki, "ca.crt"))
ctx.load_cert_chain(cert, key)
kept = http.client.HTTPSConnection("127.0.0.1", node.port, context=ctx, timeout=10)
t.eq(call(APP, conn=kept).status, 200, "a keep-alive connection of the client, made before the revocation")
res = xbus_cli("pki", "revoke", "--state", state, "--reason", "keyCompromise", APP)
t.ok(res.returncode == 0 and "revoked 2 certificates" in res.stdout and "kill -HUP" in res.stdout,
     "xbus pki revoke revokes every certificate of the name and says to reload", res.stdout + res.stderr)
t.ok(os.path.exists(os.path.join(node.pki, "ca.crl")), "the CRL is written beside the demo CA")
t.eq(call(APP, cert=(cert, key)).status, 200, "before the reload the node does not know yet")
node.hup()
m = wait_reloads(node, 2)
r = call(APP, cert=(cert, key))
t.ok(r.status == 401 and r.json().get("type") == "client_unknown",
     "after SIGHUP the revoked client is refused (client_unknown)", repr(r))
r = call(APP)
t.ok(r.status == 401, "its demo certificate, revoked with it, too", repr(r))
try:
    r = call(APP, conn=kept)
    t.ok(r.status == 401 and r.header("connection") == "close",
         "on the connection made before the reload too, which is then closed", repr(r))
except (OSError, http.client.HTTPException) as e:
    t.ok(False, "on the connection made before the reload too", repr(e))
kept.close()
t.eq(call(PORTAL).status, 200, "another client of the same CA still calls")
t.eq(call(BYT).status, 200, "and so do the sample clients")
t.ok(any(k.startswith('xbus_certificate_expiry_seconds{certificate="client_crl"') for k in m),
     "the CRL's next update is a gauge", str([k for k in m if "certificate" in k]))
t.ok("Client certificates are checked against the CRLs" in node.read_log() or "CRLs)" in node.read_log(),
     "the log says the CRLs are in use")

# a broken CRL is refused at reload; the previous trust stays
crl = os.path.join(node.pki, "ca.crl")
good = open(crl).read()
open(crl, "w").write("-----BEGIN X509 CRL-----\nnot a crl\n-----END X509 CRL-----\n")
node.hup()
wait_reloads(node, 3)
t.ok("TLS not reloaded" in node.read_log(), "a broken CRL: the TLS reload is refused and logged")
t.ok(call(APP, cert=(cert, key)).status == 401, "and the revoked client stays refused")
t.eq(call(PORTAL).status, 200, "while the others are served")
open(crl, "w").write(good)

# --- renew ----------------------------------------------------------------------------------------------------
portal_crt = os.path.join(node.pki, "clients", "VN_GOV_NEWORG_portal.crt")
before = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", portal_crt], capture_output=True, text=True).stdout
res = xbus_cli("pki", "renew", "--state", state, "--days", "365", portal_crt)
after = subprocess.run(["openssl", "x509", "-noout", "-serial", "-enddate", "-in", portal_crt], capture_output=True,
                       text=True).stdout
t.ok(res.returncode == 0 and before.split("\n")[0] != after.split("\n")[0], "xbus pki renew: a new certificate in place",
     res.stdout + res.stderr)
t.eq(call(PORTAL).status, 200, "the renewed client calls at once")

# the node's own certificate, renewed short: a reload puts it in use, and the warning and the gauge say so
node_crt = os.path.join(node.pki, "node.crt")
res = xbus_cli("pki", "renew", "--state", state, "--days", "10", node_crt)
t.eq(res.returncode, 0, "xbus pki renew the node's certificate " + res.stderr)
node.hup()
m = wait_reloads(node, 4)
served = ssl.create_default_context(cafile=os.path.join(node.pki, "ca.crt"))
with served.wrap_socket(socket.create_connection(("127.0.0.1", node.port)), server_hostname="localhost") as s:
    der = s.getpeercert(binary_form=True)
want = subprocess.run(["openssl", "x509", "-outform", "DER", "-in", node_crt], capture_output=True).stdout
t.ok(der == want, "after the reload the node serves its renewed certificate")
gauge = [v for k, v in m.items() if k.startswith('xbus_certificate_expiry_seconds{certificate="node"')]
t.ok(gauge and 9 * 86400 < gauge[0] <= 10 * 86400, "xbus_certificate_expiry_seconds{certificate=\"node\"}: 10 days",
     str(gauge))
log = node.read_log()
t.ok("warning: The node's TLS certificate \"localhost\" expires" in log and "xbus pki renew" in log,
     "a warning in the operational log: within 30 days of expiry", log[-1500:])
t.ok("PRIVATE KEY" not in log, "no key in the log")

node.stop()
t.finish()
