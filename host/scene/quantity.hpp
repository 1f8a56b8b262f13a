// Splitting "<number> <unit>" strings (e.g. "10 um^2/s", "2h", "1e-3 1/s") into their parts.
// Shared by UnitSystem and the scene loader, which reports each failure in its own words.
#pragma once
#include <string>

namespace tme {

struct QuantityText {
  enum Status {
    kOk,          // value and unit (possibly empty) are set
    kNoNumber,    // the text does not start with a decimal number
    kBadNumber,   // a number followed by something that is neither blank nor a unit
    kOutOfRange,  // the number is not a finite double
  };
  Status status = kNoNumber;
  double value = 0;
  std::string unit;  // trimmed; empty when the text is a bare number
};

// The number is a C floating literal in decimal: [+-] digits [. digits] [e[+-]digits] (also
// ".5"). The unit follows after optional blanks; a unit that starts right after the number
// must start with a letter or '(' (so "10um" is fine and "10.5.3 um" is not).
QuantityText split_quantity(const std::string& text);

// Trim blanks (space, tab, CR, LF) from both ends.
std::string trim_blanks(const std::string& s);

}  // namespace tme
