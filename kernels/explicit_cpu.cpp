#include "kernels/launch.hpp"

namespace tme {
namespace {

// One species block: rows away from the walls take the branch-free interior update
// (vectorised), the wall rows and the row ends the general one-cell update.
template <bool kLabels, bool kSrc, bool kUpt>
void species_pass(const ExplicitArgs& a, int s) {
  const Dims d = a.g.d;
  const SpeciesCoeffs sc = a.coeffs[s];  // local copy: no aliasing with the output
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
      for (int i = 1; i < d.nx - 1; ++i) explicit_update_interior<kLabels, kSrc, kUpt>(a, sc, s, row + i);
      explicit_update_cell(a, s, d.nx - 1, j, k);
    }
  if (sc.hold_slot >= 0) {  // the interior fast path does not look at holds: restore them
    const long long nv = d.nvox();
    const real* h = a.hold + sc.hold_slot * nv;
    real* out = a.out + s * nv;
#pragma omp parallel for schedule(static)
    for (long long v = 0; v < nv; ++v)
      if (h[v] == h[v]) out[v] = h[v];
  }
}

}  // namespace

void explicit_step_cpu(const ExplicitArgs& a) {
  // One pass per species block keeps the stencil's neighbours in cache.
  for (int s = 0; s < a.nspecies; ++s) {
    const SpeciesCoeffs& sc = a.coeffs[s];
    const int key = (sc.uses_labels ? 4 : 0) + (sc.src_slot >= 0 ? 2 : 0) + (sc.upt_slot >= 0 ? 1 : 0);
    switch (key) {
      case 0: species_pass<false, false, false>(a, s); break;
      case 1: species_pass<false, false, true>(a, s); break;
      case 2: species_pass<false, true, false>(a, s); break;
      case 3: species_pass<false, true, true>(a, s); break;
      case 4: species_pass<true, false, false>(a, s); break;
      case 5: species_pass<true, false, true>(a, s); break;
      case 6: species_pass<true, true, false>(a, s); break;
      default: species_pass<true, true, true>(a, s); break;
    }
  }
}

}  // namespace tme
