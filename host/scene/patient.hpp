// A patient scene: one or more lesions, each a full LoadedScene (its own grid placed at its
// origin in patient coordinates, regions, tissue labels, initial state, vessels) sharing the
// model, the drugs, the radiotherapy plans and the time control. A scene without a `lesions:`
// list is a patient of one lesion, exactly what load_scene returns. Schema: docs/scenes.md.
#pragma once
#include <string>
#include <vector>

#include "host/scene/scene.hpp"

namespace tme {

struct LoadedPatient {
  std::string path;  // the scene file as given
  std::string name;  // the scene's name
  // The whole scene, every default explicit (for the run directory): for a scene with
  // `lesions:`, the shared keys once and, in `lesions:`, each lesion's name, grid, regions,
  // tissue, observe and initial; loading it gives the same patient (and the same text).
  std::string resolved_yaml;
  // One per lesion, in the order the scene lists them. Every lesion's Problem has the same
  // species, model, drugs, fractions and time control; its grid origin is its position in
  // patient coordinates [um], and each plan's dose was sampled at its voxels. Lesion i's
  // Problem is that of the single-lesion scene made of the shared keys and the lesion's own
  // keys with seed + i for seed (its generated vessels draw from seed + i); its resolved_yaml
  // shows that scene as read, with the scene's seed.
  std::vector<LoadedScene> lesions;
  // Lesion names, one per lesion; a single-lesion scene without `lesions:` has one empty name
  // (its run directory keeps the single-lesion layout).
  std::vector<std::string> lesion_names;
  bool single() const { return lesions.size() == 1 && lesion_names.at(0).empty(); }
  // The systemic compartments (lymph nodes and blood pools) when the scene declares
  // `lymph_nodes:`, their drains resolved against lesion_names; every lesion holds the same.
  const std::optional<LoadedSystemic>& systemic() const { return lesions.at(0).systemic; }
};

// Loads a scene as a patient (see above). Throws SceneError; a lesion whose grid intersects an
// earlier lesion's is refused, and so is one whose fields do not fit the memory of `machine`
// that the lesions before it leave.
LoadedPatient load_patient(const std::string& path, const Machine& machine = Machine{},
                           const SceneOverrides& overrides = SceneOverrides{});
// Same, from text; `name` stands for the file name in messages, `base_dir` resolves map files.
LoadedPatient load_patient_text(const std::string& text, const std::string& name, const std::string& base_dir,
                                const Machine& machine = Machine{}, const SceneOverrides& overrides = SceneOverrides{});

}  // namespace tme
