// The message of the std::invalid_argument a call throws, for exact-message tests; the
// fallback text when it throws none. any_error_of: the same for any std::exception (runtime
// errors from file checks and the state check too).
#pragma once
#include <stdexcept>
#include <string>

namespace tme::test {

template <class F>
std::string error_of(F&& f, const std::string& none = "<no exception>") {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return none;
}

template <class F>
std::string any_error_of(F&& f, const std::string& none = "<no exception>") {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return none;
}

}  // namespace tme::test
