// Totals of a field over the grid as a reduction where the state lives, in a fixed order (the
// same sum on every run and thread count): block t sums the voxels [t len, (t + 1) len),
// len = ceil(n / nblocks), in double; the host adds the block sums in block order.
#pragma once
#include "tme_hd.hpp"

namespace tme {

constexpr long long kSumBlocks = 1024;  // partial sums per field (8 KiB read back per field)

struct FieldSumOp {
  const real* x = nullptr;  // one field block of n values
  long long n = 0;
  long long nblocks = 0;
  double* out = nullptr;  // nblocks partial sums
  TME_HD void operator()(long long t) const {
    const long long len = (n + nblocks - 1) / nblocks, end = (t + 1) * len < n ? (t + 1) * len : n;
    double s = 0;
    for (long long v = t * len; v < end; ++v) s += double(x[v]);
    out[t] = s;
  }
};

}  // namespace tme
