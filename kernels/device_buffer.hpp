// Device memory with a name: an RAII, move-only owner of one cudaMalloc allocation. The label
// names the buffer in errors ("cuda buffer 'fraction_dose' (4.0 MiB): cudaMalloc: out of
// memory"), so that a failed allocation on a large grid says which buffer did not fit. The
// only cudaMalloc/cudaFree of the host code live in device_buffer_cuda.cpp.
#pragma once
#if defined(TMESIM_HAVE_CUDA)
#include <cstddef>
#include <string>
#include <utility>

namespace tme {

// Untyped storage: `bytes` bytes of device memory, or none (null, 0 bytes).
class RawDeviceBuffer {
 public:
  explicit RawDeviceBuffer(std::string label) : label_(std::move(label)) {}
  RawDeviceBuffer(const RawDeviceBuffer&) = delete;
  RawDeviceBuffer& operator=(const RawDeviceBuffer&) = delete;
  RawDeviceBuffer(RawDeviceBuffer&& o) noexcept
      : label_(std::move(o.label_)), ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  RawDeviceBuffer& operator=(RawDeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      label_ = std::move(o.label_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  ~RawDeviceBuffer() { release(); }

  // Frees the old storage and allocates `bytes` uninitialised bytes (none for 0). Throws
  // std::runtime_error naming the buffer and its size when the allocation fails. The owner
  // makes sure no queued kernel still uses the old storage (SpaceBackend waits for its stream).
  void allocate(size_t bytes);
  void release() noexcept;
  void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  const std::string& label() const { return label_; }

 private:
  std::string label_;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Typed view of the same: n values of T (trivially copyable; contents uninitialised).
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::string label) : raw_(std::move(label)) {}
  void allocate(size_t n) { raw_.allocate(n * sizeof(T)); }
  T* data() const { return static_cast<T*>(raw_.data()); }
  size_t size() const { return raw_.bytes() / sizeof(T); }
  bool empty() const { return raw_.bytes() == 0; }
  const std::string& label() const { return raw_.label(); }
  void swap(DeviceBuffer& o) noexcept { std::swap(raw_, o.raw_); }

 private:
  RawDeviceBuffer raw_;
};

// "label (4.0 MiB)" for messages about buffer `label` of `bytes` bytes.
std::string describe_device_buffer(const std::string& label, size_t bytes);

}  // namespace tme
#endif
