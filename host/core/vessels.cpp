#include "host/core/vessels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tme {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kExpMinus1 = 0.36787944117144233;  // e^-1, so no libm exp is needed

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("generate_vessel_surface: " + what); }

std::string num(double x) {
  std::ostringstream o;
  o << x;
  return o.str();
}

// Uniform in [0,1) from the top 53 bits: identical on every platform.
struct Uniform {
  std::mt19937_64 rng;
  explicit Uniform(unsigned long long seed) : rng(seed) {}
  double operator()() { return (double)(rng() >> 11) * 0x1.0p-53; }
  double sym() { return 2 * (*this)() - 1; }  // [-1,1)
};

// Poisson(mean) from multiplications only: the sum of ceil(mean) Poisson(1) counts (Knuth's
// product of uniforms against e^-1), each event then kept with probability mean / ceil(mean).
long long poisson(Uniform& u, double mean) {
  const long long m = (long long)std::ceil(mean);
  const double keep = mean / (double)m;
  long long n = 0;
  for (long long j = 0; j < m; ++j)
    for (double p = u(); p > kExpMinus1; p *= u())
      if (u() < keep) ++n;
  return n;
}

double dot(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
void cross(const double a[3], const double b[3], double out[3]) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

}  // namespace

double rasterise_segment(const GridSpec& g, const double p0[3], const double p1[3], std::vector<double>& len_um) {
  const int n[3] = {g.d.nx, g.d.ny, g.d.nz};
  double d[3], t0 = 0, t1 = 1;
  // Clip the parameter range [0,1] to the box (slab method).
  for (int a = 0; a < 3; ++a) {
    d[a] = p1[a] - p0[a];
    const double lo = g.origin[a], hi = g.origin[a] + n[a] * g.h[a];
    if (d[a] == 0) {
      if (p0[a] < lo || p0[a] > hi) return 0;
      continue;
    }
    double ta = (lo - p0[a]) / d[a], tb = (hi - p0[a]) / d[a];
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta);
    t1 = std::min(t1, tb);
  }
  if (!(t0 < t1)) return 0;
  const double L = std::sqrt(dot(d, d));  // [um] per unit of t

  // Amanatides-Woo: walk the voxels from t0, crossing the nearest face each step.
  int i[3], step[3];
  double tmax[3];
  auto face_t = [&](int a) {  // t of the face the walk leaves voxel i[a] through
    return (g.origin[a] + (i[a] + (step[a] > 0)) * g.h[a] - p0[a]) / d[a];
  };
  for (int a = 0; a < 3; ++a) {
    const double x = p0[a] + t0 * d[a];
    i[a] = std::clamp((int)std::floor((x - g.origin[a]) / g.h[a]), 0, n[a] - 1);
    step[a] = d[a] > 0 ? 1 : (d[a] < 0 ? -1 : 0);
    tmax[a] = step[a] ? face_t(a) : std::numeric_limits<double>::infinity();
  }
  double t = t0;
  for (;;) {
    const int a = tmax[0] < tmax[1] ? (tmax[0] < tmax[2] ? 0 : 2) : (tmax[1] < tmax[2] ? 1 : 2);
    const double tn = std::max(t, std::min(tmax[a], t1));
    len_um[g.d.index(i[0], i[1], i[2])] += (tn - t) * L;
    t = tn;
    if (t >= t1) break;
    i[a] += step[a];
    if (i[a] < 0 || i[a] >= n[a]) break;  // left the box through rounding: nothing left
    tmax[a] = face_t(a);
  }
  return (t - t0) * L;
}

std::vector<double> generate_vessel_surface(const GridSpec& g, const VesselSpec& s, const uint8_t* exclude,
                                            double* total_length_um) {
  const double sp = s.mean_spacing_um, r = s.radius_um;
  if (!(sp > 0)) fail("mean_spacing_um must be > 0, got " + num(sp));
  if (!(r > 0)) fail("radius_um must be > 0, got " + num(r));
  if (!(r < sp / 2)) fail("radius_um must be < mean_spacing_um / 2, got radius " + num(r) + " and spacing " + num(sp));
  if (g.d.nx <= 0 || g.d.ny <= 0 || g.d.nz <= 0)
    fail("grid has zero size (" + std::to_string(g.d.nx) + " x " + std::to_string(g.d.ny) + " x " +
         std::to_string(g.d.nz) + " voxels)");
  if (!(g.h[0] > 0 && g.h[1] > 0 && g.h[2] > 0)) fail("grid spacing h must be > 0");

  // Lines hitting the bounding ball (centre c, radius R). By Crofton, the mean length inside a
  // convex K of an isotropic uniform line hitting the ball is 4 vol(K) / (4 pi R^2), so
  // E[length in the box] = Lv * vol(box) needs a mean count of Lv * pi R^2.
  const double Lv = 1 / (sp * sp);  // [um / um^3]
  double c[3], diag2 = 0;
  for (int a = 0; a < 3; ++a) {
    const double ext = g.h[a] * (a == 0 ? g.d.nx : a == 1 ? g.d.ny : g.d.nz);
    c[a] = g.origin[a] + ext / 2;
    diag2 += ext * ext;
  }
  const double R = std::sqrt(diag2) / 2;

  Uniform u(s.seed);
  const long long nlines = poisson(u, Lv * kPi * R * R);
  std::vector<double> len(g.nvox(), 0.0);  // centre-line length per voxel [um]
  double total = 0;
  for (long long l = 0; l < nlines; ++l) {
    double dir[3], r2;
    do {  // uniform in the unit ball, then normalised: uniform on the sphere
      dir[0] = u.sym(), dir[1] = u.sym(), dir[2] = u.sym();
      r2 = dot(dir, dir);
    } while (r2 > 1 || r2 == 0);
    const double inv = 1 / std::sqrt(r2);
    for (double& x : dir) x *= inv;
    // Orthonormal e1, e2 perpendicular to dir (via the axis least aligned with it).
    const double ad[3] = {std::abs(dir[0]), std::abs(dir[1]), std::abs(dir[2])};
    const int m = ad[0] <= ad[1] ? (ad[0] <= ad[2] ? 0 : 2) : (ad[1] <= ad[2] ? 1 : 2);
    double axis[3] = {0, 0, 0}, e1[3], e2[3];
    axis[m] = 1;
    cross(dir, axis, e1);
    const double n1 = 1 / std::sqrt(dot(e1, e1));
    for (double& x : e1) x *= n1;
    cross(dir, e1, e2);
    double x, y;
    do {  // uniform in the unit disc
      x = u.sym(), y = u.sym();
    } while (x * x + y * y > 1);
    double p0[3], p1[3];
    for (int a = 0; a < 3; ++a) {
      const double mid = c[a] + R * (x * e1[a] + y * e2[a]);
      p0[a] = mid - 2 * R * dir[a];  // beyond the ball on both sides; clipped to the box
      p1[a] = mid + 2 * R * dir[a];
    }
    total += rasterise_segment(g, p0, p1, len);
  }
  if (total_length_um) *total_length_um = total;

  const double k = 2 * kPi * r / (g.h[0] * g.h[1] * g.h[2]);  // [um^2 / um^3]
  for (long long v = 0; v < g.nvox(); ++v) len[v] = (exclude && exclude[v]) ? 0.0 : k * len[v];
  return len;
}

}  // namespace tme
