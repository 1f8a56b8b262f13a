// Dose maps: analytic targets with an error-function penumbra, dose images
// (.vti, .mha/.mhd, .nrrd/.nhdr through VTK; DICOM RT Dose through DCMTK) and trilinear
// resampling onto a lesion grid in world coordinates. Host only.
//
// Units: length [um] (DICOM mm are converted on reading), dose [Gy].
// Voxel-centre convention (tmesim grids and ImageMap alike): the value of voxel (i, j, k)
// sits at origin + (i + 0.5, j + 0.5, k + 0.5) * h, origin being the lower corner of voxel
// (0, 0, 0). read_image_map and read_rt_dose return maps in this convention (point-data images
// and DICOM positions, which give the centres, are shifted by h/2). See docs/radiotherapy.md.
#pragma once
#include <string>
#include <vector>

#include "host/core/problem.hpp"
#include "host/io/vtk_io.hpp"

namespace tme {
namespace rt {

// ---- analytic dose ---------------------------------------------------------------------------

enum class TargetShape { Sphere, Box, Ellipsoid };

// One target. The dose it adds at a point is prescription_Gy * P(x), where P is 1 deep inside,
// 0 far outside and 1/2 on the surface:
//   sphere:    P = 1/2 erfc(s / (sqrt(2) sigma)), s = |x - c| - radius (signed distance);
//   ellipsoid: same, s = |x - c| (1 - 1/rho), rho = sqrt(sum ((x_a - c_a) / a_a)^2), i.e. the
//              distance along the ray from the centre (exact for a sphere);
//   box:       P = prod_a 1/2 [erf((x_a - lo_a) / (sqrt(2) sigma)) - erf((x_a - hi_a) /
//              (sqrt(2) sigma))], the box convolved with an isotropic Gaussian.
// sigma = penumbra_um / (2 * 0.8416212...) = penumbra_um / 1.6832424: penumbra_um is the
// 80%-20% distance of the profile across a flat edge. penumbra_um = 0: sharp edge (P = 1
// inside, 0 outside, 1/2 exactly on the surface).
struct Target {
  TargetShape shape = TargetShape::Sphere;
  double center_um[3] = {0, 0, 0};
  double radius_um = 0;                // sphere radius [um]
  double half_size_um[3] = {0, 0, 0};  // box half widths / ellipsoid semi-axes [um]
  double prescription_Gy = 0;          // dose deep inside [Gy]
  double penumbra_um = 0;              // 80%-20% width [um]; 0 = sharp
};

// Dose = background_Gy + sum over targets (targets and background add up).
struct AnalyticDose {
  std::vector<Target> targets;
  double background_Gy = 0;  // [Gy], everywhere
};

// sigma [um] of the Gaussian penumbra whose 80%-20% distance is penumbra_um.
double penumbra_sigma(double penumbra_um);

// Throws std::invalid_argument("target N: ...") for a non-positive size, negative penumbra or
// non-finite value (N counts from 1).
void check_analytic_dose(const AnalyticDose& a);

// Dose [Gy] at world point x [um].
double analytic_dose_at(const AnalyticDose& a, const double x_um[3]);

// Dose [Gy] at every voxel centre of g (nvox, x fastest), times scale. Checks a first.
std::vector<double> analytic_dose(const GridSpec& g, const AnalyticDose& a, double scale = 1.0);

// ---- images ----------------------------------------------------------------------------------

enum class OutsidePolicy {
  Fill,   // voxels whose centre lies outside the image's footprint get `fill` (default 0 Gy)
  Error,  // any such voxel is an error (std::runtime_error naming the first one)
};

struct ResampleOptions {
  double scale = 1.0;  // multiplies every value (e.g. 1 / n_fractions for a total-dose map)
  OutsidePolicy outside = OutsidePolicy::Fill;
  double fill = 0.0;  // [Gy], for OutsidePolicy::Fill (not scaled)
};

// Values of `img` at the voxel centres of `g`, trilinear between image voxel centres.
// Footprint: the image's voxels, [origin, origin + n h] per axis (with a relative slack of
// 1e-9 h for round-off). Inside the footprint but beyond the outermost voxel centres (the
// half-voxel rim) the value is held constant (the index is clamped to the outermost centre).
// A linear field is reproduced to round-off between the outermost centres.
// Throws std::invalid_argument for an image whose size does not match its dims, and
// std::runtime_error("dose map: grid voxel (i, j, k) at (x, y, z) um lies outside the image
// [x0, x1] x [y0, y1] x [z0, z1] um") under OutsidePolicy::Error.
std::vector<double> resample_trilinear(const ImageMap& img, const GridSpec& g,
                                       const ResampleOptions& opt = ResampleOptions());

// Trilinear value at one world point [um] (same rules; returns fill outside with Fill).
double sample_trilinear(const ImageMap& img, const double x_um[3], const ResampleOptions& opt = ResampleOptions());

// ---- DICOM RT Dose ---------------------------------------------------------------------------

struct RtDose {
  ImageMap map;                  // dose [Gy] (DoseGridScaling applied), geometry in um
  std::string summation_type;    // DoseSummationType, e.g. "PLAN", "FRACTION", "BEAM"
  std::string dose_type;         // DoseType, e.g. "PHYSICAL" ("" when absent)
  double dose_grid_scaling = 1;  // DoseGridScaling [Gy per stored unit]
  int bits_allocated = 16;       // 16 or 32
  bool offsets_relative = true;  // GridFrameOffsetVector started at 0 (relative to IPP z)
  bool frames_reversed = false;  // offsets were decreasing: frames were put in z order
};

// Reads a DICOM RT Dose file. Accepted: Modality RTDOSE (when present), SamplesPerPixel 1,
// BitsAllocated 16 or 32 with BitsStored equal and PixelRepresentation 0 (unsigned),
// uncompressed little-endian pixel data, ImageOrientationPatient (1,0,0,0,1,0) within 1e-4,
// GridFrameOffsetVector (required with more than one frame; relative when its first value is
// 0, else absolute z and then its first value must equal ImagePositionPatient z within
// 1e-3 mm) evenly spaced (1e-3 relative) increasing or decreasing, DoseUnits GY.
// Geometry: x along columns (spacing PixelSpacing[1]), y along rows (PixelSpacing[0]), z along
// frames; ImagePositionPatient is the centre of the first voxel; a single frame takes its
// z spacing from SliceThickness, else 1 mm. mm -> um.
// Throws std::runtime_error("<path>: <what is wrong>"), e.g. "<path>: no such file",
//   "<path>: cannot read DICOM file (<DCMTK's reason>)",
//   "<path>: missing DICOM attribute DoseGridScaling (3004,000E)".
// Silences DCMTK's "dcmtk.dcmdata" logger (process-wide) so parse problems reach only the
// exception, not stderr.
RtDose read_rt_dose(const std::string& path);

// True when the file starts with a DICOM preamble ("DICM" at byte 128) or has the extension
// .dcm (any case).
bool looks_like_dicom(const std::string& path);

// A dose image from any supported file: DICOM RT Dose (looks_like_dicom) or read_image_map
// (`array` selects the array there; ignored for DICOM). summation_type is set for DICOM, ""
// otherwise.
struct DoseImage {
  ImageMap map;
  std::string format;          // "dicom", "vti", "mha", "mhd", "nrrd", "nhdr"
  std::string summation_type;  // DICOM only
};
DoseImage read_dose_image(const std::string& path, const std::string& array = "");

}  // namespace rt
}  // namespace tme
