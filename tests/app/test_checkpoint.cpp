// The checkpoint file format (host/io/checkpoint.hpp): what is written reads back exactly, a
// damaged or foreign file is refused, and each header field that does not match the scene
// and program is named in the refusal.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/io/checkpoint.hpp"
#include "tests/error_of.hpp"

namespace {

using tme::ByteReader;
using tme::ByteWriter;
using tme::CheckpointHeader;

using tme::test::any_error_of;

CheckpointHeader header() {
  CheckpointHeader h;
  h.version = "0.1.0";
  h.precision = 8;
  h.nx = 4;
  h.ny = 5;
  h.nz = 6;
  h.nspecies = 3;
  h.scene_hash = 0x0123456789abcdefull;
  return h;
}

TEST(Checkpoint, Fnv1aOfKnownTexts) {
  EXPECT_EQ(tme::fnv1a64(""), 0xcbf29ce484222325ull);  // the offset basis
  EXPECT_EQ(tme::fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(tme::fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Checkpoint, WhatIsWrittenReadsBackExactly) {
  ByteWriter w;
  w.header(header());
  w.str("scene.yaml");
  w.u32(7);
  w.i64(-42);
  w.f64(0.1);
  w.f64(std::numeric_limits<double>::denorm_min());
  w.vec(std::vector<float>{1.5f, -0.0f, 3e-38f});
  w.vec(std::vector<double>{});
  ByteReader r(w.bytes(), "ck");
  const CheckpointHeader h = r.header();
  EXPECT_EQ(h.format, tme::kCheckpointFormat);
  EXPECT_EQ(h.version, "0.1.0");
  EXPECT_EQ(h.precision, 8u);
  EXPECT_EQ(h.nx, 4);
  EXPECT_EQ(h.ny, 5);
  EXPECT_EQ(h.nz, 6);
  EXPECT_EQ(h.nspecies, 3);
  EXPECT_EQ(h.scene_hash, 0x0123456789abcdefull);
  EXPECT_EQ(r.str(), "scene.yaml");
  EXPECT_EQ(r.u32(), 7u);
  EXPECT_EQ(r.i64(), -42);
  EXPECT_EQ(r.f64(), 0.1);
  EXPECT_EQ(r.f64(), std::numeric_limits<double>::denorm_min());
  const std::vector<float> v = r.vec<float>();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], 1.5f);
  EXPECT_TRUE(v[1] == 0.0f && std::signbit(v[1]));
  EXPECT_EQ(v[2], 3e-38f);
  EXPECT_TRUE(r.vec<double>().empty());
  EXPECT_TRUE(r.at_end());
}

TEST(Checkpoint, ForeignTruncatedAndNewerFilesAreRefused) {
  EXPECT_EQ(any_error_of([] { ByteReader("not a checkpoint at all", "x.bin").header(); }),
            "x.bin: is not a tmesim checkpoint");
  ByteWriter w;
  w.header(header());
  w.vec(std::vector<double>{1, 2, 3});
  const std::string full = w.bytes();
  EXPECT_EQ(any_error_of([&] {
              ByteReader r(full.substr(0, full.size() - 1), "x.bin");
              r.header();
              r.vec<double>();
            }),
            "x.bin: checkpoint is truncated or damaged");
  EXPECT_EQ(any_error_of([&] { ByteReader(full.substr(0, 20), "x.bin").header(); }),
            "x.bin: checkpoint is truncated or damaged");
  CheckpointHeader newer = header();
  newer.format = 4;
  ByteWriter w2;
  w2.header(newer);
  EXPECT_EQ(any_error_of([&] { ByteReader(w2.bytes(), "x.bin").header(); }),
            "x.bin: checkpoint format 4, this tmesim reads format 3");
}

TEST(Checkpoint, MismatchNamesVersionPrecisionGridAndScene) {
  const CheckpointHeader h = header();
  EXPECT_EQ(tme::checkpoint_mismatch(h, "0.1.0", 8, 4, 5, 6, 3, h.scene_hash), "");
  EXPECT_EQ(tme::checkpoint_mismatch(h, "0.2.0", 8, 4, 5, 6, 3, h.scene_hash),
            "it was written by tmesim 0.1.0, this is tmesim 0.2.0");
  EXPECT_EQ(tme::checkpoint_mismatch(h, "0.1.0", 4, 4, 5, 6, 3, h.scene_hash),
            "it holds float64 fields, this tmesim is built for float32");
  EXPECT_EQ(tme::checkpoint_mismatch(h, "0.1.0", 8, 4, 5, 7, 3, h.scene_hash),
            "its grid is 4x5x6 with 3 fields, the scene's 4x5x7 with 3");
  EXPECT_EQ(tme::checkpoint_mismatch(h, "0.1.0", 8, 4, 5, 6, 3, 0xffull),
            "it was written for another scene (resolved scene hash 0123456789abcdef, the scene now resolves to "
            "00000000000000ff)");
}

}  // namespace
