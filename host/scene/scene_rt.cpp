// Scene section 'radiotherapy': stub until the radiotherapy loader lands.
#include "host/scene/loader.hpp"

namespace tme {
namespace scene_detail {

void Loader::read_radiotherapy(const Val& v) {
  if (v.present()) err_.fail(v, "is not supported yet", "no such key");
}

}  // namespace scene_detail
}  // namespace tme
