// Cost of the run-time state check (Backend::first_bad_value: every value finite, >= 0, below
// its bound) against one step, on an N^3 grid: one field with an explicit step, and the
// 17-field reference model with a LOD transport step, on every available backend.
//   usage: state_check [N=64] [reps=20] [backend=all|cpu|cuda]
#include <algorithm>
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
using clk = std::chrono::steady_clock;

template <class F>
double ms_per(int reps, F&& f) {
  f();  // warm-up
  const auto t0 = clk::now();
  for (int r = 0; r < reps; ++r) f();
  return 1e3 * std::chrono::duration<double>(clk::now() - t0).count() / reps;
}

void run(const std::string& name, int n, int reps) {
  {
    Problem p = make_uniform_problem({n, n, n}, 10, 1, 100, 1e-3);
    p.initial.assign(p.initial.size(), real(1));
    auto b = make_backend(name);
    b->load(p);
    const StateLimits lim = state_limits(p);
    const double check = ms_per(reps, [&] { b->first_bad_value(lim.lower, lim.upper); });
    const double step = ms_per(reps, [&] {
      b->explicit_steps(0.01, 1);
      b->finish();
    });
    std::printf("%-5s %3d^3  1 field  explicit step %8.3f ms  check %8.3f ms  (%.1f%% of a step)\n", name.c_str(), n,
                step, check, 100 * check / step);
  }
  {
    Problem p = reference_tme_problem(n);
    auto b = make_backend(name);
    b->load(p);
    const StateLimits lim = state_limits(p);
    const double check = ms_per(reps, [&] { b->first_bad_value(lim.lower, lim.upper); });
    const double step = ms_per(std::max(1, reps / 5), [&] {
      b->implicit_steps(Scheme::kLodEuler, 600, 1);
      b->finish();
    });
    std::printf("%-5s %3d^3 %2d fields lod step      %8.3f ms  check %8.3f ms  (%.1f%% of a step)\n", name.c_str(), n,
                p.nspecies(), step, check, 100 * check / step);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 64;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
  const std::string which = argc > 3 ? argv[3] : "all";
  if (which == "all" || which == "cpu") run("cpu", n, reps);
  if ((which == "all" || which == "cuda") && cuda_available()) run("cuda", n, reps);
  return 0;
}
