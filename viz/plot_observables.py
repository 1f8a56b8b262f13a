#!/usr/bin/python3
"""Plot the observables of a tmesim run (RUN_DIR/observables.csv) against time.

The CSV has a column time_s, then one column per species, region and statistic:
<species>.<region>.total|mean|min|max (region 'grid' is the whole grid). 'total' is the
integral over the volume [unit * um^3]; mean, min and max are in the species' unit.

usage:
  /usr/bin/python3 viz/plot_observables.py RUN_DIR_or_CSV [--stat mean] [--species A B]
                                           [--regions grid tumor] [--log] [--out plot.png]

One panel per species, one line per region. Without --out the plot is saved next to the CSV
as observables_<stat>.png (use --show to open a window instead). Needs matplotlib
(Debian: apt-get install python3-matplotlib).
"""
import argparse
import csv
import glob
import os
import re
import sys

STATS = ("total", "mean", "min", "max")


def find_csv(path):
    if os.path.isdir(path):
        p = os.path.join(path, "observables.csv")
        if not os.path.isfile(p):
            sys.exit(f"plot_observables: {path}: no observables.csv in this directory")
        return p
    if not os.path.isfile(path):
        sys.exit(f"plot_observables: {path}: no such file or directory")
    return path


def read_observables(path):
    """Returns (times, {(species, region, stat): [values]}, [species in order], [regions in order])."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    if not rows:
        sys.exit(f"plot_observables: {path}: empty file")
    header = [h.strip() for h in rows[0]]
    if header[0] != "time_s":
        sys.exit(f"plot_observables: {path}: first column is '{header[0]}', expected 'time_s'")
    cols = {}
    species, regions = [], []
    for i, name in enumerate(header[1:], start=1):
        parts = name.rsplit(".", 2)
        if len(parts) != 3 or parts[2].split(" ")[0] not in STATS:
            print(f"plot_observables: ignoring column '{name}'", file=sys.stderr)
            continue
        sp, rg, st = parts[0], parts[1], parts[2].split(" ")[0]
        cols[(sp, rg, st)] = i
        if sp not in species:
            species.append(sp)
        if rg not in regions:
            regions.append(rg)
    times, data = [], {k: [] for k in cols}
    for n, r in enumerate(rows[1:], start=2):
        if len(r) < len(header):
            print(f"plot_observables: {path}: line {n} is incomplete, stopping there", file=sys.stderr)
            break
        try:
            t = float(r[0])
            vals = {k: float(r[i]) for k, i in cols.items()}
        except ValueError as e:
            sys.exit(f"plot_observables: {path}: line {n}: {e}")
        times.append(t)
        for k, v in vals.items():
            data[k].append(v)
    return times, data, species, regions


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


def time_axis(times):
    """Pick a readable time unit: (scale factor, label)."""
    tmax = max(times) if times else 0.0
    for scale, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if tmax >= 3 * scale:
            return scale, unit
    return 1.0, "s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run directory (with observables.csv) or the CSV file itself")
    ap.add_argument("--stat", choices=STATS, default="mean", help="statistic to plot (default: mean)")
    ap.add_argument("--species", nargs="+", help="species to plot (default: all)")
    ap.add_argument("--regions", nargs="+", help="regions to plot (default: all)")
    ap.add_argument("--log", action="store_true", help="logarithmic y axis")
    ap.add_argument("--out", help="output image (.png, .pdf, .svg); default RUN/observables_<stat>.png")
    ap.add_argument("--show", action="store_true", help="open a window instead of saving")
    a = ap.parse_args()

    path = find_csv(a.run)
    times, data, species, regions = read_observables(path)
    if not times:
        sys.exit(f"plot_observables: {path}: no data rows yet")
    for name, wanted, have in (("species", a.species, species), ("region", a.regions, regions)):
        for w in wanted or []:
            if w not in have:
                sys.exit(f"plot_observables: no {name} '{w}' in {path} (found: {', '.join(have)})")
    species = a.species or species
    regions = a.regions or regions

    try:
        import matplotlib
    except ImportError:
        sys.exit("plot_observables: matplotlib is not installed for this Python "
                 f"({sys.executable}); on Debian: apt-get install python3-matplotlib")
    if not a.show:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    units = species_units(os.path.dirname(os.path.abspath(path)))
    scale, tunit = time_axis(times)
    t = [x / scale for x in times]
    fig, axes = plt.subplots(len(species), 1, sharex=True, squeeze=False,
                             figsize=(8, 2.6 * len(species) + 0.8))
    for ax, sp in zip(axes[:, 0], species):
        for rg in regions:
            key = (sp, rg, a.stat)
            if key in data:
                ax.plot(t, data[key], label=rg, marker="." if len(t) < 40 else None)
        ax.set_title(sp, loc="left", fontsize=10)
        u = units.get(sp, "unit")
        ax.set_ylabel(f"{a.stat} [{u}·µm³]" if a.stat == "total" else f"{a.stat} [{u}]")
        if a.log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    axes[-1, 0].set_xlabel(f"time [{tunit}]")
    fig.suptitle(f"{os.path.basename(os.path.dirname(os.path.abspath(path)))}: {a.stat}")
    fig.tight_layout()
    if a.show:
        plt.show()
        return
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(path)), f"observables_{a.stat}.png")
    fig.savefig(out, dpi=120)
    print(out)


if __name__ == "__main__":
    main()
