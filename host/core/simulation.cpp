#include "host/core/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "kernels/implicit.hpp"

namespace tme {

double substep_count(double span, double dt_max) {
  // The 1e-9 slack keeps a step that divides the span exactly from being split into one more.
  return std::max(1.0, std::ceil(span / dt_max * (1 - 1e-9)));
}

Scheme implicit_scheme(Integrator it) {
  switch (it) {
    case Integrator::kLod: return Scheme::kLodEuler;
    case Integrator::kAdi: return Scheme::kDouglasAdi;
    case Integrator::kBe: return Scheme::kBackwardEuler;
    case Integrator::kTrBdf2: return Scheme::kTrBdf2;
    case Integrator::kExplicit: break;
  }
  throw std::invalid_argument(std::string("implicit_scheme: integrator '") + integrator_name(it) +
                              "' has no implicit scheme");
}

double fixed_step_limit(const Problem& p) {
  if (p.time.integrator != Integrator::kExplicit) return p.time.step;  // 0: 'auto'
  double dt = p.explicit_dt_limit() * p.time.cfl;
  if (p.time.max_step > 0) dt = std::min(dt, p.time.max_step);
  if (!std::isfinite(dt)) dt = p.time.output_every;  // nothing evolves: one step per output
  return dt;
}

std::vector<double> event_times(const Model& m) {
  std::vector<double> ev;
  for (const FractionEvent& f : m.fractions) ev.push_back(f.time_s);
  for (const Drug& d : m.drugs)
    for (const pk::Dose& dose : d.doses) ev.push_back(dose.time_s);
  std::sort(ev.begin(), ev.end());
  ev.erase(std::unique(ev.begin(), ev.end()), ev.end());
  return ev;
}

double output_count(const TimeControl& tc) {
  // The times i * every < end (1 - 1e-12), i = 0, 1, ..., then end (as output_times lists them).
  const double every = tc.output_every, lim = tc.t_end * (1 - 1e-12);
  if (!(every > 0) || !(lim > 0)) return 1;
  double k = std::ceil(lim / every);  // candidates i = 0 .. k-1; correct the rounding of i * every
  if (k > 1e15) return k + 1;         // beyond exact integers of interest: the count is approximate
  while (k > 0 && (k - 1) * every >= lim) k -= 1;
  while (k * every < lim) k += 1;
  return k + 1;
}

StateLimits state_limits(const Problem& p) {
  StateLimits lim;
  const bool adi = p.time.integrator == Integrator::kAdi;
  lim.lower.assign(p.nspecies(), adi ? -std::numeric_limits<real>::infinity() : real(0));
  lim.upper.assign(p.nspecies(), std::numeric_limits<real>::infinity());
  const Model& m = p.model;
  for (size_t q = 0; q < m.crowd_species.size() && q < m.crowd_volume.size(); ++q) {
    const int s = m.crowd_species[q];
    if (s >= 0 && s < p.nspecies() && m.crowd_volume[q] > 0) {
      const double bound = kCapacityBoundFactor / m.crowd_volume[q];
      if (bound < std::numeric_limits<real>::max()) lim.upper[s] = real(bound);
    }
  }
  return lim;
}

namespace {
std::string num(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}
}  // namespace

void check_state(const Problem& p, Backend& b, const StateLimits& lim, double t) {
  const long long q = b.first_bad_value(lim.lower, lim.upper);
  if (q < 0) return;
  const long long nv = p.grid.nvox();
  const int s = (int)(q / nv);
  const long long v = q % nv;
  const Dims& d = p.grid.d;
  const int i = (int)(v % d.nx), j = (int)((v / d.nx) % d.ny), k = (int)(v / ((long long)d.nx * d.ny));
  std::vector<real> state;
  b.read_state(state);  // the failure path only: one value is needed
  const double x = state.at(q);
  const std::string& su = p.species[s].unit;
  const std::string unit = su.empty() || su == "1" ? "" : " " + su;
  std::string why;
  if (x != x)
    why = "value is NaN";
  else if (std::isinf(x))
    why = std::string("value is ") + (x > 0 ? "+inf" : "-inf");
  else if (x < lim.lower[s])
    why = "value " + num(x) + unit + " is negative";
  else
    why = "value " + num(x) + unit + " is above " + num(lim.upper[s]) + unit + " (" + num(kCapacityBoundFactor) +
          " x the carrying capacity)";
  throw StateError("state check failed at t = " + num(t) + " s: field '" + p.species[s].name + "' at voxel (" +
                   std::to_string(i) + ", " + std::to_string(j) + ", " + std::to_string(k) +
                   ") (x, y, z = " + num(p.grid.center(0, i)) + ", " + num(p.grid.center(1, j)) + ", " +
                   num(p.grid.center(2, k)) + " um): " + why);
}

Simulation::Simulation(const Problem& p, Backend& b) : p_(p), b_(b) {
  limits_ = state_limits(p);
  const Model& m = p.model;
  coupled_ = m.has_reactions() || !m.chemotaxis.empty();
  events_ = event_times(m);
  if (p.time.integrator != Integrator::kExplicit) {
    // Unconditionally stable: the step is an accuracy choice, not a stability limit.
    const double cap = std::min(p.time.output_every, p.time.t_end);
    if (p.time.step > 0)
      dt_max_ = p.time.step;
    else if (p.time.tolerance > 0) {
      auto_ = true;
      auto_cap_ = cap;
      dt_max_ = auto_step(p.time.tolerance, cap, 0, 12);
    } else
      throw std::invalid_argument("Simulation: implicit integrators need time.step > 0 or a tolerance");
    return;
  }
  dt_max_ = fixed_step_limit(p);
}

void Simulation::restore_step_state(const StepState& s) {
  if (!(std::isfinite(s.t) && s.t >= 0) || s.steps < 0 || !(std::isfinite(s.dt_max) && s.dt_max > 0) ||
      s.next_fraction < 0 || s.next_fraction > (int)p_.model.fractions.size())
    throw std::invalid_argument("Simulation: step state out of range (t = " + num(s.t) + " s, " +
                                std::to_string(s.steps) + " steps, step " + num(s.dt_max) + " s, " +
                                std::to_string(s.next_fraction) + " fractions applied)");
  t_ = s.t;
  steps_ = s.steps;
  dt_max_ = s.dt_max;
  next_fraction_ = s.next_fraction;
}

void Simulation::set_dt_max(double dt) {
  if (!(std::isfinite(dt) && dt > 0)) throw std::invalid_argument("Simulation: step limit " + num(dt) + " s");
  dt_max_ = dt;
}

void Simulation::advance_to(double t, const Progress& progress, Landing landing) {
  advance_together({this}, t, progress, landing, nullptr);
}

void Simulation::advance_together(const std::vector<Simulation*>& sims, double t, const Progress& progress,
                                  Landing landing, StepCoupling* coupling) {
  if (sims.empty()) throw std::invalid_argument("advance_together: no simulation");
  Simulation& s0 = *sims[0];
  for (const Simulation* s : sims)
    if (s->t_ != s0.t_) throw std::invalid_argument("advance_together: the simulations are at different times");
  if (t < s0.t_) throw std::invalid_argument("advance_to: cannot step backwards");
  // Every lesion's due fractions, then the coupling hears of each fraction event once.
  const auto apply_fractions = [&] {
    const int before = s0.next_fraction_;
    for (Simulation* s : sims) s->apply_due_fractions();
    if (coupling)
      for (int i = before; i < s0.next_fraction_; ++i) coupling->fraction(s0.p_.model.fractions[(size_t)i]);
  };
  // Fractions due now (left by a call that stopped before them), unless this call is to stop
  // before the fractions of this very time.
  if (!(landing.before_events && t == s0.t_)) apply_fractions();
  if (sims.size() > 1) {  // lockstep: the smallest step limit
    double dt = s0.dt_max_;
    for (const Simulation* s : sims) dt = std::min(dt, s->dt_max_);
    for (Simulation* s : sims) s->dt_max_ = dt;
  }
  const std::vector<int> reduced = coupling ? coupling->reduced_fields() : std::vector<int>{};
  // Segments end at each event inside (t_, t) and at t.
  for (double e : s0.events_) {
    if (e <= s0.t_) continue;
    if (e >= t) break;
    advance_segment(sims, e, progress, coupling, reduced);
    apply_fractions();
  }
  advance_segment(sims, t, progress, coupling, reduced);
  if (!landing.before_events) apply_fractions();
}

void Simulation::step_once(const std::vector<Simulation*>& sims, double t0, double dt, long long i, long long n,
                           double t, StepCoupling* coupling, const std::vector<int>& reduced,
                           std::vector<std::vector<double>>& totals) {
  // Step i is [ts, tn], both computed from the segment's start (tn is the next step's ts
  // exactly, and the last step ends exactly at t): a coupling's state time, the end of
  // one step, is then the start of the next, never off by a rounding of ts + dt.
  const double ts = t0 + dt * double(i);
  const double tn = i + 1 == n ? t : t0 + dt * double(i + 1);
  for (size_t l = 0; l < sims.size(); ++l) {
    Simulation& s = *sims[l];
    const int lesion = (int)l;
    if (!s.coupled_) {
      if (s.p_.time.integrator == Integrator::kExplicit)
        s.b_.explicit_steps(dt, 1);
      else
        s.implicit_steps(dt, 1);
    } else if (s.p_.time.integrator == Integrator::kExplicit) {
      s.b_.explicit_steps(dt, 1);
      s.b_.chemotaxis(dt);
      s.b_.react(dt, s.inputs(lesion, ts, tn, coupling));
    } else {
      // Strang with the inner half-steps of neighbouring steps merged: the segment
      // starts and ends with a half reaction step, full ones in between.
      if (i == 0) s.b_.react(0.5 * dt, s.inputs(lesion, ts, ts + 0.5 * dt, coupling));
      if (s.p_.time.terms_in_solve) s.b_.solve_globals(s.inputs(lesion, ts, ts + dt, coupling));
      s.implicit_steps(dt, 1);
      s.b_.chemotaxis(dt);
      const double te = i + 1 == n ? t : ts + 1.5 * dt;
      s.b_.react(te - (ts + 0.5 * dt), s.inputs(lesion, ts + 0.5 * dt, te, coupling));
    }
  }
  if (coupling) {
    totals.resize(sims.size());
    for (size_t l = 0; l < sims.size(); ++l) {
      Simulation& s = *sims[l];
      s.b_.field_sums(reduced, totals[l]);
      const GridSpec& g = s.p_.grid;
      const double voxel_mm3 = g.h[0] * g.h[1] * g.h[2] * 1e-9;
      for (double& x : totals[l]) x *= voxel_mm3;
    }
    coupling->after_step(ts, tn, totals);
  }
}

void Simulation::advance_segment(const std::vector<Simulation*>& sims, double t, const Progress& progress,
                                 StepCoupling* coupling, const std::vector<int>& reduced) {
  Simulation& s0 = *sims[0];
  if (s0.auto_) {
    adaptive_segment(sims, t, progress, coupling, reduced);
    return;
  }
  const double span = t - s0.t_;
  if (span > 0) {
    // Equal sub-steps that land exactly on t; counted in double, refused beyond kMaxSteps.
    const double nd = substep_count(span, s0.dt_max_);
    if (!(nd + double(s0.steps_) <= kMaxSteps))
      throw std::runtime_error("Simulation: advancing from t = " + num(s0.t_) + " s to " + num(t) + " s takes " +
                               num(nd) + " steps of at most " + num(s0.dt_max_) + " s, beyond the limit of " +
                               num(kMaxSteps) + " steps per run");
    const long long n = (long long)nd;
    const double dt = span / double(n);
    const double t0 = s0.t_;
    const bool expl = s0.p_.time.integrator == Integrator::kExplicit;
    const long long check_every = s0.check_every_;
    // Step by step when a simulation has model terms or a coupling is there; else in chunks.
    bool stepwise = coupling != nullptr;
    for (const Simulation* s : sims) stepwise = stepwise || s->coupled_;
    std::vector<std::vector<double>> totals(sims.size());
    long long done = 0;
    while (done < n) {
      int chunk = (int)std::min<long long>(n - done, progress ? 32 : (1 << 20));
      if (check_every > 0) chunk = (int)std::min<long long>(chunk, check_every - s0.steps_ % check_every);
      if (!stepwise) {
        for (Simulation* s : sims) {
          if (expl)
            s->b_.explicit_steps(dt, chunk);
          else
            s->implicit_steps(dt, chunk);
        }
      } else {
        for (int q = 0; q < chunk; ++q) step_once(sims, t0, dt, done + q, n, t, coupling, reduced, totals);
      }
      done += chunk;
      for (Simulation* s : sims) {
        s->steps_ += chunk;
        if (check_every > 0 && s->steps_ % check_every == 0)
          tme::check_state(s->p_, s->b_, s->limits_, t0 + dt * double(done));
      }
      if (progress && done < n) progress(t0 + dt * double(done));
    }
  }
  for (Simulation* s : sims) s->t_ = t;
}

int Simulation::order() const {
  const Integrator it = p_.time.integrator;
  return it == Integrator::kAdi || it == Integrator::kTrBdf2 ? 2 : 1;
}

std::vector<double> step_floors(const Problem& p) {
  std::vector<double> f(p.nspecies(), kDefaultFloor);
  const std::vector<double>& atol = p.model.atol;
  for (int s = 0; s < p.nspecies() && s < (int)atol.size(); ++s)
    if (atol[s] > 0) f[s] = atol[s];
  return f;
}

double step_error(const std::vector<real>& c0, const std::vector<real>& y1, const std::vector<real>& y2, long long nv,
                  const std::vector<double>& floors, double tol, int order, int* worst) {
  double err = 0;
  if (worst) *worst = -1;
  for (size_t s = 0; s < floors.size(); ++s) {
    double diff = 0, n0 = 0, n2 = 0;
    for (long long v = (long long)s * nv; v < (long long)(s + 1) * nv; ++v) {
      const double d = double(y1[v]) - double(y2[v]);
      diff += d * d;
      n0 += double(c0[v]) * c0[v];
      n2 += double(y2[v]) * y2[v];
    }
    const double scale = tol * std::sqrt(std::max(n0, n2)) + floors[s] * std::sqrt(double(nv));
    double e = std::sqrt(diff) / (1 - std::pow(2.0, -order)) / scale;
    if (!std::isfinite(diff)) e = std::numeric_limits<double>::infinity();
    if (worst && (*worst < 0 || e > err)) *worst = (int)s;
    err = std::max(err, e);
  }
  return err;
}

void Simulation::adaptive_segment(const std::vector<Simulation*>& sims, double t1, const Progress& progress,
                                  StepCoupling* coupling, const std::vector<int>& reduced) {
  Simulation& s0 = *sims[0];
  const size_t ns = sims.size();
  const int p = s0.order();
  const double tol = s0.p_.time.tolerance;
  std::vector<std::vector<real>> c0(ns), y1(ns), y2(ns);
  std::vector<std::vector<double>> totals(ns);
  std::vector<std::vector<double>> floors(ns);
  for (size_t l = 0; l < ns; ++l) floors[l] = step_floors(sims[l]->p_);
  // The fields a coupling empties into the backends' running sums after every step: their
  // sums are part of the state a rejected step must restore.
  const std::vector<int> folded = coupling ? coupling->folded_fields() : std::vector<int>{};
  std::vector<std::vector<std::vector<double>>> f0(ns, std::vector<std::vector<double>>(folded.size()));
  const auto restore = [&](const std::vector<double>& saved) {
    for (size_t l = 0; l < ns; ++l) {
      sims[l]->b_.write_state(c0[l]);
      for (size_t k = 0; k < folded.size(); ++k) sims[l]->b_.write_folded(folded[k], f0[l][k]);
    }
    if (coupling) coupling->restore_state(saved);
  };
  while (s0.t_ < t1) {
    const double ts = s0.t_, rem = t1 - ts;
    // Land on t1 exactly: the whole rest when it fits in the proposed step, half of it when a
    // step of the proposal would leave less than one proposal (no sliver of a step at the end).
    double h = s0.dt_max_;
    if (rem <= h * (1 + 1e-9))
      h = rem;
    else if (rem < 2 * h)
      h = 0.5 * rem;
    const bool last = h == rem;
    if (!(double(s0.steps_) + 1 <= kMaxSteps))
      throw std::runtime_error("Simulation: the automatic step passed the limit of " + num(kMaxSteps) +
                               " steps per run at t = " + num(ts) + " s");
    for (size_t l = 0; l < ns; ++l) {
      sims[l]->b_.read_state(c0[l]);
      for (size_t k = 0; k < folded.size(); ++k) sims[l]->b_.read_folded(folded[k], f0[l][k]);
    }
    const std::vector<double> saved = coupling ? coupling->saved_state() : std::vector<double>{};
    // One step of h, then (from the same state) two of h/2; a solve that fails counts as a
    // rejection (a smaller step converges more easily).
    double err = std::numeric_limits<double>::infinity();
    int worst = -1;
    try {
      const double te = last ? t1 : ts + h;
      step_once(sims, ts, h, 0, 1, te, coupling, reduced, totals);
      for (size_t l = 0; l < ns; ++l) sims[l]->b_.read_state(y1[l]);
      restore(saved);
      for (int i = 0; i < 2; ++i) step_once(sims, ts, 0.5 * h, i, 2, te, coupling, reduced, totals);
      err = 0;
      for (size_t l = 0; l < ns; ++l) {
        sims[l]->b_.read_state(y2[l]);
        int w = -1;
        const double e = step_error(c0[l], y1[l], y2[l], sims[l]->p_.grid.nvox(), floors[l], tol, p, &w);
        if (worst < 0 || e > err) worst = w;
        err = std::max(err, e);
      }
    } catch (const std::runtime_error&) {
      err = std::numeric_limits<double>::infinity();
    }
    const bool accept = err <= 1;
    s0.log_.push_back({ts, h, err, !accept, worst});
    double factor = err > 0 ? kSafety * std::pow(err, -1.0 / (p + 1)) : kMaxGrowth;
    factor = std::clamp(factor, kMaxShrink, accept ? kMaxGrowth : kRejectShrink);
    const double next = std::min(s0.auto_cap_, h * factor);
    for (Simulation* s : sims) s->dt_max_ = next;
    if (!accept) {
      restore(saved);
      if (!(next > kMinStepFraction * std::max(1.0, std::abs(ts))))
        throw std::runtime_error(
            "Simulation: the automatic step fell to " + num(next) + " s at t = " + num(ts) +
            " s without meeting time.tolerance " + num(tol) +
            (std::isfinite(err) ? " (error estimate " + num(err) + " x the tolerance)" : " (the step failed)"));
      continue;
    }
    for (Simulation* s : sims) {
      s->t_ = last ? t1 : ts + h;
      s->steps_ += 1;
      if (s->check_every_ > 0 && s->steps_ % s->check_every_ == 0) tme::check_state(s->p_, s->b_, s->limits_, s->t_);
    }
    if (progress && s0.t_ < t1) progress(s0.t_);
  }
  for (Simulation* s : sims) s->t_ = t1;
}

std::vector<double> Simulation::inputs(int lesion, double t0, double t1, StepCoupling* coupling) const {
  std::vector<double> g = globals_mean(t0, t1);
  if (coupling)
    coupling->input_means(lesion, t0, t1, g);
  else
    for (size_t i = 0; i < p_.model.globals.size(); ++i)
      if (p_.model.globals[i].kind == GlobalInput::Kind::kSystemic)
        global_mean(p_.model, (int)i, t0, t1);  // throws: nothing supplies it
  return g;
}

void Simulation::apply_due_fractions() {
  const Model& m = p_.model;
  std::vector<real> dose;
  while (next_fraction_ < (int)m.fractions.size() && m.fractions[next_fraction_].time_s <= t_) {
    const FractionEvent& f = m.fractions[next_fraction_];
    const RadiationPlan& plan = m.plans.at(f.plan);
    const double scale = f.dose_Gy / plan.nominal_Gy;
    dose.resize(plan.dose.size());
    for (size_t v = 0; v < dose.size(); ++v) dose[v] = real(plan.dose[v] * scale);
    b_.apply_fraction(dose);
    ++next_fraction_;
    if (on_fraction_) on_fraction_(f, dose);
  }
}

std::vector<double> Simulation::globals_mean(double t0, double t1) const {
  std::vector<double> g(p_.model.globals.size());
  for (size_t i = 0; i < g.size(); ++i)
    g[i] = p_.model.globals[i].kind == GlobalInput::Kind::kSystemic ? 0.0 : global_mean(p_.model, (int)i, t0, t1);
  return g;
}

void Simulation::implicit_steps(double dt, int n) { b_.implicit_steps(implicit_scheme(p_.time.integrator), dt, n); }

namespace {
// Stands in for the systemic coupling in the first step proposal, which is made before a
// coupling is attached: the kSystemic inputs stay at zero (globals_mean), nothing is reduced.
class NoSystemicInputs final : public StepCoupling {
 public:
  std::vector<int> reduced_fields() const override { return {}; }
  void input_means(int, double, double, std::vector<double>&) override {}
  void after_step(double, double, const std::vector<std::vector<double>>&) override {}
};
}  // namespace

double Simulation::auto_step(double tol, double cap, double dt0, int iterations) {
  // The controller's estimate (adaptive_segment) on the state as loaded: one whole split step
  // of dt (reactions, transport with the solve's globals for its interval, chemotaxis) against
  // two of dt/2 from the same state, step_error on every field; a failed solve counts as an
  // infinite error. Iterate dt <- dt * kSafety * err^(-1/(p+1)), the factor in [0.1, 10],
  // until it settles (within 25%) or stays at the cap.
  const int p = order();
  const long long nv = p_.grid.nvox();
  const std::vector<double> floors = step_floors(p_);
  bool systemic = false;
  for (const GlobalInput& g : p_.model.globals) systemic = systemic || g.kind == GlobalInput::Kind::kSystemic;
  NoSystemicInputs none;
  StepCoupling* coupling = systemic ? &none : nullptr;
  const std::vector<Simulation*> self{this};
  std::vector<std::vector<double>> totals;
  std::vector<real> c0, y1, y2;
  b_.read_state(c0);
  const double lim = p_.explicit_dt_limit();
  double dt = dt0 > 0 ? dt0 : (std::isfinite(lim) ? std::min(cap, 25 * lim) : cap);
  for (int it = 0; it < iterations; ++it) {
    double err = std::numeric_limits<double>::infinity();
    try {
      b_.write_state(c0);
      step_once(self, t_, dt, 0, 1, t_ + dt, coupling, {}, totals);
      b_.read_state(y1);
      b_.write_state(c0);
      for (int i = 0; i < 2; ++i) step_once(self, t_, 0.5 * dt, i, 2, t_ + dt, coupling, {}, totals);
      b_.read_state(y2);
      err = step_error(c0, y1, y2, nv, floors, tol, p, nullptr);
    } catch (const std::runtime_error&) {
      err = std::numeric_limits<double>::infinity();
    }
    const double factor = err > 0 ? std::clamp(kSafety * std::pow(err, -1.0 / (p + 1)), 0.1, 10.0) : 10.0;
    const double next = std::min(cap, dt * factor);
    const bool settled = std::abs(std::log(next / dt)) < std::log(1.25);
    dt = next;
    if (settled || (dt == cap && factor >= 1)) break;
  }
  b_.write_state(c0);
  return dt;
}

std::vector<double> Simulation::output_times() const {
  std::vector<double> ts;
  const double every = p_.time.output_every, end = p_.time.t_end;
  for (long long i = 0;; ++i) {
    const double t = i * every;
    if (t >= end * (1 - 1e-12)) break;
    ts.push_back(t);
  }
  ts.push_back(end);
  return ts;
}

}  // namespace tme
