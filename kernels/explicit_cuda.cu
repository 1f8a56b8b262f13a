#include "host/core/cuda_check.hpp"
#include "kernels/explicit_launch.hpp"
#include "kernels/launch.hpp"

namespace tme {

// One thread per voxel and species; blockIdx.x enumerates (x tile, k, species)
// (kernels/explicit_launch.hpp). x fastest for coalescing.
__global__ void explicit_step_kernel(ExplicitArgs a, ExplicitLaunch l) {
  const ExplicitCell c = explicit_cell(l, blockIdx.x, blockIdx.y, threadIdx.x, threadIdx.y);
  if (c.i >= a.g.d.nx || c.j >= a.g.d.ny) return;
  explicit_update_cell(a, c.s, c.i, c.j, c.k);
}

void explicit_step_cuda(const ExplicitArgs& a, CudaStream stream) {
  const ExplicitLaunch l = explicit_launch(a.g.d, a.nspecies);
  if (l.grid_x == 0 || l.grid_y == 0) return;  // empty grid or no species
  const dim3 block(ExplicitLaunch::kBlockX, ExplicitLaunch::kBlockY, 1);
  explicit_step_kernel<<<dim3(l.grid_x, l.grid_y, 1), block, 0, stream>>>(a, l);
  TME_CUDA_CHECK_LAUNCH("explicit_step_kernel");
}

}  // namespace tme
