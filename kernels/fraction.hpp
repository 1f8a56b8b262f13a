// One radiotherapy fraction applied to one voxel: linear-quadratic survival of every
// irradiated population (optionally oxygen-modified), transfer of lethally damaged tumour cells
// to a doomed pool, and dose-dependent release of signals. Run at every voxel by the generic
// voxel loop (FractionOp); the response functions are those of kernels/radiation.hpp.
#pragma once
#include "fraction_types.hpp"
#include "radiation.hpp"
#include "state_check.hpp"
#include "tme_hd.hpp"

namespace tme {

TME_HD inline real release_factor(const RadioRelease& r, real d) {
  return r.kind == kReleaseInterferon ? rt::ifn1_release_factor(d, r.p1, r.p2) : rt::dose_release_factor(d, r.p1);
}

// Adds a released amount `add` to a field level c. A bounded field (top > 0, e.g. an
// expression level in [0, 1]) fills its headroom instead: c' = top - (top - c) exp(-add / top),
// which is c + add to first order and never passes top (a level already above top is left).
TME_HD inline void release_into(real& c, real add, real top) {
  using std::exp;
  if (!(top > real(0))) {
    c += add;
    return;
  }
  if (c >= top) return;
  const real c0 = clamp_nonneg(c);
  c = top - (top - c0) * exp(-add / top);
}

// Surviving fraction of population q at this voxel.
TME_HD inline real fraction_survival(const FractionArgs& a, int q, long long idx) {
  const real d = a.dose[idx];
  if (a.oxygen < 0) return rt::lq_survival(a.pop[q].alpha, a.pop[q].beta, d);
  const real po2 = a.fields[a.oxygen * a.nvox + idx] * a.oxygen_to_mmHg;
  return rt::lq_survival_oxygen(a.pop[q].alpha, a.pop[q].beta, d, po2, a.oer_max, a.oer_k_mmHg);
}

// A voxel without dose is left as it is (its survival factors are 1).
TME_HD inline void fraction_voxel(const FractionArgs& a, long long idx) {
  const real d = a.dose[idx];
  if (!(d > real(0))) return;
  // Releases first: they scale with the densities present when the dose is given.
  real add[kMaxRadioReleases];
  for (int r = 0; r < a.nrel; ++r) {
    const RadioRelease& rr = a.rel[r];
    const real per = rr.per >= 0 ? a.fields[rr.per * a.nvox + idx] : real(1);
    add[r] = rr.yield * release_factor(rr, d) * clamp_nonneg(per);
  }
  for (int q = 0; q < a.npop; ++q) {
    const real S = fraction_survival(a, q, idx);
    if (a.survival) a.survival[q * a.nvox + idx] *= double(S);
    real& n = a.fields[a.pop[q].species * a.nvox + idx];
    const real n0 = clamp_nonneg(n);
    n = n0 * S;
    if (a.pop[q].doomed >= 0) a.fields[a.pop[q].doomed * a.nvox + idx] += rt::lq_doomed(n0, S);
  }
  for (int r = 0; r < a.nrel; ++r) release_into(a.fields[a.rel[r].species * a.nvox + idx], add[r], a.rel[r].top);
}

// The fraction as an op of the voxel loop (kernels/parallel_for.hpp) over a.nvox voxels.
struct FractionOp {
  FractionArgs a;
  TME_HD void operator()(long long v) const { fraction_voxel(a, v); }
};

}  // namespace tme
