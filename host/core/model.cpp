#include "host/core/model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/chemotaxis.hpp"

namespace tme {
namespace {

[[noreturn]] void fail(const std::string& m) { throw std::invalid_argument("model: " + m); }

void check_species(int s, int nspecies, const std::string& what, bool optional = false) {
  if (optional && s == -1) return;
  if (s < 0 || s >= nspecies)
    fail(what + " refers to field " + std::to_string(s) + " (expected 0.." + std::to_string(nspecies - 1) + ")");
}

}  // namespace

void Model::check(int nspecies, long long nvox) const {
  if ((int)terms.size() > kMaxTerms)
    fail(std::to_string(terms.size()) + " terms (at most " + std::to_string(kMaxTerms) + ")");
  for (size_t q = 0; q < terms.size(); ++q) {
    const Term& t = terms[q];
    const std::string w = "term " + std::to_string(q);
    const TermRow* row = term_row(t.kind);
    if (!row) fail(w + " has an unknown kind");
    check_species(t.target, nspecies, w + " target");
    check_species(t.src, nspecies, w + " source", true);
    bool needs_src = false, needs_global = false;
    for (const TermKey& k : row->keys) {
      if (!k.key) break;
      needs_src = needs_src ||
                  ((k.type == TermKeyType::kBy || k.type == TermKeyType::kVessels) && k.need == TermNeed::kRequired);
      needs_global = needs_global || k.type == TermKeyType::kGlobal;
      if (k.type == TermKeyType::kChoice) {  // p[slot] is the index of one of the choices
        int n = 1;
        for (const char* c = k.choices; *c; ++c) n += *c == '|';
        const real x = t.p[k.slot];
        if (!(x >= 0 && x < n && x == real(int(x))))
          fail(w + " " + k.key + " must be one of " + std::to_string(n) + " choices (" + k.choices + ")");
      }
    }
    if (needs_src && t.src < 0) fail(w + " needs a source population or vessel field");
    if (needs_global)
      if (t.global < 0 || t.global >= (int)globals.size())
        fail(w + " refers to global input " + std::to_string(t.global));
    if (t.nfactors < 0 || t.nfactors > kMaxTermFactors) fail(w + " has too many factors");
    if (t.nproducts < 0 || t.nproducts > kMaxTermProducts) fail(w + " has too many products");
    for (int f = 0; f < t.nfactors; ++f) {
      const Factor& fc = t.f[f];
      if (fc.kind != kFactorRoom) check_species(fc.a, nspecies, w + " factor input");
      check_species(fc.b, nspecies, w + " factor divisor", true);
      for (int j = 0; j < 2; ++j) {
        check_species(fc.ab[j], nspecies, w + " factor antibody", true);
        if (fc.ab[j] >= 0 && !(fc.kd[j] > 0)) fail(w + " factor Kd must be > 0");
      }
      if (fc.kind != kFactorRoom && !(fc.K > 0)) fail(w + " factor half-maximum must be > 0");
      if (!(fc.n > 0)) fail(w + " factor Hill coefficient must be > 0");
    }
    for (int m = 0; m < t.nproducts; ++m) check_species(t.prod[m].species, nspecies, w + " product");
    if (!(t.rate() >= 0) || !std::isfinite(double(t.rate()))) fail(w + " rate must be finite and >= 0");
  }
  if (crowd_species.size() != crowd_volume.size()) fail("crowding lists differ in length");
  if ((int)crowd_species.size() > kMaxCrowding) fail("too many crowding populations");
  for (int s : crowd_species) check_species(s, nspecies, "crowding");
  if ((int)chemotaxis.size() > kMaxChemotaxis) fail("too many chemotaxis terms");
  for (const Chemotaxis& c : chemotaxis) {
    check_species(c.cell, nspecies, "chemotaxis cell");
    if (c.signal == kSignalCrowding) {
      if (crowd_species.empty()) fail("pressure needs crowding populations (a capacity)");
    } else {
      check_species(c.signal, nspecies, "chemotaxis signal");
    }
    if (!(c.vmax > 0) || !(c.chi >= 0)) fail("chemotaxis needs vmax > 0 and chi >= 0");
  }
  if (!atol.empty() && (int)atol.size() != nspecies) fail("atol needs one value per field");
  if (!(rtol > 0 && rtol < 1)) fail("rtol must be in (0, 1)");
  for (const GlobalInput& g : globals) {
    if (g.kind == GlobalInput::Kind::kPlasma && (g.drug < 0 || g.drug >= (int)drugs.size()))
      fail("global '" + g.name + "' refers to a missing drug");
    if (g.kind == GlobalInput::Kind::kTable && (g.times_s.empty() || g.times_s.size() != g.values.size()))
      fail("global '" + g.name + "' needs a non-empty table of times and values");
  }
  if ((int)globals.size() > kMaxGlobals) fail("too many global inputs");
  if ((int)radio_pops.size() > kMaxRadioPops) fail("too many irradiated populations");
  if ((int)radio_releases.size() > kMaxRadioReleases) fail("too many radiation releases");
  for (const RadioPopulation& r : radio_pops) {
    check_species(r.species, nspecies, "irradiated population");
    check_species(r.doomed, nspecies, "doomed pool", true);
  }
  for (const RadioRelease& r : radio_releases) {
    check_species(r.species, nspecies, "radiation release");
    check_species(r.per, nspecies, "radiation release density", true);
  }
  check_species(oxygen, nspecies, "oxygen", true);
  for (const RadiationPlan& pl : plans)
    if ((long long)pl.dose.size() != nvox || !(pl.nominal_Gy > 0))
      fail("plan '" + pl.name + "' needs one dose per voxel and a nominal dose > 0");
  for (size_t i = 0; i < fractions.size(); ++i) {
    if (fractions[i].plan < 0 || fractions[i].plan >= (int)plans.size())
      fail("fraction " + std::to_string(i) + " refers to a missing plan");
    if (i && fractions[i].time_s < fractions[i - 1].time_s) fail("fractions are not sorted by time");
  }
  (void)build_local_reactions(*this, nspecies);  // checks the local field count
}

LocalReactions build_local_reactions(const Model& m, int nspecies) {
  LocalReactions lr;
  ReactionArgs& a = lr.args;
  std::vector<int> slot(nspecies, -1);
  auto local = [&](int s) {
    if (s < 0) return -1;
    if (slot[s] < 0) {
      if (a.nlocal >= kMaxReactSpecies)
        fail("the terms touch more than " + std::to_string(kMaxReactSpecies) + " fields");
      slot[s] = a.nlocal;
      a.local[a.nlocal] = s;
      a.atol[a.nlocal] = real(m.atol.empty() ? 1e-9 : m.atol[s]);
      ++a.nlocal;
    }
    return slot[s];
  };
  if (m.terms.empty()) return lr;
  for (Term t : m.terms) {
    t.target = local(t.target);
    t.src = local(t.src);
    for (int f = 0; f < t.nfactors; ++f) {
      t.f[f].a = local(t.f[f].a);
      t.f[f].b = local(t.f[f].b);
      for (int j = 0; j < 2; ++j) t.f[f].ab[j] = local(t.f[f].ab[j]);
    }
    for (int p = 0; p < t.nproducts; ++p) t.prod[p].species = local(t.prod[p].species);
    lr.terms.push_back(t);
  }
  a.ncrowd = (int)m.crowd_species.size();
  for (int q = 0; q < a.ncrowd; ++q) {
    a.crowd_species[q] = local(m.crowd_species[q]);
    a.crowd_volume[q] = real(m.crowd_volume[q]);
  }
  a.nterms = (int)lr.terms.size();
  a.rtol = real(m.rtol);
  return lr;
}

void set_globals(ReactionArgs& a, const std::vector<double>& globals, int expected) {
  if ((int)globals.size() != expected)
    throw std::invalid_argument("react: " + std::to_string(globals.size()) + " global inputs given, " +
                                std::to_string(expected) + " expected");
  for (int g = 0; g < expected; ++g) a.globals[g] = real(globals[g]);
}

namespace {
[[noreturn]] void throw_systemic(const GlobalInput& in) {
  throw std::invalid_argument("uniform input '" + in.name +
                              "' comes from the systemic compartments: the run needs a systemic coupling");
}
}  // namespace

double global_value(const Model& m, int g, double t) {
  const GlobalInput& in = m.globals.at(g);
  switch (in.kind) {
    case GlobalInput::Kind::kConstant: return in.value;
    case GlobalInput::Kind::kSystemic: throw_systemic(in);
    case GlobalInput::Kind::kPlasma: return pk::plasma_nM(m.drugs.at(in.drug).pk, m.drugs.at(in.drug).doses, t);
    case GlobalInput::Kind::kTable: {
      const auto& ts = in.times_s;
      if (t <= ts.front()) return in.values.front();
      if (t >= ts.back()) return in.values.back();
      const size_t i = std::upper_bound(ts.begin(), ts.end(), t) - ts.begin();
      const double w = (t - ts[i - 1]) / (ts[i] - ts[i - 1]);
      return in.values[i - 1] + w * (in.values[i] - in.values[i - 1]);
    }
  }
  return 0;
}

double global_mean(const Model& m, int g, double t0, double t1) {
  const GlobalInput& in = m.globals.at(g);
  if (t1 <= t0) return global_value(m, g, t0);
  switch (in.kind) {
    case GlobalInput::Kind::kConstant: return in.value;
    case GlobalInput::Kind::kSystemic: throw_systemic(in);
    case GlobalInput::Kind::kPlasma:
      return pk::plasma_mean_nM(m.drugs.at(in.drug).pk, m.drugs.at(in.drug).doses, t0, t1);
    case GlobalInput::Kind::kTable: {
      // Exact mean of the piecewise-linear table: trapezoids between t0, the knots inside and t1.
      std::vector<double> pts{t0};
      for (double t : in.times_s)
        if (t > t0 && t < t1) pts.push_back(t);
      pts.push_back(t1);
      double s = 0;
      for (size_t i = 1; i < pts.size(); ++i)
        s += 0.5 * (global_value(m, g, pts[i - 1]) + global_value(m, g, pts[i])) * (pts[i] - pts[i - 1]);
      return s / (t1 - t0);
    }
  }
  return 0;
}

FractionArgs build_fraction_args(const Model& m) {
  FractionArgs a;
  a.npop = (int)m.radio_pops.size();
  for (int q = 0; q < a.npop; ++q) a.pop[q] = m.radio_pops[q];
  a.nrel = (int)m.radio_releases.size();
  for (int r = 0; r < a.nrel; ++r) a.rel[r] = m.radio_releases[r];
  a.oxygen = m.oxygen;
  a.oxygen_to_mmHg = real(m.oxygen_to_mmHg);
  a.oer_max = real(m.oer_max);
  a.oer_k_mmHg = real(m.oer_k_mmHg);
  return a;
}

std::vector<ChemotaxisArgs> build_chemotaxis_args(const Model& m, const GridGeom& g, const double h_um[3],
                                                  const std::vector<SpeciesCoeffs>& coeffs) {
  std::vector<ChemotaxisArgs> out;
  for (const Chemotaxis& c : m.chemotaxis) {
    ChemotaxisArgs* a = nullptr;
    for (auto& e : out)
      if (e.cx[0].cell == c.cell) a = &e;
    if (!a) {
      out.emplace_back();
      a = &out.back();
      a->g = g;
      for (int ax = 0; ax < 3; ++ax) {
        a->h[ax] = real(h_um[ax]);
        a->periodic[ax] = axis_periodic(coeffs.at(c.cell), ax);
      }
    }
    if (a->ncx >= kMaxChemotaxis) fail("too many chemotaxis terms for one population");
    a->cx[a->ncx++] = c;
    if (c.signal == kSignalCrowding) {
      a->pressure = 1;
      a->ncrowd = (int)m.crowd_species.size();
      for (int q = 0; q < a->ncrowd; ++q) {
        a->crowd_species[q] = m.crowd_species[q];
        a->crowd_volume[q] = real(m.crowd_volume[q]);
      }
    }
  }
  return out;
}

int chemotaxis_substeps(const ChemotaxisArgs& a, double dt) {
  const double lim = 0.95 * double(chemotaxis_dt_limit(a));
  const double n = std::ceil(dt / lim);  // counted in double: a huge drift must not wrap an int
  if (!(n <= 1e9))
    throw std::runtime_error("chemotaxis: a step of " + std::to_string(dt) + " s needs " + std::to_string(n) +
                             " sub-steps of at most " + std::to_string(lim) + " s (more than 1e9)");
  return std::max(1, (int)n);
}

}  // namespace tme
