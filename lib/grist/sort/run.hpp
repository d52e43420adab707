// Sorted runs: zstd-compressed temporary files of `key\tvalue\n` lines.
//
//   grist::RunWriter w(temp_dir);            // anonymous file in temp_dir
//   w.add("apple", "3");  w.add("pear", "1"); // in sorted order
//   grist::Run run = w.finish();
//   grist::RunReader r(std::move(run));       // a RecordStream
//
// A run lives in a file made by open_anonymous_temp_file(): it has no name,
// so it vanishes when its descriptor closes, on every exit path (error,
// exception, SIGINT). The format is the text record format itself, so a run
// is also readable by any grist tool. RunWriter does not check the order;
// the producer (a sorted table, a merge) guarantees it.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/source.hpp"
#include "grist/sort/record_stream.hpp"

namespace grist {

// An owned file descriptor (closed on destruction). Movable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset();

 private:
  int fd_ = -1;
};

// A finished run: its anonymous file and what it holds.
struct Run {
  UniqueFd fd;
  uint64_t records = 0;
  uint64_t bytes = 0;       // uncompressed bytes of the lines
  uint64_t file_bytes = 0;  // compressed bytes on disk
};

class RunWriter {
 public:
  // Creates the anonymous file in `temp_dir` (throws grist::Error naming the
  // directory if it cannot). `level` is the zstd level (1: spills are
  // written once and read once, speed matters more than size). The frame
  // carries a checksum. Buffers: 128 KiB plus the zstd context.
  explicit RunWriter(const std::string& temp_dir, int level = 1);
  ~RunWriter();

  void add(std::string_view key, std::string_view value) {
    size_t n = key.size() + value.size() + 2;
    if (n > kBuffer - used_) {
      flush();
      if (n > kBuffer) return add_long(key, value);
    }
    char* p = buf_.get() + used_;
    if (!key.empty()) std::memcpy(p, key.data(), key.size());  // data() may be null
    p += key.size();
    *p++ = '\t';
    if (!value.empty()) std::memcpy(p, value.data(), value.size());
    p[value.size()] = '\n';
    used_ += n;
    bytes_ += n;
    ++records_;
  }
  void add(const Record& r) { add(r.key, r.value); }

  // Appends `frame`, a complete zstd frame made by RunFrameCompressor that
  // holds `records` lines (`bytes` bytes), after what add() wrote. Lets
  // callers compress parts of a run in parallel and write them in order.
  void add_frame(std::string_view frame, uint64_t records, uint64_t bytes);

  uint64_t records() const { return records_; }

  // Ends the zstd frame and returns the run, ready for RunReader. Throws
  // grist::Error on a write error (a full disk, for instance).
  Run finish();

 private:
  static constexpr size_t kBuffer = 128 << 10;
  void end_frame();
  void add_long(std::string_view key, std::string_view value);
  void compress(const char* p, size_t n, bool end);
  void flush();

  std::string dir_;
  UniqueFd fd_;
  void* cctx_ = nullptr;  // ZSTD_CCtx
  std::unique_ptr<char[]> buf_, out_;
  size_t used_ = 0;
  bool frame_open_ = false;  // the streaming frame has data: end it before a raw frame
  uint64_t records_ = 0, bytes_ = 0, file_bytes_ = 0;
};

// Compresses whole `key\tvalue\n` lines into one zstd frame with the
// parameters of RunWriter (level, checksum, window), for
// RunWriter::add_frame. One per thread; not thread-safe.
class RunFrameCompressor {
 public:
  explicit RunFrameCompressor(int level = 1);
  ~RunFrameCompressor();
  RunFrameCompressor(const RunFrameCompressor&) = delete;
  RunFrameCompressor& operator=(const RunFrameCompressor&) = delete;
  // Replaces `out` with the frame of the n bytes at p. Throws grist::Error.
  void compress(const char* p, size_t n, std::vector<char>& out);

 private:
  void* cctx_;  // ZSTD_CCtx
};

// Reads a run back as a RecordStream. Owns the run (its file vanishes when
// the reader is destroyed). Memory: the 256 KiB zstd window of runs plus
// about 200 KiB of buffers (a line longer than the buffer grows it).
// A truncated or corrupt run throws grist::Error.
class RunReader : public RecordStream {
 public:
  explicit RunReader(Run run, size_t buffer_size = 64 << 10);
  // Reads any sorted record source (a part of a partition directory, a
  // sorted file) from its current position. A last line without '\n' is
  // accepted.
  explicit RunReader(std::unique_ptr<Source> source, size_t buffer_size = 64 << 10);
  ~RunReader() override;

  bool next(Record& r) override;

  class Decoder;  // where decoded bytes come from (run.cpp)

 private:
  bool fill();

  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, pos_ = 0, end_ = 0;
  bool eof_ = false;
};

}  // namespace grist
