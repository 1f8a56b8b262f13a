// A scene given as text, loaded on one backend and advanced with Simulation, with the
// statistics the model tests read back (means, totals, extremes, per-voxel values, the LQ
// survival product). Used by the mechanism tests of the default model
// (test_model_mechanisms.cpp, test_model_signs.cpp).
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "host/scene/scene.hpp"

namespace tme::test {

class SceneRun {
 public:
  // `base_dir` resolves the scene's relative paths (its model file).
  SceneRun(const std::string& text, const std::string& backend,
           const std::string& base_dir = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests")
      : scene_(load_scene_text(text, "mech.yaml", base_dir)), b_(make_backend(backend)) {
    b_->load(scene_.problem);
    sim_ = std::make_unique<Simulation>(scene_.problem, *b_);
  }
  const Problem& problem() const { return scene_.problem; }
  const LoadedScene& scene() const { return scene_; }
  // The number of a model parameter in the unit it is written in (an alias: its target's).
  double parameter(const std::string& name) const {
    std::string n = name;
    for (int hop = 0; hop < 8; ++hop)
      for (const SceneParameter& q : scene_.parameters)
        if (q.name == n) {
          if (q.target == n) return q.number;
          n = q.target;
          break;
        }
    ADD_FAILURE() << "no parameter " << name;
    return 0;
  }
  // Advances to t [s] and reads the state.
  void to(double t) {
    sim_->advance_to(t);
    b_->read_state(state_);
  }
  int field(const std::string& name) const {
    for (int i = 0; i < problem().nspecies(); ++i)
      if (problem().species[i].name == name) return i;
    ADD_FAILURE() << "no field " << name;
    return 0;
  }
  // The values of a field at every voxel (after the last `to`).
  const real* values(const std::string& name) const {
    return state_.data() + (size_t)field(name) * problem().grid.d.nvox();
  }
  double mean(const std::string& name) const { return compute_observables(problem(), state_)[field(name)][0].mean; }
  double total(const std::string& name) const { return total_amount(problem(), state_, field(name)); }
  // Mean of a field over the voxels with x index in [i0, i1).
  double mean_x(const std::string& name, int i0, int i1) const {
    const Dims d = problem().grid.d;
    const real* c = values(name);
    double sum = 0;
    long long n = 0;
    for (int k = 0; k < d.nz; ++k)
      for (int j = 0; j < d.ny; ++j)
        for (int i = i0; i < i1; ++i, ++n) sum += c[d.index(i, j, k)];
    return sum / double(n);
  }
  double min(const std::string& name) const { return compute_observables(problem(), state_)[field(name)][0].min; }
  double max(const std::string& name) const { return compute_observables(problem(), state_)[field(name)][0].max; }
  // The LQ survival product the backend keeps (Backend::read_survival).
  std::vector<double> survival() const {
    std::vector<double> s;
    b_->read_survival(s);
    return s;
  }

 private:
  LoadedScene scene_;
  std::unique_ptr<Backend> b_;
  std::unique_ptr<Simulation> sim_;
  std::vector<real> state_;
};

}  // namespace tme::test
