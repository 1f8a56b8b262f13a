#include "host/cli/commands.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "host/core/backend.hpp"
#include "host/core/cost.hpp"
#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "host/core/version.hpp"
#include "host/io/checkpoint.hpp"
#include "host/io/input_file.hpp"
#include "host/io/paraview_script.hpp"
#include "host/io/run_dir.hpp"
#include "host/io/vtk_io.hpp"
#include "host/rt/delivery.hpp"
#include "host/run/run.hpp"
#include "host/run/systemic_coupling.hpp"
#include "host/scene/patient.hpp"
#include "host/scene/scene.hpp"

namespace fs = std::filesystem;

namespace tme {
namespace {

// Progress lines at a bounded rate, for terminals and log files alike.
class ProgressPrinter {
 public:
  // estimate_s: the run time estimated before the start (cost line), shown until progress
  // gives a measured ETA; <= 0: none.
  ProgressPrinter(std::ostream& out, double t_end, double every_s, bool quiet, double estimate_s)
      : out_(out),
        t_end_(t_end),
        every_(every_s),
        quiet_(quiet),
        estimate_(estimate_s),
        start_(clock::now()),
        last_(start_) {}
  void update(double t, long long steps, bool force = false) {
    if (quiet_) return;
    const auto now = clock::now();
    if (!force && std::chrono::duration<double>(now - last_).count() < every_) return;
    last_ = now;
    const double wall = std::chrono::duration<double>(now - start_).count();
    const double frac = t_end_ > 0 ? t / t_end_ : 1;
    // No measured ETA before the run has advanced: the estimate, or "unknown".
    const std::string eta = frac > 0 && steps > 0 && wall > 0 ? human_time(wall * (1 - frac) / frac)
                            : estimate_ > 0                   ? "about " + human_time(estimate_) + " (estimate)"
                                                              : "unknown";
    out_ << "progress: t = " << human_time(t) << " of " << human_time(t_end_) << " (" << std::fixed
         << std::setprecision(1) << 100 * frac << "%), " << std::setprecision(0) << (wall > 0 ? steps / wall : 0.0)
         << " steps/s, ETA " << std::defaultfloat << eta << std::endl;
  }

 private:
  using clock = std::chrono::steady_clock;
  std::ostream& out_;
  double t_end_, every_;
  bool quiet_;
  double estimate_;
  clock::time_point start_, last_;
};

// A count as an integer while it is exact enough to read, else "2.1e+11".
std::string count_text(double n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, n < 1e12 ? "%.0f" : "%.3g", n);
  return buf;
}

// The "cost:" line of validate and run (host/core/cost.hpp).
void print_cost(std::ostream& out, const RunCost& c, const Machine& m) {
  const bool cuda = m.backend == CostBackend::kCuda;
  out << "cost: host memory " << human_bytes(c.memory.host);
  if (std::isfinite(m.host_available)) out << " (" << human_bytes(m.host_available) << " available)";
  if (cuda) {
    out << ", device memory " << human_bytes(c.memory.device);
    if (std::isfinite(m.device_available)) out << " (" << human_bytes(m.device_available) << " free)";
  }
  out << "; "
      << (c.steps.fixed() ? count_text(c.steps.min) : count_text(c.steps.min) + " to " + count_text(c.steps.max))
      << " steps" << (c.steps.fixed() ? "" : " (step auto)") << "; " << count_text(c.outputs) << " outputs x "
      << human_bytes(c.bytes_per_output) << " = " << human_bytes(c.output_bytes) << " at most (before compression)";
  if (std::isfinite(m.disk_available)) out << ", " << human_bytes(m.disk_available) << " free";
  out << "; estimated run time " << human_time(c.seconds_min);
  if (c.seconds_max > 1.05 * c.seconds_min) out << " to " << human_time(c.seconds_max);
  if (cuda)
    out << " on cuda (derived from memory bandwidth, not measured)\n";
  else
    out << " on cpu (" << m.threads << (m.threads == 1 ? " thread" : " threads") << ")\n";
}

// The cost's warnings, and its refusal as an error; true when the run may go on.
bool cost_allows(const std::string& scene, const RunCost& c, std::ostream& err) {
  for (const std::string& w : c.warnings) err << "warning: " << scene << ": " << w << "\n";
  if (c.refusal.empty()) return true;
  err << "error: " << scene << ": " << c.refusal << "\n";
  return false;
}

// The backend `run --backend b` would use: "cpu" or "cuda".
std::string resolve_backend(const std::string& b) {
  if (b == "auto") return cuda_available() ? "cuda" : "cpu";
  return b;
}

// The default run directory of a scene, or the one given.
fs::path output_path(const std::string& out, const Problem& p) {
  return out.empty() ? default_run_path(p.name) : fs::path(out);
}

// The free disk space where the run directory goes (unknown when its path is not valid: the
// run directory reports that).
void probe_disk(Machine& m, const std::string& out, const Problem& p) {
  try {
    m.disk_available = free_disk_bytes(output_path(out, p).string(), &m.disk_path);
  } catch (const std::exception&) {
  }
}

// Species arrays written to each volume.
int species_written(const LoadedScene& ls) {
  return ls.output_fields.empty() ? ls.problem.nspecies() : (int)ls.output_fields.size();
}

// The scene's warnings (SceneWarnings), each line prefixed "warning: ".
void print_warnings(const LoadedScene& ls, std::ostream& err) {
  for (const std::string& w : ls.warnings) err << "warning: " << w << "\n";
}

// Fields that decay much faster than the output interval (half-life under a tenth of
// time.output_every, from the species decay and the unmodulated conversion terms without
// products) in a scene with fractions or drug doses and no output.at_events: the volumes at
// fixed times miss what the events release (a 12-minute half-life in daily outputs). "" when
// none do.
std::string fast_decay_warning(const LoadedScene& ls) {
  const Problem& p = ls.problem;
  const Model& m = p.model;
  bool doses = false;
  for (const Drug& d : m.drugs) doses = doses || !d.doses.empty();
  if (ls.output_at_fractions || ls.output_at_doses || (m.fractions.empty() && !doses)) return "";
  std::vector<double> rate(p.nspecies(), 0.0);  // [1/s]
  for (int s = 0; s < p.nspecies(); ++s) rate[s] = p.coeffs[s].decay;
  for (const Term& t : m.terms)
    if (t.kind == kTermConversion && t.nfactors == 0 && t.nproducts == 0 && t.target >= 0 && t.target < p.nspecies())
      rate[t.target] += t.rate();
  std::string list;
  for (int s = 0; s < p.nspecies(); ++s) {
    if (!(rate[s] > 0)) continue;
    const double half = std::log(2.0) / rate[s];
    if (half < p.time.output_every / 10)
      list += (list.empty() ? "" : ", ") + std::string("'") + p.species[s].name + "' (" + human_time(half) + ")";
  }
  if (list.empty()) return "";
  return ls.path + ": output: fields with a half-life much shorter than time.output_every (" +
         human_time(p.time.output_every) + "): " + list +
         "; volumes at fixed times miss what fractions and doses release (add output.at_events: [fractions, doses])";
}

}  // namespace

std::string version_line() {
  return std::string("tmesim ") + version() + " (git " + git_hash() + (git_dirty() ? ", dirty" : "") + ")";
}

std::string omp_waiting() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (!policy) return "libgomp's default (spin, then sleep)";
  const char* mine = std::getenv(kOmpWaitDefaultMarker);
  if (mine && std::string(mine) == "1")
    return std::string(policy) + " (tmesim's default; set OMP_WAIT_POLICY to choose)";
  return std::string(policy) + " (OMP_WAIT_POLICY)";
}

int cmd_info(std::ostream& out) {
  out << version_line() << "\n";
  out << "precision: " << (sizeof(real) == 4 ? "float32" : "float64") << "\n";
  out << "backends: cpu" << (cuda_compiled() ? ", cuda" : "") << "\n";
  out << "cpu: " << make_cpu_backend()->device() << "\n";
  out << "openmp waiting: " << omp_waiting() << "\n";
  std::string why;
  if (!cuda_compiled()) {
    out << "cuda: not built\n";
  } else if (!cuda_available(&why)) {
    out << "cuda: " << why << "\n";
  } else {
    int i = 0;
    for (const auto& d : cuda_devices())
      out << "cuda device " << i++ << ": " << d.name << ", sm_" << d.cc_major << d.cc_minor << ", "
          << (d.memory_bytes >> 20) << " MiB\n";
  }
  return 0;
}

int cmd_validate(const std::string& scene, std::ostream& out, std::ostream& err, const std::string& backend,
                 const std::vector<std::string>& set, const std::string& until) {
  try {
    Machine machine = probe_machine(resolve_backend(backend));
    // A patient scene: one report per lesion, headed by its name and position.
    const LoadedPatient patient = load_patient(scene, machine, SceneOverrides{set, until});
    print_warnings(patient.lesions[0], err);
    int rc = 0;
    for (size_t lesion = 0; lesion < patient.lesions.size(); ++lesion) {
      const LoadedScene& ls = patient.lesions[lesion];
      const std::string what = patient.single() ? scene : scene + " lesion '" + patient.lesion_names[lesion] + "'";
      const std::string decay = fast_decay_warning(ls);
      if (!decay.empty() && lesion == 0) err << "warning: " << decay << "\n";
      const Problem& p = ls.problem;
      probe_disk(machine, "", p);
      const RunCost cost = estimate_cost(p, species_written(ls), machine);
      out << what << (cost.refusal.empty() ? ": ok: " : ": refused: ") << p.grid.d.nx << "x" << p.grid.d.ny << "x"
          << p.grid.d.nz << " voxels, " << p.nspecies() << " fields, " << human_time(p.time.t_end) << ", integrator "
          << integrator_name(p.time.integrator) << ", explicit step limit " << human_time(p.explicit_dt_limit())
          << "\n";
      if (!patient.single())
        out << "  origin: " << p.grid.origin[0] / 1000 << " mm, " << p.grid.origin[1] / 1000 << " mm, "
            << p.grid.origin[2] / 1000 << " mm\n";
      const Model& m = p.model;
      if (m.has_reactions() || !m.chemotaxis.empty() || !m.drugs.empty() || !m.globals.empty())
        out << "  model: " << m.terms.size() << " terms, " << m.chemotaxis.size() << " chemotaxis, " << m.globals.size()
            << " uniform inputs (" << m.drugs.size() << " drugs)\n";
      for (const Drug& d : m.drugs)
        if (!d.doses.empty())
          out << "  drug '" << d.name << "': " << d.doses.size()
              << " doses from t = " << human_time(d.doses.front().time_s) << ", plasma terminal half-life "
              << human_time(pk::terminal_half_life_s(d.pk)) << "\n";
      for (size_t q = 0; q < m.plans.size(); ++q) {
        int n = 0;
        double total = 0;
        for (const FractionEvent& f : m.fractions)
          if (f.plan == (int)q) ++n, total += f.dose_Gy;
        out << "  plan '" << m.plans[q].name << "': " << n << " fractions, " << total << " Gy prescribed";
        if (n > 0) {
          double first = -1, last = 0;
          for (const FractionEvent& f : m.fractions)
            if (f.plan == (int)q) last = f.time_s, first = first < 0 ? f.time_s : first;
          out << ", " << human_time(first) << " to " << human_time(last);
        }
        if (!patient.single()) {  // what the plan's dose map gives this lesion, per fraction
          const std::vector<real>& d = m.plans[q].dose;
          out << "; in this lesion " << (d.empty() ? 0.0 : (double)*std::min_element(d.begin(), d.end())) << " to "
              << (d.empty() ? 0.0 : (double)*std::max_element(d.begin(), d.end())) << " Gy per fraction";
        }
        out << "\n";
      }
      print_cost(out, cost, machine);
      if (!cost_allows(what, cost, err)) rc = 2;
    }
    // Lymph nodes: the coupling the run would build (host/run/systemic_coupling.hpp).
    if (const std::unique_ptr<SystemicCoupling> c = make_systemic_coupling(patient)) {
      const systemic::SystemicModel& sm = c->model();
      out << "systemic: " << sm.nodes.size() << " lymph node" << (sm.nodes.size() == 1 ? "" : "s") << " (";
      for (size_t n = 0; n < sm.nodes.size(); ++n) {
        out << (n ? "; " : "") << "'" << sm.nodes[n].name << "' drains ";
        if (sm.nodes[n].drains.empty()) out << "no lesion";
        for (size_t i = 0; i < sm.nodes[n].drains.size(); ++i)
          out << (i ? ", " : "")
              << (patient.single() ? std::string("the lesion")
                                   : "'" + patient.lesion_names[(size_t)sm.nodes[n].drains[i]] + "'");
      }
      const Problem& p = patient.lesions[0].problem;
      out << "), blood effector CD8 from " << count_text(c->coupling().effector_initial_per_mL) << " cells/mL into '"
          << p.model.globals[(size_t)c->coupling().effector_input].name << "', Treg into '"
          << p.model.globals[(size_t)c->coupling().treg_input].name << "'\n";
    }
    return rc;
  } catch (const SceneError& e) {
    err << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return 1;
  }
}

namespace {

// What `tmesim run` prints while it goes (host/run/run.hpp), and the test hook that ends the
// process after a checkpoint (kTestExitAfterCheckpointEnv).
class CliReporter final : public RunReporter {
 public:
  CliReporter(std::ostream& out, bool quiet, double progress_every_s, double t_end, double estimate_s)
      : out_(out), quiet_(quiet), progress_(out, t_end, progress_every_s, quiet, estimate_s) {
    const char* exit_env = std::getenv(kTestExitAfterCheckpointEnv);
    exit_after_ = exit_env ? std::atoll(exit_env) : 0;
  }
  void progress(double t, long long steps, bool force) override {
    if (doomed_ && !force) std::_Exit(137);
    progress_.update(t, steps, force);
  }
  void fraction(const std::string& lesion, int count, const FractionEvent& f, const std::string& plan,
                const std::vector<rt::DeliveredRow>& rows) override {
    if (quiet_) return;
    // Each scope by its name: the whole grid, then every observed region. Numbers with
    // snprintf: the progress lines leave the stream at precision 0 (1 significant digit).
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.6g", f.dose_Gy);
    out_ << "fraction " << count << ": " << (lesion.empty() ? "" : "lesion '" + lesion + "', ") << "plan '" << plan
         << "', " << buf << " Gy at t = " << human_time(f.time_s) << ":";
    for (size_t r = 0; r < rows.size(); ++r) {
      std::snprintf(buf, sizeof buf, " mean %.3g Gy, max %.3g Gy", rows[r].mean_Gy, rows[r].max_Gy);
      out_ << (r ? "; " : " ") << rows[r].scope << buf;
    }
    out_ << std::endl;
  }
  void checkpoint(double t, size_t bytes, double seconds) override {
    if (!quiet_) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "checkpoint: t = %s, %zu bytes in %.3g s", human_time(t).c_str(), bytes, seconds);
      out_ << buf << std::endl;
    }
    doomed_ = ++checkpoints_ == exit_after_;
  }
  void stop_done(double) override {
    if (doomed_) std::_Exit(137);
  }

 private:
  std::ostream& out_;
  bool quiet_;
  ProgressPrinter progress_;
  long long exit_after_ = 0, checkpoints_ = 0;  // the test hook: the checkpoint count to end after
  bool doomed_ = false;
};

}  // namespace

int cmd_run(const RunOptions& o, std::ostream& out, std::ostream& err) {
  const std::string resume_started = utc_now();
  // What the run is of: from the options, or with --resume from the checkpoint.
  const bool resuming = !o.resume.empty();
  RunOrigin origin;
  origin.scene_given = o.scene;
  origin.set = o.set;
  origin.until = o.until;
  origin.command_line = o.command_line;
  origin.started = resume_started;
  OpenedCheckpoint ck;
  if (resuming) {
    const fs::path rd = o.resume;
    const std::string cannot = "error: cannot resume '" + o.resume + "': ";
    std::error_code ec;
    if (!fs::is_directory(rd, ec)) {
      err << cannot << "it is not a directory\n";
      return 2;
    }
    if (fs::exists(rd / "provenance.json", ec)) {
      err << cannot << "it is a finished run (it holds provenance.json)\n";
      return 2;
    }
    if (!fs::exists(rd / kCheckpointFile, ec)) {
      err << cannot << "it holds no checkpoint (" << kCheckpointFile
          << "; a run writes one with output.checkpoint_every)\n";
      return 2;
    }
    try {
      ck = open_checkpoint(rd);
      origin = ck.origin;
    } catch (const std::exception& e) {
      err << "error: " << e.what() << "\n";
      return 2;
    }
  }
  origin.check_every = o.check_every;
  std::unique_ptr<Backend> backend;
  Machine machine;
  try {
    backend = make_backend(o.backend);
    machine = probe_machine(backend->name());
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return 1;
  }
  LoadedPatient patient;
  try {
    patient = load_patient(resuming ? origin.scene_abs : o.scene, machine, SceneOverrides{origin.set, origin.until});
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return 2;
  }
  if (resuming) {
    const std::string why = checkpoint_refusal(ck.header, patient);
    if (!why.empty()) {
      err << "error: cannot resume '" << o.resume << "': " << why << "\n";
      return 2;
    }
  }
  for (const LoadedScene& ls : patient.lesions) print_warnings(ls, err);
  const LoadedScene& ls0 = patient.lesions.at(0);
  const Problem& p0 = ls0.problem;
  // What the run will cost, before anything is allocated or written.
  probe_disk(machine, o.out, p0);
  RunCost cost = estimate_cost(p0, species_written(ls0), machine);
  for (size_t l = 1; l < patient.lesions.size(); ++l) {
    const RunCost c = estimate_cost(patient.lesions[l].problem, species_written(patient.lesions[l]), machine);
    cost.memory.host += c.memory.host;
    cost.memory.device += c.memory.device;
    cost.outputs += c.outputs;
    cost.output_bytes += c.output_bytes;
    cost.seconds_min += c.seconds_min;
    cost.seconds_max += c.seconds_max;
    cost.steps.min = std::max(cost.steps.min, c.steps.min);
    cost.steps.max = std::max(cost.steps.max, c.steps.max);
    if (cost.refusal.empty()) cost.refusal = c.refusal;
    cost.warnings.insert(cost.warnings.end(), c.warnings.begin(), c.warnings.end());
  }
  if (!o.quiet) print_cost(out, cost, machine);
  if (!cost_allows(origin.scene_given, cost, err)) return 2;
  std::unique_ptr<RunDirectory> dir;
  try {
    if (resuming) {
      dir = std::make_unique<RunDirectory>(fs::path(o.resume), RunDirectory::Resume{});
      // Temporary files of writes the kill interrupted.
      std::vector<fs::path> tmp;
      for (const auto& e : fs::recursive_directory_iterator(dir->work()))
        if (e.path().extension() == ".tmp") tmp.push_back(e.path());
      for (const fs::path& t : tmp) fs::remove(t);
    } else {
      dir = std::make_unique<RunDirectory>(output_path(o.out, p0), o.force);
      origin.scene_abs = fs::absolute(o.scene).string();
    }
    const fs::path w = dir->work();
    if (!resuming) {
      write_text_atomic(w / "scene.yaml", read_input_file(o.scene, InputKind::Yaml));
      write_text_atomic(w / "scene.resolved.yaml", patient.resolved_yaml);
    }
    const std::string time_unit = ls0.output_time_unit;  // ls0 moves into the run
    const size_t nlesions = patient.lesions.size();
    CliReporter reporter(out, o.quiet, o.progress_every_s, p0.time.t_end, cost.seconds_max);
    // Lymph nodes: the systemic compartments supply the blood inputs (host/run/systemic_coupling.hpp).
    const std::unique_ptr<SystemicCoupling> coupling = make_systemic_coupling(patient);
    Run run(std::move(patient), std::move(backend), *dir, origin, &reporter, coupling.get());
    const Problem& p = run.problem();
    if (!o.quiet) {
      out << "tmesim " << version() << ": scene '" << p.name << "', ";
      if (nlesions > 1) out << nlesions << " lesions (first ";
      out << p.grid.d.nx << "x" << p.grid.d.ny << "x" << p.grid.d.nz << " voxels" << (nlesions > 1 ? ")" : "") << ", "
          << p.nspecies() << " species, " << human_time(p.time.t_end) << ", backend " << run.backend().name() << " ("
          << run.backend().device() << "), integrator " << integrator_name(p.time.integrator)
          << (p.time.integrator != Integrator::kExplicit && p.time.tolerance > 0
                  ? ", step from tolerance " + std::to_string(p.time.tolerance)
                  : ", step <= " + human_time(run.dt_max()))
          << "\n";
    }
    if (resuming) {
      run.resume(*ck.state, o.command_line, resume_started);
      if (!o.quiet)
        out << "resuming from t = " << human_time(run.resumed_at()) << " (stop " << run.first_stop() << " of "
            << run.stops() << ")" << std::endl;
    }
    run.execute();
    dir->commit();
    if (!dir->warning().empty()) err << "warning: " << dir->warning() << "\n";
    const fs::path fin = dir->final_path();
    for (const BurdenSummary& b : run.burden()) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "tumour burden%s%s%s: %s cells at the start, %s at the minimum, %s at the end\n",
                    b.lesion.empty() ? "" : " of lesion '", b.lesion.c_str(), b.lesion.empty() ? "" : "'",
                    count_text(b.start).c_str(), count_text(b.min).c_str(), count_text(b.end).c_str());
      out << buf;
    }
    if (coupling) {
      const double v = coupling->model().blood_volume_mL;
      const systemic::SystemicState& st = coupling->state();
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "blood effector CD8: %s cells/mL at the start, %s cells/mL at the end; %s cells entered the "
                    "lesions\n",
                    count_text(coupling->coupling().effector_initial_per_mL).c_str(),
                    count_text(st.effector_blood / v).c_str(), count_text(st.tally.effector_to_lesions).c_str());
      out << buf;
      if (st.tally.effector_local > 0)  // lymph nodes inside lesions (docs/model.md)
        out << "effector CD8 released by lymph nodes into the lesions they lie in: "
            << count_text(st.tally.effector_local) << " cells\n";
    }
    if (p.time.integrator != Integrator::kExplicit && p.time.tolerance > 0) {
      const Run::StepSummary ss = run.step_summary();
      out << "steps (tolerance " << p.time.tolerance << "): " << ss.accepted << " accepted, " << ss.rejected
          << " rejected; step min " << human_time(ss.min) << ", median " << human_time(ss.median) << ", max "
          << human_time(ss.max) << " (steps.csv)\n";
    }
    const size_t event_volumes = run.event_volumes();
    out << "wrote " << run.outputs() << " volumes" << (nlesions > 1 ? " per lesion" : "")
        << (event_volumes ? " and " + std::to_string(event_volumes) + " event volumes (events.csv)" : "") << ", "
        << run.steps() << " steps in " << std::setprecision(3) << run.wall_seconds() << " s to " << fin.string()
        << "\n";
    if (nlesions > 1)
      out << "open in ParaView: paraview " << (fin / run.series_file()).string()
          << "  (every lesion in place; each lesion's volumes, observables and schedule in "
          << (fin / "lesions").string() << "/<name>; times in " << time_unit << ")\n";
    else
      out << "open in ParaView: paraview --script=" << (fin / "open_in_paraview.py").string() << "  (or paraview "
          << (fin / "fields.pvd").string() << "; times in " << time_unit << "; observables in "
          << (fin / "observables.csv").string() << ")\n";
    return 0;
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    if (dir) err << dir->partial_output_note();
    return 1;
  }
}

}  // namespace tme
