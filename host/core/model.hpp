// The coupled tumour-microenvironment model of a problem, as plain data in internal units:
// reaction terms (kernels/term_types.hpp), chemotaxis (kernels/chemotaxis.hpp), uniform inputs
// from the systemic compartments (plasma antibody levels, blood T cells), and radiotherapy
// (plans, fractions, responses; kernels/fraction.hpp). Built by the scene loader or by tests.
// Species indices here are FIELD indices of the problem (0..nspecies-1).
#pragma once
#include <string>
#include <vector>

#include "host/core/pk.hpp"
#include "kernels/chemotaxis_types.hpp"
#include "kernels/coeffs.hpp"
#include "kernels/fraction_types.hpp"
#include "kernels/term_types.hpp"

namespace tme {

// A uniform input the terms read as globals[i] (kTermExchange, kTermInflux).
// kSystemic: owned by the systemic compartments of the run, supplied per lesion and reaction
// pass by the run's StepCoupling (host/core/coupling.hpp); global_value/global_mean refuse it.
struct GlobalInput {
  enum class Kind { kConstant, kTable, kPlasma, kSystemic };
  std::string name;  // e.g. "plasma_antiPD1", "blood_CD8"
  std::string unit;  // unit of the value, e.g. "nM", "cells/mm^3"
  Kind kind = Kind::kConstant;
  double value = 0;             // kConstant
  std::vector<double> times_s;  // kTable: piecewise linear in time, held beyond the ends
  std::vector<double> values;
  int drug = -1;  // kPlasma: index into Model::drugs (value in nM)
};

// An antibody given by intravenous doses, with its plasma pharmacokinetics.
struct Drug {
  std::string name;
  pk::TwoCompartment pk;
  std::vector<pk::Dose> doses;  // expanded, sorted by time
};

// A dose distribution: dose per fraction [Gy] per voxel when a fraction of `nominal_Gy` is
// delivered; a fraction of d Gy delivers dose * d / nominal_Gy.
struct RadiationPlan {
  std::string name;
  double nominal_Gy = 1;
  std::vector<real> dose;  // nvox [Gy] (4 bytes per voxel in float32)
};

struct FractionEvent {
  double time_s = 0;   // delivery time [s] of run time
  int plan = 0;        // index into Model::plans
  double dose_Gy = 0;  // prescribed dose of this fraction [Gy]
};

struct Model {
  std::vector<Term> terms;
  std::vector<int> crowd_species;    // populations occupying volume
  std::vector<double> crowd_volume;  // volume fraction per unit density [1/(cells/mm^3)]
  std::vector<Chemotaxis> chemotaxis;
  double rtol = 1e-3;        // per-voxel reaction sub-step tolerance (relative)
  std::vector<double> atol;  // per species [its unit]; empty = 1e-9 each
  std::vector<GlobalInput> globals;
  // The populations (fields in cells/mm^3) whose totals form the tumour burden [cells]
  // (observables.csv's "burden [cells]" columns); empty: no burden reported.
  std::vector<int> burden;
  std::vector<Drug> drugs;

  // radiotherapy
  std::vector<RadioPopulation> radio_pops;
  std::vector<RadioRelease> radio_releases;
  int oxygen = -1;            // oxygen species for the OER, or -1
  double oxygen_to_mmHg = 1;  // pO2 [mmHg] per unit of the oxygen field
  double oer_max = 3, oer_k_mmHg = 3;
  std::vector<RadiationPlan> plans;
  std::vector<FractionEvent> fractions;  // sorted by time
  std::vector<double> alpha_beta_Gy;     // per tissue label, for BED/EQD2 outputs

  bool has_reactions() const { return !terms.empty(); }
  // Throws std::invalid_argument naming the first inconsistency (indices, sizes, limits).
  void check(int nspecies, long long nvox) const;
};

// Builders for code-built models (tests, benchmarks): a term of `kind` on `target` with
// source `src` (-1 none) and parameters p0..p2 in slots 0..2 (TermParam: the rate, then e.g.
// the growth law, km or base, and top; units per kind in kernels/term_types.hpp), and a
// factor of `kind` on field `a` with half-maximum K and Hill coefficient n.
inline Term make_term(int kind, int target, int src, double p0, double p1 = 0, double p2 = 0) {
  Term t;
  t.kind = kind;
  t.target = target;
  t.src = src;
  t.p[0] = real(p0);
  t.p[1] = real(p1);
  t.p[2] = real(p2);
  return t;
}
inline Factor make_factor(int kind, int a, double K, double n = 1) {
  Factor f;
  f.kind = kind;
  f.a = a;
  f.K = real(K);
  f.n = real(n);
  return f;
}

// The reaction table in kernel form: terms remapped to local slots (the fields any term
// touches), crowding, tolerances. `globals` are left at 0 (set per step).
struct LocalReactions {
  ReactionArgs args;  // args.terms is null: point it at `terms` (or a device copy)
  std::vector<Term> terms;
};
LocalReactions build_local_reactions(const Model& m, int nspecies);

// Copies the per-step globals into the kernel arguments; throws when the count differs.
void set_globals(ReactionArgs& a, const std::vector<double>& globals, int expected);

// Value of global input g at time t [s], and its mean over [t0, t1] [its unit].
double global_value(const Model& m, int g, double t_s);
double global_mean(const Model& m, int g, double t0_s, double t1_s);

// The fraction kernel's arguments (fields and dose pointers left null).
FractionArgs build_fraction_args(const Model& m);

// Chemotaxis passes, one per moving population (in, out and dt left unset); periodic axes
// follow the population's boundary conditions.
std::vector<ChemotaxisArgs> build_chemotaxis_args(const Model& m, const GridGeom& g, const double h_um[3],
                                                  const std::vector<SpeciesCoeffs>& coeffs);
// Number of equal sub-steps keeping each pass of dt [s] within its positivity limit.
int chemotaxis_substeps(const ChemotaxisArgs& a, double dt);

}  // namespace tme
