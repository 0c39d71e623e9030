#!/usr/bin/env python3
"""postfix-report.py TSV: the markdown section of contrib/bench/postfix.sh.

Medians over the valid runs of each configuration and workload, their
min-max, CPU per 1000 sessions, and the ratio of each relaymilter
configuration to Postfix alone against TARGET (env, default 0.90).
"""
import csv
import os
import statistics as st
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
target = float(os.environ.get("TARGET", "0.90"))
reps_wanted = int(os.environ.get("REPS", "3"))
configs = list(dict.fromkeys(r["config"] for r in rows))
workloads = list(dict.fromkeys(r["workload"] for r in rows))
unit = {"deliver": "msg/s", "refuse": "sessions/s"}
what = {
    "deliver": "trusted client -> remote domain, relayed to smtp-sink",
    "refuse": "untrusted client -> remote domain, refused at RCPT",
}


def med(rr, key):
    return st.median(float(r[key]) for r in rr)


def per_k(rr, key):
    return st.median(1000.0 * float(r[key]) / float(r["N"]) for r in rr)


first = rows[0] if rows else {"N": "?", "S": "?", "L": "?"}
print("## Postfix end to end (postfix.sh)\n")
print(
    f"smtp-source -> Postfix -> smtp-sink on loopback, N={first['N']} "
    f"messages or sessions per run, S={first['S']} in parallel, "
    f"L={first['L']} body bytes; configurations alternate run by run. "
    "Rates are medians of the valid runs (min-max); CPU is seconds per "
    "1000 sessions (median). `pf` is Postfix alone with the same relay "
    "policy; the others are Postfix + relaymilter (contrib/postfix).\n"
)
print(
    "| workload | configuration | rate | min-max | valid runs "
    "| relaymilter CPU s/1000 | Postfix CPU s/1000 | machine busy % |"
)
print("|---|---|---:|---:|---:|---:|---:|---:|")
medians = {}
for w in workloads:
    for c in configs:
        allr = [r for r in rows if r["config"] == c and r["workload"] == w]
        rr = [r for r in allr if r["valid"] == "1"]
        if not rr:
            print(f"| {w} | {c} | - | - | 0/{len(allr)} | - | - | - |")
            continue
        rates = [float(r["rate"]) for r in rr]
        medians[(c, w)] = (st.median(rates), len(rr))
        print(
            f"| {w} | {c} | {st.median(rates):.0f} {unit.get(w, '/s')} "
            f"| {min(rates):.0f}-{max(rates):.0f} | {len(rr)}/{len(allr)} "
            f"| {per_k(rr, 'relaymilter_cpu_s'):.3f} "
            f"| {per_k(rr, 'postfix_cpu_s'):.2f} | {med(rr, 'cpu_busy_pct'):.0f} |"
        )
print()
for w in workloads:
    print(f"- {w}: {what.get(w, w)}")
print()
print(f"Targets: throughput of Postfix + relaymilter / Postfix alone >= {target:.2f}\n")
for w in workloads:
    base = medians.get(("pf", w))
    for c in configs:
        if c == "pf":
            continue
        cur = medians.get((c, w))
        if not base or not cur:
            print(f"- {w}, {c}/pf: no valid runs: **MISSED**")
            continue
        ratio = cur[0] / base[0]
        enough = min(base[1], cur[1]) >= min(3, reps_wanted)
        mark = "met" if ratio >= target and enough else "MISSED"
        note = "" if enough else " (fewer than 3 valid runs)"
        print(
            f"- {w}, {c}/pf = {cur[0]:.0f}/{base[0]:.0f} = {ratio:.3f} "
            f"(target >= {target:.2f}): **{mark}**{note}"
        )
if "floor-unix" in configs:
    print(
        "\nThe floor: Postfix + an empty filter with relaymilter's negotiation "
        "(contrib/bench/emptymilter) costs this much by itself; relaymilter "
        "against it:\n"
    )
    for w in workloads:
        floor = medians.get(("floor-unix", w))
        cur = medians.get(("authority-unix", w))
        if floor and cur:
            print(
                f"- {w}, authority-unix/floor-unix = {cur[0]:.0f}/{floor[0]:.0f} "
                f"= {cur[0] / floor[0]:.3f}"
            )
bad = [r for r in rows if r["valid"] != "1"]
if bad:
    print("\nInvalid runs (left out of the medians):\n")
    for r in bad:
        print(f"- {r['config']} {r['workload']} rep {r['rep']}: {r['outcome']}")
print()
