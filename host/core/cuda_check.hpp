// Checked CUDA calls: failures throw std::runtime_error naming the call, file and line.
#pragma once
#if defined(TMESIM_HAVE_CUDA)
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace tme {
inline void cuda_throw(cudaError_t e, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                           cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}
}  // namespace tme

#define TME_CUDA_CHECK(call)                                                             \
  do {                                                                                   \
    const cudaError_t tme_err_ = (call);                                                 \
    if (tme_err_ != cudaSuccess) ::tme::cuda_throw(tme_err_, #call, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: launch-configuration errors now, execution errors at the next sync.
#define TME_CUDA_CHECK_LAUNCH(kernel_name)                                                                  \
  do {                                                                                                      \
    const cudaError_t tme_err_ = cudaGetLastError();                                                        \
    if (tme_err_ != cudaSuccess) ::tme::cuda_throw(tme_err_, "launch of " kernel_name, __FILE__, __LINE__); \
  } while (0)
#endif
