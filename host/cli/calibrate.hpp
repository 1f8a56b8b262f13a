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
  // kPeakDelay, kPeakFold: a primed response in blood, read from a systemic series (a = one
  // of kSystemicSeries) over [tb, ta] as its ratio to a baseline (the control run's series, or
  // its own value at tb): the time of the ratio's maximum after tb [d], and that maximum [1].
  enum Kind { kValue, kRatio, kDoubling, kOccupancy, kPeakDelay, kPeakFold } kind = kValue;
  std::string a, b;       // columns FIELD.SCOPE.STAT (b: ratio's denominator), or a systemic series
  double ta = 0, tb = 0;  // their times [s] (doubling and peaks: from tb to ta)
  std::string kd;         // occupancy: a parameter name, or a quantity in a's unit
  // peaks: a run without the immunising event (index into CalibrationTargets::runs), or -1: the
  // series is divided by the control's at the same times (linear between its samples) instead
  // of by its own value at tb
  int control = -1;
  std::string text;  // as written, for messages and the table
};

// The systemic series a peak quantity reads (cells/mL; the run's scene must declare lymph_nodes):
// the blood effector CD8 and Treg levels (E / V_b, R / V_b, host/core/systemic.hpp) after
// every step of the run.
inline const std::vector<std::string> kSystemicSeries{"blood.effectors", "blood.treg"};

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

// Blood levels of the systemic compartments over one run (kSystemicSeries), sampled after every
// step; times increasing.
struct CalibrationSeries {
  std::vector<double> t, effectors, treg;  // [s], [cells/mL], [cells/mL]
  const std::vector<double>& of(const std::string& name) const { return name == kSystemicSeries[0] ? effectors : treg; }
  // Series `name` at time x [s], linear between the samples around it. Throws
  // std::logic_error for x outside the samples.
  double at(const std::string& name, double x) const;
};

// The primed response over the samples of `run` in [from, to] [s]: the ratio of series `name` to
// its baseline, the control run's series at the same time (linear between its samples) or,
// without a control, the run's own value at `from`; the time of the ratio's maximum (the first
// on a tie) [s] and that maximum [1]. Throws std::logic_error when no sample lies in [from, to].
struct CalibrationPeak {
  double time_s = 0, ratio = 0;
};
CalibrationPeak primed_peak(const CalibrationSeries& run, const CalibrationSeries* control, const std::string& name,
                            double from, double to);

// Reads and checks a targets file (not the scenes it names). Throws std::invalid_argument
// "FILE:LINE:COL: key.path: what (expected ...)" for anything wrong.
CalibrationTargets read_calibration_targets(const std::string& path, const UnitSystem& units);

// Returns the exit code: 0 every target within its tolerance after the fit, 1 a target outside
// it (the output is still written) or a run or the plot failed, 2 bad input.
int cmd_calibrate(const CalibrateOptions& o, std::ostream& out, std::ostream& err);

}  // namespace tme
