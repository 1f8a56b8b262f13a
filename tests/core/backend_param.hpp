// Test bodies are written once and instantiated for every backend. CUDA instances skip
// cleanly where no device exists (or where tmesim was built without CUDA).
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "host/core/backend.hpp"

namespace tme::test {

class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    if (GetParam() == "cuda" && !cuda_available(&why)) GTEST_SKIP() << "cuda: " << why;
  }
  std::unique_ptr<Backend> backend() const { return make_backend(GetParam()); }
};

// Relative tolerance for round-off level agreement in the build's real type.
constexpr double kRoundoff = sizeof(real) == 4 ? 1e-5 : 1e-12;

}  // namespace tme::test

#define TME_INSTANTIATE_BACKENDS(Suite)                                                                 \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values(std::string("cpu"), std::string("cuda")), \
                           [](const ::testing::TestParamInfo<std::string>& i) { return i.param; })
