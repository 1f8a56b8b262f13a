// Slow (label "slow"): the full calibrations of the human and mouse parameter sets
// (scenes/calibration/*.yaml, docs/calibration.md) reproduce every target within its stated
// tolerance, starting from the values the sets hold.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "tests/program.hpp"

namespace {

namespace fs = std::filesystem;
using tme::test::kBinary;
using tme::test::kSourceDir;
using tme::test::slurp;

class CalibrationSets : public ::testing::TestWithParam<std::string> {};

TEST_P(CalibrationSets, ReproducesEveryTargetWithinTolerance) {
  if (!kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
  const tme::test::TempDir dir("tmesim_calibration_" + GetParam());
  const std::string targets = std::string(kSourceDir) + "/scenes/calibration/" + GetParam() + ".yaml";
  const auto r = tme::test::run_shell(kBinary, "calibrate '" + targets + "' -q -o fit", dir.path());
  EXPECT_EQ(r.code, 0) << r.err;
  std::istringstream in(slurp(dir.path() / "fit" / "fit.csv"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("target,run,quantity,unit,value,tolerance,model_start,model,residual,within,source", 0), 0u);
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_NE(line.find(",yes,"), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 7);  // five of the tumour, two of the primed response
}

INSTANTIATE_TEST_SUITE_P(Sets, CalibrationSets, ::testing::Values("mouse", "human"));

}  // namespace
