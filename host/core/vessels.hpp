// Generated capillary networks: reproducible vessel surface-density maps.
//
// Vessels are straight cylinders of radius r on an isotropic Poisson line process (directions
// uniform on the sphere, lines uniform in space) with length density Lv = 1 / spacing^2
// [um vessel per um^3]; a square array of parallel vessels at that spacing has the same Lv.
// Each voxel gets the vessel surface per tissue volume S/V = 2 pi r * (centre-line length
// inside the voxel) / voxel volume [1/um], rasterised exactly by a 3D DDA
// (Amanatides-Woo), so the mean S/V over a large box approaches 2 pi r / spacing^2.
//
// Reproducible on every platform: std::mt19937_64 with an explicit conversion to [0,1),
// rejection sampling for directions and disc points and a Poisson count built from
// multiplications only; the only library function used is the correctly rounded sqrt.
#pragma once
#include <cstdint>
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

struct VesselSpec {
  double mean_spacing_um = 0;  // mean distance between neighbouring vessels [um]; Lv = 1/spacing^2
  double radius_um = 5;        // capillary radius [um]
  unsigned long long seed = 0;
};

// S/V [1/um] per voxel (nvox values, x fastest). Voxels with exclude[v] != 0 (necrotic or
// avascular regions; exclude may be null, else nvox bytes) get 0; the rest do not depend on
// the mask. *total_length_um (if given) receives the total centre-line length inside the grid
// box [um], excluded voxels included. Throws std::invalid_argument for spacing <= 0,
// radius <= 0, radius >= spacing / 2, or a grid of zero size or non-positive spacing.
std::vector<double> generate_vessel_surface(const GridSpec& g, const VesselSpec& s, const uint8_t* exclude = nullptr,
                                            double* total_length_um = nullptr);

// Adds to len_um[v] (nvox values) the length [um] of the segment p0-p1 [um, world
// coordinates] inside voxel v, for the part of the segment inside the grid box. Returns the
// clipped length [um] (0 when the segment misses the box). Exposed for tests.
double rasterise_segment(const GridSpec& g, const double p0[3], const double p1[3], std::vector<double>& len_um);

}  // namespace tme
