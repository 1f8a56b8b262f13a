// Small non-owning views of structure-of-arrays fields (pointer + extents).
// Passed by value to kernels and OpenMP loops; x is the fastest index.
#pragma once
#include "tme_hd.hpp"

namespace tme {

struct Dims {
  int nx = 1, ny = 1, nz = 1;
  TME_HD long long nvox() const { return (long long)nx * ny * nz; }
  TME_HD long long index(int i, int j, int k) const {
    return (long long)i + (long long)nx * ((long long)j + (long long)ny * k);
  }
};

// Read-only view of one species block (nvox contiguous values).
template <class T>
struct ConstView {
  const T* p = nullptr;
  Dims d;
  TME_HD T operator()(int i, int j, int k) const { return p[d.index(i, j, k)]; }
};

// Writable view of one species block.
template <class T>
struct View {
  T* p = nullptr;
  Dims d;
  TME_HD T& operator()(int i, int j, int k) const { return p[d.index(i, j, k)]; }
};

}  // namespace tme
