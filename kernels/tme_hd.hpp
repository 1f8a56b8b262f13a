// Host/device annotation and the solver's real type.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define TME_HD __host__ __device__
#else
#define TME_HD
#endif

namespace tme {
#if defined(TMESIM_DOUBLE)
using real = double;  // float64 build (cmake -DTMESIM_DOUBLE=ON)
#else
using real = float;  // default: float32, 4 bytes per voxel and species
#endif
}  // namespace tme
