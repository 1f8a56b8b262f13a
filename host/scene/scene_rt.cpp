// Scene section 'radiotherapy' -> Problem.model: calendar, alpha/beta per tissue
// label, oxygen enhancement, LQ response of populations, dose-dependent releases, and plans
// (a dose map per fraction + a schedule) expanded into the sorted list of fractions.
// Internal units: time [s], dose [Gy], length [um]. Schema and examples: docs/radiotherapy.md.
#include <cmath>
#include <stdexcept>

#include "host/rt/dose_map.hpp"
#include "host/rt/format.hpp"
#include "host/rt/schedule.hpp"
#include "host/scene/loader.hpp"
#include "kernels/radiation.hpp"

namespace tme {
namespace scene_detail {

namespace {

const Dim kDose{"a dose", "Gy", "2 Gy"};
const Dim kAlpha{"an LQ alpha", "1/Gy", "0.3 1/Gy"};
const Dim kBeta{"an LQ beta", "1/Gy^2", "0.03 1/Gy^2"};
const Dim kPressure{"an oxygen partial pressure", "mmHg", "3 mmHg"};
const Dim kNumber{"a number", "1", "3"};
const std::string kRunTime = "a time since the start of the run, e.g. '7 d' or '7 d 9 h'";
// A schedule's keys: a course's, then explicit fractions'.
const std::vector<std::string> kCourseKeys{"total", "per_fraction", "fractions", "pattern", "per_week",
                                           "start", "clock",        "per_day",   "gap",     "min_gap"};
const std::vector<std::string> kScheduleKeys{"total", "per_fraction", "fractions", "pattern", "per_week",
                                             "start", "clock",        "per_day",   "gap",     "min_gap",
                                             "times", "doses",        "list"};

// "course (plan 0): gap ..." -> "gap ...": the loader names the plan by its key path.
std::string strip_plan(const std::string& msg) {
  if (msg.rfind("course (plan ", 0) != 0 && msg.rfind("fractions (plan ", 0) != 0) return msg;
  const size_t c = msg.find("): ");
  return c == std::string::npos ? msg : msg.substr(c + 3);
}

// "<prefix><rest>" -> "<rest>".
std::string strip_prefix(const std::string& msg, const std::string& prefix) {
  return msg.compare(0, prefix.size(), prefix) == 0 ? msg.substr(prefix.size()) : msg;
}

// Splits "7 d 9 h" into "7 d", "9 h": a new part starts at a number once the part has a unit.
std::vector<std::string> time_parts(const std::string& s) {
  std::vector<std::string> parts;
  std::istringstream in(s);
  std::string tok;
  bool has_unit = false;
  while (in >> tok) {
    const QuantityText q = split_quantity(tok);
    const bool number_first = q.status == QuantityText::kOk;
    if (parts.empty() || (has_unit && number_first)) {
      parts.push_back(tok);
      has_unit = number_first && !q.unit.empty();
    } else {
      parts.back() += " " + tok;
      has_unit = true;
    }
  }
  return parts;
}

}  // namespace

// The section's readers; a friend of Loader so it can use its value readers.
struct RtReader {
  Loader& L;
  Problem& p;
  const Errors& err;
  Keys& rt;  // the section's keys, echoed into the resolved 'radiotherapy'

  RtReader(Loader& l, Keys& section) : L(l), p(l.p_), err(l.err_), rt(section) {}

  // A time [s]: one quantity ("7 d") or a sum of them ("7 d 9 h"), kept exact.
  double time(const Val& v, Bound bound, const std::string& expected = kRunTime) const {
    const std::vector<std::string> parts = v.scalar() ? time_parts(v.text()) : std::vector<std::string>{};
    if (parts.size() < 2) return L.quantity(v, kTime, bound, expected);
    double t = 0;
    for (const std::string& part : parts)
      t += L.quantity(Val{YAML::Node(part), v.path, v.mark}, kTime, Bound::kAny, expected);
    if (bound != Bound::kAny && (t < 0 || (bound == Bound::kPositive && t == 0)))
      err.fail(v, in_quotes(v.text()) + (bound == Bound::kPositive ? " must be > 0" : " must be >= 0"), expected);
    return t;
  }

  // Field index with the unit it carries.
  int field(const Val& v, const std::string& role) const { return L.field_index(v, role); }
  const std::string& unit(int f) const { return p.species[(size_t)f].unit; }

  rt::Calendar calendar() {
    rt::Calendar cal;
    Keys c = rt.map("calendar", {"weekday", "clock"}, Style::kFlow, Or::node(YAML::Node(YAML::NodeType::Map)));
    const std::string wd_expected = "a weekday, e.g. Monday or Mon";
    c.opt("weekday", Or{"Monday"}, [&](const Val& wv) {
      try {
        cal.t0_weekday = rt::parse_weekday(L.text(wv, wd_expected));
      } catch (const std::invalid_argument& e) {
        err.fail(wv, e.what(), wd_expected);
      }
      return 0;
    });
    c.resolved("weekday", YAML::Node(rt::weekday_name(cal.t0_weekday)));  // the full name: 'wed' -> Wednesday
    cal.t0_clock_s = c.opt("clock", Or{"00:00"},
                           [&](const Val& x) { return clock_s(x, L.text(x, "a clock time HH:MM, e.g. '08:00'")); });
    return cal;
  }

  double clock_s(const Val& v, const std::string& s) const {
    try {
      return rt::parse_clock(s);
    } catch (const std::invalid_argument& e) {
      err.fail(v, e.what(), "a clock time HH:MM, e.g. '09:00'");
    }
  }

  // alpha/beta [Gy] per tissue label (label 0 only without a tissue section); absent: 10 Gy.
  void alpha_beta() {
    const size_t nl = std::max<size_t>(1, p.label_names.size());
    std::vector<std::string> keys{"default"};
    keys.insert(keys.end(), p.label_names.begin(), p.label_names.end());
    const Val v = rt.get("alpha_beta");
    Keys f = rt.map("alpha_beta", keys, Style::kFlow, Or::entry("default", "10 Gy"));
    if (p.label_names.empty()) f.fields().required("default", "a default alpha/beta, e.g. '10 Gy'");
    std::vector<double> ab(nl, NAN);
    if (f.has("default")) ab.assign(nl, f.value("default", kDose, Bound::kPositive));
    for (size_t l = 0; l < p.label_names.size(); ++l) {
      const std::string& name = p.label_names[l];
      if (f.has(name)) {
        ab[l] = f.value(name, kDose, Bound::kPositive);
      } else if (std::isnan(ab[l])) {
        err.fail(v, "has no value for tissue label " + in_quotes(name), "a default, or a value for every tissue label");
      }
    }
    p.model.alpha_beta_Gy = ab;
  }

  void oxygen() {
    if (!rt.has("oxygen")) return;
    Keys f = rt.map("oxygen", {"field", "pO2_per_unit", "oer_max", "k"}, Style::kFlow);
    Model& m = p.model;
    m.oxygen = f.field("field", "the oxygen field");
    // pO2 [mmHg] per unit of the field; defaults to the unit's own value when it is a pressure.
    const std::string u = unit(m.oxygen);
    const bool pressure = L.units_.convertible(u, "mmHg");
    const std::string pu_expected = "the pO2 of 1 " + u + " of " + f.get("field").text() +
                                    (pressure ? "" : ", as " + u + " is not a pressure") + ", e.g. '0.75 mmHg'";
    if (!pressure) f.fields().required("pO2_per_unit", pu_expected);
    m.oxygen_to_mmHg = f.value("pO2_per_unit", kPressure, Bound::kPositive, Or{"1 " + u}, pu_expected);
    m.oer_max = f.opt("oer_max", Or{"3"}, [&](const Val& x) {
      const double r = L.value(x, kNumber, Bound::kPositive, "a number >= 1, e.g. 3");
      if (r < 1) err.fail(x, in_quotes(x.text()) + " is below 1", "a number >= 1, e.g. 3");
      return r;
    });
    m.oer_k_mmHg = f.value("k", kPressure, Bound::kPositive, Or{"3 mmHg"});
  }

  void response() {
    const std::string expected = "a list of {population, alpha, beta, doomed}";
    List items = rt.list("response", expected);
    if ((int)items.size() > kMaxRadioPops)
      err.fail(rt.get("response"), "has " + std::to_string(items.size()) + " entries",
               "at most " + std::to_string(kMaxRadioPops) + " populations");
    for (const Val& e : items) {
      Keys f = items.map(e, {"population", "alpha", "beta", "doomed"});
      RadioPopulation r;
      r.species = f.field("population", "a population");
      for (const RadioPopulation& q : p.model.radio_pops)
        if (q.species == r.species)
          err.fail(f.get("population"), "population " + in_quotes(f.get("population").text()) + " is listed twice",
                   "each population once");
      f.fields().required("alpha", kAlpha.expect());  // both present before either is read
      f.fields().required("beta", kBeta.expect());
      r.alpha = real(f.value("alpha", kAlpha, Bound::kNonNegative));
      r.beta = real(f.value("beta", kBeta, Bound::kNonNegative));
      if (f.has("doomed")) {
        r.doomed = f.field("doomed", "a doomed-cell pool");
        if (r.doomed == r.species) err.fail(f.get("doomed"), "is the irradiated population itself", "another field");
      }
      p.model.radio_pops.push_back(r);
    }
  }

  void releases() {
    const std::string expected = "a list of {field, kind, yield, ...}";
    List items = rt.list("releases", expected);
    if ((int)items.size() > kMaxRadioReleases)
      err.fail(rt.get("releases"), "has " + std::to_string(items.size()) + " entries",
               "at most " + std::to_string(kMaxRadioReleases) + " releases");
    for (const Val& e : items) {
      Keys f = items.map(e, {"field", "kind", "yield", "per", "threshold", "steepness", "saturation", "max"});
      RadioRelease r;
      r.species = f.field("field", "a field");
      const std::string kind = f.choice("kind", {"interferon", "linear"}, "a release kind");
      r.kind = kind == "interferon" ? kReleaseInterferon : kReleaseLinear;
      // yield [field unit / Gy], or [field unit / Gy / per unit] when scaled by a density
      std::string yu = unit(r.species) + "/Gy";
      if (f.has("per")) {  // read before the yield (its unit)
        r.per = f.field("per", "a population");
        const std::string pu = unit(r.per);
        yu += pu.find_first_of("/*. ") == std::string::npos ? "/" + pu : "/(" + pu + ")";
      }
      r.yield = real(f.value("yield", Dim{"a release yield", yu, "0.01 " + yu}, Bound::kNonNegative));
      const char* const other[2][2] = {{"threshold", "steepness"}, {"saturation", nullptr}};
      for (const char* k : other[r.kind == kReleaseInterferon ? 1 : 0])
        if (k && f.has(k))
          err.fail(
              f.get(k),
              std::string(k) + " applies to kind " + (r.kind == kReleaseInterferon ? "linear" : "interferon") + " only",
              r.kind == kReleaseInterferon ? "threshold and steepness for kind interferon"
                                           : "saturation for kind linear");
      if (r.kind == kReleaseInterferon) {
        r.p1 = real(f.value("threshold", kDose, Bound::kPositive, Or{rt::num(rt::Ifn1Defaults::d_thr_Gy) + " Gy"}));
        r.p2 = real(f.value("steepness", kNumber, Bound::kPositive, Or{rt::num(rt::Ifn1Defaults::steepness)},
                            "a number > 0, e.g. 4"));
      } else {
        r.p1 = real(f.value("saturation", kDose, Bound::kNonNegative, Or{"0 Gy"}));
      }
      // A bounded field (a level such as PD-L1 expression): the release fills the headroom to max.
      if (f.has("max"))
        r.top = real(f.value(
            "max",
            Dim{"the field's upper bound", unit(r.species), unit(r.species) == "1" ? "1" : "1 " + unit(r.species)},
            Bound::kPositive));
      p.model.radio_releases.push_back(r);
    }
  }

  // ---- plans -----------------------------------------------------------------------------------

  static std::vector<double> lengths(Keys& f, const std::string& key) {
    return f.lengths3(key, "a list of 3 lengths, e.g. [1 mm, 1 mm, 1 mm]");
  }

  // A target of an analytic dose: the keys of f.
  rt::Target target(Keys& f) const {
    const std::vector<std::string> shapes{"sphere", "box", "ellipsoid"};
    const std::string shape = f.fields().one_of(shapes);
    rt::Target t;
    if (shape == "sphere") {
      Keys s = f.map(shape, {"center", "radius"}, Style::kFlow);
      const std::vector<double> c = lengths(s, "center");
      t.radius_um = s.quantity("radius", kLength, Bound::kPositive);
      std::copy(c.begin(), c.end(), t.center_um);
    } else if (shape == "box") {
      t.shape = rt::TargetShape::Box;
      Keys b = f.map(shape, {"min", "max"}, Style::kFlow);
      const std::vector<double> lo = lengths(b, "min"), hi = lengths(b, "max");
      for (int a = 0; a < 3; ++a) {
        if (!(hi[a] > lo[a]))
          err.fail(b.get("max"), std::string("is not above min along ") + "xyz"[a], "max > min on every axis");
        t.center_um[a] = 0.5 * (lo[a] + hi[a]);
        t.half_size_um[a] = 0.5 * (hi[a] - lo[a]);
      }
    } else {
      t.shape = rt::TargetShape::Ellipsoid;
      Keys e = f.map(shape, {"center", "semi_axes"}, Style::kFlow);
      const std::vector<double> c = lengths(e, "center"), ax = lengths(e, "semi_axes");
      for (int a = 0; a < 3; ++a) {
        if (!(ax[a] > 0)) err.fail(e.get("semi_axes"), std::string("is not > 0 along ") + "xyz"[a], "semi-axes > 0 um");
        t.center_um[a] = c[a];
        t.half_size_um[a] = ax[a];
      }
    }
    t.prescription_Gy = f.value("prescription", kDose, Bound::kNonNegative);
    t.penumbra_um = f.quantity("penumbra", kLength, Bound::kNonNegative, Or{"0 um"}, "an 80%-20% width, e.g. '0.3 mm'");
    return t;
  }

  // The dose map of one fraction at the plan's per_fraction level [Gy per voxel]: the keys of
  // f, the mapping v.
  std::vector<double> dose_map(Keys& f, const Val& v) const {
    const std::vector<std::string> file_keys{"array", "scale", "outside", "fill"};
    const std::string src = f.fields().one_of({"targets", "file"});
    for (const std::string& k : src == "targets" ? file_keys : std::vector<std::string>{"background"})
      if (f.has(k))
        err.fail(f.get(k), in_quotes(k) + " applies to " + (src == "targets" ? "file" : "targets") + " only",
                 "keys of a dose " + src);
    if (src == "targets") {
      rt::AnalyticDose a;
      List targets = f.list("targets", "a list of targets ({sphere|box|ellipsoid, prescription, penumbra})");
      for (const Val& e : targets) {
        Keys te = targets.map(e, {"sphere", "box", "ellipsoid", "prescription", "penumbra"});
        a.targets.push_back(target(te));
      }
      a.background_Gy = f.value("background", kDose, Bound::kNonNegative, Or{"0 Gy"});
      L.plan_analytic_.push_back(a);  // for doses at points outside the grid (lymph nodes)
      try {
        return rt::analytic_dose(p.grid, a);
      } catch (const std::invalid_argument& e) {
        err.fail(v, e.what(), "a valid analytic dose");
      }
    }
    L.plan_analytic_.push_back(std::nullopt);  // a dose file: no dose outside its grid
    const std::string formats = "a .vti, .mha, .mhd, .nrrd or DICOM RT Dose (.dcm) file";
    const fs::path path = f.path("file", formats);
    const Val fv = f.get("file");
    const std::string what = "cannot read dose map " + in_quotes(fv.text()) + ": ";
    try {
      check_input_file(path.string(), InputKind::Data);
    } catch (const InputFileError& e) {
      err.fail(fv, what + e.reason(), formats);
    }
    const bool dicom = rt::looks_like_dicom(path.string());
    std::string array;
    if (f.has("array")) {
      if (dicom) err.fail(f.get("array"), "array applies to image files only", "no array for DICOM");
      array = f.text("array", "the name of an array in the file");
    }
    rt::ResampleOptions ro;
    ro.scale = f.opt("scale", Or{"1"}, [&](const Val& x) {
      const std::string expected = "a number > 0, e.g. 0.04 for a 25-fraction total";
      const double s = L.number(x, expected);
      if (!(s > 0) || !std::isfinite(s)) err.fail(x, in_quotes(x.text()) + " must be > 0", expected);
      return s;
    });
    const std::string outside = f.choice("outside", {"fill", "error"}, "a policy", Or{"fill"});
    ro.outside = outside == "fill" ? rt::OutsidePolicy::Fill : rt::OutsidePolicy::Error;
    if (outside == "error" && f.has("fill"))
      err.fail(f.get("fill"), "fill applies to outside: fill only", "no fill with outside: error");
    if (outside == "fill") ro.fill = f.value("fill", kDose, Bound::kNonNegative, Or{"0 Gy"});
    rt::DoseImage img;
    try {
      img = rt::read_dose_image(path.string(), array);
    } catch (const std::exception& e) {
      err.fail(fv, what + strip_prefix(e.what(), path.string() + ": "), formats);
    }
    std::vector<double> d;
    try {
      d = rt::resample_trilinear(img.map, p.grid, ro);
    } catch (const std::exception& e) {
      err.fail(f.has("outside") ? f.get("outside") : fv, strip_prefix(e.what(), "dose map: "),
               "a dose map that covers the grid, or outside: fill");
    }
    for (size_t i = 0; i < d.size(); ++i)
      if (!(d[i] >= 0) || !std::isfinite(d[i])) {
        const Dims& g = p.grid.d;
        err.fail(fv,
                 "dose " + rt::num(d[i]) + " Gy at grid voxel (" + std::to_string(i % g.nx) + ", " +
                     std::to_string(i / g.nx % g.ny) + ", " + std::to_string(i / ((size_t)g.nx * g.ny)) +
                     ") is negative or not finite",
                 "doses >= 0 Gy");
      }
    return d;
  }

  // Fractions of plan `plan`; per_fraction [Gy] fills in the course or the explicit doses.
  // The keys of schedule f (the mapping v): a course or explicit fractions.
  std::vector<rt::Fraction> schedule(Keys& f, const Val& v, int plan, double per_fraction,
                                     const std::string& per_fraction_text, const rt::Calendar& cal) {
    const bool expl = f.has("times") || f.has("doses") || f.has("list");
    if (expl) {
      for (const std::string& k : kCourseKeys)
        if (f.has(k))
          err.fail(f.get(k), in_quotes(k) + " cannot be combined with explicit fractions",
                   "either a course (total, per_fraction, fractions, ...) or explicit fractions "
                   "(times and doses, or list)");
      rt::ExplicitFractions ef;
      ef.plan = plan;
      Val at;  // where a problem with the whole list is reported
      if (f.fields().one_of({"times", "list"}) == "list") {
        if (f.has("doses")) f.fields().one_of({"list", "doses"});  // fails: doses belong to times
        at = f.get("list");
        List list = f.list("list", "a list of {time, dose}");
        for (const Val& e : list) {
          Keys fe = list.map(e, {"time", "dose"});
          const double t = fe.req("time", kRunTime, [&](const Val& x) { return time(x, Bound::kNonNegative); });
          ef.time_dose.push_back({t, fe.value("dose", kDose, Bound::kPositive, Or{per_fraction_text})});
        }
      } else {
        at = f.get("times");
        for (double t : f.list("times", "a list of times, e.g. [7 d, 7 d 6 h]", Style::kFlow).each([&](const Val& e) {
               return time(e, Bound::kNonNegative);
             }))
          ef.time_dose.push_back({t, per_fraction});
        const Val dv = f.get("doses");
        if (dv.present() && dv.node.IsSequence()) {
          List ds = f.list("doses", "a list of doses, one per time", Style::kFlow);
          if (ds.size() != ef.time_dose.size())
            err.fail(
                dv, "has " + std::to_string(ds.size()) + " doses for " + std::to_string(ef.time_dose.size()) + " times",
                "one dose per time, or a single dose for all");
          const std::vector<double> d = ds.each([&](const Val& x) { return L.value(x, kDose, Bound::kPositive); });
          for (size_t i = 0; i < d.size(); ++i) ef.time_dose[i].second = d[i];
        } else {
          const double d = f.value("doses", kDose, Bound::kPositive, Or{per_fraction_text});
          for (auto& td : ef.time_dose) td.second = d;
        }
      }
      try {
        return rt::expand_explicit(ef);
      } catch (const std::invalid_argument& e) {
        err.fail(at, strip_plan(e.what()), "fractions at distinct times >= 0");
      }
    }

    rt::Course c;
    c.plan = plan;
    const std::string dose_expected =
        "two of total, per_fraction (default the plan's) and fractions, or all three consistent";
    if (f.has("total")) c.total_dose_Gy = f.value("total", kDose, Bound::kPositive);
    if (f.has("per_fraction")) c.dose_per_fraction_Gy = f.value("per_fraction", kDose, Bound::kPositive);
    if (f.has("fractions")) c.n_fractions = (int)f.integer("fractions", 1, 1000000, "a number of fractions >= 1");
    if (!f.has("per_fraction") && f.has("total") != f.has("fractions"))
      c.dose_per_fraction_Gy = per_fraction;  // the plan's level fills in the missing one
    if (f.has("pattern") && f.has("per_week")) f.fields().one_of({"pattern", "per_week"});  // fails
    if (f.has("pattern")) {
      const std::string expected = "7 characters 0 or 1, Monday first, e.g. '1111100'";
      c.week_pattern = f.req("pattern", expected, [&](const Val& x) {
        try {
          rt::check_week_pattern(L.text(x, expected));
        } catch (const std::invalid_argument& e) {
          err.fail(x, e.what(), expected);
        }
        return x.text();
      });
    } else {
      c.fractions_per_week = (int)f.integer("per_week", 1, 7, "1 to 7 fractions per week", Or{"5"});
    }
    c.start_s = f.opt("start", Or{"0 s"}, [&](const Val& x) { return time(x, Bound::kNonNegative); });
    c.clock_s = f.opt("clock", Or{"09:00"}, [&](const Val& x) { return clock_s(x, x.text()); });
    c.fractions_per_day = (int)f.integer("per_day", 1, 24, "fractions per treatment day, e.g. 2", Or{"1"});
    c.gap_s = f.opt("gap", Or{"6 h"}, [&](const Val& x) {
      return time(x, Bound::kPositive, "a time between fractions of a day, e.g. '6 h'");
    });
    c.min_gap_s =
        f.opt("min_gap", Or{"6 h"}, [&](const Val& x) { return time(x, Bound::kNonNegative, "a time, e.g. '6 h'"); });
    try {
      rt::course_dose(c);
    } catch (const std::invalid_argument& e) {
      const std::string msg = strip_plan(e.what());
      Val at = v;
      if (msg.rfind("give two", 0) != 0)
        for (const char* k : {"total", "per_fraction", "fractions"})
          if (f.has(k)) {
            at = f.get(k);
            break;
          }
      err.fail(at, msg, dose_expected);
    }
    try {
      return rt::expand_course(c, cal);
    } catch (const std::invalid_argument& e) {
      const std::string msg = strip_plan(e.what());
      if (msg.find("fit in one day") != std::string::npos)
        err.fail(f.has("per_day") ? f.get("per_day") : v, msg,
                 "per_day fractions, gap apart from clock, within one day");
      if (msg.find("minimum") != std::string::npos)
        err.fail(f.has("gap") ? f.get("gap") : f.has("min_gap") ? f.get("min_gap") : v, msg, "a gap >= min_gap");
      err.fail(v, msg, "a valid course");
    }
  }

  void plans(const rt::Calendar& cal) {
    const std::string expected = "a non-empty list of plans {name, dose, per_fraction, schedule}";
    const Val v = rt.fields().required("plans", expected);
    List items = rt.list("plans", expected);
    if (items.empty()) err.fail(v, "is an empty list", expected);
    std::vector<std::vector<rt::Fraction>> per_plan;
    std::vector<Val> schedules;
    for (const Val& e : items) {
      Keys f = items.map(e, {"name", "dose", "per_fraction", "schedule"}, Style::kBlock);
      RadiationPlan plan;
      plan.name = f.name("name", "plan name");
      for (const RadiationPlan& q : p.model.plans)
        if (q.name == plan.name)
          err.fail(f.get("name"), "duplicate plan name " + in_quotes(plan.name), "a name not used by an earlier plan");
      const Val dv = f.fields().required("dose", "a mapping with targets or file");
      Keys dose = f.map("dose", {"targets", "background", "file", "array", "scale", "outside", "fill"});
      const std::vector<double> d = dose_map(dose, dv);
      plan.dose.assign(d.begin(), d.end());
      plan.nominal_Gy = f.req("per_fraction", "the dose per fraction the map stands for, e.g. '2 Gy'",
                              [&](const Val& x) { return L.value(x, kDose, Bound::kPositive); });
      const Val sv = f.fields().required("schedule", "a course {total, fractions, ...} or explicit fractions");
      Keys sk = f.map("schedule", kScheduleKeys);
      per_plan.push_back(
          schedule(sk, sv, (int)p.model.plans.size(), plan.nominal_Gy, f.get("per_fraction").text(), cal));
      schedules.push_back(sv);
      p.model.plans.push_back(std::move(plan));
    }

    // Every fraction within the run; times stay exact (no rounding to steps).
    const double t_end = p.time.t_end;
    for (const auto& fr : rt::merge_schedules(per_plan)) {
      if (fr.time_s > t_end) {
        int k = 1;  // its number within its plan
        while (per_plan[(size_t)fr.plan][(size_t)k - 1].time_s != fr.time_s) ++k;
        err.fail(schedules[(size_t)fr.plan],
                 "fraction " + std::to_string(k) + " of plan " + in_quotes(p.model.plans[(size_t)fr.plan].name) +
                     " at t = " + rt::num(fr.time_s) + " s (" + rt::num(fr.time_s / rt::kSecondsPerDay) +
                     " d) is after time.end = " + rt::num(t_end) + " s (" + rt::num(t_end / rt::kSecondsPerDay) + " d)",
                 "every fraction at or before time.end");
      }
      p.model.fractions.push_back({fr.time_s, fr.plan, fr.dose_Gy});
    }
  }
};

void Loader::read_radiotherapy(Keys& top) {
  if (!top.has("radiotherapy")) return;
  Keys f = top.map("radiotherapy", {"calendar", "alpha_beta", "oxygen", "response", "releases", "plans"});
  RtReader r(*this, f);
  const rt::Calendar cal = r.calendar();
  r.alpha_beta();
  r.oxygen();
  r.response();
  r.releases();
  r.plans(cal);
}

}  // namespace scene_detail
}  // namespace tme
