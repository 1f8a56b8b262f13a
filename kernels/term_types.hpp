// The plain data of the model's reaction terms: limits, the term and factor descriptors the
// kernels read (copied to the GPU as they are), and the term registry, one row per kind: the
// name scenes use, its keys with their units, and the parameter slot each key fills. The
// one-cell rate functions that read these are in kernels/terms.hpp, included only where they
// are run (the backend template and the CUDA voxel loop); the host (model, loader, tests)
// includes this header.
//
// Adding a term kind: its TermKind value and its row in kTermRegistry here, its rate function
// and its `case` in term_rates (kernels/terms.hpp). The loader (host/scene/scene_model.cpp),
// the model check (host/core/model.cpp) and the docs test (tests/app/test_term_registry.cpp,
// which holds docs/model.md's term table to this one) read the row.
//
// Units: time s, length um, each field in its own unit (cells/mm^3 for populations); the
// scene converts every parameter once at load to the units noted per kind below.
#pragma once
#include <type_traits>

#include "tme_hd.hpp"

namespace tme {

constexpr int kMaxTerms = 96;         // terms per model
constexpr int kMaxTermFactors = 4;    // modulating factors per term
constexpr int kMaxTermProducts = 2;   // products per kill/conversion term
constexpr int kMaxCrowding = 8;       // populations that occupy volume
constexpr int kMaxGlobals = 16;       // uniform per-step inputs (plasma levels, blood cells)
constexpr int kMaxReactSpecies = 32;  // fields one voxel's reaction update can hold

// A factor multiplies a term's rate; its input x is
//   x = c[a] (/ c[b] if b >= 0) * prod_j free_j,    free_j = Kd_j / (Kd_j + c[ab_j]) (ab_j >= 0)
// i.e. optionally a ratio, times the fractions of the target left unoccupied by up to two
// antibodies with dissociation constants Kd_j [unit of ab_j]. PD-1/PD-L1 engagement is
// x = PD-L1 level * free(anti-PD-1) * free(anti-PD-L1).
enum FactorKind : int {
  kFactorHillAct = 0,  // x^n / (K^n + x^n)
  kFactorHillInh = 1,  // K^n / (K^n + x^n)
  kFactorRoom = 2,     // max(0, 1 - phi): free volume fraction (crowding); x unused
  kFactorLinear = 3,   // x / K (unbounded; e.g. proportional recruitment)
};

struct Factor {
  int kind = kFactorHillAct;
  int a = -1;            // species index of the input (unused by kFactorRoom)
  int b = -1;            // divisor species index, or -1
  int ab[2] = {-1, -1};  // blocking antibody species, or -1
  real kd[2] = {1, 1};   // [unit of ab_j]
  real K = 1;            // half-maximum [unit of x]
  real n = 1;            // Hill coefficient [-]
};

// The rate function of a term (kernels/terms.hpp); production P and per-capita loss L of the
// target T (or X, A, S), F the product of the term's factors.
enum TermKind : int {
  // r T g(phi) F with g = 1 - phi (logistic) or -ln(phi) (Gompertz, phi floored at 1e-12);
  // negative g (overcrowded) becomes loss. rate r [1/s], growth_law.
  kTermGrowth = 0,
  // by population `src`: P_X += rate c_src F. rate [unit_X/s per unit_src].
  kTermSecretion = 1,
  // by population `src`: L_X += rate c_src F / (1 + c_X / km) when km > 0 (Michaelis-Menten,
  // rate = Vmax/km per cell, km [unit_X]) else rate c_src F (linear). rate [1/s per unit_src].
  kTermUptake = 2,
  // T killed by effector `src`: L_T += rate c_src F; each product gets yield rate c_src F c_T.
  // rate [1/s per unit_src].
  kTermKill = 3,
  // conversion of A (to products): L_A += rate F; each product gets yield rate F c_A.
  // rate [1/s]. No product = death/clearance.
  kTermConversion = 4,
  // local state S relaxing toward level = base + (top - base) F: P_S += level rate,
  // L_S += rate. rate = 1/tau [1/s], base and top [unit_S]. No factors: level = base.
  kTermRelax = 5,
  // blood exchange through vessels (antibody extravasation): with S = c[src] the vessel
  // surface density [1/um] and Cb = globals[global] the plasma level [unit_X]:
  // P_X += rate S Cb F, L_X += rate S F. rate = permeability [um/s].
  kTermExchange = 6,
  // entry from blood (T cells): P_X += rate c[src] globals[global] F. rate [1/s per unit_src]
  // (src = vessel surface density or any field; src = -1 means 1).
  kTermInflux = 7,
};
constexpr int kTermKinds = 8;  // TermKind values are 0..kTermKinds-1

enum GrowthLaw : int { kGrowthLogistic = 0, kGrowthGompertz = 1 };

// The named parameter slots of Term::p. A slot means what the kind says: slot 1 is the growth
// law of a growth term, km of an uptake term and base of a relax term.
enum TermParam : int {
  kParamRate = 0,  // every kind: its rate constant [units per kind above]
  kParamLaw = 1,   // growth: the GrowthLaw (0 or 1, exact in a real)
  kParamKm = 1,    // uptake: Michaelis constant [unit_X]; 0 = linear uptake
  kParamBase = 1,  // relax: level without factors [unit_S]
  kParamTop = 2,   // relax: level at full factors (F = 1) [unit_S]
};
constexpr int kTermParams = 3;

struct TermProduct {
  int species = -1;
  real yield = 1;  // [unit_product per unit_target]
};

// One term (196 bytes in float32, 312 in float64). Unused indices hold -1. Plain data: the kernels read the
// parameters through the named accessors, the loader writes them by slot (kTermRegistry).
struct Term {
  int kind = kTermConversion;
  int target = -1;
  int src = -1;
  int global = -1;
  real p[kTermParams] = {0, 0, 0};  // by TermParam
  int nfactors = 0;
  Factor f[kMaxTermFactors];
  int nproducts = 0;
  TermProduct prod[kMaxTermProducts];

  TME_HD real rate() const { return p[kParamRate]; }
  TME_HD GrowthLaw growth_law() const {
    return p[kParamLaw] == real(kGrowthGompertz) ? kGrowthGompertz : kGrowthLogistic;
  }
  TME_HD real km() const { return p[kParamKm]; }
  TME_HD real base() const { return p[kParamBase]; }
  TME_HD real top() const { return p[kParamTop]; }
};
static_assert(std::is_trivially_copyable<Term>::value, "terms are copied to the GPU as bytes");
static_assert(sizeof(Term) == (sizeof(real) == 4 ? 196 : 312), "a term is 196 bytes in float32, 312 in float64");

// The whole table plus the per-step uniform inputs, passed by value (pointers non-owning; on
// the CUDA backend `terms` is a device pointer). Every species index in terms, factors and
// crowding is a LOCAL slot 0..nlocal-1; local[m] is the field (species) index of slot m.
struct ReactionArgs {
  const Term* terms = nullptr;
  int nterms = 0;
  int ncrowd = 0;
  int crowd_species[kMaxCrowding] = {};
  real crowd_volume[kMaxCrowding] = {};  // volume per cell [mm^3 per (cells/mm^3 unit)] = 1/capacity
  real globals[kMaxGlobals] = {};        // per-step values (e.g. mean plasma level over the step)
  int nlocal = 0;                        // fields the terms touch: c[local[m]] for m < nlocal
  int local[kMaxReactSpecies] = {};
  real atol[kMaxReactSpecies] = {};  // absolute tolerance per local field [its unit]
  real rtol = real(1e-4);            // relative tolerance of one sub-step
  int max_substeps = 4096;           // per voxel and call; beyond it the step is accepted
};

// ---- the term registry: how a scene writes each kind --------------------------------------
//
// A term in a scene is a mapping with one kind key naming its target and the keys of its
// row, e.g. {secretion: IFNg, by: CD8, rate: 0.1 fg/cell/h}. The loader walks the row's keys
// in order; the resolved scene writes them in that order (factors and products last).

enum class TermKeyType : int {
  kValue,     // a quantity in `unit`, converted and stored in p[slot]
  kChoice,    // one word of `choices` ('|' separated); its index is stored in p[slot]
  kBy,        // a population -> Term::src
  kVessels,   // a field -> Term::src; optional ones accept 'none' (src = -1)
  kGlobal,    // a drug or blood input -> Term::global
  kField,     // a field (chemotaxis signal; read by the loader's chemotaxis hook)
  kFactors,   // the term's factors (at most kMaxTermFactors)
  kProducts,  // {field: yield} (at most kMaxTermProducts)
  kHook,      // read by the row's hook in the loader (the value's meaning depends on other keys)
};

enum class TermNeed : int {
  kRequired,
  kOptional,
  kWithFactors,  // required when the term has factors, refused without
};

// How a value becomes p[slot] (x in `unit`): as it is, 1/x (a time to a rate), or x times the
// 1/um of one unit of the vessel field (a permeability [um/s] into a rate per field unit).
enum class TermConvert : int { kAsIs, kReciprocal, kPerVesselUm };

// What a key's value must be, beyond its unit.
enum class TermBound : int { kAny, kNonNegative, kPositive };

// The rows' special readers, implemented by the loader.
enum class TermHook : int {
  kNone,
  kUptakeRate,  // uptake `rate` and `km`: Vmax (X/s per B) with km, else a rate in 1/s per B
  kChemotaxis,  // not a reaction term: a Chemotaxis entry of the model (kernels/chemotaxis.hpp)
  kPressure,    // not a reaction term: a Chemotaxis entry down the occupied fraction (kSignalCrowding)
};

// The unit a value is converted to: unit[0] / unit[1] / unit[2] / unit[3] (absent parts are
// null; "1" parts are left out), where X is the target's unit, B the unit of the term's
// by/vessels field (the part is left out when the term has none), G the unit of its drug or
// blood input and S the unit of its signal field; any other part is a unit as written.
struct TermKey {
  const char* key = nullptr;  // null: past the row's last key
  TermKeyType type = TermKeyType::kValue;
  TermNeed need = TermNeed::kRequired;
  const char* noun = nullptr;         // kValue: "a secretion rate"; kChoice: "a growth law";
                                      // kGlobal/kBy/kVessels: what the message expects
  const char* unit[4] = {};           // kValue: the unit (see above)
  const char* example = nullptr;      // kValue: e.g. "0.4 1/day" (null: "1 <unit>")
  TermBound bound = TermBound::kAny;  // kValue
  int slot = -1;                      // kValue, kChoice: the TermParam slot
  TermConvert convert = TermConvert::kAsIs;
  const char* choices = nullptr;  // kChoice: "logistic|gompertz", the first the default
  bool per_um = false;            // kVessels: the field's unit must convert to 1/um
  bool in_target_unit = false;    // kGlobal: its unit must be the target's
  const char* without = nullptr;  // kWithFactors: what holds without factors
};

constexpr int kMaxTermKeys = 6;

struct TermRow {
  const char* name;        // the kind key as scenes write it
  int kind;                // TermKind, or -1 (kChemotaxis, kPressure: not a reaction term)
  bool population_target;  // the kind key names a population (else any field)
  TermHook hook;
  TermKey keys[kMaxTermKeys];  // besides the kind key, in the order of docs/model.md
};

// One row per kind; rows of reaction terms are in TermKind order (kTermRegistry[k].kind == k).
// clang-format off
inline constexpr TermRow kTermRegistry[] = {
    {"growth", kTermGrowth, true, TermHook::kNone,
     {{"rate", TermKeyType::kValue, TermNeed::kRequired, "a rate", {"1/s"}, "0.4 1/day",
       TermBound::kNonNegative, kParamRate},
      {"law", TermKeyType::kChoice, TermNeed::kOptional, "a growth law", {}, nullptr, TermBound::kAny,
       kParamLaw, TermConvert::kAsIs, "logistic|gompertz"},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional}}},
    {"secretion", kTermSecretion, false, TermHook::kNone,
     {{"by", TermKeyType::kBy, TermNeed::kRequired, "a population"},
      {"rate", TermKeyType::kValue, TermNeed::kRequired, "a secretion rate", {"X", "s", "B"}, nullptr,
       TermBound::kNonNegative, kParamRate},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional}}},
    {"uptake", kTermUptake, false, TermHook::kUptakeRate,
     {{"by", TermKeyType::kBy, TermNeed::kRequired, "a population"},
      {"rate", TermKeyType::kHook, TermNeed::kRequired},
      {"km", TermKeyType::kHook, TermNeed::kOptional},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional}}},
    {"kill", kTermKill, true, TermHook::kNone,
     {{"by", TermKeyType::kBy, TermNeed::kRequired, "a population"},
      {"rate", TermKeyType::kValue, TermNeed::kRequired, "a kill rate", {"1", "s", "B"}, nullptr,
       TermBound::kNonNegative, kParamRate},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional},
      {"products", TermKeyType::kProducts, TermNeed::kOptional}}},
    {"conversion", kTermConversion, false, TermHook::kNone,
     {{"rate", TermKeyType::kValue, TermNeed::kRequired, "a rate", {"1/s"}, "0.4 1/day",
       TermBound::kNonNegative, kParamRate},
      {"products", TermKeyType::kProducts, TermNeed::kOptional},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional}}},
    {"relax", kTermRelax, false, TermHook::kNone,
     {{"time", TermKeyType::kValue, TermNeed::kRequired, "a time", {"s"}, "10 min", TermBound::kPositive,
       kParamRate, TermConvert::kReciprocal},
      {"base", TermKeyType::kValue, TermNeed::kRequired, "a concentration", {"X"}, nullptr,
       TermBound::kNonNegative, kParamBase},
      {"max", TermKeyType::kValue, TermNeed::kWithFactors, "a concentration", {"X"}, nullptr,
       TermBound::kNonNegative, kParamTop, TermConvert::kAsIs, nullptr, false, false, "the level is base"},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional}}},
    {"exchange", kTermExchange, false, TermHook::kNone,
     {{"vessels", TermKeyType::kVessels, TermNeed::kRequired, "a vessel surface density field (1/um)", {},
       nullptr, TermBound::kAny, -1, TermConvert::kAsIs, nullptr, true},
      {"permeability", TermKeyType::kValue, TermNeed::kRequired, "a permeability", {"um/s"}, "3e-7 cm/s",
       TermBound::kNonNegative, kParamRate, TermConvert::kPerVesselUm},
      {"plasma", TermKeyType::kGlobal, TermNeed::kRequired, "a drug or blood input", {}, nullptr,
       TermBound::kAny, -1, TermConvert::kAsIs, nullptr, false, true},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional}}},
    {"influx", kTermInflux, false, TermHook::kNone,
     {{"vessels", TermKeyType::kVessels, TermNeed::kOptional, "a field"},
      {"blood", TermKeyType::kGlobal, TermNeed::kRequired, "a blood input or drug"},
      {"rate", TermKeyType::kValue, TermNeed::kRequired, "an influx rate", {"X", "s", "B", "G"}, nullptr,
       TermBound::kNonNegative, kParamRate},
      {"factors", TermKeyType::kFactors, TermNeed::kOptional}}},
    {"chemotaxis", -1, true, TermHook::kChemotaxis,
     {{"signal", TermKeyType::kField, TermNeed::kRequired, "a field"},
      {"sensitivity", TermKeyType::kValue, TermNeed::kRequired, "a chemotactic sensitivity",
       {"um^2/s", "S"}, nullptr, TermBound::kNonNegative},
      {"max_speed", TermKeyType::kValue, TermNeed::kRequired, "a speed", {"um/s"}, "3.6 um/min",
       TermBound::kPositive}}},
    {"pressure", -1, true, TermHook::kPressure,
     {{"mobility", TermKeyType::kValue, TermNeed::kRequired, "a mobility", {"um^2/s"}, "1 um^2/s",
       TermBound::kNonNegative},
      {"max_speed", TermKeyType::kValue, TermNeed::kRequired, "a speed", {"um/s"}, "1 um/min",
       TermBound::kPositive}}},
};
// clang-format on
constexpr int kTermRegistryRows = int(sizeof(kTermRegistry) / sizeof(kTermRegistry[0]));

// The row of a reaction term kind, or null for an unknown kind.
inline const TermRow* term_row(int kind) {
  for (const TermRow& r : kTermRegistry)
    if (r.kind >= 0 && r.kind == kind) return &r;
  return nullptr;
}

}  // namespace tme
