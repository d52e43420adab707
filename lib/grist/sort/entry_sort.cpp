#include "grist/sort/entry_sort.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace grist {

namespace {

// The offsets of a range of entries are sorted 4 bytes each, packed in the
// range's own storage; they are read and written through memcpy (the
// storage holds Entry objects, not uint32_t ones).
inline uint32_t load32(const char* raw, size_t i) {
  uint32_t v;
  std::memcpy(&v, raw + 4 * i, 4);
  return v;
}
inline void store32(char* raw, size_t i, uint32_t v) { std::memcpy(raw + 4 * i, &v, 4); }

// LSD radix sort, byte by byte, of n offsets packed at raw, through the n
// free 4-byte slots after them (the range has 12 more bytes per entry).
void radix_sort_offsets(char* raw, size_t n) {
  char* from = raw;
  char* to = raw + 4 * n;
  for (unsigned shift = 0; shift < 32; shift += 8) {
    size_t count[256] = {};
    for (size_t i = 0; i < n; ++i) ++count[(load32(from, i) >> shift) & 0xff];
    if (count[(load32(from, 0) >> shift) & 0xff] == n) continue;  // one bucket
    size_t sum = 0;
    for (size_t& c : count) {
      size_t t = c;
      c = sum;
      sum += t;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint32_t v = load32(from, i);
      store32(to, count[(v >> shift) & 0xff]++, v);
    }
    std::swap(from, to);
  }
  if (from != raw) std::memmove(raw, from, 4 * n);
}

// Sorts entries that differ only in their offsets (same prefix, same key):
// by offset, 4 bytes each rather than 16-byte entries. Small ranges are
// sorted in a stack buffer; large ones are packed in place at the start of
// the range (offset i goes to bytes 4i, over entries already read), sorted,
// then expanded back from the end (entry i overwrites offsets >= i, already
// placed).
void sort_offsets(Entry* a, size_t n) {
  const Entry proto = a[0];
  if (n < 512) {
    uint32_t offs[512];
    for (size_t i = 0; i < n; ++i) offs[i] = a[i].off;
    std::sort(offs, offs + n);
    for (size_t i = 0; i < n; ++i) a[i] = Entry{proto.prefix, offs[i], proto.klen};
    return;
  }
  char* raw = reinterpret_cast<char*>(a);
  for (size_t i = 0; i < n; ++i) store32(raw, i, a[i].off);
  radix_sort_offsets(raw, n);
  for (size_t i = n; i-- > 0;) a[i] = Entry{proto.prefix, load32(raw, i), proto.klen};
}

// Sorts entries whose prefixes are all equal.
void sort_equal_prefixes(Entry* a, size_t n, const EntryLess& less) {
  // Often (many equal keys) the keys are all the same: order by offset.
  bool same = true;
  if (a[0].klen > less.covered) {  // tails compared in the batch: fetch ahead
    for (size_t i = 0; i < std::min<size_t>(n, 16); ++i) {
      __builtin_prefetch(less.base + a[i].off + less.covered);
    }
  }
  for (size_t i = 1; i < n && same; ++i) {
    if (i + 16 < n && a[0].klen > less.covered) {
      __builtin_prefetch(less.base + a[i + 16].off + less.covered);
    }
    same = a[i].klen == a[0].klen &&
           (a[0].klen <= less.covered ||
            compare_tail(less.base + a[i].off + less.covered, less.base + a[0].off + less.covered,
                         a[0].klen - less.covered) == 0);
  }
  if (same) {
    sort_offsets(a, n);
  } else {
    std::sort(a, a + n, less);
  }
}

// count[b]: the entries whose prefix byte at `shift` is b.
void count_digits(const Entry* a, size_t n, unsigned shift, size_t count[256]) {
  if (n < 2048) {
    for (size_t i = 0; i < n; ++i) ++count[(a[i].prefix >> shift) & 0xff];
    return;
  }
  // Four tables, so that runs of equal bytes do not serialize the counts.
  uint32_t c4[4][256] = {};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++c4[0][(a[i].prefix >> shift) & 0xff];
    ++c4[1][(a[i + 1].prefix >> shift) & 0xff];
    ++c4[2][(a[i + 2].prefix >> shift) & 0xff];
    ++c4[3][(a[i + 3].prefix >> shift) & 0xff];
  }
  for (; i < n; ++i) ++c4[0][(a[i].prefix >> shift) & 0xff];
  for (unsigned b = 0; b < 256; ++b) {
    count[b] = size_t(c4[0][b]) + c4[1][b] + c4[2][b] + c4[3][b];
  }
}

}  // namespace

void sort_entries(Entry* a, size_t n, unsigned d, const EntryLess& less) {
  constexpr size_t kSmall = 48;
  constexpr size_t kParallel = size_t(1) << 15;
  if (n < 2) return;
  // Bytes that all prefixes share (equal keys, common prefixes) are skipped
  // at once: the next digit is the first byte where any prefix differs from
  // the first one (at d or after: bytes before d are equal by construction).
  uint64_t diff = 0;
  const uint64_t first = a[0].prefix;
  for (size_t i = 1; i < n; ++i) diff |= a[i].prefix ^ first;
  if (diff == 0) {
    // Small ranges too: equal keys (a frequent key's copies) would cost an
    // insertion sort quadratic time, their offsets sort in n log n.
    sort_equal_prefixes(a, n, less);
    return;
  }
  if (n <= kSmall) {
    // Keys longer than the prefix are compared in the batch, at random
    // places: fetch them all at once rather than miss once per comparison.
    for (size_t i = 0; i < n; ++i) {
      if (a[i].klen > less.covered) __builtin_prefetch(less.base + a[i].off + less.covered);
    }
    std::sort(a, a + n, less);
    return;
  }
  d = static_cast<unsigned>(__builtin_clzll(diff)) / 8;
  const unsigned shift = 56 - 8 * d;
  size_t count[256] = {};
  count_digits(a, n, shift, count);
  // The occupied buckets, in order: [start, end) of each.
  uint8_t digit[256];
  size_t head[256], end[256];
  unsigned m = 0;
  size_t sum = 0;
  for (unsigned b = 0; b < 256; ++b) {
    if (!count[b]) continue;
    digit[m++] = static_cast<uint8_t>(b);
    head[b] = sum;
    sum += count[b];
    end[b] = sum;
  }
  for (unsigned j = 0; j < m; ++j) {
    const unsigned b = digit[j];
    while (head[b] < end[b]) {
      Entry v = a[head[b]];
      unsigned db = (v.prefix >> shift) & 0xff;
      while (db != b) {
        std::swap(v, a[head[db]++]);
        db = (v.prefix >> shift) & 0xff;
      }
      a[head[b]++] = v;
    }
  }
  auto sort_bucket = [&](unsigned j) {
    const unsigned b = digit[j];
    if (count[b] > 1) sort_entries(a + end[b] - count[b], count[b], d + 1, less);
  };
  if (n > kParallel) {
    tbb::parallel_for(0u, m, sort_bucket);
  } else {
    for (unsigned j = 0; j < m; ++j) sort_bucket(j);
  }
}

}  // namespace grist
