#!/usr/bin/env python3
"""test_limits.py: a slow or idle client never stalls the others; the
connection limit holds; idle connections are closed at the timeout."""
import socket
import ssl
import threading
import time

from harness import Check, Node

t = Check("limits")
BYT = "VN/GOV/BYT/health-services"
CITIZEN = "VN/GOV/BCA/population/citizen"
node = Node(threads=1, http_extra="max-connections = 6\ntimeout = 2s\n").start()
node.start_sample(people=300)
subject = node.sample_ids(1)[0]
P = "health-insurance-enrolment"

# slowloris: half a request over TLS, then silence
ctx = node.context(BYT)
s1 = ctx.wrap_socket(socket.create_connection(("127.0.0.1", node.port)), server_hostname="127.0.0.1")
s1.sendall(b"GET /r1/" + CITIZEN.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Road-")
# a TCP connection that never starts TLS
s2 = socket.create_connection(("127.0.0.1", node.port))
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose=P).status, 200, "served while a slow client and a silent one wait")

start = time.time()
s1.settimeout(10)
try:
    data = s1.recv(100)
except (ssl.SSLError, OSError):
    data = b""
t.ok(time.time() - start < 9, "the slow client is cut off at the read timeout (%.1fs)" % (time.time() - start))
s2.settimeout(10)
try:
    data2 = s2.recv(100)
except OSError:
    data2 = b""
t.eq(data2, b"", "the silent connection is closed at the timeout")
s1.close()
s2.close()
time.sleep(0.3)

# the connection limit: 6 open connections; a 7th waits in the backlog until one closes
held = []
for i in range(6):
    c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", node.port)), server_hostname="127.0.0.1")
    held.append(c)
time.sleep(0.3)
result = {}


def late():
    try:
        result["r"] = node.call(BYT, CITIZEN, subject=subject, purpose=P)
    except Exception as e:
        result["e"] = e


th = threading.Thread(target=late)
th.start()
th.join(1.0)
t.ok(th.is_alive(), "at the limit, a new connection waits")
for c in held:
    c.close()
th.join(15)
t.ok("r" in result and result["r"].status == 200, "once connections close, the waiting client is served",
     result.get("e"))
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose=P).status, 200, "still serving")
t.eq(node.stop(), 0, "clean stop")
t.finish()
