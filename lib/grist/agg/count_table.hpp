// A compact hash table from byte-string keys to u64 counts, within a memory
// budget: the in-memory stage of grist-count.
//
//   grist::CountTable t(64 << 20);               // at most ~64 MiB
//   uint64_t h = grist::stable_hash(key);
//   switch (t.add(key, h, 1)) { case ok: ...; case full: spill, retry; ... }
//   t.sort(order);  for (size_t i = 0; i < t.size(); ++i) use(t.key(i), t.count(i));
//   t.clear();
//
// Open addressing with linear probing. A slot is 24 bytes (the full 64-bit
// hash, the count, the key: inline up to 7 bytes, else a pointer to
// [u32 length][bytes] in an arena of large chunks). memory() is what the table really holds
// (slot array plus arena chunks). Not thread-safe: one table per thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "grist/sort/record_stream.hpp"

namespace grist {

class CountTable {
 public:
  enum class AddResult { ok, full, overflow };

  // `budget`: bytes the table may hold, the slot array while it grows
  // included. An empty table accepts one key whatever its size.
  explicit CountTable(size_t budget);
  CountTable(CountTable&&) noexcept;
  CountTable& operator=(CountTable&&) noexcept;
  ~CountTable();

  // Adds n to the count of `key`, whose stable_hash is `hash`. Returns full
  // (nothing changed) when `key` is new and there is no room for it within
  // the budget: spill, clear() and add again. Returns overflow (nothing
  // changed) when the count would pass 2^64-1.
  AddResult add(std::string_view key, uint64_t hash, uint64_t n) {
    size_t i = hash & mask_;
    const bool short_key = key.size() <= kInlineMax;
    const uint64_t packed = short_key ? pack(key) : 0;
    for (;;) {
      Slot& s = slots_[i];
      if (s.ref == 0) break;
      if (s.hash == hash && (short_key ? s.ref == packed : key_equals(s.ref, key))) {
        if (__builtin_add_overflow(s.count, n, &s.count)) {
          s.count -= n;  // unsigned wrap undone
          return AddResult::overflow;
        }
        return AddResult::ok;
      }
      i = (i + 1) & mask_;
    }
    return insert(i, key, hash, n, packed);
  }

  // Hints the cache about the slot `hash` will probe first.
  void prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t memory() const { return slots_bytes() + arena_bytes_; }
  size_t budget() const { return budget_; }

  // Puts the entries first in the slot array, sorted in `order` (ties
  // cannot happen: keys are distinct). The table accepts no add() until
  // clear(). `parallel`: use tbb::parallel_sort.
  void sort(RecordOrder order, bool parallel = false);
  // After sort(): the i-th entry.
  std::string_view key(size_t i) const { return key_view(slots_[i]); }
  uint64_t count(size_t i) const { return slots_[i].count; }

  // Empties the table; keeps the slot array (already paid for) and one
  // arena chunk.
  void clear();
  // Empties the table and frees all its memory.
  void release();

 private:
  // ref: a key of up to 7 bytes is held in the slot itself (its bytes in
  // the low bytes, 0x80|length in the top byte), so most word lookups touch
  // one cache line; a longer key's ref is a pointer to [u32 len][bytes] in
  // the arena (user-space pointers never have the top bit set). 0: empty.
  struct Slot {
    uint64_t hash;
    uint64_t count;
    uint64_t ref;
  };
  static constexpr size_t kInlineMax = 7;
  static constexpr uint64_t kInlineTag = uint64_t(1) << 63;

  static uint64_t pack(std::string_view key) {
    uint64_t v = 0;
    std::memcpy(&v, key.data(), key.size());
    return v | kInlineTag | (uint64_t(key.size()) << 56);
  }
  static std::string_view key_view(const Slot& s) {
    if (s.ref & kInlineTag) {
      return {reinterpret_cast<const char*>(&s.ref), static_cast<size_t>((s.ref >> 56) & 0x7f)};
    }
    const char* p = reinterpret_cast<const char*>(s.ref);
    uint32_t len;
    std::memcpy(&len, p, 4);
    return {p + 4, len};
  }
  // Compares a long key (size > kInlineMax) with an arena key: overlapping
  // word loads rather than a call to memcmp; nothing is read outside either.
  static bool key_equals(uint64_t ref, std::string_view key) {
    if (ref & kInlineTag) return false;
    const char* p = reinterpret_cast<const char*>(ref);
    uint32_t len;
    std::memcpy(&len, p, 4);
    if (len != key.size()) return false;
    const char* a = p + 4;
    const char* b = key.data();
    if (len > 16) return std::memcmp(a, b, len) == 0;
    return load64(a) == load64(b) && load64(a + len - 8) == load64(b + len - 8);
  }
  static uint64_t load64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  size_t slots_bytes() const { return (mask_ + 1) * sizeof(Slot); }
  AddResult insert(size_t i, std::string_view key, uint64_t hash, uint64_t n, uint64_t packed);
  bool grow();
  const char* store_key(std::string_view key);

  size_t budget_;
  Slot* slots_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t max_size_ = 0;  // grow or refuse beyond this
  bool sorted_ = false;
  // Arena: chunks; the current one is filled from chunk_pos_.
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<size_t> chunk_sizes_;
  size_t chunk_size_;
  size_t chunk_pos_ = 0, chunk_end_ = 0;
  size_t arena_bytes_ = 0;
};

// A sorted CountTable read as `key\tcount` records.
class CountTableStream : public RecordStream {
 public:
  explicit CountTableStream(const CountTable& t) : t_(t) {}
  bool next(Record& r) override;

 private:
  const CountTable& t_;
  size_t i_ = 0;
  char buf_[24];
};

}  // namespace grist
