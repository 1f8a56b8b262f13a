// OpenMP loops over the model's one-cell functions: coupled reactions, chemotaxis drift and
// radiotherapy fractions (kernels/terms.hpp, chemotaxis.hpp, fraction.hpp).
#include "kernels/chemotaxis.hpp"
#include "kernels/fraction.hpp"
#include "kernels/launch.hpp"
#include "kernels/terms.hpp"

namespace tme {

void react_cpu(const ReactionArgs& a, real* fields, long long nvox, real dt) {
#pragma omp parallel for schedule(dynamic, 4096)
  for (long long v = 0; v < nvox; ++v) react_voxel(a, fields, nvox, v, dt);
}

void chemotaxis_velocity_cpu(const ChemotaxisArgs& a) {
  const Dims d = a.g.d;
#pragma omp parallel for collapse(2) schedule(static)
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) chemotaxis_velocity_cell(a, i, j, k);
}

void chemotaxis_cpu(const ChemotaxisArgs& a) {
  const Dims d = a.g.d;
#pragma omp parallel for collapse(2) schedule(static)
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) chemotaxis_cell(a, i, j, k);
}

void fraction_cpu(const FractionArgs& a) {
#pragma omp parallel for schedule(static)
  for (long long v = 0; v < a.nvox; ++v) fraction_voxel(a, v);
}

}  // namespace tme
