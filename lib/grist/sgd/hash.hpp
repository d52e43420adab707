// The stable feature hash of grist-train-sgd (documented in
// man/grist-train-sgd.1; unit tests pin it with fixed vectors).
//
// Every feature is a name in a namespace. A namespace has a seed:
//   seed(unnamed namespace) = 0
//   seed(NAME)              = XXH3_64bits(NAME, seed 0)
// A feature name made only of decimal digits (1 to 19 of them) is a number
// and hashes, as in Vowpal Wabbit, to its value plus the seed; any other
// name hashes to XXH3_64bits(NAME, seed). The weight index is the low b
// bits of the hash. Hence:
//   svmlight "i:v"              = VW "| i:v"        -> index i mod 2^b
//   text "label\tw1 w2"         = VW "label | w1 w2"  (unigrams)
//   word n-gram (n >= 2)        = XXH3_64bits("w1 w2 ... wn", seed 0)
//   quadratic feature a x b     = (hash_a * 0x100000001b3) XOR hash_b
// The bias is a weight of its own (index 2^b), never hashed.
#pragma once

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace grist::sgd {

inline uint64_t namespace_seed(std::string_view ns) {
  return ns.empty() ? 0 : XXH3_64bits(ns.data(), ns.size());
}

// The value of an all-digit name of at most 19 digits; false otherwise.
inline bool numeric_name(std::string_view name, uint64_t& value) {
  if (name.empty() || name.size() > 19) return false;
  uint64_t v = 0;
  for (char c : name) {
    unsigned d = static_cast<unsigned char>(c) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  value = v;
  return true;
}

inline uint64_t feature_hash(std::string_view name, uint64_t seed) {
  uint64_t v;
  if (numeric_name(name, v)) return v + seed;
  return XXH3_64bits_withSeed(name.data(), name.size(), seed);
}

inline uint64_t quadratic_hash(uint64_t a, uint64_t b) { return (a * 0x100000001b3ULL) ^ b; }

}  // namespace grist::sgd
