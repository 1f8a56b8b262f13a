// Slow (label "slow"): the large-step integrators on finer grids and longer runs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/core/observables.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/core/implicit_helpers.hpp"

namespace tme::test {
namespace {

using SlowImplicit = BackendTest;

TEST_P(SlowImplicit, SpaceOrderUpTo128Cubed) {
  // dt = c h^2 / D as in the core test; measured (float32, 2026-11-26) LOD 6.17e-3 -> 1.54e-3,
  // ADI 3.06e-3 -> 7.7e-4.
  auto b = backend();
  for (Integrator it : {Integrator::kLod, Integrator::kAdi}) {
    const double c = it == Integrator::kLod ? 0.1 : 0.4;
    const double e64 = gaussian_error_implicit(*b, it, 64, c * 25 * 25 / 100, 50, 0.01, false);
    const double e128 = gaussian_error_implicit(*b, it, 128, c * 12.5 * 12.5 / 100, 50, 0.01, false);
    EXPECT_NEAR(std::log2(e64 / e128), 2.0, 0.2) << integrator_name(it) << " " << e64 << " " << e128;
    EXPECT_LT(e128, it == Integrator::kLod ? 1.7e-3 : 9e-4) << integrator_name(it);
  }
}

TEST_P(SlowImplicit, AdiPointSourceConvergesToItsSteadyStateAt250xTheExplicitStep) {
  // One-voxel source, decay length 5 voxels, 33^3: ADI at 250x the explicit limit relaxes the
  // near field slowly (modes stiff along all axes) but reaches the exact steady state.
  // Measured source voxel / steady value: 0.91 after 3000 s, 0.999 after 30000 s.
  auto b = backend();
  const int n = 33;
  const Problem p = point_source_problem(n);
  const double k = p.coeffs[0].decay;
  const long long cv = p.grid.d.index(n / 2, n / 2, n / 2);
  const std::vector<real> ref = run(*b, p, 30 / k);  // explicit reference
  const Problem q = with_integrator(p, Integrator::kAdi, 250 * p.explicit_dt_limit());
  const std::vector<real> c = run(*b, q, 30000);
  EXPECT_NEAR(c[cv] / ref[cv], 1.0, 5e-3);
  EXPECT_NEAR(total_amount(p, c, 0) / total_amount(p, ref, 0), 1.0, 1e-3);
}

TME_INSTANTIATE_BACKENDS(SlowImplicit);

}  // namespace
}  // namespace tme::test
