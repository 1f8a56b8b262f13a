// Plain data of the radiotherapy fraction kernel (kernels/fraction.hpp): the irradiated
// populations, the dose-dependent releases and the kernel's argument struct. Apart from the
// kernel functions so that the model (host/core/model.hpp), and with it every file that sees a
// Problem, does not recompile when the kernel's body changes.
#pragma once
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
  real yield = 0;  // [unit_species / Gy] (per unit of `per` when per >= 0)
  real p1 = 0;     // d_sat or d_thr [Gy]
  real p2 = 4;     // steepness [-] (interferon)
  int per = -1;    // population whose density scales the release, or -1
  real top = 0;    // upper bound of a bounded field (a level 0..1) [unit_species]; 0: none
};

struct FractionArgs {
  real* fields = nullptr;  // nspecies blocks of nvox values
  long long nvox = 0;
  const real* dose = nullptr;  // physical dose of this fraction per voxel [Gy]
  int npop = 0;
  RadioPopulation pop[kMaxRadioPops];
  int nrel = 0;
  RadioRelease rel[kMaxRadioReleases];
  int oxygen = -1;          // oxygen field, or -1 (no oxygen modification)
  real oxygen_to_mmHg = 1;  // pO2 [mmHg] per unit of the oxygen field
  real oer_max = 3, oer_k_mmHg = 3;
  // LQ survival product since the start of population q at voxel v: survival[q * nvox + v],
  // multiplied by each fraction's S (double: the products of many fractions); null: not kept.
  double* survival = nullptr;
};

}  // namespace tme
