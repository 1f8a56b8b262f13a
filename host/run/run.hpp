// A run of a patient as a library object: what `tmesim run` does between parsing its options
// and printing its last line. A Run owns
//   - the lesions (host/scene/patient.hpp), each with its backend, its Simulation, its
//     radiotherapy accounting (cumulative dose, BED, EQD2, LQ survival per irradiated
//     population, delivered-schedule rows) and its output bookkeeping (volume series,
//     observables.csv, events.csv);
//   - the stops: the output times and, with output.at_events, each event time twice (just
//     before its events and just after), shared by all lesions;
//   - the stepping: all lesions advance in lockstep (Simulation::advance_together: the same
//     events, the same steps), optionally coupled through a StepCoupling
//     (host/core/coupling.hpp: the seam for the systemic compartments);
//   - checkpoints (output.checkpoint_every; host/io/checkpoint.hpp) and their restore;
//   - provenance.json.
// It writes into a RunDirectory (host/io/run_dir.hpp) the caller made; the caller commits it.
// It never exits the process: errors are exceptions (StateError, std::runtime_error, ...), and
// what a person watching should see goes to a RunReporter.
//
// Run directory layout. A single-lesion scene (LoadedPatient::single()): everything at the top
// (fields.pvd, fields_NNNN.vti, events_before.pvd, events_after.pvd, <event>_<t>s_before.vti,
// events.csv, observables.csv, delivered_schedule.csv, open_in_paraview.py). Several lesions:
// each lesion's files in lesions/<name>/, plus patient.pvd at the top listing one
// patient_NNNN.vtm multiblock per output time that holds every lesion's volume of that time
// (the volumes' origins are patient coordinates, so ParaView shows the lesions in place).
// drug_doses.csv and provenance.json stay at the top, and so do the coupling's files
// (StepCoupling::files: systemic.csv and node_doses.csv with lymph nodes), rewritten at every
// output.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/coupling.hpp"
#include "host/core/problem.hpp"
#include "host/io/checkpoint.hpp"
#include "host/io/run_dir.hpp"
#include "host/rt/delivery.hpp"
#include "host/scene/patient.hpp"

namespace tme {

// The current time as "2026-12-03T09:00:00Z".
std::string utc_now();

// What a run tells whoever watches it; every method has an empty default.
class RunReporter {
 public:
  virtual ~RunReporter() = default;
  // Between chunks of steps (force false) and after each output stop (force true): the run
  // time t [s] and the steps taken.
  virtual void progress(double /*t*/, long long /*steps*/, bool /*force*/) {}
  // A fraction delivered to a lesion ("" for a single-lesion run): the count of fractions
  // delivered so far, the event, its plan's name and the delivered-schedule rows (the whole
  // grid, then each observed region).
  virtual void fraction(const std::string& /*lesion*/, int /*count*/, const FractionEvent& /*f*/,
                        const std::string& /*plan*/, const std::vector<rt::DeliveredRow>& /*rows*/) {}
  // A checkpoint written at run time t [s]: its size and the seconds it took.
  virtual void checkpoint(double /*t*/, size_t /*bytes*/, double /*seconds*/) {}
  // After each stop's volumes and files are written.
  virtual void stop_done(double /*t*/) {}
};

// Where a run comes from: recorded in its checkpoints and provenance.json.
struct RunOrigin {
  std::string scene_given;       // the scene path as given
  std::string scene_abs;         // its absolute path (what --resume loads)
  std::vector<std::string> set;  // --set overrides, in order
  std::string until;             // --until ("" none)
  std::string command_line;      // the command that started the run
  std::string started;           // UTC time the run started
  long long check_every = 0;     // state check every this many steps too (0: at stops only)
};

// A checkpoint opened for --resume: its header, the run's origin, and the reader positioned
// at the run state (Run::resume reads it).
struct OpenedCheckpoint {
  CheckpointHeader header;
  RunOrigin origin;  // check_every is not saved: the resuming command's applies
  std::unique_ptr<ByteReader> state;
};
// Reads dir/checkpoint.bin up to the run state. Throws std::runtime_error (unreadable, not a
// checkpoint, truncated).
OpenedCheckpoint open_checkpoint(const std::filesystem::path& dir);
// Why the checkpoint `h` cannot resume the run of `patient` with this program; empty when it can.
std::string checkpoint_refusal(const CheckpointHeader& h, const LoadedPatient& patient);

// A lesion's tumour burden [cells] over the run's outputs (the totals of Model::burden).
struct BurdenSummary {
  std::string lesion;
  double start = 0, min = 0, end = 0;  // at the first output, the smallest, at the last [cells]
};

class Run {
 public:
  // `first` is the backend of the first lesion; the others get a backend of the same kind.
  // Loads every lesion onto its backend and builds its Simulation (the step limit the
  // smallest of the lesions'). `coupling` (may be null) must outlive the run. Writes nothing
  // yet. Throws for a patient without lesions.
  Run(LoadedPatient patient, std::unique_ptr<Backend> first, RunDirectory& dir, RunOrigin origin,
      RunReporter* reporter = nullptr, StepCoupling* coupling = nullptr);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // Before execute(), for tmesim run --resume: reads the run state of a checkpoint (throws
  // std::runtime_error when it is damaged or belongs to another run) and rewrites the run's
  // files as they were at it. `command_line` and `at`: the resuming command and its start.
  void resume(ByteReader& state, const std::string& command_line, const std::string& at);
  // Runs from the first stop not done to the end: writes the volumes, observables,
  // schedules and checkpoints, removes the checkpoint at the end and writes provenance.json.
  // Throws StateError when the state goes wrong, std::runtime_error for other failures.
  void execute();

  const LoadedPatient& patient() const { return patient_; }
  const Problem& problem() const;  // the first lesion's (model, time control and events are shared)
  Backend& backend() const;        // the first lesion's
  double dt_max() const;           // the step limit [s]
  long long steps() const;
  size_t outputs() const { return times_.size(); }  // output times (volumes per lesion)
  size_t event_volumes() const { return event_volumes_; }
  double wall_seconds() const { return wall_; }  // of execute()
  double resumed_at() const { return resumed_at_; }
  size_t first_stop() const { return first_stop_; }
  size_t stops() const;
  // step 'auto': the steps of the run so far (steps.csv; a resumed run includes those before
  // its checkpoint): accepted and rejected counts, smallest, median and largest accepted step [s].
  struct StepSummary {
    long long accepted = 0, rejected = 0;
    double min = 0, median = 0, max = 0;
  };
  StepSummary step_summary() const;
  // After execute(): each lesion's tumour burden (empty when the model names no burden).
  std::vector<BurdenSummary> burden() const;
  // The file ParaView opens: fields.pvd (one lesion) or patient.pvd, relative to the run dir.
  std::string series_file() const;

 private:
  struct Lesion;
  struct Stop;
  void write_checkpoint(size_t next_stop);
  void save_state(ByteWriter& b, size_t next_stop);
  void write_patient_block(size_t n, double t);
  void write_coupling_files();  // the coupling's files (systemic.csv, ...) at the top
  void record_steps();          // step 'auto': the simulation's step log into steps.csv

  LoadedPatient patient_;
  RunDirectory& dir_;
  RunOrigin origin_;
  RunReporter* reporter_;
  StepCoupling* coupling_;
  std::vector<std::unique_ptr<Lesion>> lesions_;
  std::vector<double> times_;
  std::vector<Stop> stops_;
  std::vector<std::pair<double, std::string>> patient_pvd_;  // several lesions: patient.pvd
  size_t n_ = 0, event_volumes_ = 0, first_stop_ = 0;
  bool fresh_interval_ = true;  // no step taken since the last output (step 'auto' re-estimates)
  double last_checkpoint_ = 0;  // time of the last checkpoint [s]
  double resumed_at_ = 0;       // with resume: the checkpoint's time [s]
  bool resuming_ = false;
  std::string resume_command_, resume_at_;
  double wall_ = 0;
  std::string steps_csv_;            // step 'auto': steps.csv so far
  std::vector<double> accepted_dt_;  // step 'auto': every accepted step [s]
  long long rejected_ = 0;
};

}  // namespace tme
