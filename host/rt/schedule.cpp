// Fractionation schedules (see schedule.hpp).
#include "host/rt/schedule.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "host/rt/format.hpp"

namespace tme {
namespace rt {

namespace {

// Seconds as hours for messages: "6 h", "4.5 h".
std::string hours(double s) { return num(s / kSecondsPerHour) + " h"; }

// Seconds since midnight as HH:MM[:SS] (hours may exceed 23 for a time past midnight).
std::string clock_text(double s) {
  const long long t = (long long)std::llround(s);
  char b[40];
  if (t % 60 == 0)
    std::snprintf(b, sizeof b, "%02lld:%02lld", t / 3600, (t / 60) % 60);
  else
    std::snprintf(b, sizeof b, "%02lld:%02lld:%02lld", t / 3600, (t / 60) % 60, t % 60);
  return b;
}

[[noreturn]] void course_fail(const Course& c, const std::string& what) {
  throw std::invalid_argument("course (plan " + std::to_string(c.plan) + "): " + what);
}

const char* const kWeekdayNames[7] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

}  // namespace

std::string pattern_for_fractions_per_week(int n) {
  static const char* const table[8] = {nullptr,   "1000000", "1001000", "1010100",
                                       "1101100", "1111100", "1111110", "1111111"};
  if (n < 1 || n > 7)
    throw std::invalid_argument("fractions per week " + std::to_string(n) + " is out of range (expected 1 to 7)");
  return table[n];
}

void check_week_pattern(const std::string& p) {
  if (p.size() != 7)
    throw std::invalid_argument("week pattern '" + p +
                                "' must have 7 characters (Monday first), "
                                "each 0 or 1, e.g. 1111100");
  for (char ch : p)
    if (ch != '0' && ch != '1')
      throw std::invalid_argument("week pattern '" + p +
                                  "' may contain only 0 and 1 (Monday "
                                  "first), e.g. 1111100");
  if (p.find('1') == std::string::npos)
    throw std::invalid_argument("week pattern '" + p + "' has no treatment day (no '1')");
}

Weekday parse_weekday(const std::string& s) {
  std::string l;
  for (char ch : s) l += (char)std::tolower((unsigned char)ch);
  for (int i = 0; i < 7; ++i) {
    std::string full = kWeekdayNames[i];
    for (char& ch : full) ch = (char)std::tolower((unsigned char)ch);
    if (l == full || l == full.substr(0, 3)) return (Weekday)i;
  }
  throw std::invalid_argument("weekday '" + s +
                              "' is not one of Monday, Tuesday, Wednesday, "
                              "Thursday, Friday, Saturday, Sunday (or Mon ... Sun)");
}

const char* weekday_name(Weekday d) { return kWeekdayNames[((int)d % 7 + 7) % 7]; }

double parse_clock(const std::string& s) {
  auto fail = [&]() -> double {
    throw std::invalid_argument("clock time '" + s + "' is not HH:MM or HH:MM:SS (00:00 to 23:59:59)");
  };
  int part[3] = {0, 0, 0};
  int nparts = 0;
  size_t i = 0;
  while (true) {
    if (nparts == 3) return fail();
    const size_t b = i;
    int v = 0;
    while (i < s.size() && std::isdigit((unsigned char)s[i])) {
      v = v * 10 + (s[i] - '0');
      ++i;
      if (i - b > 2) return fail();
    }
    if (i == b) return fail();
    if (nparts > 0 && i - b != 2) return fail();  // minutes and seconds: two digits
    part[nparts++] = v;
    if (i == s.size()) break;
    if (s[i] != ':') return fail();
    ++i;
  }
  if (nparts < 2 || part[0] > 23 || part[1] > 59 || part[2] > 59) return fail();
  return part[0] * 3600.0 + part[1] * 60.0 + part[2];
}

Weekday weekday_at(const Calendar& cal, double t_s) {
  const long long day = (long long)std::floor((t_s + cal.t0_clock_s) / kSecondsPerDay);
  return (Weekday)((((int)cal.t0_weekday + day) % 7 + 7) % 7);
}

std::pair<double, int> course_dose(const Course& c) {
  const double total = c.total_dose_Gy, per = c.dose_per_fraction_Gy;
  const int n = c.n_fractions;
  if (!std::isfinite(total) || total < 0) course_fail(c, "total dose " + num(total) + " Gy must be > 0");
  if (!std::isfinite(per) || per < 0) course_fail(c, "dose per fraction " + num(per) + " Gy must be > 0");
  if (n < 0) course_fail(c, "number of fractions " + std::to_string(n) + " must be > 0");
  const bool ht = total > 0, hp = per > 0, hn = n > 0;
  if ((int)ht + (int)hp + (int)hn < 2)
    course_fail(c, "give two of total dose, dose per fraction and number of fractions");
  if (ht && hn) {
    const double d = total / n;
    if (hp && std::fabs(per * n - total) > 1e-9 * total)
      course_fail(c, "total dose " + num(total) + " Gy is not " + std::to_string(n) + " x " + num(per) + " Gy");
    return {d, n};
  }
  if (hp && hn) return {per, n};
  // Total and dose per fraction: the number of fractions must come out whole.
  const double ratio = total / per;
  const double r = std::round(ratio);
  if (r < 1 || std::fabs(ratio - r) > 1e-9 * ratio)
    course_fail(c, "total dose " + num(total) + " Gy is not a whole number of " + num(per) + " Gy fractions");
  if (r > 1e6) course_fail(c, "more than 1000000 fractions");
  return {per, (int)r};
}

std::vector<Fraction> expand_course(const Course& c, const Calendar& cal) {
  if (c.plan < 0) course_fail(c, "plan index must be >= 0");
  const auto dn = course_dose(c);
  const double d = dn.first;
  const int n = dn.second;

  std::string pattern;
  if (!c.week_pattern.empty() && c.fractions_per_week != 0)
    course_fail(c, "give either a week pattern or fractions per week, not both");
  try {
    if (!c.week_pattern.empty()) {
      pattern = c.week_pattern;
      check_week_pattern(pattern);
    } else {
      pattern = pattern_for_fractions_per_week(c.fractions_per_week == 0 ? 5 : c.fractions_per_week);
    }
  } catch (const std::invalid_argument& e) {
    course_fail(c, e.what());
  }

  if (!std::isfinite(cal.t0_clock_s) || cal.t0_clock_s < 0 || cal.t0_clock_s >= kSecondsPerDay)
    course_fail(c, "clock time of t = 0 (" + num(cal.t0_clock_s) + " s) must be in [0, 86400) s");
  if ((int)cal.t0_weekday < 0 || (int)cal.t0_weekday > 6) course_fail(c, "weekday of t = 0 is out of range");
  if (!std::isfinite(c.start_s) || c.start_s < 0)
    course_fail(c, "start time " + num(c.start_s) + " s must be >= 0 (the run starts at t = 0)");
  if (!std::isfinite(c.clock_s) || c.clock_s < 0 || c.clock_s >= kSecondsPerDay)
    course_fail(c, "clock time of the first daily fraction (" + num(c.clock_s) + " s) must be in [0, 86400) s");
  if (c.fractions_per_day < 1)
    course_fail(c, "fractions per day " + std::to_string(c.fractions_per_day) + " must be >= 1");
  if (c.fractions_per_day > 1) {
    if (!std::isfinite(c.gap_s) || c.gap_s <= 0)
      course_fail(c, "gap between fractions of a day (" + num(c.gap_s) + " s) must be > 0");
    if (!std::isfinite(c.min_gap_s) || c.min_gap_s < 0)
      course_fail(c, "minimum gap " + num(c.min_gap_s) + " s must be >= 0");
    if (c.gap_s < c.min_gap_s)
      course_fail(c, "gap " + hours(c.gap_s) +
                         " between fractions of a day is shorter than the "
                         "minimum " +
                         hours(c.min_gap_s));
    const double last = c.clock_s + (c.fractions_per_day - 1) * c.gap_s;
    if (last >= kSecondsPerDay)
      course_fail(c, std::to_string(c.fractions_per_day) + " fractions a day from " + clock_text(c.clock_s) +
                         " with a " + hours(c.gap_s) + " gap do not fit in one day (last at " + clock_text(last) + ")");
  }

  std::vector<Fraction> out;
  out.reserve((size_t)n);
  // Day k is the calendar day that starts at run time k * 86400 - t0_clock (day 0 holds t = 0).
  long long k = (long long)std::floor((c.start_s + cal.t0_clock_s) / kSecondsPerDay);
  while ((int)out.size() < n) {
    const int wd = (int)((((long long)cal.t0_weekday + k) % 7 + 7) % 7);
    if (pattern[(size_t)wd] == '1') {
      const double day_start = (double)k * kSecondsPerDay - cal.t0_clock_s;
      for (int j = 0; j < c.fractions_per_day && (int)out.size() < n; ++j) {
        const double t = day_start + c.clock_s + j * c.gap_s;
        if (t >= c.start_s) out.push_back({t, d, c.plan});
      }
    }
    ++k;
  }
  return out;
}

std::vector<Fraction> expand_explicit(const ExplicitFractions& e) {
  const std::string where = "fractions (plan " + std::to_string(e.plan) + "): ";
  if (e.plan < 0) throw std::invalid_argument(where + "plan index must be >= 0");
  if (e.time_dose.empty()) throw std::invalid_argument(where + "the list is empty");
  std::vector<Fraction> out;
  out.reserve(e.time_dose.size());
  for (size_t i = 0; i < e.time_dose.size(); ++i) {
    const double t = e.time_dose[i].first, d = e.time_dose[i].second;
    const std::string at = where + "entry " + std::to_string(i + 1) + ": ";
    if (!std::isfinite(t) || t < 0)
      throw std::invalid_argument(at + "time " + num(t) + " s must be >= 0 (the run starts at t = 0)");
    if (!std::isfinite(d) || d <= 0) throw std::invalid_argument(at + "dose " + num(d) + " Gy must be > 0");
    out.push_back({t, d, e.plan});
  }
  std::stable_sort(out.begin(), out.end(), [](const Fraction& a, const Fraction& b) { return a.time_s < b.time_s; });
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].time_s == out[i - 1].time_s)
      throw std::invalid_argument(where + "two fractions at t = " + num(out[i].time_s) + " s");
  return out;
}

std::vector<Fraction> merge_schedules(const std::vector<std::vector<Fraction>>& plans) {
  std::vector<Fraction> out;
  for (const auto& p : plans) out.insert(out.end(), p.begin(), p.end());
  std::stable_sort(out.begin(), out.end(), [](const Fraction& a, const Fraction& b) {
    return a.time_s < b.time_s || (a.time_s == b.time_s && a.plan < b.plan);
  });
  return out;
}

std::vector<double> event_times(const std::vector<Fraction>& fractions) {
  std::vector<double> t;
  t.reserve(fractions.size());
  for (const auto& f : fractions) t.push_back(f.time_s);
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

double total_dose(const std::vector<Fraction>& fractions, int plan) {
  double s = 0;
  for (const auto& f : fractions)
    if (f.plan == plan) s += f.dose_Gy;
  return s;
}

}  // namespace rt
}  // namespace tme
