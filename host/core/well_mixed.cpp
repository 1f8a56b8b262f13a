#include "host/core/well_mixed.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace tme {

namespace {

bool inside(const uint8_t* over, long long i) { return !over || over[i] != 0; }

// Mean over the averaged voxels of `values` (nvox), accumulated in double.
real mean_of(const real* values, long long nvox, const uint8_t* over, long long count) {
  double s = 0;
  for (long long i = 0; i < nvox; ++i)
    if (inside(over, i)) s += values[i];
  return real(s / (double)count);
}

}  // namespace

std::vector<uint8_t> well_mixed_mask(const Problem& p, const uint8_t* over, const std::vector<uint8_t>& mask) {
  const long long n = p.grid.nvox();
  long long count = 0, in = 0;
  for (long long i = 0; i < n; ++i)
    if (inside(over, i)) ++count, in += mask[i] ? 1 : 0;
  return {uint8_t(2 * in > count ? 1 : 0)};
}

Problem well_mixed_problem(const Problem& p, const uint8_t* over) {
  const long long n = p.grid.nvox();
  long long count = 0;
  for (long long i = 0; i < n; ++i) count += inside(over, i) ? 1 : 0;
  if (count == 0) throw std::invalid_argument("well-mixed: the part to average over has no voxel");
  if (p.nhold > 0)
    throw std::invalid_argument(
        "well-mixed: the problem holds voxels at fixed values (held values), which one voxel cannot keep");

  Problem w = p;
  w.grid.d = Dims{1, 1, 1};
  // The voxel's volume is the averaged part's: the whole box, or count voxels (scaled alike).
  const double scale = over ? std::cbrt((double)count) : 0;
  const int dims[3] = {p.grid.d.nx, p.grid.d.ny, p.grid.d.nz};
  for (int a = 0; a < 3; ++a) w.grid.h[a] = over ? p.grid.h[a] * scale : p.grid.h[a] * dims[a];

  w.initial.assign(p.nspecies(), real(0));
  for (int s = 0; s < p.nspecies(); ++s) w.initial[s] = mean_of(p.initial.data() + (size_t)s * n, n, over, count);
  w.src.assign(p.nsrc, real(0));
  for (int b = 0; b < p.nsrc; ++b) w.src[b] = mean_of(p.src.data() + (size_t)b * n, n, over, count);
  w.upt.assign(p.nupt, real(0));
  for (int b = 0; b < p.nupt; ++b) w.upt[b] = mean_of(p.upt.data() + (size_t)b * n, n, over, count);

  if (!p.labels.empty()) {  // the most common label of the part (lowest on a tie)
    std::vector<long long> votes(256, 0);
    for (long long i = 0; i < n; ++i)
      if (inside(over, i)) ++votes[p.labels[i]];
    int best = 0;
    for (int l = 1; l < 256; ++l)
      if (votes[l] > votes[best]) best = l;
    w.labels.assign(1, uint8_t(best));
  }
  for (SpeciesCoeffs& c : w.coeffs) {
    for (real& d : c.D) d = 0;
    c.uses_labels = 0;
    for (FaceBC& f : c.bc) f = FaceBC{};  // no-flux
  }
  for (size_t r = 0; r < p.regions.size(); ++r) w.regions[r].mask = well_mixed_mask(p, over, p.regions[r].mask);
  w.model.chemotaxis.clear();
  for (size_t q = 0; q < p.model.plans.size(); ++q)
    w.model.plans[q].dose.assign(1, mean_of(p.model.plans[q].dose.data(), n, over, count));
  w.check();
  return w;
}

}  // namespace tme
