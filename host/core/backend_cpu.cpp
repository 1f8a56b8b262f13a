#include <omp.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "host/core/backend.hpp"
#include "kernels/launch.hpp"

namespace tme {
namespace {

// CPU backend: state in host memory, OpenMP loops over the shared one-cell functions.
class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  std::string device() const override {
    return std::to_string(omp_get_max_threads()) + " OpenMP threads";
  }
  void load(const Problem& p) override {
    p.check();
#if defined(__SSE__)
    // Flush denormals to zero in every OpenMP thread (FTZ and DAZ bits of MXCSR): fields that
    // decay toward zero (a 12-min half-life cytokine between fractions) would otherwise sit in
    // float denormals, which x86 processes 10-100x slower. GPUs flush in their fast paths too.
#pragma omp parallel
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
    geom_ = p.grid.geom();
    ns_ = p.nspecies();
    coeffs_ = p.coeffs;
    labels_ = p.labels;
    src_ = p.src;
    upt_ = p.upt;
    hold_ = p.hold;
    a_ = p.initial;
    apply_holds(p, a_);
    b_.assign(a_.size(), real(0));
    cp_.clear();
    ep_.clear();
    fac_dt_ = NAN;
    reactions_ = build_local_reactions(p.model, ns_);
    reactions_.args.terms = reactions_.terms.data();
    nglobals_ = (int)p.model.globals.size();
    double h[3] = {p.grid.h[0], p.grid.h[1], p.grid.h[2]};
    chemo_ = build_chemotaxis_args(p.model, geom_, h, coeffs_);
    fraction_ = build_fraction_args(p.model);
  }
  void react(double dt, const std::vector<double>& globals) override {
    if (reactions_.args.nterms == 0) return;
    ReactionArgs args = reactions_.args;
    set_globals(args, globals, nglobals_);
    react_cpu(args, a_.data(), geom_.d.nvox(), real(dt));
  }
  void chemotaxis(double dt) override {
    const long long nv = geom_.d.nvox();
    if (!chemo_.empty() && vel_.size() != size_t(3 * nv)) vel_.assign(3 * nv, real(0));  // on first use
    auto copy = [](const real* src, real* dst, long long n) { std::copy(src, src + n, dst); };
    for (const ChemotaxisArgs& args : chemo_)
      run_chemotaxis_pass(args, dt, a_.data(), b_.data(), vel_.data(), chemotaxis_velocity_cpu, chemotaxis_cpu, copy);
  }

  void apply_fraction(const std::vector<real>& dose) override {
    if ((long long)dose.size() != geom_.d.nvox()) throw std::invalid_argument("apply_fraction: one dose per voxel expected");
    FractionArgs args = fraction_;
    args.fields = a_.data();
    args.nvox = geom_.d.nvox();
    args.dose = dose.data();
    fraction_cpu(args);
  }
  void explicit_steps(double dt, int n) override {
    ExplicitArgs args;
    args.g = geom_;
    args.nspecies = ns_;
    args.label = labels_.empty() ? nullptr : labels_.data();
    args.src = src_.empty() ? nullptr : src_.data();
    args.upt = upt_.empty() ? nullptr : upt_.data();
    args.hold = hold_.empty() ? nullptr : hold_.data();
    args.coeffs = coeffs_.data();
    args.dt = real(dt);
    for (int it = 0; it < n; ++it) {
      args.in = a_.data();
      args.out = b_.data();
      explicit_step_cpu(args);
      std::swap(a_, b_);
    }
  }
  void implicit_steps(Scheme scheme, double dt, int n) override {
    if (n <= 0) return;
    check_implicit_grid(geom_.d);
    const size_t size = a_.size();
    const ImplicitScratchNeeds need = implicit_scratch_needs(scheme, coeffs_);
    if (need.rows && cp_.size() != size) cp_.assign(size, real(0));  // on first use
    if (need.rows_periodic && ep_.size() != size) ep_.assign(size, real(0));
    if (scheme != fac_scheme_ || dt != fac_dt_) {  // the factor tables depend on scheme and step only
      build_all_line_factors(scheme, dt, coeffs_, geom_, fac_);
      fac_scheme_ = scheme;
      fac_dt_ = dt;
    }
    SweepArgs sa;
    sa.g = geom_;
    sa.nspecies = ns_;
    sa.cp = cp_.empty() ? nullptr : cp_.data();
    sa.ep = ep_.empty() ? nullptr : ep_.data();
    sa.label = labels_.empty() ? nullptr : labels_.data();
    sa.src = src_.empty() ? nullptr : src_.data();
    sa.upt = upt_.empty() ? nullptr : upt_.data();
    sa.hold = hold_.empty() ? nullptr : hold_.data();
    sa.coeffs = coeffs_.data();
    const real* fac[3] = {fac_[0].data(), fac_[1].data(), fac_[2].data()};
    run_implicit_steps(scheme, dt, n, sa, fac, a_.data(), b_.data(), implicit_sweep_cpu);
  }
  void read_state(std::vector<real>& out) override { out = a_; }
  void write_state(const std::vector<real>& in) override {
    if (in.size() != a_.size()) throw std::invalid_argument("write_state: wrong size");
    a_ = in;
  }
  long long first_bad_value(const std::vector<real>& lower, const std::vector<real>& upper) override {
    return state_check_cpu(state_check_args(a_.data(), geom_.d.nvox(), ns_, lower, upper));
  }

 private:
  GridGeom geom_;
  int ns_ = 0;
  std::vector<SpeciesCoeffs> coeffs_;
  std::vector<uint8_t> labels_;  // 1 byte per voxel
  std::vector<real> src_, upt_;  // source and uptake blocks
  std::vector<real> hold_;       // held-value blocks (NaN = free)
  std::vector<real> a_, b_;      // state ping-pong: nspecies * nvox each
  std::vector<real> cp_, ep_;    // implicit per-line scratch (per_line species), nspecies * nvox
  std::vector<real> fac_[3];     // implicit factor tables per axis, built on the host
  Scheme fac_scheme_ = Scheme::kLodEuler;  // scheme and step [s] the tables were built for
  double fac_dt_ = NAN;
  LocalReactions reactions_;            // term table in local slots
  int nglobals_ = 0;
  std::vector<ChemotaxisArgs> chemo_;   // one pass per moving population
  std::vector<real> vel_;               // chemotaxis face drifts, 3 * nvox (12 bytes per voxel)
  FractionArgs fraction_;               // fraction template (pointers set per call)
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

#if !defined(TMESIM_HAVE_CUDA)
bool cuda_compiled() { return false; }
bool cuda_available(std::string* why) {
  if (why) *why = "this tmesim was built without the CUDA backend";
  return false;
}
std::vector<DeviceInfo> cuda_devices() { return {}; }
bool cuda_memory(size_t*, size_t*, double*, std::string*) { return false; }
double cuda_copy_seconds(size_t, int) {
  throw std::runtime_error("cuda_copy_seconds: this tmesim was built without CUDA");
}
#endif

std::unique_ptr<Backend> make_cuda_backend();  // backend_cuda.cu (or the stub below)
#if !defined(TMESIM_HAVE_CUDA)
std::unique_ptr<Backend> make_cuda_backend() {
  throw std::runtime_error("backend 'cuda' is not available: this tmesim was built without CUDA");
}
#endif

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "cpu") return make_cpu_backend();
  if (name == "cuda") {
    std::string why;
    if (!cuda_available(&why)) throw std::runtime_error("backend 'cuda' is not available: " + why);
    return make_cuda_backend();
  }
  if (name == "auto") return cuda_available() ? make_cuda_backend() : make_cpu_backend();
  throw std::runtime_error("unknown backend '" + name + "' (expected auto, cpu or cuda)");
}

}  // namespace tme
