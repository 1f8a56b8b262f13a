// Scene sections of the coupled model: stub until the model loader lands.
#include "host/scene/loader.hpp"

namespace tme {
namespace scene_detail {

void Loader::read_model(const Fields& root) {
  for (const char* k : {"model", "parameters", "populations", "states", "terms", "drugs", "blood", "initial"})
    if (root.has(k)) err_.fail(root.get(k), "is not supported yet", "no such key");
}

}  // namespace scene_detail
}  // namespace tme
