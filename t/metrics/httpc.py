#!/usr/bin/env python3
"""httpc.py PORT KIND - one raw request to the metrics endpoint; prints the
status code of the answer, or "closed" when the daemon closed without one,
and the seconds it took ("400 0.01")."""
import socket
import sys
import time

KINDS = {
    "get": b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "head": b"HEAD /metrics HTTP/1.0\r\n\r\n",
    "nopath": b"GET\r\n\r\n",
    "relative": b"GET metrics HTTP/1.1\r\n\r\n",
    "huge": b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
    "post": b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    "other": b"GET /other HTTP/1.1\r\n\r\n",
    "binary": b"\x00\xff\xfe GET /metrics HTTP/1.1\r\n\r\n",
    "version": b"GET /metrics HTTP/2.0\r\n\r\n",
    "slow": b"GET /metr",
}

port, kind = int(sys.argv[1]), sys.argv[2]
t0 = time.monotonic()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
try:
    s.sendall(KINDS[kind])
except OSError:
    pass
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
took = time.monotonic() - t0
if data.startswith(b"HTTP/1.1 "):
    head, _, body = data.partition(b"\r\n\r\n")
    code = head.split(b" ")[1].decode()
    if kind == "head" and body:
        code += "-with-body"
    print(code, "%.2f" % took)
else:
    print("closed", "%.2f" % took)
