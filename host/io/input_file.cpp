// Files a scene names (see input_file.hpp).
#include "host/io/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tme {
namespace {

const char* kind_text(InputKind kind) { return kind == InputKind::Yaml ? "a YAML file" : "a map or dose file"; }

std::uint64_t cap(InputKind kind) { return kind == InputKind::Yaml ? kMaxYamlBytes : kMaxDataBytes; }

// What a non-regular file is, for "not a regular file (a FIFO)".
std::string file_type(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  return "not a plain file";
}

// Kernel pseudo file systems: sizes there say nothing about the content.
bool pseudo_fs(long type) {
  switch ((unsigned long)type) {
    case 0x9fa0:      // proc
    case 0x62656572:  // sysfs
    case 0x64626720:  // debugfs
    case 0x74726163:  // tracefs
    case 0x73636673:  // securityfs
    case 0x27e0eb:    // cgroup
    case 0x63677270:  // cgroup2
    case 0x62656570:  // configfs
    case 0xcafe4a11:  // bpf
    case 0xde5e81e4:  // efivarfs
    case 0x6165676c:  // pstore
      return true;
    default: return false;
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

std::string errno_reason(int e) {
  if (e == ENOENT) return "no such file";
  if (e == ENOTDIR) return "no such file (a directory on its path is not a directory)";
  return std::string("cannot open (") + std::strerror(e) + ")";
}

// The checks; returns the open descriptor (O_RDONLY | O_NONBLOCK) and the size.
int open_checked(const std::string& path, InputKind kind, std::uint64_t& size) {
  if (path.empty()) throw InputFileError(path, "no file name given");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw InputFileError(path, errno_reason(errno));
  if (!S_ISREG(st.st_mode)) throw InputFileError(path, "not a regular file (" + file_type(st.st_mode) + ")");
  // Opened only now that it is known to be a regular file; O_NONBLOCK in case it was
  // swapped for a FIFO meanwhile (then fstat says so and it is refused).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw InputFileError(path, errno_reason(errno));
  Fd guard(fd);
  struct stat fst;
  if (::fstat(fd, &fst) != 0) throw InputFileError(path, errno_reason(errno));
  if (!S_ISREG(fst.st_mode)) throw InputFileError(path, "not a regular file (" + file_type(fst.st_mode) + ")");
  if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
    throw InputFileError(path, "the file changed while it was being checked");
  struct statfs sf;
  if (::fstatfs(fd, &sf) == 0 && pseudo_fs((long)sf.f_type))
    throw InputFileError(path, "is on a kernel pseudo file system such as /proc or /sys (not a regular file)");
  size = (std::uint64_t)fst.st_size;
  if (size > cap(kind))
    throw InputFileError(path, "is " + byte_text(size) + ", more than the " + byte_text(cap(kind)) + " " +
                                   kind_text(kind) + " may have");
  // Back to blocking reads for a regular file (O_NONBLOCK does not matter for them anyway).
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return guard.release();
}

}  // namespace

std::string byte_text(std::uint64_t n) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (n < 1024) return std::to_string(n) + (n == 1 ? " byte" : " bytes");
  double v = (double)n;
  int u = -1;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char b[32];
  if (v == (double)(long long)v)
    std::snprintf(b, sizeof b, "%lld %s", (long long)v, units[u]);
  else
    std::snprintf(b, sizeof b, "%.1f %s", v, units[u]);
  return b;
}

std::uint64_t check_input_file(const std::string& path, InputKind kind) {
  std::uint64_t size = 0;
  const int fd = open_checked(path, kind, size);
  ::close(fd);
  return size;
}

std::string read_input_file(const std::string& path, InputKind kind) {
  std::uint64_t size = 0;
  Fd fd(open_checked(path, kind, size));
  std::string text;
  text.resize((size_t)size + 1);
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t r = ::read(fd.get(), &text[got], text.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw InputFileError(path, std::string("cannot read (") + std::strerror(errno) + ")");
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  if (got > size) throw InputFileError(path, "grew while being read (not a regular file of fixed size)");
  text.resize(got);
  return text;
}

std::string yaml_text_problem(const std::string& text, int& line, int& column) {
  line = 1;
  column = 1;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  char b[64];
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c == '\n') {
      ++line, column = 1, ++i;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      std::snprintf(b, sizeof b, "control byte 0x%02x", c);
      return b;
    }
    size_t len = 1;
    if (c >= 0x80) {
      // UTF-8: a lead byte and its continuation bytes, no overlong forms or surrogates.
      unsigned cp = 0;
      if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
      else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
      else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
      else
        len = 0;
      bool ok = len > 0 && i + len <= n;
      for (size_t k = 1; ok && k < len; ++k) {
        ok = (s[i + k] & 0xc0) == 0x80;
        cp = (cp << 6) | (s[i + k] & 0x3f);
      }
      if (ok)
        ok = !(len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) &&
             !(len == 4 && (cp < 0x10000 || cp > 0x10ffff));
      if (!ok) {
        std::snprintf(b, sizeof b, "a byte that is not UTF-8 (0x%02x)", c);
        return b;
      }
    }
    i += len;
    ++column;
  }
  return "";
}

std::string printable(const std::string& s, size_t max) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (o.size() >= max) return o + "...";
    const unsigned char c = (unsigned char)s[i];
    o += (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
  }
  return o;
}

}  // namespace tme
