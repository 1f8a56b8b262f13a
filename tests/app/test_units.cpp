// UnitSystem: conversions, the added molar and cell units, and error messages.
#include <gtest/gtest.h>

#include <string>

#include "host/scene/quantity.hpp"
#include "host/scene/units.hpp"

namespace {

using tme::UnitError;
using tme::UnitSystem;

// The exact message of the UnitError that `to` throws ("" when it does not throw).
std::string to_error(const UnitSystem& u, const std::string& q, const std::string& target) {
  try {
    u.to(q, target);
  } catch (const UnitError& e) {
    return e.what();
  }
  return "";
}

class UnitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { units_ = new UnitSystem(); }
  static void TearDownTestSuite() {
    delete units_;
    units_ = nullptr;
  }
  static UnitSystem* units_;
};
UnitSystem* UnitsTest::units_ = nullptr;

TEST_F(UnitsTest, Diffusion) {
  EXPECT_DOUBLE_EQ(units_->to("10 um^2/s", "um^2/s"), 10.0);
  EXPECT_NEAR(units_->to("1e-7 cm^2/s", "um^2/s"), 10.0, 1e-12);
  EXPECT_NEAR(units_->to("3.6e-2 mm^2/h", "um^2/s"), 10.0, 1e-12);
  EXPECT_DOUBLE_EQ(units_->to("10 um2 s-1", "um^2/s"), 10.0);
}

TEST_F(UnitsTest, TimeAndRate) {
  EXPECT_DOUBLE_EQ(units_->to("2 h", "s"), 7200.0);
  EXPECT_DOUBLE_EQ(units_->to("10 min", "s"), 600.0);
  EXPECT_DOUBLE_EQ(units_->to("1.5 d", "s"), 129600.0);
  EXPECT_DOUBLE_EQ(units_->to("6.5e-5 1/s", "1/s"), 6.5e-5);
  EXPECT_NEAR(units_->to("0.234 1/h", "1/s"), 6.5e-5, 1e-18);
  EXPECT_DOUBLE_EQ(units_->to("6.5e-5 s-1", "1/s"), 6.5e-5);
}

TEST_F(UnitsTest, ReciprocalUnitsAreNotConvertible) {
  // UDUNITS-2 alone would turn "10 s" into 0.1 1/s; a time is not a rate.
  EXPECT_FALSE(units_->convertible("s", "1/s"));
  EXPECT_FALSE(units_->convertible("day", "1/s"));
  EXPECT_FALSE(units_->convertible("um^2/s", "s/um^2"));
  EXPECT_EQ(to_error(*units_, "10 s", "1/s"), "'10 s' is not convertible to 1/s");
  EXPECT_EQ(to_error(*units_, "4 day", "1/s"), "'4 day' is not convertible to 1/s");
  // Affine conversions still work.
  EXPECT_TRUE(units_->convertible("degC", "K"));
  EXPECT_NEAR(units_->to("37 degC", "K"), 310.15, 1e-9);
}

TEST_F(UnitsTest, Lengths) {
  EXPECT_DOUBLE_EQ(units_->to("20 um", "um"), 20.0);
  EXPECT_DOUBLE_EQ(units_->to("1 mm", "um"), 1000.0);
  EXPECT_DOUBLE_EQ(units_->to("-3e-4 m", "um"), -300.0);
  EXPECT_DOUBLE_EQ(units_->to("2.5 \xC2\xB5m", "um"), 2.5);  // micro sign
  EXPECT_DOUBLE_EQ(units_->to("20um", "um"), 20.0);          // no blank needed before letters
  EXPECT_DOUBLE_EQ(units_->to("  .5 mm ", "um"), 500.0);
}

TEST_F(UnitsTest, Molar) {
  EXPECT_NEAR(units_->to("1 nM", "pM"), 1000.0, 1e-9);
  EXPECT_NEAR(units_->to("3 uM", "nM"), 3000.0, 1e-9);
  EXPECT_NEAR(units_->to("2 mM", "mol/m^3"), 2.0, 1e-12);
  EXPECT_NEAR(units_->to("1 M", "mol/L"), 1.0, 1e-12);
  EXPECT_NEAR(units_->to("5 nanomolar", "nM"), 5.0, 1e-12);
  EXPECT_TRUE(units_->convertible("fM", "M"));
  EXPECT_FALSE(units_->convertible("nM", "ng/mL"));
  EXPECT_TRUE(units_->parses("Mm"));  // the prefix M still means mega before a unit
  EXPECT_DOUBLE_EQ(units_->to("1 Mm", "um"), 1e12);
}

TEST_F(UnitsTest, MassConcentration) {
  EXPECT_NEAR(units_->to("1 ng/mL", "ug/L"), 1.0, 1e-12);
  EXPECT_NEAR(units_->to("1 ng/mL/s", "ng/mL/s"), 1.0, 1e-12);
  EXPECT_NEAR(units_->to("3.6 ng/mL/h", "ng/mL/s"), 1e-3, 1e-15);
}

TEST_F(UnitsTest, Cells) {
  // 1 uL = 1 mm^3, so 1000 cells/mm^3 is 1000 cells/uL and 1 cell/nL.
  EXPECT_NEAR(units_->to("1000 cells/mm^3", "cells/uL"), 1000.0, 1e-9);
  EXPECT_NEAR(units_->to("1000 cells/mm^3", "cells/nL"), 1.0, 1e-12);
  EXPECT_NEAR(units_->to("1 cell/uL", "cells/mm^3"), 1.0, 1e-12);
  EXPECT_NEAR(units_->to("2 kcells/mL", "cells/uL"), 2.0, 1e-12);
  EXPECT_TRUE(units_->parses("cells/mm^3"));
  EXPECT_FALSE(units_->convertible("cells/mm^3", "1/mm^3"));
  EXPECT_EQ(to_error(*units_, "5 cells/mm^3", "1/mm^3"), "'5 cells/mm^3' is not convertible to 1/mm^3");
}

TEST_F(UnitsTest, Dimensionless) {
  EXPECT_DOUBLE_EQ(units_->to("0.9", "1"), 0.9);
  EXPECT_DOUBLE_EQ(units_->to("50 %", "1"), 0.5);
  EXPECT_EQ(to_error(*units_, "10", "um"), "'10' has no unit (expected um)");
}

TEST_F(UnitsTest, Errors) {
  EXPECT_EQ(to_error(*units_, "3 furlongz", "um"), "unit 'furlongz' does not parse");
  EXPECT_EQ(to_error(*units_, "5 kg", "um^2/s"), "'5 kg' is not convertible to um^2/s");
  EXPECT_EQ(to_error(*units_, "um^2/s", "um^2/s"), "'um^2/s' has no number");
  EXPECT_EQ(to_error(*units_, "", "s"), "'' has no number");
  EXPECT_EQ(to_error(*units_, "10.5.3 um", "um"), "'10.5.3 um' is not a number and a unit");
  EXPECT_EQ(to_error(*units_, "1e999 um", "um"), "'1e999 um' is out of range");
  EXPECT_EQ(to_error(*units_, "1 s", "bogus_unit"), "unit 'bogus_unit' does not parse");
  EXPECT_FALSE(units_->parses("furlongz"));
  EXPECT_FALSE(units_->convertible("furlongz", "um"));
}

TEST(UnitsQuantity, Split) {
  using tme::QuantityText;
  auto q = tme::split_quantity(" -1.5e-3  ng/mL ");
  EXPECT_EQ(q.status, QuantityText::kOk);
  EXPECT_DOUBLE_EQ(q.value, -1.5e-3);
  EXPECT_EQ(q.unit, "ng/mL");
  q = tme::split_quantity("+2h");
  EXPECT_EQ(q.status, QuantityText::kOk);
  EXPECT_DOUBLE_EQ(q.value, 2.0);
  EXPECT_EQ(q.unit, "h");
  q = tme::split_quantity("1e-3 1/s");
  EXPECT_EQ(q.status, QuantityText::kOk);
  EXPECT_DOUBLE_EQ(q.value, 1e-3);
  EXPECT_EQ(q.unit, "1/s");
  q = tme::split_quantity("7");
  EXPECT_EQ(q.status, QuantityText::kOk);
  EXPECT_EQ(q.unit, "");
  EXPECT_EQ(tme::split_quantity("nan um").status, QuantityText::kNoNumber);
  EXPECT_EQ(tme::split_quantity("-").status, QuantityText::kNoNumber);
  EXPECT_EQ(tme::split_quantity("1,5 um").status, QuantityText::kBadNumber);
}

TEST(UnitsSystem, Independent) {
  // Two systems side by side (no shared state), each with the added units.
  UnitSystem a, b;
  EXPECT_NEAR(a.to("1 uM", "nM"), 1000.0, 1e-9);
  EXPECT_NEAR(b.to("1 cells/uL", "cells/mm^3"), 1.0, 1e-12);
}

}  // namespace
