// tmesim report RUN: checks that RUN is a finished run directory, finds python3 and
// viz/report.py, and runs the script, which writes RUN/report/index.html with its figures.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "host/cli/commands.hpp"
#include "host/io/run_dir.hpp"

extern char** environ;

namespace tme {

namespace fs = std::filesystem;

std::string report_refusal(const std::string& run) {
  std::error_code ec;
  const fs::path p(run);
  if (!fs::exists(p, ec)) return "'" + run + "': no such directory";
  if (!fs::is_directory(p, ec)) return "'" + run + "' is not a directory";
  if (!fs::is_regular_file(p / kRunMarker, ec))
    return "'" + run + "' is not a tmesim run directory (no " + std::string(kRunMarker) + " in it)";
  if (!fs::is_regular_file(p / "provenance.json", ec))
    return "'" + run + "' is not a finished run directory (no provenance.json: the run is going on or was stopped)";
  return "";
}

std::vector<std::string> report_script_candidates() {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back((exe.parent_path() / "viz" / "report.py").string());  // the build tree's copy
#ifdef TMESIM_VIZ_DIR
  out.push_back((fs::path(TMESIM_VIZ_DIR) / "report.py").string());  // the source tree
#endif
  return out;
}

namespace {

// The Python that Debian's python3-matplotlib and python3-vtk9 serve (the viz scripts' #! line).
constexpr const char* kSystemPython = "/usr/bin/python3";

// The first executable `name` in the directories of PATH; empty when there is none.
fs::path find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  const std::string s(path);
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(':', start);
    const std::string dir = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const fs::path cand = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(cand.c_str(), X_OK) == 0 && !fs::is_directory(cand)) return cand;
    if (end == std::string::npos) return {};
    start = end + 1;
  }
}

}  // namespace

int cmd_report(const std::string& run, std::ostream& out, std::ostream& err) {
  if (const std::string why = report_refusal(run); !why.empty()) {
    err << "tmesim report: " << why << "\n";
    return 2;
  }
  fs::path script;
  std::string looked;
  for (const std::string& c : report_script_candidates()) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) {
      script = c;
      break;
    }
    looked += (looked.empty() ? "" : ", ") + c;
  }
  if (script.empty()) {
    err << "tmesim report: viz/report.py not found (looked at " << looked
        << "); run the tmesim of a build tree, or keep viz/ beside the program\n";
    return 1;
  }
  fs::path python;
  if (const char* chosen = std::getenv("TMESIM_PYTHON"); chosen && *chosen) {
    python = chosen;
    if (::access(python.c_str(), X_OK) != 0 || fs::is_directory(python)) {
      err << "tmesim report: TMESIM_PYTHON=" << chosen << ": no such executable\n";
      return 1;
    }
  } else {
    python = ::access(kSystemPython, X_OK) == 0 ? fs::path(kSystemPython) : find_in_path("python3");
  }
  if (python.empty()) {
    const char* path = std::getenv("PATH");
    err << "tmesim report: python3 not found (neither " << kSystemPython << " nor in PATH=" << (path ? path : "")
        << "); it needs python3 with matplotlib and VTK (Debian: python3-matplotlib python3-vtk9; "
           "scripts/install-deps installs them)\n";
    return 1;
  }
  out.flush();
  err.flush();
  std::vector<std::string> args{python.string(), script.string(), run};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (const int rc = ::posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ); rc != 0) {
    err << "tmesim report: cannot start " << python.string() << ": " << std::strerror(rc) << "\n";
    return 1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      err << "tmesim report: waiting for " << python.string() << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  err << "tmesim report: " << python.string() << " " << script.string() << " was killed by signal " << WTERMSIG(status)
      << "\n";
  return 1;
}

}  // namespace tme
