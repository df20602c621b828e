#!/usr/bin/env python3
"""test_metrics.py: metrics that answer operators' questions (issue 12): after traffic, `promtool check
metrics` accepts /metrics; xbus_exchanges_total has its series by service, client member, outcome and class,
and past [metrics] max-series new label sets count under the overflow label; the stage histograms have
their buckets, _sum and _count; the registry's version and age; live adapters per service; /metrics and
/health only for the peers [metrics] allow and health-allow admit (loopback by default; a network; a
certificate's registry role); the Grafana dashboard in contrib/ uses only series the node exposes."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from harness import ROOT, Check, Node, parse_metrics, registry_copy, request_from, sample

t = Check("metrics")
BYT = "VN/GOV/BYT/health-services"
HN = "VN/GOV/HN-UBND/one-stop-shop"
VCB = "VN/COM/VCB/kyc"
MON = "VN/GOV/BCA/monitoring"
CITIZEN = "VN/GOV/BCA/population/citizen"
PROMTOOL = shutil.which("promtool")


def scrape(node, **kw):
    r = request_from(node, "/metrics", **kw)
    if r.status != 200:
        raise RuntimeError("/metrics: %r" % r)
    return r.body.decode(), parse_metrics(r.body.decode())


def denied(r):
    try:
        return r.status == 403 and r.json().get("type") == "access_denied"
    except ValueError:
        return False


# A node whose /metrics is open to 127.0.0.2 and to certificates of the monitor role only, with a
# registry that has a monitoring subsystem (the demo PKI issues its certificate at first start) and room
# for 4 series before the overflow.
tmp = tempfile.mkdtemp(prefix="xbus-it-")
reg = registry_copy(os.path.join(tmp, "registry"))
with open(os.path.join(reg, "70-monitoring.conf"), "w", encoding="utf-8") as f:
    f.write("[subsystem %s]\nname = Monitoring\nroles = monitor\ntls-cn = %s\n" % (MON, MON))
node = Node(registry=reg, tmp=tmp,
            top_extra="[metrics]\nmax-series = 4\nallow = 127.0.0.2/32, role:monitor\n").start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]
h = {"Accept": "application/problem+json"}

# --- who may read /metrics and /health ---
t.ok(denied(request_from(node, "/metrics")), "/metrics from 127.0.0.1 without a certificate: 403 access_denied")
t.ok(denied(request_from(node, "/metrics", subsystem=BYT)), "/metrics with a client's certificate (role client): 403")
t.eq(request_from(node, "/metrics", source="127.0.0.2").status, 200, "/metrics from 127.0.0.2 (allowed): 200")
t.eq(request_from(node, "/metrics", subsystem=MON).status, 200, "/metrics with a monitor's certificate: 200")
t.eq(request_from(node, "/health").status, 200, "/health from loopback (the default): 200")

# --- traffic: 4 label sets fill the table, then two more overflow ---
for _ in range(3):
    t.eq(node.call(BYT, CITIZEN, subject=subject, purpose="public-service-delivery").status, 200, "BYT reads a citizen")
t.eq(node.request(BYT, "GET", "/r1/VN/GOV/BCA/population/nosuch", headers=dict(h, **{"X-Road-Client": BYT})).status,
     404, "an unknown service")
t.eq(node.call(HN, CITIZEN, subject=subject, purpose="public-service-delivery").status, 200, "HN reads a citizen")
r = node.call(BYT, CITIZEN, subject=subject, purpose="no-such-purpose", extra=h)
t.eq(r.status, 403, "a purpose the right does not list: refused (4th series)")
r = node.call(VCB, CITIZEN, subject=subject, purpose="public-service-delivery", extra=h)
t.eq(r.status, 403, "VCB has no right on the citizen service: refused (overflow)")
r = node.request(None, "GET", "/r1/" + CITIZEN, headers=dict(h, **{"X-Road-Client": BYT}))
t.eq(r.status, 401, "no certificate: client_unknown (overflow)")
exchanges = 8
routed = 4

text, m = scrape(node, subsystem=MON)

# promtool, the Prometheus project's own checker (Debian's prometheus package; scripts/test.sh installs it)
if t.ok(PROMTOOL is not None, "promtool is installed (scripts/test.sh installs it)"):
    res = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    t.ok(res.returncode == 0 and not res.stdout.strip() and not res.stderr.strip(),
         "promtool check metrics accepts /metrics after traffic", res.stdout + res.stderr)

# xbus_exchanges_total: service and client member as the registry names them, outcome, class
EX = "xbus_exchanges_total"
t.eq(sample(m, EX, **{"service": CITIZEN, "client": "VN/GOV/BYT", "outcome": "ok", "class": "2xx"}), 3.0,
     "series: citizen, VN/GOV/BYT, ok, 2xx")
t.eq(sample(m, EX, **{"service": "none", "client": "VN/GOV/BYT", "outcome": "service_unknown", "class": "4xx"}), 1.0,
     "series: an unknown service counts under service=\"none\", with its outcome")
t.eq(sample(m, EX, **{"service": CITIZEN, "client": "VN/GOV/HN-UBND", "outcome": "ok", "class": "2xx"}), 1.0,
     "series: another member")
t.eq(sample(m, EX, **{"service": CITIZEN, "client": "VN/GOV/BYT", "outcome": "purpose_invalid", "class": "4xx"}),
     1.0, "series: a refusal by its problem type")
t.eq(sample(m, EX, **{"service": "overflow", "client": "overflow", "outcome": "access_denied", "class": "4xx"}), 1.0,
     "past max-series: a new label set counts under the overflow label, keeping outcome and class")
t.eq(sample(m, EX, **{"service": "overflow", "client": "overflow", "outcome": "client_unknown", "class": "4xx"}), 1.0,
     "past max-series: another one")
series = [(l, v) for n, l, v in m if n == EX]
t.ok(all(set(l) == {"service", "client", "outcome", "class"} for l, _ in series), "every series has the four labels",
     series)
t.eq(len([1 for l, _ in series if l["service"] != "overflow"]), 4, "no more than max-series ordinary series")
t.eq(sum(v for _, v in series), float(exchanges), "the series add up to every exchange")
t.eq(sample(m, "xbus_requests_total"), float(exchanges), "... as xbus_requests_total counts them")
t.eq(sample(m, "xbus_exchange_series"), 6.0, "xbus_exchange_series: 4 and 2 overflow series")
t.eq(sample(m, "xbus_exchange_series_limit"), 4.0, "xbus_exchange_series_limit: max-series")

# the stage histograms: buckets, _sum and _count
H = "xbus_exchange_duration_seconds"
want_count = {"decision": exchanges, "provider": routed, "log_commit": exchanges, "total": exchanges}
for stage, count in want_count.items():
    buckets = sorted(((float(l["le"]), v) for n, l, v in m if n == H + "_bucket" and l.get("stage") == stage))
    t.ok(len(buckets) == 19 and buckets[-1][0] == float("inf"), "%s: 18 buckets and +Inf" % stage, buckets)
    t.ok(all(buckets[i][1] <= buckets[i + 1][1] for i in range(len(buckets) - 1)), "%s: cumulative" % stage)
    t.eq(sample(m, H + "_count", stage=stage), float(count), "%s: _count" % stage)
    t.ok(buckets and buckets[-1][1] == sample(m, H + "_count", stage=stage), "%s: +Inf bucket = _count" % stage)
    s = sample(m, H + "_sum", stage=stage)
    t.ok(s is not None and s > 0, "%s: _sum in seconds" % stage, s)
t.ok(sample(m, H + "_sum", stage="total") >= sample(m, H + "_sum", stage="log_commit"), "total >= log commit")

# the registry: instance and version (as the start line says), age
log = node.read_log()
version = re.search(r"started: .*\(instance VN, version ([0-9a-f]{16})\)", log)
info = [(l, v) for n, l, v in m if n == "xbus_registry_info"]
t.ok(len(info) == 1 and info[0][1] == 1.0 and info[0][0].get("instance") == "VN" and version is not None and
     info[0][0].get("version") == version.group(1), "xbus_registry_info: instance and version", (info, log[-500:]))
age = sample(m, "xbus_registry_age_seconds")
loaded = sample(m, "xbus_registry_loaded_timestamp_seconds")
t.ok(age is not None and 0 <= age < 120 and abs(loaded + age - time.time()) < 60, "registry age and load time",
     (age, loaded))
# live adapters per service: every service of the registry, 1 while the sample adapter serves it
adapters = [(l["service"], v) for n, l, v in m if n == "xbus_service_adapters"]
t.ok(len(adapters) >= 12 and all(v == 1.0 for _, v in adapters), "xbus_service_adapters: 1 for each service",
     adapters)
node.adapters[0].kill()
node.adapters[0].wait()
deadline, v = time.time() + 10, None
while time.time() < deadline:
    v = sample(scrape(node, source="127.0.0.2")[1], "xbus_service_adapters", service=CITIZEN)
    if v == 0.0:
        break
    time.sleep(0.2)
t.eq(v, 0.0, "the adapter gone: 0 for its services")
# a reload: a new version (the registry changed) and a fresh age
with open(os.path.join(reg, "70-monitoring.conf"), "a", encoding="utf-8") as f:
    f.write("\n[purpose statistics]\ntitle = Statistics\n")
time.sleep(1.1)
node.hup()
deadline, m2 = time.time() + 10, m
while time.time() < deadline:
    m2 = scrape(node, source="127.0.0.2")[1]
    if sample(m2, "xbus_registry_reloads_total") == 1.0:
        break
    time.sleep(0.1)
info2 = [l for n, l, v in m2 if n == "xbus_registry_info"]
t.ok(info2 and info and info2[0]["version"] != info[0][0]["version"], "after a reload: another version", info2)
t.ok(sample(m2, "xbus_registry_loaded_timestamp_seconds") > loaded, "after a reload: a later load time")
t.eq(node.stop(), 0, "clean stop")

# --- the default: loopback only. A peer that is not loopback: this machine's own address, when it has one ---
def own_address():
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: the route picks the source address
            a = s.getsockname()[0]
        return None if a.startswith("127.") else a
    except OSError:
        return None


addr = own_address()
if addr:
    other = Node()
    text = open(other.config).read().replace("listen = 127.0.0.1:%d" % other.port, "listen = 0.0.0.0:%d" % other.port)
    open(other.config, "w").write(text)
    other.start()
    t.eq(request_from(other, "/metrics").status, 200, "default: /metrics from loopback: 200")
    t.ok(denied(request_from(other, "/metrics", source=addr, host=addr)),
         "default: /metrics from %s (not loopback): 403 access_denied" % addr)
    t.ok(denied(request_from(other, "/health", source=addr, host=addr)),
         "default: /health from %s (not loopback): 403 access_denied" % addr)
    other.stop()
else:
    print("skip: this machine has no address besides loopback; the allow-list checks above stand for it")

# --- the Grafana dashboard uses series the node exposes ---
path = os.path.join(ROOT, "contrib", "grafana", "xbus-dashboard.json")
dash = json.load(open(path, encoding="utf-8"))
exprs = []


def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get("expr"), str):
            exprs.append(o["expr"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)


walk(dash)
names = {n for e in exprs for n in re.findall(r"\bxbus_[a-z_]+", e)}
exposed = {n for n, _, _ in m}
missing = sorted(n for n in names if n not in exposed)
t.ok(exprs and not missing, "every series the dashboard queries is in /metrics", missing)
t.ok({"xbus_exchanges_total", "xbus_exchange_duration_seconds_bucket", "xbus_service_adapters",
      "xbus_registry_age_seconds"} <= names, "the dashboard shows exchanges, stages, adapters, the registry")
t.finish()
