// Fractionation schedules: expansion of clinician-style courses ("50 Gy in 25
// fractions, 5 per week, from a Monday at 09:00", twice daily with a 6 h gap) and explicit
// lists into a sorted list of fractions in run time. Host only; no scene, no stepper.
//
// Units: time [s] of run time (t = 0 is the start of the run), dose [Gy] per fraction.
// Calendar: the run's t = 0 falls on a given weekday at a given clock time; "days" are
// calendar days of 86400 s (no daylight saving). See docs/radiotherapy.md.
// Errors: std::invalid_argument with a message naming the field and the accepted values.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace tme {
namespace rt {

constexpr double kSecondsPerDay = 86400.0;
constexpr double kSecondsPerHour = 3600.0;

struct Fraction {
  double time_s = 0;   // delivery time [s] of run time
  double dose_Gy = 0;  // prescribed dose of this fraction [Gy]
  int plan = 0;        // index of the plan (dose map) it belongs to
};

enum class Weekday : int { Monday = 0, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday };

// Where t = 0 of the run sits in the week.
struct Calendar {
  Weekday t0_weekday = Weekday::Monday;  // weekday of t = 0
  double t0_clock_s = 0;                 // clock time of t = 0 since midnight [s], [0, 86400)
};

// A course written as a clinician writes it. Dose: give exactly two of total_dose_Gy,
// dose_per_fraction_Gy and n_fractions (0 = not given), or all three consistently.
// Week: week_pattern ("1111100", 7 characters '0'/'1', Monday first) or fractions_per_week
// (1..7, see pattern_for_fractions_per_week); neither given = 5 per week. Not both.
// Fractions are delivered on treatment days at clock_s, clock_s + gap_s, ... (fractions_per_day
// of them, all on the same calendar day), starting with the first such slot at or after
// start_s. The last treatment day may carry fewer fractions than fractions_per_day.
struct Course {
  int plan = 0;
  double total_dose_Gy = 0;                // [Gy], 0 = not given
  double dose_per_fraction_Gy = 0;         // [Gy], 0 = not given
  int n_fractions = 0;                     // 0 = not given
  std::string week_pattern;                // e.g. "1111100"; empty = from fractions_per_week
  int fractions_per_week = 0;              // 1..7; 0 = not given
  double start_s = 0;                      // earliest delivery time [s] of run time (>= 0)
  double clock_s = 9 * kSecondsPerHour;    // clock time of the day's first fraction [s]
  int fractions_per_day = 1;               // 1 (daily) or more (2 = BID, 3 = TID)
  double gap_s = 6 * kSecondsPerHour;      // interval between fractions of one day [s]
  double min_gap_s = 6 * kSecondsPerHour;  // smallest accepted gap_s [s] (clinical: 6 h)
};

// An explicit list of (time [s], dose [Gy]) for one plan, in any order.
struct ExplicitFractions {
  int plan = 0;
  std::vector<std::pair<double, double>> time_dose;
};

// Weekly pattern for n fractions per week (Monday first):
//   1 1000000, 2 1001000 (Mon, Thu), 3 1010100 (Mon, Wed, Fri), 4 1101100 (Mon, Tue, Thu,
//   Fri), 5 1111100, 6 1111110, 7 1111111. Throws for n outside 1..7.
std::string pattern_for_fractions_per_week(int n);

// Checks a pattern: 7 characters, each '0' or '1', at least one '1'. Throws otherwise.
void check_week_pattern(const std::string& pattern);

// "Monday", "mon", "MONDAY", ... -> Weekday. Throws for anything else.
Weekday parse_weekday(const std::string& s);
const char* weekday_name(Weekday d);

// "09:00", "9:30", "13:45:30" -> seconds since midnight. Throws for anything else.
double parse_clock(const std::string& s);

// Weekday of run time t [s] under the calendar.
Weekday weekday_at(const Calendar& cal, double t_s);

// Dose per fraction and number of fractions of a course (see Course). Throws when fewer than
// two are given, when they disagree, or when total / per-fraction is not a whole number.
std::pair<double, int> course_dose(const Course& c);

// Expands a course into its fractions, in time order. Throws std::invalid_argument on an
// invalid course (messages start with "course (plan N): ").
std::vector<Fraction> expand_course(const Course& c, const Calendar& cal);

// Validates and sorts an explicit list (times >= 0 and finite, doses > 0 and finite, no two
// fractions of the plan at the same time). Messages start with "fractions (plan N): ".
std::vector<Fraction> expand_explicit(const ExplicitFractions& e);

// Merges the fractions of several plans into one list sorted by time, then plan (stable:
// equal (time, plan) keep their input order).
std::vector<Fraction> merge_schedules(const std::vector<std::vector<Fraction>>& plans);

// The distinct delivery times [s], ascending: the times the stepper must land on exactly.
std::vector<double> event_times(const std::vector<Fraction>& fractions);

// Total prescribed dose [Gy] of one plan in a list.
double total_dose(const std::vector<Fraction>& fractions, int plan);

}  // namespace rt
}  // namespace tme
