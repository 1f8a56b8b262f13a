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

}  // namespace tme
