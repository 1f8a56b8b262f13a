// Scene loading: YAML (yaml-cpp) with units on every dimensional number (UDUNITS-2),
// validated and converted once into a Problem in internal units.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/cost.hpp"
#include "host/core/problem.hpp"

namespace tme {

// A scene error. what() is the complete user-facing message:
//   "<file>:<line>:<column>: <key.path>: <what is wrong> (expected <what>)"
// with 1-based line and column.
class SceneError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedScene {
  std::string path;                        // the scene file as given
  Problem problem;                         // resolved, internal units
  std::string resolved_yaml;               // the scene with every default made explicit (for the run directory)
  std::vector<std::string> output_fields;  // species written to the volumes; empty = all
};

// Parse, validate, convert units, read map files, build the problem. Throws SceneError.
// With a `machine`, a scene whose fields cannot fit its memory (memory_floor) is refused as
// soon as the grid and the number of fields are known, before the per-voxel buffers are made.
LoadedScene load_scene(const std::string& path, const Machine& machine = Machine{});
// Same, from text; `name` stands for the file name in messages, `base_dir` resolves map files.
LoadedScene load_scene_text(const std::string& text, const std::string& name, const std::string& base_dir,
                            const Machine& machine = Machine{});

}  // namespace tme
