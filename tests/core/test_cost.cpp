// The cost estimate (host/core/cost.hpp) against hand-computed memory, step and output counts,
// and against the stepper itself.
#include <gtest/gtest.h>

#include <cmath>

#include "host/core/backend.hpp"
#include "host/core/cost.hpp"
#include "host/core/simulation.hpp"

namespace tme {
namespace {

constexpr double R = sizeof(real);
constexpr double kProgram = 32.0 * 1024 * 1024;  // cost.cpp's program bytes

// 10 x 8 x 6 = 480 voxels, 2 species, D = 100 um^2/s, h = 10 um: explicit limit 1/6 s.
Problem small(double decay = 0) {
  Problem p = make_uniform_problem(Dims{10, 8, 6}, 10, 2, 100, decay);
  p.time.t_end = 10;
  p.time.output_every = 3;
  p.time.max_step = 0.1;  // below the stability limit x cfl (0.15 s)
  return p;
}

TEST(Cost, ExplicitMemoryOnBothBackends) {
  const Problem p = small();
  // cpu: initial + two state buffers + the state read back, 2 species x 480 voxels each.
  const MemoryCost cpu = memory_cost(p, CostBackend::kCpu);
  EXPECT_EQ(cpu.host, kProgram + R * (960 + 1920 + 960));
  EXPECT_EQ(cpu.device, 0);
  const MemoryCost cuda = memory_cost(p, CostBackend::kCuda);
  EXPECT_EQ(cuda.host, kProgram + R * (960 + 960));
  EXPECT_EQ(cuda.device, R * 1920);
}

TEST(Cost, LodMemoryCountsBlocksLabelsRegionsScratchAndTables) {
  Problem p = small(0.01);
  p.label_names = {"a"};
  p.labels.assign(480, 0);
  p.nsrc = 1;
  p.src.assign(480, real(1));
  p.coeffs[1].src_slot = 0;
  p.nupt = 1;
  p.upt.assign(480, real(0.1));
  p.coeffs[0].upt_slot = 0;  // solved line by line: per-line scratch of nspecies * nvox
  p.regions.push_back({"r", std::vector<uint8_t>(480, 1)});
  p.time.integrator = Integrator::kLod;
  p.time.step = 60;
  p.time.max_step = 0;
  p.time.t_end = 3600;
  p.time.output_every = 600;
  p.check();
  // Problem: initial 960 R, src and upt 960 R, labels 480, region 480.
  // Backend: state 1920 R, blocks 960 R + 480, scratch 960 R, factor tables
  // 2 species x (9 n + 1) for n = 10, 8, 6: 2 x 219 R.  Run: state 960 R.
  const MemoryCost cpu = memory_cost(p, CostBackend::kCpu);
  EXPECT_EQ(cpu.host, kProgram + R * (1920 + 1920 + 960 + 960 + 438 + 960) + 1440);
  const MemoryCost cuda = memory_cost(p, CostBackend::kCuda);
  EXPECT_EQ(cuda.host, kProgram + R * (1920 + 960) + 960);
  EXPECT_EQ(cuda.device, R * (1920 + 960 + 960 + 438) + 480);
  // 6 output intervals of 600 s at 60 s.
  const StepCount s = step_count(p);
  EXPECT_EQ(s.min, 60);
  EXPECT_EQ(s.max, 60);
  // A fraction at 1000 s splits 600..1200 into 400 s (7 steps) and 200 s (4 steps); one at an
  // output time changes nothing.
  p.model.fractions.push_back(FractionEvent{1000, 0, 2});
  p.model.fractions.push_back(FractionEvent{1800, 0, 2});
  EXPECT_EQ(step_count(p).min, 61);
}

TEST(Cost, StepsAndOutputsMatchTheStepper) {
  Problem p = small();
  // Outputs 0, 3, 6, 9, 10; steps of <= 0.1 s: 30 + 30 + 30 + 10.
  EXPECT_EQ(output_count(p.time), 5);
  const StepCount s = step_count(p);
  EXPECT_EQ(s.min, 100);
  EXPECT_TRUE(s.fixed());
  auto b = make_cpu_backend();
  b->load(p);
  Simulation sim(p, *b);
  for (double t : sim.output_times()) sim.advance_to(t);
  EXPECT_EQ(sim.steps(), 100);
  // Without max_step: the stability limit 1/6 s x cfl 0.9 = 0.15 s.
  p.time.max_step = 0;
  EXPECT_EQ(step_count(p).min, 20 + 20 + 20 + 7);
  Simulation sim2(p, *b);
  for (double t : sim2.output_times()) sim2.advance_to(t);
  EXPECT_EQ(sim2.steps(), 67);
}

TEST(Cost, OutputCountEqualsTheListedTimes) {
  Problem p = small();
  auto b = make_cpu_backend();
  const double cases[][2] = {{1, 1}, {10, 3}, {0.3, 0.1}, {0.7, 0.1}, {3600, 7}, {86400 * 365.0, 86400}, {1, 1.0 / 3}};
  for (const auto& c : cases) {
    p.time.t_end = c[0];
    p.time.output_every = c[1];
    const Simulation sim(p, *b);
    EXPECT_EQ(output_count(p.time), double(sim.output_times().size())) << c[0] << " / " << c[1];
  }
  // A year every second: counted, not listed.
  p.time.t_end = 365 * 86400.0;
  p.time.output_every = 1;
  EXPECT_EQ(output_count(p.time), 31536001);
}

TEST(Cost, HugeStepCountsDoNotOverflow) {
  // 32^3, D = 1e5 um^2/s, h = 10 um: limit 1/6000 s x 0.9; a year in one output interval:
  // 2.1024e11 steps, less the stepper's relative slack of 1e-9 (210 steps).
  Problem p = make_uniform_problem(Dims{32, 32, 32}, 10, 1, 1e5, 0);
  p.time.t_end = p.time.output_every = 365 * 86400.0;
  EXPECT_NEAR(step_count(p).min, 2.1024e11 - 210, 1);
}

TEST(Cost, AutoStepGivesARangeFromTheLargestStepToTheExplicitLimit) {
  Problem p = small();
  p.time.integrator = Integrator::kLod;
  p.time.tolerance = 1e-3;
  p.time.max_step = 0;
  p.time.t_end = 3600;
  p.time.output_every = 600;
  const StepCount s = step_count(p);
  EXPECT_EQ(s.min, 6);         // one 600 s step per interval
  EXPECT_EQ(s.max, 6 * 3600);  // 600 s / (1/6 s)
  EXPECT_FALSE(s.fixed());
  // The step-doubling estimate keeps three more states.
  EXPECT_EQ(memory_cost(p, CostBackend::kCpu).host, kProgram + R * (960 + 1920 + 960 + 3 * 960 + 2 * 219));
}

TEST(Cost, MemoryFloorAndRefusalWithInjectedMachine) {
  const long long nv = 1000LL * 1000 * 1000;
  const MemoryCost f = memory_floor(nv, 3, CostBackend::kCpu);
  EXPECT_EQ(f.host, kProgram + 4 * 3 * R * 1e9);
  Machine m;
  m.host_available = 16.0 * (1 << 30);
  if (R == 4) {
    EXPECT_EQ(memory_refusal(f, m, true),
              "needs at least 44.7 GiB of host memory on the cpu backend, more than the 16.0 GiB available");
  }
  m.host_available = 1e12;
  EXPECT_EQ(memory_refusal(f, m, true), "");
  // cuda: the state buffers live on the device.
  Machine g;
  g.backend = CostBackend::kCuda;
  g.device_available = 8.0 * (1 << 30);
  g.device_name = "Test GPU";
  const MemoryCost fc = memory_floor(nv, 3, CostBackend::kCuda);
  EXPECT_EQ(fc.host, kProgram + 2 * 3 * R * 1e9);
  EXPECT_EQ(fc.device, 2 * 3 * R * 1e9);
  if (R == 4) {
    EXPECT_EQ(memory_refusal(fc, g),
              "needs 22.4 GiB of device memory on the cuda backend, more than the 8.00 GiB free on Test GPU");
  }
  // The floor never exceeds the full count of the same fields.
  const Problem p = small();
  EXPECT_LE(memory_floor(480, 2, CostBackend::kCpu).host, memory_cost(p, CostBackend::kCpu).host);
  EXPECT_LE(memory_floor(480, 2, CostBackend::kCuda).device, memory_cost(p, CostBackend::kCuda).device);
}

TEST(Cost, OutputSizeOutputsRefusalAndDiskWarning) {
  // One zlib block per array: raw + 23 (compressBound) + 8 x 4 (header) + 256; + 1024 per file.
  EXPECT_EQ(vti_bytes(480, 2), 2 * (480 * R + 23 + 32 + 256) + 1024);
  Problem p = small();
  Machine m;
  m.disk_available = 4096;
  m.disk_path = "/data";
  RunCost c = estimate_cost(p, 2, m);
  EXPECT_EQ(c.outputs, 5);
  EXPECT_EQ(c.arrays, 2);
  EXPECT_EQ(c.bytes_per_output, vti_bytes(480, 2));
  EXPECT_EQ(c.refusal, "");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].rfind("the outputs may take up to ", 0), 0u) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find(", more than the 4.00 KiB free on /data"), std::string::npos) << c.warnings[0];
  m.disk_available = 1e12;
  EXPECT_TRUE(estimate_cost(p, 2, m).warnings.empty());
  p.time.t_end = 2e5;
  p.time.output_every = 1;
  c = estimate_cost(p, 2, m);
  EXPECT_EQ(c.outputs, 200001);
  EXPECT_EQ(c.refusal, "writes 200001 volumes, more than 100000");
}

TEST(Cost, RunTimeFromTheMeasuredCpuCosts) {
  const Problem p = small();
  Machine m;  // 2 threads: the measured figures as they are
  const RunCost c = estimate_cost(p, 2, m);
  const double explicit_vs = 32.6e-3 / (128.0 * 128 * 128 * 12);  // docs/performance.md
  const double write = 5 * 2 * 480 * R / (6.14e6 / 0.36);
  EXPECT_EQ(c.steps.min, 100);
  EXPECT_DOUBLE_EQ(c.seconds_min, 100 * 2 * 480 * explicit_vs + write);
  EXPECT_EQ(c.seconds_max, c.seconds_min);
  EXPECT_TRUE(c.time_measured);
  m.threads = 4;  // compute scaled by 2/4, the (single-threaded) writing not
  EXPECT_DOUBLE_EQ(estimate_cost(p, 2, m).seconds_min, 50 * 2 * 480 * explicit_vs + write);
  m.threads = 1;  // no slower than 2 (measured)
  EXPECT_DOUBLE_EQ(estimate_cost(p, 2, m).seconds_min, c.seconds_min);
  // A species with per-tissue diffusion costs 12.6 times as much per voxel (measured).
  Problem q = p;
  q.label_names = {"a", "b"};
  q.labels.assign(480, 0);
  q.coeffs[0].uses_labels = 1;
  m.threads = 2;
  EXPECT_DOUBLE_EQ(estimate_cost(q, 2, m).seconds_min, 100 * 480 * (1 + 12.6) * explicit_vs + write);
  m.backend = CostBackend::kCuda;
  EXPECT_FALSE(estimate_cost(p, 2, m).time_measured);
}

TEST(Cost, HumanBytes) {
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1536), "1.50 KiB");
  EXPECT_EQ(human_bytes(9.4 * (1 << 20)), "9.40 MiB");
  EXPECT_EQ(human_bytes(207.0 * (1 << 20)), "207 MiB");
  EXPECT_EQ(human_bytes(44.77 * (1 << 30)), "44.8 GiB");
}

}  // namespace
}  // namespace tme
