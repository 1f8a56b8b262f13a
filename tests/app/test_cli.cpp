// The tmesim program end to end: run directory contents, refusal to overwrite, exit codes,
// and the volumes read back with VTK's own reader against the known solution.
#include <gtest/gtest.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkXMLImageDataReader.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/radiation.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;

Result tmesim(const std::string& args, const fs::path& dir) { return tme::test::run_shell(TMESIM_BINARY, args, dir); }

const std::string kScene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_small.yaml";

TEST(Cli, RunWritesACompleteRunDirectory) {
  const tme::test::TempDir tmp("tmesim_cli_run");
  const fs::path& d = tmp.path();
  const fs::path run = d / "out";
  const Result r = tmesim("run " + kScene + " -o " + run.string() + " --backend cpu --quiet", d);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"scene.yaml", "scene.resolved.yaml", "provenance.json", "fields.pvd", "observables.csv",
                        "fields_0000.vti", "fields_0004.vti"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  EXPECT_FALSE(fs::exists(run / "fields_0005.vti"));
  EXPECT_FALSE(fs::exists(d / "out.incomplete"));
  for (const auto& e : fs::directory_iterator(run)) EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  EXPECT_EQ(slurp(run / "scene.yaml"), slurp(kScene));

  const std::string prov = slurp(run / "provenance.json");
  for (const char* key :
       {"\"tmesim_version\": \"0.1.0\"", "\"git_hash\": ", "\"git_dirty\": ", "\"backend\": \"cpu\"",
        "\"device\": ", "\"command_line\": ", "\"start_time\": ", "\"end_time\": ", "\"seed\": 3", "\"steps\": 2000"})
    EXPECT_NE(prov.find(key), std::string::npos) << key << "\n" << prov;

  // Observables: header and 5 rows; B decays uniformly so its mean is its min and max.
  std::istringstream csv(slurp(run / "observables.csv"));
  std::string header, line;
  std::getline(csv, header);
  // Totals in the amount of the concentration unit: ng for ng/mL, nmol for nM.
  EXPECT_EQ(header.rfind("time_s,A.grid.total [ng],A.grid.mean [ng/mL],A.grid.min [ng/mL],A.grid.max [ng/mL],"
                         "A.corner.total [ng],",
                         0),
            0u)
      << header;
  EXPECT_NE(header.find(",B.grid.total [nmol],B.grid.mean [nM],"), std::string::npos) << header;
  std::vector<std::vector<double>> rows;
  while (std::getline(csv, line)) {
    std::vector<double> row;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[4][0], 100.0);
  ASSERT_EQ(rows[4].size(), 1u + 2 * 2 * 4);
  const double B100 = 2 * std::exp(-0.02 * 100);
  EXPECT_NEAR(rows[4][1 + 8 + 1], B100, 2e-3 * B100);  // B.grid.mean
  // B.grid.total [nmol]: nM x um^3, 1 um^3 = 1e-15 L.
  const double Btotal = B100 * 120 * 100 * 80 * 1e-15;
  EXPECT_NEAR(rows[4][1 + 8 + 0], Btotal, 2e-3 * Btotal);
  // A.corner.total [ng]: 27 voxels of 1000 um^3 at ng/mL, 1 um^3 = 1e-12 mL.
  const double Acorner = 0.5 / 0.01 * (1 - std::exp(-1.0)) * 27000 * 1e-12;
  EXPECT_NEAR(rows[4][1 + 4], Acorner, 1e-3 * Acorner);
}

TEST(Cli, VolumesReadBackWithVtkMatchGridNamesTimesAndValues) {
  const tme::test::TempDir tmp("tmesim_cli_vtk");
  const fs::path& d = tmp.path();
  const fs::path run = d / "out";
  ASSERT_EQ(tmesim("run " + kScene + " -o " + run.string() + " --quiet", d).code, 0);
  const std::string pvd = slurp(run / "fields.pvd");
  for (int n = 0; n < 5; ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "fields_%04d.vti", n);
    EXPECT_NE(pvd.find(std::string("file=\"") + name + "\""), std::string::npos) << pvd;
    vtkNew<vtkXMLImageDataReader> reader;
    reader->SetFileName((run / name).string().c_str());
    reader->Update();
    vtkImageData* img = reader->GetOutput();
    int ext[6];
    img->GetExtent(ext);
    EXPECT_EQ(ext[1] - ext[0], 12);
    EXPECT_EQ(ext[3] - ext[2], 10);
    EXPECT_EQ(ext[5] - ext[4], 8);
    double h[3], o[3];
    img->GetSpacing(h);
    img->GetOrigin(o);
    EXPECT_DOUBLE_EQ(h[0], 10);
    EXPECT_DOUBLE_EQ(h[2], 10);
    EXPECT_DOUBLE_EQ(o[0], 100);
    EXPECT_DOUBLE_EQ(o[1], 200);
    EXPECT_DOUBLE_EQ(o[2], 300);
    vtkDataArray* tv = img->GetFieldData()->GetArray("TimeValue");
    ASSERT_NE(tv, nullptr);
    const double t = 25.0 * n;
    EXPECT_DOUBLE_EQ(tv->GetTuple1(0), t);
    vtkDataArray* a = img->GetCellData()->GetArray("A [ng/mL]");
    vtkDataArray* b = img->GetCellData()->GetArray("B [nM]");
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(a->GetNumberOfTuples(), 960);
    // Uniform fields follow the forward-Euler recursion exactly: 500 steps of 0.05 s per output.
    const double steps = 500.0 * n;
    const double Aexact = 0.5 / 0.01 * (1 - std::pow(1 - 0.01 * 0.05, steps)),
                 Bexact = 2 * std::pow(1 - 0.02 * 0.05, steps);
    for (vtkIdType v = 0; v < 960; v += 41) {
      EXPECT_NEAR(a->GetTuple1(v), Aexact, 5e-5 * Aexact + 1e-6);
      EXPECT_NEAR(b->GetTuple1(v), Bexact, 5e-5 * Bexact);
    }
  }
}

TEST(Cli, RadiotherapyRunWritesTheScheduleAndDoseFields) {
  const tme::test::TempDir tmp("tmesim_cli_rt");
  const fs::path& d = tmp.path();
  const fs::path run = d / "out";
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_rt.yaml";
  const Result r = tmesim("run " + scene + " -o " + run.string() + " --backend cpu", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fraction 2: plan 'uniform', 8 Gy at t = 36 h"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(run / "delivered_schedule.csv"),
            "time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy\n"
            "43200,12,0,uniform,2,grid,256,2,2,2\n"
            "43200,12,0,uniform,2,left,128,2,2,2\n"
            "129600,36,0,uniform,8,grid,256,8,8,8\n"
            "129600,36,0,uniform,8,left,128,8,8,8\n");
  EXPECT_NE(slurp(run / "provenance.json").find("\"fractions_delivered\": 2"), std::string::npos);
  auto S = [](double a, double b, double dose) { return std::exp(-a * dose - b * dose * dose); };
  const double St = S(0.146, 0.0146, 2) * S(0.146, 0.0146, 8), Sl = S(0.2, 0.14, 2) * S(0.2, 0.14, 8);
  // Day 1 (after the 2 Gy fraction) and day 2 (after both).
  const double dose[3] = {0, 2, 10}, bed[3] = {0, 2 * 1.2, 2 * 1.2 + 8 * 1.8};
  const double st[3] = {1, S(0.146, 0.0146, 2), St}, sl[3] = {1, S(0.2, 0.14, 2), Sl};
  for (int n = 0; n < 3; ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "fields_%04d.vti", n);
    vtkNew<vtkXMLImageDataReader> reader;
    reader->SetFileName((run / name).string().c_str());
    reader->Update();
    vtkCellData* cd = reader->GetOutput()->GetCellData();
    for (const char* a : {"dose [Gy]", "BED [Gy]", "EQD2 [Gy]", "survival_tumour [1]", "survival_CD8 [1]",
                          "tumour [cells/mm^3]", "doomed [cells/mm^3]", "CD8 [cells/mm^3]"})
      ASSERT_NE(cd->GetArray(a), nullptr) << a;
    for (vtkIdType v = 0; v < 256; v += 37) {
      EXPECT_NEAR(cd->GetArray("dose [Gy]")->GetTuple1(v), dose[n], 1e-5) << n;
      EXPECT_NEAR(cd->GetArray("BED [Gy]")->GetTuple1(v), bed[n], 1e-5) << n;
      EXPECT_NEAR(cd->GetArray("EQD2 [Gy]")->GetTuple1(v), bed[n] / 1.2, 1e-5) << n;
      EXPECT_NEAR(cd->GetArray("survival_tumour [1]")->GetTuple1(v), st[n], 1e-6) << n;
      EXPECT_NEAR(cd->GetArray("survival_CD8 [1]")->GetTuple1(v), sl[n], 1e-6) << n;
      EXPECT_NEAR(cd->GetArray("tumour [cells/mm^3]")->GetTuple1(v), 1e5 * st[n], 1e5 * 1e-5) << n;
      EXPECT_NEAR(cd->GetArray("doomed [cells/mm^3]")->GetTuple1(v), 1e5 * (1 - st[n]), 1e5 * 1e-5) << n;
      EXPECT_NEAR(cd->GetArray("CD8 [cells/mm^3]")->GetTuple1(v), 1e3 * sl[n], 1e3 * 1e-5) << n;
    }
  }
}

TEST(Cli, OxygenEnhancedFractionsUseTheOxygenFieldOfEachVoxel) {
  // The pO2 read at each fraction once went to a buffer that no longer existed (heap
  // corruption at the first fraction). Left half at 2 mmHg, the rest at 40 mmHg.
  const tme::test::TempDir tmp("tmesim_cli_oxygen");
  const fs::path& d = tmp.path();
  const fs::path run = d / "out";
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_rt_oxygen.yaml";
  const Result r = tmesim("run " + scene + " -o " + run.string() + " --backend cpu --quiet", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(slurp(run / "provenance.json").find("\"fractions_delivered\": 2"), std::string::npos);
  vtkNew<vtkXMLImageDataReader> reader;
  reader->SetFileName((run / "fields_0002.vti").string().c_str());
  reader->Update();
  vtkCellData* cd = reader->GetOutput()->GetCellData();
  for (const char* a : {"survival_tumour [1]", "survival_CD8 [1]", "tumour [cells/mm^3]", "O2 [mmHg]"})
    ASSERT_NE(cd->GetArray(a), nullptr) << a;
  auto S = [](double a, double b, double dose, double po2) {
    return tme::rt::lq_survival_oxygen(a, b, dose, po2, 3.0, 3.0);
  };
  int hypoxic = 0;
  for (vtkIdType v = 0; v < 256; ++v) {
    const bool left = v % 8 < 4;
    hypoxic += left;
    const double po2 = left ? 2 : 40;
    const double st = S(0.146, 0.0146, 2, po2) * S(0.146, 0.0146, 8, po2);
    const double sl = S(0.2, 0.14, 2, po2) * S(0.2, 0.14, 8, po2);
    EXPECT_NEAR(cd->GetArray("O2 [mmHg]")->GetTuple1(v), po2, 1e-5) << v;
    EXPECT_NEAR(cd->GetArray("survival_tumour [1]")->GetTuple1(v), st, 1e-6 * st) << v;
    EXPECT_NEAR(cd->GetArray("survival_CD8 [1]")->GetTuple1(v), sl, 1e-5 * sl) << v;
    EXPECT_NEAR(cd->GetArray("tumour [cells/mm^3]")->GetTuple1(v), 1e5 * st, 1e-5 * 1e5 * st) << v;
  }
  EXPECT_EQ(hypoxic, 128);
  // Hypoxia protects: at 2 mmHg a dose acts as 0.6 of itself (OMF (3 * 2 + 3) / (3 * 5)), at
  // 40 mmHg as 0.95; 8 Gy leave 2.5 times as many hypoxic cells.
  EXPECT_NEAR(S(0.146, 0.0146, 8, 2) / S(0.146, 0.0146, 8, 40), 2.524, 0.001);
}

TEST(Cli, ExistingRunDirectoryIsKeptUnlessForced) {
  const tme::test::TempDir tmp("tmesim_cli_force");
  const fs::path& d = tmp.path();
  const fs::path run = d / "out";
  ASSERT_EQ(tmesim("run " + kScene + " -o " + run.string() + " --quiet", d).code, 0);
  std::ofstream(run / "marker") << "x";
  const Result again = tmesim("run " + kScene + " -o " + run.string() + " --quiet", d);
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "error: output directory '" + run.string() +
                           "' exists (use --force to replace it, or -o to choose another)\n");
  EXPECT_TRUE(fs::exists(run / "marker"));
  const Result forced = tmesim("run " + kScene + " -o " + run.string() + " --quiet --force", d);
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_FALSE(fs::exists(run / "marker"));
  EXPECT_TRUE(fs::exists(run / "fields_0004.vti"));
}

TEST(Cli, BadSceneExitsWithCodeTwoAndAPositionedMessage) {
  const tme::test::TempDir tmp("tmesim_cli_bad");
  const fs::path& d = tmp.path();
  std::ofstream(d / "bad.yaml") << "name: x\ngrid:\n  shape: [4, 4, 4]\n  spacing: 10 um/s\n";
  const Result r = tmesim("run " + (d / "bad.yaml").string() + " -o " + (d / "o").string(), d);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("error: " + (d / "bad.yaml").string() + ":4:12: grid.spacing: ", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(d / "o"));
  EXPECT_FALSE(fs::exists(d / "o.incomplete"));
  const Result v = tmesim("validate " + (d / "bad.yaml").string(), d);
  EXPECT_EQ(v.code, 2);
  EXPECT_EQ(v.err, r.err);
}

TEST(Cli, ValidateAndInfoReport) {
  const tme::test::TempDir tmp("tmesim_cli_info");
  const fs::path& d = tmp.path();
  const Result v = tmesim("validate " + kScene, d);
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find(": ok: 12x10x8 voxels, 2 fields"), std::string::npos) << v.out;
  const Result rt = tmesim("validate " + std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_rt.yaml", d);
  EXPECT_EQ(rt.code, 0) << rt.err;
  EXPECT_NE(rt.out.find("  plan 'uniform': 2 fractions, 10 Gy prescribed, 12 h to 36 h\n"), std::string::npos)
      << rt.out;
  const Result i = tmesim("info", d);
  EXPECT_EQ(i.code, 0);
  EXPECT_EQ(i.out.rfind("tmesim 0.1.0 (git ", 0), 0u) << i.out;
  EXPECT_NE(i.out.find("backends: cpu"), std::string::npos);
}

TEST(Cli, VersionPrintsTheFirstLineOfInfo) {
  const tme::test::TempDir tmp("tmesim_cli_version");
  const fs::path& d = tmp.path();
  const Result v = tmesim("--version", d);
  const Result i = tmesim("info", d);
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_EQ(v.err, "");
  ASSERT_EQ(i.code, 0);
  EXPECT_EQ(v.out.rfind("tmesim 0.1.0 (git ", 0), 0u) << v.out;
  EXPECT_EQ(v.out, i.out.substr(0, i.out.find('\n') + 1));
}

TEST(Cli, CudaBackendWithoutDeviceFailsClearly) {
  const tme::test::TempDir tmp("tmesim_cli_cuda");
  const fs::path& d = tmp.path();
  const Result r = tmesim("run " + kScene + " -o " + (d / "o").string() + " --backend cuda --quiet", d);
  const Result i = tmesim("info", d);
  if (i.out.find("cuda device 0") != std::string::npos) GTEST_SKIP() << "a CUDA device exists";
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: backend 'cuda' is not available: ", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(d / "o"));
}

}  // namespace
