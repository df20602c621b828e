#!/usr/bin/env python3
"""topology.py: a national topology of xbus nodes on one machine (issue 13, step 7; docs/federation.md).

A registry authority (a signing key and a static HTTPS server for its snapshot) and N nodes on loopback,
each with its own state, keys (`xbus node keygen`) and configuration, from a registry generated from the
sample one: 1 national node (the national portal, the inspectorate, a bank), the ministries' nodes
hosting the twelve national databases between them (each with a sample adapter that serves only the
databases its node hosts, --provider), and the provinces' nodes whose one-stop-shops are the clients.
Default: 1 + 17 + 34 = 52 nodes; --nodes N keeps 1 national node and about a third ministries.

Then a scenario (each step printed as ok/FAIL; exit 1 when one fails):
  one-stop-shops in several provinces read citizens from the population database at its ministry's node;
  a ministry reads from another ministry; a consent-based read across nodes; a node killed and its
  clients' errors; a province added by publishing a new snapshot, seen by every node without a restart.
And figures: the time to start, the anonymous RSS of every process, the time for a snapshot to reach
every node, how many snapshot requests the static server answered 304 (it sends ETags; --no-etag: not),
(--idle S) the CPU the idle nodes use, and (--load S) exchanges/s and p50/p99 of cross-node against
single-node exchanges.

    meson setup build && ninja -C build
    tests/federation/topology.py --build build                 # 52 nodes
    tests/federation/topology.py --build build --nodes 5       # what the federation suite runs
    tests/federation/topology.py --build build --nodes 200 --load 10
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

PURPOSE = "public-service-delivery"
CITIZEN = "VN/GOV/BCA/population/citizen"
CARD = "VN/GOV/BHXH/health-insurance/card"
LAND = "VN/GOV/BTNMT/land/land-parcels"
BYT = "VN/GOV/BYT/health-services"
PORTAL = "VN/GOV/VPCP/national-portal"
# the sample registry's ministries, the providers first (in the order their databases are spread)
MINISTRIES = ["BCA", "BHXH", "BTNMT", "BTP", "BKHDT", "BNV", "BTC", "BGDDT", "BLDTBXH", "BYT"]
PROVIDERS = ["VN/GOV/BCA/population", "VN/GOV/BCA/driving-licences", "VN/GOV/BTP/civil-status",
             "VN/GOV/BTP/judicial-records", "VN/GOV/BTNMT/land", "VN/GOV/BKHDT/business-registry",
             "VN/GOV/BHXH/social-insurance", "VN/GOV/BHXH/health-insurance", "VN/GOV/BNV/civil-servants",
             "VN/GOV/BTC/tax", "VN/GOV/BGDDT/diplomas", "VN/GOV/BLDTBXH/social-protection"]
MINISTRY_CLIENTS = {"BYT": [BYT], "BLDTBXH": ["VN/GOV/BLDTBXH/employment-services"], "BCA": ["VN/GOV/BCA/immigration"]}
NATIONAL = [PORTAL, "VN/GOV/TTCP/inspection", "VN/COM/VCB/kyc"]

results = []
_next_port = [int(os.environ.get("XBUS_TOPOLOGY_PORT_BASE", "21000"))]


def fixed_port():
    """A free port below the ephemeral range: with hundreds of nodes, a port picked from the ephemeral
    range early may be some connection's by the time its node starts."""
    import socket
    while True:
        p = _next_port[0]
        _next_port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue


def step(ok, what, detail=""):
    results.append(bool(ok))
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (" " + str(detail)[:300]) if not ok and detail else ""),
          flush=True)
    return ok


def rss_anon_mib(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Topology:
    def __init__(self, a):
        import harness
        from harness import StaticHttps, authority_key, registry_copy, self_signed, static_etags
        harness.free_port = fixed_port
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="xbus-topology-")
        self.keys, self.www = os.path.join(self.tmp, "keys"), os.path.join(self.tmp, "www")
        os.makedirs(self.keys)
        os.makedirs(self.www)
        self.reg = registry_copy(os.path.join(self.tmp, "registry"))
        self.key, self.pub = authority_key(self.keys, "authority")
        cert, cert_key = self_signed(self.tmp)
        # with an ETag and 304 to If-None-Match, as a web server serves files: an unchanged fetch costs
        # a node no download and no verification
        self.server = StaticHttps(self.www, cert, cert_key)
        if not a.no_etag:
            static_etags(self.server)
        self.server.not_modified = getattr(self.server, "not_modified", 0)
        # HTTP/1.1: every node's fetcher keeps its connection, so hundreds of nodes fetching every second
        # cost no TLS handshakes (Python's default, HTTP/1.0, closes each connection)
        self.server.server.RequestHandlerClass.func.protocol_version = "HTTP/1.1"
        self.snapshot_conf = ("[snapshot]\nurl = %s\nanchor = %s\nca = %s\ninterval = %s\n"
                              % (self.server.url("snapshot.jws"), self.pub, cert, a.interval))
        self.nodes, self.sections, self.version = {}, {}, 0
        self.provinces = []

    # --- the registry ---
    def plan(self, n):
        """Who runs which node: [(id, member, [subsystems], adapter providers)]."""
        ministries = 17 if n >= 52 else max(2, round((n - 1) / 3))
        provinces = max(1, n - 1 - ministries)
        plan = [("national", "VN/GOV/VPCP", list(NATIONAL), [])]
        mins = []
        for i in range(ministries):
            code = MINISTRIES[i] if i < len(MINISTRIES) else "B%02d" % (i + 1)
            own = [] if i < len(MINISTRIES) else ["VN/GOV/%s/services" % code]  # a generated ministry's client
            mins.append(["m-" + code.lower(), "VN/GOV/" + code, own, []])
        for j, prov in enumerate(PROVIDERS):  # each database at its ministry's node, else spread
            owner = prov.split("/")[2]
            k = MINISTRIES.index(owner) if MINISTRIES.index(owner) < ministries else j % ministries
            mins[k][2].append(prov)
            mins[k][3].append(prov)
        for code, subs in MINISTRY_CLIENTS.items():
            k = MINISTRIES.index(code)
            mins[k if k < ministries else k % ministries][2].extend(subs)
        plan += [tuple(m) for m in mins]
        for i in range(provinces):
            code = ["HN", "HCM"][i] if i < 2 else "P%03d" % (i + 1)
            plan.append(("p-" + code.lower(), "VN/GOV/%s-UBND" % code, ["VN/GOV/%s-UBND/one-stop-shop" % code], []))
        return plan

    def add_provinces(self, plan):
        """Members and one-stop-shops for generated provinces, in the one-stop-shops group."""
        extra = ""
        for nid, member, subs, _ in plan:
            if nid.startswith("p-p"):
                extra += ("[member %s]\nname = Province %s\n[subsystem %s]\nname = One-stop-shop %s\nroles = client\n"
                          "tls-cn = %s\n" % (member, nid, subs[0], nid, subs[0]))
            if nid.startswith("m-b") and nid[3:].isdigit():
                extra += ("[member %s]\nname = Ministry %s\n[subsystem %s]\nname = Services of %s\nroles = client\n"
                          % (member, nid, subs[0], nid))
        open(os.path.join(self.reg, "35-generated.conf"), "a").write(extra)
        self.provinces += [p for p in plan if p[0].startswith("p-")]
        oss = ["VN/GOV/HN-UBND/one-stop-shop", "VN/GOV/HCM-UBND/one-stop-shop"] + \
            [p[2][0] for p in self.provinces if p[0].startswith("p-p")]
        path = os.path.join(self.reg, "30-clients.conf")
        text = open(path).read()
        head, sep, rest = text.partition("[group provincial-one-stop-shops]\n")
        body, nl, tail = rest.partition("\n[")
        lines, out, cont = body.split("\n"), [], False
        for line in lines:  # drop the members key and its continuation lines
            if line.startswith("members") or cont:
                cont = line.rstrip().endswith("\\")
                continue
            out.append(line)
        for i in range(0, len(oss), 20):  # the key is repeatable; a line holds at most 4096 bytes
            out.insert(0, "members = " + ", ".join(oss[i:i + 20]))
        open(path, "w").write(head + sep + "\n".join(out) + nl + tail)

    def publish(self):
        from harness import publish
        open(os.path.join(self.reg, "70-nodes.conf"), "w").write("".join(self.sections.values()))
        self.version += 1
        out = os.path.join(self.keys, "v%d.jws" % self.version)
        publish(self.reg, self.key, out, "--version", str(self.version))
        shutil.copy(out, os.path.join(self.www, "snapshot.tmp"))
        os.replace(os.path.join(self.www, "snapshot.tmp"), os.path.join(self.www, "snapshot.jws"))
        return self.version

    # --- nodes ---
    def make(self, nid, member, subs, providers):
        from harness import Node, binary
        os.makedirs(os.path.join(self.tmp, nid))
        n = Node(top_extra=self.snapshot_conf, tmp=os.path.join(self.tmp, nid), threads=1,
                 http_extra="timeout = 10s\n")
        text = open(n.config).read().replace("[node]\n", "[node]\nname = %s\n" % nid, 1)
        open(n.config, "w").write(text)
        out = subprocess.run([binary("xbus"), "node", "keygen", "--state", n.state, "--id", nid, "--member", member,
                              "--address", n.url, "--subsystems", ", ".join(subs)], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("keygen %s: %s" % (nid, out.stderr))
        self.sections[nid] = "\n".join(l for l in out.stdout.splitlines() if not l.startswith("#")) + "\n"
        n.id, n.subs, n.providers = nid, subs, providers
        self.nodes[nid] = n
        return n

    def start(self, nodes):
        from harness import _processes, binary, curve_args
        for i in range(0, len(nodes), 25):  # in batches: 200 first fetches at once swamp one static server
            for n in nodes[i:i + 25]:
                n.start(wait=False)
            for n in nodes[i:i + 25]:
                n.wait_health(timeout=120)
        for n in nodes:
            if n.providers:
                args = [binary("xbus-adapter-sample"), "--bus", "tcp://127.0.0.1:%d" % n.aport, "--workers", "1",
                        "--data", os.path.join(self.tmp, "sample-" + n.id), "--people", "1000"]
                for p in n.providers:
                    args += ["--provider", p]
                log = open(os.path.join(n.tmp, "adapter.log"), "ab")
                p = subprocess.Popen(args + curve_args(n), stdout=log, stderr=log)
                _processes.append(p)
                n.adapters.append(p)
        for n in nodes:
            if n.providers:
                n.wait_health(adapters=1, timeout=120)

    def host(self, subsystem):
        return next(n for n in self.nodes.values() if subsystem in n.subs)

    def versions(self):
        out = {}
        for n in self.nodes.values():
            try:
                out[n.id] = (n.request(None, "GET", "/health", timeout=5).json().get("snapshot") or {}).get("version")
            except Exception:
                out[n.id] = None
        return out

    def wait_version(self, v, timeout=120, skip=()):
        """Seconds until every node (but `skip`) serves snapshot version v, each polled in its own thread
        (so that the polling does not hide the spread), or None."""
        import threading
        t0, seen = time.time(), {}

        def poll(n):
            while time.time() - t0 < timeout:
                try:
                    s = n.request(None, "GET", "/health", timeout=5).json().get("snapshot") or {}
                    if s.get("version") == v:
                        seen[n.id] = time.time() - t0
                        return
                except Exception:
                    pass
                time.sleep(0.05)

        threads = [threading.Thread(target=poll, args=(n,)) for n in self.nodes.values() if n.id not in skip]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return max(seen.values()) if len(seen) == len(threads) else None

    def rss(self):
        total = 0.0
        for n in self.nodes.values():
            if n.proc and n.proc.poll() is None:
                total += rss_anon_mib(n.proc.pid)
            for p in n.adapters:
                if p.poll() is None:
                    total += rss_anon_mib(p.pid)
        return total

    def cpu_seconds(self):
        """utime + stime of every node and adapter so far (the static server, in this process, apart)."""
        hz, total = os.sysconf("SC_CLK_TCK"), 0
        for n in self.nodes.values():
            for p in ([n.proc] if n.proc else []) + n.adapters:
                try:
                    f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
                    total += int(f[11]) + int(f[12])
                except OSError:
                    pass
        return total / hz

    def idle_cpu(self, seconds):
        """Percent of one core that the nodes use with nothing to do but fetch the unchanged snapshot."""
        c0, t0 = self.cpu_seconds(), time.time()
        time.sleep(seconds)
        return 100.0 * (self.cpu_seconds() - c0) / (time.time() - t0)

    def stop(self):
        for n in self.nodes.values():
            try:
                n.stop(timeout=30)
            except Exception:
                pass
        self.server.stop()


def call(n, client, service, subject, extra=None):
    h = {"Accept": "application/problem+json"}
    h.update(extra or {})
    return n.call(client, service, subject=subject, purpose=PURPOSE, extra=h)


def load(a, node, client, subject, purpose):
    crt, k = node.client_files(client)
    out = subprocess.run([a.loadgen, "-c", "8", "-t", "1", "-d", str(a.load), "-w", "1", "--cert", crt, "--key", k,
                          "-H", "X-Road-Client: " + client, "-H", "X-Bus-Subject: " + subject,
                          "-H", "X-Bus-Purpose: " + purpose, "%s/r1/%s" % (node.url, CITIZEN)],
                         capture_output=True, text=True).stdout
    return dict(x.split("=", 1) for x in out.split())


def scenario(t, a):
    from harness import binary
    bca = t.host("VN/GOV/BCA/population")
    subject = subprocess.run([binary("xbus-adapter-sample"), "--print-ids", "1", "--people", "1000", "--data",
                              os.path.join(t.tmp, "ids")], capture_output=True, text=True).stdout.split()[0]
    # one-stop-shops in several provinces read citizens from the population database
    for nid, _, subs, _ in t.provinces[:3]:
        r = call(t.nodes[nid], subs[0], CITIZEN, subject)
        step(r.status == 200 and r.header("x-bus-provider-node") == bca.id,
             "province %s reads a citizen from %s's node %s" % (nid, "VN/GOV/BCA/population", bca.id), r)
    # a ministry reads from another ministry
    byt, bhxh = t.host(BYT), t.host("VN/GOV/BHXH/health-insurance")
    r = byt.call(BYT, CARD, subject=subject, purpose="health-insurance-enrolment",
                 extra={"Accept": "application/problem+json"})
    step(r.status == 200 and (byt is bhxh or r.header("x-bus-provider-node") == bhxh.id),
         "ministry node %s reads a health insurance card from %s" % (byt.id, bhxh.id), r)
    # a consent-based read across nodes: the portal grants at the land registry's node
    land = t.host("VN/GOV/BTNMT/land")
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    prov = t.nodes[t.provinces[0][0]]
    oss = t.provinces[0][2][0]
    r = land.request(PORTAL, "POST", "/consent/consents", headers={"Content-Type": "application/json"},
                     body=json.dumps({"subject": subject, "grantee": oss, "services": [LAND], "purpose": PURPOSE,
                                      "expires": exp}))
    cid = r.json().get("id") if r.status == 201 else None
    step(cid, "the portal grants a consent at %s" % land.id, r)
    r = call(prov, oss, LAND, subject, {"X-Bus-Consent": cid or "x"})
    step(r.status == 200, "province %s reads land parcels at %s with it" % (prov.id, land.id), r)
    # throughput: cross-node against single-node, in the same run
    if a.load:
        single = load(a, bca, BYT, subject, "health-insurance-enrolment")
        cross = load(a, byt, BYT, subject, "health-insurance-enrolment")
        for name, k in (("single-node", single), ("cross-node", cross)):
            print("figure: %s exchanges: %s/s, p50 %s ms, p99 %s ms, errors %s" % (
                name, k.get("rps"), k.get("p50_ms"), k.get("p99_ms"), k.get("errors")), flush=True)
    # a node killed: its clients' errors
    bca.kill9()
    t0 = time.time()
    r = call(prov, oss, CITIZEN, subject)
    step(r.status == 503 and r.json().get("type") == "node_unreachable" and time.time() - t0 < 3,
         "with %s killed, province %s gets node_unreachable at once" % (bca.id, prov.id), r)
    r = prov.call(oss, CITIZEN, subject=subject, purpose=PURPOSE, extra={"Accept": None})
    step(r.header("x-road-error") == "Server.ClientProxy.NetworkError", "(Server.ClientProxy.NetworkError)", r)
    bca.start(wait=False)
    bca.wait_health(adapters=1, timeout=60)  # its adapter reconnects by itself
    # a province added by publishing a new snapshot
    plan = [("p-pnew", "VN/GOV/PNEW-UBND", ["VN/GOV/PNEW-UBND/one-stop-shop"], [])]
    t.add_provinces(plan)
    n = t.make(*plan[0])
    pids = {x.id: x.proc.pid for x in t.nodes.values() if x.proc}
    t0 = time.time()
    v = t.publish()
    n.start(wait=False)
    took = t.wait_version(v, skip=("p-pnew",))
    step(took is not None, "snapshot version %d (a province added) reached every node in %.2f s" % (v, took or -1))
    print("figure: a new snapshot reached all %d running nodes in %.2f s (fetch interval %s)"
          % (len(t.nodes) - 1, took or -1, a.interval), flush=True)
    gets = t.server.counts.get("/snapshot.jws", 0)
    print("figure: the static server answered %d of %d snapshot requests 304 Not Modified"
          % (t.server.not_modified, gets), flush=True)
    n.wait_health(timeout=60)
    step(all(x.proc.pid == pids[x.id] for x in t.nodes.values() if x.id in pids), "no node restarted")
    r = call(n, "VN/GOV/PNEW-UBND/one-stop-shop", CITIZEN, subject)
    step(r.status == 200 and r.header("x-bus-provider-node") == bca.id,
         "the new province's one-stop-shop reads a citizen from %s (restarted)" % bca.id, r)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--nodes", type=int, default=52)
    ap.add_argument("--interval", default="1s", help="[snapshot] interval of every node")
    ap.add_argument("--load", type=int, default=0, help="seconds of load per measurement (0: none)")
    ap.add_argument("--keep", action="store_true", help="keep the folder")
    ap.add_argument("--no-etag", action="store_true", help="the static server sends no ETag, so never 304 (to "
                    "measure what 304 saves)")
    ap.add_argument("--idle", type=int, default=0, help="seconds of idle CPU measured after the start (0: none)")
    a = ap.parse_args()
    if a.nodes < 4:
        ap.error("--nodes: at least 4")
    for name in ("xbusd", "xbus", "xbus-adapter-sample"):
        os.environ.setdefault("XBUS_BIN_" + name.replace("-", "_").upper(), os.path.join(a.build, name))
    os.environ.setdefault("XBUS_SOURCE_ROOT", ROOT)
    a.loadgen = os.path.join(a.build, "tests", "bench", "xbus-loadgen")
    t = Topology(a)
    try:
        plan = t.plan(a.nodes)
        t.add_provinces(plan)
        for p in plan:
            t.make(*p)
        t.publish()
        t0 = time.time()
        t.start(list(t.nodes.values()))
        took = time.time() - t0
        print("figure: %d nodes (%d with adapters) started and healthy in %.1f s; anonymous RSS of all processes "
              "%.0f MiB" % (len(t.nodes), sum(1 for n in t.nodes.values() if n.providers), took, t.rss()), flush=True)
        if a.idle:
            print("figure: idle, all nodes together use %.0f %% of one core (each fetching the unchanged snapshot "
                  "every %s; static server %s)" % (t.idle_cpu(a.idle), a.interval,
                                                   "without ETags" if a.no_etag else "answering 304"), flush=True)
        scenario(t, a)
        print("figure: anonymous RSS of all processes at the end %.0f MiB" % t.rss(), flush=True)
    finally:
        t.stop()
        if not a.keep:
            shutil.rmtree(t.tmp, ignore_errors=True)
        else:
            print("kept: " + t.tmp)
    print("%d steps, %d failed" % (len(results), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
