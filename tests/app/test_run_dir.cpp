// Output directories: the path guard (which directories a run may replace), the marker and
// lock of a run directory, stale and concurrent runs, --force, scene names, and a full disk.
// In-process through host/io/run_dir.hpp and end to end through the tmesim program, always
// inside a scratch directory with user files beside the output (they must survive). The
// guard is tested with made-up current and home directories; nothing outside the scratch
// directory is ever removed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "host/io/run_dir.hpp"
#include "host/io/vtk_io.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;
using tme::replace_refusal;
using tme::RunDirectory;
using tme::RunDirKind;

namespace {

using tme::test::slurp;

void put(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no exception>";
}

// A finished run directory as tmesim leaves one (marker and provenance.json).
void make_run(const fs::path& d) {
  fs::create_directories(d);
  put(d / ".tmesim-run", "tmesim run directory\npid: 1\nstarted: 2026-01-01T00:00:00Z\nhost: h\n");
  put(d / "provenance.json", "{}\n");
}

class RunDir : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = fs::canonical(tmp_.path());
    // Made-up current and home directories inside the scratch directory.
    prot_.cwd = t_ / "a" / "b" / "c";
    prot_.home = t_ / "home";
    fs::create_directories(prot_.cwd);
    fs::create_directories(prot_.home);
  }
  std::string refusal(const fs::path& p, RunDirKind k = RunDirKind::kFinished) const {
    return replace_refusal(p, k, prot_.cwd, prot_.home);
  }
  // Names in the scratch directory, sorted.
  std::vector<std::string> listing(const fs::path& d) const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(d)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  const tme::test::TempDir tmp_{"tmesim_rundir"};
  fs::path t_;
  tme::ProtectedDirs prot_;
};

// ---- the guard -------------------------------------------------------------------------

TEST_F(RunDir, GuardRefusesDotDotDotRootHomeAndAncestorsEvenWhenMarked) {
  // Mark every protected directory as a finished run: the marker must not matter.
  for (const fs::path& d : {t_ / "a", t_ / "a" / "b", prot_.cwd, prot_.home}) make_run(d);
  const std::string never = "'.' and '..' are never replaced";
  EXPECT_EQ(refusal("."), "refusing to replace '.': " + never);
  EXPECT_EQ(refusal(".."), "refusing to replace '..': " + never);
  EXPECT_EQ(refusal("x/.."), "refusing to replace 'x/..': " + never);
  EXPECT_EQ(refusal("./"), "refusing to replace './': " + never);
  EXPECT_EQ(refusal("/"), "refusing to replace '/': it is the root directory");
  EXPECT_EQ(refusal("//"), "refusing to replace '//': it is the root directory");
  EXPECT_EQ(refusal(prot_.home), "refusing to replace '" + prot_.home.string() + "': it is the home directory");
  EXPECT_EQ(refusal(prot_.cwd), "refusing to replace '" + prot_.cwd.string() + "': it is the current directory");
  EXPECT_EQ(refusal(t_ / "a"), "refusing to replace '" + (t_ / "a").string() + "': it contains the current directory");
  EXPECT_EQ(refusal(t_ / "a" / "b"),
            "refusing to replace '" + (t_ / "a" / "b").string() + "': it contains the current directory");
  EXPECT_EQ(refusal(t_), "refusing to replace '" + t_.string() + "': it contains the current directory");
  // Relative paths are taken from the given current directory.
  EXPECT_EQ(refusal("../../b"), "refusing to replace '../../b': it contains the current directory");
  EXPECT_EQ(refusal("../../../home"), "refusing to replace '../../../home': it is the home directory");
  // Every protected directory survived, marker included.
  for (const fs::path& d : {t_ / "a", t_ / "a" / "b", prot_.cwd, prot_.home})
    EXPECT_TRUE(fs::exists(d / ".tmesim-run")) << d;
}

TEST_F(RunDir, GuardRefusesSymlinksToProtectedDirectories) {
  make_run(prot_.home);
  make_run(t_ / "a");
  fs::create_directory_symlink("/", t_ / "to_root");
  fs::create_directory_symlink(prot_.home, t_ / "to_home");
  fs::create_directory_symlink(t_ / "a", t_ / "to_ancestor");
  fs::create_directory_symlink(prot_.cwd, t_ / "to_cwd");
  fs::create_directory_symlink(".", prot_.cwd / "to_dot");      // relative: the current directory
  fs::create_directory_symlink("..", prot_.cwd / "to_dotdot");  // its parent
  auto is = [&](const fs::path& p, const std::string& why) {
    EXPECT_EQ(refusal(p), "refusing to replace '" + p.string() + "': " + why);
  };
  is(t_ / "to_root", "it is the root directory");
  is(t_ / "to_home", "it is the home directory");
  is(t_ / "to_ancestor", "it contains the current directory");
  is(t_ / "to_cwd", "it is the current directory");
  is("to_dot", "it is the current directory");
  is("to_dotdot", "it contains the current directory");
  // A link to a real run directory is refused too (only the directory itself is replaced).
  make_run(t_ / "run");
  fs::create_directory_symlink(t_ / "run", t_ / "to_run");
  is(t_ / "to_run", "it is a symbolic link (only a run directory itself is replaced, never a link to one)");
  EXPECT_TRUE(fs::exists(t_ / "run" / ".tmesim-run"));
}

TEST_F(RunDir, GuardRefusesDirectoriesTmesimDidNotMakeAndAcceptsARunDirectory) {
  fs::create_directories(t_ / "mydata");
  put(t_ / "mydata" / "thesis.tex", "chapter 1");
  EXPECT_EQ(refusal(t_ / "mydata"), "refusing to replace '" + (t_ / "mydata").string() +
                                        "': it was not made by tmesim (no .tmesim-run marker inside)");
  // A marker with other content, or a link named like the marker, is not a marker.
  fs::create_directories(t_ / "fake");
  put(t_ / "fake" / ".tmesim-run", "something else\n");
  put(t_ / "fake" / "provenance.json", "{}");
  EXPECT_NE(refusal(t_ / "fake").find("it was not made by tmesim"), std::string::npos);
  make_run(t_ / "real");
  fs::create_directories(t_ / "linked");
  fs::create_symlink(t_ / "real" / ".tmesim-run", t_ / "linked" / ".tmesim-run");
  put(t_ / "linked" / "provenance.json", "{}");
  EXPECT_NE(refusal(t_ / "linked").find("it was not made by tmesim"), std::string::npos);
  put(t_ / "file", "x");
  EXPECT_EQ(refusal(t_ / "file"), "refusing to replace '" + (t_ / "file").string() + "': it is not a directory");
  EXPECT_EQ(refusal(t_ / "nothing"), "refusing to replace '" + (t_ / "nothing").string() + "': it does not exist");

  // A real run directory may be replaced; a marked one without provenance only while incomplete.
  EXPECT_EQ(refusal(t_ / "real"), "");
  EXPECT_EQ(refusal(t_ / "real/"), "");
  fs::create_directories(t_ / "building");
  put(t_ / "building" / ".tmesim-run", "tmesim run directory\npid: 1\n");
  EXPECT_EQ(refusal(t_ / "building", RunDirKind::kIncomplete), "");
  EXPECT_EQ(refusal(t_ / "building"), "refusing to replace '" + (t_ / "building").string() +
                                          "': it holds no provenance.json (not a finished tmesim run)");
  EXPECT_EQ(slurp(t_ / "mydata" / "thesis.tex"), "chapter 1");
}

TEST(RunName, PlainFileNamesOnly) {
  for (const char* ok : {"quickstart", "rt_2x5.Gy-v2", ".hidden", "a..b", "X"})
    EXPECT_TRUE(tme::is_plain_file_name(ok)) << ok;
  for (const char* bad : {"", ".", "..", "/", "a/b", "../x", "a b", "a\\b", "tab\there", "é", "a:b", "~"})
    EXPECT_FALSE(tme::is_plain_file_name(bad)) << bad;
  EXPECT_TRUE(tme::is_plain_file_name(std::string(200, 'n')));
  EXPECT_FALSE(tme::is_plain_file_name(std::string(201, 'n')));
  EXPECT_EQ(tme::default_run_path("quickstart"), fs::path("runs") / "quickstart");
  std::string e;
  try {
    tme::default_run_path("..");
  } catch (const std::runtime_error& x) {
    e = x.what();
  }
  EXPECT_EQ(e, std::string("scene name '..' cannot name a run directory (expected ") + tme::kRunNameRule + ")");
}

// ---- RunDirectory ------------------------------------------------------------------------

TEST_F(RunDir, WorkDirectoryIsMarkedAndLockedForTheWholeRun) {
  const fs::path out = t_ / "out";
  auto first = std::make_unique<RunDirectory>(out, false, prot_);
  EXPECT_EQ(first->work(), fs::path(out.string() + ".incomplete"));
  const tme::RunOwner me = tme::read_run_owner(first->work());
  EXPECT_EQ(me.pid, (long long)::getpid());
  EXPECT_EQ(me.started.size(), 20u) << me.started;  // 2026-12-02T03:14:31Z
  put(first->work() / "fields_0000.vti", "first run's data");
  // A second run to the same directory is refused, naming the first; --force changes nothing.
  const std::string busy = "another run (pid " + std::to_string(::getpid()) + ", started " + me.started + " on " +
                           me.host + ") is writing to '" + first->work().string() +
                           "'; wait for it to end or choose another output directory with -o";
  EXPECT_EQ(error_of([&] { RunDirectory second(out, false, prot_); }), busy);
  EXPECT_EQ(error_of([&] { RunDirectory second(out, true, prot_); }), busy);
  EXPECT_EQ(slurp(first->work() / "fields_0000.vti"), "first run's data");
  EXPECT_EQ(first->partial_output_note(), "partial output left in " + first->work().string() + "\n");
  put(first->work() / "provenance.json", "{}");
  first->commit();
  EXPECT_EQ(first->warning(), "");
  EXPECT_EQ(first->partial_output_note(), "");  // nothing partial left once committed
  EXPECT_EQ(slurp(out / "fields_0000.vti"), "first run's data");
  EXPECT_EQ(tme::read_run_owner(out).pid, (long long)::getpid());
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "home", "out"}));
}

TEST_F(RunDir, StaleIncompleteIsReplacedUnmarkedOneIsRefused) {
  const fs::path out = t_ / "out", work = t_ / "out.incomplete";
  fs::create_directories(work);
  put(work / ".tmesim-run", "tmesim run directory\npid: 999999999\nstarted: 2020-01-01T00:00:00Z\nhost: gone\n");
  put(work / "fields_0003.vti", "left by a killed run");
  {
    RunDirectory d(out, false, prot_);
    EXPECT_FALSE(fs::exists(work / "fields_0003.vti"));
    EXPECT_EQ(tme::read_run_owner(work).pid, (long long)::getpid());
  }
  // Not committed: left stale again, and nothing else beside it.
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "home", "out.incomplete"}));

  fs::remove(work / ".tmesim-run");
  put(work / "notes.txt", "mine");
  EXPECT_EQ(error_of([&] { RunDirectory d(out, true, prot_); }),
            "refusing to use '" + work.string() +
                "': it was not made by tmesim (no .tmesim-run marker inside); move it away or choose another "
                "output directory with -o");
  EXPECT_EQ(slurp(work / "notes.txt"), "mine");
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "home", "out.incomplete"}));
}

TEST_F(RunDir, ForceReplacesOnlyAFinishedRun) {
  const fs::path out = t_ / "out";
  fs::create_directories(out);
  put(out / "thesis.tex", "chapter 1");
  // A user's directory: refused before anything is made, with or without --force.
  const std::string why = "output directory '" + out.string() +
                          "' exists and is not replaced, not even with --force: it was not made by tmesim (no "
                          ".tmesim-run marker inside); choose another with -o";
  EXPECT_EQ(error_of([&] { RunDirectory d(out, true, prot_); }), why);
  EXPECT_EQ(error_of([&] { RunDirectory d(out, false, prot_); }), why);
  EXPECT_EQ(slurp(out / "thesis.tex"), "chapter 1");
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "home", "out"}));

  // A previous run: kept without --force, replaced with it, nothing left beside it.
  fs::remove(out / "thesis.tex");
  make_run(out);
  put(out / "old.vti", "old");
  put(t_ / "beside.txt", "user file");
  EXPECT_EQ(error_of([&] { RunDirectory d(out, false, prot_); }),
            "output directory '" + out.string() + "' exists (use --force to replace it, or -o to choose another)");
  RunDirectory d(out, true, prot_);
  EXPECT_TRUE(fs::exists(out / "old.vti"));  // the old run stays until the new one is done
  put(d.work() / "new.vti", "new");
  put(d.work() / "provenance.json", "{}");
  d.commit();
  EXPECT_EQ(d.warning(), "");
  EXPECT_EQ(listing(out), (std::vector<std::string>{".tmesim-run", "new.vti", "provenance.json"}));
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "beside.txt", "home", "out"}));
  EXPECT_EQ(slurp(t_ / "beside.txt"), "user file");
}

TEST_F(RunDir, DirectoryAppearingDuringTheRunIsNeverReplacedUnlessItIsARun) {
  const fs::path out = t_ / "out";
  {
    RunDirectory d(out, false, prot_);
    fs::create_directories(out);
    put(out / "thesis.tex", "chapter 1");
    EXPECT_EQ(error_of([&] { d.commit(); }), "output directory '" + out.string() + "' appeared during the run");
    EXPECT_EQ(d.partial_output_note(), "partial output left in " + out.string() + ".incomplete\n");
  }
  {
    RunDirectory d(t_ / "out2", true, prot_);
    fs::create_directories(t_ / "out2");
    put(t_ / "out2" / "thesis.tex", "chapter 2");
    put(d.work() / "provenance.json", "{}");
    EXPECT_EQ(error_of([&] { d.commit(); }), "refusing to replace '" + (t_ / "out2").string() +
                                                 "': it was not made by tmesim (no .tmesim-run marker inside)");
    EXPECT_TRUE(fs::exists(d.work() / "provenance.json"));
  }
  EXPECT_EQ(slurp(out / "thesis.tex"), "chapter 1");
  EXPECT_EQ(slurp(t_ / "out2" / "thesis.tex"), "chapter 2");
}

TEST_F(RunDir, MarkedAncestorOfTheCurrentDirectoryIsRefused) {
  make_run(t_ / "a");
  EXPECT_EQ(error_of([&] { RunDirectory d(t_ / "a", true, prot_); }),
            "output directory '" + (t_ / "a").string() +
                "' exists and is not replaced, not even with --force: it contains the current directory; choose "
                "another with -o");
  EXPECT_TRUE(fs::exists(prot_.cwd));
  EXPECT_FALSE(fs::exists(t_ / "a.incomplete"));
}

// ---- a full disk -------------------------------------------------------------------------

TEST_F(RunDir, FullDiskIsReportedAsSuchWithThePath) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  EXPECT_EQ(tme::disk_full_message("x/y.csv", ENOSPC), "no space left on device: x/y.csv");
  EXPECT_EQ(tme::disk_full_message("x/y.csv", EDQUOT), "no space left on device: x/y.csv");
  EXPECT_EQ(tme::disk_full_message(t_ / "y.csv", EACCES), "");  // the scratch directory has room
  // Each writer's temporary file is a link to /dev/full, where every write fails with ENOSPC.
  const fs::path csv = t_ / "observables.csv", vti = t_ / "fields_0000.vti", pvd = t_ / "fields.pvd";
  for (const fs::path& p : {csv, vti, pvd}) fs::create_symlink("/dev/full", p.string() + ".tmp");
  EXPECT_EQ(error_of([&] { tme::write_text_atomic(csv, std::string(1 << 16, 'x')); }),
            "no space left on device: " + csv.string());
  tme::GridSpec g;
  g.d = {8, 8, 8};
  std::vector<tme::real> v(512, 1);
  EXPECT_EQ(error_of([&] {
              tme::write_vti(vti.string(), g, {{"A [nM]", v.data()}}, 0.0);
            }),
            "no space left on device: " + vti.string());
  EXPECT_EQ(error_of([&] {
              tme::write_pvd(pvd.string(), {{0.0, "fields_0000.vti"}});
            }),
            "no space left on device: " + pvd.string());
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "home"}));  // links removed, nothing half-written
}

// ---- end to end through the tmesim program --------------------------------------------------

using tme::test::Result;

// Runs tmesim in directory `cwd` (with HOME set to `home` when given).
Result tmesim(const std::string& args, const fs::path& cwd, const fs::path& home = {}) {
  return tme::test::run_shell(TMESIM_BINARY, args, cwd, home.empty() ? "" : "HOME='" + home.string() + "' ",
                              cwd / "..");
}

const std::string kScene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_small.yaml";

// cli_small shortened to 20 steps and 3 volumes, written into `dir`; returns its path.
std::string short_scene(const fs::path& dir) {
  std::string s = slurp(kScene);
  s.replace(s.find("end: 100 s"), 10, "end: 1 s");
  s.replace(s.find("output_every: 25 s"), 18, "output_every: 0.5 s");
  put(dir / "short.yaml", s);
  return (dir / "short.yaml").string();
}

TEST_F(RunDir, CliForceNeverRemovesAUsersDirectory) {
  const fs::path w = t_ / "w";
  fs::create_directories(w / "mydata");
  put(w / "mydata" / "thesis.tex", "chapter 1");
  const Result r = tmesim("run " + kScene + " -o mydata --force --quiet", w);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: output directory 'mydata' exists and is not replaced, not even with --force: it was not made by "
            "tmesim (no .tmesim-run marker inside); choose another with -o\n");
  EXPECT_EQ(slurp(w / "mydata" / "thesis.tex"), "chapter 1");
  EXPECT_EQ(listing(w), (std::vector<std::string>{"mydata"}));
}

TEST_F(RunDir, CliCurrentParentAndHomeDirectoriesAreRefusedEvenWhenMarked) {
  // The scene beside its user's files, in a directory that even holds a run marker.
  const fs::path w = prot_.cwd;
  fs::copy_file(kScene, w / "scene.yaml");
  put(w / "notes.txt", "keep me");
  make_run(w);
  make_run(prot_.home);
  fs::create_directory_symlink(w, t_ / "link_to_cwd");
  const std::string tail = "; choose another with -o\n";
  const std::string head = "error: output directory '";
  const std::string mid = "' exists and is not replaced, not even with --force: ";
  auto refused = [&](const std::string& o, const std::string& why) {
    const Result r = tmesim("run scene.yaml -o " + o + " --force --quiet", w, prot_.home);
    EXPECT_EQ(r.code, 1) << o;
    EXPECT_EQ(r.err, head + o + mid + why + tail) << o;
  };
  refused(".", "'.' and '..' are never replaced");
  refused("..", "'.' and '..' are never replaced");
  refused(w.string(), "it is the current directory");
  refused((t_ / "link_to_cwd").string(), "it is the current directory");
  refused(t_.string(), "it contains the current directory");
  refused(prot_.home.string(), "it is the home directory");
  EXPECT_EQ(slurp(w / "notes.txt"), "keep me");
  EXPECT_EQ(slurp(w / "scene.yaml"), slurp(kScene));
  EXPECT_TRUE(fs::exists(prot_.home / ".tmesim-run"));
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "home", "link_to_cwd"}));
}

TEST_F(RunDir, CliSceneNameMustBeAPlainFileName) {
  const fs::path w = t_ / "w";
  fs::create_directories(w);
  std::string scene = slurp(kScene);
  const std::string expected = std::string("(expected ") + tme::kRunNameRule + ")\n";
  for (const std::string name : {"/", "..", ".", "../escape", "a/b", "'my run'"}) {
    std::string s = scene;
    s.replace(s.find("name: cli_small"), 15, "name: " + name);
    put(w / "bad.yaml", s);
    const std::string shown = name[0] == '\'' ? name.substr(1, name.size() - 2) : name;
    const std::string msg =
        "error: " + (w / "bad.yaml").string() + ":3:7: name: '" + shown + "' is not a plain file name " + expected;
    const Result v = tmesim("validate bad.yaml", w);
    EXPECT_EQ(v.code, 2) << name;
    EXPECT_EQ(v.err, "error: bad.yaml:3:7: name: '" + shown + "' is not a plain file name " + expected) << name;
    const Result r = tmesim("run " + (w / "bad.yaml").string() + " --force --quiet", w);
    EXPECT_EQ(r.code, 2) << name;
    EXPECT_EQ(r.err, msg) << name;
  }
  EXPECT_EQ(listing(w), (std::vector<std::string>{"bad.yaml"}));  // no runs/ made, nothing removed
  EXPECT_EQ(listing(t_), (std::vector<std::string>{"a", "home", "stderr", "stdout", "w"}));
}

TEST_F(RunDir, CliSecondRunToABusyDirectoryIsRefusedAndAStaleOneReplaced) {
  const fs::path w = t_ / "w";
  fs::create_directories(w);
  put(w / "beside.txt", "user file");
  const std::string scene = short_scene(t_);
  {
    // The first run, held by this test process through the same lock.
    RunDirectory first(w / "out", false, prot_);
    put(first.work() / "fields_0000.vti", "first run's data");
    const tme::RunOwner o = tme::read_run_owner(first.work());
    for (const char* force : {"", " --force"}) {
      const Result r = tmesim("run " + scene + " -o out --quiet" + force, w);
      EXPECT_EQ(r.code, 1);
      EXPECT_EQ(r.err, "error: another run (pid " + std::to_string(::getpid()) + ", started " + o.started + " on " +
                           o.host +
                           ") is writing to 'out.incomplete'; wait for it to end or choose another output "
                           "directory with -o\n");
    }
    EXPECT_EQ(slurp(first.work() / "fields_0000.vti"), "first run's data");
  }  // the first run ends without committing: out.incomplete is stale now
  const Result r = tmesim("run " + scene + " -o out --quiet", w);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(listing(w), (std::vector<std::string>{"beside.txt", "out"}));
  EXPECT_NE(slurp(w / "out" / "fields_0000.vti"), "first run's data");
  EXPECT_TRUE(fs::exists(w / "out" / "fields_0002.vti"));
  EXPECT_TRUE(fs::exists(w / "out" / ".tmesim-run"));
  EXPECT_EQ(slurp(w / "beside.txt"), "user file");
}

TEST_F(RunDir, CliForceReplacesAPreviousRunAndTheDefaultPathStaysInRuns) {
  const fs::path w = t_ / "w";
  fs::create_directories(w);
  put(w / "beside.txt", "user file");
  const std::string scene = short_scene(t_);
  ASSERT_EQ(tmesim("run " + scene + " --quiet", w).code, 0);
  const fs::path run = w / "runs" / "cli_small";
  EXPECT_EQ(listing(w / "runs"), (std::vector<std::string>{"cli_small"}));
  const std::string first = slurp(run / ".tmesim-run");
  put(run / "my_notes.txt", "inside the old run");
  const Result again = tmesim("run " + scene + " --quiet", w);
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err,
            "error: output directory 'runs/cli_small' exists (use --force to replace it, or -o to choose "
            "another)\n");
  const Result forced = tmesim("run " + scene + " --quiet --force", w);
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_EQ(forced.err, "");
  EXPECT_FALSE(fs::exists(run / "my_notes.txt"));
  EXPECT_TRUE(fs::exists(run / "fields_0002.vti"));
  EXPECT_NE(slurp(run / ".tmesim-run"), first);  // another process made it
  EXPECT_EQ(listing(w / "runs"), (std::vector<std::string>{"cli_small"}));
  EXPECT_EQ(listing(w), (std::vector<std::string>{"beside.txt", "runs"}));
}

}  // namespace
