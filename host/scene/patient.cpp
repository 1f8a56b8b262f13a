#include "host/scene/patient.hpp"

namespace tme {

LoadedPatient load_patient(const std::string& path, const Machine& machine, const SceneOverrides& overrides) {
  LoadedPatient p;
  p.path = path;
  p.lesions.push_back(load_scene(path, machine, overrides));
  p.name = p.lesions[0].problem.name;
  p.resolved_yaml = p.lesions[0].resolved_yaml;
  p.lesion_names.push_back("");
  return p;
}

}  // namespace tme
