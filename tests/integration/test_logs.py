#!/usr/bin/env python3
"""test_logs.py: logs people can use (issue 12): `log-format = json` gives one JSON object per line, every
line with its time, level, program, pid and component; start and stop say one line each with the version;
a reload says what changed (subsystems, services, rights added, removed, changed), and that nothing did;
the text format names the component too (program/component[pid])."""
import json
import os
import re
import subprocess
import tempfile
import time

from harness import Check, Node, binary, registry_copy, set_key

t = Check("logs")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
CARD = "VN/GOV/BHXH/health-insurance/card"
VERSION = subprocess.run([binary("xbusd"), "--version"], capture_output=True, text=True).stdout.split()[-1]


def json_lines(node):
    text = open(os.path.join(node.tmp, "xbusd.log"), encoding="utf-8").read()
    out, bad = [], []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            bad.append(line)
    return out, bad


def wait_for(node, pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines, _ = json_lines(node)
        hits = [l for l in lines if pred(l.get("message", ""))]
        if hits:
            return hits
        time.sleep(0.1)
    return []


tmp = tempfile.mkdtemp(prefix="xbus-it-")
reg = registry_copy(os.path.join(tmp, "registry"))
node = Node(registry=reg, tmp=tmp).start()
# the JSON format: the key is [node] log-format (the file is rewritten before the start that counts)
node.stop()
text = open(node.config).read().replace("[node]\n", "[node]\nlog-format = json\n", 1)
open(node.config, "w").write(text)
os.rename(os.path.join(tmp, "xbusd.log"), os.path.join(tmp, "xbusd-text.log"))
node.start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose="public-service-delivery").status, 200, "serving")

# the text log of the first start: time, program/component[pid], level
first = open(os.path.join(tmp, "xbusd-text.log"), encoding="utf-8").read().splitlines()
t.ok(first and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z xbusd/[a-z]+\[\d+\]: (error|warning|notice|info|"
                            r"debug): ", l) for l in first), "text lines: time, program/component[pid], level", first[:3])
t.ok(any(re.search(r" xbusd/daemon\[\d+\]: info: xbusd %s started: " % re.escape(VERSION), l) for l in first),
     "text: the start line names the version", first[:2])
t.ok(sum(1 for l in first if " stopped after " in l) == 1 and " stopped after " in first[-1],
     "text: one stop line, the last", first[-2:])

# every JSON line parses and has the fields
lines, bad = json_lines(node)
t.ok(lines and not bad, "every line of the json format is one JSON object", bad[:3])
fields = {"time": str, "level": str, "program": str, "pid": int, "component": str, "message": str}
t.ok(all(all(isinstance(l.get(k), v) for k, v in fields.items()) for l in lines),
     "each has time, level, program, pid, component, message", lines[:2])
t.ok(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", l["time"]) for l in lines), "time: UTC, ms")
t.ok(all(l["program"] == "xbusd" and l["pid"] == node.proc.pid for l in lines), "program and pid")
started = [l for l in lines if l["message"].startswith("xbusd %s started: " % VERSION)]
t.ok(len(started) == 1 and started[0]["level"] == "info" and started[0]["component"] == "daemon",
     "one start line with the version, from the daemon", started)
version = re.search(r"version ([0-9a-f]{16})", started[0]["message"] if started else "")
t.ok(version is not None, "the start line names the registry's version")

# a reload that changes nothing says so
node.hup()
hits = wait_for(node, lambda m: m.startswith("Registry reloaded"))
t.ok(len(hits) == 1 and hits[0]["message"].endswith("nothing changed."), "a reload without changes: nothing changed",
     hits)

# a reload that changes things: one summary line, then one line per kind that changed
with open(os.path.join(reg, "70-monitoring.conf"), "w", encoding="utf-8") as f:
    f.write("[subsystem VN/GOV/BCA/monitoring]\nname = Monitoring\nroles = monitor\n"
            "tls-cn = VN/GOV/BCA/monitoring\n\n"
            "[right byt-card-2]\nclient = %s\nservice = %s\nmethods = GET\nbasis = statute\n"
            "legal-reference = Law on Health Insurance 2008\npurposes = health-insurance-enrolment\n" % (BYT, CARD))
set_key(reg, "[service %s]" % CITIZEN, "timeout", "7s")
with open(os.path.join(reg, "60-rights.conf"), encoding="utf-8") as f:
    rights = f.read()
start = rights.index("[right byt-social-protection-benefits]")
end = rights.index("[right", start + 1)
with open(os.path.join(reg, "60-rights.conf"), "w", encoding="utf-8") as f:
    f.write(rights[:start] + rights[end:])
node.hup()
hits = wait_for(node, lambda m: m.startswith("Registry reloaded") and "nothing changed" not in m)
summary = hits[0]["message"] if hits else ""
t.ok(re.search(r"version ([0-9a-f]{16}), was %s\)" % (version.group(1) if version else "-"), summary) is not None,
     "the summary names the new version and the old", summary)
t.ok("subsystems 1 added, 0 removed, 0 changed" in summary and "services 0 added, 0 removed, 1 changed" in summary and
     "rights 1 added, 1 removed, 0 changed" in summary, "the summary counts per kind", summary)
lines, bad = json_lines(node)
t.ok(not bad, "still one JSON object per line", bad[:2])
detail = {l["message"].split(":")[0]: l["message"] for l in lines if l["message"].startswith("Registry ") and
          not l["message"].startswith("Registry reloaded")}
t.eq(detail.get("Registry subsystems"),
     "Registry subsystems: added: VN/GOV/BCA/monitoring; removed: none; changed: none.", "subsystems: the one added")
t.eq(detail.get("Registry services"), "Registry services: added: none; removed: none; changed: %s." % CITIZEN,
     "services: the one changed")
t.eq(detail.get("Registry rights"),
     "Registry rights: added: byt-card-2; removed: byt-social-protection-benefits; changed: none.",
     "rights: the one added and the one removed")
t.ok(set(detail) == {"Registry subsystems", "Registry services", "Registry rights"}, "no line for kinds that did not "
     "change", sorted(detail))

# a refused reload is a warning, and says so
set_key(reg, "[right byt-card-2]", "basis", "whim")
node.hup()
hits = wait_for(node, lambda m: m.startswith("Registry reload refused"))
t.ok(len(hits) == 1 and hits[0]["level"] == "warning", "a refused reload: one warning", hits)
lines, _ = json_lines(node)
t.ok(any(l["level"] == "error" and re.match(r"Registry error: .*70-monitoring\.conf:\d+: invalid value 'whim'",
                                             l["message"]) for l in lines),
     "its errors are log events too, with file:line", [l["message"] for l in lines][-6:])

# stop: one line with the version, the last one
t.eq(node.stop(), 0, "clean stop")
lines, bad = json_lines(node)
stopped = [l for l in lines if l["message"].startswith("xbusd %s stopped after " % VERSION)]
t.ok(len(stopped) == 1 and lines[-1] is stopped[0], "one stop line with the version, the last", lines[-2:])
t.ok(stopped and re.search(r"\d+ requests, \d+ log entries\.$", stopped[0]["message"]) is not None,
     "it says what the node did", stopped)
t.ok(not bad, "to the end: one JSON object per line", bad[:2])

# adapters: $XBUS_LOG_FORMAT chooses the same formats (here the refusal of a bad option)
env = dict(os.environ, XBUS_LOG_FORMAT="json")
res = subprocess.run([binary("xbus-adapter-sample"), "--bus", "tcp://127.0.0.1:1", "--data",
                      os.path.join(tmp, "nodata"), "--people", "0"], env=env, capture_output=True, text=True, timeout=30)
alines = [l for l in res.stderr.splitlines() if l.strip()]
ok = bool(alines)
for l in alines:
    try:
        j = json.loads(l)
        ok = ok and j.get("program", "").startswith("xbus-adapter") and j.get("component") == "sample"
    except ValueError:
        ok = False
t.ok(ok, "an adapter with XBUS_LOG_FORMAT=json writes JSON lines too", alines[:3])
t.finish()
