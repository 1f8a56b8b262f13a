// Sources, decay and Michaelis-Menten uptake against ODE solutions, on every backend.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/core/simulation.hpp"
#include "kernels/reaction.hpp"
#include "tests/core/backend_param.hpp"

namespace tme::test {
namespace {

using Reaction = BackendTest;

TEST(ReactionTerms, OneCellFunctions) {
  EXPECT_FLOAT_EQ(decay_rate(real(2), real(0.5)), -1.0f);
  EXPECT_FLOAT_EQ(mm_uptake_rate(real(1), real(3), real(1)), -1.5f);
  EXPECT_FLOAT_EQ(mm_uptake_rate(real(0), real(3), real(1)), 0.0f);
  EXPECT_FLOAT_EQ(reaction_stiffness(real(0.1), real(2), real(4)), 0.6f);
}

TEST_P(Reaction, UniformSourceWithDecayFollowsTheDiscreteAndExactSolution) {
  auto b = backend();
  Problem p = make_uniform_problem({8, 8, 8}, 10, 1, 10, 0.02);
  const double S = 0.5;
  p.nsrc = 1;
  p.src.assign(p.grid.nvox(), real(S));
  p.coeffs[0].src_slot = 0;
  p.time.max_step = 0.01;
  b->load(p);
  Simulation sim(p, *b);
  sim.advance_to(50);
  std::vector<real> c;
  b->read_state(c);
  const double dt = 50.0 / sim.steps(), k = 0.02;
  const double discrete = S / k * (1 - std::pow(1 - k * dt, double(sim.steps())));
  const double exact = S / k * (1 - std::exp(-k * 50));
  for (long long v = 0; v < p.grid.nvox(); v += 37) {
    EXPECT_NEAR(c[v], discrete, 1e-4 * discrete);
    EXPECT_NEAR(c[v], exact, 1e-3 * exact);  // forward Euler is first order in dt
  }
}

TEST_P(Reaction, RegionSourceOnlyActsInsideItsRegion) {
  auto b = backend();
  Problem p = make_uniform_problem({10, 1, 1}, 10, 1, 0, 0);  // no diffusion
  p.nsrc = 1;
  p.src.assign(p.grid.nvox(), real(0));
  for (int i = 3; i < 6; ++i) p.src[i] = real(2.0);
  p.coeffs[0].src_slot = 0;
  b->load(p);
  Simulation sim(p, *b);
  sim.advance_to(4);
  std::vector<real> c;
  b->read_state(c);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(c[i], (i >= 3 && i < 6) ? 8.0 : 0.0, 1e-5) << i;
}

TEST_P(Reaction, MichaelisMentenUptakeMatchesTheImplicitExactSolution) {
  auto b = backend();
  Problem p = make_uniform_problem({4, 4, 1}, 10, 1, 5, 0);
  const double V = 0.2, K = 0.5, c0 = 2.0, T = 10;
  p.nupt = 1;
  p.upt.assign(p.grid.nvox(), real(V));
  p.coeffs[0].upt_slot = 0;
  p.coeffs[0].km = real(K);
  p.initial.assign(p.grid.nvox(), real(c0));
  p.time.max_step = 1e-3;
  b->load(p);
  Simulation sim(p, *b);
  sim.advance_to(T);
  std::vector<real> c;
  b->read_state(c);
  // Exact: K ln(c0/c) + (c0 - c) = V t. Solve for c by Newton.
  double x = c0;
  for (int it = 0; it < 50; ++it) {
    const double f = K * std::log(c0 / x) + (c0 - x) - V * T, df = -K / x - 1;
    x -= f / df;
  }
  for (long long v = 0; v < p.grid.nvox(); ++v) EXPECT_NEAR(c[v], x, 2e-4 * x);
}

TME_INSTANTIATE_BACKENDS(Reaction);

}  // namespace
}  // namespace tme::test
