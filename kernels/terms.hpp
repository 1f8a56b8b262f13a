// The coupled reaction terms of the tumour-microenvironment model: the one-cell rate function
// of each term kind and the per-voxel integrator, run at every voxel by the generic voxel loop
// on the host and on the device (ReactOp). The model is data: species, populations and terms come from the scene;
// nothing here names a molecule or a cell type. The plain data these read (Term, Factor, TermKind, ReactionArgs, the
// limits and the term registry) is in kernels/term_types.hpp; include this header only where the terms are run
// (ReactOp: host/core/backend_impl.hpp, the CUDA voxel loop kernels/parallel_for_cuda.cu through kernels/ops.def, tests
// of it).
//
// Each term adds to production P_i >= 0 [unit_i/s] and per-capita loss L_i >= 0 [1/s] of the
// fields it touches, so dc_i/dt = P_i(c) - L_i(c) c_i. The per-voxel integrator
// (react_cell) is an exponential Heun scheme with per-voxel error control: positive for any
// step, exact for linear decay with a constant source, second order otherwise.
//
// Units: time s, length um, each field in its own unit (cells/mm^3 for populations; the
// scene converts every parameter once at load to the units noted per kind in term_types.hpp).
//
// Splitting: diffusion, first-order decay, map sources and map uptake of each species stay in
// the transport operator (explicit or implicit, kernels/explicit_step.hpp, implicit.hpp); the
// terms here are applied as a separate per-voxel pass (host/core/simulation.cpp: Lie after
// each explicit step, Strang halves around each implicit step).
#pragma once
#include <cmath>

#include "state_check.hpp"
#include "term_types.hpp"
#include "tme_hd.hpp"

namespace tme {

// Crowding: occupied volume fraction phi = sum_p c_p v_p [-].
TME_HD inline real occupied_fraction(const ReactionArgs& a, const real* c) {
  real phi = 0;
  for (int q = 0; q < a.ncrowd; ++q) phi += c[a.crowd_species[q]] * a.crowd_volume[q];
  return phi;
}

// (x/K)^n, with the common n = 1 and n = 2 spared a pow().
TME_HD inline real hill_power(real x, real K, real n) {
  using std::pow;
  const real r = x / K;
  return n == real(1) ? r : (n == real(2) ? r * r : pow(r, n));
}
TME_HD inline real hill_act(real x, real K, real n) {
  if (x <= real(0)) return real(0);
  const real xn = hill_power(x, K, n);
  return xn / (real(1) + xn);
}
TME_HD inline real hill_inh(real x, real K, real n) {
  if (x <= real(0)) return real(1);
  return real(1) / (real(1) + hill_power(x, K, n));
}

TME_HD inline real factor_value(const Factor& f, const real* c, real phi) {
  if (f.kind == kFactorRoom) return clamp_nonneg(real(1) - phi);
  real x = c[f.a];
  if (f.b >= 0) {
    const real den = c[f.b];
    // A ratio over an empty denominator is huge (or 0); NaN in either stays NaN (x + den).
    x = den > real(0) ? x / den : (x != x || den != den ? x + den : (x > real(0) ? real(1e30) : real(0)));
  }
  for (int j = 0; j < 2; ++j)
    if (f.ab[j] >= 0) {
      const real A = clamp_nonneg(c[f.ab[j]]);
      x *= f.kd[j] / (f.kd[j] + A);
    }
  switch (f.kind) {
    case kFactorHillAct: return hill_act(x, f.K, f.n);
    case kFactorHillInh: return hill_inh(x, f.K, f.n);
    default: return clamp_nonneg(x) / f.K;
  }
}

TME_HD inline real term_factors(const Term& t, const real* c, real phi) {
  real F = 1;
  for (int q = 0; q < t.nfactors; ++q) F *= factor_value(t.f[q], c, phi);
  return F;
}

// ---- one rate function per TermKind -------------------------------------------------------
// Each adds one term's production and per-capita loss at the local state c into P and L (local
// slots). F is the product of the term's factors, phi the occupied volume fraction.

TME_HD inline real term_source(const Term& t, const real* c) { return t.src >= 0 ? c[t.src] : real(1); }

TME_HD inline void growth_rates(const Term& t, const ReactionArgs&, const real* c, real phi, real F, real* P, real* L) {
  using std::log;
  real g;
  if (t.growth_law() == kGrowthGompertz) {
    const real ph = phi > real(1e-12) ? phi : (phi == phi ? real(1e-12) : phi);  // keeps NaN
    g = -log(ph);
  } else {
    g = real(1) - phi;
  }
  const real r = t.rate() * F * g;
  if (r >= real(0))
    P[t.target] += r * c[t.target];
  else
    L[t.target] -= r;
}

TME_HD inline void secretion_rates(const Term& t, const ReactionArgs&, const real* c, real, real F, real* P, real*) {
  P[t.target] += t.rate() * term_source(t, c) * F;
}

TME_HD inline void uptake_rates(const Term& t, const ReactionArgs&, const real* c, real, real F, real*, real* L) {
  real l = t.rate() * term_source(t, c) * F;
  if (t.km() > real(0)) l /= real(1) + c[t.target] / t.km();
  L[t.target] += l;
}

// Loss at per-capita rate k of the target; each product gains yield * k * c_target.
TME_HD inline void loss_to_products(const Term& t, real k, const real* c, real* P, real* L) {
  L[t.target] += k;
  const real flux = k * c[t.target];
  for (int m = 0; m < t.nproducts; ++m) P[t.prod[m].species] += t.prod[m].yield * flux;
}

TME_HD inline void kill_rates(const Term& t, const ReactionArgs&, const real* c, real, real F, real* P, real* L) {
  loss_to_products(t, t.rate() * F * term_source(t, c), c, P, L);
}

TME_HD inline void conversion_rates(const Term& t, const ReactionArgs&, const real* c, real, real F, real* P, real* L) {
  loss_to_products(t, t.rate() * F, c, P, L);
}

TME_HD inline void relax_rates(const Term& t, const ReactionArgs&, const real*, real, real F, real* P, real* L) {
  const real level = t.nfactors > 0 ? t.base() + (t.top() - t.base()) * F : t.base();
  P[t.target] += t.rate() * clamp_nonneg(level);
  L[t.target] += t.rate();
}

TME_HD inline void exchange_rates(const Term& t, const ReactionArgs& a, const real* c, real, real F, real* P, real* L) {
  const real k = t.rate() * term_source(t, c) * F;
  const real cb = a.globals[t.global];
  P[t.target] += k * clamp_nonneg(cb);
  L[t.target] += k;
}

TME_HD inline void influx_rates(const Term& t, const ReactionArgs& a, const real* c, real, real F, real* P, real*) {
  const real cb = a.globals[t.global];
  P[t.target] += t.rate() * term_source(t, c) * F * clamp_nonneg(cb);
}

// Adds every term's production and loss at the local state c (>= 0) into P and L (local
// slots; the caller zeroes them).
TME_HD inline void term_rates(const ReactionArgs& a, const real* c, real* P, real* L) {
  const real phi = occupied_fraction(a, c);
  for (int q = 0; q < a.nterms; ++q) {
    const Term& t = a.terms[q];
    const real F = term_factors(t, c, phi);
    switch (t.kind) {
      case kTermGrowth: growth_rates(t, a, c, phi, F, P, L); break;
      case kTermSecretion: secretion_rates(t, a, c, phi, F, P, L); break;
      case kTermUptake: uptake_rates(t, a, c, phi, F, P, L); break;
      case kTermKill: kill_rates(t, a, c, phi, F, P, L); break;
      case kTermConversion: conversion_rates(t, a, c, phi, F, P, L); break;
      case kTermRelax: relax_rates(t, a, c, phi, F, P, L); break;
      case kTermExchange: exchange_rates(t, a, c, phi, F, P, L); break;
      case kTermInflux: influx_rates(t, a, c, phi, F, P, L); break;
      default: break;
    }
  }
}

// 1 - e^{-x} for x >= 0: a Taylor polynomial below 0.01 (error < x^5/120), exp above (where
// the cancellation costs at most a few float ulps of e^{-x} / x, below 1e-5 relative).
TME_HD inline real one_minus_exp(real x) {
  using std::exp;
  if (x < real(1e-2)) return x * (real(1) - x * (real(0.5) - x * (real(1) / real(6) - x / real(24))));
  return real(1) - exp(-x);
}

// phi(c; P, L, h) = c e^{-L h} + P (1 - e^{-L h}) / L: the exact solution of c' = P - L c with
// frozen P, L; positive for c, P, L >= 0.
TME_HD inline real exp_update(real c, real P, real L, real h) {
  if (!(L > real(0))) return c + h * P;
  const real em1 = one_minus_exp(L * h);
  return c * (real(1) - em1) + P * (em1 / L);
}

// Reaction update of one voxel over dt [s]. `c` holds the voxel's nlocal local fields (slot
// m is field a.local[m]) and is overwritten. Exponential Heun: a frozen-rate predictor y, then
// the corrector z with trapezoid-averaged P and L; |z - y| is the local error estimate, and the
// sub-step shrinks or grows per voxel (factor 0.2..5). Returns the number of sub-steps tried.
TME_HD inline int react_cell(const ReactionArgs& a, real* c, real dt) {
  using std::fabs;
  using std::sqrt;
  real P0[kMaxReactSpecies], L0[kMaxReactSpecies], P1[kMaxReactSpecies], L1[kMaxReactSpecies];
  real y[kMaxReactSpecies], z[kMaxReactSpecies];
  const int n = a.nlocal;
  real t = 0, h = dt;
  int steps = 0;
  while (t < dt) {
    const bool last = h >= dt - t;
    if (last) h = dt - t;
    for (int m = 0; m < n; ++m) P0[m] = L0[m] = P1[m] = L1[m] = 0;
    term_rates(a, c, P0, L0);
    for (int m = 0; m < n; ++m) y[m] = exp_update(c[m], P0[m], L0[m], h);
    term_rates(a, y, P1, L1);
    real err = 0;
    for (int m = 0; m < n; ++m) {
      z[m] = exp_update(c[m], real(0.5) * (P0[m] + P1[m]), real(0.5) * (L0[m] + L1[m]), h);
      const real scale = a.atol[m] + a.rtol * (c[m] > z[m] ? c[m] : z[m]);
      const real e = fabs(z[m] - y[m]) / scale;
      err = e > err ? e : err;
    }
    ++steps;
    const real grow = err > real(0) ? real(0.9) / sqrt(err) : real(5);
    if (err <= real(1) || steps >= a.max_substeps) {
      for (int m = 0; m < n; ++m) c[m] = z[m];
      t = last ? dt : t + h;
      h *= grow < real(5) ? grow : real(5);
    } else {
      h *= grow > real(0.2) ? grow : real(0.2);
    }
  }
  return steps;
}

// One voxel of a field set in structure-of-arrays layout: gathers the local fields, reacts,
// scatters them back. `fields` holds nspecies blocks of nvox values.
TME_HD inline int react_voxel(const ReactionArgs& a, real* fields, long long nvox, long long idx, real dt) {
  real c[kMaxReactSpecies];
  for (int m = 0; m < a.nlocal; ++m) {
    const real v = fields[a.local[m] * nvox + idx];
    c[m] = clamp_nonneg(v);  // transport round-off below zero counts as 0; NaN stays NaN
  }
  const int steps = react_cell(a, c, dt);
  for (int m = 0; m < a.nlocal; ++m) fields[a.local[m] * nvox + idx] = c[m];
  return steps;
}

// The reaction pass as an op of the voxel loop (kernels/parallel_for.hpp) over nvox voxels.
// The sub-step count varies from voxel to voxel (quiet tissue 1, a front many): the host loop
// hands out chunks of voxels dynamically.
struct ReactOp {
  ReactionArgs a;
  real* fields = nullptr;  // nspecies blocks of nvox values
  long long nvox = 0;
  real dt = 0;  // [s]
  static constexpr long long kHostChunk = 4096;
  TME_HD void operator()(long long v) const { react_voxel(a, fields, nvox, v, dt); }
};

}  // namespace tme
