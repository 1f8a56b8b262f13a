// tmesim command line: run | validate | info | report | compare | sensitivity | calibrate, and --version.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "host/cli/calibrate.hpp"
#include "host/cli/commands.hpp"
#include "host/cli/sensitivity.hpp"

namespace {

// OpenMP threads wait passively (sleep) between parallel regions unless the user sets
// OMP_WAIT_POLICY: the default of GNU libgomp spins for a while first, which on a loaded
// machine made a run take 113 s instead of 37.6 s. libgomp reads the variable when it is
// loaded, before main, so setting it here would come too late for this process: the program
// runs itself again (once) with it set, before any OpenMP region. The marker variable tells
// 'tmesim info' that the policy is tmesim's default, not the user's.
void default_to_passive_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  if (::setenv("OMP_WAIT_POLICY", "passive", 1) != 0 || ::setenv(tme::kOmpWaitDefaultMarker, "1", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc): go on with libgomp's default waiting.
  ::unsetenv("OMP_WAIT_POLICY");
  ::unsetenv(tme::kOmpWaitDefaultMarker);
}

}  // namespace

int main(int argc, char** argv) {
  default_to_passive_waiting(argv);
  CLI::App app{"tmesim: reaction-diffusion of the tumour microenvironment on CPU and CUDA"};
  app.require_subcommand(1);
  app.set_version_flag("--version", tme::version_line(),
                       "print the version (the first line of 'tmesim info') and exit");

  tme::RunOptions ro;
  auto* run = app.add_subcommand("run", "run a scene and write a run directory");
  auto* run_scene = run->add_option("scene", ro.scene, "scene file (YAML)")->check(CLI::ExistingFile);
  run->add_option("-o,--output", ro.out, "run directory (default: runs/<scene name>)");
  run->add_option("--backend", ro.backend, "auto (CUDA when a device exists), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  run->add_flag("--force", ro.force, "replace an existing run directory");
  run->add_flag("-q,--quiet", ro.quiet, "no progress lines");
  run->add_option("--progress-every", ro.progress_every_s, "seconds between progress lines (default 2)");
  run->add_option("--check-every", ro.check_every,
                  "also check the state (finite, >= 0, below bounds) every N steps (default: at each output)")
      ->check(CLI::PositiveNumber);
  run->add_option("--set", ro.set,
                  "override a scene value, checked as in the file: --set path=value, e.g. --set time.end=3 d "
                  "(repeatable)")
      ->allow_extra_args(false);
  auto* run_until = run->add_option("--until", ro.until,
                                    "end the run at this time (with a unit, e.g. '3 d'); later events are dropped");
  run->add_option("--resume", ro.resume,
                  "continue a killed run from its checkpoint: DIR is the <run>.incomplete directory it left "
                  "(scene, --set and --until come from the checkpoint)")
      ->excludes(run_scene)
      ->excludes(run_until)
      ->excludes("--set")
      ->excludes("--output")
      ->excludes("--force");

  std::string vscene;
  auto* validate = app.add_subcommand("validate", "check a scene and report what it describes");
  validate->add_option("scene", vscene, "scene file (YAML)")->required()->check(CLI::ExistingFile);
  std::string vbackend = "auto";
  validate->add_option("--backend", vbackend, "backend the cost is estimated for: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  std::vector<std::string> vset;
  std::string vuntil;
  validate->add_option("--set", vset, "override a scene value (as run --set; repeatable)")->allow_extra_args(false);
  validate->add_option("--until", vuntil, "end the run at this time (as run --until)");

  app.add_subcommand("info", "version, backends and devices");

  std::string report_run;
  auto* report = app.add_subcommand(
      "report", "write RUN/report/index.html: observables, dose slices, DVHs, schedule, provenance (python3)");
  report->add_option("run", report_run, "a finished run directory")->required();

  tme::CompareOptions co;
  auto* compare = app.add_subcommand(
      "compare",
      "compare arms: write DIR/compare.csv and PNG plots of tumour burden per lesion against time, fractions "
      "and drug doses marked, and print a summary (python3)");
  compare->add_option("runs", co.runs, "finished run directories, one per arm (the first is the reference)")
      ->required();
  compare->add_option("-o,--output", co.out, "output directory (default: compare)");
  compare
      ->add_option("--column", co.columns,
                   "observables.csv column to compare, e.g. 'T.tumour.total [cells]' (repeatable; default: "
                   "'burden [cells]')")
      ->allow_extra_args(false);
  compare->add_option("--label", co.labels, "RUN=LABEL: the arm's name (default: the run directory's name)")
      ->allow_extra_args(false);
  compare->add_flag("--force", co.force, "replace DIR when it holds an earlier compare output");

  tme::SensitivityOptions so;
  auto* sens = app.add_subcommand(
      "sensitivity",
      "sample the declared parameter ranges of a scene's model, run it per sample and write Sobol or Morris "
      "indices of one outcome: DIR/samples.csv, indices.csv, sensitivity.png (python3)");
  sens->add_option("scene", so.scene, "scene file (YAML)")->required()->check(CLI::ExistingFile);
  sens->add_option("--outcome", so.outcome,
                   "FIELD.SCOPE.STAT[@TIME] or auc(FIELD.SCOPE.STAT)[@TIME], e.g. 'T.tumour.total@21 d'")
      ->required();
  sens->add_option("--samples", so.samples,
                   "sobol: base samples N (N (d + 2) runs for d parameters); morris: trajectories (N (d + 1) runs)")
      ->required();
  sens->add_option("--method", so.method, "sobol (default) or morris")->check(CLI::IsMember({"sobol", "morris"}));
  sens->add_option("--params", so.params, "parameters to sample, comma-separated (default: every one with a range)")
      ->delimiter(',');
  sens->add_option("--jobs,-j", so.jobs, "runs at a time, in worker processes (default 1)")->check(CLI::PositiveNumber);
  sens->add_flag("--well-mixed", so.well_mixed,
                 "run every sample on one voxel: the grid's means (scene key well_mixed)");
  sens->add_option("--well-mixed-over", so.well_mixed_over,
                   "with --well-mixed: average over this region instead of the whole grid");
  sens->add_option("-o,--output", so.out, "output directory (default: sensitivity/<scene name>)");
  sens->add_flag("--force", so.force, "replace an earlier sensitivity output in DIR");
  sens->add_option("--seed", so.seed, "seed of the sampling (default: the scene's seed)")
      ->check(CLI::NonNegativeNumber);
  sens->add_option("--bootstrap", so.bootstrap, "sobol: bootstrap resamplings for the 95% intervals (default 1000)")
      ->check(CLI::NonNegativeNumber);
  sens->add_option("--levels", so.levels, "morris: grid levels, even (default 4)");
  sens->add_option("--backend", so.backend, "cpu (default) or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  sens->add_option("--set", so.set, "override a scene value in every run (as run --set; repeatable)")
      ->allow_extra_args(false);
  sens->add_flag("-q,--quiet", so.quiet, "no progress lines");

  tme::CalibrateOptions cal;
  auto* calib = app.add_subcommand(
      "calibrate",
      "fit the free parameters of a targets file to its targets (well-mixed runs, NLopt): DIR/fit.csv, "
      "parameters.csv, calibration.png (python3)");
  calib->add_option("targets", cal.targets, "targets file (YAML; docs/calibration.md)")
      ->required()
      ->check(CLI::ExistingFile);
  calib->add_option("-o,--output", cal.out, "output directory (default: calibration/<targets name>)");
  calib->add_flag("--force", cal.force, "replace an earlier calibration output in DIR");
  calib->add_option("--backend", cal.backend, "cpu (default) or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  calib->add_flag("-q,--quiet", cal.quiet, "no summary lines");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (int i = 0; i < argc; ++i) ro.command_line += (i ? " " : "") + std::string(argv[i]);
  if (run->parsed()) {
    if (ro.scene.empty() && ro.resume.empty()) {
      std::cerr << "error: run: give a scene file, or --resume DIR\n";
      return 2;
    }
    return tme::cmd_run(ro, std::cout, std::cerr);
  }
  if (validate->parsed()) return tme::cmd_validate(vscene, std::cout, std::cerr, vbackend, vset, vuntil);
  if (report->parsed()) return tme::cmd_report(report_run, std::cout, std::cerr);
  if (compare->parsed()) return tme::cmd_compare(co, std::cout, std::cerr);
  if (sens->parsed()) {
    if (!so.well_mixed_over.empty()) so.well_mixed = true;
    so.command_line = ro.command_line;
    return tme::cmd_sensitivity(so, std::cout, std::cerr);
  }
  if (calib->parsed()) {
    cal.command_line = ro.command_line;
    return tme::cmd_calibrate(cal, std::cout, std::cerr);
  }
  return tme::cmd_info(std::cout);
}
