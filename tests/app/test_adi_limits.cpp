// Integrator 'adi' with Michaelis-Menten uptake and held voxels (a vessel feeding a consuming
// tumour, a 16^3 version of scenes/tests/oxygen_vessel_mm.yaml): bounded and close to the
// explicit field at steps up to about 100x the explicit step limit, and the warning that
// 'run' and 'validate' give beyond it, where the scheme is measured unstable
// (kernels/implicit.hpp, "Uptake and held voxels").
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "host/core/cost.hpp"
#include "host/core/simulation.hpp"
#include "host/scene/scene.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/program.hpp"

namespace tme::test {
namespace {

// 16^3 voxels of 100 um, a vessel column held at 50 uM, a tumour sphere of radius 0.5 mm with
// uptake Vmax 0.5 uM/s, Km 2 uM (the coefficients of oxygen_vessel_mm.yaml, assumed values for
// a numerical comparison). Explicit step limit 0.69 s.
std::string small_scene(const std::string& integrator, const std::string& step) {
  return "name: oxygen_small\n"
         "grid: {shape: [16, 16, 16], spacing: 100 um}\n"
         "time: {end: 3 h, output_every: 3 h, integrator: " +
         integrator + (step.empty() ? "" : ", step: " + step) +
         "}\n"
         "regions:\n"
         "  vessel: {box: {min: [0.3 mm, 0.7 mm, 0 mm], max: [0.4 mm, 0.8 mm, 1.6 mm]}}\n"
         "  tumour: {sphere: {center: [0.85 mm, 0.85 mm, 0.85 mm], radius: 0.5 mm}}\n"
         "species:\n"
         "  - name: O2\n"
         "    unit: uM\n"
         "    diffusion: 2e-5 cm^2/s\n"
         "    hold: [{region: vessel, value: 50 uM}]\n"
         "    uptake: {vmax: 0.5 uM/s, km: 2 uM, region: tumour}\n";
}

// The field after 3 h.
std::vector<real> run_small(const std::string& backend, const std::string& integrator, const std::string& step) {
  const LoadedScene ls = load_scene_text(small_scene(integrator, step), "small.yaml", ".");
  std::unique_ptr<Backend> b = make_backend(backend);
  b->load(ls.problem);
  Simulation sim(ls.problem, *b);
  sim.advance_to(ls.problem.time.t_end);
  std::vector<real> c;
  b->read_state(c);
  return c;
}

struct Bounds {
  double min = 0, max = 0, rel_l2 = 0;
};

Bounds compare(const std::vector<real>& c, const std::vector<real>& ref) {
  Bounds b{INFINITY, -INFINITY, 0};
  double num = 0, den = 0;
  for (size_t v = 0; v < c.size(); ++v) {
    b.min = std::min(b.min, double(c[v]));
    b.max = std::max(b.max, double(c[v]));
    num += (double(c[v]) - ref[v]) * (double(c[v]) - ref[v]);
    den += double(ref[v]) * ref[v];
  }
  b.rel_l2 = std::sqrt(num / den);
  return b;
}

// Bounded by the held value 50 uM and non-negative up to 1e-4 of it, and within rel_l2 of the
// explicit field (relative L2).
void expect_bounded(const Bounds& b, double rel_l2, const std::string& what) {
  EXPECT_LE(b.max, 50 * (1 + 1e-5)) << what;
  EXPECT_GE(b.min, -50 * 1e-4) << what;
  EXPECT_LT(b.rel_l2, rel_l2) << what;
}

using AdiLimits = BackendTest;

TEST_P(AdiLimits, UptakeAndHeldVoxelsStayBoundedWithinTheStableRange) {
  // Measured (float32, CPU) at 3 h against the explicit run: relative L2 2.8e-4 at 1 min (87x
  // the explicit step limit), min 2.12 uM, max 50 uM.
  const std::vector<real> ref = run_small(GetParam(), "explicit", "");
  expect_bounded(compare(run_small(GetParam(), "adi", "1 min"), ref), 1e-3, "adi, 1 min");
}

// The known limit: 'adi' is unstable on this scene at these steps (measured at 3 h: 5 min
// relative L2 97, min -1.3e4 uM; 15 min 186, min -3.8e4 uM; 1 h 89, min -3.5e3 uM) and 'run' and
// 'validate' warn (Warning below). Enable once the scheme is stable there.
TEST_P(AdiLimits, DISABLED_UptakeAndHeldVoxelsStayBoundedAtLargeSteps) {
  const std::vector<real> ref = run_small(GetParam(), "explicit", "");
  for (const char* step : {"15 min", "1 h"})
    expect_bounded(compare(run_small(GetParam(), "adi", step), ref), 1e-2, std::string("adi, ") + step);
}

TEST_P(AdiLimits, BackwardEulerStaysBoundedAtLargeSteps) {
  // The recommended integrator at such steps: positive at any step.
  for (const char* step : {"15 min", "1 h"}) {
    const std::vector<real> c = run_small(GetParam(), "be", step);
    const Bounds b = compare(c, c);
    EXPECT_LE(b.max, 50 * (1 + 1e-5)) << step;
    EXPECT_GE(b.min, 0.0) << step;
  }
}

TME_INSTANTIATE_BACKENDS(AdiLimits);

TEST(AdiLimitsWarning, ValidateWarnsBeyondTheStableRange) {
  auto warning = [](const std::string& integrator, const std::string& step) {
    return adi_step_warning(load_scene_text(small_scene(integrator, step), "small.yaml", ".").problem);
  };
  EXPECT_EQ(warning("adi", "15 min"),
            "time.step 15 min is 1305x the explicit step limit (0.69 s): integrator 'adi' is unstable beyond about "
            "100x with uptake or held voxels ('O2') and its errors grow without bound; use integrator 'be', or a "
            "step up to 1.15 min");
  EXPECT_EQ(warning("adi", "1 min"), "");
  EXPECT_EQ(warning("be", "15 min"), "");
  EXPECT_EQ(warning("lod", "15 min"), "");
  // Through the program, on the scene the defect was found on.
  const TempDir tmp("tmesim_adi_limits");
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/oxygen_vessel_mm.yaml";
  const Result r =
      run_shell(TMESIM_BINARY,
                "validate " + scene + " --backend cpu --set time.integrator=adi --set 'time.step=15 min'", tmp.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "warning: " + scene +
                       ": time.step 15 min is 1305x the explicit step limit (0.69 s): integrator 'adi' is unstable "
                       "beyond about 100x with uptake or held voxels ('O2') and its errors grow without bound; use "
                       "integrator 'be', or a step up to 1.15 min\n");
}

}  // namespace
}  // namespace tme::test
