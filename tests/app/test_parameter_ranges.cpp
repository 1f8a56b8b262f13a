// Parameter ranges (range: [low, high] in a model file's parameter declaration): read in the
// value's unit, kept by a scene's override, shown in the resolved scene, and exact messages
// for every way a range can be wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace {

namespace fs = std::filesystem;

class ParameterRanges : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }
  void model(const std::string& params) const {
    std::ofstream(dir_ / "m.yaml") << "parameters:\n"
                                   << params
                                   << "populations:\n  - {name: T, motility: 0 um^2/s}\n"
                                      "terms:\n  - {growth: T, rate: r}\n";
  }
  std::string error_of(const std::string& extra = "", const tme::SceneOverrides& o = {}) const {
    try {
      tme::load_scene_text(kScene + extra, "scene.yaml", dir_.string(), tme::Machine{}, o);
    } catch (const tme::SceneError& e) {
      return e.what();
    }
    return "";
  }
  tme::LoadedScene load(const std::string& extra = "", const tme::SceneOverrides& o = {}) const {
    return tme::load_scene_text(kScene + extra, "scene.yaml", dir_.string(), tme::Machine{}, o);
  }
  std::string m() const { return (dir_ / "m.yaml").string(); }
  const std::string kScene =
      "name: ranges\ngrid: {shape: [2, 2, 2], spacing: 10 um}\ntime: {end: 1 d, output_every: 1 d}\nmodel: m.yaml\n";
  const tme::test::TempDir tmp_{"tmesim_ranges"};
  fs::path dir_;
};

const std::string kExpected =
    "(expected a list [low, high] of two values convertible to the value's unit (1/day), low <= value <= high, "
    "e.g. [0.25 1/day, 1 1/day])";

TEST_F(ParameterRanges, ReadInTheValuesUnitAndShown) {
  model(
      "  r: {value: 0.5 1/day, source: assumed, range: [0.1 1/day, 1 1/h]}\n  q: r\n  h: {value: 0.5, range: "
      "[0, 1]}\n");
  const tme::LoadedScene ls = load();
  ASSERT_EQ(ls.parameters.size(), 3u);
  const tme::SceneParameter& r = ls.parameters[0];
  EXPECT_EQ(r.name, "r");
  EXPECT_EQ(r.value, "0.5 1/day");
  EXPECT_EQ(r.unit, "1/day");
  EXPECT_EQ(r.source, "assumed");
  EXPECT_DOUBLE_EQ(r.number, 0.5);
  EXPECT_TRUE(r.ranged);
  EXPECT_DOUBLE_EQ(r.low, 0.1);
  EXPECT_NEAR(r.high, 24, 1e-12);  // 1 1/h in 1/day
  EXPECT_EQ(ls.parameters[1].target, "r");
  EXPECT_FALSE(ls.parameters[1].ranged);
  EXPECT_EQ(ls.parameters[2].unit, "1");
  EXPECT_DOUBLE_EQ(ls.parameters[2].high, 1);
  EXPECT_NE(ls.resolved_yaml.find("r: {value: 0.5 1/day, source: assumed, range: [0.1 1/day, 1 1/h]}"),
            std::string::npos)
      << ls.resolved_yaml;
}

TEST_F(ParameterRanges, AnOverrideInsideKeepsTheModelsRange) {
  model("  r: {value: 0.5 1/day, source: assumed, range: [0.1 1/day, 1 1/day]}\n");
  const tme::LoadedScene a = load("parameters: {r: 1 1/week}\n");
  EXPECT_TRUE(a.parameters[0].ranged);
  EXPECT_EQ(a.parameters[0].unit, "1/week");
  EXPECT_NEAR(a.parameters[0].low, 0.7, 1e-12);
  EXPECT_NEAR(a.parameters[0].high, 7, 1e-12);
  EXPECT_NE(a.resolved_yaml.find("value: 1 1/week\n    range: [0.1 1/day, 1 1/day]"), std::string::npos)
      << a.resolved_yaml;
  // A value outside it is the scene's own choice (a mechanism switched off, say): no range then.
  const tme::LoadedScene b = load("parameters: {r: 0 1/day}\n");
  EXPECT_FALSE(b.parameters[0].ranged);
  EXPECT_NE(b.resolved_yaml.find("r: 0 1/day"), std::string::npos) << b.resolved_yaml;
  const tme::LoadedScene c = load("", tme::SceneOverrides{{"parameters.r=0.2 1/day"}, ""});
  EXPECT_TRUE(c.parameters[0].ranged);
  EXPECT_DOUBLE_EQ(c.parameters[0].number, 0.2);
}

TEST_F(ParameterRanges, ExactErrors) {
  model("  r: {value: 0.5 1/day, range: [0.1 1/day, 0.2 1/day]}\n");
  EXPECT_EQ(error_of(), m() +
                            ":2:14: parameters.r.value: value 0.5 1/day of 'r' lies outside its range [0.1, "
                            "0.2] 1/day (expected a value with low <= value <= high)");
  model("  r: {value: 0.5 1/day, range: [0.1 um, 1 1/day]}\n");
  EXPECT_EQ(error_of(), m() +
                            ":2:33: parameters.r.range[0]: '0.1 um' does not convert to '1/day', the unit of "
                            "the value " +
                            kExpected);
  model("  r: {value: 0.5 1/day, range: [1 1/day, 0.1 1/day]}\n");
  EXPECT_EQ(error_of(), m() + ":2:32: parameters.r.range: low 1 is above high 0.1 (1/day) " + kExpected);
  model("  r: {value: 0.5 1/day, range: [0.1 1/day]}\n");
  EXPECT_EQ(error_of(), m() + ":2:32: parameters.r.range: has 1 entries " + kExpected);
  model("  r: {value: 0.5 1/day, range: 0.3 1/day}\n");
  EXPECT_EQ(error_of(), m() + ":2:32: parameters.r.range: '0.3 1/day' is not a list " + kExpected);
  model("  r: {value: 0.5 1/day, range: [low, 1 1/day]}\n");
  EXPECT_EQ(error_of(), m() + ":2:33: parameters.r.range[0]: 'low' is not a number with a unit " + kExpected);
  model("  s: {value: 0.5 1/day}\n  r: {value: s, range: [0.1 1/day, 1 1/day]}\n");
  EXPECT_EQ(error_of(), m() +
                            ":3:24: parameters.r.range: parameter 'r' names another parameter ('s') (expected no "
                            "range on a parameter that names another one: the range goes with the value it names)");
  model("  r: {value: 0.5 1/day, ranges: [0.1 1/day, 1 1/day]}\n");
  EXPECT_EQ(error_of(), m() +
                            ":2:25: parameters.r.ranges: unknown key 'ranges' (expected one of: value, source, "
                            "range)");
}

}  // namespace

// A model file's `overrides`: new definitions of parameters of the files it includes (a
// parameter set over shared mechanisms), each replacing the earlier one whole.
class ModelOverrides : public ParameterRanges {
 protected:
  void files(const std::string& overrides, const std::string& params = "") const {
    std::ofstream(dir_ / "base.yaml") << "parameters:\n"
                                         "  r: {value: 0.5 1/day, source: base, range: [0.1 1/day, 1 1/day]}\n"
                                         "  q: r\n"
                                         "populations:\n  - {name: T, motility: 0 um^2/s}\n"
                                         "terms:\n  - {growth: T, rate: q}\n";
    std::ofstream(dir_ / "m.yaml") << "include: [base.yaml]\n" << params << "overrides:\n" << overrides;
  }
  const tme::SceneParameter& param(const tme::LoadedScene& ls, const std::string& name) const {
    for (const tme::SceneParameter& p : ls.parameters)
      if (p.name == name) return p;
    throw std::runtime_error("no parameter " + name);
  }
};

TEST_F(ModelOverrides, ReplaceTheIncludedDefinition) {
  files("  r: {value: 2 1/day, source: mouse, range: [1 1/day, 3 1/day]}\n");
  const tme::LoadedScene ls = load();
  const tme::SceneParameter& r = param(ls, "r");
  EXPECT_EQ(r.source, "mouse");
  EXPECT_DOUBLE_EQ(r.number, 2);
  EXPECT_DOUBLE_EQ(r.low, 1);
  EXPECT_DOUBLE_EQ(r.high, 3);
  ASSERT_EQ(ls.problem.model.terms.size(), 1u);
  EXPECT_NEAR(ls.problem.model.terms[0].rate(), 2.0 / 86400, 1e-6 * 2.0 / 86400);  // the alias q follows r
  // A scene override inside the new range keeps it.
  const tme::LoadedScene s = load("parameters:\n  r: 1.5 1/day\n");
  EXPECT_DOUBLE_EQ(param(s, "r").number, 1.5);
  EXPECT_TRUE(param(s, "r").ranged);
  EXPECT_DOUBLE_EQ(param(s, "r").high, 3);
}

TEST_F(ModelOverrides, ErrorsNameTheOverridesPosition) {
  const std::string d = (dir_ / "m.yaml").string();
  files("  s: 1 1/day\n");
  EXPECT_EQ(error_of(), d + ":3:3: overrides.s: 's' is not a parameter of the included model files (expected the "
                            "name of a parameter of the included files: r, q)");
  files("  own: 2 1/day\n", "parameters:\n  own: 1 1/day\n");
  EXPECT_EQ(error_of(), d + ":5:3: overrides.own: 'own' is defined in this file, not in a file it includes (expected "
                            "the name of a parameter of the included files: r, q)");
  files("  r: {value: 5 1/day, source: mouse, range: [1 1/day, 3 1/day]}\n");
  EXPECT_EQ(error_of(), d + ":3:14: overrides.r.value: value 5 1/day of 'r' lies outside its range [1, 3] 1/day "
                            "(expected a value with low <= value <= high)");
}
