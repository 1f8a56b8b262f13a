// VTK image I/O (see vtk_io.hpp).
//
// Units: tmesim works in micrometres. Volumes are written with spacing and origin in um, and
// the spacing and origin stored in map files (.vti, .mha/.mhd, .nrrd/.nhdr) are taken as um
// too; no unit conversion is done here. A file made in mm must be rescaled before use.
//
// Geometry conventions:
//  * written .vti: vtkImageData with (nx+1, ny+1, nz+1) points, so each voxel is a VTK cell;
//    origin = lower corner of voxel (0,0,0); all arrays are cell data.
//  * read maps: point data (MetaImage, NRRD, .vti point arrays) with N points per axis is taken
//    as N voxels per axis centred on the points, so the voxel lower corner is the point origin
//    minus h/2; .vti cell data is taken as is (max(N-1, 1) voxels, origin as stored).
//
// Errors: VTK error messages are captured with an observer on the algorithm and its executive
// (and the XML parser), so they end up in the thrown std::runtime_error instead of on stderr.
// The MetaIO library behind vtkMetaImageReader writes to std::cerr, which is redirected into a
// string during a MetaImage read (so read maps from one thread at a time). Short raw NRRD data,
// which vtkNrrdReader only warns about, is checked beforehand.
#include "host/io/vtk_io.hpp"

#include <vtkCellData.h>
#include <vtkCommand.h>
#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkErrorCode.h>
#include <vtkExecutive.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkImageReader2.h>
#include <vtkMatrix3x3.h>
#include <vtkMetaImageReader.h>
#include <vtkNew.h>
#include <vtkNrrdReader.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkXMLImageDataReader.h>
#include <vtkXMLImageDataWriter.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "host/io/run_dir.hpp"

namespace tme {
namespace {

namespace fs = std::filesystem;

// "vtkXMLImageDataWriter (0x55d0c0): Error opening output file ...\n..." -> "Error opening ..."
std::string first_line(std::string s) {
  if (s.rfind("ERROR: In ", 0) == 0 || s.rfind("Warning: In ", 0) == 0) {
    const auto nl = s.find('\n');
    s = nl == std::string::npos ? std::string() : s.substr(nl + 1);
  }
  const auto lead = s.find_first_not_of(" \t\r\n");
  s = lead == std::string::npos ? std::string() : s.substr(lead);
  const auto nl = s.find_first_of("\r\n");
  if (nl != std::string::npos) s.resize(nl);
  // Drop the "ClassName (0x...): " prefix vtkErrorMacro puts in front of the text.
  const auto paren = s.find(" (");
  const auto colon = s.find("): ");
  if (paren != std::string::npos && colon != std::string::npos && paren < colon &&
      s.find(' ') == paren)
    s = s.substr(colon + 3);
  while (!s.empty() && (std::isspace((unsigned char)s.back()) || s.back() == '.')) s.pop_back();
  return s;
}

// Collects the first VTK error and the first warning sent to the observed objects, so that
// nothing is printed; the caller decides what to do with them.
class ErrorCapture : public vtkCommand {
 public:
  static ErrorCapture* New() { return new ErrorCapture; }
  vtkTypeMacro(ErrorCapture, vtkCommand);

  void Execute(vtkObject*, unsigned long event, void* call_data) override {
    const char* text = call_data ? static_cast<const char*>(call_data) : "";
    if (event == vtkCommand::ErrorEvent) {
      if (!fired_) {
        message_ = first_line(text);
        if (message_.empty()) message_ = "unknown VTK error";
      }
      fired_ = true;
    } else if (event == vtkCommand::WarningEvent && warning_.empty()) {
      warning_ = first_line(text);
    }
  }
  // Observe an object's errors and warnings.
  void watch_object(vtkObject* o) {
    o->AddObserver(vtkCommand::ErrorEvent, this);
    o->AddObserver(vtkCommand::WarningEvent, this);
  }
  // ... and those of an algorithm's executive ("Algorithm ... returned failure").
  void watch(vtkAlgorithm* alg) {
    watch_object(alg);
    if (vtkExecutive* ex = alg->GetExecutive()) watch_object(ex);
  }
  bool fired() const { return fired_; }
  const std::string& message() const { return message_; }
  const std::string& warning() const { return warning_; }

 private:
  bool fired_ = false;
  std::string message_, warning_;
};

// Redirects std::cerr into a string for its lifetime: the MetaIO library behind
// vtkMetaImageReader reports problems (e.g. a short data file) only there.
class CerrCapture {
 public:
  CerrCapture() : old_(std::cerr.rdbuf(buf_.rdbuf())) {}
  ~CerrCapture() { std::cerr.rdbuf(old_); }
  std::string text() const { return buf_.str(); }

 private:
  std::ostringstream buf_;
  std::streambuf* old_;
};

[[noreturn]] void write_fail(const std::string& path, const std::string& reason) {
  throw std::runtime_error(path + ": cannot write VTK image (" + reason + ")");
}

void remove_quietly(const std::string& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

// Rename tmp onto path; on failure remove tmp and return the reason (empty on success).
std::string commit_tmp(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    remove_quietly(tmp);
    return "cannot rename " + tmp + ": " + ec.message();
  }
  return {};
}

// Shared writer: `arrays` become cell data of an image with g's geometry; a TimeValue field
// array is added when has_time. Atomic (tmp + rename).
void write_cell_image(const std::string& path, const GridSpec& g,
                      const std::vector<vtkSmartPointer<vtkDataArray>>& arrays, bool has_time,
                      double time_s, VtiCompression compression) {
  if (g.d.nx < 1 || g.d.ny < 1 || g.d.nz < 1)
    write_fail(path, "grid has " + std::to_string(g.d.nx) + "x" + std::to_string(g.d.ny) + "x" +
                         std::to_string(g.d.nz) + " voxels");
  vtkNew<vtkImageData> img;
  img->SetDimensions(g.d.nx + 1, g.d.ny + 1, g.d.nz + 1);
  img->SetSpacing(g.h[0], g.h[1], g.h[2]);
  img->SetOrigin(g.origin[0], g.origin[1], g.origin[2]);
  for (const auto& a : arrays) img->GetCellData()->AddArray(a);
  if (has_time) {
    vtkNew<vtkDoubleArray> t;
    t->SetName("TimeValue");
    t->SetNumberOfTuples(1);
    t->SetValue(0, time_s);
    img->GetFieldData()->AddArray(t);
  }

  const std::string tmp = path + ".tmp";
  vtkNew<vtkXMLImageDataWriter> w;
  vtkNew<ErrorCapture> err;
  w->SetInputData(img);
  err->watch(w);
  w->SetFileName(tmp.c_str());
  w->SetDataModeToAppended();
  w->EncodeAppendedDataOff();
  switch (compression) {
    case VtiCompression::None: w->SetCompressorTypeToNone(); break;
    case VtiCompression::LZ4: w->SetCompressorTypeToLZ4(); break;
    case VtiCompression::ZLib:
    default: w->SetCompressorTypeToZLib(); break;
  }
  w->SetHeaderTypeToUInt64();  // arrays over 4 GiB
  errno = 0;
  const int ok = w->Write();
  const int write_errno = errno;
  if (!ok || err->fired() || w->GetErrorCode() != 0) {
    remove_quietly(tmp);
    // A full disk: VTK says only that the algorithm failed (or "Ran out of disk space").
    const unsigned long code = w->GetErrorCode();
    const std::string full = disk_full_message(path, code == vtkErrorCode::OutOfDiskSpaceError ? ENOSPC
                                               : code > 0 && code < 20000             ? (int)code
                                                                                      : write_errno);
    if (!full.empty()) throw std::runtime_error(full);
    std::string reason = err->fired() ? err->message() : "";
    if (reason.empty()) {
      reason = "VTK writer failed";
      // vtkErrorCode: values below 20000 are errno values, above are VTK's own codes.
      if (code > 0 && code < 20000) reason += std::string(": ") + std::strerror((int)code);
      else if (code != 0) reason += " (VTK error code " + std::to_string(code) + ")";
    }
    write_fail(path, reason);
  }
  const std::string why = commit_tmp(tmp, path);
  if (!why.empty()) write_fail(path, why);
}

std::string xml_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string lower_extension(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  for (char& c : e) c = (char)std::tolower((unsigned char)c);
  return e;
}

[[noreturn]] void read_fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::string fmt_g(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

// Copy all values of an array into doubles, in memory order (fast path for contiguous arrays).
void copy_values(vtkDataArray* a, std::vector<double>& out) {
  const vtkIdType n = a->GetNumberOfValues();
  out.resize((size_t)n);
  if (a->HasStandardMemoryLayout() && a->GetDataType() != VTK_BIT) {
    void* p = a->GetVoidPointer(0);
    switch (a->GetDataType()) {
      vtkTemplateMacro({
        const VTK_TT* s = static_cast<const VTK_TT*>(p);
        for (vtkIdType i = 0; i < n; ++i) out[(size_t)i] = (double)s[i];
        return;
      });
      default: break;
    }
  }
  const int nc = a->GetNumberOfComponents();
  for (vtkIdType i = 0; i < n; ++i) out[(size_t)i] = a->GetComponent(i / nc, (int)(i % nc));
}

// Our own look at a NRRD header, for two things vtkNrrdReader gets wrong:
//  * it takes a first axis of <= 9 samples as vector components (NRRD does not tell the two
//    apart without 'kinds'/'space directions'); we undo that for scalar 2D/3D maps;
//  * a raw data file shorter than the header says only makes it print a warning and return
//    garbage; we check the size first.
struct NrrdHeader {
  int dimension = 0;
  std::vector<long long> sizes;
  double h0 = 1;             // spacing of axis 0 [um]
  bool axis0_spatial = true; // axis 0 is a space axis (not a vector/list axis)
  std::string encoding = "raw";
  std::string data_file;     // a single detached data file, or empty
  bool data_file_list = false;
  bool left_handed = false;  // 'space' LAS / 3D-left-handed: vtkNrrdReader flips its y axis
  long long header_bytes = 0;  // attached data starts here
  bool is_ascii() const { return encoding == "ascii" || encoding == "txt" || encoding == "text"; }
};

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

NrrdHeader parse_nrrd_header(const std::string& path) {
  NrrdHeader r;
  std::ifstream f(path, std::ios::binary);
  std::string line;
  std::getline(f, line);  // NRRD000x
  while (std::getline(f, line) && f.tellg() < (4 << 20)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    if (line[0] == '#') continue;
    const auto delim = line.find(": ");
    if (delim == std::string::npos) continue;
    const std::string field = line.substr(0, delim);
    const std::vector<std::string> words = split_ws(line.substr(delim + 2));
    if (words.empty()) continue;
    if (field == "dimension") {
      r.dimension = std::atoi(words[0].c_str());
    } else if (field == "sizes") {
      for (const auto& w : words) r.sizes.push_back(std::atoll(w.c_str()));
    } else if (field == "spacings") {
      const double v = std::strtod(words[0].c_str(), nullptr);
      if (v > 0 && std::isfinite(v)) r.h0 = v;
    } else if (field == "space directions") {
      if (words[0] == "none") {
        r.axis0_spatial = false;
      } else {
        std::string w = words[0];
        for (char& c : w)
          if (c == '(' || c == ')' || c == ',') c = ' ';
        double m2 = 0;
        for (const auto& x : split_ws(w)) {
          const double v = std::strtod(x.c_str(), nullptr);
          m2 += v * v;
        }
        if (m2 > 0) r.h0 = std::sqrt(m2);
      }
    } else if (field == "kinds") {
      std::string k = words[0];
      for (char& c : k) c = (char)std::tolower((unsigned char)c);
      if (k != "domain" && k != "space" && k != "???" && k != "none") r.axis0_spatial = false;
    } else if (field == "space") {
      const std::string d = line.substr(delim + 2);
      r.left_handed = d.find("left-anterior-superior") != std::string::npos || d.find("LAS") == 0 ||
                      d.find("3D-left-handed") != std::string::npos;
    } else if (field == "encoding") {
      r.encoding = words[0];
      for (char& c : r.encoding) c = (char)std::tolower((unsigned char)c);
    } else if (field == "data file" || field == "datafile") {
      if (words.size() == 1 && words[0] != "LIST")
        r.data_file = line.substr(line.find_first_not_of(' ', delim + 2));
      else
        r.data_file_list = true;
    }
  }
  const auto pos = f.tellg();
  r.header_bytes = pos < 0 ? 0 : (long long)pos;
  while (!r.data_file.empty() && std::isspace((unsigned char)r.data_file.back()))
    r.data_file.pop_back();
  return r;
}

// The numbers of an ASCII-encoded NRRD (attached or in a single detached file).
std::vector<double> read_nrrd_ascii(const std::string& path, const NrrdHeader& h, long long n) {
  std::ifstream f;
  if (!h.data_file.empty()) {
    fs::path df = h.data_file;
    if (df.is_relative()) df = fs::path(path).parent_path() / df;
    f.open(df);
  } else {
    f.open(path);
    f.seekg(h.header_bytes);
  }
  if (!f || h.data_file_list) read_fail(path, "cannot read image (cannot read ASCII data)");
  std::vector<double> v;
  v.reserve((size_t)n);
  std::string tok;
  while ((long long)v.size() < n && f >> tok) {
    char* end = nullptr;
    const double x = std::strtod(tok.c_str(), &end);
    if (end == tok.c_str() || *end != '\0')
      read_fail(path, "cannot read image (bad number '" + tok + "' in ASCII data)");
    v.push_back(x);
  }
  if ((long long)v.size() < n)
    read_fail(path, "cannot read image (data ends early: " + std::to_string(v.size()) + " of " +
                        std::to_string(n) + " values)");
  return v;
}

}  // namespace

void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays,
               double time_s) {
  write_vti(path, g, arrays, time_s, VtiCompression::ZLib);
}

void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays,
               double time_s, VtiCompression compression) {
  using ArrT = std::conditional_t<std::is_same_v<real, double>, vtkDoubleArray, vtkFloatArray>;
  const long long n = g.nvox();
  std::vector<vtkSmartPointer<vtkDataArray>> vtk_arrays;
  std::set<std::string> seen;
  for (const auto& a : arrays) {
    if (a.name.empty()) write_fail(path, "an array has no name");
    if (!seen.insert(a.name).second) write_fail(path, "array '" + a.name + "' given twice");
    if (!a.data) write_fail(path, "array '" + a.name + "' has no data");
    auto arr = vtkSmartPointer<ArrT>::New();
    arr->SetName(a.name.c_str());
    arr->SetNumberOfComponents(1);
    // Zero-copy: VTK only reads the caller's buffer during Write() and never frees it (save=1).
    arr->SetArray(const_cast<real*>(a.data), (vtkIdType)n, 1);
    vtk_arrays.push_back(arr);
  }
  write_cell_image(path, g, vtk_arrays, true, time_s, compression);
}

void write_image_map_vti(const std::string& path, const GridSpec& g, const std::string& array,
                         const std::vector<double>& values) {
  if (array.empty()) write_fail(path, "the array has no name");
  if ((long long)values.size() != g.nvox())
    write_fail(path, "array '" + array + "' has " + std::to_string(values.size()) +
                         " values for " + std::to_string(g.nvox()) + " voxels");
  auto arr = vtkSmartPointer<vtkDoubleArray>::New();
  arr->SetName(array.c_str());
  arr->SetNumberOfComponents(1);
  arr->SetArray(const_cast<double*>(values.data()), (vtkIdType)values.size(), 1);
  write_cell_image(path, g, {arr}, false, 0.0, VtiCompression::ZLib);
}

void write_pvd(const std::string& path,
               const std::vector<std::pair<double, std::string>>& entries) {
  std::string text =
      "<?xml version=\"1.0\"?>\n"
      "<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
      "  <Collection>\n";
  char num[40];
  for (const auto& [t, file] : entries) {
    std::snprintf(num, sizeof num, "%.17g", t);
    text += "    <DataSet timestep=\"";
    text += num;
    text += "\" group=\"\" part=\"0\" file=\"" + xml_escape(file) + "\"/>\n";
  }
  text += "  </Collection>\n</VTKFile>\n";

  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& reason) {
    remove_quietly(tmp);
    throw std::runtime_error(path + ": cannot write PVD collection (" + reason + ")");
  };
  {
    errno = 0;
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(std::string("cannot open ") + tmp + ": " + std::strerror(errno ? errno : EIO));
    f.write(text.data(), (std::streamsize)text.size());
    f.close();
    if (!f) {
      const std::string full = disk_full_message(path, errno);
      if (!full.empty()) {
        remove_quietly(tmp);
        throw std::runtime_error(full);
      }
      fail(std::string("error writing ") + tmp);
    }
  }
  const std::string why = commit_tmp(tmp, path);
  if (!why.empty()) fail(why);
}

ImageMap read_image_map(const std::string& path, const std::string& array) {
  const std::string ext = lower_extension(path);
  vtkSmartPointer<vtkAlgorithm> reader;
  vtkXMLReader* xml_reader = nullptr;
  bool is_nrrd = false;
  if (ext == ".vti") {
    auto r = vtkSmartPointer<vtkXMLImageDataReader>::New();
    r->SetFileName(path.c_str());
    reader = r;
    xml_reader = r;
  } else if (ext == ".mha" || ext == ".mhd") {
    auto r = vtkSmartPointer<vtkMetaImageReader>::New();
    r->SetFileName(path.c_str());
    reader = r;
  } else if (ext == ".nrrd" || ext == ".nhdr") {
    auto r = vtkSmartPointer<vtkNrrdReader>::New();
    r->SetFileName(path.c_str());
    reader = r;
    is_nrrd = true;
  } else {
    read_fail(path, "unsupported map format '" + ext + "' (expected .vti, .mha, .mhd or .nrrd)");
  }
  {
    std::error_code ec;
    std::ifstream f(path, std::ios::binary);
    if (!f || !fs::is_regular_file(path, ec)) read_fail(path, "cannot open file");
  }

  vtkNew<ErrorCapture> err;
  err->watch(reader);
  if (xml_reader) {
    // XML syntax errors come from the reader's own vtkXMLDataParser.
    xml_reader->SetParserErrorObserver(err);
    xml_reader->SetReaderErrorObserver(err);
  }
  NrrdHeader nrrd;
  if (is_nrrd) {
    nrrd = parse_nrrd_header(path);
    reader->UpdateInformation();
    auto* nr = static_cast<vtkNrrdReader*>(reader.GetPointer());
    if (!err->fired() && nrrd.encoding == "raw" && !nrrd.data_file_list && !nrrd.sizes.empty()) {
      long long need = vtkDataArray::GetDataTypeSize(nr->GetDataScalarType());
      for (long long n : nrrd.sizes) need *= n;
      std::error_code ec;
      long long have = -1;
      if (!nrrd.data_file.empty()) {
        fs::path df = nrrd.data_file;
        if (df.is_relative()) df = fs::path(path).parent_path() / df;
        const auto sz = fs::file_size(df, ec);
        if (ec) read_fail(path, "cannot read image (cannot open data file " + df.string() + ")");
        have = (long long)sz;
      } else {
        const auto sz = fs::file_size(path, ec);
        if (!ec) have = (long long)sz - nrrd.header_bytes;
      }
      if (have >= 0 && have < need)
        read_fail(path, "cannot read image (data ends early: " + std::to_string(have) + " of " +
                            std::to_string(need) + " bytes)");
    }
  }
  std::string metaio_text;
  {
    std::unique_ptr<CerrCapture> cerr_capture;
    if (!xml_reader && !is_nrrd) cerr_capture = std::make_unique<CerrCapture>();
    reader->Update();
    if (cerr_capture) metaio_text = first_line(cerr_capture->text());
  }
  auto* img = vtkImageData::SafeDownCast(reader->GetOutputDataObject(0));
  if (err->fired()) {
    std::string reason = err->message();
    if (!metaio_text.empty()) reason += ": " + metaio_text;
    read_fail(path, "cannot read image (" + reason + ")");
  }
  if (!metaio_text.empty()) read_fail(path, "cannot read image (" + metaio_text + ")");
  if (reader->GetErrorCode() != 0 || !img)
    read_fail(path, "cannot read image (VTK reader failed)");
  // vtkImageReader2-based readers do not always report a failed read; an empty output means one.
  if (img->GetNumberOfPoints() == 0) read_fail(path, "cannot read image (no image data)");

  // Find the array: point data first, then cell data; only numeric arrays count.
  vtkDataArray* found = nullptr;
  bool on_points = true;
  std::vector<std::string> names;
  for (int pass = 0; pass < 2; ++pass) {
    vtkFieldData* fd = pass == 0 ? (vtkFieldData*)img->GetPointData()
                                 : (vtkFieldData*)img->GetCellData();
    for (int i = 0; i < fd->GetNumberOfArrays(); ++i) {
      vtkDataArray* a = fd->GetArray(i);
      if (!a) continue;
      const std::string nm = a->GetName() ? a->GetName() : "";
      names.push_back(nm.empty() ? "(unnamed)" : nm);
      if (found) continue;
      // (NRRD: its one array may look multi-component, see NrrdHeader.)
      if (array.empty() ? (a->GetNumberOfComponents() == 1 || is_nrrd) : nm == array) {
        found = a;
        on_points = pass == 0;
      }
    }
  }
  if (!found) {
    if (names.empty()) read_fail(path, "no data arrays");
    if (array.empty()) {
      // Every array has several components: report the first.
      vtkDataArray* a = img->GetPointData()->GetNumberOfArrays() > 0
                            ? img->GetPointData()->GetArray(0)
                            : img->GetCellData()->GetArray(0);
      if (!a) a = img->GetCellData()->GetArray(0);
      const std::string nm = a && a->GetName() ? a->GetName() : "";
      read_fail(path, "array '" + nm + "' has " +
                          std::to_string(a ? a->GetNumberOfComponents() : 0) +
                          " components (expected a scalar array)");
    }
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
    read_fail(path, "no array '" + array + "' (found: " + list + ")");
  }
  const std::string fname = found->GetName() ? found->GetName() : "";
  const int ncomp = found->GetNumberOfComponents();
  // NRRD: a first axis of <= 9 samples that vtkNrrdReader took as vector components.
  bool unfold = false;
  double unfold_h0 = 1;
  if (is_nrrd && ncomp > 1) {
    if ((nrrd.dimension == 2 || nrrd.dimension == 3) &&
        (int)nrrd.sizes.size() == nrrd.dimension && nrrd.axis0_spatial &&
        nrrd.sizes[0] == ncomp) {
      unfold = true;
      unfold_h0 = nrrd.h0;
      // vtkNrrdReader flipped its y axis, which here is the file's z axis: not undone.
      if (nrrd.left_handed)
        read_fail(path, "cannot read image (NRRD in a left-handed space with fewer than 10 "
                        "samples along x is not supported)");
    }
  }
  if (ncomp != 1 && !unfold)
    read_fail(path, "array '" + fname + "' has " + std::to_string(ncomp) +
                        " components (expected a scalar array)");

  // Geometry.
  int ext6[6];
  img->GetExtent(ext6);
  double sp[3], org[3];
  img->GetSpacing(sp);
  img->GetOrigin(org);
  if (vtkMatrix3x3* m = img->GetDirectionMatrix()) {
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c)
        if (m->GetElement(r, c) != (r == c ? 1.0 : 0.0))
          read_fail(path, "rotated images are not supported (direction matrix is not the identity)");
  }
  for (int a = 0; a < 3; ++a)
    if (!(sp[a] > 0) || !std::isfinite(sp[a]) || !std::isfinite(org[a]))
      read_fail(path, "invalid spacing or origin (spacing " + fmt_g(sp[0]) + ", " + fmt_g(sp[1]) +
                          ", " + fmt_g(sp[2]) + ")");

  ImageMap m;
  int n[3];
  for (int a = 0; a < 3; ++a) {
    const int npts = ext6[2 * a + 1] - ext6[2 * a] + 1;
    const double first_point = org[a] + ext6[2 * a] * sp[a];
    m.h[a] = sp[a];
    if (on_points) {
      n[a] = npts;
      m.origin[a] = first_point - 0.5 * sp[a];
    } else {
      n[a] = std::max(npts - 1, 1);
      m.origin[a] = first_point;
    }
  }
  if (unfold) {
    // Reader axes (x, y) are the file's axes 1 and 2; the components are the file's axis 0.
    // The origin (NRRD 'space origin') was not shifted by the reader.
    if (n[2] != 1) read_fail(path, "cannot read image (unexpected NRRD layout)");
    n[2] = n[1];
    n[1] = n[0];
    n[0] = ncomp;
    m.h[2] = m.h[1];
    m.h[1] = m.h[0];
    m.h[0] = unfold_h0;
    for (int a = 0; a < 3; ++a) m.origin[a] = org[a] - 0.5 * m.h[a];
  }
  m.d.nx = n[0];
  m.d.ny = n[1];
  m.d.nz = n[2];
  if ((long long)found->GetNumberOfValues() != m.d.nvox())
    read_fail(path, "array '" + fname + "' has " + std::to_string(found->GetNumberOfValues()) +
                        " values for " + std::to_string(m.d.nvox()) + " voxels");
  if (is_nrrd && nrrd.is_ascii()) {
    // vtkNrrdReader 9.1 returns garbage for ASCII data: parse the numbers here (file order is
    // x fastest, as for raw data); the geometry from the reader is fine.
    m.values = read_nrrd_ascii(path, nrrd, m.d.nvox());
  } else {
    copy_values(found, m.values);
  }
  return m;
}

}  // namespace tme
