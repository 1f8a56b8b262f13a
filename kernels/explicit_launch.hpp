// Launch configuration of the explicit CUDA kernel as a pure host function, so that a CPU test
// can check it for any grid. Blocks of 64 x 4 threads tile (x, y); species and z-planes are
// folded into grid.x together with the x tiles (grid.x may reach 2^31 - 1, grid.y and grid.z
// only 65535), so nz * nspecies has no limit of its own. x stays fastest for coalescing.
#pragma once
#include <stdexcept>
#include <string>

#include "kernels/view.hpp"

namespace tme {

struct ExplicitLaunch {
  static constexpr unsigned kBlockX = 64, kBlockY = 4;
  unsigned grid_x = 0, grid_y = 0;  // grid.z = 1
  unsigned tiles_x = 0;             // x tiles per (z-plane, species)
  int nz = 0;
};

// Largest grid dimensions CUDA accepts (compute capability 3.0 and later).
constexpr long long kCudaMaxGridX = 2147483647LL, kCudaMaxGridY = 65535;

// Throws std::invalid_argument when the grid cannot be covered within CUDA's limits.
inline ExplicitLaunch explicit_launch(const Dims& d, int nspecies) {
  ExplicitLaunch l;
  const long long tiles_x = (d.nx + ExplicitLaunch::kBlockX - 1) / ExplicitLaunch::kBlockX;
  const long long gx = tiles_x * d.nz * nspecies;
  const long long gy = (d.ny + ExplicitLaunch::kBlockY - 1) / ExplicitLaunch::kBlockY;
  if (gx > kCudaMaxGridX || gy > kCudaMaxGridY)
    throw std::invalid_argument("explicit step: grid " + std::to_string(d.nx) + " x " + std::to_string(d.ny) + " x " +
                                std::to_string(d.nz) + " with " + std::to_string(nspecies) +
                                " species exceeds the CUDA launch limits");
  l.grid_x = (unsigned)gx;
  l.grid_y = (unsigned)gy;
  l.tiles_x = (unsigned)tiles_x;
  l.nz = d.nz;
  return l;
}

// The voxel (i, j, k) of species s that thread (tx, ty) of block (bx, by) updates; the caller
// skips i >= nx or j >= ny (partial tiles).
struct ExplicitCell {
  int i, j, k, s;
};
TME_HD inline ExplicitCell explicit_cell(const ExplicitLaunch& l, unsigned bx, unsigned by, unsigned tx, unsigned ty) {
  const unsigned tile = bx % l.tiles_x, plane = bx / l.tiles_x;  // plane = k + nz * s
  ExplicitCell c;
  c.i = int(tile * ExplicitLaunch::kBlockX + tx);
  c.j = int(by * ExplicitLaunch::kBlockY + ty);
  c.k = int(plane % unsigned(l.nz));
  c.s = int(plane / unsigned(l.nz));
  return c;
}

}  // namespace tme
