// The per-step backend interface (cpu or cuda) chosen at run time. A backend owns the
// device-resident state of one problem; the host drives it one operation at a time. Both
// backends are one template over an execution space (host/core/backend_impl.hpp). A CUDA
// backend queues its work on a stream of its own and returns before the device is done;
// read_state and first_bad_value wait for it, so several backends can share one GPU.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kernels/tme_hd.hpp"

namespace tme {

// Declared only: a change to the problem or to the implicit kernels does not rebuild every
// file that sees a backend. Callers that pass a Scheme include kernels/implicit.hpp.
struct Problem;
enum class Scheme : int;  // kernels/implicit.hpp

struct DeviceInfo {
  std::string name;
  size_t memory_bytes = 0;
  int cc_major = 0, cc_minor = 0;
};

// Work of the linear solves of the coupled backward Euler integrator since load: solves (one
// per step and species) and preconditioned CG iterations.
// TR-BDF2 counts two solves per step and species, and its steps redone by backward Euler (a
// result below zero beyond round-off) as fallbacks.
struct LinearSolveStats {
  long long solves = 0;
  long long iterations = 0;
  long long fallbacks = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;    // "cpu" or "cuda"
  virtual std::string device() const = 0;  // e.g. "2 OpenMP threads" or "NVIDIA H100 (sm_90)"
  // Copy coefficients, maps and the initial state to the backend.
  virtual void load(const Problem& p) = 0;
  // n fused explicit sub-steps of length dt [s].
  virtual void explicit_steps(double dt, int n) = 0;
  // n steps of length dt [s] of a large-step scheme with the reactions inside its operator:
  // the splitting schemes of kernels/implicit.hpp (throw std::invalid_argument for grid lines
  // longer than kMaxImplicitLine cells) or the coupled backward Euler of
  // kernels/backward_euler.hpp (throws std::runtime_error when a linear solve does not converge).
  virtual void implicit_steps(Scheme scheme, double dt, int n) = 0;
  // The uniform inputs (one per Model::globals entry, e.g. the plasma level's mean over the
  // step) of the model terms in the linear solves (Problem::time.terms_in_solve: exchange
  // terms), held until the next call; 0 before the first.
  virtual void solve_globals(const std::vector<double>& globals) = 0;
  // Coupled model terms (Problem::model, kernels/terms.hpp) over dt [s] at every voxel, with
  // the uniform inputs `globals` (one per Model::globals entry) held over the step.
  virtual void react(double dt, const std::vector<double>& globals) = 0;
  // Chemotaxis drift of every moving population over dt [s], in equal sub-steps within the
  // positivity limit.
  virtual void chemotaxis(double dt) = 0;
  // One radiotherapy fraction (kernels/fraction.hpp): dose [Gy] per voxel (nvox values).
  virtual void apply_fraction(const std::vector<real>& dose) = 0;
  // The LQ survival product of every irradiated population (Model::radio_pops) since load,
  // kept where the fractions are applied: npop * nvox values (population-major), 1 before any
  // fraction; empty for a model without irradiated populations. write_survival sets it
  // (checkpoints); throws std::invalid_argument for another size.
  virtual void read_survival(std::vector<double>& out) = 0;
  virtual void write_survival(const std::vector<double>& in) = 0;
  // Current state, nspecies * nvox values.
  virtual void read_state(std::vector<real>& out) = 0;
  virtual void write_state(const std::vector<real>& in) = 0;
  // The state check (kernels/state_check.hpp) as a reduction where the state lives: the flat
  // index s * nvox + voxel of the first value (lowest index) of field s that is NaN, infinite,
  // below lower[s] or above upper[s] (one limit per species), or -1 when all are fine.
  virtual long long first_bad_value(const std::vector<real>& lower, const std::vector<real>& upper) = 0;
  // Sum over the voxels of each field in `species` (field indices), into sums (one per entry),
  // as a reduction where the state lives in a fixed order (kernels/reduce.hpp): only the
  // partial sums are copied to the host.
  virtual void field_sums(const std::vector<int>& species, std::vector<double>& sums) = 0;
  // Voxel lists for add_at_voxels (the voxels of a lymph node inside the grid), kept where the
  // state lives until the next load: returns the list's id (0, 1, ... in the order kept).
  // Throws std::invalid_argument for an empty list, an index outside the grid or one listed twice.
  virtual int keep_voxels(const std::vector<long long>& voxels) = 0;
  // Adds `value` [the field's unit] to field `species` at every voxel of kept list `id`
  // (kernels/release.hpp); the field's total grows by value x the list's length (to the
  // rounding of each voxel's sum). Throws std::invalid_argument for a bad id or species.
  virtual void add_at_voxels(int id, int species, double value) = 0;
  // Running sums of fields that are emptied after every step (the influx tallies of a coupling,
  // host/run/systemic_coupling.hpp), one double per voxel kept where the state lives, zero
  // after load: fold_fields adds each listed field into its running sum and sets the field to
  // zero (kernels/fold.hpp); read_folded gives the running sum of a field (nvox values, zeros
  // when it was never folded); write_folded sets it (checkpoints). Throw std::invalid_argument
  // for a bad field index or size.
  virtual void fold_fields(const std::vector<int>& species) = 0;
  virtual void read_folded(int species, std::vector<double>& out) = 0;
  virtual void write_folded(int species, const std::vector<double>& in) = 0;
  // Linear solves of Scheme::kBackwardEuler and kTrBdf2 since load (zero for the other schemes).
  virtual LinearSolveStats linear_solve_stats() const = 0;
  // Waits until the work queued so far is done (the CPU backend never queues): for timings.
  virtual void finish() = 0;
};

// "cpu", "cuda" or "auto" (cuda when a device exists). Throws std::runtime_error with the
// reason when the requested backend is not available.
std::unique_ptr<Backend> make_backend(const std::string& name);
std::unique_ptr<Backend> make_cpu_backend();
// Throws std::runtime_error in a build without CUDA (host/core/backend_nocuda.cpp).
std::unique_ptr<Backend> make_cuda_backend();

// True when the CUDA backend is compiled in and a device answers; else why not.
bool cuda_available(std::string* why = nullptr);
std::vector<DeviceInfo> cuda_devices();
bool cuda_compiled();
// Free and total memory [bytes] (cudaMemGetInfo), peak memory bandwidth [bytes/s] (from the
// memory clock and bus width) and name of the current CUDA device; false without one.
bool cuda_memory(size_t* free_bytes, size_t* total_bytes, double* bandwidth, std::string* name);

}  // namespace tme

namespace tme {
// Device-to-device copy of `bytes` bytes repeated `reps` times; returns seconds per copy
// (CUDA events). Throws when CUDA is not available. For bandwidth references in bench/.
double cuda_copy_seconds(size_t bytes, int reps);
}  // namespace tme
