// What a scene will cost, said before the run: the loader refuses grids that cannot fit the
// machine's memory before making their buffers, and too many outputs; `validate` and `run`
// print the cost line; the progress line never says "ETA 0 s" at the start.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "host/core/cost.hpp"
#include "host/io/vtk_io.hpp"
#include "host/scene/scene.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

constexpr double R = sizeof(tme::real);

using tme::test::slurp;

std::string load_error(const std::string& text, const tme::Machine& m, const std::string& dir) {
  try {
    tme::load_scene_text(text, "big.yaml", dir, m);
  } catch (const tme::SceneError& e) {
    return e.what();
  }
  return "";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(CostScene, MillionCubeRefusedAtTheGridBeforeAnyBuffer) {
  const tme::test::TempDir tmp("tmesim_cost_grid");
  const fs::path& d = tmp.path();
  tme::Machine m;
  m.host_available = 16.0 * (1 << 30);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string e = load_error(R"(name: big
grid: {shape: [1000, 1000, 1000], spacing: 10 um}
time: {end: 1 h, output_every: 10 min}
regions:
  tumour: {sphere: {center: [5 mm, 5 mm, 5 mm], radius: 1 mm}}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
  - {name: B, unit: nM, diffusion: 10 um^2/s}
  - {name: C, unit: nM, diffusion: 10 um^2/s}
)",
                                   m, d.string());
  EXPECT_LT(seconds_since(t0), 2.0);  // no region mask, no initial state of 1e9 voxels
  // 3 fields x 1e9 voxels x (initial, state read back, two backend buffers) + the program.
  // Fits: (16 GiB - 32 MiB) / 48 bytes per voxel.
  if (R == 4) {
    EXPECT_EQ(e,
              "big.yaml:2:15: grid.shape: 1000 x 1000 x 1000 voxels with 3 fields needs at least 44.7 GiB of "
              "host memory on the cpu backend, more than the 16.0 GiB available (expected at most 357214890 "
              "voxels with 3 fields on this machine)");
  }
  // The same scene on a machine that has the memory gets past the grid (and is not loaded here).
}

TEST(CostScene, ModelFileFieldsAreCheckedBeforeEachIsMade) {
  // model_small lists 1 species and 1 state itself; its model file adds more fields. Memory
  // for 2 fields but not for 3: refused at the model file's first field beyond.
  tme::Machine m;
  const double nv = 6 * 5 * 4;
  m.host_available = 32.0 * (1 << 20) + 4 * R * nv * 2.5;
  const std::string scene = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/model_small.yaml";
  std::string e;
  try {
    tme::load_scene(scene, m);
  } catch (const tme::SceneError& x) {
    e = x.what();
  }
  EXPECT_NE(e.find("6 x 5 x 4 voxels with 3 fields needs at least "), std::string::npos) << e;
  EXPECT_NE(e.find("(expected at most 100 voxels with 3 fields on this machine)"), std::string::npos) << e;
  m.host_available = 1e12;
  EXPECT_NO_THROW(tme::load_scene(scene, m));
}

TEST(CostScene, TooManyOutputsRefusedWithTheCount) {
  const tme::test::TempDir tmp("tmesim_cost_outputs");
  const fs::path& d = tmp.path();
  EXPECT_EQ(load_error(R"(name: big
grid: {shape: [4, 4, 4], spacing: 10 um}
time: {end: 365 d, output_every: 1 s}
species:
  - {name: A, unit: nM, diffusion: 10 um^2/s}
)",
                       tme::Machine{}, d.string()),
            "big.yaml:3:34: time.output_every: '1 s' gives 31536001 volumes over end '365 d' (expected at most "
            "100000 volumes (time.end / time.output_every + 1))");
}

TEST(CostScene, VolumeSizeBoundsTheFilesWritten) {
  // Random values (hardly compressible): the zlib file and the uncompressed one both stay
  // within vti_bytes, and the uncompressed one holds at least the raw values.
  const tme::test::TempDir tmp("tmesim_cost_vti");
  const fs::path& d = tmp.path();
  tme::GridSpec g;
  g.d = tme::Dims{40, 30, 20};
  const long long nv = g.nvox();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<tme::real> a(nv), b(nv);
  for (long long i = 0; i < nv; ++i) a[i] = u(rng), b[i] = u(rng);
  const std::vector<tme::ArrayOut> arrays = {{"a [nM]", a.data()}, {"b [nM]", b.data()}};
  const double bound = tme::vti_bytes(nv, 2);
  tme::write_vti((d / "z.vti").string(), g, arrays, 1.0, tme::VtiCompression::ZLib);
  tme::write_vti((d / "n.vti").string(), g, arrays, 1.0, tme::VtiCompression::None);
  EXPECT_LE(double(fs::file_size(d / "z.vti")), bound);
  EXPECT_LE(double(fs::file_size(d / "n.vti")), bound);
  EXPECT_GE(double(fs::file_size(d / "n.vti")), 2 * R * nv);
}

// ---- the program ----------------------------------------------------------------------------

using tme::test::Result;

// Runs the program in `dir`; `env` prefixes the command (e.g. "OMP_NUM_THREADS=1 ").
Result tmesim(const std::string& args, const fs::path& dir, const std::string& env = "") {
  return tme::test::run_shell(TMESIM_BINARY, args, dir, env);
}

const std::string kSmall = std::string(TMESIM_SOURCE_DIR) + "/scenes/tests/cli_small.yaml";

TEST(CostCli, ValidatePrintsTheCostLine) {
  const tme::test::TempDir tmp("tmesim_cost_validate");
  const fs::path& d = tmp.path();
  const Result v = tmesim("validate " + kSmall + " --backend cpu", d);
  ASSERT_EQ(v.code, 0) << v.err;
  // cli_small: 12 x 10 x 8 = 960 voxels, species A (with a source block) and B, region
  // 'corner' observed; explicit step 0.05 s over 100 s, outputs every 25 s.
  // Host: program 32 MiB + Problem (initial 1920 R, source 960 R, mask 960) + backend (state
  // 3840 R, source 960 R) + state read back 1920 R.
  const double host = 32.0 * (1 << 20) + R * (1920 + 960 + 3840 + 960 + 1920) + 960;
  const double vti = tme::vti_bytes(960, 2);
  const double total = 5 * (vti + 14 * (1 + 4 * 2 * 2));
  const std::string expect = "cost: host memory " + tme::human_bytes(host) + " (";
  EXPECT_NE(v.out.find(expect), std::string::npos) << v.out;
  EXPECT_NE(v.out.find(" available); 2000 steps; 5 outputs x " + tme::human_bytes(vti) + " = " +
                       tme::human_bytes(total) + " at most (before compression), "),
            std::string::npos)
      << v.out;
  EXPECT_NE(v.out.find("; estimated run time "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find(" on cpu ("), std::string::npos) << v.out;
  EXPECT_EQ(v.out.find("device memory"), std::string::npos) << v.out;
}

TEST(CostCli, ValidateOfAThousandCubedSceneIsRefusedFast) {
  // 1000^3 voxels and 64 fields need at least 1 TB on the cpu backend: refused as soon as the
  // grid is read, in well under a second, without making the scene's buffers.
  const tme::Machine here = tme::probe_machine("cpu");
  if (here.host_available >= tme::memory_floor(1000LL * 1000 * 1000, 64, tme::CostBackend::kCpu).host)
    GTEST_SKIP() << "this machine has the memory for it";
  const tme::test::TempDir tmp("tmesim_cost_thousand");
  const fs::path& d = tmp.path();
  std::ofstream f(d / "big.yaml");
  f << "name: big\ngrid: {shape: [1000, 1000, 1000], spacing: 10 um}\ntime: {end: 1 h, output_every: 10 min}\n"
       "species:\n";
  for (int s = 0; s < 64; ++s) f << "  - {name: S" << s << ", unit: nM, diffusion: 10 um^2/s}\n";
  f.close();
  const auto t0 = std::chrono::steady_clock::now();
  const Result v = tmesim("validate big.yaml --backend cpu", d);
  EXPECT_LT(seconds_since(t0), 5.0);
  EXPECT_EQ(v.code, 2);
  EXPECT_EQ(
      v.err.rfind("error: big.yaml:2:15: grid.shape: 1000 x 1000 x 1000 voxels with 64 fields needs at least ", 0), 0u)
      << v.err;
  EXPECT_NE(v.err.find(" of host memory on the cpu backend, more than the "), std::string::npos) << v.err;
  EXPECT_EQ(v.out, "");
}

TEST(CostCli, RunStartsWithTheCostAndAnEstimatedEta) {
  const tme::test::TempDir tmp("tmesim_cost_run");
  const fs::path& d = tmp.path();
  const Result r = tmesim("run " + kSmall + " -o out --backend cpu --progress-every 1000", d, "OMP_NUM_THREADS=1 ");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("cost: host memory ", 0), 0u) << r.out;
  // The first progress line (t = 0, forced at the first output) shows the estimate, not
  // "ETA 0 s" (which only the last one, at 100%, may say).
  const size_t first = r.out.find("progress: ");
  ASSERT_NE(first, std::string::npos) << r.out;
  const std::string line = r.out.substr(first, r.out.find('\n', first) - first);
  EXPECT_EQ(line.rfind("progress: t = 0 s of 1.67 min (0.0%), 0 steps/s, ETA about ", 0), 0u) << line;
  EXPECT_NE(line.find(" (estimate)"), std::string::npos) << line;
}

}  // namespace
