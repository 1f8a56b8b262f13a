// The CUDA entry points of a build without the CUDA backend (compiled only then; with CUDA,
// host/core/backend_cuda.cpp defines them).
#include <stdexcept>

#include "host/core/backend.hpp"

namespace tme {

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
std::unique_ptr<Backend> make_cuda_backend() {
  throw std::runtime_error("backend 'cuda' is not available: this tmesim was built without CUDA");
}

}  // namespace tme
