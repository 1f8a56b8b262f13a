// The large-step integrators (LOD backward Euler and exponentially fitted Douglas ADI,
// kernels/implicit.hpp): line solvers, reaction integrator, device logic, and the physics on
// every backend. Numbers in comments were measured in float32 on the CPU backend (2026-11-26).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "kernels/launch.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/core/exact.hpp"
#include "tests/core/implicit_helpers.hpp"

namespace tme::test {
namespace {

constexpr Integrator kSchemes[] = {Integrator::kLod, Integrator::kAdi};

// Relative max difference, floored at `floor` in the denominator.
double max_rel_diff(const std::vector<real>& a, const std::vector<real>& b, double floor = 1e-3) {
  double worst = 0;
  for (size_t v = 0; v < a.size(); ++v)
    worst = std::max(worst, std::abs(double(a[v]) - b[v]) / std::max(floor, std::abs(double(b[v]))));
  return worst;
}

// A problem with every feature the sweeps handle: tissue labels with per-label D (one
// impermeable label), sources, decay, uptake, fixed / no-flux / periodic faces, anisotropic
// spacing, odd and even line lengths. Species: 0 labels+source+fixed, 1 uniform+periodic x+
// uptake, 2 uniform+decay+fixed z, 3 labels+periodic y and z (n = 2 / short lines possible).
Problem feature_problem(Dims d, unsigned seed) {
  Problem p = make_uniform_problem(d, 10, 4, 50, 1e-3);
  p.grid.h[2] = 15;
  p.label_names = {"normal", "tumour", "bone"};
  p.labels.assign(d.nvox(), 0);
  p.nsrc = 1;
  p.src.assign(d.nvox(), real(0));
  p.nupt = 1;
  p.upt.assign(d.nvox(), real(0));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const long long v = d.index(i, j, k);
        const double r2 = (i - d.nx / 2.0) * (i - d.nx / 2.0) + (j - d.ny / 2.0) * (j - d.ny / 2.0);
        if (r2 < d.nx * d.nx / 16.0) p.labels[v] = 1, p.src[v] = real(0.05), p.upt[v] = real(0.02);
        if (u(rng) < 0.05) p.labels[v] = 2;
      }
  for (auto& v : p.initial) v = real(u(rng));
  p.coeffs[0].uses_labels = 1;
  p.coeffs[0].D[0] = 80;
  p.coeffs[0].D[1] = 8;
  p.coeffs[0].D[2] = 0;  // impermeable
  p.coeffs[0].src_slot = 0;
  p.coeffs[0].bc[kXm] = {kFixed, real(1.5)};
  p.coeffs[0].bc[kYp] = {kFixed, real(0.5)};
  p.coeffs[1].upt_slot = 0;
  p.coeffs[1].km = real(0.3);
  for (int f = 0; f < 2; ++f) p.coeffs[1].bc[f] = {kPeriodic, 0};
  p.coeffs[2].D[0] = 30;
  p.coeffs[2].decay = real(0.05);
  p.coeffs[2].bc[kZp] = {kFixed, real(0.2)};
  p.coeffs[2].bc[kZm] = {kFixed, real(0.7)};
  p.coeffs[3].uses_labels = 1;
  p.coeffs[3].D[0] = 20;
  p.coeffs[3].D[1] = 60;
  p.coeffs[3].D[2] = 5;
  for (int f = 2; f < 6; ++f) p.coeffs[3].bc[f] = {kPeriodic, 0};
  return p;
}

// ---- One-line functions ------------------------------------------------------------------

TEST(ImplicitLine, RowsSumToTheExplicitOperator) {
  // Sum over axes of the line rows (linear part + boundary term) is the 7-point operator of
  // diffusion.hpp at every voxel, for every boundary type, labels, and lines of 1 and 2 cells.
  for (Dims d : {Dims{9, 6, 5}, Dims{5, 2, 1}}) {
    const Problem p = feature_problem(d, 5);
    const GridGeom g = p.grid.geom();
    std::vector<double> theta(p.nspecies(), 0.3), rate(p.nspecies(), 0.0);
    std::vector<real> tabs[3];
    for (int ax = 0; ax < 3; ++ax)
      build_line_factors(p.coeffs.data(), p.nspecies(), g, ax, theta.data(), rate.data(), tabs[ax]);
    SweepArgs a;
    a.g = g;
    a.kind = kSweepLod;
    for (int ax = 0; ax < 3; ++ax) a.fac[ax] = tabs[ax].data();
    a.label = p.labels.data();
    for (int s = 0; s < p.nspecies(); ++s) {
      const SpeciesCoeffs& sc = p.coeffs[s];
      const real* c = p.initial.data() + s * d.nvox();
      for (int k = 0; k < d.nz; ++k)
        for (int j = 0; j < d.ny; ++j)
          for (int i = 0; i < d.nx; ++i) {
            const long long idx = d.index(i, j, k);
            const int q[3] = {i, j, k};
            double sum = 0;
            for (int ax = 0; ax < 3; ++ax) {
              const int n = axis_len(d, ax);
              const LineRow r = line_row(sc, p.labels.data(), ax, g.inv_h2[ax], n, q[ax], idx, axis_stride(d, ax));
              sum += apply_row(r, c, n, q[ax], idx, axis_stride(d, ax)) + r.bnd;
            }
            const double ref = diffusion_rhs(ConstView<real>{c, d}, sc, p.labels.data(), g, i, j, k);
            EXPECT_NEAR(sum, ref, 1e-5 * (1 + std::abs(ref))) << "species " << s << " at " << i << "," << j << "," << k;
            if (!sc.uses_labels) {  // the tables give the same operator
              const double ft = full_operator(a, sc, s, c, i, j, k);
              EXPECT_NEAR(ft, ref, 1e-5 * (1 + std::abs(ref)));
            }
          }
    }
  }
}

// Dense Gaussian elimination with partial pivoting in double (reference).
std::vector<double> dense_solve(std::vector<std::vector<double>> M, std::vector<double> d) {
  const int n = (int)d.size();
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(M[r][c]) > std::abs(M[piv][c])) piv = r;
    std::swap(M[c], M[piv]);
    std::swap(d[c], d[piv]);
    for (int r = c + 1; r < n; ++r) {
      const double f = M[r][c] / M[c][c];
      for (int q = c; q < n; ++q) M[r][q] -= f * M[c][q];
      d[r] -= f * d[c];
    }
  }
  std::vector<double> x(n);
  for (int r = n - 1; r >= 0; --r) {
    double s = d[r];
    for (int q = r + 1; q < n; ++q) s -= M[r][q] * x[q];
    x[r] = s / M[r][r];
  }
  return x;
}

TEST(ImplicitLine, SolversMatchDenseElimination) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  constexpr int kL = 3;
  for (bool cyclic : {false, true})
    for (int n : {1, 2, 3, 4, 7, 33}) {
      // Rows of an M-matrix I - theta dt L for kL independent lines.
      std::vector<Tri> rows((size_t)n * kL);
      std::vector<double> rhs((size_t)n * kL);
      for (int l = 0; l < kL; ++l)
        for (int p = 0; p < n; ++p) {
          Tri& t = rows[p * kL + l];
          t.a = (cyclic || p > 0) ? real(-5 * u(rng)) : real(0);
          t.c = (cyclic || p < n - 1) ? real(-5 * u(rng)) : real(0);
          t.b = real(1 + 0.5 * u(rng) - t.a - t.c);
          rhs[p * kL + l] = u(rng);
        }
      std::vector<real> x((size_t)n * kL), cp((size_t)n * kL), ep((size_t)n * kL), sol((size_t)n * kL);
      auto elem = [&](int p, int l, Tri& t, real& d) {
        t = rows[p * kL + l];
        d = real(rhs[p * kL + l]);
      };
      auto X = [&](int p, int l) -> real& { return x[p * kL + l]; };
      auto CP = [&](int p, int l) -> real& { return cp[p * kL + l]; };
      auto EP = [&](int p, int l) -> real& { return ep[p * kL + l]; };
      auto out = [&](int p, int l, real v) { sol[p * kL + l] = v; };
      solve_lines<kL>(n, cyclic, kL, elem, X, CP, EP, out);
      std::vector<real> sol1((size_t)n * kL);
      for (int l = 0; l < kL; ++l) {  // one lane at a time (the GPU's L = 1)
        auto elem1 = [&](int p, int, Tri& t, real& d) { elem(p, l, t, d); };
        auto X1 = [&](int p, int) -> real& { return x[p * kL + l]; };
        auto CP1 = [&](int p, int) -> real& { return cp[p * kL + l]; };
        auto EP1 = [&](int p, int) -> real& { return ep[p * kL + l]; };
        auto out1 = [&](int p, int, real v) { sol1[p * kL + l] = v; };
        solve_lines<1>(n, cyclic, 1, elem1, X1, CP1, EP1, out1);
      }
      for (int l = 0; l < kL; ++l) {
        std::vector<std::vector<double>> M(n, std::vector<double>(n, 0.0));
        std::vector<double> d(n);
        for (int p = 0; p < n; ++p) {
          const Tri& t = rows[p * kL + l];
          M[p][p] += t.b;
          if (p > 0)
            M[p][p - 1] += t.a;
          else if (cyclic)
            M[p][n - 1] += t.a;  // wraps (onto the diagonal when n == 1)
          if (p < n - 1)
            M[p][p + 1] += t.c;
          else if (cyclic)
            M[p][0] += t.c;
          d[p] = rhs[p * kL + l];
        }
        const std::vector<double> ref = dense_solve(M, d);
        for (int p = 0; p < n; ++p) {
          EXPECT_NEAR(sol[p * kL + l], ref[p], 2e-6 * (1 + std::abs(ref[p]))) << "n=" << n << " cyclic=" << cyclic;
          EXPECT_EQ(sol1[p * kL + l], sol[p * kL + l]);
        }
      }
    }
}

TEST(ImplicitLine, CyclicSolveIsExactlyNonNegative) {
  // A periodic line, a step 10^4 times the explicit limit, a unit spike: the bordered
  // elimination only ever adds non-negative terms to the right-hand side, so every value is
  // >= 0 in floating point, down to the smallest ones far from the spike.
  const int n = 301;
  const real w = real(1e4);  // theta dt D/h^2
  std::vector<real> x(n, real(0)), cp(n), ep(n);
  x[7] = 1;
  auto elem = [&](int p, int, Tri& t, real& d) {
    t = Tri{-w, 1 + 2 * w, -w};
    d = x[p];
  };
  auto X = [&](int p, int) -> real& { return x[p]; };
  auto CP = [&](int p, int) -> real& { return cp[p]; };
  auto EP = [&](int p, int) -> real& { return ep[p]; };
  auto out = [&](int p, int, real v) { x[p] = v; };
  for (int rep = 0; rep < 3; ++rep) solve_lines<1>(n, true, 1, elem, X, CP, EP, out);
  double sum = 0, lo = 1;
  for (real v : x) sum += v, lo = std::min(lo, double(v));
  EXPECT_GE(lo, 0.0);
  EXPECT_NEAR(sum, 1.0, 1e-4);
  EXPECT_GT(x[7 + n / 2], 0.0);  // the far side is reached (tiny but positive)
}

// ---- Exponential weights ------------------------------------------------------------------

TEST(ImplicitWeights, PhiAndThetaMatchTheirDefinitions) {
  for (double z : {0.0, 1e-7, 1e-3, 0.05, 0.7, 3.0, 40.0, 1e4}) {
    const double phi = z == 0 ? 1.0 : -std::expm1(-z) / z;
    EXPECT_NEAR(phi1(real(z)), phi, 1e-6 * phi) << z;
    const double theta = z < 1e-6 ? 0.5 - z / 12 : 1 / z - 1 / std::expm1(z);  // -phi'/phi
    EXPECT_NEAR(adi_theta(real(z)), theta, 2e-6) << z;
    EXPECT_GT(adi_theta(real(z)), 0.0f);
    EXPECT_LE(adi_theta(real(z)), 0.5f);
  }
  // phi(kappa + z) ~ phi(kappa) / (1 + theta(kappa) z) to first order in z.
  const double kappa = 2.0, z = 1e-3;
  const double lhs = -std::expm1(-(kappa + z)) / (kappa + z);
  const double rhs = phi1(real(kappa)) / (1 + adi_theta(real(kappa)) * z);
  EXPECT_NEAR(lhs, rhs, 1e-6);
}

// Pure Michaelis-Menten: K ln(c0/c) + (c0 - c) = V t, solved by Newton.
double mm_exact(double c0, double V, double K, double t) {
  double x = c0;
  for (int it = 0; it < 100; ++it) {
    const double f = K * std::log(c0 / x) + (c0 - x) - V * t, df = -K / x - 1;
    x = std::max(x - f / df, 0.5 * x);
  }
  return x;
}

// ---- Device logic on the host ------------------------------------------------------------

// Runs every sweep kind and axis of `scheme` (as run_implicit_steps uses them, step dt [s])
// on the CPU loops and on the emulated device bodies from the same state and increment field,
// and checks that they agree to the round-off of terms of order 1 (the right-hand sides sum
// several of them) and that the sweeps changed something.
void expect_cpu_matches_emulated(const Problem& p, Scheme scheme, double dt, const std::string& what) {
  const Dims d = p.grid.d;
  const GridGeom g = p.grid.geom();
  const long long size = p.initial.size();
  std::vector<real> incr(p.initial);  // an increment field for the ADI middle/last sweeps
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(-0.1, 0.1);
  for (auto& v : incr) v = real(u(rng));
  std::vector<double> theta, rate;
  for (const auto& sc : p.coeffs) {
    theta.push_back(implicit_theta_dt(scheme, sc, dt));
    rate.push_back(implicit_diag_rate(scheme, sc));
  }
  std::vector<real> tabs[3];
  for (int ax = 0; ax < 3; ++ax)
    build_line_factors(p.coeffs.data(), p.nspecies(), g, ax, theta.data(), rate.data(), tabs[ax]);
  for (int kind : {kSweepLod, kSweepAdiFirst, kSweepAdiMiddle, kSweepAdiLast}) {
    if ((kind == kSweepLod) != (scheme == Scheme::kLodEuler)) continue;
    for (int axis = 0; axis < 3; ++axis) {
      if (kind == kSweepAdiFirst && axis != 0) continue;  // as run_implicit_steps uses them
      if ((kind == kSweepAdiMiddle || kind == kSweepAdiLast) && axis == 0) continue;
      SweepArgs a;
      a.g = g;
      a.nspecies = p.nspecies();
      a.axis = axis;
      a.kind = kind;
      a.theta_dt = real(dt);
      a.dt = real(dt);
      for (int ax = 0; ax < 3; ++ax) a.fac[ax] = tabs[ax].data();
      a.label = p.labels.empty() ? nullptr : p.labels.data();
      a.src = p.src.empty() ? nullptr : p.src.data();
      a.upt = p.upt.empty() ? nullptr : p.upt.data();
      a.hold = p.hold.empty() ? nullptr : p.hold.data();
      a.coeffs = p.coeffs.data();
      std::vector<real> c1(p.initial), c2(p.initial), x1(incr), x2(incr);
      std::vector<real> cp1(size), ep1(size), cp2(size), ep2(size);
      a.c = c1.data(), a.x = x1.data(), a.cp = cp1.data(), a.ep = ep1.data();
      implicit_sweep_cpu(a);
      a.c = c2.data(), a.x = x2.data(), a.cp = cp2.data(), a.ep = ep2.data();
      implicit_sweep_emulated(a);
      EXPECT_LE(max_rel_diff(c2, c1, 1.0), 1e-6) << what << " kind " << kind << " axis " << axis << " nx " << d.nx;
      if (kind == kSweepAdiFirst || kind == kSweepAdiMiddle) {  // else x is forward-pass scratch
        EXPECT_LE(max_rel_diff(x2, x1, 1.0), 1e-6) << what << " kind " << kind << " axis " << axis << " nx " << d.nx;
      }
      // Not vacuous (except a middle ADI sweep along periodic lines of one cell: the identity).
      const bool identity = kind == kSweepAdiMiddle && axis_len(d, axis) == 1 && axis_periodic(p.coeffs[0], axis);
      if (!identity) {
        EXPECT_GT(std::max(max_rel_diff(c1, p.initial), max_rel_diff(x1, incr)), 1e-3)
            << what << " kind " << kind << " axis " << axis << " nx " << d.nx;
      }
    }
  }
}

TEST(ImplicitDevice, EmulatedDeviceSweepsMatchTheCpuSweeps) {
  // The CUDA kernels' thread bodies (sweep_line_body, shared-memory tile phases) run serially
  // on the host must give the CPU loops' answer for every sweep kind, axis and species type.
  // Grids: an odd nx whose rows span several tiles, and an even one with a row count that is
  // not a multiple of the tile height.
  for (Dims d : {Dims{37, 9, 5}, Dims{20, 6, 7}})
    for (Scheme scheme : {Scheme::kLodEuler, Scheme::kDouglasAdi})
      expect_cpu_matches_emulated(feature_problem(d, 9), scheme, 3.0, "feature problem");
}

TEST(ImplicitDevice, EmulatedDeviceSweepsMatchTheCpuSweepsForEachLineKind) {
  // One species at a time, so that each way of solving a line is checked on its own: uniform
  // D (factored tables) and tissue labels (rows per cell under LOD, max-D tables under ADI),
  // with and without periodic axes (the bordered solve, and the fold of periodic lines of one
  // and two cells), with and without held voxels (rows per cell for both schemes), with a
  // source and decay. Lines of 1, 2, 3 and 17 cells.
  for (Dims d : {Dims{17, 3, 2}, Dims{5, 2, 1}})
    for (bool labels : {false, true})
      for (bool periodic : {false, true})
        for (bool hold : {false, true}) {
          Problem p = make_uniform_problem(d, 10, 1, 40, 0.01);
          p.grid.h[1] = 15;
          std::mt19937 rng(7);
          std::uniform_real_distribution<double> u(0.0, 1.0);
          for (auto& v : p.initial) v = real(u(rng));
          p.nsrc = 1;
          p.src.assign(d.nvox(), real(0));
          for (long long v = 0; v < d.nvox(); v += 3) p.src[v] = real(0.2);
          p.coeffs[0].src_slot = 0;
          p.coeffs[0].bc[kXm] = {kFixed, real(1.5)};
          if (periodic) {
            for (int f = 0; f < 6; ++f) p.coeffs[0].bc[f] = {kPeriodic, 0};
          } else {
            p.coeffs[0].bc[kZp] = {kFixed, real(0.25)};
          }
          if (labels) {
            p.label_names = {"a", "b"};
            p.labels.assign(d.nvox(), 0);
            for (auto& l : p.labels) l = (uint8_t)(u(rng) < 0.4);
            p.coeffs[0].uses_labels = 1;
            p.coeffs[0].D[1] = 6;
          }
          if (hold) {
            p.nhold = 1;
            p.hold.assign(d.nvox(), real(NAN));
            for (long long v = 1; v < d.nvox(); v += 5) p.hold[v] = p.initial[v];
            p.coeffs[0].hold_slot = 0;
          }
          const std::string what =
              std::string(labels ? "labels" : "uniform") + (periodic ? " periodic" : "") + (hold ? " held" : "");
          for (Scheme scheme : {Scheme::kLodEuler, Scheme::kDouglasAdi})
            expect_cpu_matches_emulated(p, scheme, 4.0, what);
        }
}

// ---- Simulation --------------------------------------------------------------------------

TEST(ImplicitSimulation, LandsExactlyOnEventTimes) {
  Problem p = with_integrator(make_uniform_problem({6, 5, 4}, 10, 1, 100, 0.01), Integrator::kAdi, 7);
  p.time.t_end = 10;
  p.time.output_every = 3;
  auto b = make_backend("cpu");
  b->load(p);
  Simulation sim(p, *b);
  EXPECT_EQ(sim.dt_max(), 7.0);
  long long expected = 0;
  double prev = 0;
  for (double t : sim.output_times()) {
    sim.advance_to(t);
    EXPECT_EQ(sim.time(), t);
    expected += t > prev ? (long long)std::ceil((t - prev) / 7 * (1 - 1e-9)) : 0;
    prev = t;
  }
  EXPECT_EQ(sim.steps(), expected);  // one step per 3 s interval and one for the last 1 s
  EXPECT_EQ(sim.steps(), 4);
}

TEST(ImplicitSimulation, RejectsMissingStepAndLongLines) {
  Problem p = make_uniform_problem({4, 4, 4}, 10, 1, 1, 0);
  p.time.integrator = Integrator::kLod;
  try {
    p.check();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "problem: integrator 'lod' needs a step > 0, or step 0 (auto) with a tolerance in (0, 0.5]");
  }
  Problem q = with_integrator(make_uniform_problem({1025, 1, 1}, 10, 1, 1, 0), Integrator::kAdi, 1);
  try {
    q.check();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "problem: implicit integrators support at most 1024 cells per axis");
  }
  Integrator it = Integrator::kExplicit;
  EXPECT_TRUE(parse_integrator("adi", &it));
  EXPECT_EQ(it, Integrator::kAdi);
  EXPECT_FALSE(parse_integrator("cn", &it));
  EXPECT_STREQ(integrator_name(Integrator::kLod), "lod");
}

// A centred Gaussian pulse (product of the 1-D profile g, returned) on an n^3 no-flux box of
// side L [um], uniform D [um^2/s], no decay.
Problem pulse_problem(int n, double L, double D, double sigma0, std::vector<double>& g) {
  Problem p = make_uniform_problem({n, n, n}, L / n, 1, D, 0);
  g.assign(n, 0.0);
  for (int i = 0; i < n; ++i) g[i] = std::exp(-std::pow(p.grid.center(0, i) - L / 2, 2) / (2 * sigma0 * sigma0));
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) p.initial[p.grid.d.index(i, j, k)] = real(g[i] * g[j] * g[k]);
  return p;
}

TEST(ImplicitSimulation, AutoStepMeetsTheTolerance) {
  // step 0 ('auto'): Simulation picks the first proposal by step doubling of the transport
  // from the loaded state (then every step is controlled: tests/core/test_auto_step.cpp). On a
  // 24^3 Gaussian pulse (no-flux, uniform D) the one-step error against the exact-in-time
  // solution of the grid is close to the tolerance, and the step scales as tol^{1/(p+1)}
  // (p = 1 LOD and BE, 2 ADI). Measured: one-step error 0.8-1.1 x tol; dt(1e-3)/dt(1e-4) LOD 4.9/1.4 s,
  // ADI 22.7/9.3 s, BE 3.7/1.1 s (explicit limit 7.4 s).
  const int n = 24;
  const double L = 1600, h = L / n, D = 100;
  std::vector<double> g;
  Problem p = pulse_problem(n, L, D, 150, g);
  p.time.t_end = p.time.output_every = 1e4;
  auto b = make_backend("cpu");
  for (Integrator it : {Integrator::kLod, Integrator::kAdi, Integrator::kBe}) {
    double dts[2];
    for (int q = 0; q < 2; ++q) {
      const double tol = q == 0 ? 1e-3 : 1e-4;
      Problem a = with_integrator(p, it, 0);
      a.time.tolerance = tol;
      b->load(a);
      Simulation sim(a, *b);
      dts[q] = sim.dt_max();
      std::vector<real> c;
      b->read_state(c);
      EXPECT_EQ(c, a.initial);                            // the calibration left the state as loaded
      b->implicit_steps(implicit_scheme(it), dts[q], 1);  // one step of the first proposal
      b->read_state(c);
      const std::vector<double> e1 = heat_noflux_1d(g, D, h, dts[q]);
      double num = 0, den = 0;
      for (int k = 0; k < n; ++k)
        for (int j = 0; j < n; ++j)
          for (int i = 0; i < n; ++i) {
            const double ex = e1[i] * e1[j] * e1[k], d = c[p.grid.d.index(i, j, k)] - ex;
            num += d * d, den += ex * ex;
          }
      const double err = std::sqrt(num / den);
      EXPECT_GT(err, tol / 4) << integrator_name(it) << " dt " << dts[q];
      EXPECT_LT(err, 4 * tol) << integrator_name(it) << " dt " << dts[q];
    }
    const double expected = std::pow(10.0, 1.0 / (it == Integrator::kAdi ? 3 : 2));
    EXPECT_NEAR(dts[0] / dts[1], expected, 0.3 * expected) << integrator_name(it);
  }
}

TEST(ImplicitSimulation, AutoStepFollowsTheStateBetweenOutputs) {
  // A sharp pulse spreads: the first proposal at t = 0 is small, the controller's proposal
  // at t = 2000 s on the smooth state is larger, and the error of the controlled step from
  // there (its two half steps are kept) stays below the tolerance.
  std::vector<double> g;
  Problem p = pulse_problem(16, 1600, 100, 120, g);
  p.time.t_end = 4000;
  p.time.output_every = 1000;
  Problem a = with_integrator(p, Integrator::kAdi, 0);
  a.time.tolerance = 1e-3;
  auto b = make_backend("cpu");
  b->load(a);
  Simulation sim(a, *b);
  const double dt0 = sim.dt_max();
  sim.advance_to(1000);
  sim.advance_to(2000);  // the controller's proposal at t = 2000 follows the smoother state
  const double dt1 = sim.dt_max();
  EXPECT_GT(dt1, 1.5 * dt0) << dt0 << " -> " << dt1;
  // One step of dt1 from the current state against the exact-in-time grid solution.
  std::vector<real> c0;
  b->read_state(c0);
  std::vector<double> e(c0.begin(), c0.end());
  sim.advance_to(2000 + dt1);
  std::vector<real> c1;
  b->read_state(c1);
  // The exact grid solution of one step: the pulse is a product of 1-D profiles only at t = 0,
  // so use a 16-step ADI run of the same step as the reference instead (error ~ (1/16)^2).
  auto r = make_backend("cpu");
  Problem ref = with_integrator(p, Integrator::kAdi, dt1 / 16);
  ref.initial.assign(c0.begin(), c0.end());
  r->load(ref);
  r->implicit_steps(Scheme::kDouglasAdi, dt1 / 16, 16);
  std::vector<real> cr;
  r->read_state(cr);
  double num = 0, den = 0;
  for (size_t v = 0; v < cr.size(); ++v) {
    num += std::pow(double(c1[v]) - cr[v], 2);
    den += std::pow(double(cr[v]), 2);
  }
  const double err = std::sqrt(num / den);
  EXPECT_GT(err, 1e-3 / 20);
  EXPECT_LT(err, 1e-3);
}

TEST(ImplicitBackendsAgree, CpuAndCudaMatchOnTheFeatureProblem) {
  std::string why;
  if (!cuda_available(&why)) GTEST_SKIP() << "cuda: " << why;
  for (Integrator it : kSchemes) {
    const Problem p = with_integrator(feature_problem({40, 24, 16}, 11), it, 2.5);
    auto cpu = make_backend("cpu"), gpu = make_backend("cuda");
    const std::vector<real> a = run(*cpu, p, 30), b = run(*gpu, p, 30);
    EXPECT_LE(max_rel_diff(b, a), 1e-5) << integrator_name(it);
  }
}

// ---- Physics on every backend ------------------------------------------------------------

using Implicit = BackendTest;

TEST_P(Implicit, TimeOrderAgainstTheSemiDiscreteGaussian) {
  // 32^3 Gaussian pulse with decay, errors against the exact-in-time solution of the same grid:
  // only the time error remains. Measured: LOD 1.80e-1, 8.89e-2, 4.42e-2 (order 1.01);
  // ADI 3.17e-3, 8.09e-4, 2.04e-4 (order 1.94, 1.99).
  auto b = backend();
  const double T = 200, k = 0.01;
  for (Integrator it : kSchemes) {
    const double order = it == Integrator::kLod ? 1 : 2;
    const double e1 = gaussian_error_implicit(*b, it, 32, 25, T, k, true),
                 e2 = gaussian_error_implicit(*b, it, 32, 12.5, T, k, true),
                 e3 = gaussian_error_implicit(*b, it, 32, 6.25, T, k, true);
    EXPECT_NEAR(std::log2(e1 / e2), order, 0.2) << integrator_name(it) << " " << e1 << " " << e2;
    EXPECT_NEAR(std::log2(e2 / e3), order, 0.2) << integrator_name(it) << " " << e2 << " " << e3;
    EXPECT_LT(e2, it == Integrator::kLod ? 9.5e-2 : 9e-4) << integrator_name(it);
  }
}

TEST_P(Implicit, SpaceOrderAgainstTheExactGaussian) {
  // Exact continuum solution, n = 32 and 64, step scaled with h^2 so that the (first-order,
  // LOD) time error scales like the space error. Measured: LOD 2.46e-2, 6.17e-3 (order 2.00);
  // ADI 1.15e-2, 3.06e-3 (order 1.91).
  auto b = backend();
  for (Integrator it : kSchemes) {
    const double c = it == Integrator::kLod ? 0.1 : 0.4;  // dt = c h^2 / D
    const double e32 = gaussian_error_implicit(*b, it, 32, c * 50 * 50 / 100, 50, 0.01, false);
    const double e64 = gaussian_error_implicit(*b, it, 64, c * 25 * 25 / 100, 50, 0.01, false);
    EXPECT_NEAR(std::log2(e32 / e64), 2.0, 0.2) << integrator_name(it) << " " << e32 << " " << e64;
    EXPECT_LT(e64, it == Integrator::kLod ? 6.5e-3 : 3.3e-3) << integrator_name(it);
  }
}

// Max, min and L2 norm of one species block.
struct Norms {
  double max = -1e300, min = 1e300, l2 = 0;
};
Norms norms(const std::vector<real>& c, long long off, long long n) {
  Norms r;
  for (long long v = off; v < off + n; ++v) {
    r.max = std::max(r.max, double(c[v]));
    r.min = std::min(r.min, double(c[v]));
    r.l2 += double(c[v]) * c[v];
  }
  r.l2 = std::sqrt(r.l2);
  return r;
}

// Runs n steps of `it` with step factor * explicit limit, checking after each: LOD keeps the
// max from growing and every value >= 0; ADI keeps the L2 norm from growing. Returns the
// lowest value seen.
double huge_steps(Backend& b, const Problem& p0, Integrator it, double factor, int n) {
  const Problem p = with_integrator(p0, it, factor * p0.explicit_dt_limit());
  b.load(p);
  const long long nv = p.grid.nvox();
  std::vector<real> c = p.initial;
  double lowest = 0;
  std::vector<Norms> prev;
  for (int s = 0; s < p.nspecies(); ++s) prev.push_back(norms(c, s * nv, nv));
  for (int step = 0; step < n; ++step) {
    b.implicit_steps(it == Integrator::kLod ? Scheme::kLodEuler : Scheme::kDouglasAdi, p.time.step, 1);
    b.read_state(c);
    for (int s = 0; s < p.nspecies(); ++s) {
      const Norms now = norms(c, s * nv, nv);
      EXPECT_TRUE(std::isfinite(now.l2));
      if (it == Integrator::kLod) {
        EXPECT_LE(now.max, prev[s].max * (1 + 1e-6)) << "species " << s << " step " << step;
        EXPECT_GE(now.min, 0.0) << "species " << s << " step " << step;
      } else {
        EXPECT_LE(now.l2, prev[s].l2 * (1 + 1e-6)) << "species " << s << " step " << step;
      }
      lowest = std::min(lowest, now.min);
      prev[s] = now;
    }
  }
  return lowest;
}

TEST_P(Implicit, HugeStepsOnARandomFieldNeitherGrowNorGoNegativeUnderLod) {
  // Steps 10^4 times the explicit limit. Species 0: uniform D (commuting line operators, where
  // the ADI L2 bound is a theorem); species 1: three tissues with D from 0 to 100 (LOD's max
  // principle and positivity hold for any M-matrix sweeps).
  auto b = backend();
  Problem p = make_uniform_problem({24, 20, 16}, 10, 2, 100, 0);
  p.label_names = {"a", "b", "c"};
  p.labels.assign(p.grid.nvox(), 0);
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& l : p.labels) l = (uint8_t)(u(rng) * 3);
  for (auto& v : p.initial) v = real(u(rng));
  p.coeffs[1].uses_labels = 1;
  p.coeffs[1].D[0] = 100, p.coeffs[1].D[1] = 3, p.coeffs[1].D[2] = 0;
  huge_steps(*b, p, Integrator::kLod, 1e4, 20);
  Problem q = p;
  q.coeffs.resize(1), q.species.resize(1), q.initial.resize(q.grid.nvox());
  const double lowest = huge_steps(*b, q, Integrator::kAdi, 1e4, 20);
  // ADI is not positivity preserving at such steps (the Crank-Nicolson property): measured
  // minimum about -0.3 on this random field.
  EXPECT_GT(lowest, -1.0);
  // ADI with tissue labels (max-D preconditioned factors): a contraction in the factors' norm,
  // not in L2, so check boundedness over many huge steps (the true-coefficient Douglas
  // factors grow by 2.6x per step here).
  Problem r = with_integrator(p, Integrator::kAdi, 1e4 * p.explicit_dt_limit());
  r.coeffs.erase(r.coeffs.begin()), r.species.resize(1), r.initial.resize(r.grid.nvox());
  b->load(r);
  b->implicit_steps(Scheme::kDouglasAdi, r.time.step, 200);
  std::vector<real> c;
  b->read_state(c);
  const Norms nr = norms(c, 0, r.grid.nvox());
  EXPECT_LT(nr.max, 3.0);
  EXPECT_GT(nr.min, -2.0);
}

TEST_P(Implicit, HugeStepsOnAPointSource) {
  auto b = backend();
  Problem p = make_uniform_problem({25, 25, 25}, 10, 1, 100, 0.001);
  p.initial[p.grid.d.index(12, 12, 12)] = 1;
  huge_steps(*b, p, Integrator::kLod, 1e4, 10);
  const double lowest = huge_steps(*b, p, Integrator::kAdi, 1e4, 10);
  EXPECT_GT(lowest, -1.0);  // ADI undershoots near the spike at such steps (measured about -0.9)
}

TEST_P(Implicit, ConservesTheTotalInFloat32Over10000Steps) {
  // No-flux walls, no reactions: 10^4 steps at 50x the explicit limit, totals in double.
  // Measured drift: about 3e-8 (LOD and ADI). At larger steps (same field, 10^4 steps): LOD
  // 4e-7 at 1500x and 9e-7 at 10^4x; ADI 3.5e-5 / 4.7e-4 (uniform D / labels) at 1500x and
  // 1.6e-3 at 10^4x (see kernels/implicit.hpp).
  auto b = backend();
  Problem p = make_uniform_problem({16, 12, 10}, 10, 2, 100, 0);
  p.label_names = {"a", "b"};
  p.labels.assign(p.grid.nvox(), 0);
  std::mt19937 rng(31);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& l : p.labels) l = (uint8_t)(u(rng) < 0.3);
  for (auto& v : p.initial) v = real(u(rng));
  p.coeffs[1].uses_labels = 1;  // per-line path
  p.coeffs[1].D[0] = 100, p.coeffs[1].D[1] = 10;
  const double before0 = total_amount(p, p.initial, 0), before1 = total_amount(p, p.initial, 1);
  for (Integrator it : kSchemes) {
    const Problem q = with_integrator(p, it, 50 * p.explicit_dt_limit());
    b->load(q);
    b->implicit_steps(it == Integrator::kLod ? Scheme::kLodEuler : Scheme::kDouglasAdi, q.time.step, 10000);
    std::vector<real> c;
    b->read_state(c);
    EXPECT_NEAR(total_amount(q, c, 0) / before0, 1.0, 1e-6) << integrator_name(it);
    EXPECT_NEAR(total_amount(q, c, 1) / before1, 1.0, 1e-6) << integrator_name(it);
    const Norms n0 = norms(c, 0, q.grid.nvox());
    EXPECT_LT(n0.max - n0.min, 1e-3);  // relaxed to the mean: the test is not vacuous
  }
}

TEST_P(Implicit, SteadyLinearProfileIsExact) {
  auto b = backend();
  const int nx = 40;
  const double h = 10, D = 100, L = nx * h;
  for (Integrator it : kSchemes) {
    // LOD (L-stable) converges in a few huge steps; ADI damps its stiffest mode by 0.9 per
    // step at dt = 10 s, so it takes more, shorter ones.
    const double dt = it == Integrator::kLod ? 1e5 : 10;
    const Problem p = with_integrator(line_problem(nx, h, D, 0, 2.0, 0.5), it, dt);
    const std::vector<real> c = run(*b, p, it == Integrator::kLod ? 2e6 : 2e4);
    for (int i = 0; i < nx; ++i) {
      const double x = p.grid.center(0, i), exact = 2.0 + (0.5 - 2.0) * x / L;
      EXPECT_NEAR(c[i], exact, 4 * kRoundoff * 2.0) << integrator_name(it) << " i=" << i;
    }
    // Started on the exact profile, a step of 10^6 s leaves it in place.
    Problem q = with_integrator(p, it, 1e6);
    for (int i = 0; i < nx; ++i) q.initial[i] = real(2.0 + (0.5 - 2.0) * q.grid.center(0, i) / L);
    const std::vector<real> c2 = run(*b, q, 1e6);
    for (int i = 0; i < nx; ++i) EXPECT_NEAR(c2[i], q.initial[i], 4 * kRoundoff * 2.0);
  }
}

TEST_P(Implicit, TwoTissueInterfaceSteadyState) {
  auto b = backend();
  const int nx = 40;
  const double h = 10, D1 = 100, D2 = 25, half = nx / 2 * h;
  for (Integrator it : kSchemes) {
    Problem p = with_integrator(two_tissue_problem(nx, h, D1, D2), it, it == Integrator::kLod ? 500 : 20);
    const std::vector<real> c = run(*b, p, 30000);
    const double J = 1.0 / (half / D1 + half / D2), ci = 1.0 - J * half / D1;
    for (int i = 0; i < nx; ++i) {
      const double x = p.grid.center(0, i);
      const double exact = x < half ? 1.0 - J * x / D1 : ci - J * (x - half) / D2;
      EXPECT_NEAR(c[i], exact, 1e-5) << integrator_name(it) << " i=" << i;
    }
    for (int i = 0; i + 1 < nx; ++i) {
      const double Dl = p.labels[i] ? D2 : D1, Dr = p.labels[i + 1] ? D2 : D1, Df = 2 * Dl * Dr / (Dl + Dr);
      EXPECT_NEAR(-Df * (c[i + 1] - c[i]) / h, J, 2e-3 * J) << integrator_name(it) << " face " << i;
    }
  }
}

TEST_P(Implicit, PeriodicTranslationCommutesWithStepping) {
  // Uniform D (factored cyclic solve) and per-line rows (labels, all with the same D), on
  // grids with long, short (2 cells) and single-cell periodic lines.
  auto b = backend();
  for (Dims d : {Dims{32, 8, 6}, Dims{7, 2, 1}})
    for (bool labels : {false, true})
      for (Integrator it : kSchemes) {
        Problem p = with_integrator(make_uniform_problem(d, 5, 1, 20, 0.001), it, 3.7);
        for (int f = 0; f < 6; ++f) p.coeffs[0].bc[f] = {kPeriodic, 0};
        if (labels) {
          p.label_names = {"a", "b"};
          p.labels.assign(d.nvox(), 0);
          p.coeffs[0].uses_labels = 1;
          p.coeffs[0].D[1] = 20;
        }
        std::mt19937 rng(3);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        for (auto& v : p.initial) v = real(u(rng));
        Problem q = p;
        const int si = 5 % d.nx, sj = 3 % d.ny, sk = 2 % d.nz;
        q.initial = translate(d, p.initial, si, sj, sk);
        const std::vector<real> cp = run(*b, p, 20), cq = run(*b, q, 20);
        const double maxdiff = max_abs_diff(cq, translate(d, cp, si, sj, sk));
        const double change = max_abs_diff(cp, p.initial);
        EXPECT_LE(maxdiff, 2 * kRoundoff) << integrator_name(it) << " labels " << labels << " nx " << d.nx;
        EXPECT_GT(change, 0.1);
      }
}

TEST_P(Implicit, PerLineRowsMatchTheFactoredMatrix) {
  // The same uniform problem solved through the factored tables and, with a label map whose
  // labels all share D, through per-line rows: equal to round-off, for every boundary type.
  auto b = backend();
  const Dims d{19, 14, 9};
  for (Integrator it : kSchemes) {
    Problem p = with_integrator(make_uniform_problem(d, 10, 3, 60, 0.02), it, 4);
    p.nsrc = 1;
    p.src.assign(d.nvox(), real(0));
    for (long long v = 0; v < d.nvox(); v += 7) p.src[v] = real(0.3);
    p.coeffs[0].src_slot = 0;
    p.coeffs[0].bc[kXm] = {kFixed, real(2)};
    p.coeffs[0].bc[kZp] = {kFixed, real(0.5)};
    p.coeffs[1].bc[kXm] = p.coeffs[1].bc[kXp] = {kPeriodic, 0};
    p.coeffs[1].bc[kYm] = p.coeffs[1].bc[kYp] = {kPeriodic, 0};
    p.coeffs[2].bc[kZm] = p.coeffs[2].bc[kZp] = {kPeriodic, 0};
    p.coeffs[2].bc[kYm] = {kFixed, real(1)};
    std::mt19937 rng(41);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (auto& v : p.initial) v = real(u(rng));
    Problem q = p;
    q.label_names = {"a", "b", "c"};
    q.labels.assign(d.nvox(), 0);
    for (auto& l : q.labels) l = (uint8_t)(u(rng) * 3);
    for (auto& sc : q.coeffs) {
      sc.uses_labels = 1;
      sc.D[1] = sc.D[2] = sc.D[0];
    }
    const std::vector<real> cp = run(*b, p, 40), cq = run(*b, q, 40);
    EXPECT_LE(max_rel_diff(cq, cp), 3 * kRoundoff) << integrator_name(it);
  }
}

TEST_P(Implicit, DecayAndSourceInAUniformBox) {
  // ADI: exact at any step (c e^{-k dt} + S dt phi(k dt)). LOD (k/3 and S/3 per sweep):
  // first order, measured -7.87e-3 at dt = 5 s and -7.97e-4 at 0.5 s; exact steady state S/k.
  auto b = backend();
  const double S = 0.5, k = 0.02, c0 = 3, T = 50;
  const double exact = c0 * std::exp(-k * T) + S / k * (1 - std::exp(-k * T));
  auto box = [&](Integrator it, double dt) {
    Problem p = with_integrator(make_uniform_problem({6, 5, 4}, 10, 1, 10, k), it, dt);
    p.nsrc = 1;
    p.src.assign(p.grid.nvox(), real(S));
    p.coeffs[0].src_slot = 0;
    p.initial.assign(p.grid.nvox(), real(c0));
    return p;
  };
  for (double dt : {50.0, 5.0}) {
    const Problem p = box(Integrator::kAdi, dt);
    const std::vector<real> c = run(*b, p, T);
    for (long long v = 0; v < p.grid.nvox(); v += 13) EXPECT_NEAR(c[v], exact, 2e-6 * exact) << dt;
  }
  const double e1 = run(*b, box(Integrator::kLod, 5), T)[0] / exact - 1;
  const double e2 = run(*b, box(Integrator::kLod, 0.5), T)[0] / exact - 1;
  EXPECT_NEAR(std::log10(e1 / e2), 1.0, 0.1) << e1 << " " << e2;
  EXPECT_LT(std::abs(e1), 8.5e-3);
  for (Integrator it : kSchemes) EXPECT_NEAR(run(*b, box(it, 50), 5000)[0], S / k, 1e-6 * S / k) << integrator_name(it);
}

TEST_P(Implicit, MichaelisMentenUptakeInAUniformBox) {
  // Both schemes use the frozen rate V/(Km + c): first order, positive at any step. Measured
  // relative errors at dt = 0.5 / 0.25 s (V dt / Km = 0.2 / 0.1, c0 = 4 Km): LOD 2.99e-2 /
  // 1.51e-2, ADI 3.63e-2 / 1.84e-2.
  auto b = backend();
  const double V = 0.2, K = 0.5, c0 = 2.0, T = 10, exact = mm_exact(c0, V, K, T);
  for (Integrator it : kSchemes) {
    auto box = [&](double dt, double vmax) {
      Problem p = with_integrator(make_uniform_problem({4, 4, 3}, 10, 1, 5, 0), it, dt);
      p.nupt = 1;
      p.upt.assign(p.grid.nvox(), real(vmax));
      p.coeffs[0].upt_slot = 0;
      p.coeffs[0].km = real(K);
      p.initial.assign(p.grid.nvox(), real(c0));
      return p;
    };
    const std::vector<real> c1 = run(*b, box(0.5, V), T), c2 = run(*b, box(0.25, V), T);
    const double e1 = std::abs(c1[0] / exact - 1), e2 = std::abs(c2[0] / exact - 1);
    EXPECT_NEAR(std::log2(e1 / e2), 1.0, 0.2) << integrator_name(it) << " " << e1 << " " << e2;
    EXPECT_LT(e2, 2e-2) << integrator_name(it);
    for (real v : c2) EXPECT_NEAR(v, c2[0], 1e-6);  // stays uniform
    // Stiff uptake with huge steps: consumed, never negative (LOD: exactly; ADI: c e^{-kappa dt}
    // >= 0 in exact arithmetic, c + delta with delta ~ -c rounds to +-1e-14 in float32).
    const std::vector<real> c3 = run(*b, box(100, 50), 1000);
    for (real v : c3) {
      EXPECT_GE(v, it == Integrator::kLod ? 0.0f : -1e-6f * real(c0)) << integrator_name(it);
      EXPECT_LT(v, 1e-3f) << integrator_name(it);
    }
  }
}

TEST_P(Implicit, PointSourceWithDecayReachesItsSteadyState) {
  // A source of 1 unit/s in one voxel, decay length 5 voxels (k = 0.167/s, D = 1667 um^2/s,
  // h = 20 um), 21^3 box; reference: the explicit scheme run to 30/k. ADI at 25x the explicit
  // limit reproduces it (measured 1e-6 relative at the source). LOD's splitting error at the
  // source voxel (measured on 33^3: 1.84x the steady value at 25x the explicit step, 3.9x at
  // 250x, 5.6x at 1500x) is the reason it is only the baseline. ADI's own weakness at very
  // large steps: modes stiff along all three axes relax slowly (measured on 33^3 at 1500x:
  // source voxel at 19% of its steady value after 180 s, 54% after 3000 s, 84% after 30000 s).
  auto b = backend();
  const int n = 21;
  const Problem p = point_source_problem(n);
  const double k = p.coeffs[0].decay;
  const long long cv = p.grid.d.index(n / 2, n / 2, n / 2);
  const std::vector<real> ref = run(*b, p, 30 / k);
  const double dt = 25 * p.explicit_dt_limit();
  const std::vector<real> adi = run(*b, with_integrator(p, Integrator::kAdi, dt), 30 / k);
  EXPECT_NEAR(adi[cv] / ref[cv], 1.0, 1e-4);
  EXPECT_LE(max_rel_diff(adi, ref, ref[cv]), 1e-4);
  const std::vector<real> lod = run(*b, with_integrator(p, Integrator::kLod, dt), 30 / k);
  EXPECT_NEAR(lod[cv] / ref[cv], 1.84, 0.1);
  EXPECT_NEAR(total_amount(p, lod, 0) / total_amount(p, ref, 0), 1.0, 1e-4);  // amount is right
}

TEST_P(Implicit, FixedValueFaceWithAShortDecayLengthDeliversTheExactFlux) {
  // A fixed-value face (value 1) feeding a tissue whose decay length is 3 voxels: the amount
  // delivered per unit time is the flux through the face, 2 D/h (1 - c_0) at steady state,
  // compared with the exact steady state of the same grid (double precision). ADI reproduces
  // it at any step (measured <= 2e-6 from k dt = 0.01 to 100); LOD's splitting does not
  // (measured +3.2% at k dt = 0.01, +31% at 0.1; the field collapses for k dt > 1).
  auto b = backend();
  const int nx = 60;
  const double h = 20, D = 1e5 / 60.0, lam = 3 * h, k = D / (lam * lam), w = D / (h * h);
  std::vector<double> A(nx), B(nx), C(nx), R(nx, 0.0), x(nx);
  for (int p = 0; p < nx; ++p) {
    A[p] = p > 0 ? -w : 0;
    C[p] = p < nx - 1 ? -w : 0;
    B[p] = -(A[p] + C[p]) + k + (p == 0 ? 2 * w : 0);
  }
  R[0] = 2 * w;
  for (int p = 1; p < nx; ++p) {
    const double m = A[p] / B[p - 1];
    B[p] -= m * C[p - 1];
    R[p] -= m * R[p - 1];
  }
  x[nx - 1] = R[nx - 1] / B[nx - 1];
  for (int p = nx - 2; p >= 0; --p) x[p] = (R[p] - C[p] * x[p + 1]) / B[p];
  const double J = 2 * D / h * (1 - x[0]);
  for (Integrator it : kSchemes)
    for (double kdt : {0.01, 1.0, 100.0}) {
      if (it == Integrator::kLod && kdt > 0.01) continue;
      Problem p = with_integrator(make_uniform_problem({nx, 1, 1}, h, 1, D, k), it, kdt / k);
      p.coeffs[0].bc[kXm] = {kFixed, 1};
      const std::vector<real> c = run(*b, p, std::max(400 / k, 400 * kdt / k));
      const double flux = 2 * D / h * (1 - c[0]);
      if (it == Integrator::kAdi) {
        EXPECT_NEAR(flux / J, 1.0, 1e-4) << "k dt = " << kdt;
        for (int q = 0; q < nx; ++q) EXPECT_NEAR(c[q], x[q], 2e-5 * x[0]) << "k dt = " << kdt << " i=" << q;
      } else {
        EXPECT_NEAR(flux / J, 1.032, 0.003);  // the documented LOD splitting error
      }
    }
}

TME_INSTANTIATE_BACKENDS(Implicit);

}  // namespace
}  // namespace tme::test
