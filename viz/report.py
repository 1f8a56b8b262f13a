#!/usr/bin/python3
"""Write an HTML report about a finished tmesim run directory: RUN/report/index.html with its
PNG figures beside it (built in a temporary directory inside RUN and renamed into place).

usage:
  /usr/bin/python3 viz/report.py RUN_DIR      (or: tmesim report RUN_DIR)

Sections (each an <h2> with the id in brackets):
  Provenance [provenance]         provenance.json: version, git hash, backend, device, command line
  Observables [observables]       the means over the first observed region against time, fractions
                                  and drug doses marked (viz/plot_observables.py draws it)
  Dose slices [dose-slices]       the last volume's 'dose [Gy]' in an axial (x-y) and a coronal
                                  (x-z) slice through the tumour centroid, isodose lines at 95, 80,
                                  50 and 20 % of the maximum dose, outlines of the region_<name> masks
  Dose-volume histograms [dvh]    cumulative DVH per region from the same volume, and a table of
                                  Dmean, D98, D50, D2 per region
  Delivered schedule [schedule]   delivered_schedule.csv as a table
  Drug doses [drug-doses]         drug_doses.csv as a table
  Cell totals [totals]            the cells per region at the start and the end (observables.csv)
  Resolved scene [scene]          scene.resolved.yaml, collapsed
A run without radiotherapy (or without drugs) gets a sentence saying so in place of the dose
sections (or the drug table). Needs matplotlib (python3-matplotlib), numpy and VTK's Python
module (python3-vtk9); scripts/install-deps installs them.
"""
import csv
import glob
import html
import json
import os
import re
import shutil
import sys

import viz_common

PREFIX = "tmesim report"
SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
DPI = 100
ISODOSE_PERCENT = (20, 50, 80, 95)
# One colour per region, the same in the dose slices (outlines, bright on viridis and on the
# legend's dark grey) and in the DVH (on white).
OUTLINE_COLOURS = ("#ff3030", "#ff40ff", "#00c8f0", "#ff9900", "#80e020")


def fail(msg, code=1):
    print(f"{PREFIX}: {msg}", file=sys.stderr)
    sys.exit(code)


def check_modules():
    viz_common.check_modules(PREFIX, ("numpy", "matplotlib", "vtk"))


def check_run_dir(run):
    why = viz_common.run_refusal(run)
    if why:
        fail(why, 2)


def esc(x):
    return html.escape(str(x), quote=True)


def fmt(v):
    """Numbers in tables: integers as they are, others with 4 significant digits."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return esc(v)
    if f == int(f) and abs(f) < 1e9:
        return str(int(f))
    return f"{f:.4g}"


def read_csv(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    return (rows[0], rows[1:]) if rows else ([], [])


def table(header, rows, numeric=True):
    out = ["<table><thead><tr>"] + [f"<th>{esc(h)}</th>" for h in header] + ["</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{fmt(c) if numeric else esc(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# ---- volumes ------------------------------------------------------------------------------

def last_volume(run):
    vtis = sorted(glob.glob(os.path.join(run, "fields_*.vti")))
    return vtis[-1] if vtis else None


def read_volume(path):
    """{'shape': (nz, ny, nx), 'spacing': (dx, dy, dz) [um], 'origin' [um], 'arrays': {name:
    array (nz, ny, nx)}, 'time': 'TimeValue TimeUnit'} of a .vti with cell data."""
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy
    r = vtk.vtkXMLImageDataReader()
    r.SetFileName(path)
    r.Update()
    im = r.GetOutput()
    nx, ny, nz = (max(d - 1, 1) for d in im.GetDimensions())
    cd = im.GetCellData()
    arrays = {}
    for i in range(cd.GetNumberOfArrays()):
        a = cd.GetArray(i)
        if a is None or a.GetNumberOfComponents() != 1:
            continue
        arrays[a.GetName()] = vtk_to_numpy(a).reshape(nz, ny, nx)
    fd = im.GetFieldData()
    t = ""
    ts = fd.GetArray("Time_s")
    if ts is not None:
        sec = ts.GetValue(0)
        for scale, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min"), (1.0, "s")):
            if abs(sec) >= scale or unit == "s":
                t = f"{sec / scale:.4g} {unit}"
                break
    return {"shape": (nz, ny, nx), "spacing": im.GetSpacing(), "origin": im.GetOrigin(), "arrays": arrays,
            "time": t}


def regions_of(vol):
    return {n[len("region_"):]: a.astype(bool) for n, a in vol["arrays"].items() if n.startswith("region_")}


def tumour_region(regions):
    """The region named like a tumour (tumour, tumor, lesion, gtv), else the first, else None."""
    for key in ("tumour", "tumor", "lesion", "gtv"):
        for name in regions:
            if key in name.lower():
                return name
    return next(iter(regions), None)


def centroid_index(mask):
    import numpy as np
    idx = np.argwhere(mask)
    if len(idx) == 0:
        return tuple(s // 2 for s in mask.shape)
    return tuple(int(round(c)) for c in idx.mean(axis=0))


def dose_slices_figure(vol, dose, regions, centre_name):
    """Axial (x-y at the centroid's z) and coronal (x-z at its y) slices of the dose."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.lines import Line2D
    nz, ny, nx = vol["shape"]
    dx, dy, dz = (s / 1000.0 for s in vol["spacing"])  # um -> mm
    ox, oy, oz = (o / 1000.0 for o in vol["origin"])
    k, j, _ = centroid_index(regions[centre_name]) if centre_name else (nz // 2, ny // 2, nx // 2)
    dmax = float(dose.max())
    levels = [dmax * p / 100.0 for p in ISODOSE_PERCENT] if dmax > 0 else []
    fig, axes = plt.subplots(1, 2, figsize=(12.8, 6.2), dpi=DPI)
    views = (("axial", dose[k, :, :], (ox, ox + nx * dx, oy, oy + ny * dy), "x [mm]", "y [mm]",
              f"z = {oz + (k + 0.5) * dz:.2f} mm", lambda m: m[k, :, :]),
             ("coronal", dose[:, j, :], (ox, ox + nx * dx, oz, oz + nz * dz), "x [mm]", "z [mm]",
              f"y = {oy + (j + 0.5) * dy:.2f} mm", lambda m: m[:, j, :]))
    shown = []
    for ax, (view, sl, ext, xl, yl, where, cut) in zip(axes, views):
        im = ax.imshow(sl, origin="lower", extent=ext, cmap="viridis", vmin=0, vmax=dmax if dmax > 0 else 1,
                       interpolation="nearest")
        cb = fig.colorbar(im, ax=ax, shrink=0.9)
        cb.set_label("dose [Gy]")
        xs = np.linspace(ext[0], ext[1], sl.shape[1] + 1)
        ys = np.linspace(ext[2], ext[3], sl.shape[0] + 1)
        xc, yc = 0.5 * (xs[1:] + xs[:-1]), 0.5 * (ys[1:] + ys[:-1])
        if levels and sl.max() > levels[0]:
            cs = ax.contour(xc, yc, sl, levels=levels, colors="white", linewidths=0.9)
            ax.clabel(cs, fmt=lambda v: f"{v:.3g} Gy", fontsize=8)
        for i, (name, mask) in enumerate(regions.items()):
            m = cut(mask).astype(float)
            if m.max() > 0.5 and m.min() < 0.5:
                ax.contour(xc, yc, m, levels=[0.5], colors=[OUTLINE_COLOURS[i % len(OUTLINE_COLOURS)]],
                           linewidths=2.0, linestyles="--")
                if name not in shown:
                    shown.append(name)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(f"{view} slice, {where}", fontsize=11)
    names = list(regions)
    handles = [Line2D([], [], color=OUTLINE_COLOURS[names.index(n) % len(OUTLINE_COLOURS)], ls="--", lw=2.0,
                      label=f"region {n}") for n in shown]
    handles.append(Line2D([], [], color="white", lw=0.9,
                          label="isodose " + ", ".join(f"{p}" for p in ISODOSE_PERCENT) + " % of max"))
    leg = fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=10, frameon=True)
    leg.get_frame().set_facecolor("0.3")
    for t in leg.get_texts():
        t.set_color("white")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig, {"k": k, "j": j, "dmax": dmax}


def dvh_figure(dose, regions):
    """Cumulative DVH: the percentage of each region's volume receiving at least D."""
    import matplotlib.pyplot as plt
    import numpy as np
    dmax = float(dose.max())
    d = np.linspace(0.0, dmax * 1.02 if dmax > 0 else 1.0, 400)
    fig, ax = plt.subplots(figsize=(9.6, 5.0), dpi=DPI)
    rows = []
    scopes = [("grid", np.ones(dose.shape, bool))] + list(regions.items())
    for i, (name, mask) in enumerate(scopes):
        v = np.sort(dose[mask].astype(float))
        if v.size == 0:
            rows.append([name, 0, "", "", "", "", "", ""])
            continue
        frac = 100.0 * (v.size - np.searchsorted(v, d, side="left")) / v.size
        ax.plot(d, frac, color="0.3" if name == "grid" else OUTLINE_COLOURS[(i - 1) % len(OUTLINE_COLOURS)],
                ls=":" if name == "grid" else "-", lw=2.0, label="whole grid" if name == "grid" else name)
        # D_x: the least dose received by the hottest x % of the volume.
        dx_ = {x: float(np.percentile(v, 100 - x)) for x in (98, 50, 2)}
        rows.append([name, int(v.size), v.mean(), v.min(), dx_[98], dx_[50], dx_[2], v.max()])
    ax.set_xlabel("dose D [Gy]")
    ax.set_ylabel("volume receiving ≥ D [%]")
    ax.set_ylim(0, 102)
    ax.set_xlim(d[0], d[-1])
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=10, loc="best")
    ax.set_title("cumulative dose-volume histograms (final cumulative dose)", fontsize=11)
    fig.tight_layout()
    header = ["scope", "voxels", "Dmean [Gy]", "Dmin [Gy]", "D98 [Gy]", "D50 [Gy]", "D2 [Gy]", "Dmax [Gy]"]
    return fig, header, rows


# ---- tables from the CSVs -----------------------------------------------------------------

def totals_table(run, po):
    """Cells per scope at the first and the last row of observables.csv."""
    times, data, species, scopes, units, _ = po.read_observables(os.path.join(run, "observables.csv"))
    if not times:
        return None
    cells = [sp for sp in species if units.get((sp, "total")) == "cells"]
    if not cells:
        return None
    tscale, tunit = po.time_axis(times)
    t0, t1 = times[0] / tscale, times[-1] / tscale
    header = ["population", "scope", f"t = {t0:g} {tunit} [cells]", f"t = {t1:g} {tunit} [cells]",
              "end/start [1]"]
    rows = []
    for sc in scopes:
        for sp in cells:
            y = data.get((sp, sc, "total"))
            if y is not None:
                rows.append([sp, sc, f"{y[0]:.4g}", f"{y[-1]:.4g}", f"{y[-1] / y[0]:.3g}" if y[0] > 0 else "–"])
    return header, rows


# ---- the page -----------------------------------------------------------------------------

CSS = """
body { font-family: sans-serif; font-size: 15px; margin: 1.5em auto; max-width: 1300px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #bbb; margin-top: 1.6em; }
nav a { margin-right: 1em; } img { max-width: 100%; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 7px; text-align: right; }
th { background: #eef; } table.kv td, table.kv th { text-align: left; } td:first-child, th:first-child { text-align: left; }
.scroll { max-height: 420px; overflow: auto; display: inline-block; }
pre { background: #f6f6f6; padding: 0.6em; font-size: 12px; overflow: auto; }
.note { color: #555; font-style: italic; } summary { cursor: pointer; font-weight: bold; }
"""

SECTIONS = (("provenance", "Provenance"), ("observables", "Observables"), ("dose-slices", "Dose slices"),
            ("dvh", "Dose-volume histograms"), ("schedule", "Delivered schedule"), ("drug-doses", "Drug doses"),
            ("totals", "Cell totals"), ("scene", "Resolved scene"))


def build(run, out_dir, po):
    """Writes index.html and the PNGs into out_dir; returns the list of figure files."""
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 11, "axes.titlesize": 11, "axes.labelsize": 11, "legend.fontsize": 9})
    name = os.path.basename(os.path.abspath(run))
    with open(os.path.join(run, "provenance.json")) as f:
        prov = json.load(f)
    body, figures = {}, []

    def save(fig, fname):
        fig.savefig(os.path.join(out_dir, fname), dpi=DPI)
        plt.close(fig)
        figures.append(fname)
        return f'<img src="{esc(fname)}" alt="{esc(fname)}">'

    # Provenance
    rows = [[k, json.dumps(v) if isinstance(v, (list, dict)) or v is None else v] for k, v in prov.items()]
    body["provenance"] = table(["key", "value"], rows, numeric=False).replace("<table>", '<table class="kv">')

    # Observables
    obs = os.path.join(run, "observables.csv")
    if os.path.isfile(obs):
        fig, info = po.draw(obs, "mean")
        body["observables"] = (
            f"<p>Mean over {esc(', '.join(info['scopes']))} against time; {len(info['fractions'])} fractions "
            f"(red dashed) and {len(info['drug_doses'])} drug doses (blue dotted) marked.</p>"
            + save(fig, "observables.png"))
    else:
        body["observables"] = '<p class="note">No observables.csv in this run.</p>'

    # Dose slices and DVH
    vti = last_volume(run)
    vol = read_volume(vti) if vti else None
    dose = vol["arrays"].get("dose [Gy]") if vol else None
    if dose is None:
        why = "no volumes" if vol is None else f"no 'dose [Gy]' array in {os.path.basename(vti)}"
        body["dose-slices"] = body["dvh"] = f'<p class="note">No radiotherapy in this run ({esc(why)}).</p>'
    else:
        regions = regions_of(vol)
        centre = tumour_region(regions)
        fig, s = dose_slices_figure(vol, dose, regions, centre)
        body["dose-slices"] = (
            f"<p>Cumulative dose of the last volume ({esc(os.path.basename(vti))}, t = {esc(vol['time'])}), "
            f"maximum {s['dmax']:.4g} Gy; slices through the centroid of region "
            f"'{esc(centre or 'none: grid centre')}' (voxel z = {s['k']}, y = {s['j']}); isodose lines at "
            f"{', '.join(str(p) for p in ISODOSE_PERCENT)} % of the maximum; dashed lines outline the regions.</p>"
            + save(fig, "dose_slices.png"))
        fig, header, rows = dvh_figure(dose, regions)
        body["dvh"] = (save(fig, "dvh.png") + "<p>D<sub>x</sub>: the least dose received by the hottest x % "
                       "of the scope's volume.</p>" + table(header, rows))

    # Schedule and drug doses
    p = os.path.join(run, "delivered_schedule.csv")
    if os.path.isfile(p):
        h, rows = read_csv(p)
        body["schedule"] = f'<div class="scroll">{table(h, rows)}</div>'
    else:
        body["schedule"] = '<p class="note">No radiotherapy in this run (no delivered_schedule.csv).</p>'
    p = os.path.join(run, "drug_doses.csv")
    if os.path.isfile(p):
        h, rows = read_csv(p)
        body["drug-doses"] = f'<div class="scroll">{table(h, rows)}</div>'
    else:
        body["drug-doses"] = '<p class="note">No drugs in this run (no drug_doses.csv).</p>'

    # Totals
    tt = totals_table(run, po) if os.path.isfile(obs) else None
    body["totals"] = (f'<div class="scroll">{table(*tt, numeric=False)}</div>' if tt else
                      '<p class="note">No cell populations with totals in observables.csv.</p>')

    # Scene
    p = os.path.join(run, "scene.resolved.yaml")
    if os.path.isfile(p):
        with open(p) as f:
            text = f.read()
        body["scene"] = (f"<details><summary>scene.resolved.yaml ({text.count(chr(10))} lines; every default "
                         f"made explicit)</summary><pre>{esc(text)}</pre></details>")
    else:
        body["scene"] = '<p class="note">No scene.resolved.yaml in this run.</p>'

    head = (f"<p>Scene <code>{esc(prov.get('scene', '?'))}</code>, tmesim {esc(prov.get('tmesim_version', '?'))} "
            f"(git {esc(prov.get('git_hash', '?'))}{', dirty' if prov.get('git_dirty') else ''}), backend "
            f"{esc(prov.get('backend', '?'))} on {esc(prov.get('device', '?'))}, finished {esc(prov.get('end_time', '?'))}"
            f" after {fmt(prov.get('wall_time_s', '?'))} s.</p>")
    nav = "<nav>" + "".join(f'<a href="#{i}">{esc(t)}</a>' for i, t in SECTIONS) + "</nav>"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>tmesim report: {esc(name)}</title><style>{CSS}</style></head><body>",
             f"<h1>tmesim report: {esc(name)}</h1>", head, nav]
    for sid, title in SECTIONS:
        parts.append(f'<section id="{sid}"><h2>{esc(title)}</h2>{body[sid]}</section>')
    parts.append("</body></html>\n")
    with open(os.path.join(out_dir, "index.html"), "w") as f:
        f.write("\n".join(parts))
    return figures


def main():
    args = sys.argv[1:]
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__)
        sys.exit(0 if args and args[0] in ("-h", "--help") else 2)
    run = args[0].rstrip("/") or "/"
    check_run_dir(run)
    check_modules()
    import matplotlib
    matplotlib.use("Agg")
    sys.path.insert(0, SCRIPT_DIR)
    import plot_observables as po

    final = os.path.join(run, "report")
    tmp = os.path.join(run, f".report.tmp-{os.getpid()}")
    old = os.path.join(run, f".report.old-{os.getpid()}")
    os.mkdir(tmp)
    try:
        figures = build(run, tmp, po)
        if os.path.exists(final):
            os.rename(final, old)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    n = len(figures)
    print(f"wrote {os.path.join(final, 'index.html')} ({n} figure{'' if n == 1 else 's'}: {', '.join(figures)})")


if __name__ == "__main__":
    main()
