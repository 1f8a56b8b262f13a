// Clinician-style dosing strings (see regimen.hpp).
#include "host/scene/regimen.hpp"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace tme {
namespace {

const std::string kExpectDose = "(expected e.g. '200 mg q3w' or '3 mg/kg q3w x 4')";
const std::string kExpectInterval = "(expected q<N>h, q<N>d or q<N>w with N >= 1, e.g. 'q3w')";
const std::string kExpectCount = "(expected e.g. 'x 4')";
const std::string kExpectAll = "(expected '<amount> <unit>[/kg] q<N><h|d|w> [x <count>]', e.g. '3 mg/kg q3w x 4')";

constexpr double kHour = 3600.0;  // [s]
constexpr double kDay = 86400.0;  // [s]
constexpr double kWeek = 7 * kDay;

bool blank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// A read position in the text; every error carries the fixed prefix "dose '<text>': ".
struct Cursor {
  std::string s;
  size_t i = 0;

  bool end() const { return i >= s.size(); }
  char peek() const { return end() ? '\0' : s[i]; }
  void skip_blanks() {
    while (!end() && blank(s[i])) ++i;
  }
  size_t skip_digits() {
    const size_t j = i;
    while (!end() && digit(s[i])) ++i;
    return i - j;
  }
  // Characters up to the next blank or one of `stops`.
  std::string word(const char* stops = "") {
    const size_t j = i;
    while (!end() && !blank(s[i]) && !std::strchr(stops, s[i])) ++i;
    return s.substr(j, i - j);
  }
  [[noreturn]] void fail(const std::string& what) const { throw std::invalid_argument("dose '" + s + "': " + what); }
};

std::string trim(const std::string& t) {
  size_t a = 0, b = t.size();
  while (a < b && blank(t[a])) ++a;
  while (b > a && blank(t[b - 1])) --b;
  return t.substr(a, b - a);
}

// [+-]digits[.digits][(e|E)[+-]digits]: the number as written ("" when there is none).
std::string read_number(Cursor& c) {
  const size_t j = c.i;
  if (c.peek() == '+' || c.peek() == '-') ++c.i;
  size_t n = c.skip_digits();
  if (c.peek() == '.') {
    ++c.i;
    n += c.skip_digits();
  }
  if (n == 0) {
    c.i = j;
    return "";
  }
  if (lower(c.peek()) == 'e') {  // an exponent only when digits follow
    const size_t k = c.i++;
    if (c.peek() == '+' || c.peek() == '-') ++c.i;
    if (c.skip_digits() == 0) c.i = k;
  }
  return c.s.substr(j, c.i - j);
}

// An integer of digits only; -1 when there are none or it is out of range.
long read_count(Cursor& c) {
  const size_t j = c.i;
  if (c.skip_digits() == 0) return -1;
  errno = 0;
  const long v = std::strtol(c.s.c_str() + j, nullptr, 10);
  return errno == ERANGE || v > INT_MAX ? -1 : v;
}

}  // namespace

ParsedRegimen parse_regimen(const std::string& text, double body_weight_kg, const UnitSystem& units) {
  Cursor c{trim(text)};
  ParsedRegimen out;

  // <amount> <mass unit>[/kg]
  const std::string number = read_number(c);
  if (number.empty()) c.fail("cannot read the amount " + kExpectDose);
  out.amount_value = std::strtod(number.c_str(), nullptr);
  if (!std::isfinite(out.amount_value) || out.amount_value <= 0) c.fail("the amount must be > 0 " + kExpectDose);
  c.skip_blanks();
  const std::string unit = c.word("/");
  if (unit.empty()) c.fail("the amount has no mass unit " + kExpectDose);
  if (!units.convertible(unit, "mg")) c.fail("'" + unit + "' is not a mass unit " + kExpectDose);
  double amount_mg = 0;
  try {
    amount_mg = units.to(number + " " + unit, "mg");
  } catch (const UnitError& e) {
    c.fail(e.what());
  }
  c.skip_blanks();
  out.amount_unit = unit;
  if (c.peek() == '/') {
    ++c.i;
    c.skip_blanks();
    const std::string per = c.word();
    if (per != "kg") c.fail("'" + unit + "/" + per + "' is not a dose or a dose per kg " + kExpectDose);
    out.per_kg = true;
    out.amount_unit += "/kg";
  }

  // q<N><h|d|w>
  c.skip_blanks();
  const size_t q_at = c.i;
  if (lower(c.peek()) != 'q') c.fail("cannot read the interval " + kExpectInterval);
  ++c.i;
  c.skip_blanks();
  const long n = read_count(c);
  c.skip_blanks();
  const char per = lower(c.peek());
  if (n < 0 || (per != 'h' && per != 'd' && per != 'w')) c.fail("cannot read the interval " + kExpectInterval);
  ++c.i;
  if (n == 0) c.fail("interval '" + c.s.substr(q_at, c.i - q_at) + "' is zero " + kExpectInterval);
  const double unit_s = per == 'h' ? kHour : per == 'd' ? kDay : kWeek;  // [s]
  out.regimen.interval_s = static_cast<double>(n) * unit_s;

  // [x <count>]
  c.skip_blanks();
  if (lower(c.peek()) == 'x') {
    ++c.i;
    c.skip_blanks();
    const long count = read_count(c);
    if (count < 0) c.fail("cannot read the number of doses after 'x' " + kExpectCount);
    if (count < 1) c.fail("the number of doses must be at least 1 " + kExpectCount);
    out.regimen.count = static_cast<int>(count);
    c.skip_blanks();
  }
  if (!c.end()) c.fail("unexpected text '" + c.s.substr(c.i) + "' " + kExpectAll);

  if (out.per_kg) {
    if (!(body_weight_kg > 0) || !std::isfinite(body_weight_kg))
      c.fail("a per-kg dose needs body_weight (expected e.g. 'body_weight: 70 kg')");
    amount_mg *= body_weight_kg;
  }
  out.regimen.amount_mg = amount_mg;
  return out;
}

}  // namespace tme
