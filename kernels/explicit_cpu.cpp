#include "kernels/launch.hpp"

namespace tme {

void explicit_step_cpu(const ExplicitArgs& a) {
  const Dims d = a.g.d;
  const int ns = a.nspecies;
  // One pass per species block keeps the stencil's neighbours in cache.
  for (int s = 0; s < ns; ++s) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int k = 0; k < d.nz; ++k)
      for (int j = 0; j < d.ny; ++j)
        for (int i = 0; i < d.nx; ++i) explicit_update_cell(a, s, i, j, k);
  }
}

}  // namespace tme
