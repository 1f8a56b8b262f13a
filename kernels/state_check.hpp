// One-value guards shared by the kernels and the state check: a clamp at zero that keeps NaN
// (so that a NaN reaches the check instead of turning into 0), and the test of one state value
// against its field's limits.
#pragma once
#include "coeffs.hpp"

namespace tme {

// max(x, 0) that keeps NaN: x for x > 0, 0 for x <= 0, NaN for NaN. (x > 0 ? x : 0, like
// fmax(x, 0), turns NaN into 0 and would hide it from the state check.)
TME_HD inline real clamp_nonneg(real x) { return x > real(0) ? x : (x == x ? real(0) : x); }

// Limits of the values of every field: lower (0 for concentrations and populations, -inf where
// negative values are allowed) and upper (a plausibility bound, +inf where none is declared).
struct StateCheckArgs {
  const real* fields = nullptr;  // nspecies blocks of nvox values
  long long nvox = 0;
  int nspecies = 0;
  real lower[kMaxSpecies] = {};
  real upper[kMaxSpecies] = {};
};

// True when value x of a field with limits [lower, upper] is wrong: NaN, infinite, below lower
// or above upper.
TME_HD inline bool state_value_bad(real x, real lower, real upper) {
  return !(x - x == real(0)) | !(x >= lower) | !(x <= upper);  // no branches: vectorises
}

// True when value q (flat index over nspecies * nvox, species-major) is wrong.
TME_HD inline bool state_check_bad(const StateCheckArgs& a, long long q) {
  const int s = (int)(q / a.nvox);
  return state_value_bad(a.fields[q], a.lower[s], a.upper[s]);
}

}  // namespace tme
