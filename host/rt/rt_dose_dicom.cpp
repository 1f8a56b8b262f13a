// DICOM RT Dose reader through DCMTK (dcmdata), see read_rt_dose in dose_map.hpp.
//
// DICOM geometry (PS3.3 C.7.6.2 and C.8.8.3): ImagePositionPatient is the centre of the first
// transmitted voxel [mm]; with ImageOrientationPatient (1,0,0,0,1,0) the column index runs
// along +x with spacing PixelSpacing[1] and the row index along +y with PixelSpacing[0] (the
// first value of PixelSpacing is the distance between ROWS). Frame k lies at
// z = IPP_z + GridFrameOffsetVector[k] when the vector starts at 0 (relative) and at
// z = GridFrameOffsetVector[k] otherwise (absolute; then its first value equals IPP_z).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/io/input_file.hpp"
#include "host/rt/dose_map.hpp"
#include "host/rt/format.hpp"

namespace tme {
namespace rt {

namespace {

struct Reader {
  std::string path;
  DcmDataset* ds = nullptr;

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path + ": " + what); }

  // "DoseGridScaling (3004,000E)". Names of the attributes read here are spelled out, so the
  // messages do not depend on DCMTK's data dictionary being found.
  static std::string name(const DcmTagKey& key) {
    static const struct {
      DcmTagKey key;
      const char* name;
    } known[] = {{DCM_Rows, "Rows"},
                 {DCM_Columns, "Columns"},
                 {DCM_NumberOfFrames, "NumberOfFrames"},
                 {DCM_SamplesPerPixel, "SamplesPerPixel"},
                 {DCM_BitsAllocated, "BitsAllocated"},
                 {DCM_BitsStored, "BitsStored"},
                 {DCM_PixelRepresentation, "PixelRepresentation"},
                 {DCM_PixelSpacing, "PixelSpacing"},
                 {DCM_ImagePositionPatient, "ImagePositionPatient"},
                 {DCM_ImageOrientationPatient, "ImageOrientationPatient"},
                 {DCM_GridFrameOffsetVector, "GridFrameOffsetVector"},
                 {DCM_SliceThickness, "SliceThickness"},
                 {DCM_DoseGridScaling, "DoseGridScaling"},
                 {DCM_DoseUnits, "DoseUnits"},
                 {DCM_PixelData, "PixelData"}};
    std::string n;
    for (const auto& k : known)
      if (k.key == key) n = k.name;
    if (n.empty()) n = DcmTag(key).getTagName();
    char b[16];
    std::snprintf(b, sizeof b, "(%04X,%04X)", key.getGroup(), key.getElement());
    return n + " " + b;
  }

  [[noreturn]] void missing(const DcmTagKey& key) const { fail("missing DICOM attribute " + name(key)); }

  DcmElement* element(const DcmTagKey& key, bool required) const {
    DcmElement* el = nullptr;
    if (ds->findAndGetElement(key, el).bad() || !el) {
      if (required) missing(key);
      return nullptr;
    }
    if (el->getLength() == 0) {
      if (required) fail("DICOM attribute " + name(key) + " is empty");
      return nullptr;
    }
    return el;
  }

  // Decimal string / integer string / binary numbers of an attribute, as doubles.
  std::vector<double> numbers(const DcmTagKey& key, bool required) const {
    std::vector<double> v;
    DcmElement* el = element(key, required);
    if (!el) return v;
    const unsigned long n = el->getVM();
    for (unsigned long i = 0; i < n; ++i) {
      Float64 x = 0;
      bool ok = el->getFloat64(x, i).good();
      if (!ok) {
        // IS (integer string) and other VRs without getFloat64: parse the value's text.
        OFString t;
        if (el->getOFString(t, i).good()) {
          std::string str = t.c_str();
          while (!str.empty() && str.back() == ' ') str.pop_back();
          while (!str.empty() && str.front() == ' ') str.erase(str.begin());
          char* end = nullptr;
          x = std::strtod(str.c_str(), &end);
          ok = !str.empty() && end == str.c_str() + str.size();
        }
      }
      if (!ok || !std::isfinite(x)) {
        OFString s;
        el->getOFStringArray(s);
        fail("DICOM attribute " + name(key) + " holds '" + std::string(s.c_str()) + "', not numbers");
      }
      v.push_back(x);
    }
    return v;
  }

  // One unsigned 16-bit value (US).
  bool u16(const DcmTagKey& key, bool required, Uint16& out) const {
    if (ds->findAndGetUint16(key, out).good()) return true;
    if (required) missing(key);
    return false;
  }

  std::string text(const DcmTagKey& key, bool required) const {
    OFString s;
    if (ds->findAndGetOFString(key, s).bad()) {
      if (required) missing(key);
      return "";
    }
    std::string r = s.c_str();
    while (!r.empty() && r.back() == ' ') r.pop_back();
    while (!r.empty() && r.front() == ' ') r.erase(r.begin());
    return r;
  }
};

}  // namespace

RtDose read_rt_dose(const std::string& path) {
  // Only a regular file of at most 4 GiB (input_file.hpp); throws "<path>: <reason>".
  check_input_file(path, InputKind::Data);
  // DCMTK logs parse problems to stderr; the reason comes back in the status and is thrown.
  // (This silences the process-wide "dcmtk.dcmdata" logger; tmesim uses DCMTK nowhere else.)
  OFLog::getLogger("dcmtk.dcmdata").setLogLevel(OFLogger::OFF_LOG_LEVEL);
  DcmFileFormat ff;
  const OFCondition st = ff.loadFile(path.c_str());
  if (st.bad()) throw std::runtime_error(path + ": cannot read DICOM file (" + st.text() + ")");
  Reader r{path, ff.getDataset()};

  {
    const DcmXfer xfer(r.ds->getOriginalXfer());
    if (xfer.isEncapsulated() || xfer.getByteOrder() == EBO_BigEndian)
      r.fail(std::string("transfer syntax '") + xfer.getXferName() +
             "' is not supported (expected uncompressed little endian)");
  }
  const std::string modality = r.text(DCM_Modality, false);
  if (!modality.empty() && modality != "RTDOSE") r.fail("Modality is '" + modality + "' (expected RTDOSE)");

  // Pixel layout.
  Uint16 rows = 0, cols = 0, bits = 0, spp = 1, stored = 0, pixrep = 0;
  r.u16(DCM_Rows, true, rows);
  r.u16(DCM_Columns, true, cols);
  if (rows == 0 || cols == 0)
    r.fail("Rows " + std::to_string(rows) + " and Columns " + std::to_string(cols) + " must be > 0");
  long frames = 1;
  {
    const std::vector<double> nf = r.numbers(DCM_NumberOfFrames, false);
    if (!nf.empty()) {
      if (nf.size() != 1 || nf[0] < 1 || nf[0] != std::floor(nf[0]) || nf[0] > 1e7)
        r.fail("NumberOfFrames '" + num(nf[0]) + "' must be a whole number >= 1");
      frames = (long)nf[0];
    }
  }
  if (r.u16(DCM_SamplesPerPixel, false, spp) && spp != 1)
    r.fail("SamplesPerPixel " + std::to_string(spp) + " is not supported (expected 1)");
  r.u16(DCM_BitsAllocated, true, bits);
  if (bits != 16 && bits != 32)
    r.fail("BitsAllocated " + std::to_string(bits) + " is not supported (expected 16 or 32)");
  if (r.u16(DCM_BitsStored, false, stored) && stored != bits)
    r.fail("BitsStored " + std::to_string(stored) + " differs from BitsAllocated " + std::to_string(bits) +
           " (not supported)");
  if (r.u16(DCM_PixelRepresentation, false, pixrep) && pixrep != 0)
    r.fail("PixelRepresentation " + std::to_string(pixrep) + " (signed) is not supported (expected 0, unsigned)");

  // Geometry [mm].
  const std::vector<double> ps = r.numbers(DCM_PixelSpacing, true);
  if (ps.size() != 2 || !(ps[0] > 0) || !(ps[1] > 0))
    r.fail("PixelSpacing must hold 2 values > 0 (row spacing, column spacing) in mm");
  const std::vector<double> ipp = r.numbers(DCM_ImagePositionPatient, true);
  if (ipp.size() != 3) r.fail("ImagePositionPatient must hold 3 values (x, y, z) in mm");
  const std::vector<double> iop = r.numbers(DCM_ImageOrientationPatient, true);
  if (iop.size() != 6) r.fail("ImageOrientationPatient must hold 6 values");
  {
    static const double id[6] = {1, 0, 0, 0, 1, 0};
    bool ok = true;
    for (int i = 0; i < 6; ++i) ok = ok && std::fabs(iop[i] - id[i]) <= 1e-4;
    if (!ok) {
      std::string s;
      for (int i = 0; i < 6; ++i) s += (i ? ", " : "") + num(iop[i]);
      r.fail("ImageOrientationPatient (" + s +
             ") is not supported: only the axis-aligned "
             "orientation (1, 0, 0, 0, 1, 0) is");
    }
  }

  std::vector<double> off = r.numbers(DCM_GridFrameOffsetVector, frames > 1);
  bool relative = true;
  std::vector<double> z((size_t)frames);
  double dz = 0;
  if (off.empty()) {
    // One frame without an offset vector.
    z[0] = ipp[2];
    const std::vector<double> th = r.numbers(DCM_SliceThickness, false);
    dz = (th.size() == 1 && th[0] > 0) ? th[0] : 1.0;
  } else {
    if ((long)off.size() != frames)
      r.fail("GridFrameOffsetVector has " + std::to_string(off.size()) + " values for " + std::to_string(frames) +
             " frames");
    if (off[0] == 0) {
      relative = true;
    } else if (std::fabs(off[0] - ipp[2]) <= 1e-3) {
      relative = false;
    } else {
      r.fail("GridFrameOffsetVector starts at " + num(off[0]) +
             " mm: neither 0 (relative offsets) nor ImagePositionPatient z " + num(ipp[2]) +
             " mm (absolute positions)");
    }
    for (long k = 0; k < frames; ++k) z[(size_t)k] = relative ? ipp[2] + off[(size_t)k] : off[(size_t)k];
    if (frames > 1) {
      // Steps from the offsets themselves (relative and absolute alike).
      const double step = off[1] - off[0];
      if (step == 0) r.fail("GridFrameOffsetVector repeats a position (frames must be distinct)");
      for (long k = 1; k < frames; ++k) {
        const double sk = off[(size_t)k] - off[(size_t)k - 1];
        if (std::fabs(sk - step) > 1e-3 * std::fabs(step))
          r.fail("GridFrameOffsetVector is not evenly spaced (steps " + num(step) + " and " + num(sk) + " mm)");
      }
      dz = std::fabs(step);
    } else {
      const std::vector<double> th = r.numbers(DCM_SliceThickness, false);
      dz = (th.size() == 1 && th[0] > 0) ? th[0] : 1.0;
    }
  }
  const bool reversed = frames > 1 && z[1] < z[0];

  // Dose.
  const std::vector<double> scaling = r.numbers(DCM_DoseGridScaling, true);
  if (scaling.size() != 1 || !(scaling[0] > 0)) r.fail("DoseGridScaling must be one value > 0");
  const std::string units = r.text(DCM_DoseUnits, true);
  if (units != "GY") r.fail("DoseUnits is '" + units + "' (expected GY)");

  RtDose out;
  out.summation_type = r.text(DCM_DoseSummationType, false);
  out.dose_type = r.text(DCM_DoseType, false);
  out.dose_grid_scaling = scaling[0];
  out.bits_allocated = bits;
  out.offsets_relative = relative;
  out.frames_reversed = reversed;

  const long long per_frame = (long long)rows * cols;
  const long long nvox = per_frame * frames;
  const long long need = nvox * (bits / 8);
  if (nvox > kMaxMapValues || (std::uint64_t)need > kMaxDataBytes)
    r.fail("Rows x Columns x NumberOfFrames = " + std::to_string(nvox) + " values, more than a dose map may have (" +
           std::to_string(kMaxMapValues) + " values, " + byte_text(kMaxDataBytes) + ")");
  DcmElement* px = r.element(DCM_PixelData, true);
  if ((long long)px->getLength() < need)
    r.fail("PixelData holds " + std::to_string(px->getLength()) + " bytes, expected " + std::to_string(need) +
           " (Rows x Columns x NumberOfFrames x BitsAllocated/8)");
  std::vector<double> raw((size_t)nvox);
  Uint16* w = nullptr;
  Uint8* b = nullptr;
  if (px->getUint16Array(w).good() && w) {
    // OW: 16-bit words in host order; a 32-bit value is (low word, high word).
    if (bits == 16)
      for (long long i = 0; i < nvox; ++i) raw[(size_t)i] = w[i];
    else
      for (long long i = 0; i < nvox; ++i) raw[(size_t)i] = (double)((Uint32)w[2 * i] | ((Uint32)w[2 * i + 1] << 16));
  } else if (px->getUint8Array(b).good() && b) {
    // OB: bytes in file order (little endian).
    const int nb = bits / 8;
    for (long long i = 0; i < nvox; ++i) {
      Uint32 v = 0;
      for (int k = nb - 1; k >= 0; --k) v = (v << 8) | b[i * nb + k];
      raw[(size_t)i] = v;
    }
  } else {
    r.fail("cannot read PixelData");
  }

  ImageMap& m = out.map;
  m.d.nx = cols;
  m.d.ny = rows;
  m.d.nz = (int)frames;
  const double mm = 1000.0;  // um per mm
  m.h[0] = ps[1] * mm;
  m.h[1] = ps[0] * mm;
  m.h[2] = dz * mm;
  const double zmin = reversed ? z[(size_t)frames - 1] : z[0];
  m.origin[0] = (ipp[0] - 0.5 * ps[1]) * mm;
  m.origin[1] = (ipp[1] - 0.5 * ps[0]) * mm;
  m.origin[2] = (zmin - 0.5 * dz) * mm;
  m.values.resize((size_t)nvox);
  for (long k = 0; k < frames; ++k) {
    const long src = reversed ? frames - 1 - k : k;
    for (long long p = 0; p < per_frame; ++p)
      m.values[(size_t)(k * per_frame + p)] = raw[(size_t)(src * per_frame + p)] * scaling[0];
  }
  return out;
}

}  // namespace rt
}  // namespace tme
