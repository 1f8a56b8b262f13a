// DICOM RT Dose import (host/rt/dose_map.hpp, read_rt_dose): files written here with DCMTK,
// with Dose Grid Scaling, decreasing and absolute Grid Frame Offset Vectors, 16- and 32-bit
// pixels; malformed files give exact messages.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/rt/dose_map.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;
namespace rt = tme::rt;

namespace {

// Geometry of the test dose [mm]: 5 columns (x, 2.5 mm), 4 rows (y, 2.0 mm), 3 frames (3 mm).
constexpr int kCols = 5, kRows = 4, kFrames = 3;
constexpr double kDx = 2.5, kDy = 2.0, kDz = 3.0;
constexpr double kIpp[3] = {-10.0, 20.0, 5.0};  // centre of the first voxel [mm]

// Dose in mGy (an integer at every voxel centre) of position [mm].
double dose_mGy(double x, double y, double z) { return 5000 + 100 * x + 50 * y - 200 * z; }

struct Spec {
  int bits = 16;
  double scaling = 0.001;  // Gy per stored unit
  std::string scaling_text = "0.001";
  std::string offsets = "0\\-3\\-6";  // relative, decreasing: frames at z = 5, 2, -1
  std::vector<double> frame_z = {5, 2, -1};
};

// An RT Dose dataset after `s` (every attribute read_rt_dose uses).
void fill(DcmDataset* ds, const Spec& s) {
  ds->putAndInsertString(DCM_SOPClassUID, UID_RTDoseStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.2.1125.1.1");
  ds->putAndInsertString(DCM_Modality, "RTDOSE");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertUint16(DCM_Rows, kRows);
  ds->putAndInsertUint16(DCM_Columns, kCols);
  ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(kFrames).c_str());
  ds->putAndInsertUint16(DCM_BitsAllocated, (Uint16)s.bits);
  ds->putAndInsertUint16(DCM_BitsStored, (Uint16)s.bits);
  ds->putAndInsertUint16(DCM_HighBit, (Uint16)(s.bits - 1));
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertString(DCM_PixelSpacing, "2.0\\2.5");  // row spacing (y), column spacing (x)
  ds->putAndInsertString(DCM_ImagePositionPatient, "-10\\20\\5");
  ds->putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  ds->putAndInsertString(DCM_GridFrameOffsetVector, s.offsets.c_str());
  ds->putAndInsertString(DCM_DoseGridScaling, s.scaling_text.c_str());
  ds->putAndInsertString(DCM_DoseUnits, "GY");
  ds->putAndInsertString(DCM_DoseType, "PHYSICAL");
  ds->putAndInsertString(DCM_DoseSummationType, "PLAN");
  const double per_unit = 1e-3 / s.scaling;  // stored units per mGy
  std::vector<Uint16> words;
  for (int f = 0; f < kFrames; ++f)
    for (int r = 0; r < kRows; ++r)
      for (int c = 0; c < kCols; ++c) {
        const double v = dose_mGy(kIpp[0] + c * kDx, kIpp[1] + r * kDy, s.frame_z[(size_t)f]);
        const auto u = (uint32_t)std::llround(v * per_unit);
        if (s.bits == 16) {
          words.push_back((Uint16)u);
        } else {
          words.push_back((Uint16)(u & 0xffff));  // little endian: low word first
          words.push_back((Uint16)(u >> 16));
        }
      }
  ds->putAndInsertUint16Array(DCM_PixelData, words.data(), (unsigned long)words.size());
}

class RtDicom : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }

  // Writes a dataset from `s`, lets `edit` change it, saves it as `name`.
  template <class Edit>
  std::string write(const std::string& name, const Spec& s, Edit&& edit) {
    DcmFileFormat ff;
    fill(ff.getDataset(), s);
    edit(ff.getDataset());
    const std::string p = path(name);
    const OFCondition st = ff.saveFile(p.c_str(), EXS_LittleEndianExplicit);
    EXPECT_TRUE(st.good()) << st.text();
    return p;
  }
  std::string write(const std::string& name, const Spec& s) {
    return write(name, s, [](DcmDataset*) {});
  }

  static std::string error_of(const std::string& p) {
    try {
      rt::read_rt_dose(p);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "<no exception>";
  }

  // The map in tmesim's convention: z increasing, origin = lower corner [um], values [Gy].
  static void expect_dose(const rt::RtDose& d, double scaling) {
    const tme::ImageMap& m = d.map;
    ASSERT_EQ(m.d.nx, kCols);
    ASSERT_EQ(m.d.ny, kRows);
    ASSERT_EQ(m.d.nz, kFrames);
    EXPECT_DOUBLE_EQ(m.h[0], 2500.0);
    EXPECT_DOUBLE_EQ(m.h[1], 2000.0);
    EXPECT_DOUBLE_EQ(m.h[2], 3000.0);
    EXPECT_DOUBLE_EQ(m.origin[0], -11250.0);  // (-10 - 2.5/2) mm
    EXPECT_DOUBLE_EQ(m.origin[1], 19000.0);   // (20 - 2/2) mm
    EXPECT_DOUBLE_EQ(m.origin[2], -2500.0);   // (-1 - 3/2) mm: lowest frame first
    for (int k = 0; k < kFrames; ++k)
      for (int j = 0; j < kRows; ++j)
        for (int i = 0; i < kCols; ++i) {
          const double mgy = dose_mGy(-10 + 2.5 * i, 20 + 2.0 * j, -1 + 3.0 * k);
          const double stored = std::round(mgy * 1e-3 / scaling);
          EXPECT_EQ(m.values[(size_t)m.d.index(i, j, k)], stored * scaling) << i << j << k;
          EXPECT_NEAR(m.values[(size_t)m.d.index(i, j, k)], mgy * 1e-3, 1e-12);
        }
  }

  const tme::test::TempDir tmp_{"tmesim_rtdicom"};
  fs::path dir_;
};

}  // namespace

TEST_F(RtDicom, Uint16DecreasingRelativeOffsets) {
  Spec s;
  const std::string p = write("dose16.dcm", s);
  const rt::RtDose d = rt::read_rt_dose(p);
  EXPECT_EQ(d.summation_type, "PLAN");
  EXPECT_EQ(d.dose_type, "PHYSICAL");
  EXPECT_EQ(d.bits_allocated, 16);
  EXPECT_DOUBLE_EQ(d.dose_grid_scaling, 0.001);
  EXPECT_TRUE(d.offsets_relative);
  EXPECT_TRUE(d.frames_reversed);
  expect_dose(d, 0.001);

  // Resampled onto a finer grid inside the hull of the centres (x [-10, 0], y [20, 26],
  // z [-1, 5] mm): the linear dose comes back to round-off.
  tme::GridSpec g;
  g.d = {14, 11, 14};
  const double h[3] = {700, 500, 400}, o[3] = {-9500, 20500, -500};
  for (int a = 0; a < 3; ++a) {
    g.h[a] = h[a];
    g.origin[a] = o[a];
  }
  rt::ResampleOptions opt;
  opt.outside = rt::OutsidePolicy::Error;
  const auto v = rt::resample_trilinear(d.map, g, opt);
  double worst = 0;
  for (int k = 0; k < g.d.nz; ++k)
    for (int j = 0; j < g.d.ny; ++j)
      for (int i = 0; i < g.d.nx; ++i) {
        const double e = 1e-3 * dose_mGy(g.center(0, i) / 1000, g.center(1, j) / 1000, g.center(2, k) / 1000);
        worst = std::max(worst, std::fabs(v[(size_t)g.d.index(i, j, k)] - e));
      }
  EXPECT_LT(worst, 1e-12);

  // Found by content and by extension through read_dose_image.
  EXPECT_TRUE(rt::looks_like_dicom(p));
  const std::string noext = path("dose_noext");
  fs::copy_file(p, noext);
  const rt::DoseImage di = rt::read_dose_image(noext);
  EXPECT_EQ(di.format, "dicom");
  EXPECT_EQ(di.summation_type, "PLAN");
  EXPECT_EQ(di.map.values, d.map.values);
}

TEST_F(RtDicom, Uint32AbsoluteIncreasingOffsets) {
  Spec s;
  s.bits = 32;
  s.scaling = 1e-6;  // 1 uGy per unit: stored values above 65535 use the high word
  s.scaling_text = "1e-6";
  s.frame_z = {5, 8, 11};
  s.offsets = "5\\8\\11";  // absolute z, increasing, first = ImagePositionPatient z
  const std::string p = write("dose32.dcm", s);
  {
    // Independent of DCMTK: PixelData is the file's last element; its first value, as 4
    // little-endian bytes, is the stored dose of voxel (0, 0, 0) of frame 0 in uGy.
    std::ifstream f(p, std::ios::binary);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t at = bytes.size() - (size_t)(4 * kCols * kRows * kFrames);
    const uint32_t v0 = (uint32_t)bytes[at] | (uint32_t)bytes[at + 1] << 8 | (uint32_t)bytes[at + 2] << 16 |
                        (uint32_t)bytes[at + 3] << 24;
    EXPECT_EQ(v0, (uint32_t)std::llround(dose_mGy(-10, 20, 5) * 1000));  // 4000000 > 65535
  }
  const rt::RtDose d = rt::read_rt_dose(p);
  EXPECT_EQ(d.bits_allocated, 32);
  EXPECT_FALSE(d.offsets_relative);
  EXPECT_FALSE(d.frames_reversed);
  EXPECT_DOUBLE_EQ(d.map.origin[2], 3500.0);  // (5 - 1.5) mm
  const tme::ImageMap& m = d.map;
  for (int k = 0; k < kFrames; ++k)
    for (int j = 0; j < kRows; ++j)
      for (int i = 0; i < kCols; ++i) {
        const double mgy = dose_mGy(-10 + 2.5 * i, 20 + 2.0 * j, 5 + 3.0 * k);
        EXPECT_EQ(m.values[(size_t)m.d.index(i, j, k)], std::round(mgy * 1000) * 1e-6);
      }
}

TEST_F(RtDicom, MalformedFilesGiveClearErrors) {
  Spec s;
  const std::string no_scaling =
      write("noscale.dcm", s, [](DcmDataset* ds) { ds->findAndDeleteElement(DCM_DoseGridScaling); });
  EXPECT_EQ(error_of(no_scaling), no_scaling + ": missing DICOM attribute DoseGridScaling (3004,000E)");

  const std::string rotated = write("rot.dcm", s, [](DcmDataset* ds) {
    ds->putAndInsertString(DCM_ImageOrientationPatient, "0.866\\0.5\\0\\-0.5\\0.866\\0");
  });
  EXPECT_EQ(error_of(rotated), rotated +
                                   ": ImageOrientationPatient (0.866, 0.5, 0, -0.5, 0.866, 0) is not "
                                   "supported: only the axis-aligned orientation (1, 0, 0, 0, 1, 0) is");

  const std::string relative =
      write("rel.dcm", s, [](DcmDataset* ds) { ds->putAndInsertString(DCM_DoseUnits, "RELATIVE"); });
  EXPECT_EQ(error_of(relative), relative + ": DoseUnits is 'RELATIVE' (expected GY)");

  const std::string no_units = write("nounits.dcm", s, [](DcmDataset* ds) { ds->findAndDeleteElement(DCM_DoseUnits); });
  EXPECT_EQ(error_of(no_units), no_units + ": missing DICOM attribute DoseUnits (3004,0002)");

  const std::string no_offsets =
      write("nooff.dcm", s, [](DcmDataset* ds) { ds->findAndDeleteElement(DCM_GridFrameOffsetVector); });
  EXPECT_EQ(error_of(no_offsets), no_offsets + ": missing DICOM attribute GridFrameOffsetVector (3004,000C)");

  const std::string short_offsets =
      write("shortoff.dcm", s, [](DcmDataset* ds) { ds->putAndInsertString(DCM_GridFrameOffsetVector, "0\\-3"); });
  EXPECT_EQ(error_of(short_offsets), short_offsets + ": GridFrameOffsetVector has 2 values for 3 frames");

  const std::string uneven =
      write("uneven.dcm", s, [](DcmDataset* ds) { ds->putAndInsertString(DCM_GridFrameOffsetVector, "0\\-3\\-7"); });
  EXPECT_EQ(error_of(uneven), uneven + ": GridFrameOffsetVector is not evenly spaced (steps -3 and -4 mm)");

  const std::string ambiguous =
      write("amb.dcm", s, [](DcmDataset* ds) { ds->putAndInsertString(DCM_GridFrameOffsetVector, "2\\5\\8"); });
  EXPECT_EQ(error_of(ambiguous), ambiguous +
                                     ": GridFrameOffsetVector starts at 2 mm: neither 0 (relative offsets) "
                                     "nor ImagePositionPatient z 5 mm (absolute positions)");

  const std::string bits8 = write("bits8.dcm", s, [](DcmDataset* ds) { ds->putAndInsertUint16(DCM_BitsAllocated, 8); });
  EXPECT_EQ(error_of(bits8), bits8 + ": BitsAllocated 8 is not supported (expected 16 or 32)");

  const std::string signed_px =
      write("signed.dcm", s, [](DcmDataset* ds) { ds->putAndInsertUint16(DCM_PixelRepresentation, 1); });
  EXPECT_EQ(error_of(signed_px), signed_px +
                                     ": PixelRepresentation 1 (signed) is not supported "
                                     "(expected 0, unsigned)");

  const std::string ct = write("ct.dcm", s, [](DcmDataset* ds) { ds->putAndInsertString(DCM_Modality, "CT"); });
  EXPECT_EQ(error_of(ct), ct + ": Modality is 'CT' (expected RTDOSE)");

  const std::string short_px = write("shortpx.dcm", s, [](DcmDataset* ds) {
    const Uint16 w[4] = {1, 2, 3, 4};
    ds->putAndInsertUint16Array(DCM_PixelData, w, 4);
  });
  EXPECT_EQ(error_of(short_px), short_px +
                                    ": PixelData holds 8 bytes, expected 120 (Rows x "
                                    "Columns x NumberOfFrames x BitsAllocated/8)");

  const std::string missing = path("none.dcm");
  EXPECT_EQ(error_of(missing), missing + ": no such file");
  const std::string garbage = path("garbage.dcm");
  std::ofstream(garbage) << "not a DICOM file\n";
  EXPECT_EQ(error_of(garbage), garbage + ": cannot read DICOM file (I/O suspension or premature end of stream)");
}

// A file cut inside its pixel data, a FIFO, a device and a header declaring more voxels than a
// dose map may have: clear errors naming the file, nothing blocks, nothing is allocated.
TEST_F(RtDicom, TruncatedSpecialAndHugeFilesAreRefused) {
  const Spec s;
  const std::string ok = write("ok.dcm", s);
  std::string bytes;
  {
    std::ifstream in(ok, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string cut = path("cut.dcm");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 50);
  const std::string e_cut = error_of(cut);
  EXPECT_EQ(e_cut.rfind(cut + ": ", 0), 0u) << e_cut;
  EXPECT_NE(e_cut, "<no exception>");

  const std::string fifo = path("fifo.dcm");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of(fifo), fifo + ": not a regular file (a FIFO)");
  const std::string zero = path("zero.dcm");
  fs::create_symlink("/dev/zero", zero);
  EXPECT_EQ(error_of(zero), zero + ": not a regular file (a character device)");
  EXPECT_FALSE(rt::looks_like_dicom(path("fifo")));  // no extension: not opened, no block

  const std::string huge = write("huge.dcm", s, [](DcmDataset* ds) {
    ds->putAndInsertUint16(DCM_Rows, 65535);
    ds->putAndInsertUint16(DCM_Columns, 65535);
    ds->putAndInsertString(DCM_NumberOfFrames, "1000");
    std::string offsets = "0";
    for (int k = 1; k < 1000; ++k) offsets += "\\" + std::to_string(-3 * k);
    ds->putAndInsertString(DCM_GridFrameOffsetVector, offsets.c_str());
  });
  EXPECT_EQ(error_of(huge), huge +
                                ": Rows x Columns x NumberOfFrames = 4294836225000 values, more than a "
                                "dose map may have (1073741824 values, 4 GiB)");
}
