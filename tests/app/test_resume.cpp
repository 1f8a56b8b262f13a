// Checkpoint and restart through the tmesim program: a small run of the sarcoma example (a
// drug dose at 3 d, fractions at 7 d 1 h and 8 d 1 h, event volumes) with
// output.checkpoint_every is ended hard after a checkpoint (the test hook
// TMESIM_TEST_EXIT_AFTER_CHECKPOINT, std::_Exit like a kill), resumed with --resume, and every
// file of the finished directory is compared byte for byte with an uninterrupted run (the
// provenance without its times and resume record). And the refusals: a finished run, a
// directory without a checkpoint, a checkpoint of another scene.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "host/io/checkpoint.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;
using tme::test::Result;
using tme::test::slurp;

namespace {

const char* const kArgs =
    "--set 'grid.shape=[12, 12, 12]' --set 'grid.spacing=300 um' --set 'output.at_events=[fractions, doses]' "
    "--until '9 d' -q";

class Resume : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bad = tme::test::copy_scenes_with_edits(
        fs::path(TMESIM_SOURCE_DIR) / "scenes", tmp_.path(), "sarcoma_rt_antipd1.yaml",
        {{"start: 0 d}", "start: 3 d}"}, {"  time_unit: d", "  time_unit: d\n  checkpoint_every: 1 d"}});
    ASSERT_EQ(bad, "");
  }
  Result tmesim(const std::string& args, const std::string& env = "") {
    return tme::test::run_shell(TMESIM_BINARY, args, tmp_.path(), env, tmp_.path());
  }
  Result run_to(const std::string& out, const std::string& env = "") {
    return tmesim("run scenes/sarcoma_rt_antipd1.yaml " + std::string(kArgs) + " -o " + out, env);
  }
  // Every regular file under `d` (relative path -> bytes), without the marker; provenance.json
  // without the lines that differ between runs (times, the resume record) and with `out` in the
  // command line read as "runs/ref".
  std::map<std::string, std::string> files(const fs::path& d, const std::string& out) const {
    std::map<std::string, std::string> m;
    for (const auto& e : fs::recursive_directory_iterator(d)) {
      if (!e.is_regular_file()) continue;
      const std::string rel = fs::relative(e.path(), d).string();
      if (rel == ".tmesim-run") continue;
      std::string text = slurp(e.path());
      if (rel == "provenance.json") {
        std::istringstream in(text);
        std::string line, kept;
        while (std::getline(in, line)) {
          for (const char* k : {"\"wall_time_s\"", "\"resumed\"", "\"start_time\"", "\"end_time\""})
            if (line.find(k) != std::string::npos) line.clear();
          if (line.empty()) continue;
          const size_t at = line.find(out);
          if (at != std::string::npos) line.replace(at, out.size(), "runs/ref");
          kept += line + "\n";
        }
        text = kept;
      }
      m[rel] = text;
    }
    return m;
  }
  // Runs to runs/<name>, ended after checkpoint `n`, resumes it, and compares with runs/ref.
  void kill_and_resume(const std::string& name, int n, const std::string& resumed_from) {
    SCOPED_TRACE(name + " ended after checkpoint " + std::to_string(n));
    const Result killed = run_to("runs/" + name, "TMESIM_TEST_EXIT_AFTER_CHECKPOINT=" + std::to_string(n) + " ");
    // std::_Exit(137) reads through the shell like a kill by signal 9.
    ASSERT_TRUE(killed.signalled && killed.signal == 9) << killed.err;
    const fs::path inc = tmp_ / ("runs/" + name + ".incomplete");
    ASSERT_TRUE(fs::exists(inc / tme::kCheckpointFile));
    ASSERT_FALSE(fs::exists(tmp_ / ("runs/" + name)));
    const Result resumed = tmesim("run --resume runs/" + name + ".incomplete -q");
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    ASSERT_FALSE(fs::exists(inc));
    const fs::path fin = tmp_ / ("runs/" + name);
    const auto got = files(fin, "runs/" + name), want = files(tmp_ / "runs/ref", "runs/ref");
    std::vector<std::string> got_names, want_names;
    for (const auto& [k, v] : got) got_names.push_back(k);
    for (const auto& [k, v] : want) want_names.push_back(k);
    EXPECT_EQ(got_names, want_names);
    for (const auto& [k, v] : want) {
      const auto it = got.find(k);
      if (it != got.end()) {
        EXPECT_TRUE(it->second == v) << k << " differs";
      }
    }
    const std::string prov = slurp(fin / "provenance.json");
    const std::string from = resumed_from.empty() ? "" : resumed_from + ", \"command_line\": ";
    EXPECT_NE(prov.find("\"resumed\": {\"from_time_s\": " + from), std::string::npos) << prov;
    EXPECT_NE(prov.find("-o runs/" + name + "\""), std::string::npos) << "the original command line is kept";
  }
  const tme::test::TempDir tmp_{"tmesim_resume"};
};

TEST_F(Resume, KilledRunsResumeToTheSameFilesAcrossDoseAndFraction) {
  const Result ref = run_to("runs/ref");
  ASSERT_EQ(ref.code, 0) << ref.err;
  ASSERT_FALSE(fs::exists(tmp_ / "runs/ref" / tme::kCheckpointFile));  // a finished run keeps none
  ASSERT_NE(slurp(tmp_ / "runs/ref/scene.resolved.yaml").find("checkpoint_every: 1 d"), std::string::npos);
  ASSERT_NE(slurp(tmp_ / "runs/ref/provenance.json").find("\"resumed\": null,"), std::string::npos);
  // Checkpoints at the first stop at least 1 d after the last: 1 d, 2 d, 3 d (the stop just
  // before the dose), 4 d, ..., 8 d; the run ends at the stop after the checkpoint. Ended after
  // checkpoint 2 (t = 2 d): the resumed part crosses the dose at 3 d; after checkpoint 6
  // (t = 6 d): it crosses both fractions.
  kill_and_resume("dose", 2, "172800");
  kill_and_resume("fraction", 6, "518400");
  // And one more at a seeded random checkpoint.
  std::mt19937 rng(13);
  const int n = std::uniform_int_distribution<int>(1, 8)(rng);
  kill_and_resume("random", n, "");
}

TEST_F(Resume, RefusesAFinishedRunADirectoryWithoutCheckpointAndAnotherScene) {
  const Result ref = run_to("runs/ref");
  ASSERT_EQ(ref.code, 0) << ref.err;
  Result r = tmesim("run --resume runs/ref");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: cannot resume 'runs/ref': it is a finished run (it holds provenance.json)\n");

  fs::create_directories(tmp_ / "runs/none.incomplete");
  tme::test::spit(tmp_ / "runs/none.incomplete/.tmesim-run", "tmesim run directory\npid: 1\n");
  r = tmesim("run --resume runs/none.incomplete");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "error: cannot resume 'runs/none.incomplete': it holds no checkpoint (checkpoint.bin; a run writes one "
            "with output.checkpoint_every)\n");

  // A checkpoint, then the scene changes under it (another drug amount).
  ASSERT_EQ(run_to("runs/cut", "TMESIM_TEST_EXIT_AFTER_CHECKPOINT=3 ").signal, 9);
  const fs::path scene = tmp_ / "scenes/sarcoma_rt_antipd1.yaml";
  std::string text = slurp(scene);
  text.replace(text.find("dose: 200 mg q3w"), 16, "dose: 100 mg q3w");
  tme::test::spit(scene, text);
  const uint64_t was = tme::fnv1a64(slurp(tmp_ / "runs/cut.incomplete/scene.resolved.yaml"));
  const tme::LoadedScene now = tme::load_scene(
      scene.string(), tme::Machine{},
      tme::SceneOverrides{{"grid.shape=[12, 12, 12]", "grid.spacing=300 um", "output.at_events=[fractions, doses]"},
                          "9 d"});
  auto hex = [](uint64_t x) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)x);
    return std::string(buf);
  };
  r = tmesim("run --resume runs/cut.incomplete");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "error: cannot resume 'runs/cut.incomplete': it was written for another scene (resolved scene hash " +
                hex(was) + ", the scene now resolves to " + hex(tme::fnv1a64(now.resolved_yaml)) + ")\n");
  EXPECT_TRUE(fs::exists(tmp_ / "runs/cut.incomplete" / tme::kCheckpointFile));  // left as it was
}

TEST_F(Resume, RunNeedsASceneOrResumeAndResumeTakesNoSceneValues) {
  Result r = tmesim("run");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: run: give a scene file, or --resume DIR\n");
  r = tmesim("run --resume runs/x.incomplete --until 1d");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--until excludes --resume"), std::string::npos) << r.err;
  r = tmesim("run --resume runs/x.incomplete");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: cannot resume 'runs/x.incomplete': it is not a directory\n");
}

}  // namespace
