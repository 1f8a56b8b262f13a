// The run as a library object (host/run/run.hpp) with several lesions: a patient of two
// lesions built here from one scene loaded twice (scenes/tests/model_small.yaml, lod steps of
// 1 h, 2 days), run in lockstep, against runs of each lesion alone; the multi-lesion layout and
// its multiblock files read back with VTK; and the systemic coupling seam
// (host/core/coupling.hpp): a coupling that supplies a blood input reproduces it bitwise, and
// the field totals it receives after each step are those of the state.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "host/core/model.hpp"
#include "host/core/observables.hpp"
#include "host/io/run_dir.hpp"
#include "host/run/run.hpp"
#include "host/scene/patient.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kFast{"time.integrator=lod", "time.step=1 h"};

tme::LoadedScene lesion_scene(const std::string& origin_x) {
  std::vector<std::string> set = kFast;
  set.push_back("grid.origin=[" + origin_x + ", 0 um, 0 um]");
  return tme::load_scene(std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/model_small.yaml", tme::Machine{},
                         tme::SceneOverrides{set, "2 d"});
}

// A patient of the lesions (name, origin x); one unnamed lesion: the single-lesion layout.
tme::LoadedPatient patient_of(const std::vector<std::pair<std::string, std::string>>& lesions) {
  tme::LoadedPatient p;
  p.path = "model_small.yaml";
  for (const auto& [name, x] : lesions) {
    p.lesions.push_back(lesion_scene(x));
    p.lesion_names.push_back(name);
    p.resolved_yaml += p.lesions.back().resolved_yaml;
  }
  p.name = p.lesions[0].problem.name;
  return p;
}

// Runs `patient` into dir/name (committed); returns the run directory. On one thread: the
// grids are tiny, and a busy machine makes spinning OpenMP barriers cost seconds.
fs::path run_patient(tme::LoadedPatient patient, const fs::path& dir, const std::string& name,
                     tme::StepCoupling* coupling = nullptr) {
  omp_set_num_threads(1);
  tme::RunDirectory rd(dir / name, false);
  tme::RunOrigin origin;
  origin.scene_given = patient.path;
  {
    tme::Run run(std::move(patient), tme::make_cpu_backend(), rd, origin, nullptr, coupling);
    run.execute();
  }
  rd.commit();
  return dir / name;
}

std::string file(const fs::path& p) { return tme::test::slurp(p); }

// The value of column `col` in the last row of an observables.csv text.
double last_value(const std::string& csv, const std::string& col) {
  std::istringstream in(csv);
  std::string header, line, last;
  std::getline(in, header);
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ',')) v.push_back(x);
    return v;
  };
  const auto h = split(header), r = split(last);
  for (size_t i = 0; i < h.size(); ++i)
    if (h[i] == col) return std::stod(r.at(i));
  ADD_FAILURE() << "no column " << col;
  return NAN;
}

TEST(RunLesions, TwoUncoupledLesionsGiveBitwiseTheFieldsOfTwoSeparateRuns) {
  tme::test::TempDir tmp("run_lesions");
  const fs::path both = run_patient(patient_of({{"a", "0 um"}, {"b", "10 um"}}), tmp.path(), "both");
  const fs::path a = run_patient(patient_of({{"", "0 um"}}), tmp.path(), "a");
  const fs::path b = run_patient(patient_of({{"", "10 um"}}), tmp.path(), "b");
  for (const auto& [name, alone] : {std::pair<std::string, fs::path>{"a", a}, {"b", b}}) {
    const fs::path les = both / "lesions" / name;
    for (const char* f : {"fields_0000.vti", "fields_0001.vti", "fields_0002.vti", "fields.pvd", "observables.csv"})
      EXPECT_EQ(file(les / f), file(alone / f)) << name << "/" << f;
  }
  // The lesions differ in their origin (the regions, given in patient coordinates, fall on
  // other voxels).
  EXPECT_NE(file(both / "lesions/a/fields_0002.vti"), file(both / "lesions/b/fields_0002.vti"));
}

// A `lesions:` list of one named lesion is a patient too: its files under lesions/<name>/ and
// the multiblock series beside them, the fields those of the same lesion run alone.
TEST(RunLesions, OneNamedLesionWritesThePatientSeries) {
  tme::test::TempDir tmp("run_lesions");
  const fs::path run = run_patient(patient_of({{"a", "0 um"}}), tmp.path(), "one");
  const fs::path alone = run_patient(patient_of({{"", "0 um"}}), tmp.path(), "alone");
  for (const char* f : {"fields_0000.vti", "fields_0002.vti", "observables.csv"})
    EXPECT_EQ(file(run / "lesions/a" / f), file(alone / f)) << f;
  for (const char* f : {"patient.pvd", "patient_0000.vtm", "patient_0001.vtm", "patient_0002.vtm"})
    EXPECT_TRUE(fs::is_regular_file(run / f)) << f;
  EXPECT_EQ(file(run / "patient_0001.vtm"),
            "<?xml version=\"1.0\"?>\n<VTKFile type=\"vtkMultiBlockDataSet\" version=\"1.0\" "
            "byte_order=\"LittleEndian\">\n  <vtkMultiBlockDataSet>\n"
            "    <DataSet index=\"0\" name=\"a\" file=\"lesions/a/fields_0001.vti\"/>\n"
            "  </vtkMultiBlockDataSet>\n</VTKFile>\n");
  EXPECT_NE(file(run / "provenance.json").find("\"lesions\": [\"a\"]"), std::string::npos);
}

TEST(RunLesions, TwoIdenticalLesionsStayIdenticalAndTheLayoutReadsBackWithVtk) {
  tme::test::TempDir tmp("run_lesions");
  const fs::path run = run_patient(patient_of({{"a", "0 um"}, {"b", "0 um"}}), tmp.path(), "run");
  for (const char* f : {"fields_0000.vti", "fields_0001.vti", "fields_0002.vti", "observables.csv"})
    EXPECT_EQ(file(run / "lesions/a" / f), file(run / "lesions/b" / f)) << f;
  for (const char* f : {"patient.pvd", "patient_0000.vtm", "patient_0002.vtm", "provenance.json", "drug_doses.csv"})
    EXPECT_TRUE(fs::is_regular_file(run / f)) << f;
  EXPECT_FALSE(fs::exists(run / "fields.pvd"));
  EXPECT_FALSE(fs::exists(run / "observables.csv"));
  EXPECT_EQ(file(run / "patient_0002.vtm"),
            "<?xml version=\"1.0\"?>\n<VTKFile type=\"vtkMultiBlockDataSet\" version=\"1.0\" "
            "byte_order=\"LittleEndian\">\n  <vtkMultiBlockDataSet>\n"
            "    <DataSet index=\"0\" name=\"a\" file=\"lesions/a/fields_0002.vti\"/>\n"
            "    <DataSet index=\"1\" name=\"b\" file=\"lesions/b/fields_0002.vti\"/>\n"
            "  </vtkMultiBlockDataSet>\n</VTKFile>\n");
  // VTK reads the series: 3 times, 2 blocks of 6x5x4 cells each.
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  tme::test::spit(tmp / "read.py",
                  "import sys, vtk\n"
                  "r = vtk.vtkPVDReader() if hasattr(vtk, 'vtkPVDReader') else None\n"
                  "out = []\n"
                  "for n in range(3):\n"
                  "    m = vtk.vtkXMLMultiBlockDataReader()\n"
                  "    m.SetFileName(sys.argv[1] + '/patient_%04d.vtm' % n)\n"
                  "    m.Update()\n"
                  "    d = m.GetOutput()\n"
                  "    out.append('%d:%d' % (n, d.GetNumberOfBlocks()))\n"
                  "    for b in range(d.GetNumberOfBlocks()):\n"
                  "        im = d.GetBlock(b)\n"
                  "        out.append('%s %s' % (d.GetMetaData(b).Get(vtk.vtkCompositeDataSet.NAME()), "
                  "im.GetNumberOfCells()))\n"
                  "print(' '.join(out))\n");
  const tme::test::Result r =
      tme::test::run_shell("/usr/bin/python3", "read.py '" + run.string() + "'", tmp.path(), "", tmp.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0:2 a 120 b 120 1:2 a 120 b 120 2:2 a 120 b 120\n");
}

// Supplies the scene's blood table E_blood as a systemic input: the exact mean of the table
// it replaces. Records the totals it receives.
class TableCoupling final : public tme::StepCoupling {
 public:
  TableCoupling(tme::Model table_model, int global, std::vector<int> fields)
      : m_(std::move(table_model)), g_(global), fields_(std::move(fields)) {}
  std::vector<int> reduced_fields() const override { return fields_; }
  void input_means(int lesion, double t0, double t1, std::vector<double>& globals) override {
    lesions_seen = std::max(lesions_seen, lesion + 1);
    globals.at(g_) = tme::global_mean(m_, g_, t0, t1);
  }
  void after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) override {
    if (steps > 0 && t0 != last_t1) contiguous = false;
    last_t1 = t1;
    ++steps;
    last = totals;
  }
  int lesions_seen = 0;
  long long steps = 0;
  bool contiguous = true;
  double last_t1 = 0;
  std::vector<std::vector<double>> last;

 private:
  tme::Model m_;
  int g_;
  std::vector<int> fields_;
};

// The patient with E_blood made a systemic input; the index of E_blood and the model with
// its table.
tme::LoadedPatient systemic_patient(const std::vector<std::pair<std::string, std::string>>& lesions, int* g,
                                    tme::Model* table) {
  tme::LoadedPatient p = patient_of(lesions);
  const tme::Model& m = p.lesions[0].problem.model;
  *g = -1;
  for (size_t i = 0; i < m.globals.size(); ++i)
    if (m.globals[i].name == "E_blood") *g = (int)i;
  EXPECT_GE(*g, 0);
  EXPECT_EQ(m.globals.at(*g).kind, tme::GlobalInput::Kind::kTable);
  *table = m;
  for (tme::LoadedScene& ls : p.lesions) ls.problem.model.globals.at(*g).kind = tme::GlobalInput::Kind::kSystemic;
  return p;
}

int field_of(const tme::Problem& p, const std::string& name) {
  for (int s = 0; s < p.nspecies(); ++s)
    if (p.species[s].name == name) return s;
  return -1;
}

TEST(RunCoupling, ACouplingSupplyingTheBloodTableGivesBitwiseTheTableRun) {
  tme::test::TempDir tmp("run_coupling");
  const fs::path ref = run_patient(patient_of({{"a", "0 um"}, {"b", "10 um"}}), tmp.path(), "ref");
  int g = -1;
  tme::Model table;
  tme::LoadedPatient p = systemic_patient({{"a", "0 um"}, {"b", "10 um"}}, &g, &table);
  const tme::Problem& p0 = p.lesions[0].problem;
  const int T = field_of(p0, "T"), E = field_of(p0, "E");
  ASSERT_GE(T, 0);
  ASSERT_GE(E, 0);
  TableCoupling c(table, g, {T, E});
  const fs::path run = run_patient(std::move(p), tmp.path(), "coupled", &c);
  for (const char* les : {"a", "b"})
    for (const char* f : {"fields_0001.vti", "fields_0002.vti", "observables.csv"})
      EXPECT_EQ(file(run / "lesions" / les / f), file(ref / "lesions" / les / f)) << les << "/" << f;
  // 2 days of 1 h steps, contiguous, ending at 2 d; both lesions asked for their input.
  EXPECT_EQ(c.steps, 48);
  EXPECT_TRUE(c.contiguous);
  EXPECT_EQ(c.last_t1, 2 * 86400.0);
  EXPECT_EQ(c.lesions_seen, 2);
  // The totals after the last step are the state's: observables.csv's totals at 2 d.
  ASSERT_EQ(c.last.size(), 2u);
  for (int l = 0; l < 2; ++l) {
    const std::string csv = file(run / "lesions" / (l ? "b" : "a") / "observables.csv");
    ASSERT_EQ(c.last[l].size(), 2u);
    EXPECT_NEAR(c.last[l][0], last_value(csv, "T.grid.total [cells]"), 1e-7 * c.last[l][0]);
    EXPECT_NEAR(c.last[l][1], last_value(csv, "E.grid.total [cells]"), 1e-7 * c.last[l][1]);
    EXPECT_GT(c.last[l][0], 0);
  }
}

TEST(RunCoupling, ASystemicInputWithoutACouplingIsRefused) {
  tme::test::TempDir tmp("run_coupling");
  int g = -1;
  tme::Model table;
  tme::LoadedPatient p = systemic_patient({{"", "0 um"}}, &g, &table);
  try {
    run_patient(std::move(p), tmp.path(), "run");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "uniform input 'E_blood' comes from the systemic compartments: the run needs a systemic coupling");
  }
}

}  // namespace

namespace {

// The default model names the tumour burden: living and doomed tumour cells; observables.csv
// ends with its totals, the whole grid and each observed region, in cells.
TEST(RunBurden, TheDefaultModelsBurdenIsTheSumOfTAndTdTotals) {
  const tme::LoadedScene ls =
      tme::load_scene(std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/model_tme.yaml", tme::Machine{});
  const tme::Problem& p = ls.problem;
  ASSERT_EQ(p.model.burden, (std::vector<int>{field_of(p, "T"), field_of(p, "Td")}));
  const auto totals = tme::total_units(p);
  const std::string header = tme::observables_header(p, totals, false);
  std::string tail = ",burden [cells]";
  for (const tme::NamedMask& r : p.regions) tail += ",burden." + r.name + " [cells]";
  ASSERT_GE(header.size(), tail.size() + 1);
  EXPECT_EQ(header.substr(header.size() - tail.size() - 1), tail + "\n");
  // T = 1e5 cells/mm^3 and Td = 2e4 cells/mm^3 in every voxel of 20 um: 8e-6 mm^3 each.
  std::vector<tme::real> state(size_t(p.nspecies()) * size_t(p.grid.nvox()), 0);
  for (long long v = 0; v < p.grid.nvox(); ++v) {
    state[size_t(field_of(p, "T")) * p.grid.nvox() + v] = 1e5f;
    state[size_t(field_of(p, "Td")) * p.grid.nvox() + v] = 2e4f;
  }
  const auto stats = tme::compute_observables(p, state);
  EXPECT_NEAR(tme::burden_total(stats, totals, p.model.burden, 0), 1.2e5 * 1000 * 8e-6, 1e-9);
  const std::string row = tme::observables_row(0, stats, totals, {}, p.model.burden);
  EXPECT_NE(row.find(",960,"), std::string::npos) << row;
}

}  // namespace
