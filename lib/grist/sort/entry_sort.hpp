// The external sort's in-memory sort: 16-byte index entries of the lines of
// a batch, sorted by key with an in-place MSD radix sort on an 8-byte key
// prefix, finished by comparison. The result is the one std::sort with
// EntryLess gives (a total order: the offset breaks ties, which makes the
// sort stable and its result independent of the thread count).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace grist {

struct Entry {
  uint64_t prefix;  // (rank << 40 | 5 key bytes) or 8 key bytes, big-endian
  uint32_t off;     // of the line in the batch buffer
  uint32_t klen;
};
static_assert(sizeof(Entry) == 16);

// The first min(n, 8) bytes at p as a big-endian number, zero-padded.
inline uint64_t load_prefix(const char* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n < 8 ? n : 8);
  return __builtin_bswap64(v);
}

// memcmp of key tails, which are mostly a few bytes long (the first 8 bytes
// are in the prefixes): a byte loop beats the call for those.
inline int compare_tail(const char* a, const char* b, size_t n) {
  if (n > 16) return std::memcmp(a, b, n);
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) {
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
    }
  }
  return 0;
}

// Entries compare by prefix first; on equal prefixes the first `covered`
// key bytes are known equal (zero padding included), so only the rest of the
// keys and then the lengths are compared, and the offset breaks ties.
struct EntryLess {
  const char* base;  // the batch: key i is base + off, klen bytes
  uint32_t covered;  // key bytes held by the prefix: 8, or 5 with partitions
  bool operator()(const Entry& a, const Entry& b) const {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    uint32_t m = a.klen < b.klen ? a.klen : b.klen;
    if (m > covered) {
      int c = compare_tail(base + a.off + covered, base + b.off + covered, m - covered);
      if (c != 0) return c < 0;
    }
    if (a.klen != b.klen) return a.klen < b.klen;
    return a.off < b.off;
  }
};

// Sorts a[0, n) into EntryLess order: an in-place MSD radix sort (American
// flag sort) on the prefix bytes from byte `d` on (bytes before d must be
// equal in all entries: 0 for a whole index), large ranges sorting their
// buckets in parallel (oneTBB), small ones and equal-prefix ones finished
// by comparison. Equal keys (a frequent key's copies) cost n log n.
void sort_entries(Entry* a, size_t n, unsigned d, const EntryLess& less);

}  // namespace grist
