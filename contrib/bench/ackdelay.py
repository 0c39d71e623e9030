#!/usr/bin/env python3
"""ackdelay.py PORT < tcpdump -n -tt -r FILE: how long the milter (PORT)
takes to acknowledge what the MTA sends it.

For every data segment from the MTA to PORT: the time until the first
packet from PORT that acknowledges it, and whether that packet carried
data (a reply, with the ACK piggybacked) or was a bare ACK (nothing to
answer: the kernel's delayed ACK).  Prints one line per kind: count,
median, 90th percentile and maximum in milliseconds, and how many took
30 ms or more (a delayed ACK).
"""
import re
import statistics as st
import sys

port = sys.argv[1]
line_re = re.compile(
    r"^(\d+\.\d+) IP6? (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\]"
    r"(?:, seq (\d+)(?::(\d+))?)?(?:, ack (\d+))?.*length (\d+)"
)
pending = {}  # flow (MTA port) -> list of (end seq, time)
delays = {"reply": [], "bare ACK": []}
for line in sys.stdin:
    m = line_re.match(line)
    if not m:
        continue
    t = float(m.group(1))
    sport, dport, length = m.group(3), m.group(5), int(m.group(10))
    if dport == port and length > 0 and m.group(8):
        pending.setdefault(sport, []).append((int(m.group(8)), t))
    elif sport == port and m.group(9):
        ack, flow = int(m.group(9)), dport
        left = []
        for end, t0 in pending.get(flow, []):
            if ack >= end:
                delays["reply" if length > 0 else "bare ACK"].append(1000 * (t - t0))
            else:
                left.append((end, t0))
        pending[flow] = left
for kind, d in delays.items():
    if not d:
        print(f"{kind}: none")
        continue
    d.sort()
    p90 = d[int(0.9 * (len(d) - 1))]
    late = sum(1 for x in d if x >= 30.0)
    print(
        f"{kind}: {len(d)} segments acknowledged, median {st.median(d):.3f} ms, "
        f"p90 {p90:.3f} ms, max {d[-1]:.3f} ms, {late} after >= 30 ms"
    )
