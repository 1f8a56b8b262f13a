// Cost of the systemic compartments in a step of several lesions: a patient scene (default
// bench/scenes/systemic_2x64.yaml: 2 lesions of 64^3 on scenes/models/tme.yaml, LOD, 1 h
// steps, one lymph node) stepped with Simulation::advance_together, once as written (with its
// lymph nodes and the StepCoupling that connects them) and once without its `lymph_nodes:`
// section (the last key of the file; the blood inputs keep their prescribed levels, no
// coupling), in interleaved rounds: without, with, with, without, ... Each round advances both
// by `steps` steps from where they are.
//
// Reported per round: wall ms per step of each variant and their ratio, the load average; at
// the end the medians and minima. The coupling's own share is also timed directly, since on a
// loaded machine the difference of two wall times is noisier than the few per cent it measures:
//   - the coupling's calls (input_means, after_step: the compartments' ODEs, the step means),
//     timed inside the run through a wrapper;
//   - the reductions the stepper makes for it (Backend::field_sums of reduced_fields() on every
//     lesion, once per step), timed apart on the same backends, `reps` times.
// Their sum per step against the step without the compartments is the systemic share.
//
// The coupling is the run's (SystemicCoupling: blood inputs from the compartments, influx
// tallies, nodes inside lesions releasing there); a scene whose model has no kSystemic input
// is measured with a stand-in coupling doing the same work per step: the totals of
// the antigen, CD8 and Treg fields, J_l from the antigen totals, systemic::advance for the
// nodes with the plasma anti-CTLA-4 step mean.
//   usage: systemic_step [SCENE] [steps=4] [rounds=6] [backend=cpu|cuda] [reps=50]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/coupling.hpp"
#include "host/core/pk.hpp"
#include "host/core/simulation.hpp"
#include "host/core/systemic.hpp"
#include "host/run/systemic_coupling.hpp"
#include "host/scene/patient.hpp"

namespace {

using namespace tme;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU time of the process, all threads [s]: less sensitive to other processes than wall time.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

int field_index(const Problem& p, const std::string& name) {
  for (int i = 0; i < p.nspecies(); ++i)
    if (p.species[size_t(i)].name == name) return i;
  throw std::runtime_error("the scene's model has no field '" + name + "'");
}

// The work the systemic coupling does per step, for a model whose blood inputs are not yet
// kSystemic: field totals (by the stepper), J_l, the compartments' ODEs over the step.
class StandInCoupling : public StepCoupling {
 public:
  StandInCoupling(const Problem& p, const LoadedSystemic& s)
      : p_(p), m_(s.model), c_(s.coupling), st_(systemic::initial_state(s.model, s.coupling)) {
    reduced_ = {c_.antigen_field, field_index(p, "CD8"), field_index(p, "Treg")};
    in_.antigen_drained_nmol_per_s.assign(size_t(m_.nlesions), 0.0);
    in_.effector_influx_cells.assign(size_t(m_.nlesions), 0.0);
    in_.treg_influx_cells.assign(size_t(m_.nlesions), 0.0);
  }
  std::vector<int> reduced_fields() const override { return reduced_; }
  void input_means(int, double, double, std::vector<double>& g) override {
    for (size_t i = 0; i < g.size(); ++i)
      if (p_.model.globals[i].kind == GlobalInput::Kind::kSystemic)
        g[i] = int(i) == c_.treg_input ? out_.treg_blood_mean_per_mL : out_.effector_blood_mean_per_mL;
  }
  void after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) override {
    for (size_t l = 0; l < totals.size(); ++l)
      in_.antigen_drained_nmol_per_s[l] = systemic::antigen_drained_nmol_per_s(c_, totals[l][0] * 1e9);
    in_.antiCTLA4_plasma_nM = 0;
    if (c_.antiCTLA4_drug >= 0) {
      const Drug& d = p_.model.drugs[size_t(c_.antiCTLA4_drug)];
      in_.antiCTLA4_plasma_nM = pk::plasma_mean_nM(d.pk, d.doses, t0, t1);
    }
    out_ = systemic::advance(m_, st_, t0, t1, in_);
  }

 private:
  const Problem& p_;
  systemic::SystemicModel m_;
  systemic::Coupling c_;
  systemic::SystemicState st_;
  systemic::StepInputs in_;
  systemic::StepOutputs out_;
  std::vector<int> reduced_;
};

// Times the calls into another coupling.
class TimedCoupling : public StepCoupling {
 public:
  explicit TimedCoupling(StepCoupling& inner) : inner_(inner) {}
  std::vector<int> reduced_fields() const override { return inner_.reduced_fields(); }
  void input_means(int l, double t0, double t1, std::vector<double>& g) override {
    const auto t = Clock::now();
    inner_.input_means(l, t0, t1, g);
    seconds += seconds_since(t);
  }
  void after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) override {
    const auto t = Clock::now();
    inner_.after_step(t0, t1, totals);
    seconds += seconds_since(t);
    ++steps;
  }
  double seconds = 0;
  long long steps = 0;

 private:
  StepCoupling& inner_;
};

struct Variant {
  LoadedPatient patient;
  std::vector<std::unique_ptr<Backend>> backends;
  std::vector<std::unique_ptr<Simulation>> sims;
  std::vector<Simulation*> ptrs;
  Variant(LoadedPatient p, const std::string& backend) : patient(std::move(p)) {
    for (const LoadedScene& s : patient.lesions) {
      backends.push_back(make_backend(backend));
      backends.back()->load(s.problem);
      sims.push_back(std::make_unique<Simulation>(s.problem, *backends.back()));
      ptrs.push_back(sims.back().get());
    }
  }
  // Advances by `steps` steps of dt_max (lockstep); returns wall seconds per step and sets
  // cpu to the process CPU seconds per step.
  double advance(int steps, StepCoupling* coupling, double& cpu) {
    const double t1 = ptrs[0]->time() + steps * ptrs[0]->dt_max();
    const double c0 = process_cpu_seconds();
    const auto t0 = Clock::now();
    Simulation::advance_together(ptrs, t1, {}, {}, coupling);
    for (auto& b : backends) b->finish();
    cpu = (process_cpu_seconds() - c0) / steps;
    return seconds_since(t0) / steps;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run(const std::string& scene, int steps, int rounds, const std::string& backend, int reps) {
  std::ifstream f(scene);
  if (!f) throw std::runtime_error("cannot read " + scene);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  const size_t cut = text.find("\nlymph_nodes:");
  if (cut == std::string::npos) throw std::runtime_error(scene + ": no top-level lymph_nodes: key to leave out");
  const std::string dir = scene.substr(0, scene.find_last_of('/') + 1);
  Variant with(load_patient(scene), backend);
  Variant without(load_patient_text(text.substr(0, cut + 1), scene, dir.empty() ? "." : dir), backend);
  if (!with.patient.systemic()) throw std::runtime_error(scene + ": no systemic compartments");
  const Problem& p0 = with.patient.lesions[0].problem;
  bool connected = false;
  for (const GlobalInput& g : p0.model.globals) connected = connected || g.kind == GlobalInput::Kind::kSystemic;
  // The run's coupling (host/run/systemic_coupling.hpp) when the blood inputs are systemic.
  std::unique_ptr<SystemicCoupling> real;
  std::unique_ptr<StandInCoupling> stand_in;
  StepCoupling* inner = nullptr;
  if (connected) {
    real = make_systemic_coupling(with.patient);
    std::vector<Backend*> backends;
    for (auto& b : with.backends) backends.push_back(b.get());
    real->attach(backends);
    inner = real.get();
  } else {
    stand_in = std::make_unique<StandInCoupling>(p0, *with.patient.systemic());
    inner = stand_in.get();
  }
  TimedCoupling coupling(*inner);
  const GridSpec& g0 = p0.grid;
  std::printf("%s: %zu lesions of %d x %d x %d, %d fields, %zu nodes, %s backend (%s), step %.0f s\n", scene.c_str(),
              with.patient.lesions.size(), g0.d.nx, g0.d.ny, g0.d.nz, p0.nspecies(),
              with.patient.systemic()->model.nodes.size(), backend.c_str(), with.backends[0]->device().c_str(),
              with.ptrs[0]->dt_max());
  std::printf("coupling: %s\n", connected ? "the run's" : "stand-in (field totals + systemic::advance per step)");
  // warm-up: one step each
  double ca = 0, cb = 0;
  without.advance(1, nullptr, ca);
  with.advance(1, &coupling, cb);
  coupling.seconds = 0;
  coupling.steps = 0;
  std::vector<double> tw, tn, ratio, cw, cn, cratio;
  std::printf("%6s %16s %16s %8s %18s %18s %8s %8s\n", "round", "without [ms/st]", "with [ms/st]", "ratio",
              "without [cpu ms/st]", "with [cpu ms/st]", "ratio", "load");
  for (int r = 0; r < rounds; ++r) {
    double a, b;
    if (r % 2 == 0) {
      a = without.advance(steps, nullptr, ca);
      b = with.advance(steps, &coupling, cb);
    } else {
      b = with.advance(steps, &coupling, cb);
      a = without.advance(steps, nullptr, ca);
    }
    tn.push_back(a);
    tw.push_back(b);
    ratio.push_back(b / a);
    cn.push_back(ca);
    cw.push_back(cb);
    cratio.push_back(cb / ca);
    std::printf("%6d %16.1f %16.1f %8.3f %18.1f %18.1f %8.3f %8.2f\n", r, 1e3 * a, 1e3 * b, b / a, 1e3 * ca, 1e3 * cb,
                cb / ca, load_average());
  }
  // The reductions the stepper makes for the coupling, on the same backends.
  const std::vector<int> reduced = coupling.reduced_fields();
  std::vector<double> sums;
  const auto t0 = Clock::now();
  for (int q = 0; q < reps; ++q)
    for (auto& b : with.backends) b->field_sums(reduced, sums);
  for (auto& b : with.backends) b->finish();
  const double t_sums = seconds_since(t0) / reps;
  const double t_coupling = coupling.seconds / double(coupling.steps);
  const double t_step = median(tn);
  double tmin = tn[0];
  for (double x : tn) tmin = std::min(tmin, x);
  std::printf("median: without %.1f ms/step, with %.1f ms/step, ratio of medians %.3f, median ratio %.3f\n",
              1e3 * t_step, 1e3 * median(tw), median(tw) / t_step, median(ratio));
  std::printf("cpu time: median without %.1f ms/step, with %.1f ms/step, median ratio %.3f\n", 1e3 * median(cn),
              1e3 * median(cw), median(cratio));
  std::printf("minimum: without %.1f ms/step, with %.1f ms/step, ratio %.3f\n", 1e3 * tmin,
              1e3 * *std::min_element(tw.begin(), tw.end()), *std::min_element(tw.begin(), tw.end()) / tmin);
  std::printf(
      "systemic part per step: field_sums of %zu fields on %zu lesions %.3f ms, coupling calls %.3f ms "
      "(%lld steps), total %.3f ms = %.3f%% of the median step without (%.3f%% of the fastest)\n",
      reduced.size(), with.backends.size(), 1e3 * t_sums, 1e3 * t_coupling, coupling.steps, 1e3 * (t_sums + t_coupling),
      100 * (t_sums + t_coupling) / t_step, 100 * (t_sums + t_coupling) / tmin);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string scene = argc > 1 ? argv[1] : TMESIM_SOURCE_DIR "/bench/scenes/systemic_2x64.yaml";
  const int steps = argc > 2 ? std::atoi(argv[2]) : 4;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 6;
  const std::string backend = argc > 4 ? argv[4] : "cpu";
  const int reps = argc > 5 ? std::atoi(argv[5]) : 50;
  if (steps < 1 || rounds < 1 || reps < 1) {
    std::fprintf(stderr, "usage: systemic_step [SCENE] [steps >= 1] [rounds >= 1] [cpu|cuda] [reps >= 1]\n");
    return 2;
  }
  if (backend == "cuda") {
    std::string why;
    if (!cuda_available(&why)) {
      std::printf("cuda: %s\n", why.c_str());
      return 0;
    }
  }
  try {
    return run(scene, steps, rounds, backend, reps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "systemic_step: %s\n", e.what());
    return 1;
  }
}
