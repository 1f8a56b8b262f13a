// Tally fields of what enters the lesions from blood (see influx_tally.hpp).
#include "host/core/influx_tally.hpp"

#include <stdexcept>
#include <string>

namespace tme {

namespace {

const char* const kCellsPerMm3 = "cells/mm^3";

}  // namespace

int add_influx_tally(Problem& p, int g) {
  Model& m = p.model;
  const std::string& input = m.globals.at((size_t)g).name;
  const std::string name = input + "_entered";
  for (const SpeciesInfo& s : p.species)
    if (s.name == name)
      throw std::invalid_argument("the tally of what enters from blood input '" + input + "' is named '" + name +
                                  "', which is already a field");
  if (p.nspecies() >= kMaxSpecies)
    throw std::invalid_argument("the tally of blood input '" + input + "' would be field number " +
                                std::to_string(kMaxSpecies + 1) + ", beyond the limit of " +
                                std::to_string(kMaxSpecies) + " fields");
  const int idx = p.nspecies();
  std::vector<Term> copies;
  double atol = 1e-9;
  for (const Term& t : m.terms) {
    if (t.global != g) continue;
    if (t.kind != kTermInflux)
      throw std::invalid_argument("blood input '" + input + "' is read by a term on '" +
                                  p.species.at((size_t)t.target).name +
                                  "' that is not an influx term: the systemic pool would not count what it "
                                  "exchanges");
    if (p.species.at((size_t)t.target).unit != kCellsPerMm3)
      throw std::invalid_argument("blood input '" + input + "' enters '" + p.species.at((size_t)t.target).name +
                                  "', which is in " + p.species.at((size_t)t.target).unit + ", not " + kCellsPerMm3);
    if (!m.atol.empty()) atol = m.atol.at((size_t)t.target);
    Term c = t;
    c.target = idx;
    copies.push_back(c);
  }
  if ((int)(m.terms.size() + copies.size()) > kMaxTerms)
    throw std::invalid_argument("the tallies of what enters from blood need " + std::to_string(copies.size()) +
                                " more terms than the model's " + std::to_string(m.terms.size()) +
                                ", beyond the limit of " + std::to_string(kMaxTerms) + " terms");
  p.species.push_back({name, kCellsPerMm3});
  p.coeffs.push_back(SpeciesCoeffs{});  // no transport, no decay
  p.initial.resize((size_t)(idx + 1) * (size_t)p.grid.nvox(), real(0));
  if (!m.atol.empty()) m.atol.push_back(atol);
  m.terms.insert(m.terms.end(), copies.begin(), copies.end());
  return idx;
}

void add_influx_tallies(Problem& p, systemic::Coupling& c) {
  const int n = (int)p.model.globals.size();
  if (c.effector_input < 0 || c.effector_input >= n || c.treg_input < 0 || c.treg_input >= n ||
      c.effector_input == c.treg_input)
    throw std::invalid_argument("the systemic coupling's blood inputs are not two distinct inputs of the model");
  c.effector_tally_field = add_influx_tally(p, c.effector_input);
  c.treg_tally_field = add_influx_tally(p, c.treg_input);
}

}  // namespace tme
