// Time to solution: a 12-species scene advanced over many simulated days with a
// large-step integrator, and its accuracy against a fine-step reference over a shorter window.
// The scene: n^3 voxels of 20 um, species with D from 10 to 120 um^2/s, half-lives from
// 12 min to 1 day, a secreting tumour sphere, Michaelis-Menten uptake in it for every third
// species, no-flux walls.
// Usage: time_to_solution [--n 128] [--days 30] [--step-min 10] [--integrator adi|lod]
//                         [--backend cpu|cuda] [--window-h 2] [--ref-div 16]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/simulation.hpp"

namespace {

using tme::real;

tme::Problem scene(int n, tme::Integrator integ, double step_s) {
  const int ns = 12;
  tme::Problem p = tme::make_uniform_problem({n, n, n}, 20, ns, 10, 0);
  const double c = n * 20 / 2.0, r = n * 20 / 6.0;
  p.nsrc = 1;
  p.src.assign(p.grid.nvox(), real(0));
  p.nupt = 1;
  p.upt.assign(p.grid.nvox(), real(0));
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        const double x = p.grid.center(0, i) - c, y = p.grid.center(1, j) - c, z = p.grid.center(2, k) - c;
        if (x * x + y * y + z * z <= r * r) {
          p.src[p.grid.d.index(i, j, k)] = real(1e-3);  // [unit/s]
          p.upt[p.grid.d.index(i, j, k)] = real(5e-4);  // [unit/s]
        }
      }
  for (int s = 0; s < ns; ++s) {
    tme::SpeciesCoeffs& sc = p.coeffs[s];
    sc.D[0] = real(10 + 10 * s);                                           // [um^2/s]
    sc.decay = real(std::log(2.0) / (720.0 * std::pow(120.0, s / 11.0)));  // half-life 12 min .. 1 day
    sc.src_slot = 0;
    if (s % 3 == 0) {
      sc.upt_slot = 0;
      sc.km = real(0.5);
    }
  }
  p.time.integrator = integ;
  p.time.step = step_s;
  return p;
}

double rel_l2(const std::vector<real>& a, const std::vector<real>& b) {
  double num = 0, den = 0;
  for (size_t v = 0; v < a.size(); ++v) {
    const double e = double(a[v]) - b[v];
    num += e * e;
    den += double(b[v]) * b[v];
  }
  return std::sqrt(num / den);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 128, ref_div = 16;
  double days = 30, step_min = 10, window_h = 2;
  std::string backend = "cpu", integ_name = "adi";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n")
      n = std::stoi(v);
    else if (k == "--days")
      days = std::stod(v);
    else if (k == "--step-min")
      step_min = std::stod(v);
    else if (k == "--integrator")
      integ_name = v;
    else if (k == "--backend")
      backend = v;
    else if (k == "--window-h")
      window_h = std::stod(v);
    else if (k == "--ref-div")
      ref_div = std::stoi(v);
  }
  tme::Integrator integ;
  if (!tme::parse_integrator(integ_name, &integ)) {
    std::fprintf(stderr, "unknown integrator %s\n", integ_name.c_str());
    return 2;
  }
  const double step = step_min * 60;
  auto b = tme::make_backend(backend);
  std::printf("backend %s (%s); %d^3 x 12 species, integrator %s, step %.3g min\n", b->name().c_str(),
              b->device().c_str(), n, integ_name.c_str(), step_min);

  // Accuracy over a short window against the same integrator at step / ref_div.
  const double window = window_h * 3600;
  std::vector<real> coarse, fine;
  {
    tme::Problem p = scene(n, integ, step);
    b->load(p);
    tme::Simulation sim(p, *b);
    sim.advance_to(window);
    b->read_state(coarse);
    tme::Problem q = scene(n, integ, step / ref_div);
    b->load(q);
    tme::Simulation simq(q, *b);
    simq.advance_to(window);
    b->read_state(fine);
  }
  std::printf("accuracy over %.3g h: relative L2 difference to step/%d: %.3e\n", window_h, ref_div,
              rel_l2(coarse, fine));

  tme::Problem p = scene(n, integ, step);
  b->load(p);
  tme::Simulation sim(p, *b);
  const auto t0 = std::chrono::steady_clock::now();
  sim.advance_to(days * 86400);
  b->finish();  // CUDA queues its work: time it to its end
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.3g simulated days: %lld steps, wall %.1f s (%.3f s/step)\n", days, sim.steps(), wall,
              wall / sim.steps());
  return 0;
}
