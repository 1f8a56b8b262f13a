// The well-mixed mode (scene key well_mixed; host/core/well_mixed.hpp): the default model on
// one voxel equals a uniform 3D run of it (uniform state, vessels and dose, no-flux faces),
// field by field at several times, through drug doses and radiotherapy fractions; the
// one-voxel problem's means, volume and regions; the refusal of held values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/simulation.hpp"
#include "host/run/systemic_coupling.hpp"
#include "host/scene/patient.hpp"
#include "host/scene/scene.hpp"

namespace {

const std::string kScenesDir = std::string(TMESIM_SOURCE_DIR) + "/scenes";

// The default model on a 4^3 grid, every field uniform: vessels as a constant surface density,
// a dose box wider than the grid (no penumbra), anti-PD-1 and anti-CTLA-4 doses, two fractions.
const std::string kUniform = R"(name: uniform
seed: 5
grid: {shape: [4, 4, 4], spacing: 50 um}
time: {end: 10 d, output_every: 1 d, integrator: lod, step: 1 h}
regions:
  tumour: {box: {min: [0 um, 0 um, 0 um], max: [200 um, 200 um, 200 um]}}
model: models/tme.yaml
initial:
  T: {constant: 1.5e5 cells/mm^3}
  CD8: {constant: 200 cells/mm^3}
  Treg: {constant: 50 cells/mm^3}
  Myeloid: {constant: 300 cells/mm^3}
  IFNg: {constant: 0.05 ng/mL}
  vasculature: {constant: 3e-3 1/um}
drugs:
  - {name: antiPD1, dose: 200 mg q3w, start: 0 d}
  - {name: antiCTLA4, dose: 3 mg/kg q3w, start: 1 d, body_weight: 70 kg}
radiotherapy:
  response:
    - {population: T, alpha: 0.146 1/Gy, beta: 0.0146 1/Gy^2, doomed: Td}
    - {population: CD8, alpha: 0.2 1/Gy, beta: 0.14 1/Gy^2}
  releases:
    - {field: IFN1, kind: interferon, yield: 1e-4 pg/mL/Gy/(cells/mm^3), per: T}
    - {field: STING, kind: interferon, yield: 0.1 1/Gy, max: 1}
  plans:
    - name: all
      dose:
        targets:
          - {box: {min: [-1 mm, -1 mm, -1 mm], max: [1 mm, 1 mm, 1 mm]}, prescription: 8 Gy, penumbra: 0 um}
      per_fraction: 8 Gy
      schedule: {times: [2 d, 5 d]}
)";

class WellMixed : public ::testing::TestWithParam<std::string> {};

TEST_P(WellMixed, EqualsAUniform3DRun) {
  if (GetParam() == "cuda" && !tme::cuda_available()) GTEST_SKIP() << "no CUDA device";
  const tme::LoadedScene d3 = tme::load_scene_text(kUniform, "uniform.yaml", kScenesDir);
  const tme::LoadedScene d1 = tme::load_scene_text(kUniform + "well_mixed: grid\n", "uniform.yaml", kScenesDir);
  const tme::Problem& p3 = d3.problem;
  const tme::Problem& p1 = d1.problem;
  ASSERT_EQ(p3.grid.nvox(), 64);
  ASSERT_EQ(p1.grid.nvox(), 1);
  ASSERT_EQ(p1.nspecies(), p3.nspecies());
  ASSERT_EQ(p3.model.fractions.size(), 2u);
  // The one voxel has the grid's volume.
  EXPECT_DOUBLE_EQ(p1.grid.h[0] * p1.grid.h[1] * p1.grid.h[2], 64 * 50.0 * 50.0 * 50.0);
  // The mean of 64 equal values summed in order: exact in float32; in float64 within the
  // summation bound (n - 1) eps of the sum.
  for (int s = 0; s < p3.nspecies(); ++s) {
    const double v = p3.initial[(size_t)s * 64];
    EXPECT_NEAR(p1.initial[s], v, 64 * std::numeric_limits<tme::real>::epsilon() * std::fabs(v)) << p3.species[s].name;
  }

  auto b3 = tme::make_backend(GetParam());
  auto b1 = tme::make_backend(GetParam());
  b3->load(p3);
  b1->load(p1);
  tme::Simulation s3(p3, *b3), s1(p1, *b1);
  std::vector<tme::real> x3, x1;
  int checked = 0;
  for (double day : {0.5, 2.0, 2.5, 5.0, 7.25, 10.0}) {
    s3.advance_to(day * 86400);
    s1.advance_to(day * 86400);
    b3->read_state(x3);
    b1->read_state(x1);
    for (int s = 0; s < p3.nspecies(); ++s) {
      // The 3D run stays uniform up to the round-off of its line solves.
      const double a = x1[s];
      const double tol = 1e-5 * std::fabs(a) + 1e-30;
      for (long long v = 0; v < 64; ++v) {
        const double b = x3[(size_t)s * 64 + v];
        ASSERT_NEAR(b, a, tol) << p3.species[s].name << " voxel " << v << " day " << day;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6 * p3.nspecies());
  // The course did act: the tumour lost cells to the fractions, antibody reached the tissue.
  const int T = 10, Td = 11, antiPD1 = 7;
  EXPECT_EQ(p3.species[T].name, "T");
  EXPECT_EQ(p3.species[Td].name, "Td");
  EXPECT_EQ(p3.species[antiPD1].name, "antiPD1");
  EXPECT_LT(x1[T], 1.2e5);
  EXPECT_GT(x1[antiPD1], 0);
}

// Two uniform lesions of the default model (2^3 voxels each, 20 mm apart), one lymph node
// draining both and getting a tenth of each fraction, anti-PD-1 and anti-CTLA-4, two fractions
// to lesion 'a' only: the systemic compartments couple to every lesion's voxel.
const std::string kUniformNodes = R"(name: uniform_nodes
seed: 5
time: {end: 4 d, output_every: 1 d, integrator: lod, step: 1 h}
model: models/tme.yaml
drugs:
  - {name: antiPD1, dose: 200 mg q3w, start: 0 d}
  - {name: antiCTLA4, dose: 3 mg/kg q3w, start: 1 d, body_weight: 70 kg}
radiotherapy:
  response:
    - {population: T, alpha: 0.146 1/Gy, beta: 0.0146 1/Gy^2, doomed: Td}
    - {population: CD8, alpha: 0.2 1/Gy, beta: 0.14 1/Gy^2}
  releases:
    - {field: IFN1, kind: interferon, yield: 1e-4 pg/mL/Gy/(cells/mm^3), per: T}
    - {field: STING, kind: interferon, yield: 0.1 1/Gy, max: 1}
  plans:
    - name: a_only
      dose:
        targets:
          - {box: {min: [-1 mm, -1 mm, -1 mm], max: [1 mm, 1 mm, 1 mm]}, prescription: 8 Gy, penumbra: 0 um}
      per_fraction: 8 Gy
      schedule: {times: [1 d, 3 d]}
lesions:
  - name: a
    grid: {shape: [2, 2, 2], spacing: 100 um, origin: [0 mm, 0 mm, 0 mm]}
    initial: &init
      T: {constant: 1.5e5 cells/mm^3}
      CD8: {constant: 200 cells/mm^3}
      Treg: {constant: 50 cells/mm^3}
      Myeloid: {constant: 300 cells/mm^3}
      IFNg: {constant: 0.05 ng/mL}
      vasculature: {constant: 3e-3 1/um}
  - name: b
    grid: {shape: [2, 2, 2], spacing: 100 um, origin: [20 mm, 0 mm, 0 mm]}
    initial: *init
lymph_nodes:
  - {name: n, position: [10 mm, 30 mm, 0 mm], radius: 5 mm, dose: {a_only: 0.1}}
)";

// One lesion's run and the compartments, stepped together.
struct CoupledRun {
  tme::LoadedPatient patient;
  std::unique_ptr<tme::SystemicCoupling> coupling;
  std::vector<std::unique_ptr<tme::Backend>> backends;
  std::vector<std::unique_ptr<tme::Simulation>> sims;
  CoupledRun(const std::string& text, const std::string& backend)
      : patient(tme::load_patient_text(text, "uniform_nodes.yaml", kScenesDir)),
        coupling(tme::make_systemic_coupling(patient)) {
    std::vector<tme::Backend*> bs;
    for (const tme::LoadedScene& ls : patient.lesions) {
      backends.push_back(tme::make_backend(backend));
      backends.back()->load(ls.problem);
      sims.push_back(std::make_unique<tme::Simulation>(ls.problem, *backends.back()));
      bs.push_back(backends.back().get());
    }
    coupling->attach(bs);
  }
  void advance_to(double t) {
    std::vector<tme::Simulation*> ptrs;
    for (auto& s : sims) ptrs.push_back(s.get());
    tme::Simulation::advance_together(ptrs, t, {}, {}, coupling.get());
  }
};

TEST_P(WellMixed, WithLymphNodesEqualsAUniform3DRunPerLesion) {
  if (GetParam() == "cuda" && !tme::cuda_available()) GTEST_SKIP() << "no CUDA device";
  CoupledRun d3(kUniformNodes, GetParam()), d1(kUniformNodes + "well_mixed: grid\n", GetParam());
  ASSERT_EQ(d3.patient.lesions.size(), 2u);
  ASSERT_EQ(d1.patient.lesions.size(), 2u);
  ASSERT_TRUE(d3.coupling);
  ASSERT_TRUE(d1.coupling);
  for (const tme::LoadedScene& ls : d1.patient.lesions) ASSERT_EQ(ls.problem.grid.nvox(), 1);
  const int nsp = d3.patient.lesions[0].problem.nspecies();
  const int T = 10;
  ASSERT_EQ(d3.patient.lesions[0].problem.species[T].name, "T");
  std::vector<tme::real> x3, x1;
  double blood0 = d1.coupling->effector_blood_per_mL();
  for (double day : {0.5, 1.5, 3.25, 4.0}) {
    d3.advance_to(day * 86400);
    d1.advance_to(day * 86400);
    for (size_t l = 0; l < 2; ++l) {
      d3.backends[l]->read_state(x3);
      d1.backends[l]->read_state(x1);
      for (int s = 0; s < nsp; ++s) {
        // The 3D lesions stay uniform up to the round-off of their line solves.
        const double a = x1[s];
        const double tol = 1e-5 * std::fabs(a) + 1e-30;
        for (long long v = 0; v < 8; ++v)
          ASSERT_NEAR(x3[(size_t)s * 8 + v], a, tol)
              << d3.patient.lesions[l].problem.species[s].name << " lesion " << l << " voxel " << v << " day " << day;
      }
    }
    // The compartments received the same totals: the same blood, nodes and entries.
    const double e3 = d3.coupling->effector_blood_per_mL(), e1 = d1.coupling->effector_blood_per_mL();
    EXPECT_NEAR(e3, e1, 1e-5 * e1) << day;
    EXPECT_NEAR(d3.coupling->state().nodes[0].presented_nmol, d1.coupling->state().nodes[0].presented_nmol,
                1e-5 * d1.coupling->state().nodes[0].presented_nmol)
        << day;
    for (size_t l = 0; l < 2; ++l)
      EXPECT_NEAR(d3.coupling->effectors_entered()[l], d1.coupling->effectors_entered()[l],
                  1e-5 * d1.coupling->effectors_entered()[l])
          << day << " lesion " << l;
  }
  // The course acted on lesion 'a' only, and the node primed: blood effectors changed and
  // both lesions took cells from blood.
  d1.backends[0]->read_state(x1);
  const double Ta = x1[T];
  d1.backends[1]->read_state(x1);
  EXPECT_LT(Ta, 0.5 * x1[T]);
  EXPECT_GT(d1.coupling->state().tally.primed, 0.0);
  EXPECT_NE(d1.coupling->effector_blood_per_mL(), blood0);
  EXPECT_GT(d1.coupling->effectors_entered()[0], 0.0);
  EXPECT_GT(d1.coupling->effectors_entered()[1], 0.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, WellMixed, ::testing::Values("cpu", "cuda"));

TEST(WellMixedProblem, MeansVolumeAndRegions) {
  // Half the grid (x < 100 um) at 2e5 cells/mm^3 and half at 0: the grid mean is 1e5, the
  // tumour region's mean 2e5 over its 32 voxels.
  const std::string scene = R"(name: halves
grid: {shape: [4, 4, 4], spacing: 50 um}
time: {end: 1 d, output_every: 1 d}
regions:
  tumour: {box: {min: [0 um, 0 um, 0 um], max: [100 um, 200 um, 200 um]}}
  corner: {box: {min: [0 um, 0 um, 0 um], max: [50 um, 50 um, 50 um]}}
populations:
  - {name: T, motility: 0 um^2/s, initial: {regions: {background: 0 cells/mm^3, tumour: 2e5 cells/mm^3}}}
)";
  const tme::LoadedScene grid = tme::load_scene_text(scene + "well_mixed: grid\n", "h.yaml", ".");
  EXPECT_DOUBLE_EQ(grid.problem.initial[0], 1e5);
  EXPECT_EQ(grid.regions.size(), 2u);
  EXPECT_EQ(grid.regions[0].mask, std::vector<uint8_t>{0});  // 32 of 64: not more than half
  EXPECT_EQ(grid.regions[1].mask, std::vector<uint8_t>{0});
  const tme::LoadedScene t = tme::load_scene_text(scene + "well_mixed: tumour\n", "h.yaml", ".");
  EXPECT_DOUBLE_EQ(t.problem.initial[0], 2e5);
  EXPECT_NEAR(t.problem.grid.h[0] * t.problem.grid.h[1] * t.problem.grid.h[2], 32 * 50.0 * 50.0 * 50.0, 1e-6);
  EXPECT_EQ(t.regions[0].mask, std::vector<uint8_t>{1});
  EXPECT_EQ(t.regions[1].mask, std::vector<uint8_t>{0});
  EXPECT_NE(t.resolved_yaml.find("well_mixed: tumour"), std::string::npos);
  try {
    tme::load_scene_text(scene + "well_mixed: nowhere\n", "h.yaml", ".");
    FAIL() << "no error";
  } catch (const tme::SceneError& e) {
    EXPECT_STREQ(e.what(),
                 "h.yaml:9:13: well_mixed: 'nowhere' is not none, grid or a region to average over (expected "
                 "none, grid, tumour or corner)");
  }
}

}  // namespace
