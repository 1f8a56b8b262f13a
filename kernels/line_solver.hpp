// Tridiagonal line solvers of the implicit schemes (implicit.hpp), one set shared by the CUDA
// kernels and the CPU loops: Thomas elimination with per-cell rows or with a factor table
// computed once per axis, the bordered (cyclic) variant for periodic lines, and the fold of
// short periodic lines. The matrix part of the elimination (elim_plain, elim_bordered) is
// written once, templated over the number type: the per-cell solves run it in `real`,
// build_line_factors (implicit_cpu.cpp) in double to fill the tables that the factored solve
// reads. The right-hand side recurrence and the back substitution are written once too
// (eliminate), for both sources of the matrix.
//
// Addressing: every solver runs on nl lines (lanes) at once; cells are reached through
// accessors called with (p, lane). On the GPU a thread solves one line of the field in place
// (StridedLine, nl = 1); on the CPU a thread solves a set of lanes gathered into a buffer
// [p][lane] (LaneBuffer) with the lane loop innermost, so the independent recurrences of
// neighbouring lanes vectorise.
#pragma once
#include "tme_hd.hpp"

// The lane loops: vectorised on the host with OpenMP; plain loops on the device.
#if defined(_OPENMP) && !defined(__CUDA_ARCH__)
#define TME_LANES _Pragma("omp simd")
#else
#define TME_LANES
#endif

namespace tme {

// Cell p of lane l of nl lines stored [p][lane] (the CPU's lane buffers).
struct LaneBuffer {
  real* v = nullptr;
  int nl = 1;
  TME_HD real& operator()(int p, int l) const { return v[(long long)p * nl + l]; }
};

// Cell p of one line whose consecutive cells are `stride` values apart (the GPU's lines).
struct StridedLine {
  real* v = nullptr;
  long long stride = 1;
  TME_HD real& operator()(int p, int) const { return v[p * stride]; }
};

// Row p of a tridiagonal system: a x_{p-1} + b x_p + c x_{p+1} (wrapping on cyclic lines).
template <class T>
struct TriT {
  T a = 0, b = 1, c = 0;
};
using Tri = TriT<real>;

// Periodic lines of one or two cells: the wrap couplings land on the same unknowns as the
// ordinary ones, so fold them in and solve as a plain (non-cyclic) system.
template <class T>
TME_HD inline TriT<T> fold_short_cyclic(TriT<T> t, int n, int p) {
  if (n == 1) return TriT<T>{0, t.b + t.a + t.c, 0};
  if (p == 0) return TriT<T>{0, t.b, t.c + t.a};
  return TriT<T>{t.a + t.c, t.b, 0};
}

// What the forward elimination of row p leaves for the right-hand side recurrence and the
// back substitution:
//   dp_p = (d_p - a dp_{p-1}) m,   (cyclic) D -= g dp_p,
//   x_p = dp_p - cp x_{p+1} - ep x_{n-1}.
template <class T>
struct ElimRow {
  T a = 0, m = 1, cp = 0, ep = 0, g = 0;
};

// Plain Thomas, row p: cp carries the previous row's normalised upper coupling (0 before
// row 0) and receives this row's.
template <class T>
TME_HD inline ElimRow<T> elim_plain(const TriT<T>& t, T& cp) {
  ElimRow<T> r;
  r.a = t.a;
  r.m = T(1) / (t.b - t.a * cp);
  r.cp = t.c * r.m;
  cp = r.cp;
  return r;
}

// Cyclic lines (periodic, n >= 3) are solved by Gaussian elimination of the bordered system
// (fill-in in the last row and column) instead of Sherman-Morrison: one pass instead of two
// solves and a correction, no pivoting needed for these diagonally dominant M-matrices, and
// for non-negative data every update of the right-hand side is a sum of non-negative terms
// (x >= 0 exactly in floating point, where Sherman-Morrison subtracts two solutions).
// Rows 0..n-2 are normalised to x_p + cp_p x_{p+1} + ep_p x_{n-1} = dp_p (row n-2 folds its
// upper coupling into ep); the last row accumulates g x_{p+1} + B x_{n-1} = D. Carried per
// line: cp, ep of the previous row, g and B of the last row (border_start: from the last row
// t_{n-1}, whose coupling a_{n-1} to x_{n-2} is an1).
template <class T>
TME_HD inline void border_start(const TriT<T>& last, T& cp, T& ep, T& g, T& B, T& an1) {
  cp = ep = T(0);
  g = last.c;  // the last row's coupling to x_0
  B = last.b;
  an1 = last.a;
}
template <class T>
TME_HD inline ElimRow<T> elim_bordered(const TriT<T>& t, int n, int p, T an1, T& cp, T& ep, T& g, T& B) {
  ElimRow<T> r;
  if (p == 0) {
    r.a = 0;
    r.m = T(1) / t.b;
    r.cp = t.c * r.m;
    r.ep = t.a * r.m;  // a_0 couples to x_{n-1}
  } else {
    r.a = t.a;
    r.m = T(1) / (t.b - t.a * cp);
    r.cp = t.c * r.m;
    r.ep = -t.a * ep * r.m;
  }
  if (p == n - 2) {  // x_{p+1} is x_{n-1}
    r.ep += r.cp;
    r.cp = T(0);
  }
  r.g = g;
  B -= g * r.ep;
  g = -g * r.cp + (p + 1 == n - 2 ? an1 : T(0));
  cp = r.cp;
  ep = r.ep;
  return r;
}

// Factor table of one species and axis for a line of n cells (factor_len(n) values, built on
// the host by build_line_factors with the recurrences above):
//   a'[n]  coupling of dp_{p-1} in the forward pass (0 at p = 0 on cyclic lines)
//   im[n]  1 / pivot
//   cp[n]  normalised upper coupling
//   ep[n]  normalised last-column coupling (cyclic lines only)
//   g[n]   last-row multipliers (cyclic only)
//   wl[n], wr[n], wf[n], bnd[n]   the LineRow of every cell (for right-hand sides; table_row)
//   1/B    last pivot (cyclic only)
TME_HD inline long long factor_len(int n) { return 9LL * n + 1; }

// Sources of the matrix for eliminate: row(p) gives what row p needs, fetched once per row
// before its lane loop (the factor table's values are the same in every lane, and loaded
// outside the loop the compiler need not reload them after each store to x). Its plain(l, d)
// and bordered(l, d) give the elimination of the row for lane l and its right-hand side d
// (called once per (p, l), in order of p), cp(l) and ep(l) the couplings for the back
// substitution. start(l) gives the right-hand side of the last row of a cyclic line (called
// before any row), last(l, D) the last unknown from the accumulated D.

// The factored matrix (one table for every lane) and right-hand sides rhs(p, l).
template <class Rhs>
struct TableRows {
  const real* f;
  int n;
  const Rhs& rhs;
  struct Row {
    const Rhs& rhs;
    int p;
    real a, m, g, cpv, epv;
    TME_HD ElimRow<real> plain(int l, real& d) const {
      d = rhs(p, l);
      ElimRow<real> r;
      r.a = a, r.m = m;
      return r;
    }
    TME_HD ElimRow<real> bordered(int l, real& d) const {
      ElimRow<real> r = plain(l, d);
      r.g = g;
      return r;
    }
    TME_HD real cp(int) const { return cpv; }
    TME_HD real ep(int) const { return epv; }
  };
  TME_HD Row row(int p) const { return Row{rhs, p, f[p], f[n + p], f[4 * n + p], f[2 * n + p], f[3 * n + p]}; }
  TME_HD real start(int l) const { return rhs(n - 1, l); }
  TME_HD real last(int, real D) const { return D * f[9 * n]; }
};

// Rows built per cell: elem(p, l, Tri& t, real& d) gives row p and its right-hand side; the
// matrix recurrence runs per lane (carried in L-lane arrays) and leaves cp, ep in the scratch
// accessors for the back substitution.
template <int L, class Elem, class CP, class EP>
struct CellRows {
  const Elem& elem;
  const CP& cps;
  const EP& eps;
  int n;
  bool fold;                                // periodic line of one or two cells
  real cpp[L], epp[L], g[L], B[L], an1[L];  // carried per lane (left uninitialised: set at row 0)
  TME_HD CellRows(const Elem& e, const CP& c, const EP& p, int n_, bool fold_)
      : elem(e), cps(c), eps(p), n(n_), fold(fold_) {}
  TME_HD real start(int l) {
    Tri t;
    real d;
    elem(n - 1, l, t, d);
    border_start(t, cpp[l], epp[l], g[l], B[l], an1[l]);
    return d;
  }
  TME_HD ElimRow<real> row_plain(int p, int l, real& d) {
    Tri t;
    elem(p, l, t, d);
    if (fold) t = fold_short_cyclic(t, n, p);
    if (p == 0) cpp[l] = real(0);
    const ElimRow<real> r = elim_plain(t, cpp[l]);
    cps(p, l) = r.cp;
    return r;
  }
  TME_HD ElimRow<real> row_bordered(int p, int l, real& d) {
    Tri t;
    elem(p, l, t, d);
    const ElimRow<real> r = elim_bordered(t, n, p, an1[l], cpp[l], epp[l], g[l], B[l]);
    cps(p, l) = r.cp;
    eps(p, l) = r.ep;
    return r;
  }
  struct Row {
    CellRows& m;
    int p;
    TME_HD ElimRow<real> plain(int l, real& d) const { return m.row_plain(p, l, d); }
    TME_HD ElimRow<real> bordered(int l, real& d) const { return m.row_bordered(p, l, d); }
    TME_HD real cp(int l) const { return m.cps(p, l); }
    TME_HD real ep(int l) const { return m.eps(p, l); }
  };
  TME_HD Row row(int p) { return Row{*this, p}; }
  TME_HD real last(int l, real D) const { return D / B[l]; }
};

// Forward elimination of row p (M::Row) on lane l: dp_p = (d - a dp_{p-1}) m from the previous
// row's dp (prev), stored in xp; on cyclic lines (kBordered) the last row's D -= g dp_p.
template <bool kBordered, class Row>
TME_HD inline real forward_cell(const Row& row, int l, real prev, real& xp, real& D) {
  real d;
  const ElimRow<real> r = kBordered ? row.bordered(l, d) : row.plain(l, d);
  const real v = (d - r.a * prev) * r.m;
  xp = v;
  if (kBordered) D -= r.g * v;
  return v;
}

// The values carried from row to row of a lane (dp_{p-1} forward, x_{p+1} backward) live where
// they are cheapest: one line per thread (L = 1, the GPU) keeps them in registers (dp, xn); a
// buffer of lanes (L > 1, the CPU) reads them back from x in place, x(p - 1, l) and x(p + 1, l),
// instead of a second store per cell into arrays of L values.
template <bool kBordered, int L, class M, class X>
TME_HD inline void forward_pass(int nf, int nl, M& mat, const X& x, real* dp, real* D) {
  for (int p = 0; p < nf; ++p) {
    const auto row = mat.row(p);
    if (L > 1 && p > 0) {
      TME_LANES
      for (int l = 0; l < nl; ++l) forward_cell<kBordered>(row, l, x(p - 1, l), x(p, l), D[l]);
    } else {  // dp: 0 before row 0
      TME_LANES
      for (int l = 0; l < nl; ++l) dp[l] = forward_cell<kBordered>(row, l, dp[l], x(p, l), D[l]);
    }
  }
}

// Back substitution, rows n-2 down to 0, after the last unknown of every lane has been given
// to out and kept (xn[l] for L = 1, x(n - 1, l) for L > 1): x_p = dp_p - cp x_{p+1} - ep x_{n-1}
// (the last term on cyclic lines only, x_{n-1} = xl).
template <bool kBordered, int L, class M, class X, class Out>
TME_HD inline void backward_pass(int n, int nl, M& mat, const X& x, real* xn, const real* xl, const Out& out) {
  for (int p = n - 2; p >= 0; --p) {
    const auto row = mat.row(p);
    TME_LANES
    for (int l = 0; l < nl; ++l) {
      real next;
      if constexpr (L > 1)
        next = x(p + 1, l);
      else
        next = xn[l];
      real v = x(p, l) - row.cp(l) * next;
      if (kBordered) v -= row.ep(l) * xl[l];
      if constexpr (L > 1)
        x(p, l) = v;
      else
        xn[l] = v;
      out(p, l, v);
    }
  }
}

// Solve M x = d on nl <= L lines at once (L = 1 on the GPU; up to kMaxImplicitLine on the CPU,
// so the independent recurrences vectorise). mat: TableRows or CellRows; x(p, l) -> real&:
// storage of the forward-pass values (in place: the right-hand side of (p, l) is read before
// x(p, l) is written; for L > 1 the solution is left there too); out(p, l, value): receives
// the solution, p descending.
template <int L, class M, class X, class Out>
TME_HD inline void eliminate(int n, bool cyclic, int nl, M& mat, const X& x, const Out& out) {
  real dp[L], xn[L], D[L], xl[L];
  TME_LANES
  for (int l = 0; l < nl; ++l) dp[l] = real(0);
  if (!cyclic || n <= 2) {
    forward_pass<false, L>(n, nl, mat, x, dp, D);
    TME_LANES
    for (int l = 0; l < nl; ++l) {  // x_{n-1} = dp_{n-1}, already in x for L > 1
      const real v = L > 1 ? x(n - 1, l) : dp[l];
      xn[l] = v;
      out(n - 1, l, v);
    }
    backward_pass<false, L>(n, nl, mat, x, xn, xl, out);
    return;
  }
  TME_LANES
  for (int l = 0; l < nl; ++l) D[l] = mat.start(l);
  forward_pass<true, L>(n - 1, nl, mat, x, dp, D);
  TME_LANES
  for (int l = 0; l < nl; ++l) {
    xl[l] = mat.last(l, D[l]);
    xn[l] = xl[l];
    if constexpr (L > 1) x(n - 1, l) = xl[l];
    out(n - 1, l, xl[l]);
  }
  backward_pass<true, L>(n, nl, mat, x, xn, xl, out);
}

// Per-cell rows: elem(p, l, Tri& t, real& d) gives row p and the right-hand side (called
// exactly once per (p, l), before x(p, l) is written, so d may be read from x in place);
// cp(p, l), ep(p, l) -> real&: scratch (ep only on cyclic lines).
template <int L, class Elem, class X, class CP, class EP, class Out>
TME_HD inline void solve_lines(int n, bool cyclic, int nl, const Elem& elem, const X& x, const CP& cp, const EP& ep,
                               const Out& out) {
  CellRows<L, Elem, CP, EP> mat(elem, cp, ep, n, cyclic && n <= 2);
  eliminate<L>(n, cyclic, nl, mat, x, out);
}

// The same elimination with the matrix factored once for all lines of an axis (uniform D,
// table f of factor_len(n) values): only the right-hand side recurrences remain per line;
// rhs(p, l) gives the right-hand side.
template <int L, class Rhs, class X, class Out>
TME_HD inline void solve_lines_factored(int n, bool cyclic, int nl, const real* f, const Rhs& rhs, const X& x,
                                        const Out& out) {
  TableRows<Rhs> mat{f, n, rhs};
  eliminate<L>(n, cyclic, nl, mat, x, out);
}

}  // namespace tme
