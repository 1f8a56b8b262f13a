// Internal to the scene loader (host/scene/*.cpp): positioned YAML values, field readers,
// dimensions and the Loader class whose sections live in scene.cpp (grid, time, regions,
// tissue, species, output), scene_model.cpp (model file, populations, states, terms, drugs,
// blood, vessels) and scene_rt.cpp (radiotherapy). Not part of the public API.
#pragma once
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "host/io/input_file.hpp"
#include "host/rt/dose_map.hpp"
#include "host/scene/quantity.hpp"
#include "host/scene/scene.hpp"
#include "host/scene/units.hpp"

namespace tme {
namespace scene_detail {

namespace fs = std::filesystem;

inline const char* const kFaceNames[6] = {"x-", "x+", "y-", "y+", "z-", "z+"};
inline const char* const kMapFormats = "a readable .vti, .mha, .mhd or .nrrd file";
// Most voxels a grid may have (2^40): the flat voxel index and the offsets of every field stay
// far inside long long. Memory refuses far smaller grids first.
inline constexpr double kMaxVoxels = 1099511627776.0;
inline const char* const kNameRule = "a name of letters, digits and '_' that does not start with a digit";

inline std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// A value quoted in a message: at most kQuoteMax characters of its first line (then "..."),
// control bytes shown as '?', so that a message never carries more of a file than a line.
inline constexpr size_t kQuoteMax = 60;
inline std::string in_quotes(const std::string& s) {
  std::string o;
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = (unsigned char)s[i];
    if (c == '\n' || c == '\r' || chars == kQuoteMax) return "'" + o + "...'";
    if ((c & 0xc0) != 0x80) ++chars;  // UTF-8 continuation bytes do not count
    o += (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  return "'" + o + "'";
}

inline std::string fmt(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

inline bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit((unsigned char)s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum((unsigned char)c) || c == '_'; });
}

// ---- positions and messages ------------------------------------------------------------------

// A YAML value, the key path that leads to it, and the position an error about it points at.
struct Val {
  YAML::Node node;  // undefined when the key is absent
  std::string path;
  YAML::Mark mark;
  bool present() const { return node.IsDefined(); }
  bool scalar() const { return node.IsDefined() && node.IsScalar(); }
  std::string text() const { return trim_blanks(node.Scalar()); }
};

// "is empty" / "'abc' is not a list" / "is a mapping": what a value is, when it is not `want`.
inline std::string not_a(const YAML::Node& n, const std::string& want) {
  if (!n.IsDefined() || n.IsNull()) return "is empty";
  if (n.IsScalar()) return in_quotes(trim_blanks(n.Scalar())) + " is not " + want;
  if (n.IsSequence()) return "is a list";
  return "is a mapping";
}

class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& path, const std::string& wrong,
                         const std::string& expected) const {
    throw SceneError(where(m) + path + ": " + wrong + " (expected " + expected + ")");
  }
  [[noreturn]] void fail(const Val& v, const std::string& wrong, const std::string& expected) const {
    fail(v.mark, v.path, clip_to_line(v, wrong), expected);
  }
  // The file's text, so that a value quoted in a message is cut at the end of its first line.
  void set_source(std::shared_ptr<const std::string> text) { source_ = std::move(text); }
  [[noreturn]] void syntax(const YAML::Mark& m, const std::string& msg) const {
    throw SceneError(where(m) + "YAML syntax error: " + msg);
  }
  const std::string& file() const { return file_; }
  // Nodes made for a command-line value have marks at positions [start, end) beyond the end of
  // the file's text (Loader::apply_overrides); messages about them name `label` ("--set
  // time.end=3 d") instead of a line and column.
  void add_span(int start, int end, std::string label) { spans_.push_back({start, end, std::move(label)}); }
  // "<file>:<line>:<column>", or the label of the command-line value the mark belongs to.
  std::string position(const YAML::Mark& m) const {
    for (const Span& s : spans_)
      if (m.pos >= s.start && m.pos < s.end) return s.label;
    const int line = m.line >= 0 ? m.line + 1 : 1, col = m.column >= 0 ? m.column + 1 : 1;
    return file_ + ":" + std::to_string(line) + ":" + std::to_string(col);
  }

 private:
  struct Span {
    int start, end;
    std::string label;
  };
  // A plain or quoted scalar folded over several lines reads as one line ("abc next line"):
  // every quoted part of `wrong` taken from it ('abc next line', 'next line') is cut where the
  // value's first line ends in the file.
  std::string clip_to_line(const Val& v, const std::string& wrong) const {
    if (!source_ || !v.scalar() || v.mark.pos < 0 || (size_t)v.mark.pos >= source_->size()) return wrong;
    const std::string t = v.text();
    const size_t start = (size_t)v.mark.pos;
    size_t eol = source_->find_first_of("\r\n", start);
    if (eol == std::string::npos) eol = source_->size();
    size_t room = eol - start;
    const char open = (*source_)[start];
    if ((open == '"' || open == '\'') && room > 0) --room;
    while (room > 0 && std::isspace((unsigned char)(*source_)[start + room - 1])) --room;
    if (t.size() <= room) return wrong;
    std::string out;
    size_t i = 0;
    while (i < wrong.size()) {
      const size_t q0 = wrong.find('\'', i);
      const size_t q1 = q0 == std::string::npos ? q0 : wrong.find('\'', q0 + 1);
      if (q1 == std::string::npos) break;
      std::string q = wrong.substr(q0 + 1, q1 - q0 - 1);
      const bool cut = q.size() >= 3 && q.compare(q.size() - 3, 3, "...") == 0;
      const std::string body = cut ? q.substr(0, q.size() - 3) : q;
      const size_t in_t = body.empty() ? std::string::npos : t.find(body);
      if (in_t != std::string::npos && in_t + body.size() > room)
        q = (in_t < room ? body.substr(0, room - in_t) : std::string()) + "...";
      out += wrong.substr(i, q0 - i) + "'" + q + "'";
      i = q1 + 1;
    }
    return out + wrong.substr(i);
  }
  std::string where(const YAML::Mark& m) const { return position(m) + ": "; }
  std::string file_;
  std::shared_ptr<const std::string> source_;
  std::vector<Span> spans_;
};

// The root of a scene or model file that is not a mapping. A scalar is not quoted: a text
// file that is not YAML (e.g. /etc/passwd) reads as one long scalar.
inline std::string root_not_a_mapping(const YAML::Node& n) {
  if (n.IsScalar()) return "the file is a single text value, not a mapping";
  return not_a(n, "a mapping");
}

// Refuses text YAML must not hold (a binary file): "<file>:<line>:<col>: (top level): not a
// text file: control byte 0x00 (expected a UTF-8 YAML file)". Nothing of the file is quoted.
inline void check_yaml_text(const Errors& err, const std::string& text) {
  int line = 1, column = 1;
  const std::string why = yaml_text_problem(text, line, column);
  if (why.empty()) return;
  YAML::Mark m;
  m.line = line - 1;
  m.column = column - 1;
  err.fail(m, "(top level)", "not a text file: " + why, "a UTF-8 YAML file");
}

// A YAML mapping read key by key. Unknown and duplicate keys are rejected up front, so a
// misspelt key is reported as unknown rather than as a missing required one.
class Fields {
 public:
  // Keys must be among `allowed`.
  Fields(const Errors& err, const Val& v, const std::vector<std::string>& allowed)
      : Fields(err, v, "a mapping with keys " + join(allowed), &allowed) {}
  // Any keys (names chosen by the user); `expected` describes the mapping.
  static Fields any(const Errors& err, const Val& v, const std::string& expected) {
    return Fields(err, v, expected, nullptr);
  }

  // Entries gathered by the caller as one mapping `self` (a drug merged from a model file and
  // the scene); a missing required key is reported through err at self.
  static Fields gathered(const Errors& err, const Val& self, std::vector<std::pair<Val, Val>> entries) {
    Fields f(err, self);
    f.entries_ = std::move(entries);
    return f;
  }

  const Val& self() const { return self_; }
  const Errors& errors() const { return *err_; }
  std::string child(const std::string& key) const { return self_.path.empty() ? key : self_.path + "." + key; }
  bool has(const std::string& key) const { return find(key) != nullptr; }
  // The value, or an absent Val (pointing at this mapping) when the key is missing.
  Val get(const std::string& key) const {
    if (const auto* e = find(key)) return e->second;
    return Val{YAML::Node(YAML::NodeType::Undefined), child(key), self_.mark};
  }
  Val required(const std::string& key, const std::string& expected) const {
    Val v = get(key);
    if (!v.present()) err_->fail(self_.mark, child(key), "missing required key", expected);
    return v;
  }
  // (key, value) pairs in document order.
  const std::vector<std::pair<Val, Val>>& entries() const { return entries_; }
  // The one key of `keys` that is present; fails when none or several are.
  std::string one_of(const std::vector<std::string>& keys) const {
    const std::string expected = "exactly one of: " + join(keys);
    const std::pair<Val, Val>* first = nullptr;
    for (const auto& e : entries_) {
      if (std::find(keys.begin(), keys.end(), e.first.text()) == keys.end()) continue;
      if (first)
        err_->fail(e.first, in_quotes(e.first.text()) + " cannot be combined with " + in_quotes(first->first.text()),
                   expected);
      first = &e;
    }
    if (!first) err_->fail(self_, "has none of the keys " + join(keys), expected);
    return first->first.text();
  }

 private:
  Fields(const Errors& err, const Val& self) : err_(&err), self_(self) {}
  Fields(const Errors& err, const Val& v, const std::string& expected, const std::vector<std::string>* allowed)
      : err_(&err), self_(v) {
    if (!v.present() || !v.node.IsMap()) err.fail(v, not_a(v.node, "a mapping"), expected);
    const std::string keys_expected = allowed ? "one of: " + join(*allowed) : expected;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      const YAML::Node k = it->first;
      if (!k.IsScalar())
        err.fail(k.Mark(), v.path.empty() ? "(top level)" : v.path, "a key is not a plain name", keys_expected);
      const std::string name = trim_blanks(k.Scalar());
      const Val key{k, child(name), k.Mark()};
      if (allowed && std::find(allowed->begin(), allowed->end(), name) == allowed->end())
        err.fail(key, "unknown key " + in_quotes(name), keys_expected);
      if (find(name)) err.fail(key, "duplicate key " + in_quotes(name), "each key at most once");
      const YAML::Node val = it->second;
      const bool empty = !val.IsDefined() || val.IsNull();
      entries_.push_back({key, Val{val, child(name), empty ? k.Mark() : val.Mark()}});
    }
  }
  const std::pair<Val, Val>* find(const std::string& key) const {
    for (const auto& e : entries_)
      if (e.first.text() == key) return &e;
    return nullptr;
  }

  const Errors* err_;
  Val self_;
  std::vector<std::pair<Val, Val>> entries_;
};

// ---- what a dimensional value must be --------------------------------------------------------

struct Dim {
  std::string noun;     // "a diffusion coefficient"
  std::string unit;     // internal unit the value is converted to, e.g. "um^2/s"
  std::string example;  // "10 um^2/s"
  std::string expect() const { return "a value in " + unit + ", e.g. " + in_quotes(example); }
};

enum class Bound { kAny, kNonNegative, kPositive };

inline const Dim kLength{"a length", "um", "100 um"};
inline const Dim kTime{"a time", "s", "10 min"};
inline const Dim kDiffusion{"a diffusion coefficient", "um^2/s", "10 um^2/s"};
inline const Dim kDecay{"a decay rate", "1/s", "1e-4 1/s"};

inline Dim concentration(const std::string& unit) { return {"a concentration", unit, "1 " + unit}; }
inline Dim concentration_rate(const std::string& unit) {
  const bool plain = unit.find_first_of(" \t") == std::string::npos;
  const std::string per_s = (plain ? unit : "(" + unit + ")") + "/s";
  return {"a concentration rate", per_s, "1e-3 " + per_s};
}

struct Region {
  std::string name;
  std::vector<uint8_t> mask;  // nvox, 1 where the voxel centre is inside
};

// A map file read for some key: values on the grid, and the file's absolute path.
struct MapData {
  std::vector<double> values;
  fs::path path;  // to open (relative ones joined to the file's directory)
  std::string array;
};

class Keys;  // below: one key read, converted and echoed per call
class List;  // below: a list read item by item

// ---- the loader ------------------------------------------------------------------------------

class Loader {
 public:
  Loader(const std::string& file, const std::string& base_dir, const Machine& machine = Machine{})
      : err_(file), base_dir_(base_dir.empty() ? "." : base_dir), machine_(machine) {}

  LoadedScene load(const std::string& text);
  // Values given on the command line, applied by load() (SceneOverrides).
  void set_overrides(const SceneOverrides& o) { overrides_ = o; }

  // A lesion already read: its name and grid (placed in patient coordinates).
  struct Placed {
    std::string name;
    GridSpec grid;
  };
  // Patient mode (load_patient): load() reads entry `lesion` of the scene's `lesions:` list as
  // a single-lesion scene, made of the shared top-level keys and the entry's own keys; its
  // grid must not intersect those of `earlier` (the lesions listed before it). A scene without
  // `lesions:` is read as usual. Without this call (load_scene) a scene with `lesions:` is refused.
  void set_lesion(int lesion, std::vector<Placed> earlier) {
    lesion_ = lesion;
    earlier_ = std::move(earlier);
  }
  // After load(): the names of the scene's lesions in the order listed (empty without `lesions:`).
  const std::vector<std::string>& lesion_names() const { return lesion_names_; }

 private:
  // value readers
  std::string text(const Val& v, const std::string& expected) const;
  std::string identifier(const Val& v, const std::string& what) const;
  long long integer(const Val& v, long long min, long long max, const std::string& expected) const;
  double number(const Val& v, const std::string& expected) const;
  // Fails at v unless x (v's value in `unit`, described as `what`) fits the build's real type:
  // finite, of magnitude at most its largest value and, when nonzero, at least its smallest
  // normal value (smaller ones flush to 0 in the kernels). Every number read goes through it.
  void check_real(const Val& v, const std::string& what, double x, const std::string& unit) const;
  double quantity(const Val& v, const Dim& dim, Bound bound, const std::string& expected = "") const;
  std::vector<Val> list(const Val& v, const std::string& expected) const;
  const Region& region(const Val& v) const;
  // A map's keys 'file' and 'array', checked and echoed (the file not read yet), then the file
  // read onto the grid (read_map); a caller with more keys reads them in between.
  MapData map_keys(Keys& m) const;
  void read_map(const Keys& m, MapData& md) const;

  // sections
  // nfields: the fields the scene lists itself (species, populations, states), for the
  // memory check made as soon as the grid is known.
  void read_grid(Keys& g, int nfields);
  // Fails at `at` when nfields fields on this grid cannot fit the machine's memory.
  void check_memory(const Val& at, int nfields) const;
  void read_time(Keys& t);
  // Fails when the run would take more than kMaxSteps steps (host/core/cost.hpp), at the key
  // that sets the step: time.step when given, else (explicit) the coefficient of the field
  // that limits the stable step, else time.end (time.until).
  void check_steps() const;
  // Sections of the scene's top level (`top`); each opens its own key.
  void read_regions(Keys& top);
  void read_tissue(Keys& top);
  void read_observe(Keys& top);
  // Item v of `species` (the scene's list or a model file's), echoed into it.
  void read_species(List& species, const Val& v, int index);
  // Keys of a species (or population) `s`: the diffusion coefficient under `key` (one value or
  // per tissue label), the boundary, the initial state under `key`, sources, uptake, held values.
  void read_diffusion(Keys& s, const std::string& key, SpeciesCoeffs& c);
  void read_boundary(Keys& s, const Dim& conc, SpeciesCoeffs& c);
  void read_initial(Keys& s, const std::string& key, const Dim& conc, real* init);
  void read_sources(Keys& s, const Dim& rate, SpeciesCoeffs& c);
  void read_uptake(Keys& s, const Dim& conc, const Dim& rate, SpeciesCoeffs& c);
  void read_hold(Keys& s, const Dim& conc, SpeciesCoeffs& c);
  void read_output(Keys& top);
  void read_at_events(Keys& output);  // output.at_events
  // scene_model.cpp: model files, parameters and the model files' species (before the scene's
  // species), then the rest of the model: populations, states, initial overrides, drugs, blood
  // and terms (after the scene's species).
  void read_model_files(const Fields& root);
  void read_model(const Fields& root);
  std::vector<SceneParameter> parameters() const;  // after read_model
  struct ModelState;                               // scene_model.cpp
  friend struct ModelReader;                       // scene_model.cpp
  // scene_rt.cpp: the 'radiotherapy' section (after species and the model are read).
  void read_radiotherapy(Keys& top);
  friend struct RtReader;  // scene_rt.cpp: the radiotherapy section's readers
  // scene_model.cpp: the model's `systemic` section and the scene's `lymph_nodes` (after
  // the radiotherapy plans, whose analytic doses give the node doses).
  void read_systemic(Keys& top);
  friend class Keys;  // below: one key read, converted and echoed per call
  friend class List;  // below: a list read item by item, echoed as read
  // A dimensional value that is either a literal quantity ("0.4 1/day") or the name of a model
  // parameter (scene_model.cpp), converted to dim.unit; fails with the position of v (and of
  // the parameter's definition when that is where the problem is).
  double value(const Val& v, const Dim& dim, Bound bound, const std::string& expected = "") const;
  // Index of a species (any field: species, population, state) named by v, or a failure
  // naming the defined ones; `role` says what it must be ("a population", "a species").
  int field_index(const Val& v, const std::string& role) const;

  // Applies overrides_ to the document's root mapping (scene.cpp); `text_size`: the file's
  // length, beyond which the marks of the nodes made here lie.
  void apply_overrides(YAML::Node root, size_t text_size);
  // time.until (read_time): drops what lies after it and ends the run there (load()).
  void apply_until();

  // scene_lesions.cpp: the scene's root as lesion lesion_ reads it (the shared keys and the
  // keys of its entry of `lesions:`, whose key paths say lesions[i]), after checking the list
  // and the top-level keys that cannot stand beside it; fills lesion_names_.
  Fields lesion_root(const Fields& all);
  // Fails at `at` (the lesion's grid origin, else its grid) when the grid just read intersects
  // an earlier lesion's.
  void check_overlap(const Val& at) const;
  // What lesion lesion_ adds to every seed it draws from (generated vessels): its index, so
  // that lesions draw distinct, reproducible numbers and the first draws what a single-lesion
  // scene would.
  unsigned long long seed_offset() const { return lesion_ > 0 ? (unsigned long long)lesion_ : 0; }

  std::vector<uint8_t> shape_mask(const Fields& shape, const std::string& kind) const;
  long long nvox() const { return p_.grid.nvox(); }

  Errors err_;
  fs::path base_dir_;
  Machine machine_;  // memory available for the early check (infinite: none)
  UnitSystem units_;
  Problem p_;
  std::vector<Region> regions_;
  bool have_tissue_ = false;
  std::vector<std::vector<real>> src_blocks_, upt_blocks_, hold_blocks_;
  std::vector<std::string> output_fields_;
  bool at_fractions_ = false, at_doses_ = false;  // output.at_events
  SceneOverrides overrides_;
  double until_ = -1;     // time.until [s]; < 0: none
  Val until_at_;          // its value, for the warning's position
  Val end_at_, step_at_;  // time.end and time.step (absent: 'auto'), for check_steps
  // Per field (Problem::species index), where the rates that limit its explicit step were
  // given, as "<file>:<line>:<column>: <key path>" (empty: not given): its largest diffusion
  // (motility) coefficient, its decay and its uptake (check_steps).
  struct RateAt {
    std::string diffusion, decay, uptake;
  };
  std::vector<RateAt> rate_at_;
  RateAt& rate_at_current();  // the field read last (the last of p_.species)
  std::vector<std::string> warnings_;
  std::string output_time_unit_ = "s";
  double checkpoint_every_ = 0;  // output.checkpoint_every [s]; 0: none
  YAML::Node out_{YAML::NodeType::Map};
  std::shared_ptr<ModelState> model_;  // parameters, model files, field kinds (scene_model.cpp)
  int lesion_ = -1;                    // patient mode: the lesion read (set_lesion); -1: none
  std::vector<Placed> earlier_;        // patient mode: the lesions listed before it
  // Per radiotherapy plan: its analytic dose (patient coordinates), or none for a dose file.
  std::vector<std::optional<rt::AnalyticDose>> plan_analytic_;
  std::optional<LoadedSystemic> systemic_;  // read_systemic
  std::vector<std::string> lesion_names_;
};

// What a patient's lesion is read with (load_text): its index in `lesions:` and the lesions
// read before it; `names` receives the names the list gives (empty for a scene without one).
struct LesionSetup {
  int index = 0;
  std::vector<Loader::Placed> earlier;
  std::vector<std::string> names;
};
// load_scene_text, and with `lesion` a patient's lesion (Loader::set_lesion).
LoadedScene load_text(const std::string& text, const std::string& name, const std::string& base_dir,
                      const Machine& machine, const SceneOverrides& overrides, LesionSetup* lesion);
// The text of a scene file, refused with a positioned message when it cannot be read or is
// not text (load_scene).
std::string read_scene_file(const std::string& path);
// The directory map files of the scene at `path` are relative to.
std::string scene_dir(const std::string& path);

inline YAML::Node flow(YAML::Node n) {
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

// ---- keys read and echoed in one call --------------------------------------------------------

// The default of an optional key: text read like a written value, and echoed as is. Or::node
// gives a mapping or list read like a written one (an absent section read as {}); Or::key
// another key's value, read where it is written (a boundary's 'all' for each face).
struct Or {
  std::string text;
  Val from{YAML::Node(YAML::NodeType::Undefined), "", YAML::Mark()};
  YAML::Node built{YAML::NodeType::Undefined};
  // (Built, not assigned: assigning a YAML::Node rewrites the node it shares.)
  static Or key(const Val& v) { return Or{"", v, YAML::Node(YAML::NodeType::Undefined)}; }
  static Or node(const YAML::Node& n) {
    return Or{"", Val{YAML::Node(YAML::NodeType::Undefined), "", YAML::Mark()}, n};
  }
  // A mapping of one key: {key: text}.
  static Or entry(const std::string& key, const std::string& text) {
    YAML::Node n(YAML::NodeType::Map);
    n[key] = text;
    return node(n);
  }
  bool given() const { return !text.empty() || from.present() || built.IsDefined(); }
  // The default as a value of the key at path/mark.
  Val at(const std::string& path, const YAML::Mark& mark) const {
    if (from.present()) return from;
    return Val{built.IsDefined() ? built : YAML::Node(text), path, mark};
  }
};

// How a value read as written appears in the resolved scene: a scalar's text (trimmed), a
// mapping or list with its scalars' texts, in the style it was written in.
inline YAML::Node echo_of(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull() || n.IsScalar()) return YAML::Node(n.IsScalar() ? trim_blanks(n.Scalar()) : "");
  YAML::Node o(n.IsMap() ? YAML::NodeType::Map : YAML::NodeType::Sequence);
  if (n.IsMap())
    for (auto it = n.begin(); it != n.end(); ++it) o[trim_blanks(it->first.Scalar())] = echo_of(it->second);
  else
    for (const YAML::Node& c : n) o.push_back(echo_of(c));
  o.SetStyle(n.Style());
  return o;
}

enum class Style { kBlock, kFlow };
inline YAML::Node styled(YAML::NodeType::value t, Style s) {
  YAML::Node n(t);
  if (s == Style::kFlow) n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

// "a, b or c": the allowed values of an enumeration, for messages.
inline std::string or_list(const std::vector<std::string>& v) {
  if (v.size() < 2) return join(v);
  return join(std::vector<std::string>(v.begin(), v.end() - 1)) + " or " + v.back();
}

class List;

// One mapping of a scene or model file read key by key. Each call checks one key, converts it
// once to internal units and writes its entry of the resolved scene into `out`: the value as
// written (echo_of), or the default when the key is absent. So what is read and what is echoed
// cannot drift apart; the echo is not open to writes by hand beyond resolved(). A missing required key fails at its
// mapping with the expectation the value would fail with ("a value in s, e.g. '10 min'" unless `expected` says
// otherwise). Nested mappings (map, sub) and lists (list) place their echo under their key when opened, so the resolved
// scene keeps the order in which the keys are read.
class Keys {
 public:
  Keys(const Loader& l, Fields f, YAML::Node out) : L(l), f_(std::move(f)), out_(std::move(out)) {}

  const Fields& fields() const { return f_; }
  bool has(const std::string& key) const { return f_.has(key); }
  Val get(const std::string& key) const { return f_.get(key); }

  // Any value: read(Val) converts it; the entry is its text.
  template <class F>
  auto req(const std::string& key, const std::string& expected, F read) {
    const Val v = f_.required(key, expected);
    auto x = read(v);
    put(key, echo_of(v.node));
    return x;
  }
  template <class F>
  auto opt(const std::string& key, const Or& def, F read) {
    const Val v = f_.get(key);
    const Val r = v.present() ? v : def.at(v.path, v.mark);
    auto x = read(r);
    put(key, echo_of(r.node));
    return x;
  }
  // An entry the section works out itself (a value spread to every axis, a default that
  // depends on other keys); the key counts as read.
  void resolved(const std::string& key, const YAML::Node& n) { put(key, n); }

  // A literal quantity [dim.unit].
  double quantity(const std::string& key, const Dim& dim, Bound b, const std::string& expected = "") {
    return req(key, or_dim(expected, dim), [&](const Val& v) { return L.quantity(v, dim, b, expected); });
  }
  double quantity(const std::string& key, const Dim& dim, Bound b, const Or& def, const std::string& expected = "") {
    return opt(key, def, [&](const Val& v) { return L.quantity(v, dim, b, expected); });
  }
  // A literal quantity or a model parameter's name [dim.unit].
  double value(const std::string& key, const Dim& dim, Bound b, const std::string& expected = "") {
    return req(key, or_dim(expected, dim), [&](const Val& v) { return L.value(v, dim, b, expected); });
  }
  double value(const std::string& key, const Dim& dim, Bound b, const Or& def, const std::string& expected = "") {
    return opt(key, def, [&](const Val& v) { return L.value(v, dim, b, expected); });
  }
  // Non-empty text.
  std::string text(const std::string& key, const std::string& expected) {
    return req(key, expected, [&](const Val& v) { return L.text(v, expected); });
  }
  // A unit UDUNITS parses; with `to`, one that converts to to.unit.
  std::string unit(const std::string& key, const std::string& expected) {
    return req(key, expected, [&](const Val& v) { return parsed_unit(v, expected, nullptr); });
  }
  std::string unit(const std::string& key, const Or& def, const std::string& expected, const Dim& to) {
    return opt(key, def, [&](const Val& v) { return parsed_unit(v, expected, &to); });
  }
  // A name (kNameRule); `what` says whose: "species name".
  std::string name(const std::string& key, const std::string& what) {
    return req(key, kNameRule, [&](const Val& v) { return L.identifier(v, what); });
  }
  // One of `options`: "'x' is not <noun> (expected <expected>)"; without `expected`, the
  // options themselves ("explicit, lod or adi").
  std::string choice(const std::string& key, const std::vector<std::string>& options, const std::string& noun,
                     const std::string& expected) {
    return req(key, expected, [&](const Val& v) { return one_of(v, options, noun, expected); });
  }
  std::string choice(const std::string& key, const std::vector<std::string>& options, const std::string& noun) {
    return choice(key, options, noun, or_list(options));
  }
  std::string choice(const std::string& key, const std::vector<std::string>& options, const std::string& noun,
                     const Or& def) {
    const std::string expected = or_list(options);
    return opt(key, def, [&](const Val& v) { return one_of(v, options, noun, expected); });
  }
  // An integer in [min, max].
  long long integer(const std::string& key, long long min, long long max, const std::string& expected) {
    return req(key, expected, [&](const Val& v) { return L.integer(v, min, max, expected); });
  }
  long long integer(const std::string& key, long long min, long long max, const std::string& expected, const Or& def) {
    return opt(key, def, [&](const Val& v) { return L.integer(v, min, max, expected); });
  }
  // A plain number in the range `in` allows ("'2' is out of range (expected <expected>)").
  template <class In>
  double number(const std::string& key, const std::string& expected, const Or& def, In in) {
    return opt(key, def, [&](const Val& v) {
      const double x = L.number(v, expected);
      if (!in(x)) L.err_.fail(v, in_quotes(v.text()) + " is out of range", expected);
      return x;
    });
  }
  // A defined region (by name).
  const Region& region(const std::string& key, const std::string& expected = "a region name") {
    const Region* r = nullptr;
    req(key, expected, [&](const Val& v) { return r = &L.region(v); });
    return *r;
  }
  // A field (species, population or state) by name; `role`: "a population".
  int field(const std::string& key, const std::string& role) {
    return req(key, role, [&](const Val& v) { return L.field_index(v, role); });
  }
  // A file named relative to the directory of the file being read: the path to open (the
  // written text is in get(key)); the entry is its absolute path.
  fs::path path(const std::string& key, const std::string& expected) {
    fs::path p = L.text(f_.required(key, expected), expected);
    if (p.is_relative()) p = L.base_dir_ / p;
    std::error_code ec;
    const fs::path abs = fs::absolute(p, ec);
    put(key, YAML::Node((ec ? p : abs).lexically_normal().string()));
    return p;
  }
  // A list of literal quantities [dim.unit] (exactly `count` when count > 0: "has 2 entries"),
  // echoed as a flow list of their texts. Each entry fails with dim's own expectation.
  std::vector<double> quantities(const std::string& key, const Dim& dim, Bound b, const std::string& expected,
                                 size_t count = 0, const Or& def = Or{});
  // 3 literal lengths [um].
  std::vector<double> lengths3(const std::string& key, const std::string& expected) {
    return quantities(key, kLength, Bound::kAny, expected, 3);
  }

  // The mapping at `key` with keys `allowed` (absent: `def` read as written, e.g.
  // Or{"{}", true}; without one, "is empty"), read by the Keys returned.
  Keys map(const std::string& key, const std::vector<std::string>& allowed, Style s = Style::kBlock,
           const Or& def = Or{}) {
    return sub(key, Fields(L.err_, or_default(key, def), allowed), s);
  }
  // The mapping at `key` whose keys the user names; `expected` describes it.
  Keys names(const std::string& key, const std::string& expected, Style s = Style::kBlock, const Or& def = Or{}) {
    return sub(key, Fields::any(L.err_, or_default(key, def), expected), s);
  }
  // A nested mapping read through fields the caller built (e.g. gathered from several files).
  Keys sub(const std::string& key, Fields f, Style s = Style::kBlock) {
    YAML::Node o = styled(YAML::NodeType::Map, s);
    put(key, o);
    return Keys(L, std::move(f), o);
  }
  // The list at `key` (absent: `def`, else an empty list), read item by item through the List
  // returned.
  List list(const std::string& key, const std::string& expected, Style s = Style::kBlock, const Or& def = Or{});

  // Every entry no call has read yet, in the order written: read(key, value), then the entry
  // `key: value` as written (names the user chose: regions, labels, fields).
  template <class F>
  void rest(F read) {
    for (const auto& [k, v] : f_.entries()) {
      if (std::find(read_.begin(), read_.end(), k.text()) != read_.end()) continue;
      read(k, v);
      put(k.text(), echo_of(v.node));
    }
  }

 private:
  friend class List;
  void put(const std::string& key, const YAML::Node& n) {
    out_[key] = n;
    read_.push_back(key);
  }
  Val or_default(const std::string& key, const Or& def) const {
    const Val v = f_.get(key);
    return v.present() || !def.given() ? v : def.at(v.path, v.mark);
  }
  static std::string or_dim(const std::string& expected, const Dim& dim) {
    return expected.empty() ? dim.expect() : expected;
  }
  std::string parsed_unit(const Val& v, const std::string& expected, const Dim* to) const {
    const std::string u = L.text(v, expected);
    if (!L.units_.parses(u)) L.err_.fail(v, "unit " + in_quotes(u) + " does not parse", expected);
    if (to && !L.units_.convertible(u, to->unit))
      L.err_.fail(v, in_quotes(u) + " is not " + to->noun + " unit", expected);
    return u;
  }
  std::string one_of(const Val& v, const std::vector<std::string>& options, const std::string& noun,
                     const std::string& expected) const {
    const std::string s = L.text(v, expected);
    if (std::find(options.begin(), options.end(), s) == options.end())
      L.err_.fail(v, in_quotes(s) + " is not " + noun, expected);
    return s;
  }

  const Loader& L;
  Fields f_;
  YAML::Node out_;
  std::vector<std::string> read_;  // keys read (echoed), for rest()
};

// A list read item by item; its echo (a sequence) is filled as the items are read.
class List {
 public:
  // The items of v (a list, else "is empty" / "is a mapping" ... (expected <expected>)).
  List(const Loader& l, const Val& v, const std::string& expected, YAML::Node out)
      : L(l), items_(l.list(v, expected)), out_(std::move(out)) {}
  // Items gathered by the caller (from several files), echoed into out.
  List(const Loader& l, std::vector<Val> items, YAML::Node out)
      : L(l), items_(std::move(items)), out_(std::move(out)) {}

  const std::vector<Val>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::vector<Val>::const_iterator begin() const { return items_.begin(); }
  std::vector<Val>::const_iterator end() const { return items_.end(); }

  // Item e, a mapping with keys `allowed`, read by the Keys returned; its echo is appended.
  Keys map(const Val& e, const std::vector<std::string>& allowed, Style s = Style::kFlow) {
    return Keys(L, Fields(L.err_, e, allowed), push(styled(YAML::NodeType::Map, s)));
  }
  Keys map(Fields f, Style s = Style::kFlow) { return Keys(L, std::move(f), push(styled(YAML::NodeType::Map, s))); }
  // Item e, itself a list.
  List list(const Val& e, const std::string& expected, Style s = Style::kFlow) {
    return List(L, e, expected, push(styled(YAML::NodeType::Sequence, s)));
  }
  // Item e read by read(e), echoed as written.
  template <class F>
  auto item(const Val& e, F read) {
    auto x = read(e);
    out_.push_back(echo_of(e.node));
    return x;
  }
  // Every item read by read(Val), each echoed as written.
  template <class F>
  auto each(F read) {
    std::vector<decltype(read(std::declval<const Val&>()))> x;
    for (const Val& e : items_) x.push_back(item(e, read));
    return x;
  }

 private:
  YAML::Node push(YAML::Node n) {
    out_.push_back(n);
    return n;
  }
  const Loader& L;
  std::vector<Val> items_;
  YAML::Node out_;
};

inline List Keys::list(const std::string& key, const std::string& expected, Style s, const Or& def) {
  const Val v = or_default(key, def);
  YAML::Node o = styled(YAML::NodeType::Sequence, s);
  put(key, o);
  if (!v.present()) return List(L, Val{YAML::Node(YAML::NodeType::Sequence), v.path, v.mark}, expected, o);
  return List(L, v, expected, o);
}

inline std::vector<double> Keys::quantities(const std::string& key, const Dim& dim, Bound b,
                                            const std::string& expected, size_t count, const Or& def) {
  const Val v = def.given() ? or_default(key, def) : f_.required(key, expected);
  List l = list(key, expected, Style::kFlow, def);
  if (count && l.size() != count) L.err_.fail(v, "has " + std::to_string(l.size()) + " entries", expected);
  return l.each([&](const Val& e) { return L.quantity(e, dim, b); });
}

// Empty lists and mappings print as [] and {} on the key's line.
inline YAML::Node flow_empty(YAML::Node n) {
  if ((n.IsSequence() || n.IsMap()) && n.size() == 0) return flow(n);
  if (n.IsSequence())
    for (YAML::Node c : n) flow_empty(c);
  if (n.IsMap())
    for (auto it = n.begin(); it != n.end(); ++it) flow_empty(it->second);
  return n;
}

}  // namespace scene_detail
}  // namespace tme
