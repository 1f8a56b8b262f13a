// Clinician-style antibody dosing strings -> pk::Regimen.
//
// Grammar (q, x, h, d, w case-insensitive; blanks between the parts optional):
//   <amount> <mass unit>[/kg] q<N><h|d|w> [x <count>]
// e.g. "200 mg q3w", "240 mg q2w", "1200 mg q3w x4", "3 mg/kg q3w x 4", "10 mg/kg q2w".
// The mass unit is any UDUNITS-2 mass (ug, mg, g ...), converted to mg. "/kg" means per kg of
// body weight: the amount is value * body_weight_kg. q<N>h|d|w: every N hours, days (86400 s)
// or weeks (7 days). No "x <count>": repeat until the end of the run (count 0).
// The result starts at t = 0 (regimen.start_s = 0); the caller sets the start.
//
// Errors: std::invalid_argument "dose '<text>': <what was wrong> (expected ...)"; the scene
// loader prepends the position and key path.
#pragma once
#include <string>

#include "host/core/pk.hpp"
#include "host/scene/units.hpp"

namespace tme {

struct ParsedRegimen {
  pk::Regimen regimen;      // amount [mg] (per-kg already multiplied by the weight), interval [s]
  bool per_kg = false;      // the amount was written per kg of body weight
  double amount_value = 0;  // the amount as written (e.g. 3 for "3 mg/kg")
  std::string amount_unit;  // the unit as written (e.g. "mg/kg", "g")
};

// body_weight_kg [kg]: needed (> 0) only for per-kg doses; <= 0 means "not given".
ParsedRegimen parse_regimen(const std::string& text, double body_weight_kg, const UnitSystem& units);

}  // namespace tme
