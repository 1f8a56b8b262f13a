// Files a scene names (host/io/input_file.hpp) and malformed map files: special files are
// refused without being opened or read, sizes are capped, messages name the file and what is
// wrong and never quote more than one line of a YAML file or anything of another file; no
// malformed map crashes the reader; VTK's own messages reach the error, without colour codes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/io/input_file.hpp"
#include "host/io/vtk_io.hpp"
#include "host/scene/scene.hpp"
#include "tests/error_of.hpp"
#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::any_error_of;

class InputFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }
  std::string write(const std::string& n, const std::string& text) const {
    std::ofstream(path(n), std::ios::binary) << text;
    return path(n);
  }
  std::string fifo(const std::string& n) const {
    EXPECT_EQ(::mkfifo(path(n).c_str(), 0600), 0);
    return path(n);
  }
  const tme::test::TempDir tmp_{"tmesim_input"};
  fs::path dir_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const std::string kHead = "name: s\ngrid: {shape: [2, 2, 2], spacing: 10 um}\ntime: {end: 1 s, output_every: 1 s}\n";

// A scene with one species whose initial value is read from `map`.
std::string map_scene(const std::string& map) {
  return kHead + "species:\n  - name: A\n    unit: nM\n    diffusion: 10 um^2/s\n    initial: {map: {file: " + map +
         "}}\n";
}

const char* kVti8Ascii =
    "<?xml version=\"1.0\"?>\n"
    "<VTKFile type=\"ImageData\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
    "  <ImageData WholeExtent=\"WHOLE\" Origin=\"0 0 0\" Spacing=\"10 10 10\">\n"
    "    <Piece Extent=\"PIECE\">\n"
    "      <CellData>\n"
    "        <DataArray type=\"Float64\" Name=\"m\" COMPformat=\"ascii\">VALUES</DataArray>\n"
    "      </CellData>\n"
    "    </Piece>\n"
    "  </ImageData>\n"
    "</VTKFile>\n";

std::string vti_text(const std::string& whole, const std::string& piece, const std::string& values,
                     const std::string& comp = "") {
  std::string t = kVti8Ascii;
  auto put = [&](const std::string& key, const std::string& v) { t.replace(t.find(key), key.size(), v); };
  put("WHOLE", whole);
  put("PIECE", piece);
  put("COMP", comp);
  put("VALUES", values);
  return t;
}

// ---- the file rules ------------------------------------------------------------------------

TEST_F(InputFiles, SpecialFilesAreRefusedWithoutBeingRead) {
  using tme::InputKind;
  const std::string f = fifo("pipe.yaml");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(any_error_of([&] { tme::read_input_file(f, InputKind::Yaml); }), f + ": not a regular file (a FIFO)");
  EXPECT_EQ(any_error_of([&] { tme::check_input_file(f, InputKind::Data); }), f + ": not a regular file (a FIFO)");
  EXPECT_LT(seconds_since(t0), 2.0);

  const std::string zero = path("zero.yaml");
  fs::create_symlink("/dev/zero", zero);
  EXPECT_EQ(any_error_of([&] { tme::read_input_file(zero, InputKind::Yaml); }),
            zero + ": not a regular file (a character device)");
  fs::create_directories(path("adir"));
  EXPECT_EQ(any_error_of([&] { tme::read_input_file(path("adir"), InputKind::Yaml); }),
            path("adir") + ": not a regular file (a directory)");
  EXPECT_EQ(any_error_of([&] { tme::read_input_file(path("none"), InputKind::Yaml); }),
            path("none") + ": no such file");
  EXPECT_EQ(any_error_of([&] { tme::read_input_file("/proc/self/status", InputKind::Yaml); }),
            "/proc/self/status: is on a kernel pseudo file system such as /proc or /sys (not a regular file)");

  // Sparse files one byte over the caps (no data written).
  const std::string big_yaml = path("big.yaml"), big_map = path("big.vti");
  for (const auto& [p, n] : {std::pair<std::string, off_t>{big_yaml, (off_t)tme::kMaxYamlBytes + 1},
                             std::pair<std::string, off_t>{big_map, (off_t)tme::kMaxDataBytes + 1}}) {
    const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, n), 0);
    ::close(fd);
  }
  EXPECT_EQ(any_error_of([&] { tme::read_input_file(big_yaml, InputKind::Yaml); }),
            big_yaml + ": is 16.0 MiB, more than the 16 MiB a YAML file may have");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(big_map, ""); }),
            big_map + ": is 4.0 GiB, more than the 4 GiB a map or dose file may have");
  EXPECT_EQ(tme::read_input_file(write("ok.yaml", "a: 1\n"), InputKind::Yaml), "a: 1\n");
}

TEST_F(InputFiles, TextCheckAndPrintable) {
  int line = 0, col = 0;
  EXPECT_EQ(tme::yaml_text_problem("a: 1\nb: \xc2\xb5m\n", line, col), "");
  EXPECT_EQ(tme::yaml_text_problem("a: 1\nbc: x\x01y\n", line, col), "control byte 0x01");
  EXPECT_EQ(line, 2);
  EXPECT_EQ(col, 6);
  EXPECT_EQ(tme::yaml_text_problem("a\n\xff", line, col), "a byte that is not UTF-8 (0xff)");
  EXPECT_EQ(line, 2);
  EXPECT_EQ(col, 1);
  EXPECT_EQ(tme::printable("a\x1b[31mb\n", 200), "a?[31mb?");
  EXPECT_EQ(tme::printable("abcdef", 3), "abc...");
  EXPECT_EQ(tme::byte_text(tme::kMaxYamlBytes), "16 MiB");
  EXPECT_EQ(tme::byte_text(12), "12 bytes");
}

// ---- files a scene names -------------------------------------------------------------------

TEST_F(InputFiles, SceneNamesSpecialOrForeignFiles) {
  auto load = [&](const std::string& text) {
    return any_error_of([&] { tme::load_scene(write("scene.yaml", text)); });
  };
  const std::string sc = path("scene.yaml");
  const std::string expected = " (expected a regular YAML model file of at most 16 MiB)";

  // /etc/passwd through a relative path: read (a regular text file) but never quoted.
  std::string up;
  for (const auto& part : dir_) {
    (void)part;
    up += "../";
  }
  const std::string e_passwd = load(kHead + "model: " + up + "etc/passwd\n");
  EXPECT_NE(e_passwd.find("etc/passwd:1:1: (top level): the file is a single text value, not a mapping (expected a "
                          "mapping with keys "),
            std::string::npos)
      << e_passwd;
  EXPECT_EQ(e_passwd.find("root"), std::string::npos) << e_passwd;
  EXPECT_EQ(e_passwd.find("/bin/"), std::string::npos) << e_passwd;

  EXPECT_EQ(load(kHead + "model: /proc/self/status\n"),
            sc +
                ":4:8: model: cannot read model file '/proc/self/status': is on a kernel pseudo file system such as "
                "/proc or /sys (not a regular file)" +
                expected);
  EXPECT_EQ(load(kHead + "model: /dev/zero\n"),
            sc + ":4:8: model: cannot read model file '/dev/zero': not a regular file (a character device)" + expected);
  fs::create_symlink("/dev/zero", path("zero.yaml"));
  EXPECT_EQ(load(kHead + "model: zero.yaml\n"),
            sc + ":4:8: model: cannot read model file 'zero.yaml': not a regular file (a character device)" + expected);
  fifo("fifo.yaml");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(load(kHead + "model: fifo.yaml\n"),
            sc + ":4:8: model: cannot read model file 'fifo.yaml': not a regular file (a FIFO)" + expected);
  EXPECT_LT(seconds_since(t0), 2.0);
  fs::create_directories(path("models"));
  EXPECT_EQ(load(kHead + "model: models\n"),
            sc + ":4:8: model: cannot read model file 'models': not a regular file (a directory)" + expected);

  // A binary file (an ELF header) as model: refused before parsing, nothing of it quoted.
  write("prog.yaml", std::string("\x7f"
                                 "ELF\x02\x01\x01\0\0\0secret",
                                 15));
  EXPECT_EQ(load(kHead + "model: prog.yaml\n"),
            path("prog.yaml") + ":1:1: (top level): not a text file: control byte 0x7f (expected a UTF-8 YAML file)");
  write("nul.yaml", std::string("parameters:\n  k: 1 1/s\n  secret: \0x\n", 36));
  EXPECT_EQ(load(kHead + "model: nul.yaml\n"),
            path("nul.yaml") + ":3:11: (top level): not a text file: control byte 0x00 (expected a UTF-8 YAML file)");

  // A YAML-looking file with a bad line in the middle: the position, not the lines around it.
  write("broken.yaml", "parameters:\n  secret_before: 1 1/s\n  k: [1 1/s, {\n  secret_after: 2 1/s\n");
  const std::string e_broken = load(kHead + "model: broken.yaml\n");
  EXPECT_EQ(e_broken.rfind(path("broken.yaml") + ":", 0), 0u) << e_broken;
  EXPECT_NE(e_broken.find("YAML syntax error: "), std::string::npos) << e_broken;
  EXPECT_EQ(e_broken.find("secret"), std::string::npos) << e_broken;

  // A long value on the offending line is cut at 60 characters; control bytes become '?'.
  const std::string long_value = "this_value_is_long_" + std::string(100, 'x');
  const std::string e_long = load(kHead + "seed: " + long_value + "\n");
  EXPECT_EQ(e_long, sc + ":4:7: seed: '" + long_value.substr(0, 60) +
                        "...' is not an integer (expected a non-negative integer, e.g. 42)")
      << e_long;
  // A value folded over two lines: only its first line is quoted.
  EXPECT_EQ(load(kHead + "seed: abc\n  secret_next_line\n"),
            sc + ":4:7: seed: 'abc...' is not an integer (expected a non-negative integer, e.g. 42)");
  write("folded.yaml", "parameters:\n  k: 1 per\n    secret_next_line\n");
  const std::string e_folded = load(kHead + "model: folded.yaml\n");
  EXPECT_EQ(e_folded.find("secret"), std::string::npos) << e_folded;
  EXPECT_EQ(e_folded, path("folded.yaml") +
                          ":2:6: parameters.k: unit 'per...' does not parse (expected a number "
                          "with a unit, e.g. '0.4 1/day', or the name of another parameter)");
  const std::string e_esc = load(kHead + "seed: \"\\e[31mred\"\n");
  EXPECT_EQ(e_esc.find('\x1b'), std::string::npos) << e_esc;
  EXPECT_NE(e_esc.find("'?[31mred'"), std::string::npos) << e_esc;

  // The scene file itself.
  const std::string f = fifo("scene_fifo.yaml");
  EXPECT_EQ(any_error_of([&] { tme::load_scene(f); }),
            f + ":1:1: (top level): cannot read the scene file: not a regular file (a FIFO) (expected a regular YAML "
                "file of at most 16 MiB)");
  const std::string bin = write("bin_scene.yaml", std::string("name: s\n\0\0\0", 11));
  EXPECT_EQ(any_error_of([&] { tme::load_scene(bin); }),
            bin + ":2:1: (top level): not a text file: control byte 0x00 (expected a UTF-8 YAML file)");

  // Maps: the same rules.
  fifo("m.vti");
  EXPECT_EQ(load(map_scene("m.vti")),
            sc + ":8:27: species[0].initial.map.file: cannot read map 'm.vti': not a regular file (a FIFO) (expected "
                 "a readable .vti, .mha, .mhd or .nrrd file)");
}

// NRRD and MetaImage headers may name a data file: a plain name beside the header, a regular
// file; the name of a refused one and the content of any are not echoed.
TEST_F(InputFiles, DetachedDataFiles) {
  const std::string hdr = "NRRD0004\ntype: double\ndimension: 3\nsizes: 2 2 2\nencoding: ascii\n";
  const std::string passwd = write("a.nhdr", hdr + "data file: /etc/passwd\n");
  const std::string e = any_error_of([&] { tme::read_image_map(passwd, ""); });
  EXPECT_EQ(e, passwd + ": cannot read image (its data file must be a plain file name in the header's directory)");
  const std::string up = write("b.nhdr", hdr + "data file: ../b.raw\n");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(up, ""); }),
            up + ": cannot read image (its data file must be a plain file name in the header's directory)");
  fifo("c.raw");
  const std::string f = write("c.nhdr", hdr + "data file: c.raw\n");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(f, ""); }),
            f + ": cannot read image (its data file " + path("c.raw") + ": not a regular file (a FIFO))");
  // ASCII data that are not numbers: the position, not the text.
  write("d.raw", "root:x:0:0:root:/root:/bin/bash\n");
  const std::string d = write("d.nhdr", hdr + "data file: d.raw\n");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(d, ""); }),
            d + ": cannot read image (value 1 of the ASCII data is not a number)");

  const std::string mhd_hdr = "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_FLOAT\n";
  const std::string m1 = write("m1.mhd", mhd_hdr + "ElementDataFile = /dev/zero\n");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(m1, ""); }),
            m1 + ": cannot read image (its ElementDataFile must be a plain file name in the header's directory)");
  const std::string m2 = write("m2.mhd", mhd_hdr + "ElementDataFile = LIST\n");
  fs::create_directories(path("LIST"));
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(m2, ""); }),
            m2 + ": cannot read image (its ElementDataFile " + path("LIST") + ": not a regular file (a directory))");
}

// ---- malformed maps ------------------------------------------------------------------------

TEST_F(InputFiles, MalformedVtiMapsGiveErrorsNotCrashes) {
  testing::internal::CaptureStderr();
  // An ASCII array shorter than its extent (VTK 9.1 crashed on it).
  const std::string shrt = write("short.vti", vti_text("0 2 0 2 0 2", "0 2 0 2 0 2", "1 2 3"));
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(shrt, ""); }),
            shrt + ": cannot read image (array 'm': has 3 of the 8 values its extent needs)");
  // A piece outside the whole extent (crashed too).
  const std::string ext = write("ext.vti", vti_text("0 2 0 2 0 2", "0 4 0 4 0 4", "1 2 3 4 5 6 7 8"));
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(ext, ""); }),
            ext + ": cannot read image (piece extent 0 4 0 4 0 4 does not lie inside WholeExtent 0 2 0 2 0 2)");
  // Three components declared, one given (crashed too).
  const std::string comp =
      write("comp.vti", vti_text("0 2 0 2 0 2", "0 2 0 2 0 2", "1 2 3 4 5 6 7 8", "NumberOfComponents=\"3\" "));
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(comp, ""); }),
            comp + ": cannot read image (array 'm': has 8 of the 24 values its extent needs)");
  // A vector array with all its values: read, then refused as not scalar.
  std::string v24;
  for (int i = 0; i < 24; ++i) v24 += std::to_string(i) + " ";
  const std::string vec = write("vec.vti", vti_text("0 2 0 2 0 2", "0 2 0 2 0 2", v24, "NumberOfComponents=\"3\" "));
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(vec, "m"); }),
            vec + ": array 'm' has 3 components (expected a scalar array)");
  // 100000^3 voxels: refused before anything is allocated.
  const std::string huge =
      write("huge.vti", vti_text("0 100000 0 100000 0 100000", "0 100000 0 100000 0 100000", "1 2 3"));
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(huge, ""); }),
            huge +
                ": cannot read image (array 'm': the extent declares 1e+15 values (7.1 PiB), more than a map may "
                "have (1073741824 values, 4 GiB))");

  // Appended raw zlib data (as tmesim writes them), cut inside the data.
  tme::GridSpec g;
  g.d = {4, 4, 4};
  std::vector<double> vals(64);
  for (int i = 0; i < 64; ++i) vals[i] = 0.37 * i * i;  // compresses poorly enough to be cut
  const std::string ok = path("ok.vti");
  tme::write_image_map_vti(ok, g, "m", vals);
  std::string text;
  {
    std::ifstream in(ok, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const size_t end = text.rfind("</AppendedData>");
  ASSERT_NE(end, std::string::npos);
  const std::string cut = write("cut.vti", text.substr(0, end - 30) + text.substr(end));
  const std::string e_cut = any_error_of([&] { tme::read_image_map(cut, ""); });
  EXPECT_EQ(e_cut.rfind(cut + ": cannot read image (array 'm': data ends early (", 0), 0u) << e_cut;
  EXPECT_NE(e_cut.find(" compressed bytes))"), std::string::npos) << e_cut;
  const std::string cut_end = write("cut_end.vti", text.substr(0, end - 30));
  const std::string e_cut_end = any_error_of([&] { tme::read_image_map(cut_end, ""); });
  EXPECT_EQ(e_cut_end.rfind(cut_end + ": cannot read image (", 0), 0u) << e_cut_end;

  // The extent of a compressed appended array changed: its header no longer fits.
  std::string small = text;
  for (size_t at; (at = small.find("0 4 0 4 0 4")) != std::string::npos;) small.replace(at, 11, "0 2 0 2 0 2");
  const std::string shrunk = write("shrunk.vti", small);
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(shrunk, ""); }),
            shrunk +
                ": cannot read image (array 'm': its compression header (1 block of 32768 bytes) does not "
                "describe the 64 bytes the extent needs)");

  // Inline base64 cut inside a group of 4 characters.
  std::string b64_text = vti_text("0 1 0 1 0 1", "0 1 0 1 0 1", "CAAAAAAAAAAAAAAAAAD", "");
  b64_text.replace(b64_text.find("\"ascii\""), 7, "\"binary\"");
  const std::string b64 = write("b64.vti", b64_text);
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(b64, ""); }),
            b64 + ": cannot read image (array 'm': data ends early (base64 text cut inside a group of 4 characters))");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

// MetaImage and NRRD headers declaring 100000^3 voxels: refused before reading.
TEST_F(InputFiles, HugeDeclaredSizesAreRefusedBeforeAllocating) {
  const std::string mha = write("huge.mha",
                                "ObjectType = Image\nNDims = 3\nDimSize = 100000 100000 100000\nElementType = "
                                "MET_FLOAT\nElementDataFile = LOCAL\nabc");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(mha, ""); }),
            mha +
                ": cannot read image (its header declares 1e+15 values (3.6 PiB), more than a map may have "
                "(1073741824 values, 4 GiB))");
  const std::string nrrd =
      write("huge.nrrd", "NRRD0004\ntype: float\ndimension: 3\nsizes: 100000 100000 100000\nencoding: raw\n\nabc");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(nrrd, ""); }),
            nrrd +
                ": cannot read image (its header declares 1e+15 values (7.1 PiB), more than a map may have "
                "(1073741824 values, 4 GiB))");
  const std::string neg = write("neg.mha",
                                "ObjectType = Image\nNDims = 3\nDimSize = 2 -2 2\nElementType = MET_FLOAT\n"
                                "ElementDataFile = LOCAL\nabc");
  EXPECT_EQ(any_error_of([&] { tme::read_image_map(neg, ""); }),
            neg + ": cannot read image (DimSize holds -2, not a size >= 1)");
}

// VTK's own messages (here the zlib compressor's, which has no observer) reach the error
// without the coloured log line VTK would print.
TEST_F(InputFiles, VtkMessagesReachTheErrorWithoutColourCodes) {
  tme::GridSpec g;
  g.d = {2, 2, 2};
  const std::string ok = path("ok.vti");
  tme::write_image_map_vti(ok, g, "m", std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  std::string t;
  {
    std::ifstream in(ok, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    t = ss.str();
  }
  const size_t end = t.rfind("</AppendedData>");
  for (size_t k = end - 16; k < end - 4; ++k) t[k] = (char)(t[k] ^ 0x5a);  // corrupt the compressed bytes
  const std::string bad = write("bad.vti", t);
  testing::internal::CaptureStderr();
  const std::string e = any_error_of([&] { tme::read_image_map(bad, ""); });
  const std::string err_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(e, bad +
                   ": cannot read image (Error reading extent 0 2 0 2 0 2 from piece 0: Zlib error while "
                   "uncompressing data)");
  EXPECT_EQ(e.find('\x1b'), std::string::npos);
  EXPECT_EQ(err_text, "");
}

// ---- the command line ------------------------------------------------------------------------

// A hang (a FIFO opened for reading) ends after 20 s with status 124 instead of blocking the suite.
tme::test::Result tmesim(const std::string& args, const fs::path& dir) {
  return tme::test::run_shell(TMESIM_BINARY, args, dir, "timeout 20 ");
}

TEST_F(InputFiles, ValidateRefusesMalformedAndSpecialFiles) {
  write("short.vti", vti_text("0 2 0 2 0 2", "0 2 0 2 0 2", "1 2 3"));
  const std::string sc = write("short.yaml", map_scene("short.vti"));
  tme::test::Result r = tmesim("validate " + sc, dir_);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: " + sc +
                       ":8:27: species[0].initial.map.file: cannot read map 'short.vti': cannot read "
                       "image (array 'm': has 3 of the 8 values its extent needs) (expected a readable "
                       ".vti, .mha, .mhd or .nrrd file)\n");

  write("nan.vti", vti_text("0 2 0 2 0 2", "0 2 0 2 0 2", "1 2 nan 4 5 6 7 8"));
  const std::string nan_sc = write("nan.yaml", map_scene("nan.vti"));
  r = tmesim("validate " + nan_sc, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(nan_sc + ":8:27: species[0].initial.map.file: map value nan at voxel (0, 1, 0)"),
            std::string::npos)
      << r.err;

  write("huge.vti", vti_text("0 100000 0 100000 0 100000", "0 100000 0 100000 0 100000", "1"));
  const std::string huge_sc = write("huge.yaml", map_scene("huge.vti"));
  r = tmesim("validate " + huge_sc, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("error: " + huge_sc + ":8:27: ", 0), 0u) << r.err;

  const std::string stdin_sc = write("stdin.yaml", kHead + "model: /dev/stdin\n");
  r = tmesim("validate " + stdin_sc, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: " + stdin_sc +
                       ":4:8: model: cannot read model file '/dev/stdin': not a regular file (a "
                       "character device) (expected a regular YAML model file of at most 16 "
                       "MiB)\n");

  const std::string f = fifo("scene.yaml");
  const auto t0 = std::chrono::steady_clock::now();
  r = tmesim("validate " + f, dir_);
  EXPECT_LT(seconds_since(t0), 10.0);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: " + f +
                       ":1:1: (top level): cannot read the scene file: not a regular file (a FIFO) "
                       "(expected a regular YAML file of at most 16 MiB)\n");
}

}  // namespace
