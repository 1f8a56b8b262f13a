// A field emptied into its running sum (the influx tallies, Backend::fold_fields): per voxel,
// sum[v] += field[v] in double, then field[v] = 0. Run by the generic voxel loop; each call
// writes its own voxel.
#pragma once
#include "tme_hd.hpp"

namespace tme {

struct FoldOp {
  real* field = nullptr;  // one field block
  double* sum = nullptr;  // its running sum, one value per voxel
  TME_HD void operator()(long long v) const {
    sum[v] += double(field[v]);
    field[v] = real(0);
  }
};

}  // namespace tme
