// Two Problems compared exactly, field by field (grid, species, coefficients, per-voxel
// arrays, held values bitwise, regions, time control, the model's terms, drugs, plan doses and
// fractions): for tests of scene loading that must give the same problem two ways.
#pragma once
#include <gtest/gtest.h>

#include <cstring>

#include "host/core/problem.hpp"

namespace tme::test {

inline void expect_same_problem(const Problem& a, const Problem& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.grid.d.nx, b.grid.d.nx);
  EXPECT_EQ(a.grid.d.ny, b.grid.d.ny);
  EXPECT_EQ(a.grid.d.nz, b.grid.d.nz);
  for (int ax = 0; ax < 3; ++ax) {
    EXPECT_EQ(a.grid.h[ax], b.grid.h[ax]);
    EXPECT_EQ(a.grid.origin[ax], b.grid.origin[ax]);
  }
  ASSERT_EQ(a.nspecies(), b.nspecies());
  for (int s = 0; s < a.nspecies(); ++s) {
    SCOPED_TRACE("species " + a.species[s].name);
    EXPECT_EQ(a.species[s].name, b.species[s].name);
    EXPECT_EQ(a.species[s].unit, b.species[s].unit);
    const tme::SpeciesCoeffs &x = a.coeffs[s], &y = b.coeffs[s];
    for (int l = 0; l < tme::kMaxLabels; ++l) EXPECT_EQ(x.D[l], y.D[l]);
    EXPECT_EQ(x.uses_labels, y.uses_labels);
    EXPECT_EQ(x.decay, y.decay);
    EXPECT_EQ(x.km, y.km);
    EXPECT_EQ(x.src_slot, y.src_slot);
    EXPECT_EQ(x.upt_slot, y.upt_slot);
    for (int f = 0; f < 6; ++f) {
      EXPECT_EQ(x.bc[f].type, y.bc[f].type);
      EXPECT_EQ(x.bc[f].value, y.bc[f].value);
    }
  }
  EXPECT_EQ(a.label_names, b.label_names);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.initial, b.initial);
  EXPECT_EQ(a.nsrc, b.nsrc);
  EXPECT_EQ(a.src, b.src);
  EXPECT_EQ(a.nupt, b.nupt);
  EXPECT_EQ(a.upt, b.upt);
  EXPECT_EQ(a.nhold, b.nhold);
  EXPECT_EQ(a.hold.size(), b.hold.size());  // NaN marks free voxels: compared bitwise below
  if (a.hold.size() == b.hold.size() && !a.hold.empty()) {
    EXPECT_EQ(std::memcmp(a.hold.data(), b.hold.data(), a.hold.size() * sizeof(tme::real)), 0);
  }
  ASSERT_EQ(a.regions.size(), b.regions.size());
  for (size_t r = 0; r < a.regions.size(); ++r) {
    EXPECT_EQ(a.regions[r].name, b.regions[r].name);
    EXPECT_EQ(a.regions[r].mask, b.regions[r].mask);
  }
  EXPECT_EQ(a.time.t_end, b.time.t_end);
  EXPECT_EQ(a.time.output_every, b.time.output_every);
  EXPECT_EQ(a.time.max_step, b.time.max_step);
  EXPECT_EQ(a.time.cfl, b.time.cfl);
  EXPECT_EQ(a.time.integrator, b.time.integrator);
  EXPECT_EQ(a.time.step, b.time.step);
  EXPECT_EQ(a.time.tolerance, b.time.tolerance);
  const tme::Model &ma = a.model, &mb = b.model;
  EXPECT_EQ(ma.terms.size(), mb.terms.size());
  EXPECT_EQ(ma.drugs.size(), mb.drugs.size());
  ASSERT_EQ(ma.plans.size(), mb.plans.size());
  for (size_t q = 0; q < ma.plans.size(); ++q) EXPECT_EQ(ma.plans[q].dose, mb.plans[q].dose);
  ASSERT_EQ(ma.fractions.size(), mb.fractions.size());
  for (size_t f = 0; f < ma.fractions.size(); ++f) EXPECT_EQ(ma.fractions[f].time_s, mb.fractions[f].time_s);
}

}  // namespace tme::test
