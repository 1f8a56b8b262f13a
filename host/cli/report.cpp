// tmesim report RUN: checks that RUN is a finished run directory, finds python3 and
// viz/report.py, and runs the script, which writes RUN/report/index.html with its figures.
// run_viz_script (also used by tmesim compare) finds a viz/ script and the Python and runs it.
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

std::vector<std::string> viz_script_candidates(const std::string& script_name) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back((exe.parent_path() / "viz" / script_name).string());  // the build tree's copy
#ifdef TMESIM_VIZ_DIR
  out.push_back((fs::path(TMESIM_VIZ_DIR) / script_name).string());  // the source tree
#endif
  return out;
}

std::vector<std::string> report_script_candidates() { return viz_script_candidates("report.py"); }

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

int run_viz_script(const std::string& command, const std::string& script_name, const std::vector<std::string>& args,
                   std::ostream& out, std::ostream& err) {
  fs::path script;
  std::string looked;
  for (const std::string& c : viz_script_candidates(script_name)) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) {
      script = c;
      break;
    }
    looked += (looked.empty() ? "" : ", ") + c;
  }
  if (script.empty()) {
    err << "tmesim " << command << ": viz/" << script_name << " not found (looked at " << looked
        << "); run the tmesim of a build tree, or keep viz/ beside the program\n";
    return 1;
  }
  fs::path python;
  if (const char* chosen = std::getenv("TMESIM_PYTHON"); chosen && *chosen) {
    python = chosen;
    if (::access(python.c_str(), X_OK) != 0 || fs::is_directory(python)) {
      err << "tmesim " << command << ": TMESIM_PYTHON=" << chosen << ": no such executable\n";
      return 1;
    }
  } else {
    python = ::access(kSystemPython, X_OK) == 0 ? fs::path(kSystemPython) : find_in_path("python3");
  }
  if (python.empty()) {
    const char* path = std::getenv("PATH");
    err << "tmesim " << command << ": python3 not found (neither " << kSystemPython
        << " nor in PATH=" << (path ? path : "") << "); viz/" << script_name
        << " needs python3 with numpy and matplotlib (report also VTK; Debian: python3-matplotlib "
           "python3-vtk9; scripts/install-deps installs them)\n";
    return 1;
  }
  out.flush();
  err.flush();
  std::vector<std::string> all{python.string(), script.string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (const int rc = ::posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ); rc != 0) {
    err << "tmesim " << command << ": cannot start " << python.string() << ": " << std::strerror(rc) << "\n";
    return 1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      err << "tmesim " << command << ": waiting for " << python.string() << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  err << "tmesim " << command << ": " << python.string() << " " << script.string() << " was killed by signal "
      << WTERMSIG(status) << "\n";
  return 1;
}

int cmd_report(const std::string& run, std::ostream& out, std::ostream& err) {
  if (const std::string why = report_refusal(run); !why.empty()) {
    err << "tmesim report: " << why << "\n";
    return 2;
  }
  return run_viz_script("report", "report.py", {run}, out, err);
}

}  // namespace tme
