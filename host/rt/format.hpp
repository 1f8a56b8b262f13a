// Number formatting shared by the radiotherapy messages.
#pragma once
#include <cstdio>
#include <string>

namespace tme::rt {

// A number for messages: up to 10 significant digits, no trailing zeros.
inline std::string num(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

}  // namespace tme::rt
