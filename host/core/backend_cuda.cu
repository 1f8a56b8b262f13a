// CUDA backend: device-resident state owned by thrust::device_vector, kernels from
// kernels/*_cuda.cu. Only reads and writes of the whole state cross to the host.
#include <thrust/copy.h>
#include <thrust/device_vector.h>

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
    a_ = p.initial;
    b_.resize(a_.size());
    TME_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void explicit_steps(double dt, int n) override {
    ExplicitArgs args;
    args.g = geom_;
    args.nspecies = ns_;
    args.label = ptr_or_null(labels_);
    args.src = ptr_or_null(src_);
    args.upt = ptr_or_null(upt_);
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
  void read_state(std::vector<real>& out) override {
    out.resize(a_.size());
    thrust::copy(a_.begin(), a_.end(), out.begin());
  }
  void write_state(const std::vector<real>& in) override {
    if (in.size() != a_.size()) throw std::invalid_argument("write_state: wrong size");
    thrust::copy(in.begin(), in.end(), a_.begin());
  }

 private:
  std::string device_;
  GridGeom geom_;
  int ns_ = 0;
  thrust::device_vector<SpeciesCoeffs> coeffs_;  // nspecies entries
  thrust::device_vector<uint8_t> labels_;        // 1 byte per voxel, or empty
  thrust::device_vector<real> src_, upt_;        // source / uptake Vmax blocks [unit/s]
  thrust::device_vector<real> a_, b_;            // state ping-pong, nspecies * nvox each
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
