// The CUDA form of the generic voxel loop (kernels/parallel_for.hpp): one kernel template,
// one thread per voxel, instantiated here for every op of kernels/ops.def. The only nvcc
// translation unit of those ops; the callers (host/core/backend_cuda.cpp) are compiled by the
// host compiler and link against these instantiations.
#include <algorithm>
#include <string>

#include "host/core/cuda_check.hpp"
#include "kernels/parallel_for.hpp"

// The op headers (the #include lines of the list); the op lines expand to nothing here.
#define TME_VOXEL_OP(Op)
#define TME_CELL_OP(Op)
#include "kernels/ops.def"
#undef TME_VOXEL_OP
#undef TME_CELL_OP

namespace tme {
namespace {

constexpr int kBlock = 128;
// Blocks of one launch: one thread per voxel up to the largest grid.x (2^31 - 1, compute
// capability 3.0 and later); the kernels' grid-stride loops cover anything beyond.
constexpr long long kMaxBlocks = 2147483647LL;

unsigned blocks_for(long long n) { return (unsigned)std::min((n + kBlock - 1) / kBlock, kMaxBlocks); }

template <class Op>
__global__ void voxel_kernel(Op op, long long n) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x; v < n; v += stride) op(v);
}

template <class Op>
__global__ void cell_kernel(Op op, Dims d) {
  const long long n = d.nvox(), stride = (long long)gridDim.x * blockDim.x;
  for (long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x; v < n; v += stride) {
    const int i = (int)(v % d.nx), j = (int)((v / d.nx) % d.ny), k = (int)(v / ((long long)d.nx * d.ny));
    op(i, j, k);
  }
}

// The op's name for launch errors, from the list.
template <class Op>
struct OpName;
#define TME_VOXEL_OP(Op)                      \
  template <>                                 \
  struct OpName<Op> {                         \
    static constexpr const char* value = #Op; \
  };
#define TME_CELL_OP(Op) TME_VOXEL_OP(Op)
#include "kernels/ops.def"
#undef TME_VOXEL_OP
#undef TME_CELL_OP

// As TME_CUDA_CHECK_LAUNCH, with the op's name and the launch size in the message.
template <class Op>
void check_launch(const char* form, long long n, const char* file, int line) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    const std::string call =
        std::string("launch of ") + form + "<" + OpName<Op>::value + "> over " + std::to_string(n) + " voxels";
    cuda_throw(e, call.c_str(), file, line);
  }
}

}  // namespace

template <class Op>
void parallel_for(CudaExec e, long long n, const Op& op) {
  if (n <= 0) return;
  voxel_kernel<<<blocks_for(n), kBlock, 0, e.stream>>>(op, n);
  check_launch<Op>("parallel_for", n, __FILE__, __LINE__);
}

template <class Op>
void parallel_for(CudaExec e, const Dims& d, const Op& op) {
  const long long n = d.nvox();
  if (n <= 0) return;
  cell_kernel<<<blocks_for(n), kBlock, 0, e.stream>>>(op, d);
  check_launch<Op>("parallel_for(cells)", n, __FILE__, __LINE__);
}

// The instantiations.
#define TME_VOXEL_OP(Op) template void parallel_for<Op>(CudaExec, long long, const Op&);
#define TME_CELL_OP(Op) template void parallel_for<Op>(CudaExec, const Dims&, const Op&);
#include "kernels/ops.def"
#undef TME_VOXEL_OP
#undef TME_CELL_OP

}  // namespace tme
