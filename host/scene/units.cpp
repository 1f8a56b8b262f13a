// UnitSystem: UDUNITS-2 with molar and a count unit added at start-up; parsing of "<number>
// <unit>".
#include "host/scene/units.hpp"

#include <udunits2.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "host/scene/quantity.hpp"

#ifndef TMESIM_UDUNITS_XML
#define TMESIM_UDUNITS_XML nullptr
#endif

namespace tme {

// ---- "<number> <unit>" --------------------------------------------------------------------

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string trim_blanks(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_blank(s[b])) ++b;
  while (e > b && is_blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

QuantityText split_quantity(const std::string& text) {
  QuantityText q;
  const std::string s = trim_blanks(text);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const size_t mantissa = i;
  size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return q;  // kNoNumber
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && is_digit(s[j])) {
      while (j < s.size() && is_digit(s[j])) ++j;
      i = j;
    }
  }
  const size_t end = i;
  // What follows the number: nothing, blanks, or a unit starting with a letter, '(' or a
  // non-ASCII byte (UTF-8 'µm').
  if (i < s.size() && !is_blank(s[i])) {
    const unsigned char c = (unsigned char)s[i];
    if (!(std::isalpha(c) || c == '(' || c >= 0x80)) {
      q.status = QuantityText::kBadNumber;
      return q;
    }
  }
  double v = 0;
  const std::string_view num(s.data() + mantissa, end - mantissa);
  auto r = std::from_chars(num.data(), num.data() + num.size(), v);
  if (r.ec == std::errc::result_out_of_range || !std::isfinite(v)) {
    q.status = QuantityText::kOutOfRange;
    return q;
  }
  if (r.ec != std::errc() || r.ptr != num.data() + num.size()) {
    q.status = QuantityText::kBadNumber;
    return q;
  }
  q.status = QuantityText::kOk;
  q.value = (mantissa > 0 && s[0] == '-') ? -v : v;
  q.unit = trim_blanks(s.substr(end));
  return q;
}

// ---- UnitSystem ----------------------------------------------------------------------------

namespace {

struct UnitDeleter {
  void operator()(ut_unit* u) const { ut_free(u); }
};
using UnitPtr = std::unique_ptr<ut_unit, UnitDeleter>;

struct ConverterDeleter {
  void operator()(cv_converter* c) const { cv_free(c); }
};
using ConverterPtr = std::unique_ptr<cv_converter, ConverterDeleter>;

// UDUNITS reports through a process-wide message handler; silence it only while we call in.
class QuietUdunits {
 public:
  QuietUdunits() : previous_(ut_set_error_message_handler(ut_ignore)) {}
  ~QuietUdunits() { ut_set_error_message_handler(previous_); }
  QuietUdunits(const QuietUdunits&) = delete;
  QuietUdunits& operator=(const QuietUdunits&) = delete;

 private:
  ut_error_message_handler previous_;
};

}  // namespace

struct UnitSystem::Impl {
  ut_system* sys = nullptr;

  ~Impl() {
    if (sys) ut_free_system(sys);
  }

  // nullptr when `unit` does not parse. The empty string is the dimensionless unit "1".
  UnitPtr parse(const std::string& unit) const {
    const std::string u = trim_blanks(unit);
    return UnitPtr(ut_parse(sys, u.empty() ? "1" : u.c_str(), UT_UTF8));
  }

  void map_names(ut_unit* unit, std::initializer_list<const char*> names, std::initializer_list<const char*> symbols) {
    for (ut_encoding enc : {UT_ASCII, UT_UTF8}) {
      for (const char* n : names)
        if (ut_map_name_to_unit(n, enc, unit) != UT_SUCCESS)
          throw UnitError(std::string("cannot add the unit name '") + n + "'");
      for (const char* s : symbols)
        if (ut_map_symbol_to_unit(s, enc, unit) != UT_SUCCESS)
          throw UnitError(std::string("cannot add the unit symbol '") + s + "'");
    }
  }
};

UnitSystem::UnitSystem() : impl_(std::make_unique<Impl>()) {
  QuietUdunits quiet;
  // UDUNITS2_XML_PATH (UDUNITS' own variable) wins, so relocated installs can point elsewhere.
  const char* env = std::getenv("UDUNITS2_XML_PATH");
  const char* built_in = TMESIM_UDUNITS_XML;
  if (!(env && *env) && built_in) impl_->sys = ut_read_xml(built_in);
  if (!impl_->sys) impl_->sys = ut_read_xml(nullptr);
  if (!impl_->sys)
    throw UnitError(std::string("cannot read the UDUNITS-2 unit database '") +
                    (env && *env ? env
                     : built_in  ? built_in
                                 : "(default)") +
                    "'");

  // Molar: M = mol/L. Prefixes come from the parser: nM, uM, pM, mM ...
  UnitPtr molar = impl_->parse("mol/L");
  if (!molar) throw UnitError("cannot define molar: 'mol/L' does not parse");
  impl_->map_names(molar.get(), {"molar"}, {"M"});

  // A count of cells: its own base dimension, so cells/mm^3 differs from 1/mm^3.
  UnitPtr cell(ut_new_base_unit(impl_->sys));
  if (!cell) throw UnitError("cannot define the base unit 'cell'");
  impl_->map_names(cell.get(), {"cell", "cells"}, {});
  if (ut_map_unit_to_name(cell.get(), "cell", UT_ASCII) != UT_SUCCESS)
    throw UnitError("cannot name the base unit 'cell'");
}

UnitSystem::~UnitSystem() = default;

namespace {
// UDUNITS-2 calls reciprocal units convertible (s and 1/s, day and 1/day) and converts x to
// k/x; a quantity of the wrong kind must not slip through that way. True when the converter
// is affine and increasing (all dimensional conversions are; reciprocal ones are not).
bool linear_conversion(const ut_unit* a, const ut_unit* b) {
  if (!ut_are_convertible(a, b)) return false;
  ConverterPtr cv(ut_get_converter(const_cast<ut_unit*>(a), const_cast<ut_unit*>(b)));
  if (!cv) return false;
  const double y1 = cv_convert_double(cv.get(), 1.0), y2 = cv_convert_double(cv.get(), 2.0),
               y3 = cv_convert_double(cv.get(), 3.0);
  const double d1 = y2 - y1, d2 = y3 - y2;
  return d1 > 0 && std::abs(d2 - d1) <= 1e-9 * std::abs(d1);
}
}  // namespace

double UnitSystem::to(const std::string& quantity, const std::string& target) const {
  QuietUdunits quiet;
  const QuantityText q = split_quantity(quantity);
  const std::string text = trim_blanks(quantity);
  switch (q.status) {
    case QuantityText::kOk: break;
    case QuantityText::kNoNumber: throw UnitError("'" + text + "' has no number");
    case QuantityText::kBadNumber: throw UnitError("'" + text + "' is not a number and a unit");
    case QuantityText::kOutOfRange: throw UnitError("'" + text + "' is out of range");
  }
  UnitPtr to_unit = impl_->parse(target);
  if (!to_unit) throw UnitError("unit '" + target + "' does not parse");
  UnitPtr from_unit = impl_->parse(q.unit);
  if (!from_unit) throw UnitError("unit '" + q.unit + "' does not parse");
  if (q.unit.empty() && ut_compare(from_unit.get(), to_unit.get()) != 0)
    throw UnitError("'" + text + "' has no unit (expected " + target + ")");
  if (!linear_conversion(from_unit.get(), to_unit.get()))
    throw UnitError("'" + text + "' is not convertible to " + target);
  ConverterPtr cv(ut_get_converter(from_unit.get(), to_unit.get()));
  if (!cv) throw UnitError("'" + text + "' is not convertible to " + target);
  const double v = cv_convert_double(cv.get(), q.value);
  if (!std::isfinite(v)) throw UnitError("'" + text + "' is out of range in " + target);
  return v;
}

bool UnitSystem::convertible(const std::string& unit, const std::string& target) const {
  QuietUdunits quiet;
  UnitPtr a = impl_->parse(unit), b = impl_->parse(target);
  return a && b && linear_conversion(a.get(), b.get());
}

bool UnitSystem::parses(const std::string& unit) const {
  QuietUdunits quiet;
  return impl_->parse(unit) != nullptr;
}

}  // namespace tme
