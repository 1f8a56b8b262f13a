// Dose maps: analytic targets, trilinear resampling, file dispatch (see dose_map.hpp).
// The DICOM RT Dose reader lives in rt_dose_dicom.cpp (DCMTK).
#include "host/rt/dose_map.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "host/io/input_file.hpp"
#include "host/rt/format.hpp"

namespace tme {
namespace rt {

namespace {

constexpr double kZ80 = 0.8416212335729143;  // standard normal quantile of 0.8
constexpr double kSqrt2 = 1.4142135623730951;

// 1/2 erfc(s / (sqrt(2) sigma)); sigma = 0: step with 1/2 on the edge.
double edge_profile(double s, double sigma) {
  if (sigma > 0) return 0.5 * std::erfc(s / (kSqrt2 * sigma));
  return s < 0 ? 1.0 : (s > 0 ? 0.0 : 0.5);
}

// Fraction of [lo, hi] under a Gaussian of width sigma centred at x (1-D box profile).
double slab_profile(double x, double lo, double hi, double sigma) {
  if (sigma > 0) return 0.5 * (std::erf((x - lo) / (kSqrt2 * sigma)) - std::erf((x - hi) / (kSqrt2 * sigma)));
  return edge_profile(lo - x, 0) * edge_profile(x - hi, 0);
}

double target_profile(const Target& t, const double x[3], double sigma) {
  const double dx = x[0] - t.center_um[0], dy = x[1] - t.center_um[1], dz = x[2] - t.center_um[2];
  switch (t.shape) {
    case TargetShape::Sphere: {
      const double r = std::sqrt(dx * dx + dy * dy + dz * dz);
      return edge_profile(r - t.radius_um, sigma);
    }
    case TargetShape::Ellipsoid: {
      const double* a = t.half_size_um;
      const double rho = std::sqrt((dx / a[0]) * (dx / a[0]) + (dy / a[1]) * (dy / a[1]) + (dz / a[2]) * (dz / a[2]));
      const double r = std::sqrt(dx * dx + dy * dy + dz * dz);
      const double s = rho > 0 ? r * (1.0 - 1.0 / rho) : -std::min(a[0], std::min(a[1], a[2]));
      return edge_profile(s, sigma);
    }
    case TargetShape::Box: {
      double p = 1;
      for (int k = 0; k < 3; ++k)
        p *= slab_profile(x[k], t.center_um[k] - t.half_size_um[k], t.center_um[k] + t.half_size_um[k], sigma);
      return p;
    }
  }
  return 0;
}

}  // namespace

double penumbra_sigma(double penumbra_um) { return penumbra_um / (2.0 * kZ80); }

void check_analytic_dose(const AnalyticDose& a) {
  if (!std::isfinite(a.background_Gy) || a.background_Gy < 0)
    throw std::invalid_argument("background dose " + num(a.background_Gy) + " Gy must be >= 0");
  for (size_t i = 0; i < a.targets.size(); ++i) {
    const Target& t = a.targets[i];
    const std::string at = "target " + std::to_string(i + 1) + ": ";
    for (int k = 0; k < 3; ++k)
      if (!std::isfinite(t.center_um[k])) throw std::invalid_argument(at + "centre is not finite");
    if (!std::isfinite(t.prescription_Gy) || t.prescription_Gy < 0)
      throw std::invalid_argument(at + "prescription " + num(t.prescription_Gy) + " Gy must be >= 0");
    if (!std::isfinite(t.penumbra_um) || t.penumbra_um < 0)
      throw std::invalid_argument(at + "penumbra " + num(t.penumbra_um) + " um must be >= 0");
    if (t.shape == TargetShape::Sphere) {
      if (!std::isfinite(t.radius_um) || t.radius_um <= 0)
        throw std::invalid_argument(at + "sphere radius " + num(t.radius_um) + " um must be > 0");
    } else {
      const char* what = t.shape == TargetShape::Box ? "box half size" : "ellipsoid semi-axis";
      for (int k = 0; k < 3; ++k)
        if (!std::isfinite(t.half_size_um[k]) || t.half_size_um[k] <= 0)
          throw std::invalid_argument(at + what + " " + num(t.half_size_um[k]) + " um must be > 0");
    }
  }
}

double analytic_dose_at(const AnalyticDose& a, const double x_um[3]) {
  double d = a.background_Gy;
  for (const Target& t : a.targets) d += t.prescription_Gy * target_profile(t, x_um, penumbra_sigma(t.penumbra_um));
  return d;
}

std::vector<double> analytic_dose(const GridSpec& g, const AnalyticDose& a, double scale) {
  check_analytic_dose(a);
  std::vector<double> out((size_t)g.nvox());
#pragma omp parallel for schedule(static)
  for (int k = 0; k < g.d.nz; ++k)
    for (int j = 0; j < g.d.ny; ++j)
      for (int i = 0; i < g.d.nx; ++i) {
        const double x[3] = {g.center(0, i), g.center(1, j), g.center(2, k)};
        out[(size_t)g.d.index(i, j, k)] = scale * analytic_dose_at(a, x);
      }
  return out;
}

// ---- trilinear resampling ----------------------------------------------------------------------

namespace {

void check_image(const ImageMap& img) {
  if (img.d.nx < 1 || img.d.ny < 1 || img.d.nz < 1) throw std::invalid_argument("dose map: image has no voxels");
  if ((long long)img.values.size() != img.d.nvox())
    throw std::invalid_argument("dose map: image has " + std::to_string(img.values.size()) + " values for " +
                                std::to_string(img.d.nvox()) + " voxels");
  for (int a = 0; a < 3; ++a)
    if (!(img.h[a] > 0) || !std::isfinite(img.h[a]) || !std::isfinite(img.origin[a]))
      throw std::invalid_argument("dose map: image spacing must be > 0 and origin finite");
}

// Interpolation stencil along one axis for world coordinate x: lower index, weight of the upper
// one, and whether x lies in the image footprint.
struct Stencil {
  int i0 = 0, i1 = 0;
  double w = 0;
  bool inside = false;
};

Stencil stencil(const ImageMap& img, int axis, double x) {
  const int n = axis == 0 ? img.d.nx : axis == 1 ? img.d.ny : img.d.nz;
  const double h = img.h[axis], o = img.origin[axis];
  const double eps = 1e-9 * h;
  Stencil s;
  s.inside = x >= o - eps && x <= o + n * h + eps;
  double u = (x - o) / h - 0.5;  // continuous index of voxel centres
  if (n == 1) return s;
  u = std::min(std::max(u, 0.0), (double)(n - 1));
  int i0 = (int)std::floor(u);
  if (i0 > n - 2) i0 = n - 2;
  s.i0 = i0;
  s.i1 = i0 + 1;
  s.w = u - i0;
  return s;
}

std::string footprint_text(const ImageMap& img) {
  const int n[3] = {img.d.nx, img.d.ny, img.d.nz};
  std::string s;
  for (int a = 0; a < 3; ++a) {
    if (a) s += " x ";
    s += "[" + num(img.origin[a]) + ", " + num(img.origin[a] + n[a] * img.h[a]) + "]";
  }
  return s + " um";
}

double interp(const ImageMap& img, const Stencil& sx, const Stencil& sy, const Stencil& sz) {
  auto v = [&](int i, int j, int k) { return img.values[(size_t)img.d.index(i, j, k)]; };
  const double c00 = v(sx.i0, sy.i0, sz.i0) * (1 - sx.w) + v(sx.i1, sy.i0, sz.i0) * sx.w;
  const double c10 = v(sx.i0, sy.i1, sz.i0) * (1 - sx.w) + v(sx.i1, sy.i1, sz.i0) * sx.w;
  const double c01 = v(sx.i0, sy.i0, sz.i1) * (1 - sx.w) + v(sx.i1, sy.i0, sz.i1) * sx.w;
  const double c11 = v(sx.i0, sy.i1, sz.i1) * (1 - sx.w) + v(sx.i1, sy.i1, sz.i1) * sx.w;
  const double c0 = c00 * (1 - sy.w) + c10 * sy.w;
  const double c1 = c01 * (1 - sy.w) + c11 * sy.w;
  return c0 * (1 - sz.w) + c1 * sz.w;
}

}  // namespace

double sample_trilinear(const ImageMap& img, const double x_um[3], const ResampleOptions& opt) {
  check_image(img);
  const Stencil sx = stencil(img, 0, x_um[0]), sy = stencil(img, 1, x_um[1]), sz = stencil(img, 2, x_um[2]);
  if (!(sx.inside && sy.inside && sz.inside)) {
    if (opt.outside == OutsidePolicy::Error)
      throw std::runtime_error("dose map: point (" + num(x_um[0]) + ", " + num(x_um[1]) + ", " + num(x_um[2]) +
                               ") um lies outside the image " + footprint_text(img));
    return opt.fill;
  }
  return opt.scale * interp(img, sx, sy, sz);
}

std::vector<double> resample_trilinear(const ImageMap& img, const GridSpec& g, const ResampleOptions& opt) {
  check_image(img);
  std::vector<Stencil> st[3];
  const int n[3] = {g.d.nx, g.d.ny, g.d.nz};
  for (int a = 0; a < 3; ++a) {
    st[a].resize((size_t)n[a]);
    for (int i = 0; i < n[a]; ++i) st[a][(size_t)i] = stencil(img, a, g.center(a, i));
  }
  if (opt.outside == OutsidePolicy::Error) {
    for (int k = 0; k < n[2]; ++k)
      for (int j = 0; j < n[1]; ++j)
        for (int i = 0; i < n[0]; ++i)
          if (!(st[0][(size_t)i].inside && st[1][(size_t)j].inside && st[2][(size_t)k].inside))
            throw std::runtime_error("dose map: grid voxel (" + std::to_string(i) + ", " + std::to_string(j) + ", " +
                                     std::to_string(k) + ") at (" + num(g.center(0, i)) + ", " + num(g.center(1, j)) +
                                     ", " + num(g.center(2, k)) + ") um lies outside the image " + footprint_text(img));
  }
  std::vector<double> out((size_t)g.nvox());
#pragma omp parallel for schedule(static)
  for (int k = 0; k < n[2]; ++k)
    for (int j = 0; j < n[1]; ++j)
      for (int i = 0; i < n[0]; ++i) {
        const Stencil& sx = st[0][(size_t)i];
        const Stencil& sy = st[1][(size_t)j];
        const Stencil& sz = st[2][(size_t)k];
        out[(size_t)g.d.index(i, j, k)] =
            (sx.inside && sy.inside && sz.inside) ? opt.scale * interp(img, sx, sy, sz) : opt.fill;
      }
  return out;
}

// ---- file dispatch ---------------------------------------------------------------------------

namespace {
std::string lower_ext(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot);
  for (char& c : e) c = (char)std::tolower((unsigned char)c);
  return e;
}
}  // namespace

bool looks_like_dicom(const std::string& path) {
  if (lower_ext(path) == ".dcm") return true;
  // Never open what is not a regular file (a FIFO would block): the reader says what is wrong.
  try {
    check_input_file(path, InputKind::Data);
  } catch (const InputFileError&) {
    return false;
  }
  std::ifstream f(path, std::ios::binary);
  char b[132];
  if (!f.read(b, sizeof b)) return false;
  return std::memcmp(b + 128, "DICM", 4) == 0;
}

DoseImage read_dose_image(const std::string& path, const std::string& array) {
  DoseImage r;
  if (looks_like_dicom(path)) {
    RtDose d = read_rt_dose(path);
    r.map = std::move(d.map);
    r.format = "dicom";
    r.summation_type = d.summation_type;
    return r;
  }
  r.map = read_image_map(path, array);
  const std::string e = lower_ext(path);
  r.format = e.empty() ? "" : e.substr(1);
  return r;
}

}  // namespace rt
}  // namespace tme
