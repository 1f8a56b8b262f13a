// OpenMP loop of the state check (kernels/state_check.hpp): blocks of values are tested with a
// vectorised OR (no early exit), and only a block with a wrong value is scanned for its first
// one; a min reduction over the blocks gives the lowest index, one field after the other.
#include <algorithm>
#include <climits>

#include "kernels/launch.hpp"

namespace tme {

long long state_check_cpu(const StateCheckArgs& a) {
  constexpr long long kBlock = 4096;
  const long long nblocks = (a.nvox + kBlock - 1) / kBlock;
  for (int s = 0; s < a.nspecies; ++s) {
    const real* f = a.fields + s * a.nvox;
    const real lo = a.lower[s], hi = a.upper[s];
    long long first = LLONG_MAX;
#pragma omp parallel for reduction(min : first) schedule(static)
    for (long long b = 0; b < nblocks; ++b) {
      const long long v0 = b * kBlock, v1 = std::min(v0 + kBlock, a.nvox);
      int any = 0;  // an int (not a bool) accumulator lets GCC vectorise the OR
#pragma omp simd reduction(| : any)
      for (long long v = v0; v < v1; ++v) any |= int(state_value_bad(f[v], lo, hi));
      if (!any) continue;
      for (long long v = v0; v < v1; ++v)
        if (state_value_bad(f[v], lo, hi)) {
          first = std::min(first, v);
          break;
        }
    }
    if (first != LLONG_MAX) return s * a.nvox + first;
  }
  return -1;
}

}  // namespace tme
