// CUDA loops of the implicit sweeps and the reaction pass (kernels/implicit.hpp). The thread
// bodies are TME_HD functions in kernels/implicit.hpp (tests run them on the host through
// implicit_sweep_emulated).
//
// Memory access:
//   - Lines along y and z: one thread per line, neighbouring threads take neighbouring x, so
//     every load and store of a warp (field, per-line scratch in field layout) is one
//     contiguous segment; the factor table of uniform species is read by all threads of a
//     warp at the same address (broadcast).
//   - Lines along x: a thread per line would touch 32 rows per warp access (32 sectors for
//     128 useful bytes, and the line's cache lines evicted before their reuse). Instead a
//     block owns up to 32 consecutive rows: it builds their right-hand sides cooperatively
//     with x-contiguous (coalesced) accesses into a shared-memory tile, one thread per row
//     solves its row inside shared memory (odd pitch: the solving threads hit distinct banks),
//     and the block writes the tile back coalesced. The
//     per-line scratch of labelled species lives in global memory transposed ([p][row]) so
//     those accesses coalesce too. This shared-memory transpose moves the minimum bytes (read
//     once, write once) and is much simpler than parallel cyclic reduction; its solve phase
//     runs one warp per block, which is acceptable because the sweep is bandwidth bound.
#include <algorithm>
#include <stdexcept>

#include "host/core/cuda_check.hpp"
#include "kernels/launch.hpp"

namespace tme {
namespace {

constexpr int kLineBlock = 64;     // threads per block of the y/z sweeps
constexpr int kTileThreads = 128;  // threads per block of the x sweep

// Sweep along y (axis 1) or z (axis 2): thread (i, o, s) solves the line through x = i of
// plane o (k for y, j for z) of species s.
__global__ void sweep_lines_kernel(SweepArgs a) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= a.g.d.nx) return;
  sweep_line_body(a, (int)blockIdx.z, i, (int)blockIdx.y);
}

// Sweep along x: block (b, s) owns rows [b R, b R + R) of species s (row = j + ny k).
__global__ void sweep_x_kernel(SweepArgs a, int rows_per_block) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  real* tile = reinterpret_cast<real*>(smem_raw);  // rows_per_block x tile_pitch(nx)
  const int s = blockIdx.y, nx = a.g.d.nx;
  const long long nrows = (long long)a.g.d.ny * a.g.d.nz;
  const long long row0 = (long long)blockIdx.x * rows_per_block;
  const int nr = (int)min((long long)rows_per_block, nrows - row0);
  for (int e = threadIdx.x; e < nr * nx; e += blockDim.x) tile_load(a, s, row0, e, tile);
  __syncthreads();
  if ((int)threadIdx.x < nr) tile_solve(a, s, row0, threadIdx.x, tile);
  __syncthreads();
  for (int e = threadIdx.x; e < nr * nx; e += blockDim.x) tile_store(a, s, row0, e, tile);
}

}  // namespace

void implicit_sweep_cuda(const SweepArgs& a, CudaStream stream) {
  const Dims d = a.g.d;
  check_implicit_grid(d);
  if (a.nspecies > 65535) throw std::runtime_error("implicit_sweep_cuda: too many species");
  if (a.axis == 0) {
    const int rows = tile_rows(d.nx);
    const long long nrows = (long long)d.ny * d.nz;
    const dim3 grid((unsigned)((nrows + rows - 1) / rows), (unsigned)a.nspecies);
    const size_t smem = (size_t)rows * tile_pitch(d.nx) * sizeof(real);
    sweep_x_kernel<<<grid, kTileThreads, smem, stream>>>(a, rows);
    TME_CUDA_CHECK_LAUNCH("sweep_x_kernel");
    return;
  }
  const int outer = a.axis == 1 ? d.nz : d.ny;
  const dim3 grid((unsigned)((d.nx + kLineBlock - 1) / kLineBlock), (unsigned)outer, (unsigned)a.nspecies);
  sweep_lines_kernel<<<grid, kLineBlock, 0, stream>>>(a);
  TME_CUDA_CHECK_LAUNCH("sweep_lines_kernel");
}

}  // namespace tme
