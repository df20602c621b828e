#!/usr/bin/env python3
"""test_limits.py: a slow or idle client never stalls the others; the
connection limit holds (over it, bus_busy at once); idle connections are
closed at the timeout."""
import socket
import ssl
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

# the connection limit: 6 open connections; a 7th is answered bus_busy at once (issue 10:
# never a silent wait in the kernel's backlog), and served once connections close
held = []
for i in range(6):
    c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", node.port)), server_hostname="127.0.0.1")
    held.append(c)
time.sleep(0.3)
start = time.time()
try:
    r = node.request(BYT, "GET", "/r1/" + CITIZEN, headers={"X-Road-Client": BYT, "X-Bus-Subject": subject,
                                                            "X-Bus-Purpose": P,
                                                            "Accept": "application/problem+json"}, timeout=10)
except Exception as e:
    r = e
t.ok(not isinstance(r, Exception) and t.problem(r, 503, "bus_busy", "at the limit, a new connection gets bus_busy")
     and r.header("retry-after") == "1" and time.time() - start < 5,
     "at the limit, a new connection is answered at once with Retry-After (%.2fs)" % (time.time() - start), r)
for c in held:
    c.close()
time.sleep(0.3)
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose=P).status, 200, "once connections close, a new client is served")
t.eq(node.call(BYT, CITIZEN, subject=subject, purpose=P).status, 200, "still serving")
t.eq(node.stop(), 0, "clean stop")
t.finish()
