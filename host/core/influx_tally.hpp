// What enters the lesions from blood, counted exactly: a tally field per blood input that the
// influx terms reading the input also fill (host/run/systemic_coupling.hpp sums it per step).
#pragma once
#include "host/core/problem.hpp"
#include "host/core/systemic.hpp"

namespace tme {

// Appends to `p` the non-diffusing tally field of blood input `input` (a Model::globals index):
// named "<input>_entered", in cells/mm^3, zero at the start, no transport or decay; and, for
// every influx term reading the input, a copy of the term that adds the same rate to the tally.
// Returns its field index. Throws std::invalid_argument (what is wrong, naming the input or the
// term) when a term other than influx reads the input (its exchange with blood would not be
// counted), an influx term reading it targets a field not in cells/mm^3, a field of the tally's
// name exists, or the fields or terms would exceed their limits.
int add_influx_tally(Problem& p, int input);
// Both of the coupling's tallies: sets c.effector_tally_field and c.treg_tally_field.
void add_influx_tallies(Problem& p, systemic::Coupling& c);

}  // namespace tme
