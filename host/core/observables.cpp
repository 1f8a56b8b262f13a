#include "host/core/observables.hpp"

#include <algorithm>
#include <limits>

namespace tme {

double total_amount(const Problem& p, const std::vector<real>& state, int s) {
  const long long nv = p.grid.nvox();
  const real* c = state.data() + s * nv;
  double sum = 0;
  for (long long v = 0; v < nv; ++v) sum += double(c[v]);
  return sum * p.grid.h[0] * p.grid.h[1] * p.grid.h[2];
}

namespace {

// Statistics of values[0..nvox) over the whole grid, then over each region of p.regions, in
// voxel order (the same result with any number of threads).
template <class T>
std::vector<Stats> stats_per_scope(const Problem& p, const T* c) {
  const long long nv = p.grid.nvox();
  const double vol = p.grid.h[0] * p.grid.h[1] * p.grid.h[2];
  auto stats = [&](const uint8_t* mask) {
    Stats st;
    double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    long long n = 0;
    for (long long v = 0; v < nv; ++v) {
      if (mask && !mask[v]) continue;
      const double x = c[v];
      sum += x;
      lo = x < lo || x != x ? x : lo;  // a NaN stays (std::min would drop it)
      hi = x > hi || x != x ? x : hi;
      ++n;
    }
    st.total = sum * vol;
    st.mean = n ? sum / double(n) : 0;
    st.min = n ? lo : 0;
    st.max = n ? hi : 0;
    return st;
  };
  std::vector<Stats> out;
  out.push_back(stats(nullptr));
  for (const auto& r : p.regions) out.push_back(stats(r.mask.data()));
  return out;
}

}  // namespace

std::vector<std::vector<Stats>> compute_observables(const Problem& p, const std::vector<real>& state) {
  std::vector<std::vector<Stats>> out(p.nspecies());
  for (int s = 0; s < p.nspecies(); ++s) out[s] = stats_per_scope(p, state.data() + s * p.grid.nvox());
  return out;
}

std::vector<Stats> scope_stats(const Problem& p, const std::vector<double>& values) {
  return stats_per_scope(p, values.data());
}

}  // namespace tme
