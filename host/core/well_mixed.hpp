// The well-mixed mode: the same model on one voxel, as ordinary differential equations.
//
// well_mixed_problem turns a problem into a 1x1x1 one whose voxel stands for a part of the
// original grid (the whole grid, or a mask such as a scene region): every field starts at its
// volume mean over that part (vessel surface density included), map sources and uptake
// capacities are their means, each radiotherapy plan delivers its mean dose there, and the
// voxel has the part's volume, so totals stay comparable. Transport is gone: diffusion
// coefficients are 0, every face is no-flux and chemotaxis is dropped. Everything else, the
// reaction terms, crowding, drugs and blood inputs, fractions and the time control, is the
// problem's own and runs through the same code. A uniform 3D run (uniform state, uniform
// vessels, uniform dose, no-flux or periodic faces) equals it to round-off
// (tests/app/test_well_mixed.cpp).
//
// What a single voxel cannot keep: held values (interior Dirichlet voxels) are refused;
// fixed-value boundary faces are dropped (the mean ignores what they would bring in); LQ
// survival acts on the mean dose, not the mean of per-voxel survivals; regions become 1 where
// more than half of the averaged voxels lie in them (0 elsewhere), so a region total is the
// voxel's when the averaged part is mostly inside the region.
#pragma once
#include <cstdint>
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

// `over`: nvox flags (nonzero: averaged), or nullptr for the whole grid. Throws
// std::invalid_argument for an empty `over` or a problem with held values.
Problem well_mixed_problem(const Problem& p, const uint8_t* over = nullptr);

// A mask of p's grid (nvox) reduced to the well-mixed voxel: 1 when more than half of the
// averaged voxels lie in it.
std::vector<uint8_t> well_mixed_mask(const Problem& p, const uint8_t* over, const std::vector<uint8_t>& mask);

}  // namespace tme
