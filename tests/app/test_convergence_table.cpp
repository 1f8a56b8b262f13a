// scripts/convergence-table on two tiny run directories made here: a uniform field of one species
// (no gradient, no decay, no-flux walls, so every step keeps it exactly at its initial value),
// once from 1 nM and once from 2 nM. The table's numbers are then exact: the relative L2
// difference of the 2 nM run against the 1 nM one is 100%, of the 1 nM run against the 2 nM one
// 50%. A scene without the CD8 and burden columns leaves them out with a note; with the
// columns (added to observables.csv by hand, as a model scene writes them) the table keeps them;
// a run without a column the reference has is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;
using tme::test::spit;
using tme::test::TempDir;

const std::string kScript = std::string(TMESIM_SOURCE_DIR) + "/scripts/convergence-table";

// 1 h, volumes at 0, 30 min and 1 h; the region's mask (region_corner, uint8, the same in
// every run) is in the volumes but is not a field and is not compared.
const char* kScene =
    "name: uniform\n"
    "grid: {shape: [4, 4, 4], spacing: 20 um}\n"
    "regions: {corner: {box: {min: [0 um, 0 um, 0 um], max: [40 um, 40 um, 40 um]}}}\n"
    "time: {end: 1 h, output_every: 30 min, integrator: be, step: 10 min}\n"
    "species:\n"
    "  - {name: A, unit: nM, diffusion: 10 um^2/s, initial: {constant: 1 nM}}\n";

bool has_modules() {
  return std::system("/usr/bin/python3 -c 'import numpy, vtkmodules.vtkIOXML' >/dev/null 2>&1") == 0;
}

void make_run(const fs::path& dir, const std::string& name, const std::string& initial) {
  const Result r = tme::test::run_shell(
      TMESIM_BINARY, "run uniform.yaml -q -o " + name + " --set 'species[A].initial={constant: " + initial + "}'", dir,
      "OMP_NUM_THREADS=1 ");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
}

Result table(const fs::path& dir, const std::string& args) {
  return tme::test::run_shell("/usr/bin/python3 " + kScript, args, dir);
}

// The row of `label` up to its run time (the last cell, which varies from run to run).
std::string row_before_time(const std::string& out, const std::string& label) {
  const size_t at = out.find("\n| " + label + " |");
  if (at == std::string::npos) return "no row '" + label + "' in:\n" + out;
  const size_t end = out.find('\n', at + 1);
  const std::string row = out.substr(at + 1, end - at - 1);
  return row.substr(0, row.rfind(" | ") + 3);
}

// Appends CD8 and burden columns with the given values to every row of DIR/observables.csv.
void add_counts(const fs::path& run, double cd8, double burden) {
  const std::string text = slurp(run / "observables.csv");
  std::string out;
  size_t from = 0;
  bool header = true;
  while (from < text.size()) {
    const size_t nl = text.find('\n', from);
    out += text.substr(from, nl - from);
    out +=
        header ? ",CD8.tumour.total [cells],burden [cells]" : "," + std::to_string(cd8) + "," + std::to_string(burden);
    out += "\n";
    header = false;
    from = nl + 1;
  }
  spit(run / "observables.csv", out);
}

TEST(ConvergenceTable, SceneWithoutCountsLeavesThemOutAndGivesExactDifferences) {
  if (!has_modules()) GTEST_SKIP() << "no numpy or VTK module for /usr/bin/python3";
  const TempDir dir("tmesim_convergence_table");
  spit(dir / "uniform.yaml", kScene);
  make_run(dir.path(), "one", "1 nM");
  make_run(dir.path(), "two", "2 nM");
  spit(dir / "two" / "load.txt", "load 1.5\n");
  const Result r = table(dir.path(),
                         "one two --hour 0.5 --hour 1 --observe 'A.grid.mean [nM]' --lowest 'A.grid.min [nM]' "
                         "--threshold 0 --label two=doubled");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("Reference: one (", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("); A.grid.mean [nM] 1 at 1 h; lowest A.grid.min [nM] 1\n\n"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find("\n| run | end day | A.grid.mean [nM] at end (vs ref.) | lowest A.grid.min [nM] | fields over "
                 "0% rel. L2, 0.5 h | fields over 0% rel. L2, 1 h | run time |\n|---|---:|---:|---:|---|---|---:|\n"),
      std::string::npos)
      << r.out;
  EXPECT_EQ(row_before_time(r.out, "doubled"), "| doubled | 0.0416667 | 2 (+100%) | 2 | A 100% | A 100% | ");
  // the run time: provenance.json's wall time, then load.txt
  EXPECT_NE(r.out.find(" s (load 1.5) |\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n\nLeft out (no such column in the reference's observables.csv): 'CD8.tumour.total "
                       "[cells]', 'burden [cells]'\n"),
            std::string::npos)
      << r.out;

  // the other way round, at the default threshold (2%): -50%, and the field listed above it
  const Result back = table(dir.path(), "two one --hour 1 --observe 'A.grid.mean [nM]'");
  ASSERT_EQ(back.code, 0) << back.out << back.err;
  EXPECT_EQ(row_before_time(back.out, "one"), "| one | 0.0416667 | 1 (-50%) | A 50% | ");
}

TEST(ConvergenceTable, KeepsCd8AndBurdenWhenTheReferenceHasThem) {
  if (!has_modules()) GTEST_SKIP() << "no numpy or VTK module for /usr/bin/python3";
  const TempDir dir("tmesim_convergence_table_counts");
  spit(dir / "uniform.yaml", kScene);
  make_run(dir.path(), "ref", "1 nM");
  make_run(dir.path(), "more", "1 nM");
  make_run(dir.path(), "bare", "1 nM");
  add_counts(dir / "ref", 200, 1000);
  add_counts(dir / "more", 220, 990);
  // no --day or --hour: days 8 and 21, both past the end, so both compare at the last volume
  const Result r = table(dir.path(), "ref more");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\n| run | end day | CD8 | burden | fields over 2% rel. L2, day 0.0416667 | fields over 2% "
                       "rel. L2, day 0.0416667 | run time |\n|---|---:|---:|---:|---|---|---:|\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(row_before_time(r.out, "more"), "| more | 0.0416667 | +10.00% | -1.00% | none (A 0%) | none (A 0%) | ");
  EXPECT_EQ(r.out.find("Left out (no such column"), std::string::npos) << r.out;

  const Result missing = table(dir.path(), "ref bare");
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "convergence-table: bare/observables.csv: no column 'CD8.tumour.total [cells]'\n");
}

}  // namespace
