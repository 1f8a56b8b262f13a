// Full-model step cost: a 17-field tumour-microenvironment model with the term mix
// of scenes/models/tme.yaml (built here in code so the GPU bundle needs no YAML), on every
// available backend. Reports, per pass and for one whole step:
//   ms per step, Mvox/s, bytes moved per voxel-step as counted below, and the effective GB/s
//   against a copy of the whole state (the bandwidth reference of the same backend).
// Minimum traffic of a step: every field read once and written once = 2 * 17 * sizeof(real)
// bytes per voxel. The passes move: transport 2 * 17 * sizeof(real) (neighbours from cache),
// reactions 2 * nlocal * sizeof(real), chemotaxis (2 signal/cell reads + 1 write + copy back)
// per moving population.
//   usage: model_step [N=128] [steps=3] [dt_s=600] [backend=all|cpu|cuda]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/simulation.hpp"
#include "kernels/implicit.hpp"
#include "tests/support/reference_model.hpp"

namespace {

using namespace tme;
using namespace tme::ref_model;
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(const std::string& name, int n, int steps, double dt) {
  Problem p = reference_tme_problem(n);
  auto b = make_backend(name);
  b->load(p);
  const std::vector<double> g = {300, 0, 50, 500};
  // warm-up (also first-touch and factor tables)
  b->react(dt, g);
  b->implicit_steps(Scheme::kLodEuler, dt, 1);
  b->chemotaxis(dt);
  b->finish();  // CUDA queues its work: every timing below waits for its end
  std::vector<real> state;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) b->implicit_steps(Scheme::kLodEuler, dt, 1);
  b->finish();
  const double t_tr = seconds_since(t0) / steps;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) b->react(dt, g);
  b->finish();
  const double t_re = seconds_since(t0) / steps;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) b->chemotaxis(dt);
  b->finish();
  const double t_ch = seconds_since(t0) / steps;
  b->read_state(state);
  for (real v : state)
    if (!(v >= 0)) {
      std::printf("negative or NaN value after the benchmark steps\n");
      std::exit(1);
    }
  // Copy reference: the whole state read and written once (write_state + read_state are host
  // transfers, so use an on-device/on-host explicit step of a pure-copy problem instead).
  Problem cp = make_uniform_problem({n, n, n}, 20, kN, 0, 0);
  auto bc = make_backend(name);
  bc->load(cp);
  bc->explicit_steps(1, 1);
  bc->finish();
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) bc->explicit_steps(1, 1);
  bc->finish();
  const double t_cp = seconds_since(t0) / steps;

  const double nv = double(p.grid.nvox());
  const LocalReactions lr = build_local_reactions(p.model, kN);
  const double bytes_min = 2.0 * kN * sizeof(real);
  const double bytes_re = 2.0 * lr.args.nlocal * sizeof(real);
  const double bytes_ch = 4.0 * sizeof(real) * p.model.chemotaxis.size();
  const double gb_ref = nv * bytes_min / t_cp * 1e-9;
  std::printf("\n%s (%s), %d^3 x %d fields, %zu terms, dt %.0f s\n", name.c_str(), b->device().c_str(), n, kN,
              p.model.terms.size(), dt);
  std::printf("%-34s %10s %10s %12s %8s %10s\n", "pass", "ms/step", "Mvox/s", "bytes/voxel", "GB/s", "of copy");
  auto row = [&](const char* what, double t, double bytes) {
    const double gbs = nv * bytes / t * 1e-9;
    std::printf("%-34s %10.1f %10.1f %12.0f %8.1f %9.0f%%\n", what, 1e3 * t, nv / t * 1e-6, bytes, gbs,
                100 * gbs / gb_ref);
  };
  row("transport (LOD, 17 fields)", t_tr, bytes_min);
  row("reactions (20 terms)", t_re, bytes_re);
  row("chemotaxis (2 populations)", t_ch, bytes_ch);
  row("whole step", t_tr + t_re + t_ch, bytes_min + bytes_re + bytes_ch);
  row("streaming reference (explicit, D = 0)", t_cp, bytes_min);
  std::printf("minimum traffic per voxel-step: %.0f bytes (each field read and written once)\n", bytes_min);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 128;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 3;
  const double dt = argc > 3 ? std::atof(argv[3]) : 600;
  const std::string which = argc > 4 ? argv[4] : "all";
  if (which == "all" || which == "cpu") run("cpu", n, steps, dt);
  std::string why;
  if ((which == "all" || which == "cuda") && cuda_available(&why))
    run("cuda", n, steps, dt);
  else if (which == "cuda")
    std::printf("cuda: %s\n", why.c_str());
  return 0;
}
