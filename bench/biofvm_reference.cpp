// The BioFVM-comparable reference problem: 20 um voxels, D = 1e5 um^2/min,
// decay 0.1 1/min, no-flux box, 1 and 10 substrates on 100^3 and 200^3 grids.
//   1. Speed: time per step at dt = 0.01 min (BioFVM's step) for every integrator and
//      backend, with voxel-substrate updates per second.
//   2. Accuracy: relative L2 error of a Gaussian pulse (sigma 100 um, T = 0.64 min,
//      dx = 20 um, 200^3 box) against the exact solution, per integrator and step.
//   3. Cost of one simulated minute of 100^3 x 10 at the largest step whose pulse error is
//      no larger than BioFVM 1.0.4's (0.88% at dt = 0.01 min, measured on this machine type).
// Usage: biofvm_reference [--quick] [--backend cpu|cuda]   (prints Markdown tables)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/simulation.hpp"

namespace {

using tme::Integrator;
using tme::Problem;
using tme::real;

constexpr double kD = 1e5 / 60.0;    // [um^2/s]  = 1e5 um^2/min
constexpr double kDecay = 0.1 / 60;  // [1/s]     = 0.1 1/min
constexpr double kH = 20;            // [um]
constexpr double kBiofvmError = 0.0088;
constexpr double kBiofvmSecondsPerMinute = 12.9;  // 100^3 x 10, 2 threads, dt = 0.01 min

Problem reference_problem(int n, int ns, Integrator integ, double dt) {
  Problem p = tme::make_uniform_problem({n, n, n}, kH, ns, kD, kDecay);
  p.time.integrator = integ;
  p.time.step = dt;
  p.time.max_step = dt;
  p.time.t_end = 60;
  p.time.output_every = 60;
  return p;
}

double seconds_per_step(const std::string& backend, int n, int ns, Integrator integ, double dt, int steps) {
  Problem p = reference_problem(n, ns, integ, dt);
  for (size_t v = 0; v < p.initial.size(); v += 13) p.initial[v] = real(1);
  auto b = tme::make_backend(backend);
  b->load(p);
  tme::Simulation sim(p, *b);
  sim.advance_to(dt);  // warm-up (one step)
  b->finish();
  const auto t0 = std::chrono::steady_clock::now();
  sim.advance_to(dt * (1 + steps));
  b->finish();  // CUDA queues its work: time it to its end
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s / steps;
}

double pulse_error(const std::string& backend, Integrator integ, double dt) {
  const int n = 200;
  const double sigma0 = 100, T = 0.64 * 60, L = n * kH;
  Problem p = reference_problem(n, 1, integ, dt);
  auto r2 = [&](int i, int j, int k) {
    const double x = p.grid.center(0, i) - L / 2, y = p.grid.center(1, j) - L / 2, z = p.grid.center(2, k) - L / 2;
    return x * x + y * y + z * z;
  };
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
        p.initial[p.grid.d.index(i, j, k)] = real(std::exp(-r2(i, j, k) / (2 * sigma0 * sigma0)));
  auto b = tme::make_backend(backend);
  b->load(p);
  tme::Simulation sim(p, *b);
  sim.advance_to(T);
  std::vector<real> c;
  b->read_state(c);
  const double s2 = sigma0 * sigma0 + 2 * kD * T;
  double num = 0, den = 0;
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        const double exact =
            std::pow(sigma0 * sigma0 / s2, 1.5) * std::exp(-r2(i, j, k) / (2 * s2)) * std::exp(-kDecay * T);
        const double e = c[p.grid.d.index(i, j, k)] - exact;
        num += e * e;
        den += exact * exact;
      }
  return std::sqrt(num / den);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string backend = "cpu";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    else if (!std::strcmp(argv[i], "--backend") && i + 1 < argc)
      backend = argv[++i];
  }
  auto be = tme::make_backend(backend);
  std::printf("backend %s (%s)\n\n", be->name().c_str(), be->device().c_str());

  const double dt_ref = 0.6;  // 0.01 min [s]
  std::printf(
      "## Time per step at dt = 0.01 min\n\n| grid | substrates | integrator | ms/step | voxel-substrate updates/s "
      "|\n|---|---:|---|---:|---:|\n");
  for (int n : {100, 200}) {
    if (quick && n == 200) continue;
    for (int ns : {1, 10}) {
      for (Integrator integ : {Integrator::kLod, Integrator::kAdi}) {
        const int steps = n == 200 && ns == 10 ? 3 : 10;
        const double s = seconds_per_step(backend, n, ns, integ, dt_ref, steps);
        std::printf("| %d^3 | %d | %s | %.1f | %.3g |\n", n, ns, tme::integrator_name(integ), s * 1e3,
                    double(n) * n * n * ns / s);
      }
    }
  }

  std::printf(
      "\n## Gaussian pulse (sigma 100 um, T = 0.64 min, dx 20 um): relative L2 error\n\n| integrator | dt [min] | "
      "error |\n|---|---:|---:|\n");
  double best_dt[2] = {0, 0};
  const std::vector<double> dts_min =
      quick ? std::vector<double>{0.01, 0.04} : std::vector<double>{0.01, 0.02, 0.04, 0.08, 0.16};
  for (Integrator integ : {Integrator::kLod, Integrator::kAdi}) {
    for (double dtm : dts_min) {
      const double e = pulse_error(backend, integ, dtm * 60);
      std::printf("| %s | %.2f | %.3f%% |\n", tme::integrator_name(integ), dtm, 100 * e);
      if (e <= kBiofvmError) best_dt[integ == Integrator::kAdi] = dtm * 60;
    }
  }

  std::printf(
      "\n## One simulated minute of 100^3 x 10 at the largest step with error <= %.2f%%\n\n| integrator | dt [min] | s "
      "per simulated minute | speed-up vs BioFVM 1.0.4 (%.1f s) |\n|---|---:|---:|---:|\n",
      100 * kBiofvmError, kBiofvmSecondsPerMinute);
  for (Integrator integ : {Integrator::kLod, Integrator::kAdi}) {
    const double dt = best_dt[integ == Integrator::kAdi];
    if (dt <= 0) {
      std::printf("| %s | - | no tested step meets the error | - |\n", tme::integrator_name(integ));
      continue;
    }
    const double s = seconds_per_step(backend, 100, 10, integ, dt, 5) * (60.0 / dt);
    std::printf("| %s | %.2f | %.2f | %.1fx |\n", tme::integrator_name(integ), dt / 60, s, kBiofvmSecondsPerMinute / s);
  }
  return 0;
}
