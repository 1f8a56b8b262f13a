// Scalar observables of a state: total amount (integral over the volume), mean, min, max
// per species over the whole grid and per named region.
#pragma once
#include <string>
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

struct Stats {
  double total = 0;  // integral [unit * um^3]
  double mean = 0, min = 0, max = 0;
};

// stats[species][0] is the whole grid, stats[species][1 + r] region r of p.regions.
std::vector<std::vector<Stats>> compute_observables(const Problem& p, const std::vector<real>& state);

// The same statistics of one per-voxel quantity (nvox values, e.g. the cumulative dose [Gy]):
// [0] the whole grid, [1 + r] region r of p.regions.
std::vector<Stats> scope_stats(const Problem& p, const std::vector<double>& values);

// Total amount of species s [unit * um^3], accumulated in double.
double total_amount(const Problem& p, const std::vector<real>& state, int s);

}  // namespace tme
