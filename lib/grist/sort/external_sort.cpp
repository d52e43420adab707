#include "grist/sort/external_sort.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "grist/error.hpp"
#include "grist/record/record.hpp"
#include "grist/sort/merge.hpp"
#include "grist/sort/run.hpp"

namespace grist {

void encode_line_key(std::string_view line, std::string& out) {
  out.clear();
  for (char c : line) {
    if (c == '\x08') {
      out += '\x08';
      out += '\x01';
    } else if (c == '\t') {
      out += '\x08';
      out += '\x02';
    } else {
      out += c;
    }
  }
}

void decode_line_key(std::string_view key, std::string& out) {
  out.clear();
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '\x08' && i + 1 < key.size()) {
      out += key[++i] == '\x01' ? '\x08' : '\t';
    } else {
      out += key[i];
    }
  }
}

size_t sort_block_size(const SortOptions& o) {
  if (o.block_size) return o.block_size;
  return std::clamp<uint64_t>(o.memory / 16, 16 << 10, 4 << 20);
}

namespace {

// Cost of one open run in a merge (RunReader: zstd window and buffers).
constexpr uint64_t kReaderCost = 1 << 20;
// Spilling: kSpillTokens slices in flight, each about spill_slice() bytes
// of lines and their compressed frame, and a compression context per thread.
constexpr size_t kSpillTokens = 4;

size_t spill_slice(uint64_t memory) {
  return std::clamp<uint64_t>(memory / 256, 32 << 10, 256 << 10);
}
uint64_t writer_cost(uint64_t memory) {
  return kSpillTokens * 3 * spill_slice(memory) + (1 << 20);
}

struct Entry {
  uint64_t prefix;  // (rank << 40 | 5 key bytes) or 8 key bytes, big-endian
  uint32_t off;     // of the line in the batch buffer
  uint32_t klen;
};
static_assert(sizeof(Entry) == 16);

inline uint64_t load_prefix(const char* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n < 8 ? n : 8);
  return __builtin_bswap64(v);
}

// One batch: line bytes grow up from the start of `buf`, index entries are
// placed down from its end when the batch is sorted.
struct Batch {
  ByteBuffer buf;   // grows by realloc (large: mremap, no copy) as lines come
  size_t cap = 0;   // bytes of buf
  size_t used = 0;  // line bytes
  size_t lines = 0;
  struct Piece {
    size_t off, size, lines, first_entry;
    uint64_t first_line;  // in its input, for messages
    std::shared_ptr<const std::string> source;
  };
  std::vector<Piece> pieces;

  Entry* entries() const {
    uintptr_t end = reinterpret_cast<uintptr_t>(buf.data()) + cap;
    end &= ~uintptr_t(alignof(Entry) - 1);
    return reinterpret_cast<Entry*>(end) - lines;
  }
  size_t need(size_t bytes, size_t n) const {
    return used + bytes + (lines + n) * sizeof(Entry) + alignof(Entry);
  }
  void clear() {
    used = lines = 0;
    pieces.clear();
  }
};

// The LF ending the line that goes on at v. Values are mostly a few bytes:
// look at those inline before calling rawmemchr.
inline const char* line_end(const char* v) {
  for (int i = 0; i < 16; ++i) {
    if (v[i] == '\n') return v + i;
  }
  return static_cast<const char*>(rawmemchr(v + 16, '\n'));
}

// Same, where the 16 bytes at any q < limit - 15 may be read: 16 bytes
// compared at once (lines are mostly a dozen bytes, so this is one step).
inline const char* line_end_before(const char* v, const char* limit) {
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  while (limit - v >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v));
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, lf)));
    if (m) return v + __builtin_ctz(m);
    v += 16;
  }
#else
  (void)limit;
#endif
  return line_end(v);
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
  const char* base;
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

// Sorted entries of a batch as line records (whole-line keys escaped, as
// runs need them). Owns the batch when it is the final one.
class BatchStream : public RecordStream {
 public:
  BatchStream(const char* base, const Entry* e, size_t n, bool whole_line)
      : base_(base), e_(e), n_(n), whole_line_(whole_line) {}
  BatchStream(Batch&& b, bool whole_line)
      : BatchStream(b.buf.data(), b.entries(), b.lines, whole_line) {
    owned_ = std::move(b);
  }

  bool next(Record& r) override {
    if (i_ == n_) return false;
    // Lines are visited in key order, i.e. at random: fetch ahead.
    if (i_ + 16 < n_) __builtin_prefetch(base_ + e_[i_ + 16].off);
    const Entry& e = e_[i_++];
    const char* p = base_ + e.off;
    if (whole_line_) {
      std::string_view line(p, e.klen);
      if (std::memchr(p, '\t', e.klen) || std::memchr(p, '\x08', e.klen)) {
        encode_line_key(line, scratch_);
        r.key = scratch_;
      } else {
        r.key = line;
      }
      r.value = {};
    } else {
      const char* v = p + e.klen;
      const char* nl = v;  // values are short, and blocks end with LF
      while (*nl != '\n') ++nl;
      r.key = {p, e.klen};
      r.value = {v, static_cast<size_t>(nl - v)};
    }
    return true;
  }

 private:
  const char* base_;
  const Entry* e_;
  size_t n_, i_ = 0;
  bool whole_line_;
  std::string scratch_;
  Batch owned_;
};

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
    // The entries differ only in their offsets: sort those, 4 bytes each
    // rather than 16-byte entries, packed in place at the start of the
    // range (offset i goes to bytes 4i, over entries already read), then
    // expanded back from the end (entry i overwrites offsets >= i, already
    // placed).
    const Entry proto = a[0];
    char* raw = reinterpret_cast<char*>(a);
    for (size_t i = 0; i < n; ++i) {
      uint32_t off = a[i].off;
      std::memcpy(raw + 4 * i, &off, 4);
    }
    uint32_t* offs = reinterpret_cast<uint32_t*>(raw);
    if (n < 512) {
      std::sort(offs, offs + n);
    } else {
      // LSD radix sort, byte by byte, through the free bytes after the
      // offsets (the range has 12 more bytes per entry).
      uint32_t* from = offs;
      uint32_t* to = offs + n;
      for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[256] = {};
        for (size_t i = 0; i < n; ++i) ++count[(from[i] >> shift) & 0xff];
        if (count[(from[0] >> shift) & 0xff] == n) continue;  // one bucket
        size_t sum = 0;
        for (size_t& c : count) {
          size_t t = c;
          c = sum;
          sum += t;
        }
        for (size_t i = 0; i < n; ++i) to[count[(from[i] >> shift) & 0xff]++] = from[i];
        std::swap(from, to);
      }
      if (from != offs) std::memcpy(offs, from, n * sizeof(uint32_t));
    }
    for (size_t i = n; i-- > 0;) {
      uint32_t off;
      std::memcpy(&off, raw + 4 * i, 4);
      a[i] = Entry{proto.prefix, off, proto.klen};
    }
  } else {
    std::sort(a, a + n, less);
  }
}

// In-place MSD radix sort (American flag sort) of entries on the bytes of
// their prefix, from byte `d` (0: the most significant) on; small ranges,
// and ranges whose prefixes are all equal, are finished with std::sort.
// `less` is a total order (the offset breaks ties), so the result is the
// one any comparison sort gives, whatever the thread count. Large ranges
// sort their buckets in parallel.
void radix_sort(Entry* a, size_t n, unsigned d, const EntryLess& less) {
  constexpr size_t kSmall = 48;
  constexpr size_t kParallel = size_t(1) << 15;
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
  if (n < 2048) {
    for (size_t i = 0; i < n; ++i) ++count[(a[i].prefix >> shift) & 0xff];
  } else {
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
    if (count[b] > 1) radix_sort(a + end[b] - count[b], count[b], d + 1, less);
  };
  if (n > kParallel) {
    tbb::parallel_for(0u, m, sort_bucket);
  } else {
    for (unsigned j = 0; j < m; ++j) sort_bucket(j);
  }
}

// Turns escaped whole-line keys back into lines.
class DecodeStream : public RecordStream {
 public:
  explicit DecodeStream(std::unique_ptr<RecordStream> in) : in_(std::move(in)) {}
  bool next(Record& r) override {
    if (!in_->next(r)) return false;
    if (std::memchr(r.key.data(), '\x08', r.key.size())) {
      decode_line_key(r.key, scratch_);
      r.key = scratch_;
    }
    return true;
  }

 private:
  std::unique_ptr<RecordStream> in_;
  std::string scratch_;
};

// The error for an overflow of a sum within one batch: its lines are in
// memory, in input order, whatever the input (standard input included).
Error locate_in_batch(const char* base, const std::vector<Batch::Piece>& pieces,
                      const SumOverflow& e) {
  SumOverflowFinder finder(e, SumInput::values);
  for (const auto& pc : pieces) {
    if (finder.feed(*pc.source, pc.first_line, base + pc.off, pc.size)) break;
  }
  return finder.error();
}

// The last batch, combined in memory: an overflow is named from its lines.
class BatchLocatingStream : public RecordStream {
 public:
  BatchLocatingStream(std::unique_ptr<RecordStream> in, const char* base,
                      std::vector<Batch::Piece> pieces)
      : in_(std::move(in)), base_(base), pieces_(std::move(pieces)) {}
  bool next(Record& r) override {
    try {
      return in_->next(r);
    } catch (const SumOverflow& e) {
      throw locate_in_batch(base_, pieces_, e);
    }
  }

 private:
  std::unique_ptr<RecordStream> in_;
  const char* base_;  // owned by in_
  std::vector<Batch::Piece> pieces_;
};

class Sorter {
 public:
  Sorter(const SortOptions& o, SortStats& st) : o_(o), st_(st) {
    size_t block = sort_block_size(o);
    fan_in_ = o.fan_in ? o.fan_in : std::clamp<uint64_t>(o.memory / 4 / kReaderCost, 2, 64);
    uint64_t fixed = 3 * block + fan_in_ * kReaderCost + writer_cost(o.memory);
    uint64_t cap = std::max<uint64_t>(o.memory > fixed ? o.memory - fixed : 0, o.memory / 2);
    cap = std::max<uint64_t>(cap, 4 << 10);
    // Offsets are 32-bit.
    batch_cap_ = std::min<uint64_t>(cap, uint64_t(4000) << 20);
    order_.partitions = o.partitions;
  }

  void add_block(const Block& b) {
    st_.records += b.lines;
    st_.bytes += b.size;
    if (batch_.need(b.size, b.lines) > batch_.cap) {
      if (batch_.lines && batch_.need(b.size, b.lines) > batch_cap_) {
        try {
          spill();
        } catch (const SumOverflow& e) {  // a sum within this batch: its lines are here
          throw locate_in_batch(batch_.buf.data(), batch_.pieces, e);
        }
      }
      if (batch_.need(b.size, b.lines) > batch_.cap) grow(batch_.need(b.size, b.lines));
    }
    std::memcpy(batch_.buf.data() + batch_.used, b.data(), b.size);
    batch_.pieces.push_back({batch_.used, b.size, b.lines, batch_.lines, b.first_line, b.source});
    batch_.used += b.size;
    batch_.lines += b.lines;
  }

  std::unique_ptr<RecordStream> finish() {
    std::unique_ptr<RecordStream> last;
    if (batch_.lines) {
      sort_batch();
      const char* base = batch_.buf.data();
      std::vector<Batch::Piece> pieces =
          o_.combine.op == Reduction::sum ? batch_.pieces : std::vector<Batch::Piece>{};
      last = combined(std::make_unique<BatchStream>(std::move(batch_), o_.whole_line));
      if (o_.combine.op == Reduction::sum) {
        last = std::make_unique<BatchLocatingStream>(std::move(last), base, std::move(pieces));
      }
    }
    std::unique_ptr<RecordStream> out;
    if (runs_.empty()) {
      st_.merge_passes = 0;
      if (last) {
        out = std::move(last);
      } else {
        struct Empty : RecordStream {
          bool next(Record&) override { return false; }
        };
        out = std::make_unique<Empty>();
      }
    } else {
      MergeOptions mo;
      mo.temp_dir = o_.temp_dir;
      mo.fan_in = fan_in_;
      mo.level = kRunLevel;  // intermediate runs too are written once, read once
      mo.order = order_;
      if (o_.combine.op != Reduction::none) {
        ReduceSpec spec = o_.combine;
        mo.make_combiner = [spec] { return make_reducer(spec); };
      }
      std::vector<std::unique_ptr<RecordStream>> extra;
      if (last) extra.push_back(std::move(last));
      MergeStats ms;
      out = merge_runs(std::move(runs_), mo, &ms, std::move(extra));
      st_.merge_passes = ms.passes;
      st_.intermediate_runs = ms.intermediate_runs;
    }
    if (o_.whole_line) out = std::make_unique<DecodeStream>(std::move(out));
    return out;
  }

 private:
  // Makes room for `need` bytes, keeping the lines: the buffer at least
  // doubles, up to the batch's share of the budget (one block larger than
  // that gets what it needs). Memory is taken as the input needs it, so a
  // small input under a small address-space limit (ulimit -v) takes little.
  void grow(size_t need) {
    const uint64_t doubled = std::max<uint64_t>(2 * uint64_t(batch_.cap), 1 << 20);
    const size_t cap = std::max<size_t>(need, std::min<uint64_t>(batch_cap_, doubled));
    batch_.buf.resize(cap);
    batch_.cap = cap;
  }

  std::unique_ptr<RecordStream> combined(std::unique_ptr<RecordStream> s) {
    if (o_.combine.op == Reduction::none) return s;
    return std::make_unique<CombiningStream>(std::move(s), make_reducer(o_.combine));
  }

  // Indexes the batch and sorts the index. Without partitions the top radix
  // digit (the first one or two key bytes) is sorted while indexing: a
  // first parallel pass counts the digits of the keys of each group of
  // pieces, and the second writes each entry straight into its bucket
  // (scatter), so that no serial in-place pass over the whole index is
  // needed. Buckets then sort in parallel from the next byte on. With
  // partitions the top bytes are a hash's and the entries are sorted from
  // byte 0.
  void sort_batch() {
    ++st_.batches;
    Entry* e = batch_.entries();
    const char* base = batch_.buf.data();
    const bool whole = o_.whole_line;
    const RecordOrder order = order_;
    const size_t np = batch_.pieces.size();
    const EntryLess less{base, order.partitions ? 5u : 8u};
    if (order.partitions) {
      tbb::parallel_for(size_t(0), np, [&](size_t i) {
        index_piece(i, [&, out = e + batch_.pieces[i].first_entry](const Entry& x) mutable {
          *out++ = x;
        });
      });
      radix_sort(e, batch_.lines, 0, less);
      return;
    }
    // The scatter's digit: the first key byte, or with many lines the first
    // two (a 16-bit digit leaves buckets that sort in cache; its counters,
    // 256 KiB per group, 2.3 MiB in all, are taken only with a budget of
    // 64 MiB or more). Consecutive pieces are counted and scattered in
    // groups (many small input files make many small pieces).
    const unsigned bits = o_.memory >= (uint64_t(64) << 20) && batch_.lines >= 65536 ? 16 : 8;
    const size_t nb = size_t(1) << bits;
    const size_t ng = std::min(np, bits == 16 ? size_t(8) : size_t(64));
    auto group_pieces = [&](size_t g) {
      return std::pair<size_t, size_t>{np * g / ng, np * (g + 1) / ng};
    };
    // The top `bits` bits of the prefix of the line at p: key bytes, zero
    // past the end of the key (a TAB or the LF ends it).
    auto digit = [whole, bits](const char* p) -> size_t {
      unsigned char c0 = static_cast<unsigned char>(p[0]);
      if (c0 == '\n' || (c0 == '\t' && !whole)) return 0;
      if (bits == 8) return c0;
      unsigned char c1 = static_cast<unsigned char>(p[1]);  // c0 is no LF
      if (c1 == '\n' || (c1 == '\t' && !whole)) return size_t(c0) << 8;
      return size_t(c0) << 8 | c1;
    };
    // pos_[g * nb + b]: counts, then where group g writes its next entry of
    // digit b.
    pos_.assign(ng * nb, 0);
    tbb::parallel_for(size_t(0), ng, [&](size_t g) {
      uint32_t* h = pos_.data() + g * nb;
      auto [from, to] = group_pieces(g);
      for (size_t i = from; i < to; ++i) {
        const Batch::Piece& pc = batch_.pieces[i];
        const char* p = base + pc.off;
        const char* end = p + pc.size;
        while (p < end) {
          ++h[digit(p)];
          p = line_end_before(p, end) + 1;
        }
      }
    });
    std::vector<uint32_t> start(nb + 1);
    uint32_t sum = 0;
    for (size_t b = 0; b < nb; ++b) {
      start[b] = sum;
      for (size_t g = 0; g < ng; ++g) {
        uint32_t c = pos_[g * nb + b];
        pos_[g * nb + b] = sum;
        sum += c;
      }
    }
    start[nb] = sum;
    const unsigned shift = 64 - bits;
    tbb::parallel_for(size_t(0), ng, [&](size_t g) {
      uint32_t* pos = pos_.data() + g * nb;
      auto [from, to] = group_pieces(g);
      for (size_t i = from; i < to; ++i) {
        index_piece(i, [&](const Entry& x) { e[pos[x.prefix >> shift]++] = x; });
      }
    });
    std::vector<uint32_t> buckets;
    for (size_t b = 0; b < nb; ++b) {
      if (start[b + 1] - start[b] > 1) buckets.push_back(static_cast<uint32_t>(b));
    }
    tbb::parallel_for(size_t(0), buckets.size(), [&](size_t j) {
      uint32_t b = buckets[j];
      radix_sort(e + start[b], start[b + 1] - start[b], bits / 8, less);
    });
    pos_.clear();
    pos_.shrink_to_fit();
  }

  // The key end (first TAB or the LF) and the LF of the line at p, from
  // one 16-byte load when the key is shorter than 16 bytes and 16 bytes lie
  // before end; false otherwise.
  static bool find_key_end(const char* p, const char* end, const char*& k, const char*& nl) {
#if defined(__SSE2__)
    if (end - p < 16) return false;
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned mt =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))));
    const unsigned mn =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))));
    const unsigned m = mt | mn;
    if (!m) return false;
    const unsigned i = static_cast<unsigned>(__builtin_ctz(m));
    k = p + i;
    const unsigned after = mn & ~((2u << i) - 1);  // LFs after the key's end
    if ((mn >> i) & 1) {
      nl = k;
    } else if (after) {
      nl = p + __builtin_ctz(after);
    } else {
      nl = line_end_before(p + 16, end);
    }
    return true;
#else
    (void)p, (void)end, (void)k, (void)nl;
    return false;
#endif
  }

  // Calls put(entry) for each line of piece i, in order.
  template <class Put>
  void index_piece(size_t i, Put&& put) const {
    const Batch::Piece& pc = batch_.pieces[i];
    const char* base = batch_.buf.data();
    const char* p = base + pc.off;
    const char* end = p + pc.size;
    const bool whole = o_.whole_line;
    while (p < end) {
      // Keys and values are mostly a few bytes: scan them inline (each line
      // ends with LF, so the scans stop within it).
      const char* k = p;
      const char* nl;
      if (whole) {
        nl = line_end_before(p, end);
        k = nl;
      } else if (find_key_end(p, end, k, nl)) {
      } else {
        int i = 0;
        for (; i < 16 && k[i] != '\t' && k[i] != '\n'; ++i) {
        }
        if (i < 16) {
          k += i;
        } else {
          nl = line_end(p + 16);
          const void* t = std::memchr(p + 16, '\t', static_cast<size_t>(nl - p - 16));
          k = t ? static_cast<const char*>(t) : nl;
        }
        nl = *k == '\n' ? k : line_end(k + 1);
      }
      const size_t klen = static_cast<size_t>(k - p);
      // A full 8-byte load, masked, where 8 bytes lie before the piece end.
      uint64_t prefix;
      if (end - p >= 8) {
        std::memcpy(&prefix, p, 8);
        prefix = __builtin_bswap64(prefix);
        if (klen < 8) prefix = klen ? prefix & ~(~uint64_t(0) >> (8 * klen)) : 0;
      } else {
        prefix = load_prefix(p, klen);
      }
      if (order_.partitions) prefix = (order_.rank({p, klen}) << 40) | (prefix >> 24);
      put(Entry{prefix, static_cast<uint32_t>(p - base), static_cast<uint32_t>(klen)});
      p = nl + 1;
    }
  }

  // Writes the sorted batch as a run: consecutive slices of the entries are
  // turned into lines and compressed as independent zstd frames in parallel,
  // and written in order. With a combiner, slices end between keys.
  void spill() {
    sort_batch();
    const Entry* e = batch_.entries();
    const size_t n = batch_.lines;
    const char* base = batch_.buf.data();
    const char* used_end = base + batch_.used;
    RunWriter w(o_.temp_dir, kRunLevel);
    struct Slice {
      size_t from = 0, to = 0;
      size_t done = 0;  // plain slices: entries from..done encoded (the rest: last stage)
      size_t used = 0;  // plain slices: bytes of `lines` used
      uint64_t records = 0, bytes = 0;
      uint64_t line_bytes = 0;  // of the input lines from..to (whole groups)
      std::vector<char> lines, frame;
    };
    // Slices are reused; the first and the last stage may run at once on
    // different threads, hence the lock. kSpillTokens items in flight at
    // most, so a slice is always free when the first stage runs.
    std::vector<Slice> slices(kSpillTokens);
    std::vector<Slice*> free_slices;
    for (auto& sl : slices) free_slices.push_back(&sl);
    std::mutex free_lock;
    const bool combine = o_.combine.op != Reduction::none;
    // Line bytes per group of kGroup entries, to cut slices by size (the
    // entries hold key lengths only). A slice is whole groups, so a slice
    // passes spill_slice() bytes by less than a group's lines.
    // Plain slices (no combiner, key-value lines) need no such pass: they
    // are cut by count, at the batch's mean line length, and lines_of()
    // stops at the byte limit, the last stage encoding what is left.
    const bool plain = !combine && !o_.whole_line;
    constexpr size_t kGroup = 64;
    std::vector<uint64_t> group_bytes(plain ? 0 : (n + kGroup - 1) / kGroup);
    tbb::parallel_for(size_t(0), group_bytes.size(), [&](size_t g) {
      uint64_t sum = 0;
      for (size_t i = g * kGroup, end = std::min(n, i + kGroup); i < end; ++i) {
        if (i + 8 < end) __builtin_prefetch(base + e[i + 8].off + e[i + 8].klen);
        const char* v = base + e[i].off + e[i].klen;
        sum += e[i].klen + (o_.whole_line ? 1 : static_cast<size_t>(
                                                    line_end(v) - v) + 1);
      }
      group_bytes[g] = sum;
    });
    const size_t slice_bytes = spill_slice(o_.memory);
    const size_t mean_line = std::max<size_t>(1, batch_.used / std::max<size_t>(n, 1));
    const size_t slice_count = std::max<size_t>(1, slice_bytes / mean_line);
    size_t at = 0;
    tbb::parallel_pipeline(
        kSpillTokens,
        tbb::make_filter<void, Slice*>(
            tbb::filter_mode::serial_in_order,
            [&](tbb::flow_control& fc) -> Slice* {
              if (at == n) {
                fc.stop();
                return nullptr;
              }
              Slice* sl;
              {
                std::lock_guard<std::mutex> lock(free_lock);
                sl = free_slices.back();
                free_slices.pop_back();
              }
              if (plain) {
                sl->from = at;
                sl->to = at = std::min(n, at + slice_count);
                return sl;
              }
              uint64_t bytes = 0;
              size_t to = at;
              while (to < n && bytes < slice_bytes) {
                bytes += group_bytes[to / kGroup];
                to = std::min(n, (to / kGroup + 1) * kGroup);
              }
              // With a combiner, equal keys stay in one slice.
              while (combine && to < n && !different_keys(e[to - 1], e[to], base)) ++to;
              sl->from = at;
              sl->to = to;
              sl->line_bytes = bytes;
              at = to;
              return sl;
            }) &
            tbb::make_filter<Slice*, Slice*>(
                tbb::filter_mode::parallel,
                [&](Slice* sl) {
                  if (plain) {
                    sl->done = sl->from + lines_of(base, used_end, e + sl->from,
                                                   sl->to - sl->from, slice_bytes, *sl);
                    compressors_.local().compress(sl->lines.data(), sl->used, sl->frame);
                    return sl;
                  }
                  auto s = combined(std::make_unique<BatchStream>(base, e + sl->from,
                                                                  sl->to - sl->from,
                                                                  o_.whole_line));
                  sl->lines.clear();
                  sl->records = 0;
                  sl->bytes = 0;
                  std::string& prev = prev_keys_.local();
                  prev.clear();
                  Record r;
                  while (s->next(r)) {
                    const size_t shared = common_prefix(prev, r.key);
                    size_t at_line = sl->lines.size();
                    sl->lines.resize(at_line +
                                     run_record_bound(r.key.size() - shared, r.value.size()));
                    char* end = encode_run_record(sl->lines.data() + at_line, shared, r.key,
                                                  r.value);
                    sl->lines.resize(static_cast<size_t>(end - sl->lines.data()));
                    prev.resize(shared);
                    if (r.key.size() > shared) {
                      prev.append(r.key.data() + shared, r.key.size() - shared);
                    }
                    ++sl->records;
                    sl->bytes += r.key.size() + r.value.size() + 2;
                  }
                  compressors_.local().compress(sl->lines.data(), sl->lines.size(), sl->frame);
                  return sl;
                }) &
            tbb::make_filter<Slice*, void>(tbb::filter_mode::serial_in_order, [&](Slice* sl) {
              w.add_frame({sl->frame.data(), sl->frame.size()}, sl->records, sl->bytes);
              // Lines longer than the mean: the rest of a plain slice, here.
              while (plain && sl->done < sl->to) {
                sl->done += lines_of(base, used_end, e + sl->done, sl->to - sl->done,
                                     slice_bytes, *sl);
                compressors_.local().compress(sl->lines.data(), sl->used, sl->frame);
                w.add_frame({sl->frame.data(), sl->frame.size()}, sl->records, sl->bytes);
              }
              std::lock_guard<std::mutex> lock(free_lock);
              free_slices.push_back(sl);
            }));
    runs_.push_back(w.finish());
    ++st_.spills;
    st_.spill_bytes += runs_.back().file_bytes;
    batch_.clear();
  }

  // The run records (run.hpp) of sorted entries of key-value lines,
  // straight from the batch: what BatchStream and the record loop make,
  // without a virtual call and a Record per line. Encodes entries while
  // they fit in about `limit` bytes (at least one) and returns how many.
  // The first record shares nothing, so that slices encoded in parallel
  // can be concatenated.
  template <class Slice>
  static size_t lines_of(const char* base, const char* used_end, const Entry* e, size_t n,
                         size_t limit, Slice& sl) {
    if (sl.lines.size() < limit + 64) sl.lines.resize(limit + 64);
    char* first = sl.lines.data();
    char* out = first;
    char* stop = first + sl.lines.size();
    uint64_t line_bytes = 0;
    std::string_view prev;
    size_t i = 0;
    for (; i < n; ++i) {
      // Lines are visited in key order, i.e. at random: fetch ahead (the
      // value too, which may lie in the next cache line).
      if (i + 16 < n) {
        __builtin_prefetch(base + e[i + 16].off);
        __builtin_prefetch(base + e[i + 16].off + e[i + 16].klen + 8);
      }
      const char* p = base + e[i].off;
      const char* v = p + e[i].klen;
      const std::string_view key(p, e[i].klen);
      const std::string_view value(v, static_cast<size_t>(line_end_before(v, used_end) - v));
      const size_t shared = common_prefix(prev, key);
      const size_t need = run_record_bound(key.size() - shared, value.size());
      if (need > static_cast<size_t>(stop - out)) {
        if (i > 0) break;
        sl.lines.resize(need);  // one record longer than the limit
        first = out = sl.lines.data();
        stop = first + sl.lines.size();
      }
      out = encode_run_record(out, shared, key, value);
      line_bytes += key.size() + value.size() + 1;
      prev = key;
      if (static_cast<size_t>(out - first) >= limit) {
        ++i;
        break;
      }
    }
    sl.used = static_cast<size_t>(out - first);
    sl.records = i;
    sl.bytes = line_bytes + i;  // as lines: key TAB value LF
    return i;
  }

  static bool different_keys(const Entry& a, const Entry& b, const char* base) {
    if (a.prefix != b.prefix || a.klen != b.klen) return true;
    return std::memcmp(base + a.off, base + b.off, a.klen) != 0;
  }

  const SortOptions& o_;
  SortStats& st_;
  RecordOrder order_;
  size_t fan_in_;
  uint64_t batch_cap_;
  Batch batch_;
  std::vector<uint32_t> pos_;  // sort_batch(): per group and digit
  std::vector<Run> runs_;
  tbb::enumerable_thread_specific<RunFrameCompressor> compressors_{kRunLevel};
  tbb::enumerable_thread_specific<std::string> prev_keys_;  // spill(): per thread
};

// The values --combine reads, checked as they are read, where the file and
// line of a bad one are known (the combiner sees them after sorting).
void check_values(const Block& b, ValueCheck check) {
  uint64_t line = b.first_line;
  const char* p = b.data();
  const char* end = p + b.size;
  for (; p < end; ++line) {
    const char* nl = line_end(p);
    const KeyValue kv = split_key_value({p, static_cast<size_t>(nl - p)});
    if (const char* what = value_error(check, kv.value)) {
      throw Error(*b.source, line, what + quote_key(kv.value));
    }
    p = nl + 1;
  }
}

}  // namespace

std::unique_ptr<RecordStream> sort_line_records(BlockReader& reader, const SortOptions& o,
                                                SortStats& stats) {
  if (o.whole_line && o.partitions) {
    throw UsageError("--by line sorts whole lines: it does not make partitions");
  }
  if (o.combine.op == Reduction::count) {
    throw UsageError("count is not a combiner (use sum on key TAB 1 records)");
  }
  Sorter s(o, stats);
  Block b;
  const ValueCheck check = o.whole_line ? ValueCheck::none : value_check_for(o.combine);
  while (reader.next(b)) {
    if (check != ValueCheck::none) check_values(b, check);
    s.add_block(b);
  }
  auto sorted = s.finish();
  if (o.combine.op != Reduction::sum) return sorted;
  return locate_sum_overflows(std::move(sorted), reader.paths(), SumInput::values);
}

uint64_t write_line_records(RecordStream& in, PartitionWriter& out) {
  uint64_t n = 0;
  Record r;
  while (in.next(r)) {
    out.add(r.key, rest_value(r.value));
    ++n;
  }
  return n;
}

bool check_sorted(BlockReader& reader, const SortOptions& o, std::string* where,
                  uint64_t* records) {
  Block b;
  std::string prev;
  uint64_t prev_rank = 0;
  bool have = false;
  uint64_t n = 0;
  RecordOrder order{o.partitions};
  while (reader.next(b)) {
    uint64_t line_no = b.first_line;
    bool bad = false;
    std::string_view bad_line;
    for_each_line(b, [&](std::string_view line) {
      if (bad) return;
      std::string_view key = o.whole_line ? line : split_key_value(line).key;
      uint64_t rank = order.rank(key);
      if (have) {
        bool ok = prev_rank != rank ? prev_rank < rank : compare_keys(prev, key) <= 0;
        if (!ok) {
          bad = true;
          bad_line = line;
          return;
        }
      }
      prev.assign(key);
      prev_rank = rank;
      have = true;
      ++line_no;
      ++n;
    });
    if (bad) {
      if (where) *where = escape_bytes(*b.source, SIZE_MAX) + ":" + std::to_string(line_no) +
                          ": disorder: " + escape_bytes(bad_line, 200);
      if (records) *records = n;
      return false;
    }
  }
  if (records) *records = n;
  return true;
}

}  // namespace grist
