// Radiation response one-cell functions (kernels/radiation.hpp): LQ survival, oxygen
// modification, BED/EQD2 against hand-calculated values, release factors.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/radiation.hpp"

namespace rt = tme::rt;

namespace {
struct Population {
  const char* name;
  double alpha;  // [1/Gy]
  double beta;   // [1/Gy^2]
};
// CT26 tumour (Kosinsky 2018, alpha/beta 10) and lymphocytes (Friedrich et al. 2022).
const Population kPops[] = {{"tumour", 0.146, 0.0146}, {"lymphocyte", 0.2, 0.14}};
}  // namespace

TEST(RtResponse, LqSurvivalEqualsFormula) {
  for (const auto& p : kPops)
    for (double d : {0.0, 0.5, 1.0, 2.0, 8.0, 20.0}) {
      const double expect = std::exp(-p.alpha * d - p.beta * d * d);
      EXPECT_NEAR(rt::lq_survival(p.alpha, p.beta, d), expect, 1e-15 * expect) << p.name << " " << d;
      // float (the field type of the default build): round-off of float.
      const float sf = rt::lq_survival((float)p.alpha, (float)p.beta, (float)d);
      EXPECT_NEAR(sf, expect, 2e-6 * expect + 1e-30) << p.name << " " << d;
      EXPECT_NEAR(rt::lq_doomed(1000.0, rt::lq_survival(p.alpha, p.beta, d)), 1000.0 * (1 - expect), 1e-9);
    }
  // Hand values: exp(-0.3504), exp(-0.96), exp(-2.1024).
  EXPECT_NEAR(rt::lq_survival(0.146, 0.0146, 2.0), 0.7044062708503572, 1e-15);
  EXPECT_NEAR(rt::lq_survival(0.2, 0.14, 2.0), 0.382892885975112, 1e-15);
  EXPECT_NEAR(rt::lq_survival(0.146, 0.0146, 8.0), 0.12216288521771773, 1e-15);
  EXPECT_EQ(rt::lq_survival(0.2, 0.14, 0.0), 1.0);
}

TEST(RtResponse, OxygenModification) {
  const double oer = rt::OerDefaults::oer_max, K = rt::OerDefaults::k_mmHg;
  EXPECT_DOUBLE_EQ(rt::oxygen_modification(0.0, oer, K), 1.0 / 3.0);   // anoxic: 1/OER_max
  EXPECT_DOUBLE_EQ(rt::oxygen_modification(-1.0, oer, K), 1.0 / 3.0);  // negative pO2 = 0
  EXPECT_DOUBLE_EQ(rt::oxygen_modification(K, oer, K), 2.0 / 3.0);     // (3K + K) / (3 * 2K)
  EXPECT_NEAR(rt::oxygen_modification(1e9, oer, K), 1.0, 1e-8);        // oxic: 1
  // Monotone in pO2.
  double prev = 0;
  for (double p = 0; p <= 100; p += 0.5) {
    const double m = rt::oxygen_modification(p, oer, K);
    EXPECT_GT(m, prev);
    prev = m;
  }
  // Dose modifying: anoxic cells given 6 Gy survive as oxic cells given 2 Gy.
  for (const auto& p : kPops) {
    EXPECT_NEAR(rt::lq_survival_oxygen(p.alpha, p.beta, 6.0, 0.0, oer, K), rt::lq_survival(p.alpha, p.beta, 2.0),
                1e-15);
    // Equivalent alpha/beta modification (alpha OMF, beta OMF^2).
    const double m = rt::oxygen_modification(5.0, oer, K);
    EXPECT_NEAR(rt::lq_survival_oxygen(p.alpha, p.beta, 3.0, 5.0, oer, K),
                std::exp(-p.alpha * m * 3.0 - p.beta * m * m * 9.0), 1e-15);
  }
}

namespace {
struct Course {
  int n;
  double d;
};
double bed(Course c, double ab) {
  double s = 0;
  for (int i = 0; i < c.n; ++i) s += rt::bed_increment(c.d, ab);
  return s;
}
double eqd2(Course c, double ab) {
  double s = 0;
  for (int i = 0; i < c.n; ++i) s += rt::eqd2_increment(c.d, ab);
  return s;
}
}  // namespace

TEST(RtResponse, BedEqd2HandValues) {
  // Hand calculation: BED = n d (1 + d / (a/b)), EQD2 = BED / (1 + 2 / (a/b)).
  struct Case {
    Course c;
    double ab, bed, eqd2;
  };
  const Case cases[] = {
      {{25, 2.0}, 10.0, 60.0, 50.0},
      {{3, 8.0}, 10.0, 43.2, 36.0},
      {{1, 20.0}, 10.0, 60.0, 50.0},
      {{25, 2.0}, 3.0, 83.33333333333333, 50.0},   // 50 (1 + 2/3) = 250/3
      {{3, 8.0}, 3.0, 88.0, 52.8},                 // 24 (1 + 8/3) = 88; 88 / (5/3)
      {{1, 20.0}, 3.0, 153.33333333333334, 92.0},  // 20 (1 + 20/3) = 460/3; / (5/3)
  };
  for (const auto& k : cases) {
    const double b = bed(k.c, k.ab), e = eqd2(k.c, k.ab);
    EXPECT_NEAR(b, k.bed, 1e-12) << k.c.n << " x " << k.c.d << " a/b " << k.ab;
    EXPECT_NEAR(e, k.eqd2, 1e-12) << k.c.n << " x " << k.c.d << " a/b " << k.ab;
    EXPECT_NEAR(rt::eqd2_from_bed(b, k.ab), k.eqd2, 1e-12);
  }
  // 2 Gy fractions: EQD2 = physical dose for any alpha/beta.
  EXPECT_DOUBLE_EQ(rt::eqd2_increment(2.0, 0.4), 2.0);
}

TEST(RtResponse, Ifn1ReleaseIsNonMonotonic) {
  const double thr = rt::Ifn1Defaults::d_thr_Gy, n = rt::Ifn1Defaults::steepness;
  const double three_x_8 = 3 * rt::ifn1_release_factor(8.0, thr, n);
  const double one_x_20 = rt::ifn1_release_factor(20.0, thr, n);
  EXPECT_GT(three_x_8, one_x_20);
  EXPECT_NEAR(three_x_8, 22.2035416, 1e-6);  // 3 * 8 / (1 + (8/15)^4)
  EXPECT_NEAR(one_x_20, 4.8071217, 1e-6);    // 20 / (1 + (4/3)^4)
  // Rises up to d* = thr (n-1)^(-1/n), falls after.
  const double dstar = thr * std::pow(n - 1, -1.0 / n);
  for (double d = 0.25; d < dstar - 0.25; d += 0.25)
    EXPECT_LT(rt::ifn1_release_factor(d, thr, n), rt::ifn1_release_factor(d + 0.25, thr, n)) << d;
  for (double d = dstar + 0.25; d < 40; d += 0.25)
    EXPECT_GT(rt::ifn1_release_factor(d, thr, n), rt::ifn1_release_factor(d + 0.25, thr, n)) << d;
  // At the threshold the release per Gy has halved.
  EXPECT_DOUBLE_EQ(rt::ifn1_release_factor(thr, thr, n), thr / 2);
  EXPECT_EQ(rt::ifn1_release_factor(0.0, thr, n), 0.0);
  EXPECT_EQ(rt::ifn1_release_factor(-1.0, thr, n), 0.0);
  // float instance (device type).
  EXPECT_NEAR(rt::ifn1_release_factor(8.0f, 15.0f, 4.0f), 7.4011805, 1e-5);
}

TEST(RtResponse, GenericRelease) {
  EXPECT_DOUBLE_EQ(rt::dose_release_factor(8.0, 0.0), 8.0);   // linear
  EXPECT_DOUBLE_EQ(rt::dose_release_factor(8.0, 8.0), 4.0);   // saturating: d / (1 + d/d_sat)
  EXPECT_NEAR(rt::dose_release_factor(1e9, 8.0), 8.0, 1e-6);  // tends to d_sat
  EXPECT_EQ(rt::dose_release_factor(-2.0, 8.0), 0.0);
  EXPECT_LT(3 * rt::dose_release_factor(8.0, 10.0), 3 * 8.0);
}
