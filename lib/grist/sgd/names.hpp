// Feature names for --readable-model: the first name seen for each hashed
// feature index, recorded while parsing, so that a dump can say which word,
// n-gram or "ns^feature" a weight belongs to (what Vowpal Wabbit's
// --invert_hash does at the price of a slow second mode).
//
//   grist::sgd::FeatureNames names(bits);
//   ParseOptions parse_opts;  parse_opts.names = &names;   // the parser records names
//   ...
//   std::string_view n = names.name(index);  // "" if none was recorded
//
// Cost, bounded: an index of 4 bytes per feature index (2^b of them,
// allocated up front: a third of an AdaGrad model's own memory, whatever
// the input), and each distinct index's first name once, in one arena
// (1 byte of length + at most 255 bytes of name), up to `max_bytes` in
// all; once the arena is full, later new indices stay unnamed (dropped()
// counts them). Checking a feature that already has a name is one relaxed
// load; only the first sighting of an index takes a lock. Names of
// features that share an index (a hash collision) are not kept: the slot
// is named after the first one, which with one thread is the first in the
// input, so -j1 names are reproducible.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace grist::sgd {

class FeatureNames {
 public:
  static constexpr size_t kMaxName = 255;  // longer names are cut (at a UTF-8 boundary)

  explicit FeatureNames(int bits, size_t max_bytes = size_t(1) << 30);

  // Whether index i has a name. Thread-safe.
  bool has(uint32_t i) const { return off_[i].load(std::memory_order_relaxed) != 0; }
  // Names index i `name` unless it has a name. Thread-safe.
  void add(uint32_t i, std::string_view name);
  // The name of index i, "" if none. Not to be called while add() may run.
  std::string_view name(uint32_t i) const;

  uint64_t size() const { return uint64_t(1) << bits_; }
  uint64_t named() const { return named_; }
  uint64_t dropped() const { return dropped_; }
  size_t arena_bytes() const { return arena_.size(); }

 private:
  int bits_;
  size_t max_bytes_;
  std::unique_ptr<std::atomic<uint32_t>[]> off_;  // 1 + offset of the name in arena_; 0: none
  std::mutex mu_;
  std::string arena_;  // [u8 length][bytes] per name
  uint64_t named_ = 0, dropped_ = 0;
};

}  // namespace grist::sgd
