// Generated vessel maps: exact rasterisation, density, reproducibility, masks, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/vessels.hpp"

namespace tme::test {
namespace {

constexpr double kPi = 3.14159265358979323846;

GridSpec grid(int nx, int ny, int nz, double hx, double hy, double hz) {
  GridSpec g;
  g.d = {nx, ny, nz};
  g.h[0] = hx, g.h[1] = hy, g.h[2] = hz;
  g.origin[0] = -13, g.origin[1] = 7, g.origin[2] = 101;  // [um]
  return g;
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

// Reference: length of p0-p1 inside one box [lo, hi] by slab clipping [um].
double clipped_length(const double lo[3], const double hi[3], const double p0[3], const double p1[3]) {
  double t0 = 0, t1 = 1, L2 = 0;
  for (int a = 0; a < 3; ++a) {
    const double d = p1[a] - p0[a];
    L2 += d * d;
    if (d == 0) {
      if (p0[a] < lo[a] || p0[a] > hi[a]) return 0;
      continue;
    }
    double ta = (lo[a] - p0[a]) / d, tb = (hi[a] - p0[a]) / d;
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta), t1 = std::min(t1, tb);
  }
  return t1 > t0 ? (t1 - t0) * std::sqrt(L2) : 0;
}

TEST(VesselRaster, LineAlongXThroughCentresGivesExactlyHPerVoxel) {
  const GridSpec g = grid(7, 4, 3, 2.5, 3, 4);
  const int j = 2, k = 1;
  const double p0[3] = {g.origin[0] - 10, g.center(1, j), g.center(2, k)};
  const double p1[3] = {g.origin[0] + 100, g.center(1, j), g.center(2, k)};
  std::vector<double> len(g.nvox(), 0.0);
  EXPECT_NEAR(rasterise_segment(g, p0, p1, len), 7 * 2.5, 1e-12);
  for (int kk = 0; kk < 3; ++kk)
    for (int jj = 0; jj < 4; ++jj)
      for (int i = 0; i < 7; ++i) {
        const double want = (jj == j && kk == k) ? 2.5 : 0.0;
        EXPECT_NEAR(len[g.d.index(i, jj, kk)], want, 1e-12) << i << " " << jj << " " << kk;
      }
}

TEST(VesselRaster, MainDiagonalOfACubeGivesHSqrt3InEachDiagonalVoxel) {
  const GridSpec g = grid(6, 6, 6, 4, 4, 4);
  const double p0[3] = {g.origin[0], g.origin[1], g.origin[2]};
  const double p1[3] = {g.origin[0] + 24, g.origin[1] + 24, g.origin[2] + 24};
  std::vector<double> len(g.nvox(), 0.0);
  EXPECT_NEAR(rasterise_segment(g, p0, p1, len), 24 * std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(sum(len), 24 * std::sqrt(3.0), 1e-12);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(len[g.d.index(i, i, i)], 4 * std::sqrt(3.0), 1e-12);
}

TEST(VesselRaster, ObliqueSegmentsMatchPerVoxelClippingAndSumToTheClippedLength) {
  const GridSpec g = grid(9, 5, 7, 3, 5, 2);
  const double segs[][6] = {
      {-20, 0, 90, 30, 40, 130},        // crosses the box, both ends outside
      {-10, 9.3, 102.7, 5.1, 18, 110},  // starts inside, ends inside
      {10, 30, 120, -40, 5, 99},        // negative direction
      {-13, 7, 101, 14, 32, 115},       // corner to corner
      {-100, 0, 0, -90, 1, 1},          // misses the box
  };
  for (const auto& s : segs) {
    const double p0[3] = {s[0], s[1], s[2]}, p1[3] = {s[3], s[4], s[5]};
    std::vector<double> len(g.nvox(), 0.0);
    const double got = rasterise_segment(g, p0, p1, len);
    const double lo[3] = {g.origin[0], g.origin[1], g.origin[2]};
    const double hi[3] = {lo[0] + 27, lo[1] + 25, lo[2] + 14};
    const double want = clipped_length(lo, hi, p0, p1);
    EXPECT_NEAR(got, want, 1e-12 * (1 + want));
    EXPECT_NEAR(sum(len), want, 1e-12 * (1 + want));
    for (int k = 0; k < g.d.nz; ++k)
      for (int j = 0; j < g.d.ny; ++j)
        for (int i = 0; i < g.d.nx; ++i) {
          const double vlo[3] = {lo[0] + i * 3, lo[1] + j * 5, lo[2] + k * 2};
          const double vhi[3] = {vlo[0] + 3, vlo[1] + 5, vlo[2] + 2};
          EXPECT_NEAR(len[g.d.index(i, j, k)], clipped_length(vlo, vhi, p0, p1), 1e-11);
        }
  }
}

TEST(VesselMap, RasterisationIsExactOverTheWholeNetwork) {
  const GridSpec g = grid(40, 30, 20, 10, 8, 12);
  const VesselSpec s{60, 4, 7};
  double total = 0;
  const std::vector<double> sv = generate_vessel_surface(g, s, nullptr, &total);
  ASSERT_EQ((long long)sv.size(), g.nvox());
  EXPECT_GT(total, 0);
  const double back = sum(sv) * (10 * 8 * 12) / (2 * kPi * 4);  // [um]
  EXPECT_NEAR(back / total, 1.0, 1e-9);
  for (double x : sv) EXPECT_GE(x, 0);
}

TEST(VesselMap, MeanSurfaceDensityMatchesTwoPiROverSpacingSquared) {
  const GridSpec g = grid(100, 100, 100, 10, 10, 10);                          // 1 mm^3
  const double spacing = 50, r = 5, want = 2 * kPi * r / (spacing * spacing);  // [1/um]
  double mean = 0;
  const int nseeds = 4;
  for (int seed = 1; seed <= nseeds; ++seed) {
    const std::vector<double> sv = generate_vessel_surface(g, {spacing, r, (unsigned long long)seed});
    const double m = sum(sv) / (double)g.nvox();
    EXPECT_NEAR(m / want, 1.0, 0.15) << "seed " << seed;  // one seed: about 5% standard deviation
    mean += m / nseeds;
  }
  std::printf("mean S/V %.6g 1/um, expected 2 pi r / spacing^2 = %.6g 1/um (ratio %.4f)\n", mean, want, mean / want);
  EXPECT_NEAR(mean / want, 1.0, 0.05);
}

TEST(VesselMap, SameSeedIsIdenticalAndDifferentSeedsDiffer) {
  const GridSpec g = grid(30, 30, 30, 10, 10, 10);
  const auto a = generate_vessel_surface(g, {50, 5, 42});
  const auto b = generate_vessel_surface(g, {50, 5, 42});
  const auto c = generate_vessel_surface(g, {50, 5, 43});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(sum(a), 0);
  EXPECT_GT(sum(c), 0);
}

TEST(VesselMap, ExclusionGivesZerosThereAndLeavesTheRestUntouched) {
  const GridSpec g = grid(30, 20, 25, 10, 10, 10);
  std::vector<uint8_t> mask(g.nvox(), 0);
  for (int k = 0; k < 25; ++k)
    for (int j = 0; j < 20; ++j)
      for (int i = 0; i < 30; ++i) {
        const double x = i - 14.5, y = j - 9.5, z = k - 12;
        mask[g.d.index(i, j, k)] = (x * x + y * y + z * z < 64) ? 3 : 0;  // necrotic core
      }
  const VesselSpec s{40, 3, 11};
  double t_full = 0, t_masked = 0;
  const auto full = generate_vessel_surface(g, s, nullptr, &t_full);
  const auto masked = generate_vessel_surface(g, s, mask.data(), &t_masked);
  EXPECT_EQ(t_full, t_masked);
  long long inside = 0, vascular_inside = 0;
  for (long long v = 0; v < g.nvox(); ++v) {
    if (mask[v]) {
      ++inside;
      vascular_inside += full[v] > 0;
      EXPECT_EQ(masked[v], 0.0);
    } else {
      EXPECT_EQ(masked[v], full[v]);
    }
  }
  EXPECT_GT(inside, 1000);
  EXPECT_GT(vascular_inside, 10);  // the mask really removed vessels
}

std::string error_of(const GridSpec& g, const VesselSpec& s) {
  try {
    generate_vessel_surface(g, s);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no exception";
}

TEST(VesselMap, InvalidInputsThrowWithClearMessages) {
  const GridSpec g = grid(4, 4, 4, 10, 10, 10);
  EXPECT_EQ(error_of(g, {0, 5, 1}), "generate_vessel_surface: mean_spacing_um must be > 0, got 0");
  EXPECT_EQ(error_of(g, {-50, 5, 1}), "generate_vessel_surface: mean_spacing_um must be > 0, got -50");
  EXPECT_EQ(error_of(g, {50, 0, 1}), "generate_vessel_surface: radius_um must be > 0, got 0");
  EXPECT_EQ(error_of(g, {50, 25, 1}),
            "generate_vessel_surface: radius_um must be < mean_spacing_um / 2, got radius 25 and "
            "spacing 50");
  EXPECT_EQ(error_of(grid(4, 0, 4, 10, 10, 10), {50, 5, 1}),
            "generate_vessel_surface: grid has zero size (4 x 0 x 4 voxels)");
  EXPECT_EQ(error_of(grid(4, 4, 4, 10, 0, 10), {50, 5, 1}), "generate_vessel_surface: grid spacing h must be > 0");
  EXPECT_EQ(error_of(g, {50, 24.9, 1}), "no exception");
}

}  // namespace
}  // namespace tme::test
