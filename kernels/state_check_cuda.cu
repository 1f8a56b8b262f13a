// CUDA reduction of the state check (kernels/state_check.hpp): each thread tests its values
// and the smallest flat index of a wrong one is kept with atomicMin; only that index (8 bytes)
// crosses to the host.
#include "host/core/cuda_check.hpp"
#include "kernels/launch.hpp"

namespace tme {
namespace {
constexpr int kBlock = 256;
}  // namespace

__global__ void state_check_kernel(StateCheckArgs a, unsigned long long* first) {
  const long long n = a.nvox * a.nspecies;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long q = (long long)blockIdx.x * blockDim.x + threadIdx.x; q < n; q += stride) {
    if (state_check_bad(a, q)) {
      atomicMin(first, (unsigned long long)q);
      return;  // later values of this thread have larger indices
    }
  }
}

long long state_check_cuda(const StateCheckArgs& a, unsigned long long* first_dev, CudaStream stream) {
  // All bytes 0xff: the word starts at ~0 ("none"), which every wrong index is below.
  TME_CUDA_CHECK(cudaMemsetAsync(first_dev, 0xff, sizeof *first_dev, stream));
  const long long n = a.nvox * a.nspecies;
  const long long want = (n + kBlock - 1) / kBlock;
  const unsigned blocks = (unsigned)(want < 4096 ? (want > 0 ? want : 1) : 4096);
  state_check_kernel<<<blocks, kBlock, 0, stream>>>(a, first_dev);
  TME_CUDA_CHECK_LAUNCH("state_check_kernel");
  unsigned long long first = ~0ull;
  TME_CUDA_CHECK(cudaMemcpyAsync(&first, first_dev, sizeof first, cudaMemcpyDeviceToHost, stream));
  TME_CUDA_CHECK(cudaStreamSynchronize(stream));  // the answer reaches the host
  return first == ~0ull ? -1 : (long long)first;
}

}  // namespace tme
