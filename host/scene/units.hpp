// Unit conversion through UDUNITS-2. One UnitSystem per loader (no globals). Adds molar
// (M, so nM, uM ...) and a count unit (cell, cells) at start-up through the UDUNITS API.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

namespace tme {

class UnitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class UnitSystem {
 public:
  UnitSystem();
  ~UnitSystem();
  UnitSystem(const UnitSystem&) = delete;
  UnitSystem& operator=(const UnitSystem&) = delete;

  // Parse "<number> <unit>" (e.g. "10 um^2/s") and return the value in `target` (e.g. "um^2/s").
  // Throws UnitError with a message that says what was wrong and what was expected.
  double to(const std::string& quantity, const std::string& target) const;
  // True when `unit` parses and converts to `target`.
  bool convertible(const std::string& unit, const std::string& target) const;
  // True when `unit` parses.
  bool parses(const std::string& unit) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tme
