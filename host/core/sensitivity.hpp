// Global sensitivity analysis over a box of parameters: Latin hypercube sampling, Sobol
// first-order and total indices (Saltelli 2010 and Jansen 1999 estimators on the A, B, AB_i
// design) with percentile bootstrap confidence intervals, and Morris elementary effects.
//
// Why these are written here rather than taken from a library: the distribution's candidates
// were checked. GSL has quasi-random Sobol sequences but no Sobol indices; OpenTURNS
// (libopenturns-dev) has the Saltelli and Jansen estimators and Latin hypercube designs but no
// Morris method (its otmorris module is not packaged), and would add about 50 packages to the
// program's build for what is a few dozen lines of arithmetic here. The estimators are tested
// against the analytic indices of the Ishigami function and exact elementary effects of a
// linear function (tests/core/test_sensitivity.cpp).
//
// Everything works in the unit cube [0, 1)^d; map_to_box scales a point to the parameters'
// ranges. The caller evaluates the model at the design's points; the functions below turn the
// outcomes into indices. No global state: every random draw comes from the generator passed in.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace tme {
namespace gsa {

using Point = std::vector<double>;  // one point of the unit cube, d coordinates in [0, 1)

// n points of a Latin hypercube in [0, 1)^d: along each axis exactly one point in each of the
// n strata [k/n, (k+1)/n), at a uniform position inside it, strata permuted independently.
std::vector<Point> latin_hypercube(int n, int d, std::mt19937_64& rng);

// low + u * (high - low) per coordinate.
std::vector<double> map_to_box(const Point& u, const std::vector<double>& low, const std::vector<double>& high);

// The Saltelli design for n base samples of d parameters: A and B (two independent Latin
// hypercubes of n points), and for each i the matrix AB_i (A with column i taken from B).
// points() lists them in evaluation order: A, B, AB_0, ..., AB_{d-1} (n (d + 2) points).
struct SobolDesign {
  int n = 0, d = 0;
  std::vector<Point> A, B;
  std::vector<Point> points() const;
};
SobolDesign sobol_design(int n, int d, std::mt19937_64& rng);

struct SobolIndex {
  double S1 = 0, S1_low = 0, S1_high = 0;  // first-order index and its confidence interval
  double ST = 0, ST_low = 0, ST_high = 0;  // total index and its confidence interval
};

// Indices from the outcomes y (n (d + 2) values, in points() order):
//   V     = variance of the 2n outcomes of A and B
//   S1_i  = mean(f(B) (f(AB_i) - f(A))) / V            (Saltelli et al. 2010, eq. (b) of table 2)
//   ST_i  = mean((f(A) - f(AB_i))^2) / (2 V)           (Jansen 1999)
// and percentile bootstrap intervals at `confidence` (e.g. 0.95) from `resamples` resamplings of
// the n rows with replacement. Throws std::invalid_argument for sizes that do not match or an
// outcome that does not vary.
std::vector<SobolIndex> sobol_indices(const std::vector<double>& y, int n, int d, std::mt19937_64& rng,
                                      int resamples = 1000, double confidence = 0.95);

// The Morris one-at-a-time design: r trajectories of d + 1 points on a grid of `levels` levels
// (levels even, >= 2) with step delta = levels / (2 (levels - 1)); from a random base point each
// trajectory moves every parameter once, in random order, by +delta or -delta.
struct MorrisDesign {
  int r = 0, d = 0, levels = 4;
  double delta = 0;
  std::vector<Point> points;  // r (d + 1), trajectory by trajectory
  std::vector<int> moved;     // per point after the first of each trajectory: the parameter moved
};
MorrisDesign morris_design(int r, int d, int levels, std::mt19937_64& rng);

struct MorrisIndex {
  double mu = 0;       // mean elementary effect
  double mu_star = 0;  // mean absolute elementary effect (Campolongo 2007)
  double sigma = 0;    // standard deviation of the elementary effects
};

// Elementary effects (f(x + delta e_i) - f(x)) / delta in outcome units per unit of the cube
// (per whole range of the parameter), from the outcomes y at design.points.
std::vector<MorrisIndex> morris_indices(const MorrisDesign& design, const std::vector<double>& y);

}  // namespace gsa
}  // namespace tme
