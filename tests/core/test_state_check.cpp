// Run-time guards: the NaN-keeping clamp, the one-value test, the backends' state check
// (first wrong value, lowest index), its message, the step-count limit of Simulation and
// the check every N steps.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "host/core/simulation.hpp"
#include "kernels/implicit.hpp"
#include "kernels/state_check.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/error_of.hpp"

namespace tme::test {
namespace {

constexpr real kNaN = std::numeric_limits<real>::quiet_NaN();
constexpr real kInf = std::numeric_limits<real>::infinity();

TEST(StateCheck, ClampNonnegKeepsNaN) {
  EXPECT_TRUE(std::isnan(clamp_nonneg(kNaN)));
  EXPECT_TRUE(std::isnan(clamp_nonneg(-kNaN)));
  EXPECT_EQ(clamp_nonneg(real(-1)), real(0));
  EXPECT_EQ(clamp_nonneg(real(-0.0)), real(0));
  EXPECT_EQ(clamp_nonneg(real(2.5)), real(2.5));
  EXPECT_EQ(clamp_nonneg(kInf), kInf);
  EXPECT_EQ(clamp_nonneg(-kInf), real(0));
}

TEST(StateCheck, OneValueTest) {
  EXPECT_FALSE(state_value_bad(real(0), 0, kInf));
  EXPECT_FALSE(state_value_bad(real(3), 0, real(3)));
  EXPECT_TRUE(state_value_bad(kNaN, 0, kInf));
  EXPECT_TRUE(state_value_bad(kInf, 0, kInf));
  EXPECT_TRUE(state_value_bad(-kInf, -kInf, kInf));
  EXPECT_TRUE(state_value_bad(real(-1e-30), 0, kInf));
  EXPECT_FALSE(state_value_bad(real(-5), -kInf, kInf));
  EXPECT_TRUE(state_value_bad(real(3.5), 0, real(3)));
}

// A 5x4x3 box of two fields at 1 (spacing 10 um, origin 0), on the backend.
Problem box() {
  Problem p = make_uniform_problem({5, 4, 3}, 10, 2, 0, 0);
  p.initial.assign(p.initial.size(), real(1));
  p.species[1] = {"T", "cells/mm^3"};
  return p;
}

class StateCheckBackend : public BackendTest {};

TEST_P(StateCheckBackend, FindsTheFirstWrongValue) {
  const Problem p = box();
  auto b = backend();
  b->load(p);
  const long long nv = p.grid.nvox();
  const std::vector<real> lo(2, real(0)), hi{kInf, real(100)};
  EXPECT_EQ(b->first_bad_value(lo, hi), -1);
  std::vector<real> s = p.initial;
  const long long v = p.grid.d.index(3, 2, 1);
  s[nv + v] = kNaN;
  b->write_state(s);
  EXPECT_EQ(b->first_bad_value(lo, hi), nv + v);
  s[nv + v - 1] = real(-0.5);  // a lower index wins
  b->write_state(s);
  EXPECT_EQ(b->first_bad_value(lo, hi), nv + v - 1);
  s[7] = real(1e30);  // field 0 has no upper bound
  b->write_state(s);
  EXPECT_EQ(b->first_bad_value(lo, hi), nv + v - 1);
  s[nv + 2] = real(101);  // field 1's bound is 100
  b->write_state(s);
  EXPECT_EQ(b->first_bad_value(lo, hi), nv + 2);
  s[5] = kInf;
  b->write_state(s);
  EXPECT_EQ(b->first_bad_value(lo, hi), 5);
  EXPECT_EQ(any_error_of([&] { b->first_bad_value({0}, hi); }),
            "state check: one lower and one upper limit per species expected");
}

TEST_P(StateCheckBackend, MessageNamesFieldVoxelPositionTimeAndValue) {
  Problem p = box();
  p.grid.origin[0] = 100;
  p.model.crowd_species = {1};
  p.model.crowd_volume = {1e-3};  // capacity 1000 cells/mm^3: bound 10000
  auto b = backend();
  b->load(p);
  const StateLimits lim = state_limits(p);
  EXPECT_EQ(lim.upper[1], real(1e4));
  EXPECT_EQ(lim.upper[0], kInf);
  EXPECT_EQ(lim.lower[0], real(0));
  EXPECT_NO_THROW(check_state(p, *b, lim, 0));
  const long long nv = p.grid.nvox();
  std::vector<real> s = p.initial;
  s[nv + p.grid.d.index(4, 0, 2)] = real(2e4);
  b->write_state(s);
  EXPECT_EQ(any_error_of([&] { check_state(p, *b, lim, 7.5); }),
            "state check failed at t = 7.5 s: field 'T' at voxel (4, 0, 2) (x, y, z = 145, 5, 25 um): value 20000 "
            "cells/mm^3 is above 10000 cells/mm^3 (10 x the carrying capacity)");
  s[p.grid.d.index(1, 3, 0)] = real(-2);
  b->write_state(s);
  EXPECT_EQ(any_error_of([&] { check_state(p, *b, lim, 1); }),
            "state check failed at t = 1 s: field 's0' at voxel (1, 3, 0) (x, y, z = 115, 35, 5 um): value -2 is "
            "negative");
  s[p.grid.d.index(0, 1, 0)] = kNaN;
  b->write_state(s);
  EXPECT_EQ(any_error_of([&] { check_state(p, *b, lim, 1); }),
            "state check failed at t = 1 s: field 's0' at voxel (0, 1, 0) (x, y, z = 105, 15, 5 um): value is NaN");
  s[0] = -kInf;
  b->write_state(s);
  EXPECT_EQ(any_error_of([&] { check_state(p, *b, lim, 1); }),
            "state check failed at t = 1 s: field 's0' at voxel (0, 0, 0) (x, y, z = 105, 5, 5 um): value is -inf");
  // adi is not positivity preserving: negative values pass, NaN does not.
  p.time.integrator = Integrator::kAdi;
  EXPECT_EQ(state_limits(p).lower[0], -kInf);
}

// The LOD update clamps round-off below zero; a NaN must survive it for the check to see it.
TEST_P(StateCheckBackend, LodStepKeepsANaN) {
  Problem p = make_uniform_problem({6, 5, 4}, 10, 1, 10, 0.01);
  p.initial.assign(p.initial.size(), real(1));
  p.time.integrator = Integrator::kLod;
  p.time.step = 1;
  auto b = backend();
  b->load(p);
  std::vector<real> s = p.initial;
  s[p.grid.d.index(2, 2, 2)] = kNaN;
  b->write_state(s);
  b->implicit_steps(Scheme::kLodEuler, 1.0, 1);
  const StateLimits lim = state_limits(p);
  EXPECT_NE(b->first_bad_value(lim.lower, lim.upper), -1);
  b->read_state(s);
  EXPECT_TRUE(std::isnan(s[p.grid.d.index(2, 2, 2)]));
}

// The reaction pass clamps transport round-off below zero; a NaN must survive it.
TEST_P(StateCheckBackend, ReactionPassKeepsANaN) {
  Problem p = make_uniform_problem({4, 4, 4}, 10, 2, 0, 0);
  p.initial.assign(p.initial.size(), real(1));
  p.model.terms.push_back(make_term(kTermSecretion, 0, 1, 0.1));  // field 0 gains 0.1/s x field 1
  auto b = backend();
  b->load(p);
  std::vector<real> s = p.initial;
  s[5] = kNaN;
  s[6] = real(-1e-3);
  b->write_state(s);
  b->react(1.0, {});
  b->read_state(s);
  EXPECT_TRUE(std::isnan(s[5]));
  EXPECT_NEAR(s[6], 0.1, 1e-6);  // round-off below zero still counts as 0
  EXPECT_NEAR(s[7], 1.1, 1e-6);
}

TME_INSTANTIATE_BACKENDS(StateCheckBackend);

TEST(StateCheck, SimulationRefusesAStepCountBeyondTheLimit) {
  // D = 1e20 um^2/s on 10 um: a step limit of 1.5e-19 s, 6.75e20 steps over 100 s (this wrapped
  // long long: the run took 2 steps and wrote -3.9e20, then NaN).
  Problem p = make_uniform_problem({4, 4, 4}, 10, 1, 1e20, 0);
  p.time.t_end = 100;
  p.time.output_every = 100;
  auto b = make_backend("cpu");
  b->load(p);
  Simulation sim(p, *b);
  EXPECT_EQ(any_error_of([&] { sim.advance_to(100); }),
            "Simulation: advancing from t = 0 s to 100 s takes 6.66667e+20 steps of at most 1.5e-19 s, beyond the "
            "limit of 1e+10 steps per run");
  EXPECT_EQ(sim.steps(), 0);
  EXPECT_EQ(sim.time(), 0);
}

TEST(StateCheck, SimulationChecksEveryNSteps) {
  Problem p = make_uniform_problem({4, 4, 4}, 10, 1, 0, 0);
  p.time.t_end = 1;
  p.time.max_step = 0.1;
  p.coeffs[0].src_slot = 0;
  p.nsrc = 1;
  p.src.assign(p.grid.nvox(), real(0));
  p.src[p.grid.d.index(1, 2, 3)] = real(-1);  // drives the voxel below zero in the first step
  auto b = make_backend("cpu");
  b->load(p);
  {
    Simulation sim(p, *b);
    EXPECT_NO_THROW(sim.advance_to(1));  // no check inside advance_to by default
    EXPECT_EQ(any_error_of([&] { sim.check_state(); }),
              "state check failed at t = 1 s: field 's0' at voxel (1, 2, 3) (x, y, z = 15, 25, 35 um): value -1 is "
              "negative");
  }
  b->load(p);
  Simulation sim(p, *b);
  sim.check_every(4);
  EXPECT_EQ(any_error_of([&] { sim.advance_to(1); }),
            "state check failed at t = 0.4 s: field 's0' at voxel (1, 2, 3) (x, y, z = 15, 25, 35 um): value -0.4 is "
            "negative");
  EXPECT_EQ(sim.steps(), 4);
}

}  // namespace
}  // namespace tme::test
