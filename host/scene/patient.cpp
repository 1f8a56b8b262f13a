#include "host/scene/patient.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <utility>

#include "host/scene/loader.hpp"

namespace tme {

namespace {

// The resolved patient: lesion 0's resolved scene without the per-lesion keys, and in their
// place (where `grid` stands) the list of lesions, each its name and its own resolved keys.
std::string patient_yaml(const std::vector<LoadedScene>& lesions, const std::vector<std::string>& names) {
  const std::vector<std::string> per{"grid", "regions", "tissue", "observe", "initial"};
  auto is_per = [&](const std::string& k) { return std::find(per.begin(), per.end(), k) != per.end(); };
  std::vector<YAML::Node> resolved;
  for (const LoadedScene& l : lesions) resolved.push_back(YAML::Load(l.resolved_yaml));
  YAML::Node out(YAML::NodeType::Map);
  for (auto it = resolved[0].begin(); it != resolved[0].end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key == "grid") {
      YAML::Node list(YAML::NodeType::Sequence);
      for (size_t i = 0; i < resolved.size(); ++i) {
        YAML::Node e(YAML::NodeType::Map);
        e["name"] = names[i];
        for (auto jt = resolved[i].begin(); jt != resolved[i].end(); ++jt)
          if (is_per(jt->first.Scalar())) e[jt->first.Scalar()] = jt->second;
        list.push_back(e);
      }
      out["lesions"] = list;
    } else if (!is_per(key)) {
      out[key] = it->second;
    }
  }
  YAML::Emitter em;
  em << scene_detail::flow_empty(out);
  return std::string(em.c_str()) + "\n";
}

// Every node's lesion (resolve_node_sites), set in every lesion's copy of the systemic part.
void resolve_sites(LoadedPatient& p) {
  if (!p.lesions.at(0).systemic) return;
  std::vector<GridSpec> grids;
  for (const LoadedScene& l : p.lesions) grids.push_back(l.problem.grid);
  const std::vector<std::string> names = p.single() ? std::vector<std::string>{} : p.lesion_names;
  for (LoadedScene& l : p.lesions) resolve_node_sites(*l.systemic, grids, names, l.problem.model);
}

}  // namespace

LoadedPatient load_patient_text(const std::string& text, const std::string& name, const std::string& base_dir,
                                const Machine& machine, const SceneOverrides& overrides) {
  LoadedPatient p;
  p.path = name;
  scene_detail::LesionSetup setup;  // lesion 0; the list's names come back in setup.names
  p.lesions.push_back(scene_detail::load_text(text, name, base_dir, machine, overrides, &setup));
  p.name = p.lesions[0].problem.name;
  if (setup.names.empty()) {  // no lesions: the scene as load_scene reads it
    p.resolved_yaml = p.lesions[0].resolved_yaml;
    p.lesion_names.push_back("");
    resolve_sites(p);
    return p;
  }
  p.lesion_names = setup.names;
  // The memory each lesion read takes from what the next ones may use (the floor of its
  // per-voxel buffers, as the loader's early check counts them).
  Machine left = machine;
  auto take = [&](const Problem& q) {
    const MemoryCost all = memory_floor(q.grid.nvox(), q.nspecies(), machine.backend),
                     none = memory_floor(0, q.nspecies(), machine.backend);
    left.host_available -= all.host - none.host;
    left.device_available -= all.device - none.device;
  };
  take(p.lesions[0].problem);
  for (size_t i = 1; i < p.lesion_names.size(); ++i) {
    scene_detail::LesionSetup next;
    next.index = (int)i;
    for (size_t j = 0; j < i; ++j) next.earlier.push_back({p.lesion_names[j], p.lesions[j].problem.grid});
    p.lesions.push_back(scene_detail::load_text(text, name, base_dir, left, overrides, &next));
    take(p.lesions.back().problem);
  }
  p.resolved_yaml = patient_yaml(p.lesions, p.lesion_names);
  resolve_sites(p);
  return p;
}

LoadedPatient load_patient(const std::string& path, const Machine& machine, const SceneOverrides& overrides) {
  const std::string text = scene_detail::read_scene_file(path);
  return load_patient_text(text, path, scene_detail::scene_dir(path), machine, overrides);
}

}  // namespace tme
