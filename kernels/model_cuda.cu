// CUDA launchers over the model's one-cell functions (one thread per voxel).
#include "host/core/cuda_check.hpp"
#include "kernels/chemotaxis.hpp"
#include "kernels/fraction.hpp"
#include "kernels/launch.hpp"
#include "kernels/terms.hpp"

namespace tme {
namespace {
constexpr int kBlock = 128;
unsigned blocks_for(long long n) { return (unsigned)((n + kBlock - 1) / kBlock); }
}  // namespace

__global__ void react_kernel(ReactionArgs a, real* fields, long long nvox, real dt) {
  const long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (v < nvox) react_voxel(a, fields, nvox, v, dt);
}

__global__ void chemotaxis_kernel(ChemotaxisArgs a) {
  const long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const Dims d = a.g.d;
  if (v >= d.nvox()) return;
  const int i = (int)(v % d.nx), j = (int)((v / d.nx) % d.ny), k = (int)(v / ((long long)d.nx * d.ny));
  chemotaxis_cell(a, i, j, k);
}

__global__ void chemotaxis_velocity_kernel(ChemotaxisArgs a) {
  const long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const Dims d = a.g.d;
  if (v >= d.nvox()) return;
  const int i = (int)(v % d.nx), j = (int)((v / d.nx) % d.ny), k = (int)(v / ((long long)d.nx * d.ny));
  chemotaxis_velocity_cell(a, i, j, k);
}

__global__ void fraction_kernel(FractionArgs a) {
  const long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (v < a.nvox) fraction_voxel(a, v);
}

void react_cuda(const ReactionArgs& a, real* fields, long long nvox, real dt, CudaStream stream) {
  if (nvox == 0) return;
  react_kernel<<<blocks_for(nvox), kBlock, 0, stream>>>(a, fields, nvox, dt);
  TME_CUDA_CHECK_LAUNCH("react_kernel");
}

void chemotaxis_cuda(const ChemotaxisArgs& a, CudaStream stream) {
  if (a.g.d.nvox() == 0) return;
  chemotaxis_kernel<<<blocks_for(a.g.d.nvox()), kBlock, 0, stream>>>(a);
  TME_CUDA_CHECK_LAUNCH("chemotaxis_kernel");
}

void chemotaxis_velocity_cuda(const ChemotaxisArgs& a, CudaStream stream) {
  if (a.g.d.nvox() == 0) return;
  chemotaxis_velocity_kernel<<<blocks_for(a.g.d.nvox()), kBlock, 0, stream>>>(a);
  TME_CUDA_CHECK_LAUNCH("chemotaxis_velocity_kernel");
}

void fraction_cuda(const FractionArgs& a, CudaStream stream) {
  if (a.nvox == 0) return;
  fraction_kernel<<<blocks_for(a.nvox), kBlock, 0, stream>>>(a);
  TME_CUDA_CHECK_LAUNCH("fraction_kernel");
}

}  // namespace tme
