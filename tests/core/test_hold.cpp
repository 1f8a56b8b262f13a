// Interior voxels held at a fixed value (a vessel or lymph node as a source): the amount they
// deliver at steady state against the exact steady solution of the same grid, for every
// integrator, on every backend, with a decay length of a few voxels.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "host/core/simulation.hpp"
#include "tests/core/backend_param.hpp"

namespace tme::test {
namespace {

using Hold = BackendTest;

constexpr int kN = 15;                           // cells per axis; the held voxel is the centre
constexpr double kH = 10;                        // [um]
constexpr double kD = 10;                        // [um^2/s]
constexpr double kLambda = 3 * kH;               // decay length [um]: three voxels
constexpr double kK = kD / (kLambda * kLambda);  // decay [1/s]

Problem held_problem() {
  Problem p = make_uniform_problem({kN, kN, kN}, kH, 1, kD, kK);
  p.nhold = 1;
  p.hold.assign(p.grid.nvox(), real(NAN));
  p.hold[p.grid.d.index(kN / 2, kN / 2, kN / 2)] = real(1);
  p.coeffs[0].hold_slot = 0;
  return p;
}

// Exact steady state of the discrete problem (no-flux walls, held centre at 1), in double, by
// red-black successive over-relaxation to round-off.
std::vector<double> discrete_steady() {
  const Dims d{kN, kN, kN};
  std::vector<double> c(d.nvox(), 0.0);
  const long long hc = d.index(kN / 2, kN / 2, kN / 2);
  c[hc] = 1;
  const double w = kD / (kH * kH), omega = 1.6;
  for (int it = 0; it < 4000; ++it) {
    double change = 0;
    for (int colour = 0; colour < 2; ++colour)
      for (int k = 0; k < kN; ++k)
        for (int j = 0; j < kN; ++j)
          for (int i = (j + k + colour) % 2; i < kN; i += 2) {
            const long long v = d.index(i, j, k);
            if (v == hc) continue;
            double sum = 0, diag = kK;
            const int q[3] = {i, j, k};
            const long long st[3] = {1, kN, (long long)kN * kN};
            for (int a = 0; a < 3; ++a) {
              if (q[a] > 0) sum += w * c[v - st[a]], diag += w;
              if (q[a] < kN - 1) sum += w * c[v + st[a]], diag += w;
            }
            const double next = (1 - omega) * c[v] + omega * sum / diag;
            change = std::max(change, std::abs(next - c[v]));
            c[v] = next;
          }
    if (change < 1e-15) break;
  }
  return c;
}

// Amount leaving the held voxel per time [unit um^3/s]: the six face fluxes.
template <class V>
double delivered(const V& c) {
  const Dims d{kN, kN, kN};
  const long long hc = d.index(kN / 2, kN / 2, kN / 2);
  const long long st[3] = {1, kN, (long long)kN * kN};
  double f = 0;
  for (int a = 0; a < 3; ++a)
    for (int s : {-1, 1}) f += kD / (kH * kH) * (double(c[hc]) - double(c[hc + s * st[a]]));
  return f * kH * kH * kH;
}

TEST_P(Hold, HeldVoxelDeliversTheSteadyAmountAtLargeSteps) {
  // From an empty field with the centre held at 1, run to steady state and compare the amount
  // leaving the held voxel with the exact steady solution of the grid. Measured (float32, CPU,
  // 15^3, decay length 3 voxels), relative error of the delivered amount:
  //   k dt:                    0.1      1        10       100
  //   ADI from zero, 400 steps: 4e-9    5e-6     1.2e-2 (4e-6 after 4000 steps): stiff
  //                                              modes relax slowly at such steps
  //   ADI from the steady state, 20 steps:       exact to round-off (a fixed point at any step)
  //   LOD from zero:           1.4e-2   1.1e-2   1.9e-3   3.4e-3  (splitting error, positive)
  //   BE from zero:            within 2e-5 at every k dt (steady states exact, positive)
  // So neither scheme loses tens of percent of the flux at the held voxel: the hold acts
  // through the rows and the flux-form right-hand sides, never by overwriting inside a split
  // step. The delivered amount does not show LOD's error in the field around it (L2 0.82 of
  // the field at k dt 1): OffCentreHeldVoxelAgainstTheExplicitField.
  const std::vector<double> ref = discrete_steady();
  const double f_ref = delivered(ref);
  struct Case {
    Integrator it;
    double kdt;
    bool from_steady;
    int steps;
    double tol;
  };
  const Case cases[] = {{Integrator::kAdi, 0.1, false, 400, 2e-5}, {Integrator::kAdi, 1.0, false, 400, 2e-5},
                        {Integrator::kAdi, 10.0, true, 20, 2e-5},  {Integrator::kAdi, 100.0, true, 20, 2e-5},
                        {Integrator::kLod, 0.1, false, 400, 2e-2}, {Integrator::kLod, 1.0, false, 40, 2e-2},
                        {Integrator::kLod, 10.0, false, 20, 5e-3}, {Integrator::kLod, 100.0, false, 20, 5e-3},
                        {Integrator::kBe, 0.1, false, 400, 2e-5},  {Integrator::kBe, 1.0, false, 400, 2e-5},
                        {Integrator::kBe, 10.0, false, 20, 2e-5},  {Integrator::kBe, 100.0, false, 20, 2e-5}};
  for (const Case& cs : cases) {
    Problem p = held_problem();
    p.time.integrator = cs.it;
    p.time.step = cs.kdt / kK;
    p.time.t_end = std::max(40.0 / kK, cs.steps * p.time.step);
    p.time.output_every = p.time.t_end;
    if (cs.from_steady) p.initial.assign(ref.begin(), ref.end());
    auto b = backend();
    b->load(p);
    Simulation sim(p, *b);
    sim.advance_to(p.time.t_end);
    std::vector<real> c;
    b->read_state(c);
    const std::string what = std::string(integrator_name(cs.it)) + ", k dt " + std::to_string(cs.kdt);
    EXPECT_EQ(c[p.grid.d.index(kN / 2, kN / 2, kN / 2)], real(1)) << what;
    EXPECT_LT(std::abs(delivered(c) / f_ref - 1), cs.tol) << what;
    if (cs.it != Integrator::kAdi) {
      for (real v : c) ASSERT_GE(v, real(0)) << what;
    }
  }
}

TEST_P(Hold, ExplicitRunReachesTheSameSteadyAmount) {
  const double f_ref = delivered(discrete_steady());
  Problem p = held_problem();
  p.time.t_end = 30.0 / kK;
  p.time.output_every = p.time.t_end;
  auto b = backend();
  b->load(p);
  Simulation sim(p, *b);
  sim.advance_to(p.time.t_end);
  std::vector<real> c;
  b->read_state(c);
  EXPECT_EQ(c[p.grid.d.index(kN / 2, kN / 2, kN / 2)], real(1));
  EXPECT_NEAR(delivered(c) / f_ref, 1.0, 2e-5);
}

// ---- A held voxel off the grid's centre lines, against the explicit field ----------------

constexpr int kOffI = 4, kOffJ = 9, kOffK = 6;  // the held voxel: on no centre line of the grid

Problem off_centre_problem() {
  Problem p = make_uniform_problem({kN, kN, kN}, kH, 1, kD, kK);
  p.nhold = 1;
  p.hold.assign(p.grid.nvox(), real(NAN));
  p.hold[p.grid.d.index(kOffI, kOffJ, kOffK)] = real(1);
  p.initial[p.grid.d.index(kOffI, kOffJ, kOffK)] = real(1);
  p.coeffs[0].hold_slot = 0;
  return p;
}

// Steady field of off_centre_problem run with `it` at step k dt = kdt for `steps` steps (at
// least 40 / k) on backend b.
std::vector<real> off_centre_steady(Backend& b, Integrator it, double kdt, int steps) {
  Problem p = off_centre_problem();
  p.time.integrator = it;
  p.time.step = it == Integrator::kExplicit ? 0.0 : kdt / kK;
  p.time.t_end = std::max(40.0 / kK, steps * p.time.step);
  p.time.output_every = p.time.t_end;
  b.load(p);
  Simulation sim(p, b);
  sim.advance_to(p.time.t_end);
  std::vector<real> c;
  b.read_state(c);
  return c;
}

// What a held voxel does to the field, against the reference field: the relative L2 error of
// the whole field, and the largest relative error on the three grid lines through the held
// voxel at 2 or more cells from it (where a sweep that carries the held value along its line
// leaves a line or plane of held-like values).
struct HeldFieldError {
  double l2 = 0, lines = 0;
};
template <class V, class W>
HeldFieldError held_field_error(const V& c, const W& ref) {
  const Dims d{kN, kN, kN};
  HeldFieldError e;
  double num = 0, den = 0;
  for (long long v = 0; v < d.nvox(); ++v) {
    num += (double(c[v]) - double(ref[v])) * (double(c[v]) - double(ref[v]));
    den += double(ref[v]) * double(ref[v]);
  }
  e.l2 = std::sqrt(num / den);
  const int h[3] = {kOffI, kOffJ, kOffK};
  for (int a = 0; a < 3; ++a)
    for (int p = 0; p < kN; ++p) {
      if (std::abs(p - h[a]) < 2) continue;
      int q[3] = {h[0], h[1], h[2]};
      q[a] = p;
      const long long v = d.index(q[0], q[1], q[2]);
      e.lines = std::max(e.lines, std::abs(double(c[v]) / double(ref[v]) - 1));
    }
  return e;
}

TEST_P(Hold, OffCentreHeldVoxelAgainstTheExplicitField) {
  // A held voxel on no centre line of the grid (decay length 3 voxels), run to steady state:
  // the whole field and the three grid lines through the held voxel against the explicit run.
  // Measured (float32, CPU, 15^3, 400 steps):
  //   k dt:      0.01           0.1            1              10
  //   ADI  L2    1e-6           3e-7           1.9e-5         2.3e-2 (stiff modes not yet relaxed)
  //        lines 4e-6           1.3e-6         3.5e-5         3.8e-2
  //   LOD  L2    3.9e-2         0.27           0.82           1.28
  //        lines 0.077          0.81           11.0           43.5
  //        total 0.97           0.80           0.44           0.27   (of the explicit total)
  // ADI matches. LOD does not, and the cause is the splitting, not the held rows: each sweep
  // holds the voxel as a Dirichlet point of a 1D problem, which at k dt >> 1/(D dt/h^2) fills
  // the whole sweep line towards the held value (a line, with a held line such as a vessel a
  // plane, of held-like values: the last sweep's line stays in the output), while the amount
  // the voxel can deliver in a sweep is capped by what that one line takes up, not by the 3D
  // flux (so the total is low). Sources do not have the cap (LOD delivers them exactly,
  // Implicit.PointSourceWithDecayReachesItsSteadyState). The held voxel itself is right (its
  // row is the identity in every sweep; the same on a centre line). Within one sweep any
  // implicit coupling of the neighbours to the held value (as now, or as a relaxation split
  // over the sweeps) fills their lines the same way, and an explicit flux (lagged by a step)
  // is estimated to grow next to a held plane once D dt/h^2 > 4; so the LOD numbers are its
  // measured limit, kept so that a change is seen. A held species needs 'adi' (or a coupled
  // solve) at k dt above about 0.01. The coupled solve, 'be', matches at every step: L2 2.9e-7
  // to 3.6e-7, lines 1.2e-6 to 1.5e-6 from k dt 0.1 to 100 (measured, float32, CPU).
  auto b = backend();
  const std::vector<real> ref = off_centre_steady(*b, Integrator::kExplicit, 0, 0);
  for (double kdt : {0.1, 1.0}) {
    const HeldFieldError e = held_field_error(off_centre_steady(*b, Integrator::kAdi, kdt, 400), ref);
    EXPECT_LT(e.l2, 1e-4) << "adi, k dt " << kdt;
    EXPECT_LT(e.lines, 1e-4) << "adi, k dt " << kdt;
  }
  struct Lod {
    double kdt, l2, lines;
  };
  for (const Lod& m : {Lod{0.1, 0.27, 0.81}, Lod{1.0, 0.82, 11.0}}) {
    const HeldFieldError e = held_field_error(off_centre_steady(*b, Integrator::kLod, m.kdt, 400), ref);
    EXPECT_NEAR(e.l2 / m.l2, 1.0, 0.05) << "lod, k dt " << m.kdt;
    EXPECT_NEAR(e.lines / m.lines, 1.0, 0.05) << "lod, k dt " << m.kdt;
  }
  for (double kdt : {0.1, 1.0, 10.0, 100.0}) {
    const HeldFieldError e = held_field_error(off_centre_steady(*b, Integrator::kBe, kdt, 20), ref);
    EXPECT_LT(e.l2, 1e-4) << "be, k dt " << kdt;
    EXPECT_LT(e.lines, 1e-4) << "be, k dt " << kdt;
  }
}

TEST_P(Hold, BackwardEulerReachesTheDiscreteSteadyStateAtAnyStep) {
  // The held centre with decay (decay length 3 voxels, k = 1/90 s) run with 'be' from an empty
  // field at dt = 1 s, 1 min and 1 h (k dt = 0.011, 0.67, 40) for 15 / k (at least 20 steps):
  // the whole field against the exact steady state of the grid (discrete_steady, double).
  // Measured (float32, CPU), largest relative error over the voxels: 1 s 6.0e-6, 1 min 3.4e-5
  // (what is left of the transient after 15 / k), 1 h below 1e-6; the 1% asked of the
  // integrator with room to spare.
  const std::vector<double> ref = discrete_steady();
  auto b = backend();
  for (double dt : {1.0, 60.0, 3600.0}) {
    Problem p = held_problem();
    p.time.integrator = Integrator::kBe;
    p.time.step = dt;
    p.time.t_end = std::max(15.0 / kK, 20 * dt);
    p.time.output_every = p.time.t_end;
    b->load(p);
    Simulation sim(p, *b);
    sim.advance_to(p.time.t_end);
    std::vector<real> c;
    b->read_state(c);
    double worst = 0;
    for (size_t v = 0; v < c.size(); ++v) worst = std::max(worst, std::abs(double(c[v]) / ref[v] - 1));
    EXPECT_LT(worst, dt == 3600.0 ? 1e-6 : 1e-4) << "dt " << dt;
  }
}

TEST(HoldCheck, HeldFieldMustNotBeChangedByModelTerms) {
  Problem p = held_problem();
  Term t;
  t.kind = kTermConversion;
  t.target = 0;
  t.p[0] = real(1e-3);
  p.model.terms = {t};
  try {
    p.check();
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "problem: species 's0' has held voxels and is also changed by model terms, "
                 "chemotaxis or radiotherapy (not supported: hold a separate source field instead)");
  }
}

TME_INSTANTIATE_BACKENDS(Hold);

}  // namespace
}  // namespace tme::test
