// VTK image I/O: cell-data .vti volumes (XML, appended binary, zlib), .pvd collections,
// and reading scalar maps from .vti, MetaImage (.mha/.mhd) and NRRD files.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

struct ArrayOut {
  std::string name;  // as shown in ParaView, with unit: "IFNg [ng/mL]"
  const real* data;  // nvox values, x fastest
};

// A uint8 cell array: a region mask (1 inside) or the tissue label index, so that ParaView can
// threshold or contour it against the fields.
struct MaskOut {
  std::string name;     // e.g. "region_tumour", "tissue"
  const uint8_t* data;  // nvox bytes, x fastest
};

// What a volume says about itself in its field data, besides its arrays.
struct VolumeInfo {
  double time_value = 0;                 // "TimeValue", in time_unit (what ParaView shows as time)
  std::string time_unit = "s";           // "TimeUnit": s, h or d
  double time_s = 0;                     // "Time_s": the same time in seconds (exact run time)
  std::string length_unit = "um";        // "LengthUnit": of spacing and origin
  std::vector<std::string> label_names;  // "TissueLabels": name of each tissue label value
};

// Write one volume: grid as vtkImageData (cells = voxels, spacing and origin in um), cell
// arrays, a "TimeValue" field array [s] and the units (LengthUnit um, TimeUnit s). Writes
// path + ".tmp" then renames. Throws on failure.
void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays, double time_s);
// The same with uint8 cell arrays (masks) and the field data of `info`.
void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays,
               const std::vector<MaskOut>& masks, const VolumeInfo& info);

// Compressor of the appended binary data. ZLib: the default above, smallest files. LZ4: about
// 10x faster to write (256x256x128 x 2 float arrays: 0.15 s vs 1.7 s) for ~20% larger files.
// None: raw. ParaView and VTK >= 8 read all three.
enum class VtiCompression { None, ZLib, LZ4 };
void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays, double time_s,
               VtiCompression compression);
void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays,
               const std::vector<MaskOut>& masks, const VolumeInfo& info, VtiCompression compression);

// Write a ParaView collection: (time, file name relative to the .pvd) pairs; the time in the
// unit the volumes' TimeValue uses (ParaView takes the series' times from here). Atomic.
void write_pvd(const std::string& path, const std::vector<std::pair<double, std::string>>& entries);

// A scalar image read from a file, in world units (um).
struct ImageMap {
  Dims d;                        // cells (voxels) per axis
  double h[3] = {1, 1, 1};       // spacing [um]
  double origin[3] = {0, 0, 0};  // lower corner of voxel (0,0,0) [um]
  std::vector<double> values;    // nvox, x fastest
};

// Read array `array` (empty: the first scalar array) from a .vti, .mha, .mhd or .nrrd file.
// Point data of an image with N points per axis is taken as N voxels per axis; cell data of
// a .vti as is. Throws std::runtime_error("<path>: <what is wrong>"); the file must pass
// check_input_file (input_file.hpp), and declared sizes beyond 4 GiB or 2^30 values are
// refused before anything is allocated.
ImageMap read_image_map(const std::string& path, const std::string& array);

// Write `values` on grid g as a .vti (cell data, one array named `array`) — used by tests
// and tools to make map files.
void write_image_map_vti(const std::string& path, const GridSpec& g, const std::string& array,
                         const std::vector<double>& values);

}  // namespace tme
