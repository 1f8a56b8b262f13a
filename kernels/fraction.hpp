// One radiotherapy fraction applied to one voxel: linear-quadratic survival of every
// irradiated population (optionally oxygen-modified), transfer of lethally damaged tumour cells
// to a doomed pool, and dose-dependent release of signals. Shared by the OpenMP loop and the
// CUDA kernel; the response functions are those of kernels/radiation.hpp.
#pragma once
#include "radiation.hpp"
#include "state_check.hpp"
#include "tme_hd.hpp"

namespace tme {

constexpr int kMaxRadioPops = 8;
constexpr int kMaxRadioReleases = 8;

struct RadioPopulation {
  int species = -1;  // field of the population [cells/mm^3]
  real alpha = 0;    // [1/Gy]
  real beta = 0;     // [1/Gy^2]
  int doomed = -1;   // field receiving the lethally damaged cells n (1 - S), or -1 (removed)
};

enum ReleaseKind : int {
  kReleaseLinear = 0,      // R(d) = d, or d / (1 + d / p1) when p1 > 0 (saturating) [Gy]
  kReleaseInterferon = 1,  // R(d) = d / (1 + (d / p1)^p2): falls above the TREX1 threshold p1
};

// Released amount of one fraction: yield * R(d) [* c_per (pre-fraction density)].
struct RadioRelease {
  int species = -1;  // field that receives it
  int kind = kReleaseLinear;
  real yield = 0;    // [unit_species / Gy] (per unit of `per` when per >= 0)
  real p1 = 0;       // d_sat or d_thr [Gy]
  real p2 = 4;       // steepness [-] (interferon)
  int per = -1;      // population whose density scales the release, or -1
};

struct FractionArgs {
  real* fields = nullptr;       // nspecies blocks of nvox values
  long long nvox = 0;
  const real* dose = nullptr;   // physical dose of this fraction per voxel [Gy]
  int npop = 0;
  RadioPopulation pop[kMaxRadioPops];
  int nrel = 0;
  RadioRelease rel[kMaxRadioReleases];
  int oxygen = -1;              // oxygen field, or -1 (no oxygen modification)
  real oxygen_to_mmHg = 1;      // pO2 [mmHg] per unit of the oxygen field
  real oer_max = 3, oer_k_mmHg = 3;
};

TME_HD inline real release_factor(const RadioRelease& r, real d) {
  return r.kind == kReleaseInterferon ? rt::ifn1_release_factor(d, r.p1, r.p2)
                                      : rt::dose_release_factor(d, r.p1);
}

// Surviving fraction of population q at this voxel.
TME_HD inline real fraction_survival(const FractionArgs& a, int q, long long idx) {
  const real d = a.dose[idx];
  if (a.oxygen < 0) return rt::lq_survival(a.pop[q].alpha, a.pop[q].beta, d);
  const real po2 = a.fields[a.oxygen * a.nvox + idx] * a.oxygen_to_mmHg;
  return rt::lq_survival_oxygen(a.pop[q].alpha, a.pop[q].beta, d, po2, a.oer_max, a.oer_k_mmHg);
}

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
    real& n = a.fields[a.pop[q].species * a.nvox + idx];
    const real n0 = clamp_nonneg(n);
    n = n0 * S;
    if (a.pop[q].doomed >= 0) a.fields[a.pop[q].doomed * a.nvox + idx] += rt::lq_doomed(n0, S);
  }
  for (int r = 0; r < a.nrel; ++r) a.fields[a.rel[r].species * a.nvox + idx] += add[r];
}

}  // namespace tme
