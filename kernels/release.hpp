// A uniform release into a set of voxels of one field (primed T cells leaving a lymph node
// that lies inside a lesion grid into the node's voxels): field[voxels[q]] += value for every
// listed voxel. Run by the generic voxel loop over the list; the voxels of a list are distinct
// (Backend::keep_voxels checks it), so each call writes its own voxel.
#pragma once
#include "tme_hd.hpp"

namespace tme {

struct AddAtVoxelsOp {
  real* field = nullptr;              // one field block
  const long long* voxels = nullptr;  // distinct voxel indices into the block
  real value = 0;                     // [the field's unit]
  TME_HD void operator()(long long q) const { field[voxels[q]] += value; }
};

}  // namespace tme
