// Dose maps (host/rt/dose_map.hpp): analytic targets with an erf penumbra, and dose images in
// .vti, .mha and .nrrd resampled trilinearly onto an offset, finer grid.
#include <gtest/gtest.h>
#include <unistd.h>
#include <vtkImageData.h>
#include <vtkMetaImageWriter.h>
#include <vtkNew.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/rt/dose_map.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;
namespace rt = tme::rt;

namespace {

tme::GridSpec cube_grid(int n, double h, double origin) {
  tme::GridSpec g;
  g.d = {n, n, n};
  for (int a = 0; a < 3; ++a) {
    g.h[a] = h;
    g.origin[a] = origin;
  }
  return g;
}

rt::Target sphere(double cx, double cy, double cz, double r, double dose, double pen) {
  rt::Target t;
  t.shape = rt::TargetShape::Sphere;
  t.center_um[0] = cx;
  t.center_um[1] = cy;
  t.center_um[2] = cz;
  t.radius_um = r;
  t.prescription_Gy = dose;
  t.penumbra_um = pen;
  return t;
}

}  // namespace

TEST(RtDoseMap, AnalyticSphere) {
  // 41^3 voxels of 10 um centred on 0: voxel 20 is at 0, voxel 30 at +100 um.
  const tme::GridSpec g = cube_grid(41, 10.0, -205.0);
  rt::AnalyticDose a;
  a.background_Gy = 0.25;
  a.targets.push_back(sphere(0, 0, 0, 100.0, 8.0, 20.0));
  const auto d = rt::analytic_dose(g, a);
  ASSERT_EQ(d.size(), (size_t)g.nvox());
  EXPECT_NEAR(d[(size_t)g.d.index(20, 20, 20)], 8.25, 1e-12);        // centre
  EXPECT_NEAR(d[(size_t)g.d.index(30, 20, 20)], 0.25 + 4.0, 1e-12);  // on the edge: half
  EXPECT_NEAR(d[(size_t)g.d.index(20, 10, 20)], 0.25 + 4.0, 1e-12);
  EXPECT_NEAR(d[(size_t)g.d.index(20, 20, 30)], 0.25 + 4.0, 1e-12);
  EXPECT_NEAR(d[(size_t)g.d.index(0, 0, 0)], 0.25, 1e-12);  // far: background
  // The penumbra width is the 80%-20% distance across the edge.
  const double in[3] = {100.0 - 10.0, 0, 0}, out[3] = {100.0 + 10.0, 0, 0};
  EXPECT_NEAR(rt::analytic_dose_at(a, in), 0.25 + 0.8 * 8.0, 1e-9);
  EXPECT_NEAR(rt::analytic_dose_at(a, out), 0.25 + 0.2 * 8.0, 1e-9);
  EXPECT_NEAR(rt::penumbra_sigma(20.0), 20.0 / 1.6832424671458286, 1e-12);
  // Sharp edge: 1 inside, 1/2 on the surface, 0 outside.
  a.targets[0].penumbra_um = 0;
  const double on[3] = {100, 0, 0}, just_in[3] = {99.999, 0, 0}, just_out[3] = {100.001, 0, 0};
  EXPECT_EQ(rt::analytic_dose_at(a, on), 4.25);
  EXPECT_EQ(rt::analytic_dose_at(a, just_in), 8.25);
  EXPECT_EQ(rt::analytic_dose_at(a, just_out), 0.25);
  // Scale factor (e.g. a total-dose map given per fraction).
  const auto s = rt::analytic_dose(g, a, 0.5);
  EXPECT_DOUBLE_EQ(s[(size_t)g.d.index(20, 20, 20)], 0.5 * 8.25);
}

TEST(RtDoseMap, AnalyticBoxEllipsoidAndSum) {
  const tme::GridSpec g = cube_grid(41, 10.0, -205.0);
  rt::Target box;
  box.shape = rt::TargetShape::Box;
  box.half_size_um[0] = 100;
  box.half_size_um[1] = 150;
  box.half_size_um[2] = 120;
  box.prescription_Gy = 2.0;
  box.penumbra_um = 10.0;
  rt::Target ell = box;
  ell.shape = rt::TargetShape::Ellipsoid;
  ell.center_um[0] = 50;
  ell.prescription_Gy = 6.0;
  rt::AnalyticDose a;
  a.targets = {box};
  const double c[3] = {0, 0, 0}, face[3] = {100, 0, 0}, face_y[3] = {0, -150, 0};
  const double corner[3] = {100, 150, 120};
  EXPECT_NEAR(rt::analytic_dose_at(a, c), 2.0, 1e-12);
  EXPECT_NEAR(rt::analytic_dose_at(a, face), 1.0, 1e-12);
  EXPECT_NEAR(rt::analytic_dose_at(a, face_y), 1.0, 1e-12);
  EXPECT_NEAR(rt::analytic_dose_at(a, corner), 2.0 / 8, 1e-12);  // Gaussian-blurred corner
  a.targets = {ell};
  const double ec[3] = {50, 0, 0}, ex[3] = {150, 0, 0}, ey[3] = {50, 150, 0}, ez[3] = {50, 0, -120};
  const double eo[3] = {50 + 100 / std::sqrt(3.0), 150 / std::sqrt(3.0), 120 / std::sqrt(3.0)};
  EXPECT_NEAR(rt::analytic_dose_at(a, ec), 6.0, 1e-12);
  EXPECT_NEAR(rt::analytic_dose_at(a, ex), 3.0, 1e-12);
  EXPECT_NEAR(rt::analytic_dose_at(a, ey), 3.0, 1e-12);
  EXPECT_NEAR(rt::analytic_dose_at(a, ez), 3.0, 1e-12);
  EXPECT_NEAR(rt::analytic_dose_at(a, eo), 3.0, 1e-12);  // on the surface off the axes

  // Targets and background add up.
  rt::AnalyticDose all;
  all.background_Gy = 0.1;
  all.targets = {box, ell, sphere(-100, 50, 0, 60, 1.0, 15)};
  const auto sum = rt::analytic_dose(g, all);
  std::vector<double> parts(sum.size(), 0.1);
  for (const auto& t : all.targets) {
    rt::AnalyticDose one;
    one.targets = {t};
    const auto p = rt::analytic_dose(g, one);
    for (size_t i = 0; i < p.size(); ++i) parts[i] += p[i];
  }
  for (size_t i = 0; i < sum.size(); ++i) ASSERT_NEAR(sum[i], parts[i], 1e-12) << i;

  // Validation.
  rt::AnalyticDose bad;
  bad.targets = {sphere(0, 0, 0, 0, 1, 0)};
  try {
    rt::analytic_dose(g, bad);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "target 1: sphere radius 0 um must be > 0");
  }
  bad.targets = {box, box};
  bad.targets[1].penumbra_um = -1;
  try {
    rt::analytic_dose(g, bad);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "target 2: penumbra -1 um must be >= 0");
  }
}

// ---- images ----------------------------------------------------------------------------------

namespace {

// A linear dose [Gy] of world position [um].
double linear_dose(double x, double y, double z) { return 1.5 + 0.01 * x - 0.02 * y + 0.005 * z; }

class RtDoseFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    // Source image: 12 x 10 x 8 voxels, spacing (20, 25, 30) um, lower corner (-100, -50, 10).
    src_.d = {12, 10, 8};
    const double h[3] = {20, 25, 30}, o[3] = {-100, -50, 10};
    for (int a = 0; a < 3; ++a) {
      src_.h[a] = h[a];
      src_.origin[a] = o[a];
    }
    vals_.resize((size_t)src_.nvox());
    for (int k = 0; k < 8; ++k)
      for (int j = 0; j < 10; ++j)
        for (int i = 0; i < 12; ++i)
          vals_[(size_t)src_.d.index(i, j, k)] = linear_dose(src_.center(0, i), src_.center(1, j), src_.center(2, k));
    // Target: finer, offset, inside the hull of the source voxel centres
    // (x [-90, 130], y [-37.5, 187.5], z [25, 235] um).
    dst_.d = {30, 24, 18};
    const double hd[3] = {7, 9, 11}, od[3] = {-85, -30, 30};
    for (int a = 0; a < 3; ++a) {
      dst_.h[a] = hd[a];
      dst_.origin[a] = od[a];
    }
  }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }

  void expect_linear_on_target(const tme::ImageMap& m, const std::string& what) {
    for (int a = 0; a < 3; ++a) {
      EXPECT_DOUBLE_EQ(m.h[a], src_.h[a]) << what;
      EXPECT_DOUBLE_EQ(m.origin[a], src_.origin[a]) << what;
    }
    rt::ResampleOptions opt;
    opt.outside = rt::OutsidePolicy::Error;
    opt.scale = 0.5;
    const auto r = rt::resample_trilinear(m, dst_, opt);
    ASSERT_EQ(r.size(), (size_t)dst_.nvox());
    double worst = 0;
    for (int k = 0; k < dst_.d.nz; ++k)
      for (int j = 0; j < dst_.d.ny; ++j)
        for (int i = 0; i < dst_.d.nx; ++i) {
          const double e = 0.5 * linear_dose(dst_.center(0, i), dst_.center(1, j), dst_.center(2, k));
          worst = std::max(worst, std::fabs(r[(size_t)dst_.d.index(i, j, k)] - e));
        }
    EXPECT_LT(worst, 1e-13) << what;
  }

  const tme::test::TempDir tmp_{"tmesim_rtdose"};
  fs::path dir_;
  tme::GridSpec src_, dst_;
  std::vector<double> vals_;
};

}  // namespace

TEST_F(RtDoseFiles, TrilinearReproducesLinearField) {
  tme::ImageMap m;
  m.d = src_.d;
  for (int a = 0; a < 3; ++a) {
    m.h[a] = src_.h[a];
    m.origin[a] = src_.origin[a];
  }
  m.values = vals_;
  expect_linear_on_target(m, "in memory");
  // Identity resampling returns the values.
  const auto same = rt::resample_trilinear(m, src_);
  for (size_t i = 0; i < same.size(); ++i) ASSERT_NEAR(same[i], vals_[i], 1e-13);
  // Half-voxel rim: held at the outermost centre; beyond the footprint: fill (or error).
  rt::ResampleOptions opt;
  opt.fill = -1;
  const double rim[3] = {-95, 0, 100}, outside[3] = {-100.5, 0, 100}, edge[3] = {-100, 0, 100};
  EXPECT_NEAR(rt::sample_trilinear(m, rim, opt), linear_dose(-90, 0, 100), 1e-13);
  EXPECT_NEAR(rt::sample_trilinear(m, edge, opt), linear_dose(-90, 0, 100), 1e-13);
  EXPECT_EQ(rt::sample_trilinear(m, outside, opt), -1.0);
  tme::GridSpec wide = src_;
  wide.origin[0] -= 20;
  const auto filled = rt::resample_trilinear(m, wide, opt);
  EXPECT_EQ(filled[0], -1.0);
  EXPECT_NEAR(filled[1], vals_[0], 1e-13);
  opt.outside = rt::OutsidePolicy::Error;
  try {
    rt::resample_trilinear(m, wide, opt);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "dose map: grid voxel (0, 0, 0) at (-110, -37.5, 25) um lies outside the image "
                 "[-100, 140] x [-50, 200] x [10, 250] um");
  }
}

TEST_F(RtDoseFiles, VtiMhaNrrdResampled) {
  // .vti: cell data, origin = lower corner.
  const std::string vti = path("dose.vti");
  tme::write_image_map_vti(vti, src_, "dose", vals_);

  // .mha: point data, the points are the voxel centres.
  const std::string mha = path("dose.mha");
  {
    vtkNew<vtkImageData> img;
    img->SetDimensions(src_.d.nx, src_.d.ny, src_.d.nz);
    img->SetSpacing(src_.h[0], src_.h[1], src_.h[2]);
    img->SetOrigin(src_.center(0, 0), src_.center(1, 0), src_.center(2, 0));
    img->AllocateScalars(VTK_DOUBLE, 1);
    auto* p = static_cast<double*>(img->GetScalarPointer());
    for (size_t i = 0; i < vals_.size(); ++i) p[i] = vals_[i];
    vtkNew<vtkMetaImageWriter> w;
    w->SetFileName(mha.c_str());
    w->SetCompression(false);
    w->SetInputData(img);
    w->Write();
  }

  // .nrrd: hand-written (VTK 9.1 has no NRRD writer), double, raw, 'space origin' = first centre.
  const std::string nrrd = path("dose.nrrd");
  {
    std::ofstream f(nrrd, std::ios::binary);
    f << "NRRD0004\ntype: double\ndimension: 3\nspace: left-posterior-superior\nsizes: " << src_.d.nx << " "
      << src_.d.ny << " " << src_.d.nz << "\nspace directions: (" << src_.h[0] << ",0,0) (0," << src_.h[1]
      << ",0) (0,0," << src_.h[2] << ")\n"
      << "space origin: (" << src_.center(0, 0) << "," << src_.center(1, 0) << "," << src_.center(2, 0)
      << ")\nencoding: raw\nendian: little\n\n";
    f.write(reinterpret_cast<const char*>(vals_.data()), (std::streamsize)(vals_.size() * 8));
  }

  for (const std::string& p : {vti, mha, nrrd}) {
    const rt::DoseImage di = rt::read_dose_image(p);
    EXPECT_EQ(di.summation_type, "");
    ASSERT_EQ(di.map.d.nx, 12) << p;
    ASSERT_EQ(di.map.d.ny, 10);
    ASSERT_EQ(di.map.d.nz, 8);
    for (size_t i = 0; i < vals_.size(); ++i) ASSERT_EQ(di.map.values[i], vals_[i]) << p << " " << i;
    expect_linear_on_target(di.map, p);
  }
  EXPECT_EQ(rt::read_dose_image(vti).format, "vti");
  EXPECT_EQ(rt::read_dose_image(mha).format, "mha");
  EXPECT_EQ(rt::read_dose_image(nrrd).format, "nrrd");
  EXPECT_FALSE(rt::looks_like_dicom(nrrd));
}
