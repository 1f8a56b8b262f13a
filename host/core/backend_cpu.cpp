// The CPU backend: SpaceBackend (host/core/backend_impl.hpp) over host memory and OpenMP loops.
#include <omp.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "host/core/backend_impl.hpp"

namespace tme {
namespace {

// A std::vector that takes (and ignores) the label device buffers carry.
template <class T>
class HostBuffer : public std::vector<T> {
 public:
  explicit HostBuffer(const char*) {}
  void swap(HostBuffer& o) noexcept { std::vector<T>::swap(o); }
};

struct HostSpace {
  static constexpr const char* kName = "cpu";
  static constexpr bool kHostMemory = true;
  template <class T>
  using Buffer = HostBuffer<T>;

  HostExec exec() const { return {}; }
  std::string device() const { return std::to_string(omp_get_max_threads()) + " OpenMP threads"; }
  void prepare() {
#if defined(__SSE__)
    // Flush denormals to zero in every OpenMP thread (FTZ and DAZ bits of MXCSR): fields that
    // decay toward zero (a 12-min half-life cytokine between fractions) would otherwise sit in
    // float denormals, which x86 processes 10-100x slower. GPUs flush in their fast paths too.
#pragma omp parallel
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
  }
  template <class T>
  void allocate(Buffer<T>& b, size_t n) {
    b.resize(n);
  }
  void to_space(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
  void to_host(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
  void zero(void* dst, size_t bytes) { std::memset(dst, 0, bytes); }
  void sync() {}  // the loops return when done
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<SpaceBackend<HostSpace>>(); }

}  // namespace tme
