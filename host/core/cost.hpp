// What a run will cost before it starts: host and device memory, steps, outputs and their size
// on disk, and the run time, from a Problem and what the machine has (Machine). Pure functions
// of their inputs (probe_machine alone asks the system), so that tests can inject any machine.
//
// Memory is counted from the buffers the program allocates (docs/architecture.md, "Memory per
// voxel"): the Problem, the backend's copies and scratch (backend_impl.hpp),
// and what `tmesim run` keeps beside them (host/run/run.cpp: the state read back per
// output, radiotherapy accumulators and survival per population). The run time comes from the
// measured CPU costs per voxel and pass of docs/performance.md; for CUDA it is derived from the
// device's memory bandwidth and marked unmeasured. The constants are in cost.cpp, each with its
// source.
#pragma once
#include <limits>
#include <string>
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

enum class CostBackend : int { kCpu = 0, kCuda = 1 };

// What the machine running the scene has. Infinity: unknown (never refused).
struct Machine {
  CostBackend backend = CostBackend::kCpu;
  int threads = 2;                                                    // OpenMP threads (cpu)
  double host_available = std::numeric_limits<double>::infinity();    // bytes (MemAvailable)
  double device_available = std::numeric_limits<double>::infinity();  // bytes free on the device
  double disk_available = std::numeric_limits<double>::infinity();    // bytes free for the outputs
  double device_bandwidth = 0;  // device memory bandwidth [bytes/s]; 0: unknown (1 TB/s assumed)
  std::string device_name;      // for messages, e.g. "NVIDIA H100"
  std::string disk_path;        // where disk_available was measured, for messages
};

// The machine as the system reports it now for `backend` ("cpu" or "cuda"): OpenMP threads,
// MemAvailable (/proc/meminfo, capped by the cgroup's memory limit), and for cuda the current
// device's free memory (cudaMemGetInfo) and bandwidth. Disk space is not probed here.
Machine probe_machine(const std::string& backend);
// Free space [bytes] (statvfs) for a directory about to be created at `path`: that of the
// nearest existing directory above it, whose name goes to *where; infinity when unknown.
double free_disk_bytes(const std::string& path, std::string* where = nullptr);

// Steps: a run of more than kMaxSteps (host/core/simulation.hpp) is refused with the count and
// the estimated run time.
// Most volumes a scene may write (time.end / time.output_every + 1); more is refused by the
// scene loader with the count.
constexpr double kMaxOutputs = 1e5;

struct MemoryCost {
  double host = 0;    // peak host memory [bytes], the program itself included
  double device = 0;  // peak device memory [bytes]; 0 on the cpu backend
};

// Peak memory of `tmesim run` of p on backend b.
MemoryCost memory_cost(const Problem& p, CostBackend b);
// What any run of nfields fields on nvox voxels needs at least on backend b (the initial state
// in the Problem, the state read back per output and, on the backend, two state buffers), for
// checks made while a scene is still being read, before its per-voxel buffers exist.
MemoryCost memory_floor(long long nvox, int nfields, CostBackend b);
// Empty when `need` fits the machine; else e.g. "needs 44.7 GiB of host memory on the cpu
// backend, more than the 21.2 GiB available" ("needs at least" with at_least).
std::string memory_refusal(const MemoryCost& need, const Machine& m, bool at_least = false);

// Steps of the run: equal for a fixed step; for lod/adi with step 'auto' the range between the
// largest step (min(output_every, end)) and the explicit stability limit, where the automatic
// step usually settles (it is chosen from the state at run time).
struct StepCount {
  double min = 0, max = 0;
  bool fixed() const { return min == max; }
};
StepCount step_count(const Problem& p);

// Bytes of one fields_NNNN.vti with `arrays` arrays of nvox values, before compression (an
// upper bound of what the zlib-compressed file takes): raw values, compression block headers
// and the XML around them.
double vti_bytes(long long nvox, int arrays);

struct RunCost {
  MemoryCost memory;
  StepCount steps;
  double outputs = 0;                       // volumes written
  int arrays = 0;                           // arrays per volume
  double bytes_per_output = 0;              // vti_bytes of one volume
  double output_bytes = 0;                  // all volumes and observables.csv
  double seconds_min = 0, seconds_max = 0;  // run-time estimate (range with step 'auto')
  bool time_measured = true;                // false: derived from bandwidth (cuda), not measured
  std::string refusal;                      // why the run cannot go on this machine; empty when it can
  std::vector<std::string> warnings;        // outputs beyond the free disk space, ...
};

// Everything above for p on machine m; `species_written` is the number of species arrays in
// each volume (the radiotherapy arrays are added here).
RunCost estimate_cost(const Problem& p, int species_written, const Machine& m);

// "1.5 h", "12 min", "40 s", "3.2e+11 d": a time [s] in the largest unit that keeps it >= 1.
std::string human_time(double seconds);

// Steps of integrator 'adi' beyond this multiple of the explicit step limit are measured
// unstable where a species has uptake or held voxels (kernels/implicit.hpp, "Uptake and held
// voxels"): largest step measured without growth on scenes/tests/oxygen_vessel_mm.yaml 130x.
constexpr double kAdiStableStepRatio = 100;

// The warning for a fixed 'adi' step beyond kAdiStableStepRatio times the explicit step limit
// with species that have uptake or held voxels; "" when it does not apply (other integrators,
// adaptive steps, no such species).
std::string adi_step_warning(const Problem& p);
// "1.2 GiB", "350 MiB", "12 KiB", "512 B".
std::string human_bytes(double bytes);

}  // namespace tme
