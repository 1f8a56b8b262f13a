// CPU and CUDA give the same answer on the same problems (float32: 1e-5 relative).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "host/core/simulation.hpp"
#include "tests/core/backend_param.hpp"

namespace tme::test {
namespace {

// A problem that touches every feature of the engine: labels with per-label D, sources,
// uptake, decay, fixed, no-flux and periodic faces, several species, anisotropic spacing.
Problem feature_problem() {
  const Dims d{40, 24, 16};
  Problem p = make_uniform_problem(d, 10, 3, 50, 1e-3);
  p.grid.h[2] = 15;
  p.label_names = {"normal", "tumour"};
  p.labels.assign(d.nvox(), 0);
  p.nsrc = 1;
  p.src.assign(d.nvox(), real(0));
  p.nupt = 1;
  p.upt.assign(d.nvox(), real(0));
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const long long v = d.index(i, j, k);
        const double r2 = (i - 20.0) * (i - 20.0) + (j - 12.0) * (j - 12.0) + (k - 8.0) * (k - 8.0);
        if (r2 < 36) p.labels[v] = 1, p.src[v] = real(0.05), p.upt[v] = real(0.01);
      }
  for (auto& v : p.initial) v = real(u(rng));
  p.coeffs[0].uses_labels = 1;
  p.coeffs[0].D[0] = 80;
  p.coeffs[0].D[1] = 8;
  p.coeffs[0].src_slot = 0;
  p.coeffs[0].bc[kXm] = {kFixed, real(1.5)};
  p.coeffs[1].upt_slot = 0;
  p.coeffs[1].km = real(0.3);
  for (int f = 0; f < 2; ++f) p.coeffs[1].bc[f] = {kPeriodic, 0};
  p.coeffs[2].D[0] = 0;  // pure reaction species
  p.coeffs[2].decay = real(0.05);
  p.coeffs[2].bc[kZp] = {kFixed, real(0.2)};
  return p;
}

TEST(BackendsAgree, CpuAndCudaMatchOnTheFeatureProblem) {
  std::string why;
  if (!cuda_available(&why)) GTEST_SKIP() << "cuda: " << why;
  const Problem p = feature_problem();
  auto cpu = make_backend("cpu"), gpu = make_backend("cuda");
  std::vector<real> a, b;
  for (auto* be : {cpu.get(), gpu.get()}) {
    be->load(p);
    Simulation sim(p, *be);
    sim.advance_to(30);
    be->read_state(be == cpu.get() ? a : b);
  }
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t v = 0; v < a.size(); ++v)
    worst = std::max(worst, std::abs(double(a[v]) - b[v]) / std::max(1e-3, std::abs(double(a[v]))));
  EXPECT_LE(worst, 1e-5);
}

TEST(BackendsAgree, CpuAndCudaMatchUnderTheCoupledSolves) {
  // be and trbdf2 at 10 s steps (40x the explicit limit of the fastest species) on the feature
  // problem: the CG solves stop at a relative residual of kBeTolerance, so the two backends agree
  // to about that, not to round-off.
  std::string why;
  if (!cuda_available(&why)) GTEST_SKIP() << "cuda: " << why;
  for (Integrator it : {Integrator::kBe, Integrator::kTrBdf2}) {
    Problem p = feature_problem();
    p.time.integrator = it;
    p.time.step = 10;
    auto cpu = make_backend("cpu"), gpu = make_backend("cuda");
    std::vector<real> a, b;
    for (auto* be : {cpu.get(), gpu.get()}) {
      be->load(p);
      Simulation sim(p, *be);
      sim.advance_to(60);
      be->read_state(be == cpu.get() ? a : b);
    }
    ASSERT_EQ(a.size(), b.size());
    double worst = 0;
    for (size_t v = 0; v < a.size(); ++v)
      worst = std::max(worst, std::abs(double(a[v]) - b[v]) / std::max(1e-3, std::abs(double(a[v]))));
    EXPECT_LE(worst, 1e-4) << integrator_name(it);
  }
}

TEST(BackendsAgree, AutoPicksCudaOnlyWhenADeviceExists) {
  auto b = make_backend("auto");
  EXPECT_EQ(b->name(), cuda_available() ? "cuda" : "cpu");
}

TEST(BackendsAgree, UnknownBackendIsRefusedByName) {
  try {
    make_backend("opencl");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "unknown backend 'opencl' (expected auto, cpu or cuda)");
  }
}

TEST(BackendsAgree, CudaRequestWithoutDeviceSaysWhy) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device exists";
  try {
    make_backend("cuda");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("backend 'cuda' is not available: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace tme::test
