// Backend choice by name (host/core/backend.hpp).
#include "host/core/backend.hpp"

#include <stdexcept>

namespace tme {

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
