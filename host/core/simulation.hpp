// Time stepping: drives a backend from output time to output time, landing exactly on
// each one with equal sub-steps no longer than the step limit: the explicit stability limit
// (times cfl, capped by max_step) for the explicit integrator, time.step for lod/adi.
#pragma once
#include <functional>
#include <vector>

#include "host/core/backend.hpp"

namespace tme {

class Simulation {
 public:
  // For lod/adi with time.step == 0 ('auto') the step is chosen here from time.tolerance by
  // step doubling on the state the backend holds (load p first); the state is restored.
  Simulation(const Problem& p, Backend& b);
  // Step limit used between events [s].
  double dt_max() const { return dt_max_; }
  Integrator integrator() const { return p_.time.integrator; }
  double time() const { return t_; }
  long long steps() const { return steps_; }
  // Called between chunks of sub-steps with the current time [s]; may be empty.
  using Progress = std::function<void(double t)>;
  // Advance to time t [s] (>= time()) in equal sub-steps <= dt_max(); lands exactly on t.
  void advance_to(double t, const Progress& progress = {});
  // Output times 0, every, ..., t_end (the last one exactly t_end).
  std::vector<double> output_times() const;

 private:
  // Largest implicit step [s] whose local error (step-doubling estimate, worst species,
  // relative to the field) is about tol; at most `cap` [s].
  double auto_step(double tol, double cap);
  void implicit_steps(double dt, int n);

  const Problem& p_;
  Backend& b_;
  double dt_max_ = 0;
  double t_ = 0;
  long long steps_ = 0;
};

}  // namespace tme
