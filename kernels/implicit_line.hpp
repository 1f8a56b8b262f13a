// One grid line of the implicit (large-step) diffusion schemes: the 1D finite-volume operator
// L_a along axis a (the same discretisation as diffusion.hpp), the rows of (I - theta dt L_a),
// and tridiagonal solvers (Thomas, and a cyclic variant for periodic lines) that run in place
// on strided lines. All TME_HD: the CPU loops and the CUDA kernels call the same functions.
//
// Units: lengths um, time s, D um^2/s, face weights D/h^2 [1/s], values in the species' unit.
#pragma once
#include "diffusion.hpp"

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
TME_HD inline real face_weight(const SpeciesCoeffs& sc, const uint8_t* label, real inv_h2, int n, int p,
                               long long idx, long long stride, bool periodic) {
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

TME_HD inline LineRow line_row(const SpeciesCoeffs& sc, const uint8_t* label, int axis, real inv_h2, int n,
                               int p, long long idx, long long stride) {
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
// (a, c <= 0, b >= 1 + |a| + |c|), so M^-1 >= 0 and the solvers below keep x >= 0 for d >= 0.
struct Tri {
  real a = 0, b = 1, c = 0;
};
TME_HD inline Tri tri_row(const LineRow& r, real theta_dt) {
  return Tri{-theta_dt * r.wl, real(1) + theta_dt * (r.wl + r.wr + r.wf), -theta_dt * r.wr};
}

// Periodic lines of one or two cells: the wrap couplings land on the same unknowns as the
// ordinary ones, so fold them in and solve as a plain (non-cyclic) system.
TME_HD inline Tri fold_short_cyclic(Tri t, int n, int p) {
  if (n == 1) return Tri{0, t.b + t.a + t.c, 0};
  if (p == 0) return Tri{0, t.b, t.c + t.a};
  return Tri{t.a + t.c, t.b, 0};
}

// Solve M x = d on nl <= L lines at once (lanes; L = 1 on the GPU, a few on the CPU so the
// independent recurrences overlap). Accessors, each called with (p, lane):
//   elem(p, l, Tri& t, real& d): row p and right-hand side; called exactly once per (p, l),
//     before x(p, l) is written (so d may be read from x in place);
//   x(p, l) -> real&: storage of the line (forward-pass values, in place);
//   cp(p, l), ep(p, l) -> real&: scratch (ep only on cyclic lines);
//   out(p, l, value): receives the solution, p descending.
// Cyclic lines (periodic, n >= 3) are solved by Gaussian elimination of the bordered system
// (fill-in in the last row and column) instead of Sherman-Morrison: one pass instead of two
// solves and a correction, no pivoting needed for these diagonally dominant M-matrices, and
// for non-negative data every update of the right-hand side is a sum of non-negative terms
// (x >= 0 exactly in floating point, where Sherman-Morrison subtracts two solutions).
// Thomas back substitution for nl interleaved lines: x_{n-1} = last, x_p = y_p - c'_p x_{p+1},
// where y_p = x(p, l) holds the forward-eliminated values; each result goes to out(p, l, v).
template <int L, class X, class CP, class Out>
TME_HD inline void back_substitute(int n, int nl, const real* last, real* xn, const X& x, const CP& cp,
                                   const Out& out) {
  for (int l = 0; l < nl; ++l) {
    xn[l] = last[l];
    out(n - 1, l, xn[l]);
  }
  for (int p = n - 2; p >= 0; --p)
    for (int l = 0; l < nl; ++l) {
      xn[l] = x(p, l) - cp(p, l) * xn[l];
      out(p, l, xn[l]);
    }
}

template <int L, class Elem, class X, class CP, class EP, class Out>
TME_HD inline void solve_lines(int n, bool cyclic, int nl, const Elem& elem, const X& x, const CP& cp,
                               const EP& ep, const Out& out) {
  real cpp[L], dpp[L], xn[L];
  if (!cyclic || n <= 2) {
    for (int l = 0; l < nl; ++l) cpp[l] = dpp[l] = real(0);
    for (int p = 0; p < n; ++p)
      for (int l = 0; l < nl; ++l) {
        Tri t;
        real d;
        elem(p, l, t, d);
        if (cyclic) t = fold_short_cyclic(t, n, p);
        const real m = real(1) / (t.b - t.a * cpp[l]);
        cpp[l] = t.c * m;
        dpp[l] = (d - t.a * dpp[l]) * m;
        cp(p, l) = cpp[l];
        x(p, l) = dpp[l];
      }
    back_substitute<L>(n, nl, dpp, xn, x, cp, out);
    return;
  }
  // Cyclic: rows 0..n-2 are normalised to x_p + cp_p x_{p+1} + ep_p x_{n-1} = dp_p (row n-2
  // folds its upper coupling into ep); the last row accumulates g x_j + B x_{n-1} = D.
  real epp[L], g[L], B[L], D[L], an1[L];
  for (int l = 0; l < nl; ++l) {
    Tri t;
    real d;
    elem(n - 1, l, t, d);
    g[l] = t.c;  // last row's coupling to x_0
    B[l] = t.b;
    D[l] = d;
    an1[l] = t.a;  // last row's coupling to x_{n-2}
    cpp[l] = epp[l] = dpp[l] = real(0);
  }
  for (int p = 0; p <= n - 2; ++p)
    for (int l = 0; l < nl; ++l) {
      Tri t;
      real d;
      elem(p, l, t, d);
      real m, cpn, epn, dpn;
      if (p == 0) {
        m = real(1) / t.b;
        cpn = t.c * m;
        epn = t.a * m;  // a_0 couples to x_{n-1}
        dpn = d * m;
      } else {
        m = real(1) / (t.b - t.a * cpp[l]);
        cpn = t.c * m;
        epn = -t.a * epp[l] * m;
        dpn = (d - t.a * dpp[l]) * m;
      }
      if (p == n - 2) {  // x_{p+1} is x_{n-1}
        epn += cpn;
        cpn = real(0);
      }
      cp(p, l) = cpn;
      ep(p, l) = epn;
      x(p, l) = dpn;
      B[l] -= g[l] * epn;
      D[l] -= g[l] * dpn;
      g[l] = -g[l] * cpn + (p + 1 == n - 2 ? an1[l] : real(0));
      cpp[l] = cpn;
      epp[l] = epn;
      dpp[l] = dpn;
    }
  real xl[L];
  for (int l = 0; l < nl; ++l) {
    xl[l] = D[l] / B[l];
    xn[l] = xl[l];
    out(n - 1, l, xl[l]);
  }
  for (int p = n - 2; p >= 0; --p)
    for (int l = 0; l < nl; ++l) {
      xn[l] = x(p, l) - cp(p, l) * xn[l] - ep(p, l) * xl[l];
      out(p, l, xn[l]);
    }
}

// The same elimination with the matrix factored once for all lines of an axis (uniform D):
// only the right-hand side recurrences remain per line. Table of one species and axis for a
// line of n cells (factor_len(n) values, built on the host by build_line_factors):
//   a'[n]  coupling of dp_{p-1} in the forward pass (0 at p = 0)
//   im[n]  1 / pivot
//   cp[n]  normalised upper coupling
//   ep[n]  normalised last-column coupling (cyclic lines only)
//   g[n]   last-row multipliers (cyclic only)
//   wl[n], wr[n], wf[n], bnd[n]   the LineRow of every cell (for right-hand sides)
//   1/B    last pivot (cyclic only)
TME_HD inline long long factor_len(int n) { return 9LL * n + 1; }
TME_HD inline LineRow table_row(const real* f, int n, int p) {
  LineRow r;
  r.wl = f[5 * n + p];
  r.wr = f[6 * n + p];
  r.wf = f[7 * n + p];
  r.bnd = f[8 * n + p];
  return r;
}

template <int L, class Rhs, class X, class Out>
TME_HD inline void solve_lines_factored(int n, bool cyclic, int nl, const real* f, const Rhs& rhs, const X& x,
                                        const Out& out) {
  const real *fa = f, *fim = f + n, *fcp = f + 2 * n, *fep = f + 3 * n, *fg = f + 4 * n;
  real dpp[L], xn[L];
  if (!cyclic || n <= 2) {
    for (int l = 0; l < nl; ++l) dpp[l] = real(0);
    for (int p = 0; p < n; ++p)
      for (int l = 0; l < nl; ++l) {
        dpp[l] = (rhs(p, l) - fa[p] * dpp[l]) * fim[p];
        x(p, l) = dpp[l];
      }
    back_substitute<L>(n, nl, dpp, xn, x, [&](int p, int) { return fcp[p]; }, out);
    return;
  }
  real D[L], xl[L];
  for (int l = 0; l < nl; ++l) {
    D[l] = rhs(n - 1, l);
    dpp[l] = real(0);
  }
  for (int p = 0; p <= n - 2; ++p)
    for (int l = 0; l < nl; ++l) {
      dpp[l] = (rhs(p, l) - fa[p] * dpp[l]) * fim[p];
      x(p, l) = dpp[l];
      D[l] -= fg[p] * dpp[l];
    }
  const real iB = f[9 * n];
  for (int l = 0; l < nl; ++l) {
    xl[l] = D[l] * iB;
    xn[l] = xl[l];
    out(n - 1, l, xl[l]);
  }
  for (int p = n - 2; p >= 0; --p)
    for (int l = 0; l < nl; ++l) {
      xn[l] = x(p, l) - fcp[p] * xn[l] - fep[p] * xl[l];
      out(p, l, xn[l]);
    }
}

}  // namespace tme
