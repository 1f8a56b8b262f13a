// OpenMP loops of the implicit sweeps and the reaction pass (kernels/implicit.hpp), the
// host-side factorisation of the uniform line systems, and a serial host run of the CUDA
// kernels' thread bodies (tests compare it with the CPU loops).
//
// CPU layout: a thread takes a set of lines (lanes) at a time: a whole x-row of lines for
// sweeps along y and z (one plane), kRowLanes rows for sweeps along x. It gathers their
// right-hand sides (and, with tissue labels, their rows) into a thread-local buffer ordered
// [p][lane], runs the elimination with the lane loop innermost (independent recurrences,
// contiguous: vectorised), and scatters the increment back (sweep_store). The field
// is read once and written once per sweep; the buffer stays in cache.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/launch.hpp"

namespace tme {
namespace {

constexpr int kRowLanes = 16;  // rows per group in sweeps along x

// Elimination on a buffer of nl lanes with the factored uniform matrix (solve_lines_factored
// with the lanes innermost). buf: [p][lane] right-hand sides in, solution out; D, xl: nl each.
void solve_buffer_factored(int n, int nl, bool cyclic, const real* f, real* buf, real* D, real* xl) {
  const real *fa = f, *fim = f + n, *fcp = f + 2 * n, *fep = f + 3 * n, *fg = f + 4 * n;
  const bool cyc = cyclic && n >= 3;
  const int last = cyc ? n - 2 : n - 1;  // rows of the plain forward recurrence
  if (cyc) {
    const real* bl = buf + (long long)(n - 1) * nl;
#pragma omp simd
    for (int l = 0; l < nl; ++l) D[l] = bl[l];
  }
  for (int p = 0; p <= last; ++p) {
    real* cur = buf + (long long)p * nl;
    const real* prev = p > 0 ? cur - nl : cur;
    const real ap = p > 0 ? fa[p] : real(0), mp = fim[p], gp = cyc ? fg[p] : real(0);
#pragma omp simd
    for (int l = 0; l < nl; ++l) {
      cur[l] = (cur[l] - ap * prev[l]) * mp;
      if (cyc) D[l] -= gp * cur[l];
    }
  }
  if (!cyc) {
    for (int p = n - 2; p >= 0; --p) {
      real* cur = buf + (long long)p * nl;
      const real cpp = fcp[p];
#pragma omp simd
      for (int l = 0; l < nl; ++l) cur[l] -= cpp * cur[l + nl];
    }
    return;
  }
  const real iB = f[9 * n];
  real* bl = buf + (long long)(n - 1) * nl;
#pragma omp simd
  for (int l = 0; l < nl; ++l) bl[l] = xl[l] = D[l] * iB;
  for (int p = n - 2; p >= 0; --p) {
    real* cur = buf + (long long)p * nl;
    const real cpp = fcp[p], epp = fep[p];
#pragma omp simd
    for (int l = 0; l < nl; ++l) cur[l] = cur[l] - cpp * cur[l + nl] - epp * xl[l];
  }
}

// Same with per-lane rows (tissue labels): ta, tb, tc [p][lane] (short periodic lines already
// folded); cp, ep [p][lane] scratch; g, B, D, xl: nl each (cyclic only). As solve_lines.
void solve_buffer_rows(int n, int nl, bool cyclic, const real* ta, const real* tb, const real* tc, real* buf,
                       real* cp, real* ep, real* g, real* B, real* D, real* xl) {
  const bool cyc = cyclic && n >= 3;
  if (cyc) {
    const long long o = (long long)(n - 1) * nl;
    for (int l = 0; l < nl; ++l) g[l] = tc[o + l], B[l] = tb[o + l], D[l] = buf[o + l];
  }
  const int last = cyc ? n - 2 : n - 1;
  for (int p = 0; p <= last; ++p) {
    const long long o = (long long)p * nl, q = p > 0 ? o - nl : o;
    const real an1 = cyc && p + 1 == n - 2;  // 1 when the next last-row coupling gains a_{n-1}
    const long long on1 = (long long)(n - 1) * nl;
    for (int l = 0; l < nl; ++l) {
      real m, cpn, epn, dpn;
      if (p == 0) {
        m = real(1) / tb[o + l];
        cpn = tc[o + l] * m;
        epn = cyc ? ta[o + l] * m : real(0);
        dpn = buf[o + l] * m;
      } else {
        m = real(1) / (tb[o + l] - ta[o + l] * cp[q + l]);
        cpn = tc[o + l] * m;
        epn = cyc ? -ta[o + l] * ep[q + l] * m : real(0);
        dpn = (buf[o + l] - ta[o + l] * buf[q + l]) * m;
      }
      if (cyc && p == n - 2) epn += cpn, cpn = real(0);
      cp[o + l] = cpn;
      buf[o + l] = dpn;
      if (cyc) {
        ep[o + l] = epn;
        B[l] -= g[l] * epn;
        D[l] -= g[l] * dpn;
        g[l] = -g[l] * cpn + an1 * ta[on1 + l];
      }
    }
  }
  if (!cyc) {
    for (int p = n - 2; p >= 0; --p) {
      const long long o = (long long)p * nl;
      for (int l = 0; l < nl; ++l) buf[o + l] -= cp[o + l] * buf[o + nl + l];
    }
    return;
  }
  const long long on1 = (long long)(n - 1) * nl;
  for (int l = 0; l < nl; ++l) buf[on1 + l] = xl[l] = D[l] / B[l];
  for (int p = n - 2; p >= 0; --p) {
    const long long o = (long long)p * nl;
    for (int l = 0; l < nl; ++l) buf[o + l] = buf[o + l] - cp[o + l] * buf[o + nl + l] - ep[o + l] * xl[l];
  }
}

// Thread-local buffers of one sweep.
struct LaneBuffers {
  std::vector<real> buf, ta, tb, tc, cp, ep, g, B, D, xl;
  void size(int n, int nl, bool rows) {
    const size_t m = (size_t)n * nl;
    buf.resize(m);
    D.resize(nl);
    xl.resize(nl);
    if (rows) {
      ta.resize(m), tb.resize(m), tc.resize(m), cp.resize(m), ep.resize(m);
      g.resize(nl), B.resize(nl);
    }
  }
};

// One group of nl lanes: lane l, cell p is voxel (i0, j0, k0) + l e_lane + p e_axis.
void solve_group(const SweepArgs& a, const SpeciesCoeffs& sc, int s, int i0, int j0, int k0, int nl,
                 LaneBuffers& lb) {
  const Dims d = a.g.d;
  const int axis = a.axis, n = axis_len(d, axis);
  const long long stride = axis_stride(d, axis), lane_stride = axis == 0 ? d.nx : 1;
  const long long base = d.index(i0, j0, k0), off = s * d.nvox();
  const bool labels = per_line(a, sc), periodic = axis_periodic(sc, axis);  // labels: rows per cell
  const real* f = labels ? nullptr : species_table(a, s, axis);
  // Gather: right-hand sides (and rows with labels).
  if (!labels && !sc.uses_labels && a.kind == kSweepAdiFirst && axis == 0) {
    // Uniform D, first ADI sweep (always along x): d = dt Phi (F(c) + S - k c) with F
    // assembled from the three axis tables (flux form); lanes are rows j0 + l of plane k0.
    // (With labels the tables hold the max-D preconditioner, not the operator: generic path.)
    const real* fx = f;
    const real *fy = species_table(a, s, 1), *fz = species_table(a, s, 2);
    const real dt = a.dt, kd = sc.decay;
    const real wdt = has_reaction(sc) ? dt * phi1(kd * dt) : dt;  // no uptake here: uniform Phi
    const real* S = sc.src_slot >= 0 ? a.src + sc.src_slot * d.nvox() + base : nullptr;
    const long long sy = axis_stride(d, 1), sz = axis_stride(d, 2);
    for (int l = 0; l < nl; ++l) {
      const int j = j0 + l;
      const LineRow ry = table_row(fy, d.ny, j), rz = table_row(fz, d.nz, k0);
      const long long ylo = lower_nb(d.ny, j, 0, sy), yup = upper_nb(d.ny, j, 0, sy);
      const long long zlo = lower_nb(d.nz, k0, 0, sz), zup = upper_nb(d.nz, k0, 0, sz);
      const real* c = a.c + off + base + l * lane_stride;  // row start
      const real* Sl = S ? S + l * lane_stride : nullptr;
      const real byz = ry.bnd + rz.bnd, wfyz = ry.wf + rz.wf;
      for (int p = 0; p < n; ++p) {
        const LineRow rx = table_row(fx, n, p);
        const real cc = c[p];
        real F = rx.wl * (c[lower_nb(n, p, p, 1)] - cc) + rx.wr * (c[upper_nb(n, p, p, 1)] - cc);
        F += ry.wl * (c[p + ylo] - cc) + ry.wr * (c[p + yup] - cc);
        F += rz.wl * (c[p + zlo] - cc) + rz.wr * (c[p + zup] - cc);
        F += rx.bnd + byz - (rx.wf + wfyz) * cc - kd * cc + (Sl ? Sl[p] : real(0));
        lb.buf[(long long)p * nl + l] = wdt * F;
      }
    }
  } else {
    for (int p = 0; p < n; ++p) {
      const long long o = (long long)p * nl;
      real* bo = lb.buf.data() + o;
      if (!labels && a.kind != kSweepAdiFirst) {
        // Uniform D: the row is the same for every lane (sweep_rhs specialised, branch-free).
        const long long at = off + base + p * stride;
        if (a.kind == kSweepLod) {
          const LineRow r = table_row(f, n, p);
          const real* cs = a.c + at;
          const long long dlo = lower_nb(n, p, 0, stride), dup = upper_nb(n, p, 0, stride);
          const real th = a.theta_dt, k3 = sc.decay / real(3);  // no uptake here (per_line)
          const real* S = sc.src_slot >= 0 ? a.src + sc.src_slot * d.nvox() + base + p * stride : nullptr;
          for (int l = 0; l < nl; ++l) {
            const long long q = l * lane_stride;
            const real cc = cs[q];
            real v = r.wl * (cs[q + dlo] - cc) + r.wr * (cs[q + dup] - cc) - r.wf * cc + r.bnd - k3 * cc;
            if (S) v += S[q] / real(3);
            bo[l] = th * v;
          }
        } else {
          const real* xs = a.x + at;
          for (int l = 0; l < nl; ++l) bo[l] = xs[l * lane_stride];
        }
        continue;
      }
      for (int l = 0; l < nl; ++l) {
        const int i = i0 + (axis == 0 ? p : l), j = j0 + (axis == 0 ? l : (axis == 1 ? p : 0)),
                  k = k0 + (axis == 2 ? p : 0);
        const long long idx = base + l * lane_stride + p * stride;
        if (!labels) {
          bo[l] = sweep_rhs(a, sc, s, table_row(f, n, p), i, j, k);
        } else {
          const LineRow r = implicit_row(a, sc, p, idx);
          Tri t = sweep_tri(a, sc, off, idx, r);
          if (periodic && n <= 2) t = fold_short_cyclic(t, n, p);
          lb.ta[o + l] = t.a, lb.tb[o + l] = t.b, lb.tc[o + l] = t.c;
          bo[l] = sweep_rhs(a, sc, s, r, i, j, k);
        }
      }
    }
  }
  if (!labels)
    solve_buffer_factored(n, nl, periodic, f, lb.buf.data(), lb.D.data(), lb.xl.data());
  else
    solve_buffer_rows(n, nl, periodic, lb.ta.data(), lb.tb.data(), lb.tc.data(), lb.buf.data(), lb.cp.data(),
                      lb.ep.data(), lb.g.data(), lb.B.data(), lb.D.data(), lb.xl.data());
  // Scatter (sweep_store, specialised): the increment, or the state plus the increment.
  for (int p = 0; p < n; ++p) {
    const real* bo = lb.buf.data() + (long long)p * nl;
    const long long at = off + base + p * stride;
    if (a.kind == kSweepAdiFirst || a.kind == kSweepAdiMiddle) {
      real* xs = a.x + at;
      for (int l = 0; l < nl; ++l) xs[l * lane_stride] = bo[l];
    } else if (a.kind == kSweepAdiLast) {
      real* cs = a.c + at;
      for (int l = 0; l < nl; ++l) cs[l * lane_stride] += bo[l];
    } else {
      real* cs = a.c + at;
      for (int l = 0; l < nl; ++l) {
        const real v = cs[l * lane_stride] + bo[l];
        cs[l * lane_stride] = clamp_nonneg(v);  // round-off only; NaN stays NaN
      }
    }
  }
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
          solve_group(a, sc, s, 0, j0, k, std::min(kRowLanes, d.ny - j0), lb);
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
        solve_group(a, sc, s, 0, 0, o, d.nx, lb);
      else
        solve_group(a, sc, s, 0, o, 0, d.nx, lb);
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
    throw std::invalid_argument("implicit integrators: grid lines are limited to " +
                                std::to_string(kMaxImplicitLine) + " cells per axis (grid is " +
                                std::to_string(d.nx) + "x" + std::to_string(d.ny) + "x" +
                                std::to_string(d.nz) + ")");
}

void build_line_factors(const SpeciesCoeffs* coeffs, int nspecies, const GridGeom& g, int axis,
                        const double* theta_dts, const double* rates, std::vector<real>& out) {
  const int n = axis_len(g.d, axis);
  const long long len = factor_len(n);
  out.assign((size_t)(nspecies * len), real(0));
  std::vector<double> ra(n), rb(n), rc(n);
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
      ra[p] = -theta_dt * r.wl;
      rb[p] = 1 + theta_dt * (double(r.wl) + r.wr + r.wf + rates[s]);
      rc[p] = -theta_dt * r.wr;
      if (periodic && !cyclic) {  // fold_short_cyclic, in double
        if (n == 1) rb[p] += ra[p] + rc[p], ra[p] = rc[p] = 0;
        else if (p == 0) rc[p] += ra[p], ra[p] = 0;
        else ra[p] += rc[p], rc[p] = 0;
      }
    }
    if (!cyclic) {
      double cpp = 0;
      for (int p = 0; p < n; ++p) {
        const double m = 1 / (rb[p] - ra[p] * cpp);
        cpp = rc[p] * m;
        fa[p] = real(ra[p]);
        fim[p] = real(m);
        fcp[p] = real(cpp);
      }
      continue;
    }
    // Bordered elimination, as in solve_lines (matrix part only).
    double g_last = rc[n - 1], B = rb[n - 1], cpp = 0, epp = 0;
    for (int p = 0; p <= n - 2; ++p) {
      double m, cpn, epn;
      if (p == 0) {
        m = 1 / rb[0];
        cpn = rc[0] * m;
        epn = ra[0] * m;
        fa[0] = 0;
      } else {
        m = 1 / (rb[p] - ra[p] * cpp);
        cpn = rc[p] * m;
        epn = -ra[p] * epp * m;
        fa[p] = real(ra[p]);
      }
      if (p == n - 2) epn += cpn, cpn = 0;
      fim[p] = real(m);
      fcp[p] = real(cpn);
      fep[p] = real(epn);
      fg[p] = real(g_last);
      B -= g_last * epn;
      g_last = -g_last * cpn + (p + 1 == n - 2 ? ra[n - 1] : 0.0);
      cpp = cpn;
      epp = epn;
    }
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

void build_all_line_factors(Scheme scheme, double dt, const std::vector<SpeciesCoeffs>& coeffs,
                            const GridGeom& g, std::vector<real> out[3]) {
  std::vector<double> theta_dt, rate;
  for (const auto& sc : coeffs) {
    theta_dt.push_back(implicit_theta_dt(scheme, sc, dt));
    rate.push_back(implicit_diag_rate(scheme, sc));
  }
  for (int axis = 0; axis < 3; ++axis)
    build_line_factors(coeffs.data(), (int)coeffs.size(), g, axis, theta_dt.data(), rate.data(), out[axis]);
}

}  // namespace tme
