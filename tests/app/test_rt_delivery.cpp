// Dose accounting and the delivered-schedule report (host/rt/delivery.hpp): BED/EQD2 over
// whole courses against hand values, per-fraction statistics, CSV text, validation messages.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/rt/delivery.hpp"
#include "tests/error_of.hpp"

namespace rt = tme::rt;

namespace {
using tme::test::error_of;
}  // namespace

// Three courses in one map, each in a voxel of label 0 (alpha/beta 10 Gy) and one of label 1
// (alpha/beta 3 Gy): voxels 0-1 get 25 x 2 Gy, 2-3 get 3 x 8 Gy, 4-5 get 1 x 20 Gy (0 Gy in
// the other fractions, which must change nothing).
TEST(RtDelivery, BedEqd2OverCoursesHandValues) {
  rt::DoseAccumulator acc(6, {0, 1, 0, 1, 0, 1}, {10.0, 3.0});
  for (int f = 0; f < 25; ++f) {
    const double d8 = f < 3 ? 8.0 : 0.0, d20 = f == 0 ? 20.0 : 0.0;  // [Gy]
    acc.add_fraction({2.0, 2.0, d8, d8, d20, d20});
  }
  EXPECT_EQ(acc.fractions(), 25);
  // Hand values: BED = n d (1 + d / ab), EQD2 = BED / (1 + 2 / ab) [Gy].
  const double phys[6] = {50, 50, 24, 24, 20, 20};
  const double bed[6] = {60, 250.0 / 3, 43.2, 88, 60, 460.0 / 3};
  const double eqd2[6] = {50, 50, 36, 52.8, 50, 92};
  for (int i = 0; i < 6; ++i) {
    EXPECT_NEAR(acc.physical_Gy()[i], phys[i], 1e-12 * phys[i]) << "voxel " << i;
    EXPECT_NEAR(acc.bed_Gy()[i], bed[i], 1e-12 * bed[i]) << "voxel " << i;
    EXPECT_NEAR(acc.eqd2_Gy()[i], eqd2[i], 1e-12 * eqd2[i]) << "voxel " << i;
  }
  EXPECT_EQ(acc.last_fraction_Gy(), (std::vector<double>{2, 2, 0, 0, 0, 0}));
}

// No labels: every voxel takes alpha/beta of label 0. Before any fraction all fields are 0.
TEST(RtDelivery, EmptyLabelsMeanLabelZero) {
  rt::DoseAccumulator acc(2, {}, {3.0});
  EXPECT_EQ(acc.fractions(), 0);
  EXPECT_EQ(acc.bed_Gy(), (std::vector<double>{0, 0}));
  EXPECT_EQ(acc.last_fraction_Gy(), (std::vector<double>{0, 0}));
  for (int f = 0; f < 3; ++f) acc.add_fraction({8.0, 0.0});
  EXPECT_NEAR(acc.bed_Gy()[0], 88.0, 1e-12 * 88);
  EXPECT_NEAR(acc.eqd2_Gy()[0], 52.8, 1e-12 * 52.8);
  EXPECT_EQ(acc.physical_Gy()[1], 0.0);
  EXPECT_EQ(acc.eqd2_Gy()[1], 0.0);
}

// Six voxels; region "tumour" holds voxels 1-3 (one marked 255: any nonzero byte is inside),
// region "empty" holds none.
TEST(RtDelivery, SummariseFractionStatistics) {
  const std::vector<double> dose = {0.5, 2, 8, 8, 1.5, 0};  // [Gy]
  const std::vector<uint8_t> tumour = {0, 1, 255, 1, 0, 0}, empty(6, 0);
  const auto rows = rt::summarise_fraction(117000, 1, "boost", 8, dose, {{"tumour", &tumour}, {"empty", &empty}});
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.time_s, 117000);
    EXPECT_EQ(r.plan, 1);
    EXPECT_EQ(r.plan_name, "boost");
    EXPECT_EQ(r.prescribed_Gy, 8);
  }
  EXPECT_EQ(rows[0].scope, "grid");
  EXPECT_EQ(rows[0].voxels, 6);
  EXPECT_DOUBLE_EQ(rows[0].mean_Gy, 20.0 / 6);
  EXPECT_EQ(rows[0].min_Gy, 0.0);
  EXPECT_EQ(rows[0].max_Gy, 8.0);
  EXPECT_EQ(rows[1].scope, "tumour");
  EXPECT_EQ(rows[1].voxels, 3);
  EXPECT_DOUBLE_EQ(rows[1].mean_Gy, 6.0);
  EXPECT_EQ(rows[1].min_Gy, 2.0);
  EXPECT_EQ(rows[1].max_Gy, 8.0);
  EXPECT_EQ(rows[2].scope, "empty");
  EXPECT_EQ(rows[2].voxels, 0);
  EXPECT_TRUE(std::isnan(rows[2].mean_Gy));
  EXPECT_TRUE(std::isnan(rows[2].min_Gy));
  EXPECT_TRUE(std::isnan(rows[2].max_Gy));
}

TEST(RtDelivery, CsvTextTwoRows) {
  const double nan = std::nan("");
  const std::vector<rt::DeliveredRow> rows = {{117000, 1, "boost", 1.8, "grid", 20.0 / 6, 0, 8, 6},
                                              {117000, 1, "boost", 1.8, "empty", nan, nan, nan, 0}};
  EXPECT_EQ(rt::delivered_schedule_csv(rows),
            "time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy\n"
            "117000,32.5,1,boost,1.8,grid,6,3.33333333,0,8\n"
            "117000,32.5,1,boost,1.8,empty,0,,,\n");
  // A scope with a comma or quote is quoted, quotes doubled.
  const std::vector<rt::DeliveredRow> odd = {{0, 0, "", 2, "a,\"b\"", 2, 2, 2, 1}};
  EXPECT_EQ(rt::delivered_schedule_csv(odd),
            "time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy\n"
            "0,0,0,,2,\"a,\"\"b\"\"\",1,2,2,2\n");
}

TEST(RtDelivery, ErrorMessages) {
  EXPECT_EQ(error_of([] { rt::DoseAccumulator(-1, {}, {10.0}); }),
            "dose accumulator: voxel count -1 is negative (expected >= 0)");
  EXPECT_EQ(error_of([] {
              rt::DoseAccumulator(3, {0, 0}, {10.0});
            }),
            "dose accumulator: 2 labels for 3 voxels (expected one per voxel, or none for all "
            "label 0)");
  EXPECT_EQ(error_of([] { rt::DoseAccumulator(3, {}, {}); }),
            "dose accumulator: empty alpha/beta table (expected one value > 0 Gy per label)");
  EXPECT_EQ(error_of([] {
              rt::DoseAccumulator(3, {}, {10.0, 0.0});
            }),
            "dose accumulator: alpha/beta of label 1 is 0 Gy (expected finite and > 0)");
  EXPECT_EQ(error_of([] { rt::DoseAccumulator(3, {}, {-2.5}); }),
            "dose accumulator: alpha/beta of label 0 is -2.5 Gy (expected finite and > 0)");
  EXPECT_EQ(error_of([] {
              rt::DoseAccumulator(3, {0, 2, 1}, {10.0, 3.0});
            }),
            "dose accumulator: voxel 1 has label 2 but the alpha/beta table has 2 entries "
            "(labels 0..1)");

  rt::DoseAccumulator acc(3, {}, {10.0});
  EXPECT_EQ(error_of([&] {
              acc.add_fraction({1.0, 1.0});
            }),
            "dose accumulator: fraction has 2 dose values for 3 voxels (expected one per voxel)");
  EXPECT_EQ(error_of([&] {
              acc.add_fraction({1.0, 1.0, -0.5});
            }),
            "dose accumulator: fraction dose at voxel 2 is -0.5 Gy (expected finite and >= 0)");
  EXPECT_EQ(error_of([&] {
              acc.add_fraction({std::nan(""), 1.0, 1.0});
            }),
            "dose accumulator: fraction dose at voxel 0 is nan Gy (expected finite and >= 0)");
  // A refused fraction changes nothing.
  EXPECT_EQ(acc.fractions(), 0);
  EXPECT_EQ(acc.physical_Gy(), (std::vector<double>{0, 0, 0}));

  const std::vector<double> dose = {1, 2, 3};
  const std::vector<uint8_t> short_mask = {1, 0};
  EXPECT_EQ(error_of([&] {
              rt::summarise_fraction(0, 0, "p", 2, dose, {{"tumour", &short_mask}});
            }),
            "summarise_fraction: region 'tumour' mask has 2 voxels, expected 3 (one per dose "
            "value)");
  EXPECT_EQ(error_of([&] {
              rt::summarise_fraction(0, 0, "p", 2, dose, {{"rim", nullptr}});
            }),
            "summarise_fraction: region 'rim' has no mask (null pointer)");
}
