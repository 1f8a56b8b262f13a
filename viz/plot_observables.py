#!/usr/bin/python3
"""Plot the observables of a tmesim run (RUN_DIR/observables.csv) against time.

The CSV has a column time_s, then one column per species, scope and statistic,
"<species>.<scope>.<stat> [unit]" (scope 'grid' is the whole grid, then each observed
region): 'total' is the amount in the scope (cells for cells/mm^3, ng for ng/mL, nmol for nM),
mean, min and max are in the species' unit. Runs with radiotherapy add
"dose|BED|EQD2.<scope>.mean|min|max [Gy]" (cumulative). Older CSVs without units in the header
are read too (units then come from the volumes' array names).

usage:
  /usr/bin/python3 viz/plot_observables.py RUN_DIR_or_CSV [--stat mean] [--species T CD8]
                   [--regions tumour grid] [--log | --linear] [--out plot.png] [--show]

Layout: a few panels grouped by kind: the cell populations (cells/mm^3, or cells with --stat
total), then one panel per other unit (ng/mL, nM, ...), then the cumulative dose, BED and EQD2
[Gy] when the run has radiotherapy; one colour per species, one line style per scope. A panel
whose positive values span 3 decades or more gets a log scale (--log / --linear force one).
Fractions (from RUN_DIR/delivered_schedule.csv) and drug doses (RUN_DIR/drug_doses.csv) are
marked as vertical lines. Scopes: by default the first observed region (else the grid).
Species names are accepted with or without their unit ("T" or "T [cells/mm^3]").

Other scripts import it: draw(csv_path, stat, ...) returns the figure (viz/report.py uses it).

Without --out the plot is saved next to the CSV as observables_<stat>.png (--show opens a
window instead); the script prints the file, the panels and the image size. Needs matplotlib
(Debian: python3-matplotlib; scripts/install-deps installs it).
"""
import argparse
import csv
import glob
import math
import os
import re
import sys

STATS = ("total", "mean", "min", "max")
DOSE_QUANTITIES = ("dose", "BED", "EQD2")
LINE_STYLES = ("-", "--", ":", "-.")
PANEL_W, PANEL_H, DPI = 6.4, 3.2, 100  # inches per panel, dots per inch


def find_csv(path):
    if os.path.isdir(path):
        p = os.path.join(path, "observables.csv")
        if not os.path.isfile(p):
            sys.exit(f"plot_observables: {path}: no observables.csv in this directory")
        return p
    if not os.path.isfile(path):
        sys.exit(f"plot_observables: {path}: no such file or directory")
    return path


def strip_unit(name):
    """'T [cells/mm^3]' -> 'T'; 'T' -> 'T'."""
    return re.sub(r"\s*\[[^\]]*\]\s*$", "", name.strip())


def unit_of(name):
    m = re.search(r"\[([^\]]*)\]\s*$", name)
    return m.group(1) if m else None


def read_observables(path):
    """Returns (times, data, species, scopes, units, doses):
    data {(species, scope, stat): [values]}, units {(species, stat): unit or None},
    doses {(quantity, scope, stat): [values]} (empty without radiotherapy)."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    if not rows:
        sys.exit(f"plot_observables: {path}: empty file")
    header = [h.strip() for h in rows[0]]
    if header[0] != "time_s":
        sys.exit(f"plot_observables: {path}: first column is '{header[0]}', expected 'time_s'")
    cols, dose_cols, units = {}, {}, {}
    species, scopes = [], []
    for i, name in enumerate(header[1:], start=1):
        parts = strip_unit(name).rsplit(".", 2)
        if len(parts) != 3 or parts[2] not in STATS:
            print(f"plot_observables: ignoring column '{name}'", file=sys.stderr)
            continue
        sp, sc, st = parts
        if sp in DOSE_QUANTITIES and st != "total" and unit_of(name) == "Gy":
            dose_cols[(sp, sc, st)] = i
            continue
        cols[(sp, sc, st)] = i
        units[(sp, st)] = unit_of(name)
        if sp not in species:
            species.append(sp)
        if sc not in scopes:
            scopes.append(sc)
    times, data, doses = [], {k: [] for k in cols}, {k: [] for k in dose_cols}
    for n, r in enumerate(rows[1:], start=2):
        if len(r) < len(header):
            print(f"plot_observables: {path}: line {n} is incomplete, stopping there", file=sys.stderr)
            break
        try:
            t = float(r[0])
            vals = {k: float(r[i]) for k, i in cols.items()}
            dvals = {k: float(r[i]) for k, i in dose_cols.items()}
        except ValueError as e:
            sys.exit(f"plot_observables: {path}: line {n}: {e}")
        times.append(t)
        for k, v in vals.items():
            data[k].append(v)
        for k, v in dvals.items():
            doses[k].append(v)
    return times, data, species, scopes, units, doses


def species_units(run_dir):
    """{species: unit} from the array names ("IFNg [ng/mL]") in the run's first .vti header."""
    vtis = sorted(glob.glob(os.path.join(run_dir, "*.vti")))
    if not vtis:
        return {}
    with open(vtis[0], "rb") as f:
        head = f.read(65536).decode("latin-1")
    head = head.split("<AppendedData", 1)[0]
    return {m.group(1): m.group(2)
            for m in re.finditer(r'<DataArray[^>]*\bName="([^"\[]*?) \[([^\]"]*)\]"', head)}


def read_events(run_dir):
    """(fraction times [s], [(time [s], drug name)]) from the run's schedule files."""
    fractions, doses = [], []
    p = os.path.join(run_dir, "delivered_schedule.csv")
    if os.path.isfile(p):
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                try:
                    t = float(r["time_s"])
                except (KeyError, ValueError):
                    continue
                if t not in fractions:
                    fractions.append(t)
    p = os.path.join(run_dir, "drug_doses.csv")
    if os.path.isfile(p):
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                try:
                    doses.append((float(r["time_s"]), r["drug"]))
                except (KeyError, ValueError):
                    continue
    return fractions, doses


def time_axis(times):
    """Pick a readable time unit: (scale factor, label)."""
    tmax = max(times) if times else 0.0
    for scale, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if tmax >= 3 * scale:
            return scale, unit
    return 1.0, "s"


def spans_decades(series, decades=3):
    pos = [v for s in series for v in s if v > 0 and math.isfinite(v)]
    return len(pos) > 1 and max(pos) >= 10 ** decades * min(pos)


def panels_of(species, units, stat):
    """[(title, unit, [species])]: the cell populations first, then one panel per other unit."""
    groups = {}
    for sp in species:
        u = units.get(sp) or "?"
        is_cells = "cells" in u or "cell/" in u
        key = ("cells" if is_cells else u)
        groups.setdefault(key, (u, []))[1].append(sp)
    out = []
    if "cells" in groups:
        u, sps = groups.pop("cells")
        out.append(("cell populations", u, sps))
    for key, (u, sps) in groups.items():
        out.append((f"{key}", u, sps))
    return out


def pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_observables: matplotlib is not installed for this Python "
                 f"({sys.executable}); on Debian: apt-get install python3-matplotlib")
    return plt


def use_agg():
    """Draw into images only (no window, no display needed)."""
    try:
        import matplotlib
    except ImportError:
        sys.exit("plot_observables: matplotlib is not installed for this Python "
                 f"({sys.executable}); on Debian: apt-get install python3-matplotlib")
    matplotlib.use("Agg")


def draw(path, stat="mean", species_wanted=None, regions=None, log_all=False, linear_all=False):
    """The observables figure of the CSV `path` (see the module's description). Returns
    (figure, info): info {'titles': panel titles, 'npanels', 'fractions': fraction times [s],
    'drug_doses': [(time [s], drug)] up to the last row, 'times': [s], 'scopes': plotted}."""
    run_dir = os.path.dirname(os.path.abspath(path))
    times, data, species, scopes, col_units, doses = read_observables(path)
    if not times:
        sys.exit(f"plot_observables: {path}: no data rows yet")
    wanted_species = [strip_unit(s) for s in species_wanted] if species_wanted else None
    for name, wanted, have in (("species", wanted_species, species), ("region", regions, scopes)):
        for w in wanted or []:
            if w not in have:
                sys.exit(f"plot_observables: no {name} '{w}' in {path} (found: {', '.join(have)})")
    species = wanted_species or species
    if regions:
        chosen = regions
    else:
        chosen = [scopes[1] if len(scopes) > 1 else scopes[0]]

    # Units: from the header (this version), else from the volumes' array names.
    vti_units = species_units(run_dir)
    units = {}
    for sp in species:
        u = col_units.get((sp, stat))
        if u is None:
            base = vti_units.get(sp)
            u = (f"{base}·µm³" if base else None) if stat == "total" else base
        units[sp] = u

    plt = pyplot()

    panels = panels_of(species, units, stat)
    has_dose = bool(doses) and any((q, sc, "mean") in doses for q in DOSE_QUANTITIES for sc in chosen)
    npanels = len(panels) + (1 if has_dose else 0)
    ncols = 1 if npanels <= 3 else 2
    nrows = (npanels + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, sharex=True, squeeze=False,
                             figsize=(PANEL_W * ncols, PANEL_H * nrows + 0.6), dpi=DPI)
    tscale, tunit = time_axis(times)
    t = [x / tscale for x in times]
    fractions, drug_doses = read_events(run_dir)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    marker = "." if len(t) < 40 else None

    def mark_events(ax, first):
        for i, tf in enumerate(fractions):
            ax.axvline(tf / tscale, color="tab:red", lw=0.8, ls="--", alpha=0.7,
                       label="fraction" if first and i == 0 else None)
        drugs = []
        for td, name in drug_doses:
            if td > times[-1]:
                continue
            ax.axvline(td / tscale, color="tab:blue", lw=0.8, ls=":", alpha=0.8,
                       label=f"dose: {name}" if first and name not in drugs else None)
            if name not in drugs:
                drugs.append(name)

    flat = [axes[r][c] for r in range(nrows) for c in range(ncols)]
    titles = []
    for n, (title, unit, sps) in enumerate(panels):
        ax = flat[n]
        series = []
        for i, sp in enumerate(sps):
            for j, sc in enumerate(chosen):
                y = data.get((sp, sc, stat))
                if y is None:
                    continue
                label = sp if len(chosen) == 1 else f"{sp} ({sc})"
                ax.plot(t, y, color=colours[i % len(colours)], ls=LINE_STYLES[j % len(LINE_STYLES)],
                        marker=marker, label=label)
                series.append(y)
        log = log_all or (not linear_all and spans_decades(series))
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(f"{stat} [{unit or 'unit?'}]")
        ax.set_title(title, loc="left", fontsize=10)
        titles.append(title + (" (log)" if log else ""))
        mark_events(ax, n == 0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best", ncol=2 if len(sps) * len(chosen) > 6 else 1)
    if has_dose:
        ax = flat[len(panels)]
        for i, q in enumerate(DOSE_QUANTITIES):
            for j, sc in enumerate(chosen):
                y = doses.get((q, sc, "mean"))
                if y is not None:
                    label = q if len(chosen) == 1 else f"{q} ({sc})"
                    ax.plot(t, y, color=colours[i % len(colours)], ls=LINE_STYLES[j % len(LINE_STYLES)],
                            marker=marker, label=label)
        ax.set_ylabel("mean [Gy]")
        ax.set_title("cumulative dose", loc="left", fontsize=10)
        titles.append("cumulative dose")
        mark_events(ax, not panels)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in flat[npanels:]:
        ax.set_visible(False)
    for c in range(ncols):  # x labels under the lowest visible panel of each column
        for r in reversed(range(nrows)):
            if r * ncols + c < npanels:
                axes[r][c].set_xlabel(f"time [{tunit}]")
                axes[r][c].xaxis.set_tick_params(labelbottom=True)
                break
    fig.suptitle(f"{os.path.basename(run_dir)}: {stat} over {', '.join(chosen)}")
    fig.tight_layout()
    return fig, {"titles": titles, "npanels": npanels, "fractions": fractions,
                 "drug_doses": [d for d in drug_doses if d[0] <= times[-1]], "times": times,
                 "scopes": chosen}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run directory (with observables.csv) or the CSV file itself")
    ap.add_argument("--stat", choices=STATS, default="mean", help="statistic to plot (default: mean)")
    ap.add_argument("--species", nargs="+", help="species to plot, with or without unit (default: all)")
    ap.add_argument("--regions", nargs="+",
                    help="scopes to plot: grid and/or region names (default: the first observed region)")
    scale = ap.add_mutually_exclusive_group()
    scale.add_argument("--log", action="store_true", help="logarithmic y axes everywhere")
    scale.add_argument("--linear", action="store_true", help="linear y axes everywhere")
    ap.add_argument("--out", help="output image (.png, .pdf, .svg); default RUN/observables_<stat>.png")
    ap.add_argument("--show", action="store_true", help="open a window instead of saving")
    a = ap.parse_args()

    path = find_csv(a.run)
    if not a.show:
        use_agg()
    fig, info = draw(path, a.stat, a.species, a.regions, a.log, a.linear)
    if a.show:
        pyplot().show()
        return
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(path)), f"observables_{a.stat}.png")
    fig.savefig(out, dpi=DPI)
    w, h = (int(round(x * DPI)) for x in fig.get_size_inches())
    print(f"{out}: {info['npanels']} panels ({'; '.join(info['titles'])}), {w}x{h} px, "
          f"{len(info['fractions'])} fractions and {len(info['drug_doses'])} drug doses marked")


if __name__ == "__main__":
    main()
