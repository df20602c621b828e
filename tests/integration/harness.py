"""harness.py: start a real xbusd and adapters on loopback for integration tests.

Standard library only (python3 comes with meson). Every test writes its own
configuration and registry copy into a temporary folder, picks free loopback
ports, and cleans up its processes on exit, whatever happens.
"""
import atexit
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.environ.get("XBUS_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
PROBLEM_JSON = "application/problem+json"  # what the tests' requests accept (Node.request)


def binary(name):
    path = os.environ.get("XBUS_BIN_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper())
    if not path or not os.path.exists(path):
        print("SKIP: %s is not built" % name)
        sys.exit(77)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_processes = []


def _cleanup():
    for p in _processes:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.headers.get("x-road-error", ""), self.body[:300])


class Check:
    """Counts assertions and prints a closing 'N passed, M failed' line."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok   %s" % what)
        else:
            self.failed += 1
            print("FAIL %s %s" % (what, detail))
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, what, "(got %r, want %r)" % (got, want))

    def problem(self, r, status, type_, what):
        ok = r.status == status and r.header("content-type") == "application/problem+json"
        body = {}
        try:
            body = r.json()
        except ValueError:
            ok = False
        # X-Road-Error carries the X-Road code in both error profiles (docs/protocol.md), the body has it too
        ok = ok and body.get("type") == type_ and body.get("xroad_code") and r.header("x-road-error") == body["xroad_code"]
        ok = ok and body.get("status") == status and isinstance(body.get("detail"), str)
        return self.ok(ok, what, "(got %r)" % r)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def registry_copy(dest, edits=()):
    """Copy conf/registry to dest and apply edits: (section header, key, value or None to delete)."""
    shutil.copytree(os.path.join(ROOT, "conf", "registry"), dest)
    # the sample names its schemas relative to the repository: keep pointing there
    set_key(dest, "[instance]", "schemas", os.path.abspath(os.path.join(ROOT, "schemas")))
    for header, key, value in edits:
        set_key(dest, header, key, value)
    return dest


def set_key(regdir, header, key, value):
    for name in sorted(os.listdir(regdir)):
        if not name.endswith(".conf"):
            continue
        path = os.path.join(regdir, name)
        lines = open(path, encoding="utf-8").read().split("\n")
        try:
            start = [l.strip() for l in lines].index(header)
        except ValueError:
            continue
        end = start + 1
        while end < len(lines) and not lines[end].lstrip().startswith("["):
            end += 1
        body = [l for l in lines[start + 1:end] if not re.match(r"\s*%s\s*=" % re.escape(key), l)]
        if value is not None:
            body.insert(0, "%s = %s" % (key, value))
        lines[start + 1:end] = body
        open(path, "w", encoding="utf-8").write("\n".join(lines))
        return
    raise KeyError("no section %s in %s" % (header, regdir))


class Node:
    def __init__(self, registry=None, http_extra="", top_extra="", threads=2, tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="xbus-it-")
        self.state = os.path.join(self.tmp, "state")
        self.port = free_port()
        self.aport = free_port()
        self.registry = registry
        self.config = os.path.join(self.tmp, "xbusd.conf")
        with open(self.config, "w") as f:
            f.write("[node]\nstate-dir = %s\n" % self.state)
            if registry:
                f.write("registry = %s\n" % registry)
            f.write("[http]\nlisten = 127.0.0.1:%d\nthreads = %d\n%s" % (self.port, threads, http_extra or "timeout = 5s\n"))
            f.write("[adapters]\nlisten = tcp://127.0.0.1:%d\nheartbeat = 200ms\nliveness = 3\n" % self.aport)
            f.write(top_extra)
        self.proc = None
        self.adapters = []
        self.url = "https://127.0.0.1:%d" % self.port
        self.pki = os.path.join(self.state, "pki")

    # --- processes ---
    def start(self, wait=True):
        self.log = open(os.path.join(self.tmp, "xbusd.log"), "ab")
        self.proc = subprocess.Popen([binary("xbusd"), "--config", self.config], stdout=self.log, stderr=self.log)
        _processes.append(self.proc)
        if wait:
            try:
                self.wait_health()
            except RuntimeError:
                # free_port() only found a port free a moment ago: another test's node, or an outgoing
                # connection's ephemeral port, may have taken it since. On a first start, take others.
                if getattr(self, "served", False) or "Address already in use" not in self.read_log() or \
                        getattr(self, "port_retries", 0) >= 3:
                    raise
                self.port_retries = getattr(self, "port_retries", 0) + 1
                self._new_ports()
                return self.start(wait)
            self.served = True
        return self

    def _new_ports(self):
        """Move a node that never started to two other free ports (its configuration rewritten)."""
        old = (self.port, self.aport)
        self.port, self.aport = free_port(), free_port()
        with open(self.config) as f:
            text = f.read()
        text = text.replace("listen = 127.0.0.1:%d\n" % old[0], "listen = 127.0.0.1:%d\n" % self.port)
        text = text.replace("tcp://127.0.0.1:%d\n" % old[1], "tcp://127.0.0.1:%d\n" % self.aport)
        with open(self.config, "w") as f:
            f.write(text)
        self.url = "https://127.0.0.1:%d" % self.port

    def wait_health(self, adapters=0, timeout=20):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("xbusd exited with %s; log:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                r = self.request(None, "GET", "/health")
                # 503 too: a node that lost a service's adapters (tests replace adapters) is up
                if r.status in (200, 503) and r.json().get("adapters", 0) >= adapters:
                    return r.json()
                last = r
            except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError("xbusd not healthy: %r; log:\n%s" % (last, self.read_log()))

    def read_log(self):
        try:
            return open(os.path.join(self.tmp, "xbusd.log"), errors="replace").read()[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def sample_args(self, people):
        return ["--data", os.path.join(self.tmp, "sample"), "--people", str(people)]

    def start_sample(self, people=300, workers=1, delays=(), wait=True, name=None):
        args = [binary("xbus-adapter-sample"), "--bus", "tcp://127.0.0.1:%d" % self.aport,
                "--workers", str(workers)] + self.sample_args(people)
        for svc, ms in delays:
            args += ["--delay", "%s=%d" % (svc, ms)]
        args += curve_args(self)
        out = open(os.path.join(self.tmp, "adapter-%d.log" % len(self.adapters)), "ab")
        p = subprocess.Popen(args, stdout=out, stderr=out)
        _processes.append(p)
        self.adapters.append(p)
        if wait:
            self.wait_health(adapters=sum(1 for a in self.adapters if a.poll() is None) * workers)
        return p

    def sample_ids(self, n=3, people=300):
        out = subprocess.run([binary("xbus-adapter-sample"), "--print-ids", str(n)] + self.sample_args(people),
                             check=True, capture_output=True, text=True).stdout
        return out.split()

    # --- TLS clients ---
    def client_files(self, subsystem):
        name = subsystem.replace("/", "_")
        return (os.path.join(self.pki, "clients", name + ".crt"), os.path.join(self.pki, "clients", name + ".key"))

    def context(self, subsystem=None, cert=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))
        if subsystem:
            ctx.load_cert_chain(*self.client_files(subsystem))
        elif cert:
            ctx.load_cert_chain(*cert)
        return ctx

    def request(self, subsystem, method, path, headers=None, body=None, cert=None, timeout=15, conn=None):
        own = conn is None
        if own:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context(subsystem, cert),
                                               timeout=timeout)
        headers = dict(headers or {})
        # The integration tests check the xbus problem types: they ask for problem+json (the X-Road error
        # format is the default since issue 11; tests/xroad checks that one). Accept=None sends none.
        if not any(k.lower() == "accept" for k in headers):
            headers["Accept"] = PROBLEM_JSON
        headers = {k: v for k, v in headers.items() if v is not None}
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            if own:
                conn.close()

    def call(self, client, service, subject=None, purpose=None, method="GET", header_client=None, extra=None,
             body=None, path=""):
        h = {"X-Road-Client": header_client if header_client is not None else client}
        if header_client == "":
            del h["X-Road-Client"]
        if subject:
            h["X-Bus-Subject"] = subject
        if purpose:
            h["X-Bus-Purpose"] = purpose
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(extra or {})
        return self.request(client, method, "/r1/" + service + path, headers=h, body=body)

    def metrics(self):
        text = self.request(None, "GET", "/metrics").body.decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    # --- the exchange log, read with lmdb-utils (not the project's code) ---
    def log_entries(self):
        out = subprocess.run(["mdb_dump", "-p", "-s", "entries", os.path.join(self.state, "log")],
                             check=True, capture_output=True).stdout
        entries = {}
        lines = out.split(b"\n")
        i = lines.index(b"HEADER=END") + 1
        while i + 1 < len(lines) and lines[i] != b"DATA=END":
            value = _unescape(lines[i + 1][1:])
            e = json.loads(value)
            entries[e["seq"]] = e
            i += 2
        return entries


def _unescape(b):
    out = bytearray()
    i = 0
    while i < len(b):
        if b[i:i + 1] == b"\\":
            if b[i + 1:i + 2] == b"\\":
                out += b"\\"
                i += 2
            else:
                out.append(int(b[i + 1:i + 3], 16))
                i += 3
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


def b64url_decode(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_receipt_openssl(jws, pki):
    """Verify a receipt with the openssl command (not the project's code): an ES256 compact JWS, or a
    receipt of a group commit, whose head openssl verifies and whose path Python walks (RFC 9162)."""
    if "~" in jws:
        return batch_receipt_check(jws, pki, lambda head: verify_receipt_openssl(head, pki))
    parts = jws.split(".")
    if len(parts) != 3:
        return False
    h, p, s = parts
    sig = b64url_decode(s)
    if len(sig) != 64:
        return False
    r, s_ = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")

    def der_int(v):
        b = v.to_bytes((v.bit_length() + 8) // 8 or 1, "big")
        return b"\x02" + bytes([len(b)]) + b

    seq = der_int(r) + der_int(s_)
    der = b"\x30" + bytes([len(seq)]) + seq
    d = tempfile.mkdtemp(prefix="xbus-rc-")
    try:
        open(os.path.join(d, "in"), "wb").write((h + "." + p).encode())
        open(os.path.join(d, "sig"), "wb").write(der)
        subprocess.run(["openssl", "pkey", "-in", os.path.join(pki, "signing.key"), "-pubout", "-out",
                        os.path.join(d, "pub.pem")], check=True, capture_output=True)
        res = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "pub.pem"), "-signature",
                              os.path.join(d, "sig"), os.path.join(d, "in")], capture_output=True)
        return res.returncode == 0
    finally:
        shutil.rmtree(d)


def verify_receipt_jose(jws, pki):
    """Verify with the jose command (libjose's CLI) against the node's public JWK."""
    if not shutil.which("jose"):
        return None
    if "~" in jws:
        return batch_receipt_check(jws, pki, lambda head: verify_receipt_jose(head, pki))
    res = subprocess.run(["jose", "jws", "ver", "-i", "-", "-k", os.path.join(pki, "signing.jwk")],
                         input=jws.encode(), capture_output=True)
    return res.returncode == 0


def receipt_payload(jws):
    """What a receipt says about its exchange: the one-JWS receipt's payload, or a group commit's
    receipt's entry (the log's own, which carries the same fields under the same names)."""
    if "~" in jws:
        return json.loads(b64url_decode(jws.split("~")[1]))
    return json.loads(b64url_decode(jws.split(".")[1]))


class ReceiptLoad:
    """Client threads that call `service` as `client` for the sample subjects until stopped,
    keeping every 200 response that came with a receipt as (xroad_id, receipt JWS, sha256 hex
    of the body, body, headers): what crash tests hold the log to."""

    def __init__(self, node, client, service, subjects, purpose, prefix, backoff):
        self.node, self.client, self.service, self.subjects = node, client, service, subjects
        self.purpose, self.prefix, self.backoff = purpose, prefix, backoff
        self.receipts = []
        self.lock = threading.Lock()

    def _run(self, stop, n):
        i = 0
        while not stop.is_set():
            i += 1
            xid = "%s-%d-%d-%f" % (self.prefix, n, i, time.time())
            try:
                r = self.node.call(self.client, self.service, subject=self.subjects[i % len(self.subjects)],
                                   purpose=self.purpose, extra={"X-Road-Id": xid})
            except Exception:
                time.sleep(self.backoff)
                continue
            if r.status == 200 and r.header("x-bus-receipt"):
                with self.lock:
                    self.receipts.append((xid, r.header("x-bus-receipt"), hashlib.sha256(r.body).hexdigest(),
                                          r.body, r.headers))

    def burst(self, threads, seconds, then):
        """Run `threads` clients for `seconds`, call then() (say, kill the node) while they run,
        then stop and join them."""
        stop = threading.Event()
        ths = [threading.Thread(target=self._run, args=(stop, k)) for k in range(threads)]
        for th in ths:
            th.start()
        time.sleep(seconds)
        then()
        stop.set()
        for th in ths:
            th.join()


def receipt_entry_matches(entry, xid, payload):
    """The log entry `entry` (a dict, or None) records the answer of receipt `payload` to `xid`."""
    return (entry is not None and entry.get("xroad_id") == xid and
            entry.get("response_hash") == payload["response_hash"] and entry.get("status") == 200)


# --- subject binding and strict input (issue 10: test_subject.py) -----------------------------------------------
def start_backend(node, people=300):
    """xbus-sample-backend on a free port, with its own copy of the sample data (the same people as
    node.sample_ids() names for the same count). Returns the port once it accepts connections."""
    port = free_port()
    data = os.path.join(node.tmp, "backend-data")
    out = open(os.path.join(node.tmp, "backend.log"), "ab")
    p = subprocess.Popen([binary("xbus-sample-backend"), "--listen", "127.0.0.1:%d" % port, "--data", data,
                          "--people", str(people), "--threads", "2"], stdout=out, stderr=out)
    _processes.append(p)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("xbus-sample-backend did not start")


def start_rest(node, services, backend_port):
    """xbus-adapter-rest serving `services` from the sample backend (URL = backend/{service id}); waits
    until the node counts it."""
    args = [binary("xbus-adapter-rest"), "--bus", "tcp://127.0.0.1:%d" % node.aport, "--workers", "1",
            "--timeout", "5000"]
    for svc in services:
        args += ["--route", "%s=http://127.0.0.1:%d/%s" % (svc, backend_port, svc)]
    args += curve_args(node)
    out = open(os.path.join(node.tmp, "rest-%d.log" % len(node.adapters)), "ab")
    p = subprocess.Popen(args, stdout=out, stderr=out)
    _processes.append(p)
    node.adapters.append(p)
    node.wait_health(adapters=sum(1 for a in node.adapters if a.poll() is None))
    return p


def raw_request(node, subsystem, data, timeout=10):
    """Send `data` (the bytes of a request, as they are) on one TLS connection as `subsystem` and read the
    first answer: for what http.client would refuse to send (a NUL in a header, a folded line)."""
    with node.context(subsystem).wrap_socket(socket.create_connection(("127.0.0.1", node.port), timeout=timeout),
                                             server_hostname="127.0.0.1") as s:
        s.sendall(data)
        r = http.client.HTTPResponse(s)
        r.begin()
        return Response(r.status, r.getheaders(), r.read())


# --- adapter authentication (CURVE) ---

def curve_key(path):
    with open(path) as f:
        return f.read().strip()


def curve_args(node, name="sample", pki=None):
    """The CURVE options of an adapter with key pair NAME: the node's demo PKI makes "sample"
    (pki/adapters/sample.key, .pub) at its first start, `xbus adapter keygen` others (in `pki`).
    Empty when the node has no CURVE key (a build before adapter authentication)."""
    server = os.path.join(node.pki, "node-curve.pub")
    base = os.path.join(pki or os.path.join(node.pki, "adapters"), name)
    if not os.path.exists(server):
        return []
    return ["--curve-server-key", curve_key(server), "--curve-public-key", curve_key(base + ".pub"),
            "--curve-secret-key-file", base + ".key"]


def keygen(out, name):
    """A new adapter key pair out/NAME.key, out/NAME.pub (`xbus adapter keygen`); returns the public key."""
    subprocess.run([binary("xbus"), "adapter", "keygen", "--out", out, "--name", name], check=True,
                   capture_output=True)
    return curve_key(os.path.join(out, name + ".pub"))


# --- connection attacks (issue 10: test_connections.py, tests/bench/conn-attacks.py) ---

def raise_nofile():
    """Raise this process's open-file limit to its hard limit (floods open thousands of sockets)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def open_idle(port, n, source, per_source=None):
    """n TCP connections that never start TLS, from 127.0.0.<source> (the next address every
    `per_source` connections). Non-blocking connects: fast, and the kernel completes them."""
    socks = []
    for i in range(n):
        s = socket.socket()
        s.bind(("127.0.0.%d" % (source + (i // per_source if per_source else 0)), 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    return socks


def closed_by_peer(socks, wait):
    """The sockets the other end has closed within `wait` seconds (EOF or reset), as {sock: seconds}."""
    import selectors
    start = time.time()
    closed = {}
    sel = selectors.DefaultSelector()  # epoll: descriptors past 1024
    for s in socks:
        s.setblocking(False)  # TLS: a session ticket makes a socket readable without data
        sel.register(s, selectors.EVENT_READ)
    while sel.get_map() and time.time() - start < wait:
        for key, _ in sel.select(min(0.2, max(0.0, wait - (time.time() - start)))):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                data = b""
            if not data:
                closed[s] = time.time() - start
                sel.unregister(s)
    sel.close()
    return closed


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


# --- metrics and their access (issue 12: test_metrics.py) ---

def request_from(node, path, source="127.0.0.1", subsystem=None, cert=None, host="127.0.0.1"):
    """GET `path` on `host` from the local address `source` (any 127.0.0.0/8 address is this machine too),
    with the client certificate of `subsystem` (or `cert`) when given."""
    ctx = node.context(subsystem, cert)
    ctx.check_hostname = host == "127.0.0.1"  # the demo certificate names loopback only
    conn = http.client.HTTPSConnection(host, node.port, context=ctx, timeout=15, source_address=(source, 0))
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def parse_metrics(text):
    """The samples of a Prometheus text exposition as [(name, {label: value}, float)]."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m:
            raise ValueError("not a sample line: %r" % line)
        labels = dict((k, v.encode().decode("unicode_escape"))
                      for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def sample(samples, name, **labels):
    """The value of the one sample `name` whose labels include `labels`, or None."""
    hits = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    return hits[0] if len(hits) == 1 else None


# --- certificates and the quick start (issue 12: test_pki.py, test_quickstart.py) ---

def xbus_cli(*args, timeout=120, env=None):
    """Run the xbus program; the CompletedProcess (text)."""
    return subprocess.run([binary("xbus")] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def wait_reloads(node, n, timeout=20):
    """Wait until the node has counted `n` successful reloads (SIGHUP); the metrics then."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = node.metrics()
        if m.get("xbus_registry_reloads_total", 0) >= n:
            return m
        time.sleep(0.05)
    raise RuntimeError("xbusd did not reload %d times; log:\n%s" % (n, node.read_log()))


def write_fragment(regdir, name, text):
    """A registry fragment (a *.conf file) added to a registry folder."""
    path = os.path.join(regdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
# --- registry snapshots (issue 13: test_snapshot.py) ---

def authority_key(folder, name):
    """A registry authority's EC P-256 key pair made with the openssl command: (folder/NAME.key, folder/NAME.pub)."""
    key, pub = os.path.join(folder, name + ".key"), os.path.join(folder, name + ".pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    return key, pub


def publish(registry, key, out, *args):
    """`xbus registry publish` of `registry` with `key` into `out`; extra arguments as given. Returns its output."""
    res = subprocess.run([binary("xbus"), "registry", "publish", "--registry", registry, "--key", key, "--out", out]
                         + list(args), capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("xbus registry publish failed: %s%s" % (res.stdout, res.stderr))
    return res.stdout


def self_signed(folder, name="server"):
    """A self-signed TLS certificate for 127.0.0.1 (openssl): (cert, key); the certificate is its own CA."""
    crt, key = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-days", "2"], check=True, capture_output=True)
    return crt, key


class StaticHttps:
    """A static web server over TLS (Python's http.server) serving `root`, in a thread of this process;
    counts the GETs of each path."""

    def __init__(self, root, cert, key):
        import functools
        import http.server
        counts = self.counts = {}

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                counts[self.path] = counts.get(self.path, 0) + 1
                return super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "https://127.0.0.1:%d/%s" % (self.port, path)

    def stop(self):
        self.server.shutdown()


# --- ETag and 304 for a StaticHttps (issue 13: snapshot propagation) ------------------------------------
def static_etags(server):
    """Make the StaticHttps `server` answer as a web server in front of the authority's snapshots does: a
    strong ETag (of the file's SHA-256) on each file, and 304 Not Modified, without the body, to an
    If-None-Match that names it. Counts the 304s in server.not_modified."""
    import hashlib
    handler = server.server.RequestHandlerClass.func
    plain_get = handler.do_GET
    tags = {}
    server.not_modified = 0

    def do_GET(self):
        path = self.translate_path(self.path)
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                key = (path, st.st_ino, st.st_mtime_ns, st.st_size)
                data = f.read()
        except OSError:
            return plain_get(self)
        if key not in tags:
            tags[key] = '"%s"' % hashlib.sha256(data).hexdigest()[:32]
        etag = tags[key]
        server.counts[self.path] = server.counts.get(self.path, 0) + 1
        listed = [x.strip() for x in self.headers.get("If-None-Match", "").split(",")]
        if "*" in listed or etag in [x[2:] if x.startswith("W/") else x for x in listed]:
            server.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)

    handler.do_GET = do_GET
    return server


# --- receipts of a group commit (issue 14, lever 3; docs/protocol.md "The receipt") -----------------------------
def batch_receipt_check(receipt, pki, verify_head, origin=None):
    """A receipt "<head JWS>~<b64url entry>~<b64url path>" checked without the project's code: the
    head's typ, its signature by verify_head(head JWS) (the openssl or jose command), then the
    entry's leaf hash walked up the path per RFC 9162 2.1.3.2 (batch_receipt.path_root, Python)
    to the head's root. `origin`, when given, must be the head's."""
    import base64
    from batch_receipt import path_root
    parts = receipt.split("~")
    if len(parts) != 3 or parts[0].count(".") != 2:
        return False
    try:
        header = json.loads(b64url_decode(parts[0].split(".")[0]))
        head = json.loads(b64url_decode(parts[0].split(".")[1]))
        entry_bytes, path_bytes = b64url_decode(parts[1]), b64url_decode(parts[2])
        entry = json.loads(entry_bytes)
        root = base64.b64decode(head["root"], validate=True)
        seq, size = entry["seq"], head["size"]
    except (ValueError, KeyError, TypeError, IndexError):
        return False
    if header.get("alg") != "ES256" or header.get("typ") != "xbus-tree-head+jws":
        return False
    if origin is not None and head.get("origin") != origin:
        return False
    if not all(type(v) is int and v >= 0 for v in (seq, size)) or len(path_bytes) % 32:
        return False
    if not verify_head(parts[0]):
        return False
    path = [path_bytes[i:i + 32] for i in range(0, len(path_bytes), 32)]
    return path_root(hashlib.sha256(b"\x00" + entry_bytes).digest(), seq, size, path) == root


def receipt_head(receipt):
    """The signed tree head of a group commit's receipt, as a dict ({"origin","size","root","time"})."""
    return json.loads(b64url_decode(receipt.split("~")[0].split(".")[1]))
