#include "host/io/checkpoint.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tme {
namespace {
constexpr char kMagic[8] = {'T', 'M', 'E', 'S', 'I', 'M', 'C', 'K'};

std::string hex(uint64_t x) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)x);
  return buf;
}
}  // namespace

uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

void ByteWriter::header(const CheckpointHeader& h) {
  raw(kMagic, sizeof kMagic);
  u32(h.format);
  str(h.version);
  u32(h.precision);
  i64(h.nx);
  i64(h.ny);
  i64(h.nz);
  i64(h.nspecies);
  u64(h.scene_hash);
}

void ByteReader::damaged() const { throw std::runtime_error(name_ + ": checkpoint is truncated or damaged"); }

CheckpointHeader ByteReader::header() {
  if (buf_.size() < sizeof kMagic || buf_.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0)
    throw std::runtime_error(name_ + ": is not a tmesim checkpoint");
  pos_ = sizeof kMagic;
  CheckpointHeader h;
  h.format = u32();
  if (h.format != kCheckpointFormat)
    throw std::runtime_error(name_ + ": checkpoint format " + std::to_string(h.format) + ", this tmesim reads format " +
                             std::to_string(kCheckpointFormat));
  h.version = str();
  h.precision = u32();
  h.nx = i64();
  h.ny = i64();
  h.nz = i64();
  h.nspecies = i64();
  h.scene_hash = u64();
  return h;
}

std::string checkpoint_mismatch(const CheckpointHeader& h, const std::string& version, uint32_t precision, int64_t nx,
                                int64_t ny, int64_t nz, int64_t nspecies, uint64_t scene_hash) {
  auto prec = [](uint32_t p) { return p == 4 ? std::string("float32") : p == 8 ? "float64" : std::to_string(p); };
  if (h.version != version) return "it was written by tmesim " + h.version + ", this is tmesim " + version;
  if (h.precision != precision)
    return "it holds " + prec(h.precision) + " fields, this tmesim is built for " + prec(precision);
  if (h.nx != nx || h.ny != ny || h.nz != nz || h.nspecies != nspecies) {
    std::ostringstream s;
    s << "its grid is " << h.nx << "x" << h.ny << "x" << h.nz << " with " << h.nspecies << " fields, the scene's " << nx
      << "x" << ny << "x" << nz << " with " << nspecies;
    return s.str();
  }
  if (h.scene_hash != scene_hash)
    return "it was written for another scene (resolved scene hash " + hex(h.scene_hash) +
           ", the scene now resolves to " + hex(scene_hash) + ")";
  return {};
}

std::string read_binary_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open for reading");
  std::ostringstream s;
  s << in.rdbuf();
  if (!in && !in.eof()) throw std::runtime_error(path.string() + ": read failed");
  return s.str();
}

}  // namespace tme
