// The systemic compartments of a patient, integrated as ODEs on the host: tumour-draining
// lymph nodes (TDLN) that prime tumour-reactive CD8 T cells from the antigen the lesions drain,
// and blood pools of effector CD8 and Treg cells that feed the lesions' influx terms. Plain data
// and one integrator; no scene, no stepper. docs/model.md ("Systemic compartments") gives the
// equations, the parameters and their sources.
//
// State (cells are counts, antigen amounts in nmol), per node n:
//   A_n   antigen drained towards the node, carried by migrating antigen-presenting cells [nmol]
//   P_n   antigen presented by mature APC in the node [nmol]
//   N_n   cognate naive CD8 in the node [cells]
//   C_n,j in-chain (primed, dividing) CD8, stages j = 1..k of an Erlang delay [cells]
//   h_n   homing-chemokine (CCL19/21) output of the node, in [0, 1]: scales priming
// and in blood:
//   E     effector CD8 [cells],   R   Treg [cells].
// Equations (inputs held constant over a step: antigen drained J_l [nmol/s] and cells that
// left blood into lesion l, Phi_E,l and Phi_R,l [cells over the step dt], plasma anti-CTLA-4
// C_p [nM]):
//   dA_n/dt = sum_{l drained by n} J_l - (k_deg + k_mig) A_n
//   dP_n/dt = k_mig A_n - k_pres P_n
//   pi_n    = k_prime P_n / (P_n + P_half) * h_n(t) * (1 + b occ_node) / (1 + (R / V_b) / K_R)
//   dN_n/dt = k_ret (N* - N_n) - pi_n N_n
//   dC_n,1/dt = pi_n N_n - g C_n,1,   dC_n,j/dt = m g C_n,j-1 - g C_n,j   (g = k / tau)
//   dE/dt   = sum_n (1 - s_n) m g C_n,k - k_E E - sum_l Phi_E,l / dt
//             (s_n = local_egress for a node inside a lesion grid, which releases that share of
//             its egress into the lesion: StepOutputs::local_release_cells; else 0)
//   dR/dt   = k_R (R* - R) - k_dep occ_blood R - sum_l Phi_R,l / dt
//   occ_node = f C_p / (f C_p + Kd),  occ_blood = C_p / (C_p + Kd),  m = exp(rho tau / k).
// The chain is an Erlang(k, g) distributed delay of mean tau from priming to egress; each of
// its k transitions multiplies the cells by m (a division round), so a primed cell leaves as
// exp(rho tau) effectors on average whatever k is (clonal expansion at rho over the mean delay).
// h_n relaxes to 1 with time constant tau_h: h_n(t) = 1 - (1 - h_n(t0)) exp(-(t - t0) / tau_h).
//
// Integration: classical RK4 with equal sub-steps h <= step_rate_limit / lambda_max, where
// lambda_max bounds every rate of the system (see max_rate_per_s). The pools' time integrals
// and the tallies are integrated as extra components of the same system, so the step means of
// the blood concentrations are those of the integrated solution, and the linear invariant
// (T cells in nodes and blood + deaths + out to lesions - births) is kept to round-off: RK4
// preserves linear invariants exactly. The system is small (a few tens of components) and not
// stiff at this bound, so a library integrator (GSL odeiv2: not a dependency of the core) would
// add a dependency for no gain in accuracy or cost.
//
// Units: time [s], rates [1/s], antigen [nmol], concentrations of antibody [nM], cells [cells],
// blood volume [mL], blood concentrations [cells/mL], dose [Gy].
// Errors: std::invalid_argument with a message naming the value and the accepted range.
#pragma once
#include <string>
#include <vector>

namespace tme::systemic {

// One tumour-draining lymph node.
struct Node {
  std::string name;
  std::vector<int> drains;            // indices of the lesions it drains (each at most once)
  double position_um[3] = {0, 0, 0};  // centre in patient coordinates [um]
  double radius_um = 0;               // [um], >= 0
  // The lesion whose grid holds the node's centre, or -1 (set by the scene loader,
  // resolve_node_sites): such a node releases the share local_egress of its egress into that
  // lesion's voxels it covers (host/core/node_source.hpp) instead of blood.
  int local_lesion = -1;
};

struct SystemicModel {
  int nlesions = 1;         // lesions that exchange with the compartments, >= 1
  std::vector<Node> nodes;  // at least one

  // antigen and antigen-presenting cells
  double k_antigen_deg = 0;        // degradation of drained antigen [1/s]
  double k_apc_migration = 0;      // APC transit of antigen to the node [1/s]
  double k_presentation_loss = 0;  // loss of presented antigen (mature APC turnover) [1/s], > 0
  double presented_half_nmol = 0;  // presented antigen of half-maximal priming [nmol], > 0

  // priming and the chain
  double k_prime = 0;           // naive activation rate at saturating presentation [1/s]
  double ctla4_boost = 0;       // relative increase of priming at full CTLA-4 occupancy [1], >= 0
  double treg_half_per_mL = 0;  // blood Treg level halving priming [cells/mL], > 0
  int chain_stages = 1;         // k, >= 1
  double priming_delay_s = 0;   // mean delay tau from priming to egress [s], > 0
  double expansion_rate = 0;    // rho [1/s], >= 0: mean fold exp(rho tau)
  double naive_per_node = 0;    // N*: cognate naive CD8 per node at rest [cells], >= 0
  double k_naive_return = 0;    // naive recirculation node -> blood [1/s], > 0

  // blood
  double blood_volume_mL = 0;      // V_b [mL], > 0
  double k_effector_death = 0;     // k_E [1/s], >= 0
  double treg_blood_rest = 0;      // R* [cells], >= 0
  double k_treg_turnover = 0;      // k_R [1/s], >= 0
  double k_treg_depletion = 0;     // k_dep, ADCC at full occupancy [1/s], >= 0
  double kd_antiCTLA4_nM = 0;      // Kd [nM], > 0
  double node_antibody_ratio = 0;  // f: node / plasma antibody concentration [1], >= 0

  // radiation of a node
  double lymph_alpha_per_Gy = 0;  // LQ alpha of node lymphocytes [1/Gy], >= 0
  double lymph_beta_per_Gy2 = 0;  // LQ beta [1/Gy^2], >= 0
  double homing_loss_per_Gy = 0;  // h -> h exp(-delta d) at a fraction [1/Gy], >= 0
  double homing_recovery_s = 0;   // tau_h [s], > 0

  // a node inside a lesion grid (Node::local_lesion >= 0): the share of its egress released
  // into that lesion instead of blood [1], in [0, 1]
  double local_egress = 0;

  double step_rate_limit = 0.01;  // RK4 sub-step bound: h * lambda_max <= this, in (0, 0.5]
};

// Throws std::invalid_argument naming the first value out of its range.
void check(const SystemicModel& m);

// How the compartments meet the lesions' model, as the model file declares it (indices into
// the lesion Model of every lesion, which share one model).
struct Coupling {
  int effector_input = -1;  // Model::globals index of the blood input the effector pool's mean replaces
  int treg_input = -1;      // Model::globals index of the blood input the Treg pool's mean replaces
  double effector_input_per_cells_per_mL = 1;  // the effector input's value at 1 cells/mL [its unit]
  double treg_input_per_cells_per_mL = 1;      // the Treg input's value at 1 cells/mL [its unit]
  // The lesions' non-diffusing tally fields of what entered from blood (cells/mm^3): each
  // accumulates every influx term reading the effector (Treg) input, so its total over a lesion
  // is the count that entered it (add_influx_tally, host/core/influx_tally.hpp); -1 until added.
  int effector_tally_field = -1;
  int treg_tally_field = -1;
  // The lesions' population the effector input's influx terms fill (a node inside a lesion
  // releases its local share there), or -1 (set by resolve_node_sites).
  int effector_field = -1;
  int antigen_field = -1;                // the lesions' antigen species
  double antigen_drainage_per_s = 0;     // lymphatic drainage of lesion antigen [1/s]
  double antigen_nmol_per_unit_um3 = 0;  // nmol in 1 um^3 at 1 unit of the antigen field
  int antiCTLA4_drug = -1;               // Model::drugs index of anti-CTLA-4, or -1: none
  double effector_initial_per_mL = 0;    // blood effectors at t = 0 [cells/mL]
  // Per node, per radiotherapy plan: the dose at the node per Gy of that plan's fraction
  // [Gy/Gy] ([node][plan]); a fraction of d Gy of plan p gives node n node_dose_per_Gy[n][p] x d.
  std::vector<std::vector<double>> node_dose_per_Gy;
};

// Births and deaths, cumulative [cells]. CD8 lineage: naive supply and expansion are births;
// naive return to blood (out of the cognate pool), effector death and radiation deaths are
// deaths; effectors that left blood into the lesions are counted in out_to_lesions.
struct Tallies {
  double naive_supply = 0;         // k_ret N* integrated, all nodes
  double expansion = 0;            // (m - 1) g sum_j C_j integrated, all nodes
  double naive_return = 0;         // k_ret N integrated
  double effector_death = 0;       // k_E E integrated
  double radiation_naive = 0;      // naive killed by node irradiation
  double radiation_chain = 0;      // in-chain cells killed by node irradiation
  double effector_to_lesions = 0;  // sum of Phi_E
  double primed = 0;               // naive -> chain (a transfer; for reports)
  double egress = 0;               // chain -> out of the nodes (a transfer; for reports)
  double effector_local = 0;       // of the egress, released into the lesions the nodes lie in (local_egress)
  // Treg
  double treg_supply = 0;      // k_R R* integrated
  double treg_death = 0;       // k_R R integrated
  double treg_depleted = 0;    // k_dep occ R integrated
  double treg_to_lesions = 0;  // sum of Phi_R
};

struct NodeState {
  double antigen_nmol = 0;    // A
  double presented_nmol = 0;  // P
  double naive = 0;           // N [cells]
  std::vector<double> chain;  // C_1..C_k [cells]
  double homing = 1;          // h in [0, 1]
};

struct SystemicState {
  double t_s = 0;
  std::vector<NodeState> nodes;
  double effector_blood = 0;  // E [cells]
  double treg_blood = 0;      // R [cells]
  Tallies tally;
  // CD8 lineage in nodes and blood [cells]: sum_n (N_n + sum_j C_n,j) + E.
  double cd8_total() const;
};

// The state at rest at time t_s: no antigen, N = N*, empty chains, h = 1, E = 0, R = R*,
// zero tallies.
SystemicState rest_state(const SystemicModel& m, double t_s = 0);

// The state at the start of a run: rest_state with the blood effectors at the coupling's
// initial level, E = effector_initial_per_mL x V_b.
SystemicState initial_state(const SystemicModel& m, const Coupling& c, double t_s = 0);

// J_l [nmol/s] of a lesion whose antigen field sums to `antigen_sum_um3` over its voxels
// (sum of the field's values x voxel volume [field unit x um^3]): the total in nmol times the
// drainage rate.
double antigen_drained_nmol_per_s(const Coupling& c, double antigen_sum_um3);

// What the compartments receive over [t0, t1] (constant or step-mean values).
struct StepInputs {
  std::vector<double> antigen_drained_nmol_per_s;  // per lesion: J_l >= 0 [nmol/s]
  std::vector<double> effector_influx_cells;       // per lesion: Phi_E,l >= 0 [cells over the step]
  std::vector<double> treg_influx_cells;           // per lesion: Phi_R,l >= 0 [cells over the step]
  double antiCTLA4_plasma_nM = 0;                  // C_p >= 0 [nM]
};

struct StepOutputs {
  double effector_blood_mean_per_mL = 0;  // exact mean of E / V_b over [t0, t1] [cells/mL]
  double treg_blood_mean_per_mL = 0;      // exact mean of R / V_b over [t0, t1] [cells/mL]
  std::vector<double> egress_cells;       // per node: effectors that left it over the step
  // per node: of those, released into its lesion (local_egress x egress; 0 for a node outside
  // every lesion grid), the rest entered blood
  std::vector<double> local_release_cells;
  int substeps = 0;  // RK4 sub-steps taken
};

// Largest rate of the system at these inputs [1/s] (bounds the RK4 sub-step).
double max_rate_per_s(const SystemicModel& m, const StepInputs& in);

// Integrates from state.t_s = t0 to t1 (> t0) with the inputs held constant; sets state.t_s =
// t1. Throws std::invalid_argument for t1 <= t0, t0 != state.t_s, inputs of the wrong length
// or negative or non-finite inputs, and a state whose sizes do not match the model.
// Lesion influx may drive a blood pool below zero when it exceeds what blood holds; the run
// obtains influx from the step mean returned here, so that does not happen for steps short
// against the pools' turnover.
StepOutputs advance(const SystemicModel& m, SystemicState& s, double t0, double t1, const StepInputs& in);

// Irradiates node `node` with one fraction of dose_Gy [Gy] at the node: its naive and in-chain
// lymphocytes survive by S = exp(-alpha d - beta d^2) (the dead tallied), and its homing factor
// drops, h -> h exp(-delta d). Returns S. Throws for a bad index or a negative dose.
double irradiate_node(const SystemicModel& m, SystemicState& s, int node, double dose_Gy);

// LQ survival of node lymphocytes at d Gy.
double node_survival(const SystemicModel& m, double dose_Gy);

}  // namespace tme::systemic
