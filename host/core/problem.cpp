#include "host/core/problem.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/implicit_line.hpp"
#include "kernels/reaction.hpp"

namespace tme {

GridGeom GridSpec::geom() const {
  GridGeom g;
  g.d = d;
  for (int a = 0; a < 3; ++a) g.inv_h2[a] = real(1.0 / (h[a] * h[a]));
  return g;
}

Problem::StepLimit Problem::explicit_step_limit() const {
  // Forward Euler keeps every new value a non-negative combination of old ones when
  // dt * (sum of stencil weights + reaction stiffness) <= 1; that is also the stability limit.
  StepLimit lim;
  double worst = 0;
  const int n[3] = {grid.d.nx, grid.d.ny, grid.d.nz};
  for (int s = 0; s < nspecies(); ++s) {
    const SpeciesCoeffs& sc = coeffs[s];
    double dmax = 0;
    const int nl = sc.uses_labels ? kMaxLabels : 1;
    for (int l = 0; l < nl; ++l) dmax = std::max(dmax, double(sc.D[l]));
    double w = 0;
    for (int a = 0; a < 3; ++a) {
      // Stencil weight of the worst cell along this axis, in units of D/h^2: an interior face
      // weighs 1, a face on the grid's boundary what boundary.hpp says (end_face_weight: a
      // fixed-value face 2, its value sitting half a cell away; no-flux 0; periodic 1).
      const double lo = end_face_weight(sc.bc[face_index(a, -1)], n[a]);
      const double hi = end_face_weight(sc.bc[face_index(a, +1)], n[a]);
      const double faces = n[a] == 1 ? lo + hi : std::max(1 + std::max(lo, hi), n[a] >= 3 ? 2.0 : 0.0);
      w += faces * dmax / (grid.h[a] * grid.h[a]);
    }
    double vmax = 0;
    if (sc.upt_slot >= 0) {
      const real* u = upt.data() + (size_t)sc.upt_slot * grid.nvox();
      vmax = *std::max_element(u, u + grid.nvox());
    }
    // reaction_stiffness in double: Vmax / Km can pass the range of real (1e30 / 1e-30).
    const double uptake = vmax > 0 ? vmax / double(sc.km) : 0.0;
    const double rate = w + double(sc.decay) + uptake;
    if (rate > worst) {
      worst = rate;
      lim.species = s;
      lim.diffusion = w;
      lim.decay = double(sc.decay);
      lim.uptake = uptake;
    }
  }
  if (worst > 0) lim.dt = 1.0 / worst;
  return lim;
}

void apply_holds(const Problem& p, std::vector<real>& state) {
  const long long nv = p.grid.nvox();
  for (int s = 0; s < p.nspecies(); ++s) {
    const int slot = p.coeffs[s].hold_slot;
    if (slot < 0) continue;
    const real* h = p.hold.data() + (size_t)slot * nv;
    for (long long v = 0; v < nv; ++v)
      if (h[v] == h[v]) state[(size_t)s * nv + v] = h[v];
  }
}

void Problem::check() const {
  const long long nv = grid.nvox();
  auto fail = [](const std::string& m) { throw std::invalid_argument("problem: " + m); };
  if (grid.d.nx < 1 || grid.d.ny < 1 || grid.d.nz < 1) fail("grid shape must be positive");
  for (double h : grid.h)
    if (!(h > 0)) fail("grid spacing must be > 0");
  if (nspecies() < 1 || nspecies() > kMaxSpecies) fail("between 1 and 64 species are supported");
  if ((int)coeffs.size() != nspecies()) fail("one SpeciesCoeffs per species expected");
  if ((long long)initial.size() != nspecies() * nv) fail("initial state must hold nspecies*nvox values");
  if (!labels.empty() && (long long)labels.size() != nv) fail("labels must be empty or hold nvox values");
  if ((long long)src.size() != nsrc * nv) fail("src must hold nsrc*nvox values");
  if ((long long)upt.size() != nupt * nv) fail("upt must hold nupt*nvox values");
  if ((long long)hold.size() != nhold * nv) fail("hold must hold nhold*nvox values");
  for (const auto& r : regions)
    if ((long long)r.mask.size() != nv) fail("region mask '" + r.name + "' must hold nvox values");
  const int nl = labels.empty() ? 1 : std::max<int>(1, (int)label_names.size());
  for (uint8_t l : labels)
    if (l >= nl) fail("label value out of range");
  for (const auto& sc : coeffs) {
    if (sc.src_slot >= nsrc || sc.upt_slot >= nupt) fail("source or uptake slot out of range");
    if (sc.hold_slot >= nhold) fail("hold slot out of range");
    if (sc.uses_labels && labels.empty()) fail("per-label diffusion needs a label map");
    for (int l = 0; l < kMaxLabels; ++l)
      if (sc.D[l] < 0) fail("diffusion coefficients must be >= 0");
    if (sc.decay < 0) fail("decay must be >= 0");
    if (sc.upt_slot >= 0 && !(sc.km > 0)) fail("Michaelis-Menten km must be > 0");
    for (int a = 0; a < 3; ++a)
      if ((sc.bc[face_index(a, -1)].type == kPeriodic) != (sc.bc[face_index(a, +1)].type == kPeriodic))
        fail("periodic boundaries must be set on both faces of an axis");
  }
  if (!(time.t_end > 0) || !(time.output_every > 0)) fail("end time and output interval must be > 0");
  if (time.max_step < 0 || !(time.cfl > 0) || time.cfl > 1) fail("max_step >= 0 and 0 < cfl <= 1 expected");
  const int integ = (int)time.integrator;
  if (integ < 0 || integ > 4) fail("unknown integrator");
  if (time.integrator != Integrator::kExplicit) {
    if (time.step < 0 || (time.step == 0 && !(time.tolerance > 0 && time.tolerance <= 0.5)))
      fail(std::string("integrator '") + integrator_name(time.integrator) +
           "' needs a step > 0, or step 0 (auto) with a tolerance in (0, 0.5]");
    for (int n : {grid.d.nx, grid.d.ny, grid.d.nz})
      if (n > kMaxImplicitLine && time.integrator != Integrator::kBe && time.integrator != Integrator::kTrBdf2)
        fail("implicit integrators support at most " + std::to_string(kMaxImplicitLine) + " cells per axis");
  } else if (time.step < 0) {
    fail("step must be >= 0");
  }
  if (time.terms_in_solve && time.integrator != Integrator::kBe && time.integrator != Integrator::kTrBdf2)
    fail("model terms in the solve need integrator 'be' or 'trbdf2'");
  try {
    model.check(nspecies(), grid.nvox());
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  // Held voxels are held by the transport operator; the model's per-voxel passes (reactions,
  // chemotaxis, fractions) do not know them, so a held field must stay out of those.
  const LocalReactions lr = nhold > 0 ? build_local_reactions(model, nspecies()) : LocalReactions{};
  for (int s = 0; s < nspecies(); ++s) {
    if (coeffs[s].hold_slot < 0) continue;
    bool touched = false;
    for (int m = 0; m < lr.args.nlocal; ++m) touched |= lr.args.local[m] == s;
    for (const Chemotaxis& c : model.chemotaxis) touched |= c.cell == s;
    for (const RadioPopulation& r : model.radio_pops) touched |= r.species == s || r.doomed == s;
    for (const RadioRelease& r : model.radio_releases) touched |= r.species == s;
    if (touched)
      fail("species '" + species[s].name +
           "' has held voxels and is also changed by model terms, "
           "chemotaxis or radiotherapy (not supported: hold a separate source field instead)");
  }
}

const char* integrator_name(Integrator i) {
  switch (i) {
    case Integrator::kExplicit: return "explicit";
    case Integrator::kLod: return "lod";
    case Integrator::kAdi: return "adi";
    case Integrator::kBe: return "be";
    case Integrator::kTrBdf2: return "trbdf2";
  }
  return "unknown";
}

bool parse_integrator(const std::string& name, Integrator* out) {
  for (Integrator i : {Integrator::kExplicit, Integrator::kLod, Integrator::kAdi, Integrator::kBe, Integrator::kTrBdf2})
    if (name == integrator_name(i)) {
      *out = i;
      return true;
    }
  return false;
}

Problem make_uniform_problem(Dims d, double h_um, int nspecies, double D, double decay) {
  Problem p;
  p.name = "uniform";
  p.grid.d = d;
  p.grid.h[0] = p.grid.h[1] = p.grid.h[2] = h_um;
  for (int s = 0; s < nspecies; ++s) {
    p.species.push_back({"s" + std::to_string(s), "1"});
    SpeciesCoeffs sc;
    sc.D[0] = real(D);
    sc.decay = real(decay);
    p.coeffs.push_back(sc);
  }
  p.initial.assign((size_t)nspecies * d.nvox(), real(0));
  p.time.t_end = 1;
  p.time.output_every = 1;
  return p;
}

}  // namespace tme
