// Files a scene names (scene and model YAML files, maps, dose files, the data files their
// headers name): the one place that decides whether such a file may be read.
//
// Rules (docs/scenes.md, "Files a scene names"):
//  * only regular files, after symbolic links are resolved: directories, FIFOs, sockets and
//    devices (/dev/zero, /dev/stdin on a terminal or pipe) are refused, a FIFO without ever
//    being opened (stat first; the file is then opened with O_NONBLOCK and fstat-ed, and
//    must still be the same regular file);
//  * files on the kernel's pseudo file systems (/proc, /sys, ...) are refused: their size
//    says nothing about their content;
//  * a size cap per kind: YAML files (scenes, model files) at most 16 MiB, map and dose files
//    and detached data files at most 4 GiB; besides, a map may declare at most 4 GiB of data
//    and 2^30 values (checked by the readers before anything is allocated);
//  * a file read here must have exactly its stat size (a file that grows while read is
//    refused).
// Messages name the file and what is wrong and never quote its content.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tme {

enum class InputKind {
  Yaml,  // scene and model files
  Data,  // map and dose files, detached data files of map headers
};

inline constexpr std::uint64_t kMaxYamlBytes = 16ull << 20;  // 16 MiB
inline constexpr std::uint64_t kMaxDataBytes = 4ull << 30;   // 4 GiB
inline constexpr long long kMaxMapValues = 1ll << 30;        // values a map may declare

// what(): "<path>: <reason>"; reason() alone, for callers that name the file themselves.
class InputFileError : public std::runtime_error {
 public:
  InputFileError(const std::string& path, const std::string& reason)
      : std::runtime_error(path + ": " + reason), reason_(reason) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// "16 MiB", "4 GiB", "1.5 KiB", "12 bytes".
std::string byte_text(std::uint64_t n);

// Checks `path` against the rules above without reading its content; returns its size in
// bytes. Throws InputFileError, e.g. "<path>: no such file", "<path>: not a regular file (a
// FIFO)", "<path>: is 5 GiB, more than the 4 GiB a map or dose file may have".
std::uint64_t check_input_file(const std::string& path, InputKind kind);

// check_input_file, then the whole content (read through the checked descriptor).
std::string read_input_file(const std::string& path, InputKind kind);

// Where YAML text holds something that is not text: a NUL or other control byte (tab, line
// feeds and carriage returns are fine), DEL, or bytes that are not UTF-8. Returns "" when the
// text is fine, else a description ("byte 0x00", "a byte that is not UTF-8 (0xff)") and sets
// line and column (1-based) of the first such byte.
std::string yaml_text_problem(const std::string& text, int& line, int& column);

// `s` made safe to print in one line of a message: control bytes, DEL and non-ASCII bytes
// become '?', and at most `max` characters are kept (then "...").
std::string printable(const std::string& s, size_t max = 200);

}  // namespace tme
