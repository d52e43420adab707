// The scatter of grist-shuffle-sort --random (shuffle.cpp): buckets of
// (index, line) records in one anonymous spill file, and the zstd contexts
// their frames are compressed and read with. Internal to the shuffle.
#pragma once

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_literalCompressionMode
#include <zstd.h>

#include <tbb/concurrent_queue.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/fd.hpp"
#include "grist/io/test_hook.hpp"
#include "grist/sort/run.hpp"
#include "grist/sort/shuffle.hpp"

namespace grist::shuffle_detail {

// Spill frames: kRunLevel with Huffman-coded literals. Shuffled lines share
// few long matches, so most of what zstd saves on them comes from the
// literals; on 1 MiB frames of English text this gives ratio 1.79 at 860
// MB/s against 1.80 at 307 MB/s for level -3 without them, and on random
// words 1.71 at 940 MB/s against 1.26 at 460 MB/s.
inline const char* const kSpillName = "(spill file)";

inline void write_at(int fd, const char* p, size_t n, uint64_t off) {
  pwrite_all(fd, p, n, off, kSpillName);
}

inline void read_at(int fd, char* p, size_t n, uint64_t off) {
  pread_all(fd, p, n, off, kSpillName);
}

// zstd contexts, one per thread, reused across buckets and scatters.
struct ZstdContexts {
  struct C {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_DCtx* d = ZSTD_createDCtx();
    C() {
      if (!c || !d) throw std::bad_alloc();
      ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, kRunLevel);
      // Only a speed setting: a library without it still writes valid frames.
      ZSTD_CCtx_setParameter(c, ZSTD_c_literalCompressionMode, ZSTD_ps_enable);
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

// Buckets of (index, line) records in one anonymous spill file, each a list
// of independent zstd frames. A record is "varint(index - base), line,
// '\n'", where base is one past the index of the bucket's previous record
// (Frame::base for a frame's first): the lines of a bucket come in index
// order, so this is one byte for fewer than 128 buckets, where the rank
// itself would be 8 bytes that do not compress. Full
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
    uint64_t base = 0;  // for the first record's index
  };
  struct Bucket {
    std::deque<Frame> frames;  // a task fills its frame while others are added
    uint64_t raw = 0, lines = 0, line_bytes = 0;
    std::vector<char> buf;
    uint64_t buf_lines = 0;
    uint64_t buf_base = 0, next = 0;  // bases of the buffer and the next record
  };
  static constexpr size_t kJobs = 4;

  Scatter(const std::string& temp_dir, unsigned shift, unsigned bits, size_t buf_size,
          ShuffleStats& st, ZstdContexts& z)
      : fd_(open_anonymous_temp_file(temp_dir)), shift_(shift), bits_(bits),
        buf_size_(buf_size), buckets_(size_t(1) << bits), st_(st), z_(z) {
    st_.buckets += buckets_.size();
    for (auto& j : jobs_) free_.push(&j);
  }
  Scatter(const Scatter&) = delete;  // owns the spill file's descriptor
  Scatter& operator=(const Scatter&) = delete;
  ~Scatter() {
    try {
      tg_.wait();
    } catch (...) {
      // Already failing: the error that matters is the one in flight.
    }
  }

  size_t bucket_of(uint64_t rank) const { return (rank << shift_) >> (64 - bits_); }

  // Lines must come in increasing index order.
  void add(uint64_t rank, uint64_t index, std::string_view line) {
    Bucket& k = buckets_[bucket_of(rank)];
    char gap[kMaxVarint];
    const size_t g = static_cast<size_t>(put_varint(gap, index - k.next) - gap);
    const size_t n = g + line.size() + 1;
    if (k.buf.size() + n > buf_size_ && !k.buf.empty()) flush(k);
    if (k.buf.capacity() == 0) k.buf.reserve(std::max(buf_size_, n));
    size_t at = k.buf.size();
    k.buf.resize(at + n);
    char* p = k.buf.data() + at;
    std::memcpy(p, gap, g);
    std::memcpy(p + g, line.data(), line.size());
    p[n - 1] = '\n';
    k.next = index + 1;
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
    k.frames.push_back(Frame{0, 0, static_cast<uint32_t>(k.buf.size()), k.buf_lines, k.buf_base});
    j->frame = &k.frames.back();
    std::swap(j->raw, k.buf);  // the bucket goes on with the job's old buffer
    k.buf.clear();
    k.buf_lines = 0;
    k.buf_base = k.next;
    tg_.run([this, j] {
      ZSTD_CCtx* c = z_.per_thread.local().c;
      j->out.resize(ZSTD_compressBound(j->raw.size()));
      size_t n = ZSTD_compress2(c, j->out.data(), j->out.size(), j->raw.data(), j->raw.size());
      if (ZSTD_isError(n)) {
        throw Error(kSpillName, std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      uint64_t off = file_size_.fetch_add(n);
      write_at(fd_.get(), j->out.data(), n, off);
      j->frame->off = off;
      j->frame->csize = static_cast<uint32_t>(n);
      free_.push(j);
      test_stop_point("spill");
    });
  }

  UniqueFd fd_;
  unsigned shift_, bits_;
  size_t buf_size_;
  std::vector<Bucket> buckets_;
  ShuffleStats& st_;
  ZstdContexts& z_;
  std::atomic<uint64_t> file_size_{0};
  Job jobs_[kJobs];
  tbb::concurrent_queue<Job*> free_;
  tbb::task_group tg_;
};

}  // namespace grist::shuffle_detail
