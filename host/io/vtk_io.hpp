// VTK image I/O: cell-data .vti volumes (XML, appended binary, zlib), .pvd collections,
// and reading scalar maps from .vti, MetaImage (.mha/.mhd) and NRRD files.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

struct ArrayOut {
  std::string name;  // as shown in ParaView, with unit: "IFNg [ng/mL]"
  const real* data;  // nvox values, x fastest
};

// Write one volume: grid as vtkImageData (cells = voxels, spacing and origin in um), cell
// arrays, a "TimeValue" field array [s]. Writes path + ".tmp" then renames. Throws on failure.
void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays, double time_s);

// Compressor of the appended binary data. ZLib: the default above, smallest files. LZ4: about
// 10x faster to write (256x256x128 x 2 float arrays: 0.15 s vs 1.7 s) for ~20% larger files.
// None: raw. ParaView and VTK >= 8 read all three.
enum class VtiCompression { None, ZLib, LZ4 };
void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays, double time_s,
               VtiCompression compression);

// Write a ParaView collection: (time [s], file name relative to the .pvd) pairs. Atomic.
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
