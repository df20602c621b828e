"""lying_proxy.py: an HTTPS proxy in front of a node that lies about proofs, for the console tests.

It serves with the node's own certificate and key (so the browser accepts it as the node) and forwards
every request to the node. In a lying mode it changes the answers to /ui/api/audit/entries/SEQ and
/ui/api/citizen/entries/SEQ before the page sees them, as a compromised server would:

  proof   one byte of the first inclusion-proof hash
  root    the checkpoint's root hash (its signature no longer covers it)
  entry   the entry's bytes (a decision rewritten)
  none    nothing (the control: the page verifies through the proxy)

Test-only: the node has no switch that makes it lie.
"""
import base64
import http.client
import http.server
import json
import re
import ssl
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade"}


def lie(mode, body):
    a = json.loads(body)
    if mode == "proof":
        p = a.get("inclusion_proof") or []
        if p:
            raw = bytearray(base64.b64decode(p[0]))
            raw[0] ^= 1
            p[0] = base64.b64encode(bytes(raw)).decode()
        else:
            a["inclusion_proof"] = [base64.b64encode(b"\x01" * 32).decode()]
    elif mode == "root":
        lines = a["checkpoint"].split("\n")
        raw = bytearray(base64.b64decode(lines[2]))
        raw[5] ^= 0x80
        lines[2] = base64.b64encode(bytes(raw)).decode()
        a["checkpoint"] = "\n".join(lines)
    elif mode == "entry":
        e = a["entry"]
        a["entry"] = e.replace('"decision":"deny"', '"decision":"allow"') if '"deny"' in e else \
            e.replace('"decision":"allow"', '"decision":"deny"')
    return json.dumps(a).encode()


class LyingProxy:
    def __init__(self, node):
        self.node = node
        self.mode = "none"
        self.lied = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                ctx = ssl.create_default_context(cafile=proxy.node.pki + "/ca.crt")
                c = http.client.HTTPSConnection("127.0.0.1", proxy.node.port, context=ctx, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "host"}
                c.request(self.command, self.path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                if (proxy.mode != "none" and r.status == 200 and self.command == "GET" and
                        re.match(r"^/ui/api/(audit|citizen)/entries/[0-9]+$", self.path)):
                    data = lie(proxy.mode, data)
                    proxy.lied += 1
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                c.close()

            do_GET = do_POST = do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(node.pki + "/node.crt", node.pki + "/node.key")
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
