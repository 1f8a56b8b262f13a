// Fractionation schedules (host/rt/schedule.hpp): clinician-style courses, twice-daily gaps,
// explicit lists, merging, event times, validation messages.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "host/rt/schedule.hpp"
#include "tests/error_of.hpp"

namespace rt = tme::rt;

namespace {
constexpr double kDay = 86400.0, kHour = 3600.0;

using tme::test::error_of;
}  // namespace

// "50 Gy in 25 fractions, 1111100 from a Monday" at 09:00: Monday to Friday for 5 weeks.
TEST(RtSchedule, FiftyInTwentyFiveFromMonday) {
  rt::Calendar cal;  // t = 0 is Monday 00:00
  cal.t0_weekday = rt::Weekday::Monday;
  cal.t0_clock_s = 0;
  rt::Course c;
  c.total_dose_Gy = 50;
  c.n_fractions = 25;
  c.week_pattern = "1111100";
  c.clock_s = rt::parse_clock("09:00");
  const auto f = rt::expand_course(c, cal);
  ASSERT_EQ(f.size(), 25u);
  std::vector<double> expect;
  for (int week = 0; week < 5; ++week)
    for (int day = 0; day < 5; ++day) expect.push_back((7 * week + day) * kDay + 9 * kHour);
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(f[i].time_s, expect[i]) << i;  // exact: whole seconds
    EXPECT_EQ(f[i].dose_Gy, 2.0);
    EXPECT_EQ(f[i].plan, 0);
    EXPECT_EQ(rt::weekday_at(cal, f[i].time_s), (rt::Weekday)(i % 5));
  }
  EXPECT_EQ(f.back().time_s, 32 * kDay + 9 * kHour);  // Friday of week 5
  EXPECT_DOUBLE_EQ(rt::total_dose(f, 0), 50.0);
  // Same course written as 2 Gy x 25, as 50 Gy of 2 Gy fractions, and as 5 per week.
  rt::Course c2 = c;
  c2.total_dose_Gy = 0;
  c2.dose_per_fraction_Gy = 2;
  EXPECT_EQ(rt::expand_course(c2, cal).back().time_s, f.back().time_s);
  rt::Course c3 = c;
  c3.n_fractions = 0;
  c3.dose_per_fraction_Gy = 2;
  EXPECT_EQ(rt::expand_course(c3, cal).size(), 25u);
  rt::Course c4 = c;
  c4.week_pattern.clear();
  c4.fractions_per_week = 5;
  const auto f4 = rt::expand_course(c4, cal);
  for (size_t i = 0; i < 25; ++i) EXPECT_EQ(f4[i].time_s, expect[i]);
}

TEST(RtSchedule, CalendarOffsetsAndStart) {
  // t = 0 is Wednesday 14:00; 24 Gy in 3 fractions, Mon/Wed/Fri at 09:00, from t = 0.
  rt::Calendar cal;
  cal.t0_weekday = rt::parse_weekday("wed");
  cal.t0_clock_s = rt::parse_clock("14:00");
  rt::Course c;
  c.total_dose_Gy = 24;
  c.n_fractions = 3;
  c.fractions_per_week = 3;  // 1010100
  const auto f = rt::expand_course(c, cal);
  ASSERT_EQ(f.size(), 3u);
  // Wednesday 09:00 has passed: Friday 09:00 (43 h later), Monday 09:00, Wednesday 09:00.
  EXPECT_EQ(f[0].time_s, 43 * kHour);
  EXPECT_EQ(f[1].time_s, 43 * kHour + 3 * kDay);
  EXPECT_EQ(f[2].time_s, 43 * kHour + 5 * kDay);
  EXPECT_EQ(f[0].dose_Gy, 8.0);
  EXPECT_EQ(rt::weekday_at(cal, f[1].time_s), rt::Weekday::Monday);
  // start_s: nothing before day 10 (Saturday 14:00): first fraction Monday 09:00.
  c.start_s = 10 * kDay;
  EXPECT_EQ(rt::weekday_at(cal, c.start_s), rt::Weekday::Saturday);
  const auto g = rt::expand_course(c, cal);
  EXPECT_EQ(g[0].time_s, 43 * kHour + 10 * kDay);
  // A start exactly at a slot includes it.
  c.start_s = 43 * kHour;
  EXPECT_EQ(rt::expand_course(c, cal)[0].time_s, 43 * kHour);

  EXPECT_EQ(rt::pattern_for_fractions_per_week(1), "1000000");
  EXPECT_EQ(rt::pattern_for_fractions_per_week(2), "1001000");
  EXPECT_EQ(rt::pattern_for_fractions_per_week(3), "1010100");
  EXPECT_EQ(rt::pattern_for_fractions_per_week(4), "1101100");
  EXPECT_EQ(rt::pattern_for_fractions_per_week(5), "1111100");
  EXPECT_EQ(rt::pattern_for_fractions_per_week(6), "1111110");
  EXPECT_EQ(rt::pattern_for_fractions_per_week(7), "1111111");
  EXPECT_EQ(rt::parse_weekday("Sunday"), rt::Weekday::Sunday);
  EXPECT_EQ(rt::parse_weekday("MON"), rt::Weekday::Monday);
  EXPECT_EQ(rt::parse_clock("9:30"), 9 * kHour + 30 * 60);
  EXPECT_EQ(rt::parse_clock("13:45:30"), 13 * kHour + 45 * 60 + 30);
}

TEST(RtSchedule, TwiceDailyGaps) {
  rt::Calendar cal;
  rt::Course c;
  c.plan = 2;
  c.dose_per_fraction_Gy = 1.5;
  c.n_fractions = 25;  // odd: the last day carries one fraction
  c.fractions_per_day = 2;
  c.gap_s = 6 * kHour;
  c.clock_s = 8 * kHour;
  const auto f = rt::expand_course(c, cal);
  ASSERT_EQ(f.size(), 25u);
  for (size_t i = 0; i < f.size(); ++i) {
    EXPECT_EQ(f[i].plan, 2);
    const int day = (int)(f[i].time_s / kDay);
    const double clock = f[i].time_s - day * kDay;
    EXPECT_EQ(clock, i % 2 == 0 ? 8 * kHour : 14 * kHour) << i;
    EXPECT_LT(day % 7, 5) << "weekend fraction " << i;
    if (i > 0) {
      EXPECT_GE(f[i].time_s - f[i - 1].time_s, 6 * kHour);
    }
  }
  // 12 treatment days of two, then day 13 (Wednesday of week 3) with one.
  EXPECT_EQ(f.back().time_s, 16 * kDay + 8 * kHour);

  c.gap_s = 4 * kHour;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 2): gap 4 h between fractions of a day is shorter than the minimum 6 h");
  c.gap_s = 8 * kHour;
  c.clock_s = 9 * kHour;
  c.fractions_per_day = 3;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 2): 3 fractions a day from 09:00 with a 8 h gap do not fit in one day "
            "(last at 25:00)");
  c.fractions_per_day = 2;
  EXPECT_EQ(rt::expand_course(c, cal)[1].time_s, 17 * kHour);
  c.min_gap_s = 10 * kHour;  // a stricter minimum
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 2): gap 8 h between fractions of a day is shorter than the minimum 10 h");
}

TEST(RtSchedule, ExplicitListsMergedAndSorted) {
  rt::ExplicitFractions e;
  e.plan = 0;
  e.time_dose = {{2 * kDay, 8.0}, {0.0, 8.0}, {kDay, 8.0}};
  const auto a = rt::expand_explicit(e);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].time_s, 0.0);
  EXPECT_EQ(a[1].time_s, kDay);
  EXPECT_EQ(a[2].time_s, 2 * kDay);

  // Plan 1: low dose to a second lesion, 2 x 1 Gy at the same times as plan 0's first two.
  rt::ExplicitFractions l;
  l.plan = 1;
  l.time_dose = {{kDay, 1.0}, {0.0, 1.0}};
  // Plan 2: a course from Monday 09:00.
  rt::Course c;
  c.plan = 2;
  c.total_dose_Gy = 4;
  c.n_fractions = 2;
  const auto merged = rt::merge_schedules({rt::expand_course(c, rt::Calendar()), rt::expand_explicit(l), a});
  ASSERT_EQ(merged.size(), 7u);
  const double t[7] = {0, 0, 9 * kHour, kDay, kDay, kDay + 9 * kHour, 2 * kDay};
  const int plan[7] = {0, 1, 2, 0, 1, 2, 0};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(merged[(size_t)i].time_s, t[i]) << i;
    EXPECT_EQ(merged[(size_t)i].plan, plan[i]) << i;
  }
  EXPECT_EQ(rt::event_times(merged), (std::vector<double>{0, 9 * kHour, kDay, kDay + 9 * kHour, 2 * kDay}));
  EXPECT_DOUBLE_EQ(rt::total_dose(merged, 0), 24.0);
  EXPECT_DOUBLE_EQ(rt::total_dose(merged, 1), 2.0);
  EXPECT_DOUBLE_EQ(rt::total_dose(merged, 2), 4.0);
}

TEST(RtSchedule, ValidationMessages) {
  rt::Calendar cal;
  rt::Course c;
  c.total_dose_Gy = 50;
  c.n_fractions = 25;
  c.week_pattern = "0000000";
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): week pattern '0000000' has no treatment day (no '1')");
  c.week_pattern = "11111";
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): week pattern '11111' must have 7 characters (Monday first), each 0 "
            "or 1, e.g. 1111100");
  c.week_pattern = "11x1100";
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): week pattern '11x1100' may contain only 0 and 1 (Monday first), "
            "e.g. 1111100");
  c.week_pattern = "1111100";
  c.fractions_per_week = 5;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): give either a week pattern or fractions per week, not both");
  c.week_pattern.clear();
  c.fractions_per_week = 8;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): fractions per week 8 is out of range (expected 1 to 7)");
  c.fractions_per_week = 0;
  c.n_fractions = 0;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): give two of total dose, dose per fraction and number of fractions");
  c.dose_per_fraction_Gy = 3;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): total dose 50 Gy is not a whole number of 3 Gy fractions");
  c.n_fractions = 25;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }), "course (plan 0): total dose 50 Gy is not 25 x 3 Gy");
  c.dose_per_fraction_Gy = 2;
  EXPECT_EQ(rt::expand_course(c, cal).size(), 25u);  // all three, consistent
  c.clock_s = 86400;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): clock time of the first daily fraction (86400 s) must be in "
            "[0, 86400) s");
  c.clock_s = 0;
  c.start_s = -1;
  EXPECT_EQ(error_of([&] { rt::expand_course(c, cal); }),
            "course (plan 0): start time -1 s must be >= 0 (the run starts at t = 0)");

  rt::ExplicitFractions e;
  e.plan = 3;
  EXPECT_EQ(error_of([&] { rt::expand_explicit(e); }), "fractions (plan 3): the list is empty");
  e.time_dose = {{0, 2}, {100, 0}};
  EXPECT_EQ(error_of([&] { rt::expand_explicit(e); }), "fractions (plan 3): entry 2: dose 0 Gy must be > 0");
  e.time_dose = {{-5, 2}};
  EXPECT_EQ(error_of([&] { rt::expand_explicit(e); }),
            "fractions (plan 3): entry 1: time -5 s must be >= 0 (the run starts at t = 0)");
  e.time_dose = {{100, 2}, {0, 2}, {100, 1}};
  EXPECT_EQ(error_of([&] { rt::expand_explicit(e); }), "fractions (plan 3): two fractions at t = 100 s");

  EXPECT_EQ(error_of([] { rt::parse_clock("25:00"); }),
            "clock time '25:00' is not HH:MM or HH:MM:SS (00:00 to 23:59:59)");
  EXPECT_EQ(error_of([] { rt::parse_clock("9"); }), "clock time '9' is not HH:MM or HH:MM:SS (00:00 to 23:59:59)");
  EXPECT_EQ(error_of([] { rt::parse_clock("9:5"); }), "clock time '9:5' is not HH:MM or HH:MM:SS (00:00 to 23:59:59)");
  EXPECT_EQ(error_of([] { rt::parse_weekday("Funday"); }),
            "weekday 'Funday' is not one of Monday, Tuesday, Wednesday, Thursday, Friday, "
            "Saturday, Sunday (or Mon ... Sun)");
}
