// Large-step diffusion-reaction: the per-line sweeps of two splitting schemes, as one-cell
// functions shared by implicit_cpu.cpp and implicit_cuda.cu (thread bodies included).
//
// Diffusion dc/dt = sum_a (A_a c + b_a), A_a the linear part of the 1D operator L_a along
// axis a (implicit_line.hpp) and b_a its fixed-value boundary term; F(c) = sum_a (A_a c + b_a)
// is the full 7-point operator of diffusion.hpp. Every sweep solves for an increment
// (delta form): (I - theta dt A_a) delta = d, then c + delta. The state itself never passes
// through the solver, so the float32 rounding of the line matrices (whose row excess "1" is a
// small difference of large numbers at large steps) only touches the increment, and with A c
// in flux form the totals are conserved to round-off. Measured drift of the total over 10^4
// steps on a random field (no-flux, no decay, float32): LOD 3e-8 at 50x the explicit limit,
// 4e-7 at 1500x, 9e-7 at 10^4x; ADI 3e-8 at 50x, 3.5e-5 (uniform D) and 4.7e-4 (labels) at
// 1500x, 1.6e-3 at 10^4x: its intermediate increments are ~dt G, far larger than the field
// at such steps. (A flux-form residual correction after each line solve would remove it.)
//
// Reactions are inside the operator of both schemes (no reaction substeps): kappa = k +
// V/(Km + c) is the frozen linear reaction rate per voxel [1/s] (decay plus Michaelis-Menten
// uptake at the current value), S the source [unit/s]. A Strang splitting R(dt/2) D(dt) R(dt/2)
// with an exact per-voxel R was tried and rejected: it moves steady states where reactions
// balance fluxes. Measured (LOD, Strang): a point source overshoots at its voxel by S dt / 2
// (8.7x the steady value at 25x the explicit step, 105x at 1500x); at a fixed-value face with
// a 3-voxel decay length the delivered flux is 2.3% high at k dt = 0.01, 22% at 0.1, and the
// field collapses for k dt > 1.
//
// LOD backward Euler (the field's baseline, BioFVM style, reactions split evenly over the
// sweeps): for a = x, y, z in turn, with the current c,
//     (I - dt A_a + dt kappa/3) delta = dt (A_a c + b_a + (S - kappa c)/3),   c <- max(c + delta, 0)
//   (= (I - dt A_a + dt kappa/3) c_new = c + dt (b_a + S/3)). First order in time; each sweep
//   is an M-matrix solve with a non-negative right-hand side, so unconditionally stable and
//   positive (the max only removes round-off below zero). Splitting error O(dt) where the
//   A_a and the reactions do not commute; steady states are not exact (see the tests).
//
// Douglas(-Gunn) ADI on Crank-Nicolson, exponentially fitted, with the reactions inside the
// operator. G(c) = F(c) + S - k c - V c/(Km + c) is the full right-hand side (kappa at the
// start of the step), Phi = phi(kappa dt) = (1 -
// e^{-kappa dt}) / (kappa dt) and Theta = theta(kappa dt) = 1/(kappa dt) - 1/(e^{kappa dt} - 1)
// (adi_theta; both diagonal, per voxel):
//     (I - Theta dt A_x) delta1 = dt Phi G(c)
//     (I - Theta dt A_y) delta2 = delta1
//     (I - Theta dt A_z) delta3 = delta2,        c <- c + delta3
//   Without reactions Phi = 1, Theta = 1/2: the classical Douglas scheme. Theta makes
//   Phi / (1 + Theta z) match phi(kappa + z), the exact propagator of a diffusion mode
//   z = lambda dt decaying at rate kappa, to first order in z.
//   - Every steady state G(c) = 0 is kept exactly at any step (delta = 0): fixed-value faces
//     and sources keep delivering the right amount where the decay length is a few voxels and
//     k dt >> 1 (measured flux error <= 2e-6 from k dt = 0.01 to 100).
//   - In a uniform field the step is c' = c e^{-kappa dt} + S dt phi(kappa dt): exact for decay
//     and source, positive for Michaelis-Menten uptake (first order in time where c ~ Km,
//     second order where c << Km or without uptake).
//   - Second order in time, unconditionally stable (amplification in [-1, 1] for commuting
//     A_a <= 0). Not positivity preserving at large steps: like Crank-Nicolson, diffusion modes
//     stiff along one axis are damped by a factor near -1 (less with reactions) and modes stiff
//     along all three by a factor near +1 instead of being removed. So sharp features (point
//     sources) relax slowly once dt is far beyond the explicit limit: measured for a one-voxel
//     source with a 5-voxel decay length at 1500x the limit, the source voxel holds 19% of its
//     steady value after 180 s, 54% after 3000 s, 84% after 30000 s (exact in the limit); at
//     25x it is exact to 1e-6. Gaussian pulse (sigma 100 um, 20 um voxels, D = 1e5 um^2/min,
//     T = 0.64 min, 4 mm box): relative L2 error 3.6e-4 at dt = 0.04 min, 2.5e-3 at 0.08 min,
//     4.2e-2 at 0.16 min.
//   - No second-order linear scheme can do better here: a linear one-step method that keeps
//     every non-negative state non-negative for all steps (unconditional positivity) is at
//     most first order (Bolley and Crouzeix 1978, RAIRO Anal. Numer. 12). So a run that must
//     stay non-negative at any step uses 'lod'; 'adi' buys second order at steps up to the
//     features' relaxation times.
//   - Tissue labels: the axis operators A_a then do not commute, and Douglas splitting with
//     the true A_a grows at large steps for any D contrast (measured, and confirmed with dense
//     double-precision matrices: growth 1.02 per step at contrast 1.4, 2.6 at contrast 10,
//     for theta = 1/2 and 1 alike). Species with labels therefore use line factors built with
//     their largest D (uniform_row, max_D) while G(c) keeps the true operator: the factors
//     commute and dominate A, so the step stays a contraction (in the norm of the factor
//     product) at any dt and steady states stay exact; the price is first order in time where
//     D < max D.
//   - Species with uptake have a per-voxel Theta and are solved line by line; the others use
//     one factored matrix per axis.
//   - Uptake and held voxels: NOT stable at large steps (measured). A per-voxel Theta (uptake)
//     and the identity rows of held voxels make the axis factors non-commuting, as labels do,
//     and the step grows without bound once it is about 100x the explicit step limit. Measured
//     on scenes/tests/oxygen_vessel_mm.yaml (30^3, 100 um, O2 held at 50 uM in a vessel,
//     uptake Vmax 0.5 uM/s, Km 2 uM; explicit limit 0.69 s), relative L2 error against the
//     explicit field at 12 h: 1 min 1.5e-5, 90 s 2.6e-5, 2 min 8.2e-3 (min -0.09 uM), 3 min
//     0.16, 5 min 1.53 (min -207 uM), 15 min 2e13, 1 h 1.1e5, 3 h 2.6e3. Each alone grows too:
//     the vessel without uptake (exact steady state 50 uM) has max 50.03 at 5 min, 53.6 at
//     15 min, 106 at 1 h, 533 at 3 h; the uptake without the vessel (50 uM initially, the
//     explicit field depletes) goes negative from 2 min (min -0.07 uM; -4.5 at 5 min, -7e14 at
//     15 min). Tried and rejected (each blows up at 1 min already): line factors with the uniform
//     Theta(k dt) of the decay alone and Phi per voxel (the factors no longer hold the uptake
//     back, which drains the whole field negative), and held voxels taking no increment
//     after uniform factors (the factor then spreads the correction through them). A bound
//     of the uptake rate in uniform factors would be stable (an energy estimate, not tried) but
//     slows every region without uptake by 1 + dt V/Km. So 'run' and 'validate' warn at fixed steps beyond 100x the
//     explicit limit for such species (adi_step_warning, host/core/cost.hpp), and 'be' is the
//     integrator for them at large steps (positive at any step; tests/app/test_adi_limits.cpp).
#pragma once
#include "implicit_line.hpp"
#include "implicit_reaction.hpp"
#include "state_check.hpp"

namespace tme {

// kBackwardEuler: the coupled 3D backward Euler of backward_euler.hpp (no line sweeps).
enum class Scheme : int { kLodEuler = 0, kDouglasAdi = 1, kBackwardEuler = 2, kTrBdf2 = 3 };

// What a sweep solves for and where its increment goes (c: state, x: increment storage).
enum SweepKind : int {
  kSweepLod = 0,        // d = dt (A_a c + b_a + (S - kappa c)/3);  c <- clamp_nonneg(c + delta)
  kSweepAdiFirst = 1,   // d = dt Phi G(c);       x <- delta
  kSweepAdiMiddle = 2,  // d = x;                 x <- delta
  kSweepAdiLast = 3,    // d = x;                 c <- c + delta
};

// Arguments of one sweep along one axis for every species, passed by value.
struct SweepArgs {
  GridGeom g;
  int nspecies = 0;
  int axis = 0;          // 0, 1, 2 (x, y, z)
  int kind = kSweepLod;  // SweepKind
  real theta_dt = 0;     // LOD: implicit weight times step, = dt [s] (ADI: per voxel, sweep_theta_dt)
  real dt = 0;           // full step [s]
  real* c = nullptr;     // state, nspecies blocks of nvox [unit]
  real* x = nullptr;     // increment storage (forward-pass values on device lines), nspecies blocks
  real* cp = nullptr;    // elimination scratch of per-line species (per_line), nspecies * nvox
  real* ep = nullptr;    // same for cyclic lines (periodic axes), or null
  const real* fac[3] = {nullptr, nullptr, nullptr};  // factor tables per axis: nspecies blocks
                                                     // of factor_len(n_axis) values, for species that are not per_line
  const uint8_t* label = nullptr;
  const real* src = nullptr;   // source blocks [unit/s]
  const real* upt = nullptr;   // uptake Vmax blocks [unit/s]
  const real* hold = nullptr;  // held-value blocks [unit] (NaN = free)
  const SpeciesCoeffs* coeffs = nullptr;
};

// True when voxel idx of the species is held at a fixed value (vessels, lymph nodes).
TME_HD inline bool held(const SweepArgs& a, const SpeciesCoeffs& sc, long long idx) {
  if (sc.hold_slot < 0) return false;
  const real h = a.hold[sc.hold_slot * a.g.d.nvox() + idx];
  return h == h;
}

// True when the species has any reaction term.
TME_HD inline bool has_reaction(const SpeciesCoeffs& sc) {
  return sc.decay > real(0) || sc.src_slot >= 0 || sc.upt_slot >= 0;
}

// True for species whose line systems differ from line to line and are built per cell:
// tissue labels under LOD, uptake (its frozen rate varies per voxel), held voxels.
TME_HD inline bool per_line_species(bool lod, const SpeciesCoeffs& sc) {
  return (lod && sc.uses_labels) || sc.upt_slot >= 0 || sc.hold_slot >= 0;
}
TME_HD inline bool per_line(const SweepArgs& a, const SpeciesCoeffs& sc) {
  return per_line_species(a.kind == kSweepLod, sc);
}

// Row of the implicit line factor at cell p (voxel idx) along the sweep axis: the true row
// for LOD, the uniform max-D row for ADI (see "Tissue labels" above).
TME_HD inline LineRow implicit_row(const SweepArgs& a, const SpeciesCoeffs& sc, int p, long long idx) {
  const int n = axis_len(a.g.d, a.axis);
  if (a.kind == kSweepLod)
    return line_row(sc, a.label, a.axis, a.g.inv_h2[a.axis], n, p, idx, axis_stride(a.g.d, a.axis));
  return uniform_row(sc, max_D(sc), a.axis, a.g.inv_h2[a.axis], n, p);
}

// Frozen linear reaction rate kappa [1/s] at voxel idx (off = s nvox), from the current c.
TME_HD inline real reaction_rate(const SweepArgs& a, const SpeciesCoeffs& sc, long long off, long long idx) {
  real kap = sc.decay;
  if (sc.upt_slot >= 0) {
    const real cp = clamp_nonneg(a.c[off + idx]);
    kap += a.upt[sc.upt_slot * a.g.d.nvox() + idx] / (sc.km + cp);
  }
  return kap;
}

// Implicit weight times step [s] at voxel idx: dt for LOD, Theta dt for ADI.
TME_HD inline real sweep_theta_dt(const SweepArgs& a, const SpeciesCoeffs& sc, long long off, long long idx) {
  if (a.kind == kSweepLod) return a.theta_dt;
  return adi_theta(reaction_rate(a, sc, off, idx) * a.dt) * a.dt;
}

// Source rate S [unit/s] at voxel idx.
TME_HD inline real source_at(const SweepArgs& a, const SpeciesCoeffs& sc, long long idx) {
  return sc.src_slot >= 0 ? a.src[sc.src_slot * a.g.d.nvox() + idx] : real(0);
}

// Row of the line matrix at voxel idx whose diffusion row is r: (I - theta dt A_a), plus the
// LOD's third of the reaction rate on the diagonal.
// A held voxel's row is the identity and its right-hand side 0 (sweep_rhs): its increment is
// 0 in every sweep, so it keeps its value and acts on its neighbours as an interior
// fixed-value (Dirichlet) cell through their rows and the flux-form right-hand sides. Under
// LOD that Dirichlet point fills its 1D sweep line towards the held value at large steps and
// caps what it delivers at what the line takes up: a splitting error, not fixable in these
// rows (measured in tests/core/test_hold.cpp, OffCentreHeldVoxelAgainstTheExplicitField).
TME_HD inline Tri sweep_tri(const SweepArgs& a, const SpeciesCoeffs& sc, long long off, long long idx,
                            const LineRow& r) {
  if (held(a, sc, idx)) return Tri{0, 1, 0};
  const real th = sweep_theta_dt(a, sc, off, idx);
  Tri t = tri_row(r, th);
  if (a.kind == kSweepLod && has_reaction(sc)) t.b += th * reaction_rate(a, sc, off, idx) / real(3);
  return t;
}

// ---- The right-hand sides of the sweeps, as formulas of one cell's values. sweep_rhs below
// composes them per cell (the device's threads); the CPU loops hoist what does not change
// along a line or across lanes (rows of uniform species, neighbour offsets, uniform weights)
// and call the same formulas per lane. ----

// (A_a c + b_a) at a cell of row r [unit/s] from its value c0 and its neighbours cl, cu along
// the line (the wrapped ones on periodic lines; their weight is 0 at non-periodic ends). The
// flux form of apply_row.
TME_HD inline real row_value(const LineRow& r, real c0, real cl, real cu) {
  return r.wl * (cl - c0) + r.wr * (cu - c0) - r.wf * c0 + r.bnd;
}

// LOD right-hand side theta_dt (v + (S - kappa c0)/3) [unit] from the row value v [unit/s],
// the source S [unit/s] and the frozen reaction rate kappa [1/s] (0 and 0 without reactions).
TME_HD inline real lod_rhs(real theta_dt, real v, real c0, real S, real kappa) {
  return theta_dt * (v + (S - kappa * c0) / real(3));
}

// Reaction rate S - k c - u c+ [unit/s] (c+ = max(c, 0)) with u the frozen uptake rate [1/s].
TME_HD inline real reaction_change(real S, real k, real u, real c) { return S - k * c - u * clamp_nonneg(c); }

// First ADI sweep's right-hand side dt Phi (F + rate) [unit] from the full operator F and the
// reaction rate [unit/s] and the weight Phi.
TME_HD inline real adi_first_rhs(real dt, real weight, real F, real rate) { return dt * weight * (F + rate); }

// Reaction part of the first ADI sweep at voxel idx of one species with state c: the rate
// S - k c - V c+/(Km + c+) [unit/s] (c+ = max(c, 0)) and the weight Phi = phi(kappa dt).
TME_HD inline void adi_reaction(const SpeciesCoeffs& sc, const real* src, const real* upt, long long nvox,
                                long long idx, real c, real dt, real& rate, real& weight) {
  const real S = sc.src_slot >= 0 ? src[sc.src_slot * nvox + idx] : real(0);
  const real V = sc.upt_slot >= 0 ? upt[sc.upt_slot * nvox + idx] : real(0);
  const real u = V > real(0) ? V / (sc.km + clamp_nonneg(c)) : real(0);  // frozen uptake rate [1/s]
  rate = reaction_change(S, sc.decay, u, c);
  weight = phi1((sc.decay + u) * dt);
}

// Factor table of species s along `axis` (meaningful for species that are not per_line).
TME_HD inline const real* species_table(const SweepArgs& a, int s, int axis) {
  return a.fac[axis] + s * factor_len(axis_len(a.g.d, axis));
}

// Row of cell p (voxel idx) along the sweep axis: from the table, or built per cell.
TME_HD inline LineRow sweep_row(const SweepArgs& a, const SpeciesCoeffs& sc, int s, int p, long long idx) {
  if (!per_line(a, sc)) return table_row(species_table(a, s, a.axis), axis_len(a.g.d, a.axis), p);
  return implicit_row(a, sc, p, idx);
}

// The full diffusion operator F(c) at (i, j, k) [unit/s] (c: one species block); the same
// value as diffusion_rhs, assembled from the three axis tables for uniform D.
TME_HD inline real full_operator(const SweepArgs& a, const SpeciesCoeffs& sc, int s, const real* c, int i, int j,
                                 int k) {
  if (sc.uses_labels) return diffusion_rhs(ConstView<real>{c, a.g.d}, sc, a.label, a.g, i, j, k);
  const long long idx = a.g.d.index(i, j, k);
  const int q[3] = {i, j, k};
  real F = 0;
  for (int ax = 0; ax < 3; ++ax) {
    const int n = axis_len(a.g.d, ax);
    const long long st = axis_stride(a.g.d, ax);
    F += row_value(table_row(species_table(a, s, ax), n, q[ax]), c[idx], c[lower_nb(n, q[ax], idx, st)],
                   c[upper_nb(n, q[ax], idx, st)]);
  }
  return F;
}

// Right-hand side of the sweep's line system at voxel (i, j, k) of species s, whose row
// along the sweep axis is r (used by LOD only, where it is the true row) [unit].
TME_HD inline real sweep_rhs(const SweepArgs& a, const SpeciesCoeffs& sc, int s, const LineRow& r, int i, int j,
                             int k) {
  const long long off = s * a.g.d.nvox(), idx = a.g.d.index(i, j, k);
  if (held(a, sc, idx)) return real(0);
  if (a.kind == kSweepAdiMiddle || a.kind == kSweepAdiLast) return a.x[off + idx];
  const real* c = a.c + off;
  if (a.kind == kSweepLod) {
    const int n = axis_len(a.g.d, a.axis), p = a.axis == 0 ? i : (a.axis == 1 ? j : k);
    const long long st = axis_stride(a.g.d, a.axis);
    const real v = row_value(r, c[idx], c[lower_nb(n, p, idx, st)], c[upper_nb(n, p, idx, st)]);
    if (!has_reaction(sc)) return lod_rhs(a.theta_dt, v, c[idx], real(0), real(0));
    return lod_rhs(a.theta_dt, v, c[idx], source_at(a, sc, idx), reaction_rate(a, sc, off, idx));
  }
  real rate = 0, weight = 1;
  if (has_reaction(sc)) adi_reaction(sc, a.src, a.upt, a.g.d.nvox(), idx, c[idx], a.dt, rate, weight);
  return adi_first_rhs(a.dt, weight, full_operator(a, sc, s, c, i, j, k), rate);
}

// Stores the solved increment delta at voxel idx of species s (off = s nvox) as the sweep
// kind says.
TME_HD inline void sweep_store(const SweepArgs& a, long long off, long long idx, real delta) {
  if (a.kind == kSweepAdiFirst || a.kind == kSweepAdiMiddle) {
    a.x[off + idx] = delta;
  } else if (a.kind == kSweepAdiLast) {
    a.c[off + idx] += delta;
  } else {
    const real v = a.c[off + idx] + delta;
    a.c[off + idx] = clamp_nonneg(v);  // exact arithmetic gives v >= 0: round-off only (NaN stays)
  }
}

// Line of `base` (a field or per-line scratch, possibly absent) starting at offset `at`.
TME_HD inline StridedLine line_at(real* base, long long at, long long stride) {
  return StridedLine{base ? base + at : nullptr, stride};
}

// ---- Thread bodies of the CUDA kernels (implicit_cuda.cu). Kept here as TME_HD functions
// so that implicit_sweep_emulated can run the device logic on the host in tests. ----

// Lines along y and z: the thread solving the line through x = i of plane o (k for y, j for
// z) of species s. Forward-pass values in x, per-line scratch in field layout (both coalesced
// across neighbouring i). The right-hand side of cell p is built before x at p is written
// (LOD reads c along the line, ADI reads x at p only), and the store of cell p comes after
// every right-hand side.
TME_HD inline void sweep_line_body(const SweepArgs& a, int s, int i, int o) {
  const Dims d = a.g.d;
  const SpeciesCoeffs& sc = a.coeffs[s];
  const int n = axis_len(d, a.axis);
  const long long stride = axis_stride(d, a.axis), off = s * d.nvox();
  const long long start = a.axis == 1 ? d.index(i, 0, o) : d.index(i, o, 0);
  const bool cyclic = axis_periodic(sc, a.axis);
  const int jj0 = a.axis == 1 ? 0 : o, kk0 = a.axis == 1 ? o : 0;
  const StridedLine x = line_at(a.x, off + start, stride);
  auto out = [&](int p, int, real v) { sweep_store(a, off, start + p * stride, v); };
  if (!per_line(a, sc)) {
    const real* f = species_table(a, s, a.axis);
    auto rhs = [&](int p, int) {
      return sweep_rhs(a, sc, s, table_row(f, n, p), i, a.axis == 1 ? p : jj0, a.axis == 1 ? kk0 : p);
    };
    solve_lines_factored<1>(n, cyclic, 1, f, rhs, x, out);
  } else {
    auto elem = [&](int p, int, Tri& t, real& dd) {
      const LineRow r = implicit_row(a, sc, p, start + p * stride);
      t = sweep_tri(a, sc, off, start + p * stride, r);
      dd = sweep_rhs(a, sc, s, r, i, a.axis == 1 ? p : jj0, a.axis == 1 ? kk0 : p);
    };
    const StridedLine cp = line_at(a.cp, off + start, stride), ep = line_at(a.ep, off + start, stride);
    solve_lines<1>(n, cyclic, 1, elem, x, cp, ep, out);
  }
}

// Lines along x: a block owns `rows` consecutive rows (row = j + ny k) of species s, staged
// in a shared tile of rows x pitch values (pitch odd: the solving threads hit distinct banks).
constexpr int kTileMaxRows = 32;           // rows per block (one warp solves)
constexpr int kTileSmemBytes = 48 * 1024;  // tile bytes per block (no opt-in needed)
TME_HD inline int tile_pitch(int nx) { return nx | 1; }
TME_HD inline int tile_rows(int nx) {
  const int r = int(kTileSmemBytes / (tile_pitch(nx) * (int)sizeof(real)));
  return r < 1 ? 1 : (r > kTileMaxRows ? kTileMaxRows : r);
}

// Phase 1, element e = r nx + p of the tile: the right-hand side (x-contiguous accesses).
TME_HD inline void tile_load(const SweepArgs& a, int s, long long row0, int e, real* tile) {
  const Dims d = a.g.d;
  const SpeciesCoeffs& sc = a.coeffs[s];
  const int r = e / d.nx, p = e - r * d.nx;
  const long long row = row0 + r, idx = row * d.nx + p;
  const int j = (int)(row % d.ny), k = (int)(row / d.ny);
  tile[r * tile_pitch(d.nx) + p] = sweep_rhs(a, sc, s, sweep_row(a, sc, s, p, idx), p, j, k);
}

// Phase 2, row r of the tile: one thread solves it in place. Scratch of per-line species in
// global memory transposed ([p][row]) so that the solving threads' accesses coalesce.
TME_HD inline void tile_solve(const SweepArgs& a, int s, long long row0, int r, real* tile) {
  const Dims d = a.g.d;
  const SpeciesCoeffs& sc = a.coeffs[s];
  const int nx = d.nx;
  const long long row = row0 + r, start = row * nx, nrows = (long long)d.ny * d.nz, off = s * d.nvox();
  real* line = tile + r * tile_pitch(nx);
  const bool cyclic = axis_periodic(sc, 0);
  const StridedLine x{line, 1};
  auto out = [&](int p, int, real v) { line[p] = v; };
  if (!per_line(a, sc)) {
    solve_lines_factored<1>(nx, cyclic, 1, species_table(a, s, 0), x, x, out);
  } else {
    auto elem = [&](int p, int, Tri& t, real& dd) {
      t = sweep_tri(a, sc, off, start + p, implicit_row(a, sc, p, start + p));
      dd = line[p];
    };
    const StridedLine cp = line_at(a.cp, off + row, nrows), ep = line_at(a.ep, off + row, nrows);
    solve_lines<1>(nx, cyclic, 1, elem, x, cp, ep, out);
  }
}

// Phase 3, element e: store (x-contiguous). Reads c at its own voxel only: no other block
// reads it during this sweep (LOD right-hand sides stay within their own rows).
TME_HD inline void tile_store(const SweepArgs& a, int s, long long row0, int e, const real* tile) {
  const Dims d = a.g.d;
  const int r = e / d.nx, p = e - r * d.nx;
  const long long idx = (row0 + r) * d.nx + p;
  sweep_store(a, s * d.nvox(), idx, tile[r * tile_pitch(d.nx) + p]);
}

// ---- Host-side sequencing, shared by both backends ----

// Implicit weight times step [s] of species sc's line systems when they do not vary per
// voxel: dt for LOD, Theta(k dt) dt for ADI; and the reaction rate on their diagonal [1/s]
// (LOD: k/3).
inline double implicit_theta_dt(Scheme scheme, const SpeciesCoeffs& sc, double dt) {
  return scheme == Scheme::kDouglasAdi ? double(adi_theta(real(sc.decay * dt))) * dt : dt;
}
inline double implicit_diag_rate(Scheme scheme, const SpeciesCoeffs& sc) {
  return scheme == Scheme::kLodEuler ? double(sc.decay) / 3 : 0.0;
}

// n steps of `scheme` with step dt [s] on the state `state` (nspecies blocks), `incr` the
// increment storage (same size). `base` carries grid, species, maps and scratch; fac[axis] the
// factor tables built with implicit_theta_dt and implicit_diag_rate for (scheme, dt).
// sweep(const SweepArgs&) launches one sweep.
template <class Sweep>
inline void run_implicit_steps(Scheme scheme, double dt, int n, SweepArgs base, const real* const fac[3], real* state,
                               real* incr, Sweep sweep) {
  base.theta_dt = real(dt);  // LOD's weight (ADI computes its own per voxel)
  base.dt = real(dt);
  base.c = state;
  base.x = incr;
  for (int ax = 0; ax < 3; ++ax) base.fac[ax] = fac[ax];
  for (int it = 0; it < n; ++it)
    for (int axis = 0; axis < 3; ++axis) {
      SweepArgs s = base;
      s.axis = axis;
      if (scheme == Scheme::kLodEuler)
        s.kind = kSweepLod;
      else
        s.kind = axis == 0 ? kSweepAdiFirst : (axis == 1 ? kSweepAdiMiddle : kSweepAdiLast);
      sweep(s);
    }
}

}  // namespace tme
