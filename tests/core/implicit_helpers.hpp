// Helpers of the implicit-integrator tests (tests/core/test_implicit.cpp, tests/slow/).
#pragma once
#include <cmath>
#include <vector>

#include "host/core/simulation.hpp"
#include "tests/core/exact.hpp"

namespace tme::test {

// p with the given integrator and fixed step [s].
inline Problem with_integrator(Problem p, Integrator it, double step) {
  p.time.integrator = it;
  p.time.step = step;
  return p;
}

// exp(t A) g for the 1D no-flux operator A of n cells, spacing h [um], uniform D [um^2/s]:
// the semi-discrete (exact in time) solution, through the cosine (DCT-II) eigenbasis of A.
inline std::vector<double> heat_noflux_1d(const std::vector<double>& g, double D, double h, double t) {
  const int n = (int)g.size();
  std::vector<double> out(n, 0.0);
  for (int m = 0; m < n; ++m) {
    double dot = 0, norm = 0;
    for (int p = 0; p < n; ++p) {
      const double v = std::cos(M_PI * m * (p + 0.5) / n);
      dot += g[p] * v;
      norm += v * v;
    }
    const double lam = -4 * D / (h * h) * std::pow(std::sin(M_PI * m / (2.0 * n)), 2);
    const double amp = std::exp(lam * t) * dot / norm;
    for (int p = 0; p < n; ++p) out[p] += amp * std::cos(M_PI * m * (p + 0.5) / n);
  }
  return out;
}

// The 3D Gaussian pulse of gaussian_error (box 1600 um, D = 100 um^2/s, sigma0 = 100 um,
// decay k [1/s]) on n^3 cells, run to T [s] with `it` and step dt [s]. Returns the relative L2
// error against the exact continuum solution (semidiscrete = false) or against the exact-in-time
// solution of the same grid (semidiscrete = true: isolates the time error).
inline double gaussian_error_implicit(Backend& b, Integrator it, int n, double dt, double T, double k,
                                      bool semidiscrete) {
  const double L = 1600, h = L / n, D = 100, sigma0 = 100;
  Problem p = with_integrator(make_uniform_problem({n, n, n}, h, 1, D, k), it, dt);
  std::vector<double> g(n);
  for (int i = 0; i < n; ++i) {
    const double x = p.grid.center(0, i) - L / 2;
    g[i] = std::exp(-x * x / (2 * sigma0 * sigma0));
  }
  for (int kk = 0; kk < n; ++kk)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) p.initial[p.grid.d.index(i, j, kk)] = real(g[i] * g[j] * g[kk]);
  const std::vector<real> c = run(b, p, T);
  const std::vector<double> e1 = semidiscrete ? heat_noflux_1d(g, D, h, T) : std::vector<double>();
  const double s2 = sigma0 * sigma0 + 2 * D * T;
  double num = 0, den = 0;
  for (int kk = 0; kk < n; ++kk)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        double exact;
        if (semidiscrete) {
          exact = e1[i] * e1[j] * e1[kk] * std::exp(-k * T);
        } else {
          const double x = p.grid.center(0, i) - L / 2, y = p.grid.center(1, j) - L / 2,
                       z = p.grid.center(2, kk) - L / 2;
          exact =
              std::pow(sigma0 * sigma0 / s2, 1.5) * std::exp(-(x * x + y * y + z * z) / (2 * s2)) * std::exp(-k * T);
        }
        const double e = c[p.grid.d.index(i, j, kk)] - exact;
        num += e * e;
        den += exact * exact;
      }
  return std::sqrt(num / den);
}

}  // namespace tme::test
