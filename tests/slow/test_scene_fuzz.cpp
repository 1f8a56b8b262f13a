// Slow (label "slow"): a scene fuzzer. Deterministic, seeded text mutations of the example
// scenes (scenes/*.yaml, scenes/tests/*.yaml) and of the model files they include
// (scenes/models/*.yaml, scenes/tests/model_small_*.yaml): keys removed, values of the wrong
// type, wrong or missing units, 0, negative, huge, NaN and Inf numbers, tabs, byte-order marks,
// bytes that are not UTF-8, anchors and aliases (undefined, recursive), duplicated lines,
// truncated files, deep nesting. Each mutant is written into a fresh copy of the scenes/ tree
// (so that the files a scene names resolve as in the original), and the tmesim program is run
// on it: `validate` for every mutant, a short `run` on the CPU for mutants of the small test
// scenes. Every run must end by itself (no signal, no time-out) with either exit status 0, or
// a non-zero status and an error message that points at the scene: "error: FILE:LINE:COL: ...".
//
// TMESIM_FUZZ_SEED and TMESIM_FUZZ_COUNT (environment) change the seed and the number of
// mutants. A failing mutant is kept (its directory is named in the failure) for a look.
// Needs the tmesim program (TMESIM_BINARY, defined when the app is built); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "tests/program.hpp"

namespace fs = std::filesystem;

namespace {

using tme::test::kBinary;
using tme::test::kSourceDir;

using tme::test::slurp;
using tme::test::spit;

unsigned long env_or(const char* name, unsigned long def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoul(v, nullptr, 10) : def;
}

// ---- running the program ---------------------------------------------------------------------

using Outcome = tme::test::Result;

// Runs the tmesim program with `args` in `dir` (stdout and stderr to files there), killing it
// after `timeout_s`.
Outcome run_tmesim(const std::vector<std::string>& args, const fs::path& dir, double timeout_s) {
  return tme::test::run_program(kBinary, args, dir, timeout_s);
}

// An error that points at a file: "error: FILE:LINE:COL: ..." on the first line of stderr.
// (Scanned by hand: std::regex recurses per character and overflows the stack on long lines.)
bool positioned_error(const std::string& err) {
  if (err.rfind("error: ", 0) != 0) return false;
  const std::string line = err.substr(0, err.find('\n'));
  for (size_t i = 7; i < line.size(); ++i) {
    if (line[i] != ':') continue;
    size_t j = i + 1, d1 = 0, d2 = 0;
    while (j < line.size() && std::isdigit((unsigned char)line[j])) ++j, ++d1;
    if (d1 == 0 || j >= line.size() || line[j] != ':') continue;
    ++j;
    while (j < line.size() && std::isdigit((unsigned char)line[j])) ++j, ++d2;
    if (d2 > 0 && j + 1 < line.size() && line[j] == ':' && line[j + 1] == ' ' && i > 7) return true;
  }
  return false;
}

// What is wrong with an outcome ("" when it is acceptable).
std::string judge(const Outcome& o) {
  if (o.timed_out) return "timed out after " + std::to_string(o.seconds) + " s";
  if (o.signalled) return "killed by signal " + std::to_string(o.signal) + " (" + strsignal(o.signal) + ")";
  if (o.code == 0) return "";
  if (o.code < 0) return "did not exit normally";
  // A run stopped by the state check names field, voxel, time and value instead of a position.
  if (o.code == 1 && o.err.rfind("error: state check failed at t = ", 0) == 0) return "";
  if (!positioned_error(o.err)) return "exit status " + std::to_string(o.code) + " without a positioned error";
  return "";
}

// ---- mutations -------------------------------------------------------------------------------

struct Span {
  size_t begin = 0, end = 0;
};

// The text of each line before its comment (a '#' at the line start or after a blank, outside
// quotes), as spans of the file.
std::vector<Span> code_spans(const std::string& t) {
  std::vector<Span> lines;
  size_t b = 0;
  while (b < t.size()) {
    size_t e = t.find('\n', b);
    if (e == std::string::npos) e = t.size();
    char quote = 0;
    size_t c = b;
    for (; c < e; ++c) {
      const char ch = t[c];
      if (quote) {
        if (ch == quote) quote = 0;
      } else if (ch == '"' || ch == '\'') {
        quote = ch;
      } else if (ch == '#' && (c == b || t[c - 1] == ' ' || t[c - 1] == '\t')) {
        break;
      }
    }
    while (c > b && (t[c - 1] == ' ' || t[c - 1] == '\r')) --c;
    lines.push_back({b, c});
    b = e + 1;
  }
  return lines;
}

// A key and its value: the key's span, the value's span (empty for a block value) and, for a
// block value, the end of the nested lines.
struct KeyVal {
  Span key, value;
  size_t block_end = 0;  // end (exclusive) of the lines nested under the key; 0: inline value
  size_t line = 0;
};

// Scans a flow value from `i` to the ',' ']' '}' that ends it at depth 0 (or the line's end).
size_t flow_value_end(const std::string& t, size_t i, size_t end) {
  int depth = 0;
  char quote = 0;
  for (; i < end; ++i) {
    const char c = t[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'')
      quote = c;
    else if (c == '[' || c == '{')
      ++depth;
    else if (c == ']' || c == '}') {
      if (depth == 0) return i;
      --depth;
    } else if (c == ',' && depth == 0) {
      return i;
    }
  }
  return end;
}

std::vector<KeyVal> find_keys(const std::string& t) {
  const std::vector<Span> lines = code_spans(t);
  std::vector<KeyVal> keys;
  for (size_t li = 0; li < lines.size(); ++li) {
    const Span l = lines[li];
    char quote = 0;
    for (size_t i = l.begin; i < l.end; ++i) {
      const char c = t[i];
      if (quote) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
        continue;
      }
      if (!(std::isalpha((unsigned char)c) || c == '_')) continue;
      if (i > l.begin && !std::strchr(" {,-[", t[i - 1])) continue;
      size_t j = i;
      while (j < l.end && (std::isalnum((unsigned char)t[j]) || t[j] == '_' || t[j] == '-')) ++j;
      if (j >= l.end || t[j] != ':' || (j + 1 < l.end && t[j + 1] != ' ')) {
        i = j;
        continue;
      }
      KeyVal kv;
      kv.key = {i, j};
      kv.line = li;
      size_t v = j + 1;
      while (v < l.end && t[v] == ' ') ++v;
      if (v >= l.end) {  // block value: the following lines indented deeper
        kv.value = {l.end, l.end};
        const size_t ind = i - l.begin;
        size_t k = li + 1, last = l.end;
        for (; k < lines.size(); ++k) {
          const Span n = lines[k];
          if (n.begin == n.end) continue;  // blank or comment line
          size_t ni = n.begin;
          while (ni < n.end && t[ni] == ' ') ++ni;
          const bool deeper = ni - n.begin > ind || (ni - n.begin == ind && t[ni] == '-');
          if (!deeper) break;
          last = n.end;
        }
        kv.block_end = last;
      } else {
        kv.value = {v, flow_value_end(t, v, l.end)};
        while (kv.value.end > v && t[kv.value.end - 1] == ' ') --kv.value.end;
      }
      keys.push_back(kv);
      i = j;
    }
  }
  return keys;
}

// Numbers (outside comments and quotes): a token that starts with a digit, '-', '+' or '.'
// followed by a digit, after a blank, '[', '{', ',' or ':'; and the unit after it, up to the
// next ',' ']' '}' (empty when none).
struct Number {
  Span num, unit;
};

std::vector<Number> find_numbers(const std::string& t) {
  std::vector<Number> nums;
  for (const Span l : code_spans(t)) {
    char quote = 0;
    for (size_t i = l.begin; i < l.end; ++i) {
      const char c = t[i];
      if (quote) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
        continue;
      }
      const bool starts = std::isdigit((unsigned char)c) || ((c == '-' || c == '+' || c == '.') && i + 1 < l.end &&
                                                             std::isdigit((unsigned char)t[i + 1]));
      if (!starts || (i > l.begin && !std::strchr(" [{,:", t[i - 1]))) continue;
      size_t j = i + 1;
      while (j < l.end && (std::isdigit((unsigned char)t[j]) || std::strchr(".eE+-", t[j]))) ++j;
      if (j < l.end && !std::strchr(" ,]}", t[j])) {
        i = j;
        continue;
      }
      Number n;
      n.num = {i, j};
      size_t u = j;
      while (u < l.end && t[u] == ' ') ++u;
      const size_t ue = flow_value_end(t, u, l.end);
      size_t ue2 = ue;
      while (ue2 > u && t[ue2 - 1] == ' ') --ue2;
      n.unit = {u, std::max(u, ue2)};
      nums.push_back(n);
      i = std::max(j, n.unit.end);
    }
  }
  return nums;
}

template <class T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

std::string replace(const std::string& t, Span s, const std::string& with) {
  return t.substr(0, s.begin) + with + t.substr(s.end);
}

std::string shown(const std::string& s) {
  std::string r;
  for (const unsigned char c : s) {
    if (c == '\t')
      r += "\\t";
    else if (c == '\n')
      r += "\\n";
    else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      r += b;
    } else {
      r += (char)c;
    }
  }
  return r.size() > 60 ? r.substr(0, 60) + "..." : r;
}

struct Mutant {
  std::string text;
  std::string what;  // description for failure messages
};

const std::vector<std::string> kOtherTypes{"[1, 2]",
                                           "{a: 1}",
                                           "abc",
                                           "~",
                                           "\"\"",
                                           "[]",
                                           "{}",
                                           "true",
                                           "[[]]",
                                           "{x: {y: [1 um]}}",
                                           "'1 um'",
                                           "1 um",
                                           "-1",
                                           "[abc, 1 um, ~]",
                                           "!!binary aGVsbG8=",
                                           "!tag x",
                                           "0x1F"};
const std::vector<std::string> kNumbers{"0",          "-0",
                                        "-1",         "-1e3",
                                        "1e30",       "1e39",
                                        "-1e39",      "1e300",
                                        "1e400",      "1e-400",
                                        ".nan",       "nan",
                                        "NaN",        ".inf",
                                        "-.inf",      "inf",
                                        "1e-45",      "99999999999999999999",
                                        "2147483648", "9223372036854775807",
                                        "4294967296", "0x10",
                                        "1_000",      "1.5e",
                                        "--1",        "+.5",
                                        "1e308",      "-1e308"};
const std::vector<std::string> kShapes{"[0, 8, 8]",
                                       "[2097152, 2097152, 4194304]",  // 2^64 voxels
                                       "[2147483647, 2147483647, 2147483647]",
                                       "[65536, 65536, 4096]",   // 2^44
                                       "[1048576, 1048576, 1]",  // 2^40
                                       "[1, 1, 1]",
                                       "[100000, 100000, 100000]"};
const std::vector<std::string> kUnits{"",  "kg",    "s",       "um",      "1/s",     "mol",  "Gy",      "K",
                                      "%", "nM/s",  "cells",   "furlong", "m^3",     "1/Gy", "day day", "um^2/s/s",
                                      "(", "mm^-3", "1e400 m", "degC",    "ng/mL/(", "/"};
const std::vector<std::string> kBadBytes{"\xff",     "\xc3\x28",         "\xed\xa0\x80",         "\xfe\xff",
                                         "\x80\x80", "\xf4\x90\x80\x80", std::string("a\0b", 3), "\x1b[31m",
                                         "\r",       "\xe2\x80\xa8"};

// One mutation of `t`, chosen by rng.
Mutant mutate(const std::string& t, std::mt19937_64& rng) {
  const std::vector<KeyVal> keys = find_keys(t);
  const std::vector<Number> nums = find_numbers(t);
  auto any_pos = [&]() { return std::uniform_int_distribution<size_t>(0, t.size())(rng); };
  for (;;) {
    const int op = std::uniform_int_distribution<int>(0, 16)(rng);
    switch (op) {
      case 0:
      case 1: {  // remove a key and its value
        if (keys.empty()) break;
        const KeyVal& k = pick(rng, keys);
        Span s{k.key.begin, k.block_end ? k.block_end : k.value.end};
        if (!k.block_end && s.end < t.size() && t[s.end] == ',') {
          ++s.end;
          while (s.end < t.size() && t[s.end] == ' ') ++s.end;
        }
        return {replace(t, s, ""), "remove key '" + t.substr(k.key.begin, k.key.end - k.key.begin) + "'"};
      }
      case 2:
      case 3: {  // a value of another type
        if (keys.empty()) break;
        const KeyVal& k = pick(rng, keys);
        const std::string& v = pick(rng, kOtherTypes);
        const Span s = k.block_end ? Span{k.key.end + 1, k.block_end} : k.value;
        return {replace(t, s, (k.block_end ? " " : "") + v),
                "value of '" + t.substr(k.key.begin, k.key.end - k.key.begin) + "' -> " + v};
      }
      case 4:
      case 5: {  // another unit
        std::vector<Number> with_unit;
        for (const Number& n : nums)
          if (n.unit.end > n.unit.begin) with_unit.push_back(n);
        if (with_unit.empty()) break;
        const Number& n = pick(rng, with_unit);
        const std::string& u = pick(rng, kUnits);
        const Span s = u.empty() ? Span{n.num.end, n.unit.end} : n.unit;
        return {replace(t, s, u), "unit '" + t.substr(n.unit.begin, n.unit.end - n.unit.begin) + "' -> '" + u + "'"};
      }
      case 6:
      case 7:
      case 8: {  // another number
        if (nums.empty()) break;
        const Number& n = pick(rng, nums);
        const std::string& x = pick(rng, kNumbers);
        return {replace(t, n.num, x), "number '" + t.substr(n.num.begin, n.num.end - n.num.begin) + "' -> " + x};
      }
      case 9: {  // a tab: in the indentation, after a colon, or anywhere
        const std::vector<Span> lines = code_spans(t);
        const int how = std::uniform_int_distribution<int>(0, 2)(rng);
        if (how == 0) {
          std::vector<size_t> indented;
          for (const Span l : lines)
            if (l.end > l.begin && t[l.begin] == ' ') indented.push_back(l.begin);
          if (indented.empty()) break;
          const size_t at = pick(rng, indented);
          return {t.substr(0, at) + "\t" + t.substr(at + 1), "tab in the indentation at byte " + std::to_string(at)};
        }
        if (how == 1 && !keys.empty()) {
          const KeyVal& k = pick(rng, keys);
          return {t.substr(0, k.key.end + 1) + "\t" + t.substr(k.key.end + 1),
                  "tab after '" + t.substr(k.key.begin, k.key.end - k.key.begin) + ":'"};
        }
        const size_t at = any_pos();
        return {t.substr(0, at) + "\t" + t.substr(at), "tab at byte " + std::to_string(at)};
      }
      case 10: {  // a byte-order mark: at the start, twice, or inside
        const int how = std::uniform_int_distribution<int>(0, 2)(rng);
        const std::string bom = "\xEF\xBB\xBF";
        if (how == 0) return {bom + t, "BOM at the start"};
        if (how == 1) return {bom + bom + t, "two BOMs at the start"};
        const size_t at = any_pos();
        return {t.substr(0, at) + bom + t.substr(at), "BOM at byte " + std::to_string(at)};
      }
      case 11: {  // bytes that are not UTF-8 (or control characters): in a key, value, anywhere
        const std::string& b = pick(rng, kBadBytes);
        size_t at = any_pos();
        if (!keys.empty() && std::uniform_int_distribution<int>(0, 1)(rng)) {
          const KeyVal& k = pick(rng, keys);
          at = std::uniform_int_distribution<int>(0, 1)(rng) ? k.key.begin + 1 : k.value.begin;
        }
        return {t.substr(0, at) + b + t.substr(at), "bytes '" + shown(b) + "' at byte " + std::to_string(at)};
      }
      case 12: {  // anchors and aliases
        std::vector<KeyVal> inl;
        for (const KeyVal& k : keys)
          if (!k.block_end && k.value.end > k.value.begin) inl.push_back(k);
        if (inl.size() < 2) break;
        const int how = std::uniform_int_distribution<int>(0, 4)(rng);
        const KeyVal& a = pick(rng, inl);
        const std::string ka = t.substr(a.key.begin, a.key.end - a.key.begin);
        if (how == 0) return {replace(t, a.value, "*nowhere"), "alias to an undefined anchor at '" + ka + "'"};
        if (how == 1) return {replace(t, a.value, "&r [*r, 1]"), "recursive list at '" + ka + "'"};
        if (how == 2) return {replace(t, a.value, "&r {a: *r, b: [*r]}"), "recursive mapping at '" + ka + "'"};
        // an anchor on one value, its alias in place of a later one (same or other type)
        const KeyVal& b = pick(rng, inl);
        if (b.value.begin <= a.value.begin) break;
        std::string s = replace(t, b.value, how == 3 ? "*x" : "*x\n<<: *x");
        s = s.substr(0, a.value.begin) + "&x " + s.substr(a.value.begin);
        return {s, "anchor on '" + ka + "', alias at '" + t.substr(b.key.begin, b.key.end - b.key.begin) + "'"};
      }
      case 13: {  // a duplicated or swapped line
        const std::vector<Span> lines = code_spans(t);
        const Span l = pick(rng, lines);
        const size_t e = std::min(t.size(), l.end);
        const size_t le = t.find('\n', e);
        const std::string line = t.substr(l.begin, (le == std::string::npos ? t.size() : le) - l.begin);
        return {t.substr(0, l.begin) + line + "\n" + t.substr(l.begin), "duplicated line '" + shown(line) + "'"};
      }
      case 14: {  // truncated
        const size_t at = any_pos();
        return {t.substr(0, at), "truncated at byte " + std::to_string(at)};
      }
      case 15: {  // deep nesting or a long value
        if (keys.empty()) break;
        const KeyVal& k = pick(rng, keys);
        const Span s = k.block_end ? Span{k.key.end + 1, k.block_end} : k.value;
        const int how = std::uniform_int_distribution<int>(0, 2)(rng);
        std::string v;
        if (how == 0)
          v = std::string(5000, '[') + std::string(5000, ']');
        else if (how == 1)
          for (int i = 0; i < 3000; ++i) v += "{a: ";
        if (how == 1) v += "1" + std::string(3000, '}');
        if (how == 2) v = "'" + std::string(100000, 'x') + "'";
        return {replace(t, s, " " + v),
                "deep or long value at '" + t.substr(k.key.begin, k.key.end - k.key.begin) + "'"};
      }
      case 16: {  // a grid shape whose voxel count is 0, huge, or wraps around in 64 bits
        std::vector<KeyVal> shapes;
        for (const KeyVal& k : keys)
          if (t.compare(k.key.begin, k.key.end - k.key.begin, "shape") == 0 && !k.block_end) shapes.push_back(k);
        if (shapes.empty()) break;
        const std::string& v = pick(rng, kShapes);
        return {replace(t, pick(rng, shapes).value, v), "grid shape " + v};
      }
    }
  }
}

// ---- the scenes ------------------------------------------------------------------------------

// A file to mutate (relative to scenes/) and the scene that reads it (itself, or a scene that
// includes the model file).
struct Target {
  std::string file, scene;
};

const std::vector<Target> kValidateTargets{
    {"quickstart.yaml", "quickstart.yaml"},
    {"quickstart_day_adi.yaml", "quickstart_day_adi.yaml"},
    {"rt_conventional.yaml", "rt_conventional.yaml"},
    {"rt_explicit_file.yaml", "rt_explicit_file.yaml"},
    {"rt_sbrt.yaml", "rt_sbrt.yaml"},
    {"rt_single.yaml", "rt_single.yaml"},
    {"rt_twice_daily.yaml", "rt_twice_daily.yaml"},
    {"rt_two_plans.yaml", "rt_two_plans.yaml"},
    {"sarcoma_rt_antipd1.yaml", "sarcoma_rt_antipd1.yaml"},
    {"tests/cli_rt.yaml", "tests/cli_rt.yaml"},
    {"tests/cli_small.yaml", "tests/cli_small.yaml"},
    {"tests/full.yaml", "tests/full.yaml"},
    {"tests/minimal.yaml", "tests/minimal.yaml"},
    {"tests/model_small.yaml", "tests/model_small.yaml"},
    {"tests/model_tme.yaml", "tests/model_tme.yaml"},
    {"tests/rt_course.yaml", "tests/rt_course.yaml"},
    {"models/rt_lean.yaml", "rt_single.yaml"},
    {"models/tme.yaml", "tests/model_tme.yaml"},
    {"tests/model_small_model.yaml", "tests/model_small.yaml"},
    {"tests/model_small_base.yaml", "tests/model_small.yaml"},
    {"patient/two_flank.yaml", "patient/two_flank.yaml"},
};

// Small scenes that also run, shortened to a few seconds on one core (scenes/tests/rt_course.yaml
// is left out: its six-week course does not shorten by a text edit; cli_rt.yaml covers
// radiotherapy).
const std::vector<Target> kRunTargets{
    {"tests/minimal.yaml", "tests/minimal.yaml"},         {"tests/cli_small.yaml", "tests/cli_small.yaml"},
    {"tests/cli_rt.yaml", "tests/cli_rt.yaml"},           {"tests/full.yaml", "tests/full.yaml"},
    {"tests/model_small.yaml", "tests/model_small.yaml"}, {"tests/model_small_model.yaml", "tests/model_small.yaml"},
};

// The edits that shorten the run targets: file, text, replacement.
const std::vector<std::vector<std::string>> kShorten{
    {"tests/full.yaml", "end: 2 h", "end: 1 min"},
    {"tests/full.yaml", "output_every: 10 min", "output_every: 30 s"},
    {"tests/model_small.yaml", "time: {end: 30 d, output_every: 1 d}", "time: {end: 10 min, output_every: 5 min}"},
};

class SceneFuzz : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kBinary) GTEST_SKIP() << "built without the tmesim program (TMESIM_APP=OFF)";
    // GNU OpenMP spins while it waits for work; on a busy machine that slows the runs down.
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    ::setenv("OMP_NUM_THREADS", "1", 0);
    root_ = tmp_.path();
  }

  // A fresh copy of scenes/ (YAML files and maps) in root_/<name>; `shorten`: with the run
  // targets shortened.
  fs::path fresh_copy(const std::string& name, bool shorten = false) {
    const fs::path dst = root_ / name;
    fs::create_directories(dst);
    fs::copy(fs::path(kSourceDir) / "scenes", dst / "scenes", fs::copy_options::recursive);
    if (shorten)
      for (const auto& e : kShorten) {
        const fs::path f = dst / "scenes" / e[0];
        std::string t = slurp(f);
        const size_t at = t.find(e[1]);
        EXPECT_NE(at, std::string::npos) << e[0] << ": no '" << e[1] << "' to shorten";
        if (at != std::string::npos) spit(f, t.replace(at, e[1].size(), e[2]));
      }
    return dst;
  }

  struct Tally {
    int mutants = 0, ok = 0, errors = 0, failures = 0;
    double max_seconds = 0;
  };

  // Mutates target.file in a fresh copy of scenes/, runs `validate` on the target's scene and,
  // with `also_run` (shortened scenes) and when it validates, a run on the CPU; checks each
  // outcome. Returns the last exit status (-1 on failure).
  int try_mutant(const Target& tg, unsigned long seed, int index, double timeout_s, bool also_run, Tally& tally) {
    std::mt19937_64 rng(seed * 1000003ULL + (unsigned long)index);
    const std::string name = "m" + std::to_string(index);
    const fs::path dir = fresh_copy(name, also_run);
    const fs::path file = dir / "scenes" / tg.file;
    const Mutant mu = mutate(slurp(file), rng);
    spit(file, mu.text);
    const std::string scene = (dir / "scenes" / tg.scene).string();
    ++tally.mutants;
    std::vector<std::string> args{"validate", scene};
    Outcome o = run_tmesim(args, dir, timeout_s);
    std::string bad = judge(o);
    std::string what = "validate";
    if (bad.empty() && o.code == 0 && also_run) {
      args = {"run", scene, "-o", (dir / "run").string(), "--backend", "cpu", "--quiet"};
      o = run_tmesim(args, dir, timeout_s);
      bad = judge(o);
      what = "run";
    }
    tally.max_seconds = std::max(tally.max_seconds, o.seconds);
    if (!bad.empty()) {
      ++tally.failures;
      ADD_FAILURE() << "mutant " << index << " of scenes/" << tg.file << " (" << shown(mu.what) << "): " << what << " "
                    << bad << "\n  scene: " << scene << "\n  stderr: " << o.err.substr(0, 2000);
      return -1;
    }
    (o.code == 0 ? tally.ok : tally.errors)++;
    std::error_code ec;
    fs::remove_all(dir, ec);
    return o.code;
  }

  const tme::test::TempDir tmp_{"tmesim_fuzz"};
  fs::path root_;
};

TEST_F(SceneFuzz, OriginalsValidateAndRun) {
  // The fuzzer's starting points are valid: each scene validates as it is.
  for (const Target& tg : kValidateTargets) {
    if (tg.file != tg.scene) continue;
    const fs::path dir = fresh_copy("orig");
    const Outcome o = run_tmesim({"validate", (dir / "scenes" / tg.scene).string()}, dir, 120);
    EXPECT_EQ(o.code, 0) << tg.scene << ": " << o.err;
    fs::remove_all(dir);
  }
  // The shortened run targets run to the end.
  for (const Target& tg : kRunTargets) {
    if (tg.file != tg.scene) continue;
    const fs::path dir = fresh_copy("orig", true);
    const Outcome o = run_tmesim(
        {"run", (dir / "scenes" / tg.scene).string(), "-o", (dir / "run").string(), "--backend", "cpu", "--quiet"}, dir,
        60);
    EXPECT_EQ(judge(o), "") << tg.scene;
    EXPECT_EQ(o.code, 0) << tg.scene << ": " << o.err;
    EXPECT_TRUE(fs::exists(dir / "run" / "provenance.json")) << tg.scene;
    std::printf("[ fuzz     ] %s (shortened) runs in %.2f s\n", tg.scene.c_str(), o.seconds);
    fs::remove_all(dir);
  }
}

TEST_F(SceneFuzz, ValidateMutants) {
  const unsigned long seed = env_or("TMESIM_FUZZ_SEED", 20260101);
  const int count = (int)env_or("TMESIM_FUZZ_COUNT", 300);
  Tally tally;
  for (int i = 0; i < count; ++i) {
    const Target& tg = kValidateTargets[i % kValidateTargets.size()];
    try_mutant(tg, seed, i, 60, false, tally);
  }
  std::printf("[ fuzz     ] %d mutants: %d valid, %d positioned errors, %d failures; slowest %.2f s\n", tally.mutants,
              tally.ok, tally.errors, tally.failures, tally.max_seconds);
  EXPECT_EQ(tally.failures, 0);
  // The mutations reach the loader: most mutants are refused, and some still load.
  EXPECT_GT(tally.errors, count / 3);
  EXPECT_GT(tally.ok, 0);
}

TEST_F(SceneFuzz, RunMutants) {
  const unsigned long seed = env_or("TMESIM_FUZZ_SEED", 20260101) + 1;
  const int count = (int)env_or("TMESIM_FUZZ_COUNT", 300) / 3;
  Tally tally;
  for (int i = 0; i < count; ++i) {
    const Target& tg = kRunTargets[i % kRunTargets.size()];
    try_mutant(tg, seed, i, 60, true, tally);
  }
  std::printf("[ fuzz     ] %d mutants: %d ran, %d positioned errors, %d failures; slowest %.2f s\n", tally.mutants,
              tally.ok, tally.errors, tally.failures, tally.max_seconds);
  EXPECT_EQ(tally.failures, 0);
  EXPECT_GT(tally.ok, 0);
  EXPECT_GT(tally.errors, 0);
}

}  // namespace
