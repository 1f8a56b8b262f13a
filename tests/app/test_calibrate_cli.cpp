// tmesim calibrate end to end on a tiny well-mixed model whose targets have exact solutions:
// the fit reproduces every target within its tolerance and the fitted parameters equal the
// exact ones, the same output twice (seeded, deterministic), and exact messages with
// positions for bad targets files (nothing written); the primed-response peak (its ratio to a
// control run or to its start) on series with a known maximum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/cli/calibrate.hpp"
#include "tests/program.hpp"

namespace {

namespace fs = std::filesystem;
using tme::test::kBinary;
using tme::test::kSourceDir;
using tme::test::slurp;
using tme::test::spit;
using tme::test::TempDir;

// T grows exponentially at r (no capacity), E is lost at d: T(t) = T0 e^(r t),
// E(t) = E0 e^(-d t). The doubling time of T is ln 2 / r; E at 2 d is 100 e^(-2 d).
const char* kModel = R"(parameters:
  r: {value: 0.4 1/day, source: test, range: [0.1 1/day, 0.5 1/day]}
  d: {value: 0.1 1/day, source: test, range: [0.05 1/day, 0.5 1/day]}
  fixed: {value: 1 1/day, source: test}
  kd: {value: 50 cells/mm^3, source: test}
populations:
  - {name: T, motility: 0 um^2/s, initial: {constant: 100 cells/mm^3}}
  - {name: E, motility: 0 um^2/s, initial: {constant: 100 cells/mm^3}}
terms:
  - {growth: T, rate: r}
  - {conversion: E, rate: d}
)";
const char* kScene = R"(name: tiny
seed: 3
grid: {shape: [2, 2, 2], spacing: 100 um}
time: {end: 5 d, output_every: 1 d}
model: {file: m.yaml, tolerance: 1e-8}
)";
const char* kTargets = R"(name: tiny
seed: 2
max_evaluations: 200
xtol_rel: 1e-6
runs:
  - {name: base, scene: s.yaml, well_mixed: grid}
free: [r, d]
targets:
  - name: doubling
    run: base
    quantity: {doubling_time: T.grid.total, from: 0 d, to: 2 d}
    value: 3 d
    tolerance: 0.05 d
    source: test
  - name: E at 2 d
    run: base
    quantity: E.grid.mean@2 d
    value: 67.032 cells/mm^3
    tolerance: 0.5 cells/mm^3
    source: test
  - name: E ratio
    run: base
    quantity: {ratio: [E.grid.mean@2 d, E.grid.mean@0 d]}
    value: 0.67032
    tolerance: 0.01
    source: test
  - name: occupancy
    run: base
    quantity: {occupancy: E.grid.mean@2 d, kd: kd}
    value: 0.5728
    tolerance: 0.01
    source: test
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

class CalibrateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kBinary) GTEST_SKIP() << "built without the app";
    spit(tmp_ / "m.yaml", kModel);
    spit(tmp_ / "s.yaml", kScene);
    spit(tmp_ / "t.yaml", kTargets);
  }
  tme::test::Result tmesim(const std::string& args) const {
    return tme::test::run_shell(kBinary, "calibrate " + args, tmp_.path());
  }
  // The message for targets file text `t` (exit status 2, nothing written).
  std::string error_of(const std::string& t) const {
    spit(tmp_ / "bad.yaml", t);
    const auto r = tmesim("bad.yaml -q -o bad_out");
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_FALSE(fs::exists(tmp_ / "bad_out"));
    return r.err;
  }
  static std::string with(const std::string& from, const std::string& to) {
    std::string t = kTargets;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? t : t.replace(at, from.size(), to);
  }
  TempDir tmp_{"tmesim_calibrate"};
};

TEST_F(CalibrateCli, ReproducesItsTargetsWithinTolerance) {
  const bool py = fs::exists("/usr/bin/python3") || std::getenv("TMESIM_PYTHON");
  const auto r = tmesim("t.yaml -q -o one");
  ASSERT_EQ(r.code, py ? 0 : 1) << r.err;
  const fs::path one = tmp_ / "one";
  for (const char* f : {"fit.csv", "parameters.csv", "evaluations.csv", "provenance.json", "targets.yaml"})
    EXPECT_TRUE(fs::is_regular_file(one / f)) << f;
  if (py) {
    EXPECT_EQ(slurp(one / "calibration.png").substr(0, 4), "\x89PNG");
  }
  const auto fit = csv_rows(slurp(one / "fit.csv"));
  ASSERT_EQ(fit.size(), 5u);
  EXPECT_EQ(fit[0], (std::vector<std::string>{"target", "run", "quantity", "unit", "value", "tolerance", "model_start",
                                              "model", "residual", "within", "source"}));
  for (size_t k = 1; k < fit.size(); ++k) EXPECT_EQ(fit[k][9], "yes") << fit[k][0];
  EXPECT_EQ(fit[1][3], "d");
  EXPECT_EQ(fit[2][3], "cells/mm^3");
  // the start (r 0.4, d 0.1): doubling ln 2 / 0.4 = 1.733 d, exactly
  EXPECT_NEAR(std::stod(fit[1][6]), std::log(2.0) / 0.4, 1e-5);
  EXPECT_NEAR(std::stod(fit[1][7]), 3, 0.05);
  const auto par = csv_rows(slurp(one / "parameters.csv"));
  ASSERT_EQ(par.size(), 3u);
  EXPECT_EQ(par[0],
            (std::vector<std::string>{"parameter", "unit", "low", "high", "start", "fitted", "scale", "source"}));
  EXPECT_EQ(par[1][0], "r");
  EXPECT_EQ(par[1][6], "log");
  EXPECT_NEAR(std::stod(par[1][5]), std::log(2.0) / 3, 1e-3);  // [1/day]
  EXPECT_EQ(par[2][0], "d");
  EXPECT_NEAR(std::stod(par[2][5]), 0.2, 1e-3);  // 100 e^(-2 d) = 67.032
  const std::string prov = slurp(one / "provenance.json");
  EXPECT_NE(prov.find("\"algorithm\": \"NLopt LN_BOBYQA\""), std::string::npos) << prov;
  EXPECT_NE(prov.find("\"seed\": 2,"), std::string::npos) << prov;

  // Seeded and deterministic: the same fit again.
  const auto r2 = tmesim("t.yaml -q -o two");
  ASSERT_EQ(r2.code, r.code) << r2.err;
  EXPECT_EQ(slurp(tmp_ / "two" / "fit.csv"), slurp(one / "fit.csv"));
  EXPECT_EQ(slurp(tmp_ / "two" / "parameters.csv"), slurp(one / "parameters.csv"));
  // An existing output is kept unless --force.
  const auto r3 = tmesim("t.yaml -q -o one");
  EXPECT_EQ(r3.code, 2);
}

TEST_F(CalibrateCli, OneFreeParameter) {
  spit(tmp_ / "one.yaml", with("free: [r, d]", "free: [r]"));
  const auto r = tmesim("one.yaml -q -o o1");
  ASSERT_TRUE(fs::is_regular_file(tmp_ / "o1" / "parameters.csv")) << r.err;
  const auto par = csv_rows(slurp(tmp_ / "o1" / "parameters.csv"));
  ASSERT_EQ(par.size(), 2u);
  EXPECT_NEAR(std::stod(par[1][5]), std::log(2.0) / 3, 1e-3);
  EXPECT_NE(slurp(tmp_ / "o1" / "provenance.json").find("\"algorithm\": \"NLopt LN_SBPLX\""), std::string::npos);
}

TEST_F(CalibrateCli, RefusesBadTargetsFilesWithPositions) {
  EXPECT_EQ(error_of(with("    source: test\n  - name: E at 2 d", "    sauce: test\n  - name: E at 2 d")),
            "error: bad.yaml:14:5: targets[0].sauce: unknown key 'sauce' (expected one of: name, run, quantity, "
            "value, tolerance, source)\n");
  EXPECT_EQ(
      error_of(with("    run: base\n    quantity: E.grid.mean@2 d", "    run: other\n    quantity: E.grid.mean@2 d")),
      "error: bad.yaml:16:10: targets[1].run: no run 'other' (expected one of base)\n");
  EXPECT_EQ(error_of(with("quantity: E.grid.mean@2 d", "quantity: E.grid@2 d")),
            "error: bad.yaml:17:15: targets[1].quantity: 'E.grid@2 d' is not a column FIELD.SCOPE.STAT (expected "
            "FIELD.SCOPE.STAT[@TIME] or auc(FIELD.SCOPE.STAT)[@TIME], STAT one of total, mean, min, max, e.g. "
            "'T.tumour.total@21 d' or 'auc(T.grid.total)@21 d') (expected a column FIELD.SCOPE.STAT at a time, e.g. "
            "'T.grid.total@7 d')\n");
  EXPECT_EQ(error_of(with("quantity: E.grid.mean@2 d", "quantity: X.grid.mean@2 d")),
            "error: bad.yaml:17:15: targets[1].quantity: 'X.grid.mean': no field 'X' (expected one of T, E) (run "
            "'base')\n");
  EXPECT_EQ(error_of(with("quantity: E.grid.mean@2 d", "quantity: E.grid.mean@9 d")),
            "error: bad.yaml:17:15: targets[1].quantity: a time after the scene's end (5 d) (run 'base')\n");
  EXPECT_EQ(error_of(with("value: 67.032 cells/mm^3", "value: 67.032 nM")),
            "error: bad.yaml:18:12: targets[1].value: '67.032 nM' does not convert to cells/mm^3 (expected a value "
            "in cells/mm^3, e.g. '1 cells/mm^3')\n");
  EXPECT_EQ(error_of(with("tolerance: 0.05 d", "tolerance: 0 d")),
            "error: bad.yaml:13:16: targets[0].tolerance: '0 d' is not > 0 (expected a value in d, > 0, e.g. '1 d')\n");
  EXPECT_EQ(error_of(with("free: [r, d]", "free: [r, fixed]")),
            "error: bad.yaml: free: 'fixed' has no range in run 'base' (expected a parameter declared with range: "
            "[low, high], low < high: r, d)\n");
  EXPECT_EQ(error_of(with("free: [r, d]", "free: [r, r]")),
            "error: bad.yaml:7:11: free[1]: 'r' is named twice (expected each free parameter once)\n");
  EXPECT_EQ(error_of(with("scene: s.yaml", "scene: none.yaml")),
            "error: bad.yaml:6:25: runs[0].scene: no scene file 'none.yaml' (expected a scene file, relative to the "
            "targets file)\n");
  EXPECT_EQ(error_of(with("to: 2 d}", "to: 0 d}")),
            "error: bad.yaml:11:60: targets[0].quantity.to: is not after 'from' (expected a time after 'from')\n");
  EXPECT_EQ(error_of(with("quantity: E.grid.mean@2 d", "quantity: {peak_fold: blood.cd4, from: 0 d, to: 2 d}")),
            "error: bad.yaml:17:27: targets[1].quantity.peak_fold: 'blood.cd4' is not a systemic series (expected a "
            "systemic series: blood.effectors or blood.treg)\n");
  EXPECT_EQ(error_of(with("quantity: E.grid.mean@2 d",
                          "quantity: {peak_delay: blood.effectors, from: 0 d, to: 2 d, control: none}")),
            "error: bad.yaml:17:74: targets[1].quantity.control: no run 'none' (expected one of base)\n");
  EXPECT_EQ(error_of(with("quantity: E.grid.mean@2 d",
                          "quantity: {peak_delay: blood.effectors, from: 0 d, to: 2 d, control: base}")),
            "error: bad.yaml:17:74: targets[1].quantity.control: is the target's own run 'base' (expected another "
            "run)\n");
  EXPECT_EQ(error_of(with("quantity: E.grid.mean@2 d", "quantity: {peak_delay: blood.effectors, from: 0 d, to: 2 d}")),
            "error: bad.yaml:17:15: targets[1].quantity: 'blood.effectors' is a series of the systemic compartments, "
            "but the scene declares no lymph_nodes (a scene with lymph_nodes, or a 'set' that adds them) (run "
            "'base')\n");
  EXPECT_EQ(error_of(with("kd: kd}", "kd: 3 d}")),
            "error: bad.yaml:29:15: targets[3].quantity: kd '3 d': '3 d' is not convertible to cells/mm^3 (expected "
            "a parameter of the model or a value in the unit of E.grid.mean)\n");
}

// The primed response's peak: a run whose effectors are the control's times 1 + exp(-(t - 6)^2)
// (t in days) peaks at day 6 with ratio 2 exactly; the control is sampled at other times than
// the run and is linear in t, so interpolating it is exact. Without a control the ratio is to
// the run's own value at `from`.
TEST(CalibratePeak, RatioToAControlRunOrToItsStart) {
  const double day = 86400;
  tme::CalibrationSeries control, run;
  for (int i = 0; i <= 40; ++i) {  // every 0.25 d
    const double t = 0.25 * i;
    control.t.push_back(t * day);
    control.effectors.push_back(1000 + 100 * t);
    control.treg.push_back(5000);
  }
  for (int i = 0; i <= 30; ++i) {  // every 1/3 d
    const double t = i / 3.0;
    run.t.push_back(t * day);
    run.effectors.push_back((1000 + 100 * t) * (1 + std::exp(-(t - 6) * (t - 6))));
    run.treg.push_back(5000 - 10 * t);
  }
  const tme::CalibrationPeak p = tme::primed_peak(run, &control, "blood.effectors", 2 * day, 10 * day);
  EXPECT_EQ(p.time_s, run.t[18]);  // 18 / 3 = day 6
  EXPECT_EQ(run.t[18], 6 * day);
  // (1000 + 600) x 2 over the control interpolated between its samples at days 6 (exactly).
  EXPECT_NEAR(p.ratio, 2.0, 4 * std::numeric_limits<double>::epsilon());
  // Between control samples: at day 7/3 the control is 1233.33...; its interpolation between
  // days 2.25 and 2.5 is exact to round-off.
  EXPECT_NEAR(control.at("blood.effectors", 7.0 / 3 * day), 1000 + 700.0 / 3, 1e-9);
  // A window that ends before day 6: the ratio grows towards it, so the peak is the window's end.
  const tme::CalibrationPeak q = tme::primed_peak(run, &control, "blood.effectors", 0, 4 * day);
  EXPECT_EQ(q.time_s, 4 * day);
  EXPECT_NEAR(q.ratio, 1 + std::exp(-4.0), 1e-12);
  // No control: the ratio to the run's value at `from`; Treg falls, so its peak is at `from`.
  const tme::CalibrationPeak r = tme::primed_peak(run, nullptr, "blood.treg", 1 * day, 10 * day);
  EXPECT_EQ(r.time_s, 1 * day);
  EXPECT_EQ(r.ratio, 1.0);
  EXPECT_THROW(tme::primed_peak(run, &control, "blood.effectors", 11 * day, 12 * day), std::logic_error);
}

// What entered the lesion from blood (the influx tally, emptied into running sums after every
// step) is the cumulative count in a calibration run, as in the outputs of `tmesim run`: the
// human calibration scene with a lymph node, 10 days (its fraction at 28 d dropped).
TEST_F(CalibrateCli, InfluxTallyIsTheCumulativeCountAsInARun) {
  if (!kSourceDir) GTEST_SKIP() << "built without the app";
  const std::string scene = (fs::path(kSourceDir) / "scenes/calibration/human_tumour.yaml").string();
  const std::string node =
      "lymph_nodes=[{name: tdln, position: [0 mm, 60 mm, 0 mm], radius: 5 mm, dose: {single_6Gy: 0}}]";
  spit(tmp_ / "entered.yaml", "name: entered\nseed: 1\nmax_evaluations: 3\nruns:\n  - {name: primed, scene: " + scene +
                                  ", well_mixed: grid, set: [\"" + node +
                                  "\", \"time.until=10 d\"]}\nfree: [presented_half]\ntargets:\n"
                                  "  - {name: entered, run: primed, quantity: CD8_blood_entered.grid.total@10 d, "
                                  "value: 1 cells, tolerance: 1 cells, source: test}\n");
  const auto c = tmesim("entered.yaml -q -o cal");
  ASSERT_EQ(c.code, 1) << c.out << c.err;  // the target is far outside its tolerance
  const auto fit = csv_rows(slurp(tmp_ / "cal/fit.csv"));
  ASSERT_EQ(fit.size(), 2u);
  ASSERT_EQ(fit[0][6], "model_start");
  const double calibrated = std::stod(fit[1][6]);
  const auto r = tme::test::run_shell(kBinary, "run '" + scene + "' -o run --quiet --until '10 d' --set '" + node + "'",
                                      tmp_.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto obs = csv_rows(slurp(tmp_ / "run/observables.csv"));
  size_t col = 0;
  while (col < obs[0].size() && obs[0][col] != "CD8_blood_entered.grid.total [cells]") ++col;
  ASSERT_LT(col, obs[0].size());
  ASSERT_EQ(obs.back()[0], "864000");
  const double ran = std::stod(obs.back()[col]);
  EXPECT_GT(ran, 10.0);  // cells entered over 10 days (one step's count alone is about 0.1)
  // The calibration advances to its target times, the run to every output: their steps differ,
  // which moves every quantity by about 1e-4 relative (CD8.grid.mean too).
  EXPECT_NEAR(calibrated, ran, 1e-3 * ran);
}

}  // namespace
