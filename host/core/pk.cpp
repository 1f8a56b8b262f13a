// Two-compartment antibody pharmacokinetics in closed form (see pk.hpp).
#include "host/core/pk.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace tme::pk {
namespace {

// A number for messages: up to 10 significant digits, no trailing zeros.
std::string num(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

void require(bool ok, const std::string& what, double got) {
  if (!ok) throw std::invalid_argument("pk: " + what + " (got " + num(got) + ")");
}

void check_dose(const Dose& d) {
  require(std::isfinite(d.time_s), "dose time_s must be finite [s]", d.time_s);
  require(std::isfinite(d.amount_mg) && d.amount_mg >= 0,
          "dose amount_mg must be >= 0 mg (dose at t = " + num(d.time_s) + " s)", d.amount_mg);
}

// exp(-k u0) - exp(-k u1) for 0 <= u0 <= u1, without cancellation when u1 - u0 is small.
double exp_diff(double k, double u0, double u1) { return -std::exp(-k * u0) * std::expm1(-k * (u1 - u0)); }

}  // namespace

void check(const TwoCompartment& p) {
  require(std::isfinite(p.vc_L) && p.vc_L > 0, "central volume vc_L must be > 0 L", p.vc_L);
  require(std::isfinite(p.vp_L) && p.vp_L >= 0, "peripheral volume vp_L must be >= 0 L (0 = one compartment)", p.vp_L);
  require(std::isfinite(p.cl_L_per_s) && p.cl_L_per_s > 0, "clearance cl_L_per_s must be > 0 L/s", p.cl_L_per_s);
  require(std::isfinite(p.q_L_per_s) && p.q_L_per_s >= 0,
          "inter-compartmental clearance q_L_per_s must be >= 0 L/s (0 = one compartment)", p.q_L_per_s);
  require(std::isfinite(p.mw_g_per_mol) && p.mw_g_per_mol > 0, "molecular weight mw_g_per_mol must be > 0 g/mol",
          p.mw_g_per_mol);
}

// mg * 1e-3 [g/mg] / MW [g/mol] * 1e9 [nmol/mol]
double nmol_from_mg(double amount_mg, double mw_g_per_mol) { return amount_mg * 1e6 / mw_g_per_mol; }

MacroConstants macro_constants(const TwoCompartment& p) {
  check(p);
  const double k10 = p.cl_L_per_s / p.vc_L;  // [1/s]
  if (p.q_L_per_s == 0 || p.vp_L == 0) return {k10, k10, 0.0, 1.0};
  const double k12 = p.q_L_per_s / p.vc_L, k21 = p.q_L_per_s / p.vp_L;  // [1/s]
  // alpha - beta = d = sqrt((k10 + k12 - k21)^2 + 4 k12 k21): a sum of non-negative terms.
  const double e = k10 + k12 - k21;
  const double d = std::sqrt(e * e + 4 * k12 * k21);
  const double alpha = 0.5 * (k10 + k12 + k21 + d);
  const double beta = k10 * k21 / alpha;  // alpha beta = k10 k21 (no cancellation)
  // a d = alpha - k21 = (e + d)/2, b d = k21 - beta = (d - e)/2 and (a d)(b d) = k12 k21:
  // form the larger one directly and the smaller from the product (no cancellation).
  double ad, bd;
  if (e >= 0) {
    ad = 0.5 * (e + d);
    bd = k12 * k21 / ad;
  } else {
    bd = 0.5 * (d - e);
    ad = k12 * k21 / bd;
  }
  return {alpha, beta, ad / d, bd / d};
}

double terminal_half_life_s(const TwoCompartment& p) { return std::log(2.0) / macro_constants(p).beta_per_s; }

double plasma_nM(const TwoCompartment& p, const std::vector<Dose>& doses, double t_s) {
  const MacroConstants m = macro_constants(p);
  double c = 0;  // [nM]
  for (const Dose& dose : doses) {
    check_dose(dose);
    if (dose.time_s > t_s) continue;
    const double c0 = nmol_from_mg(dose.amount_mg, p.mw_g_per_mol) / p.vc_L;  // C(0+) [nM]
    const double u = t_s - dose.time_s;                                       // time since the dose [s]
    // At u = 0 the unit response is exactly 1 (a + b = 1 up to rounding).
    c += u == 0 ? c0 : c0 * (m.a * std::exp(-m.alpha_per_s * u) + m.b * std::exp(-m.beta_per_s * u));
  }
  return c;
}

double plasma_mean_nM(const TwoCompartment& p, const std::vector<Dose>& doses, double t0_s, double t1_s) {
  if (!(t1_s >= t0_s))
    throw std::invalid_argument("pk: plasma_mean_nM needs t1_s >= t0_s (got t0_s = " + num(t0_s) +
                                " s, t1_s = " + num(t1_s) + " s)");
  if (t1_s == t0_s) return plasma_nM(p, doses, t0_s);
  const MacroConstants m = macro_constants(p);
  double integral = 0;  // [nM s]
  for (const Dose& dose : doses) {
    check_dose(dose);
    if (dose.time_s >= t1_s) continue;  // a dose at t1 adds a jump at a single point only
    const double c0 = nmol_from_mg(dose.amount_mg, p.mw_g_per_mol) / p.vc_L;  // [nM]
    const double u0 = std::max(t0_s, dose.time_s) - dose.time_s;              // [s] since the dose
    const double u1 = t1_s - dose.time_s;                                     // [s]
    integral += c0 * (m.a * exp_diff(m.alpha_per_s, u0, u1) / m.alpha_per_s +
                      m.b * exp_diff(m.beta_per_s, u0, u1) / m.beta_per_s);
  }
  return integral / (t1_s - t0_s);
}

std::vector<Dose> expand_regimen(const Regimen& r, double t_end_s) {
  const std::string what = "regimen: ";
  require(std::isfinite(r.amount_mg) && r.amount_mg > 0, what + "amount_mg must be > 0 mg", r.amount_mg);
  require(std::isfinite(r.interval_s) && r.interval_s > 0, what + "interval_s must be > 0 s", r.interval_s);
  require(r.count >= 0, what + "count must be >= 0 (0 = until the end time)", r.count);
  require(std::isfinite(r.start_s) && r.start_s >= 0, what + "start_s must be >= 0 s", r.start_s);
  require(r.count > 0 || std::isfinite(t_end_s),
          what + "t_end_s must be finite when count is 0 (repeat until the end time)", t_end_s);
  std::vector<Dose> out;
  for (long k = 0; r.count == 0 || k < r.count; ++k) {
    const double t = r.start_s + static_cast<double>(k) * r.interval_s;  // [s], no drift
    if (t > t_end_s) break;
    out.push_back({t, r.amount_mg});
  }
  return out;
}

}  // namespace tme::pk
