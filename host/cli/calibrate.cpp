// tmesim calibrate TARGETS (docs/calibration.md): reads a targets file, runs its scenes on one
// voxel (the well-mixed mode) with the free parameters set through the same --set overrides
// as tmesim sensitivity, and minimises the sum of squared residuals scaled by the tolerances
// with a derivative-free bounded NLopt algorithm in log space. Writes fit.csv, parameters.csv,
// evaluations.csv, provenance.json and calibration.png (viz/calibration.py) into a directory
// built under a temporary name and renamed.
#include "host/cli/calibrate.hpp"

#include <nlopt.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "host/cli/commands.hpp"
#include "host/cli/output_dir.hpp"
#include "host/cli/sensitivity.hpp"
#include "host/core/backend.hpp"
#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "host/core/version.hpp"
#include "host/io/run_dir.hpp"
#include "host/run/run.hpp"
#include "host/run/systemic_coupling.hpp"
#include "host/scene/patient.hpp"
#include "host/scene/scene.hpp"
#include "host/scene/units.hpp"

namespace fs = std::filesystem;

namespace tme {

namespace {

const char* kColumnAt = "a column FIELD.SCOPE.STAT at a time, e.g. 'T.grid.total@7 d'";
const char* kQuantityExpected =
    "a column at a time ('CD8.grid.mean@7 d'), or {ratio: [COLUMN@TIME, COLUMN@TIME]}, "
    "{doubling_time: COLUMN, from: TIME, to: TIME}, {occupancy: COLUMN@TIME, kd: PARAMETER or VALUE}, "
    "{peak_delay: SERIES, from: TIME, to: TIME} or {peak_fold: SERIES, from: TIME, to: TIME}";

// Positioned messages about one file.
struct Reader {
  std::string file;
  const UnitSystem& units;

  std::string at(const YAML::Node& n, const std::string& path) const {
    const YAML::Mark m = n.Mark();
    return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": " + path;
  }
  [[noreturn]] void fail(const YAML::Node& n, const std::string& path, const std::string& what,
                         const std::string& expected) const {
    throw std::invalid_argument(at(n, path) + ": " + what + " (expected " + expected + ")");
  }
  void keys(const YAML::Node& n, const std::string& path, const std::vector<std::string>& allowed,
            const std::vector<std::string>& required) const {
    std::string list;
    for (const std::string& k : allowed) list += (list.empty() ? "" : ", ") + k;
    if (!n.IsMap()) fail(n, path, "is not a mapping", "a mapping with keys " + list);
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
        fail(it->first, path.empty() ? k : path + "." + k, "unknown key '" + k + "'", "one of: " + list);
    }
    for (const std::string& k : required)
      if (!n[k]) fail(n, path, "no key '" + k + "'", "a mapping with keys " + list);
  }
  std::string text(const YAML::Node& n, const std::string& path, const std::string& expected) const {
    if (!n.IsScalar()) fail(n, path, "is not a single value", expected);
    return n.Scalar();
  }
  double seconds(const YAML::Node& n, const std::string& path, const std::string& t) const {
    try {
      const double s = units.to(t, "s");
      if (!(s >= 0) || !std::isfinite(s)) throw std::invalid_argument("negative");
      return s;
    } catch (const std::exception&) {
      fail(n, path, "'" + t + "' is not a time", "a time >= 0 with its unit, e.g. '7 d'");
    }
  }
  // "COLUMN@TIME" -> column, time [s]
  std::pair<std::string, double> column_at(const YAML::Node& n, const std::string& path) const {
    const std::string t = text(n, path, kColumnAt);
    Outcome oc;
    try {
      oc = parse_outcome(t);
    } catch (const std::invalid_argument& e) {
      fail(n, path, e.what(), kColumnAt);
    }
    if (oc.auc || oc.time_text.empty()) fail(n, path, "'" + t + "' is not a column at a time", kColumnAt);
    return {oc.field + "." + oc.scope + "." + oc.stat, seconds(n, path, oc.time_text)};
  }
};

Outcome outcome_of(const std::string& column) { return parse_outcome(column); }

// The systemic compartments of a calibration run, recording their blood levels into a Series
// after every step: forwards every call to the run's SystemicCoupling.
class SeriesRecorder final : public StepCoupling {
 public:
  SeriesRecorder(SystemicCoupling& c, CalibrationSeries& out) : c_(c), out_(out) { note(c.state().t_s); }
  void attach(const std::vector<Backend*>& lesions) override { c_.attach(lesions); }
  std::vector<int> reduced_fields() const override { return c_.reduced_fields(); }
  void input_means(int lesion, double t0, double t1, std::vector<double>& globals) override {
    c_.input_means(lesion, t0, t1, globals);
  }
  void after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) override {
    c_.after_step(t0, t1, totals);
    note(t1);
  }
  void fraction(const FractionEvent& f) override { c_.fraction(f); }

 private:
  void note(double t) {
    const systemic::SystemicState& s = c_.state();
    out_.t.push_back(t);
    out_.effectors.push_back(s.effector_blood / c_.model().blood_volume_mL);
    out_.treg.push_back(s.treg_blood / c_.model().blood_volume_mL);
  }
  SystemicCoupling& c_;
  CalibrationSeries& out_;
};

// The objective's state: the parsed targets, the free parameters, the runs' resolved columns.
struct Free {
  std::string name, unit, source;
  double low = 0, high = 0, start = 0;
  bool log = false;  // fitted in log space (low > 0)
};

struct Evaluation {
  std::vector<double> params;  // [unit]
  std::vector<double> model;   // per target [target unit]
  double objective = 0;
  std::string failure;
};

struct Calibration {
  const CalibrateOptions& o;
  const CalibrationTargets& tf;
  const UnitSystem& units;
  std::vector<Free> free;
  std::vector<Evaluation> log;
  std::ostream* progress = nullptr;  // a line every few seconds (null: quiet)
  std::chrono::steady_clock::time_point last_print = std::chrono::steady_clock::now();

  // The model's value of every target with the free parameters at x [their units].
  std::vector<double> evaluate(const std::vector<double>& x) const {
    std::vector<double> model(tf.targets.size(), std::numeric_limits<double>::quiet_NaN());
    std::vector<CalibrationSeries> series(tf.runs.size());
    for (size_t ri = 0; ri < tf.runs.size(); ++ri) {
      const CalibrationRun& run = tf.runs[ri];
      std::set<double> times;
      for (const CalibrationTarget& t : tf.targets)
        if (t.run == (int)ri || t.quantity.control == (int)ri) {
          times.insert(t.quantity.ta);
          if (t.quantity.kind != CalibrationQuantity::kValue && t.quantity.kind != CalibrationQuantity::kOccupancy)
            times.insert(t.quantity.tb);
        }
      if (times.empty()) continue;
      SceneOverrides ov{run.set, exact(*times.rbegin()) + " s"};
      ov.set.push_back("well_mixed=" + run.well_mixed);
      for (size_t k = 0; k < free.size(); ++k) ov.set.push_back(parameter_setting(free[k].name, x[k], free[k].unit));
      // As a patient of one lesion: with lymph_nodes the systemic compartments supply its blood
      // inputs (host/run/systemic_coupling.hpp), as in tmesim run.
      LoadedPatient patient = load_patient(run.scene, Machine{}, ov);
      if (patient.lesions.size() != 1)
        throw std::invalid_argument("run '" + run.name + "': a scene of " + std::to_string(patient.lesions.size()) +
                                    " lesions (expected one lesion)");
      const std::unique_ptr<SystemicCoupling> systemic = make_systemic_coupling(patient);
      const LoadedScene& ls = patient.lesions[0];
      const Problem& p = ls.problem;
      auto b = make_backend(o.backend);
      b->load(p);
      Simulation sim(p, *b);
      std::optional<SeriesRecorder> rec;
      if (systemic) {
        systemic->attach({b.get()});
        rec.emplace(*systemic, series[ri]);
      }
      std::map<double, std::vector<std::vector<Stats>>> at;
      std::vector<real> state;
      for (double t : times) {
        if (rec)
          Simulation::advance_together({&sim}, t, {}, {}, &*rec);
        else
          sim.advance_to(t);
        sim.check_state();
        b->read_state(state);
        // The coupling empties its influx tallies into running sums after every step: the
        // observables see the cumulative count, as a run's outputs do (host/run/run.cpp).
        if (systemic) {
          const size_t nv = size_t(p.grid.nvox());
          std::vector<double> sum;
          for (int s : systemic->folded_fields()) {
            b->read_folded(s, sum);
            real* x = state.data() + size_t(s) * nv;
            for (size_t v = 0; v < nv; ++v) x[v] = real(sum[v] + double(x[v]));
          }
        }
        at[t] = compute_observables(p, state);
      }
      auto col = [&](const std::string& c, double t) {
        return resolve_outcome(p, outcome_of(c), c, "well_mixed:").value(at.at(t));
      };
      for (size_t k = 0; k < tf.targets.size(); ++k) {
        const CalibrationTarget& t = tf.targets[k];
        if (t.run != (int)ri) continue;
        const CalibrationQuantity& q = t.quantity;
        const bool peak = q.kind == CalibrationQuantity::kPeakDelay || q.kind == CalibrationQuantity::kPeakFold;
        const double a = peak ? 0.0 : col(q.a, q.ta);
        switch (q.kind) {
          case CalibrationQuantity::kValue: model[k] = a; break;
          case CalibrationQuantity::kRatio: model[k] = a / col(q.b, q.tb); break;
          case CalibrationQuantity::kDoubling: {
            const double g = std::log(a / col(q.a, q.tb));
            model[k] = g > 0 ? (q.ta - q.tb) / 86400.0 * std::log(2.0) / g : std::numeric_limits<double>::infinity();
            break;
          }
          case CalibrationQuantity::kOccupancy: {
            const double kd = kd_in(ls, q.kd, resolve_outcome(p, outcome_of(q.a), q.a, "well_mixed:").unit);
            model[k] = a / (a + kd);
            break;
          }
          case CalibrationQuantity::kPeakDelay:
          case CalibrationQuantity::kPeakFold: break;  // below, once every run has its series
        }
      }
    }
    for (size_t k = 0; k < tf.targets.size(); ++k) {
      const CalibrationQuantity& q = tf.targets[k].quantity;
      if (q.kind != CalibrationQuantity::kPeakDelay && q.kind != CalibrationQuantity::kPeakFold) continue;
      const CalibrationPeak pk = primed_peak(series[(size_t)tf.targets[k].run],
                                             q.control >= 0 ? &series[(size_t)q.control] : nullptr, q.a, q.tb, q.ta);
      model[k] = q.kind == CalibrationQuantity::kPeakDelay ? (pk.time_s - q.tb) / 86400.0 : pk.ratio;
    }
    return model;
  }

  // Kd as a parameter of the loaded scene, or a quantity, in `unit`.
  double kd_in(const LoadedScene& ls, const std::string& kd, const std::string& unit) const {
    for (const SceneParameter& sp : ls.parameters)
      if (sp.name == kd) {
        const SceneParameter* t = &sp;
        for (const SceneParameter& q : ls.parameters)
          if (q.name == sp.target) t = &q;
        return units.to(exact(t->number) + " " + (t->unit == "1" ? "" : t->unit), unit);
      }
    return units.to(kd, unit);
  }

  double objective(const std::vector<double>& model) const {
    double s = 0;
    for (size_t k = 0; k < model.size(); ++k) {
      const double r = (model[k] - tf.targets[k].value) / tf.targets[k].tolerance;
      s += std::isfinite(r) ? r * r : 1e12;
    }
    return s;
  }
};

std::string fmt3(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", x);
  return b;
}

double nlopt_objective(unsigned n, const double* z, double*, void* data) {
  Calibration& c = *static_cast<Calibration*>(data);
  Evaluation e;
  for (unsigned k = 0; k < n; ++k) e.params.push_back(c.free[k].log ? std::exp(z[k]) : z[k]);
  for (unsigned k = 0; k < n; ++k) e.params[k] = std::clamp(e.params[k], c.free[k].low, c.free[k].high);
  try {
    e.model = c.evaluate(e.params);
    e.objective = c.objective(e.model);
  } catch (const std::exception& ex) {
    e.failure = ex.what();
    e.objective = 1e12;
  }
  c.log.push_back(e);
  const auto now = std::chrono::steady_clock::now();
  if (c.progress && std::chrono::duration<double>(now - c.last_print).count() >= 5) {
    c.last_print = now;
    double best = e.objective;
    for (const Evaluation& x : c.log) best = std::min(best, x.objective);
    *c.progress << "progress: " << c.log.size() << " evaluations, objective " << fmt3(best) << std::endl;
  }
  return e.objective;
}

}  // namespace

double CalibrationSeries::at(const std::string& name, double x) const {
  const std::vector<double>& v = of(name);
  const auto it = std::lower_bound(t.begin(), t.end(), x);
  if (it == t.end() || (x < t.front()))
    throw std::logic_error("calibrate: no sample of " + name + " at " + exact(x) + " s");
  const size_t i = (size_t)(it - t.begin());
  if (*it == x) return v[i];
  const double w = (x - t[i - 1]) / (t[i] - t[i - 1]);
  return v[i - 1] + w * (v[i] - v[i - 1]);
}

CalibrationPeak primed_peak(const CalibrationSeries& run, const CalibrationSeries* control, const std::string& name,
                            double from, double to) {
  const std::vector<double>& v = run.of(name);
  const double start = run.at(name, from);
  CalibrationPeak p;
  bool any = false;
  for (size_t i = 0; i < run.t.size(); ++i) {
    if (run.t[i] < from || run.t[i] > to) continue;
    const double r = v[i] / (control ? control->at(name, run.t[i]) : start);
    if (!any || r > p.ratio) p.ratio = r, p.time_s = run.t[i];
    any = true;
  }
  if (!any)
    throw std::logic_error("calibrate: no sample of " + name + " from " + exact(from) + " s to " + exact(to) + " s");
  return p;
}

CalibrationTargets read_calibration_targets(const std::string& path, const UnitSystem& units) {
  const Reader r{path, units};
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw std::invalid_argument(path + ": cannot read the targets file (expected a readable YAML file)");
  } catch (const YAML::ParserException& e) {
    throw std::invalid_argument(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                ": " + e.msg + " (expected YAML)");
  }
  CalibrationTargets tf;
  tf.path = path;
  r.keys(doc, "", {"name", "seed", "max_evaluations", "xtol_rel", "runs", "free", "targets"},
         {"name", "runs", "free", "targets"});
  tf.name = r.text(doc["name"], "name", "a name");
  auto integer = [&](const char* key, long long lo, long long dflt) -> long long {
    if (!doc[key]) return dflt;
    const std::string t = r.text(doc[key], key, "an integer >= " + std::to_string(lo));
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || *end || v < lo)
      r.fail(doc[key], key, "'" + t + "' is not an integer >= " + std::to_string(lo),
             "an integer >= " + std::to_string(lo));
    return v;
  };
  tf.seed = (unsigned long long)integer("seed", 0, 1);
  tf.max_evaluations = (int)integer("max_evaluations", 1, 200);
  tf.xtol_rel = 1e-4;
  if (doc["xtol_rel"]) {
    const std::string t = r.text(doc["xtol_rel"], "xtol_rel", "a number in (0, 1)");
    char* end = nullptr;
    tf.xtol_rel = std::strtod(t.c_str(), &end);
    if (t.empty() || *end || !(tf.xtol_rel > 0 && tf.xtol_rel < 1))
      r.fail(doc["xtol_rel"], "xtol_rel", "'" + t + "' is not a number in (0, 1)", "a number in (0, 1), e.g. 1e-4");
  }
  const fs::path dir = fs::path(path).parent_path();

  const YAML::Node runs = doc["runs"];
  if (!runs.IsSequence() || runs.size() == 0)
    r.fail(runs, "runs", "is not a list of runs", "a list of {name, scene, well_mixed, set}");
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string p = "runs[" + std::to_string(i) + "]";
    const YAML::Node n = runs[i];
    r.keys(n, p, {"name", "scene", "well_mixed", "set"}, {"name", "scene", "well_mixed"});
    CalibrationRun run;
    run.name = r.text(n["name"], p + ".name", "a name");
    for (const CalibrationRun& o : tf.runs)
      if (o.name == run.name)
        r.fail(n["name"], p + ".name", "run '" + run.name + "' is defined twice", "unique run names");
    const std::string sc = r.text(n["scene"], p + ".scene", "a scene file, relative to the targets file");
    run.scene = (fs::path(sc).is_relative() ? dir / sc : fs::path(sc)).lexically_normal().string();
    if (!fs::is_regular_file(run.scene))
      r.fail(n["scene"], p + ".scene", "no scene file '" + run.scene + "'",
             "a scene file, relative to the targets file");
    run.well_mixed = r.text(n["well_mixed"], p + ".well_mixed", "grid or a region of the scene");
    if (n["set"]) {
      if (!n["set"].IsSequence())
        r.fail(n["set"], p + ".set", "is not a list", "a list of 'path=value' (as tmesim run --set)");
      for (size_t j = 0; j < n["set"].size(); ++j) {
        const std::string s = r.text(n["set"][j], p + ".set[" + std::to_string(j) + "]", "'path=value'");
        if (s.find('=') == std::string::npos)
          r.fail(n["set"][j], p + ".set[" + std::to_string(j) + "]", "'" + s + "' has no '='",
                 "'path=value' (as tmesim run --set)");
        run.set.push_back(s);
      }
    }
    tf.runs.push_back(run);
  }

  const YAML::Node fr = doc["free"];
  if (!fr.IsSequence() || fr.size() == 0)
    r.fail(fr, "free", "is not a list of parameter names", "a list of model parameters declared with a range");
  for (size_t i = 0; i < fr.size(); ++i) {
    const std::string n = r.text(fr[i], "free[" + std::to_string(i) + "]", "a parameter name");
    if (std::find(tf.free.begin(), tf.free.end(), n) != tf.free.end())
      r.fail(fr[i], "free[" + std::to_string(i) + "]", "'" + n + "' is named twice", "each free parameter once");
    tf.free.push_back(n);
  }

  const YAML::Node ts = doc["targets"];
  if (!ts.IsSequence() || ts.size() == 0)
    r.fail(ts, "targets", "is not a list of targets", "a list of {name, run, quantity, value, tolerance, source}");
  for (size_t i = 0; i < ts.size(); ++i) {
    const std::string p = "targets[" + std::to_string(i) + "]";
    const YAML::Node n = ts[i];
    r.keys(n, p, {"name", "run", "quantity", "value", "tolerance", "source"},
           {"name", "run", "quantity", "value", "tolerance", "source"});
    CalibrationTarget t;
    t.name = r.text(n["name"], p + ".name", "a name");
    const std::string rn = r.text(n["run"], p + ".run", "the name of a run");
    t.run = -1;
    std::string names;
    for (size_t k = 0; k < tf.runs.size(); ++k) {
      names += (names.empty() ? "" : ", ") + tf.runs[k].name;
      if (tf.runs[k].name == rn) t.run = (int)k;
    }
    if (t.run < 0) r.fail(n["run"], p + ".run", "no run '" + rn + "'", "one of " + names);
    t.source = r.text(n["source"], p + ".source", "where the figure comes from");
    const YAML::Node q = n["quantity"];
    const std::string qp = p + ".quantity";
    CalibrationQuantity& cq = t.quantity;
    t.quantity_at = r.at(q, qp);
    if (q.IsScalar()) {
      cq.kind = CalibrationQuantity::kValue;
      std::tie(cq.a, cq.ta) = r.column_at(q, qp);
      cq.text = q.Scalar();
    } else if (q.IsMap() && q["ratio"]) {
      r.keys(q, qp, {"ratio"}, {"ratio"});
      const YAML::Node l = q["ratio"];
      if (!l.IsSequence() || l.size() != 2)
        r.fail(l, qp + ".ratio", "is not a list of two columns at times",
               "[COLUMN@TIME, COLUMN@TIME] (numerator, denominator)");
      cq.kind = CalibrationQuantity::kRatio;
      std::tie(cq.a, cq.ta) = r.column_at(l[0], qp + ".ratio[0]");
      std::tie(cq.b, cq.tb) = r.column_at(l[1], qp + ".ratio[1]");
      cq.text = l[0].Scalar() + " / " + l[1].Scalar();
      t.unit = "1";
    } else if (q.IsMap() && q["doubling_time"]) {
      r.keys(q, qp, {"doubling_time", "from", "to"}, {"doubling_time", "from", "to"});
      cq.kind = CalibrationQuantity::kDoubling;
      cq.a = r.text(q["doubling_time"], qp + ".doubling_time", "a column FIELD.SCOPE.STAT");
      try {
        const Outcome oc = parse_outcome(cq.a);
        if (!oc.time_text.empty() || oc.auc) throw std::invalid_argument("'" + cq.a + "' has a time");
      } catch (const std::invalid_argument& e) {
        r.fail(q["doubling_time"], qp + ".doubling_time", e.what(), "a column FIELD.SCOPE.STAT without a time");
      }
      cq.tb = r.seconds(q["from"], qp + ".from", r.text(q["from"], qp + ".from", "a time"));
      cq.ta = r.seconds(q["to"], qp + ".to", r.text(q["to"], qp + ".to", "a time"));
      if (!(cq.ta > cq.tb)) r.fail(q["to"], qp + ".to", "is not after 'from'", "a time after 'from'");
      cq.text = "doubling time of " + cq.a + " from " + q["from"].Scalar() + " to " + q["to"].Scalar();
      t.unit = "d";
    } else if (q.IsMap() && q["occupancy"]) {
      r.keys(q, qp, {"occupancy", "kd"}, {"occupancy", "kd"});
      cq.kind = CalibrationQuantity::kOccupancy;
      std::tie(cq.a, cq.ta) = r.column_at(q["occupancy"], qp + ".occupancy");
      cq.kd = r.text(q["kd"], qp + ".kd", "a parameter name or a concentration");
      cq.text = "occupancy " + cq.a + " / (" + cq.a + " + " + cq.kd + ") at " +
                q["occupancy"].Scalar().substr(q["occupancy"].Scalar().find('@') + 1);
      t.unit = "1";
    } else if (q.IsMap() && (q["peak_delay"] || q["peak_fold"])) {
      const bool delay = (bool)q["peak_delay"];
      const std::string key = delay ? "peak_delay" : "peak_fold";
      r.keys(q, qp, {key, "from", "to", "control"}, {key, "from", "to"});
      cq.kind = delay ? CalibrationQuantity::kPeakDelay : CalibrationQuantity::kPeakFold;
      std::string series;
      for (const std::string& n : kSystemicSeries) series += (series.empty() ? "" : " or ") + n;
      cq.a = r.text(q[key], qp + "." + key, "a systemic series: " + series);
      if (std::find(kSystemicSeries.begin(), kSystemicSeries.end(), cq.a) == kSystemicSeries.end())
        r.fail(q[key], qp + "." + key, "'" + cq.a + "' is not a systemic series", "a systemic series: " + series);
      cq.tb = r.seconds(q["from"], qp + ".from", r.text(q["from"], qp + ".from", "a time"));
      cq.ta = r.seconds(q["to"], qp + ".to", r.text(q["to"], qp + ".to", "a time"));
      if (!(cq.ta > cq.tb)) r.fail(q["to"], qp + ".to", "is not after 'from'", "a time after 'from'");
      if (q["control"]) {
        const std::string cn = r.text(q["control"], qp + ".control", "the name of a run");
        std::string names;
        for (size_t k = 0; k < tf.runs.size(); ++k) {
          names += (names.empty() ? "" : ", ") + tf.runs[k].name;
          if (tf.runs[k].name == cn) cq.control = (int)k;
        }
        if (cq.control < 0) r.fail(q["control"], qp + ".control", "no run '" + cn + "'", "one of " + names);
        if (cq.control == t.run)
          r.fail(q["control"], qp + ".control", "is the target's own run '" + cn + "'", "another run");
      }
      const std::string base = cq.control >= 0 ? "over run " + tf.runs[cq.control].name : "over its start";
      cq.text = (delay ? "time to the peak of " : "peak of ") + cq.a + " " + base + " from " + q["from"].Scalar() +
                " to " + q["to"].Scalar();
      t.unit = delay ? "d" : "1";
    } else {
      r.fail(q, qp, "is not a quantity", kQuantityExpected);
    }
    t.value_text = r.text(n["value"], p + ".value", "a value with its unit");
    t.tolerance_text = r.text(n["tolerance"], p + ".tolerance", "a value > 0 with its unit");
    t.value_at = r.at(n["value"], p + ".value");
    t.tolerance_at = r.at(n["tolerance"], p + ".tolerance");
    tf.targets.push_back(t);
  }
  return tf;
}

namespace {

// Converts a target's value and tolerance into its unit (known for a plain value once its
// scene is loaded).
void convert_target(CalibrationTarget& t, const UnitSystem& units) {
  auto conv = [&](const std::string& text, const std::string& at, bool positive) {
    const std::string expected = "a value in " + t.unit + (positive ? ", > 0" : "") + ", e.g. '1 " +
                                 (t.unit == "1" ? std::string("") : t.unit) + "'";
    double v = 0;
    try {
      v = units.to(text, t.unit);
      // Written in the target's unit: the number as written (no round trip through a conversion).
      const size_t sp = text.find_first_of(" \t");
      const std::string u = sp == std::string::npos ? "" : text.substr(text.find_first_not_of(" \t", sp));
      if (u == t.unit || (u.empty() && t.unit == "1")) v = std::strtod(text.c_str(), nullptr);
    } catch (const std::exception&) {
      throw std::invalid_argument(at + ": '" + text + "' does not convert to " + t.unit + " (expected " + expected +
                                  ")");
    }
    if (!std::isfinite(v) || (positive && !(v > 0)))
      throw std::invalid_argument(at + ": '" + text + "' is not > 0 (expected " + expected + ")");
    return v;
  };
  t.value = conv(t.value_text, t.value_at, false);
  t.tolerance = conv(t.tolerance_text, t.tolerance_at, true);
}

}  // namespace

int cmd_calibrate(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  const std::string started = utc_now();
  const auto wall0 = std::chrono::steady_clock::now();
  const std::string me = "tmesim calibrate: ";
  const UnitSystem units;
  CalibrationTargets tf;
  try {
    tf = read_calibration_targets(o.targets, units);
  } catch (const std::invalid_argument& e) {
    err << "error: " << e.what() << "\n";
    return 2;
  }

  // Every run loads as it will be run (at the parameters' values), its columns resolve, the
  // targets' units follow, and every free parameter has a range in every run's model.
  Calibration c{o, tf, units, {}, {}, o.quiet ? nullptr : &out};
  for (size_t ri = 0; ri < tf.runs.size(); ++ri) {
    const CalibrationRun& run = tf.runs[ri];
    SceneOverrides ov{run.set, ""};
    ov.set.push_back("well_mixed=" + run.well_mixed);
    LoadedScene ls;
    try {
      ls = load_scene(run.scene, Machine{}, ov);
    } catch (const std::exception& e) {
      err << "error: " << e.what() << " (run '" << run.name << "' of " << tf.path << ")\n";
      return 2;
    }
    for (const std::string& name : tf.free) {
      const SceneParameter* sp = nullptr;
      for (const SceneParameter& q : ls.parameters)
        if (q.name == name) sp = &q;
      std::string ranged;
      for (const SceneParameter& q : ls.parameters)
        if (q.ranged && q.high > q.low) ranged += (ranged.empty() ? "" : ", ") + q.name;
      if (!sp || !sp->ranged || !(sp->high > sp->low)) {
        err << "error: " << tf.path << ": free: '" << name << "' "
            << (sp ? "has no range in run '" + run.name + "'" : "is not a parameter of run '" + run.name + "'")
            << " (expected a parameter declared with range: [low, high], low < high: " << ranged << ")\n";
        return 2;
      }
      if (ri == 0) c.free.push_back({sp->name, sp->unit, sp->source, sp->low, sp->high, sp->number, sp->low > 0});
    }
    for (CalibrationTarget& t : tf.targets) {
      if (t.run != (int)ri) continue;
      const CalibrationQuantity& q = t.quantity;
      try {
        const bool peak = q.kind == CalibrationQuantity::kPeakDelay || q.kind == CalibrationQuantity::kPeakFold;
        if (peak && q.control >= 0) {
          SceneOverrides cov{tf.runs[(size_t)q.control].set, ""};
          cov.set.push_back("well_mixed=" + tf.runs[(size_t)q.control].well_mixed);
          if (!load_scene(tf.runs[(size_t)q.control].scene, Machine{}, cov).systemic)
            throw std::invalid_argument("'" + q.a +
                                        "' is a series of the systemic compartments, but the scene of run '" +
                                        tf.runs[(size_t)q.control].name +
                                        "' (the control) declares no lymph_nodes (a scene with lymph_nodes, or a "
                                        "'set' that adds them)");
        }
        if (peak && !ls.systemic)
          throw std::invalid_argument("'" + q.a +
                                      "' is a series of the systemic compartments, but the scene declares no "
                                      "lymph_nodes (a scene with lymph_nodes, or a 'set' that adds them)");
        for (const std::string& col : {q.a, q.b}) {
          if (col.empty() || peak) continue;
          const ResolvedOutcome rs = resolve_outcome(ls.problem, outcome_of(col), col, "well_mixed:");
          if (q.kind == CalibrationQuantity::kValue) t.unit = rs.unit;
          if (q.kind == CalibrationQuantity::kOccupancy) c.kd_in(ls, q.kd, rs.unit);
        }
        if (std::max(q.ta, q.tb) > ls.problem.time.t_end)
          throw std::invalid_argument("a time after the scene's end (" + exact(ls.problem.time.t_end / 86400) + " d)");
        convert_target(t, units);
      } catch (const std::invalid_argument& e) {
        const std::string w = e.what();
        err << "error: " << (w.rfind(tf.path, 0) == 0 ? w : t.quantity_at + ": " + w + " (run '" + run.name + "')")
            << "\n";
        return 2;
      } catch (const std::exception& e) {
        err << "error: " << t.quantity_at << ": kd '" << q.kd << "': " << e.what()
            << " (expected a parameter of the model or a value in the unit of " << q.a << ")\n";
        return 2;
      }
    }
  }

  const fs::path dir = o.out.empty() ? fs::path("calibration") / tf.name : fs::path(o.out);
  const std::unique_ptr<RunDirectory> rd = open_output_dir(dir, o.force, me, err);
  if (!rd) return 2;

  // The fit: NLopt, bounded, derivative-free, in log space where low > 0; seeded.
  const unsigned d = (unsigned)c.free.size();
  const nlopt_algorithm alg = d >= 2 ? NLOPT_LN_BOBYQA : NLOPT_LN_SBPLX;
  const std::string alg_name = d >= 2 ? "LN_BOBYQA" : "LN_SBPLX";
  std::vector<double> lo(d), hi(d), z(d);
  for (unsigned k = 0; k < d; ++k) {
    const Free& f = c.free[k];
    lo[k] = f.log ? std::log(f.low) : f.low;
    hi[k] = f.log ? std::log(f.high) : f.high;
    z[k] = std::clamp(f.log ? std::log(f.start) : f.start, lo[k], hi[k]);
  }
  if (!o.quiet)
    out << "calibrate: " << tf.targets.size() << " targets, " << d << " free parameters, " << tf.runs.size()
        << " runs per evaluation (well-mixed), NLopt " << alg_name << ", at most " << tf.max_evaluations
        << " evaluations" << std::endl;
  nlopt_srand(tf.seed);
  nlopt_opt opt = nlopt_create(alg, d);
  nlopt_set_lower_bounds(opt, lo.data());
  nlopt_set_upper_bounds(opt, hi.data());
  nlopt_set_min_objective(opt, nlopt_objective, &c);
  nlopt_set_xtol_rel(opt, tf.xtol_rel);
  nlopt_set_maxeval(opt, tf.max_evaluations);
  double fmin = 0;
  const nlopt_result res = nlopt_optimize(opt, z.data(), &fmin);
  nlopt_destroy(opt);
  if (c.log.empty() || res < 0) {
    err << me << "NLopt stopped with code " << (int)res << " after " << c.log.size() << " evaluations"
        << (c.log.empty() || c.log.back().failure.empty() ? "" : ": " + c.log.back().failure) << "\n";
    return 1;
  }
  // The best evaluation (NLopt returns it in z; the log holds its model values).
  size_t best = 0;
  for (size_t i = 0; i < c.log.size(); ++i)
    if (c.log[i].objective < c.log[best].objective) best = i;
  const Evaluation& fit = c.log[best];
  const Evaluation& first = c.log[0];
  if (!fit.failure.empty()) {
    err << me << "every run failed; the first: " << fit.failure << "\n";
    return 1;
  }

  // fit.csv, parameters.csv, evaluations.csv, provenance.json, calibration.png
  int outside = 0;
  std::ostringstream fc;
  fc << "target,run,quantity,unit,value,tolerance,model_start,model,residual,within,source\n";
  for (size_t k = 0; k < tf.targets.size(); ++k) {
    const CalibrationTarget& t = tf.targets[k];
    const double res_k = (fit.model[k] - t.value) / t.tolerance;
    const bool within = std::fabs(fit.model[k] - t.value) <= t.tolerance;
    outside += within ? 0 : 1;
    fc << csv_field(t.name) << "," << csv_field(tf.runs[t.run].name) << "," << csv_field(t.quantity.text) << ","
       << csv_field(t.unit) << "," << exact(t.value) << "," << exact(t.tolerance) << ","
       << (first.model.empty() ? "" : exact(first.model[k])) << "," << exact(fit.model[k]) << "," << exact(res_k) << ","
       << (within ? "yes" : "no") << "," << csv_field(t.source) << "\n";
  }
  std::ostringstream pc;
  pc << "parameter,unit,low,high,start,fitted,scale,source\n";
  for (unsigned k = 0; k < d; ++k) {
    const Free& f = c.free[k];
    pc << csv_field(f.name) << "," << csv_field(f.unit) << "," << exact(f.low) << "," << exact(f.high) << ","
       << exact(f.start) << "," << exact(fit.params[k]) << "," << (f.log ? "log" : "linear") << ","
       << csv_field(f.source) << "\n";
  }
  std::ostringstream ec;
  ec << "evaluation,objective";
  for (const Free& f : c.free) ec << "," << csv_field(f.name + " [" + f.unit + "]");
  ec << "\n";
  for (size_t i = 0; i < c.log.size(); ++i) {
    ec << i << "," << exact(c.log[i].objective);
    for (double v : c.log[i].params) ec << "," << exact(v);
    ec << "\n";
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::ostringstream pj;
  pj << "{\n  \"tmesim_version\": " << json_quote(version()) << ",\n  \"git_hash\": " << json_quote(git_hash())
     << ",\n  \"command_line\": " << json_quote(o.command_line) << ",\n  \"targets_file\": " << json_quote(tf.path)
     << ",\n  \"name\": " << json_quote(tf.name) << ",\n  \"algorithm\": " << json_quote("NLopt " + alg_name)
     << ",\n  \"nlopt_result\": " << (int)res << ",\n  \"seed\": " << tf.seed
     << ",\n  \"max_evaluations\": " << tf.max_evaluations << ",\n  \"xtol_rel\": " << exact(tf.xtol_rel)
     << ",\n  \"evaluations\": " << c.log.size() << ",\n  \"best_evaluation\": " << best
     << ",\n  \"objective_start\": " << exact(first.objective) << ",\n  \"objective\": " << exact(fit.objective)
     << ",\n  \"objective_form\": " << json_quote("sum over targets of ((model - value) / tolerance)^2")
     << ",\n  \"backend\": " << json_quote(o.backend) << ",\n  \"runs\": [";
  for (size_t ri = 0; ri < tf.runs.size(); ++ri) {
    pj << (ri ? "," : "") << "\n    {\"name\": " << json_quote(tf.runs[ri].name)
       << ", \"scene\": " << json_quote(tf.runs[ri].scene) << ", \"well_mixed\": " << json_quote(tf.runs[ri].well_mixed)
       << ", \"set\": [";
    for (size_t j = 0; j < tf.runs[ri].set.size(); ++j) pj << (j ? ", " : "") << json_quote(tf.runs[ri].set[j]);
    pj << "]}";
  }
  pj << "\n  ],\n  \"started_utc\": " << json_quote(started) << ",\n  \"finished_utc\": " << json_quote(utc_now())
     << ",\n  \"wall_s\": " << exact(wall) << "\n}\n";
  int plot = 1;
  try {
    write_text_atomic(rd->work() / "fit.csv", fc.str());
    write_text_atomic(rd->work() / "parameters.csv", pc.str());
    write_text_atomic(rd->work() / "evaluations.csv", ec.str());
    write_text_atomic(rd->work() / "provenance.json", pj.str());
    fs::copy_file(tf.path, rd->work() / "targets.yaml", fs::copy_options::overwrite_existing);
    plot = run_viz_script("calibrate", "calibration.py", {rd->work().string()}, out, err);
    rd->commit();
  } catch (const std::exception& e) {
    err << me << e.what() << "\n";
    return 1;
  }
  if (!o.quiet) {
    out << "fit after " << c.log.size() << " evaluations in " << exact(std::round(wall * 10) / 10) << " s (objective "
        << fmt3(first.objective) << " -> " << fmt3(fit.objective) << "), written to " << dir.string() << "\n";
    for (unsigned k = 0; k < d; ++k)
      out << "  " << c.free[k].name << " = " << fmt3(fit.params[k]) << " " << c.free[k].unit << "  (range ["
          << fmt3(c.free[k].low) << ", " << fmt3(c.free[k].high) << "], start " << fmt3(c.free[k].start) << ")\n";
    for (size_t k = 0; k < tf.targets.size(); ++k) {
      const CalibrationTarget& t = tf.targets[k];
      const bool within = std::fabs(fit.model[k] - t.value) <= t.tolerance;
      out << "  " << t.name << ": " << fmt3(fit.model[k]) << " against " << fmt3(t.value) << " +- " << fmt3(t.tolerance)
          << " " << t.unit << (within ? "  within" : "  OUTSIDE") << "\n";
    }
  }
  if (outside > 0) err << me << outside << " of " << tf.targets.size() << " targets outside their tolerance\n";
  if (plot != 0) err << me << "the chart (calibration.png) was not written; the CSVs are in " << dir.string() << "\n";
  return outside == 0 && plot == 0 ? 0 : 1;
}

}  // namespace tme
