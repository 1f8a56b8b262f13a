// Exponential weights of the implicit schemes' reaction terms (kernels/implicit.hpp).
// Units: kappa = rate * dt is dimensionless (rate [1/s], dt [s]).
#pragma once
#include <cmath>

#include "coeffs.hpp"

namespace tme {

// phi(kappa) = (1 - e^{-kappa}) / kappa for kappa >= 0 (phi(0) = 1), accurate for small kappa.
// dt phi(kappa dt) (S - kappa c) is the exact change of dc/dt = S - kappa c over dt.
// Below 0.01 a Taylor polynomial (error < kappa^4 / 120); above, exp (cheaper than expm1; the
// cancellation costs at most a few ulps of e^{-kappa} / kappa, < 1e-5 relative in float).
TME_HD inline real phi1(real kappa) {
  using std::exp;
  if (kappa < real(1e-2)) return real(1) - kappa * (real(0.5) - kappa * (real(1) / real(6) - kappa / real(24)));
  return (real(1) - exp(-kappa)) / kappa;
}

// Implicit weight of the exponentially fitted Douglas scheme for a reaction stiffness kappa:
// theta(kappa) = -phi'(kappa) / phi(kappa) = 1/kappa - 1/(e^kappa - 1); 1/2 (Crank-Nicolson)
// at kappa = 0, ~1/kappa for kappa >> 1.
TME_HD inline real adi_theta(real kappa) {
  using std::exp;
  // Series 1/2 - k/12 + k^3/720 below 0.1 (next term k^5/30240 < 4e-10); exp above, where
  // e^k - 1 >= 0.105 keeps the cancellation below 1e-6 relative in float.
  if (kappa < real(0.1)) return real(0.5) - kappa * (real(1) / real(12) - kappa * kappa / real(720));
  return real(1) / kappa - real(1) / (exp(kappa) - real(1));
}

}  // namespace tme
