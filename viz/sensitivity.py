#!/usr/bin/python3
"""Bar chart of the indices of a tmesim sensitivity output: DIR/sensitivity.png.

usage:
  /usr/bin/python3 viz/sensitivity.py DIR      (tmesim sensitivity runs it)

Reads DIR/indices.csv and DIR/provenance.json (method, outcome). Sobol: per parameter the
first-order index S1 and the total index ST with their 95% bootstrap intervals as error bars,
largest ST at the top. Morris: per parameter mu* (mean absolute elementary effect per whole
range, in the outcome's unit) with sigma as a second bar, largest mu* at the top. The PNG is
written under a temporary name and renamed into place. Needs matplotlib (python3-matplotlib).
"""
import csv
import json
import os
import sys

import viz_common

PREFIX = "tmesim sensitivity"


def fail(msg):
    print(f"{PREFIX}: {msg}", file=sys.stderr)
    sys.exit(1)


def main(argv):
    if len(argv) != 2:
        fail("usage: sensitivity.py DIR")
    d = argv[1]
    viz_common.check_modules(PREFIX, ("matplotlib",))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(os.path.join(d, "provenance.json")) as f:
        prov = json.load(f)
    with open(os.path.join(d, "indices.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        fail(f"{d}/indices.csv has no rows")
    sobol = prov.get("method") == "sobol"
    key = "ST" if sobol else "mu_star"
    rows.sort(key=lambda r: float(r[key]))  # largest at the top of a horizontal bar chart
    names = [r["parameter"] for r in rows]
    y = list(range(len(rows)))
    h = 0.38
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.42 * len(rows)), dpi=100)
    if sobol:
        for off, k, colour, label in ((h / 2, "S1", "#4c72b0", "first order S1"), (-h / 2, "ST", "#dd8452", "total ST")):
            v = [float(r[k]) for r in rows]
            lo = [max(0.0, float(r[k]) - float(r[k + "_low"])) for r in rows]
            hi = [max(0.0, float(r[k + "_high"]) - float(r[k])) for r in rows]
            ax.barh([i + off for i in y], v, height=h, color=colour, label=label, xerr=[lo, hi], capsize=2)
        ax.set_xlabel("Sobol index (95% bootstrap interval)")
        ax.axvline(0, color="black", lw=0.6)
    else:
        ax.barh([i + h / 2 for i in y], [float(r["mu_star"]) for r in rows], height=h, color="#4c72b0", label="mu*")
        ax.barh([i - h / 2 for i in y], [float(r["sigma"]) for r in rows], height=h, color="#dd8452", label="sigma")
        ax.set_xlabel(f"elementary effect per whole range [{prov.get('outcome_unit', '')}]")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.legend(loc="lower right", fontsize=8)
    title = prov.get("outcome_name", prov.get("outcome", ""))
    ax.set_title(f"{prov.get('method', '')}: {title}\n{prov.get('runs', '?')} runs, seed {prov.get('seed', '?')}",
                 fontsize=9)
    fig.tight_layout()
    out = os.path.join(d, "sensitivity.png")
    tmp = out + ".tmp.png"
    fig.savefig(tmp)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
