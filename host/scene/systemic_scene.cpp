// Lymph nodes' drained lesions by name (see systemic_scene.hpp).
#include "host/scene/systemic_scene.hpp"

#include <algorithm>

#include "host/scene/scene.hpp"

namespace tme {

void resolve_node_drains(LoadedSystemic& s, const std::vector<std::string>& lesion_names) {
  s.model.nlesions = lesion_names.empty() ? 1 : (int)lesion_names.size();
  std::string all;
  for (size_t i = 0; i < lesion_names.size(); ++i) all += (i ? ", " : "") + lesion_names[i];
  for (size_t n = 0; n < s.model.nodes.size() && n < s.drains.size(); ++n) {
    const LoadedSystemic::Drains& d = s.drains[n];
    std::vector<int>& out = s.model.nodes[n].drains;
    out.clear();
    if (!d.listed) {
      for (int l = 0; l < s.model.nlesions; ++l) out.push_back(l);
      continue;
    }
    for (size_t i = 0; i < d.names.size(); ++i) {
      const auto it = std::find(lesion_names.begin(), lesion_names.end(), d.names[i]);
      const std::string at = d.where[i] + ": " + d.paths[i] + ": ";
      if (it == lesion_names.end())
        throw SceneError(at + "'" + d.names[i] + "' is not a lesion of the scene (expected " +
                         (lesion_names.empty()
                              ? std::string("no drains: a scene without a lesions list is one lesion, which a node "
                                            "without drains drains")
                              : "a lesion name: one of " + all) +
                         ")");
      const int l = (int)(it - lesion_names.begin());
      if (std::find(out.begin(), out.end(), l) != out.end())
        throw SceneError(at + "lesion '" + d.names[i] + "' is listed twice (expected each lesion at most once)");
      out.push_back(l);
    }
  }
}

void resolve_node_sites(LoadedSystemic& s, const std::vector<GridSpec>& grids,
                        const std::vector<std::string>& lesion_names, const Model& lesion_model) {
  const auto lesion = [&](size_t l) {
    return l < lesion_names.size() && !lesion_names[l].empty() ? "lesion '" + lesion_names[l] + "'"
                                                               : std::string("the lesion");
  };
  bool any_local = false;
  for (size_t n = 0; n < s.model.nodes.size(); ++n) {
    systemic::Node& node = s.model.nodes[n];
    node.local_lesion = -1;
    for (size_t l = 0; l < grids.size() && node.local_lesion < 0; ++l) {
      const GridSpec& g = grids[l];
      const int nn[3] = {g.d.nx, g.d.ny, g.d.nz};
      bool inside = true;
      for (int a = 0; a < 3; ++a) {
        const double lo = g.origin[a], c = node.position_um[a];
        inside = inside && c >= lo && c < lo + nn[a] * g.h[a];
      }
      if (inside) {
        node.local_lesion = (int)l;
        any_local = any_local || s.model.local_egress > 0;
      }
    }
  }
  // The population the effector input's influx terms fill (not its tally field).
  s.coupling.effector_field = -1;
  std::vector<int> targets;
  for (const Term& t : lesion_model.terms)
    if (t.kind == kTermInflux && t.global == s.coupling.effector_input && t.target != s.coupling.effector_tally_field &&
        std::find(targets.begin(), targets.end(), t.target) == targets.end())
      targets.push_back(t.target);
  if (targets.size() == 1) s.coupling.effector_field = targets[0];
  if (!any_local || targets.size() == 1) return;
  for (size_t n = 0; n < s.model.nodes.size(); ++n)
    if (s.model.nodes[n].local_lesion >= 0) {
      const std::string at = n < s.drains.size() ? s.drains[n].node_where + ": " + s.drains[n].node_path + ": " : "";
      throw SceneError(
          at + "lymph node '" + s.model.nodes[n].name + "' lies in " + lesion((size_t)s.model.nodes[n].local_lesion) +
          " and releases a share of its effectors there, but the effector blood input enters " +
          std::to_string(targets.size()) + " populations (expected one population to release into, or local_egress 0)");
    }
}

}  // namespace tme
