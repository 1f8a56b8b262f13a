// The scene's 'radiotherapy' section (host/scene/scene_rt.cpp): plans, schedules, responses and
// releases come out in internal units (s, Gy, um); broken sections give exact positioned
// messages. Fields are plain species (diffusion 0) so the tests need no population loader.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "host/io/vtk_io.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace {

namespace fs = std::filesystem;
using tme::LoadedScene;
using tme::Model;

const double kDay = 86400, kHour = 3600;

// A 4x4x4 grid of 100 um voxels (centres at 50, 150, 250, 350 um), 60 days, six fields.
const std::string kHead = R"(name: rt
grid: {shape: [4, 4, 4], spacing: 100 um}
time: {end: 60 d, output_every: 1 d}
species:
  - {name: tumour, unit: cells/mm^3, diffusion: 0 um^2/s}
  - {name: doomed, unit: cells/mm^3, diffusion: 0 um^2/s}
  - {name: CD8, unit: cells/mm^3, diffusion: 0 um^2/s}
  - {name: IFN1, unit: ng/mL, diffusion: 0 um^2/s}
  - {name: TGFb, unit: ng/mL, diffusion: 0 um^2/s}
  - {name: O2, unit: uM, diffusion: 0 um^2/s}
)";

// A plan for scenes that test something else.
const std::string kPlan = R"(  plans:
    - name: main
      dose: {targets: [{sphere: {center: [200 um, 200 um, 200 um], radius: 150 um}, prescription: 2 Gy}]}
      per_fraction: 2 Gy
      schedule: {total: 10 Gy, fractions: 5}
)";

LoadedScene load(const std::string& rt, const std::string& dir = ".") {
  return tme::load_scene_text(kHead + "radiotherapy:\n" + rt, "rt.yaml", dir);
}

// The message loading throws ("" when it loads).
std::string error_of(const std::string& rt, const std::string& head = kHead) {
  try {
    const tme::test::TempDir scratch("tmesim_scene_rt");
    tme::load_scene_text(head + "radiotherapy:\n" + rt, "bad.yaml", scratch.string());
  } catch (const tme::SceneError& e) {
    return e.what();
  }
  return "";
}

// Reloading the resolved scene gives the same model and the same resolved text.
void expect_round_trip(const LoadedScene& ls) {
  const LoadedScene b = tme::load_scene_text(ls.resolved_yaml, "resolved.yaml", ".");
  const Model &x = ls.problem.model, &y = b.problem.model;
  EXPECT_EQ(ls.resolved_yaml, b.resolved_yaml);
  ASSERT_EQ(x.plans.size(), y.plans.size());
  for (size_t i = 0; i < x.plans.size(); ++i) {
    EXPECT_EQ(x.plans[i].name, y.plans[i].name);
    EXPECT_EQ(x.plans[i].nominal_Gy, y.plans[i].nominal_Gy);
    EXPECT_EQ(x.plans[i].dose, y.plans[i].dose);
  }
  ASSERT_EQ(x.fractions.size(), y.fractions.size());
  for (size_t i = 0; i < x.fractions.size(); ++i) {
    EXPECT_EQ(x.fractions[i].time_s, y.fractions[i].time_s);
    EXPECT_EQ(x.fractions[i].plan, y.fractions[i].plan);
    EXPECT_EQ(x.fractions[i].dose_Gy, y.fractions[i].dose_Gy);
  }
  EXPECT_EQ(x.alpha_beta_Gy, y.alpha_beta_Gy);
  EXPECT_EQ(x.oxygen, y.oxygen);
  EXPECT_EQ(x.oxygen_to_mmHg, y.oxygen_to_mmHg);
  ASSERT_EQ(x.radio_pops.size(), y.radio_pops.size());
  ASSERT_EQ(x.radio_releases.size(), y.radio_releases.size());
}

// ---- dose maps --------------------------------------------------------------------------------

TEST(SceneRtPlans, AnalyticDoseAtVoxelCentres) {
  const LoadedScene ls = load(R"(  plans:
    - name: boost
      dose:
        targets:
          - {sphere: {center: [200 um, 200 um, 200 um], radius: 0.15 mm}, prescription: 8 Gy, penumbra: 30 um}
          - {box: {min: [0 um, 0 um, 300 um], max: [100 um, 100 um, 400 um]}, prescription: 400 cGy}
        background: 0.5 Gy
      per_fraction: 8 Gy
      schedule: {times: [7 d]}
)");
  const Model& m = ls.problem.model;
  ASSERT_EQ(m.plans.size(), 1u);
  EXPECT_EQ(m.plans[0].name, "boost");
  EXPECT_EQ(m.plans[0].nominal_Gy, 8.0);
  ASSERT_EQ(m.plans[0].dose.size(), 64u);
  const tme::Dims d = ls.problem.grid.d;
  // Voxel (1,1,1): centre (150, 150, 150) um, sqrt(3) 50 um from the sphere's centre.
  const double sigma = 30 / 1.6832424671;
  const double s = std::sqrt(3.0) * 50 - 150;
  EXPECT_NEAR(m.plans[0].dose[d.index(1, 1, 1)], 0.5 + 8 * 0.5 * std::erfc(s / (std::sqrt(2.0) * sigma)), 1e-5);
  // Voxel (0,0,3): centre (50, 50, 350) um, inside the sharp box, far from the sphere.
  EXPECT_NEAR(m.plans[0].dose[d.index(0, 0, 3)], 0.5 + 4, 1e-5);
  // Voxel (3,3,0): only the background (and a negligible sphere tail).
  EXPECT_NEAR(m.plans[0].dose[d.index(3, 0, 0)], 0.5, 1e-5);
  expect_round_trip(ls);
}

TEST(SceneRtPlans, EllipsoidTarget) {
  const LoadedScene ls = load(R"(  plans:
    - name: e
      dose: {targets: [{ellipsoid: {center: [200 um, 200 um, 200 um], semi_axes: [120 um, 80 um, 80 um]}, prescription: 3 Gy}]}
      per_fraction: 3 Gy
      schedule: {fractions: 1}
)");
  const auto& dose = ls.problem.model.plans[0].dose;
  const tme::Dims d = ls.problem.grid.d;
  EXPECT_EQ(dose[d.index(1, 1, 1)], 3.0f);  // (150, 150, 150) um: rho^2 = 0.17 + 2 x 0.39 < 1
  EXPECT_EQ(dose[d.index(2, 2, 2)], 3.0f);
  EXPECT_EQ(dose[d.index(0, 1, 1)], 0.0f);  // (50, 150, 150) um: rho^2 > 1.5
  // A single fraction from the plan's per_fraction: 3 Gy, Monday 09:00.
  ASSERT_EQ(ls.problem.model.fractions.size(), 1u);
  EXPECT_EQ(ls.problem.model.fractions[0].time_s, 9 * kHour);
  EXPECT_EQ(ls.problem.model.fractions[0].dose_Gy, 3.0);
}

TEST(SceneRtPlans, VtiDoseMapIsResampled) {
  const tme::test::TempDir tmp("tmesim_scene_rt");
  const std::string dir = tmp.string();
  // A coarser image (2x2x2 voxels of 200 um from -100 um: footprint [-100, 300] um) with a
  // linear dose 1 Gy + x / (100 um) Gy at its voxel centres (x = 0, 200 um).
  tme::GridSpec img;
  img.d = tme::Dims{2, 2, 2};
  for (int a = 0; a < 3; ++a) img.h[a] = 200, img.origin[a] = -100;
  std::vector<double> v;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) v.push_back(1 + img.center(0, i) / 100);
  fs::create_directories(fs::path(dir) / "maps");
  tme::write_image_map_vti((fs::path(dir) / "maps/dose.vti").string(), img, "dose", v);
  const LoadedScene ls = load(R"(  plans:
    - name: imrt
      dose: {file: maps/dose.vti, array: dose, scale: 0.5, fill: 0.25 Gy}
      per_fraction: 2 Gy
      schedule: {total: 4 Gy, fractions: 2}
)",
                              dir);
  const auto& dose = ls.problem.model.plans[0].dose;
  const tme::Dims d = ls.problem.grid.d;
  // Grid centres x = 50, 150 um: linear between the image centres, times 0.5.
  EXPECT_NEAR(dose[d.index(0, 2, 1)], 0.5 * 1.5, 1e-6);
  EXPECT_NEAR(dose[d.index(1, 0, 2)], 0.5 * 2.5, 1e-6);
  // x = 250 um: in the rim beyond the last centre, held; 350 um: outside, the fill (unscaled).
  EXPECT_NEAR(dose[d.index(2, 0, 0)], 0.5 * 3, 1e-6);
  EXPECT_EQ(dose[d.index(3, 0, 0)], 0.25f);
  EXPECT_NE(ls.resolved_yaml.find((fs::path(dir) / "maps/dose.vti").lexically_normal().string()), std::string::npos);
  EXPECT_NE(ls.resolved_yaml.find("outside: fill"), std::string::npos) << ls.resolved_yaml;
  expect_round_trip(ls);

  // The grid reaches x = 400 um, beyond the footprint [-50, 350] um: refused with outside: error.
  const std::string rt = R"(  plans:
    - name: imrt
      dose: {file: maps/dose.vti, outside: error}
      per_fraction: 2 Gy
      schedule: {total: 4 Gy, fractions: 2}
)";
  try {
    load(rt, dir);
    FAIL() << "loaded";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(std::string(e.what()),
              "rt.yaml:14:44: radiotherapy.plans[0].dose.outside: grid voxel (3, 0, 0) at "
              "(350, 50, 50) um lies outside the image [-100, 300] x [-100, 300] x [-100, 300] um "
              "(expected a dose map that covers the grid, or outside: fill)");
  }
}

// ---- schedules ---------------------------------------------------------------------------------

TEST(SceneRtSchedule, FiftyInTwentyFiveFromMonday) {
  const LoadedScene ls = load(R"(  calendar: {weekday: Monday, clock: "00:00"}
  plans:
    - name: whole
      dose: {targets: [], background: 2 Gy}
      per_fraction: 2 Gy
      schedule: {total: 50 Gy, fractions: 25, pattern: "1111100", clock: "09:00"}
)");
  const auto& f = ls.problem.model.fractions;
  ASSERT_EQ(f.size(), 25u);
  for (int w = 0; w < 5; ++w)
    for (int d = 0; d < 5; ++d) {
      const auto& x = f[(size_t)(5 * w + d)];
      EXPECT_EQ(x.time_s, (7 * w + d) * kDay + 9 * kHour);
      EXPECT_EQ(x.dose_Gy, 2.0);
      EXPECT_EQ(x.plan, 0);
    }
  EXPECT_EQ(ls.problem.model.plans[0].dose[0], 2.0f);
  expect_round_trip(ls);
}

TEST(SceneRtSchedule, CalendarShiftsTheWeek) {
  // t = 0 is a Wednesday 14:00; 3 per week (Mon, Wed, Fri) at 09:00: Fri (t = 43 h), Mon, Wed.
  const LoadedScene ls = load(R"(  calendar: {weekday: wed, clock: "14:00"}
  plans:
    - name: sbrt
      dose: {targets: [], background: 8 Gy}
      per_fraction: 8 Gy
      schedule: {total: 24 Gy, fractions: 3, per_week: 3}
)");
  const auto& f = ls.problem.model.fractions;
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].time_s, 43 * kHour);
  EXPECT_EQ(f[1].time_s, 43 * kHour + 3 * kDay);
  EXPECT_EQ(f[2].time_s, 43 * kHour + 5 * kDay);
  EXPECT_NE(ls.resolved_yaml.find("weekday: Wednesday"), std::string::npos) << ls.resolved_yaml;
  expect_round_trip(ls);
}

TEST(SceneRtSchedule, TwiceDailyFromStart) {
  // 1.5 Gy twice daily 6 h apart from day 7 (a Monday): 08:00 and 14:00; the plan's per_fraction.
  const LoadedScene ls = load(R"(  plans:
    - name: bid
      dose: {targets: [], background: 1.5 Gy}
      per_fraction: 1.5 Gy
      schedule: {fractions: 5, start: 7 d, clock: "08:00", per_day: 2, gap: 6 h}
)");
  const auto& f = ls.problem.model.fractions;
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].time_s, 7 * kDay + 8 * kHour);
  EXPECT_EQ(f[1].time_s, 7 * kDay + 14 * kHour);
  EXPECT_EQ(f[2].time_s, 8 * kDay + 8 * kHour);
  EXPECT_EQ(f[4].time_s, 9 * kDay + 8 * kHour);
  for (const auto& x : f) EXPECT_EQ(x.dose_Gy, 1.5);
  expect_round_trip(ls);
}

TEST(SceneRtSchedule, ExplicitListWithDoses) {
  const LoadedScene ls = load(R"(  plans:
    - name: boost
      dose: {targets: [], background: 8 Gy}
      per_fraction: 8 Gy
      schedule:
        list:
          - {time: 14 d, dose: 6 Gy}
          - {time: 7 d 6 h, dose: 800 cGy}
          - {time: 7 d}
)");
  const auto& f = ls.problem.model.fractions;
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].time_s, 7 * kDay);
  EXPECT_EQ(f[0].dose_Gy, 8.0);  // the plan's per_fraction
  EXPECT_EQ(f[1].time_s, 7 * kDay + 6 * kHour);
  EXPECT_EQ(f[1].dose_Gy, 8.0);
  EXPECT_EQ(f[2].time_s, 14 * kDay);
  EXPECT_EQ(f[2].dose_Gy, 6.0);
  expect_round_trip(ls);
}

TEST(SceneRtSchedule, ExplicitTimesAndDoses) {
  const LoadedScene ls = load(R"(  plans:
    - name: boost
      dose: {targets: [], background: 8 Gy}
      per_fraction: 8 Gy
      schedule: {times: [2 d, 1 d 12 h], doses: [4 Gy, 5 Gy]}
)");
  const auto& f = ls.problem.model.fractions;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].time_s, 36 * kHour);
  EXPECT_EQ(f[0].dose_Gy, 5.0);
  EXPECT_EQ(f[1].time_s, 2 * kDay);
  EXPECT_EQ(f[1].dose_Gy, 4.0);
  expect_round_trip(ls);
}

TEST(SceneRtSchedule, TwoPlansMergeSorted) {
  const LoadedScene ls = load(R"(  plans:
    - name: course
      dose: {targets: [], background: 2 Gy}
      per_fraction: 2 Gy
      schedule: {fractions: 3, clock: "09:00"}
    - name: boost
      dose: {targets: [], background: 8 Gy}
      per_fraction: 8 Gy
      schedule: {times: [1 d 9 h, 12 h, 0 s]}
)");
  const auto& f = ls.problem.model.fractions;
  ASSERT_EQ(f.size(), 6u);
  const double t[6] = {0, 9 * kHour, 12 * kHour, kDay + 9 * kHour, kDay + 9 * kHour, 2 * kDay + 9 * kHour};
  const int plan[6] = {1, 0, 1, 0, 1, 0};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(f[i].time_s, t[i]) << i;
    EXPECT_EQ(f[i].plan, plan[i]) << i;
    EXPECT_EQ(f[i].dose_Gy, plan[i] ? 8.0 : 2.0) << i;
  }
  expect_round_trip(ls);
}

// ---- response, releases, oxygen, alpha/beta ---------------------------------------------------

TEST(SceneRtResponse, ConvertedNumbers) {
  const std::string head = kHead + R"(regions:
  core: {sphere: {center: [200 um, 200 um, 200 um], radius: 100 um}}
tissue:
  labels: [normal, tumour, bone]
  regions: [{label: tumour, region: core}]
)";
  const LoadedScene ls = tme::load_scene_text(head + R"(radiotherapy:
  alpha_beta: {normal: 3 Gy, default: 10 Gy}
  oxygen: {field: O2, pO2_per_unit: 0.75 mmHg}
  response:
    - {population: tumour, alpha: 0.0146 1/cGy, beta: 0.0146 1/Gy^2, doomed: doomed}
    - {population: CD8, alpha: 0.2 1/Gy, beta: 0.14 1/Gy^2}
  releases:
    - {field: IFN1, kind: interferon, yield: 10 pg/mL/Gy/(cells/uL), per: tumour}
    - {field: TGFb, kind: linear, yield: 0.5 ng/mL/Gy, saturation: 20 Gy}
    - {field: TGFb, kind: interferon, yield: 1 ng/mL/Gy, threshold: 12 Gy, steepness: 3}
)" + kPlan,
                                              "rt.yaml", ".");
  const Model& m = ls.problem.model;
  ASSERT_EQ(m.radio_pops.size(), 2u);
  EXPECT_EQ(m.radio_pops[0].species, 0);
  EXPECT_FLOAT_EQ(m.radio_pops[0].alpha, 1.46f);
  EXPECT_FLOAT_EQ(m.radio_pops[0].beta, 0.0146f);
  EXPECT_EQ(m.radio_pops[0].doomed, 1);
  EXPECT_EQ(m.radio_pops[1].species, 2);
  EXPECT_FLOAT_EQ(m.radio_pops[1].alpha, 0.2f);
  EXPECT_EQ(m.radio_pops[1].doomed, -1);
  ASSERT_EQ(m.radio_releases.size(), 3u);
  const auto& r = m.radio_releases;
  EXPECT_EQ(r[0].species, 3);
  EXPECT_EQ(r[0].kind, tme::kReleaseInterferon);
  EXPECT_FLOAT_EQ(r[0].yield, 0.01f);  // ng/mL/Gy per cells/mm^3
  EXPECT_EQ(r[0].per, 0);
  EXPECT_EQ(r[0].p1, 15.0f);  // defaults (rt::Ifn1Defaults)
  EXPECT_EQ(r[0].p2, 4.0f);
  EXPECT_EQ(r[1].species, 4);
  EXPECT_EQ(r[1].kind, tme::kReleaseLinear);
  EXPECT_FLOAT_EQ(r[1].yield, 0.5f);
  EXPECT_EQ(r[1].p1, 20.0f);
  EXPECT_EQ(r[1].per, -1);
  EXPECT_EQ(r[2].p1, 12.0f);
  EXPECT_EQ(r[2].p2, 3.0f);
  EXPECT_EQ(m.oxygen, 5);
  EXPECT_DOUBLE_EQ(m.oxygen_to_mmHg, 0.75);
  EXPECT_EQ(m.oer_max, 3.0);
  EXPECT_EQ(m.oer_k_mmHg, 3.0);
  EXPECT_EQ(m.alpha_beta_Gy, (std::vector<double>{3, 10, 10}));
  EXPECT_NE(ls.resolved_yaml.find("steepness: 4"), std::string::npos) << ls.resolved_yaml;
  EXPECT_NE(ls.resolved_yaml.find("threshold: 15 Gy"), std::string::npos);
  EXPECT_NE(ls.resolved_yaml.find("k: 3 mmHg"), std::string::npos);
  expect_round_trip(ls);
}

TEST(SceneRtResponse, Defaults) {
  // No alpha_beta: 10 Gy for every label; an oxygen field in a pressure unit needs no factor.
  const std::string head = R"(name: rt
grid: {shape: [2, 2, 2], spacing: 100 um}
time: {end: 10 d, output_every: 1 d}
species:
  - {name: O2, unit: kPa, diffusion: 0 um^2/s}
)";
  const LoadedScene ls = tme::load_scene_text(head + R"(radiotherapy:
  oxygen: {field: O2, oer_max: 2.5, k: 0.4 kPa}
)" + kPlan,
                                              "rt.yaml", ".");
  const Model& m = ls.problem.model;
  EXPECT_EQ(m.alpha_beta_Gy, std::vector<double>{10});
  EXPECT_NEAR(m.oxygen_to_mmHg, 7.50062, 1e-4);
  EXPECT_EQ(m.oer_max, 2.5);
  EXPECT_NEAR(m.oer_k_mmHg, 3.00025, 1e-4);
  EXPECT_TRUE(m.radio_pops.empty());
  EXPECT_TRUE(m.radio_releases.empty());
  EXPECT_NE(ls.resolved_yaml.find("pO2_per_unit: 1 kPa"), std::string::npos) << ls.resolved_yaml;
  EXPECT_NE(ls.resolved_yaml.find("default: 10 Gy"), std::string::npos);
  expect_round_trip(ls);
}

TEST(SceneRtResponse, ExampleSceneLoadsAndRoundTrips) {
  const LoadedScene ls = tme::load_scene(std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/rt_course.yaml");
  const Model& m = ls.problem.model;
  ASSERT_EQ(m.plans.size(), 2u);
  EXPECT_EQ(m.fractions.size(), 28u);  // 25 x 2 Gy + 3 boosts
  EXPECT_EQ(m.radio_pops.size(), 2u);
  EXPECT_EQ(m.radio_releases.size(), 2u);
  EXPECT_EQ(m.oxygen, 3);
  expect_round_trip(ls);
}

// ---- errors -------------------------------------------------------------------------------------

// A plan with the given schedule (a flow mapping).
std::string plan_with(const std::string& schedule) {
  return "  plans:\n    - name: main\n      dose: {targets: [], background: 2 Gy}\n"
         "      per_fraction: 2 Gy\n      schedule: " +
         schedule + "\n";
}

struct Case {
  const char* name;
  std::string rt;   // the radiotherapy section, after kHead
  std::string msg;  // the exact message
};

TEST(SceneRtErrors, Messages) {
  const std::vector<Case> cases = {
      {"unknown population", "  response: [{population: T, alpha: 0.1 1/Gy, beta: 0.01 1/Gy^2}]\n" + kPlan,
       "bad.yaml:12:27: radiotherapy.response[0].population: 'T' is not a defined field "
       "(expected a population: one of tumour, doomed, CD8, IFN1, TGFb, O2)"},
      {"negative alpha", "  response: [{population: tumour, alpha: -0.1 1/Gy, beta: 0.01 1/Gy^2}]\n" + kPlan,
       "bad.yaml:12:42: radiotherapy.response[0].alpha: '-0.1 1/Gy' must be >= 0 "
       "(expected an LQ alpha >= 0 1/Gy)"},
      {"unknown key", "  respones: []\n" + kPlan,
       "bad.yaml:12:3: radiotherapy.respones: unknown key 'respones' (expected one of: "
       "calendar, alpha_beta, oxygen, response, releases, plans)"},
      {"unknown key in an entry",
       "  response: [{population: tumour, alpha: 0.1 1/Gy, beta: 0 1/Gy^2, doom: doomed}]\n" + kPlan,
       "bad.yaml:12:68: radiotherapy.response[0].doom: unknown key 'doom' (expected one "
       "of: population, alpha, beta, doomed)"},
      {"too many populations",
       "  response: [" +
           [] {
             std::string s;
             for (int i = 0; i < 9; ++i)
               s += std::string(i ? ", " : "") + "{population: tumour, alpha: 0 1/Gy, beta: 0 1/Gy^2}";
             return s;
           }() +
           "]\n" + kPlan,
       "bad.yaml:12:13: radiotherapy.response: has 9 entries (expected at most 8 "
       "populations)"},
      {"doomed is the population",
       "  response: [{population: tumour, alpha: 0.1 1/Gy, beta: 0 1/Gy^2, doomed: tumour}]\n" + kPlan,
       "bad.yaml:12:76: radiotherapy.response[0].doomed: is the irradiated population "
       "itself (expected another field)"},
      {"release yield unit",
       "  releases: [{field: IFN1, kind: interferon, yield: 0.01 ng/mL/Gy, per: tumour}]\n" + kPlan,
       "bad.yaml:12:53: radiotherapy.releases[0].yield: '0.01 ng/mL/Gy' is not a "
       "release yield (expected a value in ng/mL/Gy/(cells/mm^3), e.g. '0.01 "
       "ng/mL/Gy/(cells/mm^3)')"},
      {"release kind", "  releases: [{field: IFN1, kind: sting, yield: 0.01 ng/mL/Gy}]\n" + kPlan,
       "bad.yaml:12:34: radiotherapy.releases[0].kind: 'sting' is not a release kind "
       "(expected interferon or linear)"},
      {"threshold with kind linear",
       "  releases: [{field: TGFb, kind: linear, yield: 0.01 ng/mL/Gy, threshold: 10 Gy}]\n" + kPlan,
       "bad.yaml:12:75: radiotherapy.releases[0].threshold: threshold applies to kind "
       "interferon only (expected saturation for kind linear)"},
      {"release max not positive",
       "  releases: [{field: TGFb, kind: linear, yield: 0.01 ng/mL/Gy, max: 0 ng/mL}]\n" + kPlan,
       "bad.yaml:12:69: radiotherapy.releases[0].max: '0 ng/mL' must be > 0 (expected the field's upper bound > 0 "
       "ng/mL)"},
      {"oxygen unit needs a factor", "  oxygen: {field: O2}\n" + kPlan,
       "bad.yaml:12:11: radiotherapy.oxygen.pO2_per_unit: missing required key "
       "(expected the pO2 of 1 uM of O2, as uM is not a pressure, e.g. '0.75 mmHg')"},
      {"oer below 1", "  oxygen: {field: O2, pO2_per_unit: 0.75 mmHg, oer_max: 0.5}\n" + kPlan,
       "bad.yaml:12:57: radiotherapy.oxygen.oer_max: '0.5' is below 1 (expected a "
       "number >= 1, e.g. 3)"},
      {"bad weekday", "  calendar: {weekday: Funday}\n" + kPlan,
       "bad.yaml:12:23: radiotherapy.calendar.weekday: weekday 'Funday' is not one of "
       "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday (or Mon ... Sun) "
       "(expected a weekday, e.g. Monday or Mon)"},
      {"bad clock", "  calendar: {clock: \"25:00\"}\n" + kPlan,
       "bad.yaml:12:21: radiotherapy.calendar.clock: clock time '25:00' is not HH:MM or "
       "HH:MM:SS (00:00 to 23:59:59) (expected a clock time HH:MM, e.g. '09:00')"},
      {"no plans", "  response: []\n",
       "bad.yaml:12:3: radiotherapy.plans: missing required key (expected a non-empty "
       "list of plans {name, dose, per_fraction, schedule})"},
      {"two dose sources",
       "  plans:\n    - name: main\n      dose: {targets: [], file: dose.vti}\n      per_fraction: "
       "2 Gy\n"
       "      schedule: {fractions: 1}\n",
       "bad.yaml:14:27: radiotherapy.plans[0].dose.file: 'file' cannot be combined with "
       "'targets' (expected exactly one of: targets, file)"},
      {"no dose file",
       "  plans:\n    - name: main\n      dose: {file: dose.vti}\n      per_fraction: 2 Gy\n"
       "      schedule: {fractions: 1}\n",
       "bad.yaml:14:20: radiotherapy.plans[0].dose.file: cannot read dose map "
       "'dose.vti': no such file (expected a .vti, .mha, .mhd, .nrrd or DICOM RT Dose "
       "(.dcm) file)"},
      {"background with a file",
       "  plans:\n    - name: main\n      dose: {file: dose.vti, background: 1 Gy}\n      "
       "per_fraction: 2 Gy\n"
       "      schedule: {fractions: 1}\n",
       "bad.yaml:14:42: radiotherapy.plans[0].dose.background: 'background' applies to "
       "targets only (expected keys of a dose file)"},
      {"negative radius",
       "  plans:\n    - name: main\n      dose: {targets: [{sphere: {center: [0 um, 0 um, 0 um], "
       "radius: -1 um}, prescription: 2 Gy}]}\n"
       "      per_fraction: 2 Gy\n      schedule: {fractions: 1}\n",
       "bad.yaml:14:70: radiotherapy.plans[0].dose.targets[0].sphere.radius: '-1 um' "
       "must be > 0 (expected a length > 0 um)"},
      {"duplicate plan",
       kPlan + "    - name: main\n      dose: {targets: []}\n      per_fraction: 2 Gy\n"
               "      schedule: {fractions: 1}\n",
       "bad.yaml:17:13: radiotherapy.plans[1].name: duplicate plan name 'main' "
       "(expected a name not used by an earlier plan)"},
      {"inconsistent course", plan_with("{total: 50 Gy, per_fraction: 3 Gy, fractions: 25}"),
       "bad.yaml:16:25: radiotherapy.plans[0].schedule.total: total dose 50 Gy is not "
       "25 x 3 Gy (expected two of total, per_fraction (default the plan's) and "
       "fractions, or all three consistent)"},
      {"not a whole number", plan_with("{total: 5 Gy}"),
       "bad.yaml:16:25: radiotherapy.plans[0].schedule.total: total dose 5 Gy is not a "
       "whole number of 2 Gy fractions (expected two of total, per_fraction (default "
       "the plan's) and fractions, or all three consistent)"},
      {"one dose key", plan_with("{per_fraction: 2 Gy, pattern: \"1111100\"}"),
       "bad.yaml:16:17: radiotherapy.plans[0].schedule: give two of total dose, dose "
       "per fraction and number of fractions (expected two of total, per_fraction "
       "(default the plan's) and fractions, or all three consistent)"},
      {"bad pattern", plan_with("{fractions: 5, pattern: \"111110\"}"),
       "bad.yaml:16:41: radiotherapy.plans[0].schedule.pattern: week pattern '111110' "
       "must have 7 characters (Monday first), each 0 or 1, e.g. 1111100 (expected 7 "
       "characters 0 or 1, Monday first, e.g. '1111100')"},
      {"pattern and per_week", plan_with("{fractions: 5, pattern: \"1111100\", per_week: 5}"),
       "bad.yaml:16:52: radiotherapy.plans[0].schedule.per_week: 'per_week' cannot be "
       "combined with 'pattern' (expected exactly one of: pattern, per_week)"},
      {"per_week out of range", plan_with("{fractions: 5, per_week: 8}"),
       "bad.yaml:16:42: radiotherapy.plans[0].schedule.per_week: '8' is too large "
       "(expected 1 to 7 fractions per week)"},
      {"gap below min_gap", plan_with("{fractions: 4, per_day: 2, gap: 4 h}"),
       "bad.yaml:16:49: radiotherapy.plans[0].schedule.gap: gap 4 h between fractions "
       "of a day is shorter than the minimum 6 h (expected a gap >= min_gap)"},
      {"day too short", plan_with("{fractions: 4, per_day: 3, clock: \"12:00\", gap: 8 h}"),
       "bad.yaml:16:41: radiotherapy.plans[0].schedule.per_day: 3 fractions a day from "
       "12:00 with a 8 h gap do not fit in one day (last at 28:00) (expected per_day "
       "fractions, gap apart from clock, within one day)"},
      {"fraction after time.end", plan_with("{fractions: 5, start: 59 d}"),
       "bad.yaml:16:17: radiotherapy.plans[0].schedule: fraction 2 of plan 'main' at t "
       "= 5216400 s (60.375 d) is after time.end = 5184000 s (60 d) (expected every "
       "fraction at or before time.end)"},
      {"explicit after time.end", plan_with("{times: [61 d, 1 d]}"),
       "bad.yaml:16:17: radiotherapy.plans[0].schedule: fraction 2 of plan 'main' at t "
       "= 5270400 s (61 d) is after time.end = 5184000 s (60 d) (expected every "
       "fraction at or before time.end)"},
      {"course and list", plan_with("{total: 10 Gy, times: [1 d]}"),
       "bad.yaml:16:25: radiotherapy.plans[0].schedule.total: 'total' cannot be "
       "combined with explicit fractions (expected either a course (total, "
       "per_fraction, fractions, ...) or explicit fractions (times and doses, or list))"},
      {"doses without times", plan_with("{doses: [1 Gy]}"),
       "bad.yaml:16:17: radiotherapy.plans[0].schedule: has none of the keys times, "
       "list (expected exactly one of: times, list)"},
      {"doses count", plan_with("{times: [1 d, 2 d], doses: [1 Gy]}"),
       "bad.yaml:16:44: radiotherapy.plans[0].schedule.doses: has 1 doses for 2 times "
       "(expected one dose per time, or a single dose for all)"},
      {"same time twice", plan_with("{times: [1 d, 24 h]}"),
       "bad.yaml:16:25: radiotherapy.plans[0].schedule.times: two fractions at t = "
       "86400 s (expected fractions at distinct times >= 0)"},
      {"compound time", plan_with("{times: [1 d 6 furlongs]}"),
       "bad.yaml:16:26: radiotherapy.plans[0].schedule.times[0]: '6 furlongs' is not a "
       "time (expected a time since the start of the run, e.g. '7 d' or '7 d 9 h')"},
      {"negative time", plan_with("{list: [{time: -1 h}]}"),
       "bad.yaml:16:32: radiotherapy.plans[0].schedule.list[0].time: '-1 h' must be >= "
       "0 (expected a time >= 0 s)"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of(c.rt), c.msg) << c.name << "\n" << c.rt;
}

TEST(SceneRtErrors, AlphaBetaNeedsEveryLabel) {
  const std::string head = kHead + R"(tissue:
  labels: [normal, tumour]
)";
  EXPECT_EQ(error_of("  alpha_beta: {normal: 3 Gy}\n" + kPlan, head),
            "bad.yaml:14:15: radiotherapy.alpha_beta: has no value for tissue label 'tumour' "
            "(expected a default, or a value for every tissue label)");
  EXPECT_EQ(error_of("  alpha_beta: {default: 3 Gy, bone: 2 Gy}\n" + kPlan, head),
            "bad.yaml:14:31: radiotherapy.alpha_beta.bone: unknown key 'bone' (expected one of: "
            "default, normal, tumour)");
  // Without a tissue section there is one label, and 'default' is its value.
  EXPECT_EQ(error_of("  alpha_beta: {}\n" + kPlan),
            "bad.yaml:12:15: radiotherapy.alpha_beta.default: missing required key (expected a "
            "default alpha/beta, e.g. '10 Gy')");
}

}  // namespace
