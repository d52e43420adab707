#include "grist/sort/shuffle.hpp"

#include <unistd.h>

#include <tbb/concurrent_queue.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstring>
#include <deque>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/fd.hpp"
#include "grist/io/test_hook.hpp"
#include "grist/sort/run.hpp"
#include "grist/sort/shuffle_scatter.hpp"

namespace grist {

namespace {

using shuffle_detail::kSpillName;
using shuffle_detail::Scatter;
using shuffle_detail::ZstdContexts;

constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct Entry {
  uint64_t rank;
  uint32_t off;  // of the line in the arena
  uint32_t len;  // without the '\n' that follows it
};
static_assert(sizeof(Entry) == 16);

// Memory for lines (growing up from the start) and their entries (placed at
// the end), so the two together never pass the capacity.
struct Region {
  char* buf = nullptr;
  size_t cap = 0;
  Entry* entries(size_t n) const {
    uintptr_t end = reinterpret_cast<uintptr_t>(buf) + cap;
    end &= ~uintptr_t(alignof(Entry) - 1);
    return reinterpret_cast<Entry*>(end) - n;
  }
  // Entries and as many again as scratch for sorting them.
  static size_t need(size_t bytes, size_t lines) {
    return bytes + 2 * lines * sizeof(Entry) + alignof(Entry);
  }
};

// Owned memory, lent out as regions.
// Memory is taken as the input needs it (a small input under a small
// address-space limit, ulimit -v, takes little): the arena grows by
// realloc, which keeps its bytes (moving the pages of a large one, mremap).
struct Arena {
  ByteBuffer buf;
  size_t cap = 0;
  // At least n bytes, keeping the first `cap`.
  void reserve(size_t n) {
    if (n <= cap) return;
    buf.resize(n);
    cap = n;
  }
  void release() {
    buf = ByteBuffer();
    cap = 0;
  }
  Region whole() { return {buf.data(), cap}; }
  // Half h (0 or 1), 64-byte aligned.
  Region half(int h) {
    size_t n = cap / 2 & ~size_t(63);
    return {buf.data() + h * n, n};
  }
};

unsigned log2_ceil(uint64_t v) {
  unsigned b = 0;
  while ((uint64_t(1) << b) < v && b < 63) ++b;
  return b;
}

class Shuffler {
 public:
  Shuffler(const ShuffleOptions& o, Sink& out, ShuffleStats& st) : o_(o), out_(out), st_(st) {
    size_t block = shuffle_block_size(o);
    uint64_t fixed = 3 * block + (2 << 20);
    uint64_t avail = std::max(o.memory > fixed ? o.memory - fixed : 0, o.memory / 2);
    cap_ = std::clamp<uint64_t>(avail / 10 * 7, 16 << 10, uint64_t(4000) << 20);
    buffers_ = std::max<uint64_t>(avail / 4, 64 << 10);
    seed_ = mix64(o.seed);
  }

  void run(BlockReader& reader) {
    Block b;
    bool overflow = false;
    size_t used = 0, lines = 0;
    struct Piece {
      size_t off, size, lines;
    };
    std::vector<Piece> pieces;
    while (reader.next(b)) {
      st_.records += b.lines;
      st_.bytes += b.size;
      const size_t need = Region::need(used + b.size, lines + b.lines);
      if (need > arena_.cap) {
        if (need <= cap_) {  // at least doubling, up to the budget
          arena_.reserve(std::max<size_t>(
              need, std::min<uint64_t>(cap_, std::max<uint64_t>(2 * uint64_t(arena_.cap), 1 << 20))));
        } else if (lines == 0) {
          arena_.reserve(need);  // one block larger than the budget
        } else {
          overflow = true;
          break;
        }
      }
      std::memcpy(arena_.buf.data() + used, b.data(), b.size);
      pieces.push_back({used, b.size, b.lines});
      used += b.size;
      lines += b.lines;
    }

    if (!overflow) {
      Entry* e = arena_.whole().entries(lines);
      Entry* w = e;
      for (auto& pc : pieces) add_entries(pc.off, pc.size, w);
      write_lines(arena_.buf.data(), sort_entries(e, e - lines, lines, 0), lines);
      return;
    }

    // Scatter: the lines in memory, the pending block, then the rest. The
    // arena takes its whole share now: its halves hold the buckets.
    arena_.reserve(cap_);
    size_t bits = choose_bits(reader, used, lines);
    Scatter sc(o_.temp_dir, 0, bits, buffer_size(bits), st_, z_);
    st_.levels = 1;
    const char* base = arena_.buf.data();
    index_ = 0;
    for (auto& pc : pieces) scatter_lines(sc, base + pc.off, pc.size);
    do {
      scatter_lines(sc, b.data(), b.size);
      if (!reader.next(b)) break;
      st_.records += b.lines;
      st_.bytes += b.size;
    } while (true);
    sc.finish();
    process(sc, 1);
  }

 private:
  void add_entries(size_t off, size_t size, Entry*& w) {
    const char* base = arena_.buf.data();
    const char* p = base + off;
    const char* end = p + size;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      *w++ = Entry{shuffle_rank_mixed(index_++), static_cast<uint32_t>(p - base),
                   static_cast<uint32_t>(nl - p)};
      p = nl + 1;
    }
  }

  uint64_t shuffle_rank_mixed(uint64_t index) const { return mix64(seed_ + (index + 1) * kGamma); }

  void scatter_lines(Scatter& sc, const char* p, size_t size) {
    const char* end = p + size;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      sc.add(shuffle_rank_mixed(index_), index_, {p, static_cast<size_t>(nl - p)});
      ++index_;
      p = nl + 1;
    }
  }

  size_t max_bits() const {
    uint64_t most = std::max<uint64_t>(2, buffers_ / (64 << 10));
    unsigned b = 1;
    while ((uint64_t(2) << b) <= most && b < 12) ++b;
    return b;
  }

  // Bucket buffers and the compression jobs' buffers (raw and compressed)
  // share `buffers_`.
  size_t buffer_size(size_t bits) const {
    return std::clamp<uint64_t>(buffers_ / ((uint64_t(1) << bits) + 2 * Scatter::kJobs), 4 << 10,
                                1 << 20);
  }

  size_t choose_bits(const BlockReader& reader, size_t used, size_t lines) const {
    if (o_.buckets) return std::max<unsigned>(1, log2_ceil(o_.buckets));
    uint64_t raw_total = reader.raw_size_total();
    uint64_t raw_read = reader.raw_bytes_read();
    if (raw_total == 0 || raw_read == 0) return max_bits();
    double est = static_cast<double>(st_.bytes) * raw_total / raw_read * 1.1;
    double per_byte = static_cast<double>(Region::need(used, lines)) / std::max<size_t>(used, 1);
    // Bucket records carry an index delta (a byte or two) each; entries 16.
    double need = est * per_byte + 2.0 * lines * est / std::max<size_t>(used, 1);
    uint64_t b = static_cast<uint64_t>(need / (cap_ / 2 * 0.8)) + 1;
    return std::clamp<size_t>(log2_ceil(b), 1, max_bits());
  }

  // A bucket loaded into memory and sorted by rank.
  struct Loaded {
    const char* base = nullptr;
    const Entry* e = nullptr;
    size_t n = 0;
  };

  // Writes the buckets of sc in rank order. A bucket that fits in half the
  // arena is loaded and sorted (by oneTBB workers) into one half while the
  // bucket before it is written from the other, so that writing, the one
  // serial step, overlaps the rest; a larger bucket is scattered again by
  // the next bits of the rank.
  void process(Scatter& sc, uint32_t level) {
    tbb::task_group tg;
    Loaded ready[2];
    int slot = 0;          // the half the next bucket is loaded into
    bool pending = false;  // ready[slot ^ 1] is still to be written
    auto write_pending = [&] {
      if (!pending) return;
      const Loaded& l = ready[slot ^ 1];
      write_lines(l.base, l.e, l.n);
      pending = false;
      big_[slot ^ 1].release();
    };
    try {
      for (size_t i = 0; i < sc.size(); ++i) {
        const Scatter::Bucket& k = sc.bucket(i);
        if (k.lines == 0) continue;
        size_t need = Region::need(k.raw, k.lines);
        if (need <= arena_.half(slot).cap || k.lines == 1 || sc.next_shift() >= 64) {
          Region r = arena_.half(slot);
          if (need > r.cap) {  // one line longer than half the budget
            big_[slot].reserve(need);
            r = big_[slot].whole();
          }
          tg.run([this, &sc, &ready, i, slot, r] { ready[slot] = load(sc, i, r); });
          write_pending();
          tg.wait();
          pending = true;
          slot ^= 1;
        } else {
          write_pending();
          rescatter(sc, i, need, level);
        }
      }
      write_pending();
    } catch (...) {
      // A load may still be running in memory this frame owns.
      tg.cancel();
      try {
        tg.wait();
      } catch (...) {
        // Already failing: the error that matters is the one in flight.
      }
      throw;
    }
  }

  // Decodes bucket i of sc into r, then sorts its lines by rank.
  Loaded load(Scatter& sc, size_t i, Region r) {
    const Scatter::Bucket& k = sc.bucket(i);
    char* base = r.buf;
    Entry* e = r.entries(k.lines);
    // Frames hold whole records: decode them and index their lines in
    // parallel, each at its place.
    const size_t nf = k.frames.size();
    std::vector<uint64_t> at(nf + 1), first(nf + 1);
    for (size_t f = 0; f < nf; ++f) {
      at[f + 1] = at[f] + k.frames[f].rsize;
      first[f + 1] = first[f] + k.frames[f].lines;
    }
    tbb::enumerable_thread_specific<std::vector<char>> cbufs;
    tbb::parallel_for(size_t(0), nf, [&](size_t f) {
      sc.read_frame(k.frames[f], base + at[f], cbufs.local());
      Entry* w = e + first[f];
      for_each_record(k.frames[f], base + at[f], [&](uint64_t index, const char* line, size_t n) {
        *w++ = Entry{shuffle_rank_mixed(index), static_cast<uint32_t>(line - base),
                     static_cast<uint32_t>(n)};
      });
    });
    sc.drop(i);
    return {base, sort_entries(e, e - k.lines, k.lines, sc.next_shift()), k.lines};
  }

  // Writes bucket i of sc (`need` bytes in memory, more than half the
  // arena) after scattering it again by the next bits of the rank.
  void rescatter(Scatter& sc, size_t i, size_t need, uint32_t level) {
    const Scatter::Bucket& k = sc.bucket(i);
    const unsigned shift = sc.next_shift();
    unsigned bits = std::clamp<unsigned>(log2_ceil(need / (arena_.half(0).cap * 4 / 5) + 1), 1,
                                         std::min<unsigned>(64 - shift, max_bits()));
    Scatter sub(o_.temp_dir, shift, bits, buffer_size(bits), st_, z_);
    st_.levels = std::max(st_.levels, level + 1);
    std::vector<char> frame, cbuf;
    for (const auto& f : k.frames) {
      frame.resize(f.rsize);
      sc.read_frame(f, frame.data(), cbuf);
      for_each_record(f, frame.data(), [&](uint64_t index, const char* line, size_t n) {
        sub.add(shuffle_rank_mixed(index), index, {line, n});
      });
    }
    sc.drop(i);
    std::vector<char>().swap(frame);
    sub.finish();
    process(sub, level + 1);
  }

  // Calls f(index, line, length) for each record of frame fr, decoded at p.
  template <class F>
  static void for_each_record(const Scatter::Frame& fr, const char* p, F&& f) {
    const char* const end = p + fr.rsize;
    uint64_t next = fr.base, lines = 0;
    while (p < end && lines < fr.lines) {  // never more than the entries made for it
      uint64_t delta;
      if (!get_varint(p, end, delta)) break;
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (!nl) break;
      f(next + delta, p, static_cast<size_t>(nl - p));
      next += delta + 1;
      ++lines;
      p = nl + 1;
    }
    if (p != end || lines != fr.lines) throw Error(kSpillName, "corrupt shuffle bucket");
  }

  // Sorts e[0, n) by rank, the ranks sharing their top `shift` bits, using
  // tmp[0, n) as scratch; returns where the sorted entries are (e or tmp).
  // Ranks are uniform, so a least-significant-digit radix sort on the next
  // log2(n) + 1 bits (passes of at most 11 bits, whose 2048 destinations
  // stay in cache) leaves only neighbours sharing those bits out of order,
  // which one insertion sort puts right: several times faster than a
  // comparison sort, as every step streams through memory.
  static Entry* sort_entries(Entry* e, Entry* tmp, size_t n, unsigned shift) {
    const unsigned bits = log2_ceil(n) + 1;
    if (shift + bits > 64) {  // too few bits left to spread: the insertion sort would be quadratic
      std::sort(e, e + n, [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
      return e;
    }
    constexpr unsigned kMaxDigit = 11;
    const unsigned passes = (bits + kMaxDigit - 1) / kMaxDigit;
    if (n >= 64) {
      const unsigned d = (bits + passes - 1) / passes;
      const unsigned low = 64 - shift - bits;  // the window is bits [low, low + bits)
      const size_t radix = size_t(1) << d;
      std::vector<uint32_t> count(passes * radix, 0);
      auto digit = [&](uint64_t rank, unsigned pass) {
        return static_cast<size_t>((rank >> (low + pass * d)) & (radix - 1));
      };
      for (size_t i = 0; i < n; ++i) {
        for (unsigned p = 0; p < passes; ++p) ++count[p * radix + digit(e[i].rank, p)];
      }
      for (unsigned p = 0; p < passes; ++p) {
        uint32_t* c = &count[p * radix];
        uint32_t sum = 0;
        for (size_t g = 0; g < radix; ++g) sum += std::exchange(c[g], sum);
        for (size_t i = 0; i < n; ++i) tmp[c[digit(e[i].rank, p)]++] = e[i];
        std::swap(e, tmp);
      }
    }
    for (size_t i = 1; i < n; ++i) {
      if (e[i - 1].rank <= e[i].rank) continue;
      Entry x = e[i];
      size_t j = i;
      for (; j > 0 && e[j - 1].rank > x.rank; --j) e[j] = e[j - 1];
      e[j] = x;
    }
    return e;
  }

  void write_lines(const char* base, const Entry* e, size_t n) {
    for (size_t i = 0; i < n; ++i) out_.write(base + e[i].off, e[i].len + 1);
  }

  const ShuffleOptions& o_;
  Sink& out_;
  ShuffleStats& st_;
  Arena arena_;   // the first lines read, then two halves for buckets
  Arena big_[2];  // for a bucket of one line too long for a half
  ZstdContexts z_;
  uint64_t cap_, buffers_, seed_;
  uint64_t index_ = 0;
};

}  // namespace

size_t shuffle_block_size(const ShuffleOptions& o) {
  if (o.block_size) return o.block_size;
  return std::clamp<uint64_t>(o.memory / 16, 16 << 10, 4 << 20);
}

uint64_t shuffle_rank(uint64_t seed, uint64_t index) {
  return mix64(mix64(seed) + (index + 1) * kGamma);
}

void shuffle_lines(BlockReader& reader, const ShuffleOptions& o, Sink& out, ShuffleStats& stats) {
  Shuffler s(o, out, stats);
  s.run(reader);
}

}  // namespace grist
