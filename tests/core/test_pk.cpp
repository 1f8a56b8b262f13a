// Antibody plasma pharmacokinetics (host/core/pk.hpp): the closed form against an RK4
// integration of the two-compartment ODE, exact limits, the analytic time average against
// Simpson quadrature, the terminal half-life, regimen expansion and error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/core/pk.hpp"
#include "tests/error_of.hpp"

namespace {

using namespace tme::pk;

constexpr double kDay = 86400.0;  // [s]
constexpr double kHour = 3600.0;  // [s]

// Atezolizumab-like: Vc 3.28 L, Vp 3.63 L (Vss 6.91 L), CL 0.2 L/day, Q 0.5 L/day.
TwoCompartment atezolizumab_like() { return {3.28, 3.63, 0.2 / kDay, 0.5 / kDay, 146000}; }

double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }

// Central concentration [nM] at the (sorted) query times by RK4 on the amounts [nmol] with
// steps of at most h_s [s]; each dose is added to the central amount at its time (before the
// queries at that time: right-continuous). Independent of the closed form.
std::vector<double> rk4_central_nM(const TwoCompartment& p, std::vector<Dose> doses, const std::vector<double>& times,
                                   double h_s = 0.01 * kHour) {
  const double k10 = p.cl_L_per_s / p.vc_L, k12 = p.q_L_per_s / p.vc_L, k21 = p.vp_L > 0 ? p.q_L_per_s / p.vp_L : 0;
  auto f = [&](double ac, double ap, double& dc, double& dp) {
    dc = -(k10 + k12) * ac + k21 * ap;
    dp = k12 * ac - k21 * ap;
  };
  std::sort(doses.begin(), doses.end(), [](const Dose& a, const Dose& b) { return a.time_s < b.time_s; });
  double t = 0, ac = 0, ap = 0;  // [s], [nmol], [nmol]
  auto advance = [&](double t_next) {
    if (t_next <= t) return;
    const long n = static_cast<long>(std::ceil((t_next - t) / h_s));
    const double h = (t_next - t) / static_cast<double>(n);
    for (long i = 0; i < n; ++i) {
      double c1, p1, c2, p2, c3, p3, c4, p4;
      f(ac, ap, c1, p1);
      f(ac + 0.5 * h * c1, ap + 0.5 * h * p1, c2, p2);
      f(ac + 0.5 * h * c2, ap + 0.5 * h * p2, c3, p3);
      f(ac + h * c3, ap + h * p3, c4, p4);
      ac += h / 6 * (c1 + 2 * c2 + 2 * c3 + c4);
      ap += h / 6 * (p1 + 2 * p2 + 2 * p3 + p4);
    }
    t = t_next;
  };
  std::vector<double> out;
  size_t next_dose = 0;
  for (double tq : times) {
    while (next_dose < doses.size() && doses[next_dose].time_s <= tq) {
      advance(doses[next_dose].time_s);
      ac += doses[next_dose].amount_mg * 1e6 / p.mw_g_per_mol;  // mg -> nmol
      ++next_dose;
    }
    advance(tq);
    out.push_back(ac / p.vc_L);
  }
  return out;
}

// Composite Simpson of plasma_nM over [a, b] (smooth there) with n (even) intervals [nM s].
double simpson(const TwoCompartment& p, const std::vector<Dose>& d, double a, double b, int n) {
  const double h = (b - a) / n;
  double s = plasma_nM(p, d, a) + plasma_nM(p, d, b);
  for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * plasma_nM(p, d, a + i * h);
  return s * h / 3;
}

using tme::test::error_of;

TEST(PkTwoCompartment, SingleDoseMatchesRk4) {
  const TwoCompartment p = atezolizumab_like();
  const std::vector<Dose> doses{{0, 1200}};
  const std::vector<double> times{0, 1 * kHour, 6 * kHour, 1 * kDay, 3 * kDay, 10 * kDay, 30 * kDay, 60 * kDay};
  const std::vector<double> ref = rk4_central_nM(p, doses, times);
  for (size_t i = 0; i < times.size(); ++i)
    EXPECT_LT(rel(plasma_nM(p, doses, times[i]), ref[i]), 1e-6) << "t = " << times[i] << " s";
  // 1200 mg of 146 kDa in 3.28 L: 2505.9 nM just after the dose.
  EXPECT_NEAR(plasma_nM(p, doses, 0), 1200 * 1e6 / 146000 / 3.28, 1e-9);
}

TEST(PkTwoCompartment, RepeatedDosesMatchRk4) {
  const TwoCompartment p = atezolizumab_like();
  const std::vector<Dose> doses = expand_regimen({200, 21 * kDay, 4, 0}, 1e12);  // 200 mg q3w x 4
  ASSERT_EQ(doses.size(), 4u);
  std::vector<double> times;
  for (const Dose& d : doses)
    for (double dt : {-1 * kHour, 0.0, 1 * kHour, 5 * kDay})
      if (d.time_s + dt >= 0) times.push_back(d.time_s + dt);
  times.push_back(100 * kDay);
  const std::vector<double> ref = rk4_central_nM(p, doses, times);
  for (size_t i = 0; i < times.size(); ++i)
    EXPECT_LT(rel(plasma_nM(p, doses, times[i]), ref[i]), 1e-6) << "t = " << times[i] << " s";
  // Right-continuous: at a dose time the new dose counts; just before it does not.
  const double jump = 200 * 1e6 / 146000 / 3.28;  // [nM]
  EXPECT_NEAR(plasma_nM(p, doses, 21 * kDay) - plasma_nM(p, doses, 21 * kDay - 1e-3), jump, 1e-6 * jump);
  // Order of the doses does not matter.
  const std::vector<Dose> reversed(doses.rbegin(), doses.rend());
  EXPECT_DOUBLE_EQ(plasma_nM(p, reversed, 50 * kDay), plasma_nM(p, doses, 50 * kDay));
}

TEST(PkTwoCompartment, InitialConcentrationIsDoseOverVc) {
  const TwoCompartment p = atezolizumab_like();
  EXPECT_EQ(plasma_nM(p, {{0, 1200}}, 0), 1200 * 1e6 / 146000 / 3.28);
  EXPECT_EQ(plasma_nM(p, {{5 * kDay, 200}}, 5 * kDay), 200 * 1e6 / 146000 / 3.28);
  EXPECT_EQ(plasma_nM(p, {{5 * kDay, 200}}, 5 * kDay - 1), 0.0);  // before the dose
  EXPECT_EQ(plasma_nM(p, {}, 5 * kDay), 0.0);
  EXPECT_EQ(nmol_from_mg(146, 146000), 1000.0);  // 146 mg of 146 kDa = 1 umol
}

TEST(PkTwoCompartment, OneCompartmentLimitIsMonoExponential) {
  const double vc = 6.0, cl = 0.2 / kDay, c0 = 200 * 1e6 / 146000 / vc;  // pembrolizumab-like
  for (const TwoCompartment& p :
       {TwoCompartment{vc, 0, cl, 0}, TwoCompartment{vc, 3, cl, 0}, TwoCompartment{vc, 0, cl, 0.5 / kDay}}) {
    for (double t : {0.0, 1 * kDay, 22 * kDay, 100 * kDay})
      EXPECT_LT(rel(plasma_nM(p, {{0, 200}}, t), c0 * std::exp(-cl / vc * t)), 1e-14) << t;
    EXPECT_LT(rel(terminal_half_life_s(p), std::log(2.0) * vc / cl), 1e-15);
  }
}

TEST(PkTwoCompartment, MacroConstants) {
  const TwoCompartment p = atezolizumab_like();
  const double k10 = p.cl_L_per_s / p.vc_L, k12 = p.q_L_per_s / p.vc_L, k21 = p.q_L_per_s / p.vp_L;
  const MacroConstants m = macro_constants(p);
  EXPECT_GT(m.alpha_per_s, m.beta_per_s);
  EXPECT_GT(m.beta_per_s, 0);
  EXPECT_LT(rel(m.alpha_per_s + m.beta_per_s, k10 + k12 + k21), 1e-14);
  EXPECT_LT(rel(m.alpha_per_s * m.beta_per_s, k10 * k21), 1e-14);
  EXPECT_LT(std::abs(m.a + m.b - 1), 1e-15);
  EXPECT_LT(rel(m.a, (m.alpha_per_s - k21) / (m.alpha_per_s - m.beta_per_s)), 1e-12);
}

TEST(PkMean, MatchesSimpson) {
  const TwoCompartment p = atezolizumab_like();
  const std::vector<Dose> doses = expand_regimen({1200, 21 * kDay, 0, 2 * kDay}, 60 * kDay);
  ASSERT_EQ(doses.size(), 3u);  // days 2, 23, 44
  // Without a dose inside: [5 d, 20 d]; with the dose of day 23 inside: [10 d, 30 d]
  // (Simpson on the two smooth pieces); from before the first dose: [0, 3 d]; from a dose
  // time: [23 d, 24 d]; short: [30 d, 30 d + 1 s].
  struct Case {
    double t0, t1;
  };
  for (const Case c : {Case{5 * kDay, 20 * kDay}, Case{10 * kDay, 30 * kDay}, Case{0, 3 * kDay},
                       Case{23 * kDay, 24 * kDay}, Case{30 * kDay, 30 * kDay + 1}}) {
    std::vector<double> cuts{c.t0};
    for (const Dose& d : doses)
      if (d.time_s > c.t0 && d.time_s < c.t1) cuts.push_back(d.time_s);
    cuts.push_back(c.t1);
    double integral = 0;  // [nM s]
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      // On [a, b) the integrand is smooth; at b (a dose time) Simpson needs the left limit,
      // so leave out the doses at b. plasma_nM is right-continuous, so a dose at a counts.
      const double a = cuts[i], b = cuts[i + 1];
      std::vector<Dose> before_b;
      for (const Dose& d : doses)
        if (d.time_s < b) before_b.push_back(d);
      integral += simpson(p, before_b, a, b, 4000);
    }
    EXPECT_LT(rel(plasma_mean_nM(p, doses, c.t0, c.t1), integral / (c.t1 - c.t0)), 1e-8) << c.t0 << " .. " << c.t1;
  }
  EXPECT_EQ(plasma_mean_nM(p, doses, 23 * kDay, 23 * kDay), plasma_nM(p, doses, 23 * kDay));
  EXPECT_EQ(plasma_mean_nM(p, doses, 0, 1 * kDay), 0.0);  // before the first dose
  EXPECT_EQ(error_of([&] { plasma_mean_nM(p, doses, 2, 1); }),
            "pk: plasma_mean_nM needs t1_s >= t0_s (got t0_s = 2 s, t1_s = 1 s)");
}

TEST(PkHalfLife, TerminalHalfLifeMatchesLogSlope) {
  const TwoCompartment p = atezolizumab_like();
  const double t_half = terminal_half_life_s(p);
  EXPECT_LT(rel(t_half, std::log(2.0) / macro_constants(p).beta_per_s), 1e-15);
  // Late, the fast exponential has died out (exp(-(alpha - beta) 200 d) ~ 1e-26).
  const std::vector<Dose> doses{{0, 1200}};
  const double t = 200 * kDay, h = 1 * kDay;
  const double slope =  // [1/s]
      (std::log(plasma_nM(p, doses, t)) - std::log(plasma_nM(p, doses, t + h))) / h;
  EXPECT_LT(rel(t_half, std::log(2.0) / slope), 1e-6);
  // Published about 27 days for atezolizumab (these parameters give about 26.8 days).
  EXPECT_GT(t_half / kDay, 20);
  EXPECT_LT(t_half / kDay, 35);
}

TEST(PkRegimen, ExpandCountsAndTimes) {
  const std::vector<Dose> four = expand_regimen({200, 21 * kDay, 4, 1 * kDay}, 1000 * kDay);
  ASSERT_EQ(four.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(four[k].time_s, 1 * kDay + k * 21 * kDay);
    EXPECT_EQ(four[k].amount_mg, 200);
  }
  // Until the end time, inclusive: 0, 14, 28, 42 days.
  EXPECT_EQ(expand_regimen({240, 14 * kDay, 0, 0}, 42 * kDay).size(), 4u);
  EXPECT_EQ(expand_regimen({240, 14 * kDay, 0, 0}, 42 * kDay - 1).size(), 3u);
  // The end time also cuts a counted course; a start after the end gives no dose.
  EXPECT_EQ(expand_regimen({200, 21 * kDay, 4, 0}, 30 * kDay).size(), 2u);
  EXPECT_TRUE(expand_regimen({200, 21 * kDay, 4, 10 * kDay}, 5 * kDay).empty());
  // A long course does not drift: dose k at exactly start + k interval.
  const std::vector<Dose> many = expand_regimen({1, 0.1, 0, 0}, 1000);
  ASSERT_EQ(many.size(), 10001u);
  EXPECT_EQ(many.back().time_s, 10000 * 0.1);
}

TEST(PkRegimen, Errors) {
  EXPECT_EQ(error_of([] { expand_regimen({0, 1, 0, 0}, 10); }), "pk: regimen: amount_mg must be > 0 mg (got 0)");
  EXPECT_EQ(error_of([] { expand_regimen({200, -3, 0, 0}, 10); }), "pk: regimen: interval_s must be > 0 s (got -3)");
  EXPECT_EQ(error_of([] {
              expand_regimen({200, 1, -1, 0}, 10);
            }),
            "pk: regimen: count must be >= 0 (0 = until the end time) (got -1)");
  EXPECT_EQ(error_of([] { expand_regimen({200, 1, 0, -5}, 10); }), "pk: regimen: start_s must be >= 0 s (got -5)");
  EXPECT_EQ(error_of([] {
              expand_regimen({200, 1, 0, 0}, INFINITY);
            }),
            "pk: regimen: t_end_s must be finite when count is 0 (repeat until the end time) "
            "(got inf)");
  EXPECT_EQ(expand_regimen({200, 1, 3, 0}, INFINITY).size(), 3u);
}

TEST(PkCheck, Errors) {
  const TwoCompartment ok = atezolizumab_like();
  EXPECT_NO_THROW(check(ok));
  auto err = [](TwoCompartment p) { return error_of([&] { check(p); }); };
  TwoCompartment p = ok;
  p.vc_L = 0;
  EXPECT_EQ(err(p), "pk: central volume vc_L must be > 0 L (got 0)");
  p = ok;
  p.vp_L = -1;
  EXPECT_EQ(err(p), "pk: peripheral volume vp_L must be >= 0 L (0 = one compartment) (got -1)");
  p = ok;
  p.cl_L_per_s = 0;
  EXPECT_EQ(err(p), "pk: clearance cl_L_per_s must be > 0 L/s (got 0)");
  p = ok;
  p.q_L_per_s = -2;
  EXPECT_EQ(err(p),
            "pk: inter-compartmental clearance q_L_per_s must be >= 0 L/s (0 = one compartment) "
            "(got -2)");
  p = ok;
  p.mw_g_per_mol = NAN;
  EXPECT_EQ(err(p), "pk: molecular weight mw_g_per_mol must be > 0 g/mol (got nan)");
  // plasma_nM checks the parameters and the doses.
  p = ok;
  p.vc_L = -3.28;
  EXPECT_EQ(error_of([&] { plasma_nM(p, {{0, 1}}, 1); }), "pk: central volume vc_L must be > 0 L (got -3.28)");
  EXPECT_EQ(error_of([&] {
              plasma_nM(ok, {{7, -1}}, 1);
            }),
            "pk: dose amount_mg must be >= 0 mg (dose at t = 7 s) (got -1)");
}

}  // namespace
