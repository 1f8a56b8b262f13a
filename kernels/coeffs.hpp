// Plain-data coefficients the per-voxel functions read. No strings, no owners.
// Internal units: length um, time s, concentration in each species' own unit.
#pragma once
#include "boundary.hpp"
#include "view.hpp"

namespace tme {

constexpr int kMaxLabels = 16;   // tissue labels 0..15 (uint8 map, 1 byte per voxel)
constexpr int kMaxSpecies = 64;  // species per scene

// Per-species coefficients (about 120 bytes).
struct SpeciesCoeffs {
  real D[kMaxLabels] = {};  // diffusion coefficient per tissue label [um^2/s]
  int uses_labels = 0;      // 0: D[0] everywhere; 1: D[label(voxel)], harmonic mean at faces
  real decay = 0;           // first-order decay [1/s]
  real km = 1;              // Michaelis-Menten half saturation [species unit]
  int src_slot = -1;        // index of this species' zeroth-order source block, -1 none
  int upt_slot = -1;        // index of this species' uptake Vmax block, -1 none
  int hold_slot = -1;       // index of this species' held-value block (NaN = free voxel), -1 none
  FaceBC bc[6];             // x-, x+, y-, y+, z-, z+ (Face); kinds in boundary.hpp
};

TME_HD inline bool axis_periodic(const SpeciesCoeffs& sc, int axis) { return axis_periodic(sc.bc, axis); }

// Grid geometry seen by the kernels.
struct GridGeom {
  Dims d;
  real inv_h2[3] = {1, 1, 1};  // 1/dx^2, 1/dy^2, 1/dz^2 [1/um^2]
};

}  // namespace tme
