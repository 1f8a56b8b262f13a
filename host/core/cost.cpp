#include "host/core/cost.hpp"

#include <omp.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>

#include "host/core/backend.hpp"
#include "host/core/simulation.hpp"
#include "kernels/implicit_line.hpp"
#include "kernels/launch.hpp"

namespace fs = std::filesystem;

namespace tme {
namespace {

constexpr double kReal = sizeof(real);

// The program before any scene buffer: code, libraries (VTK, yaml-cpp, UDUNITS-2), the unit
// database and the run's small tables. Measured 2026-12-02: peak resident set of `tmesim run`
// of scenes/tests/cli_small.yaml (960 voxels) on the cpu backend, 24.6 MiB (/usr/bin/time),
// rounded up.
constexpr double kProgramBytes = 32.0 * (1 << 20);

// ---- measured CPU costs (docs/performance.md, 2026-11-26: AMD EPYC, 2 OpenMP threads,
// float32, g++ -O3). Seconds per voxel and per species, term or population, per pass.
constexpr int kMeasuredThreads = 2;
// Fused explicit step: 32.6 ms for 128^3 x 12 species (bench_step).
constexpr double kExplicitVs = 32.6e-3 / (128.0 * 128 * 128 * 12);
// A species with per-tissue diffusion (harmonic means of label-dependent coefficients, not
// vectorised) costs 12.6 times as much: measured 2026-12-02 on the quickstart grid (80^3),
// 1 thread, CPU time per explicit step: 8.8 ms for its labelled species, 0.70 ms for the others.
constexpr double kExplicitLabelsVs = 12.6 * kExplicitVs;
// LOD / ADI step of a species solved with the shared factor tables: 82.3 ms (lod) and 87.5 ms
// (adi) for 100^3 x 10 (biofvm_reference, dt 0.01 min).
constexpr double kLodVs = 82.3e-3 / (100.0 * 100 * 100 * 10);
constexpr double kAdiVs = 87.5e-3 / (100.0 * 100 * 100 * 10);
// A species solved line by line (uptake, held voxels, tissue labels under LOD): from the
// time-to-solution run, 0.81 s per adi step for 128^3 x 12 species of which 4 have uptake,
// less the 8 others at kAdiVs, shared by the 4.
constexpr double kPerLineVs = (0.81 / (128.0 * 128 * 128) - 8 * kAdiVs) / 4;
// BE step of one species (kernels/backward_euler.hpp): 601 ms for 64^3 x 4 species at 100x
// the explicit limit (bench_step BM_ImplicitStep/cpu/be/uniform, 1 thread, measured
// 2026-12-03), 10 CG iterations per solve; 12 to 16 at 1 h steps of oxygen on 100 um voxels.
constexpr double kBeVs = 601e-3 / (64.0 * 64 * 64 * 4);
// GPU passes of one BE solve: about 12 iterations of some 20 grid-sized passes (the fine level
// of the V-cycle, the operator, the CG updates and 3 dot products) and about 60 launches
// (coarse levels, dot products read back) each (counted from backend_impl.hpp, not measured).
constexpr double kBeGpuPasses = 12 * 20;
constexpr double kBeGpuLaunches = 12 * 60;
// Reaction pass: 1724.7 ms for 128^3 and the 20 terms of the reference model at a 600 s step
// (model_step); per voxel and term. Its sub-steps grow with the step, more slowly than it.
constexpr double kReactVt = 1724.7e-3 / (128.0 * 128 * 128 * 20);
// Chemotaxis pass: 331.7 ms for 128^3 and 2 moving populations at a 600 s step (model_step).
constexpr double kChemotaxisVp = 331.7e-3 / (128.0 * 128 * 128 * 2);
// Writing one volume: zlib-compressed VTK XML, single-threaded. Measured 2026-12-02: write_vti
// of the quickstart's last volume (80^3 x 3 arrays, 6.14 MB raw), 0.36 s CPU time each.
constexpr double kWriteBytesPerS = 6.14e6 / 0.36;

// ---- CUDA: not measured (no device has been available); derived from memory bandwidth.
constexpr double kAssumedBandwidth = 1e12;  // [bytes/s] when the device does not say
constexpr double kBandwidthFraction = 0.5;  // share of the peak a pass reaches (assumed)
constexpr double kPassOverheadS = 20e-6;    // launch and synchronisation per pass (assumed)
constexpr double kPcieBytesPerS = 1e10;     // device to host copy of the state per output

bool implicit(const Problem& p) { return p.time.integrator != Integrator::kExplicit; }
// The coupled solves (be, trbdf2) and their solves per step and species (not measured for
// trbdf2: counted, two solves of about the same iterations).
bool coupled_solve(const Problem& p) {
  return p.time.integrator == Integrator::kBe || p.time.integrator == Integrator::kTrBdf2;
}
double solves_per_step(const Problem& p) { return p.time.integrator == Integrator::kTrBdf2 ? 2 : 1; }
Scheme scheme_of(const Problem& p) { return implicit_scheme(p.time.integrator); }
bool step_auto(const Problem& p) { return implicit(p) && !(p.time.step > 0); }

// Steps of the whole run at step limit dt [s]: the stepper's equal sub-steps over every
// segment between output times and events (Simulation::advance_to).
double steps_at(const Problem& p, double dt, double* segments) {
  const double outs = output_count(p.time);
  std::vector<double> ev;
  for (double e : event_times(p.model))
    if (e > 0 && e < p.time.t_end) ev.push_back(e);
  if (outs > 10 * kMaxOutputs) {  // refused anyway: an estimate without listing the segments
    *segments = outs - 1 + double(ev.size());
    return p.time.t_end / dt + *segments;
  }
  const long long nout = (long long)outs;
  double steps = 0, t0 = 0;
  *segments = 0;
  size_t q = 0;
  auto segment_to = [&](double t1) {
    if (t1 > t0) {
      steps += substep_count(t1 - t0, dt);
      *segments += 1;
      t0 = t1;
    }
  };
  for (long long i = 1; i < nout; ++i) {
    const double t = i + 1 == nout ? p.time.t_end : double(i) * p.time.output_every;
    for (; q < ev.size() && ev[q] < t; ++q) segment_to(ev[q]);
    segment_to(t);
  }
  return steps;
}

// Seconds of the run at `steps` steps over `segments` segments on machine m.
double run_seconds(const Problem& p, double steps, double segments, double outputs, int arrays, const Machine& m) {
  const double nv = double(p.grid.nvox()), ns = p.nspecies();
  const Model& md = p.model;
  const double nterms = md.terms.size(), npops = md.chemotaxis.size();
  const double react_passes = md.has_reactions() ? (implicit(p) ? steps + segments : steps) : 0;
  const double chemo_passes = md.chemotaxis.empty() ? 0 : steps;
  // Step doubling of step 'auto': up to 12 iterations at the start and 4 per output interval,
  // 3 implicit steps each (one of dt, two of dt/2).
  const double transport_steps = steps + (step_auto(p) ? 3 * (12 + 4 * std::max(0.0, outputs - 2)) : 0);
  int per_line = 0;
  if (implicit(p))
    for (const SpeciesCoeffs& c : p.coeffs)
      per_line += !coupled_solve(p) && per_line_species(p.time.integrator == Integrator::kLod, c);
  const double blocks_bytes = kReal * double(p.src.size() + p.upt.size() + p.hold.size()) + double(p.labels.size());
  const double write = outputs * arrays * nv * kReal / kWriteBytesPerS;
  if (m.backend == CostBackend::kCpu) {
    double transport;
    if (!implicit(p)) {
      int labelled = 0;
      for (const SpeciesCoeffs& c : p.coeffs) labelled += c.uses_labels != 0;
      transport = nv * ((ns - labelled) * kExplicitVs + labelled * kExplicitLabelsVs);
    } else if (coupled_solve(p)) {
      transport = nv * ns * kBeVs * solves_per_step(p);
    } else
      transport =
          nv * ((ns - per_line) * (p.time.integrator == Integrator::kLod ? kLodVs : kAdiVs) + per_line * kPerLineVs);
    const double compute =
        transport_steps * transport + react_passes * nterms * nv * kReactVt + chemo_passes * npops * nv * kChemotaxisVp;
    // Scaled to the threads from the 2 measured, linearly (optimistic at many threads); no
    // slower with 1 (on the measuring machine 1 thread took 26.1 ms of CPU time for the
    // 32.6 ms step of 2 threads: they share memory bandwidth).
    return compute * kMeasuredThreads / std::max(kMeasuredThreads, m.threads) + write;
  }
  const double bw = kBandwidthFraction * (m.device_bandwidth > 0 ? m.device_bandwidth : kAssumedBandwidth);
  // Bytes per pass: every value read and written once; the implicit sweeps three times (and
  // the per-line species their elimination scratch); chemotaxis 32 bytes per voxel and
  // population in float32 (docs/performance.md).
  double transport = 2 * kReal * ns * nv + blocks_bytes;
  double launches = transport_steps;
  if (coupled_solve(p)) {
    transport = solves_per_step(p) * ns * kBeGpuPasses * 2 * kReal * nv;
    launches = solves_per_step(p) * transport_steps * ns * kBeGpuLaunches;
  } else if (implicit(p))
    transport = 3 * (transport + 2 * kReal * per_line * nv);
  const double react = 2 * kReal * ns * nv, chemo = 8 * kReal * npops * nv;
  const double passes = launches + react_passes + chemo_passes;
  const double compute =
      (transport_steps * transport + react_passes * react + chemo_passes * chemo) / bw + passes * kPassOverheadS;
  return compute + outputs * ns * nv * kReal / kPcieBytesPerS + write;
}

std::string backend_name(CostBackend b) { return b == CostBackend::kCuda ? "cuda" : "cpu"; }

// MemAvailable of /proc/meminfo [bytes], or the free pages where it is missing.
double host_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = -1;
  while (in >> key) {
    double v;
    std::string unit;
    if (!(in >> v)) break;
    std::getline(in, unit);
    if (key == "MemAvailable:") {
      kb = v;
      break;
    }
  }
  double avail = kb >= 0 ? kb * 1024 : double(sysconf(_SC_AVPHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  // A container's memory limit (cgroup v2, then v1) caps what the machine has.
  auto read_number = [](const char* path, double* out) {
    std::ifstream f(path);
    std::string s;
    if (!(f >> s) || s == "max") return false;
    char* end = nullptr;
    const double x = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || !(x > 0)) return false;
    *out = x;
    return true;
  };
  double limit = 0, used = 0;
  if (read_number("/sys/fs/cgroup/memory.max", &limit) && read_number("/sys/fs/cgroup/memory.current", &used))
    avail = std::min(avail, std::max(0.0, limit - used));
  else if (read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes", &limit) && limit < 1e18 &&
           read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes", &used))
    avail = std::min(avail, std::max(0.0, limit - used));
  return avail;
}

}  // namespace

double free_disk_bytes(const std::string& path, std::string* where) {
  std::error_code ec;
  fs::path d = fs::absolute(fs::path(path), ec).lexically_normal();
  if (ec) return std::numeric_limits<double>::infinity();
  d = d.parent_path();
  while (!fs::is_directory(d, ec) && d.has_relative_path()) d = d.parent_path();
  struct statvfs st;
  if (statvfs(d.c_str(), &st) != 0) return std::numeric_limits<double>::infinity();
  if (where) *where = d.string();
  return double(st.f_bavail) * double(st.f_frsize);
}

Machine probe_machine(const std::string& backend) {
  Machine m;
  m.backend = backend == "cuda" ? CostBackend::kCuda : CostBackend::kCpu;
  m.threads = omp_get_max_threads();
  m.host_available = host_available_bytes();
  if (m.backend == CostBackend::kCuda) {
    size_t free_b = 0, total_b = 0;
    double bw = 0;
    std::string name;
    if (cuda_memory(&free_b, &total_b, &bw, &name)) {
      m.device_available = double(free_b);
      m.device_bandwidth = bw;
      m.device_name = name;
    }
  }
  return m;
}

MemoryCost memory_cost(const Problem& p, CostBackend b) {
  const double nv = double(p.grid.nvox()), ns = p.nspecies();
  const Model& md = p.model;
  const double blocks = kReal * double(p.src.size() + p.upt.size() + p.hold.size()) + double(p.labels.size());
  // The Problem, held through the run: initial state, source/uptake/held blocks, tissue
  // labels, observed regions (1 byte per voxel each), dose map per radiotherapy plan.
  double problem = kReal * double(p.initial.size()) + blocks;
  for (const NamedMask& r : p.regions) problem += double(r.mask.size());
  for (const RadiationPlan& plan : md.plans) problem += kReal * double(plan.dose.size());
  // Backend: state ping-pong, its copies of the blocks and labels, implicit scratch and
  // factor tables, chemotaxis face drifts (backend_impl.hpp).
  double backend = 2 * kReal * ns * nv + blocks;
  if (coupled_solve(p)) {
    // The multigrid levels (7 values and an active flag per cell, the coarse levels adding at
    // most 1/7 of the fine one) and the CG increment, direction and its image, for one
    // species at a time (kernels/backward_euler.hpp).
    backend += (7 * kReal + 1) * nv * 8 / 7 + 3 * kReal * nv;
    if (p.time.integrator == Integrator::kTrBdf2) backend += kReal * nv;  // the step's start
  } else if (implicit(p)) {
    const ImplicitScratchNeeds need = implicit_scratch_needs(scheme_of(p), p.coeffs);
    backend += kReal * ns * nv * (double(need.rows) + double(need.rows_periodic));
    const int n[3] = {p.grid.d.nx, p.grid.d.ny, p.grid.d.nz};
    for (int a = 0; a < 3; ++a) backend += kReal * ns * double(factor_len(n[a]));
  }
  if (!md.chemotaxis.empty()) backend += 3 * kReal * nv;
  if (b == CostBackend::kCuda && !md.plans.empty()) backend += kReal * nv;  // the fraction's dose
  backend += 8 * double(md.radio_pops.size()) * nv;  // LQ survival per irradiated population (double)
  // What `tmesim run` keeps beside them (host/run/run.cpp): the state read back per
  // output; with step 'auto' the three states of the step-doubling estimate (simulation.cpp);
  // with radiotherapy the dose accumulator (its labels, dose, BED, EQD2 and last fraction in
  // double), the survival per irradiated population read back (double), the arrays written
  // (real), and per fraction the dose in double and in real.
  double run = kReal * ns * nv;
  if (step_auto(p)) run += 3 * kReal * ns * nv;
  if (!md.plans.empty()) {
    const double pops = md.radio_pops.size();
    run += double(p.labels.size()) + 4 * 8 * nv + 8 * pops * nv + kReal * (3 + pops) * nv + (8 + kReal) * nv;
  }
  MemoryCost c;
  c.host = kProgramBytes + problem + run + (b == CostBackend::kCpu ? backend : 0);
  c.device = b == CostBackend::kCuda ? backend : 0;
  return c;
}

MemoryCost memory_floor(long long nvox, int nfields, CostBackend b) {
  const double state = kReal * double(nvox) * std::max(1, nfields);
  MemoryCost c;
  // Initial state and the state read back; on the backend two state buffers.
  c.host = kProgramBytes + 2 * state + (b == CostBackend::kCpu ? 2 * state : 0);
  c.device = b == CostBackend::kCuda ? 2 * state : 0;
  return c;
}

std::string memory_refusal(const MemoryCost& need, const Machine& m, bool at_least) {
  const std::string on = " on the " + backend_name(m.backend) + " backend";
  const std::string needs = at_least ? "needs at least " : "needs ";
  if (need.host > m.host_available)
    return needs + human_bytes(need.host) + " of host memory" + on + ", more than the " +
           human_bytes(m.host_available) + " available";
  if (m.backend == CostBackend::kCuda && need.device > m.device_available)
    return needs + human_bytes(need.device) + " of device memory" + on + ", more than the " +
           human_bytes(m.device_available) + " free on " + (m.device_name.empty() ? "the device" : m.device_name);
  return "";
}

StepCount step_count(const Problem& p) {
  double segments = 0;
  StepCount s;
  const double fixed = fixed_step_limit(p);
  if (fixed > 0) {
    s.min = s.max = steps_at(p, fixed, &segments);
    return s;
  }
  const double cap = std::min(p.time.output_every, p.time.t_end);
  const double lim = p.explicit_dt_limit();
  s.min = steps_at(p, cap, &segments);
  s.max = steps_at(p, std::isfinite(lim) && lim < cap ? lim : cap, &segments);
  return s;
}

double vti_bytes(long long nvox, int arrays) {
  // Per array: the raw values in zlib blocks of 32 KiB (VTK's default), each at most 23
  // bytes longer than its input (zlib's compressBound), a UInt64 header of 3 + blocks
  // entries, and its DataArray element; per file the XML around them (extent, TimeValue).
  const double raw = kReal * double(nvox);
  const double blocks = std::ceil(raw / 32768);
  return arrays * (raw + 23 * blocks + 8 * (3 + blocks) + 256) + 1024;
}

RunCost estimate_cost(const Problem& p, int species_written, const Machine& m) {
  RunCost c;
  c.memory = memory_cost(p, m.backend);
  c.steps = step_count(p);
  c.outputs = output_count(p.time);
  const bool rt = !p.model.plans.empty();
  c.arrays = species_written + (rt ? 3 + (int)p.model.radio_pops.size() : 0);
  c.bytes_per_output = vti_bytes(p.grid.nvox(), c.arrays);
  // observables.csv: per output a row of total, mean, min and max per field over the grid and
  // each observed region, about 14 characters a number.
  const double csv_row = 14.0 * (1 + 4.0 * p.nspecies() * (1 + double(p.regions.size())));
  c.output_bytes = c.outputs * (c.bytes_per_output + csv_row);
  double seg_min = 0, seg_max = 0;
  const double fixed = fixed_step_limit(p);
  if (fixed > 0) {
    steps_at(p, fixed, &seg_min);
    seg_max = seg_min;
  } else {
    const double cap = std::min(p.time.output_every, p.time.t_end), lim = p.explicit_dt_limit();
    steps_at(p, cap, &seg_min);
    steps_at(p, std::isfinite(lim) && lim < cap ? lim : cap, &seg_max);
  }
  c.seconds_min = run_seconds(p, c.steps.min, seg_min, c.outputs, c.arrays, m);
  c.seconds_max = run_seconds(p, c.steps.max, seg_max, c.outputs, c.arrays, m);
  c.time_measured = m.backend == CostBackend::kCpu;
  c.refusal = memory_refusal(c.memory, m);
  if (c.refusal.empty() && c.outputs > kMaxOutputs) {
    char buf[64];
    std::snprintf(buf, sizeof buf, c.outputs < 1e15 ? "%.0f" : "%.3g", c.outputs);
    c.refusal = "writes " + std::string(buf) + " volumes, more than " + std::to_string((long long)kMaxOutputs);
  }
  if (c.refusal.empty() && !(c.steps.min <= kMaxSteps)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "takes %s%.3g steps, more than the limit of %.3g steps per run",
                  c.steps.fixed() ? "" : "at least ", c.steps.min, kMaxSteps);
    c.refusal = std::string(buf) + " (estimated run time " + human_time(c.seconds_min) + " on " +
                (m.backend == CostBackend::kCuda ? "cuda" : "cpu") + ")";
  }
  if (c.output_bytes > m.disk_available)
    c.warnings.push_back("the outputs may take up to " + human_bytes(c.output_bytes) +
                         " (before compression), more than the " + human_bytes(m.disk_available) + " free" +
                         (m.disk_path.empty() ? "" : " on " + m.disk_path));
  const std::string adi = adi_step_warning(p);
  if (!adi.empty()) c.warnings.push_back(adi);
  return c;
}

std::string adi_step_warning(const Problem& p) {
  if (p.time.integrator != Integrator::kAdi || !(p.time.step > 0)) return "";
  std::string list;
  for (int s = 0; s < p.nspecies(); ++s)
    if (p.coeffs[s].upt_slot >= 0 || p.coeffs[s].hold_slot >= 0)
      list += (list.empty() ? "'" : ", '") + p.species[s].name + "'";
  const double limit = p.explicit_dt_limit();
  if (list.empty() || !(p.time.step > kAdiStableStepRatio * limit)) return "";
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.0f", p.time.step / limit);
  return "time.step " + human_time(p.time.step) + " is " + ratio + "x the explicit step limit (" + human_time(limit) +
         "): integrator 'adi' is unstable beyond about 100x with uptake or held voxels (" + list +
         ") and its errors grow without bound; use integrator 'be', or a step up to " +
         human_time(kAdiStableStepRatio * limit);
}

std::string human_time(double s) {
  std::ostringstream o;
  o << std::setprecision(3);
  if (std::abs(s) >= 86400 * 2)
    o << s / 86400 << " d";
  else if (std::abs(s) >= 3600)
    o << s / 3600 << " h";
  else if (std::abs(s) >= 60)
    o << s / 60 << " min";
  else
    o << s << " s";
  return o.str();
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  double x = bytes;
  while (std::abs(x) >= 1024 && u < 6) x /= 1024, ++u;
  char buf[48];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f B", x);
  else
    std::snprintf(buf, sizeof buf, x < 10 ? "%.2f %s" : (x < 100 ? "%.1f %s" : "%.0f %s"), x, units[u]);
  return buf;
}

}  // namespace tme
