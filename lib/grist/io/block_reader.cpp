#include "grist/io/block_reader.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "grist/error.hpp"

namespace grist {

// 16 bytes per step, byte counters summed every 255 steps (std::count does
// a byte at a time).
uint64_t count_newlines(const char* p, size_t n) {
#if !defined(__SSE2__)
  return static_cast<uint64_t>(std::count(p, p + n, '\n'));
#else
  const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
  uint64_t total = 0;
  size_t i = 0;
  while (n - i >= 16) {
    size_t steps = std::min<size_t>((n - i) / 16, 255);
    __m128i acc = zero;
    for (size_t s = 0; s < steps; ++s, i += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));  // a match is -1
    }
    __m128i sums = _mm_sad_epu8(acc, zero);  // two 64-bit sums of 8 bytes
    total += static_cast<uint64_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
  return total + static_cast<uint64_t>(std::count(p + i, p + n, '\n'));
#endif
}

BlockReader::BlockReader(std::vector<std::string> paths, size_t block_size)
    : paths_(std::move(paths)),
      block_size_(std::clamp<size_t>(block_size, 1, kMaxBlockBytes)) {
  if (paths_.empty()) paths_.push_back("-");
  // The total is known only if every input is a regular file.
  for (const auto& p : paths_) {
    struct stat st;
    if (p == "-" || ::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      raw_size_total_ = 0;
      break;
    }
    raw_size_total_ += st.st_size;
  }
}

BlockReader::BlockReader(std::unique_ptr<Source> source, size_t block_size)
    : block_size_(std::clamp<size_t>(block_size, 1, kMaxBlockBytes)) {
  name_ = std::make_shared<const std::string>(source->name());
  raw_size_total_ = source->raw_size();
  source_ = std::move(source);
}

BlockReader::~BlockReader() = default;

bool BlockReader::open_next() {
  if (source_) {
    raw_done_ += source_->raw_bytes_read();
    source_.reset();
  }
  raw_progress_.store(raw_done_, std::memory_order_relaxed);
  if (next_path_ >= paths_.size()) return false;
  source_ = Source::open(paths_[next_path_++]);
  name_ = std::make_shared<const std::string>(source_->name());
  line_ = 1;
  return true;
}

void BlockReader::set_gauge(ReadGauge* gauge) {
  gauge_ = gauge;
  if (gauge_) {
    gauge_->total.store(raw_size_total_, std::memory_order_relaxed);
    gauge_->done.store(raw_bytes_read(), std::memory_order_relaxed);
  }
}

uint64_t BlockReader::raw_bytes_read() const {
  return raw_progress_.load(std::memory_order_relaxed);
}

bool BlockReader::next(Block& b) {
  for (;;) {
    if (!source_ && !open_next()) return false;
    ByteBuffer& buf = b.buf;
    size_t want = std::max(block_size_, carry_.size() + 1);
    // Grown for a long line before: give the memory back.
    if (buf.size() < want + kBlockPadding || buf.size() > 2 * (want + kBlockPadding)) {
      buf.resize(want + kBlockPadding);
    }
    size_t n = carry_.size();
    if (n) std::memcpy(buf.data(), carry_.data(), n);
    carry_.clear();
    bool eof = false;
    size_t cut = 0;  // bytes up to and including the last '\n'
    size_t scanned = 0;
    for (;;) {
      while (n < want) {
        size_t r = source_->read(buf.data() + n, want - n);
        if (r == 0) {
          eof = true;
          break;
        }
        n += r;
      }
      if (eof) break;
      const char* p = buf.data();
      const char* nl = static_cast<const char*>(memrchr(p + scanned, '\n', n - scanned));
      if (nl) {
        cut = static_cast<size_t>(nl - p) + 1;
        break;
      }
      // One line is longer than the block: grow until it ends.
      if (want >= max_block_) {
        uint64_t before = 0;  // complete lines ahead of the long one
        for (const char* q = p; (q = static_cast<const char*>(std::memchr(q, '\n', p + n - q)));
             ++q) {
          ++before;
        }
        throw Error(*name_, "line " + std::to_string(line_ + before) + " is longer than " +
                                std::to_string(max_block_ >> 20) +
                                " MiB, the most grist reads as one line");
      }
      scanned = n;
      want = static_cast<size_t>(std::min<uint64_t>(uint64_t(want) * 2, max_block_));
      buf.resize(want + kBlockPadding);
    }
    if (eof) {
      if (n > 0 && buf[n - 1] != '\n') {
        if (buf.size() < n + 1 + kBlockPadding) buf.resize(n + 1 + kBlockPadding);
        buf[n++] = '\n';
      }
      cut = n;
    } else {
      carry_.assign(buf.data() + cut, buf.data() + n);
    }
    if (cut == 0) {  // an input ended with nothing left: go to the next one
      raw_done_ += source_->raw_bytes_read();
      source_.reset();
      continue;
    }
    std::memset(buf.data() + cut, 0, kBlockPadding);
    b.size = cut;
    b.first_line = line_;
    b.lines = count_newlines(buf.data(), cut);
    line_ += b.lines;
    b.index = index_++;
    b.source = name_;
    bytes_read_ += cut;
    if (eof) {
      raw_done_ += source_->raw_bytes_read();
      source_.reset();
    }
    raw_progress_.store(raw_done_ + (source_ ? source_->raw_bytes_read() : 0),
                        std::memory_order_relaxed);
    if (gauge_) gauge_->done.store(raw_bytes_read(), std::memory_order_relaxed);
    return true;
  }
}

}  // namespace grist
