// Slow (label "slow"): determinism on the CPU. The same scene, run twice with 2 threads and
// once with 1 and 3 threads, gives byte-identical volumes and observables: every parallel
// loop writes each voxel from one thread in a fixed order, and the sums over the grid
// (observables, drug uptake, region means) are taken in voxel order, not by thread.
// The scene is the default model (scenes/models/tme.yaml: reactions, chemotaxis, anti-PD-1)
// on a 10^3 grid with seeded random vessels, run with the explicit step and with LOD steps of
// 1 h, plus the oxygen-enhanced radiotherapy test scene.
// Needs the tmesim program (TMESIM_BINARY, defined when the app is built); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::kBinary;
using tme::test::kSourceDir;

using tme::test::slurp;

struct Case {
  std::string name, scene;  // scene relative to scenes/
  tme::test::Edits edits;   // exact text, replacement
};

// Runs the case with `threads` OpenMP threads into tmp/run_<tag>; returns the run directory.
fs::path run_with(const Case& c, const fs::path& tmp, int threads, const std::string& tag) {
  const fs::path run = tmp / ("run_" + tag), out = tmp / ("out_" + tag);
  fs::create_directories(out);
  const tme::test::Result r = tme::test::run_shell(
      kBinary, "run " + (tmp / "scenes" / c.scene).string() + " -o " + run.string() + " --backend cpu --quiet", tmp,
      "OMP_NUM_THREADS=" + std::to_string(threads) + " OMP_WAIT_POLICY=PASSIVE ", out);
  EXPECT_EQ(r.code, 0) << c.name << ", " << threads << " threads:\n" << r.err;
  return run;
}

void expect_same_outputs(const fs::path& a, const fs::path& b, const std::string& what) {
  int volumes = 0;
  for (const auto& e : fs::directory_iterator(a)) {
    const std::string f = e.path().filename().string();
    if (e.path().extension() != ".vti" && f != "observables.csv" && f != "delivered_schedule.csv") continue;
    volumes += e.path().extension() == ".vti";
    ASSERT_TRUE(fs::exists(b / f)) << what << ": " << f;
    EXPECT_TRUE(slurp(e.path()) == slurp(b / f)) << what << ": " << f << " differs";
  }
  EXPECT_GE(volumes, 3) << what;
}

const char* const kCd8 = "  CD8: {constant: 100 cells/mm^3}\n";
const char* const kCd8Vessels =
    "  CD8: {constant: 100 cells/mm^3}\n  vasculature: {vessels: {mean_spacing: 60 um, radius: 10 um}}\n";

class Determinism : public ::testing::TestWithParam<Case> {};

TEST_P(Determinism, SameVolumesForRepeatsAndThreadCounts) {
  if (!kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
  const Case& c = GetParam();
  const tme::test::TempDir dir("tmesim_determinism_" + c.name);
  const fs::path& tmp = dir.path();
  ASSERT_EQ(tme::test::copy_scenes_with_edits(fs::path(kSourceDir) / "scenes", tmp, c.scene, c.edits), "");

  const fs::path two = run_with(c, tmp, 2, "2a");
  expect_same_outputs(two, run_with(c, tmp, 2, "2b"), "2 threads, twice");
  expect_same_outputs(two, run_with(c, tmp, 1, "1"), "1 and 2 threads");
  expect_same_outputs(two, run_with(c, tmp, 3, "3"), "3 and 2 threads");
}

INSTANTIATE_TEST_SUITE_P(Cpu, Determinism,
                         ::testing::Values(Case{"model_explicit",
                                                "tests/model_tme.yaml",
                                                {{"time: {end: 7 d, output_every: 1 d}",
                                                  "time: {end: 2 h, output_every: 1 h}"},
                                                 {"start: 1 d", "start: 1 h"},
                                                 {kCd8, kCd8Vessels}}},
                                           Case{"model_lod",
                                                "tests/model_tme.yaml",
                                                {{"time: {end: 7 d, output_every: 1 d}",
                                                  "time: {end: 3 d, output_every: 1 d, integrator: lod, step: 1 h}"},
                                                 {kCd8, kCd8Vessels}}},
                                           Case{"rt_oxygen", "tests/cli_rt_oxygen.yaml", {}}),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

}  // namespace
