// Thin loops over the one-cell functions: an OpenMP loop (kernels/*_cpu.cpp) and a CUDA
// kernel launcher (kernels/*_cuda.cu) per operation. Both call the same TME_HD functions.
#pragma once
#include "explicit_step.hpp"

namespace tme {

// One fused explicit sub-step of every species: a.out = a.in + dt * rhs(a.in).
void explicit_step_cpu(const ExplicitArgs& a);

#if defined(TMESIM_HAVE_CUDA)
// Same on the device; all pointers in `a` are device pointers. Checks the launch.
void explicit_step_cuda(const ExplicitArgs& a);
#endif

}  // namespace tme
