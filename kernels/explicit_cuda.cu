#include <stdexcept>

#include "host/core/cuda_check.hpp"
#include "kernels/launch.hpp"

namespace tme {

// One thread per voxel; blockIdx.z enumerates (k, species). x fastest for coalescing.
__global__ void explicit_step_kernel(ExplicitArgs a) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int j = blockIdx.y * blockDim.y + threadIdx.y;
  const int k = blockIdx.z % a.g.d.nz;
  const int s = blockIdx.z / a.g.d.nz;
  if (i >= a.g.d.nx || j >= a.g.d.ny) return;
  explicit_update_cell(a, s, i, j, k);
}

void explicit_step_cuda(const ExplicitArgs& a) {
  const dim3 block(64, 4, 1);
  const long long zs = (long long)a.g.d.nz * a.nspecies;
  if (zs > 65535) throw std::runtime_error("explicit_step_cuda: nz * nspecies exceeds 65535");
  const dim3 grid((a.g.d.nx + block.x - 1) / block.x, (a.g.d.ny + block.y - 1) / block.y, (unsigned)zs);
  explicit_step_kernel<<<grid, block>>>(a);
  TME_CUDA_CHECK_LAUNCH("explicit_step_kernel");
}

}  // namespace tme
