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
#include "host/scene/patient.hpp"
#include "host/scene/scene.hpp"
#include "kernels/fraction.hpp"

namespace fs = std::filesystem;

namespace tme {
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

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

// ["a", "b"]
std::string json_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_quote(v[i]);
  return s + "]";
}

// A time [s] as the shortest text that reads back to the same double, without an exponent
// below 1e15 s: "43200", "0.5".
std::string exact_seconds(double t) {
  char buf[64];
  if (t == std::floor(t) && std::abs(t) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", t);
    return buf;
  }
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, t);
    if (std::strtod(buf, nullptr) == t) break;
  }
  return buf;
}

// One place the run stops to write a volume.
struct Stop {
  enum When { kBefore, kOutput, kAfter };  // the order of stops at one time
  double t = 0;                            // [s]
  When when = kOutput;
  std::string what;    // events: "fraction", "dose" or "fraction_dose" (the file name's start)
  std::string events;  // events: what happens at t, for events.csv ("fraction 1 (plan 'a', 2 Gy)")
};

// The output times, and with output.at_events each distinct time of the events asked for
// twice (before, after), in time order; at one time: before, output, after.
std::vector<Stop> run_stops(const LoadedScene& ls, const std::vector<double>& times) {
  std::vector<Stop> stops;
  for (double t : times) stops.push_back({t, Stop::kOutput, "", ""});
  const Model& m = ls.problem.model;
  struct At {
    bool fraction = false, dose = false;
    std::string events;
  };
  std::map<double, At> at;
  auto add = [](At& a, const std::string& e) { a.events += (a.events.empty() ? "" : "; ") + e; };
  if (ls.output_at_fractions)
    for (size_t i = 0; i < m.fractions.size(); ++i) {
      const FractionEvent& f = m.fractions[i];
      std::ostringstream e;
      e << "fraction " << i + 1 << " (plan '" << m.plans[f.plan].name << "' " << f.dose_Gy << " Gy)";
      At& a = at[f.time_s];
      a.fraction = true;
      add(a, e.str());
    }
  if (ls.output_at_doses)
    for (const Drug& d : m.drugs)
      for (const pk::Dose& dose : d.doses) {
        std::ostringstream e;
        e << "dose of " << d.name << " (" << dose.amount_mg << " mg)";
        At& a = at[dose.time_s];
        a.dose = true;
        add(a, e.str());
      }
  for (const auto& [t, a] : at) {
    if (t > ls.problem.time.t_end) continue;
    const std::string what = a.fraction && a.dose ? "fraction_dose" : a.fraction ? "fraction" : "dose";
    stops.push_back({t, Stop::kBefore, what, a.events});
    stops.push_back({t, Stop::kAfter, what, a.events});
  }
  std::stable_sort(stops.begin(), stops.end(),
                   [](const Stop& a, const Stop& b) { return a.t < b.t || (a.t == b.t && a.when < b.when); });
  return stops;
}

// Seconds per unit of the volumes' TimeValue (output.time_unit: s, h or d).
double seconds_per(const std::string& time_unit) {
  return time_unit == "d" ? 86400.0 : time_unit == "h" ? 3600.0 : 1.0;
}

// The uint8 arrays of every volume: one mask per region the scene defines ("region_<name>")
// and the tissue label index ("tissue") when the scene has tissue labels.
std::vector<MaskOut> volume_masks(const LoadedScene& ls) {
  std::vector<MaskOut> m;
  for (const NamedMask& r : ls.regions) m.push_back({"region_" + r.name, r.mask.data()});
  if (!ls.problem.labels.empty()) m.push_back({"tissue", ls.problem.labels.data()});
  return m;
}

// open_in_paraview.py for this run (host/io/paraview_script.hpp).
std::string run_paraview_script(const LoadedScene& ls, const std::vector<std::string>& fields) {
  const Problem& p = ls.problem;
  ParaviewScriptInfo info;
  info.fields = fields;
  info.color_by = fields.empty() ? "" : fields[0];
  for (const std::string& f : fields)  // a cell density first, when there is one
    if (f.find("[cells/") != std::string::npos) {
      info.color_by = f;
      break;
    }
  for (const NamedMask& r : ls.regions) info.region_masks.push_back("region_" + r.name);
  slice_centre(p.grid, ls.regions, info.centre, &info.centre_from);
  if (!p.model.plans.empty()) {
    // The 95% isodose of the first plan's fraction dose and of its course total.
    double first = 0, total = 0;
    for (const FractionEvent& f : p.model.fractions)
      if (f.plan == 0) total += f.dose_Gy, first = first > 0 ? first : f.dose_Gy;
    info.dose_array = "dose [Gy]";
    if (first > 0) info.dose_levels.push_back(0.95 * first);
    if (total > first) info.dose_levels.push_back(0.95 * total);
  }
  info.time_unit = ls.output_time_unit;
  return paraview_script(info);
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
    return rc;
  } catch (const SceneError& e) {
    err << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return 1;
  }
}

int cmd_run(const RunOptions& o, std::ostream& out, std::ostream& err) {
  std::string started = utc_now();
  const std::string resume_started = started;
  // What the run is of: from the options, or with --resume from the checkpoint.
  const bool resuming = !o.resume.empty();
  std::string scene_given = o.scene, scene_abs, until = o.until, command_line = o.command_line;
  std::vector<std::string> set = o.set;
  std::unique_ptr<ByteReader> ck;  // the checkpoint, read up to its run state
  CheckpointHeader ckh;
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
      ck = std::make_unique<ByteReader>(read_binary_file(rd / kCheckpointFile), (rd / kCheckpointFile).string());
      ckh = ck->header();
      scene_given = ck->str();
      scene_abs = ck->str();
      const uint64_t nset = ck->u64();
      set.clear();
      for (uint64_t i = 0; i < nset; ++i) set.push_back(ck->str());
      until = ck->str();
      command_line = ck->str();
      started = ck->str();
    } catch (const std::exception& e) {
      err << "error: " << e.what() << "\n";
      return 2;
    }
  }
  std::unique_ptr<Backend> backend;
  Machine machine;
  try {
    backend = make_backend(o.backend);
    machine = probe_machine(backend->name());
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return 1;
  }
  LoadedScene ls;
  try {
    ls = load_scene(resuming ? scene_abs : o.scene, machine, SceneOverrides{set, until});
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return 2;
  }
  const Problem& p = ls.problem;
  const uint64_t scene_hash = fnv1a64(ls.resolved_yaml);
  if (resuming) {
    const std::string why = checkpoint_mismatch(ckh, version(), sizeof(real), p.grid.d.nx, p.grid.d.ny, p.grid.d.nz,
                                                p.nspecies(), scene_hash);
    if (!why.empty()) {
      err << "error: cannot resume '" << o.resume << "': " << why << "\n";
      return 2;
    }
  }
  print_warnings(ls, err);
  // What the run will cost, before anything is allocated or written.
  probe_disk(machine, o.out, p);
  const RunCost cost = estimate_cost(p, species_written(ls), machine);
  if (!o.quiet) print_cost(out, cost, machine);
  if (!cost_allows(scene_given, cost, err)) return 2;
  std::unique_ptr<RunDirectory> dir;
  try {
    if (resuming) {
      dir = std::make_unique<RunDirectory>(fs::path(o.resume), RunDirectory::Resume{});
      // Temporary files of writes the kill interrupted.
      for (const auto& e : fs::directory_iterator(dir->work()))
        if (e.path().extension() == ".tmp") fs::remove(e.path());
    } else {
      dir = std::make_unique<RunDirectory>(output_path(o.out, p), o.force);
      scene_abs = fs::absolute(o.scene).string();
    }
    const fs::path w = dir->work();
    if (!resuming) {
      write_text_atomic(w / "scene.yaml", read_input_file(o.scene, InputKind::Yaml));
      write_text_atomic(w / "scene.resolved.yaml", ls.resolved_yaml);
    }

    backend->load(p);
    Simulation sim(p, *backend);
    sim.check_every(o.check_every);
    const std::vector<double> times = sim.output_times();
    if (!o.quiet)
      out << "tmesim " << version() << ": scene '" << p.name << "', " << p.grid.d.nx << "x" << p.grid.d.ny << "x"
          << p.grid.d.nz << " voxels, " << p.nspecies() << " species, " << human_time(p.time.t_end) << ", backend "
          << backend->name() << " (" << backend->device() << "), integrator " << integrator_name(p.time.integrator)
          << (p.time.integrator != Integrator::kExplicit && p.time.tolerance > 0
                  ? ", step from tolerance " + std::to_string(p.time.tolerance)
                  : ", step <= " + human_time(sim.dt_max()))
          << "\n";

    // Arrays written to the volumes.
    std::vector<int> fields;
    for (int s = 0; s < p.nspecies(); ++s) {
      bool keep = ls.output_fields.empty();
      for (const auto& f : ls.output_fields) keep = keep || f == p.species[s].name;
      if (keep) fields.push_back(s);
    }
    // Radiotherapy accounting: cumulative dose, BED, EQD2 and LQ survival per irradiated
    // population (fields), and the delivered-schedule report.
    const Model& m = p.model;
    const long long nv = p.grid.nvox();
    const bool rt = !m.plans.empty();
    std::unique_ptr<rt::DoseAccumulator> acc;
    std::vector<std::vector<double>> survival(m.radio_pops.size(), std::vector<double>(rt ? nv : 0, 1.0));
    std::vector<rt::DeliveredRow> delivered;
    // The state read for the oxygen enhancement: it lives as long as the simulation, which
    // keeps the fraction callback below (a vector local to the block was read after its end).
    std::vector<real> now;
    if (rt) {
      std::vector<double> ab = m.alpha_beta_Gy;
      if (ab.empty()) ab.assign(std::max<size_t>(1, p.label_names.size()), 10.0);
      acc = std::make_unique<rt::DoseAccumulator>(nv, p.labels, ab);
      std::vector<std::pair<std::string, const std::vector<uint8_t>*>> regions;
      for (const NamedMask& r : p.regions) regions.emplace_back(r.name, &r.mask);
      sim.on_fraction([&, regions](const FractionEvent& f, const std::vector<real>& dose) {
        const std::vector<double> d(dose.begin(), dose.end());
        acc->add_fraction(d);
        if (m.oxygen >= 0) backend->read_state(now);  // pO2 (fractions do not change it)
        FractionArgs fa = build_fraction_args(m);
        fa.fields = now.empty() ? nullptr : now.data();
        fa.nvox = nv;
        fa.dose = dose.data();
        for (size_t q = 0; q < m.radio_pops.size(); ++q)
          for (long long v = 0; v < nv; ++v) survival[q][v] *= fraction_survival(fa, (int)q, v);
        const auto rows = rt::summarise_fraction(f.time_s, f.plan, m.plans[f.plan].name, f.dose_Gy, d, regions);
        delivered.insert(delivered.end(), rows.begin(), rows.end());
        write_text_atomic(dir->work() / "delivered_schedule.csv", rt::delivered_schedule_csv(delivered));
        if (!o.quiet) {
          // Each scope by its name: the whole grid, then every observed region. Numbers with
          // snprintf: the progress lines leave the stream at precision 0 (1 significant digit).
          char buf[96];
          std::snprintf(buf, sizeof buf, "%.6g", f.dose_Gy);
          out << "fraction " << acc->fractions() << ": plan '" << m.plans[f.plan].name << "', " << buf
              << " Gy at t = " << human_time(f.time_s) << ":";
          for (size_t r = 0; r < rows.size(); ++r) {
            std::snprintf(buf, sizeof buf, " mean %.3g Gy, max %.3g Gy", rows[r].mean_Gy, rows[r].max_Gy);
            out << (r ? "; " : " ") << rows[r].scope << buf;
          }
          out << std::endl;
        }
      });
      write_text_atomic(w / "delivered_schedule.csv", rt::delivered_schedule_csv(delivered));
    }
    std::vector<std::vector<real>> rt_out(rt ? 3 + m.radio_pops.size() : 0, std::vector<real>(nv));

    // Where the run stops to write: the output times, and with output.at_events each event
    // time twice, just before its events (none applied) and just after (all applied).
    const std::vector<Stop> stops = run_stops(ls, times);
    // What the volumes carry besides the fields, and a pvpython script that opens them.
    const std::vector<MaskOut> masks = volume_masks(ls);
    const double time_scale = seconds_per(ls.output_time_unit);
    {
      std::vector<std::string> names;
      for (int s : fields) names.push_back(p.species[s].name + " [" + p.species[s].unit + "]");
      write_text_atomic(w / "open_in_paraview.py", run_paraview_script(ls, names));
    }
    const std::vector<TotalUnit> totals = total_units(p);
    if (!p.model.drugs.empty()) {
      // The drug doses given during the run (plots mark them, like the fractions).
      std::ostringstream doses;
      doses.precision(9);
      doses << "time_s,time_h,drug,amount_mg\n";
      for (const Drug& d : p.model.drugs)
        for (const pk::Dose& x : d.doses)
          if (x.time_s <= p.time.t_end)
            doses << x.time_s << ',' << x.time_s / 3600 << ',' << d.name << ',' << x.amount_mg << '\n';
      write_text_atomic(w / "drug_doses.csv", doses.str());
    }

    // (times in output.time_unit, as in the volumes' TimeValue)
    std::vector<std::pair<double, std::string>> pvd, pvd_before, pvd_after;
    std::string csv = observables_header(p, totals, rt), events_csv = "time_s,time,when,events,file\n";
    std::vector<real> state;
    // The volume of the state the backend holds at time t [s].
    auto write_volume = [&](const std::string& name, double t) {
      backend->read_state(state);
      std::vector<ArrayOut> arrays;
      for (int s : fields)
        arrays.push_back({p.species[s].name + " [" + p.species[s].unit + "]", state.data() + s * p.grid.nvox()});
      if (rt) {
        const std::vector<double>* src[3] = {&acc->physical_Gy(), &acc->bed_Gy(), &acc->eqd2_Gy()};
        const char* names[3] = {"dose [Gy]", "BED [Gy]", "EQD2 [Gy]"};
        for (int q = 0; q < 3; ++q) {
          std::copy(src[q]->begin(), src[q]->end(), rt_out[q].begin());
          arrays.push_back({names[q], rt_out[q].data()});
        }
        for (size_t q = 0; q < m.radio_pops.size(); ++q) {
          std::copy(survival[q].begin(), survival[q].end(), rt_out[3 + q].begin());
          arrays.push_back({"survival_" + p.species[m.radio_pops[q].species].name + " [1]", rt_out[3 + q].data()});
        }
      }
      VolumeInfo info;
      info.time_s = t;
      info.time_value = t / time_scale;
      info.time_unit = ls.output_time_unit;
      info.label_names = p.label_names;
      write_vti((w / name).string(), p.grid, arrays, masks, info);
    };
    ProgressPrinter progress(out, p.time.t_end, o.progress_every_s, o.quiet, cost.seconds_max);
    const auto wall0 = std::chrono::steady_clock::now();
    size_t n = 0, event_volumes = 0;
    bool fresh_interval = true;  // no step taken since the last output (step 'auto' re-estimates)
    size_t first_stop = 0;
    double last_checkpoint = 0;  // time of the last checkpoint [s]
    double resumed_at = 0;       // with --resume: the checkpoint's time [s]
    // The run's state at a stop, as the checkpoint holds it after its header and run info.
    auto save_state = [&](ByteWriter& b, size_t next_stop) {
      b.u64(stops.size());
      b.u64(next_stop);
      b.u64(n);
      b.u64(event_volumes);
      b.u32(fresh_interval ? 1 : 0);
      b.f64(last_checkpoint);
      const StepState ss = sim.step_state();
      b.f64(ss.t);
      b.i64(ss.steps);
      b.f64(ss.dt_max);
      b.i64(ss.next_fraction);
      backend->read_state(state);
      b.vec(state);
      b.u32(rt ? 1 : 0);
      if (rt) {
        b.vec(acc->physical_Gy());
        b.vec(acc->bed_Gy());
        b.vec(acc->eqd2_Gy());
        b.vec(acc->last_fraction_Gy());
        b.i64(acc->fractions());
        b.u64(survival.size());
        for (const auto& sv : survival) b.vec(sv);
        b.u64(delivered.size());
        for (const rt::DeliveredRow& r : delivered) {
          b.f64(r.time_s);
          b.i64(r.plan);
          b.str(r.plan_name);
          b.f64(r.prescribed_Gy);
          b.str(r.scope);
          b.f64(r.mean_Gy);
          b.f64(r.min_Gy);
          b.f64(r.max_Gy);
          b.i64(r.voxels);
        }
      }
      for (const auto* series : {&pvd, &pvd_before, &pvd_after}) {
        b.u64(series->size());
        for (const auto& [t, name] : *series) {
          b.f64(t);
          b.str(name);
        }
      }
      b.str(csv);
      b.str(events_csv);
    };
    auto restore_state = [&](ByteReader& b) {
      if (b.u64() != stops.size()) b.damaged();
      first_stop = b.u64();
      n = b.u64();
      event_volumes = b.u64();
      fresh_interval = b.u32() != 0;
      last_checkpoint = b.f64();
      StepState ss;
      ss.t = b.f64();
      ss.steps = b.i64();
      ss.dt_max = b.f64();
      ss.next_fraction = (int)b.i64();
      state = b.vec<real>();
      if (first_stop > stops.size() || state.size() != size_t(p.nspecies()) * size_t(nv)) b.damaged();
      backend->write_state(state);
      sim.restore_step_state(ss);
      resumed_at = ss.t;
      if ((b.u32() != 0) != rt) b.damaged();
      if (rt) {
        auto physical = b.vec<double>(), bed = b.vec<double>(), eqd2 = b.vec<double>(), last = b.vec<double>();
        const int fractions = (int)b.i64();
        acc->restore(std::move(physical), std::move(bed), std::move(eqd2), std::move(last), fractions);
        if (b.u64() != survival.size()) b.damaged();
        for (auto& sv : survival) {
          sv = b.vec<double>();
          if ((long long)sv.size() != nv) b.damaged();
        }
        const uint64_t rows = b.u64();
        delivered.clear();
        for (uint64_t i = 0; i < rows; ++i) {
          rt::DeliveredRow r;
          r.time_s = b.f64();
          r.plan = (int)b.i64();
          r.plan_name = b.str();
          r.prescribed_Gy = b.f64();
          r.scope = b.str();
          r.mean_Gy = b.f64();
          r.min_Gy = b.f64();
          r.max_Gy = b.f64();
          r.voxels = b.i64();
          delivered.push_back(std::move(r));
        }
      }
      for (auto* series : {&pvd, &pvd_before, &pvd_after}) {
        const uint64_t k = b.u64();
        series->clear();
        for (uint64_t i = 0; i < k; ++i) {
          const double t = b.f64();
          series->emplace_back(t, b.str());
        }
      }
      csv = b.str();
      events_csv = b.str();
      if (!b.at_end()) b.damaged();
    };
    auto write_checkpoint = [&](size_t next_stop) {
      const auto c0 = std::chrono::steady_clock::now();
      ByteWriter b;
      CheckpointHeader h;
      h.version = version();
      h.precision = sizeof(real);
      h.nx = p.grid.d.nx;
      h.ny = p.grid.d.ny;
      h.nz = p.grid.d.nz;
      h.nspecies = p.nspecies();
      h.scene_hash = scene_hash;
      b.header(h);
      b.str(scene_given);
      b.str(scene_abs);
      b.u64(set.size());
      for (const std::string& x : set) b.str(x);
      b.str(until);
      b.str(command_line);
      b.str(started);
      save_state(b, next_stop);
      write_text_atomic(w / kCheckpointFile, b.bytes());
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
      if (!o.quiet) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "checkpoint: t = %s, %zu bytes in %.3g s", human_time(sim.time()).c_str(),
                      b.bytes().size(), secs);
        out << buf << std::endl;
      }
    };
    if (resuming) {
      restore_state(*ck);
      // The files of the run as they were at the checkpoint (a killed run may have rewritten
      // them after it).
      if (rt) write_text_atomic(w / "delivered_schedule.csv", rt::delivered_schedule_csv(delivered));
      write_text_atomic(w / "observables.csv", csv);
      if (!pvd.empty()) write_pvd((w / "fields.pvd").string(), pvd);
      if (!pvd_before.empty()) write_pvd((w / "events_before.pvd").string(), pvd_before);
      if (!pvd_after.empty()) write_pvd((w / "events_after.pvd").string(), pvd_after);
      if (event_volumes) write_text_atomic(w / "events.csv", events_csv);
      if (!o.quiet)
        out << "resuming from t = " << human_time(resumed_at) << " (stop " << first_stop << " of " << stops.size()
            << ")" << std::endl;
    }
    // The test hook (kTestExitAfterCheckpointEnv): the checkpoint count to end after; 0: none.
    const char* exit_env = std::getenv(kTestExitAfterCheckpointEnv);
    const long long exit_after = exit_env ? std::atoll(exit_env) : 0;
    long long checkpoints = 0;
    bool doomed = false;
    for (size_t si = first_stop; si < stops.size(); ++si) {
      const Stop& st = stops[si];
      Landing landing;
      landing.before_events = st.when == Stop::kBefore;
      landing.reestimate = fresh_interval;
      if (st.t > sim.time()) fresh_interval = false;
      sim.advance_to(
          st.t,
          [&](double t) {
            if (doomed) std::_Exit(137);
            progress.update(t, sim.steps());
          },
          landing);
      sim.check_state();  // at every output, the last one (the end) included; throws StateError
      if (st.when == Stop::kOutput) {
        char name[32];
        std::snprintf(name, sizeof name, "fields_%04zu.vti", n++);
        write_volume(name, st.t);
        pvd.emplace_back(st.t / time_scale, name);
        write_pvd((w / "fields.pvd").string(), pvd);
        std::vector<std::vector<Stats>> dose_stats;
        if (rt)
          for (const auto* q : {&acc->physical_Gy(), &acc->bed_Gy(), &acc->eqd2_Gy()})
            dose_stats.push_back(scope_stats(p, *q));
        csv += observables_row(st.t, compute_observables(p, state), totals, dose_stats);
        write_text_atomic(w / "observables.csv", csv);
        fresh_interval = true;
      } else {
        const bool before = st.when == Stop::kBefore;
        const std::string name = st.what + "_" + exact_seconds(st.t) + "s_" + (before ? "before" : "after") + ".vti";
        write_volume(name, st.t);
        ++event_volumes;
        auto& series = before ? pvd_before : pvd_after;
        series.emplace_back(st.t / time_scale, name);
        write_pvd((w / (before ? "events_before.pvd" : "events_after.pvd")).string(), series);
        events_csv += exact_seconds(st.t) + "," + human_time(st.t) + "," + (before ? "before," : "after,") + st.events +
                      "," + name + "\n";
        write_text_atomic(w / "events.csv", events_csv);
      }
      if (st.when == Stop::kOutput) progress.update(st.t, sim.steps(), true);
      if (doomed) std::_Exit(137);
      if (ls.checkpoint_every > 0 && si + 1 < stops.size() && st.t - last_checkpoint >= ls.checkpoint_every) {
        last_checkpoint = st.t;
        write_checkpoint(si + 1);
        doomed = ++checkpoints == exit_after;
      }
    }
    std::error_code rm_ec;
    fs::remove(w / kCheckpointFile, rm_ec);  // a finished run has no use for it
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

    std::ostringstream prov;
    prov << "{\n"
         << "  \"tmesim_version\": " << json_quote(version()) << ",\n"
         << "  \"git_hash\": " << json_quote(git_hash()) << ",\n"
         << "  \"git_dirty\": " << (git_dirty() ? "true" : "false") << ",\n"
         << "  \"precision\": " << json_quote(sizeof(real) == 4 ? "float32" : "float64") << ",\n"
         << "  \"backend\": " << json_quote(backend->name()) << ",\n"
         << "  \"device\": " << json_quote(backend->device()) << ",\n"
         << "  \"command_line\": " << json_quote(command_line) << ",\n"
         << "  \"scene\": " << json_quote(scene_given) << ",\n"
         << "  \"overrides\": " << json_list(set) << ",\n"
         << "  \"until\": " << (until.empty() ? std::string("null") : json_quote(until)) << ",\n"
         << "  \"seed\": " << p.seed << ",\n"
         << "  \"integrator\": " << json_quote(integrator_name(p.time.integrator)) << ",\n"
         << "  \"steps\": " << sim.steps() << ",\n"
         << "  \"fractions_delivered\": " << sim.fractions_applied() << ",\n"
         << "  \"step_max_s\": " << std::setprecision(17) << sim.dt_max() << ",\n"
         << "  \"wall_time_s\": " << std::setprecision(6) << wall << ",\n"
         << "  \"resumed\": "
         << (resuming ? "{\"from_time_s\": " + exact_seconds(resumed_at) + ", \"command_line\": " +
                            json_quote(o.command_line) + ", \"at\": " + json_quote(resume_started) + "}"
                      : std::string("null"))
         << ",\n"
         << "  \"start_time\": " << json_quote(started) << ",\n"
         << "  \"end_time\": " << json_quote(utc_now()) << "\n"
         << "}\n";
    write_text_atomic(w / "provenance.json", prov.str());
    dir->commit();
    if (!dir->warning().empty()) err << "warning: " << dir->warning() << "\n";
    const fs::path fin = dir->final_path();
    out << "wrote " << times.size() << " volumes"
        << (event_volumes ? " and " + std::to_string(event_volumes) + " event volumes (events.csv)" : "") << ", "
        << sim.steps() << " steps in " << std::setprecision(3) << wall << " s to " << fin.string() << "\n"
        << "open in ParaView: paraview --script=" << (fin / "open_in_paraview.py").string() << "  (or paraview "
        << (fin / "fields.pvd").string() << "; times in " << ls.output_time_unit << "; observables in "
        << (fin / "observables.csv").string() << ")\n";
    return 0;
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    if (dir) err << dir->partial_output_note();
    return 1;
  }
}

}  // namespace tme
