// tmesim calibrate TARGETS: fits the free parameters a targets file names, within their
// declared ranges, to its targets (observables of well-mixed runs at given times, or quantities
// derived from them) with NLopt, and writes the fit (docs/calibration.md).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace tme {

class UnitSystem;

struct CalibrateOptions {
  std::string targets;          // the targets file (YAML)
  std::string out;              // output directory; empty: calibration/<targets name>
  bool force = false;           // replace an earlier calibration output
  std::string backend = "cpu";  // backend of every run
  std::string command_line;     // for provenance.json
  bool quiet = false;
};

// One run the targets read: a scene, run on one voxel (the means of `well_mixed`), with --set
// style changes, up to the last time a target asks for.
struct CalibrationRun {
  std::string name;
  std::string scene;             // path, relative paths resolved against the targets file
  std::string well_mixed;        // grid or a region
  std::vector<std::string> set;  // path=value, as tmesim run --set
};

// What a target measures.
struct CalibrationQuantity {
  enum Kind { kValue, kRatio, kDoubling, kOccupancy } kind = kValue;
  std::string a, b;       // columns FIELD.SCOPE.STAT (b: ratio's denominator)
  double ta = 0, tb = 0;  // their times [s] (doubling: from tb to ta)
  std::string kd;         // occupancy: a parameter name, or a quantity in a's unit
  std::string text;       // as written, for messages and the table
};

struct CalibrationTarget {
  std::string name;
  int run = 0;  // index into CalibrationTargets::runs
  CalibrationQuantity quantity;
  std::string unit;      // of value and tolerance: the column's, d (doubling), 1 (ratio, occupancy)
  double value = 0;      // [unit] (a plain value: set once its scene is loaded)
  double tolerance = 0;  // [unit], > 0
  std::string source;
  // As written, with their positions ("FILE:LINE:COL: targets[i].value"), for a plain value
  // whose unit is known once its scene is loaded.
  std::string value_text, tolerance_text, value_at, tolerance_at, quantity_at;
};

struct CalibrationTargets {
  std::string path, name;
  unsigned long long seed = 0;
  int max_evaluations = 0;
  double xtol_rel = 0;
  std::vector<CalibrationRun> runs;
  std::vector<std::string> free;  // parameter names (each declared with a range)
  std::vector<CalibrationTarget> targets;
};

// Reads and checks a targets file (not the scenes it names). Throws std::invalid_argument
// "FILE:LINE:COL: key.path: what (expected ...)" for anything wrong.
CalibrationTargets read_calibration_targets(const std::string& path, const UnitSystem& units);

// Returns the exit code: 0 every target within its tolerance after the fit, 1 a target outside
// it (the output is still written) or a run or the plot failed, 2 bad input.
int cmd_calibrate(const CalibrateOptions& o, std::ostream& out, std::ostream& err);

}  // namespace tme
