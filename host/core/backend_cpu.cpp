#include <omp.h>

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
    geom_ = p.grid.geom();
    ns_ = p.nspecies();
    coeffs_ = p.coeffs;
    labels_ = p.labels;
    src_ = p.src;
    upt_ = p.upt;
    a_ = p.initial;
    b_.assign(a_.size(), real(0));
  }
  void explicit_steps(double dt, int n) override {
    ExplicitArgs args;
    args.g = geom_;
    args.nspecies = ns_;
    args.label = labels_.empty() ? nullptr : labels_.data();
    args.src = src_.empty() ? nullptr : src_.data();
    args.upt = upt_.empty() ? nullptr : upt_.data();
    args.coeffs = coeffs_.data();
    args.dt = real(dt);
    for (int it = 0; it < n; ++it) {
      args.in = a_.data();
      args.out = b_.data();
      explicit_step_cpu(args);
      std::swap(a_, b_);
    }
  }
  void read_state(std::vector<real>& out) override { out = a_; }
  void write_state(const std::vector<real>& in) override {
    if (in.size() != a_.size()) throw std::invalid_argument("write_state: wrong size");
    a_ = in;
  }

 private:
  GridGeom geom_;
  int ns_ = 0;
  std::vector<SpeciesCoeffs> coeffs_;
  std::vector<uint8_t> labels_;  // 1 byte per voxel
  std::vector<real> src_, upt_;  // source and uptake blocks
  std::vector<real> a_, b_;      // state ping-pong: nspecies * nvox each
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
