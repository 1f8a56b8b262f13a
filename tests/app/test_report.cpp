// tmesim report: the refusals (exact messages, exit status, nothing written), where the program
// finds viz/report.py, and the page itself: its sections and figures, rendered by headless
// Chromium into a screenshot that is read back and checked for size and content.
#include <gtest/gtest.h>
#include <unistd.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#include <vtkPointData.h>
#include <vtkUnsignedCharArray.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "host/cli/commands.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;
using tme::test::spit;

Result tmesim(const std::string& args, const fs::path& dir, const std::string& prefix = "") {
  return tme::test::run_shell(TMESIM_BINARY, args, dir, prefix);
}

// A directory that passes for a finished run: the marker and provenance.json, nothing else.
fs::path fake_finished_run(const fs::path& where) {
  fs::create_directories(where);
  spit(where / ".tmesim-run", "tmesim run directory\n");
  spit(where / "provenance.json", "{}\n");
  return where;
}

fs::path executable(const fs::path& p, const std::string& text) {
  spit(p, text);
  fs::permissions(p, fs::perms::owner_all);
  return p;
}

bool has_png_signature(const fs::path& p) { return slurp(p).rfind("\x89PNG\r\n\x1a\n", 0) == 0; }

TEST(Report, RefusesWhatIsNotAFinishedRunDirectory) {
  const tme::test::TempDir tmp("tmesim_report_refuse");
  const fs::path& d = tmp.path();
  fs::create_directories(d / "plain");
  spit(d / "file.txt", "x\n");
  fs::create_directories(d / "going.incomplete");
  spit(d / "going.incomplete" / ".tmesim-run", "tmesim run directory\n");
  const struct {
    std::string arg, message;
  } cases[] = {
      {"missing", "tmesim report: 'missing': no such directory\n"},
      {"file.txt", "tmesim report: 'file.txt' is not a directory\n"},
      {"plain", "tmesim report: 'plain' is not a tmesim run directory (no .tmesim-run in it)\n"},
      {"going.incomplete",
       "tmesim report: 'going.incomplete' is not a finished run directory (no provenance.json: the run is going on "
       "or was stopped)\n"},
  };
  for (const auto& c : cases) {
    const Result r = tmesim("report " + c.arg, d);
    EXPECT_EQ(r.code, 2) << c.arg;
    EXPECT_EQ(r.err, c.message);
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(fs::exists(d / "plain" / "report"));
  EXPECT_FALSE(fs::exists(d / "going.incomplete" / "report"));
  EXPECT_EQ(tme::report_refusal((d / "plain").string()),
            "'" + (d / "plain").string() + "' is not a tmesim run directory (no .tmesim-run in it)");
  EXPECT_EQ(tme::report_refusal(fake_finished_run(d / "run").string()), "");
}

TEST(Report, SaysWhichPythonModulesAreMissing) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  const tme::test::TempDir tmp("tmesim_report_modules");
  const fs::path& d = tmp.path();
  fake_finished_run(d / "run");
  // -S: without the site directories, where Debian's numpy, matplotlib and VTK live.
  const fs::path bare = executable(d / "bare-python", "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n");
  Result r = tmesim("report run", d, "TMESIM_PYTHON=" + bare.string() + " ");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "tmesim report: missing Python modules for /usr/bin/python3: numpy (Debian package python3-numpy), "
            "matplotlib (Debian package python3-matplotlib), vtk (Debian package python3-vtk9); "
            "scripts/install-deps installs them\n");
  EXPECT_FALSE(fs::exists(d / "run" / "report"));
  for (const auto& e : fs::directory_iterator(d / "run"))
    EXPECT_EQ(e.path().filename().string().rfind(".report", 0), std::string::npos) << e.path();

  r = tmesim("report run", d, "TMESIM_PYTHON=" + (d / "no-python").string() + " ");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "tmesim report: TMESIM_PYTHON=" + (d / "no-python").string() + ": no such executable\n");
}

TEST(Report, FindsTheScriptBesideTheProgramThenInTheSourceTree) {
  const tme::test::TempDir tmp("tmesim_report_script");
  const fs::path& d = tmp.path();
  fake_finished_run(d / "run");
  // A "python" that prints what it was asked to run.
  const fs::path echo = executable(d / "echo-python", "#!/bin/sh\necho \"$@\"\n");
  const std::string env = "TMESIM_PYTHON=" + echo.string() + " ";
  const fs::path build_copy = fs::path(TMESIM_BINARY).parent_path() / "viz" / "report.py";
  const fs::path source = fs::path(TMESIM_SOURCE_DIR) / "viz" / "report.py";
  ASSERT_TRUE(fs::is_regular_file(build_copy));
  EXPECT_EQ(slurp(build_copy), slurp(source));

  Result r = tmesim("report run", d, env);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, build_copy.string() + " run\n");

  // The program alone in a directory without viz/: the source tree's script.
  fs::create_directories(d / "bin");
  fs::copy_file(TMESIM_BINARY, d / "bin" / "tmesim");
  r = tme::test::run_shell((d / "bin" / "tmesim").string(), "report run", d, env);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, source.string() + " run\n");

  const std::vector<std::string> c = tme::report_script_candidates();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1], source.string());
}

TEST(Report, RunWithoutRadiotherapyOrDrugsSaysSo) {
  const tme::test::TempDir tmp("tmesim_report_plain");
  const fs::path& d = tmp.path();
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_small.yaml";
  Result r = tmesim("run " + scene + " -o run --backend cpu --quiet", d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = tmesim("report run", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote run/report/index.html (1 figure: observables.png)\n");
  const std::string html = slurp(d / "run" / "report" / "index.html");
  for (const char* s : {"No radiotherapy in this run (no &#x27;dose [Gy]&#x27; array in fields_0004.vti).",
                        "No radiotherapy in this run (no delivered_schedule.csv).",
                        "No drugs in this run (no drug_doses.csv).", "<img src=\"observables.png\""})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  EXPECT_EQ(html.find("dose_slices.png"), std::string::npos);
}

// The first executable `name` in PATH, or "".
std::string in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string s = path ? path : "";
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(':', start);
    const fs::path c = fs::path(s.substr(start, end == std::string::npos ? std::string::npos : end - start)) / name;
    if (::access(c.c_str(), X_OK) == 0) return c.string();
    if (end == std::string::npos) return "";
    start = end + 1;
  }
}

TEST(Report, PageHasEverySectionAndRendersInChromium) {
  const tme::test::TempDir tmp("tmesim_report_page");
  const fs::path& d = tmp.path();
  // One 20 Gy fraction at t = 1 d; two days are enough for a dose, its DVH and the schedule.
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/rt_single.yaml";
  Result r = tmesim("run " + scene + " -o run --backend cpu --quiet --until '2 d'", d);
  ASSERT_EQ(r.code, 0) << r.err;
  for (int pass = 0; pass < 2; ++pass) {  // the second replaces the first report
    r = tmesim("report run", d);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "wrote run/report/index.html (3 figures: observables.png, dose_slices.png, dvh.png)\n");
  }
  for (const auto& e : fs::directory_iterator(d / "run"))
    EXPECT_EQ(e.path().filename().string().rfind(".report", 0), std::string::npos) << e.path();

  const fs::path page = d / "run" / "report" / "index.html";
  const std::string html = slurp(page);
  for (const char* s :
       {"<h1>tmesim report: run</h1>", "<section id=\"provenance\"><h2>Provenance</h2>",
        "<section id=\"observables\"><h2>Observables</h2>", "<section id=\"dose-slices\"><h2>Dose slices</h2>",
        "<section id=\"dvh\"><h2>Dose-volume histograms</h2>", "<section id=\"schedule\"><h2>Delivered schedule</h2>",
        "<section id=\"drug-doses\"><h2>Drug doses</h2>", "<section id=\"totals\"><h2>Cell totals</h2>",
        "<section id=\"scene\"><h2>Resolved scene</h2>", "<details><summary>scene.resolved.yaml",
        "<td>backend</td><td>cpu</td>", "<th>prescribed_Gy</th>", "<td>tumour</td>", "maximum 20 Gy",
        "No drugs in this run (no drug_doses.csv).", "<th>t = 0 h [cells]</th><th>t = 48 h [cells]</th>",
        // 1.5e5 cells/mm^3 in the 2176 voxels of (75 um)^3 of the tumour: 1.377e5 cells.
        "<tr><td>T</td><td>tumour</td><td>1.377e+05</td>"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  // Every image is a PNG beside the page, and every PNG there is shown.
  std::set<std::string> shown;
  // (string search, not std::regex: GCC 12's -Wmaybe-uninitialized fires inside <regex> in the
  // sanitizer build, which turns warnings into errors)
  const std::string tag = "<img src=\"";
  for (size_t at = html.find(tag); at != std::string::npos; at = html.find(tag, at + 1)) {
    const size_t from = at + tag.size(), to = html.find('"', from);
    ASSERT_NE(to, std::string::npos);
    const std::string src = html.substr(from, to - from);
    EXPECT_TRUE(has_png_signature(page.parent_path() / src)) << src;
    shown.insert(src);
  }
  EXPECT_EQ(shown, (std::set<std::string>{"observables.png", "dose_slices.png", "dvh.png"}));

  const std::string chromium = in_path("chromium");
  if (chromium.empty()) GTEST_SKIP() << "no chromium in PATH (scripts/install-deps installs it)";
  // Chromium puts a socket in its TMPDIR, whose path must fit in 107 bytes: a directory with a
  // short name.
  const tme::test::TempDir ctmp("c");
  const fs::path shot = d / "shot.png";
  r = tme::test::run_shell(
      chromium,
      "--headless --disable-gpu --no-sandbox --user-data-dir=" + (d / "chromium-profile").string() +
          " --screenshot=" + shot.string() + " --window-size=1200,3000 file://" + page.string(),
      d, "TMPDIR=" + ctmp.string() + " HOME=" + d.string() + " ");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(has_png_signature(shot));
  vtkNew<vtkPNGReader> png;
  png->SetFileName(shot.c_str());
  png->Update();
  int dims[3];
  png->GetOutput()->GetDimensions(dims);
  EXPECT_EQ(dims[0], 1200);
  EXPECT_EQ(dims[1], 3000);
  auto* px = vtkUnsignedCharArray::SafeDownCast(png->GetOutput()->GetPointData()->GetScalars());
  ASSERT_NE(px, nullptr);
  const int nc = px->GetNumberOfComponents();
  ASSERT_GE(nc, 3);
  std::set<unsigned> colours;
  long long not_white = 0;
  const long long n = px->GetNumberOfTuples();
  for (long long i = 0; i < n; ++i) {
    const unsigned char* p = px->GetPointer(i * nc);
    colours.insert(unsigned(p[0]) << 16 | unsigned(p[1]) << 8 | p[2]);
    not_white += (p[0] < 250 || p[1] < 250 || p[2] < 250);
  }
  // Text, tables and three figures (a viridis dose map among them): thousands of colours, and
  // well over a tenth of the page not white.
  EXPECT_GT(colours.size(), 1000u);
  EXPECT_GT(double(not_white) / double(n), 0.1);
}

}  // namespace
