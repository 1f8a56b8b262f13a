// RawDeviceBuffer (kernels/device_buffer.hpp): compiled with the host compiler against the CUDA
// runtime, only in builds with the CUDA backend.
#include <cuda_runtime.h>

#include <cstdio>
#include <stdexcept>

#include "kernels/device_buffer.hpp"

namespace tme {

std::string describe_device_buffer(const std::string& label, size_t bytes) {
  char size[32];
  std::snprintf(size, sizeof size, "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return "cuda buffer '" + label + "' (" + size + ")";
}

void RawDeviceBuffer::allocate(size_t bytes) {
  release();
  if (bytes == 0) return;
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the error so that later calls do not report it again
    throw std::runtime_error(describe_device_buffer(label_, bytes) + ": cudaMalloc: " + cudaGetErrorString(e));
  }
  ptr_ = p;
  bytes_ = bytes;
}

void RawDeviceBuffer::release() noexcept {
  if (ptr_) {
    // A failure here (a sticky error from an earlier kernel) cannot be thrown from a
    // destructor; the error is reported by the next checked call.
    cudaFree(ptr_);
  }
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace tme
