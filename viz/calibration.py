#!/usr/bin/python3
"""Chart of a tmesim calibration: DIR/calibration.png.

usage:
  /usr/bin/python3 viz/calibration.py DIR      (tmesim calibrate runs it)

Reads DIR/fit.csv, DIR/parameters.csv, DIR/evaluations.csv and DIR/provenance.json. Left: per
target the residual (model - value) / tolerance at the start and after the fit, the band
[-1, 1] (within tolerance) shaded. Middle: each fitted parameter's place in its range (log
scale where it was fitted in log space), start and fit. Right: the objective per evaluation.
The PNG is written under a temporary name and renamed into place. Needs matplotlib.
"""
import csv
import json
import math
import os
import sys

import viz_common

PREFIX = "tmesim calibrate"


def fail(msg):
    print(f"{PREFIX}: {msg}", file=sys.stderr)
    sys.exit(1)


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def place(v, lo, hi, log):
    if log:
        return (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (v - lo) / (hi - lo)


def main(argv):
    if len(argv) != 2:
        fail("usage: calibration.py DIR")
    d = argv[1]
    viz_common.check_modules(PREFIX, ("matplotlib",))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(os.path.join(d, "provenance.json")) as f:
        prov = json.load(f)
    fit = rows_of(os.path.join(d, "fit.csv"))
    par = rows_of(os.path.join(d, "parameters.csv"))
    ev = rows_of(os.path.join(d, "evaluations.csv"))
    if not fit or not par or not ev:
        fail(f"{d}: fit.csv, parameters.csv or evaluations.csv has no rows")
    n = max(len(fit), len(par))
    fig, axes = plt.subplots(1, 3, figsize=(15, 1.6 + 0.45 * n), dpi=100, gridspec_kw={"width_ratios": [3, 2, 2]})

    ax = axes[0]
    y = list(range(len(fit)))[::-1]
    start = [(float(r["model_start"]) - float(r["value"])) / float(r["tolerance"]) for r in fit]
    after = [float(r["residual"]) for r in fit]
    clip = lambda v: max(-5.0, min(5.0, v)) if math.isfinite(v) else 5.0
    ax.axvspan(-1, 1, color="#55a868", alpha=0.15, label="within tolerance")
    ax.scatter([clip(v) for v in start], y, marker="o", facecolors="none", edgecolors="#8c8c8c", label="start")
    ax.scatter([clip(v) for v in after], y, marker="D", color="#4c72b0", label="fit")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r['target']}\n{float(r['model']):.3g} vs {float(r['value']):.3g} +- "
                        f"{float(r['tolerance']):.2g} {r['unit']}" for r in fit], fontsize=7)
    ax.set_xlim(-5.3, 5.3)
    ax.set_xlabel("(model - value) / tolerance  (clipped at +-5)")
    ax.axvline(0, color="black", lw=0.6)
    ax.legend(loc="lower right", fontsize=7)

    ax = axes[1]
    y = list(range(len(par)))[::-1]
    for yi, r in zip(y, par):
        lo, hi, log = float(r["low"]), float(r["high"]), r["scale"] == "log"
        ax.plot([0, 1], [yi, yi], color="#cccccc", lw=4)
        ax.scatter([place(float(r["start"]), lo, hi, log)], [yi], marker="o", facecolors="none", edgecolors="#8c8c8c")
        ax.scatter([place(float(r["fitted"]), lo, hi, log)], [yi], marker="D", color="#dd8452")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r['parameter']} = {float(r['fitted']):.3g} {r['unit']}\n[{float(r['low']):.3g}, "
                        f"{float(r['high']):.3g}] ({r['scale']})" for r in par], fontsize=7)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel("place in range (start o, fit \u25c6)")

    ax = axes[2]
    obj = [float(r["objective"]) for r in ev]
    ax.semilogy(range(len(obj)), [max(v, 1e-12) for v in obj], color="#4c72b0", lw=1)
    ax.set_xlabel("evaluation")
    ax.set_ylabel("objective: sum of squared scaled residuals")
    fig.suptitle(f"tmesim calibrate {prov.get('name', '')}: {prov.get('algorithm', '')}, "
                 f"{prov.get('evaluations', '?')} evaluations, seed {prov.get('seed', '?')}", fontsize=9)
    fig.tight_layout()
    out = os.path.join(d, "calibration.png")
    tmp = out + ".tmp.png"
    fig.savefig(tmp)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
