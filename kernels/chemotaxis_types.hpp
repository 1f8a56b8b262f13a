// Plain data of the chemotaxis kernel (kernels/chemotaxis.hpp, where the scheme and its units
// are described): one attraction of a population to a signal, and the argument struct of one
// pass. Apart from the kernel functions so that the model (host/core/model.hpp), and with it
// every file that sees a Problem, does not recompile when the kernel's body changes.
#pragma once
#include "coeffs.hpp"

namespace tme {

constexpr int kMaxChemotaxis = 8;

struct Chemotaxis {
  int cell = -1;    // population field [cells/mm^3]
  int signal = -1;  // attracting species
  real chi = 0;     // sensitivity [um^2/s per unit of the signal]
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
};

}  // namespace tme
