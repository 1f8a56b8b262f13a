// The operations with loops of their own (not the generic voxel loop of
// kernels/parallel_for.hpp, which runs the point-wise ops of kernels/ops.def): an OpenMP loop
// (kernels/*_cpu.cpp) and a CUDA kernel launcher (kernels/*_cuda.cu) per operation, both
// calling the same TME_HD functions. The explicit step has its own launch shape
// (kernels/explicit_launch.hpp), the implicit sweeps run per grid line, and the state check is
// a reduction. Each operation is also reachable as one overloaded name taking an execution
// handle first (HostExec, CudaExec): the backend template (host/core/backend_impl.hpp) calls
// those, so that its sequencing is written once for both execution spaces.
#pragma once
#include <stdexcept>
#include <vector>

#include "explicit_step.hpp"
#include "implicit.hpp"
#include "parallel_for.hpp"
#include "state_check.hpp"

namespace tme {

// One fused explicit sub-step of every species: a.out = a.in + dt * rhs(a.in).
void explicit_step_cpu(const ExplicitArgs& a);

// One implicit line sweep along a.axis for every species (kernels/implicit.hpp).
void implicit_sweep_cpu(const SweepArgs& a);
// Test reference of the device logic: runs the CUDA kernels' thread bodies (sweep_line_body,
// tile_load/solve/store with the launcher's tiling) serially on the host. Needs a.cp (and a.ep
// with periodic axes) as nspecies*nvox host scratch when a species uses labels.
void implicit_sweep_emulated(const SweepArgs& a);

// Host: the factor tables of the line systems (I - theta_dt[s] (L_axis - rate[s])) of every
// species, nspecies blocks of factor_len(n) values, built with one D per species (max_D: D[0]
// without labels; with labels the ADI preconditioner, unused by LOD). theta_dt [s] and the
// diagonal reaction rate [1/s]: one value per species. Computed in double, stored in `real`.
void build_line_factors(const SpeciesCoeffs* coeffs, int nspecies, const GridGeom& g, int axis, const double* theta_dt,
                        const double* rate, std::vector<real>& out);
// Host: throws std::invalid_argument when a grid line is longer than kMaxImplicitLine.
void check_implicit_grid(const Dims& d);

// Host: the per-line scratch the sweeps of `scheme` need: `rows` when any species is solved
// line by line (per_line_species), `rows_periodic` when such a species has a periodic axis.
struct ImplicitScratchNeeds {
  bool rows = false, rows_periodic = false;
};
ImplicitScratchNeeds implicit_scratch_needs(Scheme scheme, const std::vector<SpeciesCoeffs>& coeffs);
// Host: the three axes' factor tables (build_line_factors) of every species for (scheme, dt).
void build_all_line_factors(Scheme scheme, double dt, const std::vector<SpeciesCoeffs>& coeffs, const GridGeom& g,
                            std::vector<real> out[3]);

// Flat index (species-major, s * nvox + voxel) of the first value outside its field's limits
// (state_value_bad), or -1 when every value is fine.
long long state_check_cpu(const StateCheckArgs& a);
// Host: the check's arguments for `fields` (nspecies blocks of nvox) with one limit per species.
inline StateCheckArgs state_check_args(const real* fields, long long nvox, int nspecies, const std::vector<real>& lower,
                                       const std::vector<real>& upper) {
  if ((int)lower.size() != nspecies || (int)upper.size() != nspecies || nspecies > kMaxSpecies)
    throw std::invalid_argument("state check: one lower and one upper limit per species expected");
  StateCheckArgs a;
  a.fields = fields;
  a.nvox = nvox;
  a.nspecies = nspecies;
  for (int s = 0; s < nspecies; ++s) a.lower[s] = lower[s], a.upper[s] = upper[s];
  return a;
}

// ---- Execution handles and the launchers under one name per operation ----

// HostExec, CudaExec: kernels/parallel_for.hpp.
inline void explicit_step(HostExec, const ExplicitArgs& a) { explicit_step_cpu(a); }
inline void implicit_sweep(HostExec, const SweepArgs& a) { implicit_sweep_cpu(a); }
// scratch: unused on the host (the device version keeps its atomic minimum there).
inline long long state_check(HostExec, const StateCheckArgs& a, unsigned long long*) { return state_check_cpu(a); }

#if defined(TMESIM_HAVE_CUDA)
// Device versions: all pointers are device pointers (a.terms and a.coeffs too). Each launch
// is queued on `stream` and checked; none waits for the device, except state_check_cuda,
// which brings its answer to the host.
void explicit_step_cuda(const ExplicitArgs& a, CudaStream stream);
void implicit_sweep_cuda(const SweepArgs& a, CudaStream stream);
// The state check on the device; first_dev: one device word of scratch. Waits for the stream
// and returns the index only.
long long state_check_cuda(const StateCheckArgs& a, unsigned long long* first_dev, CudaStream stream);

inline void explicit_step(CudaExec e, const ExplicitArgs& a) { explicit_step_cuda(a, e.stream); }
inline void implicit_sweep(CudaExec e, const SweepArgs& a) { implicit_sweep_cuda(a, e.stream); }
inline long long state_check(CudaExec e, const StateCheckArgs& a, unsigned long long* scratch) {
  return state_check_cuda(a, scratch, e.stream);
}
#endif

}  // namespace tme
