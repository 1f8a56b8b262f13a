// One-cell radiation response functions: linear-quadratic survival with an optional
// oxygen modification, BED/EQD2 increments per fraction, and dose-dependent release factors.
// Plain TME_HD functions of scalars, templated on the floating type (float fields on the
// device, double in tests and on the host); no state, no branches that depend on the grid.
//
// Units: dose d [Gy] (physical dose of ONE fraction at this voxel), alpha [1/Gy],
// beta [1/Gy^2], alpha/beta [Gy], oxygen partial pressure pO2 [mmHg], BED and EQD2 [Gy].
// Release factors are doses [Gy]: the caller multiplies by a yield [species unit / Gy] (and,
// if the scene says so, by the local cell density) to get the amount released per fraction.
// See docs/radiotherapy.md.
#pragma once
#include <cmath>

#include "tme_hd.hpp"

namespace tme {
namespace rt {

// ---- linear-quadratic survival ------------------------------------------------------------

// -ln S of one fraction: alpha d + beta d^2 (dimensionless).
template <class T>
TME_HD inline T lq_log_kill(T alpha, T beta, T d) {
  return alpha * d + beta * d * d;
}

// Surviving fraction after one acute fraction of dose d [Gy]: S = exp(-alpha d - beta d^2).
template <class T>
TME_HD inline T lq_survival(T alpha, T beta, T d) {
  using std::exp;
  return exp(-lq_log_kill(alpha, beta, d));
}

// ---- oxygen --------------------------------------------------------------------------------
// Alper and Howard-Flanders (1956) oxygen curve, in the form used by Wouters and Brown (1997)
// and Titz and Jeraj (2008): the radiosensitivity relative to anoxia is
//   m(p) = (OER_max p + K) / (p + K),    m(0) = 1, m(inf) = OER_max,
// with p the oxygen partial pressure [mmHg] and K [mmHg] the pO2 at half the effect.
// Normalised to well-oxygenated tissue (where alpha and beta are measured), the oxygen
// modification factor is
//   OMF(p) = m(p) / OER_max = (OER_max p + K) / (OER_max (p + K)),  in [1/OER_max, 1],
// and it modifies the DOSE: a hypoxic cell receiving d responds as an oxic cell receiving
// d * OMF (equivalently alpha -> alpha OMF, beta -> beta OMF^2, Wenzl and Wilkens 2011).
// Defaults: OER_max = 3 (photons, ICRP 127 range 2.5-3), K = 3 mmHg (Wouters and Brown 1997).
// Negative pO2 (round-off in a transported field) counts as 0.
struct OerDefaults {
  static constexpr double oer_max = 3.0;  // [-]
  static constexpr double k_mmHg = 3.0;   // [mmHg]
};

template <class T>
TME_HD inline T oxygen_modification(T pO2_mmHg, T oer_max, T k_mmHg) {
  const T p = pO2_mmHg > T(0) ? pO2_mmHg : T(0);
  return (oer_max * p + k_mmHg) / (oer_max * (p + k_mmHg));
}

// Surviving fraction with the oxygen modification: lq_survival(alpha, beta, d * OMF(pO2)).
template <class T>
TME_HD inline T lq_survival_oxygen(T alpha, T beta, T d, T pO2_mmHg, T oer_max, T k_mmHg) {
  return lq_survival(alpha, beta, d * oxygen_modification(pO2_mmHg, oer_max, k_mmHg));
}

// Cells (or any density) moved from the viable to the doomed pool by one fraction:
// n (1 - S) [same unit as n]. The survivors are n S.
template <class T>
TME_HD inline T lq_doomed(T n, T survival) {
  return n * (T(1) - survival);
}

// ---- BED and EQD2 --------------------------------------------------------------------------
// Biologically effective dose of one fraction d [Gy] for a tissue with alpha/beta [Gy]:
//   BED = d (1 + d / (alpha/beta))  [Gy]; summed over fractions (no repopulation term).
template <class T>
TME_HD inline T bed_increment(T d, T alpha_beta) {
  return d * (T(1) + d / alpha_beta);
}

// Equivalent dose in 2 Gy fractions: EQD2 = BED / (1 + 2 / (alpha/beta)) [Gy]. Linear in
// BED, so it may be accumulated per fraction with eqd2_increment or computed from the sum.
template <class T>
TME_HD inline T eqd2_from_bed(T bed, T alpha_beta) {
  return bed / (T(1) + T(2) / alpha_beta);
}

template <class T>
TME_HD inline T eqd2_increment(T d, T alpha_beta) {
  return eqd2_from_bed(bed_increment(d, alpha_beta), alpha_beta);
}

// ---- release terms -------------------------------------------------------------------------
// Type-I interferon (cGAS-STING) release factor of one fraction d [Gy]:
//   F(d) = d / (1 + (d / d_thr)^n)   [Gy]
// rises linearly at low dose and falls above the TREX1 threshold (Vanpouille-Box et al. 2017:
// TREX1 is induced above 12-18 Gy per fraction and degrades cytosolic DNA). d_thr [Gy] is the
// dose per fraction at which the release per Gy has halved; n [-] (> 1) is the steepness.
// F peaks at d* = d_thr (n - 1)^(-1/n) (n = 4: 0.76 d_thr) and tends to 0 like d^(1-n).
// Defaults d_thr = 15 Gy (middle of 12-18 Gy), n = 4: peak at 11.4 Gy, F(8) = 7.40,
// F(20) = 4.81 Gy, so 3 x 8 Gy releases 22.2 Gy-equivalents against 4.81 for 1 x 20 Gy.
struct Ifn1Defaults {
  static constexpr double d_thr_Gy = 15.0;  // [Gy]
  static constexpr double steepness = 4.0;  // [-]
};

template <class T>
TME_HD inline T ifn1_release_factor(T d, T d_thr, T steepness) {
  using std::pow;
  const T dp = d > T(0) ? d : T(0);
  return dp / (T(1) + pow(dp / d_thr, steepness));
}

// Generic dose-dependent release (TGF-beta, CCL2, antigen, ...) of one fraction d [Gy]:
//   d_sat <= 0: linear,      R(d) = d
//   d_sat >  0: saturating,  R(d) = d / (1 + d / d_sat)   (slope 1 at 0, tends to d_sat)
// [Gy]; multiply by a yield [species unit / Gy].
template <class T>
TME_HD inline T dose_release_factor(T d, T d_sat) {
  const T dp = d > T(0) ? d : T(0);
  return d_sat > T(0) ? dp / (T(1) + dp / d_sat) : dp;
}

}  // namespace rt
}  // namespace tme
