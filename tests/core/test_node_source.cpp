// A lymph node as a spatial source: the voxels a node covers in a lesion grid
// (host/core/node_source.hpp) and the backends' release into a kept voxel list
// (Backend::keep_voxels, add_at_voxels).
#include <gtest/gtest.h>

#include <vector>

#include "host/core/node_source.hpp"
#include "tests/core/backend_param.hpp"
#include "tests/error_of.hpp"

namespace tme::test {
namespace {

// 6 x 5 x 4 voxels of 10 um at origin (100, -50, 0) um.
GridSpec grid() {
  GridSpec g;
  g.d = {6, 5, 4};
  for (int a = 0; a < 3; ++a) g.h[a] = 10;
  g.origin[0] = 100;
  g.origin[1] = -50;
  return g;
}

TEST(NodeVoxels, CentreOutsideTheGridCoversNothing) {
  const GridSpec g = grid();
  const double below[3] = {99.9, -45, 5}, above[3] = {105, 0, 5}, far[3] = {1e6, 1e6, 1e6};
  EXPECT_TRUE(node_voxels(g, below, 1e3).empty());  // a large sphere reaching in does not count
  EXPECT_TRUE(node_voxels(g, above, 0).empty());    // y = origin + 5 x 10 is past the last face
  EXPECT_TRUE(node_voxels(g, far, 5).empty());
}

TEST(NodeVoxels, NodeSmallerThanAVoxelIsTheVoxelHoldingItsCentre) {
  const GridSpec g = grid();
  const double c[3] = {132, -31, 39.9};  // voxel (3, 1, 3); its centre 7 um away
  EXPECT_EQ(node_voxels(g, c, 1), (std::vector<long long>{g.d.index(3, 1, 3)}));
  const double corner[3] = {100, -50, 0};  // the grid's lower corner is inside
  EXPECT_EQ(node_voxels(g, corner, 0), (std::vector<long long>{0}));
}

TEST(NodeVoxels, SphereOfOneSpacingAtAVoxelCentreIsTheVoxelAndItsSixNeighbours) {
  const GridSpec g = grid();
  const double c[3] = {125, -35, 15};  // centre of voxel (2, 1, 1)
  const std::vector<long long> want = {g.d.index(2, 1, 0), g.d.index(2, 0, 1), g.d.index(1, 1, 1), g.d.index(2, 1, 1),
                                       g.d.index(3, 1, 1), g.d.index(2, 2, 1), g.d.index(2, 1, 2)};
  EXPECT_EQ(node_voxels(g, c, 10), want);
}

TEST(NodeVoxels, ClippedAtTheGridFaces) {
  const GridSpec g = grid();
  const double c[3] = {105, -45, 5};  // centre of voxel (0, 0, 0)
  EXPECT_EQ(node_voxels(g, c, 10), (std::vector<long long>{0, 1, g.d.index(0, 1, 0), g.d.index(0, 0, 1)}));
  EXPECT_EQ(node_voxels(g, c, 1e4).size(), size_t(g.d.nvox()));  // a node larger than the grid: all of it
}

TEST(NodeVoxels, BadInputThrows) {
  const GridSpec g = grid();
  const double c[3] = {105, -45, 5}, nan[3] = {105, -45, 0.0 / 0.0};
  EXPECT_EQ(error_of([&] { node_voxels(g, c, -1); }), "node_voxels: radius must be finite and >= 0 um");
  EXPECT_EQ(error_of([&] { node_voxels(g, nan, 1); }), "node_voxels: the centre must be finite");
}

class NodeRelease : public BackendTest {};

TEST_P(NodeRelease, AddsTheValueAtTheKeptVoxelsOfOneFieldOnly) {
  Problem p = make_uniform_problem({6, 5, 4}, 10, 3, 0, 0);
  for (size_t v = 0; v < p.initial.size(); ++v) p.initial[v] = real(0.25 * double(v % 7));
  auto b = backend();
  b->load(p);
  const long long nv = p.grid.nvox();
  const std::vector<long long> a = {3, 17, 40, 119}, c = {0};
  EXPECT_EQ(b->keep_voxels(a), 0);
  EXPECT_EQ(b->keep_voxels(c), 1);
  std::vector<double> before, after;
  b->field_sums({0, 1, 2}, before);
  b->add_at_voxels(0, 1, 0.5);
  b->add_at_voxels(1, 2, 2.0);
  b->field_sums({0, 1, 2}, after);
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1] + 4 * 0.5);  // quarters and halves: exact in float
  EXPECT_EQ(after[2], before[2] + 2.0);
  std::vector<real> s;
  b->read_state(s);
  for (long long v = 0; v < 3 * nv; ++v) {
    real want = p.initial[size_t(v)];
    if (v >= nv && v < 2 * nv && (v - nv == 3 || v - nv == 17 || v - nv == 40 || v - nv == 119)) want += real(0.5);
    if (v == 2 * nv) want += real(2);
    ASSERT_EQ(s[size_t(v)], want) << v;
  }
}

TEST_P(NodeRelease, RefusesBadListsIdsAndFields) {
  const Problem p = make_uniform_problem({6, 5, 4}, 10, 2, 0, 0);
  auto b = backend();
  b->load(p);
  EXPECT_EQ(error_of([&] { b->keep_voxels({}); }), "keep_voxels: empty voxel list");
  EXPECT_EQ(error_of([&] { b->keep_voxels({0, 120}); }), "keep_voxels: voxel 120 outside the grid of 120 voxels");
  EXPECT_EQ(error_of([&] { b->keep_voxels({-1}); }), "keep_voxels: voxel -1 outside the grid of 120 voxels");
  EXPECT_EQ(error_of([&] { b->keep_voxels({5, 2, 5}); }), "keep_voxels: voxel 5 listed twice");
  EXPECT_EQ(error_of([&] { b->add_at_voxels(0, 0, 1); }), "add_at_voxels: no kept voxel list 0");
  EXPECT_EQ(b->keep_voxels({5}), 0);
  EXPECT_EQ(error_of([&] { b->add_at_voxels(0, 2, 1); }), "add_at_voxels: field index 2 out of range");
  b->load(p);  // a load forgets the lists
  EXPECT_EQ(error_of([&] { b->add_at_voxels(0, 0, 1); }), "add_at_voxels: no kept voxel list 0");
}

TME_INSTANTIATE_BACKENDS(NodeRelease);

// Backend::fold_fields, read_folded, write_folded: the running sums of emptied fields.
class FoldFields : public BackendTest {};

TEST_P(FoldFields, AddEachFieldIntoItsRunningSumAndEmptyIt) {
  Problem p = make_uniform_problem({6, 5, 4}, 10, 3, 0, 0);
  for (size_t v = 0; v < p.initial.size(); ++v) p.initial[v] = real(0.25 * double(v % 7));
  auto b = backend();
  b->load(p);
  const size_t nv = size_t(p.grid.nvox());
  std::vector<double> sum;
  b->read_folded(1, sum);
  EXPECT_EQ(sum, std::vector<double>(nv, 0.0));  // zero before the first fold
  b->fold_fields({1});
  EXPECT_EQ(b->keep_voxels({3, 50}), 0);
  b->add_at_voxels(0, 1, 0.5);  // what a step adds to the emptied field
  b->fold_fields({1});
  b->read_folded(1, sum);
  for (size_t v = 0; v < nv; ++v)  // quarters and halves: exact
    ASSERT_EQ(sum[v], 0.25 * double((nv + v) % 7) + (v == 3 || v == 50 ? 0.5 : 0.0)) << v;
  std::vector<real> s;
  b->read_state(s);
  for (size_t v = 0; v < 3 * nv; ++v) ASSERT_EQ(s[v], v >= nv && v < 2 * nv ? real(0) : p.initial[v]) << v;
  b->read_folded(0, sum);  // never folded
  EXPECT_EQ(sum, std::vector<double>(nv, 0.0));
  const std::vector<double> x(nv, 1.5);
  b->write_folded(2, x);
  b->read_folded(2, sum);
  EXPECT_EQ(sum, x);
  b->load(p);  // a load forgets the sums
  b->read_folded(2, sum);
  EXPECT_EQ(sum, std::vector<double>(nv, 0.0));
  EXPECT_EQ(error_of([&] { b->fold_fields({3}); }), "fold_fields: field index 3 out of range");
  EXPECT_EQ(error_of([&] { b->read_folded(-1, sum); }), "read_folded: field index -1 out of range");
  EXPECT_EQ(error_of([&] { b->write_folded(0, {1.0}); }), "write_folded: 1 values for 120 voxels");
}

TME_INSTANTIATE_BACKENDS(FoldFields);

}  // namespace
}  // namespace tme::test
