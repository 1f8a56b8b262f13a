// tmesim sensitivity end to end on a tiny well-mixed scene: the files it writes (samples,
// indices, provenance, PNG), every run's outcome against the exact solution, indices of
// parameters that cannot act exactly 0, the same output with one job and with two, and exact
// messages for a bad outcome and a parameter without a range.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "host/cli/sensitivity.hpp"
#include "tests/program.hpp"

namespace {

namespace fs = std::filesystem;
using tme::test::kBinary;
using tme::test::slurp;
using tme::test::spit;
using tme::test::TempDir;

// T grows exponentially at r (no capacity); E starts at 0, so the kill rate k and E's loss rate
// d cannot act: T(t) = 100 e^(r t) cells/mm^3 over the grid's 0.064 mm^3.
const char* kModel = R"(parameters:
  r: {value: 0.3 1/day, source: test, range: [0.1 1/day, 0.5 1/day]}
  k: {value: 5e-5 mm^3/cell/day, source: test, range: [1e-5 mm^3/cell/day, 1e-4 mm^3/cell/day]}
  d: {value: 0.1 1/day, source: test, range: [0.05 1/day, 0.2 1/day]}
  fixed: {value: 1 1/day, source: test}
populations:
  - {name: T, motility: 0 um^2/s, initial: {constant: 100 cells/mm^3}}
  - {name: E, motility: 0 um^2/s, initial: {constant: 0 cells/mm^3}}
terms:
  - {growth: T, rate: r}
  - {kill: T, by: E, rate: k}
  - {conversion: E, rate: d}
)";
const char* kScene = R"(name: tiny
seed: 3
grid: {shape: [4, 4, 4], spacing: 100 um}
time: {end: 5 d, output_every: 1 d}
model: {file: m.yaml, tolerance: 1e-7}
well_mixed: grid
)";

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> row;
    std::istringstream ls(line);
    for (std::string f; std::getline(ls, f, ',');) row.push_back(f);
    rows.push_back(row);
  }
  return rows;
}

class SensitivityCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kBinary) GTEST_SKIP() << "built without the app";
    spit(tmp_ / "m.yaml", kModel);
    spit(tmp_ / "s.yaml", kScene);
  }
  tme::test::Result tmesim(const std::string& args) const {
    return tme::test::run_shell(kBinary, "sensitivity s.yaml " + args, tmp_.path());
  }
  TempDir tmp_{"tmesim_sensitivity"};
};

TEST_F(SensitivityCli, SobolWritesSamplesIndicesAndChart) {
  if (!fs::exists("/usr/bin/python3") && !std::getenv("TMESIM_PYTHON")) GTEST_SKIP() << "no python3";
  const auto r = tmesim("--outcome 'T.grid.total@4 d' --samples 8 --jobs 2 -q -o one");
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path one = tmp_ / "one";
  for (const char* f : {"samples.csv", "indices.csv", "provenance.json", "scene.resolved.yaml", "sensitivity.png"})
    EXPECT_TRUE(fs::is_regular_file(one / f)) << f;
  EXPECT_EQ(slurp(one / "sensitivity.png").substr(0, 4), "\x89PNG");
  const auto samples = csv_rows(slurp(one / "samples.csv"));
  ASSERT_EQ(samples.size(), 1u + 8 * (3 + 2));
  EXPECT_EQ(samples[0], (std::vector<std::string>{"run", "block", "r [1/day]", "k [mm^3/cell/day]", "d [1/day]",
                                                  "T.grid.total at 4 d [cells]"}));
  for (size_t i = 1; i < samples.size(); ++i) {
    const double rate = std::stod(samples[i][2]);  // [1/day]
    ASSERT_GE(rate, 0.1);
    ASSERT_LE(rate, 0.5);
    const double exact = 100 * 0.064 * std::exp(rate * 4);  // [cells]
    EXPECT_NEAR(std::stod(samples[i][5]), exact, 1e-4 * exact) << "run " << i - 1;
  }
  EXPECT_EQ(samples[1][1], "A");
  EXPECT_EQ(samples[9][1], "B");
  EXPECT_EQ(samples[17][1], "AB_r");
  EXPECT_EQ(samples[33][1], "AB_d");
  const auto idx = csv_rows(slurp(one / "indices.csv"));
  ASSERT_EQ(idx.size(), 4u);
  EXPECT_EQ(idx[0], (std::vector<std::string>{"parameter", "unit", "low", "high", "S1", "S1_low", "S1_high", "ST",
                                              "ST_low", "ST_high"}));
  EXPECT_EQ(idx[1][0], "r");
  EXPECT_GT(std::stod(idx[1][7]), 0.5);  // r carries all of the variance
  for (int k : {2, 3}) {                 // k and d cannot act: their runs equal those of A exactly
    EXPECT_EQ(std::stod(idx[k][4]), 0) << idx[k][0];
    EXPECT_EQ(std::stod(idx[k][7]), 0) << idx[k][0];
  }
  const std::string prov = slurp(one / "provenance.json");
  EXPECT_NE(prov.find("\"seed\": 3,"), std::string::npos) << prov;
  EXPECT_NE(prov.find("\"runs\": 40,"), std::string::npos) << prov;
  EXPECT_NE(prov.find("\"well_mixed\": \"none\""), std::string::npos) << prov;  // the scene's key does it here

  // One job: the same samples and indices, byte for byte.
  const auto r1 = tmesim("--outcome 'T.grid.total@4 d' --samples 8 -q -o two");
  ASSERT_EQ(r1.code, 0) << r1.err;
  EXPECT_EQ(slurp(tmp_ / "two" / "samples.csv"), slurp(one / "samples.csv"));
  EXPECT_EQ(slurp(tmp_ / "two" / "indices.csv"), slurp(one / "indices.csv"));
}

TEST_F(SensitivityCli, MorrisAucOfTwoParameters) {
  if (!fs::exists("/usr/bin/python3") && !std::getenv("TMESIM_PYTHON")) GTEST_SKIP() << "no python3";
  const auto r = tmesim("--outcome 'auc(T.grid.total)' --method morris --samples 4 --params r,d --seed 9 -q -o m");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto samples = csv_rows(slurp(tmp_ / "m" / "samples.csv"));
  ASSERT_EQ(samples.size(), 1u + 4 * 3);
  EXPECT_EQ(samples[0].back(), "auc(T.grid.total) from 0 to 5 d [cells d]");
  const auto idx = csv_rows(slurp(tmp_ / "m" / "indices.csv"));
  ASSERT_EQ(idx.size(), 3u);
  EXPECT_EQ(idx[0], (std::vector<std::string>{"parameter", "unit", "low", "high", "mu", "mu_star", "sigma"}));
  EXPECT_GT(std::stod(idx[1][5]), 0);  // r acts
  EXPECT_EQ(std::stod(idx[2][5]), 0);  // d does not
  EXPECT_TRUE(fs::is_regular_file(tmp_ / "m" / "sensitivity.png"));
}

TEST_F(SensitivityCli, ExactMessages) {
  auto r = tmesim("--outcome 'T.grid' --samples 4 -q -o x");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "tmesim sensitivity: --outcome 'T.grid' is not a column FIELD.SCOPE.STAT (expected "
            "FIELD.SCOPE.STAT[@TIME] or auc(FIELD.SCOPE.STAT)[@TIME], STAT one of total, mean, min, max, e.g. "
            "'T.tumour.total@21 d' or 'auc(T.grid.total)@21 d')\n");
  r = tmesim("--outcome 'T.grid.total' --samples 4 --params r,fixed -q -o x");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "tmesim sensitivity: --params: 'fixed' has no range (expected a parameter declared with range: [low, "
            "high]: one of r, k, d)\n");
  r = tmesim("--outcome 'X.grid.total' --samples 4 -q -o x");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "tmesim sensitivity: --outcome 'X.grid.total': no field 'X' (expected one of T, E)\n");
  spit(tmp_ / "s2.yaml", std::string(kScene) +
                             "regions: {corner: {box: {min: [0 um, 0 um, 0 um], max: [100 um, "
                             "100 um, 100 um]}}}\n");
  r = tme::test::run_shell(kBinary, "sensitivity s2.yaml --outcome 'T.corner.total' --samples 4 -q -o x", tmp_.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "tmesim sensitivity: --outcome 'T.corner.total': region 'corner' covers at most half of the well-mixed "
            "part, so the voxel is outside it and its totals are 0 (expected --well-mixed-over corner, or the scope "
            "grid)\n");
  EXPECT_FALSE(fs::exists(tmp_ / "x"));
}

TEST(SensitivityOutcome, Parses) {
  tme::Outcome o = tme::parse_outcome("auc(T.tumour.total [cells])@21 d");
  EXPECT_EQ(o.field, "T");
  EXPECT_EQ(o.scope, "tumour");
  EXPECT_EQ(o.stat, "total");
  EXPECT_TRUE(o.auc);
  EXPECT_EQ(o.time_text, "21 d");
  o = tme::parse_outcome("CD8.grid.mean");
  EXPECT_FALSE(o.auc);
  EXPECT_EQ(o.time_text, "");
  EXPECT_THROW(tme::parse_outcome("T.grid.median"), std::invalid_argument);
  EXPECT_THROW(tme::parse_outcome("T.grid.total@"), std::invalid_argument);
}

}  // namespace
