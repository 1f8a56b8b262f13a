// Slow (label "slow"): every radiotherapy example scene in scenes/ (one per schedule type, on
// the lean model scenes/models/rt_lean.yaml) runs with the tmesim program and writes what
// docs/radiotherapy.md promises: the delivered schedule (fraction count, times, plans, doses),
// provenance.json's fraction count, and volumes that carry the dose, BED and survival fields
// for ParaView. scenes/sarcoma_rt_antipd1.yaml is left out: it takes minutes.
// Needs the tmesim program (TMESIM_BINARY, defined when the app is built); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::kBinary;
using tme::test::kSourceDir;

#define NEED_TMESIM()                                                                  \
  do {                                                                                 \
    if (!kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)"; \
  } while (0)

using tme::test::slurp;

// One row of delivered_schedule.csv
// (time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy).
struct Row {
  double time_s = 0, prescribed_Gy = 0, mean_Gy = 0, max_Gy = 0;
  std::string plan_name, scope;
};

std::vector<Row> read_schedule(const fs::path& p) {
  std::istringstream in(slurp(p));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy");
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) c.push_back(cell);
    if (c.size() != 10) {
      ADD_FAILURE() << "bad row: " << line;
      continue;
    }
    Row r;
    r.time_s = std::stod(c[0]);
    r.plan_name = c[3];
    r.prescribed_Gy = std::stod(c[4]);
    r.scope = c[5];
    r.mean_Gy = std::stod(c[7]);
    r.max_Gy = std::stod(c[9]);
    rows.push_back(r);
  }
  return rows;
}

std::vector<Row> scope_rows(const std::vector<Row>& rows, const std::string& scope) {
  std::vector<Row> out;
  for (const Row& r : rows)
    if (r.scope == scope) out.push_back(r);
  return out;
}

struct SceneRun {
  std::vector<Row> rows;    // delivered_schedule.csv
  std::vector<Row> lesion;  // its rows with scope 'grid' (the whole grid): one per fraction
};

// Runs scenes/<name>.yaml into a fresh temporary directory and checks what every example
// scene writes: exit code 0, `volumes` volumes (fields_0000 ... ) and fields.pvd, the
// radiotherapy arrays in the volume of day 1, and `fractions` fractions in the delivered
// schedule and in provenance.json.
SceneRun run_scene(const std::string& name, int fractions, int volumes) {
  SceneRun run;
  const tme::test::TempDir tmp("tmesim_examples_" + name);  // removed on return
  const fs::path dir = tmp / "run";
  const std::string scene = std::string(kSourceDir) + "/scenes/" + name + ".yaml";
  // GNU OpenMP spins while it waits for work; on a busy 2-core machine (ctest -j, builds) that
  // makes these runs 10x slower. Passive waiting changes no result. A value set outside wins.
  const tme::test::Result r =
      tme::test::run_shell(kBinary, "run " + scene + " -o " + dir.string() + " --backend cpu --quiet", tmp.path(),
                           "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} ");
  EXPECT_EQ(r.code, 0) << name << "\n" << r.err;
  if (r.code != 0) return run;

  EXPECT_TRUE(fs::exists(dir / "fields.pvd"));
  char last[32];
  std::snprintf(last, sizeof last, "fields_%04d.vti", volumes - 1);
  EXPECT_TRUE(fs::exists(dir / last)) << last;
  std::snprintf(last, sizeof last, "fields_%04d.vti", volumes);
  EXPECT_FALSE(fs::exists(dir / last)) << last;

  // The .vti header is plain XML before the appended (binary) data.
  std::string vti = slurp(dir / "fields_0001.vti");
  const size_t appended = vti.find("<AppendedData");
  EXPECT_NE(appended, std::string::npos);
  vti = vti.substr(0, appended);
  for (const char* array : {"Name=\"dose [Gy]\"", "Name=\"BED [Gy]\"", "Name=\"EQD2 [Gy]\"", "Name=\"survival_T [1]\"",
                            "Name=\"survival_CD8 [1]\"", "Name=\"T [cells/mm^3]\"", "Name=\"IFN1 [pg/mL]\""})
    EXPECT_NE(vti.find(array), std::string::npos) << array;

  run.rows = read_schedule(dir / "delivered_schedule.csv");
  run.lesion = scope_rows(run.rows, "grid");
  EXPECT_EQ((int)run.lesion.size(), fractions);
  const std::string prov = slurp(dir / "provenance.json");
  const std::string key = "\"fractions_delivered\": " + std::to_string(fractions) + ",";
  EXPECT_NE(prov.find(key), std::string::npos) << key << "\n" << prov;
  return run;
}

constexpr double kDay = 86400, kHour = 3600;

TEST(ExampleScenes, Conventional) {
  NEED_TMESIM();
  // 50 Gy in 25 x 2 Gy, Monday to Friday 09:00 from Monday t = 1 d (t = 0 is a Sunday 09:00).
  const SceneRun r = run_scene("rt_conventional", 25, 39);
  ASSERT_EQ(r.lesion.size(), 25u);
  EXPECT_EQ(r.lesion[0].time_s, 1 * kDay);
  EXPECT_EQ(r.lesion[4].time_s, 5 * kDay);    // Friday
  EXPECT_EQ(r.lesion[5].time_s, 8 * kDay);    // Monday of week 2
  EXPECT_EQ(r.lesion[24].time_s, 33 * kDay);  // Friday of week 5
  for (const Row& x : r.lesion) EXPECT_EQ(x.prescribed_Gy, 2.0);
  EXPECT_NEAR(r.lesion[0].max_Gy, 2.0, 1e-3);
}

TEST(ExampleScenes, Sbrt) {
  NEED_TMESIM();
  // 24 Gy in 3 x 8 Gy, 3 a week: Monday, Wednesday, Friday.
  const SceneRun r = run_scene("rt_sbrt", 3, 15);
  ASSERT_EQ(r.lesion.size(), 3u);
  EXPECT_EQ(r.lesion[0].time_s, 1 * kDay);
  EXPECT_EQ(r.lesion[1].time_s, 3 * kDay);
  EXPECT_EQ(r.lesion[2].time_s, 5 * kDay);
  for (const Row& x : r.lesion) EXPECT_EQ(x.prescribed_Gy, 8.0);
  const auto tumour = scope_rows(r.rows, "tumour");
  ASSERT_EQ(tumour.size(), 3u);
  EXPECT_GT(tumour[0].mean_Gy, 7.0);  // the lesion is inside the 8 Gy sphere (with a margin)
}

TEST(ExampleScenes, Single) {
  NEED_TMESIM();
  // 1 x 20 Gy at the first treatment-day slot, Monday 09:00.
  const SceneRun r = run_scene("rt_single", 1, 15);
  ASSERT_EQ(r.lesion.size(), 1u);
  EXPECT_EQ(r.lesion[0].time_s, 1 * kDay);
  EXPECT_EQ(r.lesion[0].prescribed_Gy, 20.0);
  EXPECT_NEAR(r.lesion[0].max_Gy, 20.0, 1e-2);
}

TEST(ExampleScenes, TwiceDaily) {
  NEED_TMESIM();
  // 45 Gy in 30 x 1.5 Gy, 09:00 and 15:00 on weekdays for 3 weeks.
  const SceneRun r = run_scene("rt_twice_daily", 30, 25);
  ASSERT_EQ(r.lesion.size(), 30u);
  EXPECT_EQ(r.lesion[0].time_s, 1 * kDay);
  EXPECT_EQ(r.lesion[1].time_s, 1 * kDay + 6 * kHour);
  EXPECT_EQ(r.lesion[10].time_s, 8 * kDay);               // Monday of week 2
  EXPECT_EQ(r.lesion[29].time_s, 19 * kDay + 6 * kHour);  // Friday 15:00 of week 3
  for (const Row& x : r.lesion) EXPECT_EQ(x.prescribed_Gy, 1.5);
}

TEST(ExampleScenes, ExplicitFile) {
  NEED_TMESIM();
  // Explicit times and doses on the total-dose map maps/rt_dose_example.vti (24 Gy sphere plus
  // a 0.6 Gy bath, the plan sum of 4 x 6 Gy) with scale 0.25 and per_fraction 6 Gy: a 6 Gy
  // fraction delivers (24 + 0.6) / 4 = 6.15 Gy at most, the 4 Gy one 4/6 of that.
  const SceneRun r = run_scene("rt_explicit_file", 4, 15);
  ASSERT_EQ(r.lesion.size(), 4u);
  const double t[4] = {1 * kDay, 2 * kDay + 6 * kHour, 5 * kDay, 8 * kDay + 3 * kHour};
  const double d[4] = {6, 6, 6, 4};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r.lesion[i].time_s, t[i]) << i;
    EXPECT_EQ(r.lesion[i].prescribed_Gy, d[i]) << i;
    EXPECT_NEAR(r.lesion[i].max_Gy, 6.15 * d[i] / 6, 2e-3) << i;
  }
}

TEST(ExampleScenes, TwoPlans) {
  NEED_TMESIM();
  // high_A: 3 x 8 Gy Monday, Wednesday, Friday to lesion_A; low_B: 4 x 0.5 Gy Monday to
  // Thursday to lesion_B; at equal times the plans deliver in plan order.
  const SceneRun r = run_scene("rt_two_plans", 7, 15);
  ASSERT_EQ(r.lesion.size(), 7u);
  const double t[7] = {1, 1, 2, 3, 3, 4, 5};
  const char* plan[7] = {"high_A", "low_B", "low_B", "high_A", "low_B", "low_B", "high_A"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(r.lesion[i].time_s, t[i] * kDay) << i;
    EXPECT_EQ(r.lesion[i].plan_name, plan[i]) << i;
    EXPECT_EQ(r.lesion[i].prescribed_Gy, plan[i][0] == 'h' ? 8.0 : 0.5) << i;
  }
  // Each plan reaches its own lesion only.
  const auto a = scope_rows(r.rows, "lesion_A"), b = scope_rows(r.rows, "lesion_B");
  ASSERT_EQ(a.size(), 7u);
  ASSERT_EQ(b.size(), 7u);
  EXPECT_GT(a[0].mean_Gy, 7.0);
  EXPECT_LT(b[0].max_Gy, 0.01);
  EXPECT_LT(a[1].max_Gy, 0.01);
  EXPECT_GT(b[1].mean_Gy, 0.4);
}

}  // namespace
