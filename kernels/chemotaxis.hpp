// Chemotaxis of a cell population up a signal gradient (issue 5): conservative donor-cell
// (first-order upwind) fluxes with a bounded, flux-limited drift velocity, so mass is conserved
// to round-off with no-flux walls and densities stay non-negative under the step limit
// chemotaxis_dt_limit. Random motility is the population's diffusion coefficient
// (transport operator); this pass adds the drift only.
//
// Drift across the face between voxel i and its neighbour j along one axis (spacing h [um]):
//   v_ij = vmax tanh(chi (S_j - S_i) / (h vmax))   [um/s]
// (linear, chi grad S, for small gradients; saturating at vmax for steep ones). The face flux
// [unit um/s] is v_ij c_i when v_ij > 0 (out of i) and v_ij c_j when v_ij < 0 (into i).
// Walls carry no drift flux (every face type; periodic axes wrap).
#pragma once
#include <cmath>

#include "coeffs.hpp"

namespace tme {

constexpr int kMaxChemotaxis = 8;

struct Chemotaxis {
  int cell = -1;    // population field [cells/mm^3]
  int signal = -1;  // attracting species
  real chi = 0;     // sensitivity [um^2/s per unit of the signal]
  real vmax = 0;    // largest drift speed [um/s] (> 0)
};

struct ChemotaxisArgs {
  GridGeom g;
  real h[3] = {1, 1, 1};   // spacing [um]
  int periodic[3] = {0, 0, 0};
  const real* in = nullptr;  // all fields (nspecies blocks)
  real* out = nullptr;       // block of `cell` only is written (same layout as in)
  Chemotaxis cx[kMaxChemotaxis];
  int ncx = 0;               // entries of this pass, all with the same `cell`
  real dt = 0;               // [s], <= chemotaxis_dt_limit
};

TME_HD inline real drift_velocity(const Chemotaxis& c, real ds_over_h) {
  using std::tanh;
  return c.vmax * tanh(c.chi * ds_over_h / c.vmax);
}

// Largest step [s] keeping the donor-cell update positive: every voxel can lose at most its
// content, through at most two faces per axis at speed sum(vmax).
TME_HD inline real chemotaxis_dt_limit(const ChemotaxisArgs& a) {
  real vsum = 0;
  for (int q = 0; q < a.ncx; ++q) vsum += a.cx[q].vmax;
  const real rate = real(2) * vsum * (real(1) / a.h[0] + real(1) / a.h[1] + real(1) / a.h[2]);
  return rate > real(0) ? real(1) / rate : real(1e30);
}

TME_HD inline void chemotaxis_cell(const ChemotaxisArgs& a, int i, int j, int k) {
  const Dims d = a.g.d;
  const long long nv = d.nvox();
  const int cell = a.cx[0].cell;
  const real* c = a.in + cell * nv;
  const long long idx = d.index(i, j, k);
  const int ijk[3] = {i, j, k};
  const int n[3] = {d.nx, d.ny, d.nz};
  const long long stride[3] = {1, (long long)d.nx, (long long)d.nx * d.ny};
  real div = 0;  // net outflow [unit/s]
  for (int ax = 0; ax < 3; ++ax) {
    for (int side = -1; side <= 1; side += 2) {
      int jn = ijk[ax] + side;
      long long nb = idx + side * stride[ax];
      if (jn < 0 || jn >= n[ax]) {
        if (!a.periodic[ax] || n[ax] == 1) continue;  // wall: no drift flux
        jn = (jn + n[ax]) % n[ax];
        nb = idx + (long long)(jn - ijk[ax]) * stride[ax];
      }
      real v = 0;  // drift from this voxel toward the neighbour [um/s]
      for (int q = 0; q < a.ncx; ++q) {
        const real* s = a.in + a.cx[q].signal * nv;
        v += drift_velocity(a.cx[q], (s[nb] - s[idx]) / a.h[ax]);
      }
      const real flux = v > real(0) ? v * c[idx] : v * c[nb];  // out of this voxel
      div += flux / a.h[ax];
    }
  }
  a.out[cell * nv + idx] = c[idx] - a.dt * div;
}

}  // namespace tme
