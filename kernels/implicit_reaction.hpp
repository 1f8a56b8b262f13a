// Exponential weights of the implicit schemes' reaction terms (kernels/implicit.hpp).
// Units: kappa = rate * dt is dimensionless (rate [1/s], dt [s]).
#pragma once
#include <math.h>

#include "coeffs.hpp"

namespace tme {

TME_HD inline float tme_expm1(float x) { return expm1f(x); }
TME_HD inline double tme_expm1(double x) { return expm1(x); }

// phi(kappa) = (1 - e^{-kappa}) / kappa for kappa >= 0 (phi(0) = 1), accurate for small kappa.
// dt phi(kappa dt) (S - kappa c) is the exact change of dc/dt = S - kappa c over dt.
TME_HD inline real phi1(real kappa) {
  return kappa > real(1e-6) ? -tme_expm1(-kappa) / kappa : real(1) - real(0.5) * kappa;
}

// Implicit weight of the exponentially fitted Douglas scheme for a reaction stiffness kappa:
// theta(kappa) = -phi'(kappa) / phi(kappa) = 1/kappa - 1/(e^kappa - 1); 1/2 (Crank-Nicolson)
// at kappa = 0, ~1/kappa for kappa >> 1.
TME_HD inline real adi_theta(real kappa) {
  if (kappa < real(1e-2)) return real(0.5) - kappa / real(12);  // next term is O(kappa^3)
  return real(1) / kappa - real(1) / tme_expm1(kappa);
}

}  // namespace tme
