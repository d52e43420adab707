#include "grist/sort/batch.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "grist/record/line_key.hpp"
#include "grist/sort/line_scan.hpp"

namespace grist {

using line_scan::line_end;
using line_scan::line_end_before;

bool BatchStream::next(Record& r) {
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

namespace {

// Indexes and sorts one batch. Without partitions the top radix digit (the
// first one or two key bytes) is sorted while indexing: a first parallel
// pass counts the digits of the keys of each group of pieces, and the
// second writes each entry straight into its bucket (scatter), so that no
// serial in-place pass over the whole index is needed. Buckets then sort in
// parallel from the next byte on. With partitions the top bytes are a
// hash's and the entries are sorted from byte 0.
class BatchSorter {
 public:
  BatchSorter(Batch& batch, const BatchOrder& order, std::vector<uint32_t>& pos)
      : batch_(batch),
        base_(batch.buf.data()),
        e_(batch.entries()),
        whole_(order.whole_line),
        order_{order.partitions},
        less_{base_, order.partitions ? 5u : 8u},
        pos_(pos) {
    // The scatter's digit: the first key byte, or with many lines the first
    // two (a 16-bit digit leaves buckets that sort in cache; its counters,
    // 256 KiB per group, 2.3 MiB in all, are taken only with wide_digit).
    // Consecutive pieces are counted and scattered in groups (many small
    // input files make many small pieces).
    const size_t np = batch.pieces.size();
    bits_ = order.wide_digit && batch.lines >= 65536 ? 16 : 8;
    nb_ = size_t(1) << bits_;
    ng_ = std::min(np, bits_ == 16 ? size_t(8) : size_t(64));
  }

  void sort() {
    if (order_.partitions) {
      tbb::parallel_for(size_t(0), batch_.pieces.size(), [&](size_t i) {
        index_piece(i, [out = e_ + batch_.pieces[i].first_entry](const Entry& x) mutable {
          *out++ = x;
        });
      });
      sort_entries(e_, batch_.lines, 0, less_);
      return;
    }
    count_digits();
    std::vector<uint32_t> start = bucket_starts();
    scatter();
    sort_buckets(start);
    pos_.clear();
    pos_.shrink_to_fit();
  }

 private:
  std::pair<size_t, size_t> group_pieces(size_t g) const {
    const size_t np = batch_.pieces.size();
    return {np * g / ng_, np * (g + 1) / ng_};
  }

  // The top `bits_` bits of the prefix of the line at p: key bytes, zero
  // past the end of the key (a TAB or the LF ends it).
  size_t digit(const char* p) const {
    unsigned char c0 = static_cast<unsigned char>(p[0]);
    if (c0 == '\n' || (c0 == '\t' && !whole_)) return 0;
    if (bits_ == 8) return c0;
    unsigned char c1 = static_cast<unsigned char>(p[1]);  // c0 is no LF
    if (c1 == '\n' || (c1 == '\t' && !whole_)) return size_t(c0) << 8;
    return size_t(c0) << 8 | c1;
  }

  // pos_[g * nb + b]: the lines of group g whose digit is b.
  void count_digits() {
    pos_.assign(ng_ * nb_, 0);
    tbb::parallel_for(size_t(0), ng_, [&](size_t g) {
      uint32_t* h = pos_.data() + g * nb_;
      auto [from, to] = group_pieces(g);
      for (size_t i = from; i < to; ++i) {
        const Batch::Piece& pc = batch_.pieces[i];
        const char* p = base_ + pc.off;
        const char* end = p + pc.size;
        while (p < end) {
          ++h[digit(p)];
          p = line_end_before(p, end) + 1;
        }
      }
    });
  }

  // Turns the counts into where group g writes its next entry of digit b;
  // returns where each bucket starts (and, last, the total).
  std::vector<uint32_t> bucket_starts() {
    std::vector<uint32_t> start(nb_ + 1);
    uint32_t sum = 0;
    for (size_t b = 0; b < nb_; ++b) {
      start[b] = sum;
      for (size_t g = 0; g < ng_; ++g) {
        uint32_t c = pos_[g * nb_ + b];
        pos_[g * nb_ + b] = sum;
        sum += c;
      }
    }
    start[nb_] = sum;
    return start;
  }

  void scatter() {
    const unsigned shift = 64 - bits_;
    Entry* e = e_;
    tbb::parallel_for(size_t(0), ng_, [&](size_t g) {
      uint32_t* pos = pos_.data() + g * nb_;
      auto [from, to] = group_pieces(g);
      for (size_t i = from; i < to; ++i) {
        index_piece(i, [&](const Entry& x) { e[pos[x.prefix >> shift]++] = x; });
      }
    });
  }

  void sort_buckets(const std::vector<uint32_t>& start) {
    std::vector<uint32_t> buckets;
    for (size_t b = 0; b < nb_; ++b) {
      if (start[b + 1] - start[b] > 1) buckets.push_back(static_cast<uint32_t>(b));
    }
    tbb::parallel_for(size_t(0), buckets.size(), [&](size_t j) {
      uint32_t b = buckets[j];
      sort_entries(e_ + start[b], start[b + 1] - start[b], bits_ / 8, less_);
    });
  }

  // Calls put(entry) for each line of piece i, in order.
  template <class Put>
  void index_piece(size_t i, Put&& put) const {
    const Batch::Piece& pc = batch_.pieces[i];
    const char* p = base_ + pc.off;
    const char* end = p + pc.size;
    while (p < end) {
      // Keys and values are mostly a few bytes: scan them inline (each line
      // ends with LF, so the scans stop within it).
      const char* k;
      const char* nl;
      if (whole_) {
        nl = line_end_before(p, end);
        k = nl;
      } else {
        line_scan::split_line(p, end, k, nl);
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
      put(Entry{prefix, static_cast<uint32_t>(p - base_), static_cast<uint32_t>(klen)});
      p = nl + 1;
    }
  }

  Batch& batch_;
  const char* base_;
  Entry* e_;
  bool whole_;
  RecordOrder order_;
  EntryLess less_;
  std::vector<uint32_t>& pos_;
  unsigned bits_;
  size_t nb_, ng_;
};

}  // namespace

void sort_batch(Batch& batch, const BatchOrder& order, std::vector<uint32_t>& scratch) {
  BatchSorter(batch, order, scratch).sort();
}

}  // namespace grist
