#!/usr/bin/env python3
"""bench_cross.py: server CPU per exchange, single-node against cross-node, in the same run (a benchmark, not a test).

Two nodes on one snapshot: `bca` hosts the provider (the sample adapter runs there), `byt` hosts the
client. The same load (tests/bench's xbus-loadgen: closed loop, keep-alive, mutual TLS) goes
  single: to bca directly, as VN/GOV/BYT/health-services with bca's demo certificate for it: one
          node decides, routes to its adapter, logs, signs;
  cross:  to byt with byt's certificate: byt decides, logs, signs and forwards to bca, which does
          it all again.
Server CPU = utime + stime (/proc) of every xbusd and adapter over the measured window, per answer.

    meson setup build && ninja -C build
    XBUS_SOURCE_ROOT=$PWD XBUS_BIN_XBUSD=build/xbusd XBUS_BIN_XBUS=build/xbus \\
      XBUS_BIN_XBUS_ADAPTER_SAMPLE=build/xbus-adapter-sample PYTHONPATH=tests/integration \\
      python3 tests/federation/bench_cross.py --loadgen build/tests/bench/xbus-loadgen [-d 10] [-c 16] [--rounds 2]
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Node, StaticHttps, authority_key, binary, publish, registry_copy, self_signed  # noqa: E402

BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"


def ticks(pids):
    """utime + stime of the processes and their threads, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except OSError:
            pass
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("-d", type=int, default=10)
    ap.add_argument("-c", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="xbusd HTTP threads")
    a = ap.parse_args()
    hz = os.sysconf("SC_CLK_TCK")
    tmp = tempfile.mkdtemp(prefix="xbus-bench-fed-")
    keys, www = os.path.join(tmp, "keys"), os.path.join(tmp, "www")
    os.makedirs(keys)
    os.makedirs(www)
    reg = registry_copy(os.path.join(tmp, "registry"))
    key, pub = authority_key(keys, "authority")
    cert, cert_key = self_signed(tmp)
    server = StaticHttps(www, cert, cert_key)
    conf = "[snapshot]\nurl = %s\nanchor = %s\nca = %s\ninterval = 1min\n" % (server.url("snapshot.jws"), pub, cert)
    nodes, sections = {}, []
    for nid, member, subs in (("bca", "VN/GOV/BCA", "VN/GOV/BCA/population"), ("byt", "VN/GOV/BYT", BYT)):
        os.makedirs(os.path.join(tmp, nid))
        n = Node(top_extra=conf, tmp=os.path.join(tmp, nid), threads=a.threads, http_extra="timeout = 30s\n")
        text = open(n.config).read().replace("[node]\n", "[node]\nname = %s\n" % nid, 1)
        open(n.config, "w").write(text)
        out = subprocess.run([binary("xbus"), "node", "keygen", "--state", n.state, "--id", nid, "--member", member,
                              "--address", n.url, "--subsystems", subs], check=True, capture_output=True,
                             text=True).stdout
        sections.append("\n".join(l for l in out.splitlines() if not l.startswith("#")) + "\n")
        nodes[nid] = n
    open(os.path.join(reg, "70-nodes.conf"), "w").write("".join(sections))
    publish(reg, key, os.path.join(www, "snapshot.jws"), "--version", "1")
    for n in nodes.values():
        n.start()
    bca, byt = nodes["bca"], nodes["byt"]
    bca.start_sample(people=1000)
    subject = bca.sample_ids(1, people=1000)[0]
    pids = [bca.proc.pid, byt.proc.pid] + [p.pid for p in bca.adapters]

    def run(name, node):
        crt, k = node.client_files(BYT)
        cmd = [a.loadgen, "-c", str(a.c), "-t", "1", "-d", str(a.d), "-w", "2", "--cert", crt, "--key", k,
               "-H", "X-Road-Client: " + BYT, "-H", "X-Bus-Subject: " + subject,
               "-H", "X-Bus-Purpose: health-insurance-enrolment", "%s/r1/%s" % (node.url, CITIZEN)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # the window: loadgen's own warm-up is 2 s; sample CPU over the whole run, divide by requests_total
        t0 = ticks(pids)
        out, err = p.communicate()
        t1 = ticks(pids)
        kv = dict(x.split("=", 1) for x in out.split())
        total = int(kv.get("requests_total", 0))
        us = (t1 - t0) / hz * 1e6 / max(total, 1)
        print("%-7s rps=%-8s p50_ms=%-6s p99_ms=%-6s errors=%s non2xx=%s  server CPU %.1f us/exchange (%d answers)"
              % (name, kv.get("rps"), kv.get("p50_ms"), kv.get("p99_ms"), kv.get("errors"), kv.get("non2xx"), us,
                 total), flush=True)
        if err.strip():
            print("  loadgen: " + err.strip().splitlines()[0])
        return us

    print("machine: %d CPUs; %d connections, %d s per run, xbusd threads %d" % (os.cpu_count(), a.c, a.d, a.threads))
    single, cross = [], []
    for _ in range(a.rounds):
        single.append(run("single", bca))
        cross.append(run("cross", byt))
    s, c = min(single), min(cross)
    print("server CPU per exchange: single-node %.1f us, cross-node %.1f us: %.2fx (best of %d rounds each)"
          % (s, c, c / s, a.rounds))
    for n in nodes.values():
        n.stop()
    server.stop()


if __name__ == "__main__":
    main()
