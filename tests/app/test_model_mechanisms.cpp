// Mechanism signs of the default model (scenes/models/tme.yaml) in small 3D scenes,
// on every backend: each test loads the model through a scene, runs it with Simulation and
// compares runs that differ in one thing (a parameter override, an initial level, a
// radiotherapy fraction). Where a closed form exists the numbers are checked against it.
//
// Isolation: every scene starts from the "frozen" overrides below (every growth, death,
// secretion, influx, decay and exchange rate 0, PD-L1 relaxation time 1e9 days, no vessels),
// so that only the mechanism under test changes a field; the test then overrides back the
// parameters it needs, with the values of tme.yaml written out so the formulas here name them.
// Fields are uniform unless a test says otherwise, so transport leaves them unchanged and the
// per-voxel reaction integrator is exact for the constant per-capita rates that remain.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/app/scene_run.hpp"
#include "tests/core/backend_param.hpp"

namespace tme::test {
namespace {

constexpr double kDay = 86400.0;  // [s]

// Every rate of tme.yaml that would change a field, set to 0 (in the unit tme.yaml uses), and
// PD-L1 frozen (tau 1e9 days).
const std::map<std::string, std::string>& frozen() {
  static const std::map<std::string, std::string> f{
      {"r_tumour", "0 1/day"},
      {"k_doomed", "0 1/day"},
      {"k_antigen", "0 1/day"},
      {"k_kill", "0 mm^3/cell/day"},
      {"r_CD8", "0 1/day"},
      {"k_exhaust", "0 1/day"},
      {"k_exhaust_PD1", "0 1/day"},
      {"k_kill_myeloid", "0 mm^3/cell/day"},
      {"k_CD8_death", "0 1/day"},
      {"s_IFNg", "0 fg/cell/h"},
      {"s_IL2", "0 mol/cell/day"},
      {"u_IL2", "0 mm^3/cell/s"},
      {"k_influx_CD8", "0 um/s"},
      {"chi_CD8", "0 um^2/s/nM"},
      {"s_CXCL10", "0 mol/cell/day"},
      {"s_CCL2", "0 mol/cell/day"},
      {"s_TGFb_tumour", "0 fg/cell/h"},
      {"s_TGFb_myeloid", "0 fg/cell/h"},
      {"k_influx_Treg", "0 um/s"},
      {"k_Treg_death", "0 1/day"},
      {"k_deplete_Treg", "0 1/day"},
      {"k_influx_myeloid", "0 um/s"},
      {"k_myeloid_death", "0 1/day"},
      {"P_IgG", "0 cm/s"},
      {"decay_IFNg", "0 1/s"},
      {"decay_IL2", "0 1/s"},
      {"decay_TGFb", "0 1/s"},
      {"decay_IFN1", "0 1/s"},
      {"decay_CXCL10", "0 1/s"},
      {"decay_CCL2", "0 1/s"},
      {"drain_IgG", "0 1/s"},
      {"tau_PDL1", "1e9 day"},
      {"tau_STING", "1e9 day"},
  };
  return f;
}

// One scene: the frozen default model plus overrides.
struct Spec {
  std::map<std::string, std::string> params;   // overrides on top of frozen()
  std::map<std::string, std::string> initial;  // field -> initial state (YAML flow)
  std::string grid = "{shape: [8, 8, 8], spacing: 30 um}";
  std::string end = "2 d";
  std::string step = "1 h";  // lod step
  std::string extra;         // further top-level YAML (regions, radiotherapy)
};

std::string scene_text(const Spec& s) {
  std::map<std::string, std::string> params = frozen();
  for (const auto& [k, v] : s.params) params[k] = v;
  std::map<std::string, std::string> initial{{"vasculature", "{constant: 0 1/um}"}};
  for (const auto& [k, v] : s.initial) initial[k] = v;
  std::string t = "name: mech\nseed: 1\ngrid: " + s.grid + "\ntime: {end: " + s.end +
                  ", output_every: 1 d, integrator: lod, step: " + s.step + "}\nmodel: ../models/tme.yaml\n";
  t += "parameters:\n";
  for (const auto& [k, v] : params) t += "  " + k + ": " + v + "\n";
  t += "initial:\n";
  for (const auto& [k, v] : initial) t += "  " + k + ": " + v + "\n";
  return t + s.extra;
}

void expect_rel(double got, double want, double tol, const std::string& what = "") {
  EXPECT_NEAR(got, want, tol * std::fabs(want)) << what << ": want " << want << ", got " << got;
}

std::string num(double x) {
  char b[64];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}
std::string constant(double x, const std::string& unit) { return "{constant: " + num(x) + " " + unit + "}"; }

class ModelMechanisms : public BackendTest {};

// ---- IFN-gamma raises PD-L1 ------------------------------------------------------------------

// PD-L1 relaxes at 1/tau toward base + (max - base) I^n / (K^n + I^n). With IFN-gamma held at a
// uniform level I (no decay, no secretion) the level is constant and
//   PDL1(t) = L + (PDL1_0 - L) exp(-t / tau).
TEST_P(ModelMechanisms, IfngRaisesPdl1TowardItsRelaxationLevel) {
  const double tau = 1, base = 0.1, pmax = 1, K = 0.11, n = 1.26, t = 2;  // days, ng/mL
  std::vector<double> got;
  for (double I : {0.0, 0.11, 1.0}) {
    Spec s;
    s.params = {{"tau_PDL1", "1 day"},
                {"PDL1_base", "0.1"},
                {"PDL1_max", "1"},
                {"IFNg_PDL1_half", "0.11 ng/mL"},
                {"IFNg_PDL1_hill", "1.26"}};
    s.initial = {{"IFNg", constant(I, "ng/mL")}, {"PDL1", "{constant: 0.1}"}};
    SceneRun r(scene_text(s), GetParam());
    r.to(t * kDay);
    const double act = I > 0 ? std::pow(I / K, n) / (1 + std::pow(I / K, n)) : 0;
    const double L = base + (pmax - base) * act;
    const double want = L + (base - L) * std::exp(-t / tau);
    expect_rel(r.mean("PDL1"), want, 1e-4, "PDL1 at IFNg " + num(I));
    expect_rel(r.mean("IFNg"), I, 1e-5, "IFNg held");
    got.push_back(r.mean("PDL1"));
  }
  EXPECT_NEAR(got[0], base, 1e-6);  // no IFN-gamma: stays basal
  EXPECT_GT(got[1], got[0] + 0.3);
  EXPECT_GT(got[2], got[1] + 0.2);
}

// CD8 cells secreting IFN-gamma raise PD-L1: I' = s C / (1 + PDL1 / PDL1_half) - k I (PD-1
// engagement lowers the secretion), PDL1' = (L(I) - PDL1) / tau,
// checked against an RK4 solution of that pair. With lod the decay is in the transport operator
// (split over the three sweeps) and the secretion in the Strang reaction halves: at k dt = 0.23
// (1 h steps) the IFN-gamma plateau is 4% high, so this test steps 10 min (measured 0.7% on
// IFN-gamma, 5e-5 on PD-L1).
TEST_P(ModelMechanisms, Cd8SecretingIfngRaisesPdl1) {
  const double C = 1e4;                                          // CD8 [cells/mm^3]
  const double s_ng_per_mL_per_day = 0.1 * 24 * C * 1e-6 * 1e3;  // 0.1 fg/cell/h -> ng/mL/day
  const double k = 6.5e-5 * kDay;                                // [1/day]
  const double tau = 1, base = 0.1, pmax = 1, K = 0.11, n = 1.26, t_end = 2;
  std::vector<double> got;
  for (double cd8 : {0.0, C}) {
    Spec s;
    s.step = "10 min";
    s.params = {{"s_IFNg", "0.1 fg/cell/h"},
                {"decay_IFNg", "6.5e-5 1/s"},
                {"tau_PDL1", "1 day"},
                {"PDL1_base", "0.1"},
                {"PDL1_half", "0.5"},
                {"PDL1_max", "1"},
                {"IFNg_PDL1_half", "0.11 ng/mL"},
                {"IFNg_PDL1_hill", "1.26"}};
    s.initial = {{"CD8", constant(cd8, "cells/mm^3")}, {"PDL1", "{constant: 0.1}"}};
    SceneRun r(scene_text(s), GetParam());
    r.to(t_end * kDay);
    got.push_back(r.mean("PDL1"));
    if (cd8 > 0) {
      // RK4 reference in days.
      const double sC = s_ng_per_mL_per_day;
      auto f = [&](double I, double P, double& dI, double& dP) {
        const double a = I > 0 ? std::pow(I / K, n) / (1 + std::pow(I / K, n)) : 0;
        dI = sC / (1 + P / 0.5) - k * I;
        dP = (base + (pmax - base) * a - P) / tau;
      };
      double I = 0, P = base;
      const int N = 20000;
      const double h = t_end / N;
      for (int q = 0; q < N; ++q) {
        double i1, p1, i2, p2, i3, p3, i4, p4;
        f(I, P, i1, p1);
        f(I + 0.5 * h * i1, P + 0.5 * h * p1, i2, p2);
        f(I + 0.5 * h * i2, P + 0.5 * h * p2, i3, p3);
        f(I + h * i3, P + h * p3, i4, p4);
        I += h / 6 * (i1 + 2 * i2 + 2 * i3 + i4);
        P += h / 6 * (p1 + 2 * p2 + 2 * p3 + p4);
      }
      expect_rel(r.mean("IFNg"), I, 1.5e-2, "IFNg secreted by CD8");
      expect_rel(r.mean("PDL1"), P, 1e-3, "PDL1 driven by secreted IFNg");
    }
  }
  EXPECT_NEAR(got[0], base, 1e-6);
  EXPECT_GT(got[1], got[0] + 0.5);
}

// ---- killing: PD-L1, anti-PD-1, TGF-beta, Treg ------------------------------------------------

// Tumour T killed by uniform CD8 C with every other rate 0 and the factors' inputs held: the
// loss is first order, ln(T0 / T) / t = k_kill C F, and the killed cells go to Td.
struct KillCase {
  double pdl1 = 0, antiPD1 = 0, tgfb = 0, treg = 0;  // 1, nM, ng/mL, cells/mm^3
};
constexpr double kT0 = 1e5, kC = 1e4, kKill = 9e-5;  // cells/mm^3, mm^3/cell/day
constexpr double kKillDays = 1;

double measured_kill_rate(const KillCase& c, const std::string& backend) {
  Spec s;
  s.end = "1 d";
  s.params = {{"k_kill", "9e-5 mm^3/cell/day"},
              {"PDL1_half", "0.5"},
              {"Kd_antiPD1", "0.26 nM"},
              {"TGFb_half", "1 ng/mL"},
              {"Treg_CD8_half", "0.31"}};
  s.initial = {{"T", constant(kT0, "cells/mm^3")},          {"CD8", constant(kC, "cells/mm^3")},
               {"PDL1", "{constant: " + num(c.pdl1) + "}"}, {"antiPD1", constant(c.antiPD1, "nM")},
               {"TGFb", constant(c.tgfb, "ng/mL")},         {"Treg", constant(c.treg, "cells/mm^3")}};
  SceneRun r(scene_text(s), backend);
  r.to(kKillDays * kDay);
  // Killed cells are conserved into Td (k_doomed 0): T's first-order loss is integrated exactly,
  // Td's gain to the reaction tolerance (1e-3 per sub-step; measured <= 3.5e-5 of T0).
  // CD8 and the factor inputs did not move.
  expect_rel(r.mean("T") + r.mean("Td"), kT0, 2e-4, "T + Td");
  expect_rel(r.mean("CD8"), kC, 1e-6, "CD8 held");
  EXPECT_NEAR(r.mean("PDL1"), c.pdl1, 1e-6 + 1e-6 * c.pdl1) << "PDL1 held";
  if (c.antiPD1 > 0) expect_rel(r.mean("antiPD1"), c.antiPD1, 1e-5, "antiPD1 held");
  return std::log(kT0 / r.mean("T")) / kKillDays;  // [1/day]
}

// PD-1/PD-L1 factor 1 / (1 + PDL1 * Kd / (Kd + A) / PDL1_half): anti-PD-1 at level A restores
// killing by the bound fraction A / (Kd + A).
TEST_P(ModelMechanisms, Pdl1LowersKillingAndAntiPd1RestoresItByOccupancy) {
  const double Kd = 0.26, half = 0.5, p = 1.0;
  const double k_free = measured_kill_rate({0, 0, 0, 0}, GetParam());
  expect_rel(k_free, kKill * kC, 1e-3, "no PD-L1");
  std::vector<double> rates;
  for (double A : {0.0, Kd, 10 * Kd}) {
    const double k = measured_kill_rate({p, A, 0, 0}, GetParam());
    const double want = kKill * kC / (1 + p * Kd / (Kd + A) / half);
    expect_rel(k, want, 1e-3, "PD-L1 1, anti-PD-1 " + num(A) + " nM");
    rates.push_back(k);
  }
  // Order: no PD-L1 > PD-L1 with anti-PD-1 (more antibody, more killing) > PD-L1 alone.
  EXPECT_GT(k_free, rates[2]);
  EXPECT_GT(rates[2], rates[1]);
  EXPECT_GT(rates[1], rates[0]);
  // PD-L1 alone divides the rate by 1 + 1/0.5 = 3; anti-PD-1 at Kd halves the engaged PD-L1.
  expect_rel(k_free / rates[0], 3.0, 1e-3, "PD-L1 alone");
  expect_rel(k_free / rates[1], 2.0, 1e-3, "anti-PD-1 at Kd");
}

// TGF-beta: factor TGFb_half / (TGFb_half + G); Treg: Treg_CD8_half / (Treg_CD8_half + R/C).
TEST_P(ModelMechanisms, TgfbAndTregLowerKillingByTheirInhibitionFactors) {
  const double k0 = kKill * kC;
  std::vector<double> tg, tr;
  for (double G : {1.0, 3.0}) {
    const double k = measured_kill_rate({0, 0, G, 0}, GetParam());
    expect_rel(k, k0 * 1.0 / (1.0 + G), 1e-3, "TGFb " + num(G) + " ng/mL");
    tg.push_back(k);
  }
  for (double ratio : {0.31, 0.93}) {
    const double k = measured_kill_rate({0, 0, 0, ratio * kC}, GetParam());
    expect_rel(k, k0 * 0.31 / (0.31 + ratio), 1e-3, "Treg:CD8 " + num(ratio));
    tr.push_back(k);
  }
  EXPECT_LT(tg[1], tg[0]);
  EXPECT_LT(tg[0], k0);
  EXPECT_LT(tr[1], tr[0]);
  EXPECT_LT(tr[0], k0);
  // The factors multiply: TGF-beta 1 ng/mL and Treg:CD8 0.31 together quarter the rate.
  expect_rel(measured_kill_rate({0, 0, 1.0, 0.31 * kC}, GetParam()), k0 / 4, 1e-3, "both");
}

// ---- anti-CTLA-4 depletes Treg -----------------------------------------------------------------

// Treg loss rate k_Treg_death + k_deplete_Treg A / (Kd + A) with anti-CTLA-4 held at A.
TEST_P(ModelMechanisms, AntiCtla4LowersTregByDepletionAtItsOccupancy) {
  const double R0 = 1000, death = 0.05, deplete = 0.1, Kd = 18, t = 2;
  std::vector<double> rates;
  for (double A : {0.0, Kd, 10 * Kd}) {
    Spec s;
    s.params = {{"k_Treg_death", "0.05 1/day"}, {"k_deplete_Treg", "0.1 1/day"}, {"Kd_antiCTLA4", "18 nM"}};
    s.initial = {{"Treg", constant(R0, "cells/mm^3")}, {"antiCTLA4", constant(A, "nM")}};
    SceneRun r(scene_text(s), GetParam());
    r.to(t * kDay);
    const double k = std::log(R0 / r.mean("Treg")) / t;
    expect_rel(k, death + deplete * A / (Kd + A), 1e-3, "Treg loss at anti-CTLA-4 " + num(A) + " nM");
    rates.push_back(k);
  }
  expect_rel(rates[1] - rates[0], deplete * 0.5, 2e-3, "extra depletion at Kd");
  EXPECT_GT(rates[1], rates[0]);
  EXPECT_GT(rates[2], rates[1]);
}

// ---- chemokine source draws effector cells -----------------------------------------------------

// Tumour cells in a slab at x < 90 um of a 360 um box secrete CXCL10 (type-I IFN held at
// 100 pg/mL drives it; CXCL10 diffuses and decays with tme.yaml's figures, secretion 10x
// s_CXCL10 so that the drift shows within 2 days: with tme.yaml's rate the near/far contrast
// after 2 days is only 1.2, the equilibrium being ~9 days away at D_CD8); CD8, uniform at first,
// drift up the gradient with tme.yaml's chi_CD8 and vmax_CD8. No influx, death, proliferation or
// exhaustion: total CD8 is conserved. There is no closed form for the profile; the numbers
// asserted are the conservation, the control without chemotaxis (stays uniform) and the
// near/far contrast (measured near 2170, far 402 cells/mm^3 from 1000).
TEST_P(ModelMechanisms, ChemokineSourceDrawsEffectorCellsTowardIt) {
  auto run = [&](bool chemotaxis, double& near, double& far, double& total0, double& total1, double& cxcl_near,
                 double& cxcl_far) {
    Spec s;
    s.grid = "{shape: [12, 6, 6], spacing: 30 um}";
    s.extra = "regions:\n  source: {box: {min: [0 um, 0 um, 0 um], max: [90 um, 180 um, 180 um]}}\n";
    s.params = {{"s_CXCL10", "1.16e-17 mol/cell/day"},
                {"decay_CXCL10", "1e-4 1/s"},
                {"chi_CD8", chemotaxis ? "0.07 um^2/s/nM" : "0 um^2/s/nM"}};
    s.initial = {{"T", "{regions: {background: 0 cells/mm^3, source: 1e5 cells/mm^3}}"},
                 {"IFN1", "{constant: 100 pg/mL}"},
                 {"CD8", "{constant: 1000 cells/mm^3}"}};
    SceneRun r(scene_text(s), GetParam());
    r.to(0);
    total0 = r.total("CD8");
    r.to(2 * kDay);
    total1 = r.total("CD8");
    near = r.mean_x("CD8", 0, 3);
    far = r.mean_x("CD8", 9, 12);
    cxcl_near = r.mean_x("CXCL10", 0, 3);
    cxcl_far = r.mean_x("CXCL10", 9, 12);
    EXPECT_GE(r.min("CD8"), 0.0);
  };
  double near, far, t0, t1, cn, cf;
  run(true, near, far, t0, t1, cn, cf);
  EXPECT_GT(cn, 2 * cf) << "CXCL10 near " << cn << " far " << cf;  // a gradient exists
  expect_rel(t1, t0, 1e-4, "total CD8 with chemotaxis");
  EXPECT_GT(near, 3 * far) << "CD8 near " << near << " far " << far;
  EXPECT_GT(near, 1500.0);
  EXPECT_LT(far, 600.0);
  run(false, near, far, t0, t1, cn, cf);
  expect_rel(t1, t0, 1e-4, "total CD8 without chemotaxis");
  expect_rel(near, 1000.0, 1e-4, "no chemotaxis: near stays uniform");
  expect_rel(far, 1000.0, 1e-4, "no chemotaxis: far stays uniform");
}

// ---- radiation ----------------------------------------------------------------------------------

// Two fractions on a uniform plan (4 Gy at 6 h, 2 Gy at 18 h), every other rate 0: after each
// fraction T = T0 S_T, Td = T0 (1 - S_T), CD8 = C0 S_L, Treg = R0 S_L, with S the product of
// exp(-alpha d - beta d^2) over the fractions given.
TEST_P(ModelMechanisms, RadiationLowersTumourAndLymphocytesByLqSurvival) {
  const double T0 = 1e5, C0 = 1000, R0 = 300;
  const double aT = 0.146, bT = 0.0146, aL = 0.2, bL = 0.14;
  Spec s;
  s.end = "1 d";
  s.initial = {
      {"T", constant(T0, "cells/mm^3")}, {"CD8", constant(C0, "cells/mm^3")}, {"Treg", constant(R0, "cells/mm^3")}};
  s.extra = R"(radiotherapy:
  response:
    - {population: T, alpha: 0.146 1/Gy, beta: 0.0146 1/Gy^2, doomed: Td}
    - {population: CD8, alpha: 0.2 1/Gy, beta: 0.14 1/Gy^2}
    - {population: Treg, alpha: 0.2 1/Gy, beta: 0.14 1/Gy^2}
  plans:
    - name: uniform
      dose: {targets: [], background: 4 Gy}
      per_fraction: 4 Gy
      schedule: {times: [6 h, 18 h], doses: [4 Gy, 2 Gy]}
)";
  SceneRun r(scene_text(s), GetParam());
  auto S = [](double a, double b, double d) { return std::exp(-a * d - b * d * d); };
  r.to(5 * 3600.0);  // before the first fraction: nothing changes
  expect_rel(r.mean("T"), T0, 1e-6, "T before");
  EXPECT_EQ(r.max("Td"), 0.0);
  expect_rel(r.mean("CD8"), C0, 1e-6, "CD8 before");
  double sT = 1, sL = 1;
  for (auto [t_h, d] : {std::pair{12.0, 4.0}, std::pair{24.0, 2.0}}) {
    r.to(t_h * 3600.0);
    sT *= S(aT, bT, d);
    sL *= S(aL, bL, d);
    const std::string when = " after the " + num(d) + " Gy fraction";
    for (const char* f : {"T", "Td", "CD8", "Treg"}) {  // uniform plan: uniform result
      EXPECT_NEAR(r.min(f), r.max(f), 1e-6 * r.max(f)) << f << when;
    }
    expect_rel(r.mean("T"), T0 * sT, 1e-5, "T" + when);
    expect_rel(r.mean("Td"), T0 * (1 - sT), 1e-5, "Td" + when);
    expect_rel(r.mean("CD8"), C0 * sL, 1e-5, "CD8" + when);
    expect_rel(r.mean("Treg"), R0 * sL, 1e-5, "Treg" + when);
    // The backend's survival product per population (T, CD8, Treg), at every voxel.
    const std::vector<double> surv = r.survival();
    const size_t nv = size_t(r.problem().grid.nvox());
    ASSERT_EQ(surv.size(), 3 * nv);
    for (size_t q = 0; q < 3; ++q)
      for (size_t v = 0; v < nv; v += nv / 7 + 1) expect_rel(surv[q * nv + v], q ? sL : sT, 1e-6, "survival" + when);
  }
  // Lymphocytes are more radiosensitive than the tumour here (alpha 0.2 vs 0.146).
  EXPECT_LT(r.mean("CD8") / C0, r.mean("T") / T0);
}

// ---- PD-1 engagement on CD8 proliferation, cytokine output and exhaustion ----------------------

// Engagement x = PDL1 * Kd / (Kd + A) (anti-PD-1 at A), as on killing; inhibition 1 / (1 + x / half).
double engagement(double pdl1, double A) { return pdl1 * 0.26 / (0.26 + A); }

// CD8 with every factor input held (IL-2, PD-L1, anti-PD-1, Treg) grows logistically in the free
// volume: C' = r F_IL2 F_PD1 F_Treg(C) (1 - C / cap) C with F_Treg = h / (h + R / C), checked
// against an RK4 solution (F_Treg changes as C grows).
TEST_P(ModelMechanisms, Pd1EngagementAndTregLowerCd8ProliferationAndAntiPd1RestoresIt) {
  const double r = 1, IL2 = 0.32, IL2h = 0.32, half = 0.5, h = 0.31, cap = 1e6, C0 = 1e4, t = 2;
  auto run = [&](double pdl1, double A, double R) {
    Spec s;
    s.params = {{"r_CD8", "1 1/day"},      {"IL2_half", "0.32 nM"},   {"PDL1_half", "0.5"},
                {"Kd_antiPD1", "0.26 nM"}, {"Treg_CD8_half", "0.31"}, {"cap_lymphocyte", "1e6 cells/mm^3"}};
    s.initial = {{"CD8", constant(C0, "cells/mm^3")},
                 {"IL2", constant(IL2, "nM")},
                 {"PDL1", "{constant: " + num(pdl1) + "}"},
                 {"antiPD1", constant(A, "nM")},
                 {"Treg", constant(R, "cells/mm^3")}};
    SceneRun sr(scene_text(s), GetParam());
    sr.to(t * kDay);
    // RK4 reference in days; Treg crowds the lymphocyte volume as well (held).
    const double F = IL2 / (IL2 + IL2h) / (1 + engagement(pdl1, A) / half);
    auto f = [&](double C) { return r * F * h / (h + R / C) * (1 - (C + R) / cap) * C; };
    double C = C0;
    const int N = 4000;
    const double dt = t / N;
    for (int q = 0; q < N; ++q) {
      const double k1 = f(C), k2 = f(C + 0.5 * dt * k1), k3 = f(C + 0.5 * dt * k2), k4 = f(C + dt * k3);
      C += dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
    }
    expect_rel(sr.mean("CD8"), C, 2e-3, "CD8 at PD-L1 " + num(pdl1) + ", anti-PD-1 " + num(A) + " nM, Treg " + num(R));
    return sr.mean("CD8");
  };
  const double free = run(0, 0, 0), engaged = run(1, 0, 0), blocked = run(1, 0.26, 0), treg = run(0, 0, 0.31 * C0);
  // PD-L1 1 divides the proliferation rate by 3; anti-PD-1 at Kd halves the engagement.
  EXPECT_GT(free, blocked);
  EXPECT_GT(blocked, engaged);
  EXPECT_LT(treg, free);
  // Growth exponents (logistic, no Treg): ln ratio scales with F.
  auto expo = [&](double C) { return std::log(C * (cap - C0) / (C0 * (cap - C))); };
  expect_rel(expo(free) / expo(engaged), 3.0, 2e-3, "PD-L1 1 alone");
  expect_rel(expo(free) / expo(blocked), 2.0, 2e-3, "anti-PD-1 at Kd");
}

// IFN-gamma and IL-2 accumulate linearly (no decay, CD8 and the inputs held):
// IFNg = s_IFNg C F_PD1 t, IL2 = s_IL2 C antigen / (antigen + antigen_half) F_PD1 t.
TEST_P(ModelMechanisms, Pd1EngagementLowersIfngAndIl2Output) {
  const double C = 1e4, t = 1, half = 0.5;
  const double sI = 0.1 * 24 * C * 1e-3;    // 0.1 fg/cell/h -> ng/mL/day (1 fg/mm^3 = 1e-3 ng/mL)
  const double sL = 7e-20 * C * 1e6 * 1e9;  // mol/cell/day -> nM/day (1 mm^3 = 1e-6 L)
  for (auto [pdl1, A] : {std::pair{0.0, 0.0}, std::pair{1.0, 0.0}, std::pair{1.0, 2.6}}) {
    Spec s;
    s.end = "1 d";
    s.params = {{"s_IFNg", "0.1 fg/cell/h"},
                {"s_IL2", "7e-20 mol/cell/day"},
                {"antigen_half", "1 uM"},
                {"PDL1_half", "0.5"},
                {"Kd_antiPD1", "0.26 nM"}};
    s.initial = {{"CD8", constant(C, "cells/mm^3")},
                 {"antigen", constant(1, "uM")},
                 {"PDL1", "{constant: " + num(pdl1) + "}"},
                 {"antiPD1", constant(A, "nM")}};
    SceneRun r(scene_text(s), GetParam());
    r.to(t * kDay);
    const double F = 1 / (1 + engagement(pdl1, A) / half);
    const std::string what = " at PD-L1 " + num(pdl1) + ", anti-PD-1 " + num(A) + " nM";
    expect_rel(r.mean("IFNg"), sI * F * t, 1e-4, "IFNg" + what);
    expect_rel(r.mean("IL2"), sL * 0.5 * F * t, 1e-4, "IL2" + what);
  }
}

// Exhaustion: per-capita CD8 loss k_exhaust + k_exhaust_PD1 x / (x + half).
TEST_P(ModelMechanisms, Pd1EngagementSpeedsExhaustionAndAntiPd1SlowsIt) {
  const double C0 = 1e4, k0 = 0.1, k1 = 0.1, half = 0.5, t = 2;
  std::vector<double> rates;
  for (auto [pdl1, A] : {std::pair{0.0, 0.0}, std::pair{1.0, 0.0}, std::pair{1.0, 0.26}}) {
    Spec s;
    s.params = {
        {"k_exhaust", "0.1 1/day"}, {"k_exhaust_PD1", "0.1 1/day"}, {"PDL1_half", "0.5"}, {"Kd_antiPD1", "0.26 nM"}};
    s.initial = {
        {"CD8", constant(C0, "cells/mm^3")}, {"PDL1", "{constant: " + num(pdl1) + "}"}, {"antiPD1", constant(A, "nM")}};
    SceneRun r(scene_text(s), GetParam());
    r.to(t * kDay);
    const double x = engagement(pdl1, A);
    const double k = std::log(C0 / r.mean("CD8")) / t;
    expect_rel(k, k0 + k1 * x / (x + half), 1e-4, "CD8 loss at PD-L1 " + num(pdl1) + ", anti-PD-1 " + num(A));
    rates.push_back(k);
  }
  EXPECT_GT(rates[1], rates[2]);
  EXPECT_GT(rates[2], rates[0]);
}

// ---- CD8 on suppressive myeloid cells; IFN-gamma induces CXCL10 in myeloid cells ----------------

// Myeloid M removed by CD8 C at k_kill_myeloid C I^n / (K^n + I^n) with IFN-gamma I held;
// without CD8, myeloid cells secrete CXCL10 at s_CXCL10 M I / (I + IFNg_CXCL10_half).
TEST_P(ModelMechanisms, Cd8RemoveMyeloidViaIfngAndIfngInducesMyeloidCxcl10) {
  const double M0 = 1e3, C = 1e4, k = 9e-6, K = 0.11, n = 1.26, t = 2;
  for (double I : {0.0, 0.11, 1.0}) {
    Spec s;
    s.params = {{"k_kill_myeloid", "9e-6 mm^3/cell/day"}, {"IFNg_PDL1_half", "0.11 ng/mL"}, {"IFNg_PDL1_hill", "1.26"}};
    s.initial = {
        {"Myeloid", constant(M0, "cells/mm^3")}, {"CD8", constant(C, "cells/mm^3")}, {"IFNg", constant(I, "ng/mL")}};
    SceneRun r(scene_text(s), GetParam());
    r.to(t * kDay);
    const double act = I > 0 ? std::pow(I / K, n) / (1 + std::pow(I / K, n)) : 0;
    const double got = std::log(M0 / r.mean("Myeloid")) / t;
    EXPECT_NEAR(got, k * C * act, 1e-4 * k * C) << "Myeloid loss at IFNg " << I;
    expect_rel(r.mean("CD8"), C, 1e-6, "CD8 held");
  }
  const double sx = 1.16e-18 * M0 * 1e6 * 1e9;  // nM/day
  for (double I : {0.0725, 1.0}) {
    Spec s;
    s.params = {{"s_CXCL10", "1.16e-18 mol/cell/day"}, {"IFNg_CXCL10_half", "0.0725 ng/mL"}};
    s.initial = {{"Myeloid", constant(M0, "cells/mm^3")}, {"IFNg", constant(I, "ng/mL")}};
    SceneRun r(scene_text(s), GetParam());
    r.to(t * kDay);
    expect_rel(r.mean("CXCL10"), sx * I / (I + 0.0725) * t, 1e-4, "myeloid CXCL10 at IFNg " + num(I));
  }
}

// ---- radiation: bounded releases and the lasting STING state -----------------------------------

std::string rt_releases(double dose_Gy) {
  const std::string d = num(dose_Gy) + " Gy";
  return R"(radiotherapy:
  response:
    - {population: T, alpha: 0.146 1/Gy, beta: 0.0146 1/Gy^2, doomed: Td}
  releases:
    - {field: PDL1, kind: linear, yield: 0.05 1/Gy, max: 1}
    - {field: STING, kind: interferon, yield: 0.1 1/Gy, max: 1}
  plans:
    - name: uniform
      dose: {targets: [], background: )" +
         d + "}\n      per_fraction: " + d + "\n      schedule: {times: [6 h], doses: [" + d + "]}\n";
}

// A fraction d fills the headroom of a bounded level: c -> 1 - (1 - c) exp(-A) with A = yield R(d)
// (PD-L1: linear, R = d; STING: interferon, R = d / (1 + (d / 15 Gy)^4)); afterwards STING relaxes
// to 0 over tau_STING: S(t) = S_0 exp(-(t - 6 h) / tau).
TEST_P(ModelMechanisms, RadiationFillsBoundedLevelsAndStingRelaxesOverDays) {
  const double p0 = 0.95, tau = 3;  // PD-L1 before, tau_STING [day]
  for (double d : {6.0, 20.0}) {
    Spec s;
    s.end = "3 d";
    s.params = {{"tau_STING", "3 day"}};
    s.initial = {{"PDL1", "{constant: " + num(p0) + "}"}};
    s.extra = rt_releases(d);
    SceneRun r(scene_text(s), GetParam());
    const double R = d / (1 + std::pow(d / 15, 4));
    const double S0 = 1 - std::exp(-0.1 * R);
    const double P = 1 - (1 - p0) * std::exp(-0.05 * d);
    r.to(7 * 3600.0);
    expect_rel(r.mean("PDL1"), P, 1e-6, "PD-L1 after " + num(d) + " Gy");
    EXPECT_LE(r.max("PDL1"), 1.0);
    expect_rel(r.mean("STING"), S0 * std::exp(-(1.0 / 24) / tau), 1e-4, "STING 1 h after " + num(d) + " Gy");
    r.to(3 * kDay);
    expect_rel(r.mean("STING"), S0 * std::exp(-(3 - 0.25) / tau), 1e-4, "STING on day 3 after " + num(d) + " Gy");
  }
}

// PD-L1 relaxing toward its IFN-gamma-driven level stays <= PDL1_max through a 20 Gy fraction and
// 1-day steps (the reaction update is exact for the relaxation, the release fills the headroom).
TEST_P(ModelMechanisms, Pdl1StaysBelowItsMaximumWithLargeStepsAndFractions) {
  Spec s;
  s.end = "3 d";
  s.step = "1 d";
  s.params = {{"tau_PDL1", "1 day"}, {"PDL1_base", "0.1"}, {"PDL1_max", "1"}};
  s.initial = {{"PDL1", "{constant: 0.99}"}, {"IFNg", constant(100, "ng/mL")}};
  s.extra = rt_releases(20);
  SceneRun r(scene_text(s), GetParam());
  for (double t : {0.5, 1.0, 2.0, 3.0}) {
    r.to(t * kDay);
    EXPECT_LE(r.max("PDL1"), 1.0) << "day " << t;
    EXPECT_GT(r.min("PDL1"), 0.98) << "day " << t;
  }
}

// STING held (tau_STING 1e9 days) induces CXCL10 in tumour and myeloid cells:
// CXCL10 = s_CXCL10 (T + M) S / (S + STING_CXCL10_half) t.
TEST_P(ModelMechanisms, StingInducesCxcl10InTumourAndMyeloidCells) {
  const double T = 1e5, M = 1e3, t = 1;
  const double s = 1.16e-18 * 1e6 * 1e9;  // nM/day per cell/mm^3
  for (double S : {0.0, 0.5, 1.0}) {
    Spec sp;
    sp.end = "1 d";
    sp.params = {{"s_CXCL10", "1.16e-18 mol/cell/day"}, {"STING_CXCL10_half", "0.5"}};
    sp.initial = {{"T", constant(T, "cells/mm^3")},
                  {"Myeloid", constant(M, "cells/mm^3")},
                  {"STING", "{constant: " + num(S) + "}"}};
    SceneRun r(scene_text(sp), GetParam());
    r.to(t * kDay);
    EXPECT_NEAR(r.mean("CXCL10"), s * (T + M) * S / (S + 0.5) * t, 1e-4 * s * (T + M) * t) << "STING " << S;
  }
}

TME_INSTANTIATE_BACKENDS(ModelMechanisms);

}  // namespace
}  // namespace tme::test
