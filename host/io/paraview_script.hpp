// The pvpython script written into each run directory (open_in_paraview.py): it opens the
// run's volume series in ParaView with a slice through the tumour centre coloured by a field
// (colour bar titled with the array's unit), the region outlines, the dose contours when the
// run has radiotherapy, and the time shown in the scene's output time unit.
#pragma once
#include <string>
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

struct ParaviewScriptInfo {
  std::string pvd = "fields.pvd";         // the series, relative to the script
  std::string color_by;                   // cell array the slice is coloured by, e.g. "T [cells/mm^3]"
  std::vector<std::string> fields;        // every species array of the volumes (with units)
  std::vector<std::string> region_masks;  // uint8 mask arrays ("region_tumour", ...)
  std::string centre_from;                // what the slice centre is: "region 'tumour'" or "grid"
  double centre[3] = {0, 0, 0};           // slice origin [um]
  std::string dose_array;                 // "dose [Gy]" or empty (no radiotherapy)
  std::vector<double> dose_levels;        // contour values [Gy], ascending
  std::string time_unit = "s";            // of the series' times
};

// The slice centre and its description: the centroid of the region named tumour or tumor
// (else the first region, else none) of `regions`, or the grid centre.
void slice_centre(const GridSpec& g, const std::vector<NamedMask>& regions, double centre[3], std::string* from);

// The text of the script (Python 3, paraview.simple).
std::string paraview_script(const ParaviewScriptInfo& info);

// Quotes `s` as a Python string literal (double quotes, backslash escapes).
std::string python_quote(const std::string& s);

}  // namespace tme
