"""faults.py: xbusd with the fault shim under its exchange log, for the tests of tests/faults.

The shim (fault-shim.c, LD_PRELOAD) watches the log's files (LMDB's data.mdb and the
segment files); after a kill -9, xbus-fault-restore gives each file back what a power loss
would have left of it.
LD_PRELOAD cannot be combined with AddressSanitizer: these tests run in the
normal build only (meson builds the shim only without sanitizers).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import Node, _processes, binary, receipt_entry_matches, receipt_payload  # noqa: E402


def shim():
    path = os.environ.get("XBUS_FAULT_SHIM")
    if not path or not os.path.exists(path):
        print("SKIP: the fault shim is not built (a build with sanitizers has none)")
        sys.exit(77)
    return path


class FaultNode(Node):
    """A Node whose xbusd runs with the shim watching state/log/data.mdb and the segment files in
    state/log/segments/. `fault` is the
    shim's fault environment (XBUS_FAULT_CALL and friends, fault-shim.c) for the next start()."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.journal = os.path.join(self.tmp, "journal")
        self.trigger = os.path.join(self.tmp, "fault-trigger")
        os.makedirs(self.journal, exist_ok=True)
        self.fault = {}
        shim()

    def start(self, wait=True):
        log = os.path.join(self.state, "log")
        env = dict(os.environ, LD_PRELOAD=shim(), XBUS_FAULT_JOURNAL=self.journal,
                   XBUS_FAULT_FILES=os.path.join(log, "data.mdb") + ":" + os.path.join(log, "segments") + "/")
        env.update(self.fault)
        self.log = open(os.path.join(self.tmp, "xbusd.log"), "ab")
        self.proc = subprocess.Popen([binary("xbusd"), "--config", self.config], stdout=self.log, stderr=self.log,
                                     env=env)
        _processes.append(self.proc)
        if wait:
            self.wait_health()
        return self

    def power_loss(self, torn_seed=None):
        """The machine loses power: xbusd dies (kill -9) and the log file keeps only what
        reached the disk (with torn_seed: some pages not yet durable did reach it).
        Returns the number of pages given back their disk bytes."""
        self.kill9()
        args = [binary("xbus-fault-restore")]
        if torn_seed is not None:
            args += ["--torn", str(torn_seed)]
        p = subprocess.run(args + [self.journal], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("xbus-fault-restore failed: %s%s" % (p.stdout, p.stderr))
        pages = 0
        for line in p.stdout.splitlines():
            if " pages given back" in line:
                pages += int(line.split(": ")[-1].split()[0])
        return pages

    def verify_store(self):
        """`xbus audit verify` over the state folder: (exit status, output)."""
        p = subprocess.run([binary("xbus"), "audit", "verify", "--state", self.state], capture_output=True, text=True,
                           timeout=300)
        return p.returncode, (p.stdout + p.stderr).strip()


def wait_until(what, cond, timeout=30, step=0.05):
    """Poll cond() until it is true; bounded, never a timing assertion. Returns the last value."""
    deadline = time.time() + timeout
    v = cond()
    while not v and time.time() < deadline:
        time.sleep(step)
        v = cond()
    if not v:
        print("gave up waiting for %s after %d s" % (what, timeout))
    return v


def missing_receipts(entries, receipts):
    """Receipts (as ReceiptLoad keeps them) whose entry the log does not hold, as text lines."""
    out = []
    for xid, jws, h, body, headers in receipts:
        p = receipt_payload(jws)
        e = entries.get(p["seq"])
        whole = headers.get("content-length") == str(len(body))
        if not receipt_entry_matches(e, xid, p) or (whole and h != p["response_hash"]):
            out.append("receipt seq %s xroad_id %s; log entry: %r" % (p["seq"], xid, e))
    return out
