// Clinician-style dosing strings (host/scene/regimen.hpp): values, unit conversion, per-kg
// doses and every error message.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "host/scene/regimen.hpp"

namespace {

using tme::ParsedRegimen;
using tme::UnitSystem;

constexpr double kDay = 86400.0;  // [s]

class RegimenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { units_ = new UnitSystem(); }
  static void TearDownTestSuite() {
    delete units_;
    units_ = nullptr;
  }
  static ParsedRegimen parse(const std::string& text, double weight_kg = 0) {
    return tme::parse_regimen(text, weight_kg, *units_);
  }
  // The exact message of the std::invalid_argument thrown ("" when none is thrown).
  static std::string error(const std::string& text, double weight_kg = 0) {
    try {
      parse(text, weight_kg);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }
  static UnitSystem* units_;
};
UnitSystem* RegimenTest::units_ = nullptr;

TEST_F(RegimenTest, FlatDoses) {
  ParsedRegimen r = parse("200 mg q3w");  // pembrolizumab
  EXPECT_EQ(r.regimen.amount_mg, 200);
  EXPECT_EQ(r.regimen.interval_s, 21 * kDay);
  EXPECT_EQ(r.regimen.count, 0);
  EXPECT_EQ(r.regimen.start_s, 0);
  EXPECT_FALSE(r.per_kg);
  EXPECT_EQ(r.amount_value, 200);
  EXPECT_EQ(r.amount_unit, "mg");

  r = parse("240 mg q2w");  // nivolumab
  EXPECT_EQ(r.regimen.amount_mg, 240);
  EXPECT_EQ(r.regimen.interval_s, 14 * kDay);
  EXPECT_EQ(r.regimen.count, 0);

  r = parse("1200 mg q3w x4");  // atezolizumab, four cycles
  EXPECT_EQ(r.regimen.amount_mg, 1200);
  EXPECT_EQ(r.regimen.interval_s, 21 * kDay);
  EXPECT_EQ(r.regimen.count, 4);
}

TEST_F(RegimenTest, PerKgDoses) {
  ParsedRegimen r = parse("3 mg/kg q3w x 4", 70);  // ipilimumab
  EXPECT_TRUE(r.per_kg);
  EXPECT_EQ(r.amount_value, 3);
  EXPECT_EQ(r.amount_unit, "mg/kg");
  EXPECT_EQ(r.regimen.amount_mg, 210);
  EXPECT_EQ(r.regimen.interval_s, 21 * kDay);
  EXPECT_EQ(r.regimen.count, 4);

  r = parse("10 mg/kg q2w", 82.5);
  EXPECT_TRUE(r.per_kg);
  EXPECT_EQ(r.regimen.amount_mg, 825);
  EXPECT_EQ(r.regimen.interval_s, 14 * kDay);
  EXPECT_EQ(r.regimen.count, 0);

  r = parse("500 ug / kg q1w", 60);  // blanks around '/'
  EXPECT_EQ(r.amount_unit, "ug/kg");
  EXPECT_NEAR(r.regimen.amount_mg, 30, 1e-12);
}

TEST_F(RegimenTest, UnitsIntervalsAndLayout) {
  EXPECT_NEAR(parse("0.2 g q3w").regimen.amount_mg, 200, 1e-12);
  EXPECT_EQ(parse("0.2 g q3w").amount_unit, "g");
  EXPECT_NEAR(parse("5e5 ug q3w").regimen.amount_mg, 500, 1e-12);
  EXPECT_EQ(parse("480 mg q4w").regimen.interval_s, 28 * kDay);
  EXPECT_EQ(parse("10 mg q12h").regimen.interval_s, 12 * 3600.0);
  EXPECT_EQ(parse("10 mg q1d").regimen.interval_s, kDay);
  // Case and blanks: Q, X, W, D, H in any case; blanks optional between the parts.
  ParsedRegimen r = parse("  840mg   Q2W X 6  ");
  EXPECT_EQ(r.regimen.amount_mg, 840);
  EXPECT_EQ(r.regimen.interval_s, 14 * kDay);
  EXPECT_EQ(r.regimen.count, 6);
  r = parse("3 mg/kg\tq 3 w x4", 50);
  EXPECT_EQ(r.regimen.amount_mg, 150);
  EXPECT_EQ(r.regimen.count, 4);
  // The body weight is not used for a flat dose.
  EXPECT_EQ(parse("200 mg q3w", 70).regimen.amount_mg, 200);
}

TEST_F(RegimenTest, Errors) {
  const std::string dose_eg = " (expected e.g. '200 mg q3w' or '3 mg/kg q3w x 4')";
  const std::string interval_eg = " (expected q<N>h, q<N>d or q<N>w with N >= 1, e.g. 'q3w')";
  EXPECT_EQ(error("abc q3w"), "dose 'abc q3w': cannot read the amount" + dose_eg);
  EXPECT_EQ(error(""), "dose '': cannot read the amount" + dose_eg);
  EXPECT_EQ(error("0 mg q3w"), "dose '0 mg q3w': the amount must be > 0" + dose_eg);
  EXPECT_EQ(error("-200 mg q3w"), "dose '-200 mg q3w': the amount must be > 0" + dose_eg);
  EXPECT_EQ(error("200"), "dose '200': the amount has no mass unit" + dose_eg);
  EXPECT_EQ(error("200 q3w"), "dose '200 q3w': 'q3w' is not a mass unit" + dose_eg);
  EXPECT_EQ(error("200 mL q3w"), "dose '200 mL q3w': 'mL' is not a mass unit" + dose_eg);
  EXPECT_EQ(error("100 mg/m2 q3w", 70), "dose '100 mg/m2 q3w': 'mg/m2' is not a dose or a dose per kg" + dose_eg);
  EXPECT_EQ(error("3 mg/kg q3w"),
            "dose '3 mg/kg q3w': a per-kg dose needs body_weight (expected e.g. "
            "'body_weight: 70 kg')");
  EXPECT_EQ(error("3 mg/kg q3w", -1),
            "dose '3 mg/kg q3w': a per-kg dose needs body_weight (expected e.g. "
            "'body_weight: 70 kg')");
  EXPECT_EQ(error("200 mg"), "dose '200 mg': cannot read the interval" + interval_eg);
  EXPECT_EQ(error("200 mg every 3 weeks"), "dose '200 mg every 3 weeks': cannot read the interval" + interval_eg);
  EXPECT_EQ(error("200 mg q3"), "dose '200 mg q3': cannot read the interval" + interval_eg);
  EXPECT_EQ(error("200 mg q3m"), "dose '200 mg q3m': cannot read the interval" + interval_eg);
  EXPECT_EQ(error("200 mg qw"), "dose '200 mg qw': cannot read the interval" + interval_eg);
  EXPECT_EQ(error("200 mg q0w"), "dose '200 mg q0w': interval 'q0w' is zero" + interval_eg);
  EXPECT_EQ(error("200 mg q3w x"),
            "dose '200 mg q3w x': cannot read the number of doses after 'x' (expected e.g. 'x 4')");
  EXPECT_EQ(error("200 mg q3w x -2"),
            "dose '200 mg q3w x -2': cannot read the number of doses after 'x' (expected e.g. "
            "'x 4')");
  EXPECT_EQ(error("200 mg q3w x 0"),
            "dose '200 mg q3w x 0': the number of doses must be at least 1 (expected e.g. 'x 4')");
  const std::string all_eg = " (expected '<amount> <unit>[/kg] q<N><h|d|w> [x <count>]', e.g. '3 mg/kg q3w x 4')";
  EXPECT_EQ(error("200 mg q3w for 1 year"), "dose '200 mg q3w for 1 year': unexpected text 'for 1 year'" + all_eg);
  EXPECT_EQ(error("200 mg q3w x 4.5"), "dose '200 mg q3w x 4.5': unexpected text '.5'" + all_eg);
  EXPECT_EQ(error("200 mg q3weeks"), "dose '200 mg q3weeks': unexpected text 'eeks'" + all_eg);
}

}  // namespace
