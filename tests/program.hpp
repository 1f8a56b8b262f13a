// Tests that run the tmesim program: read and write whole files, run the program with its
// output captured (through the shell, or spawned with a time limit), and copy the scenes/ tree
// with exact text edits so that a shortened scene still finds the files it names; and a
// temporary directory per test that is removed at the end, passed or failed.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace tme::test {

namespace fs = std::filesystem;

// The tmesim program and the source tree (defined for the tests when the app is built).
#ifdef TMESIM_BINARY
inline const char* const kBinary = TMESIM_BINARY;
inline const char* const kSourceDir = TMESIM_SOURCE_DIR;
#else
inline const char* const kBinary = nullptr;  // built without the app (TMESIM_APP=OFF)
inline const char* const kSourceDir = nullptr;
#endif

// A fresh, empty directory under the system temporary directory (TMPDIR when set: scripts/test
// points it at a directory of its own and fails when a test leaves anything there), named
// prefix_<pid>_<counter>; removed with everything in it when the object goes away. Tests create
// files only in such a directory.
class TempDir {
 public:
  explicit TempDir(std::string prefix = "tmesim_test") {
    for (char& c : prefix)
      if (c == '/' || c == '\\') c = '_';  // parameterised test names hold '/'
    static std::atomic<unsigned> counter{0};
    const fs::path base = fs::temp_directory_path();
    do path_ = base / (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    while (!fs::create_directory(path_));  // false: it exists already (left by an earlier process)
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  std::string string() const { return path_.string(); }
  fs::path operator/(const fs::path& p) const { return path_ / p; }

 private:
  fs::path path_;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// How a run of a program ended and what it printed.
struct Result {
  int code = -1;           // exit status; -1 when it did not exit normally
  bool signalled = false;  // killed by a signal (its number in `signal`)
  int signal = 0;
  bool timed_out = false;  // killed by run_program after its time limit
  double seconds = 0;
  std::string out, err;
};

// Runs the shell command line `prefix program args` in directory `dir` (stdin from /dev/null,
// stdout and stderr to the files stdout and stderr in `capture`, by default `dir`). `prefix`:
// assignments such as "OMP_NUM_THREADS=1 " or a wrapper such as "timeout 20 ".
inline Result run_shell(const std::string& program, const std::string& args, const fs::path& dir,
                        const std::string& prefix = "", const fs::path& capture = {}) {
  const fs::path cap = capture.empty() ? dir : capture;
  const std::string cmd = "cd '" + dir.string() + "' && " + prefix + program + " " + args + " </dev/null >'" +
                          (cap / "stdout").string() + "' 2>'" + (cap / "stderr").string() + "'";
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = std::system(cmd.c_str());
  Result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (WIFEXITED(rc)) r.code = WEXITSTATUS(rc);
  // The shell reports a child killed by signal N as status 128 + N.
  if (r.code > 128 && r.code < 128 + 65) r.signalled = true, r.signal = r.code - 128, r.code = -1;
  r.out = slurp(cap / "stdout");
  r.err = slurp(cap / "stderr");
  return r;
}

// Spawns `program args` (no shell) in `dir` with stdout and stderr captured as run_shell does,
// killing it after `timeout_s` seconds.
inline Result run_program(const std::string& program, const std::vector<std::string>& args, const fs::path& dir,
                          double timeout_s) {
  Result r;
  const fs::path out = dir / "stdout", err = dir / "stderr";
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  pid_t pid = -1;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, program.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.err = "cannot start " + program + ": " + std::strerror(rc);
    return r;
  }
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.seconds > timeout_s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.timed_out) {
    r.signalled = WIFSIGNALED(status);
    if (r.signalled) r.signal = WTERMSIG(status);
    if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  }
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

using Edits = std::vector<std::pair<std::string, std::string>>;

// Copies the directory `scenes` to dest/scenes and applies `edits` (exact text, replacement) to
// the copy of `scene` (a path relative to `scenes`). Returns what went wrong ("" when nothing
// did): an edit whose text is not in the file, or is there more than once.
inline std::string copy_scenes_with_edits(const fs::path& scenes, const fs::path& dest, const std::string& scene,
                                          const Edits& edits) {
  fs::copy(scenes, dest / "scenes", fs::copy_options::recursive);
  const fs::path file = dest / "scenes" / scene;
  std::string text = slurp(file);
  for (const auto& [from, to] : edits) {
    const size_t at = text.find(from);
    if (at == std::string::npos) return scene + " no longer holds '" + from + "'";
    if (text.find(from, at + 1) != std::string::npos) return scene + " holds '" + from + "' more than once";
    text.replace(at, from.size(), to);
  }
  spit(file, text);
  return "";
}

}  // namespace tme::test
