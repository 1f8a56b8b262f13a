// The generic voxel loop: runs a one-cell functor (an "op") at every voxel of a grid, on the
// host as an inline OpenMP loop, on the device as one checked CUDA launch on the caller's
// stream. Two forms:
//   parallel_for(exec, n, op)     op(long long v) for v in [0, n)     (flat voxel index)
//   parallel_for(exec, dims, op)  op(int i, int j, int k) per cell    (x fastest)
// An op is a small struct holding its arguments by value (it is copied to the device as a
// kernel parameter) with a TME_HD const operator(); every call must write only its own
// voxel(s), so the result does not depend on the order or the partition.
//
// Host: the loops are defined here, so a host file that includes an op's header can run it.
// The static schedule is the default; an op whose work varies from voxel to voxel (the
// reaction integrator's adaptive sub-steps) asks for a dynamic one with a member
// `static constexpr long long kHostChunk` (voxels per chunk).
//
// Device: the CUDA form is only declared here. Its one definition is in
// kernels/parallel_for_cuda.cu, the only file compiled by nvcc for these ops, which
// instantiates it for every op listed in kernels/ops.def. The files that call it (the CUDA
// backend, host compiler) need neither the definition nor nvcc; an op missing from the list
// is a link error naming parallel_for<Op>.
#pragma once
#include <type_traits>

#include "tme_hd.hpp"
#include "view.hpp"

namespace tme {

// Execution handles. HostExec: OpenMP loops on the calling thread; they return when the work
// is done.
struct HostExec {};

// Loops over fewer voxels than this run on the calling thread: waking the OpenMP team costs
// more than they do (with passive waiting, the default, tens of microseconds per loop; the
// coarse multigrid levels of kernels/backward_euler.hpp run many such loops per step).
constexpr long long kHostSerialBelow = 32768;

template <class Op, class = void>
struct HostChunk : std::integral_constant<long long, 0> {};  // 0: static schedule
template <class Op>
struct HostChunk<Op, std::void_t<decltype(Op::kHostChunk)>> : std::integral_constant<long long, Op::kHostChunk> {};

template <class Op>
inline void parallel_for(HostExec, long long n, const Op& op) {
  if constexpr (HostChunk<Op>::value > 0) {
#pragma omp parallel for schedule(dynamic, HostChunk <Op>::value) if (n >= kHostSerialBelow)
    for (long long v = 0; v < n; ++v) op(v);
  } else {
#pragma omp parallel for schedule(static) if (n >= kHostSerialBelow)
    for (long long v = 0; v < n; ++v) op(v);
  }
}

// Planes and rows are shared out (static), each row runs along x on one thread.
template <class Op>
inline void parallel_for(HostExec, const Dims& d, const Op& op) {
#pragma omp parallel for collapse(2) schedule(static) if (d.nvox() >= kHostSerialBelow)
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) op(i, j, k);
}

#if defined(TMESIM_HAVE_CUDA)
// The CUDA stream type (cudaStream_t) without including the CUDA headers here.
using CudaStream = struct CUstream_st*;

// Kernels queued on one stream, in order; the host waits only where a result is read.
struct CudaExec {
  CudaStream stream = nullptr;
};

// One launch on e.stream covering every voxel whatever the grid size (a grid-stride loop
// beyond the largest grid); returns without waiting for the device. A failed launch throws
// std::runtime_error naming the op, file and line. Defined in kernels/parallel_for_cuda.cu
// for the ops of kernels/ops.def only.
template <class Op>
void parallel_for(CudaExec e, long long n, const Op& op);
template <class Op>
void parallel_for(CudaExec e, const Dims& d, const Op& op);
#endif

}  // namespace tme
