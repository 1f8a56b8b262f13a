// A representative 17-field tumour-microenvironment problem built in code (no YAML): the field
// set and term mix of scenes/models/tme.yaml with round-number parameters, a tumour sphere in
// a cube of n^3 voxels of 20 um, and a vessel pattern. For the full-model benchmark
// (bench/model_step.cpp) and the CPU/CUDA agreement test; not a calibrated model.
#pragma once
#include "host/core/problem.hpp"

namespace tme {

namespace ref_model {
// Field indices.
enum Field : int {
  kTum,
  kDoom,
  kCd8,
  kTreg,
  kMyel,
  kIfng,
  kIl2,
  kTgfb,
  kIfn1,
  kCxcl10,
  kCcl2,
  kAg,
  kApd1,
  kApdl1,
  kActla4,
  kPdl1,
  kVes,
  kN
};
}  // namespace ref_model

// LOD with a 600 s step; globals (plasma anti-PD-1, anti-PD-L1, anti-CTLA-4 [nM], blood CD8
// [cells/mm^3]) constant at 300, 0, 50, 500.
Problem reference_tme_problem(int n);

}  // namespace tme
