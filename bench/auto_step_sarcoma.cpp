// Step 'auto' on the sarcoma example: the step the controller chooses at a few states of the
// run against the largest step whose one-step error from the same state meets the tolerance
// (docs/performance.md, "Step `auto`"; the line-problem version is tests/core/test_auto_step.cpp).
//
// The scene (default scenes/sarcoma_rt_antipd1.yaml) is loaded with time.integrator=trbdf2,
// time.model_terms=in_solve, time.step=auto, time.tolerance=TOL and advanced as `tmesim run`
// advances it (to every output time, the fractions and doses as step boundaries) to END.
//
//   auto_step_sarcoma run DIR [TOL=1e-1] [END_D=8] [SCENE]
//     the run: the first proposal, every attempted step (DIR/steps.csv), the accepted and
//     rejected counts, the steps in the first hour, CD8 in the tumour and the burden at each
//     day (DIR/days.csv), and the state at the start of the first accepted step at or after
//     each of t = 1 h, 1 d, 4 d, 6.9 d and 1 h after the first fraction that is not shortened to
//     land on a stop or event (DIR/state_K.bin: time, fractions applied, the step the
//     controller took from there, the state).
//   auto_step_sarcoma bisect DIR [TOL=1e-1] [SUBSTEPS=16] [K...] [check] [SCENE=...]
//     for each saved state K (default all): the largest step h from it whose one-step error is
//     at most TOL (bisection on log h to 5%, between the next event and below), the error in the
//     controller's norm (step_error without its (1 - 2^-p) factor: per-field relative L2 with
//     the field's floor, the largest over the fields) of one step of h against SUBSTEPS steps
//     of h / SUBSTEPS of the same integrator from the same state. Prints chosen / largest per
//     state; with `check`, at the step found also the error against 2 x SUBSTEPS steps and the
//     difference of the two references (the reference converged: it is small).
//
// Each step of the 48^3 x 18-field scene costs about 1-2 s on 2 CPU threads: the run to 8 d
// about 500 steps of work (three per accepted step), a bisection about 8 x (1 + SUBSTEPS).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "host/scene/scene.hpp"

namespace {

using namespace tme;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

LoadedScene load(const std::string& scene, double tol) {
  SceneOverrides o;
  o.set = {"time.integrator=trbdf2", "time.model_terms=in_solve", "time.step=auto",
           "time.tolerance=" + std::to_string(tol)};
  return load_scene(scene, Machine{}, o);
}

int field_index(const Problem& p, const std::string& name) {
  for (int i = 0; i < p.nspecies(); ++i)
    if (p.species[size_t(i)].name == name) return i;
  throw std::runtime_error("the scene's model has no field '" + name + "'");
}

int region_index(const Problem& p, const std::string& name) {
  for (size_t r = 0; r < p.regions.size(); ++r)
    if (p.regions[r].name == name) return int(r);
  throw std::runtime_error("the scene has no region '" + name + "'");
}

struct Saved {
  double t = 0;         // [s]
  int fractions = 0;    // applied
  double chosen = 0;    // the accepted step from t [s]
  int lands = 0;        // 1: that step was shortened to land on a stop or event
  std::vector<real> y;  // the state
};

void write_saved(const std::string& path, const Saved& s) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    const unsigned long long n = s.y.size();
    f.write(reinterpret_cast<const char*>(&s.t), sizeof s.t);
    f.write(reinterpret_cast<const char*>(&s.fractions), sizeof s.fractions);
    f.write(reinterpret_cast<const char*>(&s.chosen), sizeof s.chosen);
    f.write(reinterpret_cast<const char*>(&s.lands), sizeof s.lands);
    f.write(reinterpret_cast<const char*>(&n), sizeof n);
    f.write(reinterpret_cast<const char*>(s.y.data()), std::streamsize(n * sizeof(real)));
    if (!f) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename " + tmp);
}

bool read_saved(const std::string& path, Saved& s) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  unsigned long long n = 0;
  f.read(reinterpret_cast<char*>(&s.t), sizeof s.t);
  f.read(reinterpret_cast<char*>(&s.fractions), sizeof s.fractions);
  f.read(reinterpret_cast<char*>(&s.chosen), sizeof s.chosen);
  f.read(reinterpret_cast<char*>(&s.lands), sizeof s.lands);
  f.read(reinterpret_cast<char*>(&n), sizeof n);
  s.y.resize(n);
  f.read(reinterpret_cast<char*>(s.y.data()), std::streamsize(n * sizeof(real)));
  if (!f) throw std::runtime_error("damaged state file " + path);
  return true;
}

int run(const std::string& dir, double tol, double end_d, const std::string& scene) {
  const LoadedScene ls = load(scene, tol);
  const Problem& p = ls.problem;
  auto b = make_backend("cpu");
  b->load(p);
  const auto t0 = Clock::now();
  Simulation sim(p, *b);
  std::printf("first proposal %.6g s (%.1f s to choose)\n", sim.dt_max(), seconds_since(t0));
  const double end = end_d * 86400;
  std::vector<double> targets{3600, 86400, 4 * 86400, 6.9 * 86400};
  if (!p.model.fractions.empty() && p.model.fractions[0].time_s + 3600 < end)
    targets.push_back(p.model.fractions[0].time_s + 3600);
  std::sort(targets.begin(), targets.end());
  std::vector<double> stops;  // every output time up to end, and end
  for (double t : sim.output_times())
    if (t > 0 && t < end) stops.push_back(t);
  stops.push_back(end);
  std::vector<double> ends = stops;  // where a step may be shortened to land
  for (double e : event_times(p.model)) ends.push_back(e);
  // After every accepted step (t: its end): the candidate state of the next target is kept
  // when the accepted step from it was not shortened to land on a stop or event; else the
  // next state is tried.
  std::vector<Saved> saved;
  Saved cand;
  bool have_cand = false;
  std::vector<real> c;
  const auto capture = [&](double t) {
    if (have_cand) {
      const std::vector<StepRecord>& log = sim.step_log();
      for (size_t i = log.size(); i-- > 0;) {
        const StepRecord& r = log[i];
        if (r.rejected || r.t != cand.t) continue;
        cand.chosen = r.dt;
        cand.lands = 0;
        for (double e : ends)
          if (std::abs(r.t + r.dt - e) <= 1e-9 * e) cand.lands = 1;
        break;
      }
      if (cand.chosen > 0) {
        have_cand = false;
        if (!cand.lands) {
          saved.push_back(cand);
          std::printf("state %zu at t = %.6g s (%.4g d), chosen step %.6g s\n", saved.size() - 1, cand.t,
                      cand.t / 86400, cand.chosen);
          std::fflush(stdout);
        }
      }
    }
    if (!have_cand && saved.size() < targets.size() && t >= targets[saved.size()] && t < end) {
      b->read_state(c);
      cand = Saved{t, sim.fractions_applied(), 0, 0, c};
      have_cand = true;
    }
  };
  const int cd8 = field_index(p, "CD8");
  const int tumour = region_index(p, "tumour");
  std::string days = "t_d,CD8_tumour_cells,burden_cells\n";
  for (double stop : stops) {
    sim.advance_to(stop, capture);
    capture(stop);
    b->read_state(c);
    const auto stats = compute_observables(p, c);
    double burden = 0;  // populations in cells/mm^3: [cells/mm^3 um^3] x 1e-9 = cells
    for (int s : p.model.burden) burden += stats[size_t(s)][0].total * 1e-9;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.10g,%.10g,%.10g\n", stop / 86400,
                  stats[size_t(cd8)][size_t(1 + tumour)].total * 1e-9, burden);
    days += buf;
    std::printf("t = %.4g d: %lld steps, %.0f s\n", stop / 86400, sim.steps(), seconds_since(t0));
    std::fflush(stdout);
  }
  long long accepted = 0, rejected = 0, first_hour = 0;
  std::string steps = "t_s,dt_s,error,rejected,field\n";
  for (const StepRecord& r : sim.step_log()) {
    (r.rejected ? rejected : accepted) += 1;
    if (!r.rejected && r.t < 3600) ++first_hour;
    char buf[200];
    std::snprintf(buf, sizeof buf, "%.17g,%.17g,%.6g,%s,%s\n", r.t, r.dt, r.error, r.rejected ? "yes" : "no",
                  r.field >= 0 ? p.species[size_t(r.field)].name.c_str() : "");
    steps += buf;
  }
  std::ofstream(dir + "/steps.csv") << steps;
  std::ofstream(dir + "/days.csv") << days;
  for (size_t k = 0; k < saved.size(); ++k) {
    write_saved(dir + "/state_" + std::to_string(k) + ".bin", saved[k]);
  }
  std::printf("to %.4g d: %lld accepted, %lld rejected, %lld accepted steps in the first hour; %.0f s\n", end_d,
              accepted, rejected, first_hour, seconds_since(t0));
  return 0;
}

// One step of h from saved state s against `n` steps of h / n, both with the scene's
// integrator and splitting on backend b (loaded with p): the error in the controller's norm
// over the tolerance; *worst the field.
struct OneStep {
  const Problem& p;
  Backend& b;
  double tol;
  std::vector<real> run(const Saved& s, double h, int n) {
    Problem q = p;
    q.time.step = h / n;
    q.time.tolerance = 0;
    Simulation sim(q, b);
    sim.restore_step_state({s.t, 0, h / n, s.fractions});
    b.write_state(s.y);
    sim.advance_to(s.t + h);
    std::vector<real> c;
    b.read_state(c);
    return c;
  }
  double error(const Saved& s, const std::vector<real>& one, const std::vector<real>& ref, int* worst) const {
    const double order_factor = 1 - std::pow(2.0, -2);  // trbdf2: p = 2
    return step_error(s.y, one, ref, p.grid.nvox(), step_floors(p), tol, 2, worst) * order_factor;
  }
  double error(const Saved& s, double h, int n, int* worst) {
    const std::vector<real> one = run(s, h, 1), ref = run(s, h, n);
    return error(s, one, ref, worst);
  }
};

int bisect(const std::string& dir, double tol, int n, std::vector<int> which, bool check, const std::string& scene) {
  const LoadedScene ls = load(scene, tol);
  Problem p = ls.problem;
  p.time.step = 3600;  // a fixed-step problem on the backend (the step is set per Simulation)
  p.time.tolerance = 0;
  auto b = make_backend("cpu");
  b->load(p);
  OneStep os{p, *b, tol};
  if (which.empty())
    for (int k = 0;; ++k) {
      Saved s;
      if (!read_saved(dir + "/state_" + std::to_string(k) + ".bin", s)) break;
      which.push_back(k);
    }
  const std::vector<double> events = event_times(p.model);  // fractions and drug doses
  for (int k : which) {
    Saved s;
    if (!read_saved(dir + "/state_" + std::to_string(k) + ".bin", s))
      throw std::runtime_error("no state " + std::to_string(k) + " in " + dir);
    const auto t0 = Clock::now();
    double cap = std::min(p.time.output_every, p.time.t_end);  // the controller's cap
    for (double e : events)
      if (e > s.t) cap = std::min(cap, e - s.t);
    int worst = -1;
    const auto err = [&](double h) {
      const double e = os.error(s, h, n, &worst);
      std::printf("  state %d: h %.6g s: error %.4g x tol (%s) [%.0f s]\n", k, h, e,
                  worst >= 0 ? p.species[size_t(worst)].name.c_str() : "", seconds_since(t0));
      std::fflush(stdout);
      return e;
    };
    // Bracket: err(lo) <= 1 < err(hi), doubling or halving from the chosen step.
    double lo = std::min(s.chosen, cap), hi = 0;
    if (err(lo) > 1) {
      hi = lo;
      while (err(lo /= 2) > 1) hi = lo;
    } else {
      while (lo < cap) {
        const double h = std::min(2 * lo, cap);
        if (err(h) > 1) {
          hi = h;
          break;
        }
        lo = h;
      }
    }
    if (hi == 0) {  // every step up to the cap (the next event or the output interval) passes
      std::printf("state %d: t = %.6g s: chosen %.6g s, every step up to %.6g s (the cap) passes\n", k, s.t, s.chosen,
                  cap);
      continue;
    }
    while (hi / lo > 1.05) {
      const double mid = std::sqrt(lo * hi);
      (err(mid) <= 1 ? lo : hi) = mid;
    }
    const double best = lo;
    std::printf(
        "state %d: t = %.6g s (%.4g d): chosen %.6g s, largest %.6g s (to 5%%), chosen / largest %.3f [%.0f s]\n", k,
        s.t, s.t / 86400, s.chosen, best, s.chosen / best, seconds_since(t0));
    if (check) {  // the reference converged: the error at the step found against 2n sub-steps
      const std::vector<real> one = os.run(s, best, 1);
      const std::vector<real> r1 = os.run(s, best, n), r2 = os.run(s, best, 2 * n);
      int w1 = -1, w2 = -1, w12 = -1;
      const double e1 = os.error(s, one, r1, &w1), e2 = os.error(s, one, r2, &w2), e12 = os.error(s, r1, r2, &w12);
      std::printf(
          "state %d: at %.6g s: error %.4g x tol against %d sub-steps (%s), %.4g against %d (%s); the two "
          "references differ by %.3g x tol (%s) [%.0f s]\n",
          k, best, e1, n, p.species[size_t(w1)].name.c_str(), e2, 2 * n, p.species[size_t(w2)].name.c_str(), e12,
          p.species[size_t(w12)].name.c_str(), seconds_since(t0));
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string def = std::string(TMESIM_SOURCE_DIR) + "/scenes/sarcoma_rt_antipd1.yaml";
    if (argc < 3) {
      std::fprintf(stderr,
                   "usage: auto_step_sarcoma run DIR [TOL=1e-1] [END_D=8] [SCENE]\n"
                   "       auto_step_sarcoma bisect DIR [TOL=1e-1] [SUBSTEPS=16] [K...] [check] [SCENE=path]\n");
      return 2;
    }
    const std::string mode = argv[1], dir = argv[2];
    const double tol = argc > 3 ? std::atof(argv[3]) : 1e-1;
    if (mode == "run") return run(dir, tol, argc > 4 ? std::atof(argv[4]) : 8, argc > 5 ? argv[5] : def);
    if (mode == "bisect") {
      const int n = argc > 4 ? std::atoi(argv[4]) : 16;
      std::vector<int> which;
      std::string scene = def;
      bool check = false;
      for (int i = 5; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("SCENE=", 0) == 0)
          scene = a.substr(6);
        else if (a == "check")
          check = true;
        else
          which.push_back(std::atoi(a.c_str()));
      }
      return bisect(dir, tol, n, which, check, scene);
    }
    std::fprintf(stderr, "auto_step_sarcoma: unknown mode '%s' (run or bisect)\n", mode.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "auto_step_sarcoma: %s\n", e.what());
    return 1;
  }
}
