#include "host/core/node_source.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tme {

std::vector<long long> node_voxels(const GridSpec& g, const double c[3], double r) {
  if (!(r >= 0) || !std::isfinite(r)) throw std::invalid_argument("node_voxels: radius must be finite and >= 0 um");
  for (int a = 0; a < 3; ++a)
    if (!std::isfinite(c[a])) throw std::invalid_argument("node_voxels: the centre must be finite");
  const int n[3] = {g.d.nx, g.d.ny, g.d.nz};
  int hold[3];  // the voxel holding the centre
  for (int a = 0; a < 3; ++a) {
    const double u = (c[a] - g.origin[a]) / g.h[a];
    if (!(u >= 0 && u < n[a])) return {};
    hold[a] = std::min(int(std::floor(u)), n[a] - 1);
  }
  // Index range of the voxels whose centre can be within r, per axis.
  int lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    lo[a] = std::max(0, int(std::floor((c[a] - r - g.origin[a]) / g.h[a] - 0.5)));
    hi[a] = std::min(n[a] - 1, int(std::ceil((c[a] + r - g.origin[a]) / g.h[a] - 0.5)));
  }
  std::vector<long long> out;
  const double r2 = r * r;
  for (int k = lo[2]; k <= hi[2]; ++k)
    for (int j = lo[1]; j <= hi[1]; ++j)
      for (int i = lo[0]; i <= hi[0]; ++i) {
        const double dx = g.center(0, i) - c[0], dy = g.center(1, j) - c[1], dz = g.center(2, k) - c[2];
        if (dx * dx + dy * dy + dz * dz <= r2) out.push_back(g.d.index(i, j, k));
      }
  if (out.empty()) out.push_back(g.d.index(hold[0], hold[1], hold[2]));
  return out;
}

}  // namespace tme
