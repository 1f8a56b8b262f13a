// The fused explicit (forward Euler) update of one voxel of one species: reads the
// species block once (7-point stencil, neighbours from cache), writes it once.
#pragma once
#include "diffusion.hpp"
#include "reaction.hpp"

namespace tme {

// Arguments of one explicit sub-step, passed by value (pointers are non-owning).
struct ExplicitArgs {
  GridGeom g;
  int nspecies = 0;
  const real* in = nullptr;               // nspecies blocks of nvox values (input state)
  real* out = nullptr;                    // same layout (output state)
  const uint8_t* label = nullptr;         // tissue label per voxel, or null
  const real* src = nullptr;              // source blocks [unit/s], indexed by SpeciesCoeffs::src_slot
  const real* upt = nullptr;              // uptake Vmax blocks [unit/s], indexed by upt_slot
  const real* hold = nullptr;             // held-value blocks [unit] (NaN = free), indexed by hold_slot
  const SpeciesCoeffs* coeffs = nullptr;  // nspecies entries
  real dt = 0;                            // [s]
};

TME_HD inline void explicit_update_cell(const ExplicitArgs& a, int s, int i, int j, int k) {
  const long long nv = a.g.d.nvox();
  const SpeciesCoeffs& sc = a.coeffs[s];
  const ConstView<real> c{a.in + s * nv, a.g.d};
  const long long idx = a.g.d.index(i, j, k);
  const real cs = c.p[idx];
  const real src = sc.src_slot >= 0 ? a.src[sc.src_slot * nv + idx] : real(0);
  const real vmax = sc.upt_slot >= 0 ? a.upt[sc.upt_slot * nv + idx] : real(0);
  const real rhs = diffusion_rhs(c, sc, a.label, a.g, i, j, k) + reaction_rhs(cs, sc, src, vmax);
  real v = cs + a.dt * rhs;
  if (sc.hold_slot >= 0) {
    const real h = a.hold[sc.hold_slot * nv + idx];
    if (h == h) v = h;  // held voxel (not NaN): keeps its value
  }
  a.out[s * nv + idx] = v;
}

// Same for a voxel whose six neighbours lie inside the grid (no boundary handling). The
// template flags say whether the species uses tissue labels, a source block and an uptake
// block, so each combination compiles to a branch-free (vectorisable) body.
template <bool kLabels, bool kSrc, bool kUpt>
TME_HD inline void explicit_update_interior(const ExplicitArgs& a, const SpeciesCoeffs& sc, int s, long long idx) {
  const long long nv = a.g.d.nvox();
  const real* c = a.in + s * nv;
  const real cs = c[idx];
  const real diff = kLabels ? diffusion_rhs_interior(ConstView<real>{c, a.g.d}, sc, a.label, a.g, idx)
                            : diffusion_rhs_interior_uniform(c, sc.D[0], a.g, idx);
  const real src = kSrc ? a.src[sc.src_slot * nv + idx] : real(0);
  const real vmax = kUpt ? a.upt[sc.upt_slot * nv + idx] : real(0);
  real r = src + decay_rate(cs, sc.decay);
  if (kUpt) r += mm_uptake_rate(cs, vmax, sc.km);
  a.out[s * nv + idx] = cs + a.dt * (diff + r);
}

}  // namespace tme
