// What a run writes for viewing and comparing: region masks and the tissue label in every volume
// (read back with VTK's reader and compared voxel for voxel with the scene's regions), units in
// the field data, TimeValue and the .pvd times in output.time_unit, the pvpython script, totals
// in observables.csv in cells (the integral of density over volume) and the dose columns per
// region, the console's named scopes and OpenMP's waiting policy.
#include <gtest/gtest.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkStringArray.h>
#include <vtkXMLImageDataReader.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "host/core/observables.hpp"
#include "host/io/paraview_script.hpp"
#include "host/io/run_dir.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;

Result tmesim(const std::string& args, const fs::path& dir, const std::string& prefix = "") {
  return tme::test::run_shell(TMESIM_BINARY, args, dir, prefix);
}

// 12 x 10 x 8 voxels of 10 um; nothing moves or decays, so every output holds the initial state.
const char* const kScene = R"(name: vol
grid: {shape: [12, 10, 8], spacing: 10 um, origin: [100 um, 200 um, 300 um]}
time: {end: 2 h, output_every: 1 h}
regions:
  core: {sphere: {center: [160 um, 250 um, 340 um], radius: 25 um}}
  slab: {box: {min: [100 um, 200 um, 300 um], max: [220 um, 240 um, 380 um]}}
tissue:
  labels: [normal, tumour]
  regions:
    - {label: tumour, region: core}
observe: [core]
species:
  - {name: T, unit: cells/mm^3, diffusion: 0 um^2/s, initial: {constant: 1e5 cells/mm^3}}
  - {name: A, unit: ng/mL, diffusion: 0 um^2/s, initial: {regions: {core: 2 ng/mL}}}
output: {time_unit: h}
)";

// observables.csv as columns by name.
std::map<std::string, std::vector<double>> read_csv(const fs::path& p) {
  std::istringstream in(slurp(p));
  std::string line, cell;
  std::getline(in, line);
  std::vector<std::string> names;
  std::istringstream hs(line);
  while (std::getline(hs, cell, ',')) names.push_back(cell);
  std::map<std::string, std::vector<double>> cols;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    for (size_t c = 0; std::getline(ls, cell, ','); ++c) cols[names.at(c)].push_back(std::stod(cell));
  }
  return cols;
}

std::string field_string(vtkImageData* img, const char* name, int i = 0) {
  auto* a = vtkStringArray::SafeDownCast(img->GetFieldData()->GetAbstractArray(name));
  return a && i < a->GetNumberOfValues() ? a->GetValue(i) : "(absent)";
}

TEST(Volumes, MasksLabelsUnitsAndTimeUnitReadBackWithVtk) {
  const tme::test::TempDir tmp("tmesim_volumes");
  const fs::path& d = tmp.path();
  tme::test::spit(d / "vol.yaml", kScene);
  const Result r = tmesim("run vol.yaml -o out --backend cpu --quiet", d);
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path run = d / "out";
  const tme::LoadedScene ls = tme::load_scene((d / "vol.yaml").string());
  ASSERT_EQ(ls.regions.size(), 2u);  // both regions, observed or not
  EXPECT_EQ(ls.output_time_unit, "h");
  const long long nv = ls.problem.grid.nvox();

  // The series' times in hours, as ParaView shows them.
  const std::string pvd = slurp(run / "fields.pvd");
  EXPECT_NE(pvd.find("timestep=\"1\" group=\"\" part=\"0\" file=\"fields_0001.vti\""), std::string::npos) << pvd;
  EXPECT_NE(pvd.find("timestep=\"2\" group=\"\" part=\"0\" file=\"fields_0002.vti\""), std::string::npos) << pvd;

  for (int n = 0; n < 3; ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "fields_%04d.vti", n);
    vtkNew<vtkXMLImageDataReader> reader;
    reader->SetFileName((run / name).string().c_str());
    reader->Update();
    vtkImageData* img = reader->GetOutput();
    ASSERT_EQ(img->GetNumberOfCells(), nv);
    // Field data: TimeValue in h, the time in s, the units, the label names.
    ASSERT_NE(img->GetFieldData()->GetArray("TimeValue"), nullptr);
    EXPECT_DOUBLE_EQ(img->GetFieldData()->GetArray("TimeValue")->GetTuple1(0), 1.0 * n);
    ASSERT_NE(img->GetFieldData()->GetArray("Time_s"), nullptr);
    EXPECT_DOUBLE_EQ(img->GetFieldData()->GetArray("Time_s")->GetTuple1(0), 3600.0 * n);
    EXPECT_EQ(field_string(img, "TimeUnit"), "h");
    EXPECT_EQ(field_string(img, "LengthUnit"), "um");
    EXPECT_EQ(field_string(img, "TissueLabels", 0), "normal");
    EXPECT_EQ(field_string(img, "TissueLabels", 1), "tumour");
    // Masks: uint8, equal to the scene's regions voxel for voxel; the label likewise.
    for (const tme::NamedMask& m : ls.regions) {
      vtkDataArray* a = img->GetCellData()->GetArray(("region_" + m.name).c_str());
      ASSERT_NE(a, nullptr) << m.name;
      EXPECT_EQ(a->GetDataType(), VTK_UNSIGNED_CHAR);
      ASSERT_EQ(a->GetNumberOfTuples(), nv);
      long long inside = 0, differ = 0;
      for (vtkIdType v = 0; v < nv; ++v) {
        inside += m.mask[v];
        differ += a->GetTuple1(v) != m.mask[v];
      }
      EXPECT_EQ(differ, 0) << m.name;
      EXPECT_GT(inside, 0) << m.name;
      EXPECT_LT(inside, nv) << m.name;
    }
    vtkDataArray* label = img->GetCellData()->GetArray("tissue");
    ASSERT_NE(label, nullptr);
    EXPECT_EQ(label->GetDataType(), VTK_UNSIGNED_CHAR);
    long long differ = 0;
    for (vtkIdType v = 0; v < nv; ++v) differ += label->GetTuple1(v) != ls.problem.labels[v];
    EXPECT_EQ(differ, 0);
  }

  // Totals in cells and ng: the integral of the density over the scope's volume.
  long long ncore = 0;
  for (uint8_t x : ls.regions[0].mask) ncore += x;
  const auto cols = read_csv(run / "observables.csv");
  ASSERT_EQ(cols.count("T.grid.total [cells]"), 1u);
  ASSERT_EQ(cols.count("T.core.total [cells]"), 1u);
  ASSERT_EQ(cols.count("A.core.total [ng]"), 1u);
  ASSERT_EQ(cols.count("T.core.mean [cells/mm^3]"), 1u);
  EXPECT_EQ(cols.count("T.slab.total [cells]"), 0u);  // not observed
  const double grid_mm3 = 120e-3 * 100e-3 * 80e-3, voxel_mm3 = 1e-6;
  for (int n = 0; n < 3; ++n) {
    EXPECT_DOUBLE_EQ(cols.at("T.grid.total [cells]")[n], 1e5 * grid_mm3);  // 96 cells
    EXPECT_DOUBLE_EQ(cols.at("T.core.total [cells]")[n], 1e5 * voxel_mm3 * ncore);
    EXPECT_DOUBLE_EQ(cols.at("A.core.total [ng]")[n], 2 * voxel_mm3 * 1e-3 * ncore);  // 1 mL = 1e3 mm^3
    EXPECT_DOUBLE_EQ(cols.at("T.core.mean [cells/mm^3]")[n], 1e5);
  }
  EXPECT_EQ(cols.count("dose.grid.mean [Gy]"), 0u);  // no radiotherapy

  // The pvpython script: the slice through the centroid of 'core', the region outlines.
  const std::string script = slurp(run / "open_in_paraview.py");
  EXPECT_NE(script.find("COLOR_BY = \"T [cells/mm^3]\""), std::string::npos) << script;
  EXPECT_NE(script.find("REGION_MASKS = [\"region_core\", \"region_slab\"]"), std::string::npos) << script;
  EXPECT_NE(script.find("TIME_UNIT = \"h\""), std::string::npos) << script;
  double c[3];
  std::string from;
  tme::slice_centre(ls.problem.grid, ls.regions, c, &from);
  EXPECT_EQ(from, "the centroid of region 'core'");
  {
    const tme::GridSpec& g = ls.problem.grid;
    double sum[3] = {0, 0, 0};
    for (int k = 0; k < g.d.nz; ++k)
      for (int j = 0; j < g.d.ny; ++j)
        for (int i = 0; i < g.d.nx; ++i)
          if (ls.regions[0].mask[g.d.index(i, j, k)])
            sum[0] += g.center(0, i), sum[1] += g.center(1, j), sum[2] += g.center(2, k);
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(c[a], sum[a] / (double)ncore, 1e-9) << a;
  }
  EXPECT_NE(script.find("# um, the centroid of region 'core'"), std::string::npos) << script;
  // It is valid Python 3 (parsed, not run: ParaView may not be installed).
  const Result py = tme::test::run_shell(
      "/usr/bin/python3",
      "-c \"import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])\" out/open_in_paraview.py", d);
  EXPECT_EQ(py.code, 0) << py.err;
}

TEST(Volumes, TotalUnitsAreTheAmountOfTheConcentrationUnit) {
  struct Case {
    const char* unit;
    const char* total;
    double factor;  // [total] per [unit * um^3]
  };
  for (const Case& c : {Case{"cells/mm^3", "cells", 1e-9}, Case{"ng/mL", "ng", 1e-12}, Case{"pg/mL", "pg", 1e-12},
                        Case{"nM", "nmol", 1e-15}, Case{"uM", "umol", 1e-15}, Case{"1/mm^3", "1", 1e-9},
                        Case{"mmHg", "mmHg mm^3", 1e-9}, Case{"1", "mm^3", 1e-9}}) {
    const tme::TotalUnit t = tme::total_unit(c.unit);
    EXPECT_EQ(t.name, c.total) << c.unit;
    EXPECT_NEAR(t.factor, c.factor, 1e-12 * c.factor) << c.unit;
  }
}

TEST(Volumes, TotalOfAUniformDensityIsDensityTimesVolumeInCells) {
  // 10^3 voxels of (10 um)^3 = 1e-3 mm^3 at 1000 cells/mm^3: exactly 1 cell.
  tme::Problem p = tme::make_uniform_problem(tme::Dims{10, 10, 10}, 10.0, 1, 0, 0);
  p.species[0] = {"T", "cells/mm^3"};
  p.regions.push_back({"half", std::vector<uint8_t>(1000, 0)});
  for (int v = 0; v < 500; ++v) p.regions[0].mask[v] = 1;
  std::vector<tme::real> state(1000, tme::real(1000));
  const auto totals = tme::total_units(p);
  const std::string header = tme::observables_header(p, totals, false);
  EXPECT_EQ(header,
            "time_s,T.grid.total [cells],T.grid.mean [cells/mm^3],T.grid.min [cells/mm^3],T.grid.max [cells/mm^3],"
            "T.half.total [cells],T.half.mean [cells/mm^3],T.half.min [cells/mm^3],T.half.max [cells/mm^3]\n");
  const std::string row = tme::observables_row(0, tme::compute_observables(p, state), totals, {});
  EXPECT_EQ(row, "0,1,1000,1000,1000,0.5,1000,1000,1000\n");
  const auto stats = tme::compute_observables(p, state);
  EXPECT_DOUBLE_EQ(stats[0][0].total * totals[0].factor, 1.0);
  EXPECT_DOUBLE_EQ(stats[0][1].total * totals[0].factor, 0.5);
}

TEST(Volumes, RadiotherapyRunReportsDoseBedAndEqd2PerRegionAndNamesScopes) {
  const tme::test::TempDir tmp("tmesim_volumes_rt");
  const fs::path& d = tmp.path();
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_rt.yaml";
  const Result r = tmesim("run " + scene + " -o out --backend cpu", d);
  ASSERT_EQ(r.code, 0) << r.err;
  // The console names each scope: the grid, then each observed region (never "lesion").
  EXPECT_NE(r.out.find("fraction 2: plan 'uniform', 8 Gy at t = 36 h: grid mean 8 Gy, max 8 Gy; left mean 8 Gy, "
                       "max 8 Gy\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("lesion"), std::string::npos) << r.out;
  const auto cols = read_csv(d / "out" / "observables.csv");
  // Outputs at 0, 1 d, 2 d: after 0, 2 and 2 + 8 Gy; BED at alpha/beta 10 Gy, EQD2 = BED / 1.2.
  const double dose[3] = {0, 2, 10}, bed[3] = {0, 2 * 1.2, 2 * 1.2 + 8 * 1.8};
  for (const char* scope : {"grid", "left"})
    for (const char* stat : {"mean", "min", "max"}) {
      const std::string s = std::string(".") + scope + "." + stat + " [Gy]";
      ASSERT_EQ(cols.count("dose" + s), 1u) << s;
      ASSERT_EQ(cols.count("BED" + s), 1u) << s;
      ASSERT_EQ(cols.count("EQD2" + s), 1u) << s;
      ASSERT_EQ(cols.at("dose" + s).size(), 3u);
      for (int n = 0; n < 3; ++n) {
        EXPECT_NEAR(cols.at("dose" + s)[n], dose[n], 1e-9) << s << n;
        EXPECT_NEAR(cols.at("BED" + s)[n], bed[n], 1e-6) << s << n;
        EXPECT_NEAR(cols.at("EQD2" + s)[n], bed[n] / 1.2, 1e-6) << s << n;
      }
    }
  // Isodose lines at 95% of the fraction dose (2 Gy) and of the course (10 Gy).
  const std::string script = slurp(d / "out" / "open_in_paraview.py");
  EXPECT_NE(script.find("DOSE_ARRAY = \"dose [Gy]\""), std::string::npos) << script;
  EXPECT_NE(script.find("DOSE_LEVELS = [1.9, 9.5]"), std::string::npos) << script;
}

// Width and height of a PNG file (its IHDR chunk); {0, 0} when it is not a PNG.
std::pair<int, int> png_size(const fs::path& p) {
  const std::string b = slurp(p);
  if (b.size() < 24 || b.compare(1, 3, "PNG") != 0 || b.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    return (int)(((unsigned char)b[at] << 24) | ((unsigned char)b[at + 1] << 16) | ((unsigned char)b[at + 2] << 8) |
                 (unsigned char)b[at + 3]);
  };
  return {be32(16), be32(20)};
}

TEST(Volumes, PlotScriptDrawsPanelsByKindWithFractionAndDoseMarkers) {
  const tme::test::TempDir tmp("tmesim_plot");
  const fs::path& d = tmp.path();
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_rt.yaml";
  ASSERT_EQ(tmesim("run " + scene + " -o out --backend cpu --quiet", d).code, 0);
  // A drug dose inside the run, in the file tmesim writes for runs with drugs.
  tme::test::spit(d / "out" / "drug_doses.csv", "time_s,time_h,drug,amount_mg\n7200,2,antiPD1,200\n");
  const std::string plot = "/usr/bin/python3 " + std::string(TMESIM_SOURCE_DIR) + "/viz/plot_observables.py";
  // Species named with their unit, as in the volumes, are accepted.
  const Result r = tme::test::run_shell(plot, "out --species tumour 'CD8 [cells/mm^3]' --out plot.png", d);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  // Two panels (the populations, the cumulative dose) in one column of 640 x 320 px each,
  // plus 60 px for the title; both fractions and the dose marked.
  EXPECT_EQ(r.out,
            "plot.png: 2 panels (cell populations (log); cumulative dose), 640x700 px, 2 fractions and 1 "
            "drug doses marked\n");
  EXPECT_EQ(png_size(d / "plot.png"), std::make_pair(640, 700));
  // Totals in cells at two scopes (one line style each): the same two panels.
  const Result t = tme::test::run_shell(plot, "out --stat total --regions grid left --out total.png", d);
  ASSERT_EQ(t.code, 0) << t.err << t.out;
  EXPECT_EQ(t.out.rfind("total.png: 2 panels (cell populations (log); cumulative dose), 640x700 px", 0), 0u) << t.out;
  EXPECT_EQ(png_size(d / "total.png"), std::make_pair(640, 700));
  // Four kinds (cells, ng/mL, nM, pg/mL) go into two columns of two rows; a range within 3
  // decades stays linear.
  tme::test::spit(d / "obs.csv",
                  "time_s,T.grid.total [cells],T.grid.mean [cells/mm^3],A.grid.mean [ng/mL],B.grid.mean [nM],"
                  "C.grid.mean [pg/mL]\n0,1,1,1,1,1\n3600,2,2,1e4,2,2\n");
  const Result four = tme::test::run_shell(plot, "obs.csv --out four.png", d);
  ASSERT_EQ(four.code, 0) << four.err << four.out;
  EXPECT_EQ(four.out,
            "four.png: 4 panels (cell populations; ng/mL (log); nM; pg/mL), 1280x700 px, 0 fractions and 0 drug doses "
            "marked\n");
  EXPECT_EQ(png_size(d / "four.png"), std::make_pair(1280, 700));
  // A species that does not exist is named.
  const Result bad = tme::test::run_shell(plot, "out --species T --out x.png", d);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("no species 'T' in"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(d / "x.png"));
}

TEST(Volumes, OpenMpWaitsPassivelyUnlessTheUserSetsThePolicy) {
  const tme::test::TempDir tmp("tmesim_omp_wait");
  const fs::path& d = tmp.path();
  const Result unset = tmesim("info", d, "env -u OMP_WAIT_POLICY -u TMESIM_OMP_WAIT_DEFAULT ");
  ASSERT_EQ(unset.code, 0) << unset.err;
  EXPECT_NE(unset.out.find("\nopenmp waiting: passive (tmesim's default; set OMP_WAIT_POLICY to choose)\n"),
            std::string::npos)
      << unset.out;
  for (const char* policy : {"active", "PASSIVE"}) {
    const Result set = tmesim("info", d, std::string("env -u TMESIM_OMP_WAIT_DEFAULT OMP_WAIT_POLICY=") + policy + " ");
    ASSERT_EQ(set.code, 0) << set.err;
    EXPECT_NE(set.out.find(std::string("\nopenmp waiting: ") + policy + " (OMP_WAIT_POLICY)\n"), std::string::npos)
        << set.out;
  }
}

}  // namespace
