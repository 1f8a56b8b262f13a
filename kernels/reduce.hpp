// Totals of a field over the grid as a reduction where the state lives, in a fixed order (the
// same sum on every run and thread count): block t sums the voxels [t len, (t + 1) len),
// len = ceil(n / nblocks), in double; the host adds the block sums in block order.
#pragma once
#include "tme_hd.hpp"

namespace tme {

constexpr long long kSumBlocks = 1024;  // partial sums per field (8 KiB read back per field)

// The voxels [begin, end) of block t of nblocks over n voxels: len = ceil(n / nblocks), block t
// holds [t len, min((t + 1) len, n)) (empty for the blocks past the end). Every block-partial
// reduction (sums, dot products, maxima) splits its field this way, so its order is fixed.
TME_HD inline void block_range(long long t, long long n, long long nblocks, long long& begin, long long& end) {
  const long long len = (n + nblocks - 1) / nblocks;
  begin = t * len;
  end = (t + 1) * len < n ? (t + 1) * len : n;
}

struct FieldSumOp {
  const real* x = nullptr;  // one field block of n values
  long long n = 0;
  long long nblocks = 0;
  double* out = nullptr;  // nblocks partial sums
  TME_HD void operator()(long long t) const {
    long long begin, end;
    block_range(t, n, nblocks, begin, end);
    double s = 0;
    for (long long v = begin; v < end; ++v) s += double(x[v]);
    out[t] = s;
  }
};

}  // namespace tme
