#!/usr/bin/env python3
"""test_reload.py: --test-config, and SIGHUP: a good registry is swapped in
whole, a broken one is refused while the old one keeps serving."""
import os
import subprocess
import tempfile
import time

from harness import Check, Node, binary, registry_copy, set_key

t = Check("reload")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
tmp = tempfile.mkdtemp(prefix="xbus-it-")
reg = registry_copy(os.path.join(tmp, "registry"))
node = Node(registry=reg, tmp=tmp)

# --test-config: good configuration
res = subprocess.run([binary("xbusd"), "--test-config", node.config], capture_output=True, text=True)
t.eq(res.returncode, 0, "--test-config accepts a good configuration")
t.ok("OK" in res.stdout and "services" in res.stdout, "--test-config says what it checked", res.stdout)

# --test-config: a configuration error, with file:line
bad_conf = os.path.join(tmp, "bad.conf")
open(bad_conf, "w").write("[http]\nlisten = 127.0.0.1:1\nthreds = 2\n")
res = subprocess.run([binary("xbusd"), "--test-config", bad_conf], capture_output=True, text=True)
t.ok(res.returncode != 0 and "bad.conf:3:" in res.stderr and "threds" in res.stderr,
     "--test-config refuses an unknown key with file:line", res.stderr)

# --test-config: a registry error, with file:line
bad_reg = registry_copy(os.path.join(tmp, "bad-registry"))
set_key(bad_reg, "[right byt-population-citizen]", "purposes", "health-insurance-enrolment, no-such-purpose")
set_key(bad_reg, "[service %s]" % CITIZEN, "colour", "blue")
conf2 = os.path.join(tmp, "conf2.conf")
open(conf2, "w").write("[node]\nregistry = %s\n" % bad_reg)
res = subprocess.run([binary("xbusd"), "--test-config", conf2], capture_output=True, text=True)
t.ok(res.returncode != 0, "--test-config refuses a broken registry")
t.ok("60-rights.conf:" in res.stderr and "no-such-purpose" in res.stderr, "dangling purpose named with file:line",
     res.stderr)
t.ok("40-services.conf:" in res.stderr and "colour" in res.stderr, "unknown key named with file:line", res.stderr)

# a running node
node.start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose="public-service-delivery").status, 200, "serving")

# SIGHUP with a broken registry: refused, the old one keeps serving
set_key(reg, "[right byt-population-citizen]", "basis", "whim")
node.hup()
time.sleep(1.0)
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose="public-service-delivery").status, 200,
     "after a broken reload the old registry keeps serving")
m = node.metrics()
t.eq(m.get("xbus_registry_reload_failures_total"), 1.0, "the refused reload is counted")
t.ok(node.proc.poll() is None, "xbusd is still running")

# SIGHUP with a good registry: swapped in whole
set_key(reg, "[right byt-population-citizen]", "basis", "statute")
set_key(reg, "[right byt-population-citizen]", "purposes", "health-insurance-enrolment")
node.hup()
deadline = time.time() + 10
while time.time() < deadline and node.metrics().get("xbus_registry_reloads_total", 0) < 1:
    time.sleep(0.1)
r = node.call(BYT, CITIZEN, subject=subject, purpose="public-service-delivery")
t.problem(r, 403, "purpose_invalid", "after a good reload the new rights apply")
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose="health-insurance-enrolment").status, 200,
     "and what the new registry allows is served")
t.eq(node.stop(), 0, "clean stop")
t.finish()
