// Run-time guards end to end: numbers that cannot be run are refused before the run (step count
// beyond the limit, values beyond the build's real type, NaN/Inf text), and a state that goes
// wrong stops the run with field, voxel, time and value, keeping DIR.incomplete.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kernels/tme_hd.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;

class Guards : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }
  // A 4x4x4 scene of one species A [ng/mL] with `species` (indented 4) and `time` lines added.
  std::string scene(const std::string& species, const std::string& time = "  end: 100 s\n  output_every: 100 s\n") {
    const fs::path f = dir_ / "s.yaml";
    std::ofstream(f) << "name: g\ngrid:\n  shape: [4, 4, 4]\n  spacing: 10 um\ntime:\n"
                     << time << "regions:\n  all: {box: {min: [0 um, 0 um, 0 um], max: [40 um, 40 um, 40 um]}}\n"
                     << "species:\n  - name: A\n    unit: ng/mL\n"
                     << species;
    return f.string();
  }
  Result tmesim(const std::string& args) { return tme::test::run_shell(TMESIM_BINARY, args, dir_); }
  Result run(const std::string& scene, const std::string& extra = "") {
    return tmesim("run " + scene + " -o " + (dir_ / "out").string() + " --backend cpu --quiet " + extra);
  }
  // The refusal of run and validate (exit 2, nothing written): "error: <scene>:<where>".
  void expect_refused(const std::string& scene, const std::string& where) {
    const Result r = run(scene);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.err, "error: " + scene + ":" + where + "\n");
    EXPECT_FALSE(fs::exists(dir_ / "out"));
    EXPECT_FALSE(fs::exists(dir_ / "out.incomplete"));
    const Result v = tmesim("validate " + scene + " --backend cpu");
    EXPECT_EQ(v.code, 2);
    EXPECT_EQ(v.err, r.err);
  }
  const tme::test::TempDir tmp_{"tmesim_guards"};
  fs::path dir_;
};

// The refusal's ending: what would make the run possible.
const std::string kFewerSteps =
    " (expected a run of at most 1e+10 steps: a smaller value, a shorter time.end, or an implicit integrator "
    "(time.integrator: lod, adi, be or trbdf2))";

// D = 1e20 um^2/s: 6.7e20 steps wrapped long long (2 steps, then -3.9e20 and NaN, exit 0).
// Refused at the coefficient that limits the step.
TEST_F(Guards, HugeDiffusionIsRefusedWithTheStepCount) {
  expect_refused(scene("    diffusion: 1e20 um^2/s\n    initial: {constant: 1 ng/mL}\n"),
                 "13:16: species[0].diffusion: the diffusion over the grid spacing of field 'A' limits the explicit "
                 "step to 1.5e-19 s: the run to '100 s' takes 6.67e+20 steps, more than the limit of 1e+10 steps per "
                 "run" +
                     kFewerSteps);
}

TEST_F(Guards, HugeDecayIsRefusedWithTheStepCount) {
  expect_refused(scene("    diffusion: 10 um^2/s\n    decay: 1e30 1/s\n    initial: {constant: 1 ng/mL}\n"),
                 "14:12: species[0].decay: the decay of field 'A' limits the explicit step to 9e-31 s: the run to "
                 "'100 s' takes 1.11e+32 steps, more than the limit of 1e+10 steps per run" +
                     kFewerSteps);
}

// Vmax / Km = 1e60 1/s: beyond float32, the step limit became 0 (and the count infinite).
TEST_F(Guards, StiffUptakeIsRefusedWithTheStepCount) {
  expect_refused(scene("    diffusion: 10 um^2/s\n    initial: {constant: 1 ng/mL}\n"
                       "    uptake: {vmax: 1e30 ng/mL/s, km: 1e-30 ng/mL}\n"),
                 "15:13: species[0].uptake: the uptake (vmax / km) of field 'A' limits the explicit step to 9e-61 s: "
                 "the run to '100 s' takes 1.11e+62 steps, more than the limit of 1e+10 steps per run" +
                     kFewerSteps);
}

// The build's field type: a value a scene gives beyond its range is a load error. In a float32
// build, 1e39 ng/mL is beyond float32; in a float64 build the loader's own arithmetic is double,
// so a value beyond it (1e303 g/mL = 1e312 ng/mL) is refused by the unit conversion.
const bool kFloat32 = sizeof(tme::real) == 4;

// The load error for `value` of `key` (internal unit `unit`) at file:line:col `at`.
std::string beyond_message(const std::string& at, const std::string& key, const std::string& value,
                           const std::string& unit, const std::string& example) {
  if (kFloat32)
    return at + ": " + key + ": '" + value + "' (1e+39 " + unit +
           ") is beyond the range of float32 (expected a finite value of magnitude at most 3.40282e+38 " + unit +
           " (float32 build))\n";
  return at + ": " + key + ": '" + value + "' is out of range in " + unit + " (expected a value in " + unit +
         ", e.g. '" + example + "')\n";
}

TEST_F(Guards, InitialBeyondFloatIsAPositionedLoadError) {
  const std::string value = kFloat32 ? "1e39 ng/mL" : "1e303 g/mL";
  const std::string s = scene("    diffusion: 10 um^2/s\n    initial: {constant: " + value + "}\n");
  const Result r = run(s);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: " + beyond_message(s + ":14:25", "species[0].initial.constant", value, "ng/mL", "1 ng/mL"));
  EXPECT_FALSE(fs::exists(dir_ / "out.incomplete"));
}

// A source of 1e39 with lod gave a field of zeros (Inf, then NaN, then max(NaN, 0) = 0).
TEST_F(Guards, SourceBeyondFloatIsAPositionedLoadError) {
  const std::string value = kFloat32 ? "1e39 ng/mL/s" : "1e303 g/mL/s";
  const std::string s = scene("    diffusion: 10 um^2/s\n    sources: [{region: all, rate: " + value + "}]\n",
                              "  end: 3 s\n  output_every: 1 s\n  integrator: lod\n  step: 1 s\n");
  const Result r = run(s);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "error: " + beyond_message(s + ":16:35", "species[0].sources[0].rate", value, "ng/mL/s", "1e-3 ng/mL/s"));
}

TEST_F(Guards, NanAndInfTextIsAPositionedLoadError) {
  std::string s = scene("    diffusion: 10 um^2/s\n    decay: .nan\n");
  Result r = run(s);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: " + s +
                       ":14:12: species[0].decay: '.nan' has no number (expected a value in 1/s, e.g. "
                       "'1e-4 1/s')\n");
  s = scene("    diffusion: .inf um^2/s\n");
  r = run(s);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: " + s +
                       ":13:16: species[0].diffusion: '.inf um^2/s' has no number (expected a value in "
                       "um^2/s, e.g. '10 um^2/s')\n");
  s = scene("    diffusion: 1e400 um^2/s\n");
  r = run(s);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: " + s +
                       ":13:16: species[0].diffusion: '1e400 um^2/s' is out of range (expected a value in "
                       "um^2/s, e.g. '10 um^2/s')\n");
}

// A source within the field type's range whose field overflows at run time (the second step
// doubles it past the largest value): the state check stops the run at the first output after
// it, with field, voxel, time and value; the partial run is kept.
const std::string kOverflow = std::string("    diffusion: 10 um^2/s\n    sources: [{region: all, rate: ") +
                              (kFloat32 ? "2e38" : "1e308") + " ng/mL/s}]\n";
const std::string kOverflowTime = "  end: 4 s\n  output_every: 4 s\n  integrator: lod\n  step: 1 s\n";

TEST_F(Guards, OverflowingFieldStopsTheRunAtAnOutput) {
  const std::string s = scene(kOverflow, kOverflowTime);
  const Result r = run(s);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: state check failed at t = 4 s: field 'A' at voxel (0, 0, 0) (x, y, z = 5, 5, 5 um): "
            "value is NaN\npartial output left in " +
                (dir_ / "out.incomplete").string() + "\n");
  EXPECT_TRUE(fs::exists(dir_ / "out.incomplete" / "fields_0000.vti"));
  EXPECT_FALSE(fs::exists(dir_ / "out.incomplete" / "fields_0001.vti"));
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(Guards, CheckEveryStopsTheRunAtTheStep) {
  const std::string s = scene(kOverflow, kOverflowTime);
  const Result r = run(s, "--check-every 1");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: state check failed at t = 2 s: field 'A' at voxel (0, 0, 0) (x, y, z = 5, 5, 5 um): "
                        "value is ",
                        0),
            0u)
      << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "out.incomplete"));
  const Result bad = run(s, "--check-every 0");
  EXPECT_EQ(bad.code, 105) << bad.err;  // CLI11 validation error
}

}  // namespace
