// One-cell reaction terms of the engine: first-order decay, zeroth-order sources,
// Michaelis-Menten uptake. All return a rate [species unit / s].
#pragma once
#include "coeffs.hpp"
#include "state_check.hpp"

namespace tme {

TME_HD inline real decay_rate(real c, real k) { return -k * c; }

// Michaelis-Menten uptake: -Vmax c / (Km + c); zero for c <= 0, NaN for NaN.
TME_HD inline real mm_uptake_rate(real c, real vmax, real km) {
  const real cp = clamp_nonneg(c);  // branch-free selects (vectorise)
  return -vmax * cp / (km + cp);
}

// Upper bound of -d(rate)/dc of the reaction terms, for the explicit step limit.
TME_HD inline real reaction_stiffness(real decay, real vmax, real km) {
  return decay + (vmax > 0 ? vmax / km : real(0));
}

// Reaction part of dc/dt at one voxel. `src` and `vmax` are this voxel's source rate
// [unit/s] and uptake Vmax [unit/s] (0 where the species has none).
TME_HD inline real reaction_rhs(real c, const SpeciesCoeffs& sc, real src, real vmax) {
  return src + decay_rate(c, sc.decay) + mm_uptake_rate(c, vmax, sc.km);
}

}  // namespace tme
