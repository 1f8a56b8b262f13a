// The seam between the lesions of a run and the systemic compartments (blood, lymph nodes):
// a StepCoupling is called by the stepper once per step of all lesions together
// (Simulation::advance_together).
//
// Per step [t0, t1] of every lesion:
//   1. each reaction pass of lesion l over [a, b] asks input_means(l, a, b, globals): the
//      coupling writes the mean over [a, b] of every uniform input it owns (the Model::globals
//      entries of kind GlobalInput::Kind::kSystemic) into globals[i]; the other entries already
//      hold their exact means (plasma PK, tables, constants) and must be left as they are.
//      Explicit runs have one pass per step, [a, b] = [t0, t1]. Under lod/adi/be (Strang
//      splitting with the inner half steps merged) a segment's first pass is [t0, t0 + dt/2]
//      and the others [t0 + dt/2, t1 + dt/2] (the last of a segment [t0 + dt/2, t1]): the
//      coupling answers for an interval reaching half a step past the last after_step.
//   2. after every lesion has taken the step: after_step(t0, t1, totals), totals[l][k] the
//      total of field reduced_fields()[k] over lesion l's grid at t1: the sum over its voxels
//      of value x voxel volume, [field unit x mm^3] (a count for a density in cells/mm^3).
//      The totals come from a reduction where the state lives (Backend::field_sums): a GPU run
//      copies only these scalars per step, never the fields.
// The coupling sees lesions by their index in the run (Run lists their names).
// Called only between advance_together's steps: a coupling may keep state of its own (the
// ODE state of the compartments); the stepper does not save it, a Run saves it in its
// checkpoints through saved_state and restore_state.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tme {

struct FractionEvent;  // host/core/model.hpp
class Backend;

class StepCoupling {
 public:
  virtual ~StepCoupling() = default;
  // The lesions' backends (by lesion index), loaded, before the first step: a coupling that
  // adds to the lesions' fields between steps (a lymph node inside a lesion releasing cells
  // into it) keeps what it needs there (Backend::keep_voxels). They must outlive the coupling's
  // use. The default keeps nothing.
  virtual void attach(const std::vector<Backend*>& lesions) { (void)lesions; }
  // Field indices (of the lesions' Problem, shared by all lesions) whose totals after_step
  // receives, in this order. Read once per advance_together call.
  virtual std::vector<int> reduced_fields() const = 0;
  // Fields the coupling empties after every step into the backends' running sums
  // (Backend::fold_fields): what a run writes for them (volumes, observables.csv) and keeps in
  // its checkpoints is the running sum plus the field. The default empties none.
  virtual std::vector<int> folded_fields() const { return {}; }
  // Means over [t0, t1] [s] of the kSystemic inputs for lesion `lesion`, written into their
  // entries of `globals` (one per Model::globals entry).
  virtual void input_means(int lesion, double t0, double t1, std::vector<double>& globals) = 0;
  // After the step [t0, t1] [s] of every lesion: totals[lesion][k] (see above).
  virtual void after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) = 0;
  // The coupling's own state as numbers, and its restore from them (a run's checkpoint):
  // after restore_state(saved_state()) the coupling continues exactly as it would have. Throws
  // std::invalid_argument for a vector that is not one of this coupling's states. The
  // defaults are those of a coupling without state.
  virtual std::vector<double> saved_state() const { return {}; }
  virtual void restore_state(const std::vector<double>& saved) {
    if (!saved.empty()) throw std::invalid_argument("a saved state for a coupling that keeps none");
  }
  // A radiotherapy fraction, once per fraction event, after every lesion received it (the
  // compartments are then at the fraction's time).
  virtual void fraction(const FractionEvent& /*f*/) {}
  // Outputs of the compartments, which a Run writes at its top level: record_output notes the
  // state at output time t [s] (at every output stop, after the step to t); files() gives each
  // file's name and whole text as recorded so far (what saved_state keeps).
  virtual void record_output(double /*t*/) {}
  virtual std::vector<std::pair<std::string, std::string>> files() const { return {}; }
};

}  // namespace tme
