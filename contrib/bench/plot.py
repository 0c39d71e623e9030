#!/usr/bin/env python3
"""plot.py OUTDIR: OUTDIR/plot.png with gnuplot (pngcairo).

Panel 1: throughput per workload, Postfix alone vs Postfix + relaymilter
(medians of the valid runs of postfix.tsv).  Panel 2, if scale.tsv exists:
ns per decision vs number of domains, log x (median per domains value).
"""
import csv
import os
import statistics as st
import subprocess
import sys

out = sys.argv[1]


def rows(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    return list(csv.DictReader(open(path), delimiter="\t"))


pf = [r for r in rows("postfix.tsv") if r.get("valid") == "1"]
sc = rows("scale.tsv")
panels = []
if pf:
    configs = list(dict.fromkeys(r["config"] for r in pf))
    # one cluster per workload and number of parallel sessions
    groups = list(dict.fromkeys((r["workload"], r.get("S", "")) for r in pf))
    with open(os.path.join(out, "plot-postfix.dat"), "w") as f:
        f.write("workload " + " ".join(configs) + "\n")
        for w, s in groups:
            vals = []
            for c in configs:
                v = [
                    float(r["rate"])
                    for r in pf
                    if r["config"] == c and r["workload"] == w and r.get("S", "") == s
                ]
                vals.append(f"{st.median(v):.1f}" if v else "NaN")
            f.write(f"{w}/S={s} " + " ".join(vals) + "\n")
    cols = ", ".join(
        f"'plot-postfix.dat' using {i + 2}:xtic(1) title columnheader({i + 2})"
        for i in range(len(configs))
    )
    panels.append(
        "set title 'Postfix end to end: median rate (msg/s or sessions/s)'\n"
        "set style data histograms\nset style histogram clustered gap 1\n"
        "set style fill solid 0.8 border -1\nset key top left\nset yrange [0:*]\n"
        "set ylabel 'per second'\nunset logscale x\nset xlabel 'workload / parallel sessions'\n"
        f"plot {cols}\n"
    )
# scale.tsv is long: part, domains, metric, rep, value (metric rcpt_ns)
if sc and {"domains", "metric", "value"} <= set(sc[0]):
    by = {}
    for r in sc:
        if r["metric"] != "rcpt_ns":
            continue
        try:
            by.setdefault(float(r["domains"]), []).append(float(r["value"]))
        except ValueError:
            continue
    with open(os.path.join(out, "plot-scale.dat"), "w") as f:
        for d in sorted(by):
            f.write(f"{d:g} {st.median(by[d]):.1f}\n")
    panels.append(
        "set title 'Rule scaling: ns per decision'\nset style data linespoints\n"
        "set logscale x\nset xlabel 'domains'\nset ylabel 'ns per decision'\n"
        "set yrange [0:*]\nset key off\n"
        "plot 'plot-scale.dat' using 1:2 with linespoints pt 7\n"
    )
if not panels:
    print("plot.py: nothing to plot", file=sys.stderr)
    sys.exit(0)
script = (
    f"set terminal pngcairo size {700 * len(panels)},480\n"
    "set output 'plot.png'\n"
    f"set multiplot layout 1,{len(panels)}\n" + "".join(panels) + "unset multiplot\n"
)
subprocess.run(["gnuplot"], input=script, text=True, cwd=out, check=True)
