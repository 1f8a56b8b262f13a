// tmesim compare: two real runs side by side (compare.csv equals their observables.csv values
// exactly, the PNGs are PNGs of the size compare.json gives, with one line per arm and the
// fraction marks), the multi-lesion layout from run directories written by hand (whole files
// and the summary checked), and the refusals with their exact messages.
#include <gtest/gtest.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;
using tme::test::spit;

Result tmesim(const std::string& args, const fs::path& dir) { return tme::test::run_shell(TMESIM_BINARY, args, dir); }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

// Rows of a CSV without quoted fields (the header first).
std::vector<std::vector<std::string>> csv_rows(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : split(slurp(p), '\n'))
    if (!line.empty()) rows.push_back(split(line, ','));
  return rows;
}

bool has_png_signature(const fs::path& p) { return slurp(p).rfind("\x89PNG\r\n\x1a\n", 0) == 0; }

// Width and height of a PNG, read back with VTK.
std::pair<int, int> png_size(const fs::path& p) {
  vtkNew<vtkPNGReader> png;
  png->SetFileName(p.c_str());
  png->Update();
  int dims[3];
  png->GetOutput()->GetDimensions(dims);
  return {dims[0], dims[1]};
}

// The text between `"key": ` and the next ',' or '\n' after `from` in compare.json (indent=1).
std::string json_after(const std::string& json, const std::string& key, size_t& from) {
  const std::string k = "\"" + key + "\": ";
  const size_t at = json.find(k, from);
  if (at == std::string::npos) return "<no " + key + ">";
  const size_t b = at + k.size();
  const size_t e = json.find_first_of(",\n", b);
  from = e;
  return json.substr(b, e - b);
}

// A finished run directory written by hand. lesions: name -> observables.csv text; an empty
// name is the single-lesion layout.
fs::path hand_run(const fs::path& where, const std::map<std::string, std::string>& lesions,
                  const std::string& schedule = "", const std::string& drugs = "") {
  fs::create_directories(where);
  spit(where / ".tmesim-run", "tmesim run directory\n");
  spit(where / "provenance.json", "{}\n");
  for (const auto& [name, obs] : lesions) {
    const fs::path d = name.empty() ? where : where / "lesions" / name;
    fs::create_directories(d);
    spit(d / "observables.csv", obs);
    // Lesion "right" is outside the field: the same fraction, 0 Gy.
    if (!schedule.empty())
      spit(
          d / "delivered_schedule.csv",
          name == "right" ? schedule.substr(0, schedule.find('\n') + 1) + "3600,1,0,sbrt,8,grid,10,0,0,0\n" : schedule);
  }
  if (!drugs.empty()) spit(where / "drug_doses.csv", drugs);
  return where;
}

TEST(Compare, TwoRealRunsSideBySide) {
  const tme::test::TempDir tmp("tmesim_compare_real");
  const fs::path& d = tmp.path();
  // cli_rt: 2 Gy at 12 h and 8 Gy at 36 h on 8x8x4 voxels for 2 days; the second arm gets a
  // five times higher prescription.
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_rt.yaml";
  Result r = tmesim("run " + scene + " -o low --backend cpu --quiet", d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = tmesim(
      "run " + scene +
          " -o high --backend cpu --quiet --set 'radiotherapy.plans[uniform].dose.targets[0].prescription=10 Gy'",
      d);
  ASSERT_EQ(r.code, 0) << r.err;

  const std::string cols = " --column 'tumour.grid.total [cells]' --column CD8.left.total";
  r = tmesim("compare low high" + cols + " --label high=10Gy", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(split(r.out, '\n').size(), 5u) << r.out;
  EXPECT_EQ(split(r.out, '\n')[0],
            "wrote compare/ (compare.csv, events.csv, tumour.grid.total_cells.png, CD8.left.total_cells.png, "
            "compare.json): 2 arms, 1 lesion");
  EXPECT_EQ(split(r.out, '\n')[1], "tumour.grid.total [cells]:");

  // compare.csv: the observables.csv text of each arm, unchanged.
  const auto rows = csv_rows(d / "compare" / "compare.csv");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"time_s", "arm", "lesion", "tumour.grid.total [cells]",
                                               "CD8.left.total [cells]"}));
  size_t at = 1;
  std::map<std::string, std::vector<double>> tumour;
  for (const auto& [run, label] : {std::pair{"low", "low"}, std::pair{"high", "10Gy"}}) {
    const auto obs = csv_rows(d / run / "observables.csv");
    ASSERT_EQ(obs.size(), 4u) << run;  // header and t = 0, 1, 2 d
    size_t ct = 0, cc = 0;
    for (size_t k = 0; k < obs[0].size(); ++k) {
      if (obs[0][k] == "tumour.grid.total [cells]") ct = k;
      if (obs[0][k] == "CD8.left.total [cells]") cc = k;
    }
    ASSERT_GT(ct, 0u);
    ASSERT_GT(cc, 0u);
    for (size_t i = 1; i < obs.size(); ++i, ++at) {
      ASSERT_LT(at, rows.size());
      EXPECT_EQ(rows[at], (std::vector<std::string>{obs[i][0], label, "-", obs[i][ct], obs[i][cc]}));
      EXPECT_EQ(std::stod(rows[at][3]), std::stod(obs[i][ct]));
      tumour[label].push_back(std::stod(obs[i][ct]));
    }
  }
  EXPECT_EQ(at, rows.size());
  // The arms differ: more dose, fewer tumour cells at the end.
  EXPECT_LT(tumour["10Gy"].back(), tumour["low"].back());

  // The summary: start, minimum (at 2 d), end, end relative to the first arm.
  const auto g4 = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v);
    return std::string(b);
  };
  const std::vector<std::string> out = split(r.out, '\n');
  const auto cells = [](const std::string& line) {
    std::vector<std::string> c;
    std::istringstream in(line);
    for (std::string w; in >> w;) c.push_back(w);
    return c;
  };
  EXPECT_EQ(cells(out[2]), (std::vector<std::string>{"arm", "lesion", "start", "minimum", "min", "at", "[h]", "end",
                                                     "end", "/", "first", "arm's", "end"}));
  EXPECT_EQ(cells(out[3]), (std::vector<std::string>{"low", "-", g4(tumour["low"][0]), g4(tumour["low"][2]), "48",
                                                     g4(tumour["low"][2]), "1"}));
  EXPECT_EQ(cells(out[4]), (std::vector<std::string>{"10Gy", "-", g4(tumour["10Gy"][0]), g4(tumour["10Gy"][2]), "48",
                                                     g4(tumour["10Gy"][2]), g4(tumour["10Gy"][2] / tumour["low"][2])}));

  // events.csv: both fractions of each arm, with the prescription (the plan's fraction dose)
  // and the largest dose the lesion's grid got (five times more in the second arm).
  EXPECT_EQ(slurp(d / "compare" / "events.csv"),
            "arm,lesion,event,time_s,detail\n"
            "low,-,fraction,43200,\"plan uniform, 2 Gy prescribed, max 2 Gy in the lesion\"\n"
            "low,-,fraction,129600,\"plan uniform, 8 Gy prescribed, max 8 Gy in the lesion\"\n"
            "10Gy,-,fraction,43200,\"plan uniform, 2 Gy prescribed, max 10 Gy in the lesion\"\n"
            "10Gy,-,fraction,129600,\"plan uniform, 8 Gy prescribed, max 40 Gy in the lesion\"\n");

  // The plots: PNGs of the size compare.json gives (one panel: 700 x 450 px), and in it two
  // lines of 3 points and two fraction marks per arm, no drug marks.
  const std::string json = slurp(d / "compare" / "compare.json");
  size_t from = json.find("\"plots\"");
  for (const char* png : {"tumour.grid.total_cells.png", "CD8.left.total_cells.png"}) {
    const fs::path p = d / "compare" / png;
    ASSERT_TRUE(has_png_signature(p)) << png;
    EXPECT_EQ(png_size(p), (std::pair<int, int>{700, 450})) << png;
    EXPECT_EQ(json_after(json, "file", from), "\"" + std::string(png) + "\"");
    EXPECT_EQ(json_after(json, "width_px", from), "700");
    EXPECT_EQ(json_after(json, "height_px", from), "450");
    EXPECT_EQ(json_after(json, "lesion", from), "\"-\"");
    for (const char* arm : {"\"low\"", "\"10Gy\""}) {
      EXPECT_EQ(json_after(json, "arm", from), arm);
      EXPECT_EQ(json_after(json, "points", from), "3");
    }
    EXPECT_EQ(json.substr(json.find("\"fraction_marks\"", from), 59),
              "\"fraction_marks\": {\n      \"low\": 2,\n      \"10Gy\": 2\n     },");
    EXPECT_EQ(json_after(json, "drug_marks", from), "{}");
  }
  // Nothing but the output is left beside it.
  for (const auto& e : fs::directory_iterator(d))
    EXPECT_EQ(e.path().filename().string().rfind(".compare", 0), std::string::npos) << e.path();

  // Again: refused without --force, replaced with it.
  r = tmesim("compare low high" + cols, d);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "tmesim compare: 'compare' exists; give --force to replace it, or -o another directory\n");
  r = tmesim("compare high low --force" + cols, d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(csv_rows(d / "compare" / "compare.csv")[1][1], "high");
}

// Two lesions of 8x8x4 voxels, 10 mm apart: the plan (cli_rt's) covers lesion 'right' only.
// Listed right first, so the scene's order is not the order of the names.
const char* const kTwoLesions = R"(name: two_small
time: {end: 2 d, output_every: 1 d, integrator: lod, step: 1 h}
lesions:
  - name: right
    grid: {shape: [8, 8, 4], spacing: 20 um}
  - name: left
    grid: {shape: [8, 8, 4], spacing: 20 um, origin: [10 mm, 0 mm, 0 mm]}
species:
  - {name: tumour, unit: cells/mm^3, diffusion: 0 um^2/s, initial: {constant: 1e5 cells/mm^3}}
  - {name: doomed, unit: cells/mm^3, diffusion: 0 um^2/s}
radiotherapy:
  alpha_beta: {default: 10 Gy}
  response:
    - {population: tumour, alpha: 0.146 1/Gy, beta: 0.0146 1/Gy^2, doomed: doomed}
  plans:
    - name: uniform
      dose: {targets: [{box: {min: [-1 mm, -1 mm, -1 mm], max: [1 mm, 1 mm, 1 mm]}, prescription: 2 Gy}]}
      per_fraction: 2 Gy
      schedule: {list: [{time: 12 h}, {time: 36 h, dose: 8 Gy}]}
)";

TEST(Compare, TwoRealMultiLesionRuns) {
  const tme::test::TempDir tmp("tmesim_compare_real_lesions");
  const fs::path& d = tmp.path();
  spit(d / "two.yaml", kTwoLesions);
  Result r = tmesim("run two.yaml -o a --backend cpu --quiet", d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = tmesim(
      "run two.yaml -o b --backend cpu --quiet --set 'radiotherapy.plans[uniform].dose.targets[0].prescription=4 Gy'",
      d);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(fs::is_regular_file(d / "a" / "lesions" / "left" / "observables.csv"));
  r = tmesim("compare a b --column tumour.grid.total", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // compare.csv: each lesion's observables.csv text, lesions in the scene's order.
  const auto rows = csv_rows(d / "compare" / "compare.csv");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"time_s", "arm", "lesion", "tumour.grid.total [cells]"}));
  size_t at = 1;
  std::map<std::string, double> end;
  for (const char* run : {"a", "b"})
    for (const char* lesion : {"right", "left"}) {
      const auto obs = csv_rows(d / run / "lesions" / lesion / "observables.csv");
      ASSERT_EQ(obs.size(), 4u);
      ASSERT_EQ(obs[0][1], "tumour.grid.total [cells]");
      for (size_t i = 1; i < obs.size(); ++i, ++at) {
        ASSERT_LT(at, rows.size());
        EXPECT_EQ(rows[at], (std::vector<std::string>{obs[i][0], run, lesion, obs[i][1]}));
      }
      end[std::string(run) + "/" + lesion] = std::stod(obs.back()[1]);
    }
  EXPECT_EQ(at, rows.size());
  // The lesion outside the field keeps its cells in both arms; the one inside loses more with
  // the higher prescription.
  EXPECT_EQ(end["a/left"], end["b/left"]);
  EXPECT_LT(end["b/right"], end["a/right"]);
  EXPECT_LT(end["a/right"], end["a/left"]);
  // Fractions: the dose in lesion right, 0 Gy in lesion left (faint marks there).
  EXPECT_EQ(slurp(d / "compare" / "events.csv"),
            "arm,lesion,event,time_s,detail\n"
            "a,right,fraction,43200,\"plan uniform, 2 Gy prescribed, max 2 Gy in the lesion\"\n"
            "a,right,fraction,129600,\"plan uniform, 8 Gy prescribed, max 8 Gy in the lesion\"\n"
            "a,left,fraction,43200,\"plan uniform, 2 Gy prescribed, max 0 Gy in the lesion\"\n"
            "a,left,fraction,129600,\"plan uniform, 8 Gy prescribed, max 0 Gy in the lesion\"\n"
            "b,right,fraction,43200,\"plan uniform, 2 Gy prescribed, max 4 Gy in the lesion\"\n"
            "b,right,fraction,129600,\"plan uniform, 8 Gy prescribed, max 16 Gy in the lesion\"\n"
            "b,left,fraction,43200,\"plan uniform, 2 Gy prescribed, max 0 Gy in the lesion\"\n"
            "b,left,fraction,129600,\"plan uniform, 8 Gy prescribed, max 0 Gy in the lesion\"\n");
  const fs::path png = d / "compare" / "tumour.grid.total_cells.png";
  ASSERT_TRUE(has_png_signature(png));
  EXPECT_EQ(png_size(png), (std::pair<int, int>{700, 810}));
  const std::string json = slurp(d / "compare" / "compare.json");
  size_t from = json.find("\"plots\"");
  for (const char* lesion : {"\"right\"", "\"left\""}) {
    const bool in_field = std::string(lesion) == "\"right\"";
    EXPECT_EQ(json_after(json, "lesion", from), lesion);
    EXPECT_EQ(json_after(json, "arm", from), "\"a\"");
    EXPECT_EQ(json_after(json, "points", from), "3");
    EXPECT_EQ(json_after(json, "arm", from), "\"b\"");
    EXPECT_EQ(json_after(json, "points", from), "3");
    EXPECT_EQ(json_after(json, "fraction_marks", from), in_field ? "{" : "{}");
    if (in_field) {
      EXPECT_EQ(json_after(json, "a", from), "2");
      EXPECT_EQ(json_after(json, "b", from), "2");
    }
    EXPECT_EQ(json_after(json, "fraction_no_dose_marks", from), in_field ? "{}" : "{");
    if (!in_field) {
      EXPECT_EQ(json_after(json, "a", from), "2");
      EXPECT_EQ(json_after(json, "b", from), "2");
    }
  }
}

// Observables of a hand-written lesion: burden b0, b1, b2 at 0, 1 and 2 d.
std::string obs3(double b0, double b1, double b2) {
  std::ostringstream s;
  s << "time_s,burden [cells],T.grid.total [cells],T.grid.mean [cells/mm^3]\n"
    << "0," << b0 << "," << b0 << ",1\n"
    << "86400," << b1 << "," << b1 << ",1\n"
    << "172800," << b2 << "," << b2 << ",1\n";
  return s.str();
}

const char* const kSchedule =
    "time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy\n"
    "3600,1,0,sbrt,8,grid,10,8,8,8\n"
    "3600,1,0,sbrt,8,tumour,5,8,8,8\n";
const char* const kDrugs =
    "time_s,time_h,drug,amount_mg\n"
    "7200,2,antiPD1,200\n"
    "1e9,277777.8,antiPD1,200\n";

TEST(Compare, MultiLesionLayout) {
  const tme::test::TempDir tmp("tmesim_compare_lesions");
  const fs::path& d = tmp.path();
  hand_run(d / "a", {{"left", obs3(1000, 500, 250)}, {"right", obs3(2000, 2000, 4000)}}, kSchedule, kDrugs);
  hand_run(d / "b", {{"left", obs3(1000, 800, 900)}, {"right", obs3(2000, 1000, 1000)}, {"third", obs3(1, 1, 1)}});
  const Result r = tmesim("compare a b -o cmp --label b=control", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "tmesim compare: warning: the runs' lesions differ; comparing those all runs have (left, right), "
            "leaving out b: third\n");
  EXPECT_EQ(r.out,
            "wrote cmp/ (compare.csv, events.csv, burden_cells.png, compare.json): 2 arms, 2 lesions\n"
            "burden [cells]:\n"
            "arm      lesion  start  minimum  min at [h]   end  end / first arm's end\n"
            "a        left     1000      250          48   250                      1\n"
            "a        right    2000     2000           0  4000                      1\n"
            "control  left     1000      800          24   900                    3.6\n"
            "control  right    2000     1000          24  1000                   0.25\n");
  EXPECT_EQ(slurp(d / "cmp" / "compare.csv"),
            "time_s,arm,lesion,burden [cells]\n"
            "0,a,left,1000\n86400,a,left,500\n172800,a,left,250\n"
            "0,a,right,2000\n86400,a,right,2000\n172800,a,right,4000\n"
            "0,control,left,1000\n86400,control,left,800\n172800,control,left,900\n"
            "0,control,right,2000\n86400,control,right,1000\n172800,control,right,1000\n");
  // Each lesion's fractions from its own schedule (0 Gy in lesion right); the drug dose after
  // the end is left out.
  EXPECT_EQ(slurp(d / "cmp" / "events.csv"),
            "arm,lesion,event,time_s,detail\n"
            "a,left,fraction,3600,\"plan sbrt, 8 Gy prescribed, max 8 Gy in the lesion\"\n"
            "a,right,fraction,3600,\"plan sbrt, 8 Gy prescribed, max 0 Gy in the lesion\"\n"
            "a,*,drug,7200,antiPD1 200 mg\n");
  // Two panels stacked: 700 x (2 x 360 + 90) px; two lines each; arm a's marks in both (its
  // fraction faint in lesion right, which it gave no dose).
  const fs::path png = d / "cmp" / "burden_cells.png";
  ASSERT_TRUE(has_png_signature(png));
  EXPECT_EQ(png_size(png), (std::pair<int, int>{700, 810}));
  const std::string json = slurp(d / "cmp" / "compare.json");
  size_t from = json.find("\"plots\"");
  EXPECT_EQ(json_after(json, "height_px", from), "810");
  for (const char* lesion : {"\"left\"", "\"right\""}) {
    EXPECT_EQ(json_after(json, "lesion", from), lesion);
    EXPECT_EQ(json_after(json, "log_y", from), "false");
    EXPECT_EQ(json_after(json, "arm", from), "\"a\"");
    EXPECT_EQ(json_after(json, "arm", from), "\"control\"");
    const bool left = std::string(lesion) == "\"left\"";
    EXPECT_EQ(json_after(json, "fraction_marks", from), left ? "{" : "{}");
    if (left) {
      EXPECT_EQ(json_after(json, "a", from), "1");
    }
    EXPECT_EQ(json_after(json, "fraction_no_dose_marks", from), left ? "{}" : "{");
    if (!left) {
      EXPECT_EQ(json_after(json, "a", from), "1");
    }
    EXPECT_EQ(json_after(json, "drug_marks", from), "{");
    EXPECT_EQ(json_after(json, "a", from), "1");
  }
}

TEST(Compare, Refusals) {
  const tme::test::TempDir tmp("tmesim_compare_refusals");
  const fs::path& d = tmp.path();
  hand_run(d / "a", {{"", obs3(1, 2, 3)}});
  hand_run(d / "b", {{"", obs3(1, 2, 3)}});
  hand_run(d / "m", {{"left", obs3(1, 2, 3)}});
  hand_run(d / "old", {{"", "time_s,T.grid.total [cells],T.grid.mean [cells/mm^3],T.core.total [cells]\n0,1,1,1\n"}});
  fs::create_directories(d / "plain");
  fs::create_directories(d / "run.incomplete");
  spit(d / "run.incomplete" / ".tmesim-run", "tmesim run directory\n");
  fs::create_directories(d / "other");
  spit(d / "other" / "keep.txt", "x\n");
  const struct {
    std::string args, message;
  } cases[] = {
      {"a missing", "tmesim compare: 'missing': no such directory\n"},
      {"a plain", "tmesim compare: 'plain' is not a tmesim run directory (no .tmesim-run in it)\n"},
      {"run.incomplete a",
       "tmesim compare: 'run.incomplete' is not a finished run directory (no provenance.json: the run is going on "
       "or was stopped)\n"},
      {"a old",
       "tmesim compare: run 'old' has no column 'burden [cells]' in old/observables.csv; its cell totals: "
       "T.grid.total [cells], T.core.total [cells]; choose columns with --column\n"},
      {"a b --column 'T.grid.mean [cells]'",
       "tmesim compare: run 'a' has no column 'T.grid.mean [cells]' in a/observables.csv; its cell totals: "
       "T.grid.total [cells]; choose columns with --column\n"},
      {"a m", "tmesim compare: the runs have no lesion in common: a: (single lesion); m: left\n"},
      {"a a/", "tmesim compare: 'a' and 'a' are the same run\n"},
      {"a b --label a", "tmesim compare: --label 'a': expected RUN=LABEL\n"},
      {"a b --label c=x", "tmesim compare: --label 'c=x': 'c' is not one of the runs compared (a, b)\n"},
      {"a b --label a=b",
       "tmesim compare: runs 'a' and 'b' have the same label 'b'; give one another with --label RUN=LABEL\n"},
      {"a b --column T.grid.total --column 'T.grid.total'", "tmesim compare: --column 'T.grid.total' is given twice\n"},
      {"a b -o other --force",
       "tmesim compare: 'other' is not the output of an earlier tmesim compare (no compare.json in it); not "
       "replacing it\n"},
      {"a b -o a --force",
       "tmesim compare: 'a' is not the output of an earlier tmesim compare (no compare.json in it); not replacing "
       "it\n"},
      {"a b -o nowhere/cmp",
       "tmesim compare: 'nowhere/cmp': no directory " + (d / "nowhere").string() + " to write it in\n"},
  };
  for (const auto& c : cases) {
    const Result r = tmesim("compare " + c.args, d);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.message) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
  // Nothing written anywhere.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(d)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"a", "b", "m", "old", "other", "plain", "run.incomplete", "stderr", "stdout"}));
  EXPECT_EQ(slurp(d / "other" / "keep.txt"), "x\n");
  // A column named without its unit, and the single-lesion layout: compared.
  const Result r = tmesim("compare a b --column T.grid.total", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(d / "compare" / "compare.csv"),
            "time_s,arm,lesion,T.grid.total [cells]\n0,a,-,1\n86400,a,-,2\n172800,a,-,3\n"
            "0,b,-,1\n86400,b,-,2\n172800,b,-,3\n");
}

TEST(Compare, LesionsInTheOrderOfTheScene) {
  const tme::test::TempDir tmp("tmesim_compare_order");
  const fs::path& d = tmp.path();
  for (const char* run : {"x", "y"}) {
    hand_run(d / run, {{"zeta", obs3(1, 1, 1)}, {"alpha", obs3(2, 2, 2)}});
    spit(d / run / "scene.resolved.yaml",
         "name: two\nlesions:\n  - {name: zeta, grid: {shape: [2, 2, 2]}}\n  - {name: alpha}\n");
  }
  Result r = tmesim("compare x y", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(d / "compare" / "compare.csv"),
            "time_s,arm,lesion,burden [cells]\n"
            "0,x,zeta,1\n86400,x,zeta,1\n172800,x,zeta,1\n0,x,alpha,2\n86400,x,alpha,2\n172800,x,alpha,2\n"
            "0,y,zeta,1\n86400,y,zeta,1\n172800,y,zeta,1\n0,y,alpha,2\n86400,y,alpha,2\n172800,y,alpha,2\n");
  // Without the scene's list: by name.
  fs::remove(d / "x" / "scene.resolved.yaml");
  r = tmesim("compare x y -o by_name", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(d / "by_name" / "compare.csv").substr(0, 67),
            "time_s,arm,lesion,burden [cells]\n0,x,alpha,2\n86400,x,alpha,2\n172800");
}

// Eight arms with long names: the legend takes fewer columns and more rows, and the title's arm
// list wraps, so that both stay inside the 700 px image (compare.json reads them back).
TEST(Compare, LongArmNamesStayInsideTheImage) {
  const tme::test::TempDir tmp("tmesim_compare_long");
  const fs::path& d = tmp.path();
  std::string runs;
  for (int i = 0; i < 8; ++i) {
    const std::string name = "radiotherapy_8Gy_x3_with_ctla4_" + std::to_string(i);
    hand_run(d / name, {{"", obs3(1000, 900 - 10 * i, 800 - 20 * i)}}, kSchedule, kDrugs);
    runs += " " + name;
  }
  const Result r = tmesim("compare" + runs, d);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string json = slurp(d / "compare" / "compare.json");
  size_t from = json.find("\"legend\"");
  ASSERT_NE(from, std::string::npos) << json;
  const int columns = std::stoi(json_after(json, "columns", from));
  const int left = std::stoi(json_after(json, "left_px", from));
  const int right = std::stoi(json_after(json, "right_px", from));
  const int title_lines = std::stoi(json_after(json, "title_lines", from));
  EXPECT_LT(columns, 6);  // 8 arms and 2 kinds of marks in fewer than the 6 columns short names get
  EXPECT_GE(left, 0);
  EXPECT_LE(right, 700);
  EXPECT_GE(title_lines, 2);
}

TEST(Compare, SaysWhichPythonModulesAreMissing) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  const tme::test::TempDir tmp("tmesim_compare_modules");
  const fs::path& d = tmp.path();
  hand_run(d / "a", {{"", obs3(1, 2, 3)}});
  hand_run(d / "b", {{"", obs3(1, 2, 3)}});
  // -S: without the site directories, where Debian's numpy and matplotlib live.
  const fs::path bare = d / "bare-python";
  spit(bare, "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n");
  fs::permissions(bare, fs::perms::owner_all);
  const Result r = tme::test::run_shell(TMESIM_BINARY, "compare a b", d, "TMESIM_PYTHON=" + bare.string() + " ");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "tmesim compare: missing Python modules for /usr/bin/python3: numpy (Debian package python3-numpy), "
            "matplotlib (Debian package python3-matplotlib); scripts/install-deps installs them\n");
  EXPECT_FALSE(fs::exists(d / "compare"));
  for (const auto& e : fs::directory_iterator(d))
    EXPECT_EQ(e.path().filename().string().rfind(".compare", 0), std::string::npos) << e.path();
}

}  // namespace
