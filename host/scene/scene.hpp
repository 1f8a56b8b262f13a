// Scene loading: YAML (yaml-cpp) with units on every dimensional number (UDUNITS-2),
// validated and converted once into a Problem in internal units.
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/cost.hpp"
#include "host/core/problem.hpp"
#include "host/scene/systemic_scene.hpp"

namespace tme {

// A scene error. what() is the complete user-facing message:
//   "<file>:<line>:<column>: <key.path>: <what is wrong> (expected <what>)"
// with 1-based line and column.
class SceneError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Values given on the command line. Each is applied to the scene's YAML tree after parsing
// and before the scene is read, so it is read and checked (units, bounds) exactly as if the
// file held it, and the resolved scene shows it; a message about one names the argument
// instead of a file position: "--set time.end=3 x: time.end: '3 x' ... (expected ...)".
struct SceneOverrides {
  // "path=value" (tmesim run --set), in order; a later one wins. The path is a key path as
  // messages print them (time.end, parameters.k_kill, drugs[0].dose), where a list entry may
  // also be named by its `name` (radiotherapy.plans[boost].per_fraction). A missing last key
  // (and missing mappings on the way) is added, so the reader checks that the key is allowed.
  std::vector<std::string> set;
  std::string until;  // tmesim run --until TIME: sets time.until ("" none)
};

// A model parameter as the scene resolves it (model files, then the scene's overrides).
struct SceneParameter {
  std::string name;
  std::string value;         // as written: a literal ("0.012 1/day") or the name of another parameter
  std::string target;        // the parameter holding the literal (itself unless value names another)
  std::string unit;          // the literal's unit ("1" when it has none); empty for a name
  double number = 0;         // the literal's number [unit]
  bool ranged = false;       // declared with range: [low, high]
  double low = 0, high = 0;  // [unit]
  std::string source;        // where the figure comes from ("" when not given)
};

struct LoadedScene {
  std::string path;                        // the scene file as given
  Problem problem;                         // resolved, internal units
  std::string resolved_yaml;               // the scene with every default made explicit (for the run directory)
  std::vector<std::string> output_fields;  // species written to the volumes; empty = all
  // output.at_events: volumes just before and just after each fraction time, each dose time.
  bool output_at_fractions = false;
  bool output_at_doses = false;
  // What the user should know about the scene as loaded (time.until dropping events), one
  // line each, printed as "warning: <line>".
  std::vector<std::string> warnings;
  std::string output_time_unit = "s";  // unit of the volumes' TimeValue: s, h or d
  // output.checkpoint_every [s]: a checkpoint for tmesim run --resume at the first output or
  // event stop at least this long after the previous one; 0: none.
  double checkpoint_every = 0;
  std::vector<NamedMask> regions;          // every region the scene defines (observed or not)
  std::vector<SceneParameter> parameters;  // in definition order; empty without a model
  // The systemic compartments (lymph nodes and blood pools) when the scene declares
  // `lymph_nodes:`; absent, blood inputs keep their prescribed levels.
  std::optional<LoadedSystemic> systemic;
};

// Parse, validate, convert units, read map files, build the problem. Throws SceneError.
// With a `machine`, a scene whose fields cannot fit its memory (memory_floor) is refused as
// soon as the grid and the number of fields are known, before the per-voxel buffers are made.
// `overrides`: command-line values applied on top of the file (SceneOverrides).
LoadedScene load_scene(const std::string& path, const Machine& machine = Machine{},
                       const SceneOverrides& overrides = SceneOverrides{});
// Same, from text; `name` stands for the file name in messages, `base_dir` resolves map files.
LoadedScene load_scene_text(const std::string& text, const std::string& name, const std::string& base_dir,
                            const Machine& machine = Machine{}, const SceneOverrides& overrides = SceneOverrides{});

}  // namespace tme
