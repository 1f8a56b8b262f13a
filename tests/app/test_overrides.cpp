// Command-line values and event output: --set path=value and --until TIME (SceneOverrides)
// with their exact messages, their values reaching the run bitwise as the same edit of the file
// would, the shortened run equal to the first part of the full one, and output.at_events
// volumes just before and just after each fraction.
#include <gtest/gtest.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkXMLImageDataReader.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::Result;
using tme::test::slurp;
using tme::test::spit;
using tme::test::TempDir;

Result tmesim(const std::string& args, const fs::path& dir) { return tme::test::run_shell(TMESIM_BINARY, args, dir); }

const std::string kScenes = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/";
const std::string kRt = kScenes + "cli_rt.yaml";  // fractions of 2 Gy at 12 h and 8 Gy at 36 h, 2 d

const char* const kBase = R"(name: o
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 2 d, output_every: 1 d}
parameters:
  k: 1e-4 1/s
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s, decay: k}
  - {name: B, unit: nM, diffusion: 10 um^2/s}
)";

// The message loading kBase with these values throws ("" when it loads).
std::string error_of(const std::vector<std::string>& set, const std::string& until = "") {
  try {
    tme::load_scene_text(kBase, "o.yaml", ".", tme::Machine{}, tme::SceneOverrides{set, until});
  } catch (const tme::SceneError& e) {
    return e.what();
  }
  return "";
}

TEST(Overrides, MessagesNameTheArgument) {
  const std::string usage =
      " (expected --set path=value, e.g. --set time.end=3 d or --set parameters.k_kill=0.5 1/day)";
  EXPECT_EQ(error_of({"time.end=3 x"}),
            "--set time.end=3 x: time.end: unit 'x' does not parse (expected a value in s, e.g. '10 min')");
  EXPECT_EQ(error_of({"time.end=abc"}),
            "--set time.end=abc: time.end: 'abc' has no number (expected a value in s, e.g. '10 min')");
  EXPECT_EQ(error_of({"parameters.k=abc"}),
            "--set parameters.k=abc: parameters.k: 'abc' is not a defined parameter (expected a number with a unit, "
            "e.g. '0.4 1/day', or the name of another parameter: one of k)");
  // A value of the wrong dimension is found where the parameter is used, and the message says
  // where its value came from.
  EXPECT_EQ(error_of({"parameters.k=0.5 1/mm"}),
            "o.yaml:7:54: species[0].decay: parameter 'k' = '0.5 1/mm' (--set parameters.k=0.5 1/mm) is not a decay "
            "rate (expected a value in 1/s, e.g. '1e-4 1/s')");
  EXPECT_EQ(error_of({"species[1].diffusion=-1 um^2/s"}),
            "--set species[1].diffusion=-1 um^2/s: species[1].diffusion: '-1 um^2/s' must be >= 0 (expected a "
            "diffusion coefficient >= 0 um^2/s)");
  // Paths that do not exist.
  EXPECT_EQ(error_of({"time.ned=3 d"}),
            "--set time.ned=3 d: time.ned: unknown key 'ned' (expected one of: end, until, output_every, integrator, "
            "step, cfl, tolerance, model_terms)");
  EXPECT_EQ(error_of({"species[2].decay=1 1/s"}),
            "--set species[2].decay=1 1/s: species[2]: no such entry: species has 2 entries (expected an index from 0 "
            "to 1)");
  EXPECT_EQ(error_of({"species[C].decay=1 1/s"}),
            "--set species[C].decay=1 1/s: species[C]: no entry of species is named 'C' (expected an index or one of "
            "the names A, B)");
  EXPECT_EQ(error_of({"time.end.x=1"}),
            "--set time.end.x=1: time.end: '2 d' is not a mapping, so it has no key 'x' (expected a path to a value "
            "of the scene)");
  EXPECT_EQ(error_of({"species.decay=1 1/s"}),
            "--set species.decay=1 1/s: species: is a list, not a mapping, so it has no key 'decay' (expected a path "
            "to a value of the scene)");
  EXPECT_EQ(error_of({"time[0]=1"}), "--set time[0]=1: time: is not a list, so it has no entry [0] (expected a key)");
  EXPECT_EQ(error_of({"model.parameters.k=1 1/s"}),
            "--set model.parameters.k=1 1/s: model.parameters: the model's parameters are set through the scene's "
            "parameters (expected --set parameters.k=<value>)");
  // The argument itself.
  EXPECT_EQ(error_of({"time.end"}), "--set time.end: no '=' between path and value" + usage);
  EXPECT_EQ(error_of({"=1 d"}), "--set =1 d: the path is empty" + usage);
  EXPECT_EQ(error_of({"time..end=1 d"}), "--set time..end=1 d: the path 'time..end' has an empty key" + usage);
  EXPECT_EQ(error_of({"species[0=1"}), "--set species[0=1: the path 'species[0' has a '[' without ']'" + usage);
  EXPECT_EQ(error_of({"species[0]x=1"}), "--set species[0]x=1: the path 'species[0]x' has 'x' after ']'" + usage);
  EXPECT_EQ(error_of({"grid.shape=[4, 4"}),
            "--set grid.shape=[4, 4: the value is not valid YAML: end of sequence flow not found (expected a value as "
            "the scene file would hold it)");
  // --until
  EXPECT_EQ(error_of({}, "3 d"),
            "--until 3 d: time.until: '3 d' is after end '2 d' (expected a time > 0 s and <= time.end, e.g. '3 d')");
  EXPECT_EQ(error_of({}, "3"),
            "--until 3: time.until: '3' has no unit (expected a time > 0 s and <= time.end, e.g. "
            "'3 d')");
  EXPECT_EQ(error_of({}, "0 s"), "--until 0 s: time.until: '0 s' must be > 0 (expected a time > 0 s)");
  // The later of two values for one key wins; values the file does not have are added.
  EXPECT_EQ(error_of({"time.end=1 d", "time.end=3 d", "grid.shape=[4, 4, 2]", "species[B].decay=1 1/h"}), "");
}

TEST(Overrides, ValuesAreReadAsTheFileWouldHoldThem) {
  const tme::LoadedScene ls =
      tme::load_scene_text(kBase, "o.yaml", ".", tme::Machine{},
                           tme::SceneOverrides{{"time.end=3 d", "grid.shape=[4, 4, 2]", "parameters.k=2e-4 1/s",
                                                "species[B].decay=1 1/h", "output.at_events=[fractions]"},
                                               "36 h"});
  const tme::Problem& p = ls.problem;
  EXPECT_EQ(p.grid.d.nz, 2);
  EXPECT_EQ(p.time.t_end, 36 * 3600.0);  // until
  EXPECT_NEAR(p.coeffs[0].decay, 2e-4, 2e-10);
  EXPECT_NEAR(p.coeffs[1].decay, 1 / 3600.0, 1e-6 / 3600);
  EXPECT_TRUE(ls.output_at_fractions);
  EXPECT_FALSE(ls.output_at_doses);
  for (const char* s :
       {"end: 3 d", "until: 36 h", "shape: [4, 4, 2]", "k: 2e-4 1/s", "decay: 1 1/h", "at_events: [fractions]"})
    EXPECT_NE(ls.resolved_yaml.find(s), std::string::npos) << s << "\n" << ls.resolved_yaml;
  // The resolved scene loads to the same problem without the overrides.
  const tme::LoadedScene again = tme::load_scene_text(ls.resolved_yaml, "r.yaml", ".");
  EXPECT_EQ(again.problem.time.t_end, p.time.t_end);
  EXPECT_EQ(again.resolved_yaml, ls.resolved_yaml);
  ASSERT_EQ(ls.warnings.size(), 1u);
  EXPECT_EQ(ls.warnings[0],
            "--until 36 h: time.until: the run ends at '36 h', before time.end; dropped after it: "
            "2 outputs, 0 fractions, 0 drug doses");
}

// The program refuses a bad value as it refuses a bad file: exit status 2, the message, no
// run directory.
TEST(Overrides, ProgramRefusesABadValueBeforeItStarts) {
  const TempDir tmp("tmesim_overrides_bad");
  const fs::path& d = tmp.path();
  const Result r = tmesim("run " + kRt + " -o " + (d / "o").string() + " --quiet --set 'time.end=3 x'", d);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "error: --set time.end=3 x: time.end: unit 'x' does not parse (expected a value in s, e.g. '10 "
            "min')\n");
  EXPECT_FALSE(fs::exists(d / "o"));
  EXPECT_FALSE(fs::exists(d / "o.incomplete"));
  const Result u = tmesim("validate " + kRt + " --until '3 d'", d);
  EXPECT_EQ(u.code, 2);
  EXPECT_EQ(u.err,
            "error: --until 3 d: time.until: '3 d' is after end '2 d' (expected a time > 0 s and <= time.end, "
            "e.g. '3 d')\n");
}

// A run with --set equals, volume for volume and byte for byte, the run of a copy of the scene
// edited the same way; provenance records the values.
TEST(Overrides, SetChangesTheRunAsTheSameEditOfTheFile) {
  const TempDir tmp("tmesim_overrides_set");
  const fs::path& d = tmp.path();
  std::string text = slurp(kRt);
  const std::string from = "{time: 36 h, dose: 8 Gy}", to = "{time: 36 h, dose: 5 Gy}";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), to);
  spit(d / "edited.yaml", text);
  const Result e = tmesim("run " + (d / "edited.yaml").string() + " -o " + (d / "e").string() + " --quiet", d);
  ASSERT_EQ(e.code, 0) << e.err;
  const Result s = tmesim("run " + kRt + " -o " + (d / "s").string() +
                              " --quiet --set 'radiotherapy.plans[uniform].schedule.list[1].dose=5 Gy'",
                          d);
  ASSERT_EQ(s.code, 0) << s.err;
  const Result f = tmesim("run " + kRt + " -o " + (d / "f").string() + " --quiet", d);
  ASSERT_EQ(f.code, 0) << f.err;
  for (const char* v : {"fields_0000.vti", "fields_0001.vti", "fields_0002.vti"}) {
    EXPECT_EQ(slurp(d / "s" / v), slurp(d / "e" / v)) << v;
    if (std::string(v) == "fields_0002.vti") {
      EXPECT_NE(slurp(d / "s" / v), slurp(d / "f" / v)) << v;  // the 36 h fraction changed
    }
  }
  EXPECT_EQ(slurp(d / "s" / "delivered_schedule.csv"), slurp(d / "e" / "delivered_schedule.csv"));
  EXPECT_NE(slurp(d / "s" / "delivered_schedule.csv").find("129600,36,0,uniform,5,grid,256,5,5,5"), std::string::npos);
  EXPECT_EQ(slurp(d / "s" / "scene.resolved.yaml"), slurp(d / "e" / "scene.resolved.yaml"));
  EXPECT_EQ(slurp(d / "s" / "scene.yaml"), slurp(kRt));  // the file as given
  const std::string prov = slurp(d / "s" / "provenance.json");
  EXPECT_NE(prov.find("\"overrides\": [\"radiotherapy.plans[uniform].schedule.list[1].dose=5 Gy\"],\n"
                      "  \"until\": null,"),
            std::string::npos)
      << prov;
}

// --until ends the run early: its volumes are those of the full run up to there, bitwise, and
// the fraction after it is dropped with a warning.
TEST(Overrides, UntilRunIsTheFirstPartOfTheFullRun) {
  const TempDir tmp("tmesim_overrides_until");
  const fs::path& d = tmp.path();
  const std::string every = " --quiet --backend cpu --set 'time.output_every=6 h'";
  const Result f = tmesim("run " + kRt + " -o " + (d / "f").string() + every, d);
  ASSERT_EQ(f.code, 0) << f.err;
  const Result u = tmesim("run " + kRt + " -o " + (d / "u").string() + every + " --until '30 h'", d);
  ASSERT_EQ(u.code, 0) << u.err;
  EXPECT_EQ(u.err,
            "warning: --until 30 h: time.until: the run ends at '30 h', before time.end; dropped after it: "
            "3 outputs, 1 fraction, 0 drug doses\n");
  for (int n = 0; n <= 5; ++n) {  // 0, 6, ..., 30 h
    const std::string v = "fields_000" + std::to_string(n) + ".vti";
    ASSERT_TRUE(fs::exists(d / "u" / v)) << v;
    EXPECT_EQ(slurp(d / "u" / v), slurp(d / "f" / v)) << v;
  }
  EXPECT_FALSE(fs::exists(d / "u" / "fields_0006.vti"));
  EXPECT_EQ(slurp(d / "u" / "delivered_schedule.csv"),
            "time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy\n"
            "43200,12,0,uniform,2,grid,256,2,2,2\n"
            "43200,12,0,uniform,2,left,128,2,2,2\n");
  const std::string resolved = slurp(d / "u" / "scene.resolved.yaml");
  EXPECT_NE(resolved.find("until: 30 h"), std::string::npos) << resolved;
  const std::string prov = slurp(d / "u" / "provenance.json");
  EXPECT_NE(prov.find("\"until\": \"30 h\""), std::string::npos) << prov;
  EXPECT_NE(prov.find("\"fractions_delivered\": 1"), std::string::npos) << prov;
}

// The cell array `name` of a volume at voxel v.
double cell(const fs::path& vti, const char* name, vtkIdType v) {
  vtkNew<vtkXMLImageDataReader> reader;
  reader->SetFileName(vti.string().c_str());
  reader->Update();
  vtkDataArray* a = reader->GetOutput()->GetCellData()->GetArray(name);
  return a ? a->GetTuple1(v) : NAN;
}

TEST(EventOutput, VolumesJustBeforeAndJustAfterEachFraction) {
  const TempDir tmp("tmesim_event_output");
  const fs::path& d = tmp.path();
  const Result r =
      tmesim("run " + kRt + " -o " + (d / "ev").string() + " --quiet --set 'output.at_events=[fractions]'", d);
  ASSERT_EQ(r.code, 0) << r.err;
  const Result plain = tmesim("run " + kRt + " -o " + (d / "plain").string() + " --quiet", d);
  ASSERT_EQ(plain.code, 0) << plain.err;
  // The output times are unchanged, and so are their volumes.
  for (const char* v : {"fields_0000.vti", "fields_0001.vti", "fields_0002.vti"})
    EXPECT_EQ(slurp(d / "ev" / v), slurp(d / "plain" / v)) << v;
  EXPECT_EQ(slurp(d / "ev" / "events.csv"),
            "time_s,time,when,events,file\n"
            "43200,12 h,before,fraction 1 (plan 'uniform' 2 Gy),fraction_43200s_before.vti\n"
            "43200,12 h,after,fraction 1 (plan 'uniform' 2 Gy),fraction_43200s_after.vti\n"
            "129600,36 h,before,fraction 2 (plan 'uniform' 8 Gy),fraction_129600s_before.vti\n"
            "129600,36 h,after,fraction 2 (plan 'uniform' 8 Gy),fraction_129600s_after.vti\n");
  const std::string before = slurp(d / "ev" / "events_before.pvd");
  EXPECT_NE(
      before.find("<DataSet timestep=\"43200\" group=\"\" part=\"0\" file=\"fraction_43200s_before.vti\"/>\n"
                  "    <DataSet timestep=\"129600\" group=\"\" part=\"0\" file=\"fraction_129600s_before.vti\"/>"),
      std::string::npos)
      << before;
  EXPECT_NE(slurp(d / "ev" / "events_after.pvd")
                .find("timestep=\"129600\" group=\"\" part=\"0\" "
                      "file=\"fraction_129600s_after.vti\""),
            std::string::npos);
  auto S = [](double a, double b, double dose) { return std::exp(-a * dose - b * dose * dose); };
  const double s2 = S(0.146, 0.0146, 2), s8 = S(0.146, 0.0146, 8);
  struct Expect {
    const char* file;
    double dose_Gy, tumour;
  };
  // Just before a fraction: not applied yet; just after: applied (the populations do not move
  // or grow, so only fractions change them).
  for (const Expect& e :
       {Expect{"fraction_43200s_before.vti", 0, 1e5}, Expect{"fraction_43200s_after.vti", 2, 1e5 * s2},
        Expect{"fraction_129600s_before.vti", 2, 1e5 * s2}, Expect{"fraction_129600s_after.vti", 10, 1e5 * s2 * s8}})
    for (vtkIdType v : {0, 100, 255}) {
      EXPECT_NEAR(cell(d / "ev" / e.file, "dose [Gy]", v), e.dose_Gy, 1e-5) << e.file;
      EXPECT_NEAR(cell(d / "ev" / e.file, "tumour [cells/mm^3]", v), e.tumour, 1e5 * 1e-5) << e.file;
    }
  // Times exact: the volume's own time.
  EXPECT_NE(slurp(d / "ev" / "fraction_129600s_before.vti").find("129600"), std::string::npos);
  EXPECT_NE(r.out.find("wrote 3 volumes and 4 event volumes (events.csv)"), std::string::npos) << r.out;
}

// Drug doses: one at the time of the first fraction (one pair of volumes for both), one alone.
// A dose changes the plasma level, not the fields, so its two volumes are the same.
TEST(EventOutput, DoseTimesShareAPairWithAFractionAtTheSameTime) {
  const TempDir tmp("tmesim_event_doses");
  const fs::path& d = tmp.path();
  const std::string pk = "pk: {central_volume: 3 L, clearance: 0.2 L/day}";
  const Result r = tmesim("run " + kRt + " -o " + (d / "ev").string() + " --quiet --set 'drugs=[{name: X, dose: " +
                              "100 mg q1w, start: 12 h, " + pk + "}, {name: Y, dose: 50 mg q1w, start: 18 h, " + pk +
                              "}]' --set 'output.at_events=[fractions, doses]'",
                          d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(d / "ev" / "events.csv"),
            "time_s,time,when,events,file\n"
            "43200,12 h,before,fraction 1 (plan 'uniform' 2 Gy); dose of X (100 mg),fraction_dose_43200s_before.vti\n"
            "43200,12 h,after,fraction 1 (plan 'uniform' 2 Gy); dose of X (100 mg),fraction_dose_43200s_after.vti\n"
            "64800,18 h,before,dose of Y (50 mg),dose_64800s_before.vti\n"
            "64800,18 h,after,dose of Y (50 mg),dose_64800s_after.vti\n"
            "129600,36 h,before,fraction 2 (plan 'uniform' 8 Gy),fraction_129600s_before.vti\n"
            "129600,36 h,after,fraction 2 (plan 'uniform' 8 Gy),fraction_129600s_after.vti\n");
  EXPECT_EQ(slurp(d / "ev" / "dose_64800s_before.vti"), slurp(d / "ev" / "dose_64800s_after.vti"));
  EXPECT_NEAR(cell(d / "ev" / "fraction_dose_43200s_before.vti", "dose [Gy]", 7), 0, 1e-6);
  EXPECT_NEAR(cell(d / "ev" / "fraction_dose_43200s_after.vti", "dose [Gy]", 7), 2, 1e-5);
}

TEST(EventOutput, ValidateWarnsOfFastDecayWithoutEventOutput) {
  const TempDir tmp("tmesim_event_warning");
  const fs::path& d = tmp.path();
  // CD8 cleared with a half-life of 41.6 min against daily volumes, in a scene with fractions.
  const std::string fast = " --set 'species[CD8].decay=1 1/h'";
  const Result v = tmesim("validate " + kRt + fast, d);
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_EQ(v.err, "warning: " + kRt +
                       ": output: fields with a half-life much shorter than time.output_every (24 h): 'CD8' (41.6 "
                       "min); volumes at fixed times miss what fractions and doses release (add output.at_events: "
                       "[fractions, doses])\n");
  const Result asked = tmesim("validate " + kRt + fast + " --set 'output.at_events=[fractions]'", d);
  EXPECT_EQ(asked.code, 0) << asked.err;
  EXPECT_EQ(asked.err, "");
  const Result slow = tmesim("validate " + kRt + " --set 'species[CD8].decay=1 1/d'", d);
  EXPECT_EQ(slow.err, "");
}

}  // namespace
