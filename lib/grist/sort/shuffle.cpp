#include "grist/sort/shuffle.hpp"

#include <unistd.h>
#include <zstd.h>

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
#include <vector>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/sort/run.hpp"

namespace grist {

namespace {

constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;
// Spills are written once and read once: speed matters more than size. A
// negative (--fast) level compresses about twice as fast as level 1 and
// still saves a third of the bytes on text.
constexpr int kSpillLevel = -3;
const char* const kSpillName = "(spill file)";

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
struct Arena {
  std::unique_ptr<char[]> buf;
  size_t cap = 0;
  void reserve(size_t n) {
    if (n <= cap) return;
    buf.reset();
    buf.reset(new char[n]);  // untouched pages cost no memory
    cap = n;
  }
  Entry* entries(size_t n) const {
    uintptr_t end = reinterpret_cast<uintptr_t>(buf.get()) + cap;
    end &= ~uintptr_t(alignof(Entry) - 1);
    return reinterpret_cast<Entry*>(end) - n;
  }
  static size_t need(size_t bytes, size_t lines) {
    return bytes + lines * sizeof(Entry) + alignof(Entry);
  }
};

void write_at(int fd, const char* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno(kSpillName, "write error");
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
}

void read_at(int fd, char* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno(kSpillName, "read error");
    }
    if (r == 0) throw Error(kSpillName, "unexpected end of file");
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
}

// zstd contexts, one per thread, reused across buckets and scatters.
struct ZstdContexts {
  struct C {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_DCtx* d = ZSTD_createDCtx();
    C() {
      if (!c || !d) throw std::bad_alloc();
    }
    ~C() {
      ZSTD_freeCCtx(c);
      ZSTD_freeDCtx(d);
    }
    C(const C&) = delete;
    C& operator=(const C&) = delete;
  };
  tbb::enumerable_thread_specific<C> per_thread;
};

// Buckets of (rank, line) records in one anonymous spill file, each a list
// of independent zstd frames. Records are "8 rank bytes, line, '\n'". Full
// bucket buffers are compressed by oneTBB tasks (at most kJobs at once) and
// written at offsets reserved in the file, so that compression runs beside
// the scattering; a bucket's frames keep the order of its records, and the
// bytes they decode to do not depend on timing.
class Scatter {
 public:
  struct Frame {
    uint64_t off = 0;
    uint32_t csize = 0, rsize = 0;
    uint64_t lines = 0;
  };
  struct Bucket {
    std::deque<Frame> frames;  // a task fills its frame while others are added
    uint64_t raw = 0, lines = 0, line_bytes = 0;
    std::vector<char> buf;
    uint64_t buf_lines = 0;
  };
  static constexpr size_t kJobs = 4;

  Scatter(const std::string& temp_dir, unsigned shift, unsigned bits, size_t buf_size,
          ShuffleStats& st, ZstdContexts& z, int level)
      : fd_(open_anonymous_temp_file(temp_dir)), shift_(shift), bits_(bits),
        buf_size_(buf_size), buckets_(size_t(1) << bits), st_(st), z_(z), level_(level) {
    st_.buckets += buckets_.size();
    for (auto& j : jobs_) free_.push(&j);
  }
  ~Scatter() {
    try {
      tg_.wait();
    } catch (...) {
      // Already failing: the error that matters is the one in flight.
    }
  }

  size_t bucket_of(uint64_t rank) const { return (rank << shift_) >> (64 - bits_); }

  void add(uint64_t rank, std::string_view line) {
    Bucket& k = buckets_[bucket_of(rank)];
    size_t n = line.size() + 9;
    if (k.buf.size() + n > buf_size_ && !k.buf.empty()) flush(k);
    if (k.buf.capacity() == 0) k.buf.reserve(std::max(buf_size_, n));
    size_t at = k.buf.size();
    k.buf.resize(at + n);
    char* p = k.buf.data() + at;
    std::memcpy(p, &rank, 8);
    std::memcpy(p + 8, line.data(), line.size());
    p[n - 1] = '\n';
    k.raw += n;
    k.line_bytes += line.size() + 1;
    ++k.lines;
    ++k.buf_lines;
  }

  // Flushes every bucket, waits for the writes and frees the buffers.
  void finish() {
    for (auto& k : buckets_) {
      if (!k.buf.empty()) flush(k);
      std::vector<char>().swap(k.buf);
    }
    tg_.wait();
    for (auto& j : jobs_) {
      std::vector<char>().swap(j.raw);
      std::vector<char>().swap(j.out);
    }
    for (auto& k : buckets_) {
      for (auto& f : k.frames) st_.spill_bytes += f.csize;
    }
  }

  size_t size() const { return buckets_.size(); }
  const Bucket& bucket(size_t i) const { return buckets_[i]; }
  unsigned next_shift() const { return shift_ + bits_; }

  // Decompresses frame f into dst (room for f.rsize bytes), using the
  // calling thread's contexts; `cbuf` is scratch. Thread-safe.
  void read_frame(const Frame& f, char* dst, std::vector<char>& cbuf) {
    if (cbuf.size() < f.csize) cbuf.resize(f.csize);
    read_at(fd_.get(), cbuf.data(), f.csize, f.off);
    size_t r = ZSTD_decompressDCtx(z_.per_thread.local().d, dst, f.rsize, cbuf.data(), f.csize);
    if (ZSTD_isError(r) || r != f.rsize) {
      throw Error(kSpillName, std::string("corrupt zstd data: ") +
                                  (ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short frame"));
    }
  }

  // Releases a bucket's frame list once it has been read.
  void drop(size_t i) { std::deque<Frame>().swap(buckets_[i].frames); }

 private:
  struct Job {
    std::vector<char> raw, out;
    Frame* frame = nullptr;
  };

  void flush(Bucket& k) {
    Job* j = nullptr;
    if (!free_.try_pop(j)) {
      tg_.wait();  // every job is done (and back in free_), or this rethrows
      if (!free_.try_pop(j)) throw std::logic_error("shuffle: no free compression job");
    }
    k.frames.push_back(Frame{0, 0, static_cast<uint32_t>(k.buf.size()), k.buf_lines});
    j->frame = &k.frames.back();
    std::swap(j->raw, k.buf);  // the bucket goes on with the job's old buffer
    k.buf.clear();
    k.buf_lines = 0;
    tg_.run([this, j] {
      ZSTD_CCtx* c = z_.per_thread.local().c;
      j->out.resize(ZSTD_compressBound(j->raw.size()));
      size_t n = ZSTD_compressCCtx(c, j->out.data(), j->out.size(), j->raw.data(), j->raw.size(),
                                   level_);
      if (ZSTD_isError(n)) {
        throw Error(kSpillName, std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      uint64_t off = file_size_.fetch_add(n);
      write_at(fd_.get(), j->out.data(), n, off);
      j->frame->off = off;
      j->frame->csize = static_cast<uint32_t>(n);
      free_.push(j);
    });
  }

  UniqueFd fd_;
  unsigned shift_, bits_;
  size_t buf_size_;
  std::vector<Bucket> buckets_;
  ShuffleStats& st_;
  ZstdContexts& z_;
  int level_;
  std::atomic<uint64_t> file_size_{0};
  Job jobs_[kJobs];
  tbb::concurrent_queue<Job*> free_;
  tbb::task_group tg_;
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
    arena_.reserve(cap_);
    while (reader.next(b)) {
      st_.records += b.lines;
      st_.bytes += b.size;
      if (Arena::need(used + b.size, lines + b.lines) > arena_.cap) {
        if (lines == 0) {
          arena_.reserve(Arena::need(b.size, b.lines));  // one block larger than the budget
        } else {
          overflow = true;
          break;
        }
      }
      std::memcpy(arena_.buf.get() + used, b.data(), b.size);
      pieces.push_back({used, b.size, b.lines});
      used += b.size;
      lines += b.lines;
    }

    if (!overflow) {
      Entry* e = arena_.entries(lines);
      Entry* w = e;
      for (auto& pc : pieces) add_entries(pc.off, pc.size, w);
      emit(e, lines);
      return;
    }

    // Scatter: the lines in memory, the pending block, then the rest.
    size_t bits = choose_bits(reader, used, lines);
    Scatter sc(o_.temp_dir, 0, bits, buffer_size(bits), st_, z_, kSpillLevel);
    st_.levels = 1;
    const char* base = arena_.buf.get();
    index_ = 0;
    for (auto& pc : pieces) scatter_lines(sc, base + pc.off, pc.size);
    do {
      scatter_lines(sc, b.data(), b.size);
      if (!reader.next(b)) break;
      st_.records += b.lines;
      st_.bytes += b.size;
    } while (true);
    sc.finish();
    for (size_t i = 0; i < sc.size(); ++i) process(sc, i, 1);
  }

 private:
  void add_entries(size_t off, size_t size, Entry*& w) {
    const char* base = arena_.buf.get();
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
      sc.add(shuffle_rank_mixed(index_++), {p, static_cast<size_t>(nl - p)});
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
    double per_byte = static_cast<double>(Arena::need(used, lines)) / std::max<size_t>(used, 1);
    // Bucket records carry 8 rank bytes each; entries 16.
    double need = est * per_byte + 8.0 * lines * est / std::max<size_t>(used, 1);
    uint64_t b = static_cast<uint64_t>(need / (cap_ * 0.8)) + 1;
    return std::clamp<size_t>(log2_ceil(b), 1, max_bits());
  }

  // Writes bucket i of sc in rank order: in memory if it fits, else after
  // scattering it again by the next bits of the rank.
  void process(Scatter& sc, size_t i, uint32_t level) {
    const Scatter::Bucket& k = sc.bucket(i);
    if (k.lines == 0) return;
    size_t need = Arena::need(k.raw, k.lines);
    unsigned shift = sc.next_shift();
    if (need <= arena_.cap || k.lines == 1 || shift >= 64) {
      arena_.reserve(need);
      char* base = arena_.buf.get();
      Entry* e = arena_.entries(k.lines);
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
        const char* p = base + at[f];
        const char* end = base + at[f + 1];
        while (p < end) {
          uint64_t rank;
          std::memcpy(&rank, p, 8);
          const char* line = p + 8;
          const char* nl = static_cast<const char*>(rawmemchr(line, '\n'));
          *w++ = Entry{rank, static_cast<uint32_t>(line - base), static_cast<uint32_t>(nl - line)};
          p = nl + 1;
        }
      });
      sc.drop(i);
      emit(e, k.lines);
      return;
    }
    unsigned bits = std::clamp<unsigned>(log2_ceil(need / (arena_.cap * 4 / 5) + 1), 1,
                                         std::min<unsigned>(64 - shift, max_bits()));
    Scatter sub(o_.temp_dir, shift, bits, buffer_size(bits), st_, z_, kSpillLevel);
    st_.levels = std::max(st_.levels, level + 1);
    std::vector<char> frame, cbuf;
    for (const auto& f : k.frames) {
      frame.resize(f.rsize);
      sc.read_frame(f, frame.data(), cbuf);
      const char* p = frame.data();
      const char* end = p + f.rsize;
      while (p < end) {
        uint64_t rank;
        std::memcpy(&rank, p, 8);
        const char* line = p + 8;
        const char* nl = static_cast<const char*>(rawmemchr(line, '\n'));
        sub.add(rank, {line, static_cast<size_t>(nl - line)});
        p = nl + 1;
      }
    }
    sc.drop(i);
    std::vector<char>().swap(frame);
    sub.finish();
    for (size_t j = 0; j < sub.size(); ++j) process(sub, j, level + 1);
  }

  void emit(Entry* e, size_t n) {
    tbb::parallel_sort(e, e + n, [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
    const char* base = arena_.buf.get();
    for (size_t i = 0; i < n; ++i) out_.write(base + e[i].off, e[i].len + 1);
  }

  const ShuffleOptions& o_;
  Sink& out_;
  ShuffleStats& st_;
  Arena arena_;
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
