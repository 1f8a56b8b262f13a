// Time stepping: drives a backend from output time to output time, landing exactly on
// each one with equal sub-steps no longer than the step limit: the explicit stability limit
// (times cfl, capped by max_step) for the explicit integrator, time.step for lod/adi.
// Model events (radiotherapy fractions, drug doses) split the steps too, so each lands exactly
// on the step grid. A fraction is applied when the run reaches its time (an output at that
// time shows the state after it).
//
// Operator splitting of one step of dt with coupled model terms (Problem::model):
//   explicit: transport(dt), chemotaxis(dt), reactions(dt)                    (Lie, 1st order)
//   lod/adi:  reactions(dt/2), transport(dt), chemotaxis(dt), reactions(dt/2) (Strang; the
//             two half reaction steps between neighbouring steps are taken as one)
// Uniform inputs (plasma levels, blood cells) enter each reaction pass as their exact mean
// over that pass's interval.
#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/coupling.hpp"
#include "host/core/problem.hpp"

namespace tme {

// Most steps one run may take (all segments together). A scene that needs more is refused
// before it starts (host/core/cost.hpp, RunCost::refusal) and Simulation throws rather than
// start it: a step count beyond long long would otherwise wrap around.
constexpr double kMaxSteps = 1e10;

// Plausibility bound of a crowding population (Model::crowd_species): this many times its
// carrying capacity (1 / crowd_volume). Crowding keeps a population below its capacity up to
// the transport's overshoot; ten times it means the numbers have gone wrong.
constexpr double kCapacityBoundFactor = 10;

// Limits of every field for the state check (Backend::first_bad_value): lower 0, since every
// field is a concentration or a population (-infinity under adi, which is not positivity
// preserving at large steps); upper kCapacityBoundFactor x the carrying capacity for crowding
// populations, +infinity for the rest.
struct StateLimits {
  std::vector<real> lower, upper;  // one per species
};
StateLimits state_limits(const Problem& p);

// A state that failed the check: a field NaN, infinite, negative or beyond its bound.
class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs the check on the state the backend holds at time t [s]; throws StateError naming the
// field, the voxel (i, j, k and its centre in um), the time and the value.
void check_state(const Problem& p, Backend& b, const StateLimits& lim, double t);

// The Backend::implicit_steps scheme of a large-step integrator (lod, adi, be); throws
// std::invalid_argument for explicit.
Scheme implicit_scheme(Integrator it);

// Accuracy control of step 'auto' (lod/adi/be/trbdf2 with time.tolerance): every step of h
// is taken once as one whole split step (reactions, transport, chemotaxis, reactions) and
// once as two of h/2 from the same state (the lesions' fields, the running sums of the
// coupling's folded fields and the coupling's state saved and restored exactly); their difference estimates the local
// error of the step of h on every field. The two half steps are kept when the estimate passes (err <= 1), else the
// state is restored and h shrinks. The next step is h * kSafety * err^(-1/(p+1)), bounded by
// kMaxShrink and kMaxGrowth (kRejectShrink after a rejection), p the order of the scheme
// (1: lod, be; 2: adi, trbdf2), at most min(output_every, end).
constexpr double kSafety = 0.9;
constexpr double kMaxGrowth = 4;
constexpr double kMaxShrink = 0.2;
constexpr double kRejectShrink = 0.7;
// A step below this fraction of max(1 s, t) stops the run (the tolerance cannot be met).
constexpr double kMinStepFraction = 1e-9;
// Absolute floor of a field without a declared `floor` [its unit] (the model's default).
constexpr double kDefaultFloor = 1e-9;
// The absolute floor of each field [its unit]: the model's per-field tolerance
// (Model::atol, a field's `floor`), kDefaultFloor where none is set.
std::vector<double> step_floors(const Problem& p);
// The error estimate of one step of h against two of h/2 from c0 (all nspecies * nv values),
// as a multiple of what tolerance tol allows: the largest over the fields of
//   ||y1 - y2||_2 / (1 - 2^-order) / (tol * max(||c0||_2, ||y2||_2) + floor * sqrt(nv)),
// norms over the field's voxels (the relative L2 error with an absolute floor in RMS).
// *worst (may be null): the field with the largest estimate.
double step_error(const std::vector<real>& c0, const std::vector<real>& y1, const std::vector<real>& y2, long long nv,
                  const std::vector<double>& floors, double tol, int order, int* worst);

// One attempted step of step 'auto' (Simulation::step_log).
struct StepRecord {
  double t = 0;           // start [s]
  double dt = 0;          // length [s]
  double error = 0;       // estimate / tolerance (step_error); +inf: a linear solve failed
  bool rejected = false;  // the state was restored and the step retried shorter
  int field = -1;         // the field with the largest estimate (-1: none)
};

// Number of equal sub-steps no longer than dt_max [s] that cover span [s] (> 0): at least 1,
// counted in double so that a huge count does not overflow. The stepper and the cost estimate
// (host/core/cost.hpp) both use it.
double substep_count(double span, double dt_max);
// Step limit [s] of explicit runs (stability limit x cfl, capped by max_step; output_every when
// nothing evolves) and of lod/adi runs with a fixed step; 0 for lod/adi with step 'auto' (chosen
// at run time from the tolerance).
double fixed_step_limit(const Problem& p);
// Times [s] where the model splits the steps (fractions and drug doses), ascending, distinct.
std::vector<double> event_times(const Model& m);
// Number of output times (Simulation::output_times().size()) without listing them.
double output_count(const TimeControl& t);

// How one Simulation::advance_to call ends.
struct Landing {
  // Fractions at exactly t are left for the next call: the state just before them (an
  // event output). The next advance_to, also one to the same t, applies them first.
  bool before_events = false;
  // Kept for callers; unused since step 'auto' chooses every step from its error estimate.
  bool reestimate = true;
};

// The step state of a Simulation between advance_to calls, for checkpoints (tmesim run
// --resume): with the backend's state it is all a simulation needs to continue exactly.
struct StepState {
  double t = 0;           // time [s]
  long long steps = 0;    // steps taken
  double dt_max = 0;      // step limit [s] (step 'auto': the current estimate)
  int next_fraction = 0;  // fractions applied
};

class Simulation {
 public:
  // For lod/adi/be/trbdf2 with time.step == 0 ('auto') the first step proposal is chosen
  // here from time.tolerance by the controller's step doubling of the whole split step
  // (reactions, transport with the solve's globals, chemotaxis; kSystemic inputs count as zero,
  // no coupling being attached yet) on the state the backend holds at t = 0 (load p first); the
  // state is restored. advance_to then controls every step by its error estimate on all
  // fields (kSafety above).
  Simulation(const Problem& p, Backend& b);
  // Step limit used between events [s].
  double dt_max() const { return dt_max_; }
  Integrator integrator() const { return p_.time.integrator; }
  double time() const { return t_; }
  long long steps() const { return steps_; }
  // Called between chunks of sub-steps with the current time [s]; may be empty.
  using Progress = std::function<void(double t)>;
  // Advance to time t [s] (>= time()) in equal sub-steps <= dt_max(); lands exactly on t.
  // Throws std::runtime_error, before stepping, when the steps would pass kMaxSteps.
  void advance_to(double t, const Progress& progress = {}, Landing landing = {});
  // Advances several simulations (the lesions of one run: problems with the same model, time
  // control and events, each on its own backend) to time t [s] in lockstep: the same events,
  // the same segments and the same steps (the smallest step limit of them all; every
  // simulation's dt_max() is set to it), each step taken by every simulation in list order
  // before the next. `coupling` (may be null) supplies the kSystemic inputs of every reaction
  // pass and receives the field totals after each step (host/core/coupling.hpp). With one
  // simulation and no coupling it is exactly advance_to. All must be at the same time.
  static void advance_together(const std::vector<Simulation*>& sims, double t, const Progress& progress = {},
                               Landing landing = {}, StepCoupling* coupling = nullptr);
  // Sets the step limit [s] (> 0) used between events (lockstep runs: the common step).
  void set_dt_max(double dt);
  // Output times 0, every, ..., t_end (the last one exactly t_end).
  std::vector<double> output_times() const;
  // Called after each fraction is applied, with its event and the dose [Gy] per voxel.
  using FractionHook = std::function<void(const FractionEvent&, const std::vector<real>& dose)>;
  void on_fraction(FractionHook hook) { on_fraction_ = std::move(hook); }
  // Fractions applied so far.
  int fractions_applied() const { return next_fraction_; }
  // Checks the state (check_state) every `steps` steps inside advance_to; 0: never (default).
  void check_every(long long steps) { check_every_ = steps > 0 ? steps : 0; }
  StepState step_state() const { return {t_, steps_, dt_max_, next_fraction_}; }
  // Continues from a saved step state (the backend holds the matching state); the fraction
  // hook is not called for the fractions counted as applied. Throws std::invalid_argument for
  // a state this problem cannot have (negative or non-finite time or step, fractions beyond
  // the model's).
  void restore_step_state(const StepState& s);
  // Checks the state now (at time()); throws StateError.
  void check_state() { tme::check_state(p_, b_, limits_, t_); }
  // step 'auto': every attempted step since the last clear_step_log (in lockstep runs only the
  // first simulation of advance_together keeps them).
  const std::vector<StepRecord>& step_log() const { return log_; }
  void clear_step_log() { log_.clear(); }
  bool automatic() const { return auto_; }
  // Order p of the integrator's time error (1: explicit, lod, be; 2: adi, trbdf2).
  int order() const;

 private:
  // Largest step [s] whose error estimate (step doubling of the whole split step, step_error)
  // is about tol; at most `cap` [s]. Starts from dt0 (0: 25 x the explicit limit) and
  // iterates at most `iterations` times; restores the state.
  double auto_step(double tol, double cap, double dt0, int iterations);
  void implicit_steps(double dt, int n);
  // Step i of n equal steps of dt from t0 of every simulation (segment end t), with the
  // coupling's inputs and totals.
  static void step_once(const std::vector<Simulation*>& sims, double t0, double dt, long long i, long long n, double t,
                        StepCoupling* coupling, const std::vector<int>& reduced,
                        std::vector<std::vector<double>>& totals);
  // step 'auto': controlled steps over [t_, t1] (no event strictly inside), landing on t1.
  static void adaptive_segment(const std::vector<Simulation*>& sims, double t1, const Progress& progress,
                               StepCoupling* coupling, const std::vector<int>& reduced);
  // Equal sub-steps over [t_, t1] with no event strictly inside, of every simulation.
  static void advance_segment(const std::vector<Simulation*>& sims, double t1, const Progress& progress,
                              StepCoupling* coupling, const std::vector<int>& reduced);
  // The uniform inputs of lesion `lesion` over [t0, t1]: exact means, the coupling's entries
  // from the coupling.
  std::vector<double> inputs(int lesion, double t0, double t1, StepCoupling* coupling) const;
  // Applies the fractions with time <= t_ not applied yet.
  void apply_due_fractions();
  std::vector<double> globals_mean(double t0, double t1) const;

  const Problem& p_;
  Backend& b_;
  double dt_max_ = 0;
  double t_ = 0;
  long long steps_ = 0;
  bool auto_ = false;  // time.step 'auto': every step controlled by its error estimate
  double auto_cap_ = 0;
  bool coupled_ = false;        // model terms or chemotaxis present
  std::vector<double> events_;  // fraction and dose times [s], ascending, distinct
  int next_fraction_ = 0;
  FractionHook on_fraction_;
  StateLimits limits_;
  long long check_every_ = 0;
  std::vector<StepRecord> log_;
};

}  // namespace tme
