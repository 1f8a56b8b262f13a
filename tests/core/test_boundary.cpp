// Every boundary kind (kernels/boundary.hpp) through every operator that meets the grid's
// faces: the explicit step, both implicit schemes and the explicit step limit agree with each
// other and with exact answers of the same grid.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "host/core/observables.hpp"
#include "host/core/simulation.hpp"
#include "kernels/implicit_line.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/core/exact.hpp"
#include "tests/core/implicit_helpers.hpp"

namespace tme::test {
namespace {

// The kinds a pair of faces of one axis can take.
struct FacePair {
  const char* name;
  FaceBC lo, hi;
};
const FacePair kPairs[] = {
    {"no_flux/no_flux", {kNoFlux, 0}, {kNoFlux, 0}}, {"fixed/no_flux", {kFixed, 1.5f}, {kNoFlux, 0}},
    {"no_flux/fixed", {kNoFlux, 0}, {kFixed, 0.5f}}, {"fixed/fixed", {kFixed, 1.5f}, {kFixed, 0.5f}},
    {"periodic", {kPeriodic, 0}, {kPeriodic, 0}},
};

// A line of n cells along `axis` (the other axes one cell, no-flux), spacing h [um], uniform D
// [um^2/s], decay k [1/s], faces of the axis from `pair`.
Problem line_along(int axis, int n, const FacePair& pair, double h, double D, double k) {
  Dims d{1, 1, 1};
  (axis == 0 ? d.nx : (axis == 1 ? d.ny : d.nz)) = n;
  Problem p = make_uniform_problem(d, h, 1, D, k);
  p.coeffs[0].bc[2 * axis] = pair.lo;
  p.coeffs[0].bc[2 * axis + 1] = pair.hi;
  return p;
}

// Largest diagonal magnitude of the diffusion operator over the grid [1/s], three ways: the
// explicit operator probed with unit vectors (its constant part, the fixed-value terms,
// removed), the implicit line rows (LOD) and the uniform rows (ADI factors), summed over axes.
struct Diagonals {
  double expl = 0, rows = 0, uniform = 0;
};
Diagonals largest_diagonals(const Problem& p) {
  const Dims d = p.grid.d;
  const GridGeom g = p.grid.geom();
  const SpeciesCoeffs& sc = p.coeffs[0];
  std::vector<real> zero(d.nvox(), real(0)), unit(d.nvox(), real(0));
  Diagonals out;
  for (int k = 0; k < d.nz; ++k)
    for (int j = 0; j < d.ny; ++j)
      for (int i = 0; i < d.nx; ++i) {
        const long long idx = d.index(i, j, k);
        unit[idx] = 1;
        const double e = double(diffusion_rhs(ConstView<real>{unit.data(), d}, sc, nullptr, g, i, j, k)) -
                         diffusion_rhs(ConstView<real>{zero.data(), d}, sc, nullptr, g, i, j, k);
        unit[idx] = 0;
        out.expl = std::max(out.expl, -e);
        const int q[3] = {i, j, k};
        double rows = 0, uni = 0;
        for (int ax = 0; ax < 3; ++ax) {
          const int n = axis_len(d, ax);
          const LineRow r = line_row(sc, nullptr, ax, g.inv_h2[ax], n, q[ax], idx, axis_stride(d, ax));
          const LineRow u = uniform_row(sc, sc.D[0], ax, g.inv_h2[ax], n, q[ax]);
          rows += double(r.wl) + r.wr + r.wf;
          uni += double(u.wl) + u.wr + u.wf;
        }
        out.rows = std::max(out.rows, rows);
        out.uniform = std::max(out.uniform, uni);
      }
  return out;
}

TEST(Boundary, StepLimitIsTheLargestDiagonalOfEveryOperator) {
  // Forward Euler stays positive up to dt = 1 / (largest diagonal + decay): Problem's formula
  // (end_face_weight) against the operators themselves, for every kind on lines of 1, 2, 3 and
  // 5 cells along each axis, and on 3D grids mixing kinds per axis.
  const double h = 10, D = 100, k = 0.25;
  for (int axis = 0; axis < 3; ++axis)
    for (int n : {1, 2, 3, 5})
      for (const FacePair& pair : kPairs) {
        const Problem p = line_along(axis, n, pair, h, D, k);
        const Diagonals dg = largest_diagonals(p);
        const std::string where = std::string(pair.name) + " axis " + std::to_string(axis) + " n " + std::to_string(n);
        EXPECT_NEAR(dg.rows, dg.expl, 1e-6 * dg.expl) << where;  // all 0 on a closed 1-cell line
        EXPECT_NEAR(dg.uniform, dg.expl, 1e-6 * dg.expl) << where;
        EXPECT_NEAR(p.explicit_dt_limit() * (dg.expl + k), 1.0, 1e-6) << where;
      }
  // Expected largest diagonals of these lines in units of D/h^2, by hand: an interior face 1,
  // a fixed face 2, a no-flux face 0, a periodic wrap face 1 (none on a 1-cell line).
  const double w = D / (h * h);
  const Problem one_fixed = line_along(0, 1, kPairs[3], h, D, 0);
  EXPECT_DOUBLE_EQ(one_fixed.explicit_dt_limit(), 1 / (4 * w));
  const Problem two_periodic = line_along(1, 2, kPairs[4], h, D, 0);
  EXPECT_DOUBLE_EQ(two_periodic.explicit_dt_limit(), 1 / (2 * w));
  const Problem two_fixed = line_along(2, 2, kPairs[1], h, D, 0);
  EXPECT_DOUBLE_EQ(two_fixed.explicit_dt_limit(), 1 / (3 * w));
  const Problem one_periodic = line_along(0, 1, kPairs[4], h, D, k);
  EXPECT_DOUBLE_EQ(one_periodic.explicit_dt_limit(), 1 / k);
  for (Dims d : {Dims{4, 2, 1}, Dims{3, 5, 2}, Dims{1, 3, 4}})
    for (int a = 0; a < 5; ++a) {
      Problem p = make_uniform_problem(d, h, 1, D, k);
      p.grid.h[1] = 7;
      for (int ax = 0; ax < 3; ++ax) {
        const FacePair& pair = kPairs[(a + 2 * ax) % 5];
        p.coeffs[0].bc[2 * ax] = pair.lo;
        p.coeffs[0].bc[2 * ax + 1] = pair.hi;
      }
      const Diagonals dg = largest_diagonals(p);
      EXPECT_NEAR(dg.rows, dg.expl, 1e-6 * dg.expl);
      EXPECT_NEAR(p.explicit_dt_limit() * (dg.expl + k), 1.0, 1e-6) << d.nx << "x" << d.ny << "x" << d.nz << " " << a;
    }
}

// Exact steady state of the same grid in double: D c'' - k c = 0 on a line of n cells with the
// faces of `pair` (not periodic): a fixed face v adds 2 w (v - c) to its end cell, w = D/h^2.
std::vector<double> steady_line(int n, const FacePair& pair, double h, double D, double k) {
  const double w = D / (h * h);
  std::vector<double> A(n), B(n), C(n), R(n, 0.0), x(n);
  for (int p = 0; p < n; ++p) {
    A[p] = p > 0 ? -w : 0;
    C[p] = p < n - 1 ? -w : 0;
    B[p] = -(A[p] + C[p]) + k;
  }
  if (pair.lo.type == kFixed) B[0] += 2 * w, R[0] += 2 * w * pair.lo.value;
  if (pair.hi.type == kFixed) B[n - 1] += 2 * w, R[n - 1] += 2 * w * pair.hi.value;
  for (int p = 1; p < n; ++p) {
    const double m = A[p] / B[p - 1];
    B[p] -= m * C[p - 1];
    R[p] -= m * R[p - 1];
  }
  x[n - 1] = R[n - 1] / B[n - 1];
  for (int p = n - 2; p >= 0; --p) x[p] = (R[p] - C[p] * x[p + 1]) / B[p];
  return x;
}

using BoundarySteady = BackendTest;

TEST_P(BoundarySteady, WallFacesWithDecayReachTheExactSteadyStateOfTheGrid) {
  // A fixed value on one face or both, no flux on the other, first-order decay with a decay
  // length of 6 cells; lines of 1, 2 and 24 cells along each axis (the x lines and the y, z
  // lines take different paths on the GPU). Explicit and ADI reach the exact discrete steady
  // state to round-off (ADI keeps it exactly at any step; so does BE, here at k dt = 10). LOD's steady state carries
  // its splitting error, O(k dt): measured up to 6.7e-3 relative (either sign) at k dt = 0.01.
  auto b = backend();
  const double h = 10, D = 100, lam = 6 * h, k = D / (lam * lam), T = 40 / k;
  for (int axis = 0; axis < 3; ++axis)
    for (int n : {1, 2, 24})
      for (int pi = 1; pi <= 3; ++pi) {
        const FacePair& pair = kPairs[pi];
        const Problem p = line_along(axis, n, pair, h, D, k);
        const std::vector<double> exact = steady_line(n, pair, h, D, k);
        const std::vector<real> ex = run(*b, p, T);
        const std::vector<real> adi = run(*b, with_integrator(p, Integrator::kAdi, 25 * p.explicit_dt_limit()), T);
        const std::vector<real> lod = run(*b, with_integrator(p, Integrator::kLod, 0.01 / k), T);
        const std::vector<real> be = run(*b, with_integrator(p, Integrator::kBe, 10 / k), T);
        for (int q = 0; q < n; ++q) {
          const std::string where = std::string(pair.name) + " axis " + std::to_string(axis) + " n " +
                                    std::to_string(n) + " cell " + std::to_string(q);
          EXPECT_NEAR(ex[q], exact[q], 1e-5 * 1.5) << "explicit " << where;
          EXPECT_NEAR(adi[q], exact[q], 1e-5 * 1.5) << "adi " << where;
          EXPECT_NEAR(lod[q] / exact[q], 1.0, 7.5e-3) << "lod " << where;
          EXPECT_NEAR(be[q], exact[q], 1e-5 * 1.5) << "be " << where;
        }
      }
}

TEST_P(BoundarySteady, PeriodicFacesConserveTheTotalAndReachTheMean) {
  // Periodic on every face, no decay, on a grid with long (6), short (2) and single-cell
  // periodic lines: every scheme conserves the total to float32 round-off and relaxes to the
  // uniform mean (the steady state).
  auto b = backend();
  const Dims d{6, 2, 1};
  Problem p = make_uniform_problem(d, 10, 1, 50, 0);
  for (int f = 0; f < 6; ++f) p.coeffs[0].bc[f] = {kPeriodic, 0};
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& v : p.initial) v = real(u(rng));
  const double total = total_amount(p, p.initial, 0), mean = total / (d.nvox() * 1000.0);  // h^3 = 1000 um^3
  const double T = 60;  // slowest mode: 4 D/h^2 sin^2(pi/6) = 0.5/s
  for (Integrator in : {Integrator::kExplicit, Integrator::kLod, Integrator::kAdi, Integrator::kBe}) {
    const Problem q = in == Integrator::kExplicit ? p : with_integrator(p, in, 4 * p.explicit_dt_limit());
    const std::vector<real> c = run(*b, q, T);
    EXPECT_NEAR(total_amount(q, c, 0) / total, 1.0, 1e-6) << integrator_name(in);
    for (long long v = 0; v < d.nvox(); ++v) EXPECT_NEAR(c[v], mean, 1e-5) << integrator_name(in) << " voxel " << v;
  }
}

TME_INSTANTIATE_BACKENDS(BoundarySteady);

}  // namespace
}  // namespace tme::test
