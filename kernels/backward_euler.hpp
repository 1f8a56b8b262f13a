// Coupled 3D backward Euler ('be'): one linear solve per step and species of
//     (I/dt - L + K) u' = u/dt + S + b,
// L the 7-point diffusion operator of diffusion.hpp (per-voxel D, harmonic means at label
// faces), b its fixed-value boundary terms (boundary.hpp), K >= 0 the frozen linear reaction
// rate per voxel (decay plus Michaelis-Menten uptake linearised at the step's start,
// K = k + V/(Km + u)), S >= 0 the sources. Held voxels are identity rows (they keep their value
// and act on their neighbours only through the neighbours' rows). The matrix is a symmetric
// M-matrix, so u' >= 0 for u >= 0, and a steady state of the discrete problem is a fixed point
// at any step. First order in time.
//
// Solved in delta form, A d = G(u) with d = u' - u, A = I/dt - L + K and G(u) = L u + b + S - K u
// the full right-hand side in flux form (diffusion_rhs): the float rounding of A (whose
// diagonal is a small difference of large numbers at large steps) touches only the increment,
// and G vanishes exactly at a steady state. The increment is zero at held voxels, so a held
// neighbour's face weight sits on the diagonal of its free neighbours and the system for the
// free voxels is symmetric positive definite.
//
// A species with D = 0 everywhere has a diagonal system, solved per voxel (BeDiagonalOp).
//
// Model terms in the solve (time.model_terms: in_solve): the model's secretion, uptake and
// exchange terms whose target diffuses leave the reaction pass and join this operator:
// secretion (rate x population density x factors) into S, uptake's per-capita rate into K (the
// secant l/(1 + u/km) under be, the derivative l/(1 + u/km)^2 in the TR-BDF2 stages) and its
// loss into G, exchange through the vessels k (Cb - u) (k = permeability x vessel surface
// density x factors, Cb the plasma level's mean over the step, BeAssembleArgs::lin.globals) as
// the source k Cb into S and the linear rate k into K; all evaluated per voxel at the current
// state (be_term_rates). The populations and the other inputs of the factors are those at the
// solve (the populations do not change during the transport step of the splitting). So a field's secretion and its
// sinks are balanced inside one solve: a uniform field secreted and taken up by a fixed population keeps its exact
// steady state at any step. Measured on the sarcoma example: docs/performance.md.
//
// Solver: conjugate gradients preconditioned by one multigrid V-cycle (red-black Gauss-Seidel,
// one sweep before and the reverse sweep after the coarse correction, so the preconditioner is
// symmetric; damped Jacobi on a level whose periodic axis has an odd length, where red-black
// colouring does not split). Coarse levels aggregate 2 cells per axis (the last aggregate of an
// odd axis has 1) with the Galerkin operator of piecewise-constant prolongation, which keeps the
// 7-point flux form: a coarse face weight is the sum of the fine face weights crossing it and
// the coarse diagonal term the sum of the children's (faces inside an aggregate cancel). So
// labels, walls, periodic axes, held voxels and K carry to every level with no rediscretisation
// and any grid size coarsens. The coarsest level (at most kBeCoarsestVoxels) is solved by
// kBeCoarseSweeps symmetric red-black sweeps. Iterates to a relative residual of
// kBeTolerance (|r| / |G(u)| in the 2-norm over the free voxels) or throws after
// kBeMaxIterations; a right-hand side at the underflow level is scaled to unit size first
// (be_rhs_exponent).
//
// Chosen by iteration counts (CPU, float32, to the same tolerance): on 64^3 at D dt/h^2 = 16.7
// (bench_step, 4 species; uniform / uptake) this solver takes 10 / 9 iterations per solve,
// CG with a Jacobi preconditioner 78 / 56, the V-cycle alone as a stationary iteration 24 / 20;
// on the 30^3 oxygen case at 1 h steps (scenes/tests/oxygen_vessel_mm.yaml, D dt/h^2 = 720)
// 16, 157 and 55. An iteration here costs about two of Jacobi-CG and one of the bare V-cycle
// (the fine level's passes dominate), so it is 2.5-5x cheaper than either at large steps. The
// bare V-cycle converges slowly because piecewise-constant aggregation makes the coarse
// operators too stiff by about 2 on every level; CG absorbs that.
//
// Dot products are sums over kBeDotBlocks fixed blocks of voxels, added in block order on the
// host in double, so the result does not depend on the thread count.
#pragma once
#include <stdint.h>

#include <cmath>
#include <limits>

#include "diffusion.hpp"
#include "reduce.hpp"
#include "state_check.hpp"
#include "terms.hpp"

namespace tme {

// Relative residual at which the solve stops (2-norm of the residual over that of G(u)).
constexpr double kBeTolerance = sizeof(real) == 4 ? 1e-6 : 1e-10;
// Preconditioned CG iterations after which the solve gives up (throws).
constexpr int kBeMaxIterations = 200;
// A level with at most this many cells is the coarsest.
constexpr long long kBeCoarsestVoxels = 64;
// Red-black sweep pairs on the coarsest level (then one more red sweep: a palindrome).
constexpr int kBeCoarseSweeps = 16;
// Jacobi damping on levels that cannot be coloured red-black.
constexpr double kBeJacobiWeight = 0.8;
// Partial sums of a dot product (fixed, so the sum's order is fixed).
constexpr int kBeDotBlocks = 1024;

// One level of the multigrid hierarchy: the operator in flux form
//     (A x)_i = self_i x_i + sum over faces f of i of w_f (x_i - x_nb(f)),
// w[a][i] the weight of the face between cell i and its upper neighbour along axis a
// (wrap_index: the wrapped cell on periodic axes) [1/s], 0 where there is no such face or
// where the face touches an inactive cell; act 0 for held (inactive) cells, whose rows are
// the identity with right-hand side 0.
struct MgLevel {
  Dims d;
  int rb = 1;  // 1: red-black Gauss-Seidel smoothing; 0: damped Jacobi
  real* self = nullptr;
  real* w[3] = {nullptr, nullptr, nullptr};
  uint8_t* act = nullptr;
  real* x = nullptr;  // solution (the correction on coarse levels)
  real* b = nullptr;  // right-hand side
  real* r = nullptr;  // residual scratch
};

// Neighbour offsets of cell (i, j, k): lower and upper cell along each axis (wrapped).
struct MgNeighbours {
  long long lo[3], up[3];
};
TME_HD inline MgNeighbours mg_neighbours(const Dims& d, int i, int j, int k) {
  MgNeighbours n;
  const int q[3] = {i, j, k}, len[3] = {d.nx, d.ny, d.nz};
  const long long st[3] = {1, (long long)d.nx, (long long)d.nx * d.ny};
  const long long v = d.index(i, j, k);
  for (int a = 0; a < 3; ++a) {
    const long long span = (long long)(len[a] - 1) * st[a];
    n.lo[a] = q[a] > 0 ? v - st[a] : v + span;
    n.up[a] = q[a] < len[a] - 1 ? v + st[a] : v - span;
  }
  return n;
}

// (A x)_i at cell (i, j, k) of level L [unit/s]; 0 at inactive cells.
TME_HD inline real mg_apply(const MgLevel& L, const real* x, int i, int j, int k) {
  const long long v = L.d.index(i, j, k);
  if (!L.act[v]) return real(0);
  const MgNeighbours n = mg_neighbours(L.d, i, j, k);
  const real xv = x[v];
  real s = L.self[v] * xv;
  for (int a = 0; a < 3; ++a) s += L.w[a][v] * (xv - x[n.up[a]]) + L.w[a][n.lo[a]] * (xv - x[n.lo[a]]);
  return s;
}

// Gauss-Seidel value of cell (i, j, k): the solution of its own row with the neighbours'
// current values.
TME_HD inline real mg_relax(const MgLevel& L, int i, int j, int k) {
  const long long v = L.d.index(i, j, k);
  const MgNeighbours n = mg_neighbours(L.d, i, j, k);
  real diag = L.self[v], off = L.b[v];
  for (int a = 0; a < 3; ++a) {
    const real wu = L.w[a][v], wl = L.w[a][n.lo[a]];
    diag += wu + wl;
    off += wu * L.x[n.up[a]] + wl * L.x[n.lo[a]];
  }
  return off / diag;
}

// Diagonal of A at cell (i, j, k).
TME_HD inline real mg_diag(const MgLevel& L, int i, int j, int k) {
  const long long v = L.d.index(i, j, k);
  const MgNeighbours n = mg_neighbours(L.d, i, j, k);
  real diag = L.self[v];
  for (int a = 0; a < 3; ++a) diag += L.w[a][v] + L.w[a][n.lo[a]];
  return diag;
}

// The fine level of one species: its row terms, its right-hand side G(u) and a zero increment.
struct BeAssembleArgs {
  GridGeom g;
  real dt = 0;                        // step [s]
  const real* u = nullptr;            // the species' block of the state [unit]
  const SpeciesCoeffs* sc = nullptr;  // the species' coefficients
  const uint8_t* label = nullptr;
  const real* src = nullptr;   // its source block [unit/s], or null
  const real* upt = nullptr;   // its uptake Vmax block [unit/s], or null
  const real* hold = nullptr;  // its held-value block [unit] (NaN = free), or null
  MgLevel L;                   // level 0 (b: G(u); x: set to 0)
  real* delta = nullptr;       // increment, set to 0
  // The stages of TR-BDF2 (see below): the right-hand side is rhs_scale G(u), plus
  // prev_coef (u - prev[v]) where prev is not null.
  real rhs_scale = 1;
  const real* prev = nullptr;  // [unit]
  real prev_coef = 0;          // [1/s]
  // 1: K takes the uptake's derivative V Km/(Km + u+)^2 instead of its secant V/(Km + u+).
  int jacobian = 0;
  // Model terms in the solve: the secretion and uptake terms of this species (lin.terms in
  // the local slots of the reaction pass, target lin_slot), at the voxel's current state.
  ReactionArgs lin;             // nterms 0: none
  int lin_slot = -1;            // the species' local slot, -1 without terms in the solve
  const real* state = nullptr;  // every field, nvox values each
  long long nvox = 0;
};

// The model terms of the species at voxel v with its own value u: source S [unit/s] and
// per-capita loss rate, as the secant Ks = l/(1 + u+/km) (loss Ks u+) and as its derivative
// Kd = l/(1 + u+/km)^2 [1/s], l = rate c_src F (km 0: linear, Ks = Kd = l); an exchange term
// adds k Cb+ to S and k to Ks and Kd (k = rate c_src F, Cb = lin.globals[t.global]).
TME_HD inline void be_term_rates(const BeAssembleArgs& a, long long v, real u, real& S, real& Ks, real& Kd) {
  const ReactionArgs& r = a.lin;
  real c[kMaxReactSpecies];
  for (int m = 0; m < r.nlocal; ++m) c[m] = m == a.lin_slot ? clamp_nonneg(u) : a.state[r.local[m] * a.nvox + v];
  const real phi = occupied_fraction(r, c);
  for (int q = 0; q < r.nterms; ++q) {
    const Term& t = r.terms[q];
    if (t.target != a.lin_slot) continue;
    const real k = t.rate() * term_source(t, c) * term_factors(t, c, phi);
    if (t.kind == kTermSecretion) {
      S += k;
    } else if (t.kind == kTermExchange) {  // k (Cb - u): a source k Cb+ and a linear sink k u
      S += k * clamp_nonneg(r.globals[t.global]);
      Ks += k;
      Kd += k;
    } else {
      const real d = t.km() > real(0) ? real(1) + c[t.target] / t.km() : real(1);
      Ks += k / d;
      Kd += k / (d * d);
    }
  }
}

TME_HD inline bool be_held(const BeAssembleArgs& a, long long v) { return a.hold && a.hold[v] == a.hold[v]; }

// Frozen linear reaction rate K [1/s] from the step's start value u: decay plus
// Michaelis-Menten uptake V/(Km + u+) (vmax: the voxel's V [unit/s]).
TME_HD inline real be_rate(const SpeciesCoeffs& sc, real vmax, real u) {
  return sc.decay + (vmax > real(0) ? vmax / (sc.km + clamp_nonneg(u)) : real(0));
}

// The same with the uptake's derivative: k + V Km/(Km + u+)^2 (the exact Jacobian of the
// reaction part, still >= 0).
TME_HD inline real be_rate_jacobian(const SpeciesCoeffs& sc, real vmax, real u) {
  if (!(vmax > real(0))) return sc.decay;
  const real den = sc.km + clamp_nonneg(u);
  return sc.decay + vmax * sc.km / (den * den);
}

struct BeAssembleOp {
  BeAssembleArgs a;
  TME_HD void operator()(int i, int j, int k) const {
    const SpeciesCoeffs& sc = *a.sc;
    const Dims& d = a.g.d;
    const long long v = d.index(i, j, k);
    a.delta[v] = real(0);
    a.L.x[v] = real(0);
    for (int ax = 0; ax < 3; ++ax) a.L.w[ax][v] = real(0);
    if (be_held(a, v)) {
      a.L.act[v] = 0;
      a.L.self[v] = real(1);
      a.L.b[v] = real(0);
      return;
    }
    a.L.act[v] = 1;
    const real uv = a.u[v];
    const real S = a.src ? a.src[v] : real(0), V = a.upt ? a.upt[v] : real(0);
    real Sm = 0, Ks = 0, Kd = 0;
    if (a.lin_slot >= 0) be_term_rates(a, v, uv, Sm, Ks, Kd);
    real self = real(1) / a.dt + (a.jacobian ? be_rate_jacobian(sc, V, uv) + Kd : be_rate(sc, V, uv) + Ks);
    const int q[3] = {i, j, k}, len[3] = {d.nx, d.ny, d.nz};
    const long long st[3] = {1, (long long)d.nx, (long long)d.nx * d.ny};
    for (int ax = 0; ax < 3; ++ax)
      for (int dir = -1; dir <= 1; dir += 2) {
        const int p = across_face(len[ax], q[ax], dir, axis_periodic(sc, ax));
        if (p < 0) {  // a wall: its ghost term m w sits on the diagonal
          self += wall_closure(sc.bc[face_index(ax, dir)]).m * cell_D(sc, a.label, v) * a.g.inv_h2[ax];
          continue;
        }
        const long long nb = v + (long long)(p - q[ax]) * st[ax];
        const real wf = face_D(sc, a.label, v, nb) * a.g.inv_h2[ax];
        if (be_held(a, nb))
          self += wf;  // a held neighbour's increment is 0: its face is a diagonal term
        else if (dir > 0)
          a.L.w[ax][v] = wf;
      }
    a.L.self[v] = self;
    const real F = diffusion_rhs(ConstView<real>{a.u, d}, sc, a.label, a.g, i, j, k);
    const real G =
        F + S + Sm - sc.decay * uv - V * clamp_nonneg(uv) / (sc.km + clamp_nonneg(uv)) - Ks * clamp_nonneg(uv);
    a.L.b[v] = a.rhs_scale * G + (a.prev ? a.prev_coef * (uv - a.prev[v]) : real(0));
  }
};

// The fine cells of coarse cell (I, J, K): 2 per axis, 1 at an odd end [lo, hi] inclusive.
struct MgChildren {
  int lo[3], hi[3];
};
TME_HD inline MgChildren mg_children(const Dims& fine, int I, int J, int K) {
  const int c[3] = {I, J, K}, n[3] = {fine.nx, fine.ny, fine.nz};
  MgChildren ch{};
  for (int a = 0; a < 3; ++a) {
    ch.lo[a] = 2 * c[a];
    ch.hi[a] = ch.lo[a] + 1 < n[a] ? ch.lo[a] + 1 : ch.lo[a];
  }
  return ch;
}

// Coarse level C from fine level F (per coarse cell): Galerkin aggregation of the 2x2x2 (fewer
// at odd ends) children.
struct MgCoarsenOp {
  MgLevel F, C;
  TME_HD void operator()(int I, int J, int K) const {
    const long long cv = C.d.index(I, J, K);
    const MgChildren ch = mg_children(F.d, I, J, K);
    const int i0 = ch.lo[0], j0 = ch.lo[1], k0 = ch.lo[2], i1 = ch.hi[0], j1 = ch.hi[1], k1 = ch.hi[2];
    const int top[3] = {i1, j1, k1}, nc[3] = {C.d.nx, C.d.ny, C.d.nz};
    real self = 0, w[3] = {0, 0, 0};
    int active = 0;
    for (int k = k0; k <= k1; ++k)
      for (int j = j0; j <= j1; ++j)
        for (int i = i0; i <= i1; ++i) {
          const long long v = F.d.index(i, j, k);
          if (!F.act[v]) continue;
          active = 1;
          self += F.self[v];
          const int q[3] = {i, j, k};
          // The upper face of a top child leads to the next aggregate (to this one again on a
          // periodic axis of one coarse cell, where it cancels).
          for (int a = 0; a < 3; ++a)
            if (q[a] == top[a] && nc[a] > 1) w[a] += F.w[a][v];
        }
    C.act[cv] = uint8_t(active);
    C.self[cv] = active ? self : real(1);
    for (int a = 0; a < 3; ++a) C.w[a][cv] = active ? w[a] : real(0);
  }
};

// r = b - A x on level L.
struct MgResidualOp {
  MgLevel L;
  TME_HD void operator()(int i, int j, int k) const {
    const long long v = L.d.index(i, j, k);
    L.r[v] = L.act[v] ? L.b[v] - mg_apply(L, L.x, i, j, k) : real(0);
  }
};

// out = A in on level L.
struct MgApplyOp {
  MgLevel L;
  const real* in = nullptr;
  real* out = nullptr;
  TME_HD void operator()(int i, int j, int k) const { out[L.d.index(i, j, k)] = mg_apply(L, in, i, j, k); }
};

// One colour of a red-black Gauss-Seidel sweep (colour = (i + j + k) mod 2), run over the
// half grid mg_half_dims: cell (h, j, k) is x index 2 h or 2 h + 1, whichever has the colour.
TME_HD inline Dims mg_half_dims(const Dims& d) { return Dims{(d.nx + 1) / 2, d.ny, d.nz}; }
struct MgSmoothOp {
  MgLevel L;
  int colour = 0;
  TME_HD void operator()(int h, int j, int k) const {
    const int i = 2 * h + ((j + k + colour) & 1);
    if (i >= L.d.nx) return;
    const long long v = L.d.index(i, j, k);
    L.x[v] = L.act[v] ? mg_relax(L, i, j, k) : real(0);
  }
};

// Damped Jacobi from the residual in L.r: x += omega r / diag.
struct MgJacobiOp {
  MgLevel L;
  real omega = 0;
  TME_HD void operator()(int i, int j, int k) const {
    const long long v = L.d.index(i, j, k);
    L.x[v] = L.act[v] ? L.x[v] + omega * L.r[v] / mg_diag(L, i, j, k) : real(0);
  }
};

// Coarse right-hand side: the sum of the children's residuals (P^T r); coarse x = 0.
struct MgRestrictOp {
  MgLevel F, C;
  TME_HD void operator()(int I, int J, int K) const {
    const long long cv = C.d.index(I, J, K);
    const MgChildren ch = mg_children(F.d, I, J, K);
    const int i0 = ch.lo[0], j0 = ch.lo[1], k0 = ch.lo[2], i1 = ch.hi[0], j1 = ch.hi[1], k1 = ch.hi[2];
    real s = 0;
    for (int k = k0; k <= k1; ++k)
      for (int j = j0; j <= j1; ++j)
        for (int i = i0; i <= i1; ++i) s += F.r[F.d.index(i, j, k)];
    C.b[cv] = C.act[cv] ? s : real(0);
    C.x[cv] = real(0);
  }
};

// x += P x_coarse (each fine cell takes its aggregate's value).
struct MgProlongOp {
  MgLevel F, C;
  TME_HD void operator()(int i, int j, int k) const {
    const long long v = F.d.index(i, j, k);
    if (F.act[v]) F.x[v] += C.x[C.d.index(i / 2, j / 2, k / 2)];
  }
};

// A species that does not diffuse (D = 0 in every tissue: cell populations) has a diagonal
// system: u' = u + G(u) / (1/dt + K) per voxel, no solve (held voxels keep their value).
struct BeDiagonalOp {
  BeAssembleArgs a;  // g, dt, sc, src, upt, hold; u is written
  real* u = nullptr;
  TME_HD void operator()(long long v) const {
    if (be_held(a, v)) return;
    const SpeciesCoeffs& sc = *a.sc;
    const real uv = u[v];
    const real S = a.src ? a.src[v] : real(0), V = a.upt ? a.upt[v] : real(0);
    const real G = S - sc.decay * uv - V * clamp_nonneg(uv) / (sc.km + clamp_nonneg(uv));
    u[v] = clamp_nonneg(uv + G / (real(1) / a.dt + be_rate(sc, V, uv)));
  }
};

// Partial sums of a dot product: out[t] = sum of x[v] y[v] over block t, the voxels
// [t len, (t + 1) len), len = ceil(n / nblocks).
struct BeDotOp {
  const real* x = nullptr;
  const real* y = nullptr;
  long long n = 0;
  long long nblocks = 0;
  double* out = nullptr;
  TME_HD void operator()(long long t) const {
    long long begin, end;
    block_range(t, n, nblocks, begin, end);
    double s = 0;
    for (long long v = begin; v < end; ++v) s += double(x[v]) * double(y[v]);
    out[t] = s;
  }
};

// Scaling of a right-hand side at the underflow level. Values below the smallest normal number
// min() are flushed to zero (FTZ/DAZ on the CPU, backend_cpu.cpp; the fast paths of GPUs), so
// in the solve of a field decaying to ~0 the residual entries, preconditioned residuals and
// operator products reach min(), every update of them carries an absolute error up to min(),
// and the residual stalls at about min() sqrt(n) whatever the iteration count (measured: the
// sarcoma example's IFN1 16 h after a fraction, half-life 12 min, at most 4.5e-30 pg/mL, with
// trbdf2 at 15 min steps: 3.0e-6 relative against the tolerance 1e-6 after 200 iterations,
// the largest residual entry 4.5e-38; scaled, the run goes on. The unit test,
// tests/core/test_backward_euler.cpp: 1.2e-6, then a breakdown once A p underflowed to 0). In float64 builds
// the squares of the dot products also underflow below 1e-154, so |G|^2 reads 0 and such a
// field never decays. The system is linear in (G, d): when |G|^2 is outside
// [min() n, n / min()] (n voxels: an rms outside [sqrt(min()), 1/sqrt(min())], 0 included),
// the solve multiplies G by 2^e, e from its largest value m (2^e m in [1, 2); exact in
// floating point, a power of two) and the increment by 2^-e after: the same iterations as an
// unscaled problem of unit size, to the same relative tolerance. e is clamped so that 2^e
// is finite.
inline int be_rhs_exponent(double m) {
  const int emax = std::numeric_limits<real>::max_exponent - 2;
  const int e = -std::ilogb(m);
  return e > emax ? emax : (e < -emax ? -emax : e);
}

// Block partials of max |x| (blocks as in BeDotOp).
struct BeMaxAbsOp {
  const real* x = nullptr;
  long long n = 0;
  long long nblocks = 0;
  double* out = nullptr;
  TME_HD void operator()(long long t) const {
    long long begin, end;
    block_range(t, n, nblocks, begin, end);
    double m = 0;
    for (long long v = begin; v < end; ++v) {
      const double a = x[v] < real(0) ? -double(x[v]) : double(x[v]);
      m = a > m ? a : m;
    }
    out[t] = m;
  }
};

// x *= s.
struct BeScaleOp {
  real s = 1;
  real* x = nullptr;
  TME_HD void operator()(long long v) const { x[v] *= s; }
};

// CG update: d += alpha p, r -= alpha q.
struct BeUpdateOp {
  real alpha = 0;
  const real* p = nullptr;
  const real* q = nullptr;
  real* d = nullptr;
  real* r = nullptr;
  TME_HD void operator()(long long v) const {
    d[v] += alpha * p[v];
    r[v] -= alpha * q[v];
  }
};

// CG direction: p = z + beta p.
struct BeDirectionOp {
  real beta = 0;
  const real* z = nullptr;
  real* p = nullptr;
  TME_HD void operator()(long long v) const { p[v] = z[v] + beta * p[v]; }
};

// The step's end: u <- max(u + d, 0) (the max removes what the solve's tolerance could leave
// below zero; the exact solution is non-negative. Measured without it on the oxygen case,
// scenes/tests/oxygen_vessel_mm.yaml, at 1 h and 1 min steps: no value below zero at any step.)
struct BeFinishOp {
  const real* d = nullptr;
  real* u = nullptr;
  TME_HD void operator()(long long v) const { u[v] = clamp_nonneg(u[v] + d[v]); }
};

// ---- TR-BDF2 ('trbdf2') ----
// gamma = 2 - sqrt(2): a trapezoidal stage to t + gamma dt, then a BDF2 stage through t,
// t + gamma dt and t + dt. With this gamma both stages have the matrix I/(beta dt) - L + K,
// beta = gamma / 2 = (1 - gamma) / (2 - gamma) = 1 - 1/sqrt(2), each solved by the same
// multigrid-preconditioned CG in delta form:
//   TR:   (I/(beta dt) - L + K(u)) d1 = 2 G(u),                          u* = u + d1
//   BDF2: (I/(beta dt) - L + K(u*)) d2 = G(u*) + (c/(beta dt)) (u* - u), u' = u* + d2,
// c = (1 - gamma)^2 / (gamma (2 - gamma)), so c/(beta dt) = 1/(sqrt(2) dt). G is the full
// right-hand side, so a steady state is kept at any step. K takes the uptake's derivative
// V Km/(Km + u+)^2 (BeAssembleArgs::jacobian): with the secant V/(Km + u) of be the stages'
// linearisation error is O(dt^2) per step and the uptake first order (measured on one voxel:
// errors 3.9e-4, 1.1e-3, 7.2e-4 at 200, 100, 50 s; with the derivative 7.3e-4, 1.9e-4, 4.6e-5
// at 100, 50, 25 s). Second order on the Gaussian pulse (error ratios 4.07, 4.04).
//
// Positivity: the matrix is an M-matrix, but the trapezoidal stage's explicit half is not
// positive at steps beyond the fastest rate's time scale, and the derivative's tangent
// overshoots below zero where uptake empties a voxel within the step (measured: the oxygen
// case scenes/tests/oxygen_vessel_mm.yaml from 40 uM, 1 h steps, -136 uM after the first
// step). The guard: a species whose result is below -kTrNegativeTolerance times its largest
// value at the step's start is stepped again from the start by backward Euler (non-negative);
// values between that and 0 are set to 0. So the result is non-negative, at first order on the
// steps that fell back (counted in LinearSolveStats::fallbacks; that case: the first 4 of 6).
constexpr double kTrGamma = 0.58578643762690495;     // 2 - sqrt(2)
constexpr double kTrBeta = 0.29289321881345248;      // 1 - 1/sqrt(2): the stages' step factor
constexpr double kTrPrevCoef = 0.70710678118654752;  // c/beta = 1/sqrt(2): times 1/dt
// Values below -kTrNegativeTolerance times the species' largest value at the step's start
// send the species' step to backward Euler; values above it and below 0 are set to 0.
constexpr double kTrNegativeTolerance = sizeof(real) == 4 ? 1e-5 : 1e-12;

// One-voxel right-hand side of a non-diffusing species: S - k u - V u+/(Km + u+).
TME_HD inline real be_point_rhs(const SpeciesCoeffs& sc, real S, real V, real u) {
  return S - sc.decay * u - V * clamp_nonneg(u) / (sc.km + clamp_nonneg(u));
}

// TR-BDF2 of a species that does not diffuse: both stages per voxel; where the result is
// below zero, the backward Euler value of the voxel instead (non-negative).
struct BeDiagonalTrBdf2Op {
  BeAssembleArgs a;  // g, dt (the full step), sc, src, upt, hold
  real* u = nullptr;
  TME_HD void operator()(long long v) const {
    if (be_held(a, v)) return;
    const SpeciesCoeffs& sc = *a.sc;
    const real S = a.src ? a.src[v] : real(0), V = a.upt ? a.upt[v] : real(0);
    const real u0 = u[v], G0 = be_point_rhs(sc, S, V, u0);
    const real inv = real(1) / (real(kTrBeta) * a.dt);
    const real us = u0 + real(2) * G0 / (inv + be_rate_jacobian(sc, V, u0));
    const real u1 =
        us + (be_point_rhs(sc, S, V, us) + real(kTrPrevCoef) / a.dt * (us - u0)) / (inv + be_rate_jacobian(sc, V, us));
    u[v] = u1 >= real(0) ? u1 : clamp_nonneg(u0 + G0 / (real(1) / a.dt + be_rate(sc, V, u0)));
  }
};

// u += d, no clamp (the trapezoidal stage's value, which may be negative).
struct BeAddOp {
  const real* d = nullptr;
  real* u = nullptr;
  TME_HD void operator()(long long v) const { u[v] += d[v]; }
};

// Block partials of the TR-BDF2 check: out[2 t] = min of u + d (NaN if any is NaN) and
// out[2 t + 1] = max of prev over block t (blocks as in BeDotOp).
struct BeTrCheckOp {
  const real* u = nullptr;
  const real* d = nullptr;
  const real* prev = nullptr;
  long long n = 0;
  long long nblocks = 0;
  double* out = nullptr;
  TME_HD void operator()(long long t) const {
    long long begin, end;
    block_range(t, n, nblocks, begin, end);
    double lo = 0, hi = 0;
    for (long long v = begin; v < end; ++v) {
      const double x = double(u[v]) + double(d[v]);
      if (!(x >= lo)) lo = x;  // NaN sticks
      if (lo != lo) break;
      hi = double(prev[v]) > hi ? double(prev[v]) : hi;
    }
    out[2 * t] = lo;
    out[2 * t + 1] = hi;
  }
};

}  // namespace tme
