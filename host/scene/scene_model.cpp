// Scene sections of the coupled model ("the model is data"): model files with
// includes, named parameters, populations, local states, initial overrides (vessel maps),
// drugs, blood inputs and reaction terms, converted once into Problem::model in the internal
// units of kernels/term_types.hpp. Terms are read by walking their kind's row of the term
// registry (kTermRegistry there). The schema is documented in docs/model.md; keep the two in
// step (tests/app/test_term_registry.cpp holds the term table to the registry).
//
// Every message names the file the offending value is in: each model file has its own Errors,
// and InFile points the loader's readers (err_, base_dir_) at the file being read.
#include <climits>
#include <cmath>
#include <deque>
#include <fstream>
#include <functional>
#include <sstream>
#include <tuple>

#include "host/core/influx_tally.hpp"
#include "host/core/vessels.hpp"
#include "host/scene/loader.hpp"
#include "host/scene/regimen.hpp"

namespace tme {
namespace scene_detail {

namespace {

const std::vector<std::string> kModelFileKeys{"include", "parameters", "overrides", "species",  "populations", "states",
                                              "terms",   "drugs",      "blood",     "systemic", "burden"};
const std::vector<std::string> kSceneModelKeys{"model", "parameters", "populations", "states", "terms",
                                               "drugs", "blood",      "initial",     "burden"};
// The kind keys of terms (kTermRegistry, kernels/term_types.hpp), and the other keys of one.
std::vector<std::string> term_kind_names() {
  std::vector<std::string> v;
  for (const TermRow& r : kTermRegistry) v.push_back(r.name);
  return v;
}
std::vector<std::string> term_keys(const TermRow& r) {
  std::vector<std::string> v;
  for (const TermKey& k : r.keys)
    if (k.key) v.push_back(k.key);
  return v;
}
const std::vector<std::string> kFactorKinds{"activate", "inhibit", "room", "linear"};
const std::vector<std::string> kPkKeys{"central_volume", "peripheral_volume", "clearance", "intercompartmental",
                                       "molecular_weight"};

const std::string kPopUnit = "cells/mm^3";  // the unit of every population
const std::string kParamExpected = "a number with a unit, e.g. '0.4 1/day', or the name of another parameter";

const Dim kHill{"a Hill coefficient", "1", "1.26"};
const Dim kVolume{"a volume", "L", "3 L"};
const Dim kClearance{"a clearance", "L/s", "0.2 L/day"};
const Dim kMolarMass{"a molecular weight", "g/mol", "146000 g/mol"};
const Dim kBodyWeight{"a body weight", "kg", "70 kg"};
const Dim kCapacity{"a carrying capacity", kPopUnit, "2e5 cells/mm^3"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// "(a)/b/(c)": num divided by each of dens, dimensionless ("1") parts left out.
std::string quot(const std::string& num, const std::vector<std::string>& dens) {
  auto wrap = [](const std::string& u) {
    const bool plain =
        std::all_of(u.begin(), u.end(), [](char c) { return std::isalnum((unsigned char)c) || c == '_'; });
    return plain ? u : "(" + u + ")";
  };
  std::string s = num.empty() || num == "1" ? "1" : wrap(num);
  for (const std::string& d : dens)
    if (!d.empty() && d != "1") s += "/" + wrap(d);
  return s;
}

Dim dim_in(const std::string& noun, const std::string& unit) { return {noun, unit, "1 " + unit}; }

// The unit converts to target (UnitSystem refuses reciprocal conversions such as s -> 1/s).
bool same_dimension(const UnitSystem& u, const std::string& unit, const std::string& target) {
  return u.parses(unit) && u.convertible(unit, target);
}

}  // namespace

// One YAML file of the model: a model file or the scene itself.
struct ModelFile {
  std::string name;  // as messages show it
  fs::path dir;      // relative paths inside it resolve here
  fs::path id;       // canonical path (include cycles, shared includes)
  Errors err;
  Val root;
  bool scene = false;
};

// A named parameter: a literal quantity or the name of another parameter (an alias).
struct Param {
  std::string name;
  Val def;             // the value as written (scalar)
  std::string source;  // where the figure comes from ("" when not given)
  Val written;         // the entry as written: the value, or {value, source, range}
  int file = 0;        // index into ModelState::files
  bool alias = false;
  int target = -1;  // the parameter holding the literal (itself unless an alias)
  // range: [low, high], in the literal's unit (unit; "1" when it has none); number: the literal.
  bool ranged = false;
  Val range{YAML::Node(YAML::NodeType::Undefined), "", YAML::Mark()};
  std::string unit{};
  double number = 0, low = 0, high = 0;
};

struct Loader::ModelState {
  std::deque<ModelFile> files;   // model files (included ones first), then the scene
  std::vector<Param> params;     // in definition order
  bool any = false;              // the scene uses a model key (the resolved scene shows them)
  bool from_file = false;        // a model file was given: scene parameters only override
  std::vector<char> population;  // per field: 1 for a population
  std::vector<double> floor;     // per field: absolute tolerance [its unit]; 0 = default

  int param(const std::string& name) const {
    for (size_t i = 0; i < params.size(); ++i)
      if (params[i].name == name) return (int)i;
    return -1;
  }
  std::vector<std::string> param_names() const {
    std::vector<std::string> n;
    for (const Param& p : params) n.push_back(p.name);
    return n;
  }
  std::string where(const Param& p) const { return files[p.file].err.position(p.def.mark); }
};

// A drug or blood input assembled from a model file's entry and the scene's entry of the same
// name: each key keeps the value and the file it came from.
struct Entry {
  struct Key {
    std::string key;  // "dose", "pk.clearance", ...
    Val val;
    int file;
  };
  std::string name;
  Val item;  // the first definition
  int file = 0;
  bool overridden = false;
  std::vector<Key> keys;
  const Key* get(const std::string& k) const {
    for (const Key& e : keys)
      if (e.key == k) return &e;
    return nullptr;
  }
  void set(const std::string& k, const Val& v, int f) {
    erase(k);
    keys.push_back({k, v, f});
  }
  void erase(const std::string& k) {
    keys.erase(std::remove_if(keys.begin(), keys.end(), [&](const Key& e) { return e.key == k; }), keys.end());
  }
};

struct ModelReader {
  Loader& L;
  Loader::ModelState& m;
  const Fields& root;

  // Points the loader's readers at one file while alive: its messages, its directory.
  struct InFile {
    Loader& L;
    Errors err;
    fs::path dir;
    InFile(Loader& l, const ModelFile& f) : L(l), err(l.err_), dir(l.base_dir_) {
      L.err_ = f.err;
      L.base_dir_ = f.dir;
    }
    ~InFile() {
      L.err_ = err;
      L.base_dir_ = dir;
    }
    InFile(const InFile&) = delete;
    InFile& operator=(const InFile&) = delete;
  };

  Problem& p() { return L.p_; }
  Model& model() { return L.p_.model; }
  const Errors& err() const { return L.err_; }
  long long nvox() const { return L.nvox(); }

  // A top-level section of a file (absent Val when the file has none).
  Val section(const ModelFile& f, const std::string& key) const {
    if (f.scene) return root.get(key);
    return Fields(f.err, f.root, kModelFileKeys).get(key);
  }

  // ---- fields ------------------------------------------------------------------------------

  const std::string& name_of(int i) const { return L.p_.species[i].name; }
  const std::string& unit_of(int i) const { return L.p_.species[i].unit; }
  bool is_population(int i) const { return i < (int)m.population.size() && m.population[i]; }

  int field(const Val& v) const { return L.field_index(v, "a field"); }
  int population(const Val& v) const {
    const int i = L.field_index(v, "a population");
    if (!is_population(i)) {
      std::vector<std::string> pops;
      for (int j = 0; j < (int)m.population.size(); ++j)
        if (m.population[j]) pops.push_back(name_of(j));
      err().fail(v, in_quotes(name_of(i)) + " is not a population",
                 pops.empty() ? "a population, but none are defined" : "a population: one of " + join(pops));
    }
    return i;
  }

  // A new field (population or state) named by s.name, stored in `unit`; its initial block is
  // zeroed. Returns its index.
  int new_field(Keys& s, const std::function<std::string()>& read_unit) {
    const std::string name = s.name("name", "field name");
    const Val nv = s.get("name");
    const std::string unit = read_unit();  // echoed after the name
    for (const SpeciesInfo& other : p().species)
      if (other.name == name)
        err().fail(nv, "duplicate field name " + in_quotes(name),
                   "a name not used by another species, population or state");
    if (p().nspecies() >= kMaxSpecies)
      err().fail(nv, "is field number " + std::to_string(kMaxSpecies + 1),
                 "at most " + std::to_string(kMaxSpecies) + " fields");
    const int idx = p().nspecies();
    L.check_memory(nv, idx + 1);
    p().species.push_back({name, unit});
    p().initial.resize((size_t)(idx + 1) * nvox(), real(0));
    m.population.resize(idx + 1, 0);
    m.floor.resize(idx + 1, 0);
    return idx;
  }

  // The optional absolute tolerance of field idx (default `def`, in the field's unit).
  void read_floor(Keys& s, int idx, const std::string& def) {
    m.floor[idx] = s.value("floor", concentration(unit_of(idx)), Bound::kPositive, Or{def});
  }

  // populations[i]: cells/mm^3, random motility, optional crowding volume.
  void read_population(List& pops, const Val& v) {
    Keys s = pops.map(v, {"name", "unit", "motility", "capacity", "initial", "boundary", "floor"}, Style::kBlock);
    const int idx = new_field(s, [&] {
      return s.opt("unit", Or{kPopUnit}, [&](const Val& u) {
        if (!(u.scalar() && u.text() == kPopUnit))
          err().fail(u, not_a(u.node, kPopUnit), kPopUnit + " (every population is a cell density in cells/mm^3)");
        return kPopUnit;
      });
    });
    m.population[idx] = 1;
    SpeciesCoeffs c;
    L.read_diffusion(s, "motility", c);
    s.opt("capacity", Or{"none"}, [&](const Val& cv) {
      if (cv.scalar() && cv.text() == "none") return 0;
      if ((int)model().crowd_species.size() >= kMaxCrowding)
        err().fail(cv, "is the crowding population number " + std::to_string(kMaxCrowding + 1),
                   "at most " + std::to_string(kMaxCrowding) + " populations with a capacity");
      const double k = L.value(cv, kCapacity, Bound::kPositive);  // [cells/mm^3]
      model().crowd_species.push_back(idx);
      model().crowd_volume.push_back(1.0 / k);  // [1/(cells/mm^3)]
      return 0;
    });
    read_field_initial(s, "initial", idx);
    L.read_boundary(s, concentration(kPopUnit), c);
    read_floor(s, idx, "1e-3 " + kPopUnit);
    p().coeffs.push_back(c);
  }

  // states[i]: local, non-diffusing (D = 0, no-flux).
  void read_state(List& states, const Val& v) {
    Keys s = states.map(v, {"name", "unit", "initial", "floor"}, Style::kBlock);
    const int idx = new_field(s, [&] { return s.unit("unit", "a unit, e.g. 1, 1/um or cells/mm^3"); });
    const std::string& unit = unit_of(idx);
    read_field_initial(s, "initial", idx);
    read_floor(s, idx, unit == "1" ? "1e-9" : "1e-9 " + unit);
    p().coeffs.push_back(SpeciesCoeffs{});
  }

  // The initial state of field idx under `key` of s: read_initial's kinds, or a generated
  // vessel map.
  void read_field_initial(Keys& s, const std::string& key, int idx) {
    real* init = p().initial.data() + (size_t)idx * nvox();
    const Val v = s.get(key);
    if (v.present() && v.node.IsMap()) {
      const std::vector<std::string> kinds{"constant", "gaussian", "regions", "map", "vessels"};
      const Fields f(err(), v, kinds);
      if (f.one_of(kinds) == "vessels") {
        Keys vessels = s.sub(key, f).map("vessels", {"mean_spacing", "radius", "seed", "exclude"}, Style::kFlow);
        read_vessels(vessels, f.get("vessels"), idx, init);
        return;
      }
    }
    L.read_initial(s, key, concentration(unit_of(idx)), init);
  }

  // {vessels: {mean_spacing, radius, seed, exclude}}: vessel surface density S/V [1/um]
  // (host/core/vessels.hpp), converted to the field's unit.
  void read_vessels(Keys& g, const Val& v, int idx, real* init) {
    const std::string& unit = unit_of(idx);
    if (!same_dimension(L.units_, unit, "1/um"))
      err().fail(v, "field " + in_quotes(name_of(idx)) + " is in " + in_quotes(unit) + ", not a surface density",
                 "a field whose unit converts to 1/um");
    VesselSpec spec;
    spec.mean_spacing_um = g.value("mean_spacing", kLength, Bound::kPositive);
    spec.radius_um = g.value("radius", kLength, Bound::kPositive, Or{"5 um"});  // VesselSpec's default
    spec.seed = (unsigned long long)g.integer("seed", 0, LLONG_MAX, "a non-negative integer, e.g. 3",
                                              Or{std::to_string(p().seed)});  // default: the scene's
    spec.seed += L.seed_offset();  // lesion i of a patient draws from seed + i (wrapping)
    const uint8_t* exclude = g.has("exclude") ? g.region("exclude").mask.data() : nullptr;
    std::vector<double> sv_um;
    try {
      sv_um = generate_vessel_surface(p().grid, spec, exclude);
    } catch (const std::invalid_argument& e) {
      err().fail(v, e.what(), "a mean spacing > 2 radius > 0");
    }
    const double to_unit = L.units_.to("1 1/um", unit);  // [unit per 1/um]
    for (long long i = 0; i < nvox(); ++i) init[i] = real(sv_um[i] * to_unit);
  }

  // ---- model files and parameters ----------------------------------------------------------

  void include(const Val& at, const ModelFile& from, std::vector<std::pair<fs::path, std::string>>& stack) {
    const std::string expected = "the path of a YAML model file, e.g. models/tme.yaml";
    const std::string rel = L.text(at, expected);
    fs::path path(rel);
    if (path.is_relative()) path = from.dir / path;
    path = path.lexically_normal();
    const std::string name = path.string();
    std::error_code ec;
    fs::path id = fs::weakly_canonical(path, ec);
    if (ec) id = fs::absolute(path, ec);
    for (size_t i = 0; i < stack.size(); ++i)
      if (stack[i].first == id) {
        std::vector<std::string> chain;
        for (size_t j = i; j < stack.size(); ++j) chain.push_back(stack[j].second);
        chain.push_back(name);
        err().fail(at, "circular include: " + join(chain, " -> "), "model files that do not include each other");
      }
    for (const ModelFile& f : m.files)
      if (f.id == id) return;  // already read through another include
    std::string text;
    try {
      text = read_input_file(path.string(), InputKind::Yaml);
    } catch (const InputFileError& e) {
      err().fail(at, "cannot read model file " + in_quotes(rel) + ": " + e.reason(),
                 "a regular YAML model file of at most " + byte_text(kMaxYamlBytes));
    }

    ModelFile f{name, path.parent_path(), id, Errors(name), Val{}, false};
    check_yaml_text(f.err, text);
    f.err.set_source(std::make_shared<const std::string>(text));
    YAML::Node doc;
    try {
      doc = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      f.err.syntax(e.mark, e.msg);
    }
    const std::string expected_root = "a mapping with keys " + join(kModelFileKeys);
    if (!doc.IsDefined() || doc.IsNull())
      f.err.fail(YAML::Mark(), "(top level)", "the model file is empty", expected_root);
    if (!doc.IsMap()) f.err.fail(doc.Mark(), "(top level)", root_not_a_mapping(doc), expected_root);
    f.root = Val{doc, "", doc.Mark()};
    const Fields keys(f.err, f.root, kModelFileKeys);  // rejects unknown keys
    stack.push_back({id, name});
    if (keys.has("include")) {
      InFile scope(L, f);
      for (const Val& item : L.list(keys.get("include"), "a list of model file paths")) include(item, f, stack);
    }
    stack.pop_back();
    m.files.push_back(std::move(f));
  }

  Param definition(int file, const std::string& name, const Val& val) {
    // (A Val is not assigned to: assigning a YAML::Node would rewrite the node it shares with
    // the file's tree.)
    const std::vector<std::string> keys{"value", "source", "range"};
    const bool with_source = val.node.IsMap();
    const Val v = with_source ? Fields(err(), val, keys).required("value", kParamExpected) : val;
    std::string source;
    Val range{YAML::Node(YAML::NodeType::Undefined), "", YAML::Mark()};
    if (with_source) {
      const Fields pf(err(), val, keys);
      if (pf.has("source")) source = L.text(pf.get("source"), "text naming where it comes from");
      if (pf.has("range")) range = pf.get("range");
    }
    const std::string s = L.text(v, kParamExpected);
    const QuantityText q = split_quantity(s);
    Param p{name, v, source, val, file};
    if (q.status == QuantityText::kNoNumber && is_identifier(s)) {
      p.alias = true;
      if (range.present())
        err().fail(range, "parameter " + in_quotes(name) + " names another parameter (" + in_quotes(s) + ")",
                   "no range on a parameter that names another one: the range goes with the value it names");
      return p;
    }
    if (q.status == QuantityText::kNoNumber) err().fail(v, in_quotes(s) + " has no number", kParamExpected);
    if (q.status == QuantityText::kBadNumber)
      err().fail(v, in_quotes(s) + " is not a number followed by a unit", kParamExpected);
    if (q.status == QuantityText::kOutOfRange) err().fail(v, in_quotes(s) + " is out of range", kParamExpected);
    if (!L.units_.parses(q.unit)) err().fail(v, "unit " + in_quotes(q.unit) + " does not parse", kParamExpected);
    p.unit = q.unit.empty() ? "1" : q.unit;
    p.number = q.value;
    if (range.present()) read_range(p, range);
    return p;
  }

  // What a parameter's range must be (p.unit: the unit of its value).
  static std::string range_expected(const Param& p) {
    const std::string u = p.unit == "1" ? "" : " " + p.unit;
    return "a list [low, high] of two values convertible to the value's unit (" + p.unit +
           "), low <= value <= high, e.g. [" + fmt(p.number / 2) + u + ", " + fmt(p.number * 2) + u + "]";
  }

  // range: [low, high] of parameter p, converted to the unit of its value; the value must lie
  // inside it.
  void read_range(Param& p, const Val& range) {
    const std::string expected = range_expected(p);
    const std::vector<Val> items = L.list(range, expected);
    if (items.size() != 2) err().fail(range, "has " + std::to_string(items.size()) + " entries", expected);
    double b[2] = {0, 0};
    for (int i = 0; i < 2; ++i) {
      const std::string t = L.text(items[i], expected);
      const QuantityText q = split_quantity(t);
      if (q.status != QuantityText::kOk) err().fail(items[i], in_quotes(t) + " is not a number with a unit", expected);
      const std::string u = q.unit.empty() ? "1" : q.unit;
      if (!L.units_.parses(u)) err().fail(items[i], "unit " + in_quotes(u) + " does not parse", expected);
      if (!L.units_.convertible(u, p.unit))
        err().fail(items[i], in_quotes(t) + " does not convert to " + in_quotes(p.unit) + ", the unit of the value",
                   expected);
      b[i] = L.units_.to(t, p.unit);
    }
    if (!(b[0] <= b[1]))
      err().fail(range, "low " + fmt(b[0]) + " is above high " + fmt(b[1]) + " (" + p.unit + ")", expected);
    p.ranged = true;
    p.range = range;
    p.low = b[0];
    p.high = b[1];
    check_in_range(p, p.def);
  }

  // Fails at `at` unless p's value lies in its range (up to rounding in the last digits).
  void check_in_range(const Param& p, const Val& at) const {
    const double slack = 1e-12 * std::max(std::fabs(p.low), std::fabs(p.high));
    if (p.number >= p.low - slack && p.number <= p.high + slack) return;
    const std::string u = p.unit == "1" ? "" : " " + p.unit;
    err().fail(at,
               "value " + fmt(p.number) + u + " of " + in_quotes(p.name) + " lies outside its range [" + fmt(p.low) +
                   ", " + fmt(p.high) + "]" + u,
               "a value with low <= value <= high");
  }

  // A model file's `overrides`: new definitions (value, source, range) of parameters that the
  // files it includes define; a parameter set over shared mechanisms (tme_mouse.yaml over
  // tme.yaml). Each replaces the earlier definition whole.
  void read_overrides(int fi) {
    const ModelFile& f = m.files[fi];
    const Val ov = section(f, "overrides");
    if (!ov.present()) return;
    InFile scope(L, f);
    const Fields os = Fields::any(err(), ov, "a mapping of parameter names (of the included files) to new values");
    for (const auto& [key, val] : os.entries()) {
      const std::string name = L.identifier(key, "parameter name");
      const int old = m.param(name);
      std::vector<std::string> earlier;
      for (const Param& p : m.params)
        if (p.file < fi) earlier.push_back(p.name);
      if (old < 0 || m.params[old].file >= fi)
        err().fail(key,
                   in_quotes(name) + (old < 0 ? " is not a parameter of the included model files"
                                              : " is defined in this file, not in a file it includes"),
                   earlier.empty() ? std::string("no parameters: the included files define none")
                                   : "the name of a parameter of the included files: " + join(earlier));
      m.params[old] = definition(fi, name, val);
    }
  }

  void read_parameters() {
    for (int fi = 0; fi < (int)m.files.size(); ++fi) {
      const ModelFile& f = m.files[fi];
      const Val pv = section(f, "parameters");
      if (!pv.present()) {
        if (!f.scene) read_overrides(fi);
        continue;
      }
      InFile scope(L, f);
      const bool override_only = f.scene && m.from_file;
      const Fields ps = Fields::any(err(), pv, "a mapping of parameter names to values");
      for (const auto& [key, val] : ps.entries()) {
        const std::string name = L.identifier(key, "parameter name");
        const Param def = definition(fi, name, val);
        const int old = m.param(name);
        if (override_only) {
          if (old < 0)
            err().fail(key, in_quotes(name) + " is not a parameter of the model",
                       m.params.empty() ? "no parameters: the model defines none"
                                        : "the name of a model parameter to override: " + join(m.param_names()));
          const Param& was = m.params[old];
          const double factor = !def.ranged && !def.alias && was.ranged && L.units_.convertible(def.unit, was.unit)
                                    ? L.units_.to("1 " + was.unit, def.unit)  // [def.unit per was.unit]
                                    : 0;
          const double slack = 1e-12 * std::max(std::fabs(was.low), std::fabs(was.high)) * factor;
          if (factor > 0 && def.number >= was.low * factor - slack && def.number <= was.high * factor + slack) {
            // An overriding value inside the model's range keeps it (converted to its unit), and
            // the resolved scene shows it; one outside is the scene's own choice (a mechanism
            // switched off, say) and has no range. (Built, not assigned: see above.)
            YAML::Node w(YAML::NodeType::Map);
            w["value"] = YAML::Node(def.def.node.Scalar());
            w["range"] = YAML::Clone(was.range.node);
            const Param over{def.name,         def.def,  def.source, Val{w, def.written.path, def.written.mark},
                             def.file,         false,    -1,         true,
                             was.range,        def.unit, def.number, was.low * factor,
                             was.high * factor};
            m.params[old] = over;
          } else {
            m.params[old] = def;
          }
        } else {
          if (old >= 0)
            err().fail(key,
                       "duplicate parameter " + in_quotes(name) + " (first defined at " + m.where(m.params[old]) + ")",
                       "each parameter defined once");
          m.params.push_back(def);
        }
      }
      if (!f.scene) read_overrides(fi);
    }
    // Resolve aliases; a chain that comes back to one of its members is an error, reported at
    // the first member's definition.
    for (size_t i = 0; i < m.params.size(); ++i) {
      std::vector<int> chain{(int)i};
      int j = (int)i;
      while (m.params[j].alias) {
        const Param& pj = m.params[j];
        const int k = m.param(pj.def.text());
        if (k < 0) {
          InFile scope(L, m.files[pj.file]);
          err().fail(pj.def, in_quotes(pj.def.text()) + " is not a defined parameter",
                     kParamExpected + ": one of " + join(m.param_names()));
        }
        const auto at = std::find(chain.begin(), chain.end(), k);
        if (at != chain.end()) {
          std::vector<std::string> names;
          for (auto c = at; c != chain.end(); ++c) names.push_back(m.params[*c].name);
          names.push_back(m.params[k].name);
          const Param& first = m.params[k];
          InFile scope(L, m.files[first.file]);
          err().fail(first.def, "circular parameter reference: " + join(names, " -> "),
                     "a number with a unit, or a parameter that does not refer back to this one");
        }
        chain.push_back(k);
        j = k;
      }
      m.params[i].target = j;
    }
  }

  // ---- phase 1: before the scene's species -------------------------------------------------

  void phase1() {
    for (const std::string& k : kSceneModelKeys) m.any = m.any || root.has(k);
    ModelFile scene{L.err_.file(), L.base_dir_, fs::path(), L.err_, root.self(), true};
    if (root.has("model")) {
      // model: <file>, or {file, tolerance}. (A Val is not assigned to: assigning a YAML::Node
      // would rewrite the node it shares with the scene's tree.)
      const Val mv = root.get("model");
      const Val fv = mv.node.IsMap() ? Fields(err(), mv, {"file", "tolerance"}).get("file") : mv;
      if (fv.present()) {
        std::vector<std::pair<fs::path, std::string>> stack;
        include(fv, scene, stack);
        m.from_file = true;
      }
    }
    m.files.push_back(scene);
    read_parameters();
    for (const ModelFile& f : m.files) {
      if (f.scene) continue;
      const Val sv = section(f, "species");
      if (!sv.present()) continue;
      InFile scope(L, f);
      List species(L, sv, "a list of species", L.out_["species"]);
      for (const Val& s : species) {
        if (p().nspecies() >= kMaxSpecies)
          err().fail(s, "is field number " + std::to_string(kMaxSpecies + 1),
                     "at most " + std::to_string(kMaxSpecies) + " fields");
        L.read_species(species, s, p().nspecies());
      }
    }
  }

  // ---- drugs and blood ---------------------------------------------------------------------

  // The entries of `key` in every file; a scene entry named like a model file's entry updates
  // that entry key by key (`exclusive` keys replace each other).
  std::vector<Entry> collect(const std::string& key, const std::string& what, const std::vector<std::string>& keys,
                             const std::vector<std::string>& exclusive) {
    std::vector<Entry> entries;
    for (int fi = 0; fi < (int)m.files.size(); ++fi) {
      const ModelFile& f = m.files[fi];
      const Val sv = section(f, key);
      if (!sv.present()) continue;
      InFile scope(L, f);
      for (const Val& item : L.list(sv, "a list of " + what + "s")) {
        const Fields e(err(), item, keys);
        const std::string name = L.identifier(e.required("name", kNameRule), what + " name");
        Entry* old = nullptr;
        for (Entry& x : entries)
          if (x.name == name) old = &x;
        if (old && (!f.scene || m.files[old->file].scene || old->overridden))
          err().fail(e.get("name"),
                     "duplicate " + what + " " + in_quotes(name) + " (first defined at " +
                         m.files[old->file].err.position(old->item.mark) + ")",
                     "each " + what + " defined once; the scene may update a model's " + what);
        if (!old) {
          entries.push_back(Entry{name, item, fi, false, {}});
          old = &entries.back();
        } else {
          old->overridden = true;
          for (const std::string& x : exclusive)
            if (e.has(x))
              for (const std::string& y : exclusive) old->erase(y);
        }
        for (const auto& [k, v] : e.entries()) {
          const std::string kn = k.text();
          if (kn == "name") continue;
          if (kn == "pk") {
            const Fields pk(err(), v, kPkKeys);
            for (const auto& [pkk, pkv] : pk.entries()) old->set("pk." + pkk.text(), pkv, fi);
          } else {
            old->set(kn, v, fi);
          }
        }
      }
    }
    return entries;
  }

  // Runs f with the loader pointed at `file`.
  template <class F>
  auto in_file(int file, F f) {
    InFile scope(L, m.files[file]);
    return f();
  }
  [[noreturn]] void fail_in(int file, const YAML::Mark& mark, const std::string& path, const std::string& wrong,
                            const std::string& expected) const {
    m.files[file].err.fail(mark, path, wrong, expected);
  }
  [[noreturn]] void fail_in(int file, const Val& v, const std::string& wrong, const std::string& expected) const {
    fail_in(file, v.mark, v.path, wrong, expected);
  }

  // Runs f with the loader pointed at the file entry e's key comes from (e's own when absent).
  template <class F>
  auto in(const Entry& e, const std::string& key, F f) {
    const Entry::Key* k = e.get(key);
    return in_file(k ? k->file : e.file, f);
  }

  // The keys of entry e as one mapping (its name, then the keys of any file); with pk, those of
  // its pk mapping. A missing key is reported at the entry's first definition.
  Fields entry_fields(const Entry& e, bool pk) const {
    std::vector<std::pair<Val, Val>> kv;
    if (!pk) {
      const YAML::Node n = e.item.node["name"];
      kv.push_back({Val{YAML::Node("name"), e.item.path + ".name", n.Mark()}, Val{n, e.item.path + ".name", n.Mark()}});
    }
    for (const Entry::Key& k : e.keys) {
      if ((k.key.rfind("pk.", 0) == 0) != pk) continue;
      kv.push_back({Val{YAML::Node(k.key.substr(pk ? 3 : 0)), k.val.path, k.val.mark}, k.val});
    }
    return Fields::gathered(m.files[e.file].err, Val{e.item.node, e.item.path + (pk ? ".pk" : ""), e.item.mark}, kv);
  }

  // The entries as a list echoed into the resolved scene's `key`.
  List entry_list(const std::vector<Entry>& entries, const char* key) {
    std::vector<Val> items;
    for (const Entry& e : entries) items.push_back(e.item);
    return List(L, items, L.out_[key]);
  }

  void add_global(const GlobalInput& g, const Entry& e) {
    for (const GlobalInput& other : model().globals)
      if (other.name == g.name)
        fail_in(e.file, e.item, "the name " + in_quotes(g.name) + " is used by a drug and a blood input",
                "distinct names for drugs and blood inputs");
    if ((int)model().globals.size() >= kMaxGlobals)
      fail_in(e.file, e.item, "is input number " + std::to_string(kMaxGlobals + 1),
              "at most " + std::to_string(kMaxGlobals) + " drugs and blood inputs");
    model().globals.push_back(g);
  }

  void read_drugs() {
    const std::vector<Entry> drugs = collect("drugs", "drug", {"name", "dose", "start", "body_weight", "pk"}, {});
    if (drugs.empty()) return;
    // The drugs the model files define: a scene entry of another name must bring its own pk.
    std::vector<std::string> known;
    for (const Entry& e : drugs)
      if (!m.files[e.file].scene) known.push_back(e.name);
    List out = entry_list(drugs, "drugs");
    for (const Entry& e : drugs) {
      const bool has_pk =
          std::any_of(e.keys.begin(), e.keys.end(), [](const Entry::Key& k) { return k.key.rfind("pk.", 0) == 0; });
      if (m.files[e.file].scene && !has_pk) {
        const YAML::Node name = e.item.node["name"];
        fail_in(e.file, name.Mark(), e.item.path + ".name", "unknown drug " + in_quotes(e.name),
                (known.empty() ? std::string("a drug of the model files (they define none)")
                               : "a drug of the model files: " + join(known)) +
                    ", or a new drug with its own pk: {central_volume, clearance, ...}");
      }
      Keys k = out.map(entry_fields(e, false), Style::kBlock);
      k.text("name", kNameRule);
      Drug d;
      d.name = e.name;
      // The dose's text first (echoed before start and body weight), parsed once they are known.
      const std::string expected = "a dose such as '200 mg q3w' or '3 mg/kg q3w x 4', or none";
      const std::string dose =
          in(e, "dose", [&] { return k.opt("dose", Or{"none"}, [&](const Val& x) { return L.text(x, expected); }); });
      // start [s], body weight [kg] (per-kg doses)
      const double start = in(e, "start", [&] { return k.value("start", kTime, Bound::kNonNegative, Or{"0 d"}); });
      const double bw = k.has("body_weight") ? in(e, "body_weight",
                                                  [&] { return k.value("body_weight", kBodyWeight, Bound::kPositive); })
                                             : 0;
      if (dose != "none") {
        in(e, "dose", [&] {
          const Val dv = k.get("dose");
          try {
            ParsedRegimen r = parse_regimen(dose, bw, L.units_);
            r.regimen.start_s = start;
            d.doses = pk::expand_regimen(r.regimen, p().time.t_end);
          } catch (const std::invalid_argument& ex) {
            // "dose '...': what (expected ...)": keep the parser's own expectation
            const std::string msg = ex.what();
            const size_t at = msg.rfind(" (expected ");
            if (at == std::string::npos || msg.back() != ')') err().fail(dv, msg, expected);
            err().fail(dv, msg.substr(0, at), msg.substr(at + 11, msg.size() - at - 12));
          }
          return 0;
        });
      }
      // pharmacokinetics: volumes [L], clearances [L/s], molecular weight [g/mol]
      Keys pk = k.sub("pk", entry_fields(e, true));
      auto pk_value = [&](const std::string& key, const Dim& dim, Bound b, const Or& def) {
        return in(e, "pk." + key, [&] { return def.given() ? pk.value(key, dim, b, def) : pk.value(key, dim, b); });
      };
      d.pk.vc_L = pk_value("central_volume", kVolume, Bound::kPositive, Or{});
      d.pk.vp_L = pk_value("peripheral_volume", kVolume, Bound::kNonNegative, Or{"0 L"});
      d.pk.cl_L_per_s = pk_value("clearance", kClearance, Bound::kPositive, Or{});
      d.pk.q_L_per_s = pk_value("intercompartmental", kClearance, Bound::kNonNegative, Or{"0 L/day"});
      d.pk.mw_g_per_mol = pk_value("molecular_weight", kMolarMass, Bound::kPositive, Or{"146000 g/mol"});
      try {
        pk::check(d.pk);
      } catch (const std::invalid_argument& ex) {
        fail_in(e.file, e.item, ex.what(), "valid pharmacokinetics");
      }
      GlobalInput g;
      g.name = e.name;
      g.unit = "nM";
      g.kind = GlobalInput::Kind::kPlasma;
      g.drug = (int)model().drugs.size();
      add_global(g, e);
      model().drugs.push_back(std::move(d));
    }
  }

  // The unit a value is written in: the literal's, or the literal's its parameter resolves to.
  std::string written_unit(const Val& v) const {
    if (!v.scalar()) return "";
    std::string s = v.text();
    if (split_quantity(s).status == QuantityText::kNoNumber && is_identifier(s)) {
      const int k = m.param(s);
      if (k >= 0) s = m.params[m.params[k].target].def.text();
    }
    return split_quantity(s).unit;
  }

  // burden: the populations whose totals form the tumour burden (Model::burden); the last
  // file that lists them decides (the scene after its model files).
  void read_burden() {
    const ModelFile* from = nullptr;
    for (const ModelFile& f : m.files)
      if (section(f, "burden").present()) from = &f;
    if (!from) return;
    InFile scope(L, *from);
    L.out_["burden"] = YAML::Node(YAML::NodeType::Sequence);
    List items(L, section(*from, "burden"), "a list of populations, e.g. [T, Td]", L.out_["burden"]);
    for (const Val& item : items)
      model().burden.push_back(items.item(item, [&](const Val& v) { return population(v); }));
  }

  void read_blood() {
    const std::vector<Entry> blood =
        collect("blood", "blood input", {"name", "unit", "value", "table"}, {"value", "table"});
    if (blood.empty()) return;
    List out = entry_list(blood, "blood");
    for (const Entry& e : blood) {
      Keys k = out.map(entry_fields(e, false), Style::kBlock);
      k.text("name", kNameRule);
      const Entry::Key* vk = e.get("value");
      const Entry::Key* tk = e.get("table");
      if (!vk == !tk)
        fail_in(e.file, e.item, vk ? "has both value and table" : "has neither value nor table",
                "exactly one of: value, table");
      GlobalInput g;
      g.name = e.name;
      // unit: as given, else the unit the (first) value is written in
      std::string written = "1";
      if (vk) {
        written = written_unit(vk->val);
      } else if (tk->val.node.IsSequence() && tk->val.node.size() > 0 && tk->val.node[0].IsSequence() &&
                 tk->val.node[0].size() == 2) {
        written = written_unit(Val{tk->val.node[0][1], "", tk->val.mark});
      }
      if (written.empty()) written = "1";
      const std::string u_expected = "a unit, e.g. cells/mL or nM";
      g.unit = in(e, "unit", [&] {
        return k.opt("unit", Or{written}, [&](const Val& uv) {
          if (!k.has("unit")) return uv.text();
          const std::string u = L.text(uv, u_expected);
          if (!L.units_.parses(u)) err().fail(uv, "unit " + in_quotes(u) + " does not parse", u_expected);
          return u;
        });
      });
      const Dim level = dim_in("a blood level", g.unit);
      if (vk) {
        g.kind = GlobalInput::Kind::kConstant;
        g.value = in(e, "value", [&] { return k.value("value", level, Bound::kNonNegative); });
      } else {
        g.kind = GlobalInput::Kind::kTable;
        in(e, "table", [&] {
          const std::string expected = "a list of [time, value] pairs, times increasing";
          List rows = k.list("table", expected);
          if (rows.empty()) err().fail(tk->val, "is an empty list", expected);
          for (const Val& r : rows) {
            List tv = rows.list(r, expected);
            if (tv.size() != 2) err().fail(r, "has " + std::to_string(tv.size()) + " entries", expected);
            const double t = tv.item(tv.items()[0], [&](const Val& x) { return L.value(x, kTime, Bound::kAny); });
            if (!g.times_s.empty() && !(t > g.times_s.back()))
              err().fail(tv.items()[0], in_quotes(tv.items()[0].text()) + " is not after the previous time", expected);
            g.times_s.push_back(t);
            g.values.push_back(
                tv.item(tv.items()[1], [&](const Val& x) { return L.value(x, level, Bound::kNonNegative); }));
          }
          return 0;
        });
      }
      add_global(g, e);
    }
  }

  int global(const Val& v, const std::string& role) {
    std::vector<std::string> names;
    for (const GlobalInput& g : model().globals) names.push_back(g.name);
    const std::string expected = names.empty() ? role + ", but none are defined" : role + ": one of " + join(names);
    const std::string s = L.text(v, expected);
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == s) return (int)i;
    err().fail(v, in_quotes(s) + " is not a defined drug or blood input", expected);
  }

  // ---- terms -------------------------------------------------------------------------------

  // A unit built from field units (e.g. "(ng/mL)/s/(cells/mm^3)") must parse.
  void check_unit(const Val& at, const Dim& d) const {
    if (!L.units_.parses(d.unit))
      err().fail(at, "the unit " + in_quotes(d.unit) + " built from the fields' units does not parse",
                 "field units that UDUNITS can combine");
  }

  // Item v of a term's factors.
  Factor read_factor(List& factors, const Val& v) {
    const Fields any(err(), v, {"activate", "inhibit", "room", "linear", "half", "hill", "per", "blocked_by", "scale"});
    const std::string kind = any.one_of(kFactorKinds);
    std::vector<std::string> allowed{kind, "half", "hill", "per", "blocked_by"};
    if (kind == "room") allowed = {"room"};
    if (kind == "linear") allowed = {"linear", "scale", "per", "blocked_by"};
    Keys f = factors.map(Fields(err(), v, allowed));
    Factor fc;
    if (kind == "room") {
      f.req("room", "room: true (the free volume fraction)", [&](const Val& rv) {
        if (!(rv.scalar() && rv.text() == "true"))
          err().fail(rv, not_a(rv.node, "true"), "room: true (the free volume fraction)");
        return 0;
      });
      fc.kind = kFactorRoom;
      return fc;
    }
    fc.kind = kind == "activate" ? kFactorHillAct : kind == "inhibit" ? kFactorHillInh : kFactorLinear;
    fc.a = f.req(kind, "a field", [&](const Val& x) { return field(x); });
    std::string ux = unit_of(fc.a);  // unit of the input x
    if (f.has("per")) {
      fc.b = f.req("per", "a field", [&](const Val& x) { return field(x); });
      ux = unit_of(fc.b) == ux ? "1" : quot(ux, {unit_of(fc.b)});
    }
    if (f.has("blocked_by")) {
      Keys b = f.names("blocked_by", "a mapping of antibody fields to dissociation constants, e.g. {antiPD1: 0.26 nM}",
                       Style::kFlow);
      if (b.fields().entries().size() > 2)
        err().fail(b.fields().self(), "has " + std::to_string(b.fields().entries().size()) + " antibodies",
                   "at most 2 blocking antibodies");
      int j = 0;
      b.rest([&](const Val& key, const Val& val) {
        fc.ab[j] = field(key);
        fc.kd[j] = real(L.value(val, dim_in("a dissociation constant", unit_of(fc.ab[j])), Bound::kPositive));
        ++j;
      });
    }
    const std::string hk = kind == "linear" ? "scale" : "half";
    const Dim hd = dim_in(kind == "linear" ? "a scale" : "a half-maximum", ux);
    check_unit(v, hd);
    fc.K = real(f.value(hk, hd, Bound::kPositive));
    if (kind != "linear") fc.n = real(f.value("hill", kHill, Bound::kPositive, Or{"1"}));
    return fc;
  }

  // The units a term's keys are written in (TermKey::unit): X the target's, B its by/vessels
  // field's (empty without one), G its drug or blood input's, S its signal's.
  struct TermUnits {
    std::string X, B, G, S;
  };

  // The dimension of value key k: its unit built from the term's units, its noun and example.
  static Dim term_dim(const TermKey& k, const TermUnits& u) {
    auto part = [&](const std::string& x) {
      return x == "X" ? u.X : x == "B" ? u.B : x == "G" ? u.G : x == "S" ? u.S : x;
    };
    std::vector<std::string> dens;
    for (int i = 1; i < 4 && k.unit[i]; ++i) dens.push_back(part(k.unit[i]));
    const std::string unit = dens.empty() ? part(k.unit[0]) : quot(part(k.unit[0]), dens);
    return {k.noun, unit, k.example ? std::string(k.example) : "1 " + unit};
  }

  static Bound bound_of(TermBound b) {
    return b == TermBound::kPositive      ? Bound::kPositive
           : b == TermBound::kNonNegative ? Bound::kNonNegative
                                          : Bound::kAny;
  }

  // A required value of term k (the mapping v) in `dim`.
  double term_value(const Val& v, Keys& k, const std::string& key, const Dim& dim, Bound b) {
    check_unit(v, dim);
    return k.value(key, dim, b);
  }

  // One key of a term's row (all but factors and products): reads it into t (or the chemotaxis
  // signal, or `val` for a value without a slot) and the resolved term.
  void read_term_key(const Val& v, Keys& f, const TermKey& k, Term& t, TermUnits& u, double& val) {
    const std::string key = k.key;
    switch (k.type) {
      case TermKeyType::kBy: {
        t.src = f.req(key, k.noun, [&](const Val& x) { return population(x); });
        u.B = unit_of(t.src);
        return;
      }
      case TermKeyType::kVessels: {
        auto read = [&](const Val& sv) {
          if (k.need != TermNeed::kRequired && sv.scalar() && sv.text() == "none") return -1;
          const int s = field(sv);
          if (k.per_um && !same_dimension(L.units_, unit_of(s), "1/um"))
            err().fail(sv,
                       "field " + in_quotes(name_of(s)) + " is in " + in_quotes(unit_of(s)) + ", not a surface density",
                       "a field whose unit converts to 1/um");
          return s;
        };
        const int s = k.need == TermNeed::kRequired ? f.req(key, k.noun, read) : f.opt(key, Or{"none"}, read);
        if (s < 0) return;
        t.src = s;
        u.B = unit_of(t.src);
        return;
      }
      case TermKeyType::kGlobal: {
        t.global = f.req(key, k.noun, [&](const Val& gv) {
          const int g = global(gv, k.noun);
          const std::string& gu = model().globals[g].unit;
          if (k.in_target_unit &&
              (!same_dimension(L.units_, gu, u.X) || std::fabs(L.units_.to("1 " + gu, u.X) - 1) > 1e-12))
            err().fail(gv,
                       in_quotes(gv.text()) + " is in " + in_quotes(gu) + " but " + in_quotes(name_of(t.target)) +
                           " is in " + in_quotes(u.X),
                       "a plasma level in the target field's unit");
          return g;
        });
        u.G = model().globals[t.global].unit;
        return;
      }
      case TermKeyType::kField: {
        const int s = f.req(key, k.noun, [&](const Val& x) { return field(x); });
        u.S = unit_of(s);
        val = s;
        return;
      }
      case TermKeyType::kChoice: {
        std::vector<std::string> choices;
        std::stringstream cs(k.choices);
        for (std::string c; std::getline(cs, c, '|');) choices.push_back(c);
        const std::string word = f.choice(key, choices, k.noun, Or{choices[0]});
        t.p[k.slot] = real(std::find(choices.begin(), choices.end(), word) - choices.begin());
        return;
      }
      case TermKeyType::kValue: {
        if (k.need == TermNeed::kWithFactors) {
          const Val fv = f.get("factors");
          if (!(fv.present() && fv.node.IsSequence() && fv.node.size() > 0)) {
            if (f.has(key))
              err().fail(f.get(key), key + " applies only with factors",
                         "no " + key + " without factors (" + k.without + ")");
            return;
          }
        } else if (k.need == TermNeed::kOptional && !f.has(key)) {
          return;
        }
        val = term_value(v, f, key, term_dim(k, u), bound_of(k.bound));
        if (k.slot < 0) return;
        if (k.convert == TermConvert::kReciprocal) {
          t.p[k.slot] = real(1.0 / val);
        } else if (k.convert == TermConvert::kPerVesselUm) {
          const double to_um = L.units_.to("1 " + u.B, "1/um");  // [1/um per field unit]
          t.p[k.slot] = real(val * to_um);
        } else {
          t.p[k.slot] = real(val);
        }
        return;
      }
      case TermKeyType::kHook:
        if (key == "rate") uptake_rate(v, f, t, u);  // TermHook::kUptakeRate (km with it)
        return;
      case TermKeyType::kFactors:
      case TermKeyType::kProducts: return;  // after the other keys
    }
  }

  // TermHook::kUptakeRate. With km, Michaelis-Menten: rate = Vmax per unit of `by` [unit_X/s
  // per unit_src], km [unit_X], stored as rate = Vmax/km [1/s per unit_src] and km. Without,
  // linear uptake: rate [1/s per unit_src].
  void uptake_rate(const Val& v, Keys& f, Term& t, const TermUnits& u) {
    if (f.has("km")) {
      const double vmax =
          term_value(v, f, "rate", dim_in("a maximum uptake rate", quot(u.X, {"s", u.B})), Bound::kNonNegative);
      const double km = term_value(v, f, "km", concentration(u.X), Bound::kPositive);
      L.check_real(f.get("km"), "rate / km = " + fmt(vmax) + " / " + fmt(km), vmax / km, "1/s per source unit");
      t.p[kParamRate] = real(vmax / km);
      t.p[kParamKm] = real(km);
    } else {
      t.p[kParamRate] =
          real(term_value(v, f, "rate", dim_in("an uptake rate", quot("1", {"s", u.B})), Bound::kNonNegative));
    }
  }

  // A term's factors (at most kMaxTermFactors), always written to the resolved term.
  void read_term_factors(Keys& f, Term& t) {
    List items = f.list("factors", "a list of factors");
    if ((int)items.size() > kMaxTermFactors)
      err().fail(f.get("factors"), "has " + std::to_string(items.size()) + " factors",
                 "at most " + std::to_string(kMaxTermFactors) + " factors");
    for (const Val& it : items) t.f[t.nfactors++] = read_factor(items, it);
  }

  // A kill or conversion term's products: yield [unit_product per unit_target].
  void read_term_products(Keys& f, Term& t, const TermUnits& u) {
    Keys pr = f.names("products", "a mapping of product fields to yields, e.g. {antigen: 1.34e-14 mol/cell}",
                      Style::kFlow, Or::node(YAML::Node(YAML::NodeType::Map)));
    if ((int)pr.fields().entries().size() > kMaxTermProducts)
      err().fail(pr.fields().self(), "has " + std::to_string(pr.fields().entries().size()) + " products",
                 "at most " + std::to_string(kMaxTermProducts) + " products");
    pr.rest([&](const Val& key, const Val& val) {
      TermProduct& tp = t.prod[t.nproducts++];
      tp.species = field(key);
      const Dim yd = dim_in("a yield", unit_of(tp.species) == u.X ? "1" : quot(unit_of(tp.species), {u.X}));
      check_unit(val, yd);
      tp.yield = real(L.value(val, yd, Bound::kNonNegative));
    });
  }

  // A term: the kind key names the target; the row's keys (kTermRegistry) in order, then its
  // factors and products.
  void read_term(List& terms, const Val& v) {
    const std::vector<std::string> kind_names = term_kind_names();
    const std::string kinds = join(kind_names);
    const Fields any = Fields::any(err(), v, "a mapping with one term kind (" + kinds + ") naming the target field");
    bool has_kind = false;
    for (const auto& e : any.entries()) has_kind = has_kind || contains(kind_names, e.first.text());
    if (!has_kind)
      for (const auto& e : any.entries()) {
        bool known = false;
        for (const TermRow& r : kTermRegistry) known = known || contains(term_keys(r), e.first.text());
        if (!known) err().fail(e.first, "unknown term kind " + in_quotes(e.first.text()), "exactly one of: " + kinds);
      }
    const std::string kind = any.one_of(kind_names);
    const TermRow& row = kTermRegistry[std::find(kind_names.begin(), kind_names.end(), kind) - kind_names.begin()];
    std::vector<std::string> allowed{kind};
    for (const std::string& k : term_keys(row)) allowed.push_back(k);
    Keys f = terms.map(Fields(err(), v, allowed), Style::kBlock);

    Term t;
    t.target =
        f.req(kind, "a field", [&](const Val& tv) { return row.population_target ? population(tv) : field(tv); });
    TermUnits u{unit_of(t.target), "", "", ""};

    const bool pressure = row.hook == TermHook::kPressure;
    const bool chemotaxis = row.hook == TermHook::kChemotaxis || pressure;
    if (chemotaxis && (int)model().chemotaxis.size() >= kMaxChemotaxis)
      err().fail(v, "is chemotaxis or pressure term number " + std::to_string(kMaxChemotaxis + 1),
                 "at most " + std::to_string(kMaxChemotaxis) + " chemotaxis and pressure terms together");
    if (!chemotaxis && (int)model().terms.size() >= kMaxTerms)
      err().fail(v, "is term number " + std::to_string(kMaxTerms + 1),
                 "at most " + std::to_string(kMaxTerms) + " terms");
    t.kind = row.kind;
    double vals[kMaxTermKeys] = {};
    bool has_factors = false, has_products = false;
    for (int i = 0; i < kMaxTermKeys && row.keys[i].key; ++i) {
      read_term_key(v, f, row.keys[i], t, u, vals[i]);
      has_factors = has_factors || row.keys[i].type == TermKeyType::kFactors;
      has_products = has_products || row.keys[i].type == TermKeyType::kProducts;
    }

    if (pressure) {
      // TermHook::kPressure: mobility [um^2/s], vmax [um/s]; the drift is down grad phi, so
      // the model needs populations that occupy volume (capacity).
      if (model().crowd_species.empty())
        err().fail(f.get(kind), "pressure on " + in_quotes(name_of(t.target)) + " but no population has a capacity",
                   "a population with 'capacity' (cells/mm^3): the drift follows the occupied fraction");
      Chemotaxis c;
      c.cell = t.target;
      c.signal = kSignalCrowding;
      c.chi = real(vals[0]);
      c.vmax = real(vals[1]);
      model().chemotaxis.push_back(c);
      return;
    }
    if (chemotaxis) {
      // TermHook::kChemotaxis: signal, chi [um^2/s per signal unit], vmax [um/s]
      Chemotaxis c;
      c.cell = t.target;
      c.signal = (int)vals[0];
      c.chi = real(vals[1]);
      c.vmax = real(vals[2]);
      model().chemotaxis.push_back(c);
      return;
    }

    if (has_factors) read_term_factors(f, t);
    if (has_products) read_term_products(f, t, u);
    model().terms.push_back(t);
  }

  // ---- phase 2: after the scene's species --------------------------------------------------

  void phase2() {
    // The resolved scene's model sections, in this order (filled below).
    if (m.any) {
      L.out_["model"] = YAML::Node(YAML::NodeType::Map);
      L.out_["parameters"] = YAML::Node(YAML::NodeType::Map);
      for (const char* k : {"populations", "states"}) L.out_[k] = YAML::Node(YAML::NodeType::Sequence);
      if (root.has("initial")) L.out_["initial"] = YAML::Node(YAML::NodeType::Map);
      for (const char* k : {"drugs", "blood", "terms"}) L.out_[k] = YAML::Node(YAML::NodeType::Sequence);
    }
    for (const char* sec : {"populations", "states"})
      for (const ModelFile& f : m.files) {
        const Val sv = section(f, sec);
        if (!sv.present()) continue;
        InFile scope(L, f);
        List items(L, sv, std::string("a list of ") + sec, L.out_[sec]);
        for (const Val& item : items) {
          if (sec[0] == 'p')
            read_population(items, item);
          else
            read_state(items, item);
        }
      }
    m.population.resize(p().nspecies(), 0);
    m.floor.resize(p().nspecies(), 0);

    // initial overrides (the scene only)
    if (root.has("initial")) {
      Keys in(L, Fields::any(err(), root.get("initial"), "a mapping of field names to initial states"),
              L.out_["initial"]);
      for (const auto& e : in.fields().entries()) read_field_initial(in, e.first.text(), field(e.first));
    }

    read_drugs();
    read_blood();
    for (const ModelFile& f : m.files) {
      const Val tv = section(f, "terms");
      if (!tv.present()) continue;
      InFile scope(L, f);
      List terms(L, tv, "a list of terms", L.out_["terms"]);
      for (const Val& item : terms) read_term(terms, item);
    }
    read_burden();

    // tolerances: relative per sub-step (model.tolerance; model: <file> has none), absolute per field
    const Val mv = root.get("model");
    Keys mk(L,
            Fields(err(), mv.node.IsMap() ? mv : Val{YAML::Node(YAML::NodeType::Map), mv.path, mv.mark},
                   {"file", "tolerance"}),
            m.any ? L.out_["model"] : YAML::Node(YAML::NodeType::Map));
    model().rtol =
        mk.number("tolerance", "a number in (0, 1), e.g. 1e-4", Or{"1e-3"}, [](double x) { return x > 0 && x < 1; });
    if (m.any) {
      model().atol.assign(p().nspecies(), 1e-9);
      for (int i = 0; i < p().nspecies(); ++i)
        if (m.floor[i] > 0) model().atol[i] = m.floor[i];
      // The parameters of every file after the scene's overrides, each as written (a value, or
      // {value, source}); definition() has read them.
      std::vector<std::pair<Val, Val>> defs;
      for (const Param& pr : m.params) defs.push_back({Val{YAML::Node(pr.name), "", pr.written.mark}, pr.written});
      Keys(L, Fields::gathered(err(), root.self(), defs), L.out_["parameters"]).rest([](const Val&, const Val&) {});
    }
  }
};

void Loader::read_model_files(const Fields& root) {
  model_ = std::make_shared<ModelState>();
  ModelReader{*this, *model_, root}.phase1();
}

void Loader::read_model(const Fields& root) { ModelReader{*this, *model_, root}.phase2(); }

std::vector<SceneParameter> Loader::parameters() const {
  std::vector<SceneParameter> out;
  if (!model_) return out;
  for (const Param& p : model_->params) {
    const Param& t = model_->params[p.target];
    SceneParameter s;
    s.name = p.name;
    s.value = p.def.text();
    s.target = t.name;
    s.unit = p.alias ? "" : p.unit;
    s.number = p.number;
    s.ranged = p.ranged;
    s.low = p.low;
    s.high = p.high;
    s.source = p.source;
    out.push_back(s);
  }
  return out;
}

double Loader::value(const Val& v, const Dim& dim, Bound bound, const std::string& expected_in) const {
  const std::string expected = expected_in.empty() ? dim.expect() : expected_in;
  if (!v.scalar()) return quantity(v, dim, bound, expected_in);
  const std::string s = v.text();
  const QuantityText q = split_quantity(s);
  const bool name = q.status == QuantityText::kNoNumber && is_identifier(s);
  if (!name || !model_ || model_->params.empty()) return quantity(v, dim, bound, expected_in);
  const int k = model_->param(s);
  if (k < 0)
    err_.fail(v, in_quotes(s) + " is neither a value nor a defined parameter",
              expected + ", or a parameter: one of " + join(model_->param_names()));
  // Checks at the use site, naming the parameter and where its literal is defined.
  const Param& d = model_->params[model_->params[k].target];
  const std::string lit = d.def.text();
  std::string what = "parameter " + in_quotes(s);
  if (d.name != s) what += " -> " + in_quotes(d.name);
  what += " = " + in_quotes(lit) + " (" + model_->where(d) + ")";
  const QuantityText lq = split_quantity(lit);
  if (lq.unit.empty() && !units_.convertible("1", dim.unit)) err_.fail(v, what + " has no unit", expected);
  if (!units_.convertible(lq.unit, dim.unit)) err_.fail(v, what + " is not " + dim.noun, expected);
  double x = 0;
  try {
    x = units_.to(lit, dim.unit);
  } catch (const UnitError& e) {
    err_.fail(v, what + ": " + e.what(), expected);
  }
  if (bound == Bound::kNonNegative && x < 0) err_.fail(v, what + " must be >= 0", dim.noun + " >= 0 " + dim.unit);
  if (bound == Bound::kPositive && !(x > 0)) err_.fail(v, what + " must be > 0", dim.noun + " > 0 " + dim.unit);
  check_real(v, what, x, dim.unit);
  return x;
}

// ---- systemic compartments: the model's `systemic` section and the scene's `lymph_nodes` ------
// (host/scene/systemic_scene.hpp; docs/model.md, "Systemic compartments"). The section is read
// wherever it is (one model file or the scene) and checked even when the scene has no nodes;
// it is used, and shown in the resolved scene, only with `lymph_nodes`.

namespace {

const Dim kSysRate{"a rate", "1/s", "1 1/day"};
const Dim kSysAmount{"an amount", "nmol", "0.01 nmol"};
const Dim kSysCells{"a number of cells", "cells", "1000 cells"};
const Dim kSysBloodLevel{"a blood level", "cells/mL", "5050 cells/mL"};
const Dim kSysVolume{"a volume", "mL", "5 L"};
const Dim kSysConc{"a concentration", "nM", "18 nM"};
const Dim kSysRatio{"a ratio", "1", "0.3"};
const Dim kSysAlpha{"an LQ alpha", "1/Gy", "0.2 1/Gy"};
const Dim kSysBeta{"an LQ beta", "1/Gy^2", "0.14 1/Gy^2"};
const Dim kSysPerGy{"a loss per dose", "1/Gy", "0.1 1/Gy"};
const std::vector<std::string> kSystemicKeys{"antigen", "blood", "antiCTLA4", "node"};
const std::vector<std::string> kSysNodeKeys{"antigen_degradation",
                                            "apc_migration",
                                            "presentation_loss",
                                            "presented_half",
                                            "priming",
                                            "treg_half",
                                            "stages",
                                            "delay",
                                            "expansion",
                                            "naive",
                                            "naive_return",
                                            "alpha",
                                            "beta",
                                            "homing_loss",
                                            "homing_recovery",
                                            "local_egress"};
const std::vector<std::string> kLymphNodeKeys{"name", "position", "radius", "drains", "dose"};

}  // namespace

void Loader::read_systemic(Keys& top) {
  ModelReader mr{*this, *model_, top.fields()};
  ModelState& ms = *model_;
  int file = -1;
  Val sv;
  for (int fi = 0; fi < (int)ms.files.size(); ++fi) {
    const Val v = mr.section(ms.files[fi], "systemic");
    if (!v.present()) continue;
    if (file >= 0)
      ms.files[fi].err.fail(v,
                            "a second systemic section (the first is at " + ms.files[file].err.position(sv.mark) + ")",
                            "one systemic section in the model files and the scene");
    file = fi;
    sv = v;
  }
  const bool used = top.has("lymph_nodes");
  if (file < 0 && !used) return;
  if (file < 0)
    err_.fail(top.get("lymph_nodes"), "lymph nodes need the model's systemic section",
              "a 'systemic' section in the model file (docs/model.md, \"Systemic compartments\")");

  LoadedSystemic S;
  systemic::SystemicModel& M = S.model;
  systemic::Coupling& C = S.coupling;
  Val effector_input_at, treg_input_at;  // systemic.blood.{effectors,treg}.input, for messages below
  {
    ModelReader::InFile scope(*this, ms.files[file]);
    if (used) out_["systemic"] = YAML::Node(YAML::NodeType::Map);
    Keys sys(*this, Fields(err_, sv, kSystemicKeys), used ? out_["systemic"] : YAML::Node(YAML::NodeType::Map));

    // antigen: the lesions' antigen field and its lymphatic drainage
    Keys ag = sys.map("antigen", {"field", "drainage"}, Style::kFlow);
    C.antigen_field = ag.req("field", "a species holding the antigen, e.g. antigen", [&](const Val& v) {
      const int i = field_index(v, "a species");
      const std::string& u = p_.species[(size_t)i].unit;
      if (!units_.convertible(u, "nmol/um^3"))
        err_.fail(
            v,
            "field " + in_quotes(p_.species[(size_t)i].name) + " is in " + in_quotes(u) + ", not an amount per volume",
            "a species in a concentration unit such as nM");
      C.antigen_nmol_per_unit_um3 = units_.to("1 " + u, "nmol/um^3");
      return i;
    });
    C.antigen_drainage_per_s = ag.value("drainage", kSysRate, Bound::kNonNegative);

    // blood: volume, the effector and Treg pools and the blood inputs they replace
    Keys bl = sys.map("blood", {"volume", "effectors", "treg"});
    M.blood_volume_mL = bl.value("volume", kSysVolume, Bound::kPositive);
    const auto blood_input = [&](Keys& k) {
      return k.req("input", "the name of a blood input in cells/mL", [&](const Val& v) {
        const int g = mr.global(v, "a blood input");
        const GlobalInput& gi = p_.model.globals[(size_t)g];
        if (gi.kind == GlobalInput::Kind::kPlasma)
          err_.fail(v, in_quotes(gi.name) + " is a drug, not a blood input", "the name of a blood input in cells/mL");
        if (!units_.convertible(gi.unit, "cells/mL"))
          err_.fail(v, "blood input " + in_quotes(gi.name) + " is in " + in_quotes(gi.unit) + ", not cells per volume",
                    "the name of a blood input in cells/mL");
        return g;
      });
    };
    Keys ef = bl.map("effectors", {"input", "initial", "death"}, Style::kFlow);
    C.effector_input = blood_input(ef);
    effector_input_at = ef.get("input");
    C.effector_initial_per_mL = ef.value("initial", kSysBloodLevel, Bound::kNonNegative);
    M.k_effector_death = ef.value("death", kSysRate, Bound::kNonNegative);
    Keys tr = bl.map("treg", {"input", "rest", "turnover", "depletion"}, Style::kFlow);
    C.treg_input = blood_input(tr);
    treg_input_at = tr.get("input");
    if (C.treg_input == C.effector_input)
      err_.fail(tr.get("input"), "the effector pool already replaces " + in_quotes(tr.get("input").text()),
                "another blood input than the effectors'");
    M.treg_blood_rest = tr.value("rest", kSysBloodLevel, Bound::kNonNegative) * M.blood_volume_mL;
    M.k_treg_turnover = tr.value("turnover", kSysRate, Bound::kNonNegative);
    M.k_treg_depletion = tr.value("depletion", kSysRate, Bound::kNonNegative);

    // anti-CTLA-4 (optional: without it, no drug acts on the nodes or on blood Treg)
    M.kd_antiCTLA4_nM = 1;  // read below when given; with no drug the occupancy is 0
    if (sys.has("antiCTLA4")) {
      Keys ab = sys.map("antiCTLA4", {"drug", "kd", "node_ratio", "priming_boost"}, Style::kFlow);
      C.antiCTLA4_drug = ab.req("drug", "the name of a drug of the model", [&](const Val& v) {
        std::vector<std::string> names;
        for (const Drug& d : p_.model.drugs) names.push_back(d.name);
        const std::string expected = names.empty() ? "a drug, but none are defined" : "a drug: one of " + join(names);
        const std::string s = text(v, expected);
        for (size_t i = 0; i < names.size(); ++i)
          if (names[i] == s) return (int)i;
        err_.fail(v, in_quotes(s) + " is not a drug of the model", expected);
      });
      M.kd_antiCTLA4_nM = ab.value("kd", kSysConc, Bound::kPositive);
      M.node_antibody_ratio = ab.value("node_ratio", kSysRatio, Bound::kNonNegative);
      M.ctla4_boost = ab.value("priming_boost", kSysRatio, Bound::kNonNegative);
    }

    // node: antigen transit, priming, the chain, naive recirculation, radiation
    Keys nd = sys.map("node", kSysNodeKeys);
    M.k_antigen_deg = nd.value("antigen_degradation", kSysRate, Bound::kNonNegative);
    M.k_apc_migration = nd.value("apc_migration", kSysRate, Bound::kNonNegative);
    M.k_presentation_loss = nd.value("presentation_loss", kSysRate, Bound::kPositive);
    M.presented_half_nmol = nd.value("presented_half", kSysAmount, Bound::kPositive);
    M.k_prime = nd.value("priming", kSysRate, Bound::kNonNegative);
    M.treg_half_per_mL = nd.value("treg_half", kSysBloodLevel, Bound::kPositive);
    M.chain_stages = (int)nd.integer("stages", 1, 1000, "an integer in [1, 1000], e.g. 8");
    M.priming_delay_s = nd.value("delay", kTime, Bound::kPositive);
    M.expansion_rate = nd.value("expansion", kSysRate, Bound::kNonNegative);
    if (M.expansion_rate * M.priming_delay_s > 50)
      err_.fail(nd.get("expansion"),
                "expansion x delay = " + fmt(M.expansion_rate * M.priming_delay_s) + " is above 50",
                "a mean fold exp(expansion x delay) of at most e^50");
    M.naive_per_node = nd.value("naive", kSysCells, Bound::kNonNegative);
    M.k_naive_return = nd.value("naive_return", kSysRate, Bound::kPositive);
    M.lymph_alpha_per_Gy = nd.value("alpha", kSysAlpha, Bound::kNonNegative);
    M.lymph_beta_per_Gy2 = nd.value("beta", kSysBeta, Bound::kNonNegative);
    M.homing_loss_per_Gy = nd.value("homing_loss", kSysPerGy, Bound::kNonNegative);
    M.homing_recovery_s = nd.value("homing_recovery", kTime, Bound::kPositive);
    // a node inside a lesion grid: the share of its egress released into the lesion
    const std::string share = "a share in [0, 1], e.g. 0.1";
    M.local_egress = nd.value("local_egress", kSysRatio, Bound::kNonNegative, Or{"0"}, share);
    if (M.local_egress > 1) err_.fail(nd.get("local_egress"), fmt(M.local_egress) + " is above 1", share);
  }
  if (!used) return;

  // The scene's lymph nodes.
  const std::string expected = "a non-empty list of lymph nodes {name, position, radius, drains, dose}";
  const Val lv = top.get("lymph_nodes");
  List items = top.list("lymph_nodes", expected);
  if (items.empty()) err_.fail(lv, "is an empty list", expected);
  const std::vector<RadiationPlan>& plans = p_.model.plans;
  for (const Val& e : items) {
    Keys k = items.map(e, kLymphNodeKeys, Style::kBlock);
    systemic::Node node;
    node.name = k.name("name", "lymph node name");
    for (const systemic::Node& o : M.nodes)
      if (o.name == node.name)
        err_.fail(k.get("name"), "duplicate lymph node name " + in_quotes(node.name),
                  "a name not used by an earlier node");
    const std::vector<double> pos = k.lengths3("position", "3 lengths in patient coordinates, e.g. [0 mm, 5 mm, 0 mm]");
    for (int a = 0; a < 3; ++a) node.position_um[a] = pos[(size_t)a];
    node.radius_um = k.quantity("radius", kLength, Bound::kNonNegative, "a length >= 0, e.g. '5 mm'");
    LoadedSystemic::Drains d;
    d.node_where = err_.position(e.mark);
    d.node_path = e.path;
    if (k.has("drains")) {
      d.listed = true;
      List dl = k.list("drains", "a list of lesion names", Style::kFlow);
      for (const Val& x : dl) {
        d.names.push_back(dl.item(x, [&](const Val& v) { return identifier(v, "lesion name"); }));
        d.where.push_back(err_.position(x.mark));
        d.paths.push_back(x.path);
      }
    }
    // dose: per plan, 'sampled' (the plan's analytic dose at the node's centre) or a fraction of
    // each fraction's prescription; a plan not named is sampled.
    std::vector<double> per_Gy;
    const std::string dose_expected =
        "a mapping of plan names to 'sampled' or a fraction of the prescription, e.g. 0.05";
    Keys dk = k.names("dose", dose_expected, Style::kFlow, Or::node(YAML::Node(YAML::NodeType::Map)));
    for (size_t pi = 0; pi < plans.size(); ++pi) {
      const RadiationPlan& plan = plans[pi];
      const bool analytic = pi < plan_analytic_.size() && plan_analytic_[pi].has_value();
      if (!dk.has(plan.name) && !analytic)
        err_.fail(e, "plan " + in_quotes(plan.name) + " has a dose file: its dose at the node is not known",
                  "dose: {" + plan.name + ": <fraction of its prescription, e.g. 0.05>}");
      const Val pv = dk.has(plan.name) ? dk.get(plan.name) : Val{YAML::Node("sampled"), "", e.mark};
      const auto read = [&](const Val& v) {
        const std::string t = text(v, dose_expected);
        if (t == "sampled") {
          if (!analytic)
            err_.fail(v, "plan " + in_quotes(plan.name) + " has a dose file, which is not sampled outside its grid",
                      "a fraction of the prescription, e.g. 0.05");
          return rt::analytic_dose_at(*plan_analytic_[pi], node.position_um) / plan.nominal_Gy;
        }
        const double f = number(v, "'sampled' or a fraction of the prescription >= 0, e.g. 0.05");
        if (!(f >= 0)) err_.fail(v, in_quotes(t) + " is out of range", "a fraction of the prescription >= 0");
        return f;
      };
      if (dk.has(plan.name))
        per_Gy.push_back(dk.req(plan.name, dose_expected, read));
      else {
        per_Gy.push_back(read(pv));
        dk.resolved(plan.name, YAML::Node("sampled"));
      }
    }
    dk.rest([&](const Val& key, const Val&) {
      std::vector<std::string> names;
      for (const RadiationPlan& q : plans) names.push_back(q.name);
      err_.fail(key, in_quotes(key.text()) + " is not a radiotherapy plan",
                names.empty() ? "no plans: the scene has no radiotherapy" : "a plan: one of " + join(names));
    });
    C.node_dose_per_Gy.push_back(per_Gy);
    S.drains.push_back(d);
    M.nodes.push_back(node);
  }
  resolve_node_drains(S, lesion_names_);
  // The blood inputs the pools replace become systemic (supplied per step by the run's
  // coupling, host/run/systemic_coupling.hpp), and each gets a tally field of what enters the
  // lesion from it.
  for (const auto& [g, at, scale, tally] :
       {std::tuple{C.effector_input, effector_input_at, &C.effector_input_per_cells_per_mL, &C.effector_tally_field},
        std::tuple{C.treg_input, treg_input_at, &C.treg_input_per_cells_per_mL, &C.treg_tally_field}}) {
    GlobalInput& gi = p_.model.globals[(size_t)g];
    gi.kind = GlobalInput::Kind::kSystemic;
    *scale = units_.to("1 cells/mL", gi.unit);
    try {
      *tally = add_influx_tally(p_, g);
    } catch (const std::invalid_argument& x) {
      err_.fail(at, x.what(),
                "a blood input read only by influx terms on populations (cells/mm^3), its tally '" + gi.name +
                    "_entered' a new field name");
    }
  }
  check_memory(lv, p_.nspecies());
  try {
    systemic::check(M);
  } catch (const std::invalid_argument& x) {
    err_.fail(lv, x.what(), "a consistent systemic model");
  }
  systemic_ = std::move(S);
}

}  // namespace scene_detail
}  // namespace tme
