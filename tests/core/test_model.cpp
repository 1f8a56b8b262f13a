// The coupled model terms (kernels/terms.hpp) in one voxel against exact or RK4 reference
// solutions written out by hand here, chemotaxis and pressure drift (conservation, positivity,
// the porous-Fisher front speed), radiotherapy fractions, and the stepper's handling of model
// events, on every backend.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "host/core/simulation.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/support/reference_model.hpp"

namespace tme::test {
namespace {

using Model1 = BackendTest;
constexpr double kDay = 86400.0;

// A 1x1x1 problem of n non-diffusing fields with the given initial values.
Problem voxel_problem(const std::vector<double>& init) {
  Problem p = make_uniform_problem({1, 1, 1}, 10, (int)init.size(), 0, 0);
  for (size_t i = 0; i < init.size(); ++i) p.initial[i] = real(init[i]);
  p.time.t_end = 10 * kDay;
  p.time.output_every = kDay;
  p.model.rtol = 1e-6;
  p.model.atol.assign(init.size(), 1e-9);
  return p;
}

// State after reacting for T [s] in `calls` equal calls.
std::vector<real> react_for(Backend& b, const Problem& p, double T, int calls,
                            const std::vector<double>& globals = {}) {
  b.load(p);
  for (int i = 0; i < calls; ++i) b.react(T / calls, globals);
  std::vector<real> c;
  b.read_state(c);
  return c;
}

// Classical RK4 in double with n steps over [0, T].
using Rhs = std::function<std::vector<double>(const std::vector<double>&)>;
std::vector<double> rk4(const Rhs& f, std::vector<double> y, double T, int n) {
  const double h = T / n;
  auto axpy = [](const std::vector<double>& a, const std::vector<double>& b, double s) {
    std::vector<double> r(a);
    for (size_t i = 0; i < r.size(); ++i) r[i] += s * b[i];
    return r;
  };
  for (int s = 0; s < n; ++s) {
    const auto k1 = f(y), k2 = f(axpy(y, k1, h / 2)), k3 = f(axpy(y, k2, h / 2)), k4 = f(axpy(y, k3, h));
    for (size_t i = 0; i < y.size(); ++i) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
  return y;
}

constexpr double kTol = sizeof(real) == 4 ? 2e-5 : 2e-6;  // reaction rtol 1e-6 plus round-off

TEST_P(Model1, LogisticGrowthWithCrowdingIsExact) {
  auto b = backend();
  Problem p = voxel_problem({1e4});
  const double r = 0.4 / kDay, K = 2e5;
  p.model.terms = {make_term(kTermGrowth, 0, -1, r, kGrowthLogistic)};
  p.model.crowd_species = {0};
  p.model.crowd_volume = {1 / K};
  const double T = 20 * kDay;
  const auto c = react_for(*b, p, T, 5);
  const double exact = K / (1 + (K / 1e4 - 1) * std::exp(-r * T));
  EXPECT_NEAR(c[0], exact, kTol * exact);
}

TEST_P(Model1, GompertzGrowthIsExact) {
  auto b = backend();
  Problem p = voxel_problem({1e3});
  const double r = 0.1 / kDay, K = 2e5;
  p.model.terms = {make_term(kTermGrowth, 0, -1, r, kGrowthGompertz)};
  p.model.crowd_species = {0};
  p.model.crowd_volume = {1 / K};
  const double T = 30 * kDay;
  const auto c = react_for(*b, p, T, 3);
  // ln(T/K) = ln(T0/K) e^{-r t}
  const double exact = K * std::exp(std::log(1e3 / K) * std::exp(-r * T));
  EXPECT_NEAR(c[0], exact, kTol * exact);
}

TEST_P(Model1, KillWithProductIsExactAndConservesTheKilledMass) {
  auto b = backend();
  // 0 tumour, 1 effector (constant), 2 antigen released per killed cell (yield 0.5)
  Problem p = voxel_problem({1e5, 2e3, 0});
  const double k = 1e-3 / kDay;  // per effector density
  Term t = make_term(kTermKill, 0, 1, k);
  t.nproducts = 1;
  t.prod[0] = {2, real(0.5)};
  p.model.terms = {t};
  const double T = 2 * kDay;
  const auto c = react_for(*b, p, T, 4);
  const double T1 = 1e5 * std::exp(-k * 2e3 * T);
  EXPECT_NEAR(c[0], T1, kTol * T1);
  EXPECT_NEAR(c[1], 2e3, kTol * 2e3);
  EXPECT_NEAR(c[2], 0.5 * (1e5 - T1), kTol * 0.5 * (1e5 - T1));
}

TEST_P(Model1, SecretionAndMichaelisMentenUptakeMatchRk4) {
  auto b = backend();
  // 0 cytokine X, 1 secreting population A, 2 consuming population B
  Problem p = voxel_problem({0.5, 1e3, 4e3});
  const double ks = 2e-5, ku = 1e-7, km = 0.2;  // [X/s per A], [1/s per B], [X]
  p.model.terms = {make_term(kTermSecretion, 0, 1, ks), make_term(kTermUptake, 0, 2, ku, km)};
  const double T = 3600;
  const auto c = react_for(*b, p, T, 6);
  const auto ref = rk4(
      [&](const std::vector<double>& y) {
        return std::vector<double>{ks * y[1] - ku * y[2] * y[0] / (1 + y[0] / km), 0, 0};
      },
      {0.5, 1e3, 4e3}, T, 20000);
  EXPECT_NEAR(c[0], ref[0], 1e-4 * ref[0]);
}

TEST_P(Model1, ConversionToProductsWithAHillFactorIsExact) {
  auto b = backend();
  // 0 doomed cells -> 1 antigen (yield 3) at rate k * act(2), 2 a constant signal
  Problem p = voxel_problem({5e4, 0, 0.3});
  const double k = 0.1725 / kDay, K = 0.1, n = 2;
  Term t = make_term(kTermConversion, 0, -1, k);
  t.nfactors = 1;
  t.f[0] = make_factor(kFactorHillAct, 2, K, n);
  t.nproducts = 1;
  t.prod[0] = {1, real(3)};
  p.model.terms = {t};
  const double T = 5 * kDay, F = std::pow(0.3 / K, n) / (1 + std::pow(0.3 / K, n));
  const auto c = react_for(*b, p, T, 5);
  const double left = 5e4 * std::exp(-k * F * T);
  EXPECT_NEAR(c[0], left, kTol * 5e4);
  EXPECT_NEAR(c[1], 3 * (5e4 - left), kTol * 3 * 5e4);
}

TEST_P(Model1, RelaxationTowardAHillLevelIsExact) {
  auto b = backend();
  // 0 PD-L1 state relaxing toward base + (max - base) act(IFNg); 1 IFNg constant
  Problem p = voxel_problem({0.05, 0.2});
  const double tau = 0.5 * kDay, base = 0.1, top = 1.0, K = 0.11, n = 1.26;
  Term t = make_term(kTermRelax, 0, -1, 1 / tau, base, top);
  t.nfactors = 1;
  t.f[0] = make_factor(kFactorHillAct, 1, K, n);
  p.model.terms = {t};
  const double T = 1 * kDay;
  const auto c = react_for(*b, p, T, 2);
  const double x = std::pow(0.2 / K, n), level = base + (top - base) * x / (1 + x);
  const double exact = level + (0.05 - level) * std::exp(-T / tau);
  EXPECT_NEAR(c[0], exact, kTol * exact);
}

TEST_P(Model1, VesselExchangeRelaxesToThePlasmaLevel) {
  auto b = backend();
  // 0 antibody in tissue [nM], 1 vessel surface density [1/um]
  Problem p = voxel_problem({0, 0.01});
  GlobalInput g;
  g.name = "plasma";
  g.value = 400;
  p.model.globals = {g};
  const double perm = 3e-3;  // [um/s]
  Term t = make_term(kTermExchange, 0, 1, perm);
  t.global = 0;
  p.model.terms = {t};
  const double T = 600;
  const auto c = react_for(*b, p, T, 3, {400});
  const double exact = 400 * (1 - std::exp(-perm * 0.01 * T));
  EXPECT_NEAR(c[0], exact, kTol * exact);
}

TEST_P(Model1, InfluxFromBloodScalesWithVesselsBloodAndChemokine) {
  auto b = backend();
  // 0 T cells, 1 vessel density, 2 chemokine (constant)
  Problem p = voxel_problem({0, 0.02, 1.0});
  GlobalInput g;
  g.value = 500;
  p.model.globals = {g};
  const double k = 1e-4, K = 0.5;
  Term t = make_term(kTermInflux, 0, 1, k);
  t.global = 0;
  t.nfactors = 1;
  t.f[0] = make_factor(kFactorHillAct, 2, K, 1);
  p.model.terms = {t};
  const double T = 3600;
  const auto c = react_for(*b, p, T, 2, {500});
  const double exact = k * 0.02 * 500 * (1.0 / 1.5) * T;
  EXPECT_NEAR(c[0], exact, kTol * exact);
}

// Kill rate with PD-1/PD-L1 suppression: k E T / (1 + x/K), x = PDL1 free(antiPD1) free(antiPDL1).
double kill_after(Backend& b, double pdl1, double apd1, double apdl1) {
  // 0 tumour, 1 effector, 2 PD-L1 level, 3 anti-PD-1 [nM], 4 anti-PD-L1 [nM]
  Problem p = voxel_problem({1e5, 1e3, pdl1, apd1, apdl1});
  Term t = make_term(kTermKill, 0, 1, 1e-3 / kDay);
  t.nfactors = 1;
  t.f[0] = make_factor(kFactorHillInh, 2, 0.2, 1);
  t.f[0].ab[0] = 3;
  t.f[0].kd[0] = real(0.26);
  t.f[0].ab[1] = 4;
  t.f[0].kd[1] = real(0.4);
  p.model.terms = {t};
  const auto c = react_for(b, p, kDay, 1);
  return std::log(1e5 / c[0]) / kDay;  // realised kill rate [1/s]
}

TEST_P(Model1, PdL1LowersKillingAndAntibodiesRestoreItByOccupancy) {
  auto b = backend();
  const double k0 = 1e-3 / kDay * 1e3;
  const double none = kill_after(*b, 0, 0, 0), high = kill_after(*b, 1.0, 0, 0);
  EXPECT_NEAR(none, k0, 1e-4 * k0);
  EXPECT_NEAR(high, k0 / (1 + 1.0 / 0.2), 1e-4 * k0);
  // anti-PD-1 at 10 Kd leaves 1/11 of PD-1 free: engagement 1/11, rate k0 / (1 + (1/11)/0.2)
  const double apd1 = kill_after(*b, 1.0, 2.6, 0);
  EXPECT_NEAR(apd1, k0 / (1 + (1.0 / 11) / 0.2), 1e-4 * k0);
  const double both = kill_after(*b, 1.0, 2.6, 0.4);  // anti-PD-L1 at Kd halves it again
  EXPECT_NEAR(both, k0 / (1 + (0.5 / 11) / 0.2), 1e-4 * k0);
  EXPECT_LT(high, apd1);
  EXPECT_LT(apd1, both);
  EXPECT_LT(both, none);
}

TEST_P(Model1, RatioFactorTregPerCd8LowersKilling) {
  auto b = backend();
  // 0 tumour, 1 CD8, 2 Treg: kill suppressed by inh(Treg/CD8, K = 0.31)
  auto run = [&](double treg) {
    Problem p = voxel_problem({1e5, 1e3, treg});
    Term t = make_term(kTermKill, 0, 1, 1e-3 / kDay);
    t.nfactors = 1;
    t.f[0] = make_factor(kFactorHillInh, 2, 0.31, 1);
    t.f[0].b = 1;
    p.model.terms = {t};
    return react_for(*b, p, kDay, 1)[0];
  };
  const double k0 = 1e-3 / kDay * 1e3;
  EXPECT_NEAR(run(0), 1e5 * std::exp(-k0 * kDay), kTol * 1e5);
  EXPECT_NEAR(run(310), 1e5 * std::exp(-k0 / 2 * kDay), kTol * 1e5);
  EXPECT_GT(run(310), run(0));
}

TEST_P(Model1, CoupledTumourEffectorSystemMatchesRk4) {
  auto b = backend();
  // 0 tumour (logistic, killed by 1), 1 effector (IL-2-driven proliferation, death, secretes
  // IFNg), 2 IL-2 (secreted by tumour-proportional helper proxy, consumed by effectors), 3 IFNg
  const double r = 0.3 / kDay, K = 2e5, kk = 2e-3 / kDay, pr = 1.0 / kDay, Kil = 0.32, d = 0.1 / kDay;
  const double sil = 1e-7, uil = 5e-8, sif = 2e-8;
  Problem p = voxel_problem({5e4, 2e3, 0.1, 0});
  Term grow = make_term(kTermGrowth, 0, -1, r, kGrowthLogistic);
  Term kill = make_term(kTermKill, 0, 1, kk);
  Term prol = make_term(kTermGrowth, 1, -1, pr, kGrowthLogistic);
  prol.nfactors = 1;
  prol.f[0] = make_factor(kFactorHillAct, 2, Kil, 1);
  Term death = make_term(kTermConversion, 1, -1, d);
  Term il2 = make_term(kTermSecretion, 2, 0, sil);
  Term il2u = make_term(kTermUptake, 2, 1, uil);
  Term ifn = make_term(kTermSecretion, 3, 1, sif);
  p.model.terms = {grow, kill, prol, death, il2, il2u, ifn};
  p.model.crowd_species = {0, 1};
  p.model.crowd_volume = {1 / K, 1 / K};
  const double T = 10 * kDay;
  const auto c = react_for(*b, p, T, 10);
  const auto ref = rk4(
      [&](const std::vector<double>& y) {
        const double phi = (y[0] + y[1]) / K;
        return std::vector<double>{r * y[0] * (1 - phi) - kk * y[1] * y[0],
                                   pr * y[2] / (Kil + y[2]) * y[1] * (1 - phi) - d * y[1],
                                   sil * y[0] - uil * y[1] * y[2], sif * y[1]};
      },
      {5e4, 2e3, 0.1, 0}, T, 200000);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(c[i], ref[i], 2e-4 * std::abs(ref[i]) + 1e-9) << "field " << i;
}

TEST_P(Model1, ReactionsKeepEveryFieldNonNegativeUnderStiffLoss) {
  auto b = backend();
  // A huge kill rate over a long step: the exponential integrator cannot overshoot below 0.
  Problem p = voxel_problem({1e5, 1e5, 1.0});
  p.model.rtol = 1e-2;
  p.model.terms = {make_term(kTermKill, 0, 1, 1.0), make_term(kTermUptake, 2, 1, 1.0, 0.01)};
  const auto c = react_for(*b, p, kDay, 1);
  EXPECT_GE(c[0], 0.0);
  EXPECT_GE(c[2], 0.0);
  EXPECT_LT(c[0], 1e-3);
}

// ---- chemotaxis --------------------------------------------------------------------------

Problem chemotaxis_problem(double chi, double vmax) {
  // 0 cells (blob), 1 signal rising linearly along x (no diffusion, constant).
  Problem p = make_uniform_problem({32, 8, 8}, 20, 2, 0, 0);
  const Dims d = p.grid.d;
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const long long v = d.index(i, j, k);
        const double x = p.grid.center(0, i) - 320;
        p.initial[v] = real(1e3 * std::exp(-x * x / (2 * 60.0 * 60.0)));
        p.initial[d.nvox() + v] = real(0.01 * i);
      }
  Chemotaxis c;
  c.cell = 0;
  c.signal = 1;
  c.chi = real(chi);
  c.vmax = real(vmax);
  p.model.chemotaxis = {c};
  p.time.t_end = 3600;
  p.time.output_every = 3600;
  return p;
}

struct Moments {
  double mass = 0, mean_x = 0, min = 1e300;
};
Moments moments(const Problem& p, const std::vector<real>& c) {
  Moments m;
  const Dims d = p.grid.d;
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const double v = c[d.index(i, j, k)];
        m.mass += v;
        m.mean_x += v * p.grid.center(0, i);
        m.min = std::min(m.min, v);
      }
  m.mean_x /= m.mass;
  return m;
}

TEST_P(Model1, ChemotaxisMovesMassUpTheGradientConservesItAndStaysPositive) {
  auto b = backend();
  // gradient 0.01 per 20 um; chi chosen so the drift is 0.5 um/min below vmax 1 um/min.
  const double g = 0.01 / 20, vmax = 1.0 / 60;
  const double v = 0.5 / 60;
  const double chi = vmax * std::atanh(v / vmax) / g;
  Problem p = chemotaxis_problem(chi, vmax);
  b->load(p);
  std::vector<real> c0;
  b->read_state(c0);
  const Moments m0 = moments(p, c0);
  const double T = 2 * 3600;
  for (int i = 0; i < 4; ++i) b->chemotaxis(T / 4);
  std::vector<real> c;
  b->read_state(c);
  const Moments m = moments(p, c);
  EXPECT_NEAR(m.mass, m0.mass, 1e-5 * m0.mass);
  EXPECT_GE(m.min, 0.0);
  // The blob stays far from the walls: its centre moves at v (upwind smearing is symmetric).
  EXPECT_NEAR(m.mean_x - m0.mean_x, v * T, 0.01 * v * T);
  // The signal does not move.
  for (long long q = 0; q < p.grid.nvox(); ++q) ASSERT_EQ(c[p.grid.nvox() + q], c0[p.grid.nvox() + q]);
}

TEST_P(Model1, ChemotaxisAgainstAWallConservesMassAndStaysPositive) {
  auto b = backend();
  // A saturating drift into the x+ wall for a long time: everything piles up, nothing leaks.
  Problem p = chemotaxis_problem(1e3, 5.0 / 60);
  b->load(p);
  std::vector<real> c0, c;
  b->read_state(c0);
  b->chemotaxis(10 * 3600);
  b->read_state(c);
  const Moments m0 = moments(p, c0), m = moments(p, c);
  EXPECT_NEAR(m.mass, m0.mass, 1e-5 * m0.mass);
  EXPECT_GE(m.min, 0.0);
  EXPECT_GT(m.mean_x, 600.0);  // piled against the wall at x = 640 um
}

// ---- pressure-driven drift ----------------------------------------------------------------
// Population 0 drifts down the gradient of phi = c0 / K0 + c1 / K1 (field 1 crowds but does not
// move), v = -vmax tanh(mu grad phi / vmax) per face, through the chemotaxis pass.

constexpr double kK0 = 1e5, kK1 = 2e5;  // capacities [cells/mm^3]

Problem pressure_problem(Dims d, double h, double mu, double vmax) {
  Problem p = make_uniform_problem(d, h, 2, 0, 0);
  p.model.crowd_species = {0, 1};
  p.model.crowd_volume = {1 / kK0, 1 / kK1};
  Chemotaxis c;
  c.cell = 0;
  c.signal = kSignalCrowding;
  c.chi = real(mu);
  c.vmax = real(vmax);
  p.model.chemotaxis = {c};
  p.time.t_end = 3600;
  p.time.output_every = 3600;
  return p;
}

// Sub-steps of one chemotaxis call of dt on p, with the backend's own-phi bound (max(1, ...)
// for a crowding population whose density stays below its capacity, as in these tests).
int pressure_substeps(const Problem& p, double dt) {
  const double h[3] = {p.grid.h[0], p.grid.h[1], p.grid.h[2]};
  ChemotaxisArgs a = build_chemotaxis_args(p.model, p.grid.geom(), h, p.coeffs).at(0);
  a.own_phi_max = 1;
  return chemotaxis_substeps(a, dt);
}

// Relative mass error allowed after n sub-steps: each voxel's update c - dt div rounds at most
// 8 times (the 6 face fluxes, their sum, the subtraction), each by at most eps times a value
// bounded by twice the voxel's content under the step limit; the fluxes cancel exactly in the
// exact sums, so the total drifts by at most 16 eps of the mass per sub-step.
double mass_tol(int substeps) { return 16.0 * substeps * double(std::numeric_limits<real>::epsilon()); }

TEST_P(Model1, PressureInAUniformFieldMovesNothing) {
  auto b = backend();
  Problem p = pressure_problem({8, 6, 5}, 20, 5, 1.0 / 60);
  const long long nv = p.grid.nvox();
  for (long long v = 0; v < nv; ++v) {
    p.initial[v] = real(0.6 * kK0);
    p.initial[nv + v] = real(0.2 * kK1);
  }
  b->load(p);
  std::vector<real> c0, c;
  b->read_state(c0);
  b->chemotaxis(6 * 3600);
  b->read_state(c);
  for (size_t q = 0; q < c.size(); ++q) ASSERT_EQ(c[q], c0[q]) << q;  // grad phi = 0 exactly
}

TEST_P(Model1, PressureSpreadsAPackedBlobConservingMassAndPositivity) {
  auto b = backend();
  // A packed ball (phi 0.9) of 0 in a 16 x 12 x 12 box, mobility 20 um^2/s, cap 1 um/min: the
  // steep edge saturates, the inside is in the linear regime. Field 1 is absent.
  Problem p = pressure_problem({16, 12, 12}, 20, 20, 1.0 / 60);
  const Dims d = p.grid.d;
  double r2_0 = 0;
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const double x = p.grid.center(0, i) - 160, y = p.grid.center(1, j) - 120, z = p.grid.center(2, k) - 120;
        p.initial[d.index(i, j, k)] = real(x * x + y * y + z * z < 60.0 * 60.0 ? 0.9 * kK0 : 0.0);
      }
  b->load(p);
  std::vector<real> c0, c;
  b->read_state(c0);
  const double dt = 3 * 3600;
  const int n = pressure_substeps(p, dt);
  b->chemotaxis(dt);
  b->read_state(c);
  const Moments m0 = moments(p, c0), m = moments(p, c);
  EXPECT_NEAR(m.mass, m0.mass, mass_tol(n) * m0.mass);
  EXPECT_GE(m.min, 0.0);
  // It spreads: the second moment about the centre grows, the peak falls below 0.9 K.
  double r2 = 0, peak = 0;
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const double x = p.grid.center(0, i) - 160, y = p.grid.center(1, j) - 120, z = p.grid.center(2, k) - 120;
        const long long v = d.index(i, j, k);
        r2_0 += c0[v] * (x * x + y * y + z * z);
        r2 += c[v] * (x * x + y * y + z * z);
        peak = std::max(peak, double(c[v]));
      }
  EXPECT_GT(r2 / m.mass, 1.2 * r2_0 / m0.mass);
  EXPECT_LT(peak, 0.9 * kK0);
  EXPECT_LE(peak, 0.9 * kK0 * (1 + 4 * std::numeric_limits<real>::epsilon()));  // no overshoot
}

TEST_P(Model1, PressureAgainstAWallConservesMassAndStaysPositive) {
  auto b = backend();
  // Field 1 packs the x- half, pushing 0 into the x+ wall for 6 h at a high mobility.
  Problem p = pressure_problem({16, 4, 4}, 20, 20, 5.0 / 60);
  const Dims d = p.grid.d;
  const long long nv = p.grid.nvox();
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const long long v = d.index(i, j, k);
        p.initial[v] = real(0.3 * kK0);
        p.initial[nv + v] = real(i < 8 ? 0.6 * kK1 : 0.0);
      }
  b->load(p);
  std::vector<real> c0, c;
  b->read_state(c0);
  const double dt = 6 * 3600;
  const int n = pressure_substeps(p, dt);
  b->chemotaxis(dt);
  b->read_state(c);
  const Moments m0 = moments(p, c0), m = moments(p, c);
  EXPECT_NEAR(m.mass, m0.mass, mass_tol(n) * m0.mass);
  EXPECT_GE(m.min, 0.0);
  EXPECT_GT(m.mean_x, m0.mean_x + 40);  // moved toward the free half
  // Field 1 does not move.
  for (long long q = 0; q < nv; ++q) ASSERT_EQ(c[nv + q], c0[nv + q]);
}

TEST_P(Model1, PressureDriftsTowardLowerPhiAtTheLinearSpeed) {
  auto b = backend();
  // A dilute blob of 0 (peak 1e-4 K0: its own phi gradient is 0.2% of the other's) in the
  // middle of field 1 rising linearly along x (phi gradient g): every face drifts at
  // v = -vmax tanh(mu g / vmax) = -0.5 vmax, so the blob's centre moves toward x- (lower phi)
  // at 0.5 vmax, far from the walls (upwind smearing is symmetric).
  const double vmax = 1.0 / 60, h = 20;
  const double g = 0.5 / (32 * h);               // phi from field 1: 0 .. 0.5 over 32 voxels
  const double mu = vmax * std::atanh(0.5) / g;  // |v| = 0.5 vmax
  Problem p = pressure_problem({32, 4, 4}, h, mu, vmax);
  const Dims d = p.grid.d;
  const long long nv = p.grid.nvox();
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const long long v = d.index(i, j, k);
        const double x = p.grid.center(0, i) - 320;
        p.initial[v] = real(1e-4 * kK0 * std::exp(-x * x / (2 * 60.0 * 60.0)));
        p.initial[nv + v] = real(g * p.grid.center(0, i) * kK1);
      }
  b->load(p);
  std::vector<real> c0, c;
  b->read_state(c0);
  const double T = 2 * 3600;  // 60 um
  b->chemotaxis(T);
  b->read_state(c);
  const Moments m0 = moments(p, c0), m = moments(p, c);
  EXPECT_NEAR(m.mass, m0.mass, mass_tol(pressure_substeps(p, T)) * m0.mass);
  EXPECT_GE(m.min, 0.0);
  EXPECT_NEAR(m0.mean_x - m.mean_x, 0.5 * vmax * T, 0.01 * 0.5 * vmax * T);
}

// The porous-Fisher equation u_t = mu (u u_x)_x + r u (1 - u), u = c / K: logistic growth with
// crowding plus this drift in 1D. From compact initial data its front is sharp and travels at
// the minimal wave speed sqrt(mu r / 2) (exact travelling wave u = 1 - exp((z - z0) sqrt(r /
// (2 mu))) behind z0; Newman 1980, Aronson 1980; Murray, Mathematical Biology I, 13.4).
// Returns the speed [um/s] of the front position X(t) = h sum_i u_i between 20 h and 40 h.
double porous_fisher_speed(Backend& b, double h) {
  const double mu = 1, r = 1e-4, vmax = 0.1;  // um^2/s, 1/s, um/s (front speed 0.0071 um/s)
  const int nx = int(std::lround(3000 / h));
  Problem p = pressure_problem({nx, 1, 1}, h, mu, vmax);
  p.model.crowd_species = {0};
  p.model.crowd_volume = {1 / kK0};
  p.model.terms = {make_term(kTermGrowth, 0, -1, r, kGrowthLogistic)};
  p.model.rtol = 1e-6;
  p.model.atol.assign(2, 1e-6);
  for (int i = 0; i < nx; ++i) p.initial[i] = real(p.grid.center(0, i) < 300 ? kK0 : 0.0);
  b.load(p);
  const double dt = 120;  // Strang: reactions dt/2, drift dt, reactions dt/2
  auto front = [&] {
    std::vector<real> c;
    b.read_state(c);
    double s = 0;
    for (int i = 0; i < nx; ++i) s += c[i];
    return h * s / kK0;
  };
  double x20 = 0;
  for (int step = 1; step <= 1200; ++step) {
    b.react(dt / 2, {});
    b.chemotaxis(dt);
    b.react(dt / 2, {});
    if (step == 600) x20 = front();
  }
  return (front() - x20) / (20 * 3600);
}

TEST_P(Model1, PressureWithLogisticGrowthIsAPorousFisherFrontAtItsExactSpeed) {
  auto b = backend();
  const double exact = std::sqrt(1.0 * 1e-4 / 2);  // sqrt(mu r / 2) [um/s]
  const double s20 = porous_fisher_speed(*b, 20), s10 = porous_fisher_speed(*b, 10);
  // The donor-cell scheme is first order: measured 7.7% fast at h = 20 um, 4.2% at 10 um
  // (2.3% at 5 um), the error halving with h. Held: the error at 10 um below 6%, its ratio to
  // the 20 um error within [0.45, 0.65] (first-order convergence toward c*), and the
  // Richardson extrapolation 2 s10 - s20 (0.8% off) within 1.5% of c*. Round-off (float32
  // state, 1e4 steps) moves these by < 1e-4.
  const double e20 = s20 / exact - 1, e10 = s10 / exact - 1;
  EXPECT_GT(e10, 0.0);
  EXPECT_LT(e10, 0.06);
  EXPECT_GT(e10 / e20, 0.45);
  EXPECT_LT(e10 / e20, 0.65);
  EXPECT_NEAR(2 * s10 - s20, exact, 0.015 * exact);
}

// ---- radiotherapy fractions ----------------------------------------------------------------

TEST_P(Model1, FractionSurvivalIsTheLqValuePerPopulationWithDoomedPoolAndReleases) {
  auto b = backend();
  // 0 tumour, 1 doomed, 2 CD8, 3 IFN-I; dose varies along x.
  Problem p = make_uniform_problem({6, 1, 1}, 10, 4, 0, 0);
  const long long n = p.grid.nvox();
  for (long long v = 0; v < n; ++v) {
    p.initial[v] = real(1e5);
    p.initial[2 * n + v] = real(3e3);
  }
  p.model.radio_pops = {RadioPopulation{0, real(0.146), real(0.0146), 1},
                        RadioPopulation{2, real(0.2), real(0.14), -1}};
  RadioRelease ifn;
  ifn.species = 3;
  ifn.kind = kReleaseInterferon;
  ifn.yield = real(1e-6);
  ifn.p1 = 15;
  ifn.p2 = 4;
  ifn.per = 0;
  p.model.radio_releases = {ifn};
  b->load(p);
  const std::vector<real> dose = {0, 1, 2, 8, 20, 30};
  b->apply_fraction(dose);
  std::vector<real> c;
  b->read_state(c);
  for (long long v = 0; v < n; ++v) {
    const double d = dose[v];
    const double St = std::exp(-0.146 * d - 0.0146 * d * d), Sl = std::exp(-0.2 * d - 0.14 * d * d);
    EXPECT_NEAR(c[v], 1e5 * St, kRoundoff * 1e5) << v;
    EXPECT_NEAR(c[n + v], 1e5 * (1 - St), kRoundoff * 1e5) << v;
    EXPECT_NEAR(c[2 * n + v], 3e3 * Sl, kRoundoff * 3e3) << v;
    const double rel = 1e-6 * d / (1 + std::pow(d / 15, 4)) * 1e5;
    EXPECT_NEAR(c[3 * n + v], rel, kRoundoff * (rel + 1e-12)) << v;
  }
}

TEST_P(Model1, ThreeTimesEightGyReleasesMoreInterferonThanOneTimesTwenty) {
  auto b = backend();
  Problem p = make_uniform_problem({1, 1, 1}, 10, 1, 0, 0);
  RadioRelease ifn;
  ifn.species = 0;
  ifn.kind = kReleaseInterferon;
  ifn.yield = 1;
  ifn.p1 = 15;
  ifn.p2 = 4;
  p.model.radio_releases = {ifn};
  auto total = [&](double d, int n) {
    b->load(p);
    for (int i = 0; i < n; ++i) b->apply_fraction({real(d)});
    std::vector<real> c;
    b->read_state(c);
    return double(c[0]);
  };
  EXPECT_NEAR(total(8, 3), 22.2, 0.05);
  EXPECT_NEAR(total(20, 1), 4.81, 0.01);
  EXPECT_GT(total(8, 3), total(20, 1));
}

TEST_P(Model1, FractionsLandExactlyBetweenStepsAndCompound) {
  auto b = backend();
  // Tumour with slow exponential loss (conversion) and three fractions at awkward times.
  Problem p = voxel_problem({1e5});
  p.time.t_end = 3 * kDay;
  p.time.output_every = kDay;
  const double k = 0.05 / kDay;
  p.model.terms = {make_term(kTermConversion, 0, -1, k)};
  p.model.radio_pops = {RadioPopulation{0, real(0.146), real(0.0146), -1}};
  RadiationPlan plan;
  plan.name = "p";
  plan.nominal_Gy = 2;
  plan.dose = {real(2)};
  p.model.plans = {plan};
  p.model.fractions = {{0.3 * kDay + 17, 0, 2}, {1.3 * kDay + 17, 0, 4}, {2.0 * kDay, 0, 2}};
  b->load(p);
  Simulation sim(p, *b);
  std::vector<double> times;
  sim.on_fraction([&](const FractionEvent& f, const std::vector<real>& dose) {
    times.push_back(sim.time());
    EXPECT_NEAR(dose[0], f.dose_Gy, 1e-6);
  });
  for (double t : sim.output_times()) sim.advance_to(t);
  ASSERT_EQ(times.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(times[i], p.model.fractions[i].time_s);
  std::vector<real> c;
  b->read_state(c);
  auto S = [](double d) { return std::exp(-0.146 * d - 0.0146 * d * d); };
  const double exact = 1e5 * std::exp(-k * 3 * kDay) * S(2) * S(4) * S(2);
  EXPECT_NEAR(c[0], exact, 1e-4 * exact);
}

TEST_P(Model1, ChemokineSourceDrawsEffectorCellsTowardItIn3D) {
  auto b = backend();
  // 0 effector cells (uniform, random motility 0.1 um^2/s), 1 chemokine secreted in a corner
  // region, diffusing 20 um^2/s with decay; chemotaxis of 0 up 1. The ADI/LOD-free explicit
  // path and the implicit path both carry it; here LOD with 5 min steps over 12 h.
  Problem p = make_uniform_problem({16, 16, 16}, 20, 2, 0, 0);
  const long long nv = p.grid.nvox();
  p.coeffs[0].D[0] = real(0.1);
  p.coeffs[1].D[0] = real(20);
  p.coeffs[1].decay = real(1e-4);
  p.nsrc = 1;
  p.src.assign(nv, real(0));
  p.coeffs[1].src_slot = 0;
  const Dims d = p.grid.d;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 4; ++i) p.src[d.index(i, j, k)] = real(1e-3);
  for (long long v = 0; v < nv; ++v) p.initial[v] = real(1000);
  Chemotaxis c;
  c.cell = 0;
  c.signal = 1;
  c.chi = real(2e3);
  c.vmax = real(2.0 / 60);
  p.model.chemotaxis = {c};
  p.time.integrator = Integrator::kLod;
  p.time.step = 300;
  p.time.t_end = 12 * 3600;
  p.time.output_every = p.time.t_end;
  b->load(p);
  Simulation sim(p, *b);
  sim.advance_to(p.time.t_end);
  std::vector<real> s;
  b->read_state(s);
  double mass = 0, near = 0, far = 0, mn = 1e300;
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const double v = s[d.index(i, j, k)];
        mass += v;
        mn = std::min(mn, v);
        if (i < 4 && j < 4 && k < 4) near += v;
        if (i >= 12 && j >= 12 && k >= 12) far += v;
      }
  EXPECT_NEAR(mass, 1000.0 * nv, 1e-4 * 1000.0 * nv);  // conserved (no-flux walls)
  EXPECT_GE(mn, 0.0);
  EXPECT_GT(near, 1.5 * 1000 * 64);  // the source corner gains effectors
  EXPECT_LT(far, 1000 * 64);         // the far corner loses them
}

TEST_P(Model1, RoomAndLinearFactorsScaleTheRate) {
  auto b = backend();
  // 0 target converted at k * room * (x / K): x = field 1 (constant), crowding by field 2.
  Problem p = voxel_problem({1e3, 0.5, 5e4});
  Term t = make_term(kTermConversion, 0, -1, 1e-5);
  t.nfactors = 2;
  t.f[0].kind = kFactorRoom;
  t.f[1] = make_factor(kFactorLinear, 1, 0.25, 1);
  p.model.terms = {t};
  p.model.crowd_species = {2};
  p.model.crowd_volume = {1 / 2e5};
  const double T = 3600, k = 1e-5 * (1 - 0.25) * 2;
  const auto c = react_for(*b, p, T, 2);
  EXPECT_NEAR(c[0], 1e3 * std::exp(-k * T), kTol * 1e3);
}

TEST_P(Model1, ReferenceModelOverOneDayStaysFiniteAndNonNegative) {
  auto b = backend();
  Problem p = reference_tme_problem(16);
  p.time.t_end = kDay;
  b->load(p);
  Simulation sim(p, *b);
  sim.advance_to(p.time.t_end);
  std::vector<real> c;
  b->read_state(c);
  for (size_t v = 0; v < c.size(); ++v) ASSERT_TRUE(c[v] >= 0) << "value " << v << " = " << c[v];
  // Antibody entered from the vessels; PD-L1 rose toward its IFN-gamma-driven level.
  const long long nv = p.grid.nvox();
  double apd1 = 0, pdl1 = 0;
  for (long long v = 0; v < nv; ++v) {
    apd1 += c[ref_model::kApd1 * nv + v];
    pdl1 += c[ref_model::kPdl1 * nv + v];
  }
  EXPECT_GT(apd1 / nv, 1.0);
  EXPECT_GT(pdl1 / nv, 0.1);
}

TEST(ModelBackendsAgree, CpuAndCudaMatchOnTheReferenceModel) {
  std::string why;
  if (!cuda_available(&why)) GTEST_SKIP() << "cuda: " << why;
  Problem p = reference_tme_problem(24);
  p.time.t_end = 4 * 3600;
  std::vector<real> out[2];
  const char* names[2] = {"cpu", "cuda"};
  for (int q = 0; q < 2; ++q) {
    auto b = make_backend(names[q]);
    b->load(p);
    Simulation sim(p, *b);
    sim.advance_to(p.time.t_end);
    b->read_state(out[q]);
  }
  // Per field, relative to the field's largest value (reaction sub-step choices may differ
  // in the last bits, so the bound is looser than round-off).
  const long long nv = p.grid.nvox();
  for (int s = 0; s < p.nspecies(); ++s) {
    double scale = 0, diff = 0;
    for (long long v = 0; v < nv; ++v) {
      scale = std::max(scale, std::abs(double(out[0][s * nv + v])));
      diff = std::max(diff, std::abs(double(out[0][s * nv + v]) - out[1][s * nv + v]));
    }
    EXPECT_LE(diff, 1e-4 * scale + 1e-12) << "field " << s;
  }
}

TEST(ModelCheck, RejectsInconsistentTables) {
  Problem p = voxel_problem({1, 2});
  p.model.terms = {make_term(kTermKill, 0, 5, 1)};
  EXPECT_THROW(p.check(), std::invalid_argument);
  try {
    p.check();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "problem: model: term 0 source refers to field 5 (expected 0..1)");
  }
  p.model.terms = {make_term(kTermExchange, 0, 1, 1)};
  p.model.terms[0].global = 0;
  try {
    p.check();
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "problem: model: term 0 refers to global input 0");
  }
  // The model check reads the term registry: a kind without a row, a source the row requires,
  // a growth law that is not one of the row's choices.
  const std::vector<std::pair<Term, std::string>> bad{
      {make_term(kTermKinds, 0, -1, 1), "term 0 has an unknown kind"},
      {make_term(kTermSecretion, 0, -1, 1), "term 0 needs a source population or vessel field"},
      {make_term(kTermGrowth, 0, -1, 1, 2), "term 0 law must be one of 2 choices (logistic|gompertz)"},
      {make_term(kTermGrowth, 0, -1, 1, 0.5), "term 0 law must be one of 2 choices (logistic|gompertz)"},
  };
  for (const auto& [t, msg] : bad) {
    p.model.terms = {t};
    try {
      p.check();
      ADD_FAILURE() << "no error for " << msg;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(e.what(), "problem: model: " + msg);
    }
  }
  p.model.terms = {make_term(kTermGrowth, 0, -1, 1, kGrowthGompertz), make_term(kTermInflux, 1, -1, 1)};
  p.model.terms[1].global = 0;
  p.model.globals = {GlobalInput{}};
  EXPECT_NO_THROW(p.check());
}

TEST(ModelGlobals, TableMeanIsExactForPiecewiseLinearInputs) {
  Model m;
  GlobalInput g;
  g.kind = GlobalInput::Kind::kTable;
  g.times_s = {0, 10, 20};
  g.values = {0, 10, 0};
  m.globals = {g};
  EXPECT_DOUBLE_EQ(global_value(m, 0, 5), 5);
  EXPECT_DOUBLE_EQ(global_value(m, 0, 30), 0);
  EXPECT_DOUBLE_EQ(global_mean(m, 0, 0, 20), 5);
  EXPECT_DOUBLE_EQ(global_mean(m, 0, 5, 15), 7.5);
}

TME_INSTANTIATE_BACKENDS(Model1);

}  // namespace
}  // namespace tme::test
