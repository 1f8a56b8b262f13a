// Exact solutions and helpers shared by the core tests (also the slow ones).
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "host/core/simulation.hpp"

namespace tme::test {

// Run p from 0 to t_end on the given backend and return the final state.
inline std::vector<real> run(Backend& b, const Problem& p, double t_end, long long* steps = nullptr) {
  b.load(p);
  Simulation sim(p, b);
  sim.advance_to(t_end);
  if (steps) *steps = sim.steps();
  std::vector<real> out;
  b.read_state(out);
  return out;
}

// Relative L2 error of a 3D Gaussian pulse with decay against the exact solution.
inline double gaussian_error(Backend& b, int n) {
  const double L = 1600, h = L / n, D = 100, k = 0.01, sigma0 = 100, T = 50;
  Problem p = make_uniform_problem({n, n, n}, h, 1, D, k);
  auto r2 = [&](int i, int j, int kk) {
    const double x = p.grid.center(0, i) - L / 2, y = p.grid.center(1, j) - L / 2, z = p.grid.center(2, kk) - L / 2;
    return x * x + y * y + z * z;
  };
  for (int kk = 0; kk < n; ++kk)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
        p.initial[p.grid.d.index(i, j, kk)] = real(std::exp(-r2(i, j, kk) / (2 * sigma0 * sigma0)));
  const std::vector<real> c = run(b, p, T);
  const double s2 = sigma0 * sigma0 + 2 * D * T;
  double num = 0, den = 0;
  for (int kk = 0; kk < n; ++kk)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        const double exact =
            std::pow(sigma0 * sigma0 / s2, 1.5) * std::exp(-r2(i, j, kk) / (2 * s2)) * std::exp(-k * T);
        const double e = c[p.grid.d.index(i, j, kk)] - exact;
        num += e * e;
        den += exact * exact;
      }
  return std::sqrt(num / den);
}

// 1D problem along x with fixed values a (x-) and b (x+).
inline Problem line_problem(int nx, double h, double D, double k, double a, double bval) {
  Problem p = make_uniform_problem({nx, 1, 1}, h, 1, D, k);
  p.coeffs[0].bc[kXm] = {kFixed, real(a)};
  p.coeffs[0].bc[kXp] = {kFixed, real(bval)};
  return p;
}

// 1D two-tissue line: label 0 (D1) on the left half, label 1 (D2) on the right half,
// fixed values 1 at x- and 0 at x+.
inline Problem two_tissue_problem(int nx, double h, double D1, double D2) {
  Problem p = line_problem(nx, h, 0, 0, 1.0, 0.0);
  p.label_names = {"normal", "tumour"};
  p.labels.assign(nx, 0);
  for (int i = nx / 2; i < nx; ++i) p.labels[i] = 1;
  p.coeffs[0].uses_labels = 1;
  p.coeffs[0].D[0] = real(D1);
  p.coeffs[0].D[1] = real(D2);
  return p;
}

// n^3 box (h = 20 um, D = 1e5 um^2/min) with a source of 1 unit/s in the centre voxel and
// a decay length of 5 voxels.
inline Problem point_source_problem(int n) {
  const double h = 20, D = 1e5 / 60, k = D / (25 * h * h);
  Problem p = make_uniform_problem({n, n, n}, h, 1, D, k);
  p.nsrc = 1;
  p.src.assign(p.grid.nvox(), real(0));
  p.src[p.grid.d.index(n / 2, n / 2, n / 2)] = 1;
  p.coeffs[0].src_slot = 0;
  return p;
}

// Every species block of a state translated periodically by (si, sj, sk) cells:
// out(x + s) = in(x).
inline std::vector<real> translate(const Dims& d, const std::vector<real>& in, int si, int sj, int sk) {
  std::vector<real> out(in.size());
  const long long nv = d.nvox();
  for (long long b = 0; b + nv <= (long long)in.size(); b += nv)
    for (int k = 0; k < d.nz; ++k)
      for (int j = 0; j < d.ny; ++j)
        for (int i = 0; i < d.nx; ++i)
          out[b + d.index((i + si) % d.nx, (j + sj) % d.ny, (k + sk) % d.nz)] = in[b + d.index(i, j, k)];
  return out;
}

// Largest absolute difference of two states.
inline double max_abs_diff(const std::vector<real>& a, const std::vector<real>& b) {
  double m = 0;
  for (size_t v = 0; v < a.size(); ++v) m = std::max(m, std::abs(double(a[v]) - b[v]));
  return m;
}

}  // namespace tme::test
