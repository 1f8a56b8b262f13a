#include "host/io/paraview_script.hpp"

#include <cstdio>
#include <sstream>

#include "host/io/number_text.hpp"

namespace tme {
namespace {

std::string py_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + python_quote(v[i]);
  return s + "]";
}

std::string py_list(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + real_text(v[i]);
  return s + "]";
}

// The body of the script: everything below the run's constants. Written for ParaView 5.9 to
// 5.11 (paraview.simple); the time annotation's format changed in 5.10 and both are handled.
const char* const kBody = R"PY(
import os
import sys

# pvpython puts its own prefix's modules first; ParaView's modules unpacked elsewhere
# (scripts/render-run) come through PYTHONPATH, which therefore goes first.
for _p in reversed([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]):
    if _p in sys.path:
        sys.path.remove(_p)
    sys.path.insert(0, _p)

from paraview.simple import *  # noqa: E402,F401,F403 (pvpython's own namespace)


def here():
    try:
        return os.path.dirname(os.path.abspath(__file__))
    except NameError:  # run from the GUI's Python shell without a file name
        return os.getcwd()


def arg(name, default=None):
    argv = sys.argv[1:] if hasattr(sys, "argv") else []
    if name in argv and argv.index(name) + 1 < len(argv):
        return argv[argv.index(name) + 1]
    return default


reader = PVDReader(registrationName=PVD, FileName=os.path.join(here(), PVD))
scene = GetAnimationScene()
scene.UpdateAnimationUsingDataTimeSteps()
view = GetActiveViewOrCreate("RenderView")

# The grid's outline.
outline = Show(reader, view)
outline.SetRepresentationType("Outline")
outline.ColorArrayName = ["POINTS", ""]  # a plain outline

# A slice through the centre, coloured by a field over its whole range in time.
plane = Slice(registrationName="slice z", Input=reader)
plane.SliceType = "Plane"
plane.SliceType.Origin = CENTRE
plane.SliceType.Normal = [0.0, 0.0, 1.0]
shown = Show(plane, view)
ColorBy(shown, ("CELLS", COLOR_BY))
lut = GetColorTransferFunction(COLOR_BY)
lut.ApplyPreset("Viridis (matplotlib)", True)
try:
    shown.RescaleTransferFunctionToDataRangeOverTime()
except Exception:
    shown.RescaleTransferFunctionToDataRange(True, False)
shown.SetScalarBarVisibility(view, True)
bar = GetScalarBar(lut, view)
bar.Title = COLOR_BY  # the array name carries its unit: "T [cells/mm^3]"
bar.ComponentTitle = ""
bar.WindowLocation = "Upper Right Corner"

# Point data for contours (the volumes hold cell data: one value per voxel).
points = CellDatatoPointData(registrationName="point data", Input=reader)


def outline_on_slice(name, array, levels, color):
    surface = Contour(registrationName=name, Input=points)
    surface.ContourBy = ["POINTS", array]
    surface.Isosurfaces = levels
    cut = Slice(registrationName=name + " on slice", Input=surface)
    cut.SliceType = "Plane"
    cut.SliceType.Origin = CENTRE
    cut.SliceType.Normal = [0.0, 0.0, 1.0]
    lines = Show(cut, view)
    lines.ColorArrayName = ["POINTS", ""]
    lines.AmbientColor = color
    lines.DiffuseColor = color
    lines.LineWidth = 2.0
    return lines


# Region outlines (white) where the 0/1 masks cross 0.5.
for mask in REGION_MASKS:
    outline_on_slice(mask + " outline", mask, [0.5], [1.0, 1.0, 1.0])

# Isodose lines (red) of the cumulative physical dose.
if DOSE_ARRAY and DOSE_LEVELS:
    outline_on_slice("isodose " + ", ".join("%g" % d for d in DOSE_LEVELS) + " Gy", DOSE_ARRAY,
                     DOSE_LEVELS, [1.0, 0.2, 0.2])

# The time in the scene's output unit.
clock = AnnotateTimeFilter(registrationName="time", Input=reader)
if GetParaViewVersion() >= (5, 10):
    clock.Format = "t = {time:.3g} " + TIME_UNIT
else:
    clock.Format = "t = %.3g " + TIME_UNIT
Show(clock, view)

view.CameraPosition = [CENTRE[0], CENTRE[1], CENTRE[2] + 1.0]
view.CameraFocalPoint = CENTRE
view.CameraViewUp = [0.0, 1.0, 0.0]
view.CameraParallelProjection = 1  # the slice seen flat, as a map
view.ResetCamera()

times = list(reader.TimestepValues) if reader.TimestepValues else [0.0]
when = arg("--time")
scene.AnimationTime = float(when) if when is not None else times[-1]
Render(view)
shot = arg("--screenshot")
if shot:
    SaveScreenshot(shot, view, ImageResolution=[1200, 900])
elif "--interact" in sys.argv:
    Interact(view)
)PY";

}  // namespace

std::string python_quote(const std::string& s) {
  std::string o = "\"";
  for (const unsigned char c : s) {
    if (c == '\\' || c == '"') {
      o += '\\';
      o += (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    } else {
      o += (char)c;
    }
  }
  return o + "\"";
}

void slice_centre(const GridSpec& g, const std::vector<NamedMask>& regions, double centre[3], std::string* from) {
  const NamedMask* r = nullptr;
  for (const NamedMask& m : regions)
    if (!r && (m.name == "tumour" || m.name == "tumor")) r = &m;
  if (!r && !regions.empty()) r = &regions[0];
  double sum[3] = {0, 0, 0};
  long long n = 0;
  if (r)
    for (int k = 0; k < g.d.nz; ++k)
      for (int j = 0; j < g.d.ny; ++j)
        for (int i = 0; i < g.d.nx; ++i)
          if (r->mask[g.d.index(i, j, k)]) {
            sum[0] += g.center(0, i), sum[1] += g.center(1, j), sum[2] += g.center(2, k);
            ++n;
          }
  if (n > 0) {
    for (int a = 0; a < 3; ++a) centre[a] = sum[a] / (double)n;
    if (from) *from = "the centroid of region '" + r->name + "'";
    return;
  }
  const int nd[3] = {g.d.nx, g.d.ny, g.d.nz};
  for (int a = 0; a < 3; ++a) centre[a] = g.origin[a] + 0.5 * nd[a] * g.h[a];
  if (from) *from = "the grid centre";
}

std::string paraview_script(const ParaviewScriptInfo& info) {
  std::ostringstream s;
  s << "# Opens this run in ParaView: a slice through " << info.centre_from << " coloured by " << info.color_by << ",\n"
    << "# the region outlines" << (info.dose_array.empty() ? "" : ", the isodose lines") << " and the time in "
    << info.time_unit << ". Written by tmesim.\n"
    << "#   paraview --script=open_in_paraview.py          (the GUI; or View > Python Shell > Run Script)\n"
    << "#   pvpython open_in_paraview.py --screenshot slice.png [--time T]   (T in " << info.time_unit
    << "; default: the last volume)\n"
    << "#   pvpython open_in_paraview.py --interact\n"
    << "#   scripts/render-run open_in_paraview.py --screenshot slice.png   (no display; from the tmesim sources)\n"
    << "# Colour by another field: change COLOR_BY to one of FIELDS.\n\n"
    << "PVD = " << python_quote(info.pvd) << "\n"
    << "FIELDS = " << py_list(info.fields) << "\n"
    << "COLOR_BY = " << python_quote(info.color_by) << "\n"
    << "CENTRE = [" << real_text(info.centre[0]) << ", " << real_text(info.centre[1]) << ", "
    << real_text(info.centre[2]) << "]  # um, " << info.centre_from << "\n"
    << "REGION_MASKS = " << py_list(info.region_masks) << "\n"
    << "DOSE_ARRAY = " << python_quote(info.dose_array) << "\n"
    << "DOSE_LEVELS = " << py_list(info.dose_levels) << "  # Gy\n"
    << "TIME_UNIT = " << python_quote(info.time_unit) << "\n"
    << kBody;
  return s.str();
}

}  // namespace tme
