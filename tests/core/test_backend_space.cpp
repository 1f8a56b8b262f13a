// The backend template over execution spaces (host/core/backend_impl.hpp): backends keep no
// shared state (two of them stepped in turn give what each gives alone), the explicit CUDA
// kernel's launch configuration covers large grids within CUDA's limits, and device buffers
// name themselves in errors.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "host/core/simulation.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/explicit_launch.hpp"
#include "kernels/implicit.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/error_of.hpp"
#include "tests/support/reference_model.hpp"

namespace tme::test {
namespace {

// The 17-field reference problem at 12^3 voxels with a radiosensitive tumour population, so
// that every operation (reactions, chemotaxis, both implicit schemes, explicit steps,
// fractions, state writes and checks) changes the state.
Problem interleave_problem() {
  Problem p = reference_tme_problem(12);
  p.model.radio_pops = {RadioPopulation{ref_model::kTum, real(0.3), real(0.03), ref_model::kDoom}};
  return p;
}

// One round of operations on a backend: every Backend operation that changes the state, in
// the order Simulation would use them plus a fraction, a state write and a state check (its
// answer appended to `checks`; the explicit steps leave some fields outside their limits on
// this problem, which is fine here: the check must only answer the same in every run).
using Op = std::function<void(Backend&, std::vector<long long>& checks)>;
std::vector<Op> round_ops(const Problem& p, int round) {
  const std::vector<double> g = {300, 0, 50, 500};
  const double dt = 600, dt_explicit = 0.5 * p.explicit_dt_limit();
  std::vector<real> dose(p.grid.nvox());
  for (size_t v = 0; v < dose.size(); ++v) dose[v] = real(1 + 0.1 * double(v % 17) + round);
  const StateLimits lim = state_limits(p);
  return {
      [=](Backend& b, std::vector<long long>&) { b.react(0.5 * dt, g); },
      [=](Backend& b, std::vector<long long>&) { b.implicit_steps(Scheme::kLodEuler, dt, 1); },
      [=](Backend& b, std::vector<long long>&) { b.chemotaxis(dt); },
      [=](Backend& b, std::vector<long long>&) { b.react(0.5 * dt, g); },
      [=](Backend& b, std::vector<long long>&) { b.apply_fraction(dose); },
      [=](Backend& b, std::vector<long long>&) { b.explicit_steps(dt_explicit, 3); },
      [=](Backend& b, std::vector<long long>&) { b.implicit_steps(Scheme::kDouglasAdi, 2 * dt, 2); },
      [=](Backend& b, std::vector<long long>&) {
        std::vector<real> s;
        b.read_state(s);
        for (real& v : s) v *= real(0.999);
        b.write_state(s);
      },
      [=](Backend& b, std::vector<long long>& checks) { checks.push_back(b.first_bad_value(lim.lower, lim.upper)); },
  };
}

class BackendSpace : public BackendTest {};

// Two backends of the same kind, loaded with the same problem and driven in turn operation
// by operation (A, B, A, B, ...), end every round with exactly the state that one backend
// alone reaches: nothing (buffers, scratch, factor tables, streams, denormal settings) is
// shared between them. Exact equality: both run the same code on the same values.
TEST_P(BackendSpace, InterleavedBackendsMatchOneRunAlone) {
  const Problem p = interleave_problem();
  constexpr int kRounds = 3;
  std::vector<std::vector<real>> alone(kRounds);
  std::vector<long long> checks_alone, checks_a, checks_b;
  {
    auto r = backend();
    r->load(p);
    for (int round = 0; round < kRounds; ++round) {
      for (auto& op : round_ops(p, round)) op(*r, checks_alone);
      r->read_state(alone[round]);
    }
  }
  auto a = backend(), b = backend();
  a->load(p);
  b->load(p);
  for (int round = 0; round < kRounds; ++round) {
    for (auto& op : round_ops(p, round)) {
      op(*a, checks_a);
      op(*b, checks_b);
    }
    std::vector<real> sa, sb;
    a->read_state(sa);
    b->read_state(sb);
    ASSERT_EQ(sa.size(), alone[round].size());
    ASSERT_EQ(sb.size(), alone[round].size());
    long long diff_a = 0, diff_b = 0, changed = 0;
    for (size_t v = 0; v < sa.size(); ++v) {
      diff_a += sa[v] != alone[round][v];
      diff_b += sb[v] != alone[round][v];
      changed += round > 0 && alone[round][v] != alone[round - 1][v];
    }
    EXPECT_EQ(diff_a, 0) << "round " << round << ": values of backend A that differ from the run alone";
    EXPECT_EQ(diff_b, 0) << "round " << round << ": values of backend B that differ from the run alone";
    if (round > 0) {
      EXPECT_GT(changed, 0) << "round " << round << " changed nothing";
    }
  }
  EXPECT_EQ(checks_a, checks_alone);
  EXPECT_EQ(checks_b, checks_alone);
}

// Reloading a backend starts it over: the same problem loaded again gives the same states as
// a fresh backend (scratch and factor tables of the first load are not reused stale).
TEST_P(BackendSpace, ReloadStartsOver) {
  const Problem p = interleave_problem();
  auto fresh = backend(), reused = backend();
  std::vector<long long> checks_fresh, checks_reused;
  reused->load(p);
  for (auto& op : round_ops(p, 0)) op(*reused, checks_reused);
  checks_reused.clear();
  reused->load(p);
  fresh->load(p);
  for (auto& op : round_ops(p, 1)) {
    op(*fresh, checks_fresh);
    op(*reused, checks_reused);
  }
  EXPECT_EQ(checks_fresh, checks_reused);
  std::vector<real> sf, sr;
  fresh->read_state(sf);
  reused->read_state(sr);
  ASSERT_EQ(sf.size(), sr.size());
  long long diff = 0;
  for (size_t v = 0; v < sf.size(); ++v) diff += sf[v] != sr[v];
  EXPECT_EQ(diff, 0);
}

TME_INSTANTIATE_BACKENDS(BackendSpace);

// Runs the launch configuration thread by thread on the host: every (voxel, species) is
// updated exactly once, and no thread inside the grid lands on a wrong voxel.
void expect_covers_once(const Dims& d, int nspecies) {
  const ExplicitLaunch l = explicit_launch(d, nspecies);
  EXPECT_LE((long long)l.grid_x, kCudaMaxGridX);
  EXPECT_LE((long long)l.grid_y, kCudaMaxGridY);
  const long long nv = d.nvox();
  std::vector<unsigned char> hits(size_t(nv * nspecies), 0);
  long long twice = 0, outside = 0;
  for (unsigned by = 0; by < l.grid_y; ++by)
    for (unsigned bx = 0; bx < l.grid_x; ++bx)
      for (unsigned ty = 0; ty < ExplicitLaunch::kBlockY; ++ty)
        for (unsigned tx = 0; tx < ExplicitLaunch::kBlockX; ++tx) {
          const ExplicitCell c = explicit_cell(l, bx, by, tx, ty);
          if (c.i >= d.nx || c.j >= d.ny) continue;  // the kernel's guard
          if (c.i < 0 || c.j < 0 || c.k < 0 || c.k >= d.nz || c.s < 0 || c.s >= nspecies) {
            ++outside;
            continue;
          }
          unsigned char& h = hits[size_t(c.s * nv + d.index(c.i, c.j, c.k))];
          twice += h != 0;
          h = 1;
        }
  long long missed = 0;
  for (unsigned char h : hits) missed += h == 0;
  EXPECT_EQ(outside, 0);
  EXPECT_EQ(twice, 0);
  EXPECT_EQ(missed, 0);
}

// 64 species x 2048 z-planes (131072 planes: twice what grid.z allowed before).
TEST(ExplicitLaunch, ManySpeciesAndPlanesCoveredOnce) {
  const Dims d{3, 2, 2048};
  const ExplicitLaunch l = explicit_launch(d, 64);
  EXPECT_EQ(l.grid_x, 64u * 2048u);
  EXPECT_EQ(l.grid_y, 1u);
  expect_covers_once(d, 64);
}

// Partial tiles in x and y, several x tiles per plane.
TEST(ExplicitLaunch, PartialTilesCoveredOnce) {
  expect_covers_once({130, 9, 5}, 3);
  expect_covers_once({64, 4, 1}, 1);
  expect_covers_once({1, 1, 1}, 1);
}

// A large grid stays within the limits (not enumerated: 2^37 voxel-species).
TEST(ExplicitLaunch, LargeGridWithinCudaLimits) {
  const ExplicitLaunch l = explicit_launch({2048, 1024, 2048}, 64);
  EXPECT_EQ((long long)l.grid_x, 32LL * 2048 * 64);
  EXPECT_EQ(l.grid_y, 256u);
  EXPECT_LE((long long)l.grid_x, kCudaMaxGridX);
}

TEST(ExplicitLaunch, GridBeyondCudaLimitsIsRefused) {
  EXPECT_NE(any_error_of([] {
              explicit_launch({4096, 4096, 4096}, 8192);
            }).find("exceeds the CUDA launch limits"),
            std::string::npos);
  EXPECT_NE(any_error_of([] {
              explicit_launch({1, 4 * 65536, 1}, 1);
            }).find("exceeds the CUDA launch limits"),
            std::string::npos);
}

#if defined(TMESIM_HAVE_CUDA)
TEST(DeviceBuffer, DescriptionNamesLabelAndSize) {
  EXPECT_EQ(describe_device_buffer("fraction_dose", size_t(4) << 20), "cuda buffer 'fraction_dose' (4.0 MiB)");
  EXPECT_EQ(describe_device_buffer("state", 0), "cuda buffer 'state' (0.0 MiB)");
}

TEST(DeviceBuffer, FailedAllocationNamesTheBuffer) {
  std::string why;
  if (!cuda_available(&why)) GTEST_SKIP() << "cuda: " << why;
  DeviceBuffer<real> b("huge_test_buffer");
  const std::string e = any_error_of([&] { b.allocate(size_t(1) << 50); });  // 4 PiB
  EXPECT_EQ(e.rfind("cuda buffer 'huge_test_buffer' (", 0), 0u) << e;
  EXPECT_NE(e.find("): cudaMalloc: "), std::string::npos) << e;
  EXPECT_TRUE(b.empty());
  b.allocate(1000);  // the failure left the device usable
  EXPECT_EQ(b.size(), 1000u);
  DeviceBuffer<real> moved = std::move(b);
  EXPECT_EQ(moved.size(), 1000u);
  EXPECT_TRUE(b.empty());
}
#endif

}  // namespace
}  // namespace tme::test
