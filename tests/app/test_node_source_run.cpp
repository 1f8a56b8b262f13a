// A lymph node inside a lesion (docs/model.md, "A node inside a lesion"): its lesion decided by
// its centre, positioned errors for a node reaching into a lesion grid with its centre outside
// and for a share out of range; over a run of two lesions the local release equals the node's
// share of its egress to round-off (the lesion's totals from Backend::field_sums), T cells stay
// conserved across node, blood and lesions, and a node outside every lesion grid changes nothing
// (bitwise).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "host/core/simulation.hpp"
#include "host/run/systemic_coupling.hpp"
#include "host/scene/patient.hpp"
#include "host/scene/scene.hpp"
#include "host/scene/systemic_scene.hpp"

namespace {

namespace fs = std::filesystem;
using tme::systemic::SystemicState;

const std::string kScenes = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests";

// Two lesions of 8^3 voxels of 100 um, 20 mm apart, with 10 uM of antigen; one node of radius
// 0.15 mm at `node` (patient coordinates) draining both; `extra`: more scene keys.
std::string scene(const std::string& node, const std::string& extra = "") {
  return "name: node_source\n"
         "time: {end: 4 d, output_every: 1 d, integrator: lod, step: 4 h}\n"
         "model: node_source_model.yaml\n" +
         extra +
         "lesions:\n"
         "  - name: a\n"
         "    grid: {shape: [8, 8, 8], spacing: 100 um, origin: [0 mm, 0 mm, 0 mm]}\n"
         "    initial: {antigen: {constant: 10 uM}}\n"
         "  - name: b\n"
         "    grid: {shape: [8, 8, 8], spacing: 100 um, origin: [20 mm, 0 mm, 0 mm]}\n"
         "    initial: {antigen: {constant: 10 uM}}\n"
         "lymph_nodes:\n"
         "  - {name: n, position: " +
         node + ", radius: 0.15 mm}\n";
}
const std::string kInside = "[0.4 mm, 0.35 mm, 0.45 mm]";  // in lesion a
const std::string kOutside = "[10 mm, 30 mm, 0 mm]";       // clear of both

int field(const tme::Problem& p, const std::string& name) {
  for (int s = 0; s < p.nspecies(); ++s)
    if (p.species[(size_t)s].name == name) return s;
  ADD_FAILURE() << "no field " << name;
  return 0;
}

double cd8_births(const SystemicState& s) { return s.tally.naive_supply + s.tally.expansion; }
double cd8_deaths(const SystemicState& s) {
  return s.tally.naive_return + s.tally.effector_death + s.tally.radiation_naive + s.tally.radiation_chain;
}

// The lesions of a patient on cpu backends, stepped together with its systemic coupling.
struct Lesions {
  tme::LoadedPatient pt;
  std::unique_ptr<tme::SystemicCoupling> coupling;
  std::vector<std::unique_ptr<tme::Backend>> backends;
  std::vector<std::unique_ptr<tme::Simulation>> sims;
  std::vector<tme::Simulation*> ptrs;
  explicit Lesions(tme::LoadedPatient p) : pt(std::move(p)), coupling(tme::make_systemic_coupling(pt)) {
    std::vector<tme::Backend*> bs;
    for (const tme::LoadedScene& l : pt.lesions) {
      backends.push_back(tme::make_backend("cpu"));
      backends.back()->load(l.problem);
      sims.push_back(std::make_unique<tme::Simulation>(l.problem, *backends.back()));
      ptrs.push_back(sims.back().get());
      bs.push_back(backends.back().get());
    }
    coupling->attach(bs);
  }
  double voxel_mm3(size_t l) const {
    const tme::GridSpec& g = pt.lesions[l].problem.grid;
    return g.h[0] * g.h[1] * g.h[2] * 1e-9;
  }
  // Total of field s over lesion l [cells].
  double total(size_t l, int s) {
    std::vector<double> sums;
    backends[l]->field_sums({s}, sums);
    return sums[0] * voxel_mm3(l);
  }
};

// Measures, around each after_step of the coupling, the effector total of lesion 0 just before
// and after it (the release lands in after_step), and the node's local release of that step.
class Probe : public tme::StepCoupling {
 public:
  Probe(Lesions& L, int cd8) : L_(L), cd8_(cd8) {}
  std::vector<int> reduced_fields() const override { return L_.coupling->reduced_fields(); }
  void input_means(int l, double t0, double t1, std::vector<double>& g) override {
    L_.coupling->input_means(l, t0, t1, g);
  }
  void after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) override {
    const double before = L_.total(0, cd8_), local0 = L_.coupling->state().tally.effector_local;
    L_.coupling->after_step(t0, t1, totals);
    const double after = L_.total(0, cd8_), released = L_.coupling->state().tally.effector_local - local0;
    // Round-off: each voxel's new value is rounded in the build's real type (a few eps_real of
    // the total), and each of the two totals is a double sum of n voxel values, whose error is
    // at most (n - 1) eps_double / 2 of the total (the float64 build sees this part: measured
    // up to 26 eps_double of the total).
    const double n = double(L_.pt.lesions[0].problem.grid.nvox());
    const double bound =
        (4 * double(std::numeric_limits<tme::real>::epsilon()) + n * std::numeric_limits<double>::epsilon()) * after +
        1e-12;
    EXPECT_NEAR(after - before, released, bound) << "step ending at " << t1 << " s";
    worst = std::max(worst, std::abs(after - before - released) / std::max(released, 1e-300));
    ++steps;
  }
  double worst = 0;
  int steps = 0;

 private:
  Lesions& L_;
  int cd8_;
};

TEST(NodeSites, TheLesionHoldingTheCentre) {
  const tme::LoadedPatient in = tme::load_patient_text(scene(kInside), "s.yaml", kScenes);
  EXPECT_EQ(in.systemic()->model.nodes[0].local_lesion, 0);
  EXPECT_EQ(in.systemic()->model.local_egress, 0.5);
  EXPECT_EQ(in.systemic()->coupling.effector_field, field(in.lesions[0].problem, "CD8"));
  const tme::LoadedPatient out = tme::load_patient_text(scene(kOutside), "s.yaml", kScenes);
  EXPECT_EQ(out.systemic()->model.nodes[0].local_lesion, -1);
  const tme::LoadedPatient b = tme::load_patient_text(scene("[20.1 mm, 0.7 mm, 0.79 mm]"), "s.yaml", kScenes);
  EXPECT_EQ(b.systemic()->model.nodes[0].local_lesion, 1);
}

std::string scene_error(const std::string& text) {
  try {
    tme::load_patient_text(text, "s.yaml", kScenes);
  } catch (const tme::SceneError& e) {
    return e.what();
  }
  return "<loads>";
}

TEST(NodeSites, PositionedErrors) {
  // the share above 1, from the scene's parameter override, at the model key that reads it
  EXPECT_EQ(scene_error(scene(kInside, "parameters: {node_local_egress: 1.5}\n")),
            kScenes +
                "/node_source_model.yaml:44:19: systemic.node.local_egress: 1.5 is above 1 (expected a share "
                "in [0, 1], e.g. 0.1)");
  // A node inside a lesion whose effector input enters two populations: nowhere to release.
  tme::LoadedSystemic s;
  s.model.nodes.resize(1);
  s.model.nodes[0].name = "n";
  s.model.nodes[0].position_um[0] = 50;
  s.model.local_egress = 0.5;
  s.drains.resize(1);
  s.drains[0].node_where = "s.yaml:12:5";
  s.drains[0].node_path = "lymph_nodes[0]";
  s.coupling.effector_input = 0;
  tme::Model m;
  for (int target : {1, 2}) {
    tme::Term t;
    t.kind = tme::kTermInflux;
    t.target = target;
    t.global = 0;
    m.terms.push_back(t);
  }
  tme::GridSpec g;
  g.d = {4, 4, 4};
  for (double& h : g.h) h = 100;
  try {
    tme::resolve_node_sites(s, {g}, {"a"}, m);
    ADD_FAILURE() << "no error";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(std::string(e.what()),
              "s.yaml:12:5: lymph_nodes[0]: lymph node 'n' lies in lesion 'a' and releases a share of its effectors "
              "there, but the effector blood input enters 2 populations (expected one population to release into, "
              "or local_egress 0)");
  }
  s.model.local_egress = 0;  // releasing nothing: no population needed
  tme::resolve_node_sites(s, {g}, {"a"}, m);
  EXPECT_EQ(s.model.nodes[0].local_lesion, 0);
  EXPECT_EQ(s.coupling.effector_field, -1);
}

TEST(NodeRelease, LocalReleaseIsTheEgressShareAndTCellsAreConserved) {
  Lesions L(tme::load_patient_text(scene(kInside), "s.yaml", kScenes));
  const tme::Problem& p = L.pt.lesions[0].problem;
  const int cd8 = field(p, "CD8");
  const int entered = L.pt.systemic()->coupling.effector_tally_field;
  const double cd8_0 = L.coupling->state().cd8_total(), lesions_0 = L.total(0, cd8) + L.total(1, cd8);
  Probe probe(L, cd8);
  tme::Simulation::advance_together(L.ptrs, 4 * 86400.0, {}, {}, &probe);
  EXPECT_EQ(probe.steps, 24);
  const SystemicState& s = L.coupling->state();
  EXPECT_GT(s.tally.effector_local, 100.0);  // the node has released cells
  EXPECT_GT(s.tally.egress, 2 * s.tally.effector_local * (1 - 1e-12));
  EXPECT_NEAR(s.tally.effector_local, 0.5 * s.tally.egress, 1e-12 * s.tally.egress);
  // Lesion a holds what entered it from blood and what the node released; lesion b what entered.
  const double a = L.total(0, cd8), b = L.total(1, cd8);
  // The tallies are emptied after every step: what entered is their running sum.
  EXPECT_EQ(L.total(0, entered), 0.0);
  const double in_a = L.coupling->effectors_entered()[0], in_b = L.coupling->effectors_entered()[1];
  EXPECT_NEAR(a, in_a + s.tally.effector_local, 1e-6 * a);
  EXPECT_NEAR(b, in_b, 1e-6 * b);
  // Nodes + blood + lesions + deaths - births is constant.
  const double now = s.cd8_total() + a + b + cd8_deaths(s) - cd8_births(s);
  EXPECT_NEAR(now, cd8_0 + lesions_0, 1e-6 * cd8_0);
}

TEST(NodeRelease, NodeOutsideEveryLesionChangesNothing) {
  Lesions share(tme::load_patient_text(scene(kOutside), "s.yaml", kScenes));
  Lesions none(tme::load_patient_text(scene(kOutside, "parameters: {node_local_egress: 0}\n"), "s.yaml", kScenes));
  tme::Simulation::advance_together(share.ptrs, 4 * 86400.0, {}, {}, share.coupling.get());
  tme::Simulation::advance_together(none.ptrs, 4 * 86400.0, {}, {}, none.coupling.get());
  for (size_t l = 0; l < 2; ++l) {
    std::vector<tme::real> x, y;
    share.backends[l]->read_state(x);
    none.backends[l]->read_state(y);
    EXPECT_EQ(x, y) << "lesion " << l;
  }
  EXPECT_EQ(share.coupling->saved_state(), none.coupling->saved_state());
  EXPECT_EQ(share.coupling->state().tally.effector_local, 0.0);
  EXPECT_GT(share.coupling->state().tally.egress, 100.0);
}

}  // namespace
