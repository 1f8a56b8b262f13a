// The systemic compartments as a scene declares them: the default model's `systemic` section
// read into internal units, lymph nodes placed in patient coordinates with their doses per
// plan (sampled from an analytic plan, or a declared fraction of the prescription), node
// irradiation at those doses, drained lesions resolved by name, and exact positioned errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "host/rt/dose_map.hpp"
#include "host/scene/patient.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace {

using tme::LoadedScene;
using tme::LoadedSystemic;

constexpr double kDay = 86400.0;
const std::string kScenes = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests";

// The scene's head: the default model on a tiny grid; `rest` adds sections.
std::string scene(const std::string& rest) {
  return "name: sys\n"                                                            // 1
         "grid: {shape: [4, 4, 4], spacing: 20 um}\n"                             // 2
         "time: {end: 10 d, output_every: 1 d}\n"                                 // 3
         "model: ../models/tme.yaml\n"                                            // 4
         "radiotherapy:\n"                                                        // 5
         "  response: [{population: CD8, alpha: alpha_node, beta: beta_node}]\n"  // 6
         "  plans:\n"                                                             // 7
         "    - name: tumour\n"                                                   // 8
         "      dose:\n"                                                          // 9
         "        targets: [{sphere: {center: [40 um, 40 um, 40 um], radius: 1 mm}, prescription: 8 Gy, "
         "penumbra: 0.2 mm}]\n"                               // 10
         "        background: 0.1 Gy\n"                       // 11
         "      per_fraction: 8 Gy\n"                         // 12
         "      schedule: {times: [1 d], doses: [8 Gy]}\n" +  // 13
         rest;                                                // 14-
}

const std::string kNodes =
    "lymph_nodes:\n"                                                                             // 14
    "  - {name: inside, position: [0.5 mm, 0 mm, 0 mm], radius: 2 mm}\n"                         // 15
    "  - {name: outside, position: [50 mm, 0 mm, 0 mm], radius: 5 mm}\n"                         // 16
    "  - {name: declared, position: [1 cm, 0 cm, 0 cm], radius: 5 mm, dose: {tumour: 0.05}}\n";  // 17

LoadedScene load(const std::string& text) { return tme::load_scene_text(text, "s.yaml", kScenes); }

std::string error_of(const std::string& text, const std::string& dir = kScenes) {
  try {
    tme::load_scene_text(text, "s.yaml", dir);
  } catch (const tme::SceneError& e) {
    return e.what();
  }
  return "<loads>";
}

int global_index(const LoadedScene& ls, const std::string& name) {
  for (size_t i = 0; i < ls.problem.model.globals.size(); ++i)
    if (ls.problem.model.globals[i].name == name) return (int)i;
  return -1;
}

TEST(SystemicScene, DefaultModelSectionInInternalUnits) {
  const LoadedScene ls = load(scene(kNodes));
  ASSERT_TRUE(ls.systemic.has_value());
  const tme::systemic::SystemicModel& m = ls.systemic->model;
  const tme::systemic::Coupling& c = ls.systemic->coupling;
  EXPECT_DOUBLE_EQ(m.blood_volume_mL, 5000);
  EXPECT_DOUBLE_EQ(m.k_effector_death, 0.05 / kDay);
  EXPECT_DOUBLE_EQ(m.treg_blood_rest, 3.5e4 * 5000);
  EXPECT_DOUBLE_EQ(m.k_treg_turnover, 0.05 / kDay);
  EXPECT_DOUBLE_EQ(m.k_treg_depletion, 0.1 / kDay);
  EXPECT_DOUBLE_EQ(m.kd_antiCTLA4_nM, 18);
  EXPECT_DOUBLE_EQ(m.node_antibody_ratio, 0.3);
  EXPECT_DOUBLE_EQ(m.ctla4_boost, 1);
  EXPECT_DOUBLE_EQ(m.k_antigen_deg, 2 / kDay);
  EXPECT_DOUBLE_EQ(m.k_apc_migration, 4 / kDay);
  EXPECT_DOUBLE_EQ(m.k_presentation_loss, 0.5 / kDay);
  EXPECT_DOUBLE_EQ(m.presented_half_nmol, 1e-3);
  EXPECT_DOUBLE_EQ(m.k_prime, 23 / kDay);
  EXPECT_DOUBLE_EQ(m.treg_half_per_mL, 3.5e4);
  EXPECT_EQ(m.chain_stages, 8);
  EXPECT_DOUBLE_EQ(m.priming_delay_s, 8 * kDay);
  EXPECT_DOUBLE_EQ(m.expansion_rate, 1 / kDay);
  EXPECT_DOUBLE_EQ(m.naive_per_node, 1000);
  EXPECT_DOUBLE_EQ(m.k_naive_return, 24 / kDay);
  EXPECT_DOUBLE_EQ(m.lymph_alpha_per_Gy, 0.2);
  EXPECT_DOUBLE_EQ(m.lymph_beta_per_Gy2, 0.14);
  EXPECT_DOUBLE_EQ(m.homing_loss_per_Gy, 0.1);
  EXPECT_DOUBLE_EQ(m.homing_recovery_s, 14 * kDay);
  EXPECT_EQ(c.effector_input, global_index(ls, "CD8_blood"));
  EXPECT_EQ(c.treg_input, global_index(ls, "Treg_blood"));
  EXPECT_EQ(c.antiCTLA4_drug, 2);
  EXPECT_EQ(ls.problem.model.drugs[2].name, "antiCTLA4");
  EXPECT_EQ(ls.problem.species[(size_t)c.antigen_field].name, "antigen");
  EXPECT_DOUBLE_EQ(c.antigen_drainage_per_s, 0.0015 / 60);
  EXPECT_DOUBLE_EQ(c.antigen_nmol_per_unit_um3, 1e-15);  // 1 nM in 1 um^3
  EXPECT_DOUBLE_EQ(c.effector_initial_per_mL, 5050);
  // three nodes, each draining the scene's one lesion
  EXPECT_EQ(m.nlesions, 1);
  ASSERT_EQ(m.nodes.size(), 3u);
  EXPECT_EQ(m.nodes[1].name, "outside");
  EXPECT_DOUBLE_EQ(m.nodes[1].position_um[0], 50000);
  EXPECT_DOUBLE_EQ(m.nodes[1].radius_um, 5000);
  for (const auto& n : m.nodes) EXPECT_EQ(n.drains, std::vector<int>{0});
  EXPECT_NO_THROW(tme::systemic::check(m));
  // the resolved scene shows both sections and reloads to the same text
  EXPECT_NE(ls.resolved_yaml.find("\nsystemic:"), std::string::npos);
  EXPECT_NE(ls.resolved_yaml.find("\nlymph_nodes:"), std::string::npos);
  EXPECT_EQ(tme::load_scene_text(ls.resolved_yaml, "resolved.yaml", kScenes).resolved_yaml, ls.resolved_yaml);
}

// Node doses: the analytic plan at the node's centre per Gy of the fraction; a node outside
// every field gets only the background; a declared fraction of the prescription as given.
// Irradiating each node at its dose lowers its lymphocytes by exactly the LQ survival.
TEST(SystemicScene, NodeDosesAndTheirLqKill) {
  const LoadedScene ls = load(scene(kNodes));
  const LoadedSystemic& s = *ls.systemic;
  ASSERT_EQ(s.coupling.node_dose_per_Gy.size(), 3u);
  tme::rt::AnalyticDose plan;
  tme::rt::Target t;
  t.center_um[0] = t.center_um[1] = t.center_um[2] = 40;
  t.radius_um = 1000;
  t.prescription_Gy = 8;
  t.penumbra_um = 200;
  plan.targets.push_back(t);
  plan.background_Gy = 0.1;
  const double inside[3] = {500, 0, 0};
  EXPECT_EQ(s.coupling.node_dose_per_Gy[0], std::vector<double>{tme::rt::analytic_dose_at(plan, inside) / 8});
  EXPECT_GT(s.coupling.node_dose_per_Gy[0][0] * 8, 7.9);                    // well inside the field: about 8.1 Gy
  EXPECT_EQ(s.coupling.node_dose_per_Gy[1], std::vector<double>{0.1 / 8});  // the background only
  EXPECT_EQ(s.coupling.node_dose_per_Gy[2], std::vector<double>{0.05});

  const tme::systemic::SystemicModel& m = s.model;
  tme::systemic::SystemicState st = tme::systemic::rest_state(m);
  st.nodes[0].chain[3] = 500;
  const tme::FractionEvent& f = ls.problem.model.fractions.at(0);
  for (int n = 0; n < 3; ++n) {
    const double d = s.coupling.node_dose_per_Gy[(size_t)n][(size_t)f.plan] * f.dose_Gy;
    const double before = st.nodes[(size_t)n].naive, chain = st.nodes[(size_t)n].chain[3];
    tme::systemic::irradiate_node(m, st, n, d);
    const double S = std::exp(-0.2 * d - 0.14 * d * d);
    EXPECT_EQ(st.nodes[(size_t)n].naive, before * S) << n;
    EXPECT_EQ(st.nodes[(size_t)n].chain[3], chain * S) << n;
  }
  EXPECT_NEAR(st.nodes[1].naive, 1000 * std::exp(-0.2 * 0.1 - 0.14 * 0.01), 1e-9);
}

// The run's starting state and antigen drainage from the declared coupling: blood effectors at
// n_CD8_blood x 5 L; 1 uM of antigen in 1 mm^3 (1e-6 L: 1e-3 nmol) drains 1e-3 x 0.0015 nmol/min.
TEST(SystemicScene, InitialStateAndDrainageFromTheCoupling) {
  const LoadedScene ls = load(scene(kNodes));
  const LoadedSystemic& s = *ls.systemic;
  const tme::systemic::SystemicState st = tme::systemic::initial_state(s.model, s.coupling);
  EXPECT_DOUBLE_EQ(st.effector_blood, 5050.0 * 5000);
  EXPECT_DOUBLE_EQ(st.treg_blood, 3.5e4 * 5000);
  EXPECT_DOUBLE_EQ(st.nodes[2].naive, 1000);
  EXPECT_DOUBLE_EQ(tme::systemic::antigen_drained_nmol_per_s(s.coupling, 1000 * 1e9), 1e-3 * 0.0015 / 60);
}

// A node with a course of its own: a plan aimed at the node, whose dose reaches the lesion
// (centre 40 um) only as the plan's background, and the node at its prescription.
TEST(SystemicScene, ANodeCanHaveItsOwnPlan) {
  std::string text = scene(kNodes);
  const std::string own =
      "    - name: node_course\n"
      "      dose:\n"
      "        targets: [{sphere: {center: [50 mm, 0 mm, 0 mm], radius: 8 mm}, prescription: 2 Gy}]\n"
      "      per_fraction: 2 Gy\n"
      "      schedule: {times: [3 d, 4 d], doses: [2 Gy, 2 Gy]}\n";
  text.insert(text.find("lymph_nodes:"), own);
  const LoadedScene ls = load(text);
  const LoadedSystemic& s = *ls.systemic;
  EXPECT_EQ(s.coupling.node_dose_per_Gy[1], (std::vector<double>{0.1 / 8, 1.0}));  // 'outside': its own course
  EXPECT_EQ(s.coupling.node_dose_per_Gy[0][1], 0.0);                               // 'inside' is 49.5 mm away
  EXPECT_EQ(s.coupling.node_dose_per_Gy[2], (std::vector<double>{0.05, 0.0}));     // declared for 'tumour' only
  // the lesion's voxels get nothing from the node's plan
  for (double d : ls.problem.model.plans[1].dose) EXPECT_EQ(d, 0.0);
  EXPECT_EQ(ls.problem.model.fractions.size(), 3u);
}

TEST(SystemicScene, WithoutLymphNodesBloodStaysPrescribed) {
  const LoadedScene ls = load(scene(""));
  EXPECT_FALSE(ls.systemic.has_value());
  EXPECT_EQ(ls.resolved_yaml.find("systemic:"), std::string::npos);
  EXPECT_EQ(ls.resolved_yaml.find("lymph_nodes:"), std::string::npos);
}

// Drained lesions by name against the scene's lesion names.
TEST(SystemicScene, DrainsResolveAgainstLesionNames) {
  LoadedSystemic s;
  s.model.nodes.resize(2);
  s.drains.resize(2);
  s.drains[0].listed = true;
  s.drains[0].names = {"right", "left"};
  s.drains[0].where = {"s.yaml:20:14", "s.yaml:20:21"};
  s.drains[0].paths = {"lymph_nodes[0].drains[0]", "lymph_nodes[0].drains[1]"};
  tme::resolve_node_drains(s, {"left", "middle", "right"});
  EXPECT_EQ(s.model.nlesions, 3);
  EXPECT_EQ(s.model.nodes[0].drains, (std::vector<int>{2, 0}));
  EXPECT_EQ(s.model.nodes[1].drains, (std::vector<int>{0, 1, 2}));  // no drains key: every lesion
  auto message = [&](const std::vector<std::string>& lesions) {
    try {
      tme::resolve_node_drains(s, lesions);
    } catch (const tme::SceneError& e) {
      return std::string(e.what());
    }
    return std::string("<resolves>");
  };
  EXPECT_EQ(message({"left", "lung"}),
            "s.yaml:20:14: lymph_nodes[0].drains[0]: 'right' is not a lesion of the scene (expected a lesion name: "
            "one of left, lung)");
  s.drains[0].names = {"left", "left"};
  EXPECT_EQ(message({"left", "lung"}),
            "s.yaml:20:21: lymph_nodes[0].drains[1]: lesion 'left' is listed twice (expected each lesion at most "
            "once)");
  s.drains[0].names = {};
  EXPECT_EQ(message({"left", "lung"}), "<resolves>");
  EXPECT_TRUE(s.model.nodes[0].drains.empty());  // an empty list drains no lesion
}

// A patient: nodes drain lesions by name; every lesion holds the same compartments.
const std::string kPatient =
    "name: p\n"                                                                                   // 1
    "time: {end: 10 d, output_every: 1 d}\n"                                                      // 2
    "model: ../models/tme.yaml\n"                                                                 // 3
    "lesions:\n"                                                                                  // 4
    "  - {name: left, grid: {shape: [2, 2, 2], spacing: 20 um, origin: [0 mm, 0 mm, 0 mm]}}\n"    // 5
    "  - {name: right, grid: {shape: [2, 2, 2], spacing: 20 um, origin: [20 mm, 0 mm, 0 mm]}}\n"  // 6
    "lymph_nodes:\n"                                                                              // 7
    "  - {name: a, position: [0 mm, 5 mm, 0 mm], radius: 5 mm, drains: [right, left]}\n"          // 8
    "  - {name: b, position: [20 mm, 5 mm, 0 mm], radius: 5 mm, drains: [DRAINED]}\n"             // 9
    "  - {name: c, position: [10 mm, 5 mm, 0 mm], radius: 5 mm}\n";                               // 10

std::string with_drained(const std::string& name) {
  std::string t = kPatient;
  t.replace(t.find("DRAINED"), 7, name);
  return t;
}

TEST(SystemicScene, PatientNodesDrainLesionsByName) {
  const tme::LoadedPatient p = tme::load_patient_text(with_drained("right"), "p.yaml", kScenes);
  ASSERT_EQ(p.lesions.size(), 2u);
  ASSERT_TRUE(p.systemic().has_value());
  const tme::systemic::SystemicModel& m = p.systemic()->model;
  EXPECT_EQ(m.nlesions, 2);
  ASSERT_EQ(m.nodes.size(), 3u);
  EXPECT_EQ(m.nodes[0].drains, (std::vector<int>{1, 0}));
  EXPECT_EQ(m.nodes[1].drains, std::vector<int>{1});
  EXPECT_EQ(m.nodes[2].drains, (std::vector<int>{0, 1}));  // no drains: every lesion
  ASSERT_TRUE(p.lesions[1].systemic.has_value());
  EXPECT_EQ(p.lesions[1].systemic->model.nodes[0].drains, m.nodes[0].drains);
  EXPECT_NE(p.resolved_yaml.find("\nlymph_nodes:"), std::string::npos);
  EXPECT_EQ(tme::load_patient_text(p.resolved_yaml, "resolved.yaml", kScenes).resolved_yaml, p.resolved_yaml);
  try {
    tme::load_patient_text(with_drained("lung"), "p.yaml", kScenes);
    ADD_FAILURE() << "loads";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(std::string(e.what()),
              "p.yaml:9:69: lymph_nodes[1].drains[0]: 'lung' is not a lesion of the scene (expected a lesion name: "
              "one of left, right)");
  }
}

TEST(SystemicScene, PositionedErrors) {
  // a scene without a lesions list: a node names no lesion
  EXPECT_EQ(error_of(scene("lymph_nodes:\n  - {name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 mm, drains: "
                           "[lung]}\n")),
            "s.yaml:15:68: lymph_nodes[0].drains[0]: 'lung' is not a lesion of the scene (expected no drains: a scene "
            "without a lesions list is one lesion, which a node without drains drains)");
  EXPECT_EQ(error_of(scene("lymph_nodes:\n  - {name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 mm, drain: []}\n")),
            "s.yaml:15:59: lymph_nodes[0].drain: unknown key 'drain' (expected one of: name, position, radius, "
            "drains, dose)");
  EXPECT_EQ(error_of(scene("lymph_nodes:\n  - {name: a, position: [0, 0 mm, 0 mm], radius: 1 mm}\n")),
            "s.yaml:15:26: lymph_nodes[0].position[0]: '0' has no unit (expected a value in um, e.g. '100 um')");
  EXPECT_EQ(error_of(scene("lymph_nodes:\n  - {name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 Gy}\n")),
            "s.yaml:15:53: lymph_nodes[0].radius: '1 Gy' is not a length (expected a length >= 0, e.g. '5 mm')");
  EXPECT_EQ(error_of(scene("lymph_nodes:\n  - {name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 mm, dose: {boost: "
                           "0.1}}\n")),
            "s.yaml:15:66: lymph_nodes[0].dose.boost: 'boost' is not a radiotherapy plan (expected a plan: one of "
            "tumour)");
  EXPECT_EQ(error_of(scene("lymph_nodes:\n  - {name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 mm, dose: {tumour: "
                           "-1}}\n")),
            "s.yaml:15:74: lymph_nodes[0].dose.tumour: '-1' is out of range (expected a fraction of the prescription "
            ">= 0)");
  EXPECT_EQ(error_of(scene("lymph_nodes:\n  - {name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 mm}\n  - {name: a, "
                           "position: [0 mm, 0 mm, 0 mm], radius: 1 mm}\n")),
            "s.yaml:16:12: lymph_nodes[1].name: duplicate lymph node name 'a' (expected a name not used by an earlier "
            "node)");
  EXPECT_EQ(error_of(scene("lymph_nodes: []\n")),
            "s.yaml:14:14: lymph_nodes: is an empty list (expected a non-empty list of lymph nodes {name, position, "
            "radius, drains, dose})");
  // lymph nodes without a systemic section (a model without one)
  EXPECT_EQ(error_of("name: s\ngrid: {shape: [2, 2, 2], spacing: 20 um}\ntime: {end: 1 d, output_every: 1 d}\n"
                     "species: [{name: A, unit: nM, diffusion: 1 um^2/s}]\n"
                     "lymph_nodes: [{name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 mm}]\n"),
            "s.yaml:5:14: lymph_nodes: lymph nodes need the model's systemic section (expected a 'systemic' section "
            "in the model file (docs/model.md, \"Systemic compartments\"))");
}

// Errors in the systemic section itself, in a model file of its own.
TEST(SystemicScene, ModelSectionErrors) {
  const tme::test::TempDir tmp("tmesim_systemic_scene");
  const std::string model_head =
      "species: [{name: antigen, unit: nM, diffusion: 1 um^2/s}, {name: IL2, unit: ng/mL, diffusion: 1 um^2/s}]\n"  // 1
      "blood: [{name: CD8_blood, value: 5050 cells/mL}, {name: Treg_blood, value: 3.5e4 cells/mL}]\n"               // 2
      "systemic:\n"                                                                                                 // 3
      "  antigen: {field: ANTIGEN, drainage: 0.0015 1/min}\n"                                                       // 4
      "  blood:\n"                                                                                                  // 5
      "    volume: 5 L\n"                                                                                           // 6
      "    effectors: {input: EFF, initial: 0 cells/mL, death: 0.05 1/day}\n"                                       // 7
      "    treg: {input: Treg_blood, rest: 3.5e4 cells/mL, turnover: 0.05 1/day, depletion: 0.1 1/day}\n"           // 8
      "  node:\n"                                                                                                   // 9
      "    antigen_degradation: 2 1/day\n    apc_migration: APC\n    presentation_loss: 0.5 1/day\n"           // 10-12
      "    presented_half: 1e-3 nmol\n    priming: 23 1/day\n    treg_half: 3.5e4 cells/mL\n    stages: 8\n"   // 13-16
      "    delay: 8 day\n    expansion: 1 1/day\n    naive: 1000 cells\n    naive_return: 24 1/day\n"          // 17-20
      "    alpha: 0.2 1/Gy\n    beta: 0.14 1/Gy^2\n    homing_loss: 0.1 1/Gy\n    homing_recovery: 14 day\n";  // 21-24
  const std::string scene_text =
      "name: s\ngrid: {shape: [2, 2, 2], spacing: 20 um}\ntime: {end: 1 d, output_every: 1 d}\nmodel: m.yaml\n"
      "lymph_nodes: [{name: a, position: [0 mm, 0 mm, 0 mm], radius: 1 mm}]\n";
  const std::string dir = tmp.path().string();
  auto text_of = [&](const std::string& from, const std::string& to) {
    std::string t = model_head;
    for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
             {"ANTIGEN", "antigen"}, {"EFF", "CD8_blood"}, {"APC", "4 1/day"}})
      t.replace(t.find(a), a.size(), a == from ? to : b);
    return t;
  };
  auto with = [&](const std::string& from, const std::string& to, const std::string& extra = "") {
    std::ofstream(tmp.path() / "m.yaml") << text_of(from, to) << extra;
    return error_of(scene_text, dir);
  };
  const std::string m = (tmp.path() / "m.yaml").string();
  EXPECT_EQ(with("", ""), "<loads>");
  EXPECT_EQ(with("ANTIGEN", "IL2"), m + ":4:20: systemic.antigen.field: field 'IL2' is in 'ng/mL', not an amount per "
                                        "volume (expected a species in a concentration unit such as nM)");
  EXPECT_EQ(with("EFF", "monocytes"), m + ":7:24: systemic.blood.effectors.input: 'monocytes' is not a defined drug "
                                          "or blood input (expected a blood input: one of CD8_blood, Treg_blood)");
  EXPECT_EQ(with("EFF", "Treg_blood"), m + ":8:19: systemic.blood.treg.input: the effector pool already replaces "
                                           "'Treg_blood' (expected another blood input than the effectors')");
  EXPECT_EQ(with("APC", "4 cells"),
            m + ":11:20: systemic.node.apc_migration: '4 cells' is not a rate (expected a value in 1/s, e.g. '1 "
                "1/day')");
  EXPECT_EQ(with("", "", "  extra: 1\n"),
            m + ":25:3: systemic.extra: unknown key 'extra' (expected one of: antigen, blood, antiCTLA4, node)");
  // a second systemic section, in the scene
  std::ofstream(tmp.path() / "m.yaml") << text_of("", "");
  EXPECT_EQ(error_of(scene_text + "systemic: {}\n", dir),
            "s.yaml:6:11: systemic: a second systemic section (the first is at " + m +
                ":4:3) (expected one systemic section in the model files and the scene)");
}

}  // namespace
