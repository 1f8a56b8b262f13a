// Checkpoint files of tmesim run (output.checkpoint_every, tmesim run --resume): a binary
// header that identifies what the checkpoint belongs to, then a payload of little sections
// written and read in the same order by the run (host/run/run.cpp).
//
// Layout (integers little-endian as the host writes them; this format is read back on the
// machine kind that wrote it):
//   "TMESIMCK" (8 bytes), format version (u32), tmesim version (string), precision (u32: 4 =
//   float32, 8 = float64), grid nx, ny, nz (i64 each), species (i64), scene hash (u64: FNV-1a
//   of the resolved scene), then the payload.
// A string is its length (u64) and bytes; a vector its length (u64) and elements.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tme {

inline constexpr const char* kCheckpointFile = "checkpoint.bin";
// 2: each lesion's tumour burden at the outputs so far follows its events.csv text.
// 3: then the running sums of the fields its coupling folds (StepCoupling::folded_fields).
inline constexpr uint32_t kCheckpointFormat = 3;

// 64-bit FNV-1a of `text`.
uint64_t fnv1a64(const std::string& text);

struct CheckpointHeader {
  uint32_t format = kCheckpointFormat;
  std::string version;     // tmesim version that wrote it
  uint32_t precision = 0;  // sizeof(real) of the writer
  int64_t nx = 0, ny = 0, nz = 0, nspecies = 0;
  uint64_t scene_hash = 0;
};

class ByteWriter {
 public:
  void u32(uint32_t x) { raw(&x, sizeof x); }
  void u64(uint64_t x) { raw(&x, sizeof x); }
  void i64(int64_t x) { raw(&x, sizeof x); }
  void f64(double x) { raw(&x, sizeof x); }
  void str(const std::string& s) {
    u64(s.size());
    buf_.append(s);
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    u64(v.size());
    if (!v.empty()) raw(v.data(), v.size() * sizeof(T));
  }
  void header(const CheckpointHeader& h);
  const std::string& bytes() const { return buf_; }

 private:
  void raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string buf_;
};

// Reads what ByteWriter wrote; throws std::runtime_error("<name>: checkpoint is truncated or
// damaged") when the bytes run out or a length is impossible.
class ByteReader {
 public:
  ByteReader(std::string bytes, std::string name) : buf_(std::move(bytes)), name_(std::move(name)) {}
  uint32_t u32() { return pod<uint32_t>(); }
  uint64_t u64() { return pod<uint64_t>(); }
  int64_t i64() { return pod<int64_t>(); }
  double f64() { return pod<double>(); }
  std::string str() {
    const uint64_t n = u64();
    need(n);
    std::string s = buf_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
  std::vector<T> vec() {
    const uint64_t n = u64();
    if (n > (buf_.size() - pos_) / sizeof(T)) damaged();
    std::vector<T> v(n);
    if (n) raw(v.data(), n * sizeof(T));
    return v;
  }
  // Reads the header; throws std::runtime_error("<name>: is not a tmesim checkpoint") without
  // the magic, and names the format version when it is not kCheckpointFormat.
  CheckpointHeader header();
  bool at_end() const { return pos_ == buf_.size(); }
  [[noreturn]] void damaged() const;

 private:
  void need(uint64_t n) const {
    if (n > buf_.size() - pos_) damaged();
  }
  void raw(void* p, size_t n) {
    need(n);
    buf_.copy(static_cast<char*>(p), n, pos_);
    pos_ += n;
  }
  template <class T>
  T pod() {
    T x;
    raw(&x, sizeof x);
    return x;
  }
  std::string buf_, name_;
  size_t pos_ = 0;
};

// Why a checkpoint with header `h` cannot be resumed by this program on a scene with grid
// (nx, ny, nz), `nspecies` fields and resolved-scene hash `scene_hash`; empty when it can.
std::string checkpoint_mismatch(const CheckpointHeader& h, const std::string& version, uint32_t precision, int64_t nx,
                                int64_t ny, int64_t nz, int64_t nspecies, uint64_t scene_hash);

// The whole file as bytes; throws std::runtime_error naming the path when it cannot be read.
std::string read_binary_file(const std::filesystem::path& path);

}  // namespace tme
