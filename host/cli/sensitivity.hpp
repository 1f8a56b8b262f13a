// tmesim sensitivity SCENE: global sensitivity of one outcome of a scene to the declared
// ranges of its model parameters (docs/sensitivity.md).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "host/core/observables.hpp"
#include "host/core/problem.hpp"

namespace tme {

struct SensitivityOptions {
  std::string scene;
  std::string outcome;              // "T.tumour.total@21 d", "auc(T.tumour.total)@21 d", ...
  int samples = 0;                  // sobol: base samples n (n (d + 2) runs); morris: trajectories r (r (d + 1) runs)
  std::string method = "sobol";     // sobol | morris
  std::vector<std::string> params;  // empty: every parameter with a range
  int jobs = 1;                     // runs at a time (processes)
  bool well_mixed = false;          // run each sample on one voxel (scene key well_mixed)
  std::string well_mixed_over;      // a region to average over ("" with well_mixed: the grid)
  std::string out;                  // output directory; empty: sensitivity/<scene name>
  bool force = false;               // replace an earlier sensitivity output
  long long seed = -1;              // < 0: the scene's seed
  int bootstrap = 1000;             // sobol: bootstrap resamplings for the intervals
  int levels = 4;                   // morris: grid levels
  std::string backend = "cpu";      // backend of every run
  std::vector<std::string> set;     // --set path=value applied to every run
  std::string command_line;         // for provenance.json
  bool quiet = false;
};

// The parsed outcome: a column of the observables (FIELD.SCOPE.STAT) at a time, or its time
// integral from 0 to that time (trapezoid over the scene's output times up to it).
struct Outcome {
  std::string field, scope, stat;  // e.g. T, tumour, total
  bool auc = false;
  std::string time_text;  // as written ("21 d"); empty: the scene's end
};
// Throws std::invalid_argument with the reason ("... (expected ...)").
Outcome parse_outcome(const std::string& text);

// An outcome resolved against a loaded problem: which field, scope (0 grid, k region k - 1)
// and statistic, in which unit. Shared with tmesim calibrate.
struct ResolvedOutcome {
  int field = -1, scope = 0;
  std::string stat;      // total | mean | min | max
  double t_s = 0;        // the problem's end [s]
  double factor = 1;     // total: [unit] per internal integral
  std::string unit;      // of the column
  std::string column;    // "T.tumour.total [cells]"
  std::string name;      // the outcome as reported: "T.tumour.total at 21 d [cells]", ...
  std::string out_unit;  // of the outcome (AUC: unit d)
  // The column's value in `stats` (compute_observables of a state), in `unit`.
  double value(const std::vector<std::vector<Stats>>& stats) const;
};
// Throws std::invalid_argument "'TEXT': no field ... (expected ...)" when p has no such field or
// scope, or the scope is a region outside a well-mixed voxel (well_mixed_hint: the option or
// key that averages over it instead, e.g. "--well-mixed-over").
ResolvedOutcome resolve_outcome(const Problem& p, const Outcome& oc, const std::string& text,
                                const std::string& well_mixed_hint);

// "parameters.NAME=VALUE UNIT", a --set override of a model parameter, the value written so
// that it reads back exactly.
std::string parameter_setting(const std::string& name, double value, const std::string& unit);
std::string exact(double x);  // the shortest text that reads back to the same double
std::string csv_field(const std::string& s);

// Returns the exit code: 0 success, 1 a run or the plot failed, 2 bad input.
int cmd_sensitivity(const SensitivityOptions& o, std::ostream& out, std::ostream& err);

}  // namespace tme
