// One-cell finite-volume diffusion: 7-point stencil, per-face coefficient by harmonic
// mean of the two cells' tissue-label coefficients, boundary conditions per face.
#pragma once
#include "coeffs.hpp"
#include "view.hpp"

namespace tme {

// Harmonic mean of two diffusion coefficients; 0 when either side is impermeable.
TME_HD inline real harmonic_mean(real a, real b) {
  const real s = a + b;
  return (a > 0 && b > 0) ? real(2) * a * b / s : real(0);
}

TME_HD inline real cell_D(const SpeciesCoeffs& sc, const uint8_t* label, long long idx) {
  return sc.uses_labels ? sc.D[label[idx]] : sc.D[0];
}

TME_HD inline real face_D(const SpeciesCoeffs& sc, const uint8_t* label, long long a, long long b) {
  return sc.uses_labels ? harmonic_mean(sc.D[label[a]], sc.D[label[b]]) : sc.D[0];
}

// Contribution of one face to dc/dt of cell (i,j,k): flux through that face divided by the
// cell volume [species unit / s]. `dir` is -1 or +1, `axis` 0,1,2. Across a face of the grid
// the neighbour or the ghost value comes from boundary.hpp.
TME_HD inline real face_term(ConstView<real> c, const SpeciesCoeffs& sc, const uint8_t* label, const GridGeom& g, int i,
                             int j, int k, int axis, int dir) {
  const int n = axis == 0 ? g.d.nx : (axis == 1 ? g.d.ny : g.d.nz);
  const int p = axis == 0 ? i : (axis == 1 ? j : k);
  const long long self = g.d.index(i, j, k);
  const real cs = c.p[self];
  int q = p + dir;
  if (q < 0 || q >= n) {  // across a face of the grid: the periodic neighbour or a wall
    q = across_face(n, p, dir, axis_periodic(sc, axis));
    if (q < 0) {
      const real jump = wall_jump(sc.bc[face_index(axis, dir)], cs);
      return jump == real(0) ? real(0) : cell_D(sc, label, self) * jump * g.inv_h2[axis];
    }
  }
  const int ni = axis == 0 ? q : i, nj = axis == 1 ? q : j, nk = axis == 2 ? q : k;
  const long long nb = g.d.index(ni, nj, nk);
  return face_D(sc, label, self, nb) * (c.p[nb] - cs) * g.inv_h2[axis];
}

// Same with one coefficient D [um^2/s] everywhere (branch-free; vectorises).
TME_HD inline real diffusion_rhs_interior_uniform(const real* c, real D, const GridGeom& g, long long idx) {
  const long long sy = g.d.nx, sz = (long long)g.d.nx * g.d.ny;
  const real cs = c[idx];
  return D * ((c[idx - 1] + c[idx + 1] - real(2) * cs) * g.inv_h2[0] +
              (c[idx - sy] + c[idx + sy] - real(2) * cs) * g.inv_h2[1] +
              (c[idx - sz] + c[idx + sz] - real(2) * cs) * g.inv_h2[2]);
}

// Diffusion part of dc/dt at a cell whose six neighbours all lie inside the grid.
TME_HD inline real diffusion_rhs_interior(ConstView<real> c, const SpeciesCoeffs& sc, const uint8_t* label,
                                          const GridGeom& g, long long idx) {
  const long long sy = g.d.nx, sz = (long long)g.d.nx * g.d.ny;
  const real cs = c.p[idx];
  if (!sc.uses_labels) return diffusion_rhs_interior_uniform(c.p, sc.D[0], g, idx);
  const real d0 = sc.D[label[idx]];
  auto f = [&](long long nb) { return harmonic_mean(d0, sc.D[label[nb]]) * (c.p[nb] - cs); };
  return (f(idx - 1) + f(idx + 1)) * g.inv_h2[0] + (f(idx - sy) + f(idx + sy)) * g.inv_h2[1] +
         (f(idx - sz) + f(idx + sz)) * g.inv_h2[2];
}

// Diffusion part of dc/dt at one cell [species unit / s].
TME_HD inline real diffusion_rhs(ConstView<real> c, const SpeciesCoeffs& sc, const uint8_t* label, const GridGeom& g,
                                 int i, int j, int k) {
  if (i > 0 && j > 0 && k > 0 && i < g.d.nx - 1 && j < g.d.ny - 1 && k < g.d.nz - 1)
    return diffusion_rhs_interior(c, sc, label, g, g.d.index(i, j, k));
  return face_term(c, sc, label, g, i, j, k, 0, -1) + face_term(c, sc, label, g, i, j, k, 0, +1) +
         face_term(c, sc, label, g, i, j, k, 1, -1) + face_term(c, sc, label, g, i, j, k, 1, +1) +
         face_term(c, sc, label, g, i, j, k, 2, -1) + face_term(c, sc, label, g, i, j, k, 2, +1);
}

}  // namespace tme
