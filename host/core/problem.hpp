// The fully resolved problem the solver runs: plain data in internal units
// (um, s, each species' own concentration unit). Built from a scene (host/scene) or
// directly by tests and benchmarks. No YAML, no VTK, no strings reach the kernels.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "host/core/model.hpp"
#include "kernels/coeffs.hpp"

namespace tme {

struct GridSpec {
  Dims d;                        // cells per axis
  double h[3] = {1, 1, 1};       // spacing [um]
  double origin[3] = {0, 0, 0};  // world position of the grid's lower corner [um]
  long long nvox() const { return d.nvox(); }
  // World coordinate of a voxel centre [um].
  double center(int axis, int i) const { return origin[axis] + (i + 0.5) * h[axis]; }
  GridGeom geom() const;
};

struct SpeciesInfo {
  std::string name;  // e.g. "IFNg"
  std::string unit;  // e.g. "ng/mL": the unit all values of this species are stored in
};

struct NamedMask {
  std::string name;
  std::vector<uint8_t> mask;  // nvox, 1 inside (1 byte per voxel)
};

// Time integrator of the diffusion-reaction system.
//   kExplicit: fused forward Euler under the stability limit (the reference; default).
//   kLod:      locally one-dimensional backward Euler sweeps (x, y, z) with the reactions split
//              over them (the BioFVM scheme): first order in time, unconditionally stable,
//              positivity preserving; steady states carry an O(dt) splitting error.
//   kAdi:      exponentially fitted Douglas ADI (Crank-Nicolson based) with the reactions in
//              its operator: second order in time, unconditionally stable, steady states exact
//              at any step; not positivity preserving at large steps.
//   kBe:       coupled 3D backward Euler, one linear solve per step and species with the decay
//              and linearised uptake in its operator: first order in time, unconditionally
//              stable, positivity preserving, steady states exact at any step.
//   kTrBdf2:   TR-BDF2 (gamma = 2 - sqrt 2) with the operator of kBe, two solves per step and
//              species: second order in time for the linear part, L-stable, steady states exact
//              at any step; a step that leaves a value below zero beyond round-off is redone
//              by kBe (so non-negative).
// Details, measured accuracy and limits: kernels/implicit.hpp, kernels/backward_euler.hpp.
enum class Integrator : int { kExplicit = 0, kLod = 1, kAdi = 2, kBe = 3, kTrBdf2 = 4 };

// "explicit", "lod", "adi", "be", "trbdf2".
const char* integrator_name(Integrator i);
// Parses the names above; false (and *out untouched) for anything else.
bool parse_integrator(const std::string& name, Integrator* out);

struct TimeControl {
  double t_end = 0;         // [s]
  double output_every = 0;  // [s]; outputs at 0, every, 2*every, ..., t_end
  double max_step = 0;      // [s]; explicit only: 0 = automatic (stability limit times cfl)
  double cfl = 0.9;         // explicit only: fraction of the stability limit used by 'auto'
  Integrator integrator = Integrator::kExplicit;
  double step = 0;       // [s]; lod/adi/be/trbdf2: the largest step; 0 = 'auto' (from tolerance). The
                         // stepper takes equal sub-steps <= step landing exactly on events.
  double tolerance = 0;  // implicit with step 0: target relative local error of one step
                         // (Simulation estimates it by step doubling), in (0, 0.5]
  // be/trbdf2: the model's secretion and uptake terms of diffusing fields inside the linear
  // solve (rate x population density into K, secretion into the source) instead of the
  // reaction pass (kernels/backward_euler.hpp, "Model terms in the solve").
  bool terms_in_solve = false;
};

struct Problem {
  std::string name;
  GridSpec grid;
  std::vector<SpeciesInfo> species;
  std::vector<SpeciesCoeffs> coeffs;     // one per species
  std::vector<std::string> label_names;  // tissue label names, index = label value
  std::vector<uint8_t> labels;           // nvox (1 byte per voxel), or empty: all label 0
  std::vector<real> initial;             // nspecies * nvox [species unit]
  int nsrc = 0;                          // number of source blocks
  std::vector<real> src;                 // nsrc * nvox [unit/s]
  int nupt = 0;                          // number of uptake blocks
  std::vector<real> upt;                 // nupt * nvox, Vmax [unit/s]
  int nhold = 0;                         // number of held-value blocks
  std::vector<real> hold;                // nhold * nvox [species unit]: the value a voxel is held
                                         // at (vessels, nodes), NaN where it is free (4 bytes/voxel)
  std::vector<NamedMask> regions;        // named regions reported in observables
  TimeControl time;
  unsigned long long seed = 0;
  Model model;  // coupled terms, systemic inputs, radiotherapy

  int nspecies() const { return (int)species.size(); }
  // Largest stable (and positivity-preserving) explicit step [s].
  double explicit_dt_limit() const { return explicit_step_limit().dt; }
  // That step and what sets it: the field with the largest rate (its diffusion stencil weight,
  // decay and uptake Vmax/Km) [1/s]; species -1 and dt infinite when nothing evolves.
  struct StepLimit {
    double dt = INFINITY;  // [s]
    int species = -1;
    double diffusion = 0, decay = 0, uptake = 0;  // its rates [1/s]; dt = 1 / their sum
  };
  StepLimit explicit_step_limit() const;
  // Throws std::invalid_argument when sizes or slots are inconsistent.
  void check() const;
};

// Sets every held voxel of `state` (nspecies * nvox) to its held value.
void apply_holds(const Problem& p, std::vector<real>& state);

// Convenience for tests and benchmarks: a box of n species with uniform D [um^2/s],
// decay [1/s], no-flux walls, zero initial state.
Problem make_uniform_problem(Dims d, double h_um, int nspecies, double D, double decay);

}  // namespace tme
