// Step control: the explicit limit, and landing exactly on output times.
#include <gtest/gtest.h>

#include <cmath>

#include "host/core/simulation.hpp"

namespace tme::test {
namespace {

TEST(Simulation, ExplicitLimitMatchesTheStencilWeights) {
  Problem p = make_uniform_problem({10, 10, 10}, 10, 1, 100, 0.5);
  // 3D no-flux: weight 2D/h^2 per axis = 6 * 100 / 100 = 6, plus decay 0.5.
  EXPECT_DOUBLE_EQ(p.explicit_dt_limit(), 1.0 / 6.5);
  p.coeffs[0].bc[kXm] = {kFixed, 1};  // a fixed face weighs 2D/h^2: x axis worst cell 3D/h^2
  EXPECT_DOUBLE_EQ(p.explicit_dt_limit(), 1.0 / 7.5);
  Problem line = make_uniform_problem({1, 1, 1}, 10, 1, 100, 0);
  line.coeffs[0].bc[kXm] = {kFixed, 1};
  line.coeffs[0].bc[kXp] = {kFixed, 1};
  EXPECT_DOUBLE_EQ(line.explicit_dt_limit(), 1.0 / 4.0);
}

TEST(Simulation, LandsExactlyOnOutputTimes) {
  Problem p = make_uniform_problem({4, 4, 4}, 10, 1, 100, 0);
  p.time.t_end = 10;
  p.time.output_every = 3;
  auto b = make_backend("cpu");
  b->load(p);
  Simulation sim(p, *b);
  const auto ts = sim.output_times();
  ASSERT_EQ(ts.size(), 5u);
  EXPECT_EQ(ts[0], 0.0);
  EXPECT_EQ(ts[3], 9.0);
  EXPECT_EQ(ts[4], 10.0);
  long long expected_steps = 0;
  double prev = 0;
  for (double t : ts) {
    sim.advance_to(t);
    EXPECT_EQ(sim.time(), t);
    expected_steps += t > prev ? (long long)std::ceil((t - prev) / sim.dt_max() * (1 - 1e-9)) : 0;
    prev = t;
  }
  EXPECT_EQ(sim.steps(), expected_steps);
  EXPECT_NEAR(sim.dt_max(), 0.9 / 6.0, 1e-15);
}

TEST(Simulation, MaxStepCapsTheAutomaticStep) {
  Problem p = make_uniform_problem({4, 4, 4}, 10, 1, 1, 0);
  p.time.max_step = 0.25;
  auto b = make_backend("cpu");
  b->load(p);
  Simulation sim(p, *b);
  EXPECT_EQ(sim.dt_max(), 0.25);
  sim.advance_to(1.0);
  EXPECT_EQ(sim.steps(), 4);
}

TEST(Simulation, RejectsInconsistentProblems) {
  Problem p = make_uniform_problem({4, 4, 4}, 10, 1, 1, 0);
  p.coeffs[0].bc[kXm] = {kPeriodic, 0};
  try {
    p.check();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "problem: periodic boundaries must be set on both faces of an axis");
  }
}

}  // namespace
}  // namespace tme::test
