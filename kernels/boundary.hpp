// Boundary conditions of the transport operators: the one place that says what a boundary kind
// does. Every operator that meets a face of the grid (the explicit face flux, the implicit line
// rows, the explicit step limit, chemotaxis) calls the functions below instead of re-deriving
// a formula, so a new kind is added here and in the scene loader (host/scene/scene.cpp,
// Loader::read_boundary). (The line solvers fold the wrap couplings of periodic lines of one or
// two cells, fold_short_cyclic: that is the periodic neighbour of across_face seen as a matrix.)
//
// Ghost-cell form. A cell next to a face of the grid sees, across that face, either another
// cell of the grid (periodic axes wrap to the opposite end: across_face) or a ghost cell that
// is not stored: its value is an affine function of the inside cell c,
//     ghost = c + m (target - c)                                        (wall_closure)
// and the face is an ordinary face between the cell and its ghost, with the cell's own
// coefficient D and weight D/h^2 [1/s]. Its flux term in dc/dt is D/h^2 (ghost - c), so
//     no_flux:      m = 0                ghost = c          flux 0
//     fixed value v m = 2, target = v    ghost = 2 v - c    flux 2 D/h^2 (v - c): the value
//                                                            sits on the face, half a cell away
// A kind whose ghost is affine in c (a Robin / transfer condition, say) is one more case of
// wall_closure. The operators use the ghost through the jump ghost - c = m (target - c)
// (wall_jump: the flux form, exact conservation) or through the row terms m w and m w target
// (wall_row_terms: the implicit lines), never through the stored ghost value, so that
// 2 (v - c) is not computed as (2 v - c) - c.
//
// The ghost values are not stored: fields have no ghost layer (their layout, the VTK I/O and
// every kernel index nvox contiguous values), and the kernels ask these functions at the faces.
#pragma once
#include "tme_hd.hpp"

namespace tme {

enum BcType : int { kNoFlux = 0, kFixed = 1, kPeriodic = 2 };
enum Face : int { kXm = 0, kXp = 1, kYm = 2, kYp = 3, kZm = 4, kZp = 5 };

struct FaceBC {
  int type = kNoFlux;
  real value = 0;  // fixed value at the face [species unit]
};

// Face index (Face) of the lower (dir < 0) or upper (dir > 0) face of an axis.
TME_HD inline int face_index(int axis, int dir) { return 2 * axis + (dir > 0 ? 1 : 0); }

// A periodic face pairs with the opposite face of its axis (Problem::check and the loader
// require both or neither), so an axis is periodic when its lower face is. bc: the six faces.
TME_HD inline bool axis_periodic(const FaceBC* bc, int axis) { return bc[2 * axis].type == kPeriodic; }

// Cell across the face of cell p (0..n-1) of a line of n cells toward dir (-1 or +1): p + dir
// inside the line; across a face of the grid, the cell at the opposite end of a periodic line,
// or -1 for a wall (closed by wall_closure). A periodic line of one cell has no neighbour (-1):
// its wrap face joins the cell to itself and carries no flux.
TME_HD inline int across_face(int n, int p, int dir, bool periodic) {
  const int q = p + dir;
  if (q >= 0 && q < n) return q;
  return periodic && n > 1 ? (q < 0 ? n - 1 : 0) : -1;
}

// Position p + dir (dir -1 or +1) wrapped into 0..n-1, whatever the boundary: the branch-free
// neighbour lookup of the line operators, which give a non-periodic wall face weight 0.
TME_HD inline int wrap_index(int n, int p, int dir) {
  const int q = p + dir;
  return q < 0 ? n - 1 : (q >= n ? 0 : q);
}

// A wall face (not periodic) in ghost-cell form: ghost = c + m (target - c), m dimensionless,
// target in the species' unit (see the top of this file).
struct WallClosure {
  real m = 0;
  real target = 0;
};
TME_HD inline WallClosure wall_closure(const FaceBC& bc) {
  if (bc.type == kFixed) return WallClosure{real(2), bc.value};
  return WallClosure{};  // no_flux (and periodic, which never reaches a wall)
}

// ghost - inside [species unit] across a wall face whose inside cell holds c. The flux term of
// the face in dc/dt is D/h^2 times this (D the inside cell's coefficient).
TME_HD inline real wall_jump(const FaceBC& bc, real c) {
  const WallClosure w = wall_closure(bc);
  return w.m != real(0) ? w.m * (w.target - c) : real(0);
}

// The wall face of a line's end cell in the row of the 1D operator, (L c)_p = ... - wf c_p + bnd:
// its flux term w m (target - c_p) adds m w to wf [1/s] and m w target to bnd [unit/s];
// w = D/h^2 of the inside cell [1/s].
TME_HD inline void wall_row_terms(const FaceBC& bc, real w, real& wf, real& bnd) {
  const WallClosure c = wall_closure(bc);
  if (c.m == real(0)) return;
  const real mw = c.m * w;
  wf += mw;
  bnd += mw * c.target;
}

// Weight of the face of a line's end cell that lies on the grid's face bc, in units of the
// cell's D/h^2 (the explicit step limit sums these per cell): a wall weighs m, a periodic wrap
// face 1 (0 on a line of one cell, which exchanges with itself).
TME_HD inline double end_face_weight(const FaceBC& bc, int n) {
  if (bc.type == kPeriodic) return n > 1 ? 1.0 : 0.0;
  return double(wall_closure(bc).m);
}

}  // namespace tme
