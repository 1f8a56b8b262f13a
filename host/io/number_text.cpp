// Numbers as text in the files a run writes (see number_text.hpp).
#include "host/io/number_text.hpp"

#include <cmath>
#include <cstdio>

namespace tme {

std::string real_text(double x) {
  char b[40];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}

std::string csv_real(double x) { return std::isnan(x) ? std::string() : real_text(x); }

}  // namespace tme
