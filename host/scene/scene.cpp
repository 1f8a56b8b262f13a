// Scene loader: YAML -> validated, unit-converted Problem, with positioned error messages.
// The schema is documented in docs/scenes.md; keep the two in step.
#include "host/scene/scene.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "host/core/cost.hpp"
#include "host/core/simulation.hpp"
#include "host/core/well_mixed.hpp"
#include "host/io/run_dir.hpp"
#include "host/io/vtk_io.hpp"
#include "host/scene/loader.hpp"
#include "host/scene/quantity.hpp"
#include "host/scene/units.hpp"

namespace tme {
namespace scene_detail {

std::string Loader::text(const Val& v, const std::string& expected) const {
  if (!v.scalar()) err_.fail(v, not_a(v.node, "text"), expected);
  const std::string s = v.text();
  if (s.empty()) err_.fail(v, "is empty", expected);
  return s;
}

std::string Loader::identifier(const Val& v, const std::string& what) const {
  const std::string s = text(v, kNameRule);
  if (!is_identifier(s)) err_.fail(v, in_quotes(s) + " is not a valid " + what, kNameRule);
  return s;
}

long long Loader::integer(const Val& v, long long min, long long max, const std::string& expected) const {
  const std::string s = text(v, expected);
  const bool neg = s[0] == '-';
  const size_t start = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  unsigned long long u = 0;
  auto r = std::from_chars(s.data() + start, s.data() + s.size(), u);
  if (start == s.size() || r.ptr != s.data() + s.size() ||
      (r.ec != std::errc() && r.ec != std::errc::result_out_of_range))
    err_.fail(v, in_quotes(s) + " is not an integer", expected);
  const bool too_big = r.ec == std::errc::result_out_of_range || (!neg && u > (unsigned long long)max);
  if (too_big) err_.fail(v, in_quotes(s) + " is too large", expected);
  const long long x = neg ? -(long long)std::min<unsigned long long>(u, LLONG_MAX) : (long long)u;
  if (x < min)
    err_.fail(v, in_quotes(s) + (min == 1 ? " must be > 0" : " must be >= " + std::to_string(min)), expected);
  return x;
}

double Loader::number(const Val& v, const std::string& expected) const {
  const std::string s = text(v, expected);
  const QuantityText q = split_quantity(s);
  if (q.status != QuantityText::kOk || !q.unit.empty()) err_.fail(v, in_quotes(s) + " is not a number", expected);
  check_real(v, in_quotes(s), q.value, "");
  return q.value;
}

void Loader::check_real(const Val& v, const std::string& what, double x, const std::string& unit) const {
  using lim = std::numeric_limits<real>;
  const char* type = sizeof(real) == 4 ? "float32" : "float64";
  const std::string u = unit.empty() || unit == "1" ? "" : " " + unit;
  if (!std::isfinite(x) || std::abs(x) > double(lim::max()))
    err_.fail(
        v, what + " (" + fmt(x) + u + ") is beyond the range of " + type,
        std::string("a finite value of magnitude at most ") + fmt(double(lim::max())) + u + " (" + type + " build)");
  if (x != 0 && std::abs(x) < double(lim::min()))
    err_.fail(v, what + " (" + fmt(x) + u + ") is too small for " + type + " (it would flush to 0)",
              std::string("0 or a magnitude of at least ") + fmt(double(lim::min())) + u + " (" + type + " build)");
}

double Loader::quantity(const Val& v, const Dim& dim, Bound bound, const std::string& expected_in) const {
  const std::string expected = expected_in.empty() ? dim.expect() : expected_in;
  if (!v.scalar()) err_.fail(v, not_a(v.node, "a value"), expected);
  const std::string s = v.text();
  const QuantityText q = split_quantity(s);
  switch (q.status) {
    case QuantityText::kOk: break;
    case QuantityText::kNoNumber: err_.fail(v, in_quotes(s) + " has no number", expected);
    case QuantityText::kBadNumber: err_.fail(v, in_quotes(s) + " is not a number followed by a unit", expected);
    case QuantityText::kOutOfRange: err_.fail(v, in_quotes(s) + " is out of range", expected);
  }
  if (q.unit.empty() && !units_.convertible("1", dim.unit)) err_.fail(v, in_quotes(s) + " has no unit", expected);
  if (!units_.parses(q.unit)) err_.fail(v, "unit " + in_quotes(q.unit) + " does not parse", expected);
  if (!units_.convertible(q.unit, dim.unit)) err_.fail(v, in_quotes(s) + " is not " + dim.noun, expected);
  double x = 0;
  try {
    x = units_.to(s, dim.unit);
  } catch (const UnitError& e) {
    err_.fail(v, e.what(), expected);
  }
  if (bound == Bound::kNonNegative && x < 0)
    err_.fail(v, in_quotes(s) + " must be >= 0", dim.noun + " >= 0 " + dim.unit);
  if (bound == Bound::kPositive && !(x > 0)) err_.fail(v, in_quotes(s) + " must be > 0", dim.noun + " > 0 " + dim.unit);
  check_real(v, in_quotes(s), x, dim.unit);
  return x;
}

std::vector<Val> Loader::list(const Val& v, const std::string& expected) const {
  if (!v.present() || !v.node.IsSequence()) err_.fail(v, not_a(v.node, "a list"), expected);
  std::vector<Val> items;
  for (size_t i = 0; i < v.node.size(); ++i) {
    const YAML::Node n = v.node[i];
    items.push_back(Val{n, v.path + "[" + std::to_string(i) + "]", n.IsNull() ? v.mark : n.Mark()});
  }
  return items;
}

const Region& Loader::region(const Val& v) const {
  std::vector<std::string> names;
  for (const Region& r : regions_) names.push_back(r.name);
  const std::string expected = names.empty() ? "a region name, but no regions are defined" : "one of: " + join(names);
  const std::string s = text(v, expected);
  for (const Region& r : regions_)
    if (r.name == s) return r;
  err_.fail(v, in_quotes(s) + " is not a defined region", expected);
}

MapData Loader::map_keys(Keys& m) const {
  MapData md;
  md.path = m.path("file", kMapFormats);
  md.array = m.opt("array", Or{""}, [&](const Val& av) {
    if (!av.scalar()) err_.fail(av, not_a(av.node, "text"), "the name of an array in the file");
    return av.text();
  });
  return md;
}

void Loader::read_map(const Keys& m, MapData& md) const {
  const Val fv = m.get("file");
  const fs::path& path = md.path;
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string what = "cannot read map " + in_quotes(fv.text()) + ": ";
  if (ext != ".vti" && ext != ".mha" && ext != ".mhd" && ext != ".nrrd")
    err_.fail(fv, what + "unsupported format " + in_quotes(ext), kMapFormats);
  try {
    check_input_file(path.string(), InputKind::Data);
  } catch (const InputFileError& e) {
    err_.fail(fv, what + e.reason(), kMapFormats);
  }
  ImageMap im;
  try {
    im = read_image_map(path.string(), md.array);
  } catch (const std::exception& e) {
    std::string reason = e.what();
    const std::string prefix = path.string() + ": ";
    if (reason.compare(0, prefix.size(), prefix) == 0) reason = reason.substr(prefix.size());
    err_.fail(fv, what + reason, kMapFormats);
  }
  const Dims& g = p_.grid.d;
  if (im.d.nx != g.nx || im.d.ny != g.ny || im.d.nz != g.nz || (long long)im.values.size() != nvox()) {
    auto shape = [](const Dims& d) {
      return std::to_string(d.nx) + "x" + std::to_string(d.ny) + "x" + std::to_string(d.nz);
    };
    err_.fail(fv, "map shape " + shape(im.d) + " does not match grid shape " + shape(g),
              "a map with one value per voxel of the grid");
  }
  md.values = std::move(im.values);
}

// Voxel index (i, j, k) of a flat index, for messages.
static std::string voxel(const Dims& d, long long idx) {
  return "(" + std::to_string(idx % d.nx) + ", " + std::to_string((idx / d.nx) % d.ny) + ", " +
         std::to_string(idx / ((long long)d.nx * d.ny)) + ")";
}

// ---- sections --------------------------------------------------------------------------------

// A count as an integer (scientific beyond 1e15).
static std::string count_text(double n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, n < 1e15 ? "%.0f" : "%.3g", n);
  return buf;
}

void Loader::check_memory(const Val& at, int nfields) const {
  const MemoryCost need = memory_floor(nvox(), nfields, machine_.backend);
  const std::string why = memory_refusal(need, machine_, true);
  if (why.empty()) return;
  // Most voxels that fit: what is available over the floor's bytes per voxel.
  const MemoryCost one = memory_floor(1, nfields, machine_.backend), none = memory_floor(0, nfields, machine_.backend);
  const bool host = need.host > machine_.host_available;
  const double avail = host ? machine_.host_available - none.host : machine_.device_available;
  const double per_voxel = host ? one.host - none.host : one.device;
  const Dims& d = p_.grid.d;
  // A patient's later lesion sees what the lesions before it leave (load_patient).
  const std::string beside = earlier_.empty() ? "" : " beside the lesions listed before it";
  err_.fail(at,
            std::to_string(d.nx) + " x " + std::to_string(d.ny) + " x " + std::to_string(d.nz) + " voxels with " +
                std::to_string(nfields) + (nfields == 1 ? " field " : " fields ") + why + beside,
            "at most " + count_text(std::max(0.0, std::floor(avail / per_voxel))) + " voxels with " +
                std::to_string(nfields) + (nfields == 1 ? " field" : " fields") + " on this machine");
}

void Loader::read_grid(Keys& g, int nfields) {
  const std::string shape_expected = "3 positive integers, e.g. [100, 100, 100]";
  const Val sv = g.fields().required("shape", shape_expected);
  List shape = g.list("shape", shape_expected, Style::kFlow);
  if (shape.size() != 3) err_.fail(sv, "has " + std::to_string(shape.size()) + " entries", shape_expected);
  const std::vector<long long> n = shape.each([&](const Val& e) { return integer(e, 1, INT_MAX, shape_expected); });
  // The voxel count must fit the flat index (long long) with room for every field: beyond
  // 2^40 the product of three ints can wrap to a small or zero count.
  const double count = (double)n[0] * n[1] * n[2];
  if (count > kMaxVoxels)
    err_.fail(sv,
              std::to_string(n[0]) + " x " + std::to_string(n[1]) + " x " + std::to_string(n[2]) + " = " + fmt(count) +
                  " voxels is too many",
              "at most " + fmt(kMaxVoxels) + " voxels (2^40)");
  p_.grid.d = Dims{(int)n[0], (int)n[1], (int)n[2]};
  check_memory(sv, nfields);  // before any per-voxel buffer of the scene is made

  const std::string spacing_expected = "a length > 0 um or a list of 3, e.g. 20 um";
  const Val hv = g.fields().required("spacing", spacing_expected);
  if (hv.node.IsSequence()) {
    const std::vector<double> h = g.quantities("spacing", kLength, Bound::kPositive, spacing_expected, 3);
    std::copy(h.begin(), h.end(), p_.grid.h);
  } else {
    const double h = quantity(hv, kLength, Bound::kPositive, spacing_expected);
    std::fill(p_.grid.h, p_.grid.h + 3, h);
    g.resolved("spacing", flow(YAML::Node(std::vector<std::string>(3, hv.text()))));  // the same on every axis
  }

  const std::vector<double> o =
      g.quantities("origin", kLength, Bound::kAny, "a list of 3 lengths, e.g. [0 um, 0 um, 0 um]", 3,
                   Or::node(YAML::Node(std::vector<std::string>(3, "0 um"))));
  std::copy(o.begin(), o.end(), p_.grid.origin);
}

void Loader::read_time(Keys& t) {
  p_.time.t_end = t.quantity("end", kTime, Bound::kPositive);
  end_at_ = t.get("end");
  step_at_ = t.get("step");
  // until: the run ends there (apply_until, after the whole scene is read against end).
  if (t.has("until")) {
    until_at_ = t.get("until");
    until_ = t.quantity("until", kTime, Bound::kPositive, "a time > 0 s and <= time.end, e.g. '3 d'");
    if (until_ > p_.time.t_end)
      err_.fail(until_at_, in_quotes(until_at_.text()) + " is after end " + in_quotes(t.get("end").text()),
                "a time > 0 s and <= time.end, e.g. '3 d'");
  }
  p_.time.output_every = t.quantity("output_every", kTime, Bound::kPositive);
  const Val ev = t.get("end"), ov = t.get("output_every");
  if (p_.time.output_every > p_.time.t_end)
    err_.fail(ov, in_quotes(ov.text()) + " is longer than end " + in_quotes(ev.text()),
              "an output interval <= time.end");
  const double outputs = output_count(p_.time);
  if (outputs > kMaxOutputs)
    err_.fail(ov, in_quotes(ov.text()) + " gives " + count_text(outputs) + " volumes over end " + in_quotes(ev.text()),
              "at most " + count_text(kMaxOutputs) + " volumes (time.end / time.output_every + 1)");

  const std::string integ =
      t.choice("integrator", {"explicit", "lod", "adi", "be", "trbdf2"}, "an available integrator", Or{"explicit"});
  parse_integrator(integ, &p_.time.integrator);
  const bool implicit = p_.time.integrator != Integrator::kExplicit;

  // step: explicit: 'auto' (stability limit x cfl) or a maximum step; lod/adi: a fixed
  // maximum step, or 'auto' (chosen from time.tolerance).
  const std::string step = t.opt("step", Or{"auto"}, [&](const Val& sv) {
    const std::string expected = "'auto' or a time > 0 s, e.g. '10 s'";
    if (sv.scalar() && sv.text() == "auto") return sv.text();
    if (sv.scalar() && split_quantity(sv.text()).status == QuantityText::kNoNumber)
      err_.fail(sv, in_quotes(sv.text()) + " is neither 'auto' nor a time", expected);
    (implicit ? p_.time.step : p_.time.max_step) = quantity(sv, kTime, Bound::kPositive, expected);
    return sv.text();
  });

  if (implicit) {
    if (t.has("cfl"))
      err_.fail(t.get("cfl"), "cfl applies to the explicit integrator only", "no cfl with integrator " + integ);
    if (t.has("tolerance") && step != "auto")
      err_.fail(t.get("tolerance"), "tolerance applies to step: auto only", "either a fixed step or a tolerance");
    if (step == "auto")
      p_.time.tolerance = t.number("tolerance", "a relative error in (0, 0.5], a number without a unit, e.g. 1e-3",
                                   Or{"1e-3"}, [](double x) { return x > 0 && x <= 0.5; });
  } else {
    if (t.has("tolerance"))
      err_.fail(t.get("tolerance"), "tolerance applies to the lod, adi, be and trbdf2 integrators only",
                "no tolerance with integrator explicit");
    p_.time.cfl = t.number("cfl", "a number in (0, 1], e.g. 0.9", Or{"0.9"}, [](double x) { return x > 0 && x <= 1; });
  }
  // model_terms: be/trbdf2 only; 'in_solve' moves the model's secretion and uptake of
  // diffusing fields into the linear solve (kernels/backward_euler.hpp).
  if (p_.time.integrator == Integrator::kBe || p_.time.integrator == Integrator::kTrBdf2)
    p_.time.terms_in_solve =
        t.choice("model_terms", {"split", "in_solve"}, "a way to couple the model's terms", Or{"split"}) == "in_solve";
  else if (t.has("model_terms"))
    err_.fail(t.get("model_terms"), "model_terms applies to the be and trbdf2 integrators only",
              "no model_terms with integrator " + integ);
}

void Loader::check_steps() const {
  const StepCount n = step_count(p_);
  if (n.min <= kMaxSteps) return;
  char buf[128];
  std::snprintf(buf, sizeof buf, "takes %s%.3g steps, more than the limit of %.3g steps per run",
                n.fixed() ? "" : "at least ", n.min, kMaxSteps);
  const Val& end = until_ >= 0 ? until_at_ : end_at_;
  const std::string takes = "the run to " + in_quotes(end.text()) + " " + buf;
  const std::string fewer = "a run of at most " + fmt(kMaxSteps) + " steps: ";
  const std::string implicit_too = ", or an implicit integrator (time.integrator: lod, adi, be or trbdf2)";
  if (p_.time.integrator != Integrator::kExplicit) {
    if (p_.time.step > 0)
      err_.fail(step_at_, "a step of " + in_quotes(step_at_.text()) + ": " + takes,
                fewer + "a longer step or a shorter time.end");
    err_.fail(end, takes, fewer + "a shorter time.end");
  }
  const Problem::StepLimit lim = p_.explicit_step_limit();
  if (p_.time.max_step > 0 && !(p_.time.max_step >= lim.dt * p_.time.cfl))
    err_.fail(step_at_, "a step of at most " + in_quotes(step_at_.text()) + ": " + takes,
              fewer + "a longer step, a shorter time.end" + implicit_too);
  // The field whose rates limit the stable step, and the largest of them.
  const RateAt at = lim.species >= 0 && lim.species < (int)rate_at_.size() ? rate_at_[(size_t)lim.species] : RateAt{};
  const std::string field = lim.species >= 0 ? in_quotes(p_.species[(size_t)lim.species].name) : "";
  const struct {
    double rate;
    const std::string& at;
    const char* what;
  } parts[3] = {{lim.diffusion, at.diffusion, "diffusion over the grid spacing"},
                {lim.decay, at.decay, "decay"},
                {lim.uptake, at.uptake, "uptake (vmax / km)"}};
  const auto* worst = &parts[0];
  for (const auto& q : parts)
    if (q.rate > worst->rate) worst = &q;
  char step[64];
  std::snprintf(step, sizeof step, "%.3g s", lim.dt * p_.time.cfl);
  if (!worst->at.empty())
    throw SceneError(worst->at + ": the " + worst->what + " of field " + field + " limits the explicit step to " +
                     step + ": " + takes + " (expected " + fewer + "a smaller value, a shorter time.end" +
                     implicit_too + ")");
  err_.fail(end, takes + " (the explicit step is at most " + step + ")", fewer + "a shorter time.end" + implicit_too);
}

std::vector<uint8_t> Loader::shape_mask(const Fields& shape, const std::string& kind) const {
  std::vector<uint8_t> mask(nvox(), 0);
  const Dims& d = p_.grid.d;
  const Val sv = shape.get(kind);
  if (kind == "sphere") {
    // The region is echoed as written (read_regions): these entries are not kept.
    Keys s(*this, Fields(err_, sv, {"center", "radius"}), YAML::Node(YAML::NodeType::Map));
    const std::vector<double> c = s.lengths3("center", "a list of 3 lengths, e.g. [1 mm, 1 mm, 1 mm]");
    const double r = s.quantity("radius", kLength, Bound::kPositive);
    for (int k = 0; k < d.nz; ++k)
      for (int j = 0; j < d.ny; ++j)
        for (int i = 0; i < d.nx; ++i) {
          const double dx = p_.grid.center(0, i) - c[0], dy = p_.grid.center(1, j) - c[1],
                       dz = p_.grid.center(2, k) - c[2];
          mask[d.index(i, j, k)] = dx * dx + dy * dy + dz * dz <= r * r;
        }
  } else {
    Keys b(*this, Fields(err_, sv, {"min", "max"}), YAML::Node(YAML::NodeType::Map));
    const std::string expected = "a list of 3 lengths, e.g. [0 um, 0 um, 0 um]";
    const std::vector<double> lo = b.lengths3("min", expected), hi = b.lengths3("max", expected);
    for (int a = 0; a < 3; ++a)
      if (!(hi[a] > lo[a]))
        err_.fail(b.get("max"), std::string("is not above min along ") + "xyz"[a], "max > min on every axis");
    for (int k = 0; k < d.nz; ++k)
      for (int j = 0; j < d.ny; ++j)
        for (int i = 0; i < d.nx; ++i) {
          const double x[3] = {p_.grid.center(0, i), p_.grid.center(1, j), p_.grid.center(2, k)};
          bool in = true;
          for (int a = 0; a < 3; ++a) in = in && x[a] >= lo[a] && x[a] <= hi[a];
          mask[d.index(i, j, k)] = in;
        }
  }
  return mask;
}

void Loader::read_regions(Keys& top) {
  Keys rs = top.names("regions", "a mapping of region names to shapes", Style::kBlock,
                      Or::node(YAML::Node(YAML::NodeType::Map)));
  rs.rest([&](const Val& key, const Val& val) {  // echoed as written: lengths keep the user's units
    const std::string name = identifier(key, "region name");
    if (name == "background") err_.fail(key, "'background' is reserved", "another region name");
    const Fields shape(err_, val, {"sphere", "box"});
    const std::string kind = shape.one_of({"sphere", "box"});
    std::vector<uint8_t> mask = shape_mask(shape, kind);
    if (std::find(mask.begin(), mask.end(), 1) == mask.end())
      err_.fail(val, "region lies outside the grid", "at least one voxel centre inside the grid");
    regions_.push_back({name, std::move(mask)});
  });
}

void Loader::read_tissue(Keys& top) {
  if (!top.has("tissue")) return;
  have_tissue_ = true;
  Keys t = top.map("tissue", {"labels", "regions", "map"});

  const std::string labels_expected = "a list of 1 to 16 label names, e.g. [normal, tumour]";
  const Val lv = t.fields().required("labels", labels_expected);
  List labels = t.list("labels", labels_expected, Style::kFlow);
  if (labels.empty() || (int)labels.size() > kMaxLabels)
    err_.fail(lv, "has " + std::to_string(labels.size()) + " labels", labels_expected);
  labels.each([&](const Val& l) {
    const std::string name = identifier(l, "label name");
    if (name == "default") err_.fail(l, "'default' is reserved", "another label name");
    if (std::find(p_.label_names.begin(), p_.label_names.end(), name) != p_.label_names.end())
      err_.fail(l, "duplicate label " + in_quotes(name), "each label once");
    p_.label_names.push_back(name);
    return 0;
  });
  p_.labels.assign(nvox(), 0);

  if (t.has("regions") && t.has("map")) t.fields().one_of({"regions", "map"});  // fails: only one of them
  if (t.has("map")) {
    Keys m = t.map("map", {"file", "array"});
    MapData md = map_keys(m);
    read_map(m, md);
    const int n = (int)p_.label_names.size();
    for (long long i = 0; i < nvox(); ++i) {
      const double x = md.values[i];
      if (!(x >= 0 && x < n && x == std::floor(x)))
        err_.fail(m.get("file"),
                  "label map value " + fmt(x) + " at voxel " + voxel(p_.grid.d, i) + " is not a label index",
                  "integers 0.." + std::to_string(n - 1) + ", one per tissue label");
      p_.labels[i] = (uint8_t)x;
    }
  } else {
    List regions = t.list("regions", "a list of {label: <label>, region: <region>}");
    for (const Val& e : regions) {
      Keys f = regions.map(e, {"label", "region"});
      const std::string ln = f.choice("label", p_.label_names, "a tissue label", "one of: " + join(p_.label_names));
      const Region& r = f.region("region");
      const uint8_t value =
          (uint8_t)(std::find(p_.label_names.begin(), p_.label_names.end(), ln) - p_.label_names.begin());
      for (long long i = 0; i < nvox(); ++i)
        if (r.mask[i]) p_.labels[i] = value;
    }
  }
}

void Loader::read_observe(Keys& top) {
  // Absent: every region, in the order defined.
  std::vector<std::string> all;
  for (const Region& r : regions_) all.push_back(r.name);
  List observe = top.list("observe", "a list of region names", Style::kFlow, Or::node(YAML::Node(all)));
  std::vector<const Region*> chosen;
  observe.each([&](const Val& e) {
    const Region& r = region(e);
    if (std::find(chosen.begin(), chosen.end(), &r) != chosen.end())
      err_.fail(e, "region " + in_quotes(r.name) + " is listed twice", "each region once");
    chosen.push_back(&r);
    p_.regions.push_back({r.name, r.mask});
    return 0;
  });
}

// "<file>:<line>:<column>: <key path>" of v, read through `err`.
static std::string position_of(const Errors& err, const Val& v) { return err.position(v.mark) + ": " + v.path; }

Loader::RateAt& Loader::rate_at_current() {
  rate_at_.resize(p_.species.size());
  return rate_at_.back();
}

void Loader::read_diffusion(Keys& s, const std::string& key, SpeciesCoeffs& c) {
  const Val v = s.fields().required(key, kDiffusion.expect());
  if (!v.node.IsMap()) {
    const double d = s.value(key, kDiffusion, Bound::kNonNegative);
    c.uses_labels = 0;
    for (real& x : c.D) x = real(d);
    rate_at_current().diffusion = position_of(s.fields().errors(), v);
    return;
  }
  if (!have_tissue_)
    err_.fail(v, "per-label diffusion needs a tissue section",
              "a single diffusion coefficient, e.g. '10 um^2/s', or tissue.labels");
  std::vector<std::string> keys{"default"};
  keys.insert(keys.end(), p_.label_names.begin(), p_.label_names.end());
  Keys f = s.map(key, keys);
  const double d = f.req("default", "a diffusion coefficient for labels not listed, e.g. '10 um^2/s'",
                         [&](const Val& x) { return value(x, kDiffusion, Bound::kNonNegative); });
  for (real& x : c.D) x = real(d);
  c.uses_labels = 1;
  double largest = d;
  std::string largest_at = position_of(s.fields().errors(), f.get("default"));
  f.rest([&](const Val& label, const Val& val) {
    const int l = int(std::find(p_.label_names.begin(), p_.label_names.end(), label.text()) - p_.label_names.begin());
    c.D[l] = real(value(val, kDiffusion, Bound::kNonNegative));
    if (double(c.D[l]) > largest) {
      largest = double(c.D[l]);
      largest_at = position_of(s.fields().errors(), val);
    }
  });
  rate_at_current().diffusion = largest_at;
}

void Loader::read_boundary(Keys& s, const Dim& conc, SpeciesCoeffs& c) {
  const std::string expected = "no_flux, periodic or {fixed: <concentration>}";
  auto parse = [&](const Val& bv) {
    if (bv.present() && bv.node.IsMap()) {
      const Fields f(err_, bv, {"fixed"});
      return FaceBC{kFixed, real(quantity(f.required("fixed", conc.expect()), conc, Bound::kNonNegative))};
    }
    const std::string t = text(bv, expected);
    if (t == "no_flux") return FaceBC{kNoFlux, 0};
    if (t == "periodic") return FaceBC{kPeriodic, 0};
    err_.fail(bv, in_quotes(t) + " is not a boundary condition", expected);
  };
  std::vector<std::string> keys{"all"};
  keys.insert(keys.end(), kFaceNames, kFaceNames + 6);
  // Every face is echoed: its own condition, else 'all''s, else no_flux.
  Keys b = s.map("boundary", keys, Style::kBlock, Or::node(YAML::Node(YAML::NodeType::Map)));
  const bool all = b.has("all");
  if (all) parse(b.get("all"));  // checked before the faces
  for (int f = 0; f < 6; ++f) c.bc[f] = b.opt(kFaceNames[f], all ? Or::key(b.get("all")) : Or{"no_flux"}, parse);
  for (int a = 0; a < 3; ++a) {
    const int lo = 2 * a, hi = 2 * a + 1;
    if ((c.bc[lo].type == kPeriodic) == (c.bc[hi].type == kPeriodic)) continue;
    const int per = c.bc[lo].type == kPeriodic ? lo : hi, other = per == lo ? hi : lo;
    // Point at the face set on its own (with 'all' both faces would agree).
    const char* at = b.has(kFaceNames[per]) ? kFaceNames[per] : b.has(kFaceNames[other]) ? kFaceNames[other] : "all";
    err_.fail(b.get(at), std::string(kFaceNames[per]) + " is periodic but " + kFaceNames[other] + " is not",
              std::string("periodic on both ") + kFaceNames[lo] + " and " + kFaceNames[hi]);
  }
}

void Loader::read_initial(Keys& s, const std::string& key, const Dim& conc, real* init) {
  const long long n = nvox();
  const Or zero{"0 " + conc.unit};
  Keys f = s.map(key, {"constant", "gaussian", "regions", "map"}, Style::kBlock, Or::entry("constant", zero.text));
  const std::string kind = f.fields().one_of({"constant", "gaussian", "regions", "map"});
  if (kind == "constant") {
    std::fill(init, init + n, real(f.quantity("constant", conc, Bound::kNonNegative)));
  } else if (kind == "gaussian") {
    Keys g = f.map("gaussian", {"center", "sigma", "peak", "background"});
    const std::vector<double> c = g.lengths3("center", "a list of 3 lengths, e.g. [1 mm, 1 mm, 1 mm]");
    const double sigma = g.quantity("sigma", kLength, Bound::kPositive);
    const double peak = g.quantity("peak", conc, Bound::kNonNegative);
    const double bg = g.quantity("background", conc, Bound::kNonNegative, zero);
    const Dims& d = p_.grid.d;
    for (int k = 0; k < d.nz; ++k)
      for (int j = 0; j < d.ny; ++j)
        for (int i = 0; i < d.nx; ++i) {
          const double dx = p_.grid.center(0, i) - c[0], dy = p_.grid.center(1, j) - c[1],
                       dz = p_.grid.center(2, k) - c[2];
          const double r2 = dx * dx + dy * dy + dz * dz;
          init[d.index(i, j, k)] = real(bg + peak * std::exp(-r2 / (2 * sigma * sigma)));
        }
  } else if (kind == "regions") {
    Keys r = f.names("regions", "a mapping of region names (and 'background') to concentrations");
    std::fill(init, init + n, real(r.quantity("background", conc, Bound::kNonNegative, zero)));
    r.rest([&](const Val& name, const Val& val) {
      const Region& reg = region(name);
      const real x = real(quantity(val, conc, Bound::kNonNegative));
      for (long long i = 0; i < n; ++i)
        if (reg.mask[i]) init[i] = x;
    });
  } else {
    Keys m = f.map("map", {"file", "array", "unit"});
    MapData md = map_keys(m);
    // The unit is checked before the file is read.
    const std::string unit = m.unit("unit", Or{conc.unit}, "a unit convertible to " + conc.unit, conc);
    read_map(m, md);
    // value in species unit = a + b * map value (affine, so offsets would be honoured too)
    const double a = units_.to("0 " + unit, conc.unit), b = units_.to("1 " + unit, conc.unit) - a;
    for (long long i = 0; i < n; ++i) {
      const double x = a + b * md.values[i];
      if (!(x >= 0) || !std::isfinite(x))
        err_.fail(
            m.get("file"),
            "map value " + fmt(md.values[i]) + " at voxel " + voxel(p_.grid.d, i) + " is not a concentration >= 0",
            "concentrations >= 0");
      if (x > double(std::numeric_limits<real>::max()))
        check_real(m.get("file"), "map value " + fmt(md.values[i]) + " at voxel " + voxel(p_.grid.d, i), x, conc.unit);
      init[i] = real(x);
    }
  }
}

void Loader::read_sources(Keys& s, const Dim& rate, SpeciesCoeffs& c) {
  List items = s.list("sources", "a list of {region: <name>, rate: <value>} or {map: {file, array}, rate: <value>}");
  if (items.empty()) return;
  const long long n = nvox();
  std::vector<double> block(n, 0.0);  // all sources of the species, summed
  for (const Val& e : items) {
    Keys f = items.map(e, {"region", "map", "rate"});
    if (f.fields().one_of({"region", "map"}) == "region") {
      const Region& r = f.region("region");
      const double q = f.quantity("rate", rate, Bound::kNonNegative);
      for (long long i = 0; i < n; ++i)
        if (r.mask[i]) block[i] += q;
    } else {
      Keys m = f.map("map", {"file", "array"});
      MapData md = map_keys(m);
      read_map(m, md);
      const double q = f.quantity("rate", rate, Bound::kNonNegative);
      for (long long i = 0; i < n; ++i) {
        const double x = md.values[i];
        if (!(x >= 0) || !std::isfinite(x))
          err_.fail(m.get("file"),
                    "map value " + fmt(x) + " at voxel " + voxel(p_.grid.d, i) + " is negative or not finite",
                    "source map values >= 0");
        block[i] += q * x;
      }
    }
  }
  for (long long i = 0; i < n; ++i)  // each rate fits; their sum (or a map value times a rate) must too
    if (block[i] > double(std::numeric_limits<real>::max()))
      check_real(s.get("sources"), "the summed source rate at voxel " + voxel(p_.grid.d, i), block[i], rate.unit);
  c.src_slot = (int)src_blocks_.size();
  src_blocks_.emplace_back(block.begin(), block.end());
}

void Loader::read_hold(Keys& s, const Dim& conc, SpeciesCoeffs& c) {
  const Val v = s.get("hold");
  if (!v.present() || (v.node.IsSequence() && v.node.size() == 0)) return;  // not echoed
  const long long n = nvox();
  std::vector<real> block(n, real(NAN));  // NaN: free voxel
  List items = s.list("hold", "a list of {region: <name>, value: <concentration>}");
  for (const Val& e : items) {
    Keys f = items.map(e, {"region", "value"});
    const Region& r = f.region("region");
    const double q = f.value("value", conc, Bound::kNonNegative);
    for (long long i = 0; i < n; ++i)  // regions hold at least one voxel centre (read_regions)
      if (r.mask[i]) block[i] = real(q);
  }
  c.hold_slot = (int)hold_blocks_.size();
  hold_blocks_.push_back(std::move(block));
}

void Loader::read_uptake(Keys& s, const Dim& conc, const Dim& rate, SpeciesCoeffs& c) {
  if (!s.has("uptake")) return;
  rate_at_current().uptake = position_of(s.fields().errors(), s.get("uptake"));
  Keys u = s.map("uptake", {"vmax", "km", "region"});
  const double vmax = u.quantity("vmax", rate, Bound::kNonNegative);
  c.km = real(u.quantity("km", conc, Bound::kPositive));
  std::vector<real> block(nvox(), real(vmax));
  if (u.has("region")) {  // absent: everywhere
    const Region& r = u.region("region");
    for (long long i = 0; i < nvox(); ++i)
      if (!r.mask[i]) block[i] = 0;
  }
  c.upt_slot = (int)upt_blocks_.size();
  upt_blocks_.push_back(std::move(block));
}

void Loader::read_species(List& species, const Val& v, int index) {
  Keys s = species.map(v, {"name", "unit", "diffusion", "decay", "boundary", "initial", "sources", "uptake", "hold"},
                       Style::kBlock);
  const long long n = nvox();

  check_memory(v, index + 1);
  p_.initial.resize((size_t)(index + 1) * n, real(0));
  const std::string name = s.name("name", "species name");
  for (const SpeciesInfo& other : p_.species)
    if (other.name == name)
      err_.fail(s.get("name"), "duplicate species name " + in_quotes(name), "a name not used by an earlier species");
  const std::string unit = s.unit("unit", "a concentration unit, e.g. ng/mL, nM or cells/mm^3");
  p_.species.push_back({name, unit});
  const Dim conc = concentration(unit), rate = concentration_rate(unit);

  SpeciesCoeffs c;
  read_diffusion(s, "diffusion", c);
  c.decay = real(s.value("decay", kDecay, Bound::kNonNegative, Or{"0 1/s"}));
  if (s.has("decay")) rate_at_current().decay = position_of(s.fields().errors(), s.get("decay"));
  read_boundary(s, conc, c);
  read_initial(s, "initial", conc, p_.initial.data() + (size_t)index * n);
  read_sources(s, rate, c);
  read_hold(s, conc, c);
  read_uptake(s, conc, rate, c);
  p_.coeffs.push_back(c);
}

void Loader::read_output(Keys& top) {
  std::vector<std::string> names;
  for (const SpeciesInfo& s : p_.species) names.push_back(s.name);
  const std::string expected = "'all' or a list of species names (" + join(names) + ")";
  Keys o = top.map("output", {"fields", "at_events", "time_unit", "checkpoint_every"}, Style::kBlock,
                   Or::node(YAML::Node(YAML::NodeType::Map)));
  if (!o.get("fields").node.IsSequence()) {
    o.opt("fields", Or{"all"}, [&](const Val& fv) {
      if (!fv.scalar()) list(fv, expected);  // fails: neither 'all' nor a list
      if (fv.text() != "all") err_.fail(fv, in_quotes(fv.text()) + " is not 'all'", expected);
      return 0;
    });
  } else {
    List fields = o.list("fields", expected, Style::kFlow);
    if (fields.empty()) err_.fail(o.get("fields"), "is an empty list", expected);
    fields.each([&](const Val& e) {
      const std::string s = text(e, expected);
      if (std::find(names.begin(), names.end(), s) == names.end())
        err_.fail(e, in_quotes(s) + " is not a species", "one of: " + join(names));
      if (std::find(output_fields_.begin(), output_fields_.end(), s) != output_fields_.end())
        err_.fail(e, "species " + in_quotes(s) + " is listed twice", "each species once");
      output_fields_.push_back(s);
      return 0;
    });
  }
  read_at_events(o);
  // The unit of the volumes' TimeValue and of the .pvd times (what ParaView shows as the time).
  output_time_unit_ = o.opt("time_unit", Or{"s"}, [&](const Val& tv) {
    const std::string unit_expected = "s, h or d, the unit of TimeValue in the volumes";
    const std::string u = text(tv, unit_expected);
    if (!units_.parses(u)) err_.fail(tv, "unit " + in_quotes(u) + " does not parse", unit_expected);
    if (!units_.convertible(u, "s")) err_.fail(tv, in_quotes(u) + " is not a unit of time", unit_expected);
    if (u != "s" && u != "h" && u != "d") err_.fail(tv, "time unit " + in_quotes(u) + " is not offered", unit_expected);
    return u;
  });
  // Checkpoints for tmesim run --resume: optional, echoed only when given.
  if (o.has("checkpoint_every"))
    checkpoint_every_ = o.quantity("checkpoint_every", kTime, Bound::kPositive, "a time > 0 s, e.g. '1 d'");
}

void Loader::read_at_events(Keys& output) {
  const std::string expected = "a list of event kinds: fractions, doses (e.g. [fractions, doses]), or []";
  output.list("at_events", expected, Style::kFlow).each([&](const Val& e) {  // absent: none
    const std::string s = text(e, expected);
    bool* kind = s == "fractions" ? &at_fractions_ : s == "doses" ? &at_doses_ : nullptr;
    if (!kind) err_.fail(e, in_quotes(s) + " is not an event kind", expected);
    if (*kind) err_.fail(e, in_quotes(s) + " is listed twice", "each event kind once");
    *kind = true;
    return 0;
  });
}

int Loader::field_index(const Val& v, const std::string& role) const {
  std::vector<std::string> names;
  for (const SpeciesInfo& s : p_.species) names.push_back(s.name);
  const std::string expected = role + ": one of " + join(names);
  const std::string s = text(v, expected);
  for (size_t i = 0; i < p_.species.size(); ++i)
    if (p_.species[i].name == s) return (int)i;
  err_.fail(v, in_quotes(s) + " is not a defined field", expected);
}

// ---- command-line values -----------------------------------------------------------------

namespace {

const char* const kSetExpected = "--set path=value, e.g. --set time.end=3 d or --set parameters.k_kill=0.5 1/day";

// One step of a --set path: a key, or a list entry by index or by its `name`.
struct PathStep {
  enum Kind { kKey, kIndex, kName } kind = kKey;
  std::string key;  // kKey, kName
  size_t index = 0;
};

// "a.b[0].c[boost]" -> steps; "" when the path is well formed, else what is wrong.
std::string parse_path(const std::string& path, std::vector<PathStep>& steps) {
  size_t i = 0;
  if (path.empty()) return "the path is empty";
  while (i < path.size()) {
    const size_t end = path.find_first_of(".[", i);
    const std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (key.empty()) return "the path " + in_quotes(path) + " has an empty key";
    steps.push_back({PathStep::kKey, key, 0});
    i = end == std::string::npos ? path.size() : end;
    while (i < path.size() && path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string::npos) return "the path " + in_quotes(path) + " has a '[' without ']'";
      const std::string sel = path.substr(i + 1, close - i - 1);
      if (sel.empty()) return "the path " + in_quotes(path) + " has an empty []";
      if (std::all_of(sel.begin(), sel.end(), [](char c) { return std::isdigit((unsigned char)c); })) {
        if (sel.size() > 9) return "the path " + in_quotes(path) + " has an index too large";
        steps.push_back({PathStep::kIndex, "", (size_t)std::stoul(sel)});
      } else {
        steps.push_back({PathStep::kName, sel, 0});
      }
      i = close + 1;
    }
    if (i < path.size()) {
      if (path[i] != '.') return "the path " + in_quotes(path) + " has " + in_quotes(path.substr(i, 1)) + " after ']'";
      if (++i == path.size()) return "the path " + in_quotes(path) + " ends with '.'";
    }
  }
  return "";
}

}  // namespace

void Loader::apply_overrides(YAML::Node root, size_t text_size) {
  std::vector<std::pair<std::string, std::string>> args;  // (label, path=value)
  for (const std::string& a : overrides_.set) args.push_back({"--set " + a, a});
  if (!overrides_.until.empty()) args.push_back({"--until " + overrides_.until, "time.until=" + overrides_.until});
  // Nodes made here are parsed from text set off by blanks to positions past the file's end,
  // so that their marks (and those of their parts) say which argument they came from.
  int next = (int)std::min<size_t>(text_size + 1, INT_MAX / 2);
  for (const auto& [label, arg] : args) {
    auto fail = [&](const std::string& at, const std::string& wrong, const std::string& expected) {
      throw SceneError(label + ": " + (at.empty() ? "" : at + ": ") + wrong + " (expected " + expected + ")");
    };
    auto make = [&](const std::string& yaml) {
      const int pad = next;
      next += (int)yaml.size() + 1;
      err_.add_span(pad, next, label);
      try {
        return YAML::Load(std::string((size_t)pad, ' ') + yaml);
      } catch (const YAML::Exception& e) {
        fail("", "the value is not valid YAML: " + e.msg, "a value as the scene file would hold it");
      }
      return YAML::Node();
    };
    auto quoted = [&](const std::string& text) {
      std::string q = "'";
      for (char c : text) q += c == '\'' ? std::string("''") : std::string(1, c);
      return make(q + "'");
    };
    if (arg.size() > 4096) fail("", "the argument is longer than 4096 characters", kSetExpected);
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) fail("", "no '=' between path and value", kSetExpected);
    const std::string path = trim_blanks(arg.substr(0, eq)), value = trim_blanks(arg.substr(eq + 1));
    std::vector<PathStep> steps;
    const std::string bad = parse_path(path, steps);
    if (!bad.empty()) fail("", bad, kSetExpected);
    // The parameters of a model file are overridden through the scene's `parameters`.
    if (steps.size() > 2 && steps[0].key == "model" && steps[1].key == "parameters")
      fail("model.parameters", "the model's parameters are set through the scene's parameters",
           "--set parameters." + steps[2].key + "=<value>");
    // A list or mapping is taken as YAML flow ([1 mm, 2 mm, 3 mm]); anything else as text.
    const YAML::Node val = !value.empty() && (value[0] == '[' || value[0] == '{') ? make(value) : quoted(value);

    YAML::Node cur;
    cur.reset(root);
    std::string at;  // the path walked so far
    for (size_t k = 0; k < steps.size(); ++k) {
      const PathStep& st = steps[k];
      const bool last = k + 1 == steps.size();
      if (st.kind == PathStep::kKey) {
        const std::string here = at.empty() ? st.key : at + "." + st.key;
        if (!cur.IsMap())
          fail(at,
               (cur.IsScalar() ? in_quotes(trim_blanks(cur.Scalar())) + " is" : std::string("is a list,")) +
                   " not a mapping, so it has no key " + in_quotes(st.key),
               "a path to a value of the scene");
        YAML::Node found;
        bool exists = false;
        for (auto it = cur.begin(); it != cur.end() && !exists; ++it)
          if (it->first.IsScalar() && trim_blanks(it->first.Scalar()) == st.key) {
            if (last) it->second = val;  // the file's value takes the argument's (mark included)
            found.reset(it->second);
            exists = true;
          }
        if (!exists) {
          // Added: the reader then says whether the key is allowed there.
          found.reset(last ? val : make("{}"));
          cur.force_insert(quoted(st.key), found);
        }
        cur.reset(found);  // reset, not '=': assigning a node would overwrite what it refers to
        at = here;
      } else {
        const std::string sel = st.kind == PathStep::kIndex ? std::to_string(st.index) : st.key;
        const std::string here = at + "[" + sel + "]";
        if (!cur.IsSequence()) fail(at, std::string("is not a list, so it has no entry [") + sel + "]", "a key");
        size_t i = st.index;
        if (st.kind == PathStep::kIndex) {
          if (i >= cur.size())
            fail(here,
                 "no such entry: " + at + " has " + std::to_string(cur.size()) +
                     (cur.size() == 1 ? " entry" : " entries"),
                 cur.size() ? "an index from 0 to " + std::to_string(cur.size() - 1) : "an entry that exists");
        } else {
          std::vector<std::string> names;
          for (i = 0; i < cur.size(); ++i) {
            const YAML::Node e = cur[i];  // const: looking up "name" must not add it
            const YAML::Node n = e.IsMap() ? e["name"] : YAML::Node();
            if (n.IsDefined() && n.IsScalar()) {
              names.push_back(trim_blanks(n.Scalar()));
              if (names.back() == st.key) break;
            }
          }
          if (i == cur.size())
            fail(here, "no entry of " + at + " is named " + in_quotes(st.key),
                 names.empty() ? "an index" : "an index or one of the names " + join(names));
        }
        if (last) cur[i] = val;
        cur.reset(cur[i]);
        at = here;
      }
    }
  }
}

void Loader::apply_until() {
  if (until_ < 0) return;
  const double end = p_.time.t_end;
  // Output times of the full run (Simulation::output_times) after until.
  long long outputs = 0;
  for (long long i = 0;; ++i) {
    const double t = i * p_.time.output_every;
    if (t >= end * (1 - 1e-12)) break;
    outputs += t > until_;
  }
  outputs += end > until_;
  Model& m = p_.model;
  const size_t fractions = m.fractions.size();
  m.fractions.erase(
      std::remove_if(m.fractions.begin(), m.fractions.end(), [&](const FractionEvent& f) { return f.time_s > until_; }),
      m.fractions.end());
  size_t doses = 0;
  for (Drug& d : m.drugs) {
    const size_t n = d.doses.size();
    d.doses.erase(std::remove_if(d.doses.begin(), d.doses.end(), [&](const pk::Dose& x) { return x.time_s > until_; }),
                  d.doses.end());
    doses += n - d.doses.size();
  }
  p_.time.t_end = until_;
  if (until_ < end) {
    auto count = [](size_t n, const char* one) { return std::to_string(n) + " " + one + (n == 1 ? "" : "s"); };
    warnings_.push_back(err_.position(until_at_.mark) + ": time.until: the run ends at " + in_quotes(until_at_.text()) +
                        ", before time.end; dropped after it: " + count((size_t)outputs, "output") + ", " +
                        count(fractions - m.fractions.size(), "fraction") + ", " + count(doses, "drug dose"));
  }
}

LoadedScene Loader::load(const std::string& text_in) {
  err_.set_source(std::make_shared<const std::string>(text_in));
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text_in);
  } catch (const YAML::ParserException& e) {
    err_.syntax(e.mark, e.msg);
  }
  const YAML::Mark top;  // 1:1
  const std::string expected_root = "a mapping with keys name, grid, time and species";
  if (docs.size() > 1) err_.fail(docs[1].Mark(), "(top level)", "a second YAML document", "one document per scene");
  if (docs.empty() || docs[0].IsNull()) err_.fail(top, "(top level)", "the scene is empty", expected_root);
  const YAML::Node& root_node = docs[0];
  if (!root_node.IsMap()) err_.fail(root_node.Mark(), "(top level)", root_not_a_mapping(root_node), expected_root);
  apply_overrides(root_node, text_in.size());
  const Fields all(
      err_, Val{root_node, "", root_node.Mark()},
      {"name",    "seed",         "grid",       "time",        "regions",  "tissue",      "observe", "species",
       "output",  "model",        "parameters", "populations", "states",   "terms",       "drugs",   "blood",
       "initial", "radiotherapy", "well_mixed", "lesions",     "systemic", "lymph_nodes", "burden"});
  // A patient's lesion: the shared keys and those of its entry of `lesions:` (scene_lesions.cpp).
  const Fields root = all.has("lesions") ? lesion_root(all) : all;

  // The name becomes the run directory runs/<name>: a plain file name, never a path.
  Keys scene(*this, root, out_);
  p_.name = scene.req("name", kRunNameRule, [&](const Val& v) {
    const std::string s = text(v, kRunNameRule);
    if (!is_plain_file_name(s))
      err_.fail(v, (s.size() > 60 ? "'" + s.substr(0, 60) + "...'" : in_quotes(s)) + " is not a plain file name",
                kRunNameRule);
    return s;
  });
  p_.seed = (unsigned long long)scene.integer("seed", 0, LLONG_MAX, "a non-negative integer, e.g. 42", Or{"0"});

  int listed = 0;  // fields the scene lists itself; model files may add more
  for (const char* key : {"species", "populations", "states"})
    if (root.has(key) && root.get(key).node.IsSequence()) listed += (int)root.get(key).node.size();
  root.required("grid", "a mapping with keys shape, spacing, origin");
  Keys grid = scene.map("grid", {"shape", "spacing", "origin"});
  read_grid(grid, listed);
  if (!lesion_names_.empty()) check_overlap(grid.has("origin") ? grid.get("origin") : root.get("grid"));
  root.required("time", "a mapping with keys end, output_every, integrator, step, cfl, tolerance, model_terms");
  Keys time =
      scene.map("time", {"end", "until", "output_every", "integrator", "step", "cfl", "tolerance", "model_terms"});
  read_time(time);
  read_regions(scene);
  read_tissue(scene);
  read_observe(scene);

  out_["species"] = YAML::Node(YAML::NodeType::Sequence);  // the model files' species, then the scene's
  read_model_files(root);  // scene_model.cpp: model files, parameters, the model's species
  // With a model (a file, populations or states) the scene's own species are optional.
  const bool model_fields = root.has("model") || root.has("populations") || root.has("states");
  const std::string species_expected = "a non-empty list of species";
  const Val sv = model_fields ? root.get("species") : root.required("species", species_expected);
  List species(*this, sv.present() ? sv : Val{YAML::Node(YAML::NodeType::Sequence), sv.path, sv.mark}, species_expected,
               out_["species"]);
  if (species.empty() && !model_fields) err_.fail(sv, "is an empty list", species_expected);
  if (p_.species.size() + species.size() > (size_t)kMaxSpecies)
    err_.fail(sv, "has " + std::to_string(species.size()) + " species",
              "at most " + std::to_string(kMaxSpecies) + " species");
  for (const Val& s : species) read_species(species, s, p_.nspecies());
  read_model(root);          // scene_model.cpp
  read_radiotherapy(scene);  // scene_rt.cpp
  read_systemic(scene);      // scene_model.cpp, after the plans (node doses)
  read_output(scene);
  apply_until();
  // well_mixed: the same model on one voxel (host/core/well_mixed.hpp), averaged over the
  // whole grid or a region.
  std::vector<std::string> parts{"none", "grid"};
  for (const Region& r : regions_) parts.push_back(r.name);
  const std::string well_mixed =
      scene.choice("well_mixed", parts, "none, grid or a region to average over", Or{"none"});

  p_.nsrc = (int)src_blocks_.size();
  p_.src.clear();
  for (const auto& b : src_blocks_) p_.src.insert(p_.src.end(), b.begin(), b.end());
  p_.nhold = (int)hold_blocks_.size();
  p_.hold.clear();
  for (const auto& b : hold_blocks_) p_.hold.insert(p_.hold.end(), b.begin(), b.end());
  p_.nupt = (int)upt_blocks_.size();
  p_.upt.clear();
  for (const auto& b : upt_blocks_) p_.upt.insert(p_.upt.end(), b.begin(), b.end());

  try {
    p_.check();
  } catch (const std::exception& e) {
    err_.fail(top, "(top level)", e.what(), "a consistent problem");
  }

  // A copy of the mask averaged over: the loop below replaces every region's mask, that one's too.
  std::vector<uint8_t> over_mask;
  for (const Region& r : regions_)
    if (r.name == well_mixed) over_mask = r.mask;
  const uint8_t* over = over_mask.empty() ? nullptr : over_mask.data();
  if (well_mixed != "none") {
    try {
      Problem w = well_mixed_problem(p_, over);
      for (Region& r : regions_) r.mask = well_mixed_mask(p_, over, r.mask);
      p_ = std::move(w);
    } catch (const std::invalid_argument& e) {
      err_.fail(root.get("well_mixed"), e.what(), "a scene without held values (hold:)");
    }
  }
  p_.seed += seed_offset();  // a patient's lesion i: seed + i (seed_offset)
  check_steps();

  YAML::Emitter em;
  em << flow_empty(out_);
  LoadedScene ls;
  ls.problem = std::move(p_);
  ls.resolved_yaml = std::string(em.c_str()) + "\n";
  ls.output_fields = output_fields_;
  ls.output_time_unit = output_time_unit_;
  ls.checkpoint_every = checkpoint_every_;
  for (const Region& r : regions_) ls.regions.push_back({r.name, r.mask});
  ls.output_at_fractions = at_fractions_;
  ls.output_at_doses = at_doses_;
  ls.warnings = warnings_;
  ls.parameters = parameters();
  ls.systemic = systemic_;
  return ls;
}

}  // namespace scene_detail

using scene_detail::Loader;
namespace fs = std::filesystem;

namespace scene_detail {

LoadedScene load_text(const std::string& text, const std::string& name, const std::string& base_dir,
                      const Machine& machine, const SceneOverrides& overrides, LesionSetup* lesion) {
  try {
    Loader loader(name, base_dir, machine);
    loader.set_overrides(overrides);
    if (lesion) loader.set_lesion(lesion->index, lesion->earlier);
    LoadedScene ls = loader.load(text);
    ls.path = name;
    if (lesion) lesion->names = loader.lesion_names();
    return ls;
  } catch (const SceneError&) {
    throw;
  } catch (const YAML::Exception& e) {
    // Anything yaml-cpp raises past parsing (should not happen) still gets a position.
    throw SceneError(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                     ": (top level): " + e.msg + " (expected a valid scene)");
  } catch (const UnitError& e) {
    throw SceneError(name + ":1:1: (top level): " + e.what() + " (expected a working UDUNITS-2 installation)");
  }
}

std::string read_scene_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file(path, InputKind::Yaml);
  } catch (const InputFileError& e) {
    throw SceneError(path + ":1:1: (top level): cannot read the scene file: " + e.reason() +
                     " (expected a regular YAML file of at most " + byte_text(kMaxYamlBytes) + ")");
  }
  check_yaml_text(Errors(path), text);
  return text;
}

std::string scene_dir(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace scene_detail

LoadedScene load_scene_text(const std::string& text, const std::string& name, const std::string& base_dir,
                            const Machine& machine, const SceneOverrides& overrides) {
  return scene_detail::load_text(text, name, base_dir, machine, overrides, nullptr);
}

LoadedScene load_scene(const std::string& path, const Machine& machine, const SceneOverrides& overrides) {
  const std::string text = scene_detail::read_scene_file(path);
  return load_scene_text(text, path, scene_detail::scene_dir(path), machine, overrides);
}

}  // namespace tme
