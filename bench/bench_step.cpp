// The fused explicit step for N = 1, 4, 12 species at 64^3, 128^3, 256^3 on every
// available backend, plus (on a GPU) a device-to-device copy for a bandwidth reference; and
// one step of each large-step scheme (BM_ImplicitStep) for the ways a line is solved.
// Counters: vs_per_s = voxel-species updates per second; GBps = bytes the step must move
// (one read and one write of every species value, 2 * sizeof(real) per voxel-species) / time.
// A summary table at the end gives each CUDA case as a fraction of the copy bandwidth.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/simulation.hpp"
#include "kernels/implicit.hpp"

namespace {

using tme::real;

void BM_ExplicitStep(benchmark::State& st, const std::string& backend) {
  const int n = (int)st.range(0), ns = (int)st.range(1);
  tme::Problem p = tme::make_uniform_problem({n, n, n}, 20, ns, 10, 1e-4);
  for (size_t v = 0; v < p.initial.size(); v += 7) p.initial[v] = real(1);
  auto b = tme::make_backend(backend);
  b->load(p);
  const double dt = 0.9 * p.explicit_dt_limit();
  b->explicit_steps(dt, 1);  // warm-up
  b->finish();
  for (auto _ : st) {
    b->explicit_steps(dt, 1);
    b->finish();  // CUDA queues the step: time it to its end
  }
  const double vs = double(p.grid.nvox()) * ns;
  st.counters["vs_per_s"] = benchmark::Counter(vs, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GBps"] = benchmark::Counter(vs * 2 * sizeof(real) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["bytes_per_vs"] = double(2 * sizeof(real));
}

// One large-step step (LOD, ADI or BE, 100x the explicit limit) of 4 species at n^3, for each way
// of solving a line: 'uniform' (uniform D, source, decay, fixed and no-flux faces: factored
// tables), 'periodic' (the same, all faces periodic: factored bordered solve), 'labels' (two
// tissues: rows per cell under LOD, max-D tables under ADI), 'uptake' (Michaelis-Menten
// uptake: rows per cell under both).
void BM_ImplicitStep(benchmark::State& st, const std::string& backend, tme::Scheme scheme, const std::string& kind) {
  const int n = (int)st.range(0), ns = 4;
  tme::Problem p = tme::make_uniform_problem({n, n, n}, 20, ns, 10, 1e-4);
  for (size_t v = 0; v < p.initial.size(); v += 7) p.initial[v] = real(1);
  p.nsrc = 1;
  p.src.assign(p.grid.nvox(), real(0));
  for (long long v = 0; v < p.grid.nvox(); v += 11) p.src[v] = real(1e-3);
  for (auto& sc : p.coeffs) {
    sc.src_slot = 0;
    if (kind == "periodic")
      for (int f = 0; f < 6; ++f) sc.bc[f] = {tme::kPeriodic, 0};
    else
      sc.bc[tme::kXm] = {tme::kFixed, real(1)};
  }
  if (kind == "labels") {
    p.label_names = {"a", "b"};
    p.labels.assign(p.grid.nvox(), 0);
    for (long long v = 0; v < p.grid.nvox(); v += 3) p.labels[v] = 1;
    for (auto& sc : p.coeffs) sc.uses_labels = 1, sc.D[1] = 3;
  }
  if (kind == "uptake") {
    p.nupt = 1;
    p.upt.assign(p.grid.nvox(), real(1e-3));
    for (auto& sc : p.coeffs) sc.upt_slot = 0, sc.km = real(0.5);
  }
  auto b = tme::make_backend(backend);
  b->load(p);
  const double dt = 100 * p.explicit_dt_limit();
  b->implicit_steps(scheme, dt, 1);  // warm-up (factor tables, scratch)
  b->finish();
  for (auto _ : st) {
    b->implicit_steps(scheme, dt, 1);
    b->finish();  // CUDA queues the step: time it to its end
  }
  const double vs = double(p.grid.nvox()) * ns;
  st.counters["vs_per_s"] = benchmark::Counter(vs, benchmark::Counter::kIsIterationInvariantRate);
  if (scheme == tme::Scheme::kBackwardEuler) {  // CG iterations per solve (one per species and step)
    const tme::LinearSolveStats ls = b->linear_solve_stats();
    st.counters["iterations"] = double(ls.iterations) / double(std::max(1LL, ls.solves));
  }
}

// Device-to-device copy of the largest state (256^3 x 12 values): the bandwidth reference.
void BM_CudaCopy(benchmark::State& st) {
  const size_t bytes = size_t(256) * 256 * 256 * 12 * sizeof(real);
  for (auto _ : st) st.SetIterationTime(tme::cuda_copy_seconds(bytes, 10));
  // Copy bandwidth counts the bytes read plus the bytes written, as the step's GBps does.
  st.counters["GBps"] = benchmark::Counter(2.0 * bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Host copy of the same 256^3 x 12 state with all OpenMP threads: the CPU's reference.
void BM_CpuCopy(benchmark::State& st) {
  const long long n = 256LL * 256 * 256 * 12;
  std::vector<real> src(n, real(1)), dst(n);
  for (auto _ : st) {
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; ++i) dst[i] = src[i];
    benchmark::DoNotOptimize(dst.data());
  }
  st.counters["GBps"] =
      benchmark::Counter(2.0 * n * sizeof(real) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Console output as usual, and a short summary table at the end.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      const auto it = r.counters.find("GBps");
      if (it == r.counters.end()) continue;
      if (!gbps_.count(r.benchmark_name())) order_.push_back(r.benchmark_name());
      gbps_[r.benchmark_name()] = it->second.value;
      time_ms_[r.benchmark_name()] = r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e3;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    double copy_gpu = 0, copy_cpu = 0;
    for (const auto& [name, g] : gbps_) {
      if (name.find("BM_CudaCopy") == 0) copy_gpu = g;
      if (name.find("BM_CpuCopy") == 0) copy_cpu = g;
    }
    std::printf("\n%-48s %10s %8s %10s %12s\n", "case", "ms/step", "GB/s", "Gvs/s", "of copy BW");
    for (const auto& name : order_) {
      if (name.find("Copy") != std::string::npos) continue;
      const double g = gbps_[name];
      const double copy = name.find("/cuda/") != std::string::npos ? copy_gpu : copy_cpu;
      char frac[32] = "-";
      if (copy > 0) std::snprintf(frac, sizeof frac, "%.0f%%", 100 * g / copy);
      std::printf("%-48s %10.3f %8.1f %10.3f %12s\n", name.c_str(), time_ms_[name], g, g / (2 * sizeof(real)), frac);
    }
    if (copy_cpu > 0)
      std::printf("%-48s %10s %8.1f %10s %12s\n", "host copy, 805 MB (read+write)", "", copy_cpu, "", "100%");
    if (copy_gpu > 0)
      std::printf("%-48s %10s %8.1f %10s %12s\n", "device-to-device copy, 805 MB (read+write)", "", copy_gpu, "",
                  "100%");
  }

 private:
  std::map<std::string, double> gbps_, time_ms_;
  std::vector<std::string> order_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> backends{"cpu"};
  if (tme::cuda_available()) backends.push_back("cuda");
  for (const auto& be : backends) {
    auto* b = benchmark::RegisterBenchmark(("BM_ExplicitStep/" + be).c_str(), BM_ExplicitStep, be);
    b->ArgNames({"n", "species"})->Unit(benchmark::kMillisecond)->UseRealTime();
    for (int n : {64, 128, 256})
      for (int ns : {1, 4, 12}) b->Args({n, ns});
  }
  for (const auto& be : backends)
    for (tme::Scheme sch : {tme::Scheme::kLodEuler, tme::Scheme::kDouglasAdi, tme::Scheme::kBackwardEuler})
      for (const char* kind : {"uniform", "periodic", "labels", "uptake"}) {
        const char* sn = sch == tme::Scheme::kLodEuler ? "/lod/" : (sch == tme::Scheme::kDouglasAdi ? "/adi/" : "/be/");
        const std::string name = "BM_ImplicitStep/" + be + sn + kind;
        benchmark::RegisterBenchmark(name.c_str(), BM_ImplicitStep, be, sch, std::string(kind))
            ->ArgNames({"n"})
            ->Arg(64)
            ->Arg(128)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
  benchmark::RegisterBenchmark("BM_CpuCopy", BM_CpuCopy)->Unit(benchmark::kMillisecond)->UseRealTime();
  if (tme::cuda_available())
    benchmark::RegisterBenchmark("BM_CudaCopy", BM_CudaCopy)->UseManualTime()->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  SummaryReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
  return 0;
}
