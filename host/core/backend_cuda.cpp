// The CUDA backend: SpaceBackend (host/core/backend_impl.hpp) over device memory
// (kernels/device_buffer.hpp) and the kernels of kernels/*_cuda.cu, queued on a non-blocking
// stream that each backend owns. Compiled with the host compiler against the CUDA runtime
// (no device code here), only in builds with the CUDA backend.
#include <cuda_runtime.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/backend_impl.hpp"
#include "host/core/cuda_check.hpp"
#include "kernels/device_buffer.hpp"

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

class CudaSpace {
 public:
  static constexpr const char* kName = "cuda";
  static constexpr bool kHostMemory = false;
  template <class T>
  using Buffer = DeviceBuffer<T>;

  CudaSpace() {
    int dev = 0;
    TME_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    TME_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    device_ = std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
              std::to_string(prop.totalGlobalMem >> 20) + " MiB)";
    // Non-blocking: no implicit ordering with the legacy default stream, so backends on other
    // threads (or other code using the default stream) do not serialise with this one.
    TME_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  CudaSpace(const CudaSpace&) = delete;
  CudaSpace& operator=(const CudaSpace&) = delete;
  ~CudaSpace() {
    cudaStreamSynchronize(stream_);  // errors of queued work cannot be thrown from here
    cudaStreamDestroy(stream_);
  }

  CudaExec exec() const { return {stream_}; }
  const std::string& device() const { return device_; }
  void prepare() {}
  template <class T>
  void allocate(Buffer<T>& b, size_t n) {
    if (b.size() == n) return;
    if (!b.empty()) sync();  // queued kernels may still use the old storage
    b.allocate(n);
  }
  // Host -> device. From pageable memory (std::vector) the call returns once the runtime has
  // taken the bytes into its own staging memory, so the source may go away afterwards (CUDA
  // runtime API, "API synchronization behavior"); the DMA itself stays queued on the stream.
  void to_space(void* dst, const void* src, size_t bytes) {
    if (bytes) TME_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
  }
  // Device -> host: a result reaches the host, so wait for the stream.
  void to_host(void* dst, const void* src, size_t bytes) {
    if (bytes) TME_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    sync();
  }
  void copy(void* dst, const void* src, size_t bytes) {
    if (bytes) TME_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
  }
  void zero(void* dst, size_t bytes) {
    if (bytes) TME_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream_));
  }
  void sync() { TME_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  std::string device_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<SpaceBackend<CudaSpace>>(); }

double cuda_copy_seconds(size_t bytes, int reps) {
  DeviceBuffer<char> src("copy_src"), dst("copy_dst");
  src.allocate(bytes);
  dst.allocate(bytes);
  TME_CUDA_CHECK(cudaMemset(src.data(), 1, bytes));
  cudaEvent_t t0, t1;
  TME_CUDA_CHECK(cudaEventCreate(&t0));
  TME_CUDA_CHECK(cudaEventCreate(&t1));
  TME_CUDA_CHECK(cudaMemcpy(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice));  // warm-up
  TME_CUDA_CHECK(cudaEventRecord(t0));
  for (int r = 0; r < reps; ++r)
    TME_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice));
  TME_CUDA_CHECK(cudaEventRecord(t1));
  TME_CUDA_CHECK(cudaEventSynchronize(t1));
  float ms = 0;
  TME_CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
  TME_CUDA_CHECK(cudaEventDestroy(t0));
  TME_CUDA_CHECK(cudaEventDestroy(t1));
  return ms * 1e-3 / reps;
}

}  // namespace tme
