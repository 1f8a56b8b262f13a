#include "host/core/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tme {

Simulation::Simulation(const Problem& p, Backend& b) : p_(p), b_(b) {
  dt_max_ = p.explicit_dt_limit() * p.time.cfl;
  if (p.time.max_step > 0) dt_max_ = std::min(dt_max_, p.time.max_step);
  if (!std::isfinite(dt_max_)) dt_max_ = p.time.output_every;  // nothing evolves: one step per output
}

void Simulation::advance_to(double t, const Progress& progress) {
  if (t < t_) throw std::invalid_argument("advance_to: cannot step backwards");
  const double span = t - t_;
  if (span > 0) {
    // Equal sub-steps that land exactly on t; the 1e-9 slack keeps a step that divides the
    // span exactly from being split into one more.
    const long long n = std::max<long long>(1, (long long)std::ceil(span / dt_max_ * (1 - 1e-9)));
    const double dt = span / double(n);
    const double t0 = t_;
    long long done = 0;
    while (done < n) {
      const int chunk = (int)std::min<long long>(n - done, progress ? 32 : (1 << 20));
      b_.explicit_steps(dt, chunk);
      done += chunk;
      steps_ += chunk;
      if (progress && done < n) progress(t0 + dt * double(done));
    }
  }
  t_ = t;
}

std::vector<double> Simulation::output_times() const {
  std::vector<double> ts;
  const double every = p_.time.output_every, end = p_.time.t_end;
  for (long long i = 0;; ++i) {
    const double t = i * every;
    if (t >= end * (1 - 1e-12)) break;
    ts.push_back(t);
  }
  ts.push_back(end);
  return ts;
}

}  // namespace tme
