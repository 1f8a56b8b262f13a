// Scene sections of the coupled model: stub until the model loader lands.
#include "host/scene/loader.hpp"

namespace tme {
namespace scene_detail {

double Loader::value(const Val& v, const Dim& dim, Bound bound, const std::string& expected) const {
  return quantity(v, dim, bound, expected);
}

void Loader::read_model(const Fields& root) {
  for (const char* k : {"model", "parameters", "populations", "states", "terms", "drugs", "blood", "initial"})
    if (root.has(k)) err_.fail(root.get(k), "is not supported yet", "no such key");
}

}  // namespace scene_detail
}  // namespace tme
