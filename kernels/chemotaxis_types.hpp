// Plain data of the chemotaxis kernel (kernels/chemotaxis.hpp, where the scheme and its units
// are described): one attraction of a population to a signal (or one pressure-driven drift down
// the occupied fraction phi), and the argument struct of one pass. Apart from the kernel functions so that the model
// (host/core/model.hpp), and with it every file that sees a Problem, does not recompile when the kernel's body changes.
#pragma once
#include "coeffs.hpp"
#include "term_types.hpp"

namespace tme {

constexpr int kMaxChemotaxis = 8;  // chemotaxis and pressure entries together

// `signal` of a pressure entry: the population drifts DOWN the gradient of the occupied
// fraction phi = sum_p c_p / capacity_p (the crowding of the reaction terms), with
// chi = its mobility [um^2/s].
constexpr int kSignalCrowding = -2;

struct Chemotaxis {
  int cell = -1;    // population field [cells/mm^3]
  int signal = -1;  // attracting species, or kSignalCrowding (pressure)
  real chi = 0;     // sensitivity [um^2/s per unit of the signal]; pressure: mobility [um^2/s]
  real vmax = 0;    // largest drift speed [um/s] (> 0)
};

struct ChemotaxisArgs {
  GridGeom g;
  real h[3] = {1, 1, 1};  // spacing [um]
  int periodic[3] = {0, 0, 0};
  const real* in = nullptr;       // all fields (nspecies blocks): the signals
  const real* cell_in = nullptr;  // the moving population before the sub-step (nvox values)
  real* cell_out = nullptr;       // ... and after it (another buffer: sub-steps ping-pong)
  real* vel = nullptr;            // scratch, 3 blocks of nvox: drift [um/s] across the +x, +y, +z
                                  // face of each voxel (12 bytes per voxel); 0 on walls
  Chemotaxis cx[kMaxChemotaxis];
  int ncx = 0;  // entries of this pass, all with the same `cell`
  real dt = 0;  // [s], <= chemotaxis_dt_limit
  // Pressure entries read phi from the crowding populations (the moving one from cell_in, the
  // others from `in`); their drift changes with the moving population, so the face drifts are
  // recomputed every sub-step when `pressure` is set.
  int pressure = 0;  // 1 when an entry has signal kSignalCrowding
  int ncrowd = 0;
  int crowd_species[kMaxCrowding] = {};
  real crowd_volume[kMaxCrowding] = {};  // 1/capacity [1/(cells/mm^3)]
  // Bound on the moving population's own share of phi, c_cell / capacity_cell, over the pass
  // (set by the backend before the sub-steps are counted; used by chemotaxis_dt_limit).
  real own_phi_max = 0;
};

}  // namespace tme
