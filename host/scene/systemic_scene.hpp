// The systemic compartments as a scene declares them: the model file's `systemic:` section
// (parameters of the nodes and blood pools, and how they meet the lesions' model) and the
// scene's `lymph_nodes:` list (positions, radii, drained lesions, node doses). Schema:
// docs/model.md, "Systemic compartments".
#pragma once
#include <string>
#include <vector>

#include "host/core/problem.hpp"
#include "host/core/systemic.hpp"

namespace tme {

struct LoadedSystemic {
  systemic::SystemicModel model;  // nodes placed; their `drains` set by resolve_node_drains
  systemic::Coupling coupling;
  // Per node, the lesion names its `drains` key lists (empty: the key is absent, the node
  // drains every lesion), with each name's position "<file>:<line>:<column>" and key path
  // ("lymph_nodes[0].drains[1]"), and the node's own position and path for messages.
  struct Drains {
    bool listed = false;  // the node has a `drains` key (an empty list drains no lesion)
    std::vector<std::string> names, where, paths;
    std::string node_where, node_path;
  };
  std::vector<Drains> drains;
};

// Sets every node's drains (lesion indices) and model.nlesions from the scene's lesion names, in
// the order the scene lists them (a scene without a `lesions:` list passes no names: it is one
// lesion, which a node without `drains` drains). Throws SceneError (scene.hpp) at the name
// that is not a lesion, or a name listed twice.
void resolve_node_drains(LoadedSystemic& s, const std::vector<std::string>& lesion_names);

// A node inside a lesion (docs/model.md, "A node inside a lesion"): sets every node's
// local_lesion, the lesion whose grid holds the node's centre (-1: none), from the lesions'
// grids (one per lesion, in the scene's order; `lesion_names` as for resolve_node_drains).
// A node whose centre lies outside every grid releases nothing locally, even where its sphere
// reaches into one. Sets coupling.effector_field to the population the effector blood input's
// influx terms fill (`lesion_model`: the lesions' model), or -1 when there is none or more than
// one; throws SceneError at a node that lies in a lesion and releases a share there
// (local_egress > 0) when there is not exactly one (expected one population to release into).
void resolve_node_sites(LoadedSystemic& s, const std::vector<GridSpec>& grids,
                        const std::vector<std::string>& lesion_names, const Model& lesion_model);

}  // namespace tme
