// Slow (label "slow"): every scene under scenes/ runs end to end with the tmesim program on
// the CPU. A scene is a YAML file with a top-level `grid:` key (model files have none).
// Long scenes are shortened in a copy of the scenes/ tree (so the files they name resolve as
// in the original) by exact text substitutions listed below; a substitution that no longer
// matches fails, and so does a scene that is missing from the table: a new scene is run here
// from the day it is added. The radiotherapy examples (scenes/rt_*.yaml) run at full length
// in test_example_scenes.cpp, which checks their schedules; they are listed here as covered.
// Each run must exit 0 with nothing on stderr, commit its run directory (no DIR.incomplete)
// and write finite observables and volumes at the times it promises.
// Needs the tmesim program (TMESIM_BINARY, defined when the app is built); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::kBinary;
using tme::test::kSourceDir;

using tme::test::slurp;

struct SceneCase {
  std::string path;        // relative to scenes/
  tme::test::Edits edits;  // exact text, replacement
  int volumes = 0;         // volumes the (shortened) run writes
  std::string covered_by;  // non-empty: run elsewhere
};

std::ostream& operator<<(std::ostream& os, const SceneCase& c) { return os << c.path; }

const std::vector<SceneCase>& cases() {
  static const std::vector<SceneCase> all = {
      {"quickstart.yaml", {{"end: 2 h", "end: 30 min"}}, 4, ""},
      {"quickstart_day_adi.yaml", {}, 25, ""},
      // Sarcoma example: the first two of the five 6 Gy fractions (days 7 and 8), to day 9.
      {"sarcoma_rt_antipd1.yaml",
       {{"end: 21 d", "end: 9 d"}, {"total: 30 Gy, fractions: 5", "total: 12 Gy, fractions: 2"}},
       10,
       ""},
      // The oxygen-enhanced course (explicit steps of 0.2 s): its first two 2 Gy fractions
      // (Monday and Tuesday 09:00) with the three boost fractions moved to Monday afternoon.
      {"tests/rt_course.yaml",
       {{"end: 42 d", "end: 26 h"},
        {"total: 50 Gy, fractions: 25", "total: 4 Gy, fractions: 2"},
        {"35 d 6 h", "6 h"},
        {"37 d 6 h", "7 h"},
        {"39 d 6 h", "8 h"}},
       3,
       ""},
      {"tests/cli_rt_oxygen.yaml", {}, 3, ""},
      {"tests/cli_rt.yaml", {}, 3, ""},
      {"tests/cli_small.yaml", {}, 5, ""},
      {"tests/full.yaml", {{"end: 2 h", "end: 10 min"}}, 2, ""},
      {"tests/minimal.yaml", {}, 2, ""},
      {"tests/model_small.yaml",
       {{"time: {end: 30 d, output_every: 1 d}", "time: {end: 20 min, output_every: 10 min}"},
        {"start: 2 d", "start: 5 min"}},
       3,
       ""},
      // The integrators' oxygen comparison at its large step (the explicit reference takes 20 s).
      {"tests/oxygen_vessel_mm.yaml",
       {{"time: {end: 12 h, output_every: 3 h, integrator: explicit}",
         "time: {end: 12 h, output_every: 3 h, integrator: be, step: 1 h}"}},
       5,
       ""},
      {"tests/model_tme.yaml",
       {{"time: {end: 7 d, output_every: 1 d}", "time: {end: 6 h, output_every: 3 h}"}, {"start: 1 d", "start: 2 h"}},
       3,
       ""},
      // The mouse example: to day 8, with the first of the three fractions and the first dose.
      {"mouse_ct26_rt.yaml",
       {{"end: 21 d", "end: 8 d"}, {"total: 24 Gy, fractions: 3", "total: 8 Gy, fractions: 1"}},
       9,
       ""},
      {"calibration/mouse_tumour.yaml", {}, 22, ""},  // one well-mixed voxel: seconds at full length
      {"calibration/human_tumour.yaml", {}, 50, ""},
      // The systemic coupling's test scenes run at full length in tests/app/test_systemic_run.cpp.
      {"tests/systemic_two_lesions.yaml", {}, 0, "Backends/SystemicRun.TCellsAreConservedAcrossBloodNodesAndLesions"},
      {"tests/systemic_abscopal.yaml", {}, 0, "Backends/SystemicAbscopal.IrradiatingOneLesionRaisesCd8InTheOther"},
      {"rt_conventional.yaml", {}, 0, "ExampleScenes.Conventional"},
      {"rt_explicit_file.yaml", {}, 0, "ExampleScenes.ExplicitFile"},
      {"rt_sbrt.yaml", {}, 0, "ExampleScenes.Sbrt"},
      {"rt_single.yaml", {}, 0, "ExampleScenes.Single"},
      {"rt_twice_daily.yaml", {}, 0, "ExampleScenes.TwiceDaily"},
      {"rt_two_plans.yaml", {}, 0, "ExampleScenes.TwoPlans"},
      // Two lesions (volumes per lesion): to day 8, with the first of the three fractions.
      {"patient/two_flank.yaml",
       {{"end: 14 d", "end: 8 d"}, {"total: 24 Gy, fractions: 3", "total: 8 Gy, fractions: 1"}},
       9,
       ""},
      // The scenarios of docs/scenarios.md (their base scenes; scripts/run-scenario runs the
      // arms, tests/app/test_scenarios.cpp validates every arm): to day 8, with the first fraction.
      {"patient/fractionation_ctla4.yaml",
       {{"end: 42 d", "end: 8 d"}, {"total: 24 Gy, fractions: 3", "total: 8 Gy, fractions: 1"}},
       9,
       ""},
      {"patient/sbrt_vs_conventional.yaml",
       {{"end: 42 d", "end: 8 d"}, {"total: 24 Gy, fractions: 3", "total: 8 Gy, fractions: 1"}},
       9,
       ""},
      {"patient/scatter_dose_pd1.yaml",
       {{"end: 42 d", "end: 8 d"}, {"total: 30 Gy, fractions: 5", "total: 6 Gy, fractions: 1"}},
       9,
       ""},
      {"patient/mouse_arms.yaml",
       {{"end: 21 d", "end: 8 d"}, {"total: 24 Gy, fractions: 3", "total: 8 Gy, fractions: 1"}},
       9,
       ""},
      {"patient/sarcoma_arms.yaml",
       {{"end: 42 d", "end: 8 d"}, {"total: 30 Gy, fractions: 5", "total: 6 Gy, fractions: 1"}},
       9,
       ""},
      {"patient/node_timing.yaml",
       {{"end: 42 d", "end: 8 d"},
        {"total: 24 Gy, fractions: 3, per_week: 3, start: 7 d, clock: \"09:00\"",
         "total: 8 Gy, fractions: 1, per_week: 3, start: 7 d, clock: \"09:00\""},
        {"total: 24 Gy, fractions: 3, per_week: 3, start: 7 d, clock: \"10:00\"",
         "total: 8 Gy, fractions: 1, per_week: 3, start: 7 d, clock: \"10:00\""}},
       9,
       ""},
  };
  return all;
}

bool is_scene(const fs::path& p) {
  std::istringstream in(slurp(p));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("grid:", 0) == 0 || line.rfind("lesions:", 0) == 0) return true;
  return false;
}

TEST(AllScenes, EverySceneUnderScenesIsInTheTable) {
  if (!kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
  const fs::path root = fs::path(kSourceDir) / "scenes";
  std::set<std::string> listed, found;
  for (const SceneCase& c : cases()) listed.insert(c.path);
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".yaml" && is_scene(e.path()))
      found.insert(fs::relative(e.path(), root).generic_string());
  for (const std::string& s : found)
    EXPECT_TRUE(listed.count(s)) << "scenes/" << s << " is not run end to end: add it to " << __FILE__;
  for (const std::string& s : listed) EXPECT_TRUE(found.count(s)) << "scenes/" << s << " is gone: drop it";
}

class AllScenes : public ::testing::TestWithParam<SceneCase> {};

TEST_P(AllScenes, RunsEndToEnd) {
  const SceneCase& c = GetParam();
  if (!kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
  if (!c.covered_by.empty()) GTEST_SKIP() << "runs at full length in " << c.covered_by;
  std::string id = c.path;
  for (char& ch : id)
    if (ch == '/' || ch == '.') ch = '_';
  const tme::test::TempDir dir("tmesim_all_scenes_" + id);
  const fs::path& tmp = dir.path();
  const std::string copied = tme::test::copy_scenes_with_edits(fs::path(kSourceDir) / "scenes", tmp, c.path, c.edits);
  ASSERT_EQ(copied, "") << "update the table";
  const fs::path scene = tmp / "scenes" / c.path;

  const fs::path run = tmp / "run";
  // Passive OpenMP waiting: spinning threads make runs on a busy machine many times slower.
  const tme::test::Result r =
      tme::test::run_shell(kBinary, "run " + scene.string() + " -o " + run.string() + " --backend cpu --quiet", tmp,
                           "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} ");
  ASSERT_FALSE(r.signalled) << c.path << ": killed by signal " << r.signal;
  ASSERT_EQ(r.code, 0) << c.path << "\n" << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(fs::exists(tmp / "run.incomplete"));
  for (const char* f : {"provenance.json", "scene.yaml", "scene.resolved.yaml"}) EXPECT_TRUE(fs::exists(run / f)) << f;
  // A scene with lesions writes each lesion's volumes and observables in lesions/<name>.
  std::vector<fs::path> outs;
  if (fs::exists(run / "lesions")) {
    EXPECT_TRUE(fs::exists(run / "patient.pvd"));
    for (const auto& e : fs::directory_iterator(run / "lesions")) outs.push_back(e.path());
    EXPECT_GE(outs.size(), 2u);
  } else {
    outs.push_back(run);
  }
  for (const fs::path& out : outs) {
    SCOPED_TRACE(out.string());
    for (const char* f : {"fields.pvd", "observables.csv"}) EXPECT_TRUE(fs::exists(out / f)) << f;
    char name[32];
    std::snprintf(name, sizeof name, "fields_%04d.vti", c.volumes - 1);
    EXPECT_TRUE(fs::exists(out / name)) << name;
    std::snprintf(name, sizeof name, "fields_%04d.vti", c.volumes);
    EXPECT_FALSE(fs::exists(out / name)) << name;

    // observables.csv: one row per volume, every number finite.
    std::istringstream csv(slurp(out / "observables.csv"));
    std::string line;
    std::getline(csv, line);
    int rows = 0;
    while (std::getline(csv, line)) {
      ++rows;
      std::istringstream ls(line);
      std::string cell;
      while (std::getline(ls, cell, ',')) EXPECT_TRUE(std::isfinite(std::stod(cell))) << line;
    }
    EXPECT_EQ(rows, c.volumes);
  }
}

INSTANTIATE_TEST_SUITE_P(Scenes, AllScenes, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<SceneCase>& i) {
                           std::string n = i.param.path.substr(0, i.param.path.size() - 5);
                           for (char& ch : n)
                             if (ch == '/') ch = '_';
                           return n;
                         });

}  // namespace
