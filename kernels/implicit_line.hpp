// One grid line of the implicit (large-step) diffusion schemes: the 1D finite-volume operator
// L_a along axis a (the same discretisation as diffusion.hpp) and the rows of (I - theta dt L_a);
// the tridiagonal solvers of these rows are in line_solver.hpp. All TME_HD: the CPU loops and
// the CUDA kernels call the same functions.
//
// Units: lengths um, time s, D um^2/s, face weights D/h^2 [1/s], values in the species' unit.
#pragma once
#include "diffusion.hpp"
#include "line_solver.hpp"

namespace tme {

// Longest line the implicit schemes accept (host code checks and throws on longer ones).
constexpr int kMaxImplicitLine = 1024;

TME_HD inline int axis_len(const Dims& d, int axis) { return axis == 0 ? d.nx : (axis == 1 ? d.ny : d.nz); }
TME_HD inline long long axis_stride(const Dims& d, int axis) {
  return axis == 0 ? 1 : (axis == 1 ? (long long)d.nx : (long long)d.nx * d.ny);
}

// Weight [1/s] of the face between cells p and p+1 of a line (idx: voxel index of cell p,
// stride: voxel distance of consecutive cells). For p = n-1 it is the wrap face to cell 0 on a
// periodic line (0 when n == 1: a cell exchanging with itself carries no flux), else 0: the
// neighbour across the face comes from across_face (boundary.hpp).
TME_HD inline real face_weight(const SpeciesCoeffs& sc, const uint8_t* label, real inv_h2, int n, int p, long long idx,
                               long long stride, bool periodic) {
  const int q = across_face(n, p, +1, periodic);
  if (q < 0) return real(0);
  return face_D(sc, label, idx, idx + (long long)(q - p) * stride) * inv_h2;
}

// Row p of the 1D operator: (L c)_p = wl (c_{p-1} - c_p) + wr (c_{p+1} - c_p) - wf c_p + bnd,
// with c_{-1} and c_n wrapping on periodic lines. wl, wr, wf [1/s]; wf and bnd [unit/s] hold the
// wall faces of the end cells (wall_row_terms, boundary.hpp; the ghost cell has the end cell's
// D). On non-periodic lines the end cells have wl = 0 (p = 0) and wr = 0 (p = n-1).
struct LineRow {
  real wl = 0, wr = 0, wf = 0, bnd = 0;
};

TME_HD inline LineRow line_row(const SpeciesCoeffs& sc, const uint8_t* label, int axis, real inv_h2, int n, int p,
                               long long idx, long long stride) {
  const bool per = axis_periodic(sc, axis);
  LineRow r;
  r.wr = face_weight(sc, label, inv_h2, n, p, idx, stride, per);
  r.wl = p > 0 ? face_weight(sc, label, inv_h2, n, p - 1, idx - stride, stride, per)
               : face_weight(sc, label, inv_h2, n, n - 1, idx + (long long)(n - 1) * stride, stride, per);
  if (!per && (p == 0 || p == n - 1)) {
    const real w = cell_D(sc, label, idx) * inv_h2;
    if (p == 0) wall_row_terms(sc.bc[face_index(axis, -1)], w, r.wf, r.bnd);
    if (p == n - 1) wall_row_terms(sc.bc[face_index(axis, +1)], w, r.wf, r.bnd);
  }
  return r;
}

// The same row with one diffusion coefficient D [um^2/s] everywhere (no labels): the rows of
// the preconditioning line factors of the ADI scheme (implicit.hpp).
TME_HD inline LineRow uniform_row(const SpeciesCoeffs& sc, real D, int axis, real inv_h2, int n, int p) {
  const bool per = axis_periodic(sc, axis);
  const real w = D * inv_h2;
  LineRow r;
  r.wl = across_face(n, p, -1, per) >= 0 ? w : real(0);
  r.wr = across_face(n, p, +1, per) >= 0 ? w : real(0);
  if (!per) {
    if (p == 0) wall_row_terms(sc.bc[face_index(axis, -1)], w, r.wf, r.bnd);
    if (p == n - 1) wall_row_terms(sc.bc[face_index(axis, +1)], w, r.wf, r.bnd);
  }
  return r;
}

// Largest diffusion coefficient of a species [um^2/s] (over its labels when it uses them).
TME_HD inline real max_D(const SpeciesCoeffs& sc) {
  if (!sc.uses_labels) return sc.D[0];
  real m = 0;
  for (int l = 0; l < kMaxLabels; ++l) m = sc.D[l] > m ? sc.D[l] : m;
  return m;
}

// Voxel indices of the lower and upper neighbour of cell p along a line (wrapping). On
// non-periodic lines the wrapped index is a valid voxel whose weight in LineRow is 0.
TME_HD inline long long lower_nb(int n, int p, long long idx, long long stride) {
  return idx + (long long)(wrap_index(n, p, -1) - p) * stride;
}
TME_HD inline long long upper_nb(int n, int p, long long idx, long long stride) {
  return idx + (long long)(wrap_index(n, p, +1) - p) * stride;
}

// Linear part of (L c)_p (without the boundary term) [unit/s]; c is one species block. Flux
// form: the flux through a face is computed with the same weight and difference in both cells,
// so the fluxes cancel exactly in sums (float32 conservation).
TME_HD inline real apply_row(const LineRow& r, const real* c, int n, int p, long long idx, long long stride) {
  const real cs = c[idx];
  return r.wl * (c[lower_nb(n, p, idx, stride)] - cs) + r.wr * (c[upper_nb(n, p, idx, stride)] - cs) - r.wf * cs;
}

// Row p of M = I - theta_dt * L (theta_dt [s]): a x_{p-1} + b x_p + c x_{p+1}. An M-matrix
// (a, c <= 0, b >= 1 + |a| + |c|), so M^-1 >= 0 and the line solvers keep x >= 0 for d >= 0.
TME_HD inline Tri tri_row(const LineRow& r, real theta_dt) {
  return Tri{-theta_dt * r.wl, real(1) + theta_dt * (r.wl + r.wr + r.wf), -theta_dt * r.wr};
}

// Row p of the factor table f of a line of n cells (layout: line_solver.hpp, factor_len).
TME_HD inline LineRow table_row(const real* f, int n, int p) {
  LineRow r;
  r.wl = f[5 * n + p];
  r.wr = f[6 * n + p];
  r.wf = f[7 * n + p];
  r.bnd = f[8 * n + p];
  return r;
}

}  // namespace tme
