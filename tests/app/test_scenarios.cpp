// scripts/run-scenario and the scenarios of scenes/patient (docs/scenarios.md): every arm of
// every scenario validates (its base scene with the arm's --set overrides); a small scenario
// runs end to end (one run directory per arm, arms.csv, the comparison); a failing arm stops the
// arms after it and the comparison; bad arms files are refused with their line and exit status 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;
using tme::test::spit;
using tme::test::TempDir;

const std::string kScript = std::string(TMESIM_SOURCE_DIR) + "/scripts/run-scenario";

Result run_scenario(const std::string& args, const fs::path& dir) {
  return tme::test::run_shell("/usr/bin/python3 " + kScript, std::string("--tmesim ") + TMESIM_BINARY + " " + args, dir,
                              "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} ");
}

// The scenarios and their arms, in the order of their .arms files.
const std::map<std::string, std::vector<std::string>>& scenarios() {
  static const std::map<std::string, std::vector<std::string>> all = {
      {"fractionation_ctla4",
       {"untreated", "rt_20Gy_x1", "rt_8Gy_x3", "rt_6Gy_x5", "ctla4_alone", "rt_20Gy_x1_ctla4", "rt_8Gy_x3_ctla4",
        "rt_6Gy_x5_ctla4"}},
      {"scatter_dose_pd1", {"pd1_alone", "pd1_rt"}},
      {"node_timing", {"pd1_alone", "node_spared", "node_before", "node_with", "node_after"}},
      {"sbrt_vs_conventional", {"pd1_alone", "pd1_8Gy_x3", "pd1_3Gy_x15"}},
      {"sarcoma_arms", {"untreated", "rt", "pd1", "pdl1", "ctla4", "rt_pd1", "rt_pdl1", "rt_ctla4"}},
      {"mouse_arms", {"untreated", "rt", "pd1", "pdl1", "ctla4", "rt_pd1", "rt_pdl1", "rt_ctla4"}},
  };
  return all;
}

TEST(Scenarios, EveryArmsFileIsListedAndHasItsScene) {
  const fs::path dir = fs::path(TMESIM_SOURCE_DIR) / "scenes" / "patient";
  std::set<std::string> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".arms") found.insert(e.path().stem().string());
  std::set<std::string> listed;
  for (const auto& [name, arms] : scenarios()) listed.insert(name);
  EXPECT_EQ(found, listed) << "a scenario of scenes/patient is not validated here: add it to " << __FILE__;
  for (const std::string& s : found) EXPECT_TRUE(fs::exists(dir / (s + ".yaml"))) << s;
}

class ScenarioArms : public ::testing::TestWithParam<std::string> {};

// Each arm's overrides apply to the base scene and the result validates, with nothing on stderr
// (no warning either).
TEST_P(ScenarioArms, EveryArmValidates) {
  const std::string& name = GetParam();
  const TempDir dir("tmesim_scenarios_" + name);
  const Result r = run_scenario(name + " --validate", dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  std::string expected;
  for (const std::string& arm : scenarios().at(name)) expected += name + "/" + arm + ": valid\n";
  EXPECT_EQ(r.out, expected);
}

INSTANTIATE_TEST_SUITE_P(Patient, ScenarioArms,
                         ::testing::Values("fractionation_ctla4", "scatter_dose_pd1", "node_timing",
                                           "sbrt_vs_conventional", "sarcoma_arms", "mouse_arms"));

// A scene of one species decaying from 1 nM for 1 h (volumes every 30 min); arms change its rate.
const char* kTinyScene =
    "name: tiny\n"
    "grid: {shape: [4, 4, 4], spacing: 20 um}\n"
    "time: {end: 1 h, output_every: 30 min, integrator: lod, step: 10 min}\n"
    "species:\n"
    "  - {name: A, unit: nM, diffusion: 10 um^2/s, decay: 1e-4 1/s, initial: {constant: 1 nM}}\n";

TEST(Scenarios, RunsEveryArmThenCompares) {
  const TempDir dir("tmesim_scenarios_run");
  spit(dir / "tiny.yaml", kTinyScene);
  spit(dir / "tiny.arms",
       "# two arms\n"
       "column: A.grid.mean [nM]\n"
       "slow\n"
       "fast 'species[A].decay=1e-3 1/s' \\\n"
       "     'time.output_every=20 min'\n");
  const Result r = run_scenario((dir / "tiny.arms").string() + " -o out", dir.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const fs::path out = dir / "out";
  for (const char* arm : {"slow", "fast"}) {
    EXPECT_TRUE(fs::exists(out / arm / "provenance.json")) << arm;
    EXPECT_TRUE(fs::exists(out / arm / "observables.csv")) << arm;
  }
  // the overrides reached the run: 4 volumes at 20 min in arm 'fast', 3 at 30 min in 'slow'
  EXPECT_TRUE(fs::exists(out / "fast" / "fields_0003.vti"));
  EXPECT_FALSE(fs::exists(out / "slow" / "fields_0003.vti"));
  EXPECT_NE(slurp(out / "fast" / "provenance.json").find("species[A].decay=1e-3 1/s"), std::string::npos);
  // arms.csv: one row per arm, in order, with its command
  const std::string csv = slurp(out / "arms.csv");
  EXPECT_EQ(csv.rfind("arm,wall_s,command\nslow,", 0), 0u) << csv;
  EXPECT_NE(csv.find("\nfast,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("--set 'time.output_every=20 min'\"\n"), std::string::npos) << csv;
  // the comparison of both arms, in the column asked for
  EXPECT_TRUE(fs::exists(out / "compare" / "compare.csv"));
  EXPECT_TRUE(fs::exists(out / "compare" / "A.grid.mean_nM.png"));
  const std::string cmp = slurp(out / "compare" / "compare.csv");
  EXPECT_EQ(cmp.rfind("time_s,arm,lesion,A.grid.mean [nM]\n", 0), 0u) << cmp.substr(0, 200);
  EXPECT_NE(cmp.find(",slow,"), std::string::npos);
  EXPECT_NE(cmp.find(",fast,"), std::string::npos);
  EXPECT_NE(r.out.find("run-scenario: tiny: 2 arms in " + out.string() + ", plots in " + (out / "compare").string()),
            std::string::npos)
      << r.out;

  // A second run to the same directory is refused by tmesim (arm 'slow' exists) and stops there.
  const Result again = run_scenario((dir / "tiny.arms").string() + " -o out", dir.path());
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("run-scenario: arm 'slow' of tiny failed with exit status "), std::string::npos)
      << again.err;
  EXPECT_NE(again.err.find("the arms after it were not run:"), std::string::npos) << again.err;
  // --force replaces the arms and the comparison
  const Result forced = run_scenario((dir / "tiny.arms").string() + " -o out --force", dir.path());
  EXPECT_EQ(forced.code, 0) << forced.err;
}

TEST(Scenarios, AFailingArmStopsTheRest) {
  const TempDir dir("tmesim_scenarios_fail");
  spit(dir / "tiny.yaml", kTinyScene);
  spit(dir / "tiny.arms", "column: A.grid.mean [nM]\nfirst\nbad 'time.end=3 x'\nlast\n");
  const Result r = run_scenario((dir / "tiny.arms").string() + " -o out", dir.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(fs::exists(dir / "out" / "first" / "provenance.json"));
  EXPECT_FALSE(fs::exists(dir / "out" / "bad"));
  EXPECT_FALSE(fs::exists(dir / "out" / "last"));
  EXPECT_FALSE(fs::exists(dir / "out" / "compare"));
  // tmesim's own message, then which arm failed and how to repeat it
  EXPECT_NE(r.err.find("error: --set time.end=3 x: time.end: unit 'x' does not parse"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run-scenario: arm 'bad' of tiny failed with exit status 2 after "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" --set 'time.end=3 x'\n"), std::string::npos) << r.err;

  // --validate names the failing arm with its line and goes on with the others
  const Result v = run_scenario((dir / "tiny.arms").string() + " --validate", dir.path());
  EXPECT_EQ(v.code, 1);
  EXPECT_EQ(v.out.rfind("tiny/first: valid\ntiny/bad: FAILED (exit status 2; tiny.arms line 3)\n", 0), 0u) << v.out;
  EXPECT_NE(v.out.find("\ntiny/last: valid\n"), std::string::npos) << v.out;
}

// Bad arms files and arguments: exit status 2, one line naming the file and line, nothing run.
TEST(Scenarios, BadArmsFilesAreRefused) {
  const TempDir dir("tmesim_scenarios_bad");
  spit(dir / "tiny.yaml", kTinyScene);
  const std::string arms = (dir / "tiny.arms").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\n1b\n", arms + ":2: '1b' is not an arm name (expected letters, digits and '_', starting with a letter)"},
      {"a\n\nb\na 'time.end=2 h'\n", arms + ":4: arm 'a' is already defined on line 1 (expected each arm once)"},
      {"a time.end\n",
       arms + ":1: arm 'a': 'time.end' is not an override (expected path=value, as tmesim run --set takes it)"},
      {"a 'time.end=2 h' \\\n",
       arms + ":1: the line ends in a backslash but no line follows it (expected the arm's overrides to continue "
              "on the next line)"},
      {"a 'time.end=2 h\n",
       arms + ":1: No closing quotation (expected an arm name and --set overrides as shell words)"},
      {"# nothing\ncolumn: A.grid.mean [nM]\n",
       arms + ": no arms (expected one line per arm: its name and its --set overrides)"},
      {"column:\na\n", arms + ":1: column: no column name (expected e.g. 'column: burden [cells]')"},
  };
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    spit(dir / "tiny.arms", text);
    const Result r = run_scenario(arms + " -o out", dir.path());
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "run-scenario: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(dir / "out"));
  }
  spit(dir / "tiny.arms", "a\nb\n");
  Result r = run_scenario(arms + " --arms a,c -o out", dir.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "run-scenario: --arms: 'c' is not an arm of " + arms + " (expected some of: a, b)\n");
  fs::remove(dir / "tiny.yaml");
  r = run_scenario(arms, dir.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("run-scenario: scenario '" + arms + "': no base scene " + (dir / "tiny.yaml").string(), 0), 0u)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

}  // namespace
