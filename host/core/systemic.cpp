// Systemic compartments: lymph nodes and blood pools as ODEs (see systemic.hpp).
#include "host/core/systemic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace tme::systemic {
namespace {

std::string num(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

void require(bool ok, const std::string& what, double got) {
  if (!ok) throw std::invalid_argument("systemic: " + what + " (got " + num(got) + ")");
}

bool finite_ge0(double x) { return std::isfinite(x) && x >= 0; }
bool finite_gt0(double x) { return std::isfinite(x) && x > 0; }

// Layout of the integrated vector y: per node [A, P, N, C_1..C_k, egress integral], then the
// globals below.
enum Global : int {
  kE = 0,
  kR,
  kIntE,  // integral of E [cells s]
  kIntR,
  kNaiveSupply,
  kExpansion,
  kNaiveReturn,
  kEffectorDeath,
  kEffectorOut,
  kPrimed,
  kEgress,
  kTregSupply,
  kTregDeath,
  kTregDepleted,
  kTregOut,
  kNGlobal
};

struct Layout {
  int k = 1;       // chain stages
  int nnodes = 0;  //
  int block() const { return 4 + k; }
  int node(int n) const { return n * block(); }
  int global(int g) const { return nnodes * block() + g; }
  int size() const { return nnodes * block() + kNGlobal; }
};

// Rates over one step, fixed for the step.
struct StepRates {
  std::vector<double> antigen_in;  // per node: sum of J_l over its lesions [nmol/s]
  double effector_out = 0;         // sum Phi_E / dt [cells/s]
  double treg_out = 0;             // sum Phi_R / dt [cells/s]
  double occ_node = 0, occ_blood = 0;
  double g = 0, m = 1;     // chain transit rate [1/s], multiplication per transition
  std::vector<double> h0;  // homing factors at t0
  double t0 = 0;
};

void rhs(const SystemicModel& M, const Layout& L, const StepRates& r, double t, const std::vector<double>& y,
         std::vector<double>& dy) {
  const double E = y[L.global(kE)], R = y[L.global(kR)];
  const double suppression = 1.0 / (1.0 + (R / M.blood_volume_mL) / M.treg_half_per_mL);
  const double boost = 1.0 + M.ctla4_boost * r.occ_node;
  const double relax = std::exp(-(t - r.t0) / M.homing_recovery_s);
  double naive_supply = 0, expansion = 0, naive_return = 0, primed = 0, egress_all = 0, egress_blood = 0;
  for (int n = 0; n < L.nnodes; ++n) {
    const double* x = &y[L.node(n)];
    double* d = &dy[L.node(n)];
    const double A = x[0], P = x[1], N = x[2];
    const double h = 1.0 - (1.0 - r.h0[n]) * relax;
    const double pi = M.k_prime * P / (P + M.presented_half_nmol) * h * boost * suppression;
    d[0] = r.antigen_in[n] - (M.k_antigen_deg + M.k_apc_migration) * A;
    d[1] = M.k_apc_migration * A - M.k_presentation_loss * P;
    d[2] = M.k_naive_return * (M.naive_per_node - N) - pi * N;
    const double* C = x + 3;
    double* dC = d + 3;
    double chain_sum = 0;
    for (int j = 0; j < L.k; ++j) {
      const double in = j == 0 ? pi * N : r.m * r.g * C[j - 1];
      dC[j] = in - r.g * C[j];
      chain_sum += C[j];
    }
    const double egress = r.m * r.g * C[L.k - 1];
    d[3 + L.k] = egress;
    naive_supply += M.k_naive_return * M.naive_per_node;
    naive_return += M.k_naive_return * N;
    expansion += (r.m - 1.0) * r.g * chain_sum;
    primed += pi * N;
    egress_all += egress;
    // a node inside a lesion grid releases its share there (StepOutputs::local_release_cells)
    egress_blood += M.nodes[n].local_lesion >= 0 ? (1.0 - M.local_egress) * egress : egress;
  }
  const double treg_depleted = M.k_treg_depletion * r.occ_blood * R;
  dy[L.global(kE)] = egress_blood - M.k_effector_death * E - r.effector_out;
  dy[L.global(kR)] = M.k_treg_turnover * (M.treg_blood_rest - R) - treg_depleted - r.treg_out;
  dy[L.global(kIntE)] = E;
  dy[L.global(kIntR)] = R;
  dy[L.global(kNaiveSupply)] = naive_supply;
  dy[L.global(kExpansion)] = expansion;
  dy[L.global(kNaiveReturn)] = naive_return;
  dy[L.global(kEffectorDeath)] = M.k_effector_death * E;
  dy[L.global(kEffectorOut)] = r.effector_out;
  dy[L.global(kPrimed)] = primed;
  dy[L.global(kEgress)] = egress_all;
  dy[L.global(kTregSupply)] = M.k_treg_turnover * M.treg_blood_rest;
  dy[L.global(kTregDeath)] = M.k_treg_turnover * R;
  dy[L.global(kTregDepleted)] = treg_depleted;
  dy[L.global(kTregOut)] = r.treg_out;
}

void check_state(const SystemicModel& m, const SystemicState& s) {
  require(s.nodes.size() == m.nodes.size(),
          "the state has " + std::to_string(s.nodes.size()) + " nodes, the model " + std::to_string(m.nodes.size()),
          (double)s.nodes.size());
  for (const NodeState& n : s.nodes)
    require(
        (int)n.chain.size() == m.chain_stages,
        "a node state's chain has the wrong number of stages (the model has " + std::to_string(m.chain_stages) + ")",
        (double)n.chain.size());
}

void check_inputs(const SystemicModel& m, const StepInputs& in) {
  const auto check_list = [&](const std::vector<double>& v, const std::string& what) {
    require((int)v.size() == m.nlesions, what + " must have one value per lesion (" + std::to_string(m.nlesions) + ")",
            (double)v.size());
    for (size_t l = 0; l < v.size(); ++l)
      require(finite_ge0(v[l]), what + " of lesion " + std::to_string(l) + " must be >= 0 and finite", v[l]);
  };
  check_list(in.antigen_drained_nmol_per_s, "antigen_drained_nmol_per_s");
  check_list(in.effector_influx_cells, "effector_influx_cells");
  check_list(in.treg_influx_cells, "treg_influx_cells");
  require(finite_ge0(in.antiCTLA4_plasma_nM), "antiCTLA4_plasma_nM must be >= 0 nM and finite", in.antiCTLA4_plasma_nM);
}

}  // namespace

void check(const SystemicModel& m) {
  require(m.nlesions >= 1, "nlesions must be >= 1", m.nlesions);
  require(!m.nodes.empty(), "at least one lymph node is needed", 0);
  for (size_t n = 0; n < m.nodes.size(); ++n) {
    const Node& node = m.nodes[n];
    const std::string who = "node " + std::to_string(n) + " (" + node.name + "): ";
    require(finite_ge0(node.radius_um), who + "radius_um must be >= 0 um", node.radius_um);
    require(node.local_lesion >= -1 && node.local_lesion < m.nlesions,
            who + "local_lesion must be -1 (none) or a lesion index in [0, nlesions)", node.local_lesion);
    for (double x : node.position_um) require(std::isfinite(x), who + "position_um must be finite [um]", x);
    for (size_t i = 0; i < node.drains.size(); ++i) {
      const int l = node.drains[i];
      require(l >= 0 && l < m.nlesions, who + "drains a lesion index outside [0, nlesions)", l);
      for (size_t j = 0; j < i; ++j) require(node.drains[j] != l, who + "drains a lesion twice", l);
    }
  }
  require(finite_ge0(m.k_antigen_deg), "k_antigen_deg must be >= 0 1/s", m.k_antigen_deg);
  require(finite_ge0(m.k_apc_migration), "k_apc_migration must be >= 0 1/s", m.k_apc_migration);
  require(finite_gt0(m.k_presentation_loss), "k_presentation_loss must be > 0 1/s", m.k_presentation_loss);
  require(finite_gt0(m.presented_half_nmol), "presented_half_nmol must be > 0 nmol", m.presented_half_nmol);
  require(finite_ge0(m.k_prime), "k_prime must be >= 0 1/s", m.k_prime);
  require(finite_ge0(m.ctla4_boost), "ctla4_boost must be >= 0", m.ctla4_boost);
  require(finite_gt0(m.treg_half_per_mL), "treg_half_per_mL must be > 0 cells/mL", m.treg_half_per_mL);
  require(m.chain_stages >= 1 && m.chain_stages <= 1000, "chain_stages must be in [1, 1000]", m.chain_stages);
  require(finite_gt0(m.priming_delay_s), "priming_delay_s must be > 0 s", m.priming_delay_s);
  require(finite_ge0(m.expansion_rate), "expansion_rate must be >= 0 1/s", m.expansion_rate);
  require(std::isfinite(m.expansion_rate * m.priming_delay_s) && m.expansion_rate * m.priming_delay_s <= 50,
          "expansion_rate x priming_delay_s (the log of the mean fold) must be <= 50",
          m.expansion_rate * m.priming_delay_s);
  require(finite_ge0(m.naive_per_node), "naive_per_node must be >= 0 cells", m.naive_per_node);
  require(finite_gt0(m.k_naive_return), "k_naive_return must be > 0 1/s", m.k_naive_return);
  require(finite_gt0(m.blood_volume_mL), "blood_volume_mL must be > 0 mL", m.blood_volume_mL);
  require(finite_ge0(m.k_effector_death), "k_effector_death must be >= 0 1/s", m.k_effector_death);
  require(finite_ge0(m.treg_blood_rest), "treg_blood_rest must be >= 0 cells", m.treg_blood_rest);
  require(finite_ge0(m.k_treg_turnover), "k_treg_turnover must be >= 0 1/s", m.k_treg_turnover);
  require(finite_ge0(m.k_treg_depletion), "k_treg_depletion must be >= 0 1/s", m.k_treg_depletion);
  require(finite_gt0(m.kd_antiCTLA4_nM), "kd_antiCTLA4_nM must be > 0 nM", m.kd_antiCTLA4_nM);
  require(finite_ge0(m.node_antibody_ratio), "node_antibody_ratio must be >= 0", m.node_antibody_ratio);
  require(finite_ge0(m.lymph_alpha_per_Gy), "lymph_alpha_per_Gy must be >= 0 1/Gy", m.lymph_alpha_per_Gy);
  require(finite_ge0(m.lymph_beta_per_Gy2), "lymph_beta_per_Gy2 must be >= 0 1/Gy^2", m.lymph_beta_per_Gy2);
  require(finite_ge0(m.homing_loss_per_Gy), "homing_loss_per_Gy must be >= 0 1/Gy", m.homing_loss_per_Gy);
  require(finite_gt0(m.homing_recovery_s), "homing_recovery_s must be > 0 s", m.homing_recovery_s);
  require(std::isfinite(m.local_egress) && m.local_egress >= 0 && m.local_egress <= 1, "local_egress must be in [0, 1]",
          m.local_egress);
  require(std::isfinite(m.step_rate_limit) && m.step_rate_limit > 0 && m.step_rate_limit <= 0.5,
          "step_rate_limit must be in (0, 0.5]", m.step_rate_limit);
}

double SystemicState::cd8_total() const {
  double s = effector_blood;
  for (const NodeState& n : nodes) {
    s += n.naive;
    for (double c : n.chain) s += c;
  }
  return s;
}

SystemicState rest_state(const SystemicModel& m, double t_s) {
  check(m);
  SystemicState s;
  s.t_s = t_s;
  s.nodes.resize(m.nodes.size());
  for (NodeState& n : s.nodes) {
    n.naive = m.naive_per_node;
    n.chain.assign(m.chain_stages, 0.0);
  }
  s.treg_blood = m.treg_blood_rest;
  return s;
}

SystemicState initial_state(const SystemicModel& m, const Coupling& c, double t_s) {
  require(finite_ge0(c.effector_initial_per_mL), "effector_initial_per_mL must be >= 0 cells/mL and finite",
          c.effector_initial_per_mL);
  SystemicState s = rest_state(m, t_s);
  s.effector_blood = c.effector_initial_per_mL * m.blood_volume_mL;
  return s;
}

double antigen_drained_nmol_per_s(const Coupling& c, double antigen_sum_um3) {
  return antigen_sum_um3 * c.antigen_nmol_per_unit_um3 * c.antigen_drainage_per_s;
}

double max_rate_per_s(const SystemicModel& m, const StepInputs& in) {
  const double g = m.chain_stages / m.priming_delay_s;
  double lam = std::max({m.k_antigen_deg + m.k_apc_migration, m.k_presentation_loss, g,
                         m.k_naive_return + m.k_prime * (1.0 + m.ctla4_boost), m.k_effector_death,
                         m.k_treg_turnover + m.k_treg_depletion, 1.0 / m.homing_recovery_s});
  (void)in;  // the bound holds for any occupancy in [0, 1]
  return lam;
}

StepOutputs advance(const SystemicModel& M, SystemicState& s, double t0, double t1, const StepInputs& in) {
  check(M);
  check_state(M, s);
  check_inputs(M, in);
  require(std::isfinite(t0) && t0 == s.t_s, "advance: t0 must equal the state's time " + num(s.t_s) + " s", t0);
  require(std::isfinite(t1) && t1 > t0, "advance: t1 must be > t0 = " + num(t0) + " s", t1);
  const double dt = t1 - t0;

  Layout L;
  L.k = M.chain_stages;
  L.nnodes = (int)M.nodes.size();
  StepRates r;
  r.t0 = t0;
  r.antigen_in.assign(L.nnodes, 0.0);
  for (int n = 0; n < L.nnodes; ++n)
    for (int l : M.nodes[n].drains) r.antigen_in[n] += in.antigen_drained_nmol_per_s[l];
  for (int l = 0; l < M.nlesions; ++l) {
    r.effector_out += in.effector_influx_cells[l] / dt;
    r.treg_out += in.treg_influx_cells[l] / dt;
  }
  const double c_node = M.node_antibody_ratio * in.antiCTLA4_plasma_nM;
  r.occ_node = c_node / (c_node + M.kd_antiCTLA4_nM);
  r.occ_blood = in.antiCTLA4_plasma_nM / (in.antiCTLA4_plasma_nM + M.kd_antiCTLA4_nM);
  r.g = M.chain_stages / M.priming_delay_s;
  r.m = std::exp(M.expansion_rate * M.priming_delay_s / M.chain_stages);
  for (const NodeState& n : s.nodes) r.h0.push_back(n.homing);

  std::vector<double> y(L.size(), 0.0);
  for (int n = 0; n < L.nnodes; ++n) {
    double* x = &y[L.node(n)];
    x[0] = s.nodes[n].antigen_nmol;
    x[1] = s.nodes[n].presented_nmol;
    x[2] = s.nodes[n].naive;
    for (int j = 0; j < L.k; ++j) x[3 + j] = s.nodes[n].chain[j];
  }
  y[L.global(kE)] = s.effector_blood;
  y[L.global(kR)] = s.treg_blood;

  const double lam = max_rate_per_s(M, in);
  const double nsub_d = std::ceil(dt * lam / M.step_rate_limit);
  require(nsub_d < 1e8, "advance: the step needs more than 1e8 RK4 sub-steps (shorten it)", nsub_d);
  const long nsub = std::max(1L, (long)nsub_d);
  const double h = dt / (double)nsub;
  const size_t sz = y.size();
  std::vector<double> k1(sz), k2(sz), k3(sz), k4(sz), tmp(sz);
  for (long i = 0; i < nsub; ++i) {
    const double t = t0 + h * (double)i;
    rhs(M, L, r, t, y, k1);
    for (size_t q = 0; q < sz; ++q) tmp[q] = y[q] + 0.5 * h * k1[q];
    rhs(M, L, r, t + 0.5 * h, tmp, k2);
    for (size_t q = 0; q < sz; ++q) tmp[q] = y[q] + 0.5 * h * k2[q];
    rhs(M, L, r, t + 0.5 * h, tmp, k3);
    for (size_t q = 0; q < sz; ++q) tmp[q] = y[q] + h * k3[q];
    rhs(M, L, r, t + h, tmp, k4);
    for (size_t q = 0; q < sz; ++q) y[q] += h / 6.0 * (k1[q] + 2.0 * k2[q] + 2.0 * k3[q] + k4[q]);
  }

  StepOutputs out;
  out.substeps = (int)nsub;
  const double relax = std::exp(-dt / M.homing_recovery_s);
  for (int n = 0; n < L.nnodes; ++n) {
    const double* x = &y[L.node(n)];
    NodeState& ns = s.nodes[n];
    ns.antigen_nmol = x[0];
    ns.presented_nmol = x[1];
    ns.naive = x[2];
    for (int j = 0; j < L.k; ++j) ns.chain[j] = x[3 + j];
    ns.homing = 1.0 - (1.0 - ns.homing) * relax;
    out.egress_cells.push_back(x[3 + L.k]);
    const double local = M.nodes[n].local_lesion >= 0 ? M.local_egress * x[3 + L.k] : 0.0;
    out.local_release_cells.push_back(local);
    s.tally.effector_local += local;
  }
  s.effector_blood = y[L.global(kE)];
  s.treg_blood = y[L.global(kR)];
  out.effector_blood_mean_per_mL = y[L.global(kIntE)] / dt / M.blood_volume_mL;
  out.treg_blood_mean_per_mL = y[L.global(kIntR)] / dt / M.blood_volume_mL;
  Tallies& T = s.tally;
  T.naive_supply += y[L.global(kNaiveSupply)];
  T.expansion += y[L.global(kExpansion)];
  T.naive_return += y[L.global(kNaiveReturn)];
  T.effector_death += y[L.global(kEffectorDeath)];
  T.effector_to_lesions += y[L.global(kEffectorOut)];
  T.primed += y[L.global(kPrimed)];
  T.egress += y[L.global(kEgress)];
  T.treg_supply += y[L.global(kTregSupply)];
  T.treg_death += y[L.global(kTregDeath)];
  T.treg_depleted += y[L.global(kTregDepleted)];
  T.treg_to_lesions += y[L.global(kTregOut)];
  s.t_s = t1;
  return out;
}

double node_survival(const SystemicModel& m, double dose_Gy) {
  require(finite_ge0(dose_Gy), "a node dose must be >= 0 Gy and finite", dose_Gy);
  return std::exp(-m.lymph_alpha_per_Gy * dose_Gy - m.lymph_beta_per_Gy2 * dose_Gy * dose_Gy);
}

double irradiate_node(const SystemicModel& m, SystemicState& s, int node, double dose_Gy) {
  check(m);
  check_state(m, s);
  require(node >= 0 && node < (int)s.nodes.size(), "irradiate_node: no node of this index", node);
  const double S = node_survival(m, dose_Gy);
  NodeState& n = s.nodes[node];
  s.tally.radiation_naive += (1.0 - S) * n.naive;
  n.naive *= S;
  for (double& c : n.chain) {
    s.tally.radiation_chain += (1.0 - S) * c;
    c *= S;
  }
  n.homing *= std::exp(-m.homing_loss_per_Gy * dose_Gy);
  return S;
}

}  // namespace tme::systemic
