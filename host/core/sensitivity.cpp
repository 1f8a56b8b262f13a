#include "host/core/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace tme {
namespace gsa {

namespace {

// A uniform draw in [0, 1) from the generator (53 random bits).
double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

// A uniform integer in [0, n).
int below(std::mt19937_64& rng, int n) { return (int)(rng() % (std::uint64_t)n); }

void shuffle(std::vector<int>& v, std::mt19937_64& rng) {
  // Fisher-Yates with our own draws (std::shuffle's use of the engine is not specified).
  for (int i = (int)v.size() - 1; i > 0; --i) std::swap(v[i], v[below(rng, i + 1)]);
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double x = q * (double)(v.size() - 1);
  const size_t k = (size_t)std::floor(x);
  if (k + 1 >= v.size()) return v.back();
  return v[k] + (x - (double)k) * (v[k + 1] - v[k]);
}

// S1 and ST of parameter i from the rows `rows` of the outcome blocks.
void estimate(const double* fA, const double* fB, const double* fAB, const std::vector<int>& rows, double& s1,
              double& st) {
  const double n = (double)rows.size();
  double mean = 0;
  for (int j : rows) mean += fA[j] + fB[j];
  mean /= 2 * n;
  double var = 0;
  for (int j : rows) var += (fA[j] - mean) * (fA[j] - mean) + (fB[j] - mean) * (fB[j] - mean);
  var /= 2 * n - 1;
  double first = 0, total = 0;
  for (int j : rows) {
    first += fB[j] * (fAB[j] - fA[j]);
    total += (fA[j] - fAB[j]) * (fA[j] - fAB[j]);
  }
  s1 = var > 0 ? first / n / var : 0;
  st = var > 0 ? total / (2 * n) / var : 0;
}

}  // namespace

std::vector<Point> latin_hypercube(int n, int d, std::mt19937_64& rng) {
  if (n < 1 || d < 1) throw std::invalid_argument("latin_hypercube: n and d must be >= 1");
  std::vector<Point> pts(n, Point(d));
  std::vector<int> perm(n);
  for (int k = 0; k < d; ++k) {
    std::iota(perm.begin(), perm.end(), 0);
    shuffle(perm, rng);
    for (int j = 0; j < n; ++j) pts[j][k] = (perm[j] + uniform01(rng)) / n;
  }
  return pts;
}

std::vector<double> map_to_box(const Point& u, const std::vector<double>& low, const std::vector<double>& high) {
  std::vector<double> x(u.size());
  for (size_t k = 0; k < u.size(); ++k) x[k] = low[k] + u[k] * (high[k] - low[k]);
  return x;
}

std::vector<Point> SobolDesign::points() const {
  std::vector<Point> out = A;
  out.insert(out.end(), B.begin(), B.end());
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < n; ++j) {
      Point p = A[j];
      p[i] = B[j][i];
      out.push_back(p);
    }
  return out;
}

SobolDesign sobol_design(int n, int d, std::mt19937_64& rng) {
  if (n < 2) throw std::invalid_argument("sobol_design: at least 2 base samples");
  SobolDesign s;
  s.n = n;
  s.d = d;
  s.A = latin_hypercube(n, d, rng);
  s.B = latin_hypercube(n, d, rng);
  return s;
}

std::vector<SobolIndex> sobol_indices(const std::vector<double>& y, int n, int d, std::mt19937_64& rng, int resamples,
                                      double confidence) {
  if (n < 2 || d < 1 || (long long)y.size() != (long long)n * (d + 2))
    throw std::invalid_argument("sobol_indices: " + std::to_string(y.size()) + " outcomes for n = " +
                                std::to_string(n) + ", d = " + std::to_string(d) + " (expected n (d + 2))");
  if (!(confidence > 0 && confidence < 1)) throw std::invalid_argument("sobol_indices: confidence not in (0, 1)");
  const double* fA = y.data();
  const double* fB = y.data() + n;
  {
    double lo = fA[0], hi = fA[0];
    for (int j = 0; j < 2 * n; ++j) lo = std::min(lo, fA[j]), hi = std::max(hi, fA[j]);
    if (!(hi > lo)) throw std::invalid_argument("sobol_indices: the outcome does not vary over the samples");
  }
  std::vector<int> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<SobolIndex> out(d);
  for (int i = 0; i < d; ++i) estimate(fA, fB, fA + (size_t)(2 + i) * n, rows, out[i].S1, out[i].ST);
  if (resamples < 1) {
    for (SobolIndex& s : out) s.S1_low = s.S1_high = s.S1, s.ST_low = s.ST_high = s.ST;
    return out;
  }
  // The same resampled rows for every parameter (one bootstrap of the whole design).
  std::vector<std::vector<double>> s1(d, std::vector<double>(resamples)), st(d, std::vector<double>(resamples));
  std::vector<int> pick(n);
  for (int b = 0; b < resamples; ++b) {
    for (int j = 0; j < n; ++j) pick[j] = below(rng, n);
    for (int i = 0; i < d; ++i) estimate(fA, fB, fA + (size_t)(2 + i) * n, pick, s1[i][b], st[i][b]);
  }
  const double tail = (1 - confidence) / 2;
  for (int i = 0; i < d; ++i) {
    out[i].S1_low = quantile(s1[i], tail);
    out[i].S1_high = quantile(s1[i], 1 - tail);
    out[i].ST_low = quantile(st[i], tail);
    out[i].ST_high = quantile(st[i], 1 - tail);
  }
  return out;
}

MorrisDesign morris_design(int r, int d, int levels, std::mt19937_64& rng) {
  if (r < 1 || d < 1) throw std::invalid_argument("morris_design: r and d must be >= 1");
  if (levels < 2 || levels % 2) throw std::invalid_argument("morris_design: levels must be even and >= 2");
  MorrisDesign m;
  m.r = r;
  m.d = d;
  m.levels = levels;
  m.delta = levels / (2.0 * (levels - 1));
  const double step = 1.0 / (levels - 1);
  std::vector<int> order(d);
  for (int t = 0; t < r; ++t) {
    // Base point on the grid; each coordinate can move by +delta or -delta inside [0, 1].
    Point x(d);
    for (int k = 0; k < d; ++k) x[k] = below(rng, levels) * step;
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    m.points.push_back(x);
    for (int k : order) {
      x[k] = x[k] + m.delta <= 1 + 1e-12 ? x[k] + m.delta : x[k] - m.delta;
      m.points.push_back(x);
      m.moved.push_back(k);
    }
  }
  return m;
}

std::vector<MorrisIndex> morris_indices(const MorrisDesign& m, const std::vector<double>& y) {
  if ((long long)y.size() != (long long)m.r * (m.d + 1))
    throw std::invalid_argument("morris_indices: " + std::to_string(y.size()) + " outcomes for r = " +
                                std::to_string(m.r) + ", d = " + std::to_string(m.d) + " (expected r (d + 1))");
  std::vector<std::vector<double>> ee(m.d);
  for (int t = 0; t < m.r; ++t)
    for (int s = 0; s < m.d; ++s) {
      const size_t a = (size_t)t * (m.d + 1) + s;  // before the move, after it at a + 1
      const int k = m.moved[(size_t)t * m.d + s];
      const double dx = m.points[a + 1][k] - m.points[a][k];  // +delta or -delta
      ee[k].push_back((y[a + 1] - y[a]) / dx);
    }
  std::vector<MorrisIndex> out(m.d);
  for (int k = 0; k < m.d; ++k) {
    double sum = 0, abs = 0;
    for (double e : ee[k]) sum += e, abs += std::fabs(e);
    const double mu = sum / ee[k].size();
    double var = 0;
    for (double e : ee[k]) var += (e - mu) * (e - mu);
    out[k].mu = mu;
    out[k].mu_star = abs / ee[k].size();
    out[k].sigma = ee[k].size() > 1 ? std::sqrt(var / (ee[k].size() - 1)) : 0;
  }
  return out;
}

}  // namespace gsa
}  // namespace tme
