// Broken scenes, each with the exact message it must produce. Positions are 1-based
// line:column of the offending node (the key node for unknown keys and keys without a value,
// the parent mapping for missing required keys).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "host/io/vtk_io.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace {

using tme::test::TempDir;

// The message load_scene_text throws for `text` ("" when it loads).
std::string error_of(const std::string& text, const std::string& base_dir = "") {
  try {
    // A fresh, empty directory for map files (none of the scenes below finds a file it names).
    const TempDir scratch("tmesim_scene_errors");
    tme::load_scene_text(text, "bad.yaml", base_dir.empty() ? scratch.string() : base_dir);
  } catch (const tme::SceneError& e) {
    return e.what();
  }
  return "";
}

TEST(SceneErrors, BaseSceneLoads) {
  // The scene the cases below break, one thing at a time.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "");
}

TEST(SceneErrors, VoxelCountOverflow) {
  // 2^21 x 2^21 x 2^22 voxels = 2^64: a long long product wraps to 0 (it crashed validate).
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [2097152, 2097152, 4194304], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:15: grid.shape: 2097152 x 2097152 x 4194304 = 1.84467e+19 voxels is too "
            "many (expected at most 1.09951e+12 voxels (2^40))");
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [2147483647, 2147483647, 2147483647], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:15: grid.shape: 2147483647 x 2147483647 x 2147483647 = 9.90352e+27 "
            "voxels is too many (expected at most 1.09951e+12 voxels (2^40))");
}

TEST(SceneErrors, WrongDimension) {
  // A value whose unit has the wrong dimension.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um/s
)"),
            "bad.yaml:7:16: species[0].diffusion: '10 um/s' is not a diffusion coefficient "
            "(expected a value in um^2/s, e.g. '10 um^2/s')");
}

TEST(SceneErrors, UnparseableUnit) {
  // A unit UDUNITS does not know.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s, decay: 1 furlongz}
)"),
            "bad.yaml:5:54: species[0].decay: unit 'furlongz' does not parse (expected a value in "
            "1/s, e.g. '1e-4 1/s')");
}

TEST(SceneErrors, MissingNumber) {
  // A unit without a number.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:35: grid.spacing: 'um' has no number (expected a length > 0 um or a list "
            "of 3, e.g. 20 um)");
}

TEST(SceneErrors, MissingUnit) {
  // A dimensional value without a unit.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:35: grid.spacing: '10' has no unit (expected a length > 0 um or a list of "
            "3, e.g. 20 um)");
}

TEST(SceneErrors, NegativeDiffusion) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: -10 um^2/s}
)"),
            "bad.yaml:5:36: species[0].diffusion: '-10 um^2/s' must be >= 0 (expected a diffusion "
            "coefficient >= 0 um^2/s)");
}

TEST(SceneErrors, NegativeDecay) {
  EXPECT_EQ(
      error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s, decay: -1e-4 1/s}
)"),
      "bad.yaml:5:54: species[0].decay: '-1e-4 1/s' must be >= 0 (expected a decay rate >= 0 1/s)");
}

TEST(SceneErrors, UnknownTopLevelKey) {
  // A misspelt top-level key.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
outptu: {fields: all}
)"),
            "bad.yaml:6:1: outptu: unknown key 'outptu' (expected one of: name, seed, grid, time, "
            "regions, tissue, observe, species, output, model, parameters, populations, states, "
            "terms, drugs, blood, initial, radiotherapy)");
}

TEST(SceneErrors, UnknownNestedKey) {
  // A misspelt key is reported as unknown, not as a missing 'shape'.
  EXPECT_EQ(
      error_of(R"(name: bad
grid:
  shaep: [4, 4, 4]
  spacing: 10 um
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
      "bad.yaml:3:3: grid.shaep: unknown key 'shaep' (expected one of: shape, spacing, origin)");
}

TEST(SceneErrors, MissingShape) {
  // A missing required key points at its parent mapping.
  EXPECT_EQ(error_of(R"(name: bad
grid:
  spacing: 10 um
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:3: grid.shape: missing required key (expected 3 positive integers, e.g. "
            "[100, 100, 100])");
}

TEST(SceneErrors, MissingSpeciesUnit) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    diffusion: 10 um^2/s
)"),
            "bad.yaml:5:5: species[0].unit: missing required key (expected a concentration unit, "
            "e.g. ng/mL, nM or cells/mm^3)");
}

TEST(SceneErrors, MissingEnd) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time:
  output_every: 10 min
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:4:3: time.end: missing required key (expected a value in s, e.g. '10 min')");
}

TEST(SceneErrors, ShapeTwoEntries) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:15: grid.shape: has 2 entries (expected 3 positive integers, e.g. [100, "
            "100, 100])");
}

TEST(SceneErrors, ShapeZero) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 0, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:19: grid.shape[1]: '0' must be > 0 (expected 3 positive integers, e.g. "
            "[100, 100, 100])");
}

TEST(SceneErrors, ShapeNotInteger) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 2.5], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:22: grid.shape[2]: '2.5' is not an integer (expected 3 positive integers, "
            "e.g. [100, 100, 100])");
}

TEST(SceneErrors, SpacingZero) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: [10 um, 0 um, 10 um]}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:43: grid.spacing[1]: '0 um' must be > 0 (expected a length > 0 um)");
}

TEST(SceneErrors, OutputAfterEnd) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 2 h}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:32: time.output_every: '2 h' is longer than end '1 h' (expected an output "
            "interval <= time.end)");
}

TEST(SceneErrors, RegionOutsideGrid) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  far: {sphere: {center: [1 mm, 1 mm, 1 mm], radius: 50 um}}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:5:8: regions.far: region lies outside the grid (expected at least one voxel "
            "centre inside the grid)");
}

TEST(SceneErrors, UnknownSourceRegion) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  core: {box: {min: [0 um, 0 um, 0 um], max: [20 um, 20 um, 20 um]}}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    sources:
      - {region: core, rate: 1 nM/s}
      - {region: rim, rate: 1 nM/s}
)"),
            "bad.yaml:12:18: species[0].sources[1].region: 'rim' is not a defined region (expected "
            "one of: core)");
}

TEST(SceneErrors, DuplicateSpecies) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:6:12: species[1].name: duplicate species name 'A' (expected a name not used "
            "by an earlier species)");
}

TEST(SceneErrors, PeriodicOneFace) {
  // Periodic on one face of an axis only.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    boundary: {y+: periodic}
)"),
            "bad.yaml:8:20: species[0].boundary.y+: y+ is periodic but y- is not (expected "
            "periodic on both y- and y+)");
}

TEST(SceneErrors, PeriodicOverridden) {
  // 'all: periodic' with one face overridden: the error points at the override.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    boundary: {all: periodic, z-: {fixed: 1 nM}}
)"),
            "bad.yaml:8:35: species[0].boundary.z-: z+ is periodic but z- is not (expected "
            "periodic on both z- and z+)");
}

TEST(SceneErrors, MissingMapFile) {
  // A map file that does not exist (relative to the scene's directory).
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
tissue:
  labels: [normal, tumour]
  map: {file: nofile.vti, array: label}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:6:15: tissue.map.file: cannot read map 'nofile.vti': no such file (expected "
            "a readable .vti, .mha, .mhd or .nrrd file)");
}

TEST(SceneErrors, LabelNotInTissue) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  core: {box: {min: [0 um, 0 um, 0 um], max: [20 um, 20 um, 20 um]}}
tissue:
  labels: [normal, tumour]
  regions: [{label: tumor, region: core}]
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:8:21: tissue.regions[0].label: 'tumor' is not a tissue label (expected one "
            "of: normal, tumour)");
}

TEST(SceneErrors, PerLabelWithoutTissue) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: {default: 10 um^2/s, tumour: 5 um^2/s}
)"),
            "bad.yaml:7:16: species[0].diffusion: per-label diffusion needs a tissue section "
            "(expected a single diffusion coefficient, e.g. '10 um^2/s', or tissue.labels)");
}

TEST(SceneErrors, UnknownLabelInDiffusion) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
tissue: {labels: [normal, tumour]}
species:
  - name: A
    unit: nM
    diffusion: {default: 10 um^2/s, tumor: 5 um^2/s}
)"),
            "bad.yaml:8:37: species[0].diffusion.tumor: unknown key 'tumor' (expected one of: "
            "default, normal, tumour)");
}

TEST(SceneErrors, YamlSyntax) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4, spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
)"),
            "bad.yaml:2:39: YAML syntax error: illegal flow end");
}

TEST(SceneErrors, UnknownIntegrator) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, integrator: implicit}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:52: time.integrator: 'implicit' is not an available integrator (expected "
            "explicit, lod or adi)");
}

TEST(SceneErrors, CflWithImplicitIntegrator) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, integrator: adi, step: 1 min, cfl: 0.5}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:75: time.cfl: cfl applies to the explicit integrator only (expected no cfl "
            "with integrator adi)");
}

TEST(SceneErrors, ToleranceWithFixedStep) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, integrator: lod, step: 1 min, tolerance: 1e-3}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:81: time.tolerance: tolerance applies to step: auto only (expected either "
            "a fixed step or a tolerance)");
}

TEST(SceneErrors, ToleranceWithExplicit) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, tolerance: 1e-3}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:51: time.tolerance: tolerance applies to the lod and adi integrators only "
            "(expected no tolerance with integrator explicit)");
}

TEST(SceneErrors, ToleranceOutOfRange) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, integrator: adi, tolerance: 2}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:68: time.tolerance: '2' is out of range (expected a number in (0, 0.5], "
            "e.g. 1e-3)");
}

TEST(SceneErrors, CflOutOfRange) {
  EXPECT_EQ(
      error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, cfl: 1.5}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
      "bad.yaml:3:45: time.cfl: '1.5' is out of range (expected a number in (0, 1], e.g. 0.9)");
}

TEST(SceneErrors, EmptySpecies) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species: []
)"),
            "bad.yaml:4:10: species: is an empty list (expected a non-empty list of species)");
}

TEST(SceneErrors, TwoInitialKinds) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    initial: {constant: 1 nM, map: {file: a.vti}}
)"),
            "bad.yaml:8:31: species[0].initial.map: 'map' cannot be combined with 'constant' "
            "(expected exactly one of: constant, gaussian, regions, map)");
}

TEST(SceneErrors, BadBoundary) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    boundary: {x-: open}
)"),
            "bad.yaml:8:20: species[0].boundary.x-: 'open' is not a boundary condition (expected "
            "no_flux, periodic or {fixed: <concentration>})");
}

TEST(SceneErrors, DuplicateKey) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
name: again
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:4:1: name: duplicate key 'name' (expected each key at most once)");
}

TEST(SceneErrors, EmptyFile) {
  EXPECT_EQ(error_of(R"()"),
            "bad.yaml:1:1: (top level): the scene is empty (expected a mapping with keys name, "
            "grid, time and species)");
}

TEST(SceneErrors, NotAMapping) {
  EXPECT_EQ(error_of(R"(- name: bad
)"),
            "bad.yaml:1:1: (top level): is a list (expected a mapping with keys name, grid, time "
            "and species)");
}

TEST(SceneErrors, EmptyGrid) {
  // A key without a value points at the key.
  EXPECT_EQ(error_of(R"(name: bad
grid:
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:1: grid: is empty (expected a mapping with keys shape, spacing, origin)");
}

TEST(SceneErrors, SpeciesUnitBad) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: ngg/mL, diffusion: 10 um^2/s}
)"),
            "bad.yaml:5:21: species[0].unit: unit 'ngg/mL' does not parse (expected a "
            "concentration unit, e.g. ng/mL, nM or cells/mm^3)");
}

TEST(SceneErrors, ObserveUnknown) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
observe: [core]
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:4:11: observe[0]: 'core' is not a defined region (expected a region name, "
            "but no regions are defined)");
}

TEST(SceneErrors, OutputUnknownSpecies) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
output: {fields: [A, B]}
)"),
            "bad.yaml:6:22: output.fields[1]: 'B' is not a species (expected one of: A)");
}

TEST(SceneErrors, SeedNegative) {
  EXPECT_EQ(error_of(R"(name: bad
seed: -1
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:2:7: seed: '-1' must be >= 0 (expected a non-negative integer, e.g. 42)");
}

TEST(SceneErrors, SourceRateWrongDim) {
  // A source rate must be a concentration per time.
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  core: {box: {min: [0 um, 0 um, 0 um], max: [20 um, 20 um, 20 um]}}
species:
  - name: A
    unit: ng/mL
    diffusion: 10 um^2/s
    sources:
      - {region: core, rate: 1 ng/mL}
)"),
            "bad.yaml:11:30: species[0].sources[0].rate: '1 ng/mL' is not a concentration rate "
            "(expected a value in ng/mL/s, e.g. '1e-3 ng/mL/s')");
}

TEST(SceneErrors, BoxInverted) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  core: {box: {min: [0 um, 20 um, 0 um], max: [20 um, 10 um, 20 um]}}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:5:47: regions.core.box.max: is not above min along y (expected max > min on "
            "every axis)");
}

TEST(SceneErrors, RegionNoShape) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  core: {}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:5:9: regions.core: has none of the keys sphere, box (expected exactly one "
            "of: sphere, box)");
}

TEST(SceneErrors, StepBad) {
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min, step: fast}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)"),
            "bad.yaml:3:46: time.step: 'fast' is neither 'auto' nor a time (expected 'auto' or a "
            "time > 0 s, e.g. '10 s')");
}

TEST(SceneErrors, UptakeKmZero) {
  EXPECT_EQ(
      error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    uptake: {vmax: 1 nM/s, km: 0 nM}
)"),
      "bad.yaml:8:32: species[0].uptake.km: '0 nM' must be > 0 (expected a concentration > 0 nM)");
}

TEST(SceneErrors, TwoDocs) {
  EXPECT_EQ(error_of(R"(name: bad
---
name: again
)"),
            "bad.yaml:3:1: (top level): a second YAML document (expected one document per scene)");
}

// ---- errors that need map files on disk -------------------------------------------------------

// Writes a 4x4x4 (or `d`) map with `values` (default: all `fill`) into `dir`/`file`.
void write_map(const std::string& dir, const std::string& file, tme::Dims d, double fill,
               std::vector<double> values = {}) {
  tme::GridSpec g;
  g.d = d;
  g.h[0] = g.h[1] = g.h[2] = 10;
  if (values.empty()) values.assign(g.nvox(), fill);
  tme::write_image_map_vti(dir + "/" + file, g, "v", values);
}

TEST(SceneErrors, MapShapeMismatch) {
  const TempDir tmp("tmesim_scene_errors");
  const std::string dir = tmp.string();
  write_map(dir, "small.vti", tme::Dims{2, 4, 4}, 0);
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
tissue: {labels: [normal, tumour], map: {file: small.vti, array: v}}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)",
                     dir),
            "bad.yaml:4:48: tissue.map.file: map shape 2x4x4 does not match grid shape 4x4x4 "
            "(expected a map with one value per voxel of the grid)");
}

TEST(SceneErrors, LabelMapValueOutOfRange) {
  const TempDir tmp("tmesim_scene_errors");
  const std::string dir = tmp.string();
  std::vector<double> v(64, 0.0);
  v[1 + 4 * (2 + 4 * 3)] = 2;  // voxel (1, 2, 3)
  write_map(dir, "labels.vti", tme::Dims{4, 4, 4}, 0, v);
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
tissue:
  labels: [normal, tumour]
  map: {file: labels.vti, array: v}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)",
                     dir),
            "bad.yaml:6:15: tissue.map.file: label map value 2 at voxel (1, 2, 3) is not a label "
            "index (expected integers 0..1, one per tissue label)");
}

TEST(SceneErrors, InitialMapNegative) {
  const TempDir tmp("tmesim_scene_errors");
  const std::string dir = tmp.string();
  write_map(dir, "init.vti", tme::Dims{4, 4, 4}, -0.5);
  EXPECT_EQ(error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    initial: {map: {file: init.vti, array: v, unit: uM}}
)",
                     dir),
            "bad.yaml:8:27: species[0].initial.map.file: map value -0.5 at voxel (0, 0, 0) is not "
            "a concentration >= 0 (expected concentrations >= 0)");
}

TEST(SceneErrors, MapArrayMissing) {
  // The reader's own reason is passed on after the file name.
  const TempDir tmp("tmesim_scene_errors");
  const std::string dir = tmp.string();
  write_map(dir, "src.vti", tme::Dims{4, 4, 4}, 1);
  const std::string msg = error_of(R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
    sources: [{map: {file: src.vti, array: nope}, rate: 1 nM/s}]
)",
                                   dir);
  const std::string head =
      "bad.yaml:8:28: species[0].sources[0].map.file: cannot read map 'src.vti': ";
  const std::string tail = " (expected a readable .vti, .mha, .mhd or .nrrd file)";
  ASSERT_GT(msg.size(), head.size() + tail.size()) << msg;
  EXPECT_EQ(msg.substr(0, head.size()), head);
  EXPECT_EQ(msg.substr(msg.size() - tail.size()), tail);
  EXPECT_EQ(msg.find(dir), std::string::npos) << "the reason should not repeat the path: " << msg;
}

TEST(SceneErrors, SceneFileMissing) {
  const TempDir tmp("tmesim_scene_errors");
  const std::string path = tmp.string() + "/none.yaml";
  try {
    tme::load_scene(path);
    FAIL() << "loaded a missing file";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        path + ":1:1: (top level): cannot read the scene file: no such file (expected a regular YAML file of at most 16 MiB)");
  }
}

}  // namespace
