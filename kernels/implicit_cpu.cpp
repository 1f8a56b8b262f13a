// OpenMP loops of the implicit sweeps (kernels/implicit.hpp), the host-side factorisation of
// the uniform line systems, and a serial host run of the CUDA kernels' thread bodies (tests
// compare it with the CPU loops).
//
// CPU layout: a thread takes a set of lines (lanes) at a time: a whole x-row of lines for
// sweeps along y and z (one plane), kRowLanes rows for sweeps along x. It gathers their
// right-hand sides (sweep_rhs) and, for species solved line by line, their rows (sweep_tri)
// into a thread-local buffer ordered [p][lane], runs the shared line solvers of
// line_solver.hpp on it (lane loop innermost: the independent recurrences vectorise), and
// scatters the increment back (sweep_store). The field is read once and written once per
// sweep; the buffer stays in cache.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/launch.hpp"

namespace tme {
namespace {

constexpr int kRowLanes = 16;  // rows per group in sweeps along x

// Thread-local buffers of one sweep, [p][lane]: right-hand sides in, solution out (buf);
// rows (ta, tb, tc) and elimination scratch (cp, ep) of species solved line by line.
struct LaneBuffers {
  std::vector<real> buf, ta, tb, tc, cp, ep;
  void size(int n, int nl, bool rows) {
    const size_t m = (size_t)n * nl;
    buf.resize(m);
    if (rows) ta.resize(m), tb.resize(m), tc.resize(m), cp.resize(m), ep.resize(m);
  }
};

// Visits the cells (p, lane) of a group in the order of contiguous field accesses: p innermost
// for lines along x (a lane is a row), the lane innermost for lines along y and z.
template <class F>
inline void for_cells(int axis, int n, int nl, const F& f) {
  if (axis == 0) {
    for (int l = 0; l < nl; ++l)
      for (int p = 0; p < n; ++p) f(p, l);
  } else {
    for (int p = 0; p < n; ++p)
      for (int l = 0; l < nl; ++l) f(p, l);
  }
}

// Right-hand sides (sweep_rhs) of a group of lanes of a species with factor tables (uniform
// rows, no uptake, no held voxels) into x [p][lane]: the row of cell p, its neighbour offsets
// and the uniform reaction weights are the same in every lane, so they are hoisted out of the
// lane loops; the formulas are sweep_rhs's (implicit.hpp). Kept apart from sweep_rhs: calling
// sweep_rhs per cell instead (every cell re-deriving its row, neighbours and weights, scalar)
// made the uniform and periodic LOD and ADI steps 4.1-4.6x slower at 64^3
// (bench/results/2026-12-02-implicit-lanes.md).
void gather_table_rhs(const SweepArgs& a, const SpeciesCoeffs& sc, int s, int i0, int j0, int k0, const LaneBuffer& x) {
  const Dims d = a.g.d;
  const int axis = a.axis, n = axis_len(d, axis), nl = x.nl;
  const long long stride = axis_stride(d, axis), lane_stride = axis == 0 ? d.nx : 1;
  const long long base = d.index(i0, j0, k0), off = s * d.nvox();
  const real* f = species_table(a, s, axis);
  const bool react = has_reaction(sc);
  const real* S = sc.src_slot >= 0 ? a.src + sc.src_slot * d.nvox() + base : nullptr;  // lane 0, cell 0
  const real* c = a.c + off + base;
  if (a.kind == kSweepAdiMiddle || a.kind == kSweepAdiLast) {  // d = x
    const real* xs = a.x + off + base;
    for (int p = 0; p < n; ++p)
      for (int l = 0; l < nl; ++l) x(p, l) = xs[p * stride + l * lane_stride];
  } else if (a.kind == kSweepLod) {
    const real k = react ? sc.decay : real(0);  // reaction_rate without uptake
    for (int p = 0; p < n; ++p) {
      const LineRow r = table_row(f, n, p);
      const long long at = p * stride, lo = lower_nb(n, p, at, stride), up = upper_nb(n, p, at, stride);
      for (int l = 0; l < nl; ++l) {  // vectorised where lanes are contiguous (y, z)
        const long long q = l * lane_stride;
        const real c0 = c[at + q];
        x(p, l) = lod_rhs(a.theta_dt, row_value(r, c0, c[lo + q], c[up + q]), c0, S ? S[at + q] : real(0), k);
      }
    }
  } else if (axis == 0 && !sc.uses_labels) {
    // First ADI sweep (along x) with the operator assembled from the three axis tables as in
    // full_operator; lanes are the rows j0 + l of plane k0. (With labels the tables hold the
    // max-D preconditioner, not the operator: per cell below.)
    const real *fy = species_table(a, s, 1), *fz = species_table(a, s, 2);
    const real weight = react ? phi1(sc.decay * a.dt) : real(1);  // no uptake: uniform Phi
    const long long sy = axis_stride(d, 1), sz = axis_stride(d, 2);
    const LineRow rz = table_row(fz, d.nz, k0);
    const long long zlo = lower_nb(d.nz, k0, 0, sz), zup = upper_nb(d.nz, k0, 0, sz);
    for (int l = 0; l < nl; ++l) {
      const int j = j0 + l;
      const LineRow ry = table_row(fy, d.ny, j);
      const long long ylo = lower_nb(d.ny, j, 0, sy), yup = upper_nb(d.ny, j, 0, sy);
      const real* cl = c + l * lane_stride;  // row start
      const real* Sl = S ? S + l * lane_stride : nullptr;
      for (int p = 0; p < n; ++p) {
        const real c0 = cl[p];
        real F = row_value(table_row(f, n, p), c0, cl[lower_nb(n, p, p, 1)], cl[upper_nb(n, p, p, 1)]);
        F += row_value(ry, c0, cl[p + ylo], cl[p + yup]);
        F += row_value(rz, c0, cl[p + zlo], cl[p + zup]);
        const real rate = react ? reaction_change(Sl ? Sl[p] : real(0), sc.decay, real(0), c0) : real(0);
        x(p, l) = adi_first_rhs(a.dt, weight, F, rate);
      }
    }
  } else {
    for_cells(axis, n, nl, [&](int p, int l) {
      x(p, l) = sweep_rhs(a, sc, s, table_row(f, n, p), i0 + (axis == 0 ? p : l),
                          j0 + (axis == 0 ? l : (axis == 1 ? p : 0)), k0 + (axis == 2 ? p : 0));
    });
  }
}

// One group of nl <= L lanes: lane l, cell p is voxel (i0, j0, k0) + l e_lane + p e_axis.
template <int L>
void solve_group(const SweepArgs& a, const SpeciesCoeffs& sc, int s, int i0, int j0, int k0, int nl, LaneBuffers& lb) {
  const Dims d = a.g.d;
  const int axis = a.axis, n = axis_len(d, axis);
  const long long stride = axis_stride(d, axis), lane_stride = axis == 0 ? d.nx : 1;
  const long long base = d.index(i0, j0, k0), off = s * d.nvox();
  const bool rows = per_line(a, sc), cyclic = axis_periodic(sc, axis);
  const real* f = rows ? nullptr : species_table(a, s, axis);
  const LaneBuffer x{lb.buf.data(), nl};
  const LaneBuffer ta{lb.ta.data(), nl}, tb{lb.tb.data(), nl}, tc{lb.tc.data(), nl};
  // Gather: the right-hand sides and, for species solved line by line, the rows.
  if (rows) {
    for_cells(axis, n, nl, [&](int p, int l) {
      const long long idx = base + l * lane_stride + p * stride;
      const LineRow r = implicit_row(a, sc, p, idx);
      const Tri t = sweep_tri(a, sc, off, idx, r);
      ta(p, l) = t.a, tb(p, l) = t.b, tc(p, l) = t.c;
      x(p, l) = sweep_rhs(a, sc, s, r, i0 + (axis == 0 ? p : l), j0 + (axis == 0 ? l : (axis == 1 ? p : 0)),
                          k0 + (axis == 2 ? p : 0));
    });
  } else {
    gather_table_rhs(a, sc, s, i0, j0, k0, x);
  }
  // Solve in place.
  auto keep = [&](int p, int l, real v) { x(p, l) = v; };
  if (!rows) {
    solve_lines_factored<L>(n, cyclic, nl, f, x, x, keep);
  } else {
    auto elem = [&](int p, int l, Tri& t, real& dd) {
      t = Tri{ta(p, l), tb(p, l), tc(p, l)};
      dd = x(p, l);
    };
    solve_lines<L>(n, cyclic, nl, elem, x, LaneBuffer{lb.cp.data(), nl}, LaneBuffer{lb.ep.data(), nl}, keep);
  }
  // Scatter.
  for_cells(axis, n, nl, [&](int p, int l) { sweep_store(a, off, base + l * lane_stride + p * stride, x(p, l)); });
}

void sweep_species(const SweepArgs& a, int s) {
  const Dims d = a.g.d;
  const SpeciesCoeffs sc = a.coeffs[s];  // local copy
  const int n = axis_len(d, a.axis);
  const bool rows = per_line(a, sc);
  if (a.axis == 0) {
    const int groups = (d.ny + kRowLanes - 1) / kRowLanes;
#pragma omp parallel
    {
      LaneBuffers lb;
      lb.size(n, kRowLanes, rows);
#pragma omp for collapse(2) schedule(static)
      for (int k = 0; k < d.nz; ++k)
        for (int q = 0; q < groups; ++q) {
          const int j0 = q * kRowLanes;
          solve_group<kRowLanes>(a, sc, s, 0, j0, k, std::min(kRowLanes, d.ny - j0), lb);
        }
    }
    return;
  }
  const int outer = a.axis == 1 ? d.nz : d.ny;
#pragma omp parallel
  {
    LaneBuffers lb;
    lb.size(n, d.nx, rows);
#pragma omp for schedule(static)
    for (int o = 0; o < outer; ++o) {
      if (a.axis == 1)
        solve_group<kMaxImplicitLine>(a, sc, s, 0, 0, o, d.nx, lb);
      else
        solve_group<kMaxImplicitLine>(a, sc, s, 0, o, 0, d.nx, lb);
    }
  }
}

}  // namespace

void implicit_sweep_cpu(const SweepArgs& a) {
  for (int s = 0; s < a.nspecies; ++s) sweep_species(a, s);
}

void implicit_sweep_emulated(const SweepArgs& a) {
  const Dims d = a.g.d;
  if (a.axis == 0) {
    const int rows = tile_rows(d.nx);
    const long long nrows = (long long)d.ny * d.nz;
    std::vector<real> tile((size_t)rows * tile_pitch(d.nx));
    for (int s = 0; s < a.nspecies; ++s)
      for (long long row0 = 0; row0 < nrows; row0 += rows) {  // one block
        const int nr = (int)std::min<long long>(rows, nrows - row0);
        for (int e = 0; e < nr * d.nx; ++e) tile_load(a, s, row0, e, tile.data());
        for (int r = 0; r < nr; ++r) tile_solve(a, s, row0, r, tile.data());
        for (int e = 0; e < nr * d.nx; ++e) tile_store(a, s, row0, e, tile.data());
      }
    return;
  }
  const int outer = a.axis == 1 ? d.nz : d.ny;
  for (int s = 0; s < a.nspecies; ++s)
    for (int o = 0; o < outer; ++o)
      for (int i = 0; i < d.nx; ++i) sweep_line_body(a, s, i, o);
}

void check_implicit_grid(const Dims& d) {
  if (d.nx > kMaxImplicitLine || d.ny > kMaxImplicitLine || d.nz > kMaxImplicitLine)
    throw std::invalid_argument("implicit integrators: grid lines are limited to " + std::to_string(kMaxImplicitLine) +
                                " cells per axis (grid is " + std::to_string(d.nx) + "x" + std::to_string(d.ny) + "x" +
                                std::to_string(d.nz) + ")");
}

void build_line_factors(const SpeciesCoeffs* coeffs, int nspecies, const GridGeom& g, int axis, const double* theta_dts,
                        const double* rates, std::vector<real>& out) {
  const int n = axis_len(g.d, axis);
  const long long len = factor_len(n);
  out.assign((size_t)(nspecies * len), real(0));
  std::vector<TriT<double>> rows(n);
  for (int s = 0; s < nspecies; ++s) {
    const SpeciesCoeffs& sc = coeffs[s];
    // LOD solves labelled species line by line (their block is unused); ADI preconditions
    // them with their largest D (implicit.hpp).
    const double theta_dt = theta_dts[s];
    const real Dpre = max_D(sc);
    real* f = out.data() + s * len;
    real *fa = f, *fim = f + n, *fcp = f + 2 * n, *fep = f + 3 * n, *fg = f + 4 * n;
    const bool periodic = axis_periodic(sc, axis), cyclic = periodic && n >= 3;
    for (int p = 0; p < n; ++p) {
      const LineRow r = uniform_row(sc, Dpre, axis, g.inv_h2[axis], n, p);
      f[5 * n + p] = r.wl;
      f[6 * n + p] = r.wr;
      f[7 * n + p] = r.wf;
      f[8 * n + p] = r.bnd;
      TriT<double> t{-theta_dt * r.wl, 1 + theta_dt * (double(r.wl) + r.wr + r.wf + rates[s]), -theta_dt * r.wr};
      rows[p] = periodic && !cyclic ? fold_short_cyclic(t, n, p) : t;
    }
    // The matrix part of the solvers' elimination (line_solver.hpp), in double.
    auto store = [&](int p, const ElimRow<double>& e) {
      fa[p] = real(e.a), fim[p] = real(e.m), fcp[p] = real(e.cp), fep[p] = real(e.ep), fg[p] = real(e.g);
    };
    if (!cyclic) {
      double cp = 0;
      for (int p = 0; p < n; ++p) store(p, elim_plain(rows[p], cp));
      continue;
    }
    double cp, ep, gl, B, an1;
    border_start(rows[n - 1], cp, ep, gl, B, an1);
    for (int p = 0; p <= n - 2; ++p) store(p, elim_bordered(rows[p], n, p, an1, cp, ep, gl, B));
    f[9 * n] = real(1 / B);
  }
}

ImplicitScratchNeeds implicit_scratch_needs(Scheme scheme, const std::vector<SpeciesCoeffs>& coeffs) {
  ImplicitScratchNeeds n;
  for (const auto& sc : coeffs) {
    const bool per_line = per_line_species(scheme == Scheme::kLodEuler, sc);
    n.rows |= per_line;
    n.rows_periodic |= per_line && (axis_periodic(sc, 0) || axis_periodic(sc, 1) || axis_periodic(sc, 2));
  }
  return n;
}

void build_all_line_factors(Scheme scheme, double dt, const std::vector<SpeciesCoeffs>& coeffs, const GridGeom& g,
                            std::vector<real> out[3]) {
  std::vector<double> theta_dt, rate;
  for (const auto& sc : coeffs) {
    theta_dt.push_back(implicit_theta_dt(scheme, sc, dt));
    rate.push_back(implicit_diag_rate(scheme, sc));
  }
  for (int axis = 0; axis < 3; ++axis)
    build_line_factors(coeffs.data(), (int)coeffs.size(), g, axis, theta_dt.data(), rate.data(), out[axis]);
}

}  // namespace tme
