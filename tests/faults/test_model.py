#!/usr/bin/env python3
"""test_model.py: the fault shim's model of a disk, checked on a file a child process writes.

A child python (its os.* calls go through libc, so through the shim) writes a
watched file in known steps and exits without syncing; xbus-fault-restore must
then leave exactly what a power loss would: pages written since the last
fsync get their old bytes back, a write through an O_DSYNC descriptor stays,
the size falls back to the last durable one, and after a failed fsync (EIO,
the kernel drops the dirty pages) a later successful fsync does not save them.

LD_PRELOAD cannot run under AddressSanitizer: this test is in the `faults`
suite, built and run in the normal build only.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from faults import shim
from harness import Check, binary

t = Check("model")
P = 4096
tmp = tempfile.mkdtemp(prefix="xbus-fault-model-")
path = os.path.join(tmp, "data")
journal = os.path.join(tmp, "journal")
os.makedirs(journal)
trigger = os.path.join(tmp, "trigger")

CHILD = r"""
import os, sys
path, trigger, step = sys.argv[1], sys.argv[2], sys.argv[3]
P = 4096
if step == "plain":
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, b"A" * 2 * P, 0)
    os.fsync(fd)                                   # durable: AA, 8 KiB
    os.pwrite(fd, b"B" * P, 0)                     # page 0 dirty
    d = os.open(path, os.O_WRONLY | os.O_DSYNC)
    os.pwrite(d, b"C" * 100, P)                    # page 1 durable at once (meta-page style)
    os.lseek(fd, 2 * P, os.SEEK_SET)
    os.writev(fd, [b"D" * 10, b"E" * (P - 10)])    # page 2: grows the file, not durable
elif step == "lost":
    fd = os.open(path, os.O_RDWR)
    os.pwrite(fd, b"F" * P, 0)                     # page 0 dirty
    open(trigger, "w").close()
    try:
        os.fdatasync(fd)
        sys.exit("the injected fdatasync error did not come")
    except OSError:
        pass                                       # page 0 dropped by the kernel: lost
    os.pwrite(fd, b"G" * 10, 2 * P)                # page 2 (past the durable size) dirty
    os.fdatasync(fd)                               # succeeds: page 2 and the size durable, page 0 still lost
os._exit(0)                                        # no close, no sync: the journal stays
"""


def child(step, extra=None):
    env = dict(os.environ, LD_PRELOAD=shim(), XBUS_FAULT_FILES=path, XBUS_FAULT_JOURNAL=journal)
    env.update(extra or {})
    p = subprocess.run([sys.executable, "-c", CHILD, path, trigger, step], env=env, capture_output=True, text=True,
                       timeout=60)
    t.eq(p.returncode, 0, "the child wrote its '%s' steps" % step)
    if p.returncode:
        print(p.stdout + p.stderr)


def restore(*args):
    p = subprocess.run([binary("xbus-fault-restore")] + list(args) + [journal], capture_output=True, text=True,
                       timeout=60)
    print(p.stdout.strip())
    t.ok(p.returncode == 0, "xbus-fault-restore %s applied the journal" % " ".join(args), p.stderr)
    return open(path, "rb").read()


# 1. plain writes are lost, the O_DSYNC write is kept, the size goes back
child("plain")
data = open(path, "rb").read()
t.ok(data[:P] == b"B" * P and len(data) == 3 * P, "before the power loss, the cache shows every write")
data = restore()
t.ok(data[:P] == b"A" * P, "page 0, written after the fsync, has its durable bytes back")
t.ok(data[P:P + 100] == b"C" * 100 and data[P + 100:2 * P] == b"A" * (P - 100), "page 1, written O_DSYNC, kept")
t.eq(len(data), 2 * P, "the file has its durable size")
t.eq(os.listdir(journal), [], "the journal is gone once applied")

# 2. a failed fdatasync loses the dirty pages for good, even after a later one succeeds
child("lost", {"XBUS_FAULT_CALL": "fsync", "XBUS_FAULT_TRIGGER": trigger, "XBUS_FAULT_ONCE": "1"})
t.ok(not os.path.exists(trigger), "the shim removed the trigger when the error fired")
data = restore()
t.ok(data[:P] == b"A" * P, "page 0, dropped by the failed fdatasync, is not saved by the later one")
t.ok(data[2 * P:2 * P + 10] == b"G" * 10 and len(data) == 2 * P + 10, "page 2, synced later, is durable")

# 3. torn writeback: every page not durable is either its newest or its durable self
with open(path, "r+b") as f:
    f.write(b"A" * 4 * P)
    f.flush()
    os.fsync(f.fileno())
CHILD_TORN = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
for i in range(4):
    os.pwrite(fd, bytes([0x30 + i]) * 4096, i * 4096)
os._exit(0)
"""
env = dict(os.environ, LD_PRELOAD=shim(), XBUS_FAULT_FILES=path, XBUS_FAULT_JOURNAL=journal)
subprocess.run([sys.executable, "-c", CHILD_TORN, path], env=env, check=True, timeout=60)
data = restore("--torn", "7")
pages = [data[i * P:(i + 1) * P] for i in range(4)]
t.ok(all(pg in (b"A" * P, bytes([0x30 + i]) * P) for i, pg in enumerate(pages)),
     "torn: each page is whole, new or old (%s)" % "".join("n" if pg[0] != 0x41 else "o" for pg in pages))
shutil.rmtree(tmp)
t.finish()
