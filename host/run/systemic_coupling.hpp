// The systemic compartments (host/core/systemic.hpp: lymph nodes, blood pools of effector CD8
// and Treg) coupled to the lesions of a run through the stepper's seam (host/core/coupling.hpp).
//
// Per step [t0, t1] of all lesions:
//   - input_means: the blood effector and Treg levels' means over each reaction pass [a, b]
//     become the kSystemic blood inputs of every lesion (converted to the inputs' units).
//     The compartments' state is at the last after_step (t0); a pass reaches past it (explicit
//     runs: [t0, t1]; Strang splitting: up to t1 + dt/2). The mean over [a, b] is that of a
//     COPY of the state advanced from its time to b with the inputs of the last step held
//     (antigen drained and influx rates per lesion; zero before the first step): a one-step
//     extrapolation of the exchange, first order in dt, not an iteration. The real state then
//     advances in after_step with the inputs the step actually had. Every lesion's pass over
//     the same interval gets the same value (one prediction per interval).
//   - after_step: from the lesions' totals (reduced_fields: the antigen field, the effector
//     and Treg tally fields; Backend::field_sums, never a field copy) the antigen each lesion
//     drains (its total at t1 times the drainage rate), and the cells that entered each
//     lesion from blood during the step (the tally totals: exactly what the influx terms added,
//     integrated by the same reaction update); the ODEs advance over [t0, t1] with those inputs
//     and the plasma anti-CTLA-4 mean, and what entered the lesions leaves blood. Then the
//     tallies are emptied into the backends' running sums (folded_fields, Backend::fold_fields):
//     each step's count starts from zero, exact to the rounding of that step alone rather than
//     to that of a cumulative total in the build's real type; the runs show the running sums.
//     A coupling not attached to backends (totals given by hand) empties nothing and takes the
//     increase of the tally totals since the last step. T cells are conserved across blood, nodes and lesions apart
//     from the births and deaths systemic::Tallies declares (tests/app/test_systemic_run.cpp).
// Units: time [s], cells, antigen [nmol]; the lesions' totals [field unit x mm^3].
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/core/coupling.hpp"
#include "host/core/influx_tally.hpp"
#include "host/core/problem.hpp"
#include "host/core/systemic.hpp"
#include "host/scene/patient.hpp"

namespace tme {

class SystemicCoupling final : public StepCoupling {
 public:
  // `lesion_model`: the lesions' shared model (its globals, drugs and fractions); the
  // coupling's tally fields set (add_influx_tallies). The state starts at
  // systemic::initial_state at t_s. Throws std::invalid_argument for an inconsistent model
  // or coupling.
  // `lesion_names` name the lesions in systemic.csv (empty: "lesion1", "lesion2", ...).
  SystemicCoupling(systemic::SystemicModel model, systemic::Coupling coupling, const Model& lesion_model,
                   double t_s = 0, std::vector<std::string> lesion_names = {});

  // A node inside a lesion (Node::local_lesion, resolve_node_sites): its voxels in that lesion
  // (node_voxels on grids[lesion], one grid per lesion), where it releases its local share of
  // egress (systemic::StepOutputs::local_release_cells) after each step: the effector
  // population (coupling.effector_field) grows there by the release / the voxels' volume.
  // Throws std::invalid_argument for the wrong number of grids or no effector field.
  void place_nodes(const std::vector<GridSpec>& grids);
  // Keeps the nodes' voxel lists on their lesions' backends (before the first step).
  void attach(const std::vector<Backend*>& lesions) override;
  std::vector<int> reduced_fields() const override;
  // The effector and Treg tally fields.
  std::vector<int> folded_fields() const override;
  void input_means(int lesion, double t0, double t1, std::vector<double>& globals) override;
  void after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) override;
  std::vector<double> saved_state() const override;
  void restore_state(const std::vector<double>& saved) override;
  // Irradiates every node with its dose of the fraction: node_dose_per_Gy[n][plan] x the
  // fraction's dose (systemic::irradiate_node), and notes it for node_doses.csv.
  void fraction(const FractionEvent& f) override;
  // systemic.csv: a row per output time (columns in docs/model.md, "systemic.csv"); with
  // radiotherapy plans also node_doses.csv, a row per fraction and node.
  void record_output(double t) override;
  std::vector<std::pair<std::string, std::string>> files() const override;

  // One node's dose at one fraction.
  struct NodeDose {
    double time_s = 0;         // [s]
    int plan = 0;              // Model::plans index
    double prescribed_Gy = 0;  // the fraction's prescription [Gy]
    int node = 0;              // SystemicModel::nodes index
    double dose_Gy = 0;        // at the node [Gy]
    double survival = 1;       // LQ survival of its lymphocytes [1]
  };
  const std::vector<NodeDose>& node_doses() const { return node_doses_; }

  const systemic::SystemicModel& model() const { return model_; }
  const systemic::Coupling& coupling() const { return coupling_; }
  const systemic::SystemicState& state() const { return state_; }
  // Per lesion, the cells that have entered it from blood since the start [cells] (the sum in
  // double of the steps' tally totals; not attached: the tally totals at the last after_step).
  const std::vector<double>& effectors_entered() const { return entered_E_; }
  const std::vector<double>& treg_entered() const { return entered_R_; }
  // Per lesion, the effectors the nodes inside it have released into it since the start [cells].
  const std::vector<double>& released_locally() const { return released_; }
  // Blood effector CD8 [cells/mL] now.
  double effector_blood_per_mL() const { return state_.effector_blood / model_.blood_volume_mL; }

 private:
  systemic::StepInputs held_inputs(double span) const;
  std::string systemic_csv() const;
  std::string node_doses_csv() const;
  size_t row_width() const;
  double plasma_antiCTLA4(double t0, double t1) const;

  systemic::SystemicModel model_;
  systemic::Coupling coupling_;
  int nglobals_ = 0;
  Drug antiCTLA4_;  // when coupling_.antiCTLA4_drug >= 0
  systemic::SystemicState state_;
  std::vector<double> entered_E_, entered_R_;      // per lesion: cells entered since the start [cells]
  std::vector<double> last_J_;                     // per lesion: antigen drained in the last step [nmol/s]
  std::vector<double> last_rate_E_, last_rate_R_;  // per lesion: influx in the last step [cells/s]
  // The prediction for the last interval asked (same state time and interval: same answer).
  double cache_state_t_ = -1, cache_a_ = 0, cache_b_ = 0, cache_E_ = 0, cache_R_ = 0;
  bool cache_valid_ = false;
  std::vector<std::string> lesion_names_, plan_names_;
  std::vector<std::vector<double>> rows_;  // systemic.csv, one per recorded output (row_width() values)
  std::vector<NodeDose> node_doses_;
  // Nodes inside lesions: where each releases, and the list's id on its lesion's backend.
  struct Site {
    int node = -1, lesion = -1;
    std::vector<long long> voxels;
    double volume_mm3 = 0;  // of the voxels
    int kept = -1;          // Backend::keep_voxels id, -1 until attached
  };
  std::vector<Site> sites_;
  std::vector<Backend*> backends_;
  std::vector<double> released_;  // per lesion [cells]
};

// The coupling of a patient whose scene declares lymph nodes (LoadedPatient::systemic), or
// null when it declares none. Throws std::invalid_argument for an inconsistent one.
std::unique_ptr<SystemicCoupling> make_systemic_coupling(const LoadedPatient& patient);

}  // namespace tme
