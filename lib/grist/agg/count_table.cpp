#include "grist/agg/count_table.hpp"

#include <tbb/parallel_sort.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "grist/record/record.hpp"

namespace grist {

namespace {

constexpr double kMaxLoad = 0.7;        // grow beyond this load...
constexpr double kMaxLoadStuck = 0.85;  // ...or, when growing would pass the budget, stop here

size_t pow2_floor(size_t x) {
  size_t p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

}  // namespace

CountTable::CountTable(size_t budget) : budget_(budget) {
  size_t cap = std::clamp<size_t>(pow2_floor(std::max<size_t>(budget / (sizeof(Slot) * 4), 1)),
                                  16, 4096);
  slots_ = static_cast<Slot*>(std::calloc(cap, sizeof(Slot)));
  if (!slots_) throw std::bad_alloc();
  mask_ = cap - 1;
  max_size_ = static_cast<size_t>(cap * kMaxLoad);
  chunk_size_ = std::clamp<size_t>(budget / 16, 4096, 1 << 20);
}

CountTable::CountTable(CountTable&& o) noexcept { *this = std::move(o); }

CountTable& CountTable::operator=(CountTable&& o) noexcept {
  if (this != &o) {
    std::free(slots_);
    budget_ = o.budget_;
    slots_ = o.slots_;
    mask_ = o.mask_;
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
    o.mask_ = 0;
    o.size_ = 0;
    o.arena_bytes_ = 0;
  }
  return *this;
}

CountTable::~CountTable() { std::free(slots_); }

const char* CountTable::store_key(std::string_view key) {
  size_t need = 4 + key.size();
  if (chunks_.empty() || chunk_end_ - chunk_pos_ < need) {
    size_t sz = std::max(chunk_size_, need);
    bool empty = size_ == 0;
    if (!empty && memory() + sz > budget_) return nullptr;
    chunks_.emplace_back(new char[sz]);
    chunk_sizes_.push_back(sz);
    arena_bytes_ += sz;
    chunk_pos_ = 0;
    chunk_end_ = sz;
  }
  char* p = chunks_.back().get() + chunk_pos_;
  uint32_t len = static_cast<uint32_t>(key.size());
  std::memcpy(p, &len, 4);
  std::memcpy(p + 4, key.data(), key.size());
  chunk_pos_ += need;
  return p;
}

bool CountTable::grow() {
  size_t cap = mask_ + 1;
  size_t ncap = cap * 2;
  // While rehashing, both arrays exist.
  if (size_ > 0 && arena_bytes_ + (cap + ncap) * sizeof(Slot) > budget_) {
    size_t stuck = static_cast<size_t>(cap * kMaxLoadStuck);
    if (max_size_ < stuck) {
      max_size_ = stuck;
      return true;
    }
    return false;
  }
  Slot* ns = static_cast<Slot*>(std::calloc(ncap, sizeof(Slot)));
  if (!ns) throw std::bad_alloc();
  size_t nmask = ncap - 1;
  for (size_t i = 0; i < cap; ++i) {
    const Slot& s = slots_[i];
    if (!s.ref) continue;
    size_t j = s.hash & nmask;
    while (ns[j].ref) j = (j + 1) & nmask;
    ns[j] = s;
  }
  std::free(slots_);
  slots_ = ns;
  mask_ = nmask;
  max_size_ = static_cast<size_t>(ncap * kMaxLoad);
  return true;
}

CountTable::AddResult CountTable::insert(size_t i, std::string_view key, uint64_t hash,
                                         uint64_t n, uint64_t packed) {
  if (size_ + 1 > max_size_) {
    if (!grow()) return AddResult::full;
    i = hash & mask_;  // the array may have been rebuilt
    while (slots_[i].ref) i = (i + 1) & mask_;
  }
  uint64_t ref = packed;
  if (key.size() > kInlineMax) {
    const char* k = store_key(key);
    if (!k) return AddResult::full;
    ref = reinterpret_cast<uint64_t>(k);
  }
  slots_[i] = Slot{hash, n, ref};
  ++size_;
  return AddResult::ok;
}

namespace {

// The first `n` (<= 8) bytes of key, big-endian, zero-padded: integer order
// of prefixes agrees with memcmp order of keys wherever the prefixes differ.
inline uint64_t prefix_be(std::string_view key, size_t n) {
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(b, key.data(), std::min(key.size(), n));
  uint64_t v;
  std::memcpy(&v, b, 8);
  return __builtin_bswap64(v);
}

}  // namespace

void CountTable::sort(RecordOrder order, bool parallel) {
  size_t cap = mask_ + 1, n = 0;
  for (size_t i = 0; i < cap; ++i) {
    if (slots_[i].ref) slots_[n++] = slots_[i];
  }
  // A frozen table needs no hashes: each slot's hash field becomes a sort
  // key, (partition, first key bytes) as one integer, so that most
  // comparisons neither follow a key pointer nor call memcmp. Equal fields
  // fall back to comparing whole keys.
  for (size_t i = 0; i < n; ++i) {
    Slot& s = slots_[i];
    std::string_view k = key_view(s);
    if (order.partitions >= (1u << 24)) {
      s.hash = order.rank_from_hash(s.hash);
    } else if (order.partitions) {
      s.hash = (order.rank_from_hash(s.hash) << 40) | (prefix_be(k, 5) >> 24);
    } else {
      s.hash = prefix_be(k, 8);
    }
  }
  auto less = [](const Slot& a, const Slot& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return compare_keys(key_view(a), key_view(b)) < 0;
  };
  if (parallel) {
    tbb::parallel_sort(slots_, slots_ + n, less);
  } else {
    std::sort(slots_, slots_ + n, less);
  }
  sorted_ = true;
}

void CountTable::clear() {
  std::memset(static_cast<void*>(slots_), 0, (mask_ + 1) * sizeof(Slot));
  size_ = 0;
  sorted_ = false;
  max_size_ = static_cast<size_t>((mask_ + 1) * kMaxLoad);
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
  slots_ = static_cast<Slot*>(std::calloc(cap, sizeof(Slot)));
  if (!slots_) throw std::bad_alloc();
  mask_ = cap - 1;
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
