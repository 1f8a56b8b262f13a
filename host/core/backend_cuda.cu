// CUDA backend: device-resident state owned by thrust::device_vector, kernels from
// kernels/*_cuda.cu. Only reads and writes of the whole state cross to the host.
#include <thrust/copy.h>
#include <thrust/device_vector.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "host/core/backend.hpp"
#include "host/core/cuda_check.hpp"
#include "kernels/launch.hpp"

namespace tme {

bool cuda_compiled() { return true; }

bool cuda_available(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error
    if (why) *why = std::string("no CUDA device (cudaGetDeviceCount: ") + cudaGetErrorName(e) + ")";
    return false;
  }
  if (n == 0) {
    if (why) *why = "no CUDA device found";
    return false;
  }
  return true;
}

std::vector<DeviceInfo> cuda_devices() {
  std::vector<DeviceInfo> out;
  if (!cuda_available()) return out;
  int n = 0;
  TME_CUDA_CHECK(cudaGetDeviceCount(&n));
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp prop{};
    TME_CUDA_CHECK(cudaGetDeviceProperties(&prop, i));
    out.push_back({prop.name, prop.totalGlobalMem, prop.major, prop.minor});
  }
  return out;
}

bool cuda_memory(size_t* free_bytes, size_t* total_bytes, double* bandwidth, std::string* name) {
  if (!cuda_available()) return false;
  int dev = 0, clock_khz = 0, bus_bits = 0;
  TME_CUDA_CHECK(cudaGetDevice(&dev));
  TME_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
  TME_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, dev));
  TME_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
  *bandwidth = 2.0 * clock_khz * 1e3 * bus_bits / 8;  // double data rate
  cudaDeviceProp prop{};
  TME_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  *name = prop.name;
  return true;
}

namespace {

template <class T>
const T* ptr_or_null(const thrust::device_vector<T>& v) {
  return v.empty() ? nullptr : thrust::raw_pointer_cast(v.data());
}

class CudaBackend final : public Backend {
 public:
  CudaBackend() {
    int dev = 0;
    TME_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    TME_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    device_ = std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
              ", " + std::to_string(prop.totalGlobalMem >> 20) + " MiB)";
  }
  std::string name() const override { return "cuda"; }
  std::string device() const override { return device_; }
  void load(const Problem& p) override {
    p.check();
    geom_ = p.grid.geom();
    ns_ = p.nspecies();
    coeffs_ = p.coeffs;  // host vector -> device copy
    labels_ = p.labels;
    src_ = p.src;
    upt_ = p.upt;
    hold_ = p.hold;
    {
      std::vector<real> init = p.initial;
      apply_holds(p, init);
      a_ = init;
    }
    b_.resize(a_.size());
    host_coeffs_ = p.coeffs;
    cp_.clear();
    ep_.clear();
    fac_dt_ = NAN;
    reactions_ = build_local_reactions(p.model, ns_);
    terms_ = reactions_.terms;
    reactions_.args.terms = ptr_or_null(terms_);
    nglobals_ = (int)p.model.globals.size();
    double h[3] = {p.grid.h[0], p.grid.h[1], p.grid.h[2]};
    chemo_ = build_chemotaxis_args(p.model, geom_, h, host_coeffs_);
    fraction_ = build_fraction_args(p.model);
    TME_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void explicit_steps(double dt, int n) override {
    ExplicitArgs args;
    args.g = geom_;
    args.nspecies = ns_;
    args.label = ptr_or_null(labels_);
    args.src = ptr_or_null(src_);
    args.upt = ptr_or_null(upt_);
    args.hold = ptr_or_null(hold_);
    args.coeffs = ptr_or_null(coeffs_);
    args.dt = real(dt);
    for (int it = 0; it < n; ++it) {
      args.in = thrust::raw_pointer_cast(a_.data());
      args.out = thrust::raw_pointer_cast(b_.data());
      explicit_step_cuda(args);
      a_.swap(b_);
    }
    TME_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void implicit_steps(Scheme scheme, double dt, int n) override {
    if (n <= 0) return;
    check_implicit_grid(geom_.d);
    const size_t size = a_.size();
    const ImplicitScratchNeeds need = implicit_scratch_needs(scheme, host_coeffs_);
    if (need.rows && cp_.size() != size) cp_.resize(size);  // on first use
    if (need.rows_periodic && ep_.size() != size) ep_.resize(size);
    if (scheme != fac_scheme_ || dt != fac_dt_) {  // the factor tables depend on scheme and step only
      std::vector<real> f[3];  // built on the host, copied to the device
      build_all_line_factors(scheme, dt, host_coeffs_, geom_, f);
      for (int axis = 0; axis < 3; ++axis) fac_[axis] = f[axis];
      fac_scheme_ = scheme;
      fac_dt_ = dt;
    }
    SweepArgs sa;
    sa.g = geom_;
    sa.nspecies = ns_;
    sa.cp = cp_.empty() ? nullptr : thrust::raw_pointer_cast(cp_.data());
    sa.ep = ep_.empty() ? nullptr : thrust::raw_pointer_cast(ep_.data());
    sa.label = ptr_or_null(labels_);
    sa.src = ptr_or_null(src_);
    sa.upt = ptr_or_null(upt_);
    sa.hold = ptr_or_null(hold_);
    sa.coeffs = ptr_or_null(coeffs_);
    const real* fac[3] = {ptr_or_null(fac_[0]), ptr_or_null(fac_[1]), ptr_or_null(fac_[2])};
    run_implicit_steps(scheme, dt, n, sa, fac, thrust::raw_pointer_cast(a_.data()),
                       thrust::raw_pointer_cast(b_.data()), implicit_sweep_cuda);
    TME_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void react(double dt, const std::vector<double>& globals) override {
    if (reactions_.args.nterms == 0) return;
    ReactionArgs args = reactions_.args;
    set_globals(args, globals, nglobals_);
    react_cuda(args, thrust::raw_pointer_cast(a_.data()), geom_.d.nvox(), real(dt));
    TME_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void chemotaxis(double dt) override {
    const long long nv = geom_.d.nvox();
    if (!chemo_.empty() && vel_.size() != size_t(3 * nv)) vel_.resize(3 * nv);  // on first use
    auto copy = [](const real* src, real* dst, long long n) {  // chemotaxis_copy_back, device to device
      TME_CUDA_CHECK(cudaMemcpy(dst, src, size_t(n) * sizeof(real), cudaMemcpyDeviceToDevice));
    };
    for (const ChemotaxisArgs& args : chemo_)
      run_chemotaxis_pass(args, dt, thrust::raw_pointer_cast(a_.data()), thrust::raw_pointer_cast(b_.data()),
                          thrust::raw_pointer_cast(vel_.data()), chemotaxis_velocity_cuda, chemotaxis_cuda, copy);
    TME_CUDA_CHECK(cudaDeviceSynchronize());
  }

  void apply_fraction(const std::vector<real>& dose) override {
    if ((long long)dose.size() != geom_.d.nvox()) throw std::invalid_argument("apply_fraction: one dose per voxel expected");
    dose_ = dose;  // fraction_dose buffer, host -> device
    FractionArgs args = fraction_;
    args.fields = thrust::raw_pointer_cast(a_.data());
    args.nvox = geom_.d.nvox();
    args.dose = thrust::raw_pointer_cast(dose_.data());
    fraction_cuda(args);
    TME_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void read_state(std::vector<real>& out) override {
    out.resize(a_.size());
    thrust::copy(a_.begin(), a_.end(), out.begin());
  }
  void write_state(const std::vector<real>& in) override {
    if (in.size() != a_.size()) throw std::invalid_argument("write_state: wrong size");
    thrust::copy(in.begin(), in.end(), a_.begin());
  }
  long long first_bad_value(const std::vector<real>& lower, const std::vector<real>& upper) override {
    if (check_first_.empty()) check_first_.resize(1);  // state_check_first: one 8-byte word
    const StateCheckArgs args =
        state_check_args(thrust::raw_pointer_cast(a_.data()), geom_.d.nvox(), ns_, lower, upper);
    return state_check_cuda(args, thrust::raw_pointer_cast(check_first_.data()));
  }

 private:
  std::string device_;
  GridGeom geom_;
  int ns_ = 0;
  thrust::device_vector<SpeciesCoeffs> coeffs_;  // nspecies entries
  thrust::device_vector<uint8_t> labels_;        // 1 byte per voxel, or empty
  thrust::device_vector<real> src_, upt_;        // source / uptake Vmax blocks [unit/s]
  thrust::device_vector<real> hold_;             // held-value blocks [unit] (NaN = free), 4 bytes/voxel
  thrust::device_vector<real> a_, b_;            // state ping-pong, nspecies * nvox each
  std::vector<SpeciesCoeffs> host_coeffs_;       // host copy (factor tables, feature flags)
  thrust::device_vector<real> cp_, ep_;          // implicit per-line scratch, nspecies * nvox
  thrust::device_vector<real> fac_[3];           // implicit factor tables per axis
  Scheme fac_scheme_ = Scheme::kLodEuler;         // scheme and step [s] the tables were built for
  double fac_dt_ = NAN;
  LocalReactions reactions_;                  // term table in local slots (host copy)
  thrust::device_vector<Term> terms_;          // reaction_terms: the same table on the device
  int nglobals_ = 0;
  std::vector<ChemotaxisArgs> chemo_;          // one pass per moving population
  thrust::device_vector<real> vel_;            // chemotaxis_face_drift: 3 * nvox (12 bytes/voxel)
  FractionArgs fraction_;                      // fraction template (pointers set per call)
  thrust::device_vector<real> dose_;           // fraction_dose [Gy], nvox (4 bytes per voxel)
  thrust::device_vector<unsigned long long> check_first_;  // state check result (8 bytes)
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

double cuda_copy_seconds(size_t bytes, int reps) {
  thrust::device_vector<char> src(bytes, 1), dst(bytes);  // copy_src, copy_dst
  cudaEvent_t t0, t1;
  TME_CUDA_CHECK(cudaEventCreate(&t0));
  TME_CUDA_CHECK(cudaEventCreate(&t1));
  char* d = thrust::raw_pointer_cast(dst.data());
  const char* s = thrust::raw_pointer_cast(src.data());
  TME_CUDA_CHECK(cudaMemcpy(d, s, bytes, cudaMemcpyDeviceToDevice));  // warm-up
  TME_CUDA_CHECK(cudaEventRecord(t0));
  for (int r = 0; r < reps; ++r) TME_CUDA_CHECK(cudaMemcpyAsync(d, s, bytes, cudaMemcpyDeviceToDevice));
  TME_CUDA_CHECK(cudaEventRecord(t1));
  TME_CUDA_CHECK(cudaEventSynchronize(t1));
  float ms = 0;
  TME_CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
  TME_CUDA_CHECK(cudaEventDestroy(t0));
  TME_CUDA_CHECK(cudaEventDestroy(t1));
  return ms * 1e-3 / reps;
}

}  // namespace tme
