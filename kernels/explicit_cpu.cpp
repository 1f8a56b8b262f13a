#include "kernels/launch.hpp"

namespace tme {

void explicit_step_cpu(const ExplicitArgs& a) {
  const Dims d = a.g.d;
  // One pass per species block keeps the stencil's neighbours in cache. Rows away from the
  // walls take the branch-free interior update, which the compiler vectorises.
  for (int s = 0; s < a.nspecies; ++s) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int k = 0; k < d.nz; ++k)
      for (int j = 0; j < d.ny; ++j) {
        const bool interior_row = j > 0 && k > 0 && j < d.ny - 1 && k < d.nz - 1 && d.nx > 2;
        if (!interior_row) {
          for (int i = 0; i < d.nx; ++i) explicit_update_cell(a, s, i, j, k);
          continue;
        }
        explicit_update_cell(a, s, 0, j, k);
        const long long row = d.index(0, j, k);
#pragma omp simd
        for (int i = 1; i < d.nx - 1; ++i) explicit_update_interior(a, s, row + i);
        explicit_update_cell(a, s, d.nx - 1, j, k);
      }
  }
}

}  // namespace tme
