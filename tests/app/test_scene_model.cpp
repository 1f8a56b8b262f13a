// The model sections of a scene: model files with includes, parameters, populations,
// states, initial overrides, drugs, blood inputs and terms, converted to the internal units of
// kernels/terms.hpp; the default model scenes/models/tme.yaml; exact error messages.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "host/core/vessels.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace {

namespace fs = std::filesystem;
using tme::LoadedScene;
using tme::Problem;

const std::string kScenes = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests";
constexpr double kDay = 86400.0;  // [s]

// Relative comparison for converted values (float32 builds store real as float).
void expect_rel(double got, double want, double tol = 1e-6) {
  EXPECT_NEAR(got, want, tol * std::fabs(want)) << "want " << want;
}

int index_of(const Problem& p, const std::string& name) {
  for (int i = 0; i < p.nspecies(); ++i)
    if (p.species[i].name == name) return i;
  ADD_FAILURE() << "no field " << name;
  return -1;
}

// ---- a small model: every term kind, checked number by number --------------------------------

class SceneModelSmall : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { scene_ = new LoadedScene(tme::load_scene(kScenes + "/model_small.yaml")); }
  static void TearDownTestSuite() {
    delete scene_;
    scene_ = nullptr;
  }
  static LoadedScene* scene_;
  const Problem& p() const { return scene_->problem; }
  const tme::Model& m() const { return scene_->problem.model; }
};
LoadedScene* SceneModelSmall::scene_ = nullptr;

// Field indices: model species (included file first), scene species, populations, states.
enum { S, A, B, O2, T, E, L, V, M, kFields };

TEST_F(SceneModelSmall, FieldsInOrder) {
  ASSERT_EQ(p().nspecies(), kFields);
  const std::vector<std::pair<std::string, std::string>> want{{"S", "ng/mL"}, {"A", "nM"},         {"B", "nM"},
                                                              {"O2", "uM"},   {"T", "cells/mm^3"}, {"E", "cells/mm^3"},
                                                              {"L", "1"},     {"V", "1/mm"},       {"M", "1"}};
  for (int i = 0; i < kFields; ++i) {
    EXPECT_EQ(p().species[i].name, want[i].first);
    EXPECT_EQ(p().species[i].unit, want[i].second);
  }
  expect_rel(p().coeffs[S].decay, 1e-4);
  expect_rel(p().coeffs[T].D[0], 0.01);         // motility [um^2/s]
  expect_rel(p().coeffs[E].D[0], 10.0 / 60.0);  // 10 um^2/min
  for (int s : {L, V, M}) {
    EXPECT_EQ(p().coeffs[s].D[0], 0);  // states do not move
    for (int f = 0; f < 6; ++f) EXPECT_EQ(p().coeffs[s].bc[f].type, tme::kNoFlux);
  }
}

TEST_F(SceneModelSmall, CrowdingTolerancesAndChemotaxis) {
  ASSERT_EQ(m().crowd_species, (std::vector<int>{T, E}));
  expect_rel(m().crowd_volume[0], 1 / 2e5);  // 1/capacity [1/(cells/mm^3)]
  expect_rel(m().crowd_volume[1], 1 / 1e6);
  EXPECT_DOUBLE_EQ(m().rtol, 1e-5);
  ASSERT_EQ((int)m().atol.size(), kFields);
  for (int s : {S, A, B, O2, L, V, M}) EXPECT_DOUBLE_EQ(m().atol[s], 1e-9);
  EXPECT_DOUBLE_EQ(m().atol[T], 1e-3);  // population default [cells/mm^3]
  EXPECT_DOUBLE_EQ(m().atol[E], 1e-2);  // floor as given
  ASSERT_EQ(m().chemotaxis.size(), 1u);
  const tme::Chemotaxis& c = m().chemotaxis[0];
  EXPECT_EQ(c.cell, E);
  EXPECT_EQ(c.signal, S);
  expect_rel(c.chi, 0.1);    // 6 um^2/min/(ng/mL) -> um^2/s per ng/mL
  expect_rel(c.vmax, 0.06);  // 3.6 um/min -> um/s
}

TEST_F(SceneModelSmall, TermsExact) {
  const std::vector<tme::Term>& t = m().terms;
  ASSERT_EQ(t.size(), 11u);
  // growth T: the scene's r = 0.25 1/day reaches the term through the alias r_alias
  EXPECT_EQ(t[0].kind, tme::kTermGrowth);
  EXPECT_EQ(t[0].target, T);
  expect_rel(t[0].rate(), 0.25 / kDay);
  EXPECT_EQ(t[0].growth_law(), tme::kGrowthGompertz);
  EXPECT_EQ(t[0].nfactors, 0);

  // kill T by E, three factors, product A
  const tme::Term& k = t[1];
  EXPECT_EQ(k.kind, tme::kTermKill);
  EXPECT_EQ(k.target, T);
  EXPECT_EQ(k.src, E);
  expect_rel(k.rate(), 1e-4 / kDay);  // mm^3/cell/day -> 1/s per cells/mm^3
  ASSERT_EQ(k.nfactors, 3);
  EXPECT_EQ(k.f[0].kind, tme::kFactorHillInh);
  EXPECT_EQ(k.f[0].a, L);
  EXPECT_EQ(k.f[0].b, -1);
  EXPECT_EQ(k.f[0].ab[0], B);
  EXPECT_EQ(k.f[0].ab[1], -1);
  expect_rel(k.f[0].kd[0], 0.26);  // nM
  expect_rel(k.f[0].K, 0.5);
  expect_rel(k.f[0].n, 2);
  EXPECT_EQ(k.f[1].kind, tme::kFactorHillAct);
  EXPECT_EQ(k.f[1].a, S);
  expect_rel(k.f[1].K, 2e-3);  // 2 pg/mL in ng/mL
  expect_rel(k.f[1].n, 1);
  EXPECT_EQ(k.f[2].kind, tme::kFactorHillInh);
  EXPECT_EQ(k.f[2].a, E);
  EXPECT_EQ(k.f[2].b, T);
  expect_rel(k.f[2].K, 0.3);
  ASSERT_EQ(k.nproducts, 1);
  EXPECT_EQ(k.prod[0].species, A);
  expect_rel(k.prod[0].yield, 13.4);  // 1.34e-14 mol/cell = 13.4 nM per cells/mm^3

  EXPECT_EQ(t[2].kind, tme::kTermConversion);
  EXPECT_EQ(t[2].target, A);
  expect_rel(t[2].rate(), 2 / kDay);
  EXPECT_EQ(t[2].nproducts, 0);

  // secretion S by T: 1 fg/cell/h = 1e-6 ng / 3600 s per cell, times 1e3 mm^3 per mL
  EXPECT_EQ(t[3].kind, tme::kTermSecretion);
  EXPECT_EQ(t[3].target, S);
  EXPECT_EQ(t[3].src, T);
  expect_rel(t[3].rate(), 1e-6 / 3600 * 1e3);
  ASSERT_EQ(t[3].nfactors, 1);
  EXPECT_EQ(t[3].f[0].kind, tme::kFactorRoom);

  // uptake, linear [1/s per cells/mm^3] and Michaelis-Menten (rate = Vmax/km, km)
  EXPECT_EQ(t[4].kind, tme::kTermUptake);
  EXPECT_EQ(t[4].src, E);
  expect_rel(t[4].rate(), 1e-9);
  EXPECT_EQ(t[4].km(), 0);
  EXPECT_EQ(t[5].kind, tme::kTermUptake);
  expect_rel(t[5].rate(), 1e-6 / 0.5);  // 3.6 fg/cell/h = 1e-6 (ng/mL)/s per cells/mm^3
  expect_rel(t[5].km(), 0.5);

  // relax L toward 0.1 + 0.9 * act(S)
  EXPECT_EQ(t[6].kind, tme::kTermRelax);
  EXPECT_EQ(t[6].target, L);
  expect_rel(t[6].rate(), 1 / kDay);
  expect_rel(t[6].base(), 0.1);
  expect_rel(t[6].top(), 1);
  ASSERT_EQ(t[6].nfactors, 1);
  expect_rel(t[6].f[0].K, 0.11);
  expect_rel(t[6].f[0].n, 1.26);

  // exchange B through V (1/mm): 3e-7 cm/s = 3e-3 um/s, times 1e-3 (1/um per 1/mm)
  EXPECT_EQ(t[7].kind, tme::kTermExchange);
  EXPECT_EQ(t[7].target, B);
  EXPECT_EQ(t[7].src, V);
  EXPECT_EQ(t[7].global, 0);
  expect_rel(t[7].rate(), 3e-6);

  // influx E: 0.075 um/s in (cells/mm^3)/s/(1/mm)/(cells/mL) = mL/(mm^2 s) = 1e3 mm/s
  EXPECT_EQ(t[8].kind, tme::kTermInflux);
  EXPECT_EQ(t[8].target, E);
  EXPECT_EQ(t[8].src, V);
  EXPECT_EQ(t[8].global, 1);
  expect_rel(t[8].rate(), 0.075e-3 / 1e3);
  ASSERT_EQ(t[8].nfactors, 1);
  EXPECT_EQ(t[8].f[0].kind, tme::kFactorLinear);
  EXPECT_EQ(t[8].f[0].a, S);
  expect_rel(t[8].f[0].K, 1);

  // the chemotaxis entry is not a Term; the scene's own term comes after the model's
  EXPECT_EQ(t[9].kind, tme::kTermSecretion);
  EXPECT_EQ(t[9].target, O2);
  EXPECT_EQ(t[9].src, E);
  expect_rel(t[9].rate(), 1e-6);                // 1e-18 mol/cell/s = 1e-6 uM/s per cells/mm^3
  EXPECT_EQ(t[10].kind, tme::kTermConversion);  // M -> M at half yield
  EXPECT_EQ(t[10].target, M);
  expect_rel(t[10].rate(), 1 / 3600.0);
  ASSERT_EQ(t[10].nproducts, 1);
  EXPECT_EQ(t[10].prod[0].species, M);
  expect_rel(t[10].prod[0].yield, 0.5);
}

TEST_F(SceneModelSmall, DrugAndBlood) {
  ASSERT_EQ(m().drugs.size(), 1u);
  const tme::Drug& d = m().drugs[0];
  EXPECT_EQ(d.name, "drugB");
  EXPECT_DOUBLE_EQ(d.pk.vc_L, 3);
  EXPECT_DOUBLE_EQ(d.pk.vp_L, 3);
  expect_rel(d.pk.cl_L_per_s, 0.2 / kDay);
  expect_rel(d.pk.q_L_per_s, 0.8 / kDay);
  EXPECT_DOUBLE_EQ(d.pk.mw_g_per_mol, 146000);  // default
  // 3 mg/kg x 70 kg, q3w x 2 from day 2 (both before the end at 30 d)
  ASSERT_EQ(d.doses.size(), 2u);
  expect_rel(d.doses[0].time_s, 2 * kDay);
  expect_rel(d.doses[1].time_s, 23 * kDay);
  expect_rel(d.doses[0].amount_mg, 210);
  expect_rel(d.doses[1].amount_mg, 210);

  ASSERT_EQ(m().globals.size(), 2u);
  const tme::GlobalInput& g0 = m().globals[0];
  EXPECT_EQ(g0.name, "drugB");
  EXPECT_EQ(g0.kind, tme::GlobalInput::Kind::kPlasma);
  EXPECT_EQ(g0.unit, "nM");
  EXPECT_EQ(g0.drug, 0);
  // the scene's table replaces the model's constant; the unit is the first value's
  const tme::GlobalInput& g1 = m().globals[1];
  EXPECT_EQ(g1.name, "E_blood");
  EXPECT_EQ(g1.kind, tme::GlobalInput::Kind::kTable);
  EXPECT_EQ(g1.unit, "cells/mL");
  ASSERT_EQ(g1.times_s.size(), 2u);
  EXPECT_DOUBLE_EQ(g1.times_s[0], 0);
  expect_rel(g1.times_s[1], 10 * kDay);
  expect_rel(g1.values[0], 1000);
  expect_rel(g1.values[1], 2000);  // 2 cells/uL
  expect_rel(tme::global_value(m(), 1, 5 * kDay), 1500);
  EXPECT_GT(tme::global_value(m(), 0, 3 * kDay), 0);
  EXPECT_EQ(tme::global_value(m(), 0, 1 * kDay), 0);
}

TEST_F(SceneModelSmall, InitialStates) {
  const long long n = p().grid.nvox();
  auto at = [&](int s, long long v) { return p().initial[(size_t)s * n + v]; };
  long long inside = 0;
  for (long long v = 0; v < n; ++v) {
    EXPECT_EQ(at(L, v), tme::real(0.2));
    EXPECT_EQ(at(M, v), 0);
    if (at(T, v) > 0) {
      // 1e5 cells/mm^3 after the unit conversion: exact in float32, within round-off in float64
      EXPECT_NEAR(at(T, v), 1e5, 1e5 * 4 * std::numeric_limits<tme::real>::epsilon());
      ++inside;
    }
  }
  EXPECT_GT(inside, 0);
  EXPECT_LT(inside, n);
  // vessel map: S/V [1/um] of the generator with the scene seed, in 1/mm
  tme::VesselSpec spec;
  spec.mean_spacing_um = 30;
  spec.radius_um = 5;
  spec.seed = 5;
  const std::vector<double> sv = tme::generate_vessel_surface(p().grid, spec);
  double total = 0;
  for (long long v = 0; v < n; ++v) {
    EXPECT_NEAR(at(V, v), sv[v] * 1e3, 1e-6 * (1 + sv[v] * 1e3));
    total += at(V, v);
  }
  EXPECT_GT(total, 0);
}

TEST_F(SceneModelSmall, ResolvedSceneIsSelfContainedAndReloads) {
  const std::string& y = scene_->resolved_yaml;
  EXPECT_EQ(y.find("model_small_model.yaml"), std::string::npos) << "the model is inlined";
  EXPECT_NE(y.find("tolerance: 1e-5"), std::string::npos);
  EXPECT_NE(y.find("law: gompertz"), std::string::npos);
  EXPECT_NE(y.find("seed: 5"), std::string::npos);
  EXPECT_NE(y.find("start: 2 d"), std::string::npos);
  EXPECT_NE(y.find("molecular_weight: 146000 g/mol"), std::string::npos);  // default written
  EXPECT_NE(y.find("r: 0.25 1/day"), std::string::npos);                   // the override
  const LoadedScene again = tme::load_scene_text(y, "resolved.yaml", kScenes);
  EXPECT_EQ(again.resolved_yaml, y);
  const Problem &a = p(), &b = again.problem;
  ASSERT_EQ(a.nspecies(), b.nspecies());
  for (int s = 0; s < a.nspecies(); ++s) EXPECT_EQ(a.species[s].name, b.species[s].name);
  EXPECT_EQ(a.initial, b.initial);
  ASSERT_EQ(a.model.terms.size(), b.model.terms.size());
  for (size_t q = 0; q < a.model.terms.size(); ++q) {
    const tme::Term &x = a.model.terms[q], &z = b.model.terms[q];
    EXPECT_EQ(x.kind, z.kind);
    EXPECT_EQ(x.target, z.target);
    EXPECT_EQ(x.src, z.src);
    EXPECT_EQ(x.global, z.global);
    for (int i = 0; i < tme::kTermParams; ++i) EXPECT_EQ(x.p[i], z.p[i]);
    ASSERT_EQ(x.nfactors, z.nfactors);
    for (int f = 0; f < x.nfactors; ++f) {
      EXPECT_EQ(x.f[f].kind, z.f[f].kind);
      EXPECT_EQ(x.f[f].K, z.f[f].K);
      EXPECT_EQ(x.f[f].kd[0], z.f[f].kd[0]);
    }
    ASSERT_EQ(x.nproducts, z.nproducts);
    for (int k = 0; k < x.nproducts; ++k) EXPECT_EQ(x.prod[k].yield, z.prod[k].yield);
  }
  EXPECT_EQ(a.model.crowd_volume, b.model.crowd_volume);
  EXPECT_EQ(a.model.atol, b.model.atol);
  EXPECT_EQ(a.model.rtol, b.model.rtol);
  ASSERT_EQ(a.model.drugs.size(), b.model.drugs.size());
  EXPECT_EQ(a.model.drugs[0].doses.size(), b.model.drugs[0].doses.size());
  ASSERT_EQ(a.model.globals.size(), b.model.globals.size());
  EXPECT_EQ(a.model.globals[1].values, b.model.globals[1].values);
}

TEST(SceneModelPlain, SceneWithoutModelKeysIsUnchanged) {
  // No model section: nothing model-related in the resolved scene, an empty model.
  const LoadedScene ls = tme::load_scene(kScenes + "/minimal.yaml");
  EXPECT_EQ(ls.resolved_yaml.find("terms"), std::string::npos);
  EXPECT_EQ(ls.resolved_yaml.find("parameters"), std::string::npos);
  EXPECT_TRUE(ls.problem.model.terms.empty());
  EXPECT_TRUE(ls.problem.model.atol.empty());
}

// ---- the default model ----------------------------------------------------------------------

TEST(SceneModelTme, UnknownDrugNamesTheKnownOnes) {
  const std::string scene =
      "name: t\ngrid: {shape: [4, 4, 4], spacing: 20 um}\ntime: {end: 2 d, output_every: 1 d}\n"
      "model: " +
      kScenes + "/../models/tme.yaml\ndrugs:\n  - {name: pembrolizumab, dose: 200 mg q3w}\n";
  try {
    tme::load_scene_text(scene, "s.yaml", kScenes);
    ADD_FAILURE() << "loaded";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(std::string(e.what()),
              "s.yaml:6:12: drugs[0].name: unknown drug 'pembrolizumab' (expected a drug of the model "
              "files: antiPD1, antiPDL1, antiCTLA4, or a new drug with its own pk: "
              "{central_volume, clearance, ...})");
  }
}

TEST(SceneModelTme, LoadsAndValidates) {
  const LoadedScene ls = tme::load_scene(kScenes + "/model_tme.yaml");
  const Problem& p = ls.problem;
  const std::vector<std::string> names{"IFNg",    "IL2",     "TGFb",     "IFN1",      "CXCL10", "CCL2",
                                       "antigen", "antiPD1", "antiPDL1", "antiCTLA4", "T",      "Td",
                                       "CD8",     "Treg",    "Myeloid",  "PDL1",      "STING",  "vasculature"};
  ASSERT_EQ(p.nspecies(), (int)names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(p.species[i].name, names[i]);
  EXPECT_NO_THROW(p.check());
  const tme::Model& m = p.model;
  EXPECT_EQ(m.terms.size(), 31u);
  EXPECT_EQ(m.chemotaxis.size(), 1u);
  EXPECT_EQ(m.crowd_species.size(), 5u);
  EXPECT_EQ(m.drugs.size(), 3u);
  EXPECT_EQ(m.globals.size(), 6u);
  const tme::LocalReactions lr = tme::build_local_reactions(m, p.nspecies());
  EXPECT_EQ(lr.args.nlocal, 18);  // every field takes part

  // The scene's dose reaches the model's pembrolizumab: one dose (day 1) before the end (7 d).
  const tme::Drug& pd1 = m.drugs[0];
  EXPECT_EQ(pd1.name, "antiPD1");
  ASSERT_EQ(pd1.doses.size(), 1u);
  expect_rel(pd1.doses[0].time_s, kDay);
  expect_rel(pd1.doses[0].amount_mg, 200);
  EXPECT_NEAR(tme::pk::terminal_half_life_s(pd1.pk) / kDay, 22, 1);  // label: about 22 days
  EXPECT_NEAR(tme::pk::terminal_half_life_s(m.drugs[1].pk) / kDay, 27, 1);
  EXPECT_NEAR(tme::pk::terminal_half_life_s(m.drugs[2].pk) / kDay, 15.4, 0.5);

  // Killing: k_kill 9e-5 mm^3/cell/day, PD-1/PD-L1 engagement blocked by both antibodies.
  const tme::Term& kill = m.terms[1];
  EXPECT_EQ(kill.kind, tme::kTermKill);
  EXPECT_EQ(kill.target, index_of(p, "T"));
  EXPECT_EQ(kill.src, index_of(p, "CD8"));
  expect_rel(kill.rate(), 9e-5 / kDay);
  EXPECT_EQ(kill.f[0].a, index_of(p, "PDL1"));
  EXPECT_EQ(kill.f[0].ab[0], index_of(p, "antiPD1"));
  EXPECT_EQ(kill.f[0].ab[1], index_of(p, "antiPDL1"));
  expect_rel(kill.f[0].kd[0], 0.26);
  expect_rel(kill.f[0].kd[1], 0.4);
  EXPECT_EQ(kill.f[2].b, index_of(p, "CD8"));
  EXPECT_EQ(kill.prod[0].species, index_of(p, "Td"));

  // Every reaction rate is per day or slower except the fast uptake/secretion constants that
  // scale with a density; growth/conversion/relax rates stay below 10 1/day.
  for (const tme::Term& t : m.terms) {
    if (t.kind == tme::kTermGrowth || t.kind == tme::kTermConversion || t.kind == tme::kTermRelax) {
      EXPECT_LT(t.rate(), 10 / kDay);
    }
  }

  // The vessel map is generated (mean S/V about 2 pi r / spacing^2 = 6.3e-3 1/um).
  const int vs = index_of(p, "vasculature");
  double sum = 0;
  for (long long v = 0; v < p.grid.nvox(); ++v) sum += p.initial[(size_t)vs * p.grid.nvox() + v];
  EXPECT_GT(sum / p.grid.nvox(), 1e-3);

  // The resolved scene reloads to the same text.
  EXPECT_EQ(tme::load_scene_text(ls.resolved_yaml, "resolved.yaml", kScenes).resolved_yaml, ls.resolved_yaml);
}

TEST(SceneModelTme, EveryParameterHasASource) {
  const YAML::Node doc = YAML::LoadFile(std::string(TMESIM_SOURCE_DIR) + "/scenes/models/tme.yaml");
  int n = 0;
  for (auto it = doc["parameters"].begin(); it != doc["parameters"].end(); ++it, ++n) {
    const std::string name = it->first.as<std::string>();
    if (it->second.IsScalar()) {  // an alias of another parameter
      EXPECT_TRUE(doc["parameters"][it->second.as<std::string>()].IsDefined()) << name;
      continue;
    }
    EXPECT_TRUE(it->second["value"].IsScalar()) << name;
    EXPECT_FALSE(it->second["source"].as<std::string>("").empty()) << name;
  }
  EXPECT_GT(n, 50);
}

// The human and mouse parameter sets over tme.yaml: every override has a source, and an
// assumed one a range; the mouse set's antibodies, blood volume and growth are the mouse's.
TEST(SceneModelTme, ParameterSetsHaveSourcesAndRanges) {
  for (const std::string f : {"tme_human.yaml", "tme_mouse.yaml"}) {
    const YAML::Node doc = YAML::LoadFile(std::string(TMESIM_SOURCE_DIR) + "/scenes/models/" + f);
    ASSERT_TRUE(doc["overrides"].IsMap()) << f;
    for (auto it = doc["overrides"].begin(); it != doc["overrides"].end(); ++it) {
      const std::string name = f + ": " + it->first.as<std::string>();
      if (it->second.IsScalar()) continue;  // an alias of another parameter
      const std::string source = it->second["source"].as<std::string>("");
      EXPECT_FALSE(source.empty()) << name;
      if (source.rfind("assumed", 0) == 0 || source.rfind("fitted", 0) == 0) {
        EXPECT_TRUE(it->second["range"].IsSequence()) << name;
      }
    }
  }
  const LoadedScene mouse = tme::load_scene(kScenes + "/../mouse_ct26_rt.yaml");
  const tme::Model& m = mouse.problem.model;
  ASSERT_EQ(m.drugs.size(), 3u);
  EXPECT_NEAR(tme::pk::terminal_half_life_s(m.drugs[0].pk) / kDay, 3, 0.2);  // anti-PD-1 RMP1-14, assumed 3 d
  EXPECT_NEAR(tme::pk::terminal_half_life_s(m.drugs[1].pk) / kDay, 2, 0.2);
  EXPECT_NEAR(tme::pk::terminal_half_life_s(m.drugs[2].pk) / kDay, 6, 0.3);
  ASSERT_EQ(m.drugs[0].doses.size(), 5u);  // 200 ug q3d from day 7 to day 21
  expect_rel(m.drugs[0].doses[0].amount_mg, 0.2);
  expect_rel(m.drugs[0].doses[0].time_s, 7 * kDay);
  double growth = 0;
  for (const tme::Term& t : m.terms)
    if (t.kind == tme::kTermGrowth && t.target == index_of(mouse.problem, "T")) growth = t.rate();
  EXPECT_GT(growth * kDay, 0.17);  // a mouse tumour doubles in days, not weeks
  const LoadedScene human = tme::load_scene_text(
      "name: h\ngrid: {shape: [2, 2, 2], spacing: 50 um}\ntime: {end: 1 d, output_every: 1 d}\n"
      "model: ../models/tme_human.yaml\n",
      "h.yaml", kScenes);
  EXPECT_NEAR(tme::pk::terminal_half_life_s(human.problem.model.drugs[0].pk) / kDay, 22, 1);  // pembrolizumab label
}

// ---- parameters: override and alias --------------------------------------------------------

class SceneModelFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // The message load_scene_text throws for `scene` ("" when it loads).
  std::string error_of(const std::string& scene) const {
    try {
      tme::load_scene_text(scene, "bad.yaml", dir_.string());
    } catch (const tme::SceneError& e) {
      return e.what();
    }
    return "";
  }
  LoadedScene load(const std::string& scene) const { return tme::load_scene_text(scene, "scene.yaml", dir_.string()); }
  const tme::test::TempDir tmp_{"tmesim_scene_model"};
  fs::path dir_;
};

// A model file most error cases below break one line of.
const std::string kModel = R"(parameters:
  r: 0.4 1/day
  k: 0.4 1/mm
  r_fast: {value: 1 1/h, source: test}
species:
  - {name: S, unit: ng/mL, diffusion: 10 um^2/s}
populations:
  - {name: T, motility: 0.01 um^2/s, capacity: 2e5 cells/mm^3}
  - {name: E, motility: 10 um^2/min}
terms:
  - {growth: T, rate: r}
)";
const std::string kScene = R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 30 d, output_every: 1 d}
model: m.yaml
)";

TEST_F(SceneModelFiles, BaseLoads) {
  write("m.yaml", kModel);
  EXPECT_EQ(error_of(kScene), "");
}

TEST_F(SceneModelFiles, ParameterOverrideAndAlias) {
  write("m.yaml", kModel + "  - {conversion: E, rate: r}\n");
  const LoadedScene a = load(kScene);
  expect_rel(a.problem.model.terms[0].rate(), 0.4 / kDay);
  expect_rel(a.problem.model.terms[1].rate(), 0.4 / kDay);
  // The scene's value replaces the model's everywhere it is used; an alias follows it.
  const LoadedScene b = load(kScene + "parameters: {r: 2 1/week}\n");
  expect_rel(b.problem.model.terms[0].rate(), 2 / (7 * kDay));
  expect_rel(b.problem.model.terms[1].rate(), 2 / (7 * kDay));
  // An override may itself be an alias of another model parameter.
  const LoadedScene c = load(kScene + "parameters: {r: r_fast}\n");
  expect_rel(c.problem.model.terms[0].rate(), 1 / 3600.0);
  expect_rel(c.problem.model.terms[1].rate(), 1 / 3600.0);
  EXPECT_NE(c.resolved_yaml.find("r: r_fast"), std::string::npos);
}

// ---- exact error messages ---------------------------------------------------------------------
// Errors inside a model file name that file; errors in the scene name the scene.

TEST_F(SceneModelFiles, UnknownFieldInATerm) {
  write("m.yaml", kModel + "  - {kill: T, by: X, rate: 1e-4 mm^3/cell/day}\n");
  EXPECT_EQ(error_of(kScene), path("m.yaml") +
                                  ":12:19: terms[1].by: 'X' is not a defined field (expected a "
                                  "population: one of S, T, E)");
}

TEST_F(SceneModelFiles, PopulationRequired) {
  write("m.yaml", kModel + "  - {kill: S, by: E, rate: 1e-4 mm^3/cell/day}\n");
  EXPECT_EQ(error_of(kScene),
            path("m.yaml") + ":12:12: terms[1].kill: 'S' is not a population (expected a population: one of T, E)");
}

TEST_F(SceneModelFiles, MissingRequiredKey) {
  write("m.yaml", kModel + "  - {secretion: S, by: T}\n");
  EXPECT_EQ(error_of(kScene), path("m.yaml") +
                                  ":12:5: terms[1].rate: missing required key (expected a value in "
                                  "(ng/mL)/s/(cells/mm^3), e.g. '1 (ng/mL)/s/(cells/mm^3)')");
}

TEST_F(SceneModelFiles, WrongUnitAtUseSiteNamesTheParameter) {
  write("m.yaml", kModel);
  EXPECT_EQ(error_of(kScene + "terms:\n  - {conversion: E, rate: k}\n"),
            "bad.yaml:6:27: terms[0].rate: parameter 'k' = '0.4 1/mm' (" + path("m.yaml") +
                ":3:6) is not a rate (expected a value in 1/s, e.g. '0.4 1/day')");
}

TEST_F(SceneModelFiles, CircularParameterReference) {
  write("m.yaml", "parameters:\n  a: b\n  b: c\n  c: a\n" + kModel.substr(kModel.find("species:")));
  EXPECT_EQ(error_of(kScene), path("m.yaml") +
                                  ":2:6: parameters.a: circular parameter reference: a -> b -> c -> a (expected a "
                                  "number with a unit, or a parameter that does not refer back to this one)");
}

TEST_F(SceneModelFiles, CircularInclude) {
  write("m.yaml", "include: [n.yaml]\n" + kModel);
  write("n.yaml", "include: [m.yaml]\n");
  EXPECT_EQ(error_of(kScene), path("n.yaml") + ":1:11: include[0]: circular include: " + path("m.yaml") + " -> " +
                                  path("n.yaml") + " -> " + path("m.yaml") +
                                  " (expected model files that do not include each other)");
}

TEST_F(SceneModelFiles, UnknownParameterOverride) {
  write("m.yaml", kModel);
  EXPECT_EQ(error_of(kScene + "parameters: {rr: 1 1/day}\n"),
            "bad.yaml:5:14: parameters.rr: 'rr' is not a parameter of the model (expected the name "
            "of a model parameter to override: r, k, r_fast)");
}

TEST_F(SceneModelFiles, UnknownTermKind) {
  write("m.yaml", kModel + "  - {grow: T, rate: r}\n");
  EXPECT_EQ(error_of(kScene),
            path("m.yaml") +
                ":12:6: terms[1].grow: unknown term kind 'grow' (expected exactly one of: growth, "
                "secretion, uptake, kill, conversion, relax, exchange, influx, chemotaxis, pressure)");
}

TEST_F(SceneModelFiles, PressureTermLoadsAsADriftDownPhi) {
  write("m.yaml", kModel + "  - {pressure: T, mobility: 6 um^2/min, max_speed: 1.2 um/min}\n");
  const LoadedScene a = load(kScene);
  ASSERT_EQ(a.problem.model.chemotaxis.size(), 1u);
  const tme::Chemotaxis& c = a.problem.model.chemotaxis[0];
  EXPECT_EQ(c.cell, 0 + 1);  // T, after S
  EXPECT_EQ(c.signal, tme::kSignalCrowding);
  expect_rel(c.chi, 0.1);    // 6 um^2/min -> um^2/s
  expect_rel(c.vmax, 0.02);  // 1.2 um/min -> um/s
  // The resolved scene writes it back, and it loads to the same entry.
  EXPECT_NE(a.resolved_yaml.find("pressure: T"), std::string::npos) << a.resolved_yaml;
  EXPECT_NE(a.resolved_yaml.find("mobility: 6 um^2/min"), std::string::npos) << a.resolved_yaml;
}

TEST_F(SceneModelFiles, PressureTermErrors) {
  write("m.yaml", kModel + "  - {pressure: T, mobility: 6 um/min, max_speed: 1 um/min}\n");
  EXPECT_EQ(error_of(kScene), path("m.yaml") +
                                  ":12:29: terms[1].mobility: '6 um/min' is not a mobility (expected a value in "
                                  "um^2/s, e.g. '1 um^2/s')");
  write("m.yaml", kModel + "  - {pressure: T, mobility: 1 um^2/s}\n");
  EXPECT_EQ(error_of(kScene), path("m.yaml") +
                                  ":12:5: terms[1].max_speed: missing required key (expected a value in um/s, "
                                  "e.g. '1 um/min')");
  write("m.yaml", kModel + "  - {pressure: T, mobility: 1 um^2/s, max_speed: 0 um/s}\n");
  EXPECT_EQ(error_of(kScene),
            path("m.yaml") + ":12:50: terms[1].max_speed: '0 um/s' must be > 0 (expected a speed > 0 um/s)");
  write("m.yaml", kModel + "  - {pressure: S, mobility: 1 um^2/s, max_speed: 1 um/min}\n");
  EXPECT_EQ(error_of(kScene),
            path("m.yaml") + ":12:16: terms[1].pressure: 'S' is not a population (expected a population: one of T, E)");
  // Without a population that occupies volume there is no phi to drift down.
  const std::string no_capacity =
      "species:\n  - {name: S, unit: ng/mL, diffusion: 10 um^2/s}\npopulations:\n"
      "  - {name: T, motility: 0.01 um^2/s}\nterms:\n"
      "  - {pressure: T, mobility: 1 um^2/s, max_speed: 1 um/min}\n";
  write("m.yaml", no_capacity);
  EXPECT_EQ(error_of(kScene), path("m.yaml") +
                                  ":6:16: terms[0].pressure: pressure on 'T' but no population has a capacity "
                                  "(expected a population with 'capacity' (cells/mm^3): the drift follows the "
                                  "occupied fraction)");
}

TEST_F(SceneModelFiles, FactorWithActivateAndInhibit) {
  write("m.yaml", kModel + "  - {conversion: E, rate: r, factors: [{activate: S, inhibit: S, half: 1 ng/mL}]}\n");
  EXPECT_EQ(error_of(kScene), path("m.yaml") +
                                  ":12:54: terms[1].factors[0].inhibit: 'inhibit' cannot be combined with 'activate' "
                                  "(expected exactly one of: activate, inhibit, room, linear)");
}

TEST_F(SceneModelFiles, BadDoseString) {
  write("m.yaml", kModel);
  EXPECT_EQ(error_of(kScene + "drugs:\n  - {name: d, dose: 200 mg q3x, pk: {central_volume: 3 L, "
                              "clearance: 0.2 L/day}}\n"),
            "bad.yaml:6:21: drugs[0].dose: dose '200 mg q3x': cannot read the interval (expected "
            "q<N>h, q<N>d or q<N>w with N >= 1, e.g. 'q3w')");
}

TEST_F(SceneModelFiles, OtherMessages) {
  write("m.yaml", kModel);
  EXPECT_EQ(error_of(kScene + "terms:\n  - {conversion: E, rate: kk}\n"),
            "bad.yaml:6:27: terms[0].rate: 'kk' is neither a value nor a defined parameter "
            "(expected a value in 1/s, e.g. '0.4 1/day', or a parameter: one of r, k, r_fast)");
  EXPECT_EQ(error_of(kScene + "terms:\n  - {conversion: E, rate: 4 day}\n"),
            "bad.yaml:6:27: terms[0].rate: '4 day' is not a rate (expected a value in 1/s, e.g. "
            "'0.4 1/day')");
  EXPECT_EQ(error_of(kScene + "terms:\n  - {conversion: E, rate: r, km: 1 nM}\n"),
            "bad.yaml:6:30: terms[0].km: unknown key 'km' (expected one of: conversion, rate, "
            "products, factors)");
  EXPECT_EQ(error_of(kScene + "terms:\n  - {exchange: S, vessels: S, permeability: 1 um/s, plasma: x}\n"),
            "bad.yaml:6:28: terms[0].vessels: field 'S' is in 'ng/mL', not a surface density (expected a "
            "field whose unit converts to 1/um)");
  EXPECT_EQ(error_of(kScene + "initial: {S: {vessels: {mean_spacing: 50 um}}}\n"),
            "bad.yaml:5:24: initial.S.vessels: field 'S' is in 'ng/mL', not a surface density "
            "(expected a field whose unit converts to 1/um)");
  EXPECT_EQ(error_of("name: bad\ngrid: {shape: [4, 4, 4], spacing: 10 um}\ntime: {end: 1 d, "
                     "output_every: 1 d}\nmodel: nofile.yaml\n"),
            "bad.yaml:4:8: model: cannot read model file 'nofile.yaml': no such file (expected a "
            "regular YAML model file of at most 16 MiB)");
  write("y.yaml", "species: [\n");
  EXPECT_EQ(error_of("name: bad\ngrid: {shape: [4, 4, 4], spacing: 10 um}\ntime: {end: 1 d, "
                     "output_every: 1 d}\nmodel: y.yaml\n"),
            path("y.yaml") + ":2:1: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(error_of(kScene + "populations:\n  - {name: S, motility: 1 um^2/s}\n"),
            "bad.yaml:6:12: populations[0].name: duplicate field name 'S' (expected a name not "
            "used by another species, population or state)");
  EXPECT_EQ(error_of(kScene + "drugs:\n  - {name: d, dose: 3 mg/kg q3w, pk: {central_volume: 3 L, "
                              "clearance: 0.2 L/day}}\n"),
            "bad.yaml:6:21: drugs[0].dose: dose '3 mg/kg q3w': a per-kg dose needs body_weight "
            "(expected e.g. 'body_weight: 70 kg')");
  // A scene drug that no model file defines and that brings no pk of its own.
  EXPECT_EQ(error_of(kScene + "drugs:\n  - {name: pembro, dose: 200 mg q3w}\n"),
            "bad.yaml:6:12: drugs[0].name: unknown drug 'pembro' (expected a drug of the model "
            "files (they define none), or a new drug with its own pk: {central_volume, "
            "clearance, ...})");
  EXPECT_EQ(error_of(kScene + "drugs:\n  - {name: d, pk: {central_volume: 3 L}}\n"),
            "bad.yaml:6:5: drugs[0].pk.clearance: missing required key (expected a value in L/s, "
            "e.g. '0.2 L/day')");
  EXPECT_EQ(error_of(kScene + "blood:\n  - {name: b, table: [[1 d, 1 nM], [1 d, 2 nM]]}\n"),
            "bad.yaml:6:37: blood[0].table[1][0]: '1 d' is not after the previous time (expected a "
            "list of [time, value] pairs, times increasing)");
  EXPECT_EQ(error_of(kScene + "terms:\n  - {relax: S, time: 1 d, base: 1 ng/mL, max: 2 ng/mL}\n"),
            "bad.yaml:6:47: terms[0].max: max applies only with factors (expected no max without "
            "factors (the level is base))");
  EXPECT_EQ(error_of(kScene + "terms:\n  - {kill: T, by: E, rate: 1 1/day}\n"),
            "bad.yaml:6:28: terms[0].rate: '1 1/day' is not a kill rate (expected a value in "
            "1/s/(cells/mm^3), e.g. '1 1/s/(cells/mm^3)')");
}

}  // namespace
