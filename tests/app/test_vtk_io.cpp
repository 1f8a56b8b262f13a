// VTK image I/O: .vti volumes, .pvd collections, map readers (.vti, .mha, .mhd, .nrrd, .nhdr).
#include <gtest/gtest.h>
#include <unistd.h>
#include <vtkCellData.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkMetaImageWriter.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>
#include <vtkXMLImageDataReader.h>
#include <vtkXMLImageDataWriter.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "host/io/vtk_io.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

// A fresh scratch directory per test, removed afterwards.
class VtkIo : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> listing() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  const tme::test::TempDir tmp_{"tmesim_vtkio"};
  fs::path dir_;
};

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no exception>";
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

tme::GridSpec small_grid() {
  tme::GridSpec g;
  g.d = {5, 4, 3};
  g.h[0] = 2;
  g.h[1] = 3;
  g.h[2] = 4;
  g.origin[0] = 10;
  g.origin[1] = 20;
  g.origin[2] = 30;
  return g;
}

vtkSmartPointer<vtkImageData> read_vti(const std::string& p) {
  vtkNew<vtkXMLImageDataReader> r;
  r->SetFileName(p.c_str());
  r->Update();
  return r->GetOutput();
}

void write_vtk_image(const std::string& p, vtkImageData* img) {
  vtkNew<vtkXMLImageDataWriter> w;
  w->SetFileName(p.c_str());
  w->SetInputData(img);
  ASSERT_EQ(w->Write(), 1);
}

}  // namespace

// ---- write_vti ------------------------------------------------------------------------

TEST_F(VtkIo, VtkWriteVtiRoundTrip) {
  const tme::GridSpec g = small_grid();
  const long long n = g.nvox();
  ASSERT_EQ(n, 60);
  std::vector<tme::real> a(n), b(n);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 5; ++i) {
        const long long v = g.d.index(i, j, k);
        a[v] = tme::real(i + 10 * j + 100 * k + 0.25);
        b[v] = tme::real(-0.5 * (i + 10 * j + 100 * k) - 1e-3);
      }
  const std::string p = path("run_000001.vti");
  tme::write_vti(p, g, {{"A [ng/mL]", a.data()}, {"B [nM]", b.data()}}, 12.5);

  EXPECT_EQ(listing(), std::vector<std::string>{"run_000001.vti"});  // no .tmp left
  const std::string text = slurp(p);
  EXPECT_NE(text.find("format=\"appended\""), std::string::npos);
  EXPECT_NE(text.find("encoding=\"raw\""), std::string::npos);
  EXPECT_NE(text.find("compressor=\"vtkZLibDataCompressor\""), std::string::npos);

  auto img = read_vti(p);
  ASSERT_TRUE(img);
  int ext[6];
  img->GetExtent(ext);
  EXPECT_EQ(std::vector<int>(ext, ext + 6), (std::vector<int>{0, 5, 0, 4, 0, 3}));
  double sp[3], org[3];
  img->GetSpacing(sp);
  img->GetOrigin(org);
  EXPECT_DOUBLE_EQ(sp[0], 2);
  EXPECT_DOUBLE_EQ(sp[1], 3);
  EXPECT_DOUBLE_EQ(sp[2], 4);
  EXPECT_DOUBLE_EQ(org[0], 10);
  EXPECT_DOUBLE_EQ(org[1], 20);
  EXPECT_DOUBLE_EQ(org[2], 30);
  EXPECT_EQ(img->GetNumberOfCells(), 60);
  EXPECT_EQ(img->GetPointData()->GetNumberOfArrays(), 0);
  ASSERT_EQ(img->GetCellData()->GetNumberOfArrays(), 2);
  EXPECT_STREQ(img->GetCellData()->GetArrayName(0), "A [ng/mL]");
  EXPECT_STREQ(img->GetCellData()->GetArrayName(1), "B [nM]");
  const std::vector<tme::real>* src[2] = {&a, &b};
  for (int c = 0; c < 2; ++c) {
    vtkDataArray* arr = img->GetCellData()->GetArray(c);
    ASSERT_EQ(arr->GetNumberOfTuples(), 60);
    ASSERT_EQ(arr->GetNumberOfComponents(), 1);
    const int expect_type = std::is_same_v<tme::real, double> ? VTK_DOUBLE : VTK_FLOAT;
    EXPECT_EQ(arr->GetDataType(), expect_type);
    for (vtkIdType v = 0; v < 60; ++v) EXPECT_EQ(arr->GetTuple1(v), (double)(*src[c])[v]) << v;
  }
  // Cell (i,j,k) of VTK is voxel (i,j,k): spot-check one through VTK's own indexing.
  int ijk[3] = {3, 2, 1};
  const vtkIdType cell = img->ComputeCellId(ijk);
  EXPECT_EQ(img->GetCellData()->GetArray(0)->GetTuple1(cell), 3 + 20 + 100 + 0.25);
  vtkDataArray* t = img->GetFieldData()->GetArray("TimeValue");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->GetNumberOfTuples(), 1);
  EXPECT_EQ(t->GetTuple1(0), 12.5);
}

TEST_F(VtkIo, VtkWriteVtiCompressors) {
  tme::GridSpec g;
  g.d = {7, 3, 2};
  g.h[0] = 0.5;
  std::vector<tme::real> a(g.nvox());
  for (size_t i = 0; i < a.size(); ++i) a[i] = tme::real(1.0 / (1.0 + (double)i));
  const std::pair<tme::VtiCompression, const char*> cases[] = {{tme::VtiCompression::None, nullptr},
                                                               {tme::VtiCompression::ZLib, "vtkZLibDataCompressor"},
                                                               {tme::VtiCompression::LZ4, "vtkLZ4DataCompressor"}};
  for (const auto& [c, name] : cases) {
    const std::string p = path("c.vti");
    tme::write_vti(p, g, {{"u [nM]", a.data()}}, 2.0, c);
    const std::string text = slurp(p);
    if (name)
      EXPECT_NE(text.find(std::string("compressor=\"") + name + "\""), std::string::npos) << name;
    else
      EXPECT_EQ(text.find("compressor="), std::string::npos);
    auto img = read_vti(p);
    vtkDataArray* arr = img->GetCellData()->GetArray("u [nM]");
    ASSERT_TRUE(arr);
    ASSERT_EQ(arr->GetNumberOfTuples(), 42);
    for (vtkIdType v = 0; v < 42; ++v) EXPECT_EQ(arr->GetTuple1(v), (double)a[v]);
    EXPECT_EQ(img->GetFieldData()->GetArray("TimeValue")->GetTuple1(0), 2.0);
  }
  EXPECT_EQ(listing(), std::vector<std::string>{"c.vti"});
}

TEST_F(VtkIo, VtkWriteVtiOverwritesExistingFile) {
  tme::GridSpec g;
  g.d = {2, 1, 1};
  std::vector<tme::real> v1 = {1, 2}, v2 = {3, 4};
  const std::string p = path("x.vti");
  tme::write_vti(p, g, {{"c", v1.data()}}, 0.0);
  tme::write_vti(p, g, {{"c", v2.data()}}, 1e-9);
  auto img = read_vti(p);
  EXPECT_EQ(img->GetCellData()->GetArray("c")->GetTuple1(1), 4.0);
  EXPECT_EQ(img->GetFieldData()->GetArray("TimeValue")->GetTuple1(0), 1e-9);
  EXPECT_EQ(listing(), std::vector<std::string>{"x.vti"});
}

TEST_F(VtkIo, VtkWriteVtiMissingDirectoryThrowsAndLeavesNothing) {
  const tme::GridSpec g = small_grid();
  std::vector<tme::real> a(g.nvox(), 1.0f);
  const std::string p = path("nodir/out.vti");
  testing::internal::CaptureStderr();
  const std::string e = error_of([&] { tme::write_vti(p, g, {{"A", a.data()}}, 0); });
  const std::string err_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(e.rfind(p + ": cannot write VTK image (", 0), 0u) << e;
  EXPECT_EQ(e.back(), ')') << e;
  EXPECT_EQ(err_text, "");  // the VTK error went into the exception, not to stderr
  EXPECT_TRUE(listing().empty());
  EXPECT_FALSE(fs::exists(dir_ / "nodir"));
}

TEST_F(VtkIo, VtkWriteVtiRenameFailureRemovesTmp) {
  tme::GridSpec g;
  g.d = {1, 1, 1};
  std::vector<tme::real> a = {7};
  fs::create_directories(dir_ / "occupied.vti" / "sub");  // a non-empty directory: rename fails
  const std::string p = path("occupied.vti");
  const std::string e = error_of([&] { tme::write_vti(p, g, {{"A", a.data()}}, 0); });
  EXPECT_EQ(e.rfind(p + ": cannot write VTK image (cannot rename " + p + ".tmp: ", 0), 0u) << e;
  EXPECT_EQ(listing(), std::vector<std::string>{"occupied.vti"});
  EXPECT_TRUE(fs::is_directory(dir_ / "occupied.vti"));
}

TEST_F(VtkIo, VtkWriteVtiRejectsBadArrays) {
  tme::GridSpec g;
  g.d = {1, 1, 1};
  std::vector<tme::real> a = {7};
  const std::string p = path("bad.vti");
  EXPECT_EQ(error_of([&] {
              tme::write_vti(p, g, {{"A", a.data()}, {"A", a.data()}}, 0);
            }),
            p + ": cannot write VTK image (array 'A' given twice)");
  EXPECT_EQ(error_of([&] {
              tme::write_vti(p, g, {{"A", nullptr}}, 0);
            }),
            p + ": cannot write VTK image (array 'A' has no data)");
  EXPECT_TRUE(listing().empty());
}

// ---- write_pvd ------------------------------------------------------------------------

TEST_F(VtkIo, VtkPvdCollection) {
  const std::vector<std::pair<double, std::string>> entries = {
      {0.0, "run_000000.vti"}, {0.1, "run_000001.vti"}, {1.0 / 3.0, "a&b <c>.vti"}, {86400.5, "run_000003.vti"}};
  const std::string p = path("run.pvd");
  tme::write_pvd(p, entries);
  EXPECT_EQ(listing(), std::vector<std::string>{"run.pvd"});

  const std::string text = slurp(p);
  EXPECT_NE(text.find("<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">"), std::string::npos);
  EXPECT_NE(text.find("timestep=\"0.10000000000000001\" group=\"\" part=\"0\" "
                      "file=\"run_000001.vti\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("timestep=\"0.33333333333333331\""), std::string::npos) << text;
  EXPECT_NE(text.find("file=\"a&amp;b &lt;c&gt;.vti\""), std::string::npos) << text;

  // Parse it as XML and check every entry round-trips exactly.
  vtkNew<vtkXMLDataParser> parser;
  parser->SetFileName(p.c_str());
  ASSERT_EQ(parser->Parse(), 1);
  vtkXMLDataElement* root = parser->GetRootElement();
  ASSERT_TRUE(root);
  EXPECT_STREQ(root->GetName(), "VTKFile");
  EXPECT_STREQ(root->GetAttribute("type"), "Collection");
  vtkXMLDataElement* coll = root->FindNestedElementWithName("Collection");
  ASSERT_TRUE(coll);
  ASSERT_EQ(coll->GetNumberOfNestedElements(), 4);
  for (int i = 0; i < 4; ++i) {
    vtkXMLDataElement* ds = coll->GetNestedElement(i);
    EXPECT_STREQ(ds->GetName(), "DataSet");
    EXPECT_EQ(std::strtod(ds->GetAttribute("timestep"), nullptr), entries[i].first) << i;
    EXPECT_EQ(std::string(ds->GetAttribute("file")), entries[i].second) << i;
    EXPECT_STREQ(ds->GetAttribute("part"), "0");
  }
}

TEST_F(VtkIo, VtkPvdEmptyAndMissingDirectory) {
  const std::string p = path("empty.pvd");
  tme::write_pvd(p, {});
  EXPECT_NE(slurp(p).find("<Collection>\n  </Collection>"), std::string::npos);
  const std::string bad = path("nodir/run.pvd");
  const std::string e = error_of([&] { tme::write_pvd(bad, {{0.0, "a.vti"}}); });
  EXPECT_EQ(e, bad + ": cannot write PVD collection (cannot open " + bad + ".tmp: No such file or directory)");
  EXPECT_EQ(listing(), std::vector<std::string>{"empty.pvd"});
}

// ---- read_image_map ---------------------------------------------------------------------

TEST_F(VtkIo, VtkMapVtiCellDataRoundTrip) {
  const tme::GridSpec g = small_grid();
  std::vector<double> v(g.nvox());
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * (double)i - 2.0;
  const std::string p = path("map.vti");
  tme::write_image_map_vti(p, g, "D", v);
  EXPECT_EQ(listing(), std::vector<std::string>{"map.vti"});
  auto img = read_vti(p);
  EXPECT_EQ(img->GetFieldData()->GetArray("TimeValue"), nullptr);

  for (const std::string& name : {std::string(), std::string("D")}) {
    const tme::ImageMap m = tme::read_image_map(p, name);
    EXPECT_EQ(m.d.nx, 5);
    EXPECT_EQ(m.d.ny, 4);
    EXPECT_EQ(m.d.nz, 3);
    for (int a = 0; a < 3; ++a) {
      EXPECT_DOUBLE_EQ(m.h[a], g.h[a]);
      EXPECT_DOUBLE_EQ(m.origin[a], g.origin[a]);
    }
    EXPECT_EQ(m.values, v);  // doubles stored as doubles: exact
  }
}

TEST_F(VtkIo, VtkMapVtiPointDataWithOffsetExtent) {
  // Points 4 x 3 x 2 with extent starting at (2, 0, 1): voxel centres on the points.
  vtkNew<vtkImageData> img;
  img->SetExtent(2, 5, 0, 2, 1, 2);
  img->SetSpacing(0.5, 1.0, 2.0);
  img->SetOrigin(1.0, 2.0, 3.0);
  vtkNew<vtkFloatArray> f;
  f->SetName("conc");
  f->SetNumberOfTuples(24);
  for (int i = 0; i < 24; ++i) f->SetValue(i, 1.5f * (float)i);
  img->GetPointData()->AddArray(f);
  const std::string p = path("pts.vti");
  write_vtk_image(p, img);

  const tme::ImageMap m = tme::read_image_map(p, "");
  EXPECT_EQ(m.d.nx, 4);
  EXPECT_EQ(m.d.ny, 3);
  EXPECT_EQ(m.d.nz, 2);
  EXPECT_DOUBLE_EQ(m.h[0], 0.5);
  EXPECT_DOUBLE_EQ(m.h[1], 1.0);
  EXPECT_DOUBLE_EQ(m.h[2], 2.0);
  EXPECT_DOUBLE_EQ(m.origin[0], 1.0 + 2 * 0.5 - 0.25);
  EXPECT_DOUBLE_EQ(m.origin[1], 2.0 - 0.5);
  EXPECT_DOUBLE_EQ(m.origin[2], 3.0 + 2.0 - 1.0);
  ASSERT_EQ(m.values.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(m.values[i], 1.5 * i);
}

TEST_F(VtkIo, VtkMapVtiNamedArrayAndErrors) {
  vtkNew<vtkImageData> img;
  img->SetDimensions(3, 2, 2);  // 2 x 1 x 1 cells
  vtkNew<vtkFloatArray> vec;
  vec->SetName("vec");
  vec->SetNumberOfComponents(3);
  vec->SetNumberOfTuples(2);
  for (int i = 0; i < 6; ++i) vec->SetValue(i, (float)i);
  vtkNew<vtkDoubleArray> a, b;
  a->SetName("a");
  b->SetName("b");
  a->SetNumberOfTuples(2);
  b->SetNumberOfTuples(2);
  a->SetValue(0, 1);
  a->SetValue(1, 2);
  b->SetValue(0, -3);
  b->SetValue(1, 4.5);
  img->GetCellData()->AddArray(vec);
  img->GetCellData()->AddArray(a);
  img->GetCellData()->AddArray(b);
  const std::string p = path("multi.vti");
  write_vtk_image(p, img);

  tme::ImageMap m = tme::read_image_map(p, "b");
  EXPECT_EQ(m.d.nx, 2);
  EXPECT_EQ(m.d.ny, 1);
  EXPECT_EQ(m.d.nz, 1);
  EXPECT_EQ(m.values, (std::vector<double>{-3, 4.5}));
  m = tme::read_image_map(p, "");  // first scalar array: 'vec' is skipped
  EXPECT_EQ(m.values, (std::vector<double>{1, 2}));

  EXPECT_EQ(error_of([&] { tme::read_image_map(p, "c"); }), p + ": no array 'c' (found: vec, a, b)");
  EXPECT_EQ(error_of([&] { tme::read_image_map(p, "vec"); }),
            p + ": array 'vec' has 3 components (expected a scalar array)");

  // Only a vector array: the empty name reports it.
  vtkNew<vtkImageData> img2;
  img2->SetDimensions(3, 2, 2);
  img2->GetCellData()->AddArray(vec);
  const std::string p2 = path("vec.vti");
  write_vtk_image(p2, img2);
  EXPECT_EQ(error_of([&] { tme::read_image_map(p2, ""); }),
            p2 + ": array 'vec' has 3 components (expected a scalar array)");
}

TEST_F(VtkIo, VtkMapMetaImageMhaAndMhd) {
  vtkNew<vtkImageData> img;
  img->SetDimensions(3, 2, 2);
  img->SetSpacing(1.5, 2.0, 2.5);
  img->SetOrigin(-1.0, 0.0, 4.0);
  img->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
  auto* s = static_cast<unsigned char*>(img->GetScalarPointer());
  for (int i = 0; i < 12; ++i) s[i] = (unsigned char)(3 * i + 1);
  std::vector<double> expect(12);
  for (int i = 0; i < 12; ++i) expect[i] = 3 * i + 1;

  for (const std::string name : {"lab.mha", "lab.mhd"}) {
    for (bool compress : {false, true}) {
      const std::string p = path(name);
      vtkNew<vtkMetaImageWriter> w;
      w->SetFileName(p.c_str());
      if (name == "lab.mhd") w->SetRAWFileName(path("lab.raw").c_str());
      w->SetCompression(compress);
      w->SetInputData(img);
      w->Write();
      ASSERT_TRUE(fs::exists(p));
      const tme::ImageMap m = tme::read_image_map(p, "");
      EXPECT_EQ(m.d.nx, 3) << name;
      EXPECT_EQ(m.d.ny, 2);
      EXPECT_EQ(m.d.nz, 2);
      EXPECT_DOUBLE_EQ(m.h[0], 1.5);
      EXPECT_DOUBLE_EQ(m.h[1], 2.0);
      EXPECT_DOUBLE_EQ(m.h[2], 2.5);
      EXPECT_DOUBLE_EQ(m.origin[0], -1.0 - 0.75);
      EXPECT_DOUBLE_EQ(m.origin[1], 0.0 - 1.0);
      EXPECT_DOUBLE_EQ(m.origin[2], 4.0 - 1.25);
      EXPECT_EQ(m.values, expect) << name << " compress=" << compress;
    }
  }
}

namespace {
// A hand-written NRRD (VTK 9.1 has a reader but no writer): float32, little endian, raw.
void write_nrrd(const std::string& header_path, const std::string& data_path, const std::string& sizes,
                const std::string& geometry, const std::vector<float>& v) {
  std::ofstream h(header_path, std::ios::binary);
  h << "NRRD0004\n# tmesim test\ntype: float\ndimension: 3\nsizes: " << sizes << "\n"
    << geometry << "encoding: raw\nendian: little\n";
  if (!data_path.empty()) {
    h << "data file: " << fs::path(data_path).filename().string() << "\n";
    std::ofstream d(data_path, std::ios::binary);
    d.write(reinterpret_cast<const char*>(v.data()), (std::streamsize)(v.size() * sizeof(float)));
  } else {
    h << "\n";
    h.write(reinterpret_cast<const char*>(v.data()), (std::streamsize)(v.size() * sizeof(float)));
  }
}
}  // namespace

// vtkNrrdReader takes a first axis of <= 9 samples as vector components; read_image_map
// undoes that for scalar maps (here nx = 3), in attached (.nrrd) and detached (.nhdr) files.
TEST_F(VtkIo, VtkMapNrrdAttachedAndDetached) {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = 0.5f * (float)i - 1.0f;
  const std::string nrrd = path("m.nrrd");
  write_nrrd(nrrd, "", "3 2 2",
             "space: left-posterior-superior\nspace directions: (1.5,0,0) (0,2,0) (0,0,2.5)\n"
             "space origin: (10,20,30)\n",
             v);
  const std::string nhdr = path("m.nhdr");
  write_nrrd(nhdr, path("m.raw"), "3 2 2", "spacings: 1.5 2 2.5\n", v);

  for (const std::string& p : {nrrd, nhdr}) {
    const tme::ImageMap m = tme::read_image_map(p, "");
    EXPECT_EQ(m.d.nx, 3) << p;
    EXPECT_EQ(m.d.ny, 2);
    EXPECT_EQ(m.d.nz, 2);
    EXPECT_DOUBLE_EQ(m.h[0], 1.5);
    EXPECT_DOUBLE_EQ(m.h[1], 2.0);
    EXPECT_DOUBLE_EQ(m.h[2], 2.5);
    const double o[3] = {p == nrrd ? 10.0 : 0.0, p == nrrd ? 20.0 : 0.0, p == nrrd ? 30.0 : 0.0};
    EXPECT_DOUBLE_EQ(m.origin[0], o[0] - 0.75) << p;
    EXPECT_DOUBLE_EQ(m.origin[1], o[1] - 1.0);
    EXPECT_DOUBLE_EQ(m.origin[2], o[2] - 1.25);
    ASSERT_EQ(m.values.size(), 12u);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(m.values[i], (double)v[i]) << p << " " << i;
  }
}

TEST_F(VtkIo, VtkMapNrrdWideAndVector) {
  // nx = 10: read by VTK as a scalar image directly.
  std::vector<float> v(10 * 2 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (float)i * 0.25f;
  const std::string p = path("wide.nrrd");
  write_nrrd(p, "", "10 2 3", "spacings: 0.5 1 4\n", v);
  const tme::ImageMap m = tme::read_image_map(p, "");
  EXPECT_EQ(m.d.nx, 10);
  EXPECT_EQ(m.d.ny, 2);
  EXPECT_EQ(m.d.nz, 3);
  EXPECT_DOUBLE_EQ(m.h[0], 0.5);
  EXPECT_DOUBLE_EQ(m.h[2], 4.0);
  EXPECT_DOUBLE_EQ(m.origin[0], -0.25);
  EXPECT_DOUBLE_EQ(m.origin[2], -2.0);
  ASSERT_EQ(m.values.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(m.values[i], (double)v[i]) << i;

  // A real vector axis ('kinds: vector ...') stays an error.
  std::vector<float> w(3 * 4 * 5 * 1);
  const std::string q = path("vec.nrrd");
  write_nrrd(q, "", "3 4 5", "kinds: vector domain domain\n", w);
  EXPECT_EQ(error_of([&] { tme::read_image_map(q, ""); }),
            q + ": array 'ImageFile' has 3 components (expected a scalar array)");
}

TEST_F(VtkIo, VtkMapErrors) {
  const std::string missing = path("nope.vti");
  EXPECT_EQ(error_of([&] { tme::read_image_map(missing, ""); }), missing + ": no such file");
  const std::string missing_mha = path("nope.mha");
  EXPECT_EQ(error_of([&] { tme::read_image_map(missing_mha, ""); }), missing_mha + ": no such file");
  const std::string dir_vti = path("adir.vti");
  fs::create_directories(dir_vti);
  EXPECT_EQ(error_of([&] { tme::read_image_map(dir_vti, ""); }), dir_vti + ": not a regular file (a directory)");

  const std::string xyz = path("map.xyz");
  std::ofstream(xyz) << "hello";
  EXPECT_EQ(error_of([&] { tme::read_image_map(xyz, ""); }),
            xyz + ": unsupported map format '.xyz' (expected .vti, .mha, .mhd or .nrrd)");
  const std::string noext = path("map");
  EXPECT_EQ(error_of([&] { tme::read_image_map(noext, ""); }),
            noext + ": unsupported map format '' (expected .vti, .mha, .mhd or .nrrd)");
}

TEST_F(VtkIo, VtkMapCorruptVtiIsAnErrorNotANoise) {
  const std::string p = path("junk.vti");
  std::ofstream(p) << "this is not XML at all\n";
  testing::internal::CaptureStderr();
  const std::string e = error_of([&] { tme::read_image_map(p, ""); });
  const std::string err_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(e.rfind(p + ": cannot read image (", 0), 0u) << e;
  EXPECT_EQ(e.back(), ')') << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_EQ(err_text, "");

  // A valid XML file of another VTK type.
  const std::string q = path("other.vti");
  std::ofstream(q) << "<?xml version=\"1.0\"?>\n<VTKFile type=\"PolyData\" version=\"0.1\">"
                      "<PolyData></PolyData></VTKFile>\n";
  testing::internal::CaptureStderr();
  const std::string e2 = error_of([&] { tme::read_image_map(q, ""); });
  const std::string err2 = testing::internal::GetCapturedStderr();
  EXPECT_EQ(e2.rfind(q + ": cannot read image (", 0), 0u) << e2;
  EXPECT_EQ(err2, "");
}

// Files shorter than their headers say are errors (VTK itself would only warn, or not at all),
// and nothing is printed on stderr.
TEST_F(VtkIo, VtkMapTruncatedFilesAreErrors) {
  // NRRD, attached and detached: 12 x 2 x 2 floats = 192 bytes announced, 3 present.
  const std::string nrrd = path("short.nrrd");
  std::ofstream(nrrd, std::ios::binary) << "NRRD0004\ntype: float\ndimension: 3\nsizes: 12 2 2\nencoding: raw\n\nabc";
  const std::string nhdr = path("short.nhdr");
  std::ofstream(nhdr, std::ios::binary)
      << "NRRD0004\ntype: float\ndimension: 3\nsizes: 12 2 2\nencoding: raw\ndata file: s.raw\n";
  std::ofstream(path("s.raw"), std::ios::binary) << "abcd";
  const std::string nodata = path("nodata.nhdr");
  std::ofstream(nodata, std::ios::binary)
      << "NRRD0004\ntype: float\ndimension: 3\nsizes: 12 2 2\nencoding: raw\ndata file: none.raw\n";
  // MetaImage with 32 bytes announced, 3 present.
  const std::string mha = path("short.mha");
  std::ofstream(mha, std::ios::binary) << "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_FLOAT\n"
                                          "ElementDataFile = LOCAL\nabc";
  // A .vti cut inside its compressed data.
  tme::GridSpec g;
  g.d = {2, 2, 2};
  const std::string ok = path("ok.vti");
  tme::write_image_map_vti(ok, g, "m", std::vector<double>(8, 2.0));
  const std::string text = slurp(ok);
  const std::string vti = path("short.vti");
  std::ofstream(vti, std::ios::binary) << text.substr(0, text.size() - 60);

  testing::internal::CaptureStderr();
  const std::string e_nrrd = error_of([&] { tme::read_image_map(nrrd, ""); });
  const std::string e_nhdr = error_of([&] { tme::read_image_map(nhdr, ""); });
  const std::string e_nodata = error_of([&] { tme::read_image_map(nodata, ""); });
  const std::string e_mha = error_of([&] { tme::read_image_map(mha, ""); });
  const std::string e_vti = error_of([&] { tme::read_image_map(vti, ""); });
  const std::string err_text = testing::internal::GetCapturedStderr();

  EXPECT_EQ(e_nrrd, nrrd + ": cannot read image (data ends early: 3 of 192 bytes)");
  EXPECT_EQ(e_nhdr, nhdr + ": cannot read image (data ends early: 4 of 192 bytes)");
  EXPECT_EQ(e_nodata, nodata + ": cannot read image (its data file " + path("none.raw") + ": no such file)");
  EXPECT_EQ(e_mha, mha + ": cannot read image (data ends early: 3 of 32 bytes)");
  EXPECT_EQ(e_vti.rfind(vti + ": cannot read image (", 0), 0u) << e_vti;
  EXPECT_EQ(err_text, "");
}

// Gzip and ASCII encodings (vtkNrrdReader 9.1 returns garbage for ASCII: read_image_map
// parses those numbers itself).
TEST_F(VtkIo, VtkMapNrrdGzipAndAscii) {
  const std::string hdr =
      "NRRD0004\ntype: float\ndimension: 3\nsizes: 3 2 2\nspacings: 1.5 2 2.5\n"
      "endian: little\n";
  // gzip of the 12 little-endian floats 0.5 * i - 1 (Python: gzip.compress(data, mtime=0)).
  static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x63, 0x60, 0x68, 0xd8,
                                     0xcf, 0xc0, 0xc0, 0x00, 0xc2, 0x20, 0x60, 0xcf, 0xc0, 0xd0, 0x00, 0xc4, 0x07, 0x80,
                                     0x98, 0xc1, 0x81, 0x81, 0x41, 0x01, 0x88, 0x1d, 0x80, 0x38, 0x01, 0x88, 0x1b, 0x80,
                                     0x78, 0x82, 0x03, 0x00, 0xcc, 0x22, 0x66, 0x0b, 0x30, 0x00, 0x00, 0x00};
  const std::string gzp = path("gz.nrrd");
  {
    std::ofstream f(gzp, std::ios::binary);
    f << hdr << "encoding: gzip\n\n";
    f.write(reinterpret_cast<const char*>(gz), sizeof gz);
  }
  const std::string asc = path("ascii.nrrd");
  std::ofstream(asc, std::ios::binary) << hdr << "encoding: ascii\n\n-1 -0.5 0 0.5 1 1.5\n2 2.5 3 3.5 4 4.5\n";
  const std::string ascw = path("ascii_wide.nrrd");
  {
    std::ofstream f(ascw, std::ios::binary);
    f << "NRRD0004\ntype: double\ndimension: 3\nsizes: 12 1 1\nencoding: text\n\n";
    for (int i = 0; i < 12; ++i) f << 0.5 * i - 1 << "\n";
  }
  std::vector<double> expect(12);
  for (int i = 0; i < 12; ++i) expect[i] = 0.5 * i - 1;
  for (const std::string& p : {gzp, asc}) {
    const tme::ImageMap m = tme::read_image_map(p, "");
    EXPECT_EQ(m.d.nx, 3) << p;
    EXPECT_EQ(m.d.ny, 2);
    EXPECT_EQ(m.d.nz, 2);
    EXPECT_DOUBLE_EQ(m.h[0], 1.5);
    EXPECT_DOUBLE_EQ(m.h[2], 2.5);
    EXPECT_DOUBLE_EQ(m.origin[1], -1.0);
    EXPECT_EQ(m.values, expect) << p;
  }
  const tme::ImageMap w = tme::read_image_map(ascw, "");
  EXPECT_EQ(w.d.nx, 12);
  EXPECT_EQ(w.d.ny, 1);
  EXPECT_EQ(w.d.nz, 1);
  EXPECT_EQ(w.values, expect);

  const std::string short_asc = path("short_ascii.nrrd");
  std::ofstream(short_asc, std::ios::binary) << hdr << "encoding: ascii\n\n1 2 3 4 5\n";
  EXPECT_EQ(error_of([&] { tme::read_image_map(short_asc, ""); }),
            short_asc + ": cannot read image (data ends early: 5 of 12 values)");
  const std::string bad_asc = path("bad_ascii.nrrd");
  std::ofstream(bad_asc, std::ios::binary) << hdr << "encoding: ascii\n\n1 2 x3 4 5\n";
  EXPECT_EQ(error_of([&] { tme::read_image_map(bad_asc, ""); }),
            bad_asc + ": cannot read image (value 3 of the ASCII data is not a number)");
}
