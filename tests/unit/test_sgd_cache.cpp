// The example cache of several passes: chunks round-trip, and a corrupt
// or truncated chunk is a grist::Error, never a crash or a read out of
// bounds (run under ASan in CI).
#include <zstd.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "grist/error.hpp"
#include "grist/sgd/example_cache.hpp"

using namespace grist::sgd;

namespace {

struct Contexts {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c{ZSTD_createCCtx(), ZSTD_freeCCtx};
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d{ZSTD_createDCtx(), ZSTD_freeDCtx};
  std::string raw;
};

Examples sample() {
  Examples ex;
  ex.label = {1, -1, 1};
  ex.weight = {1, 0.5f, 2};
  ex.holdout = {0, 1, 0};
  ex.begin = {0, 2, 2, 5};
  ex.index = {3, 7, 0, 15, 9};
  ex.value = {1, 0.25f, -2, 1e-20f, 3};
  ex.line = {1, 2, 4};
  return ex;
}

std::string zstd(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 1));
  return out;
}

std::string raw_of(const Examples& ex, Contexts& z) {
  std::string chunk;
  encode_examples(ex, chunk, z.c.get(), z.raw);
  return z.raw;
}

bool corrupt(const std::string& chunk, uint64_t limit = 16) {
  Contexts z;
  Examples out;
  try {
    decode_examples(chunk, out, limit, z.d.get(), z.raw);
  } catch (const grist::Error& e) {
    CHECK(std::string(e.what()).find("example cache: corrupt block") != std::string::npos);
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("example cache chunks round-trip", "[test_sgd_cache]") {
  Contexts z;
  const Examples ex = sample();
  std::string chunk;
  encode_examples(ex, chunk, z.c.get(), z.raw);
  Examples out;
  out.label = {9};  // cleared first
  decode_examples(chunk, out, 16, z.d.get(), z.raw);
  CHECK(out.label == ex.label);
  CHECK(out.weight == ex.weight);
  CHECK(out.holdout == ex.holdout);
  CHECK(out.begin == ex.begin);
  CHECK(out.index == ex.index);
  CHECK(out.value == ex.value);
  CHECK(out.line.empty());  // not kept

  Examples none;
  encode_examples(none, chunk, z.c.get(), z.raw);
  decode_examples(chunk, out, 16, z.d.get(), z.raw);
  CHECK(out.size() == 0);
  CHECK(out.begin == std::vector<uint32_t>{0});
}

TEST_CASE("example cache file keeps chunks in order", "[test_sgd_cache]") {
  ExampleCache cache(std::filesystem::temp_directory_path().string());
  cache.append("first");
  cache.append("");
  cache.append("third chunk");
  REQUIRE(cache.chunks() == 3);
  std::string s;
  cache.read(2, s);
  CHECK(s == "third chunk");
  cache.read(1, s);
  CHECK(s.empty());
  cache.read(0, s);
  CHECK(s == "first");
}

TEST_CASE("a corrupt or truncated cache chunk is an error", "[test_sgd_cache]") {
  Contexts z;
  const std::string raw = raw_of(sample(), z);
  const std::string good = zstd(raw);
  REQUIRE_FALSE(corrupt(good));

  SECTION("not zstd, empty, truncated, trailing bytes") {
    CHECK(corrupt(""));
    CHECK(corrupt("not a zstd frame at all"));
    for (size_t n = 0; n < good.size(); ++n) CHECK(corrupt(good.substr(0, n)));
    CHECK(corrupt(good + good));
    CHECK(corrupt(good + "x"));
  }
  SECTION("counts that do not match the bytes") {
    for (size_t cut : {size_t(0), size_t(4), size_t(7), raw.size() - 1}) {
      CHECK(corrupt(zstd(raw.substr(0, cut))));
    }
    CHECK(corrupt(zstd(raw + std::string(4, '\0'))));
    std::string r = raw;
    uint32_t huge = 0xFFFFFFFF;
    std::memcpy(r.data(), &huge, 4);  // n
    CHECK(corrupt(zstd(r)));
    r = raw;
    std::memcpy(r.data() + 4, &huge, 4);  // nf
    CHECK(corrupt(zstd(r)));
  }
  SECTION("begin[] out of order or not ending at nf") {
    const size_t begin_at = 8 + 3 * 4 * 2 + 3;
    for (auto [i, v] : {std::pair{0, 1u}, {1, 6u}, {2, 1u}, {3, 4u}, {3, 6u}}) {
      std::string r = raw;
      std::memcpy(r.data() + begin_at + 4 * i, &v, 4);
      CHECK(corrupt(zstd(r)));
    }
  }
  SECTION("a feature index beyond the model") {
    CHECK(corrupt(good, 15));  // index 15 present
    CHECK_FALSE(corrupt(good, 16));
  }
  SECTION("a changed byte of a chunk the cache wrote: an error, never other examples") {
    // The frame's checksum catches what the layout checks cannot (a label
    // or value changed); a bit zstd never reads may change harmlessly.
    std::string chunk;
    encode_examples(sample(), chunk, z.c.get(), z.raw);
    const std::string good_raw = z.raw;
    for (size_t i = 0; i < chunk.size(); ++i) {
      for (char flip : {char(1), char(0x80)}) {
        std::string bad = chunk;
        bad[i] ^= flip;
        INFO("byte " << i << " ^ " << int(flip));
        Examples out;
        try {
          decode_examples(bad, out, 16, z.d.get(), z.raw);
          CHECK(z.raw == good_raw);
        } catch (const grist::Error&) {
        }
      }
    }
  }
  SECTION("random damage never crashes") {
    std::mt19937 rng(7);
    for (int t = 0; t < 2000; ++t) {
      std::string bad = good;
      for (int k = 0; k < 1 + t % 4; ++k) bad[rng() % bad.size()] ^= char(1 + rng() % 255);
      corrupt(bad);  // either outcome; ASan checks the reads
      std::string r = raw;
      for (int k = 0; k < 1 + t % 4; ++k) r[rng() % r.size()] ^= char(1 + rng() % 255);
      corrupt(zstd(r));
    }
  }
}
