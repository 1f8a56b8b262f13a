// Patient scenes (host/scene/patient.hpp): a scene without lesions reads as load_scene does;
// each lesion of a `lesions:` list reads as the single-lesion scene made of the shared keys
// and its own keys (seed + its index); a plan's dose in patient coordinates reaches every
// lesion where it lies; the patient's resolved scene loads back to itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "host/io/vtk_io.hpp"
#include "host/rt/dose_map.hpp"
#include "host/scene/patient.hpp"
#include "tests/program.hpp"
#include "tests/same_problem.hpp"

namespace {

namespace fs = std::filesystem;
using tme::LoadedPatient;
using tme::LoadedScene;
using tme::Problem;
using tme::test::expect_same_problem;

const std::string kScenes = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests";

// `text` with every line but empty ones indented by `pad`.
std::string indent(const std::string& text, const std::string& pad) {
  std::string out, line;
  for (char c : text) {
    line += c;
    if (c == '\n') out += (line == "\n" ? "" : pad) + line, line.clear();
  }
  return out + (line.empty() ? "" : pad + line);
}

// The shared keys of the two-lesion scene below (scenes/tests/model_small.yaml's model: its
// state V is a generated vessel map, which draws from the seed).
std::string shared(unsigned long long seed) {
  return "name: pat\nseed: " + std::to_string(seed) + R"(
time: {end: 30 d, output_every: 1 d}
model: {file: model_small_model.yaml, tolerance: 1e-5}
parameters:
  r: 0.25 1/day
species:
  - {name: O2, unit: uM, diffusion: 2000 um^2/s, initial: {regions: {background: 1 uM, core: 2 uM}}}
drugs:
  - {name: drugB, dose: 3 mg/kg q3w x 2, body_weight: 70 kg, start: 2 d}
radiotherapy:
  plans:
    - name: boost
      dose:
        targets: [{sphere: {center: [5 mm, -3 mm, 2 mm], radius: 30 um}, prescription: 4 Gy, penumbra: 20 um}]
        background: 0.5 Gy
      per_fraction: 4 Gy
      schedule: {total: 8 Gy, fractions: 2}
)";
}

// Lesion a: at the patient origin; lesion b: 5 mm, -3 mm, 2 mm away (in the boost's target).
const std::string kLesionA = R"(grid: {shape: [6, 5, 4], spacing: 20 um}
regions:
  core: {sphere: {center: [60 um, 50 um, 40 um], radius: 30 um}}
initial:
  T: {regions: {core: 1e5 cells/mm^3}}
)";
const std::string kLesionB = R"(grid: {shape: [6, 5, 4], spacing: 20 um, origin: [4.94 mm, -3.05 mm, 1.96 mm]}
regions:
  core: {sphere: {center: [5 mm, -3 mm, 2 mm], radius: 30 um}}
tissue:
  labels: [normal, tumour]
  regions: [{label: tumour, region: core}]
initial:
  T: {regions: {core: 2e5 cells/mm^3}}
)";

std::string two_lesions(unsigned long long seed) {
  return shared(seed) + "lesions:\n  - name: a\n" + indent(kLesionA, "    ") + "  - name: b\n" +
         indent(kLesionB, "    ");
}

TEST(Patient, SceneWithoutLesionsIsLoadSceneExactly) {
  for (const char* file : {"model_small.yaml", "full.yaml", "rt_course.yaml"}) {
    SCOPED_TRACE(file);
    const std::string path = kScenes + "/" + file;
    const LoadedScene s = tme::load_scene(path);
    const LoadedPatient p = tme::load_patient(path);
    ASSERT_EQ(p.lesions.size(), 1u);
    EXPECT_TRUE(p.single());
    EXPECT_EQ(p.lesion_names, std::vector<std::string>{""});
    EXPECT_EQ(p.name, s.problem.name);
    EXPECT_EQ(p.path, path);
    EXPECT_EQ(p.resolved_yaml, s.resolved_yaml);  // byte-identical
    EXPECT_EQ(p.lesions[0].resolved_yaml, s.resolved_yaml);
    EXPECT_EQ(p.lesions[0].warnings, s.warnings);
    expect_same_problem(p.lesions[0].problem, s.problem);
  }
}

TEST(Patient, EachLesionIsTheSceneOfTheSharedAndItsOwnKeys) {
  const LoadedPatient p = tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes);
  ASSERT_EQ(p.lesions.size(), 2u);
  EXPECT_FALSE(p.single());
  EXPECT_EQ(p.lesion_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.name, "pat");
  // Lesion i: the single-lesion scene with seed 5 + i.
  const LoadedScene a = tme::load_scene_text(shared(5) + kLesionA, "a.yaml", kScenes);
  const LoadedScene b = tme::load_scene_text(shared(6) + kLesionB, "b.yaml", kScenes);
  {
    SCOPED_TRACE("lesion a");
    expect_same_problem(p.lesions[0].problem, a.problem);
  }
  {
    SCOPED_TRACE("lesion b");
    expect_same_problem(p.lesions[1].problem, b.problem);
  }
  EXPECT_EQ(p.lesions[0].resolved_yaml, a.resolved_yaml);  // the first lesion draws what a scene would
  EXPECT_EQ(p.lesions[1].problem.seed, 6u);
  EXPECT_EQ(p.lesions[1].problem.grid.origin[0], 4940.0);
  EXPECT_EQ(p.lesions[1].problem.grid.origin[1], -3050.0);
  // The two lesions' vessel maps (state V) differ: distinct seeds on equal grids.
  const Problem &pa = p.lesions[0].problem, &pb = p.lesions[1].problem;
  int v = -1;
  for (int s = 0; s < pa.nspecies(); ++s)
    if (pa.species[s].name == "V") v = s;
  ASSERT_GE(v, 0);
  const size_t n = (size_t)pa.grid.nvox();
  const std::vector<tme::real> va(pa.initial.begin() + v * n, pa.initial.begin() + (v + 1) * n),
      vb(pb.initial.begin() + v * n, pb.initial.begin() + (v + 1) * n);
  EXPECT_NE(va, vb);
  // Reproducible: loading again gives the same maps.
  const LoadedPatient again = tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes);
  EXPECT_EQ(again.lesions[1].problem.initial, pb.initial);
}

TEST(Patient, ResolvedPatientShowsEveryLesionAndLoadsToItself) {
  const LoadedPatient p = tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes);
  const std::string& y = p.resolved_yaml;
  EXPECT_EQ(y.find("\ngrid:"), std::string::npos) << y;
  EXPECT_NE(y.find("lesions:\n  - name: a\n    grid:"), std::string::npos) << y;
  EXPECT_NE(y.find("  - name: b\n    grid:"), std::string::npos) << y;
  EXPECT_NE(y.find("origin: [4.94 mm, -3.05 mm, 1.96 mm]"), std::string::npos) << y;
  EXPECT_NE(y.find("labels: [normal, tumour]"), std::string::npos) << y;
  EXPECT_NE(y.find("seed: 5\n"), std::string::npos) << y;
  const LoadedPatient q = tme::load_patient_text(y, "resolved.yaml", kScenes);
  EXPECT_EQ(q.resolved_yaml, y);
  ASSERT_EQ(q.lesions.size(), 2u);
  for (size_t i = 0; i < 2; ++i) expect_same_problem(q.lesions[i].problem, p.lesions[i].problem);
}

TEST(PatientDose, AnalyticPlanIsSampledAtEachLesionsVoxels) {
  const LoadedPatient p = tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes);
  tme::rt::AnalyticDose plan;
  tme::rt::Target t;
  t.center_um[0] = 5000, t.center_um[1] = -3000, t.center_um[2] = 2000;
  t.radius_um = 30;
  t.prescription_Gy = 4;
  t.penumbra_um = 20;
  plan.targets.push_back(t);
  plan.background_Gy = 0.5;
  // Lesion b lies around the target: each voxel gets the dose at its centre in patient
  // coordinates (4.94 mm + (i + 0.5) 20 um, ...), from the background to near the prescription.
  const Problem& b = p.lesions[1].problem;
  const std::vector<tme::real>& db = b.model.plans.at(0).dose;
  double lo = 1e9, hi = 0;
  for (int k = 0; k < b.grid.d.nz; ++k)
    for (int j = 0; j < b.grid.d.ny; ++j)
      for (int i = 0; i < b.grid.d.nx; ++i) {
        const double x[3] = {4940 + (i + 0.5) * 20, -3050 + (j + 0.5) * 20, 1960 + (k + 0.5) * 20};
        const double want = tme::rt::analytic_dose_at(plan, x);
        EXPECT_NEAR(db[b.grid.d.index(i, j, k)], want, 1e-6 * want) << i << " " << j << " " << k;
        lo = std::min(lo, want), hi = std::max(hi, want);
      }
  EXPECT_GT(hi, 3.5);  // voxels near the centre: background + most of the prescription
  EXPECT_LT(lo, 1.0);  // corners beyond the penumbra
  // Lesion a, 6 mm from the target: only the background.
  for (tme::real d : p.lesions[0].problem.model.plans.at(0).dose) EXPECT_EQ(d, tme::real(0.5));
}

TEST(PatientDose, DoseFileIsSampledAtEachLesionsVoxels) {
  const tme::test::TempDir tmp("tmesim_patient");
  // A 4x4x4 image of 1 mm voxels from (4, -4, 0) mm (footprint [4, 8] x [-4, 0] x [0, 4] mm)
  // with the linear dose 1 Gy + 0.5 Gy/mm (x - 4 mm) + 0.25 Gy/mm (y + 4 mm) + 0.1 Gy/mm z at
  // its voxel centres: trilinear sampling reproduces it between the outermost centres.
  tme::GridSpec img;
  img.d = tme::Dims{4, 4, 4};
  const double o[3] = {4000, -4000, 0};
  for (int a = 0; a < 3; ++a) img.h[a] = 1000, img.origin[a] = o[a];
  auto linear = [](const double x[3]) { return 1 + 0.5e-3 * (x[0] - 4000) + 0.25e-3 * (x[1] + 4000) + 0.1e-3 * x[2]; };
  std::vector<double> v;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 4; ++i) {
        const double x[3] = {img.center(0, i), img.center(1, j), img.center(2, k)};
        v.push_back(linear(x));
      }
  tme::write_image_map_vti(tmp.string() + "/dose.vti", img, "dose", v);
  std::string text = two_lesions(5);
  const std::string targets =
      text.substr(text.find("        targets:"), text.find("      per_fraction") - text.find("        targets:"));
  text.replace(text.find(targets), targets.size(), "        file: dose.vti\n        fill: 0.25 Gy\n");
  fs::copy_file(kScenes + "/model_small_model.yaml", tmp.string() + "/model_small_model.yaml");
  fs::copy_file(kScenes + "/model_small_base.yaml", tmp.string() + "/model_small_base.yaml");
  const LoadedPatient p = tme::load_patient_text(text, "pat.yaml", tmp.string());
  const tme::ImageMap im = tme::read_image_map(tmp.string() + "/dose.vti", "dose");
  // Lesion b ([4.94, 5.06] x [-3.05, -2.95] x [1.96, 2.04] mm) lies between the image's
  // outermost centres: each voxel gets the image's trilinear value at its centre, the linear dose.
  const Problem& b = p.lesions[1].problem;
  const std::vector<tme::real>& db = b.model.plans.at(0).dose;
  for (int k = 0; k < b.grid.d.nz; ++k)
    for (int j = 0; j < b.grid.d.ny; ++j)
      for (int i = 0; i < b.grid.d.nx; ++i) {
        const double x[3] = {4940 + (i + 0.5) * 20, -3050 + (j + 0.5) * 20, 1960 + (k + 0.5) * 20};
        EXPECT_NEAR(db[b.grid.d.index(i, j, k)], tme::rt::sample_trilinear(im, x), 1e-6);
        EXPECT_NEAR(db[b.grid.d.index(i, j, k)], linear(x), 1e-6);
      }
  // At a known point: voxel (0, 0, 0) of b at (4.95, -3.04, 1.97) mm: 1 + 0.475 + 0.24 + 0.197 Gy.
  EXPECT_NEAR(db[0], 1.912, 1e-6);
  // Lesion a (at the origin, x < 4 mm) lies outside the image: the fill.
  for (tme::real d : p.lesions[0].problem.model.plans.at(0).dose) EXPECT_EQ(d, tme::real(0.25));
}

TEST(PatientScenes, TwoFlankLoadsWithTheDoseOnOneLesion) {
  const LoadedPatient p = tme::load_patient(std::string(TMESIM_SOURCE_DIR) + "/scenes/patient/two_flank.yaml");
  ASSERT_EQ(p.lesions.size(), 2u);
  EXPECT_EQ(p.lesion_names, (std::vector<std::string>{"irradiated", "abscopal"}));
  for (const LoadedScene& l : p.lesions) {
    EXPECT_EQ(l.problem.grid.d.nx, 24);
    EXPECT_EQ(l.problem.grid.h[0], 100.0);
    ASSERT_EQ(l.problem.model.fractions.size(), 3u);
    EXPECT_EQ(l.problem.model.fractions[0].dose_Gy, 8.0);
  }
  EXPECT_EQ(p.lesions[1].problem.grid.origin[0], 20000.0);
  double top = 0;
  for (tme::real d : p.lesions[0].problem.model.plans.at(0).dose) top = std::max(top, (double)d);
  EXPECT_NEAR(top, 8.0, 1e-3);  // the centre of the irradiated lesion: the prescription
  for (tme::real d : p.lesions[1].problem.model.plans.at(0).dose) EXPECT_EQ(d, tme::real(0));
  // Distinct vessels: the lesions' grids are alike but they draw from seeds 5 and 6.
  EXPECT_EQ(p.lesions[0].problem.seed, 5u);
  EXPECT_EQ(p.lesions[1].problem.seed, 6u);
  EXPECT_NE(p.lesions[0].problem.initial, p.lesions[1].problem.initial);
}

}  // namespace

namespace {

TEST(Patient, LoadSceneRefusesLesions) {
  try {
    tme::load_scene_text(two_lesions(5), "pat.yaml", kScenes);
    FAIL() << "loaded a scene with lesions as one lesion";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(std::string(e.what()),
              "pat.yaml:19:1: lesions: a scene with lesions cannot be read as a single lesion here (expected a scene "
              "with a top-level grid)");
  }
}

TEST(Patient, OverridesReachALesionByName) {
  tme::SceneOverrides o;
  o.set = {"lesions[b].grid.origin=[4.95 mm, -3.05 mm, 1.96 mm]", "time.end=20 d"};
  const LoadedPatient p = tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes, tme::Machine{}, o);
  EXPECT_EQ(p.lesions[1].problem.grid.origin[0], 4950.0);
  EXPECT_EQ(p.lesions[0].problem.time.t_end, 20 * 86400.0);
  EXPECT_EQ(p.lesions[1].problem.time.t_end, 20 * 86400.0);
  EXPECT_NE(p.resolved_yaml.find("origin: [4.95 mm, -3.05 mm, 1.96 mm]"), std::string::npos) << p.resolved_yaml;
  // Moved onto lesion a: refused (before its regions are read), naming the argument.
  o.set = {"lesions[b].grid.origin=[20 um, 0 um, 0 um]"};
  try {
    tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes, tme::Machine{}, o);
    FAIL() << "loaded overlapping lesions";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--set lesions[b].grid.origin=[20 um, 0 um, 0 um]: lesions[1].grid.origin: lesion 'b' ([0.02, 0.14] x "
              "[0, 0.1] x "
              "[0, 0.08] mm) overlaps lesion 'a' ([0, 0.12] x [0, 0.1] x [0, 0.08] mm) (expected lesions whose grids "
              "do not intersect)");
  }
}

}  // namespace

namespace {

TEST(PatientCli, ValidateReportsEachLesion) {
  if (!tme::test::kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
  const tme::test::TempDir tmp("tmesim_patient_cli");
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/patient/two_flank.yaml";
  const tme::test::Result v = tme::test::run_shell(tme::test::kBinary, "validate " + scene, tmp.path());
  EXPECT_EQ(v.code, 0) << v.err;
  const size_t a = v.out.find(scene + " lesion 'irradiated': ok: 24x24x24 voxels, ");
  const size_t b = v.out.find(scene + " lesion 'abscopal': ok: 24x24x24 voxels, ");
  ASSERT_NE(a, std::string::npos) << v.out;
  ASSERT_NE(b, std::string::npos) << v.out;
  EXPECT_LT(a, b);
  EXPECT_NE(v.out.find("  origin: 20 mm, 0 mm, 0 mm\n"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("3 fractions, 24 Gy prescribed, 7.04 d to 11 d; in this lesion 0 to 0 Gy per fraction\n"),
            std::string::npos)
      << v.out;
  // A lesion refused names itself: an overlap.
  const tme::test::Result bad = tme::test::run_shell(
      tme::test::kBinary, "validate " + scene + " --set 'lesions[abscopal].grid.origin=[2 mm, 0 mm, 0 mm]'",
      tmp.path());
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err,
            "error: --set lesions[abscopal].grid.origin=[2 mm, 0 mm, 0 mm]: lesions[1].grid.origin: lesion 'abscopal' "
            "([2, 4.4] x [0, 2.4] x [0, 2.4] mm) overlaps lesion 'irradiated' ([0, 2.4] x [0, 2.4] x [0, 2.4] mm) "
            "(expected lesions whose grids do not intersect)\n");
}

}  // namespace

namespace {

TEST(Patient, LaterLesionsSeeTheMemoryTheEarlierOnesLeave) {
  const LoadedPatient free = tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes);
  const int nf = free.lesions[0].problem.nspecies();
  const tme::MemoryCost all = tme::memory_floor(120, nf, tme::CostBackend::kCpu),
                        none = tme::memory_floor(0, nf, tme::CostBackend::kCpu);
  // Room for one lesion of 6 x 5 x 4 voxels and a half: lesion a fits, lesion b does not.
  tme::Machine m;
  m.host_available = none.host + 1.5 * (all.host - none.host);
  std::string msg;
  try {
    tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes, m);
  } catch (const tme::SceneError& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("6 x 5 x 4 voxels with "), std::string::npos) << msg;
  EXPECT_NE(msg.find(" beside the lesions listed before it (expected at most "), std::string::npos) << msg;
  // Room for both.
  m.host_available = none.host + 2 * (all.host - none.host);
  EXPECT_EQ(tme::load_patient_text(two_lesions(5), "pat.yaml", kScenes, m).lesions.size(), 2u);
}

}  // namespace
