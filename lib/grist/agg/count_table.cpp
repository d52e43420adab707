#include "grist/agg/count_table.hpp"

#include <sys/mman.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "grist/record/record.hpp"

namespace grist {

namespace {

constexpr double kMaxLoad = 0.7;        // grow beyond this load...
constexpr double kMaxLoadStuck = 0.85;  // ...or, when growing would pass the budget, stop here

constexpr size_t kHugePage = size_t(2) << 20;

// Slot arrays are aligned so that no slot straddles two cache lines; a
// large one asks for transparent huge pages, as its lookups are random and
// would otherwise miss the TLB more often than the cache.
CountTable::Slot* alloc_slots(size_t cap) {
  size_t bytes = cap * sizeof(CountTable::Slot);  // cap >= 16: a multiple of 64
  bool huge = bytes >= kHugePage;                 // then a multiple of kHugePage
  void* p = std::aligned_alloc(huge ? kHugePage : 64, bytes);
  if (!p) throw std::bad_alloc();
  if (huge) ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
  std::memset(p, 0, bytes);
  return static_cast<CountTable::Slot*>(p);
}

// A capacity of at most `cap` slots that alloc_slots() takes: even (whole
// cache lines), a whole number of huge pages when that large.
size_t round_cap(size_t cap) {
  constexpr size_t per_huge = kHugePage / sizeof(CountTable::Slot);
  if (cap >= per_huge) return cap / per_huge * per_huge;
  return std::max<size_t>(cap & ~size_t(1), 16);
}

size_t pow2_floor(size_t x) {
  size_t p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

}  // namespace

CountTable::CountTable(size_t budget) : budget_(budget) {
  size_t cap = std::clamp<size_t>(pow2_floor(std::max<size_t>(budget / (sizeof(Slot) * 4), 1)),
                                  16, 4096);
  slots_ = alloc_slots(cap);
  cap_ = cap;
  max_size_ = static_cast<size_t>(cap * kMaxLoad);
  chunk_size_ = std::clamp<size_t>(budget / 16, 4096, 1 << 20);
}

CountTable::CountTable(CountTable&& o) noexcept { *this = std::move(o); }

CountTable& CountTable::operator=(CountTable&& o) noexcept {
  if (this != &o) {
    std::free(slots_);
    budget_ = o.budget_;
    slots_ = o.slots_;
    cap_ = o.cap_;
    size_ = o.size_;
    max_size_ = o.max_size_;
    sorted_ = o.sorted_;
    chunks_ = std::move(o.chunks_);
    chunk_sizes_ = std::move(o.chunk_sizes_);
    chunk_size_ = o.chunk_size_;
    chunk_pos_ = o.chunk_pos_;
    chunk_end_ = o.chunk_end_;
    arena_bytes_ = o.arena_bytes_;
    o.slots_ = nullptr;
    o.cap_ = 0;
    o.size_ = 0;
    o.arena_bytes_ = 0;
  }
  return *this;
}

CountTable::~CountTable() { std::free(slots_); }

const char* CountTable::store_key(const char* key, size_t n) {
  if (chunks_.empty() || chunk_end_ - chunk_pos_ < n) {
    size_t sz = std::max(chunk_size_, n);
    bool empty = size_ == 0;
    if (!empty && memory() + sz > budget_) return nullptr;
    chunks_.emplace_back(new char[sz]);
    chunk_sizes_.push_back(sz);
    arena_bytes_ += sz;
    chunk_pos_ = 0;
    chunk_end_ = sz;
  }
  char* p = chunks_.back().get() + chunk_pos_;
  std::memcpy(p, key, n);
  chunk_pos_ += n;
  return p;
}

bool CountTable::grow() {
  size_t cap = cap_;
  size_t ncap = cap * 2;
  if (size_ > 0) {
    // While rehashing, both arrays exist; afterwards the arena goes on
    // growing with the keys, at the rate seen so far. Short of doubling,
    // the step that would make the next one impossible takes what fits.
    size_t room = budget_ > arena_bytes_ ? (budget_ - arena_bytes_) / sizeof(Slot) : 0;
    double arena_per_slot = kMaxLoadStuck * static_cast<double>(arena_bytes_) /
                            static_cast<double>(size_) / sizeof(Slot);
    size_t most = std::min(room > cap ? room - cap : 0,
                           static_cast<size_t>(static_cast<double>(budget_ / sizeof(Slot)) /
                                               (1.0 + arena_per_slot)));
    if (ncap > most || 3 * ncap > room) ncap = std::max(most, cap);
    ncap = round_cap(ncap);
    if (ncap < cap + cap / 4) {  // not worth a rehash: fill up, then spill
      size_t stuck = static_cast<size_t>(cap * kMaxLoadStuck);
      if (max_size_ < stuck) {
        max_size_ = stuck;
        return true;
      }
      return false;
    }
  }
  Slot* ns = alloc_slots(ncap);
  Slot* old = slots_;
  slots_ = ns;
  cap_ = ncap;
  for (size_t i = 0; i < cap; ++i) {
    const Slot& s = old[i];
    if (!s.k1) continue;
    size_t j = home(s.hash);
    while (ns[j].k1) j = next(j);
    ns[j] = s;
  }
  std::free(old);
  max_size_ = static_cast<size_t>(ncap * kMaxLoad);
  return true;
}

CountTable::AddResult CountTable::insert(size_t i, const Key& key, uint64_t n) {
  if (size_ + 1 > max_size_) {
    if (!grow()) return AddResult::full;
    i = home(key.hash);  // the array may have been rebuilt
    while (slots_[i].k1) i = next(i);
  }
  uint64_t k0 = key.k0;
  if (!key.is_inline()) {
    const char* k = store_key(key.data, key.k1);
    if (!k) return AddResult::full;
    k0 = reinterpret_cast<uint64_t>(k);
  }
  slots_[i] = Slot{k0, key.k1, key.hash, n};
  ++size_;
  return AddResult::ok;
}

namespace {

using Slot = CountTable::Slot;

// Bytes [off, off + 8) of a key, big-endian, zero-padded: integer order of
// these windows agrees with memcmp order of keys that share their first
// `off` bytes, wherever the windows differ.
inline uint64_t window(const Slot& s, size_t off) {
  std::string_view k = CountTable::key_view(s);
  if (off == 0 && k.size() >= 8) {
    uint64_t v;
    std::memcpy(&v, k.data(), 8);
    return __builtin_bswap64(v);
  }
  if ((s.k1 >> 63) && off == 0) return __builtin_bswap64(s.k0);  // inline: zero-padded
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (k.size() > off) std::memcpy(b, k.data() + off, std::min<size_t>(k.size() - off, 8));
  uint64_t v;
  std::memcpy(&v, b, 8);
  return __builtin_bswap64(v);
}

struct SlotLess {
  bool operator()(const Slot& a, const Slot& b) const {
    if (a.hash != b.hash) return a.hash < b.hash;
    return compare_keys(CountTable::key_view(a), CountTable::key_view(b)) < 0;
  }
};

constexpr size_t kRadixSmall = 64;                // below: a comparison sort
constexpr size_t kParallelMin = size_t(1) << 15;  // below: no new tasks
constexpr size_t kMaxWindowOffset = 256;          // beyond: a comparison sort

// In-place MSD radix sort (American flag sort) of slots by their sort key
// (the `hash` field), whose bytes before `byte` (0: most significant) are
// the same for all. When the sort keys are all equal they are refilled
// with the next window of key bytes, from `next_off`; small ranges, and
// keys that share very long prefixes, go to a comparison sort on the sort
// key and the whole key.
void radix_sort(Slot* a, size_t n, int byte, size_t next_off, bool parallel) {
  for (;;) {
    if (n <= kRadixSmall) break;
    uint64_t diff = 0;
    const uint64_t h0 = a[0].hash;
    for (size_t i = 0; i < n; ++i) diff |= a[i].hash ^ h0;
    if (diff == 0) {  // this window is exhausted: the next one
      if (next_off > kMaxWindowOffset) break;
      size_t longest = 0;
      for (size_t i = 0; i < n; ++i) {
        longest = std::max(longest, CountTable::key_view(a[i]).size());
        a[i].hash = window(a[i], next_off);
      }
      if (longest <= next_off) break;  // the keys differ in length only
      next_off += 8;
      byte = 0;
      continue;
    }
    byte = __builtin_clzll(diff) / 8;  // the first byte that differs
    const int shift = 56 - 8 * byte;
    size_t count[256] = {};
    for (size_t i = 0; i < n; ++i) ++count[(a[i].hash >> shift) & 0xff];
    size_t next[256], end[256], pos = 0;
    for (int b = 0; b < 256; ++b) {
      next[b] = pos;
      pos += count[b];
      end[b] = pos;
    }
    for (int b = 0; b < 256; ++b) {
      while (next[b] < end[b]) {
        Slot v = a[next[b]];
        unsigned d = (v.hash >> shift) & 0xff;
        while (d != static_cast<unsigned>(b)) {
          // Each bucket is written in order: fetching a little ahead of its
          // cursor turns most of this chain of dependent misses into hits.
          __builtin_prefetch(reinterpret_cast<const void*>(
              reinterpret_cast<uintptr_t>(a + next[d]) + 8 * sizeof(Slot)), 1);
          std::swap(v, a[next[d]++]);
          d = (v.hash >> shift) & 0xff;
        }
        a[next[b]++] = v;
      }
    }
    auto bucket = [&](int b) {
      if (count[b] > 1) radix_sort(a + (end[b] - count[b]), count[b], byte + 1, next_off, parallel);
    };
    if (parallel && n >= kParallelMin) {
      tbb::parallel_for(0, 256, bucket);
    } else {
      for (int b = 0; b < 256; ++b) bucket(b);
    }
    return;
  }
  std::sort(a, a + n, SlotLess{});
}

}  // namespace

void CountTable::sort(RecordOrder order, bool parallel) {
  size_t cap = cap_, n = 0;
  for (size_t i = 0; i < cap; ++i) {
    if (slots_[i].k1) slots_[n++] = slots_[i];
  }
  // A frozen table needs no hashes: each slot's hash field becomes a sort
  // key, (partition, first key bytes) as one integer, so that most
  // comparisons neither follow a key pointer nor call memcmp, and a radix
  // sort can work on it. Equal fields fall back to further key bytes.
  size_t next_off = 8;
  if (order.partitions >= (1u << 24)) {
    next_off = 0;
  } else if (order.partitions) {
    next_off = 5;
  }
  for (size_t i = 0; i < n; ++i) {
    Slot& s = slots_[i];
    if (order.partitions >= (1u << 24)) {
      s.hash = order.rank(key_view(s));
    } else if (order.partitions) {
      s.hash = (order.rank(key_view(s)) << 40) | (window(s, 0) >> 24);
    } else {
      s.hash = window(s, 0);
    }
  }
  radix_sort(slots_, n, 0, next_off, parallel);
  sorted_ = true;
}

void CountTable::clear() {
  std::memset(static_cast<void*>(slots_), 0, cap_ * sizeof(Slot));
  size_ = 0;
  sorted_ = false;
  max_size_ = static_cast<size_t>(cap_ * kMaxLoad);
  if (chunks_.size() > 1) {
    chunks_.resize(1);
    chunk_sizes_.resize(1);
  }
  arena_bytes_ = chunks_.empty() ? 0 : chunk_sizes_[0];
  chunk_pos_ = 0;
  chunk_end_ = chunks_.empty() ? 0 : chunk_sizes_[0];
}

void CountTable::release() {
  clear();
  chunks_.clear();
  chunk_sizes_.clear();
  arena_bytes_ = 0;
  chunk_pos_ = chunk_end_ = 0;
  std::free(slots_);
  size_t cap = 16;
  slots_ = alloc_slots(cap);
  cap_ = cap;
  max_size_ = static_cast<size_t>(cap * kMaxLoad);
}

bool CountTableStream::next(Record& r) {
  if (i_ >= t_.size()) return false;
  r.key = t_.key(i_);
  char* e = format_u64(t_.count(i_), buf_);
  r.value = std::string_view(buf_, static_cast<size_t>(e - buf_));
  ++i_;
  return true;
}

}  // namespace grist
