// Time stepping: drives a backend from output time to output time, landing exactly on
// each one with equal explicit sub-steps no longer than the step limit.
#pragma once
#include <functional>
#include <vector>

#include "host/core/backend.hpp"

namespace tme {

class Simulation {
 public:
  Simulation(const Problem& p, Backend& b);
  // Step limit used between events [s].
  double dt_max() const { return dt_max_; }
  double time() const { return t_; }
  long long steps() const { return steps_; }
  // Called between chunks of sub-steps with the current time [s]; may be empty.
  using Progress = std::function<void(double t)>;
  // Advance to time t [s] (>= time()) in equal sub-steps <= dt_max(); lands exactly on t.
  void advance_to(double t, const Progress& progress = {});
  // Output times 0, every, ..., t_end (the last one exactly t_end).
  std::vector<double> output_times() const;

 private:
  const Problem& p_;
  Backend& b_;
  double dt_max_ = 0;
  double t_ = 0;
  long long steps_ = 0;
};

}  // namespace tme
