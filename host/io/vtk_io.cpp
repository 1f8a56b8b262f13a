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
// which vtkNrrdReader only warns about, is checked beforehand. Messages of VTK objects without
// an observer (compressors, data arrays) go to VTK's process-wide output window, which is
// replaced once by one that hands them to the read or write in progress on the same thread
// (vtkLogger's coloured stderr lines are turned off).
//
// Files: every map and every data file its header names passes check_input_file
// (input_file.hpp) first; declared sizes are capped and the data checked against them before
// VTK allocates or reads anything (check_vti_layout, check_meta_header, the NRRD checks).
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
#include <vtkLogger.h>
#include <vtkMatrix3x3.h>
#include <vtkMetaImageReader.h>
#include <vtkNew.h>
#include <vtkNrrdReader.h>
#include <vtkOutputWindow.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkStringArray.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>
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
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "host/io/input_file.hpp"
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
  if (paren != std::string::npos && colon != std::string::npos && paren < colon && s.find(' ') == paren)
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

// ---- VTK's own messages -------------------------------------------------------------------

// "\x1b[31m...\x1b[0m" -> "...": ANSI escape sequences out, other control bytes to spaces.
std::string strip_escapes(const std::string& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = (unsigned char)s[i];
    if (c == 0x1b) {
      // CSI: ESC [ parameters final-byte (0x40..0x7e); other escapes: ESC and one byte.
      if (i + 1 < s.size() && s[i + 1] == '[') {
        i += 2;
        while (i < s.size() && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e)) ++i;
      } else {
        ++i;
      }
      continue;
    }
    o += (c < 0x20 && c != '\n') || c == 0x7f ? ' ' : (char)c;
  }
  return o;
}

// The messages VTK sent to its output window during one read, on this thread.
struct VtkMessageLog {
  std::string first_error, first_warning;
};
thread_local VtkMessageLog* t_vtk_log = nullptr;

// VTK's process-wide output window, replaced once (install_vtk_output) by this one: errors and
// warnings of objects without an observer end up in the VtkMessages scope of the current
// thread (and from there in the exception), or, outside any scope, on stderr as one plain
// line "VTK: <text>"; never VTK's coloured log lines (vtkLogger's stderr output is off).
class MessageWindow : public vtkOutputWindow {
 public:
  static MessageWindow* New() { return new MessageWindow; }
  vtkTypeMacro(MessageWindow, vtkOutputWindow);
  void DisplayText(const char* t) override { take(t, false); }
  void DisplayErrorText(const char* t) override { take(t, true); }
  void DisplayWarningText(const char* t) override { take(t, false); }
  void DisplayGenericWarningText(const char* t) override { take(t, false); }
  void DisplayDebugText(const char*) override {}

 private:
  static void take(const char* t, bool error) {
    const std::string line = first_line(strip_escapes(t ? t : ""));
    if (line.empty()) return;
    if (VtkMessageLog* log = t_vtk_log) {
      std::string& slot = error ? log->first_error : log->first_warning;
      if (slot.empty()) slot = line;
      return;
    }
    if (error) std::cerr << "VTK: " << line << "\n";
  }
};

void install_vtk_output() {
  static std::once_flag once;
  std::call_once(once, [] {
    vtkLogger::SetStderrVerbosity(vtkLogger::VERBOSITY_OFF);
    vtkNew<MessageWindow> w;
    vtkOutputWindow::SetInstance(w);
  });
}

// Collects VTK's output-window messages on this thread while alive.
class VtkMessages {
 public:
  VtkMessages() : prev_(t_vtk_log) {
    install_vtk_output();
    t_vtk_log = &log_;
  }
  ~VtkMessages() { t_vtk_log = prev_; }
  const std::string& error() const { return log_.first_error; }

 private:
  VtkMessageLog log_;
  VtkMessageLog* prev_;
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

// Shared writer: `arrays` become cell data of an image with g's geometry; the field data of
// `info` (TimeValue, units, label names) are added when given. Atomic (tmp + rename).
void write_cell_image(const std::string& path, const GridSpec& g,
                      const std::vector<vtkSmartPointer<vtkDataArray>>& arrays, const VolumeInfo* info,
                      VtiCompression compression) {
  if (g.d.nx < 1 || g.d.ny < 1 || g.d.nz < 1)
    write_fail(path, "grid has " + std::to_string(g.d.nx) + "x" + std::to_string(g.d.ny) + "x" +
                         std::to_string(g.d.nz) + " voxels");
  vtkNew<vtkImageData> img;
  img->SetDimensions(g.d.nx + 1, g.d.ny + 1, g.d.nz + 1);
  img->SetSpacing(g.h[0], g.h[1], g.h[2]);
  img->SetOrigin(g.origin[0], g.origin[1], g.origin[2]);
  for (const auto& a : arrays) img->GetCellData()->AddArray(a);
  if (info) {
    auto number = [&](const char* name, double v) {
      vtkNew<vtkDoubleArray> a;
      a->SetName(name);
      a->SetNumberOfTuples(1);
      a->SetValue(0, v);
      img->GetFieldData()->AddArray(a);
    };
    auto strings = [&](const char* name, const std::vector<std::string>& v) {
      vtkNew<vtkStringArray> a;
      a->SetName(name);
      a->SetNumberOfValues((vtkIdType)v.size());
      for (size_t i = 0; i < v.size(); ++i) a->SetValue((vtkIdType)i, v[i]);
      img->GetFieldData()->AddArray(a);
    };
    number("TimeValue", info->time_value);  // what ParaView shows as the time
    strings("TimeUnit", {info->time_unit});
    number("Time_s", info->time_s);
    strings("LengthUnit", {info->length_unit});
    if (!info->label_names.empty()) strings("TissueLabels", info->label_names);
  }

  const std::string tmp = path + ".tmp";
  VtkMessages vtk_messages;
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
                                                     : code > 0 && code < 20000                ? (int)code
                                                                                               : write_errno);
    if (!full.empty()) throw std::runtime_error(full);
    std::string reason = err->fired() ? err->message() : vtk_messages.error();
    if (reason.empty()) {
      reason = "VTK writer failed";
      // vtkErrorCode: values below 20000 are errno values, above are VTK's own codes.
      if (code > 0 && code < 20000)
        reason += std::string(": ") + std::strerror((int)code);
      else if (code != 0)
        reason += " (VTK error code " + std::to_string(code) + ")";
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

// ---- .vti layout, checked before VTK reads the data ------------------------------------------
//
// vtkXMLImageDataReader 9.1 crashes on an ASCII array shorter than its extent, reads garbage
// from a cut base64 array and allocates whatever extent a header declares. So after
// UpdateInformation (which parses the XML only) every array of every piece is checked here:
// the piece lies inside WholeExtent, the declared size is within the caps, and the data the
// array needs are in the file (number of ASCII values; base64 length; header words, block
// sizes and file size of appended raw data).

int vti_word_size(const std::string& type) {
  static const struct {
    const char* name;
    int size;
  } types[] = {{"Int8", 1},  {"UInt8", 1},  {"Int16", 2},   {"UInt16", 2},  {"Int32", 4}, {"UInt32", 4},
               {"Int64", 8}, {"UInt64", 8}, {"Float32", 4}, {"Float64", 8}, {"Char", 1},  {"UChar", 1},
               {"Short", 2}, {"UShort", 2}, {"Int", 4},     {"UInt", 4},    {"Long", 8},  {"ULong", 8},
               {"Float", 4}, {"Double", 8}, {"IdType", 8}};
  for (const auto& t : types)
    if (type == t.name) return t.size;
  return 0;
}

bool is_b64(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

int b64_value(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return 0;
}

// Base64 text from a stream position up to '<' (or the end): the first `keep` decoded bytes
// and the decoded length (quads decoded one by one, '=' padding ends a quad early, as VTK's
// vtkBase64InputStream does). Whitespace is skipped; a partial quad is an error.
struct B64Scan {
  std::string head;  // first bytes, decoded
  unsigned long long bytes = 0;
  bool partial = false;  // the text ends inside a quad
  bool bad = false;      // a character that is not base64
};

B64Scan scan_base64(std::istream& f, size_t keep) {
  B64Scan r;
  char q[4];
  int nq = 0;
  std::streambuf* sb = f.rdbuf();
  for (int c = sb->sbumpc(); c != EOF && c != '<'; c = sb->sbumpc()) {
    if (std::isspace(c)) continue;
    if (!is_b64(c)) {
      r.bad = true;
      return r;
    }
    q[nq++] = (char)c;
    if (nq < 4) continue;
    nq = 0;
    const int n = q[2] == '=' ? 1 : q[3] == '=' ? 2 : 3;
    if (q[0] == '=' || q[1] == '=') {
      r.bad = true;
      return r;
    }
    const unsigned v = (unsigned)b64_value(q[0]) << 18 | (unsigned)b64_value(q[1]) << 12 |
                       (unsigned)b64_value(q[2]) << 6 | (unsigned)b64_value(q[3]);
    const unsigned char bytes3[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    for (int k = 0; k < n && r.head.size() < keep; ++k) r.head += (char)bytes3[k];
    r.bytes += (unsigned long long)n;
  }
  r.partial = nq != 0;
  return r;
}

// A little-endian (or big-endian) unsigned word of 4 or 8 bytes at b.
unsigned long long header_word(const unsigned char* b, int size, bool big_endian) {
  unsigned long long v = 0;
  for (int k = 0; k < size; ++k) {
    const int i = big_endian ? k : size - 1 - k;
    v = (v << 8) | b[i];
  }
  return v;
}

struct VtiArrayCheck {
  std::string path, name;       // for messages
  unsigned long long need = 0;  // bytes of data the extent needs
  int hs = 4;                   // header word size
  bool compressed = false;
  bool big_endian = false;

  [[noreturn]] void fail(const std::string& what) const {
    read_fail(path, "cannot read image (array '" + name + "': " + what + ")");
  }

  // The header words: uncompressed [nbytes]; compressed [nblocks, block size, last block
  // size, compressed size of each block]. `avail`: bytes of data after the header (or -1 when
  // not known). Returns the bytes the data take after the header.
  unsigned long long check_header(const std::string& head, long double avail) const {
    const auto* b = reinterpret_cast<const unsigned char*>(head.data());
    auto word = [&](size_t i) { return header_word(b + i * hs, hs, big_endian); };
    const std::string cut = "data ends early (header cut)";
    if (!compressed) {
      if (head.size() < (size_t)hs) fail(cut);
      const unsigned long long n = word(0);
      if (n != need)
        fail("its header says " + std::to_string(n) + " bytes of data, the extent needs " + std::to_string(need));
      if (avail >= 0 && avail < (long double)n)
        fail("data ends early (" + fmt_g((double)avail) + " of " + std::to_string(n) + " bytes)");
      return n;
    }
    if (head.size() < 3 * (size_t)hs) fail(cut);
    const unsigned long long nb = word(0), bs = word(1), last = word(2);
    const unsigned long long total = nb == 0 ? 0 : (nb - 1) * bs + (last ? last : bs);
    if (nb > need || (nb > 0 && (bs == 0 || bs > (1ull << 30) || last > bs)) || total != need)
      fail("its compression header (" + std::to_string(nb) + (nb == 1 ? " block" : " blocks") + " of " +
           std::to_string(bs) + " bytes) does not describe the " + std::to_string(need) + " bytes the extent needs");
    if (head.size() < (3 + nb) * (size_t)hs) fail(cut);
    unsigned long long sum = 0;
    for (unsigned long long k = 0; k < nb; ++k) sum += word(3 + k);
    if (avail >= 0 && avail < (long double)sum)
      fail("data ends early (" + fmt_g((double)avail) + " of " + std::to_string(sum) + " compressed bytes)");
    return sum;
  }
};

// To the first character after an element's start tag, as vtkXMLDataParser does for inline data.
void seek_inline(std::istream& f, vtkXMLDataElement* e) {
  f.clear();
  f.seekg((std::streamoff)e->GetXMLByteIndex());
  std::streambuf* sb = f.rdbuf();
  for (int ch = sb->sbumpc(); ch != EOF && ch != '>'; ch = sb->sbumpc()) {
  }
}

void check_vti_layout(const std::string& path, vtkXMLImageDataReader* reader) {
  vtkXMLDataParser* parser = reader->GetXMLParser();
  vtkXMLDataElement* root = parser ? parser->GetRootElement() : nullptr;
  if (!root) read_fail(path, "cannot read image (no XML root element)");
  auto attr = [](vtkXMLDataElement* e, const char* name) {
    const char* v = e->GetAttribute(name);
    return std::string(v ? v : "");
  };
  VtiArrayCheck c;
  c.path = path;
  const std::string header_type = attr(root, "header_type");
  if (header_type == "UInt64")
    c.hs = 8;
  else if (!header_type.empty() && header_type != "UInt32")
    read_fail(path, "cannot read image (header_type '" + printable(header_type, 40) + "' is not UInt32 or UInt64)");
  c.compressed = !attr(root, "compressor").empty();
  c.big_endian = attr(root, "byte_order") == "BigEndian";

  vtkXMLDataElement* image = root->FindNestedElementWithName("ImageData");
  if (!image) read_fail(path, "cannot read image (no ImageData element)");
  long whole[6];
  if (image->GetVectorAttribute("WholeExtent", 6, whole) != 6)
    read_fail(path, "cannot read image (WholeExtent does not hold 6 integers)");
  auto extent_text = [](const long* e) {
    std::string s;
    for (int i = 0; i < 6; ++i) s += (i ? " " : "") + std::to_string(e[i]);
    return s;
  };
  for (int a = 0; a < 3; ++a)
    if (whole[2 * a] > whole[2 * a + 1] || whole[2 * a] < -(1L << 30) || whole[2 * a + 1] > (1L << 30))
      read_fail(path, "cannot read image (WholeExtent " + extent_text(whole) + " is not a valid extent)");

  // File size and where appended data start.
  std::ifstream f(path, std::ios::binary);
  f.seekg(0, std::ios::end);
  const long double file_size = (long double)(long long)f.tellg();
  vtkXMLDataElement* appended = root->FindNestedElementWithName("AppendedData");
  const bool appended_b64 = appended && attr(appended, "encoding") == "base64";
  const long long appended_pos = appended ? (long long)parser->GetAppendedDataPosition() : -1;
  // Raw appended data end at the last "</AppendedData>" (or at the end of a cut file).
  long double appended_end = file_size;
  if (appended && !appended_b64) {
    const long long tail = std::min<long long>((long long)file_size, 4096);
    std::string t((size_t)tail, '\0');
    f.seekg((std::streamoff)((long long)file_size - tail));
    f.read(&t[0], (std::streamsize)tail);
    const auto at = t.rfind("</AppendedData>");
    if (at != std::string::npos) appended_end = file_size - tail + (long double)at;
  }

  long double total_bytes = 0;
  int npieces = 0;
  for (int p = 0; p < image->GetNumberOfNestedElements(); ++p) {
    vtkXMLDataElement* piece = image->GetNestedElement(p);
    if (std::strcmp(piece->GetName(), "Piece") != 0) continue;
    ++npieces;
    long ext[6];
    if (piece->GetVectorAttribute("Extent", 6, ext) != 6)
      read_fail(path, "cannot read image (piece " + std::to_string(p) + ": Extent does not hold 6 integers)");
    for (int a = 0; a < 3; ++a)
      if (ext[2 * a] > ext[2 * a + 1] || ext[2 * a] < whole[2 * a] || ext[2 * a + 1] > whole[2 * a + 1])
        read_fail(path, "cannot read image (piece extent " + extent_text(ext) + " does not lie inside WholeExtent " +
                            extent_text(whole) + ")");
    long double npts = 1, ncells = 1;
    for (int a = 0; a < 3; ++a) {
      const long n = ext[2 * a + 1] - ext[2 * a] + 1;
      npts *= n;
      ncells *= std::max(n - 1, 1L);
    }
    for (int s = 0; s < piece->GetNumberOfNestedElements(); ++s) {
      vtkXMLDataElement* section = piece->GetNestedElement(s);
      const bool points = std::strcmp(section->GetName(), "PointData") == 0;
      if (!points && std::strcmp(section->GetName(), "CellData") != 0) continue;
      for (int k = 0; k < section->GetNumberOfNestedElements(); ++k) {
        vtkXMLDataElement* da = section->GetNestedElement(k);
        if (std::strcmp(da->GetName(), "DataArray") != 0) continue;
        c.name = printable(attr(da, "Name"), 60);
        const std::string type = attr(da, "type");
        const int word = vti_word_size(type);
        if (word == 0) c.fail("type '" + printable(type, 40) + "' is not a number type");
        long ncomp = 1;
        if (da->GetAttribute("NumberOfComponents") &&
            (!da->GetScalarAttribute("NumberOfComponents", ncomp) || ncomp < 1))
          c.fail("NumberOfComponents must be a whole number >= 1");
        const long double values = (points ? npts : ncells) * ncomp;
        if (values > (long double)kMaxMapValues || values * word > (long double)kMaxDataBytes)
          c.fail("the extent declares " + fmt_g((double)values) + " values (" +
                 byte_text((std::uint64_t)std::min(values * word, (long double)1e19)) +
                 "), more than a map may have (" + std::to_string(kMaxMapValues) + " values, " +
                 byte_text(kMaxDataBytes) + ")");
        total_bytes += values * word;
        if (total_bytes > (long double)kMaxDataBytes)
          read_fail(path, "cannot read image (its arrays declare more than " + byte_text(kMaxDataBytes) + ")");
        c.need = (unsigned long long)(values * word);
        const std::string format = attr(da, "format");
        if (format == "ascii") {
          // Numbers up to the closing tag.
          seek_inline(f, da);
          std::streambuf* sb = f.rdbuf();
          unsigned long long count = 0;
          bool in_word = false;
          for (int ch = sb->sbumpc(); ch != EOF && ch != '<'; ch = sb->sbumpc()) {
            const bool space = std::isspace(ch) != 0;
            if (!space && !in_word) ++count;
            in_word = !space;
          }
          const unsigned long long want = (unsigned long long)values;
          if (count < want)
            c.fail("has " + std::to_string(count) + " of the " + std::to_string(want) + " values its extent needs");
        } else if (format == "binary") {
          seek_inline(f, da);
          const B64Scan s = scan_base64(f, (size_t)c.hs * (3 + (c.need / 1024 + 2)));
          if (s.bad) c.fail("its base64 data hold a character that is not base64");
          if (s.partial) c.fail("data ends early (base64 text cut inside a group of 4 characters)");
          size_t hlen = (size_t)c.hs;
          if (c.compressed && s.head.size() >= 3 * (size_t)c.hs) {
            const auto* b = reinterpret_cast<const unsigned char*>(s.head.data());
            hlen = (size_t)c.hs *
                   (3 + (size_t)std::min<unsigned long long>(header_word(b, c.hs, c.big_endian), c.need + 1));
          } else if (c.compressed) {
            hlen = 3 * (size_t)c.hs;
          }
          c.check_header(s.head, (long double)s.bytes - hlen);
        } else if (format == "appended") {
          if (!appended || appended_pos < 0) c.fail("format appended, but the file has no AppendedData");
          long long offset = 0;
          if (!da->GetScalarAttribute("offset", offset) || offset < 0) c.fail("no valid offset of its appended data");
          f.clear();
          f.seekg((std::streamoff)(appended_pos + offset));
          if (!f || (long double)(appended_pos + offset) >= file_size)
            c.fail("data ends early (offset " + std::to_string(offset) + " lies beyond the end of the file)");
          if (appended_b64) {
            const B64Scan s = scan_base64(f, (size_t)c.hs * (3 + (c.need / 1024 + 2)));
            if (s.bad) c.fail("its base64 data hold a character that is not base64");
            size_t hlen = 3 * (size_t)c.hs;
            if (!c.compressed)
              hlen = (size_t)c.hs;
            else if (s.head.size() >= 3 * (size_t)c.hs)
              hlen = (size_t)c.hs *
                     (3 + (size_t)std::min<unsigned long long>(
                              header_word(reinterpret_cast<const unsigned char*>(s.head.data()), c.hs, c.big_endian),
                              c.need + 1));
            c.check_header(s.head, (long double)s.bytes - hlen);
          } else {
            // Raw: header words, then the data.
            std::string head(3 * (size_t)c.hs, '\0');
            f.read(&head[0], (std::streamsize)head.size());
            head.resize((size_t)f.gcount());
            size_t hlen = c.hs;
            if (c.compressed && head.size() == 3 * (size_t)c.hs) {
              const unsigned long long nb =
                  header_word(reinterpret_cast<const unsigned char*>(head.data()), c.hs, c.big_endian);
              if (nb <= c.need) {
                hlen = (size_t)c.hs * (3 + (size_t)nb);
                std::string rest(hlen - head.size(), '\0');
                f.read(&rest[0], (std::streamsize)rest.size());
                head += rest.substr(0, (size_t)f.gcount());
              }
            }
            c.check_header(head, appended_end - (long double)(appended_pos + offset) - hlen);
          }
        } else {
          c.fail("format '" + printable(format, 40) + "' is not ascii, binary or appended");
        }
      }
    }
  }
  if (npieces == 0) read_fail(path, "cannot read image (no Piece element)");
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

// A data file named in a NRRD or MetaImage header: a plain file name (no directory part, not
// '.' or '..') in the header's directory, and a regular file (check_input_file). The name is
// not echoed when refused. Returns its path.
std::string detached_data_file(const std::string& header, const std::string& name, const char* field) {
  const bool plain =
      !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
      name.find('\\') == std::string::npos &&
      std::all_of(name.begin(), name.end(), [](char ch) { return (unsigned char)ch >= 0x20 && ch != 0x7f; });
  if (!plain)
    read_fail(header,
              std::string("cannot read image (its ") + field + " must be a plain file name in the header's directory)");
  const std::string df = (fs::path(header).parent_path() / name).string();
  try {
    check_input_file(df, InputKind::Data);
  } catch (const InputFileError& e) {
    read_fail(header, std::string("cannot read image (its ") + field + " " + df + ": " + e.reason() + ")");
  }
  return df;
}

// A MetaImage header (.mha/.mhd), read before vtkMetaImageReader allocates anything: the
// declared size and the data file.
struct MetaHeader {
  std::vector<long long> dims;
  int word = 0;  // bytes per value (0: unknown type)
  long long channels = 1;
  bool compressed = false;
  std::string data_file;  // "LOCAL" or a file name
  long long header_bytes = 0;
};

MetaHeader parse_meta_header(const std::string& path) {
  MetaHeader h;
  std::ifstream f(path, std::ios::binary);
  std::string line;
  while (f.tellg() < (1 << 20) && std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    while (!key.empty() && std::isspace((unsigned char)key.back())) key.pop_back();
    std::string val = line.substr(eq + 1);
    while (!val.empty() && std::isspace((unsigned char)val.front())) val.erase(val.begin());
    while (!val.empty() && std::isspace((unsigned char)val.back())) val.pop_back();
    if (key == "DimSize") {
      std::istringstream is(val);
      for (long long v; is >> v;) h.dims.push_back(v);
    } else if (key == "ElementNumberOfChannels") {
      h.channels = std::atoll(val.c_str());
    } else if (key == "CompressedData") {
      h.compressed = val == "True" || val == "true" || val == "1";
    } else if (key == "ElementType") {
      static const struct {
        const char* name;
        int size;
      } types[] = {{"MET_CHAR", 1},      {"MET_UCHAR", 1},      {"MET_SHORT", 2}, {"MET_USHORT", 2},
                   {"MET_INT", 4},       {"MET_UINT", 4},       {"MET_LONG", 4},  {"MET_ULONG", 4},
                   {"MET_LONG_LONG", 8}, {"MET_ULONG_LONG", 8}, {"MET_FLOAT", 4}, {"MET_DOUBLE", 8}};
      for (const auto& t : types)
        if (val == t.name) h.word = t.size;
    } else if (key == "ElementDataFile") {
      h.data_file = val;
      const auto pos = f.tellg();
      h.header_bytes = pos < 0 ? 0 : (long long)pos;
      break;  // the last header field
    }
  }
  return h;
}

// Declared values and bytes within the caps; refused before anything is allocated.
void check_declared(const std::string& path, long double values, long double bytes) {
  if (values > (long double)kMaxMapValues || bytes > (long double)kMaxDataBytes)
    read_fail(path, "cannot read image (its header declares " + fmt_g((double)values) + " values (" +
                        byte_text((std::uint64_t)std::min(bytes, (long double)1e19)) + "), more than a map may have (" +
                        std::to_string(kMaxMapValues) + " values, " + byte_text(kMaxDataBytes) + "))");
}

void check_meta_header(const std::string& path) {
  const MetaHeader h = parse_meta_header(path);
  if (h.dims.empty()) read_fail(path, "cannot read image (no DimSize in the MetaImage header)");
  long double values = h.channels;
  for (long long d : h.dims) {
    if (d < 1) read_fail(path, "cannot read image (DimSize holds " + std::to_string(d) + ", not a size >= 1)");
    values *= d;
  }
  if (h.channels < 1) read_fail(path, "cannot read image (ElementNumberOfChannels must be >= 1)");
  check_declared(path, values, values * (h.word ? h.word : 8));
  if (h.data_file.empty()) read_fail(path, "cannot read image (no ElementDataFile in the MetaImage header)");
  long double have = -1;
  if (h.data_file == "LOCAL") {
    std::error_code ec;
    const auto sz = fs::file_size(path, ec);
    if (!ec) have = (long double)sz - h.header_bytes;
  } else {
    const std::string df = detached_data_file(path, h.data_file, "ElementDataFile");
    std::error_code ec;
    const auto sz = fs::file_size(df, ec);
    if (!ec) have = (long double)sz;
  }
  const long double need = values * h.word;
  if (!h.compressed && h.word > 0 && have >= 0 && have < need)
    read_fail(path,
              "cannot read image (data ends early: " + fmt_g((double)have) + " of " + fmt_g((double)need) + " bytes)");
}

// Our own look at a NRRD header, for two things vtkNrrdReader gets wrong:
//  * it takes a first axis of <= 9 samples as vector components (NRRD does not tell the two
//    apart without 'kinds'/'space directions'); we undo that for scalar 2D/3D maps;
//  * a raw data file shorter than the header says only makes it print a warning and return
//    garbage; we check the size first.
struct NrrdHeader {
  int dimension = 0;
  std::vector<long long> sizes;
  double h0 = 1;              // spacing of axis 0 [um]
  bool axis0_spatial = true;  // axis 0 is a space axis (not a vector/list axis)
  std::string encoding = "raw";
  std::string data_file;  // a single detached data file, or empty
  bool data_file_list = false;
  bool left_handed = false;    // 'space' LAS / 3D-left-handed: vtkNrrdReader flips its y axis
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
  while (!r.data_file.empty() && std::isspace((unsigned char)r.data_file.back())) r.data_file.pop_back();
  return r;
}

// The numbers of an ASCII-encoded NRRD (attached or in a single detached file).
std::vector<double> read_nrrd_ascii(const std::string& path, const NrrdHeader& h, long long n) {
  std::ifstream f;
  if (!h.data_file.empty()) {
    f.open(detached_data_file(path, h.data_file, "data file"));
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
      read_fail(path,
                "cannot read image (value " + std::to_string(v.size() + 1) + " of the ASCII data is not a number)");
    v.push_back(x);
  }
  if ((long long)v.size() < n)
    read_fail(path, "cannot read image (data ends early: " + std::to_string(v.size()) + " of " + std::to_string(n) +
                        " values)");
  return v;
}

}  // namespace

void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays, double time_s) {
  write_vti(path, g, arrays, time_s, VtiCompression::ZLib);
}

void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays, double time_s,
               VtiCompression compression) {
  VolumeInfo info;
  info.time_value = time_s;
  info.time_s = time_s;
  write_vti(path, g, arrays, {}, info, compression);
}

void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays,
               const std::vector<MaskOut>& masks, const VolumeInfo& info) {
  write_vti(path, g, arrays, masks, info, VtiCompression::ZLib);
}

void write_vti(const std::string& path, const GridSpec& g, const std::vector<ArrayOut>& arrays,
               const std::vector<MaskOut>& masks, const VolumeInfo& info, VtiCompression compression) {
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
  for (const auto& m : masks) {
    if (m.name.empty()) write_fail(path, "a mask has no name");
    if (!seen.insert(m.name).second) write_fail(path, "array '" + m.name + "' given twice");
    if (!m.data) write_fail(path, "mask '" + m.name + "' has no data");
    auto arr = vtkSmartPointer<vtkUnsignedCharArray>::New();
    arr->SetName(m.name.c_str());
    arr->SetNumberOfComponents(1);
    arr->SetArray(const_cast<uint8_t*>(m.data), (vtkIdType)n, 1);  // zero-copy, as above
    vtk_arrays.push_back(arr);
  }
  write_cell_image(path, g, vtk_arrays, &info, compression);
}

void write_image_map_vti(const std::string& path, const GridSpec& g, const std::string& array,
                         const std::vector<double>& values) {
  if (array.empty()) write_fail(path, "the array has no name");
  if ((long long)values.size() != g.nvox())
    write_fail(path, "array '" + array + "' has " + std::to_string(values.size()) + " values for " +
                         std::to_string(g.nvox()) + " voxels");
  auto arr = vtkSmartPointer<vtkDoubleArray>::New();
  arr->SetName(array.c_str());
  arr->SetNumberOfComponents(1);
  arr->SetArray(const_cast<double*>(values.data()), (vtkIdType)values.size(), 1);
  write_cell_image(path, g, {arr}, nullptr, VtiCompression::ZLib);
}

void write_pvd(const std::string& path, const std::vector<std::pair<double, std::string>>& entries) {
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
  if (ext != ".vti" && ext != ".mha" && ext != ".mhd" && ext != ".nrrd" && ext != ".nhdr")
    read_fail(path, "unsupported map format '" + printable(ext, 40) + "' (expected .vti, .mha, .mhd or .nrrd)");
  // Only a regular file of at most 4 GiB (input_file.hpp); throws "<path>: <reason>".
  check_input_file(path, InputKind::Data);

  VtkMessages vtk_messages;  // VTK's output-window messages of this read
  vtkSmartPointer<vtkAlgorithm> reader;
  vtkXMLImageDataReader* xml_reader = nullptr;
  const bool is_nrrd = ext == ".nrrd" || ext == ".nhdr";
  if (ext == ".vti") {
    auto r = vtkSmartPointer<vtkXMLImageDataReader>::New();
    r->SetFileName(path.c_str());
    reader = r;
    xml_reader = r;
  } else if (is_nrrd) {
    auto r = vtkSmartPointer<vtkNrrdReader>::New();
    r->SetFileName(path.c_str());
    reader = r;
  } else {
    check_meta_header(path);
    auto r = vtkSmartPointer<vtkMetaImageReader>::New();
    r->SetFileName(path.c_str());
    reader = r;
  }

  vtkNew<ErrorCapture> err;
  err->watch(reader);
  if (xml_reader) {
    // XML syntax errors come from the reader's own vtkXMLDataParser.
    xml_reader->SetParserErrorObserver(err);
    xml_reader->SetReaderErrorObserver(err);
  }
  // The reason of a failed read: an observed error, else what reached VTK's output window.
  // Both when they differ: the reader's "Error reading extent ..." and the compressor's
  // "Zlib error while uncompressing data" that caused it.
  auto vtk_reason = [&](const std::string& fallback) {
    std::string r = err->fired() ? err->message() : "";
    const std::string& w = vtk_messages.error();
    if (!w.empty() && w != r) r += (r.empty() ? "" : ": ") + w;
    if (r.empty()) r = fallback;
    return printable(r);
  };
  if (xml_reader) {
    // The XML only; the data are checked before VTK reads them.
    xml_reader->UpdateInformation();
    if (err->fired() || !vtk_messages.error().empty())
      read_fail(path, "cannot read image (" + vtk_reason("VTK reader failed") + ")");
    check_vti_layout(path, xml_reader);
  }
  NrrdHeader nrrd;
  if (is_nrrd) {
    nrrd = parse_nrrd_header(path);
    if (nrrd.data_file_list)
      read_fail(path, "cannot read image (a list of data files is not supported: one data file at most)");
    std::string data_path;
    if (!nrrd.data_file.empty()) data_path = detached_data_file(path, nrrd.data_file, "data file");
    long double values = 1;
    for (long long n : nrrd.sizes) {
      if (n < 1) read_fail(path, "cannot read image (sizes holds " + std::to_string(n) + ", not a size >= 1)");
      values *= n;
    }
    check_declared(path, values, values * 8);
    reader->UpdateInformation();
    auto* nr = static_cast<vtkNrrdReader*>(reader.GetPointer());
    if (!err->fired() && nrrd.encoding == "raw" && !nrrd.sizes.empty()) {
      long long need = vtkDataArray::GetDataTypeSize(nr->GetDataScalarType());
      for (long long n : nrrd.sizes) need *= n;
      std::error_code ec;
      long long have = -1;
      if (!data_path.empty()) {
        const auto sz = fs::file_size(data_path, ec);
        if (ec) read_fail(path, "cannot read image (cannot open data file " + data_path + ")");
        have = (long long)sz;
      } else {
        const auto sz = fs::file_size(path, ec);
        if (!ec) have = (long long)sz - nrrd.header_bytes;
      }
      if (have >= 0 && have < need)
        read_fail(path, "cannot read image (data ends early: " + std::to_string(have) + " of " + std::to_string(need) +
                            " bytes)");
    }
  }
  std::string metaio_text;
  {
    std::unique_ptr<CerrCapture> cerr_capture;
    if (!xml_reader && !is_nrrd) cerr_capture = std::make_unique<CerrCapture>();
    reader->Update();
    if (cerr_capture) metaio_text = printable(first_line(cerr_capture->text()));
  }
  auto* img = vtkImageData::SafeDownCast(reader->GetOutputDataObject(0));
  if (err->fired() || !vtk_messages.error().empty()) {
    std::string reason = vtk_reason("VTK reader failed");
    if (!metaio_text.empty()) reason += ": " + metaio_text;
    read_fail(path, "cannot read image (" + reason + ")");
  }
  if (!metaio_text.empty()) read_fail(path, "cannot read image (" + metaio_text + ")");
  if (reader->GetErrorCode() != 0 || !img) read_fail(path, "cannot read image (VTK reader failed)");
  // vtkImageReader2-based readers do not always report a failed read; an empty output means one.
  if (img->GetNumberOfPoints() == 0) read_fail(path, "cannot read image (no image data)");

  // Find the array: point data first, then cell data; only numeric arrays count.
  vtkDataArray* found = nullptr;
  bool on_points = true;
  std::vector<std::string> names;
  for (int pass = 0; pass < 2; ++pass) {
    vtkFieldData* fd = pass == 0 ? (vtkFieldData*)img->GetPointData() : (vtkFieldData*)img->GetCellData();
    for (int i = 0; i < fd->GetNumberOfArrays(); ++i) {
      vtkDataArray* a = fd->GetArray(i);
      if (!a) continue;
      const std::string nm = a->GetName() ? a->GetName() : "";
      names.push_back(nm.empty() ? "(unnamed)" : printable(nm, 60));
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
      vtkDataArray* a = img->GetPointData()->GetNumberOfArrays() > 0 ? img->GetPointData()->GetArray(0)
                                                                     : img->GetCellData()->GetArray(0);
      if (!a) a = img->GetCellData()->GetArray(0);
      const std::string nm = a && a->GetName() ? a->GetName() : "";
      read_fail(path, "array '" + printable(nm, 60) + "' has " + std::to_string(a ? a->GetNumberOfComponents() : 0) +
                          " components (expected a scalar array)");
    }
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
    read_fail(path, "no array '" + array + "' (found: " + list + ")");
  }
  const std::string fname = printable(found->GetName() ? found->GetName() : "", 60);
  const int ncomp = found->GetNumberOfComponents();
  // NRRD: a first axis of <= 9 samples that vtkNrrdReader took as vector components.
  bool unfold = false;
  double unfold_h0 = 1;
  if (is_nrrd && ncomp > 1) {
    if ((nrrd.dimension == 2 || nrrd.dimension == 3) && (int)nrrd.sizes.size() == nrrd.dimension &&
        nrrd.axis0_spatial && nrrd.sizes[0] == ncomp) {
      unfold = true;
      unfold_h0 = nrrd.h0;
      // vtkNrrdReader flipped its y axis, which here is the file's z axis: not undone.
      if (nrrd.left_handed)
        read_fail(path,
                  "cannot read image (NRRD in a left-handed space with fewer than 10 "
                  "samples along x is not supported)");
    }
  }
  if (ncomp != 1 && !unfold)
    read_fail(path, "array '" + fname + "' has " + std::to_string(ncomp) + " components (expected a scalar array)");

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
      read_fail(path,
                "invalid spacing or origin (spacing " + fmt_g(sp[0]) + ", " + fmt_g(sp[1]) + ", " + fmt_g(sp[2]) + ")");

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
    read_fail(path, "array '" + fname + "' has " + std::to_string(found->GetNumberOfValues()) + " values for " +
                        std::to_string(m.d.nvox()) + " voxels");
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
