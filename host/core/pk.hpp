// Antibody plasma pharmacokinetics: a linear two-compartment model with IV
// bolus doses into the central (plasma) compartment, solved in closed form (bi-exponential
// per dose, superposition over doses). Host only; no scene, no stepper.
//
// Model (amounts a_c, a_p [nmol] in central and peripheral compartment):
//   da_c/dt = -(k10 + k12) a_c + k21 a_p,   da_p/dt = k12 a_c - k21 a_p,
//   k10 = CL/Vc, k12 = Q/Vc, k21 = Q/Vp [1/s]; a bolus adds its amount to a_c at its time.
// A dose D [nmol] given at t_d contributes, for u = t - t_d >= 0,
//   C(u) = D/Vc (A exp(-alpha u) + B exp(-beta u)),   A + B = 1,
// with the macro constants alpha > beta > 0 (alpha + beta = k10 + k12 + k21,
// alpha beta = k10 k21). Q = 0 or Vp = 0 is the one-compartment model C(u) = D/Vc exp(-k10 u).
//
// Units: volumes [L], clearances [L/s], times [s] of run time, doses [mg], molecular weight
// [g/mol], concentrations [nM] = [nmol/L]. 1 mg of antibody = 1e6 / MW nmol.
//
// Published parameters (product labels: the prescribing information of Keytruda, Opdivo,
// Tecentriq and Yervoy), 1 L/day = 1/86400 L/s:
//   pembrolizumab  Vss about 6.0 L, CL about 0.2 L/day, terminal t1/2 about 22 days
//   nivolumab      Vss 6.6 L, t1/2 about 25 days
//   atezolizumab   Vc 3.28 L, Vss (= Vc + Vp) 6.91 L, CL 0.20 L/day, t1/2 about 27 days
//   ipilimumab     t1/2 15.4 days
// IgG molecular weight about 146-150 kDa (146000 g/mol by default).
//
// Errors: std::invalid_argument with a message naming the parameter and the accepted values.
#pragma once
#include <vector>

namespace tme::pk {

struct TwoCompartment {
  double vc_L = 0;               // central (plasma) volume [L], > 0
  double vp_L = 0;               // peripheral volume [L], >= 0 (0 = one compartment)
  double cl_L_per_s = 0;         // clearance from the central compartment [L/s], > 0
  double q_L_per_s = 0;          // inter-compartmental clearance [L/s], >= 0 (0 = one compartment)
  double mw_g_per_mol = 146000;  // molecular weight [g/mol] (IgG about 146000-150000), > 0
};

// An IV bolus into the central compartment.
struct Dose {
  double time_s = 0;     // time of the bolus [s] of run time
  double amount_mg = 0;  // amount [mg], >= 0
};

// Macro constants of the unit response: C(u) / C(0+) = a exp(-alpha u) + b exp(-beta u).
// One compartment: alpha = beta = k10, a = 0, b = 1.
struct MacroConstants {
  double alpha_per_s = 0;  // fast (distribution) rate [1/s]
  double beta_per_s = 0;   // slow (terminal) rate [1/s]
  double a = 0;            // weight of the fast exponential [1], in [0, 1]
  double b = 0;            // weight of the slow exponential [1], in [0, 1], a + b = 1
};

// Throws std::invalid_argument unless vc > 0, vp >= 0, cl > 0, q >= 0, mw > 0 (all finite).
void check(const TwoCompartment& p);

// Amount [nmol] of `amount_mg` [mg] of a molecule of molecular weight `mw_g_per_mol` [g/mol].
double nmol_from_mg(double amount_mg, double mw_g_per_mol);

MacroConstants macro_constants(const TwoCompartment& p);

// Terminal half-life ln 2 / beta [s].
double terminal_half_life_s(const TwoCompartment& p);

// Central (plasma) concentration [nM] at time t_s [s]: the sum over the doses with
// time_s <= t_s (a dose at exactly t_s counts: right-continuous). Doses may be in any order.
double plasma_nM(const TwoCompartment& p, const std::vector<Dose>& doses, double t_s);

// Exact time average [nM] of the plasma concentration over [t0_s, t1_s] [s] (analytic
// integral; doses inside the interval are integrated from their time). t1_s == t0_s gives
// plasma_nM(t0_s); t1_s < t0_s throws.
double plasma_mean_nM(const TwoCompartment& p, const std::vector<Dose>& doses, double t0_s, double t1_s);

// A repeated dosing schedule: amount_mg every interval_s from start_s.
struct Regimen {
  double amount_mg = 0;   // amount per dose [mg], > 0
  double interval_s = 0;  // time between doses [s], > 0
  int count = 0;          // number of doses, >= 0; 0 = repeat until the end time
  double start_s = 0;     // time of the first dose [s] of run time, >= 0
};

// Doses at start, start + interval, ... up to and including t_end_s [s], at most `count`
// (count 0: all up to t_end_s, which must then be finite). Throws std::invalid_argument for
// amount <= 0, interval <= 0, start < 0, count < 0 or non-finite values.
std::vector<Dose> expand_regimen(const Regimen& r, double t_end_s);

}  // namespace tme::pk
