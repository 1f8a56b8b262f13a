// Chemotaxis of a cell population up a signal gradient: conservative donor-cell
// (first-order upwind) fluxes with a bounded, flux-limited drift velocity, so mass is conserved
// to round-off with no-flux walls and densities stay non-negative under the step limit
// chemotaxis_dt_limit. Random motility is the population's diffusion coefficient
// (transport operator); this pass adds the drift only.
//
// Drift across the face between voxel i and its neighbour j along one axis (spacing h [um]):
//   v_ij = vmax tanh(chi (S_j - S_i) / (h vmax))   [um/s]
// (linear, chi grad S, for small gradients; saturating at vmax for steep ones). The face flux
// [unit um/s] is v_ij c_i when v_ij > 0 (out of i) and v_ij c_j when v_ij < 0 (into i).
// Walls carry no drift flux whatever their kind (the population's ghost values of boundary.hpp
// are not used: no drift across a fixed-value face); periodic axes wrap (across_face).
//
// Pressure (crowding-driven) drift uses the same fluxes with the signal replaced by the
// occupied fraction phi = sum_p c_p / capacity_p and the sign reversed: cells move down grad phi,
//   v_ij = -vmax tanh(mu (phi_j - phi_i) / (h vmax))   [um/s], mu the mobility [um^2/s].
// For small gradients the flux is -mu c grad phi, a porous-medium (degenerate) diffusion; with
// logistic growth it is the porous-Fisher equation (docs/model.md, "Pressure-driven expansion").
// phi depends on the moving population, so its drifts are recomputed every sub-step.
#pragma once
#include <cmath>

#include "chemotaxis_types.hpp"
#include "coeffs.hpp"

namespace tme {

TME_HD inline real drift_velocity(const Chemotaxis& c, real ds_over_h) {
  using std::tanh;
  return c.vmax * tanh(c.chi * ds_over_h / c.vmax);
}

// Pressure drift for d phi / h [1/um] (phi the occupied fraction, dimensionless): down the
// gradient, |v| <= vmax.
TME_HD inline real pressure_velocity(const Chemotaxis& c, real dphi_over_h) { return -drift_velocity(c, dphi_over_h); }

// Largest step [s] keeping the donor-cell update positive: every voxel can lose at most its
// content, through at most two faces per axis at speed sum(vmax). With pressure entries also
// monotone: a face drift grows with the donor's own density by at most mu / (h capacity), so
// d c_i(new) / d c_i >= 1 - dt sum_faces (vmax + mu own_phi_max / h) / h >= 0 under
//   dt <= 1 / (2 sum_a (sum(vmax) / h_a + sum(mu) own_phi_max / h_a^2)).
TME_HD inline real chemotaxis_dt_limit(const ChemotaxisArgs& a) {
  real vsum = 0, musum = 0;
  for (int q = 0; q < a.ncx; ++q) {
    vsum += a.cx[q].vmax;
    if (a.cx[q].signal == kSignalCrowding) musum += a.cx[q].chi;
  }
  real rate = 0;
  for (int ax = 0; ax < 3; ++ax) rate += vsum / a.h[ax] + musum * a.own_phi_max / (a.h[ax] * a.h[ax]);
  rate *= real(2);
  return rate > real(0) ? real(1) / rate : real(1e30);
}

// Occupied fraction phi at voxel idx [-]: sum over the crowding populations of c / capacity,
// the moving population read from cell_in (its current sub-step), the others from `in`.
TME_HD inline real crowding_phi(const ChemotaxisArgs& a, long long idx) {
  const long long nv = a.g.d.nvox();
  real phi = 0;
  for (int q = 0; q < a.ncrowd; ++q) {
    const int s = a.crowd_species[q];
    const real* f = s == a.cx[0].cell ? a.cell_in : a.in + s * nv;
    phi += f[idx] * a.crowd_volume[q];
  }
  return phi;
}

// Neighbour of voxel (i, j, k) across its face toward dir (-1 or +1) along `ax`, or -1 at a
// wall (across_face, boundary.hpp).
TME_HD inline long long face_neighbour(const ChemotaxisArgs& a, int i, int j, int k, int ax, int dir) {
  const Dims d = a.g.d;
  const int p[3] = {i, j, k}, n[3] = {d.nx, d.ny, d.nz};
  const int q = across_face(n[ax], p[ax], dir, a.periodic[ax] != 0);
  if (q < 0) return -1;
  return d.index(ax == 0 ? q : i, ax == 1 ? q : j, ax == 2 ? q : k);
}

// Pass 1 (once per chemotaxis pass, as the signal does not change during it; every sub-step
// when the pass has pressure entries): the drift across the three + faces of voxel (i, j, k),
// from it toward its + neighbour.
TME_HD inline void chemotaxis_velocity_cell(const ChemotaxisArgs& a, int i, int j, int k) {
  const long long nv = a.g.d.nvox(), idx = a.g.d.index(i, j, k);
  const real phi = a.pressure ? crowding_phi(a, idx) : real(0);
  for (int ax = 0; ax < 3; ++ax) {
    const long long nb = face_neighbour(a, i, j, k, ax, +1);
    real v = 0;
    if (nb >= 0) {
      const real dphi = a.pressure ? (crowding_phi(a, nb) - phi) / a.h[ax] : real(0);
      for (int q = 0; q < a.ncx; ++q) {
        if (a.cx[q].signal == kSignalCrowding) {
          v += pressure_velocity(a.cx[q], dphi);
        } else {
          const real* s = a.in + a.cx[q].signal * nv;
          v += drift_velocity(a.cx[q], (s[nb] - s[idx]) / a.h[ax]);
        }
      }
    }
    a.vel[ax * nv + idx] = v;
  }
}

// Pass 2 (each sub-step): donor-cell update of the population at (i, j, k) from the stored
// face drifts. The flux through a face is computed identically on both sides (conservation).
TME_HD inline void chemotaxis_cell(const ChemotaxisArgs& a, int i, int j, int k) {
  const Dims d = a.g.d;
  const long long nv = d.nvox();
  const real* c = a.cell_in;
  const long long idx = d.index(i, j, k);
  real div = 0;  // net outflow [unit/s] per unit length
  for (int ax = 0; ax < 3; ++ax) {
    // + face: drift from this voxel to the + neighbour
    const long long up = face_neighbour(a, i, j, k, ax, +1);
    if (up >= 0) {
      const real v = a.vel[ax * nv + idx];
      div += (v > real(0) ? v * c[idx] : v * c[up]) / a.h[ax];
    }
    // - face: the - neighbour's + face, drift from it into this voxel
    const long long lo = face_neighbour(a, i, j, k, ax, -1);
    if (lo >= 0) {
      const real v = a.vel[ax * nv + lo];
      div -= (v > real(0) ? v * c[lo] : v * c[idx]) / a.h[ax];
    }
  }
  a.cell_out[idx] = c[idx] - a.dt * div;
}

// The two passes as ops of the cell loop (kernels/parallel_for.hpp) over a.g.d.
struct ChemotaxisVelocityOp {
  ChemotaxisArgs a;
  TME_HD void operator()(int i, int j, int k) const { chemotaxis_velocity_cell(a, i, j, k); }
};
struct ChemotaxisOp {
  ChemotaxisArgs a;
  TME_HD void operator()(int i, int j, int k) const { chemotaxis_cell(a, i, j, k); }
};

}  // namespace tme
