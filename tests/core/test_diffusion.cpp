// The explicit finite-volume operator against exact solutions, on every backend.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/core/exact.hpp"

namespace tme::test {
namespace {

using Diffusion = BackendTest;

TEST_P(Diffusion, GaussianPulseWithDecayConvergesAtSecondOrder) {
  auto b = backend();
  const double e1 = gaussian_error(*b, 32), e2 = gaussian_error(*b, 64), e3 = gaussian_error(*b, 128);
  const double order12 = std::log2(e1 / e2), order23 = std::log2(e2 / e3);
  RecordProperty("error_32", std::to_string(e1));
  RecordProperty("error_128", std::to_string(e3));
  EXPECT_LT(e3, 2e-3);
  EXPECT_GE(order12, 1.8) << e1 << " " << e2;
  EXPECT_GE(order23, 1.8) << e2 << " " << e3;
}

TEST_P(Diffusion, NoFluxBoxConservesTotalOver1000Steps) {
  auto b = backend();
  Problem p = make_uniform_problem({32, 24, 16}, 10, 2, 50, 0);
  p.coeffs[1].D[0] = 5;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& v : p.initial) v = real(u(rng));
  b->load(p);
  const double before0 = total_amount(p, p.initial, 0), before1 = total_amount(p, p.initial, 1);
  Simulation sim(p, *b);
  const double dt = sim.dt_max();
  b->explicit_steps(dt, 1000);
  std::vector<real> c;
  b->read_state(c);
  EXPECT_NEAR(total_amount(p, c, 0) / before0, 1.0, sizeof(real) == 4 ? 2e-6 : 1e-13);
  EXPECT_NEAR(total_amount(p, c, 1) / before1, 1.0, sizeof(real) == 4 ? 2e-6 : 1e-13);
  // The state did change (the test is not vacuous): the field has smoothed.
  double lo = 1, hi = 0;
  for (long long v = 0; v < p.grid.nvox(); ++v) lo = std::min(lo, double(c[v])), hi = std::max(hi, double(c[v]));
  EXPECT_LT(hi - lo, 0.5);
}

TEST_P(Diffusion, SteadyLinearProfileBetweenFixedEnds) {
  auto b = backend();
  const int nx = 40;
  const double h = 10, D = 100, L = nx * h;
  Problem p = line_problem(nx, h, D, 0, 2.0, 0.5);
  const double tau = L * L / (M_PI * M_PI * D);
  const std::vector<real> c = run(*b, p, 40 * tau);
  for (int i = 0; i < nx; ++i) {
    const double x = p.grid.center(0, i), exact = 2.0 + (0.5 - 2.0) * x / L;
    EXPECT_NEAR(c[i], exact, 2 * kRoundoff * 2.0) << "i=" << i;
  }
}

double exponential_profile_error(Backend& b, int nx) {
  const double L = 400, h = L / nx, D = 100, k = 0.01, lam = std::sqrt(D / k), a = 1.0, bv = 0.25;
  Problem p = line_problem(nx, h, D, k, a, bv);
  const std::vector<real> c = run(b, p, 2000);  // >> relaxation time 1/(k + pi^2 D/L^2) = 62 s
  double err = 0;
  for (int i = 0; i < nx; ++i) {
    const double x = p.grid.center(0, i);
    const double exact = (a * std::sinh((L - x) / lam) + bv * std::sinh(x / lam)) / std::sinh(L / lam);
    err = std::max(err, std::abs(c[i] - exact) / exact);
  }
  return err;
}

TEST_P(Diffusion, SteadyExponentialProfileWithDecay) {
  auto b = backend();
  const double e40 = exponential_profile_error(*b, 40), e80 = exponential_profile_error(*b, 80);
  EXPECT_LT(e40, 2e-3);
  EXPECT_LT(e80, 5e-4);
  EXPECT_GE(std::log2(e40 / e80), 1.8) << e40 << " " << e80;
}

TEST_P(Diffusion, PeriodicTranslationCommutesWithStepping) {
  auto b = backend();
  const Dims d{32, 8, 6};
  Problem p = make_uniform_problem(d, 5, 1, 20, 0.001);
  for (int f = 0; f < 6; ++f) p.coeffs[0].bc[f] = {kPeriodic, 0};
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& v : p.initial) v = real(u(rng));
  Problem q = p;  // q's initial state is p's translated by (5, 3, 2) cells
  q.initial = translate(d, p.initial, 5, 3, 2);
  const std::vector<real> cp = run(*b, p, 20), cq = run(*b, q, 20);
  const double maxdiff = max_abs_diff(cq, translate(d, cp, 5, 3, 2));
  const double change = max_abs_diff(cp, p.initial);
  EXPECT_LE(maxdiff, kRoundoff);
  EXPECT_GT(change, 0.1);  // the field did evolve
}

TEST_P(Diffusion, TwoTissueInterfaceKeepsFluxContinuous) {
  auto b = backend();
  const int nx = 40;
  const double h = 10, D1 = 100, D2 = 25, half = nx / 2 * h;
  Problem p = two_tissue_problem(nx, h, D1, D2);
  const std::vector<real> c = run(*b, p, 15000);
  // Analytic piecewise-linear steady state: J = (c0 - c1) / (L1/D1 + L2/D2).
  const double J = 1.0 / (half / D1 + half / D2), ci = 1.0 - J * half / D1;
  for (int i = 0; i < nx; ++i) {
    const double x = p.grid.center(0, i);
    const double exact = x < half ? 1.0 - J * x / D1 : ci - J * (x - half) / D2;
    EXPECT_NEAR(c[i], exact, 1e-4) << "i=" << i;
  }
  // Discrete flux through every interior face (harmonic-mean coefficient) equals J.
  for (int i = 0; i + 1 < nx; ++i) {
    const double Dl = p.labels[i] ? D2 : D1, Dr = p.labels[i + 1] ? D2 : D1;
    const double Df = 2 * Dl * Dr / (Dl + Dr);
    EXPECT_NEAR(-Df * (c[i + 1] - c[i]) / h, J, 2e-3 * J) << "face " << i;
  }
  EXPECT_NEAR(c[nx / 2 - 1] + (c[nx / 2 - 1] - c[nx / 2 - 2]) / 2, ci, 1e-4);  // interface value
}

TME_INSTANTIATE_BACKENDS(Diffusion);

}  // namespace
}  // namespace tme::test
