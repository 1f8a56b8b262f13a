// The tmesim commands as library functions (main.cpp only parses the command line).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace tme {

struct RunOptions {
  std::string scene;              // scene file
  std::string out;                // run directory; empty: runs/<scene name>
  std::string backend = "auto";   // auto | cpu | cuda
  bool force = false;             // replace an existing run directory
  bool quiet = false;             // no progress lines
  std::string command_line;       // recorded in provenance.json
  double progress_every_s = 2.0;  // minimum wall time between progress lines [s]
  long long check_every = 0;      // state check every this many steps too (0: at outputs only)
  std::vector<std::string> set;   // --set path=value, in order (SceneOverrides::set)
  std::string until;              // --until TIME ("" none; SceneOverrides::until)
  // --resume DIR: continue the run a killed run left in DIR ("<run>.incomplete") from its
  // checkpoint; the scene, overrides and until come from the checkpoint (scene, set, until,
  // out and force are then unused).
  std::string resume;
};

// Test hook, not for users: with this environment variable set to N > 0, tmesim run ends the
// process at once (std::_Exit(137), like a kill) soon after writing its N-th checkpoint: at the
// next progress call inside a step loop or after the next stop's output, whichever is first.
inline constexpr const char* kTestExitAfterCheckpointEnv = "TMESIM_TEST_EXIT_AFTER_CHECKPOINT";

// Each returns the process exit code: 0 success, 1 run-time failure, 2 bad input.
int cmd_run(const RunOptions& o, std::ostream& out, std::ostream& err);
// backend: the one the cost is estimated for (auto: cuda when a device exists, else cpu).
// set, until: as RunOptions.
int cmd_validate(const std::string& scene, std::ostream& out, std::ostream& err, const std::string& backend = "auto",
                 const std::vector<std::string>& set = {}, const std::string& until = "");
int cmd_info(std::ostream& out);
// Writes RUN/report/index.html (with its PNGs) by running viz/report.py with $TMESIM_PYTHON when
// set, else /usr/bin/python3 when it exists, else python3 from PATH.
// 2 when `run` is not a finished run directory; 1 when python3, the script or a Python module
// is missing (the script names the module) or the script fails.
int cmd_report(const std::string& run, std::ostream& out, std::ostream& err);
// Why `run` is not a finished run directory (a sentence naming it); empty when it is one.
std::string report_refusal(const std::string& run);
// Where the program looks for viz/report.py, in order: viz/ beside the program (the build tree
// holds a copy), then the source tree's viz/.
std::vector<std::string> report_script_candidates();
// The same places for any script of viz/ (e.g. "compare.py").
std::vector<std::string> viz_script_candidates(const std::string& script_name);
// Runs viz/<script_name> with `args` under the Python cmd_report uses; its output goes straight
// to this process's stdout and stderr. Returns its exit status, or 1 (with a message prefixed
// "tmesim <command>: ") when the script or the Python is missing or cannot be started.
int run_viz_script(const std::string& command, const std::string& script_name, const std::vector<std::string>& args,
                   std::ostream& out, std::ostream& err);

struct CompareOptions {
  std::vector<std::string> runs;     // run directories, in order: the first is the reference arm
  std::string out = "compare";       // output directory
  std::vector<std::string> columns;  // observables.csv columns; empty: "burden [cells]"
  std::vector<std::string> labels;   // RUN=LABEL
  bool force = false;                // replace an earlier compare output in `out`
};
// tmesim compare: checks each run is a finished run directory (exit 2 with report_refusal's
// sentence otherwise), then runs viz/compare.py, which writes OUT/compare.csv, OUT/compare.json
// and the PNG plots, and prints the summary table (see viz/compare.py).
int cmd_compare(const CompareOptions& o, std::ostream& out, std::ostream& err);
// Set (to 1) by main when it chose OMP_WAIT_POLICY=passive itself (the user had not set it).
inline constexpr const char* kOmpWaitDefaultMarker = "TMESIM_OMP_WAIT_DEFAULT";
// How OpenMP threads wait, for 'tmesim info': "passive (tmesim's default; ...)" or
// "<value> (OMP_WAIT_POLICY)" or "libgomp's default (...)".
std::string omp_waiting();

// "tmesim 0.1.0 (git abc1234[, dirty])": the first line of `tmesim info` and `tmesim --version`.
std::string version_line();

}  // namespace tme
