// A compact hash table from byte-string keys to u64 counts, within a memory
// budget: the in-memory stage of grist-count.
//
//   grist::CountTable t(64 << 20);               // at most ~64 MiB
//   switch (t.add(CountTable::make_key(key), 1)) { case ok: ...; case full: spill, retry; ... }
//   t.sort(order);  for (size_t i = 0; i < t.size(); ++i) use(t.key(i), t.count(i));
//   t.clear();
//
// Open addressing with linear probing. A slot is 32 bytes, two to a cache
// line: the key (inline up to 15 bytes, else a pointer to its bytes in an
// arena of large chunks), the table hash and the count. memory() is what
// the table really holds (slot array plus arena chunks). Not thread-safe:
// one table per thread.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "grist/sort/record_stream.hpp"

namespace grist {

static_assert(std::endian::native == std::endian::little, "CountTable packs keys little-endian");

class CountTable {
 public:
  enum class AddResult { ok, full, overflow };

  // A key as the table looks it up. A key of up to kInlineMax bytes is
  // packed into k0,k1 (its bytes zero-padded, 0x80|length in the top byte
  // of k1), so that a lookup compares two words and touches one cache line;
  // a longer key has k0 = 0, k1 = its length. `data` points to the key's
  // bytes (which must stay valid during add()). `hash` is XXH3-64 of the packed 16 bytes
  // for an inline key and of the bytes for a longer one: a table-internal
  // hash, not stable_hash (partitions are computed apart).
  struct Key {
    uint64_t k0, k1, hash;
    const char* data;
    bool is_inline() const { return k1 >> 63; }
    size_t size() const { return is_inline() ? (k1 >> 56) & 0x7f : k1; }
  };
  static constexpr size_t kInlineMax = 15;

  static Key make_key(std::string_view key) {
    if (key.size() > kInlineMax) return long_key(key.data(), key.size());
    unsigned char b[16] = {};
    if (!key.empty()) std::memcpy(b, key.data(), key.size());
    Key k;
    std::memcpy(&k.k0, b, 8);
    std::memcpy(&k.k1, b + 8, 8);
    return finish_inline(k, key.data(), key.size());
  }
  // Same as make_key({p, n}), for a key followed by readable bytes: the 16
  // bytes from p may be read whatever n (a block's padding ensures it).
  // Branch-free for inline keys.
  static Key make_key_padded(const char* p, size_t n) {
    if (n > kInlineMax) return long_key(p, n);
    Key k;
#if defined(__SSE2__) && defined(__x86_64__)
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    v = _mm_and_si128(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kKeep[n])));
    k.k0 = static_cast<uint64_t>(_mm_cvtsi128_si64(v));
    k.k1 = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)));
#else
    // The same bytes: the 16 at p, masked to the first n.
    uint64_t m0, m1;
    std::memcpy(&k.k0, p, 8);
    std::memcpy(&k.k1, p + 8, 8);
    std::memcpy(&m0, kKeep[n], 8);
    std::memcpy(&m1, kKeep[n] + 8, 8);
    k.k0 &= m0;
    k.k1 &= m1;
#endif
    return finish_inline(k, p, n);
  }

  // `budget`: bytes the table may hold, the slot array while it grows
  // included. An empty table accepts one key whatever its size.
  explicit CountTable(size_t budget);
  CountTable(CountTable&&) noexcept;
  CountTable& operator=(CountTable&&) noexcept;
  ~CountTable();

  // Adds n to the count of `key`. Returns full (nothing changed) when `key`
  // is new and there is no room for it within the budget: spill, clear()
  // and add again. Returns overflow (nothing changed) when the count would
  // pass 2^64-1.
  AddResult add(const Key& key, uint64_t n) {
    size_t i = home(key.hash);
    if (key.is_inline()) {
      for (;;) {
        Slot& s = slots_[i];
        if (s.k0 == key.k0 && s.k1 == key.k1) return bump(s, n);
        if (s.k1 == 0) break;
        i = next(i);
      }
    } else {
      for (;;) {
        Slot& s = slots_[i];
        if (s.hash == key.hash && s.k1 == key.k1 &&
            std::memcmp(reinterpret_cast<const char*>(s.k0), key.data, key.k1) == 0) {
          return bump(s, n);
        }
        if (s.k1 == 0) break;
        i = next(i);
      }
    }
    return insert(i, key, n);
  }
  AddResult add(std::string_view key, uint64_t n) { return add(make_key(key), n); }

  // Hints the cache about the slot `key` will probe first.
  void prefetch(const Key& key) const { __builtin_prefetch(&slots_[home(key.hash)], 1); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t memory() const { return slots_bytes() + arena_bytes_; }
  size_t budget() const { return budget_; }

  // Puts the entries first in the slot array, sorted in `order` (ties
  // cannot happen: keys are distinct). The table accepts no add() until
  // clear(). `parallel`: sort on oneTBB's threads. Needs no memory beyond
  // the table's.
  void sort(RecordOrder order, bool parallel = false);
  // After sort(): the i-th entry.
  std::string_view key(size_t i) const { return key_view(slots_[i]); }
  uint64_t count(size_t i) const { return slots_[i].count; }

  // Empties the table; keeps the slot array (already paid for) and one
  // arena chunk.
  void clear();
  // Empties the table and frees all its memory.
  void release();

  // k1 == 0: an empty slot (an inline key has its tag bit set, a long key
  // a non-zero length). After sort(), `hash` holds the sort key instead.
  struct Slot {
    uint64_t k0, k1, hash, count;
  };
  static std::string_view key_view(const Slot& s) {
    if (s.k1 >> 63) {
      return {reinterpret_cast<const char*>(&s.k0), static_cast<size_t>((s.k1 >> 56) & 0x7f)};
    }
    return {reinterpret_cast<const char*>(s.k0), static_cast<size_t>(s.k1)};
  }

 private:
  static constexpr uint64_t kInlineTag = uint64_t(1) << 63;

  // kKeep[n]: n bytes 0xff, then zeros.
  alignas(16) static constexpr unsigned char kKeep[16][16] = {
#define GRIST_KEEP(n)                                                                       \
  {0 < n ? 255 : 0, 1 < n ? 255 : 0, 2 < n ? 255 : 0, 3 < n ? 255 : 0, 4 < n ? 255 : 0,    \
   5 < n ? 255 : 0, 6 < n ? 255 : 0, 7 < n ? 255 : 0, 8 < n ? 255 : 0, 9 < n ? 255 : 0,    \
   10 < n ? 255 : 0, 11 < n ? 255 : 0, 12 < n ? 255 : 0, 13 < n ? 255 : 0, 14 < n ? 255 : 0, \
   0}
      GRIST_KEEP(0),  GRIST_KEEP(1),  GRIST_KEEP(2),  GRIST_KEEP(3),
      GRIST_KEEP(4),  GRIST_KEEP(5),  GRIST_KEEP(6),  GRIST_KEEP(7),
      GRIST_KEEP(8),  GRIST_KEEP(9),  GRIST_KEEP(10), GRIST_KEEP(11),
      GRIST_KEEP(12), GRIST_KEEP(13), GRIST_KEEP(14), GRIST_KEEP(15),
#undef GRIST_KEEP
  };

  static Key finish_inline(Key k, const char* p, size_t n) {
    k.k1 |= (kInlineTag | (uint64_t(n) << 56));
    uint64_t b[2] = {k.k0, k.k1};
    k.hash = XXH3_64bits(b, 16);
    k.data = p;
    return k;
  }
  static Key long_key(const char* p, size_t n) {
    return Key{0, n, XXH3_64bits(p, n), p};
  }
  static AddResult bump(Slot& s, uint64_t n) {
    uint64_t sum;
    if (__builtin_add_overflow(s.count, n, &sum)) return AddResult::overflow;
    s.count = sum;
    return AddResult::ok;
  }
  size_t slots_bytes() const { return cap_ * sizeof(Slot); }
  // A hash's first slot: the high bits of hash * cap_, so that the
  // capacity need not be a power of two and can use the whole budget.
  size_t home(uint64_t hash) const {
    return static_cast<size_t>((static_cast<unsigned __int128>(hash) * cap_) >> 64);
  }
  size_t next(size_t i) const { return i + 1 == cap_ ? 0 : i + 1; }
  AddResult insert(size_t i, const Key& key, uint64_t n);
  bool grow();
  const char* store_key(const char* p, size_t n);

  size_t budget_;
  Slot* slots_ = nullptr;
  size_t cap_ = 0;  // slots
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
