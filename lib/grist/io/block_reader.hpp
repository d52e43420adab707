// Reads inputs as large blocks of whole lines.
//
//   grist::BlockReader reader({"a.txt.gz", "b.jsonl.zst"}, 8 << 20);
//   grist::Block block;
//   while (reader.next(block)) for_each_line(block, ...);
//
// Every block holds complete lines of one input and ends with '\n' (a last
// line without one gets it appended), followed by kBlockPadding zero bytes
// that parsers (simdjson) may read. A line longer than the block size makes
// a larger block; nothing is ever cut inside a line. A block never passes
// kMaxBlockBytes, so a line longer than about that is an error, not a
// silent wrap of the 32-bit offsets that sorting and shuffling keep.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grist/io/source.hpp"

namespace grist {

constexpr size_t kBlockPadding = 64;  // >= SIMDJSON_PADDING
constexpr size_t kDefaultBlockSize = 4 << 20;
constexpr uint64_t kMaxBlockBytes = uint64_t(4000) << 20;

// A growable byte buffer for blocks. Growing it keeps its bytes without
// copying them where the allocator can move pages instead (realloc of a
// large block: mremap), so the block of one long line needs the line's
// size, not that plus the half it grew from; new bytes are uninitialised.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& o) noexcept {
    if (this != &o) {
      std::free(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~ByteBuffer() { std::free(p_); }

  // Keeps the first min(n, size()) bytes. Throws std::bad_alloc.
  void resize(size_t n) {
    if (n == n_) return;
    void* q = std::realloc(p_, n ? n : 1);
    if (!q) throw std::bad_alloc();
    p_ = static_cast<char*>(q);
    n_ = n;
  }
  char* data() { return p_; }
  const char* data() const { return p_; }
  size_t size() const { return n_; }
  char& operator[](size_t i) { return p_[i]; }
  const char& operator[](size_t i) const { return p_[i]; }

 private:
  char* p_ = nullptr;
  size_t n_ = 0;
};

struct Block {
  ByteBuffer buf;  // size >= size + kBlockPadding
  size_t size = 0;
  uint64_t first_line = 1;   // line number (1-based) of the first line in its input
  uint64_t lines = 0;        // number of lines in the block
  uint64_t index = 0;        // position of the block in the whole read, from 0
  std::shared_ptr<const std::string> source;  // input name, for messages

  const char* data() const { return buf.data(); }
  std::string_view view() const { return {buf.data(), size}; }
};

// A BlockReader's progress (raw bytes read of their total, 0: unknown),
// readable from another thread.
struct ReadGauge {
  std::atomic<uint64_t> done{0}, total{0};
};

class BlockReader {
 public:
  // Reads `paths` in order ("-" is stdin; an empty list means stdin).
  BlockReader(std::vector<std::string> paths, size_t block_size = kDefaultBlockSize);
  // Reads one already open source.
  BlockReader(std::unique_ptr<Source> source, size_t block_size = kDefaultBlockSize);
  BlockReader(const BlockReader&) = delete;  // owns the open Source
  BlockReader& operator=(const BlockReader&) = delete;
  ~BlockReader();

  // Fills `b` (reusing its buffer) with the next block; false at the end of
  // the last input. Throws grist::Error on unreadable or corrupt input, and
  // on a line that would make a block larger than the limit, naming it.
  bool next(Block& b);

  // The largest block: kMaxBlockBytes unless a test lowers it.
  void set_max_block(uint64_t bytes) { max_block_ = std::max<uint64_t>(bytes, block_size_); }

  // Raw bytes consumed across all inputs (as of the last block delivered;
  // safe to call from another thread, e.g. a progress display), and their
  // total size when every input is a regular file (else 0): for progress.
  uint64_t raw_bytes_read() const;
  uint64_t raw_size_total() const { return raw_size_total_; }
  // The same two figures copied into `gauge` as blocks are delivered (from
  // next()), for a progress display by the caller of a routine that owns
  // this reader: the gauge outlives the reader. Null: none.
  void set_gauge(ReadGauge* gauge);
  uint64_t bytes_read() const { return bytes_read_; }  // decoded bytes delivered
  // The inputs, in order ({"-"} for stdin; empty for one already open source).
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  bool open_next();

  std::vector<std::string> paths_;
  size_t next_path_ = 0;
  std::unique_ptr<Source> source_;
  std::shared_ptr<const std::string> name_;
  size_t block_size_;
  uint64_t max_block_ = kMaxBlockBytes;
  std::vector<char> carry_;
  uint64_t line_ = 1;
  uint64_t index_ = 0;
  uint64_t raw_done_ = 0;  // raw bytes of inputs already closed
  std::atomic<uint64_t> raw_progress_{0};  // what raw_bytes_read() reports
  ReadGauge* gauge_ = nullptr;
  uint64_t raw_size_total_ = 0;
  uint64_t bytes_read_ = 0;
};

// The number of '\n' in [p, p + n).
uint64_t count_newlines(const char* p, size_t n);

// Calls f(std::string_view line) for every line of the block, without '\n'.
template <class F>
void for_each_line(const Block& b, F&& f) {
  const char* p = b.data();
  const char* end = p + b.size;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    f(std::string_view(p, nl - p));
    p = nl + 1;
  }
}

}  // namespace grist
