// Valid scenes load to the right numbers; the resolved YAML reloads to the same Problem.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "host/io/vtk_io.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"
#include "tests/same_problem.hpp"

namespace {

namespace fs = std::filesystem;
using tme::LoadedScene;
using tme::Problem;
using tme::test::expect_same_problem;

const std::string kScenes = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests";

// Voxel centres of a grid, x fastest (what the loader tests membership with).
struct Centre {
  long long idx;
  double x, y, z;
};
std::vector<Centre> centres(const tme::GridSpec& g) {
  std::vector<Centre> c;
  for (int k = 0; k < g.d.nz; ++k)
    for (int j = 0; j < g.d.ny; ++j)
      for (int i = 0; i < g.d.nx; ++i)
        c.push_back({g.d.index(i, j, k), g.origin[0] + (i + 0.5) * g.h[0], g.origin[1] + (j + 0.5) * g.h[1],
                     g.origin[2] + (k + 0.5) * g.h[2]});
  return c;
}

// Reload a scene's resolved YAML; it must give the same Problem and the same resolved text.
void expect_round_trip(const LoadedScene& ls, const std::string& base_dir) {
  const LoadedScene again = tme::load_scene_text(ls.resolved_yaml, "resolved.yaml", base_dir);
  expect_same_problem(ls.problem, again.problem);
  EXPECT_EQ(ls.output_fields, again.output_fields);
  EXPECT_EQ(ls.output_time_unit, again.output_time_unit);
  EXPECT_EQ(ls.resolved_yaml, again.resolved_yaml);
}

class SceneLoadFull : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { scene_ = new LoadedScene(tme::load_scene(kScenes + "/full.yaml")); }
  static void TearDownTestSuite() {
    delete scene_;
    scene_ = nullptr;
  }
  static LoadedScene* scene_;
  const Problem& p() const { return scene_->problem; }
};
LoadedScene* SceneLoadFull::scene_ = nullptr;

TEST_F(SceneLoadFull, GridTimeAndName) {
  EXPECT_EQ(scene_->path, kScenes + "/full.yaml");
  EXPECT_EQ(p().name, "full");
  EXPECT_EQ(p().seed, 7u);
  EXPECT_EQ(p().grid.d.nx, 20);
  EXPECT_EQ(p().grid.d.ny, 16);
  EXPECT_EQ(p().grid.d.nz, 12);
  EXPECT_DOUBLE_EQ(p().grid.h[0], 10.0);
  EXPECT_DOUBLE_EQ(p().grid.h[1], 12.5);
  EXPECT_DOUBLE_EQ(p().grid.h[2], 20.0);  // 0.02 mm
  EXPECT_DOUBLE_EQ(p().grid.origin[0], -100.0);
  EXPECT_DOUBLE_EQ(p().grid.origin[1], 0.0);
  EXPECT_DOUBLE_EQ(p().time.t_end, 7200.0);
  EXPECT_DOUBLE_EQ(p().time.output_every, 600.0);
  EXPECT_DOUBLE_EQ(p().time.max_step, 30.0);
  EXPECT_DOUBLE_EQ(p().time.cfl, 0.5);
  EXPECT_EQ(scene_->output_fields, (std::vector<std::string>{"IFNg", "O2"}));
}

TEST_F(SceneLoadFull, Species) {
  ASSERT_EQ(p().nspecies(), 3);
  EXPECT_EQ(p().species[0].name, "IFNg");
  EXPECT_EQ(p().species[0].unit, "ng/mL");
  EXPECT_EQ(p().species[1].unit, "uM");
  EXPECT_EQ(p().species[2].unit, "cells/mm^3");

  const tme::SpeciesCoeffs& ifn = p().coeffs[0];
  EXPECT_EQ(ifn.uses_labels, 1);
  EXPECT_FLOAT_EQ(ifn.D[0], 10.0f);  // default: 1e-7 cm^2/s
  EXPECT_FLOAT_EQ(ifn.D[1], 5.0f);   // tumour
  EXPECT_FLOAT_EQ(ifn.decay, 6.5e-5f);
  EXPECT_FLOAT_EQ(ifn.km, 0.5f);
  EXPECT_EQ(ifn.src_slot, 0);
  EXPECT_EQ(ifn.upt_slot, 0);
  EXPECT_EQ(ifn.bc[tme::kXm].type, tme::kFixed);
  EXPECT_FLOAT_EQ(ifn.bc[tme::kXm].value, 1.0f);
  for (int f : {tme::kXp, tme::kYm, tme::kYp}) EXPECT_EQ(ifn.bc[f].type, tme::kNoFlux);
  EXPECT_EQ(ifn.bc[tme::kZm].type, tme::kPeriodic);
  EXPECT_EQ(ifn.bc[tme::kZp].type, tme::kPeriodic);

  const tme::SpeciesCoeffs& o2 = p().coeffs[1];
  EXPECT_EQ(o2.uses_labels, 0);
  EXPECT_FLOAT_EQ(o2.D[0], 2000.0f);
  EXPECT_EQ(o2.decay, 0.0f);
  EXPECT_EQ(o2.src_slot, -1);
  EXPECT_EQ(o2.upt_slot, -1);
  for (int f = 0; f < 6; ++f) {
    EXPECT_EQ(o2.bc[f].type, tme::kFixed);
    EXPECT_FLOAT_EQ(o2.bc[f].value, 50.0f);  // uM
  }
  EXPECT_FLOAT_EQ(p().coeffs[2].D[0], 0.0f);
}

TEST_F(SceneLoadFull, RegionsAndLabels) {
  const std::vector<Centre> cs = centres(p().grid);
  ASSERT_EQ(p().regions.size(), 2u);
  EXPECT_EQ(p().regions[0].name, "tumour");
  EXPECT_EQ(p().regions[1].name, "slab");
  // Brute force: sphere centre (0, 100, 120) um, radius 60 um; box x,y all, z in [0, 40] um.
  long long n_sphere = 0, n_box = 0;
  for (const Centre& c : cs) {
    const bool in_sphere = (c.x * c.x + (c.y - 100) * (c.y - 100) + (c.z - 120) * (c.z - 120)) <= 3600;
    const bool in_box = c.z <= 40;
    n_sphere += in_sphere;
    n_box += in_box;
    ASSERT_EQ(p().regions[0].mask[c.idx], in_sphere) << c.idx;
    ASSERT_EQ(p().regions[1].mask[c.idx], in_box) << c.idx;
    ASSERT_EQ(p().labels[c.idx], in_sphere ? 1 : 0) << c.idx;
  }
  EXPECT_GT(n_sphere, 100);  // a real sphere, not a handful of voxels
  EXPECT_EQ(n_box, 20 * 16 * 2);
  long long mask_count = 0;
  for (uint8_t m : p().regions[0].mask) mask_count += m;
  EXPECT_EQ(mask_count, n_sphere);
  EXPECT_EQ(p().label_names, (std::vector<std::string>{"normal", "tumour"}));
}

TEST_F(SceneLoadFull, InitialSourcesUptake) {
  const long long nv = p().grid.nvox();
  ASSERT_EQ((long long)p().initial.size(), 3 * nv);
  ASSERT_EQ(p().nsrc, 1);
  ASSERT_EQ(p().nupt, 1);
  const tme::Dims& d = p().grid.d;
  const uint8_t* tumour = p().regions[0].mask.data();
  const uint8_t* slab = p().regions[1].mask.data();
  const long long centre = d.index(10, 8, 5);  // (5, 106.25, 110) um: inside the sphere
  const long long low = d.index(0, 0, 0);      // in the slab
  const long long far = d.index(0, 0, 11);     // in neither
  ASSERT_TRUE(tumour[centre]);
  ASSERT_TRUE(slab[low] && !tumour[low]);
  ASSERT_TRUE(!slab[far] && !tumour[far]);

  const tme::real* ifn = p().initial.data();
  EXPECT_FLOAT_EQ(ifn[centre], 2.0f);
  EXPECT_FLOAT_EQ(ifn[low], 0.5f);
  EXPECT_FLOAT_EQ(ifn[far], 0.1f);

  // O2: 40000 nM background + 10 uM Gaussian around (0, 100, 120) um, sigma 50 um; in uM.
  const tme::real* o2 = p().initial.data() + nv;
  for (const Centre& c : centres(p().grid)) {
    const double r2 = c.x * c.x + (c.y - 100) * (c.y - 100) + (c.z - 120) * (c.z - 120);
    ASSERT_NEAR(o2[c.idx], 40.0 + 10.0 * std::exp(-r2 / 5000.0), 1e-4) << c.idx;
  }
  // Tcell: 1 cells/uL = 1 cells/mm^3 everywhere.
  const tme::real* tc = p().initial.data() + 2 * nv;
  EXPECT_FLOAT_EQ(tc[0], 1.0f);
  EXPECT_FLOAT_EQ(tc[nv - 1], 1.0f);

  // Sources of IFNg summed in one block: 1e-3 ng/mL/s in the tumour, 7.2 ng/mL/h in the slab.
  for (long long i = 0; i < nv; ++i) {
    const double want = (tumour[i] ? 1e-3 : 0.0) + (slab[i] ? 2e-3 : 0.0);
    ASSERT_NEAR(p().src[i], want, 1e-9) << i;
    ASSERT_NEAR(p().upt[i], tumour[i] ? 2e-3 : 0.0, 1e-9) << i;
  }
}

TEST_F(SceneLoadFull, ResolvedRoundTrip) {
  EXPECT_NE(scene_->resolved_yaml.find("integrator: explicit"), std::string::npos);
  EXPECT_NE(scene_->resolved_yaml.find("decay: 0 1/s"), std::string::npos);
  expect_round_trip(*scene_, kScenes);
}

TEST(SceneLoad, MinimalDefaults) {
  const LoadedScene ls = tme::load_scene(kScenes + "/minimal.yaml");
  const Problem& p = ls.problem;
  EXPECT_EQ(p.seed, 0u);
  EXPECT_DOUBLE_EQ(p.grid.h[0], 20.0);
  EXPECT_DOUBLE_EQ(p.grid.h[2], 20.0);
  EXPECT_DOUBLE_EQ(p.grid.origin[0], 0.0);
  EXPECT_DOUBLE_EQ(p.time.max_step, 0.0);
  EXPECT_DOUBLE_EQ(p.time.cfl, 0.9);
  EXPECT_TRUE(p.labels.empty());
  EXPECT_TRUE(p.label_names.empty());
  EXPECT_TRUE(p.regions.empty());
  EXPECT_EQ(p.nsrc, 0);
  EXPECT_EQ(p.nupt, 0);
  EXPECT_TRUE(ls.output_fields.empty());
  const tme::SpeciesCoeffs& c = p.coeffs[0];
  EXPECT_EQ(c.uses_labels, 0);
  EXPECT_FLOAT_EQ(c.D[0], 10.0f);
  EXPECT_EQ(c.decay, 0.0f);
  EXPECT_EQ(c.src_slot, -1);
  EXPECT_EQ(c.upt_slot, -1);
  for (int f = 0; f < 6; ++f) EXPECT_EQ(c.bc[f].type, tme::kNoFlux);
  for (tme::real x : p.initial) ASSERT_EQ(x, 0.0f);

  const std::string expected = R"(name: minimal
seed: 0
grid:
  shape: [8, 8, 8]
  spacing: [20 um, 20 um, 20 um]
  origin: [0 um, 0 um, 0 um]
time:
  end: 1 h
  output_every: 1 h
  integrator: explicit
  step: auto
  cfl: 0.9
regions: {}
observe: []
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    decay: 0 1/s
    boundary:
      x-: no_flux
      x+: no_flux
      y-: no_flux
      y+: no_flux
      z-: no_flux
      z+: no_flux
    initial:
      constant: 0 nM
    sources: []
output:
  fields: all
  at_events: []
  time_unit: s
well_mixed: none
)";
  EXPECT_EQ(ls.resolved_yaml, expected);
  expect_round_trip(ls, kScenes);
}

TEST(SceneLoad, ObserveDefaultsToEveryRegion) {
  const tme::test::TempDir tmp("tmesim_scene_load");
  const LoadedScene ls = tme::load_scene_text(R"(name: obs
grid: {shape: [10, 10, 10], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  b: {box: {min: [0 um, 0 um, 0 um], max: [50 um, 100 um, 100 um]}}
  a: {sphere: {center: [50 um, 50 um, 50 um], radius: 20 um}}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s, initial: {regions: {a: 3 nM}}}
)",
                                              "obs.yaml", tmp.string());
  ASSERT_EQ(ls.problem.regions.size(), 2u);
  EXPECT_EQ(ls.problem.regions[0].name, "b");  // in the order written
  EXPECT_EQ(ls.problem.regions[1].name, "a");
  long long nb = 0;
  for (uint8_t m : ls.problem.regions[0].mask) nb += m;
  EXPECT_EQ(nb, 500);  // voxel centres 5..45 um in x
  long long na = 0;
  for (size_t i = 0; i < ls.problem.initial.size(); ++i) {
    na += ls.problem.regions[1].mask[i];
    ASSERT_EQ(ls.problem.initial[i], ls.problem.regions[1].mask[i] ? 3.0f : 0.0f);
  }
  // Centres at 5 + 10 n um; within 20 um of (50, 50, 50): offsets of +-5 and +-15 per axis.
  long long want = 0;
  for (double x : {-15.0, -5.0, 5.0, 15.0})
    for (double y : {-15.0, -5.0, 5.0, 15.0})
      for (double z : {-15.0, -5.0, 5.0, 15.0}) want += x * x + y * y + z * z <= 400;
  EXPECT_EQ(na, want);
}

TEST(SceneLoad, Maps) {
  const tme::test::TempDir tmp("tmesim_scene_load");
  const std::string dir = tmp.string();
  tme::GridSpec g;
  g.d = tme::Dims{6, 5, 4};
  g.h[0] = g.h[1] = g.h[2] = 10;
  const long long nv = g.nvox();
  std::vector<double> labels(nv), src(nv), init(nv);
  for (long long i = 0; i < nv; ++i) {
    labels[i] = double(i % 3);
    src[i] = 0.25 * double(i % 5);
    init[i] = 0.001 * double(i);
  }
  fs::create_directories(dir + "/maps");
  tme::write_image_map_vti(dir + "/maps/labels.vti", g, "label", labels);
  tme::write_image_map_vti(dir + "/maps/src.vti", g, "vessel", src);
  tme::write_image_map_vti(dir + "/init.vti", g, "c", init);

  const LoadedScene ls = tme::load_scene_text(R"(name: maps
grid: {shape: [6, 5, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
tissue:
  labels: [normal, tumour, necrotic]
  map: {file: maps/labels.vti, array: label}
species:
  - name: A
    unit: nM
    diffusion: {default: 10 um^2/s, necrotic: 20 um^2/s}
    initial: {map: {file: init.vti, array: c, unit: uM}}
    sources:
      - {map: {file: maps/src.vti, array: vessel}, rate: 2 nM/s}
      - {map: {file: maps/src.vti, array: vessel}, rate: 1 nM/s}
)",
                                              "maps.yaml", dir);
  const Problem& p = ls.problem;
  ASSERT_EQ((long long)p.labels.size(), nv);
  ASSERT_EQ(p.nsrc, 1);
  EXPECT_EQ(p.coeffs[0].uses_labels, 1);
  EXPECT_FLOAT_EQ(p.coeffs[0].D[0], 10.0f);
  EXPECT_FLOAT_EQ(p.coeffs[0].D[1], 10.0f);
  EXPECT_FLOAT_EQ(p.coeffs[0].D[2], 20.0f);
  for (long long i = 0; i < nv; ++i) {
    ASSERT_EQ(p.labels[i], uint8_t(i % 3)) << i;
    ASSERT_NEAR(p.src[i], 3.0 * src[i], 1e-6) << i;          // both sources in one block
    ASSERT_NEAR(p.initial[i], 1000.0 * init[i], 1e-4) << i;  // uM map into a nM species
  }
  // The resolved scene names map files by absolute path, so it reloads from anywhere.
  EXPECT_NE(ls.resolved_yaml.find((fs::path(dir) / "maps/labels.vti").lexically_normal().string()), std::string::npos);
  expect_round_trip(ls, "/");
}

TEST(SceneLoad, PeriodicAndOverrides) {
  const tme::test::TempDir tmp("tmesim_scene_load");
  const LoadedScene ls = tme::load_scene_text(R"(name: bc
grid: {shape: [4, 4, 4], spacing: [1 um, 2 um, 3 um], origin: [1 mm, 0 um, -1 mm]}
time: {end: 100 s, output_every: 100 s, step: auto}
species:
  - name: A
    unit: ng/mL
    diffusion: 1 um^2/s
    boundary: {all: periodic, z-: {fixed: 2 ug/L}, z+: no_flux}
)",
                                              "bc.yaml", tmp.string());
  const tme::SpeciesCoeffs& c = ls.problem.coeffs[0];
  for (int f = 0; f < 4; ++f) EXPECT_EQ(c.bc[f].type, tme::kPeriodic);
  EXPECT_EQ(c.bc[tme::kZm].type, tme::kFixed);
  EXPECT_FLOAT_EQ(c.bc[tme::kZm].value, 2.0f);  // 2 ug/L = 2 ng/mL
  EXPECT_EQ(c.bc[tme::kZp].type, tme::kNoFlux);
  EXPECT_DOUBLE_EQ(ls.problem.grid.origin[0], 1000.0);
  EXPECT_DOUBLE_EQ(ls.problem.grid.origin[2], -1000.0);
  EXPECT_DOUBLE_EQ(ls.problem.grid.h[2], 3.0);
  expect_round_trip(ls, "/");
}

}  // namespace

TEST(SceneLoad, ImplicitIntegrators) {
  const char* fixed = R"(name: adi
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 d, output_every: 6 h, integrator: adi, step: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)";
  const LoadedScene a = tme::load_scene_text(fixed, "adi.yaml", ".");
  EXPECT_EQ(a.problem.time.integrator, tme::Integrator::kAdi);
  EXPECT_DOUBLE_EQ(a.problem.time.step, 600.0);
  EXPECT_EQ(a.problem.time.tolerance, 0.0);
  const LoadedScene a2 = tme::load_scene_text(a.resolved_yaml, "resolved.yaml", ".");
  EXPECT_EQ(a2.problem.time.integrator, tme::Integrator::kAdi);
  EXPECT_DOUBLE_EQ(a2.problem.time.step, 600.0);

  const char* be = R"(name: be
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 d, output_every: 6 h, integrator: be, step: 1 h}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)";
  const LoadedScene e = tme::load_scene_text(be, "be.yaml", ".");
  EXPECT_EQ(e.problem.time.integrator, tme::Integrator::kBe);
  EXPECT_DOUBLE_EQ(e.problem.time.step, 3600.0);
  const LoadedScene e2 = tme::load_scene_text(e.resolved_yaml, "resolved.yaml", ".");
  EXPECT_EQ(e2.problem.time.integrator, tme::Integrator::kBe);
  EXPECT_NE(e.resolved_yaml.find("integrator: be"), std::string::npos) << e.resolved_yaml;

  const char* autostep = R"(name: lod
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 d, output_every: 6 h, integrator: lod, tolerance: 2e-3}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)";
  const LoadedScene l = tme::load_scene_text(autostep, "lod.yaml", ".");
  EXPECT_EQ(l.problem.time.integrator, tme::Integrator::kLod);
  EXPECT_EQ(l.problem.time.step, 0.0);
  EXPECT_DOUBLE_EQ(l.problem.time.tolerance, 2e-3);
  EXPECT_NE(l.resolved_yaml.find("tolerance: 2e-3"), std::string::npos) << l.resolved_yaml;

  const char* defaults = R"(name: lod
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 d, output_every: 6 h, integrator: lod}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)";
  EXPECT_DOUBLE_EQ(tme::load_scene_text(defaults, "lod.yaml", ".").problem.time.tolerance, 1e-3);
}

TEST(SceneLoad, HeldRegionsBecomeAHoldBlock) {
  const tme::LoadedScene ls = tme::load_scene_text(R"(name: hold
grid: {shape: [5, 5, 5], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, integrator: adi, step: 1 min}
regions:
  node: {box: {min: [20 um, 20 um, 20 um], max: [30 um, 30 um, 30 um]}}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s, decay: 1e-3 1/s, hold: [{region: node, value: 2 uM}]}
)",
                                                   "hold.yaml", ".");
  const tme::Problem& p = ls.problem;
  ASSERT_EQ(p.nhold, 1);
  ASSERT_EQ(p.coeffs[0].hold_slot, 0);
  for (long long v = 0; v < p.grid.nvox(); ++v) {
    if (v == p.grid.d.index(2, 2, 2))
      EXPECT_EQ(p.hold[v], tme::real(2000));
    else
      EXPECT_TRUE(std::isnan(p.hold[v])) << v;
  }
  EXPECT_NE(ls.resolved_yaml.find("- {region: node, value: 2 uM}"), std::string::npos) << ls.resolved_yaml;
  try {
    tme::load_scene_text(R"(name: hold
grid: {shape: [5, 5, 5], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  node: {box: {min: [20 um, 20 um, 20 um], max: [30 um, 30 um, 30 um]}}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s, hold: [{region: node, value: 1 s}]}
)",
                         "hold.yaml", ".");
    FAIL() << "no error";
  } catch (const tme::SceneError& e) {
    EXPECT_STREQ(e.what(),
                 "hold.yaml:7:76: species[0].hold[0].value: '1 s' is not a concentration "
                 "(expected a value in nM, e.g. '1 nM')");
  }
}
