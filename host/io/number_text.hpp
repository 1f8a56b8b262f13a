// Numbers as text in the files a run writes (CSV tables, the ParaView script).
#pragma once
#include <string>

namespace tme {

// printf's "%.9g": up to 9 significant digits (every float32 value reads back exactly), no
// trailing zeros; NaN and infinities as printf writes them ("nan", "inf", "-inf").
std::string real_text(double x);

// A CSV cell: real_text, but NaN as an empty cell.
std::string csv_real(double x);

}  // namespace tme
