#include "host/run/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "host/core/cost.hpp"
#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "host/core/version.hpp"
#include "host/io/paraview_script.hpp"
#include "host/io/vtk_io.hpp"

namespace fs = std::filesystem;

namespace tme {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

namespace {

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

// open_in_paraview.py for one lesion's volumes (host/io/paraview_script.hpp).
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

void save_rows(ByteWriter& b, const std::vector<rt::DeliveredRow>& delivered) {
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

std::vector<rt::DeliveredRow> restore_rows(ByteReader& b) {
  const uint64_t rows = b.u64();
  std::vector<rt::DeliveredRow> delivered;
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
  return delivered;
}

using Series = std::vector<std::pair<double, std::string>>;

// A multiblock (.vtm) listing one volume per lesion, file names relative to the .vtm.
std::string multiblock_xml(const std::vector<std::pair<std::string, std::string>>& blocks) {
  auto attr = [](const std::string& s) {
    std::string o;
    for (char c : s)
      o += c == '&' ? "&amp;" : c == '"' ? "&quot;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
    return o;
  };
  std::string x =
      "<?xml version=\"1.0\"?>\n<VTKFile type=\"vtkMultiBlockDataSet\" version=\"1.0\" "
      "byte_order=\"LittleEndian\">\n  <vtkMultiBlockDataSet>\n";
  for (size_t i = 0; i < blocks.size(); ++i)
    x += "    <DataSet index=\"" + std::to_string(i) + "\" name=\"" + attr(blocks[i].first) + "\" file=\"" +
         attr(blocks[i].second) + "\"/>\n";
  return x + "  </vtkMultiBlockDataSet>\n</VTKFile>\n";
}

}  // namespace

// One place the run stops to write a volume.
struct Run::Stop {
  enum When { kBefore, kOutput, kAfter };  // the order of stops at one time
  double t = 0;                            // [s]
  When when = kOutput;
  std::string what;    // events: "fraction", "dose" or "fraction_dose" (the file name's start)
  std::string events;  // events: what happens at t, for events.csv ("fraction 1 (plan 'a', 2 Gy)")
};

namespace {

// The output times, and with output.at_events each distinct time of the events asked for
// twice (before, after), in time order; at one time: before, output, after.
template <class Stop>
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

}  // namespace

// Everything one lesion of the run owns.
struct Run::Lesion {
  std::string name;  // "" for a single-lesion run
  LoadedScene ls;
  fs::path dir;  // where its files go (the run directory, or lesions/<name>/)
  fs::path rel;  // that directory relative to the run directory ("" or "lesions/<name>")
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Simulation> sim;
  std::vector<int> fields;  // species written to the volumes
  bool rt = false;
  std::unique_ptr<rt::DoseAccumulator> acc;
  std::vector<double> survival;  // read back from the backend: per irradiated population, per voxel
  std::vector<rt::DeliveredRow> delivered;
  std::vector<std::vector<real>> rt_out;
  std::vector<MaskOut> masks;
  std::vector<TotalUnit> totals;
  double time_scale = 1;
  Series pvd, pvd_before, pvd_after;
  std::string csv, events_csv;
  std::vector<real> state;
  std::vector<double> burden;  // tumour burden [cells] at each output
  std::vector<int> folded;     // fields the coupling empties into running sums (StepCoupling::folded_fields)
  std::vector<double> sum;     // scratch: one running sum

  // The state as the outputs show it: the backend's, with each folded field's running sum added.
  void read_output_state() {
    backend->read_state(state);
    const size_t nv = size_t(ls.problem.grid.nvox());
    for (int s : folded) {
      backend->read_folded(s, sum);
      real* x = state.data() + size_t(s) * nv;
      for (size_t v = 0; v < nv; ++v) x[v] = real(sum[v] + double(x[v]));
    }
  }

  // The volume of the state the backend holds at time t [s], as file `name` in dir.
  void write_volume(const std::string& file, double t) {
    const Problem& p = ls.problem;
    const Model& m = p.model;
    read_output_state();
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
      // The LQ survival the backend keeps where it applies the fractions.
      backend->read_survival(survival);
      const long long nv = p.grid.nvox();
      for (size_t q = 0; q < m.radio_pops.size(); ++q) {
        std::copy(survival.begin() + q * nv, survival.begin() + (q + 1) * nv, rt_out[3 + q].begin());
        arrays.push_back({"survival_" + p.species[m.radio_pops[q].species].name + " [1]", rt_out[3 + q].data()});
      }
    }
    VolumeInfo info;
    info.time_s = t;
    info.time_value = t / time_scale;
    info.time_unit = ls.output_time_unit;
    info.label_names = p.label_names;
    write_vti((dir / file).string(), p.grid, arrays, masks, info);
  }

  // The files of the lesion as its bookkeeping holds them (after a resume).
  void rewrite_files(size_t event_volumes) {
    if (rt) write_text_atomic(dir / "delivered_schedule.csv", rt::delivered_schedule_csv(delivered));
    write_text_atomic(dir / "observables.csv", csv);
    if (!pvd.empty()) write_pvd((dir / "fields.pvd").string(), pvd);
    if (!pvd_before.empty()) write_pvd((dir / "events_before.pvd").string(), pvd_before);
    if (!pvd_after.empty()) write_pvd((dir / "events_after.pvd").string(), pvd_after);
    if (event_volumes) write_text_atomic(dir / "events.csv", events_csv);
  }

  void save(ByteWriter& b) {
    const StepState ss = sim->step_state();
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
      // The survival per population, as separate vectors (the format before it moved to the backend).
      backend->read_survival(survival);
      const size_t npop = ls.problem.model.radio_pops.size(), nv = size_t(ls.problem.grid.nvox());
      b.u64(npop);
      for (size_t q = 0; q < npop; ++q)
        b.vec(std::vector<double>(survival.begin() + q * nv, survival.begin() + (q + 1) * nv));
      save_rows(b, delivered);
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
    b.vec(burden);
    b.u64(folded.size());
    for (int s : folded) {
      backend->read_folded(s, sum);
      b.vec(sum);
    }
  }

  // Returns the checkpoint's time [s].
  double restore(ByteReader& b) {
    const Problem& p = ls.problem;
    const long long nv = p.grid.nvox();
    StepState ss;
    ss.t = b.f64();
    ss.steps = b.i64();
    ss.dt_max = b.f64();
    ss.next_fraction = (int)b.i64();
    state = b.vec<real>();
    if (state.size() != size_t(p.nspecies()) * size_t(nv)) b.damaged();
    backend->write_state(state);
    sim->restore_step_state(ss);
    if ((b.u32() != 0) != rt) b.damaged();
    if (rt) {
      auto physical = b.vec<double>(), bed = b.vec<double>(), eqd2 = b.vec<double>(), last = b.vec<double>();
      const int fractions = (int)b.i64();
      acc->restore(std::move(physical), std::move(bed), std::move(eqd2), std::move(last), fractions);
      const size_t npop = p.model.radio_pops.size();
      if (b.u64() != npop) b.damaged();
      survival.clear();
      for (size_t q = 0; q < npop; ++q) {
        const std::vector<double> sv = b.vec<double>();
        if ((long long)sv.size() != nv) b.damaged();
        survival.insert(survival.end(), sv.begin(), sv.end());
      }
      backend->write_survival(survival);
      delivered = restore_rows(b);
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
    burden = b.vec<double>();
    if (b.u64() != folded.size()) b.damaged();
    for (int s : folded) {
      sum = b.vec<double>();
      if ((long long)sum.size() != nv) b.damaged();
      backend->write_folded(s, sum);
    }
    return ss.t;
  }
};

OpenedCheckpoint open_checkpoint(const fs::path& dir) {
  OpenedCheckpoint c;
  c.state = std::make_unique<ByteReader>(read_binary_file(dir / kCheckpointFile), (dir / kCheckpointFile).string());
  ByteReader& ck = *c.state;
  c.header = ck.header();
  c.origin.scene_given = ck.str();
  c.origin.scene_abs = ck.str();
  const uint64_t nset = ck.u64();
  for (uint64_t i = 0; i < nset; ++i) c.origin.set.push_back(ck.str());
  c.origin.until = ck.str();
  c.origin.command_line = ck.str();
  c.origin.started = ck.str();
  return c;
}

std::string checkpoint_refusal(const CheckpointHeader& h, const LoadedPatient& patient) {
  const Problem& p = patient.lesions.at(0).problem;
  return checkpoint_mismatch(h, version(), sizeof(real), p.grid.d.nx, p.grid.d.ny, p.grid.d.nz, p.nspecies(),
                             fnv1a64(patient.resolved_yaml));
}

Run::Run(LoadedPatient patient, std::unique_ptr<Backend> first, RunDirectory& dir, RunOrigin origin,
         RunReporter* reporter, StepCoupling* coupling)
    : patient_(std::move(patient)), dir_(dir), origin_(std::move(origin)), reporter_(reporter), coupling_(coupling) {
  if (patient_.lesions.empty()) throw std::invalid_argument("Run: the patient has no lesions");
  if (patient_.lesion_names.size() != patient_.lesions.size())
    throw std::invalid_argument("Run: one name per lesion expected");
  const bool single = patient_.single();
  const fs::path w = dir_.work();
  for (size_t l = 0; l < patient_.lesions.size(); ++l) {
    auto les = std::make_unique<Lesion>();
    Lesion& L = *les;
    L.name = patient_.lesion_names[l];
    L.ls = std::move(patient_.lesions[l]);
    if (single) {
      L.dir = w;
    } else {
      if (L.name.empty() || L.name.find('/') != std::string::npos || L.name == "." || L.name == "..")
        throw std::invalid_argument("Run: lesion name '" + L.name + "' cannot name a directory");
      L.rel = fs::path("lesions") / L.name;
      L.dir = w / L.rel;
      fs::create_directories(L.dir);
    }
    L.backend = l == 0 ? std::move(first) : make_backend(lesions_[0]->backend->name());
    const Problem& p = L.ls.problem;
    L.backend->load(p);
    L.sim = std::make_unique<Simulation>(p, *L.backend);
    L.sim->check_every(origin_.check_every);
    lesions_.push_back(std::move(les));
  }
  patient_.lesions.clear();  // moved into the lesions
  if (coupling_) {           // a coupling that adds to the lesions' fields keeps its voxel lists there
    std::vector<Backend*> backends;
    for (const auto& L : lesions_) backends.push_back(L->backend.get());
    coupling_->attach(backends);
    for (const auto& L : lesions_) L->folded = coupling_->folded_fields();
  }
  if (lesions_.size() > 1) {
    double dt = lesions_[0]->sim->dt_max();
    for (const auto& L : lesions_) dt = std::min(dt, L->sim->dt_max());
    for (const auto& L : lesions_) L->sim->set_dt_max(dt);
  }
  times_ = lesions_[0]->sim->output_times();
  stops_ = run_stops<Stop>(lesions_[0]->ls, times_);

  for (auto& lp : lesions_) {
    Lesion& L = *lp;
    const Problem& p = L.ls.problem;
    const Model& m = p.model;
    const long long nv = p.grid.nvox();
    for (int s = 0; s < p.nspecies(); ++s) {
      bool keep = L.ls.output_fields.empty();
      for (const auto& f : L.ls.output_fields) keep = keep || f == p.species[s].name;
      if (keep) L.fields.push_back(s);
    }
    // Radiotherapy accounting: cumulative dose, BED, EQD2 and LQ survival per irradiated
    // population (fields), and the delivered-schedule report.
    L.rt = !m.plans.empty();
    if (L.rt) {
      std::vector<double> ab = m.alpha_beta_Gy;
      if (ab.empty()) ab.assign(std::max<size_t>(1, p.label_names.size()), 10.0);
      L.acc = std::make_unique<rt::DoseAccumulator>(nv, p.labels, ab);
      std::vector<std::pair<std::string, const std::vector<uint8_t>*>> regions;
      for (const NamedMask& r : p.regions) regions.emplace_back(r.name, &r.mask);
      L.sim->on_fraction([this, &L, regions](const FractionEvent& f, const std::vector<real>& dose) {
        const Model& m = L.ls.problem.model;
        const std::vector<double> d(dose.begin(), dose.end());
        L.acc->add_fraction(d);
        const auto rows = rt::summarise_fraction(f.time_s, f.plan, m.plans[f.plan].name, f.dose_Gy, d, regions);
        L.delivered.insert(L.delivered.end(), rows.begin(), rows.end());
        write_text_atomic(L.dir / "delivered_schedule.csv", rt::delivered_schedule_csv(L.delivered));
        if (reporter_) reporter_->fraction(L.name, L.acc->fractions(), f, m.plans[f.plan].name, rows);
      });
      L.rt_out.assign(3 + m.radio_pops.size(), std::vector<real>(nv));
    }
    L.masks = volume_masks(L.ls);
    L.time_scale = seconds_per(L.ls.output_time_unit);
    L.totals = total_units(p);
    L.csv = observables_header(p, L.totals, L.rt);
    L.events_csv = "time_s,time,when,events,file\n";
  }
}

Run::~Run() = default;

const Problem& Run::problem() const { return lesions_[0]->ls.problem; }
Backend& Run::backend() const { return *lesions_[0]->backend; }
double Run::dt_max() const { return lesions_[0]->sim->dt_max(); }
long long Run::steps() const { return lesions_[0]->sim->steps(); }
size_t Run::stops() const { return stops_.size(); }
std::string Run::series_file() const { return patient_.single() ? "fields.pvd" : "patient.pvd"; }

std::vector<BurdenSummary> Run::burden() const {
  std::vector<BurdenSummary> out;
  for (const auto& L : lesions_) {
    if (L->burden.empty()) continue;
    BurdenSummary b;
    b.lesion = L->name;
    b.start = L->burden.front();
    b.end = L->burden.back();
    b.min = *std::min_element(L->burden.begin(), L->burden.end());
    out.push_back(b);
  }
  return out;
}

void Run::save_state(ByteWriter& b, size_t next_stop) {
  b.u64(stops_.size());
  b.u64(next_stop);
  b.u64(n_);
  b.u64(event_volumes_);
  b.u32(fresh_interval_ ? 1 : 0);
  b.f64(last_checkpoint_);
  for (auto& L : lesions_) L->save(b);
  if (!patient_.single()) {
    b.u64(patient_pvd_.size());
    for (const auto& [t, name] : patient_pvd_) {
      b.f64(t);
      b.str(name);
    }
  }
  if (coupling_) b.vec(coupling_->saved_state());  // the systemic compartments
}

namespace {
constexpr const char* kStepsHeader = "t_s,dt_s,error,rejected,field\n";
}

void Run::resume(ByteReader& b, const std::string& command_line, const std::string& at) {
  if (b.u64() != stops_.size()) b.damaged();
  first_stop_ = b.u64();
  n_ = b.u64();
  event_volumes_ = b.u64();
  fresh_interval_ = b.u32() != 0;
  last_checkpoint_ = b.f64();
  if (first_stop_ > stops_.size()) b.damaged();
  for (auto& L : lesions_) resumed_at_ = L->restore(b);
  if (!patient_.single()) {
    const uint64_t k = b.u64();
    patient_pvd_.clear();
    for (uint64_t i = 0; i < k; ++i) {
      const double t = b.f64();
      patient_pvd_.emplace_back(t, b.str());
    }
  }
  if (coupling_) {
    try {
      coupling_->restore_state(b.vec<double>());
    } catch (const std::invalid_argument&) {
      b.damaged();
    }
  }
  if (!b.at_end()) b.damaged();
  resuming_ = true;
  resume_command_ = command_line;
  resume_at_ = at;
  // The files of the run as they were at the checkpoint (a killed run may have rewritten
  // them after it).
  for (auto& L : lesions_) L->rewrite_files(event_volumes_);
  if (!patient_pvd_.empty()) write_pvd((dir_.work() / "patient.pvd").string(), patient_pvd_);
  if (coupling_) write_coupling_files();
  if (lesions_[0]->sim->automatic()) {
    // steps.csv up to the checkpoint: the steps that start before its time (each ends on or
    // before it, since steps land on every stop).
    steps_csv_ = kStepsHeader;
    std::ifstream in(dir_.work() / "steps.csv");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream row(line);
      std::string t, dt, err, rejected;
      if (!(std::getline(row, t, ',') && std::getline(row, dt, ',') && std::getline(row, err, ',') &&
            std::getline(row, rejected, ',')))
        break;
      if (!(std::strtod(t.c_str(), nullptr) < resumed_at_)) break;
      steps_csv_ += line + "\n";
      if (rejected == "yes")
        ++rejected_;
      else
        accepted_dt_.push_back(std::strtod(dt.c_str(), nullptr));
    }
    write_text_atomic(dir_.work() / "steps.csv", steps_csv_);
  }
}

void Run::record_steps() {
  Simulation& sim = *lesions_[0]->sim;
  if (!sim.automatic()) return;
  const Problem& p = problem();
  if (steps_csv_.empty()) steps_csv_ = kStepsHeader;
  char buf[200];
  for (const StepRecord& r : sim.step_log()) {
    const std::string field = r.field >= 0 && r.field < p.nspecies() ? p.species[r.field].name : "";
    std::snprintf(buf, sizeof buf, "%.17g,%.17g,%.6g,%s,", r.t, r.dt, r.error, r.rejected ? "yes" : "no");
    steps_csv_ += buf + field + "\n";
    if (r.rejected)
      ++rejected_;
    else
      accepted_dt_.push_back(r.dt);
  }
  sim.clear_step_log();
  write_text_atomic(dir_.work() / "steps.csv", steps_csv_);
}

Run::StepSummary Run::step_summary() const {
  StepSummary s;
  s.accepted = (long long)accepted_dt_.size();
  s.rejected = rejected_;
  if (accepted_dt_.empty()) return s;
  std::vector<double> d = accepted_dt_;
  std::sort(d.begin(), d.end());
  s.min = d.front();
  s.max = d.back();
  const size_t n = d.size();
  s.median = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
  return s;
}

void Run::write_coupling_files() {
  for (const auto& [name, text] : coupling_->files()) write_text_atomic(dir_.work() / name, text);
}

void Run::write_checkpoint(size_t next_stop) {
  const auto c0 = std::chrono::steady_clock::now();
  const Problem& p = problem();
  ByteWriter b;
  CheckpointHeader h;
  h.version = version();
  h.precision = sizeof(real);
  h.nx = p.grid.d.nx;
  h.ny = p.grid.d.ny;
  h.nz = p.grid.d.nz;
  h.nspecies = p.nspecies();
  h.scene_hash = fnv1a64(patient_.resolved_yaml);
  b.header(h);
  b.str(origin_.scene_given);
  b.str(origin_.scene_abs);
  b.u64(origin_.set.size());
  for (const std::string& x : origin_.set) b.str(x);
  b.str(origin_.until);
  b.str(origin_.command_line);
  b.str(origin_.started);
  save_state(b, next_stop);
  write_text_atomic(dir_.work() / kCheckpointFile, b.bytes());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
  if (reporter_) reporter_->checkpoint(lesions_[0]->sim->time(), b.bytes().size(), secs);
}

void Run::write_patient_block(size_t n, double t) {
  char name[32];
  std::snprintf(name, sizeof name, "patient_%04zu.vtm", n);
  std::vector<std::pair<std::string, std::string>> blocks;
  char vti[32];
  std::snprintf(vti, sizeof vti, "fields_%04zu.vti", n);
  for (const auto& L : lesions_) blocks.emplace_back(L->name, (L->rel / vti).generic_string());
  write_text_atomic(dir_.work() / name, multiblock_xml(blocks));
  patient_pvd_.emplace_back(t / lesions_[0]->time_scale, name);
  write_pvd((dir_.work() / "patient.pvd").string(), patient_pvd_);
}

void Run::execute() {
  const fs::path w = dir_.work();
  const Problem& p0 = problem();
  for (auto& L : lesions_) {
    std::vector<std::string> names;
    const Problem& p = L->ls.problem;
    for (int s : L->fields) names.push_back(p.species[s].name + " [" + p.species[s].unit + "]");
    write_text_atomic(L->dir / "open_in_paraview.py", run_paraview_script(L->ls, names));
    if (L->rt) write_text_atomic(L->dir / "delivered_schedule.csv", rt::delivered_schedule_csv(L->delivered));
  }
  if (!p0.model.drugs.empty()) {
    // The drug doses given during the run (plots mark them, like the fractions).
    std::ostringstream doses;
    doses.precision(9);
    doses << "time_s,time_h,drug,amount_mg\n";
    for (const Drug& d : p0.model.drugs)
      for (const pk::Dose& x : d.doses)
        if (x.time_s <= p0.time.t_end)
          doses << x.time_s << ',' << x.time_s / 3600 << ',' << d.name << ',' << x.amount_mg << '\n';
    write_text_atomic(w / "drug_doses.csv", doses.str());
  }
  std::vector<Simulation*> sims;
  for (auto& L : lesions_) sims.push_back(L->sim.get());
  const auto wall0 = std::chrono::steady_clock::now();
  const double checkpoint_every = lesions_[0]->ls.checkpoint_every;
  for (size_t si = first_stop_; si < stops_.size(); ++si) {
    const Stop& st = stops_[si];
    Landing landing;
    landing.before_events = st.when == Stop::kBefore;
    landing.reestimate = fresh_interval_;
    if (st.t > sims[0]->time()) fresh_interval_ = false;
    Simulation::advance_together(
        sims, st.t,
        [&](double t) {
          if (reporter_) reporter_->progress(t, sims[0]->steps(), false);
        },
        landing, coupling_);
    record_steps();
    for (Simulation* s : sims) s->check_state();  // at every stop, the last one (the end) included
    if (st.when == Stop::kOutput) {
      char name[32];
      std::snprintf(name, sizeof name, "fields_%04zu.vti", n_);
      for (auto& lp : lesions_) {
        Lesion& L = *lp;
        const Problem& p = L.ls.problem;
        L.write_volume(name, st.t);
        L.pvd.emplace_back(st.t / L.time_scale, name);
        write_pvd((L.dir / "fields.pvd").string(), L.pvd);
        std::vector<std::vector<Stats>> dose_stats;
        if (L.rt)
          for (const auto* q : {&L.acc->physical_Gy(), &L.acc->bed_Gy(), &L.acc->eqd2_Gy()})
            dose_stats.push_back(scope_stats(p, *q));
        const auto stats = compute_observables(p, L.state);
        L.csv += observables_row(st.t, stats, L.totals, dose_stats, p.model.burden);
        if (!p.model.burden.empty()) L.burden.push_back(burden_total(stats, L.totals, p.model.burden, 0));
        write_text_atomic(L.dir / "observables.csv", L.csv);
      }
      if (!patient_.single()) write_patient_block(n_, st.t);
      if (coupling_) {
        coupling_->record_output(st.t);
        write_coupling_files();
      }
      ++n_;
      fresh_interval_ = true;
    } else {
      const bool before = st.when == Stop::kBefore;
      const std::string name = st.what + "_" + exact_seconds(st.t) + "s_" + (before ? "before" : "after") + ".vti";
      for (auto& lp : lesions_) {
        Lesion& L = *lp;
        L.write_volume(name, st.t);
        auto& series = before ? L.pvd_before : L.pvd_after;
        series.emplace_back(st.t / L.time_scale, name);
        write_pvd((L.dir / (before ? "events_before.pvd" : "events_after.pvd")).string(), series);
        L.events_csv += exact_seconds(st.t) + "," + human_time(st.t) + "," + (before ? "before," : "after,") +
                        st.events + "," + name + "\n";
        write_text_atomic(L.dir / "events.csv", L.events_csv);
      }
      ++event_volumes_;
    }
    if (reporter_) {
      if (st.when == Stop::kOutput) reporter_->progress(st.t, sims[0]->steps(), true);
      reporter_->stop_done(st.t);
    }
    if (checkpoint_every > 0 && si + 1 < stops_.size() && st.t - last_checkpoint_ >= checkpoint_every) {
      last_checkpoint_ = st.t;
      write_checkpoint(si + 1);
    }
  }
  std::error_code rm_ec;
  fs::remove(w / kCheckpointFile, rm_ec);  // a finished run has no use for it
  wall_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  const Simulation& sim = *sims[0];
  const Backend& backend = *lesions_[0]->backend;
  std::ostringstream prov;
  prov << "{\n"
       << "  \"tmesim_version\": " << json_quote(version()) << ",\n"
       << "  \"git_hash\": " << json_quote(git_hash()) << ",\n"
       << "  \"git_dirty\": " << (git_dirty() ? "true" : "false") << ",\n"
       << "  \"precision\": " << json_quote(sizeof(real) == 4 ? "float32" : "float64") << ",\n"
       << "  \"backend\": " << json_quote(backend.name()) << ",\n"
       << "  \"device\": " << json_quote(backend.device()) << ",\n"
       << "  \"command_line\": " << json_quote(origin_.command_line) << ",\n"
       << "  \"scene\": " << json_quote(origin_.scene_given) << ",\n"
       << "  \"overrides\": " << json_list(origin_.set) << ",\n"
       << "  \"until\": " << (origin_.until.empty() ? std::string("null") : json_quote(origin_.until)) << ",\n"
       << "  \"seed\": " << p0.seed << ",\n"
       << "  \"integrator\": " << json_quote(integrator_name(p0.time.integrator)) << ",\n";
  if (!patient_.single()) {
    std::vector<std::string> names;
    for (const auto& L : lesions_) names.push_back(L->name);
    prov << "  \"lesions\": " << json_list(names) << ",\n";
  }
  prov << "  \"steps\": " << sim.steps() << ",\n"
       << "  \"fractions_delivered\": " << sim.fractions_applied() << ",\n"
       << "  \"step_max_s\": " << std::setprecision(17) << sim.dt_max() << ",\n"
       << "  \"wall_time_s\": " << std::setprecision(6) << wall_ << ",\n"
       << "  \"resumed\": "
       << (resuming_ ? "{\"from_time_s\": " + exact_seconds(resumed_at_) + ", \"command_line\": " +
                           json_quote(resume_command_) + ", \"at\": " + json_quote(resume_at_) + "}"
                     : std::string("null"))
       << ",\n"
       << "  \"start_time\": " << json_quote(origin_.started) << ",\n"
       << "  \"end_time\": " << json_quote(utc_now()) << "\n"
       << "}\n";
  write_text_atomic(w / "provenance.json", prov.str());
}

}  // namespace tme
