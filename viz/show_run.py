"""Render a mid-z slice of a tmesim run to a PNG with ParaView (pvpython).

usage:
  pvpython viz/show_run.py RUN_DIR [--array NAME] [--png out.png] [--time T] [--z Z]
                           [--size 1200x900] [--range LO HI] [--log]

Opens RUN_DIR/*.pvd (fields.pvd) as a time series, slices it at mid-z (the centre of the
middle voxel layer, or --z Z in um), colours the slice by the cell array NAME (default: the
first array; with or without its unit: "IFNg" or "IFNg [ng/mL]") at the last time (or the
output time closest to --time T, in the run's time unit: output.time_unit, seconds by
default), and saves a PNG (default RUN_DIR/<array>_slice.png).

Headless: pvpython --force-offscreen-rendering viz/show_run.py ...  or  xvfb-run -a pvpython ...
(scripts/render-run does the latter, installing ParaView on Debian when it is missing).
"""
import argparse
import glob
import os
import re
import sys

# pvpython puts its install prefix's dist-packages first; when ParaView's Python modules live
# elsewhere (scripts/render-run unpacks them into a private prefix because Debian's
# python3-paraview conflicts with python3-vtk9), the VTK 9.1 modules there would shadow
# ParaView's. Entries of PYTHONPATH therefore go first.
for _p in reversed([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]):
    if _p in sys.path:
        sys.path.remove(_p)
    sys.path.insert(0, _p)

try:
    from paraview import simple as pv
except ImportError:
    sys.exit("show_run.py: run it with ParaView's pvpython (no 'paraview' module in "
             f"{sys.executable}); see viz/README.md")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", help="run directory with a .pvd collection (or the .pvd itself)")
    ap.add_argument("--array", help="cell array to show, with or without its unit (default: the first)")
    ap.add_argument("--png", help="output image (default RUN_DIR/<array>_slice.png)")
    ap.add_argument("--time", type=float, help="time in the series' unit (default: the last output)")
    ap.add_argument("--z", type=float, help="slice height [um] (default: middle voxel layer)")
    ap.add_argument("--size", default="1200x900", help="image size WxH (default 1200x900)")
    ap.add_argument("--range", type=float, nargs=2, metavar=("LO", "HI"), help="colour range")
    ap.add_argument("--log", action="store_true", help="logarithmic colour scale")
    return ap.parse_args()


def find_pvd(path):
    if os.path.isfile(path) and path.endswith(".pvd"):
        return path
    if not os.path.isdir(path):
        sys.exit(f"show_run.py: {path}: no such directory")
    pvds = sorted(glob.glob(os.path.join(path, "*.pvd")))
    if not pvds:
        sys.exit(f"show_run.py: {path}: no .pvd file in this directory")
    if len(pvds) > 1:
        print(f"show_run.py: several .pvd files, using {os.path.basename(pvds[0])}", file=sys.stderr)
    return pvds[0]


def main():
    a = parse_args()
    try:
        width, height = (int(x) for x in a.size.lower().split("x"))
    except ValueError:
        sys.exit(f"show_run.py: --size '{a.size}': expected WxH, e.g. 1200x900")
    pvd = find_pvd(a.run_dir)
    run_dir = os.path.dirname(os.path.abspath(pvd))

    reader = pv.PVDReader(FileName=pvd)
    reader.UpdatePipelineInformation()
    tv = reader.TimestepValues
    try:
        times = [float(x) for x in tv]
    except TypeError:  # a single time step comes as a number
        times = [float(tv)] if tv is not None else []
    if not times:
        times = [0.0]
    if a.time is None:
        t = times[-1]
    else:
        t = min(times, key=lambda x: abs(x - a.time))
    reader.UpdatePipeline(t)

    arrays = list(reader.CellData.keys())
    if not arrays:
        sys.exit(f"show_run.py: {pvd}: no cell arrays")
    array = resolve_array(a.array, arrays) if a.array else first_array_in_file(pvd, arrays)

    info = reader.GetDataInformation()
    b = info.GetBounds()
    ext = info.GetExtent()
    nz = ext[5] - ext[4]
    if a.z is not None:
        z = a.z
    elif nz > 0:
        hz = (b[5] - b[4]) / nz
        z = b[4] + (nz // 2 + 0.5) * hz  # centre of the middle voxel layer
    else:
        z = b[4]
    cx, cy = 0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])

    sl = pv.Slice(Input=reader)
    sl.SliceType = "Plane"
    sl.SliceType.Origin = [cx, cy, z]
    sl.SliceType.Normal = [0.0, 0.0, 1.0]
    if hasattr(sl, "Triangulatetheslice"):
        sl.Triangulatetheslice = 0

    view = pv.CreateView("RenderView")
    view.ViewSize = [width, height]
    view.ViewTime = t
    view.Background = [1.0, 1.0, 1.0]
    if hasattr(view, "UseColorPaletteForBackground"):
        view.UseColorPaletteForBackground = 0
    view.OrientationAxesVisibility = 1

    disp = pv.Show(sl, view)
    pv.ColorBy(disp, ("CELLS", array))
    lut = pv.GetColorTransferFunction(array)
    if a.range:
        lut.RescaleTransferFunction(a.range[0], a.range[1])
    else:
        disp.RescaleTransferFunctionToDataRange(False, True)
    if a.log:
        lo = lut.RGBPoints[0] if lut.RGBPoints else 0.0
        if lo <= 0:
            rng = sl.CellData[array].GetRange()
            hi = max(rng[1], 1e-30)
            lut.RescaleTransferFunction(max(hi * 1e-6, 1e-30), hi)
        lut.UseLogScale = 1
    disp.SetScalarBarVisibility(view, True)
    bar = pv.GetScalarBar(lut, view)
    bar.Title = array
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]

    label = pv.Text(Text=f"{os.path.basename(run_dir)}   t = {fmt_time(t, series_time_unit(run_dir))}   z = {z:g} um")
    ldisp = pv.Show(label, view)
    ldisp.Color = [0.1, 0.1, 0.1]
    ldisp.FontSize = 14
    ldisp.WindowLocation = "Upper Left Corner"

    view.InteractionMode = "2D"
    view.CameraFocalPoint = [cx, cy, z]
    view.CameraPosition = [cx, cy, z + 10 * max(b[1] - b[0], b[3] - b[2], 1.0)]
    view.CameraViewUp = [0.0, 1.0, 0.0]
    view.ResetCamera()
    pv.Render(view)

    png = a.png or os.path.join(run_dir, safe_name(array) + "_slice.png")
    pv.SaveScreenshot(png, view, ImageResolution=[width, height])
    print(png)


def resolve_array(name, arrays):
    """The cell array NAME names: itself, or the one whose name without its unit is NAME
    ("T" for "T [cells/mm^3]"; "T [cells/mm^3]" as written works too)."""
    if name in arrays:
        return name
    short = re.sub(r"\s*\[[^\]]*\]\s*$", "", name.strip())
    hits = [x for x in arrays if re.sub(r"\s*\[[^\]]*\]\s*$", "", x) == short]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        sys.exit(f"show_run.py: '{name}' names several arrays ({', '.join(hits)}); give the unit too")
    sys.exit(f"show_run.py: no array '{name}' (found: {', '.join(arrays)})")


def first_array_in_file(pvd, arrays):
    """The first cell array in the first volume's header (ParaView lists them sorted)."""
    try:
        with open(pvd) as f:
            m = re.search(r'<DataSet[^>]*\bfile="([^"]+)"', f.read())
        with open(os.path.join(os.path.dirname(os.path.abspath(pvd)), m.group(1)), "rb") as f:
            head = f.read(65536).decode("latin-1").split("<AppendedData", 1)[0]
        cells = head.split("<CellData", 1)[1].split("</CellData>", 1)[0]
        for name in re.findall(r'<DataArray[^>]*\bName="([^"]*)"', cells):
            name = name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            if name in arrays:
                return name
    except (OSError, AttributeError, IndexError):
        pass
    return arrays[0]


def series_time_unit(run_dir):
    """The unit of the series' times: output.time_unit of the run's resolved scene (s, h, d)."""
    try:
        with open(os.path.join(run_dir, "scene.resolved.yaml")) as f:
            m = re.search(r"^output:\n(?:  .*\n)*?  time_unit: (\w+)", f.read(), re.M)
        return m.group(1) if m else "s"
    except OSError:
        return "s"


def fmt_time(t, unit="s"):
    if unit != "s":
        return f"{t:.4g} {unit}"
    for scale, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if abs(t) >= 3 * scale:
            return f"{t / scale:.4g} {unit}"
    return f"{t:.4g} s"


def safe_name(s):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "array"


if __name__ == "__main__":
    main()
