// A patient scene's `lesions:` list: each lesion is read as a single-lesion scene made of the
// scene's shared top-level keys and the keys of its own entry (load_patient, patient.cpp).
// The key paths of a lesion's own keys say where they are written (lesions[1].grid.origin), so
// every message of the single-lesion reader points into the one file.
#include <string>
#include <vector>

#include "host/scene/loader.hpp"

namespace tme {
namespace scene_detail {

namespace {

// The keys of one lesion, and the top-level keys that belong to lesions in a patient scene.
const std::vector<std::string> kLesionKeys{"name", "grid", "regions", "tissue", "observe", "initial"};
const std::vector<std::string> kPerLesion{"regions", "tissue", "observe", "initial"};

// The key node of `key` in f (present).
Val key_of(const Fields& f, const std::string& key) {
  for (const auto& e : f.entries())
    if (e.first.text() == key) return e.first;
  return f.get(key);
}

// "[0, 2.4] x [0, 2.4] x [1, 3.4] mm": a grid's extent in patient coordinates.
std::string extent_mm(const GridSpec& g) {
  std::string s;
  for (int a = 0; a < 3; ++a) {
    const double lo = g.origin[a], hi = g.origin[a] + g.h[a] * (a == 0 ? g.d.nx : a == 1 ? g.d.ny : g.d.nz);
    s += (a ? " x [" : "[") + fmt(lo / 1000) + ", " + fmt(hi / 1000) + "]";
  }
  return s + " mm";
}

}  // namespace

Fields Loader::lesion_root(const Fields& all) {
  const Val lv = all.get("lesions");
  if (lesion_ < 0)
    err_.fail(key_of(all, "lesions"), "a scene with lesions cannot be read as a single lesion here",
              "a scene with a top-level grid");
  if (all.has("grid"))
    err_.fail(key_of(all, "grid"), "a scene with lesions gives each lesion its own grid",
              "either a top-level grid or lesions, not both");
  for (const std::string& k : kPerLesion)
    if (all.has(k))
      err_.fail(key_of(all, k), "is given per lesion in a scene with lesions", k + " inside an entry of lesions");

  const std::string expected = "a non-empty list of lesions, each a mapping with keys " + join(kLesionKeys);
  const std::vector<Val> items = list(lv, expected);
  if (items.empty()) err_.fail(lv, "is an empty list", expected);
  std::vector<Fields> entries;
  for (const Val& item : items) {
    const Fields f(err_, item, kLesionKeys);
    const Val nv = f.required("name", kNameRule);
    const std::string name = identifier(nv, "lesion name");
    for (size_t j = 0; j < lesion_names_.size(); ++j)
      if (lesion_names_[j] == name)
        err_.fail(nv, in_quotes(name) + " is already the name of lesions[" + std::to_string(j) + "]",
                  "each lesion name once");
    f.required("grid", "a mapping with keys shape, spacing, origin");
    lesion_names_.push_back(name);
    entries.push_back(f);
  }
  if (lesion_ >= (int)entries.size())  // load_patient reads the lesions the list has
    err_.fail(lv, "has no entry " + std::to_string(lesion_), "an entry for every lesion read");

  // The shared keys, then the lesion's own (its name is not a key of the scene).
  std::vector<std::pair<Val, Val>> root;
  for (const auto& e : all.entries())
    if (e.first.text() != "lesions") root.push_back(e);
  for (const auto& e : entries[(size_t)lesion_].entries())
    if (e.first.text() != "name") root.push_back(e);
  return Fields::gathered(err_, all.self(), std::move(root));
}

void Loader::check_overlap(const Val& at) const {
  const GridSpec& g = p_.grid;
  for (const Placed& other : earlier_) {
    const GridSpec& o = other.grid;
    const int n[2][3] = {{g.d.nx, g.d.ny, g.d.nz}, {o.d.nx, o.d.ny, o.d.nz}};
    bool intersect = true;
    for (int a = 0; a < 3; ++a) {
      const double lo = g.origin[a], hi = lo + g.h[a] * n[0][a];
      const double olo = o.origin[a], ohi = olo + o.h[a] * n[1][a];
      intersect = intersect && lo < ohi && olo < hi;  // boxes that only touch do not intersect
    }
    if (intersect)
      err_.fail(at,
                "lesion " + in_quotes(lesion_names_[(size_t)lesion_]) + " (" + extent_mm(g) + ") overlaps lesion " +
                    in_quotes(other.name) + " (" + extent_mm(o) + ")",
                "lesions whose grids do not intersect");
  }
}

}  // namespace scene_detail
}  // namespace tme
