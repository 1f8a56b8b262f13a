// The coupled reaction terms of the tumour-microenvironment model: a flat table of
// plain-data term descriptors that one voxel's update reads, shared by the OpenMP loop and the
// CUDA kernel. The model is data: species, populations and terms come from the scene; nothing
// here names a molecule or a cell type.
//
// Each term adds to production P_i >= 0 [unit_i/s] and per-capita loss L_i >= 0 [1/s] of the
// fields it touches, so dc_i/dt = P_i(c) - L_i(c) c_i. The per-voxel integrator
// (react_cell) is an exponential Heun scheme with per-voxel error control: positive for any
// step, exact for linear decay with a constant source, second order otherwise.
//
// Units: time s, length um, each field in its own unit (cells/mm^3 for populations; the
// scene converts every parameter once at load to the units noted per kind below).
//
// Splitting: diffusion, first-order decay, map sources and map uptake of each species stay in
// the transport operator (explicit or implicit, kernels/explicit_step.hpp, implicit.hpp); the
// terms here are applied as a separate per-voxel pass (host/core/simulation.cpp: Lie after
// each explicit step, Strang halves around each implicit step).
#pragma once
#include <cmath>

#include "state_check.hpp"
#include "tme_hd.hpp"

namespace tme {

constexpr int kMaxTerms = 96;        // terms per model
constexpr int kMaxTermFactors = 3;   // modulating factors per term
constexpr int kMaxTermProducts = 2;  // products per kill/conversion term
constexpr int kMaxCrowding = 8;      // populations that occupy volume
constexpr int kMaxGlobals = 16;      // uniform per-step inputs (plasma levels, blood cells)
constexpr int kMaxReactSpecies = 32; // fields one voxel's reaction update can hold

// A factor multiplies a term's rate; its input x is
//   x = c[a] (/ c[b] if b >= 0) * prod_j free_j,    free_j = Kd_j / (Kd_j + c[ab_j]) (ab_j >= 0)
// i.e. optionally a ratio, times the fractions of the target left unoccupied by up to two
// antibodies with dissociation constants Kd_j [unit of ab_j]. PD-1/PD-L1 engagement is
// x = PD-L1 level * free(anti-PD-1) * free(anti-PD-L1).
enum FactorKind : int {
  kFactorHillAct = 0,  // x^n / (K^n + x^n)
  kFactorHillInh = 1,  // K^n / (K^n + x^n)
  kFactorRoom = 2,     // max(0, 1 - phi): free volume fraction (crowding); x unused
  kFactorLinear = 3,   // x / K (unbounded; e.g. proportional recruitment)
};

struct Factor {
  int kind = kFactorHillAct;
  int a = -1;          // species index of the input (unused by kFactorRoom)
  int b = -1;          // divisor species index, or -1
  int ab[2] = {-1, -1};  // blocking antibody species, or -1
  real kd[2] = {1, 1};   // [unit of ab_j]
  real K = 1;          // half-maximum [unit of x]
  real n = 1;          // Hill coefficient [-]
};

enum TermKind : int {
  // target T: r T g(phi) * F. g = 1 - phi (logistic) or -ln(phi) (Gompertz, phi floored at
  // 1e-12); negative g (overcrowded) becomes loss. p[0] = r [1/s], p[1] = 0 logistic, 1 Gompertz.
  kTermGrowth = 0,
  // target X, by population `src`: P_X += p[0] c_src F. p[0] [unit_X/s per unit_src].
  kTermSecretion = 1,
  // target X, by population `src`: L_X += p[0] c_src F / (1 + c_X / p[1]) when p[1] > 0
  // (Michaelis-Menten, p[0] = Vmax/Km per cell, p[1] = Km [unit_X]) else p[0] c_src F (linear).
  // p[0] [1/s per unit_src].
  kTermUptake = 2,
  // target T killed by effector `src`: L_T += p[0] c_src F; each product gets
  // yield * p[0] c_src F c_T. p[0] [1/s per unit_src].
  kTermKill = 3,
  // conversion of target A (to products): L_A += p[0] F; each product gets
  // yield * p[0] F c_A. p[0] [1/s]. No product = death/clearance.
  kTermConversion = 4,
  // local state S relaxing toward level = p[1] + (p[2] - p[1]) F: P_S += level p[0],
  // L_S += p[0]. p[0] = 1/tau [1/s], p[1] base, p[2] maximum [unit_S]. No factors: level p[1].
  kTermRelax = 5,
  // blood exchange through vessels (antibody extravasation): with S = c[src] the vessel
  // surface density [1/um] and Cb = globals[global] the plasma level [unit_X]:
  // P_X += p[0] S Cb F, L_X += p[0] S F. p[0] = permeability [um/s].
  kTermExchange = 6,
  // entry from blood (T cells): P_X += p[0] c[src] globals[global] F. p[0] [1/s per unit_src]
  // (src = vessel surface density or any field; src = -1 means 1).
  kTermInflux = 7,
};

struct TermProduct {
  int species = -1;
  real yield = 1;  // [unit_product per unit_target]
};

// One term (about 200 bytes). Unused slots hold -1.
struct Term {
  int kind = kTermConversion;
  int target = -1;
  int src = -1;
  int global = -1;
  real p[3] = {0, 0, 0};
  int nfactors = 0;
  Factor f[kMaxTermFactors];
  int nproducts = 0;
  TermProduct prod[kMaxTermProducts];
};

// The whole table plus the per-step uniform inputs, passed by value (pointers non-owning; on
// the CUDA backend `terms` is a device pointer). Every species index in terms, factors and
// crowding is a LOCAL slot 0..nlocal-1; local[m] is the field (species) index of slot m.
struct ReactionArgs {
  const Term* terms = nullptr;
  int nterms = 0;
  int ncrowd = 0;
  int crowd_species[kMaxCrowding] = {};
  real crowd_volume[kMaxCrowding] = {};  // volume per cell [mm^3 per (cells/mm^3 unit)] = 1/capacity
  real globals[kMaxGlobals] = {};        // per-step values (e.g. mean plasma level over the step)
  int nlocal = 0;                        // fields the terms touch: c[local[m]] for m < nlocal
  int local[kMaxReactSpecies] = {};
  real atol[kMaxReactSpecies] = {};      // absolute tolerance per local field [its unit]
  real rtol = real(1e-4);                // relative tolerance of one sub-step
  int max_substeps = 4096;               // per voxel and call; beyond it the step is accepted
};

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

// Adds every term's production and loss at the local state c (>= 0) into P and L (local
// slots; the caller zeroes them).
TME_HD inline void term_rates(const ReactionArgs& a, const real* c, real* P, real* L) {
  using std::log;
  const real phi = occupied_fraction(a, c);
  for (int q = 0; q < a.nterms; ++q) {
    const Term& t = a.terms[q];
    const real F = term_factors(t, c, phi);
    const real cs = t.src >= 0 ? c[t.src] : real(1);
    switch (t.kind) {
      case kTermGrowth: {
        real g;
        if (t.p[1] > real(0.5)) {
          const real ph = phi > real(1e-12) ? phi : (phi == phi ? real(1e-12) : phi);  // keeps NaN
          g = -log(ph);
        } else {
          g = real(1) - phi;
        }
        const real r = t.p[0] * F * g;
        if (r >= real(0)) P[t.target] += r * c[t.target];
        else L[t.target] -= r;
        break;
      }
      case kTermSecretion: P[t.target] += t.p[0] * cs * F; break;
      case kTermUptake: {
        real l = t.p[0] * cs * F;
        if (t.p[1] > real(0)) l /= real(1) + c[t.target] / t.p[1];
        L[t.target] += l;
        break;
      }
      case kTermKill:
      case kTermConversion: {
        const real k = t.p[0] * F * (t.kind == kTermKill ? cs : real(1));
        L[t.target] += k;
        const real flux = k * c[t.target];
        for (int m = 0; m < t.nproducts; ++m) P[t.prod[m].species] += t.prod[m].yield * flux;
        break;
      }
      case kTermRelax: {
        const real level = t.nfactors > 0 ? t.p[1] + (t.p[2] - t.p[1]) * F : t.p[1];
        P[t.target] += t.p[0] * clamp_nonneg(level);
        L[t.target] += t.p[0];
        break;
      }
      case kTermExchange: {
        const real k = t.p[0] * cs * F;
        const real cb = a.globals[t.global];
        P[t.target] += k * clamp_nonneg(cb);
        L[t.target] += k;
        break;
      }
      case kTermInflux: {
        const real cb = a.globals[t.global];
        P[t.target] += t.p[0] * cs * F * clamp_nonneg(cb);
        break;
      }
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

}  // namespace tme
