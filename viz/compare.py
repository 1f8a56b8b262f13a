#!/usr/bin/python3
"""Compare the arms of a study: several finished tmesim runs side by side, one CSV and PNG plots.

usage:
  /usr/bin/python3 viz/compare.py RUN... [-o DIR] [--column NAME ...] [--label RUN=LABEL ...] [--force]
  (or: tmesim compare RUN... [same options])

Each RUN is an arm, labelled by its directory's name unless --label RUN=LABEL names it; the
first RUN is the reference arm of the summary. A run has the single-lesion layout
(RUN/observables.csv, RUN/delivered_schedule.csv) or the multi-lesion one
(RUN/lesions/<lesion>/observables.csv and delivered_schedule.csv; lesions in the order of
the run's scene.resolved.yaml, else by name); drug doses are in RUN/drug_doses.csv in both. A single-lesion run's lesion is written "-".

Columns: the observables.csv columns to compare (--column, repeatable, the full header name
such as 'T.tumour.total [cells]', or the name without its unit when that is unique); default
'burden [cells]', the whole grid's tumour cells. The first column is the one the summary
table shows.

Lesions: only the lesions every run has are compared (in the first run's order); when the
runs' lesion sets differ a warning on stderr names what is left out; runs with no lesion in
common are refused.

Writes DIR (default ./compare; an existing DIR is replaced only with --force and only when it
holds an earlier compare output, i.e. its compare.json; built under a temporary name beside
DIR and renamed into place):
  compare.csv    long format, one row per arm, lesion and output time of that run:
                 time_s,arm,lesion,<column>,... ; the values are the runs' observables.csv
                 text, unchanged (rows in the order of the arms, then lesions, then time)
  events.csv     arm,lesion,event,time_s,detail (time_s as the run wrote it): each arm's fractions (event 'fraction', per
                 lesion, detail 'plan <name>, <prescribed> Gy prescribed, max <dose> Gy in the lesion',
                 the max from the schedule's 'grid' row) and drug doses (event 'drug',
                 lesion '*': every lesion, detail '<drug> <amount> mg'), up to the run's end
  <slug>.png     one per column (slug: the column's full name with every run of characters other than
                 letters, digits, '.', '-' and '_' made one '_', e.g. burden_cells.png): one
                 panel per lesion, one line per arm against time; in a grey band below the
                 lines (the y axis is extended downwards to make room) each arm's
                 fraction times are marked with '|' ticks (faint where the fraction gave the
                 lesion 0 Gy: a fraction to another lesion) and its drug doses with '^' markers,
                 in the arm's colour, one row per arm; a log y axis when the values span
                 3 decades or more
  compare.json   what was drawn, read back from the figures: per plot its file, size in
                 pixels and per panel the lines (arm, points) and event marks per arm
                 (fraction_marks, fraction_no_dose_marks, drug_marks)
Prints a summary table: per arm and lesion, the first column at the start, its minimum and
the time of the minimum, at the end, and the end relative to the first arm's end in the same
lesion. Needs matplotlib and numpy (Debian: python3-matplotlib python3-numpy).
"""
import argparse
import csv
import json
import math
import os
import re
import shutil
import sys

import plot_observables
import viz_common

PREFIX = "tmesim compare"
DEFAULT_COLUMN = "burden [cells]"
SINGLE = "-"  # the lesion name of a single-lesion run
PANEL_W, PANEL_H, DPI = 7.0, 3.6, 100  # inches per panel, dots per inch


class Refusal(Exception):
    """Bad input: the message is printed after the prefix, exit status 2."""


def fail(msg, code=1):
    print(f"{PREFIX}: {msg}", file=sys.stderr)
    sys.exit(code)


def warn(msg):
    print(f"{PREFIX}: warning: {msg}", file=sys.stderr)


def strip_unit(name):
    return re.sub(r"\s*\[[^\]]*\]\s*$", "", name.strip())


def slug(column):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", column).strip("_") or "column"


def read_rows(path):
    """(header, [(line number, row)]) of a CSV, '#' lines skipped."""
    with open(path, newline="") as f:
        rows = [(n, r) for n, r in enumerate(csv.reader(f), start=1) if r and not r[0].startswith("#")]
    if not rows:
        raise Refusal(f"{path}: empty file")
    return [h.strip() for h in rows[0][1]], rows[1:]


# ---- the runs --------------------------------------------------------------------------------

def scene_lesion_order(run):
    """The lesion names in the order RUN/scene.resolved.yaml lists them (a `lesions:` list of
    mappings with a `name`, or a mapping by name); [] when it cannot tell (no PyYAML, no file)."""
    p = os.path.join(run, "scene.resolved.yaml")
    try:
        import yaml
        with open(p) as f:
            doc = yaml.safe_load(f)
    except Exception:  # no PyYAML, no file or not YAML: name order instead
        return []
    les = doc.get("lesions") if isinstance(doc, dict) else None
    if isinstance(les, dict):
        return [str(k) for k in les]
    if isinstance(les, list):
        return [str(x["name"]) for x in les if isinstance(x, dict) and "name" in x]
    return []


def lesions_of(run):
    """[(lesion name, directory)] of a run: RUN/lesions/<name> in the scene's order (else by
    name), or [('-', RUN)]."""
    d = os.path.join(run, "lesions")
    if not os.path.isdir(d):
        return [(SINGLE, run)]
    out = []
    order = scene_lesion_order(run)
    names = sorted(os.listdir(d), key=lambda n: (order.index(n), "") if n in order else (len(order), n))
    for name in names:
        p = os.path.join(d, name)
        if not os.path.isdir(p):
            continue
        if not os.path.isfile(os.path.join(p, "observables.csv")):
            raise Refusal(f"'{p}' has no observables.csv")
        out.append((name, p))
    if not out:
        raise Refusal(f"'{d}' holds no lesion directories")
    return out


def resolve_column(header, wanted):
    """The header name `wanted` means: itself, else the one column whose name without unit it is."""
    if wanted in header:
        return wanted
    hits = [h for h in header if strip_unit(h) == wanted]
    return hits[0] if len(hits) == 1 else None


def read_lesion(run, lesion_dir, columns):
    """{'times': [s], 'text': {column: [str]}, 'values': {column: [float]}, 'resolved': {wanted: header}}."""
    path = os.path.join(lesion_dir, "observables.csv")
    if not os.path.isfile(path):
        raise Refusal(f"'{run}' has no observables.csv")
    header, rows = read_rows(path)
    if header[0] != "time_s":
        raise Refusal(f"{path}:1:1: first column is '{header[0]}', expected 'time_s'")
    resolved = {}
    for c in columns:
        h = resolve_column(header, c)
        if h is None:
            totals = [x for x in header if x.endswith(".total [cells]")]
            raise Refusal(f"run '{run}' has no column '{c}' in {path}; its cell totals: "
                          f"{', '.join(totals) if totals else 'none'}; choose columns with --column")
        resolved[c] = h
    idx = {c: header.index(h) for c, h in resolved.items()}
    times, text, values = [], {c: [] for c in columns}, {c: [] for c in columns}
    for n, r in rows:
        if len(r) != len(header):
            raise Refusal(f"{path}:{n}: {len(r)} fields, expected {len(header)}")
        try:
            times.append(float(r[0]))
            for c, i in idx.items():
                values[c].append(float(r[i]))
                text[c].append(r[i].strip())
        except ValueError as e:
            raise Refusal(f"{path}:{n}: {e}")
    if not times:
        raise Refusal(f"{path}: no data rows")
    return {"times": times, "time_text": [r[0].strip() for _, r in rows], "text": text, "values": values,
            "resolved": resolved}


def read_fractions(run, lesion_dir):
    """[(time [s], its text, detail, max dose in the lesion [Gy] or None)] of the fractions
    delivered to the lesion (one per time and plan; the max dose is the 'grid' row's max_Gy)."""
    p = os.path.join(lesion_dir, "delivered_schedule.csv")
    if not os.path.isfile(p):
        p = os.path.join(run, "delivered_schedule.csv")
    if not os.path.isfile(p):
        return []
    out, at = [], {}
    with open(p, newline="") as f:
        for r in csv.DictReader(f):
            try:
                t = float(r["time_s"])
            except (KeyError, ValueError, TypeError):
                continue
            key = (t, r.get("plan"))
            if key not in at:
                at[key] = len(out)
                out.append([t, r["time_s"].strip(), f"plan {r.get('plan_name', '?')}, {r.get('prescribed_Gy', '?')} Gy "
                            "prescribed", None])
            if r.get("scope") == "grid":
                try:
                    out[at[key]][3] = float(r["max_Gy"])
                except (KeyError, ValueError, TypeError):
                    pass
    for e in out:
        if e[3] is not None:
            e[2] += f", max {e[3]:g} Gy in the lesion"
    return [tuple(e) for e in out]


def read_drug_doses(run):
    """[(time [s], its text, detail)] of RUN/drug_doses.csv."""
    p = os.path.join(run, "drug_doses.csv")
    if not os.path.isfile(p):
        return []
    out = []
    with open(p, newline="") as f:
        for r in csv.DictReader(f):
            try:
                out.append((float(r["time_s"]), r["time_s"].strip(), f"{r['drug']} {r['amount_mg']} mg"))
            except (KeyError, ValueError, TypeError):
                continue
    return out


def label_arms(runs, label_args):
    labels = [os.path.basename(os.path.abspath(r)) for r in runs]
    for a in label_args:
        run, sep, label = a.partition("=")
        if not sep or not run or not label:
            raise Refusal(f"--label '{a}': expected RUN=LABEL")
        hits = [i for i, r in enumerate(runs) if os.path.samefile(r, run)] if os.path.exists(run) else []
        if not hits:
            raise Refusal(f"--label '{a}': '{run}' is not one of the runs compared ({', '.join(runs)})")
        for i in hits:
            labels[i] = label
    for i, l in enumerate(labels):
        for j in range(i):
            if labels[j] == l:
                raise Refusal(f"runs '{runs[j]}' and '{runs[i]}' have the same label '{l}'; "
                              "give one another with --label RUN=LABEL")
    return labels


def gather(runs, labels, columns):
    """The arms with their lesions' data; the lesions all runs have."""
    arms = []
    for run, label in zip(runs, labels):
        arms.append({"run": run, "label": label, "lesions": lesions_of(run), "drugs": read_drug_doses(run)})
    common = [name for name, _ in arms[0]["lesions"]
              if all(name in dict(a["lesions"]) for a in arms[1:])]

    def names(a):
        return ", ".join("(single lesion)" if n == SINGLE else n for n, _ in a["lesions"])

    if not common:
        raise Refusal("the runs have no lesion in common: " + "; ".join(f"{a['run']}: {names(a)}" for a in arms))
    left = [(a, [n for n, _ in a["lesions"] if n not in common]) for a in arms]
    if any(l for _, l in left):
        warn(f"the runs' lesions differ; comparing those all runs have ({', '.join(common)}), leaving out "
             + "; ".join(f"{a['run']}: {', '.join(l)}" for a, l in left if l))
    for a in arms:
        dirs = dict(a["lesions"])
        a["data"] = {n: read_lesion(a["run"], dirs[n], columns) for n in common}
        a["fractions"] = {n: read_fractions(a["run"], dirs[n]) for n in common}
        a["end"] = max(d["times"][-1] for d in a["data"].values())
        a["drugs"] = [d for d in a["drugs"] if d[0] <= a["end"]]
    for c in columns:
        names_ = {a["data"][n]["resolved"][c] for a in arms for n in common}
        if len(names_) > 1:
            raise Refusal(f"column '{c}' means different columns in the runs: {', '.join(sorted(names_))}")
    return arms, common


# ---- output ----------------------------------------------------------------------------------

def write_csv(path, arms, lesions, columns):
    header = ["time_s", "arm", "lesion"] + [arms[0]["data"][lesions[0]]["resolved"][c] for c in columns]
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for a in arms:
            for n in lesions:
                d = a["data"][n]
                for i, t in enumerate(d["time_text"]):
                    w.writerow([t, a["label"], n] + [d["text"][c][i] for c in columns])


def write_events(path, arms, lesions):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["arm", "lesion", "event", "time_s", "detail"])
        for a in arms:
            for n in lesions:
                for _, t, detail, _ in a["fractions"][n]:
                    w.writerow([a["label"], n, "fraction", t, detail])
            for _, t, detail in a["drugs"]:
                w.writerow([a["label"], "*", "drug", t, detail])


def plot_column(plt, out_dir, arms, lesions, column, header_name, tscale, tunit):
    """One PNG: a panel per lesion, a line per arm, each arm's events marked in its colour."""
    from matplotlib.lines import Line2D
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    n = len(lesions)
    ncols = 1 if n <= 3 else 2
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharex=True,
                             figsize=(PANEL_W * ncols, PANEL_H * nrows + 0.9), dpi=DPI)
    flat = [axes[r][c] for r in range(nrows) for c in range(ncols)]
    row_h = min(0.05, 0.3 / len(arms))  # height of one arm's row of event marks [axes fraction]
    for k, lesion in enumerate(lesions):
        ax = flat[k]
        series = []
        for i, a in enumerate(arms):
            d = a["data"][lesion]
            colour = colours[i % len(colours)]
            y = d["values"][column]
            ax.plot([t / tscale for t in d["times"]], y, color=colour, lw=1.8, label=a["label"],
                    gid=f"arm:{a['label']}", marker="." if len(y) < 40 else None)
            series.append(y)
            tr = ax.get_xaxis_transform()  # x in data, y in axes fraction
            yrow = 0.02 + row_h * (i + 0.5)
            # Fractions that gave the lesion a dose: solid ticks; those that gave it none (a
            # fraction to another lesion): faint ticks.
            hit = [e[0] / tscale for e in a["fractions"][lesion] if e[3] is None or e[3] > 0]
            missed = [e[0] / tscale for e in a["fractions"][lesion] if e[3] is not None and e[3] <= 0]
            for ft, kind, alpha in ((hit, "fraction", 1.0), (missed, "fraction_no_dose", 0.3)):
                if ft:
                    ax.plot(ft, [yrow] * len(ft), ls="none", marker="|", ms=9, mew=1.6, color=colour,
                            alpha=alpha, transform=tr, gid=f"{kind}:{a['label']}")
            dt = [e[0] / tscale for e in a["drugs"]]
            if dt:
                ax.plot(dt, [yrow] * len(dt), ls="none", marker="^", ms=6, color=colour, transform=tr,
                        gid=f"drug:{a['label']}")
        if plot_observables.spans_decades(series):
            ax.set_yscale("log")
        if any(a["fractions"][lesion] or a["drugs"] for a in arms):
            # Room under the lines for the rows of event marks.
            # Room under the lines for the rows of event marks: a grey band without y ticks.
            f = 0.04 + row_h * len(arms)
            lo, hi = ax.get_ylim()
            ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
            if ax.get_yscale() == "log":
                llo, lhi = math.log10(lo), math.log10(hi)
                ax.set_ylim(10 ** (llo - (lhi - llo) * f / (1 - f)), hi)
            else:
                ax.set_ylim(lo - (hi - lo) * f / (1 - f), hi)
                ax.set_yticks(ticks)
            ax.axhspan(ax.get_ylim()[0], lo, color="0.93", lw=0, zorder=0)
        ax.set_title("(single lesion)" if lesion == SINGLE else f"lesion {lesion}", fontsize=10)
        ax.set_ylabel(header_name)
        ax.grid(True, alpha=0.3)
    for ax in flat[n:]:
        ax.set_visible(False)
    for c in range(ncols):
        for r in reversed(range(nrows)):
            if r * ncols + c < n:
                axes[r][c].set_xlabel(f"time [{tunit}]")
                axes[r][c].xaxis.set_tick_params(labelbottom=True)
                break
    handles = [Line2D([], [], color=colours[i % len(colours)], lw=1.8, label=a["label"]) for i, a in enumerate(arms)]
    if any(a["fractions"][n] for a in arms for n in lesions):
        handles.append(Line2D([], [], color="0.3", ls="none", marker="|", ms=9, mew=1.6, label="fraction"))
    if any(e[3] is not None and e[3] <= 0 for a in arms for n in lesions for e in a["fractions"][n]):
        handles.append(Line2D([], [], color="0.3", alpha=0.3, ls="none", marker="|", ms=9, mew=1.6,
                              label="fraction, 0 Gy here"))
    if any(a["drugs"] for a in arms):
        handles.append(Line2D([], [], color="0.3", ls="none", marker="^", ms=6, label="drug dose"))
    # As many legend columns as fit the figure's width (long arm names take more rows), and the
    # title's arm list wrapped at the width: neither may run off the image.
    renderer = fig.canvas.get_renderer()
    for ncol in range(min(len(handles), 6), 0, -1):
        legend = fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
        if ncol == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            break
        legend.remove()
    title = fig.suptitle(f"{header_name} per lesion: {', '.join(a['label'] for a in arms)}", fontsize=11, wrap=True)
    fig_h = PANEL_H * nrows + 0.9
    legend_h = legend.get_window_extent(renderer).height / DPI
    fig.tight_layout(rect=(0, max(0.35, legend_h + 0.05) / fig_h, 1, 1))
    fig.canvas.draw()
    box = legend.get_window_extent(renderer)
    fitted = {"columns": ncol, "left_px": round(box.x0), "right_px": round(box.x1),
              "title_lines": len(title._get_wrapped_text().split("\n"))}
    fname = f"{slug(header_name)}.png"
    fig.savefig(os.path.join(out_dir, fname), dpi=DPI)
    w, h = (int(round(x * DPI)) for x in fig.get_size_inches())
    panels = []
    for k, lesion in enumerate(lesions):
        lines, fr, fr0, dr = [], {}, {}, {}
        for ln in flat[k].get_lines():
            kind, _, arm = (ln.get_gid() or "").partition(":")
            if kind == "arm":
                lines.append({"arm": arm, "points": len(ln.get_xdata())})
            elif kind == "fraction":
                fr[arm] = len(ln.get_xdata())
            elif kind == "fraction_no_dose":
                fr0[arm] = len(ln.get_xdata())
            elif kind == "drug":
                dr[arm] = len(ln.get_xdata())
        panels.append({"lesion": lesion, "log_y": flat[k].get_yscale() == "log", "lines": lines,
                       "fraction_marks": fr, "fraction_no_dose_marks": fr0, "drug_marks": dr})
    plt.close(fig)
    return {"file": fname, "column": header_name, "width_px": w, "height_px": h, "legend": fitted, "panels": panels}


def g4(v):
    return f"{v:.4g}"


def summary(arms, lesions, column, header_name, tscale, tunit):
    """The table printed at the end (first column only)."""
    head = ["arm", "lesion", "start", "minimum", f"min at [{tunit}]", "end", "end / first arm's end"]
    rows = []
    for a in arms:
        for n in lesions:
            d = a["data"][n]
            y, t = d["values"][column], d["times"]
            i = min(range(len(y)), key=lambda k: y[k])
            ref = arms[0]["data"][n]["values"][column][-1]
            rows.append([a["label"], n, g4(y[0]), g4(y[i]), f"{t[i] / tscale:.4g}", g4(y[-1]),
                         f"{y[-1] / ref:.4g}" if ref != 0 else "n/a (first arm ends at 0)"])
    widths = [max(len(str(r[k])) for r in [head] + rows) for k in range(len(head))]
    lines = [f"{header_name}:"]
    for r in [head] + rows:
        lines.append("  ".join(str(c).ljust(wd) if k < 2 else str(c).rjust(wd)
                               for k, (c, wd) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(lines)


def prepare_output(out, force):
    """Refuses an existing `out` unless --force and it holds an earlier compare output."""
    if os.path.lexists(out):
        if not force:
            raise Refusal(f"'{out}' exists; give --force to replace it, or -o another directory")
        if not os.path.isdir(out) or os.path.islink(out) or not os.path.isfile(os.path.join(out, "compare.json")):
            raise Refusal(f"'{out}' is not the output of an earlier tmesim compare (no compare.json in it); "
                          "not replacing it")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise Refusal(f"'{out}': no directory {parent} to write it in")


def main():
    ap = argparse.ArgumentParser(prog="compare.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", metavar="RUN", help="finished run directories (arms)")
    ap.add_argument("-o", "--output", default="compare", help="output directory (default: compare)")
    ap.add_argument("--column", action="append", default=[], help="observables.csv column (repeatable)")
    ap.add_argument("--label", action="append", default=[], help="RUN=LABEL: the arm's name")
    ap.add_argument("--force", action="store_true", help="replace an earlier compare output")
    a = ap.parse_args()
    out = a.output.rstrip("/") or "/"
    runs = [r.rstrip("/") or "/" for r in a.runs]
    try:
        for r in runs:
            why = viz_common.run_refusal(r)
            if why:
                raise Refusal(why)
        for i, r in enumerate(runs):
            for j in range(i):
                if os.path.samefile(runs[j], r):
                    raise Refusal(f"'{runs[j]}' and '{r}' are the same run")
        columns = a.column or [DEFAULT_COLUMN]
        for i, c in enumerate(columns):
            if c in columns[:i]:
                raise Refusal(f"--column '{c}' is given twice")
        labels = label_arms(runs, a.label)
        prepare_output(out, a.force)
        arms, lesions = gather(runs, labels, columns)
    except Refusal as e:
        fail(str(e), 2)
    viz_common.check_modules(PREFIX, ("numpy", "matplotlib"))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    header_names = [arms[0]["data"][lesions[0]]["resolved"][c] for c in columns]
    tscale, tunit = plot_observables.time_axis([max(a["end"] for a in arms)])
    parent, base = os.path.split(os.path.abspath(out))
    tmp = os.path.join(parent, f".{base}.tmp-{os.getpid()}")
    old = os.path.join(parent, f".{base}.old-{os.getpid()}")
    os.mkdir(tmp)
    try:
        write_csv(os.path.join(tmp, "compare.csv"), arms, lesions, columns)
        write_events(os.path.join(tmp, "events.csv"), arms, lesions)
        plots = [plot_column(plt, tmp, arms, lesions, c, h, tscale, tunit) for c, h in zip(columns, header_names)]
        manifest = {"arms": [{"label": x["label"], "run": x["run"], "end_s": x["end"],
                              "fractions": {n: len(x["fractions"][n]) for n in lesions},
                              "drug_doses": len(x["drugs"])} for x in arms],
                    "lesions": lesions, "columns": header_names, "csv": "compare.csv", "events": "events.csv",
                    "time_unit": tunit, "plots": plots}
        with open(os.path.join(tmp, "compare.json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        if os.path.lexists(out):
            os.rename(out, old)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    files = ", ".join(["compare.csv", "events.csv"] + [p["file"] for p in plots] + ["compare.json"])
    nl = len(lesions)
    na = len(arms)
    print(f"wrote {out}/ ({files}): {na} arm{'' if na == 1 else 's'}, {nl} lesion{'' if nl == 1 else 's'}")
    print(summary(arms, lesions, columns[0], header_names[0], tscale, tunit))


if __name__ == "__main__":
    main()
