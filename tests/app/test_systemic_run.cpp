// The systemic compartments driving a run (host/run/systemic_coupling.hpp): the loader makes
// the blood inputs systemic and adds the influx tallies; over a whole run of two lesions with
// radiotherapy fractions, T cells are conserved across blood, nodes and lesions apart from the
// declared births and deaths, and what entered each lesion is exactly what its influx terms
// added; the coupling's state survives saved_state/restore_state exactly.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/simulation.hpp"
#include "host/run/systemic_coupling.hpp"
#include "host/scene/patient.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/program.hpp"

namespace {

using tme::systemic::SystemicState;

const std::string kScenes = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests";

// Two lesions, one node, three fractions to lesion 'a' (the file says more).
const std::string kBalanceFile = kScenes + "/systemic_two_lesions.yaml";
const std::string kBalanceScene = tme::test::slurp(kBalanceFile);

int field(const tme::Problem& p, const std::string& name) {
  for (int s = 0; s < p.nspecies(); ++s)
    if (p.species[(size_t)s].name == name) return s;
  ADD_FAILURE() << "no field " << name;
  return 0;
}

// Total of field s over the state [cells for cells/mm^3], summed in double.
double total(const tme::Problem& p, const std::vector<tme::real>& state, int s) {
  const long long nv = p.grid.nvox();
  double sum = 0;
  for (long long v = 0; v < nv; ++v) sum += state[(size_t)(s * nv + v)];
  return sum * p.grid.h[0] * p.grid.h[1] * p.grid.h[2] * 1e-9;
}

// CD8 lineage births and deaths in nodes and blood [cells].
double cd8_births(const SystemicState& s) { return s.tally.naive_supply + s.tally.expansion; }
double cd8_deaths(const SystemicState& s) {
  return s.tally.naive_return + s.tally.effector_death + s.tally.radiation_naive + s.tally.radiation_chain;
}

TEST(SystemicLoad, BloodInputsBecomeSystemicWithTheirInfluxTallies) {
  const tme::LoadedPatient pt = tme::load_patient_text(kBalanceScene, "s.yaml", kScenes);
  const tme::Problem& p = pt.lesions[0].problem;
  const tme::systemic::Coupling& c = pt.systemic()->coupling;
  EXPECT_EQ(p.model.globals[(size_t)c.effector_input].kind, tme::GlobalInput::Kind::kSystemic);
  EXPECT_EQ(p.model.globals[(size_t)c.treg_input].kind, tme::GlobalInput::Kind::kSystemic);
  EXPECT_DOUBLE_EQ(c.effector_input_per_cells_per_mL, 1.0);  // the inputs are in cells/mL
  EXPECT_EQ(p.species[(size_t)c.effector_tally_field].name, "CD8_blood_entered");
  EXPECT_EQ(p.species[(size_t)c.treg_tally_field].name, "Treg_blood_entered");
  EXPECT_EQ(p.species[(size_t)c.effector_tally_field].unit, "cells/mm^3");
  EXPECT_EQ(p.nspecies(), 7);           // T, CD8, Treg, antigen, V and the two tallies
  ASSERT_EQ(p.model.terms.size(), 4u);  // the two influx terms and their copies on the tallies
  EXPECT_EQ(p.model.terms[2].target, c.effector_tally_field);
  EXPECT_EQ(p.model.terms[2].global, c.effector_input);
  EXPECT_EQ(p.model.terms[3].target, c.treg_tally_field);
  EXPECT_EQ(p.coeffs[(size_t)c.effector_tally_field].D[0], tme::real(0));
  // Without lymph nodes: the prescribed inputs, no tallies.
  std::string plain = kBalanceScene.substr(0, kBalanceScene.find("lymph_nodes:"));
  const tme::LoadedPatient q = tme::load_patient_text(plain, "s.yaml", kScenes);
  EXPECT_EQ(q.lesions[0].problem.nspecies(), 5);
  for (const tme::GlobalInput& g : q.lesions[0].problem.model.globals)
    EXPECT_EQ(g.kind, tme::GlobalInput::Kind::kConstant);
}

// The value of `column` in the last row of a CSV table (NaN when the column is missing).
double last_value(const std::string& csv, const std::string& column) {
  auto cells = [](const std::string& line) {
    std::vector<std::string> c;
    std::stringstream in(line);
    for (std::string x; std::getline(in, x, ',');) c.push_back(x);
    return c;
  };
  const std::vector<std::string> head = cells(csv.substr(0, csv.find('\n')));
  const std::string body = csv.substr(0, csv.find_last_not_of('\n') + 1);
  const std::vector<std::string> last = cells(body.substr(body.rfind('\n') + 1));
  for (size_t i = 0; i < head.size() && i < last.size(); ++i)
    if (head[i] == column) return std::stod(last[i]);
  ADD_FAILURE() << "no column " << column;
  return std::numeric_limits<double>::quiet_NaN();
}

class SystemicRun : public tme::test::BackendTest {};

// The whole-run T-cell balance over 12 days with three fractions, two lesions, one node.
TEST_P(SystemicRun, TCellsAreConservedAcrossBloodNodesAndLesions) {
  omp_set_num_threads(1);
  tme::LoadedPatient pt = tme::load_patient_text(kBalanceScene, "s.yaml", kScenes);
  const std::unique_ptr<tme::SystemicCoupling> coupling = tme::make_systemic_coupling(pt);
  ASSERT_TRUE(coupling);
  const SystemicState s0 = coupling->state();
  std::vector<std::unique_ptr<tme::Backend>> backends;
  std::vector<std::unique_ptr<tme::Simulation>> sims;
  std::vector<tme::Simulation*> ptrs;
  for (const tme::LoadedScene& ls : pt.lesions) {
    backends.push_back(backend());
    backends.back()->load(ls.problem);
    sims.push_back(std::make_unique<tme::Simulation>(ls.problem, *backends.back()));
    ptrs.push_back(sims.back().get());
  }
  std::vector<tme::Backend*> attached;
  for (const auto& b : backends) attached.push_back(b.get());
  coupling->attach(attached);  // as a Run does: the tallies are emptied after every step
  const tme::Problem& p = pt.lesions[0].problem;
  const int cd8 = field(p, "CD8"), treg = field(p, "Treg");
  const double t_end = p.time.t_end;
  tme::Simulation::advance_together(ptrs, t_end, {}, {}, coupling.get());
  EXPECT_EQ(ptrs[0]->fractions_applied(), 3);
  const SystemicState& s = coupling->state();
  EXPECT_EQ(s.t_s, t_end);

  // What entered each lesion: its CD8 (Treg) total, which only influx changes, equals the
  // tally the coupling took out of blood.
  double cd8_lesions = 0, treg_lesions = 0;
  for (size_t l = 0; l < pt.lesions.size(); ++l) {
    std::vector<tme::real> st;
    backends[l]->read_state(st);
    const tme::Problem& pl = pt.lesions[l].problem;
    const double e = total(pl, st, cd8), r = total(pl, st, treg);
    EXPECT_NEAR(e, coupling->effectors_entered()[l], 1e-6 * e) << l;
    EXPECT_NEAR(r, coupling->treg_entered()[l], 1e-6 * r) << l;
    EXPECT_GT(e, 100.0) << l;
    cd8_lesions += e;
    treg_lesions += r;
  }
  EXPECT_NEAR(cd8_lesions, s.tally.effector_to_lesions, 1e-6 * cd8_lesions);
  EXPECT_NEAR(treg_lesions, s.tally.treg_to_lesions, 1e-6 * treg_lesions);

  // CD8: nodes + blood + lesions changed by births - deaths (the lesions start without CD8).
  const double scale = s0.cd8_total() + cd8_births(s) + cd8_deaths(s);
  const double residual = (s.cd8_total() + cd8_lesions) - s0.cd8_total() - (cd8_births(s) - cd8_deaths(s));
  EXPECT_LE(std::abs(residual), 1e-6 * scale) << residual << " of " << scale;
  // and the part that crossed into the lesions, relative to itself
  const double crossed = s.cd8_total() - s0.cd8_total() - (cd8_births(s) - cd8_deaths(s) - cd8_lesions);
  EXPECT_LE(std::abs(crossed), 1e-6 * cd8_lesions) << crossed;
  // Treg likewise: supply - turnover death - depletion.
  const double treg_res = (s.treg_blood + treg_lesions) - s0.treg_blood -
                          (s.tally.treg_supply - s.tally.treg_death - s.tally.treg_depleted);
  EXPECT_LE(std::abs(treg_res), 1e-6 * treg_lesions) << treg_res;
  std::printf(
      "balance: CD8 into lesions %.6g cells, Treg %.6g; primed %.6g, expansion %.6g, egress %.6g, node radiation "
      "deaths %.6g; residual %.3g of %.6g, crossed %.3g, Treg %.3g\n",
      cd8_lesions, treg_lesions, s.tally.primed, s.tally.expansion, s.tally.egress,
      s.tally.radiation_naive + s.tally.radiation_chain, residual, scale, crossed, treg_res);
  // The node got 2 Gy at each fraction: its lymphocytes died by the LQ survival (tallied).
  const auto& doses = coupling->node_doses();
  ASSERT_EQ(doses.size(), 3u);
  for (size_t f = 0; f < 3; ++f) {
    EXPECT_EQ(doses[f].time_s, 86400.0 * double(2 + f));
    EXPECT_EQ(doses[f].dose_Gy, 2.0);
    EXPECT_DOUBLE_EQ(doses[f].survival, std::exp(-0.2 * 2 - 0.14 * 4));
  }
  EXPECT_GT(s.tally.radiation_naive, 0.0);
  EXPECT_GT(s.tally.radiation_chain, 0.0);
  // The run primed and expanded cells, so every term of the balance was exercised.
  EXPECT_GT(s.tally.primed, 0.0);
  EXPECT_GT(s.tally.expansion, s.tally.primed);
  EXPECT_GT(s.tally.egress, 0.0);
}

TME_INSTANTIATE_BACKENDS(SystemicRun);

// The chain end to end on each backend: 3 x 8 Gy to lesion 'irradiated' raise the blood
// effectors and the CD8 density of lesion 'abscopal' at day 12 above the same scene without
// radiotherapy (scenes/tests/systemic_abscopal.yaml, the default model).
class SystemicAbscopal : public tme::test::BackendTest {};

TEST_P(SystemicAbscopal, IrradiatingOneLesionRaisesCd8InTheOther) {
  omp_set_num_threads(1);
  const std::string text = tme::test::slurp(kScenes + "/systemic_abscopal.yaml");
  const std::string untreated = text.substr(0, text.find("radiotherapy:"));
  ASSERT_NE(untreated.size(), text.size());
  struct Outcome {
    double blood_per_mL = 0, cd8_abscopal = 0, tumour_irradiated = 0;
  };
  auto run = [&](const std::string& scene) {
    tme::LoadedPatient pt = tme::load_patient_text(scene, "s.yaml", kScenes);
    const std::unique_ptr<tme::SystemicCoupling> coupling = tme::make_systemic_coupling(pt);
    std::vector<std::unique_ptr<tme::Backend>> backends;
    std::vector<std::unique_ptr<tme::Simulation>> sims;
    std::vector<tme::Simulation*> ptrs;
    for (const tme::LoadedScene& ls : pt.lesions) {
      backends.push_back(backend());
      backends.back()->load(ls.problem);
      sims.push_back(std::make_unique<tme::Simulation>(ls.problem, *backends.back()));
      ptrs.push_back(sims.back().get());
    }
    std::vector<tme::Backend*> attached;
    for (const auto& b : backends) attached.push_back(b.get());
    coupling->attach(attached);
    tme::Simulation::advance_together(ptrs, pt.lesions[0].problem.time.t_end, {}, {}, coupling.get());
    Outcome o;
    o.blood_per_mL = coupling->effector_blood_per_mL();
    std::vector<tme::real> st;
    backends[1]->read_state(st);
    const tme::Problem& p1 = pt.lesions[1].problem;
    const double grid_mm3 = double(p1.grid.nvox()) * p1.grid.h[0] * p1.grid.h[1] * p1.grid.h[2] * 1e-9;
    o.cd8_abscopal = total(p1, st, field(p1, "CD8")) / grid_mm3;  // the grid mean [cells/mm^3]
    backends[0]->read_state(st);
    o.tumour_irradiated = total(pt.lesions[0].problem, st, field(pt.lesions[0].problem, "T"));
    return o;
  };
  const Outcome rt = run(text), none = run(untreated);
  std::printf(
      "abscopal (%s): blood effectors %.6g vs %.6g cells/mL untreated; CD8 in 'abscopal' %.6g vs %.6g "
      "cells/mm^3; tumour in 'irradiated' %.6g vs %.6g cells\n",
      GetParam().c_str(), rt.blood_per_mL, none.blood_per_mL, rt.cd8_abscopal, none.cd8_abscopal, rt.tumour_irradiated,
      none.tumour_irradiated);
  EXPECT_LT(rt.tumour_irradiated, 0.1 * none.tumour_irradiated);  // the irradiated tumour is killed
  EXPECT_GT(rt.blood_per_mL, 1.2 * none.blood_per_mL);            // its antigen primes more effectors
  EXPECT_GT(rt.cd8_abscopal, 1.2 * none.cd8_abscopal);            // which reach the other lesion
}

TME_INSTANTIATE_BACKENDS(SystemicAbscopal);

// saved_state then restore_state into a fresh coupling, and both continue identically.
TEST(SystemicCoupling, SavedStateRestoresExactly) {
  const tme::LoadedPatient pt = tme::load_patient_text(kBalanceScene, "s.yaml", kScenes);
  auto a = tme::make_systemic_coupling(pt), b = tme::make_systemic_coupling(pt);
  const std::vector<std::vector<double>> totals{{1e-3, 5, 7}, {2e-3, 3, 1}}, more{{1e-3, 9, 8}, {3e-3, 4, 2}};
  a->after_step(0, 3600, totals);
  b->restore_state(a->saved_state());
  EXPECT_EQ(b->saved_state(), a->saved_state());
  std::vector<double> ga(pt.lesions[0].problem.model.globals.size(), 0), gb = ga;
  a->input_means(1, 3600, 5400, ga);
  b->input_means(1, 3600, 5400, gb);
  EXPECT_EQ(ga, gb);
  a->after_step(3600, 7200, more);
  b->after_step(3600, 7200, more);
  EXPECT_EQ(b->saved_state(), a->saved_state());
  std::vector<double> bad = a->saved_state();
  bad.pop_back();
  EXPECT_THROW(b->restore_state(bad), std::invalid_argument);
}

// Explicit steps of a span that no step divides exactly (the first day, in 87 steps of 993.1 s): each
// step's end is the next step's start exactly, so the compartments (whose time must equal the
// start of every step) follow the lesion through every step and end at the run's end.
TEST(SystemicCoupling, ExplicitStepsMeetTheCompartmentsExactly) {
  std::string scene = kBalanceScene;
  const std::string from = "time: {end: 12 d, output_every: 1 d, integrator: lod, step: 2 h}";
  ASSERT_NE(scene.find(from), std::string::npos);
  scene.replace(scene.find(from), from.size(),
                "time: {end: 12 d, until: 1 d, output_every: 1 d, integrator: explicit, step: 1000 s}");
  tme::LoadedPatient pt = tme::load_patient_text(scene, "s.yaml", kScenes);
  const std::unique_ptr<tme::SystemicCoupling> coupling = tme::make_systemic_coupling(pt);
  ASSERT_TRUE(coupling);
  std::vector<std::unique_ptr<tme::Backend>> backends;
  std::vector<std::unique_ptr<tme::Simulation>> sims;
  std::vector<tme::Simulation*> ptrs;
  for (const tme::LoadedScene& ls : pt.lesions) {
    backends.push_back(tme::make_backend("cpu"));
    backends.back()->load(ls.problem);
    sims.push_back(std::make_unique<tme::Simulation>(ls.problem, *backends.back()));
    ptrs.push_back(sims.back().get());
  }
  EXPECT_EQ(sims[0]->dt_max(), 1000.0);
  ASSERT_NO_THROW(tme::Simulation::advance_together(ptrs, 86400, {}, {}, coupling.get()));
  EXPECT_EQ(sims[0]->steps(), 87);
  EXPECT_EQ(coupling->state().t_s, 86400.0);
  EXPECT_GT(coupling->effectors_entered()[0], 0.0);
}

// tmesim validate and run build the coupling from the scene's lymph nodes; the run's summary
// gives the blood effectors at the start and the end.
TEST(SystemicCli, ValidateAndRunUseTheNodes) {
  if (!tme::test::kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
  const tme::test::TempDir tmp("tmesim_systemic_cli");
  const tme::test::Result v = tme::test::run_shell(tme::test::kBinary, "validate " + kBalanceFile, tmp.path());
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("systemic: 1 lymph node ('n' drains 'a', 'b'), blood effector CD8 from 5050 cells/mL into "
                       "'CD8_blood', Treg into 'Treg_blood'\n"),
            std::string::npos)
      << v.out;
  const tme::test::Result r = tme::test::run_shell(
      tme::test::kBinary, "run " + kBalanceFile + " --quiet --until '4 d' -o " + (tmp / "run").string(), tmp.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("blood effector CD8: 5050 cells/mL at the start, "), std::string::npos) << r.out;
}

// systemic.csv (a row per output) and node_doses.csv (a row per fraction and node) at the
// run's top; a run ended hard after a checkpoint and resumed writes the same files, byte for byte.
TEST(SystemicCli, OutputsAndTheirResume) {
  if (!tme::test::kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
  const tme::test::TempDir tmp("tmesim_systemic_resume");
  const std::string args = "run " + kBalanceFile + " -q --set output.checkpoint_every=2d -o ";
  const tme::test::Result ref = tme::test::run_shell(tme::test::kBinary, args + "ref", tmp.path());
  ASSERT_EQ(ref.code, 0) << ref.err;
  const tme::test::Result killed =
      tme::test::run_shell(tme::test::kBinary, args + "k", tmp.path(), "TMESIM_TEST_EXIT_AFTER_CHECKPOINT=2 ");
  ASSERT_TRUE(killed.signalled && killed.signal == 9) << killed.err;
  const tme::test::Result resumed =
      tme::test::run_shell(tme::test::kBinary, "run --resume k.incomplete -q", tmp.path());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  size_t compared = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp / "ref")) {
    if (!e.is_regular_file()) continue;
    const std::filesystem::path rel = std::filesystem::relative(e.path(), tmp / "ref");
    if (rel == ".tmesim-run" || rel == "provenance.json") continue;
    EXPECT_TRUE(tme::test::slurp(e.path()) == tme::test::slurp(tmp / "k" / rel)) << rel << " differs";
    ++compared;
  }
  EXPECT_GT(compared, 50u);
  // What entered each lesion, since the start, in both tables at the end: systemic.csv sums the
  // steps' tallies in double, observables.csv the running sums of the tally field (per voxel in
  // double, rounded to the build's real type); both printed to 9 digits.
  for (const char* l : {"a", "b"}) {
    const std::string obs = tme::test::slurp(tmp / "ref" / "lesions" / l / "observables.csv");
    const std::string sys = tme::test::slurp(tmp / "ref/systemic.csv");
    for (const auto& [field, column] : {std::pair<std::string, std::string>{"CD8_blood", "effectors_entered"},
                                        std::pair<std::string, std::string>{"Treg_blood", "treg_entered"}}) {
      const double in_obs = last_value(obs, field + "_entered.grid.total [cells]");
      const double in_sys = last_value(sys, "lesion." + std::string(l) + "." + column + " [cells]");
      EXPECT_GT(in_sys, 10.0) << l << " " << column;
      const double eps = std::numeric_limits<tme::real>::epsilon();
      EXPECT_NEAR(in_obs, in_sys, (2 * eps + 1e-8) * in_sys) << l << " " << column;
    }
  }
  const std::string csv = tme::test::slurp(tmp / "ref/systemic.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "time_s,time_d,node.n.antigen [nmol],node.n.presented [nmol],node.n.naive [cells],node.n.chain [cells],"
            "node.n.homing [1],blood.effectors [cells],blood.effectors [cells/mL],blood.treg [cells],"
            "blood.treg [cells/mL],total.naive_supply [cells],total.expansion [cells],total.naive_return [cells],"
            "total.effector_death [cells],total.radiation_naive [cells],total.radiation_chain [cells],"
            "total.effectors_to_lesions [cells],total.primed [cells],total.egress [cells],total.treg_supply [cells],"
            "total.treg_death [cells],total.treg_depleted [cells],total.treg_to_lesions [cells],"
            "lesion.a.antigen_drained [nmol/s],lesion.a.effectors_entered [cells],lesion.a.treg_entered [cells],"
            "lesion.b.antigen_drained [nmol/s],lesion.b.effectors_entered [cells],lesion.b.treg_entered [cells]");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 14);  // the header and 13 outputs (0 to 12 d)
  EXPECT_EQ(csv.substr(csv.find('\n') + 1, 47), "0,0,0,0,1000,0,1,25250000,5050,175000000,35000,");  // the start
  EXPECT_EQ(tme::test::slurp(tmp / "ref/node_doses.csv"),
            "time_s,time_h,plan,plan_name,prescribed_Gy,node,dose_Gy,survival\n"
            "172800,48,0,p,8,n,2,0.382892886\n"
            "259200,72,0,p,8,n,2,0.382892886\n"
            "345600,96,0,p,8,n,2,0.382892886\n");
}

}  // namespace
