// Global sensitivity estimators (host/core/sensitivity.hpp): the Latin hypercube's strata, the
// Sobol indices of the Ishigami function against their analytic values, the Morris elementary
// effects of a linear function (exact), and the size checks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "host/core/sensitivity.hpp"

namespace {

using namespace tme::gsa;

TEST(Sensitivity, LatinHypercubeHasOnePointPerStratum) {
  std::mt19937_64 rng(7);
  const int n = 50, d = 3;
  const auto pts = latin_hypercube(n, d, rng);
  ASSERT_EQ((int)pts.size(), n);
  for (int k = 0; k < d; ++k) {
    std::vector<int> count(n, 0);
    for (const Point& p : pts) {
      ASSERT_GE(p[k], 0.0);
      ASSERT_LT(p[k], 1.0);
      ++count[(int)std::floor(p[k] * n)];
    }
    for (int c : count) EXPECT_EQ(c, 1);
  }
}

// Ishigami: f = sin x1 + a sin^2 x2 + b x3^4 sin x1 on [-pi, pi]^3, a = 7, b = 0.1.
double ishigami(const std::vector<double>& x) {
  return std::sin(x[0]) + 7 * std::sin(x[1]) * std::sin(x[1]) + 0.1 * std::pow(x[2], 4) * std::sin(x[0]);
}

TEST(Sensitivity, SobolIndicesOfIshigami) {
  // Analytic partial variances (Ishigami and Homma 1990; Sobol' and Levitan 1999).
  const double a = 7, b = 0.1, pi = M_PI;
  const double V1 = 0.5 * std::pow(1 + b * std::pow(pi, 4) / 5, 2);
  const double V2 = a * a / 8;
  const double V13 = b * b * std::pow(pi, 8) * (1.0 / 18 - 1.0 / 50);
  const double V = V1 + V2 + V13;
  const double S1[3] = {V1 / V, V2 / V, 0};
  const double ST[3] = {(V1 + V13) / V, V2 / V, V13 / V};
  // The values the task quotes, to three decimals.
  EXPECT_NEAR(S1[0], 0.314, 5e-4);
  EXPECT_NEAR(S1[1], 0.442, 5e-4);
  EXPECT_NEAR(ST[0], 0.558, 5e-4);
  EXPECT_NEAR(ST[2], 0.244, 5e-4);

  std::mt19937_64 rng(20261203);
  const int n = 20000, d = 3;
  const SobolDesign design = sobol_design(n, d, rng);
  std::vector<double> y;
  for (const Point& u : design.points()) y.push_back(ishigami(map_to_box(u, {-pi, -pi, -pi}, {pi, pi, pi})));
  ASSERT_EQ((int)y.size(), n * (d + 2));
  const auto idx = sobol_indices(y, n, d, rng, 500, 0.99);
  for (int i = 0; i < d; ++i) {
    // Tolerance from the sample size: the estimators' standard error is sd(summand) /
    // (V sqrt(n)); for the Ishigami function with n = 20000 the largest is about 0.01 (S1 of
    // x1 and x3 by Saltelli's estimator: their 99% bootstrap intervals are about +-0.025), so
    // 0.03 is 3 standard errors. The 99% bootstrap interval must hold the analytic value too.
    EXPECT_NEAR(idx[i].S1, S1[i], 0.03) << "S1 of x" << i + 1;
    EXPECT_NEAR(idx[i].ST, ST[i], 0.03) << "ST of x" << i + 1;
    EXPECT_LE(idx[i].S1_low, S1[i]) << "x" << i + 1;
    EXPECT_GE(idx[i].S1_high, S1[i]) << "x" << i + 1;
    EXPECT_LE(idx[i].ST_low, ST[i]) << "x" << i + 1;
    EXPECT_GE(idx[i].ST_high, ST[i]) << "x" << i + 1;
    EXPECT_LT(idx[i].S1_high - idx[i].S1_low, 0.08) << "x" << i + 1;
    std::printf("ishigami x%d: S1 %.4f [%.4f, %.4f] (exact %.4f), ST %.4f [%.4f, %.4f] (exact %.4f)\n", i + 1,
                idx[i].S1, idx[i].S1_low, idx[i].S1_high, S1[i], idx[i].ST, idx[i].ST_low, idx[i].ST_high, ST[i]);
  }
}

TEST(Sensitivity, MorrisEffectsOfALinearFunctionAreExact) {
  // f = 5 x1 - 2 x2 + 1 x3 + 0 x4 on the box [0, 2] x [0, 1] x [0, 1] x [0, 3]: the elementary
  // effect of x_i per whole range is c_i (high_i - low_i), whatever the point and direction.
  const std::vector<double> c{5, -2, 1, 0}, low{0, 0, 0, 0}, high{2, 1, 1, 3};
  std::mt19937_64 rng(3);
  const MorrisDesign m = morris_design(10, 4, 4, rng);
  ASSERT_EQ((int)m.points.size(), 10 * 5);
  EXPECT_DOUBLE_EQ(m.delta, 2.0 / 3);
  std::vector<double> y;
  for (const Point& u : m.points) {
    const auto x = map_to_box(u, low, high);
    double f = 0;
    for (int k = 0; k < 4; ++k) f += c[k] * x[k];
    y.push_back(f);
  }
  const auto idx = morris_indices(m, y);
  const double expect_mu[4] = {10, -2, 1, 0};
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(idx[k].mu, expect_mu[k], 1e-12) << k;
    EXPECT_NEAR(idx[k].mu_star, std::fabs(expect_mu[k]), 1e-12) << k;
    EXPECT_NEAR(idx[k].sigma, 0, 1e-12) << k;
  }
  // Ranking by mu*: x1, x2, x3, x4.
  EXPECT_GT(idx[0].mu_star, idx[1].mu_star);
  EXPECT_GT(idx[1].mu_star, idx[2].mu_star);
  EXPECT_GT(idx[2].mu_star, idx[3].mu_star);
}

TEST(Sensitivity, SizesAreChecked) {
  std::mt19937_64 rng(1);
  try {
    sobol_indices(std::vector<double>(9, 1.0), 2, 3, rng);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "sobol_indices: 9 outcomes for n = 2, d = 3 (expected n (d + 2))");
  }
  try {
    sobol_indices(std::vector<double>(10, 1.0), 2, 3, rng);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "sobol_indices: the outcome does not vary over the samples");
  }
  EXPECT_THROW(morris_design(2, 2, 3, rng), std::invalid_argument);
}

}  // namespace
