// Broken scenes, each with the exact message it must produce: one table of (base scene, patch,
// message) rows run by one parameterised test, one named instance per row. Positions are 1-based
// line:column of the offending node (the key node for unknown keys and keys without a value,
// the parent mapping for missing required keys).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/io/vtk_io.hpp"
#include "host/scene/patient.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace {

using tme::test::TempDir;

// The message load_patient_text throws for `text` ("" when it loads); for a scene without
// lesions, load_scene_text's.
std::string error_of(const std::string& text, const std::string& base_dir) {
  try {
    tme::load_patient_text(text, "bad.yaml", base_dir);
  } catch (const tme::SceneError& e) {
    return e.what();
  }
  return "";
}

// The scenes the rows break, one thing at a time.
enum class Base {
  kFlow,     // one species in flow style
  kBlock,    // one species in block style (a key per line, more can be added after line 7)
  kRegions,  // kBlock with a region 'core' before the species
  kEmpty,    // nothing: the patch is the whole file
  kLesions,  // kFlow with two lesions (lines 6-7 and 8-9) instead of the grid
};

const char* base_text(Base b) {
  switch (b) {
    case Base::kFlow:
      return R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)";
    case Base::kBlock:
      return R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
)";
    case Base::kRegions:
      return R"(name: bad
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  core: {box: {min: [0 um, 0 um, 0 um], max: [20 um, 20 um, 20 um]}}
species:
  - name: A
    unit: nM
    diffusion: 10 um^2/s
)";
    case Base::kEmpty: return "";
    case Base::kLesions:
      return R"(name: bad
time: {end: 1 h, output_every: 10 min}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
lesions:
  - name: a
    grid: {shape: [4, 4, 4], spacing: 10 um}
  - name: b
    grid: {shape: [4, 4, 4], spacing: 10 um, origin: [1 mm, 0 mm, 0 mm]}
)";
  }
  return "";
}

// A patch is a list of line edits, each numbered in the base: "=N text" replaces line N,
// "+N text" inserts text before line N (one past the last line appends), "-N" deletes line N.
// The text may hold several lines ('\n').
std::string patched(Base b, const std::vector<std::string>& patch) {
  std::vector<std::string> lines;
  std::istringstream in(base_text(b));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<std::string> edits = patch;
  auto line_of = [](const std::string& e) { return std::stoi(e.substr(1)); };
  // Bottom up, so that each edit's number still names its line of the base.
  std::stable_sort(edits.begin(), edits.end(),
                   [&](const std::string& x, const std::string& y) { return line_of(x) > line_of(y); });
  for (const std::string& e : edits) {
    const int n = line_of(e);
    const size_t sp = e.find(' ');
    const std::string text = sp == std::string::npos ? "" : e.substr(sp + 1);
    if (n < 1 || n > (int)lines.size() + (e[0] == '+' ? 1 : 0)) throw std::invalid_argument("bad line in " + e);
    const auto at = lines.begin() + (n - 1);
    if (e[0] == '=') {
      *at = text;
    } else if (e[0] == '+') {
      lines.insert(at, text);
    } else if (e[0] == '-') {
      lines.erase(at);
    } else {
      throw std::invalid_argument("bad edit " + e);
    }
  }
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

struct Row {
  const char* name;
  Base base;
  std::vector<std::string> patch;
  const char* message;  // "" when the patched scene loads
};

std::ostream& operator<<(std::ostream& os, const Row& r) { return os << r.name; }

const std::vector<Row>& rows() {
  using B = Base;
  // clang-format off
  static const std::vector<Row> all = {
      {"BaseFlowLoads", B::kFlow, {}, ""},
      {"BaseBlockLoads", B::kBlock, {}, ""},
      {"BaseRegionsLoads", B::kRegions, {}, ""},
      // Lesions of a patient scene.
      {"BaseLesionsLoads", B::kLesions, {}, ""},
      {"LesionsTouchingLoad", B::kLesions, {"=9     grid: {shape: [4, 4, 4], spacing: 10 um, origin: [40 um, 0 um, 0 um]}"}, ""},
      {"LesionsOverlap", B::kLesions, {"=9     grid: {shape: [4, 4, 4], spacing: 10 um, origin: [20 um, 30 um, -10 um]}"},
       "bad.yaml:9:54: lesions[1].grid.origin: lesion 'b' ([0.02, 0.06] x [0.03, 0.07] x [-0.01, 0.03] mm) overlaps lesion 'a' ([0, 0.04] x [0, 0.04] x [0, 0.04] mm) (expected lesions whose grids do not intersect)"},
      {"LesionDuplicateName", B::kLesions, {"=8   - name: a"}, "bad.yaml:8:11: lesions[1].name: 'a' is already the name of lesions[0] (expected each lesion name once)"},
      {"LesionBadName", B::kLesions, {"=8   - name: 2b"}, "bad.yaml:8:11: lesions[1].name: '2b' is not a valid lesion name (expected a name of letters, digits and '_' that does not start with a digit)"},
      {"LesionMissingGrid", B::kLesions, {"-9"}, "bad.yaml:8:5: lesions[1].grid: missing required key (expected a mapping with keys shape, spacing, origin)"},
      {"LesionsWithGrid", B::kLesions, {"+5 grid: {shape: [4, 4, 4], spacing: 10 um}"}, "bad.yaml:5:1: grid: a scene with lesions gives each lesion its own grid (expected either a top-level grid or lesions, not both)"},
      {"LesionsWithRegions", B::kLesions, {"+5 regions: {}"}, "bad.yaml:5:1: regions: is given per lesion in a scene with lesions (expected regions inside an entry of lesions)"},
      {"LesionsEmpty", B::kLesions, {"=5 lesions: []", "-6", "-7", "-8", "-9"}, "bad.yaml:5:10: lesions: is an empty list (expected a non-empty list of lesions, each a mapping with keys name, grid, regions, tissue, observe, initial)"},
      {"LesionsNotAList", B::kLesions, {"=5 lesions: {a: 1}", "-6", "-7", "-8", "-9"}, "bad.yaml:5:10: lesions: is a mapping (expected a non-empty list of lesions, each a mapping with keys name, grid, regions, tissue, observe, initial)"},
      {"LesionOriginUnit", B::kLesions, {"=9     grid: {shape: [4, 4, 4], spacing: 10 um, origin: [1 kg, 0 mm, 0 mm]}"},
       "bad.yaml:9:55: lesions[1].grid.origin[0]: '1 kg' is not a length (expected a value in um, e.g. '100 um')"},
      {"LesionUnknownKey", B::kLesions, {"+10     time: {end: 2 h}"}, "bad.yaml:10:5: lesions[1].time: unknown key 'time' (expected one of: name, grid, regions, tissue, observe, initial)"},
      {"LesionRegionOutsideItsGrid", B::kLesions,
       {"+10     regions: {core: {sphere: {center: [20 um, 20 um, 20 um], radius: 10 um}}}"}, "bad.yaml:10:21: lesions[1].regions.core: region lies outside the grid (expected at least one voxel centre inside the grid)"},
      // 2^21 x 2^21 x 2^22 voxels = 2^64: a long long product wraps to 0 (it crashed validate).
      {"VoxelCountOverflow", B::kFlow, {"=2 grid: {shape: [2097152, 2097152, 4194304], spacing: 10 um}"},
       "bad.yaml:2:15: grid.shape: 2097152 x 2097152 x 4194304 = 1.84467e+19 voxels is too many (expected at most "
       "1.09951e+12 voxels (2^40))"},
      {"VoxelCountOverflowIntMax", B::kFlow, {"=2 grid: {shape: [2147483647, 2147483647, 2147483647], spacing: 10 um}"},
       "bad.yaml:2:15: grid.shape: 2147483647 x 2147483647 x 2147483647 = 9.90352e+27 voxels is too many (expected at "
       "most 1.09951e+12 voxels (2^40))"},
      // More steps than a run may take: refused at the key that sets the step.
      {"TooManyStepsDiffusion", B::kFlow, {"=5   - {name: A, unit: nM, diffusion: 1e20 um^2/s}"},
       "bad.yaml:5:36: species[0].diffusion: the diffusion over the grid spacing of field 'A' limits the explicit "
       "step to 1.5e-19 s: the run to '1 h' takes 2.4e+22 steps, more than the limit of 1e+10 steps per run "
       "(expected a run of at most 1e+10 steps: a smaller value, a shorter time.end, or an implicit integrator "
       "(time.integrator: lod, adi, be or trbdf2))"},
      {"TooManyStepsFixedStep", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: be, step: 1e-7 s}"},
       "bad.yaml:3:62: time.step: a step of '1e-7 s': the run to '1 h' takes 3.6e+10 steps, more than the limit of "
       "1e+10 steps per run (expected a run of at most 1e+10 steps: a longer step or a shorter time.end)"},
      // A value whose unit has the wrong dimension.
      {"WrongDimension", B::kBlock, {"=7     diffusion: 10 um/s"},
       "bad.yaml:7:16: species[0].diffusion: '10 um/s' is not a diffusion coefficient (expected a value in um^2/s, "
       "e.g. '10 um^2/s')"},
      // A unit UDUNITS does not know.
      {"UnparseableUnit", B::kFlow, {"=5   - {name: A, unit: nM, diffusion: 10 um^2/s, decay: 1 furlongz}"},
       "bad.yaml:5:54: species[0].decay: unit 'furlongz' does not parse (expected a value in 1/s, e.g. '1e-4 1/s')"},
      {"MissingNumber", B::kFlow, {"=2 grid: {shape: [4, 4, 4], spacing: um}"},
       "bad.yaml:2:35: grid.spacing: 'um' has no number (expected a length > 0 um or a list of 3, e.g. 20 um)"},
      {"MissingUnit", B::kFlow, {"=2 grid: {shape: [4, 4, 4], spacing: 10}"},
       "bad.yaml:2:35: grid.spacing: '10' has no unit (expected a length > 0 um or a list of 3, e.g. 20 um)"},
      {"NegativeDiffusion", B::kFlow, {"=5   - {name: A, unit: nM, diffusion: -10 um^2/s}"},
       "bad.yaml:5:36: species[0].diffusion: '-10 um^2/s' must be >= 0 (expected a diffusion coefficient >= 0 "
       "um^2/s)"},
      {"NegativeDecay", B::kFlow, {"=5   - {name: A, unit: nM, diffusion: 10 um^2/s, decay: -1e-4 1/s}"},
       "bad.yaml:5:54: species[0].decay: '-1e-4 1/s' must be >= 0 (expected a decay rate >= 0 1/s)"},
      {"UnknownTopLevelKey", B::kFlow, {"+6 outptu: {fields: all}"},
       "bad.yaml:6:1: outptu: unknown key 'outptu' (expected one of: name, seed, grid, time, regions, tissue, "
       "observe, species, output, model, parameters, populations, states, terms, drugs, blood, initial, "
       "radiotherapy, well_mixed, lesions, systemic, lymph_nodes, burden)"},
      // A misspelt key is reported as unknown, not as a missing 'shape'.
      {"UnknownNestedKey", B::kFlow, {"=2 grid:\n  shaep: [4, 4, 4]\n  spacing: 10 um"},
       "bad.yaml:3:3: grid.shaep: unknown key 'shaep' (expected one of: shape, spacing, origin)"},
      // A missing required key points at its parent mapping.
      {"MissingShape", B::kFlow, {"=2 grid:\n  spacing: 10 um"},
       "bad.yaml:3:3: grid.shape: missing required key (expected 3 positive integers, e.g. [100, 100, 100])"},
      {"MissingSpeciesUnit", B::kBlock, {"-6"},
       "bad.yaml:5:5: species[0].unit: missing required key (expected a concentration unit, e.g. ng/mL, nM or "
       "cells/mm^3)"},
      {"MissingEnd", B::kFlow, {"=3 time:\n  output_every: 10 min"},
       "bad.yaml:4:3: time.end: missing required key (expected a value in s, e.g. '10 min')"},
      {"ShapeTwoEntries", B::kFlow, {"=2 grid: {shape: [4, 4], spacing: 10 um}"},
       "bad.yaml:2:15: grid.shape: has 2 entries (expected 3 positive integers, e.g. [100, 100, 100])"},
      {"ShapeZero", B::kFlow, {"=2 grid: {shape: [4, 0, 4], spacing: 10 um}"},
       "bad.yaml:2:19: grid.shape[1]: '0' must be > 0 (expected 3 positive integers, e.g. [100, 100, 100])"},
      {"ShapeNotInteger", B::kFlow, {"=2 grid: {shape: [4, 4, 2.5], spacing: 10 um}"},
       "bad.yaml:2:22: grid.shape[2]: '2.5' is not an integer (expected 3 positive integers, e.g. [100, 100, 100])"},
      {"SpacingZero", B::kFlow, {"=2 grid: {shape: [4, 4, 4], spacing: [10 um, 0 um, 10 um]}"},
       "bad.yaml:2:43: grid.spacing[1]: '0 um' must be > 0 (expected a length > 0 um)"},
      {"OutputAfterEnd", B::kFlow, {"=3 time: {end: 1 h, output_every: 2 h}"},
       "bad.yaml:3:32: time.output_every: '2 h' is longer than end '1 h' (expected an output interval <= time.end)"},
      {"RegionOutsideGrid", B::kFlow, {"+4 regions:\n  far: {sphere: {center: [1 mm, 1 mm, 1 mm], radius: 50 um}}"},
       "bad.yaml:5:8: regions.far: region lies outside the grid (expected at least one voxel centre inside the "
       "grid)"},
      {"UnknownSourceRegion", B::kRegions,
       {"+10     sources:\n      - {region: core, rate: 1 nM/s}\n      - {region: rim, rate: 1 nM/s}"},
       "bad.yaml:12:18: species[0].sources[1].region: 'rim' is not a defined region (expected one of: core)"},
      {"DuplicateSpecies", B::kFlow, {"+6   - {name: A, unit: nM, diffusion: 10 um^2/s}"},
       "bad.yaml:6:12: species[1].name: duplicate species name 'A' (expected a name not used by an earlier "
       "species)"},
      // Periodic on one face of an axis only.
      {"PeriodicOneFace", B::kBlock, {"+8     boundary: {y+: periodic}"},
       "bad.yaml:8:20: species[0].boundary.y+: y+ is periodic but y- is not (expected periodic on both y- and y+)"},
      // 'all: periodic' with one face overridden: the error points at the override.
      {"PeriodicOverridden", B::kBlock, {"+8     boundary: {all: periodic, z-: {fixed: 1 nM}}"},
       "bad.yaml:8:35: species[0].boundary.z-: z+ is periodic but z- is not (expected periodic on both z- and z+)"},
      // A map file that does not exist (relative to the scene's directory).
      {"MissingMapFile", B::kFlow, {"+4 tissue:\n  labels: [normal, tumour]\n  map: {file: nofile.vti, array: label}"},
       "bad.yaml:6:15: tissue.map.file: cannot read map 'nofile.vti': no such file (expected a readable .vti, .mha, "
       ".mhd or .nrrd file)"},
      {"LabelNotInTissue", B::kRegions,
       {"+6 tissue:\n  labels: [normal, tumour]\n  regions: [{label: tumor, region: core}]"},
       "bad.yaml:8:21: tissue.regions[0].label: 'tumor' is not a tissue label (expected one of: normal, tumour)"},
      {"PerLabelWithoutTissue", B::kBlock, {"=7     diffusion: {default: 10 um^2/s, tumour: 5 um^2/s}"},
       "bad.yaml:7:16: species[0].diffusion: per-label diffusion needs a tissue section (expected a single "
       "diffusion coefficient, e.g. '10 um^2/s', or tissue.labels)"},
      {"UnknownLabelInDiffusion", B::kBlock,
       {"+4 tissue: {labels: [normal, tumour]}", "=7     diffusion: {default: 10 um^2/s, tumor: 5 um^2/s}"},
       "bad.yaml:8:37: species[0].diffusion.tumor: unknown key 'tumor' (expected one of: default, normal, tumour)"},
      {"YamlSyntax", B::kFlow, {"=2 grid: {shape: [4, 4, 4, spacing: 10 um}", "-4", "-5"},
       "bad.yaml:2:39: YAML syntax error: illegal flow end"},
      {"UnknownIntegrator", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: implicit}"},
       "bad.yaml:3:52: time.integrator: 'implicit' is not an available integrator (expected explicit, lod, adi, be or trbdf2)"},
      {"CflWithImplicitIntegrator", B::kFlow,
       {"=3 time: {end: 1 h, output_every: 10 min, integrator: adi, step: 1 min, cfl: 0.5}"},
       "bad.yaml:3:75: time.cfl: cfl applies to the explicit integrator only (expected no cfl with integrator adi)"},
      {"ToleranceWithFixedStep", B::kFlow,
       {"=3 time: {end: 1 h, output_every: 10 min, integrator: lod, step: 1 min, tolerance: 1e-3}"},
       "bad.yaml:3:81: time.tolerance: tolerance applies to step: auto only (expected either a fixed step or a "
       "tolerance)"},
      {"ToleranceWithExplicit", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, tolerance: 1e-3}"},
       "bad.yaml:3:51: time.tolerance: tolerance applies to the lod, adi, be and trbdf2 integrators only (expected no "
       "tolerance with integrator explicit)"},
      {"ModelTermsWithLod", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: lod, step: 1 min, model_terms: in_solve}"},
       "bad.yaml:3:83: time.model_terms: model_terms applies to the be and trbdf2 integrators only (expected no "
       "model_terms with integrator lod)"},
      {"ModelTermsUnknown", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: be, step: 1 min, model_terms: inside}"},
       "bad.yaml:3:82: time.model_terms: 'inside' is not a way to couple the model's terms (expected split or in_solve)"},
      {"ToleranceOutOfRange", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: adi, tolerance: 2}"},
       "bad.yaml:3:68: time.tolerance: '2' is out of range "
       "(expected a relative error in (0, 0.5], a number without a unit, e.g. 1e-3)"},
      {"ToleranceZero", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: trbdf2, tolerance: 0}"},
       "bad.yaml:3:71: time.tolerance: '0' is out of range "
       "(expected a relative error in (0, 0.5], a number without a unit, e.g. 1e-3)"},
      {"ToleranceNegative", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: be, tolerance: -1e-3}"},
       "bad.yaml:3:67: time.tolerance: '-1e-3' is out of range "
       "(expected a relative error in (0, 0.5], a number without a unit, e.g. 1e-3)"},
      {"ToleranceOne", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: be, step: auto, tolerance: 1}"},
       "bad.yaml:3:79: time.tolerance: '1' is out of range "
       "(expected a relative error in (0, 0.5], a number without a unit, e.g. 1e-3)"},
      {"ToleranceWithUnit", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, integrator: be, tolerance: 1e-3 s}"},
       "bad.yaml:3:67: time.tolerance: '1e-3 s' is not a number "
       "(expected a relative error in (0, 0.5], a number without a unit, e.g. 1e-3)"},
      {"CflOutOfRange", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, cfl: 1.5}"},
       "bad.yaml:3:45: time.cfl: '1.5' is out of range (expected a number in (0, 1], e.g. 0.9)"},
      {"EmptySpecies", B::kFlow, {"=4 species: []", "-5"},
       "bad.yaml:4:10: species: is an empty list (expected a non-empty list of species)"},
      {"TwoInitialKinds", B::kBlock, {"+8     initial: {constant: 1 nM, map: {file: a.vti}}"},
       "bad.yaml:8:31: species[0].initial.map: 'map' cannot be combined with 'constant' (expected exactly one of: "
       "constant, gaussian, regions, map)"},
      {"BadBoundary", B::kBlock, {"+8     boundary: {x-: open}"},
       "bad.yaml:8:20: species[0].boundary.x-: 'open' is not a boundary condition (expected no_flux, periodic or "
       "{fixed: <concentration>})"},
      {"DuplicateKey", B::kFlow, {"+4 name: again"},
       "bad.yaml:4:1: name: duplicate key 'name' (expected each key at most once)"},
      {"EmptyFile", B::kEmpty, {},
       "bad.yaml:1:1: (top level): the scene is empty (expected a mapping with keys name, grid, time and species)"},
      {"NotAMapping", B::kEmpty, {"+1 - name: bad"},
       "bad.yaml:1:1: (top level): is a list (expected a mapping with keys name, grid, time and species)"},
      // A key without a value points at the key.
      {"EmptyGrid", B::kFlow, {"=2 grid:"},
       "bad.yaml:2:1: grid: is empty (expected a mapping with keys shape, spacing, origin)"},
      {"SpeciesUnitBad", B::kFlow, {"=5   - {name: A, unit: ngg/mL, diffusion: 10 um^2/s}"},
       "bad.yaml:5:21: species[0].unit: unit 'ngg/mL' does not parse (expected a concentration unit, e.g. ng/mL, nM "
       "or cells/mm^3)"},
      {"ObserveUnknown", B::kFlow, {"+4 observe: [core]"},
       "bad.yaml:4:11: observe[0]: 'core' is not a defined region (expected a region name, but no regions are "
       "defined)"},
      {"OutputUnknownSpecies", B::kFlow, {"+6 output: {fields: [A, B]}"},
       "bad.yaml:6:22: output.fields[1]: 'B' is not a species (expected one of: A)"},
      // output.at_events: a list of event kinds, each once.
      {"AtEventsLoads", B::kFlow, {"+6 output: {at_events: [fractions, doses]}"}, ""},
      {"AtEventsEmptyLoads", B::kFlow, {"+6 output: {at_events: []}"}, ""},
      {"AtEventsNotAList", B::kFlow, {"+6 output: {at_events: fractions}"},
       "bad.yaml:6:21: output.at_events: 'fractions' is not a list (expected a list of event kinds: fractions, doses "
       "(e.g. [fractions, doses]), or [])"},
      {"AtEventsUnknownKind", B::kFlow, {"+6 output: {at_events: [fractions, fraction]}"},
       "bad.yaml:6:33: output.at_events[1]: 'fraction' is not an event kind (expected a list of event kinds: "
       "fractions, doses (e.g. [fractions, doses]), or [])"},
      {"AtEventsTwice", B::kFlow, {"+6 output: {at_events: [doses, doses]}"},
       "bad.yaml:6:29: output.at_events[1]: 'doses' is listed twice (expected each event kind once)"},
      {"AtEventsEmptyItem", B::kFlow, {"+6 output:\n  at_events:\n    -"},
       "bad.yaml:8:5: output.at_events[0]: is empty (expected a list of event kinds: fractions, doses (e.g. "
       "[fractions, doses]), or [])"},
      // output.checkpoint_every: a time > 0 s (optional).
      {"CheckpointEveryLoads", B::kFlow, {"+6 output: {checkpoint_every: 1 d}"}, ""},
      {"CheckpointEveryNoUnit", B::kFlow, {"+6 output: {checkpoint_every: 5}"},
       "bad.yaml:6:28: output.checkpoint_every: '5' has no unit (expected a time > 0 s, e.g. '1 d')"},
      {"CheckpointEveryZero", B::kFlow, {"+6 output: {checkpoint_every: 0 s}"},
       "bad.yaml:6:28: output.checkpoint_every: '0 s' must be > 0 (expected a time > 0 s)"},
      {"CheckpointEveryNotATime", B::kFlow, {"+6 output: {checkpoint_every: 2 mm}"},
       "bad.yaml:6:28: output.checkpoint_every: '2 mm' is not a time (expected a time > 0 s, e.g. '1 d')"},
      // time.until: a time > 0 s and <= end.
      {"UntilLoads", B::kFlow, {"=3 time: {end: 1 h, until: 20 min, output_every: 10 min}"}, ""},
      {"UntilAfterEnd", B::kFlow, {"=3 time: {end: 1 h, until: 2 h, output_every: 10 min}"},
       "bad.yaml:3:25: time.until: '2 h' is after end '1 h' (expected a time > 0 s and <= time.end, e.g. '3 d')"},
      {"UntilNoUnit", B::kFlow, {"=3 time: {end: 1 h, until: 3, output_every: 10 min}"},
       "bad.yaml:3:25: time.until: '3' has no unit (expected a time > 0 s and <= time.end, e.g. '3 d')"},
      {"UntilZero", B::kFlow, {"=3 time: {end: 1 h, until: 0 s, output_every: 10 min}"},
       "bad.yaml:3:25: time.until: '0 s' must be > 0 (expected a time > 0 s)"},
      // output.time_unit: the unit of the volumes' TimeValue, one of s, h, d.
      {"OutputTimeUnitNotOffered", B::kFlow, {"+6 output: {time_unit: min}"},
       "bad.yaml:6:21: output.time_unit: time unit 'min' is not offered (expected s, h or d, the unit of TimeValue "
       "in the volumes)"},
      {"OutputTimeUnitNotATime", B::kFlow, {"+6 output: {time_unit: um}"},
       "bad.yaml:6:21: output.time_unit: 'um' is not a unit of time (expected s, h or d, the unit of TimeValue in the "
       "volumes)"},
      {"OutputTimeUnitNoParse", B::kFlow, {"+6 output: {time_unit: hrs/}"},
       "bad.yaml:6:21: output.time_unit: unit 'hrs/' does not parse (expected s, h or d, the unit of TimeValue in the "
       "volumes)"},
      {"SeedNegative", B::kFlow, {"+2 seed: -1"},
       "bad.yaml:2:7: seed: '-1' must be >= 0 (expected a non-negative integer, e.g. 42)"},
      // A source rate must be a concentration per time.
      {"SourceRateWrongDim", B::kRegions,
       {"=8     unit: ng/mL", "+10     sources:\n      - {region: core, rate: 1 ng/mL}"},
       "bad.yaml:11:30: species[0].sources[0].rate: '1 ng/mL' is not a concentration rate (expected a value in "
       "ng/mL/s, e.g. '1e-3 ng/mL/s')"},
      {"BoxInverted", B::kFlow,
       {"+4 regions:\n  core: {box: {min: [0 um, 20 um, 0 um], max: [20 um, 10 um, 20 um]}}"},
       "bad.yaml:5:47: regions.core.box.max: is not above min along y (expected max > min on every axis)"},
      {"RegionNoShape", B::kFlow, {"+4 regions:\n  core: {}"},
       "bad.yaml:5:9: regions.core: has none of the keys sphere, box (expected exactly one of: sphere, box)"},
      {"StepBad", B::kFlow, {"=3 time: {end: 1 h, output_every: 10 min, step: fast}"},
       "bad.yaml:3:46: time.step: 'fast' is neither 'auto' nor a time (expected 'auto' or a time > 0 s, e.g. "
       "'10 s')"},
      {"UptakeKmZero", B::kBlock, {"+8     uptake: {vmax: 1 nM/s, km: 0 nM}"},
       "bad.yaml:8:32: species[0].uptake.km: '0 nM' must be > 0 (expected a concentration > 0 nM)"},
      {"TwoDocs", B::kEmpty, {"+1 name: bad\n---\nname: again"},
       "bad.yaml:3:1: (top level): a second YAML document (expected one document per scene)"},
      // Map files, written by the suite into the scene's directory (MapDir below).
      {"MapShapeMismatch", B::kFlow, {"+4 tissue: {labels: [normal, tumour], map: {file: small.vti, array: v}}"},
       "bad.yaml:4:48: tissue.map.file: map shape 2x4x4 does not match grid shape 4x4x4 (expected a map with one "
       "value per voxel of the grid)"},
      {"LabelMapValueOutOfRange", B::kFlow, {"+4 tissue:\n  labels: [normal, tumour]\n  map: {file: labels.vti, array: v}"},
       "bad.yaml:6:15: tissue.map.file: label map value 2 at voxel (1, 2, 3) is not a label index (expected "
       "integers 0..1, one per tissue label)"},
      {"InitialMapNegative", B::kBlock, {"+8     initial: {map: {file: init.vti, array: v, unit: uM}}"},
       "bad.yaml:8:27: species[0].initial.map.file: map value -0.5 at voxel (0, 0, 0) is not a concentration >= 0 "
       "(expected concentrations >= 0)"},
      // Paths read through the loader's Keys helpers: lists of quantities, defaults taken from
      // another key (a boundary's 'all'), optional lists and mappings, entries gathered from
      // several files (drugs, blood), enumerations listing their values.
      {"OriginTwoEntries", B::kFlow, {"=2 grid: {shape: [4, 4, 4], spacing: 10 um, origin: [0 um, 0 um]}"},
       "bad.yaml:2:50: grid.origin: has 2 entries (expected a list of 3 lengths, e.g. [0 um, 0 um, 0 um])"},
      {"SpacingListTwoEntries", B::kFlow, {"=2 grid: {shape: [4, 4, 4], spacing: [10 um, 10 um]}"},
       "bad.yaml:2:35: grid.spacing: has 2 entries (expected a length > 0 um or a list of 3, e.g. 20 um)"},
      // 'all' is checked before the faces, and reported where it is written.
      {"BoundaryAllBad", B::kBlock, {"+8     boundary: {all: open, x-: no_flux}"},
       "bad.yaml:8:21: species[0].boundary.all: 'open' is not a boundary condition (expected no_flux, periodic or "
       "{fixed: <concentration>})"},
      {"ObserveTwice", B::kRegions, {"+6 observe: [core, core]"},
       "bad.yaml:6:17: observe[1]: region 'core' is listed twice (expected each region once)"},
      {"OutputFieldsMapping", B::kFlow, {"+6 output: {fields: {A: 1}}"},
       "bad.yaml:6:18: output.fields: is a mapping (expected 'all' or a list of species names (A))"},
      {"OutputFieldsNotAll", B::kFlow, {"+6 output: {fields: some}"},
       "bad.yaml:6:18: output.fields: 'some' is not 'all' (expected 'all' or a list of species names (A))"},
      {"InitialRegionUnknown", B::kRegions, {"+10     initial: {regions: {rim: 1 nM}}"},
       "bad.yaml:10:25: species[0].initial.regions.rim: 'rim' is not a defined region (expected one of: core)"},
      {"PopulationUnitNotCells", B::kFlow, {"+6 populations:\n  - {name: T, unit: nM, motility: 0 um^2/s}"},
       "bad.yaml:7:21: populations[0].unit: 'nM' is not cells/mm^3 (expected cells/mm^3 (every population is a cell "
       "density in cells/mm^3))"},
      // A missing key of an entry gathered from several files points at its first definition.
      {"DrugPkMissingCentralVolume", B::kFlow, {"+6 drugs:\n  - {name: d, dose: 1 mg q1d, pk: {clearance: 1 L/day}}"},
       "bad.yaml:7:5: drugs[0].pk.central_volume: missing required key (expected a value in L, e.g. '3 L')"},
      {"BloodTableTimeNotAfter", B::kFlow, {"+6 blood:\n  - {name: g, table: [[0 s, 1 nM], [0 s, 2 nM]]}"},
       "bad.yaml:7:37: blood[0].table[1][0]: '0 s' is not after the previous time (expected a list of [time, value] "
       "pairs, times increasing)"},
      {"TermChoiceUnknown", B::kFlow,
       {"+6 populations:\n  - {name: T, motility: 0 um^2/s}\nterms:\n  - {growth: T, rate: 1 1/day, law: fast}"},
       "bad.yaml:9:37: terms[0].law: 'fast' is not a growth law (expected logistic or gompertz)"},
  };
  // clang-format on
  return all;
}

// Writes a 4x4x4 (or `d`) map with `values` (default: all `fill`) into `dir`/`file`.
void write_map(const std::string& dir, const std::string& file, tme::Dims d, double fill,
               std::vector<double> values = {}) {
  tme::GridSpec g;
  g.d = d;
  g.h[0] = g.h[1] = g.h[2] = 10;
  if (values.empty()) values.assign(g.nvox(), fill);
  tme::write_image_map_vti(dir + "/" + file, g, "v", values);
}

// The directory the scenes are read from: the map files of the rows above, nothing else.
std::string map_dir() {
  static const std::unique_ptr<TempDir> dir = [] {
    auto d = std::make_unique<TempDir>("tmesim_scene_errors");
    write_map(d->string(), "small.vti", tme::Dims{2, 4, 4}, 0);
    std::vector<double> labels(64, 0.0);
    labels[1 + 4 * (2 + 4 * 3)] = 2;  // voxel (1, 2, 3)
    write_map(d->string(), "labels.vti", tme::Dims{4, 4, 4}, 0, labels);
    write_map(d->string(), "init.vti", tme::Dims{4, 4, 4}, -0.5);
    write_map(d->string(), "src.vti", tme::Dims{4, 4, 4}, 1);
    return d;
  }();
  return dir->string();
}

class SceneErrors : public ::testing::TestWithParam<Row> {};

TEST_P(SceneErrors, ExactMessage) {
  const Row& r = GetParam();
  const std::string text = patched(r.base, r.patch);
  EXPECT_EQ(error_of(text, map_dir()), r.message) << "scene:\n" << text;
}

INSTANTIATE_TEST_SUITE_P(Table, SceneErrors, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& i) { return std::string(i.param.name); });

TEST(SceneErrorsTable, NamesAreUnique) {
  std::vector<std::string> names;
  for (const Row& r : rows()) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(SceneErrorsTable, PatchEditsLines) {
  // The edits of a patch: replace, insert (also after the last line), delete; numbered in the base.
  EXPECT_EQ(patched(Base::kFlow, {"=1 name: x", "+6 a: 1", "-4", "-5"}),
            "name: x\ngrid: {shape: [4, 4, 4], spacing: 10 um}\ntime: {end: 1 h, output_every: 10 min}\na: 1\n");
  EXPECT_EQ(patched(Base::kEmpty, {"+1 a\nb"}), "a\nb\n");
  EXPECT_EQ(patched(Base::kEmpty, {}), "");
  EXPECT_THROW(patched(Base::kFlow, {"=6 x"}), std::invalid_argument);
}

TEST(SceneErrorsByHand, MapArrayMissing) {
  // The reader's own reason is passed on after the file name (which may vary: checked in parts).
  const std::string dir = map_dir();
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
  const std::string head = "bad.yaml:8:28: species[0].sources[0].map.file: cannot read map 'src.vti': ";
  const std::string tail = " (expected a readable .vti, .mha, .mhd or .nrrd file)";
  ASSERT_GT(msg.size(), head.size() + tail.size()) << msg;
  EXPECT_EQ(msg.substr(0, head.size()), head);
  EXPECT_EQ(msg.substr(msg.size() - tail.size()), tail);
  EXPECT_EQ(msg.find(dir), std::string::npos) << "the reason should not repeat the path: " << msg;
}

TEST(SceneErrorsByHand, SceneFileMissing) {
  const TempDir tmp("tmesim_scene_errors");
  const std::string path = tmp.string() + "/none.yaml";
  try {
    tme::load_scene(path);
    FAIL() << "loaded a missing file";
  } catch (const tme::SceneError& e) {
    EXPECT_EQ(std::string(e.what()), path +
                                         ":1:1: (top level): cannot read the scene file: no such file (expected a "
                                         "regular YAML file of at most 16 MiB)");
  }
}

}  // namespace
