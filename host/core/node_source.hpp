// A lymph node as a spatial source: where a node (a sphere in patient coordinates) lies in a
// lesion grid. A node whose centre lies inside a lesion's grid releases a share of its primed
// T cells into that lesion's voxels it covers (docs/model.md, "A node inside a lesion").
#pragma once
#include <vector>

#include "host/core/problem.hpp"

namespace tme {

// The voxels of grid g covered by a node of centre center_um [um, patient coordinates] and
// radius radius_um [um] (>= 0), when its centre lies in the grid (origin <= c < origin + n h
// on every axis): the voxels whose centre is within the radius of the node's centre, or the
// voxel holding the centre when none is (a node smaller than a voxel); in increasing index.
// The part of the sphere outside the grid is left out. Empty when the centre is outside the
// grid. Throws std::invalid_argument for a negative or non-finite radius or centre.
std::vector<long long> node_voxels(const GridSpec& g, const double center_um[3], double radius_um);

}  // namespace tme
