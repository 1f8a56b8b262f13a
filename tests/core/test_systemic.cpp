// Systemic compartments (host/core/systemic.hpp): each compartment against its closed form,
// the whole system against an independent RK4, the Erlang delay's peak time, exact step means,
// monotone response to antigen and anti-CTLA-4, node irradiation by LQ survival, T-cell mass
// balance over a long run with births and deaths tallied, and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "host/core/systemic.hpp"
#include "tests/error_of.hpp"

namespace {

using namespace tme::systemic;

constexpr double kDay = 86400.0;  // [s]

double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }

// Values of the default human model file's systemic section, in internal units.
SystemicModel human(int nlesions = 1) {
  SystemicModel m;
  m.nlesions = nlesions;
  Node n;
  n.name = "tdln";
  for (int l = 0; l < nlesions; ++l) n.drains.push_back(l);
  m.nodes.push_back(n);
  m.k_antigen_deg = 2.0 / kDay;
  m.k_apc_migration = 4.0 / kDay;
  m.k_presentation_loss = 0.5 / kDay;
  m.presented_half_nmol = 0.01;
  m.k_prime = 23.0 / kDay;
  m.ctla4_boost = 1.0;
  m.treg_half_per_mL = 3.5e4;
  m.chain_stages = 8;
  m.priming_delay_s = 8.0 * kDay;
  m.expansion_rate = 1.0 / kDay;
  m.naive_per_node = 1000;
  m.k_naive_return = 24.0 / kDay;
  m.blood_volume_mL = 5000;
  m.k_effector_death = 0.05 / kDay;
  m.treg_blood_rest = 3.5e4 * 5000;
  m.k_treg_turnover = 0.05 / kDay;
  m.k_treg_depletion = 0.1 / kDay;
  m.kd_antiCTLA4_nM = 18.2;
  m.node_antibody_ratio = 0.3;
  m.lymph_alpha_per_Gy = 0.2;
  m.lymph_beta_per_Gy2 = 0.14;
  m.homing_loss_per_Gy = 0.1;
  m.homing_recovery_s = 7.0 * kDay;
  return m;
}

StepInputs inputs(const SystemicModel& m, double antigen = 0, double ctla4 = 0) {
  StepInputs in;
  in.antigen_drained_nmol_per_s.assign(m.nlesions, antigen);
  in.effector_influx_cells.assign(m.nlesions, 0.0);
  in.treg_influx_cells.assign(m.nlesions, 0.0);
  in.antiCTLA4_plasma_nM = ctla4;
  return in;
}

// Runs to t_end in steps of dt; returns the blood effectors at the end.
void run(const SystemicModel& m, SystemicState& s, double t_end, double dt, const StepInputs& in) {
  while (s.t_s < t_end - 1e-9 * dt) advance(m, s, s.t_s, std::min(t_end, s.t_s + dt), in);
}

// ---- the Erlang chain ------------------------------------------------------------------------

// Cells put into stage 1 at t = 0 (no priming, no supply, no death): stage j holds
// N0 m^(j-1) (g t)^(j-1) / (j-1)! e^(-g t) and blood holds N0 e^(rho tau) x the Erlang(k, g)
// distribution function at t.
TEST(Systemic, ErlangChainImpulseResponseIsExact) {
  SystemicModel m = human();
  m.k_prime = 0;
  m.naive_per_node = 0;
  m.k_effector_death = 0;
  const int k = m.chain_stages;
  const double tau = m.priming_delay_s, g = k / tau, mult = std::exp(m.expansion_rate * tau / k);
  const double N0 = 100;
  SystemicState s = rest_state(m);
  s.nodes[0].chain[0] = N0;
  for (double t : {1.0, 3.0, 6.0, 7.0, 10.0, 20.0}) {
    run(m, s, t * kDay, 0.25 * kDay, inputs(m));
    const double x = g * t * kDay;
    double term = std::exp(-x), cdf_rest = 0;  // sum_{i<k} e^-x x^i / i!
    for (int i = 0; i < k; ++i) {
      EXPECT_LT(rel(s.nodes[0].chain[i], N0 * std::pow(mult, i) * term), 1e-6) << "t " << t << " stage " << i;
      cdf_rest += term;
      term *= x / (i + 1);
    }
    const double blood = N0 * std::exp(m.expansion_rate * tau) * (1.0 - cdf_rest);
    EXPECT_LT(rel(s.effector_blood, blood), 1e-6) << "t " << t;
  }
}

// Egress of one cohort peaks at the mode of the Erlang(k, g) density, (k - 1) / k x tau.
TEST(Systemic, ErlangChainEgressPeaksAtItsMode) {
  SystemicModel m = human();
  m.k_prime = 0;
  m.naive_per_node = 0;
  SystemicState s = rest_state(m);
  s.nodes[0].chain[0] = 1;
  const double dt = 0.005 * kDay, mode = (m.chain_stages - 1.0) / m.chain_stages * m.priming_delay_s;
  double best = -1, t_best = 0;
  while (s.t_s < 2 * m.priming_delay_s) {
    const double t0 = s.t_s;
    const StepOutputs o = advance(m, s, t0, t0 + dt, inputs(m));
    if (o.egress_cells[0] > best) {
      best = o.egress_cells[0];
      t_best = t0 + 0.5 * dt;
    }
  }
  EXPECT_NEAR(t_best, mode, dt);
  EXPECT_NEAR(mode, 7.0 * kDay, 1e-6);  // 8 stages, mean delay 8 days: the effectors' day-7 peak
}

// ---- antigen and presentation -----------------------------------------------------------------

TEST(Systemic, AntigenAndPresentationFollowTheirClosedForms) {
  SystemicModel m = human();
  SystemicState s = rest_state(m);
  const double J = 1e-7;  // [nmol/s]
  const double ka = m.k_antigen_deg + m.k_apc_migration, kp = m.k_presentation_loss;
  for (double t : {0.5, 2.0, 5.0, 15.0}) {
    run(m, s, t * kDay, 0.5 * kDay, inputs(m, J));
    const double T = t * kDay;
    const double A = J / ka * (1 - std::exp(-ka * T));
    const double P = m.k_apc_migration * J / ka *
                     ((1 - std::exp(-kp * T)) / kp - (std::exp(-ka * T) - std::exp(-kp * T)) / (kp - ka));
    EXPECT_LT(rel(s.nodes[0].antigen_nmol, A), 1e-6) << t;
    EXPECT_LT(rel(s.nodes[0].presented_nmol, P), 1e-6) << t;
  }
}

// ---- blood pools --------------------------------------------------------------------------------

// Treg with constant supply, turnover, ADCC depletion at plasma C_p and constant lesion influx:
// R(t) = R_inf + (R0 - R_inf) e^(-K t), K = k_R + k_dep occ; step means exact.
TEST(Systemic, TregPoolApproachesItsLevelExponentiallyWithExactMeans) {
  SystemicModel m = human(2);
  SystemicState s = rest_state(m);
  const double cp = 40, occ = cp / (cp + m.kd_antiCTLA4_nM);
  const double K = m.k_treg_turnover + m.k_treg_depletion * occ;
  const double dt = 1.0 * kDay;
  StepInputs in = inputs(m, 0, cp);
  in.treg_influx_cells = {2e6, 1e6};  // per step
  const double out = 3e6 / dt;
  const double R0 = s.treg_blood, Rinf = (m.k_treg_turnover * m.treg_blood_rest - out) / K;
  auto R = [&](double t) { return Rinf + (R0 - Rinf) * std::exp(-K * t); };
  for (int i = 0; i < 30; ++i) {
    const double t0 = s.t_s;
    const StepOutputs o = advance(m, s, t0, t0 + dt, in);
    const double mean =
        (Rinf * dt + (R0 - Rinf) * (std::exp(-K * t0) - std::exp(-K * (t0 + dt))) / K) / dt / m.blood_volume_mL;
    EXPECT_LT(rel(s.treg_blood, R(t0 + dt)), 1e-9) << i;
    EXPECT_LT(rel(o.treg_blood_mean_per_mL, mean), 1e-9) << i;
    // and the mean against composite Simpson quadrature of the closed form (1000 panels)
    if (i == 3) {
      double q = 0;
      const int n = 1000;
      for (int j = 0; j <= n; ++j) {
        const double w = (j == 0 || j == n) ? 1 : (j % 2 ? 4 : 2);
        q += w * R(t0 + dt * j / n);
      }
      q *= dt / n / 3 / dt / m.blood_volume_mL;
      EXPECT_LT(rel(o.treg_blood_mean_per_mL, q), 1e-9);
    }
  }
}

// Effectors with death and constant loss to lesions, no egress: E = -q/k + (E0 + q/k) e^(-k t).
TEST(Systemic, EffectorPoolDecaysToItsLevel) {
  SystemicModel m = human();
  m.k_effector_death = 0.1 / kDay;
  m.k_prime = 0;
  SystemicState s = rest_state(m);
  s.effector_blood = 1e7;
  const double dt = 0.5 * kDay;
  StepInputs in = inputs(m);
  in.effector_influx_cells = {1e4};
  const double q = 1e4 / dt, k = m.k_effector_death;
  for (int i = 0; i < 20; ++i) {
    const double t0 = s.t_s;
    const StepOutputs o = advance(m, s, t0, t0 + dt, in);
    const double t1 = t0 + dt, a = 1e7 + q / k;
    EXPECT_LT(rel(s.effector_blood, -q / k + a * std::exp(-k * t1)), 1e-9);
    const double mean = (-q / k * dt + a * (std::exp(-k * t0) - std::exp(-k * t1)) / k) / dt / m.blood_volume_mL;
    EXPECT_LT(rel(o.effector_blood_mean_per_mL, mean), 1e-9);
  }
}

// ---- the whole system against an independent RK4 -------------------------------------------

// One node, every process on (antigen, anti-CTLA-4, Treg suppression, homing recovery after a
// fraction), integrated here with a fixed small RK4 step written from the equations in
// systemic.hpp; agreement to 1e-6.
TEST(Systemic, WholeSystemMatchesAnIndependentRk4) {
  const SystemicModel m = human();
  SystemicState s = rest_state(m);
  irradiate_node(m, s, 0, 2.0);
  const double J = 2e-7, cp = 30;
  const double h0 = s.nodes[0].homing;
  const int k = m.chain_stages;
  // y = [A, P, N, C1..Ck, E, R]
  std::vector<double> y(3 + k + 2, 0.0);
  y[2] = s.nodes[0].naive;
  y[3 + k] = 0;
  y[4 + k] = s.treg_blood;
  const double g = k / m.priming_delay_s, mult = std::exp(m.expansion_rate * m.priming_delay_s / k);
  const double cn = m.node_antibody_ratio * cp, occn = cn / (cn + m.kd_antiCTLA4_nM);
  const double occb = cp / (cp + m.kd_antiCTLA4_nM);
  auto f = [&](double t, const std::vector<double>& x) {
    std::vector<double> d(x.size());
    const double h = 1 - (1 - h0) * std::exp(-t / m.homing_recovery_s);
    const double pi = m.k_prime * x[1] / (x[1] + m.presented_half_nmol) * h * (1 + m.ctla4_boost * occn) /
                      (1 + x[4 + k] / m.blood_volume_mL / m.treg_half_per_mL);
    d[0] = J - (m.k_antigen_deg + m.k_apc_migration) * x[0];
    d[1] = m.k_apc_migration * x[0] - m.k_presentation_loss * x[1];
    d[2] = m.k_naive_return * (m.naive_per_node - x[2]) - pi * x[2];
    d[3] = pi * x[2] - g * x[3];
    for (int j = 1; j < k; ++j) d[3 + j] = mult * g * x[2 + j] - g * x[3 + j];
    d[3 + k] = mult * g * x[2 + k] - m.k_effector_death * x[3 + k];
    d[4 + k] = m.k_treg_turnover * (m.treg_blood_rest - x[4 + k]) - m.k_treg_depletion * occb * x[4 + k];
    return d;
  };
  const double T = 20 * kDay, hstep = 60.0;
  for (double t = 0; t < T - 1; t += hstep) {
    const auto k1 = f(t, y);
    std::vector<double> z(y.size());
    for (size_t i = 0; i < y.size(); ++i) z[i] = y[i] + 0.5 * hstep * k1[i];
    const auto k2 = f(t + 0.5 * hstep, z);
    for (size_t i = 0; i < y.size(); ++i) z[i] = y[i] + 0.5 * hstep * k2[i];
    const auto k3 = f(t + 0.5 * hstep, z);
    for (size_t i = 0; i < y.size(); ++i) z[i] = y[i] + hstep * k3[i];
    const auto k4 = f(t + hstep, z);
    for (size_t i = 0; i < y.size(); ++i) y[i] += hstep / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
  run(m, s, T, 0.25 * kDay, inputs(m, J, cp));
  EXPECT_LT(rel(s.nodes[0].antigen_nmol, y[0]), 1e-6);
  EXPECT_LT(rel(s.nodes[0].presented_nmol, y[1]), 1e-6);
  EXPECT_LT(rel(s.nodes[0].naive, y[2]), 1e-6);
  for (int j = 0; j < k; ++j) EXPECT_LT(rel(s.nodes[0].chain[j], y[3 + j]), 1e-6) << j;
  EXPECT_LT(rel(s.effector_blood, y[3 + k]), 1e-6);
  EXPECT_LT(rel(s.treg_blood, y[4 + k]), 1e-6);
  EXPECT_GT(s.effector_blood, 1e3);  // a primed response reached blood
  EXPECT_LT(rel(s.nodes[0].homing, 1 - (1 - h0) * std::exp(-T / m.homing_recovery_s)), 1e-12);
}

// The step mean of one long step equals the average of the means of its sub-steps.
TEST(Systemic, StepMeansAddUpOverSubsteps) {
  const SystemicModel m = human();
  SystemicState a = rest_state(m), b = rest_state(m);
  const StepInputs in = inputs(m, 1e-7, 20);
  run(m, a, 5 * kDay, kDay, in);
  run(m, b, 5 * kDay, kDay, in);
  const StepOutputs big = advance(m, a, a.t_s, a.t_s + 4 * kDay, in);
  double e = 0, r = 0;
  for (int i = 0; i < 64; ++i) {
    const StepOutputs o = advance(m, b, b.t_s, b.t_s + kDay / 16, in);
    e += o.effector_blood_mean_per_mL / 64;
    r += o.treg_blood_mean_per_mL / 64;
  }
  EXPECT_LT(rel(big.effector_blood_mean_per_mL, e), 1e-6);
  EXPECT_LT(rel(big.treg_blood_mean_per_mL, r), 1e-9);
}

// ---- responses ---------------------------------------------------------------------------------

TEST(Systemic, MoreAntigenDrainedGivesMorePrimedEffectors) {
  const SystemicModel m = human();
  double last = 0;
  for (double J : {0.0, 1e-8, 1e-7, 1e-6, 1e-5}) {
    SystemicState s = rest_state(m);
    run(m, s, 21 * kDay, kDay, inputs(m, J));
    if (J == 0)
      EXPECT_EQ(s.effector_blood, 0.0);
    else
      EXPECT_GT(s.effector_blood, last) << J;
    last = s.effector_blood;
  }
}

TEST(Systemic, AntiCtla4RaisesPrimingAndDepletesTreg) {
  const SystemicModel m = human();
  double last_e = 0, last_r = 1e300;
  for (double cp : {0.0, 10.0, 100.0}) {
    SystemicState s = rest_state(m);
    run(m, s, 21 * kDay, kDay, inputs(m, 1e-7, cp));
    EXPECT_GT(s.effector_blood, last_e) << cp;
    EXPECT_LT(s.treg_blood, last_r) << cp;
    last_e = s.effector_blood;
    last_r = s.treg_blood;
  }
}

// ---- node irradiation --------------------------------------------------------------------------

TEST(Systemic, NodeIrradiationKillsByLqSurvivalAtTheNodeDose) {
  SystemicModel m = human();
  SystemicState s = rest_state(m);
  run(m, s, 6 * kDay, kDay, inputs(m, 1e-6));
  const SystemicState before = s;
  const double d = 3.0, S = std::exp(-0.2 * d - 0.14 * d * d);
  EXPECT_EQ(irradiate_node(m, s, 0, d), S);
  EXPECT_EQ(s.nodes[0].naive, before.nodes[0].naive * S);
  for (int j = 0; j < m.chain_stages; ++j) EXPECT_EQ(s.nodes[0].chain[j], before.nodes[0].chain[j] * S);
  EXPECT_EQ(s.effector_blood, before.effector_blood);  // blood is outside the node
  EXPECT_DOUBLE_EQ(s.tally.radiation_naive, (1 - S) * before.nodes[0].naive);
  EXPECT_EQ(s.nodes[0].homing, before.nodes[0].homing * std::exp(-0.1 * d));
  // a dose of 0 changes nothing
  const SystemicState mid = s;
  EXPECT_EQ(irradiate_node(m, s, 0, 0.0), 1.0);
  EXPECT_EQ(s.nodes[0].naive, mid.nodes[0].naive);
  EXPECT_EQ(s.nodes[0].homing, mid.nodes[0].homing);
}

TEST(Systemic, IrradiatingTheNodeBeforePrimingLowersTheResponse) {
  const SystemicModel m = human();
  SystemicState spared = rest_state(m), irradiated = rest_state(m);
  irradiate_node(m, irradiated, 0, 8.0);
  run(m, spared, 21 * kDay, kDay, inputs(m, 1e-7));
  run(m, irradiated, 21 * kDay, kDay, inputs(m, 1e-7));
  EXPECT_LT(irradiated.effector_blood, spared.effector_blood);
}

// ---- mass balance ------------------------------------------------------------------------------

// Two nodes draining three lesions, 120 days with antigen pulses, anti-CTLA-4, lesion influx and
// node fractions: CD8 in nodes and blood change by births - deaths - out to lesions, Treg by
// supply - deaths - depletion - out, both to 1e-6 of the turnover.
TEST(Systemic, TCellMassBalanceOverALongRun) {
  SystemicModel m = human(3);
  m.nodes[0].drains = {0, 1};
  Node second;
  second.name = "second";
  second.drains = {2};
  m.nodes.push_back(second);
  SystemicState s = rest_state(m);
  const double cd8_0 = s.cd8_total(), treg_0 = s.treg_blood;
  const double dt = 0.25 * kDay;
  for (int i = 0; i < 480; ++i) {
    StepInputs in = inputs(m);
    const double day = s.t_s / kDay;
    in.antigen_drained_nmol_per_s = {day < 30 ? 1e-7 : 0, 2e-7 * std::exp(-day / 10), day > 60 ? 1e-6 : 0};
    in.antiCTLA4_plasma_nM = day > 20 && day < 80 ? 50 : 0;
    const double mean_e = s.effector_blood / m.blood_volume_mL;  // a lagged influx like the run's
    in.effector_influx_cells = {1e-3 * mean_e * dt / kDay, 2e-3 * mean_e * dt / kDay, 0};
    in.treg_influx_cells = {100, 200, 300};
    advance(m, s, s.t_s, s.t_s + dt, in);
    if (i % 40 == 20) irradiate_node(m, s, i % 80 == 20 ? 0 : 1, 2.0);
  }
  const Tallies& T = s.tally;
  const double births = T.naive_supply + T.expansion;
  const double deaths = T.naive_return + T.effector_death + T.radiation_naive + T.radiation_chain;
  EXPECT_GT(T.expansion, 1e5);
  EXPECT_GT(T.effector_to_lesions, 0);
  EXPECT_GT(T.radiation_chain, 0);
  EXPECT_LT(std::abs(s.cd8_total() - cd8_0 - (births - deaths - T.effector_to_lesions)), 1e-6 * (cd8_0 + births));
  const double treg = T.treg_supply - T.treg_death - T.treg_depleted - T.treg_to_lesions;
  EXPECT_LT(std::abs(s.treg_blood - treg_0 - treg), 1e-6 * (treg_0 + T.treg_supply));
  // the transfers agree with the stocks: primed in = chain growth + egress out
  EXPECT_GT(T.primed, 0);
  EXPECT_LT(T.egress, T.primed * std::exp(m.expansion_rate * m.priming_delay_s) * 1.000001);
}

// ---- errors --------------------------------------------------------------------------------------

TEST(Systemic, ErrorsNameTheValue) {
  using tme::test::error_of;
  SystemicModel m = human(2);
  SystemicState s = rest_state(m);
  EXPECT_EQ(error_of([&] { advance(m, s, 0, 0, inputs(m)); }), "systemic: advance: t1 must be > t0 = 0 s (got 0)");
  EXPECT_EQ(error_of([&] { advance(m, s, 5, 10, inputs(m)); }),
            "systemic: advance: t0 must equal the state's time 0 s (got 5)");
  StepInputs bad = inputs(m);
  bad.effector_influx_cells = {1};
  EXPECT_EQ(error_of([&] { advance(m, s, 0, 10, bad); }),
            "systemic: effector_influx_cells must have one value per lesion (2) (got 1)");
  bad = inputs(m);
  bad.antigen_drained_nmol_per_s[1] = -1;
  EXPECT_EQ(error_of([&] { advance(m, s, 0, 10, bad); }),
            "systemic: antigen_drained_nmol_per_s of lesion 1 must be >= 0 and finite (got -1)");
  EXPECT_EQ(error_of([&] { irradiate_node(m, s, 1, 2); }), "systemic: irradiate_node: no node of this index (got 1)");
  EXPECT_EQ(error_of([&] { irradiate_node(m, s, 0, -2); }),
            "systemic: a node dose must be >= 0 Gy and finite (got -2)");
  m.nodes[0].drains = {0, 2};
  EXPECT_EQ(error_of([&] { check(m); }),
            "systemic: node 0 (tdln): drains a lesion index outside [0, nlesions) (got 2)");
  m = human();
  m.chain_stages = 0;
  EXPECT_EQ(error_of([&] { check(m); }), "systemic: chain_stages must be in [1, 1000] (got 0)");
}

}  // namespace
