// Sorted runs: zstd-compressed temporary files of front-coded records.
//
//   grist::RunWriter w(temp_dir);            // anonymous file in temp_dir
//   w.add("apple", "3");  w.add("pear", "1"); // in sorted order
//   grist::Run run = w.finish();
//   grist::RunReader r(std::move(run));       // a RecordStream
//
// A run lives in a file made by open_anonymous_temp_file(): it has no name,
// so it vanishes when its descriptor closes, on every exit path (error,
// exception, SIGINT). RunWriter does not check the order; the producer (a
// sorted table, a merge) guarantees it.
//
// A run is internal (never seen by users), so its records are front-coded
// rather than text lines: each record is varint(shared) varint(suffix
// length) varint(value length), the key bytes after the first `shared`
// bytes of the previous record's key, then the value. Sorted keys share
// long prefixes (equal keys all of it), so this takes fewer bytes than lines
// (30% fewer on word-count pairs), which zstd then compresses and
// decompresses faster.
// shared = 0 is always valid, so independently encoded pieces (frames
// compressed in parallel) can be concatenated.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/fd.hpp"
#include "grist/error.hpp"
#include "grist/io/source.hpp"
#include "grist/sort/record_stream.hpp"

namespace grist {

// The most bytes encode_run_record() writes for a record with a key suffix
// of s bytes and a value of v bytes.
constexpr size_t run_record_bound(size_t s, size_t v) { return s + v + 30; }

// Length of the common prefix of a and b.
inline size_t common_prefix(std::string_view a, std::string_view b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return i + static_cast<size_t>(__builtin_ctzll(x ^ y)) / 8;  // little-endian
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

inline char* put_varint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// The zstd level of spilled runs, which are written once and read once: a
// match finder so fast it finds little, while RunWriter turns on
// Huffman-coded literals (off by default below level 1), which is where
// most of the saving on keys and text comes from. Against level -1 on 1 GiB
// of key/count runs: the same spill bytes for 14% less sort CPU.
constexpr int kRunLevel = -500;
// For spills that are a small part of their program's work (grist-count's
// tables, where hashing dominates): a match finder that still finds the
// repeats of regular keys. 50 million keys k000000000..., -S 256M: 70 MiB
// of spills against 140 at kRunLevel and 72 at level 1, in the same time.
constexpr int kCompactRunLevel = -5;

// The most bytes put_varint() writes.
constexpr size_t kMaxVarint = 10;

// Reads a varint at p (before end) into v and moves p past it; false if it
// is cut off at end. Throws grist::Error on one over kMaxVarint bytes.
inline bool get_varint(const char*& p, const char* end, uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; p < end && shift < 64; shift += 7) {
    unsigned char c = static_cast<unsigned char>(*p++);
    v |= uint64_t(c & 0x7f) << shift;
    if (c < 0x80) return true;
  }
  if (p < end) throw Error("(spill file)", "corrupt run: bad length");
  return false;
}

// Writes the run record (key, value) at p, its first `shared` key bytes
// being those of the previous record (shared <= key.size()); returns the end.
inline char* encode_run_record(char* p, size_t shared, std::string_view key,
                               std::string_view value) {
  const size_t s = key.size() - shared;
  if (s < 0x80 && value.size() < 0x80 && shared < 0x80) {
    p[0] = static_cast<char>(shared);
    p[1] = static_cast<char>(s);
    p[2] = static_cast<char>(value.size());
    p += 3;
  } else {
    p = put_varint(p, shared);
    p = put_varint(p, s);
    p = put_varint(p, value.size());
  }
  if (s) std::memcpy(p, key.data() + shared, s);  // data() may be null
  p += s;
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  return p + value.size();
}

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
  // directory if it cannot). `level` is the zstd level; literals are
  // Huffman-coded at every level. The frame carries a checksum. Buffers:
  // 128 KiB plus the zstd context.
  explicit RunWriter(const std::string& temp_dir, int level = kRunLevel);
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;  // owns a descriptor and a zstd context
  RunWriter& operator=(const RunWriter&) = delete;

  void add(std::string_view key, std::string_view value) {
    const size_t shared = common_prefix(last_key_, key);
    const size_t n = run_record_bound(key.size() - shared, value.size());
    if (n > kBuffer - used_) {
      flush();
      if (n > kBuffer) return add_long(key, value, shared);
    }
    char* p = buf_.get() + used_;
    used_ = static_cast<size_t>(encode_run_record(p, shared, key, value) - buf_.get());
    last_key_.resize(shared);
    if (key.size() > shared) last_key_.append(key.data() + shared, key.size() - shared);
    bytes_ += key.size() + value.size() + 2;
    ++records_;
  }
  void add(const Record& r) { add(r.key, r.value); }

  // Appends `frame`, a complete zstd frame made by RunFrameCompressor that
  // holds `records` run records (encode_run_record(), the first with
  // shared = 0; `bytes`: the bytes of their lines), after what add() wrote. Lets
  // callers compress parts of a run in parallel and write them in order.
  void add_frame(std::string_view frame, uint64_t records, uint64_t bytes);

  uint64_t records() const { return records_; }

  // Ends the zstd frame and returns the run, ready for RunReader. Throws
  // grist::Error on a write error (a full disk, for instance).
  Run finish();

 private:
  static constexpr size_t kBuffer = 128 << 10;
  void end_frame();
  void add_long(std::string_view key, std::string_view value, size_t shared);
  void compress(const char* p, size_t n, bool end);
  void flush();

  std::string dir_;
  UniqueFd fd_;
  void* cctx_ = nullptr;  // ZSTD_CCtx
  std::unique_ptr<char[]> buf_, out_;
  size_t used_ = 0;
  bool frame_open_ = false;  // the streaming frame has data: end it before a raw frame
  std::string last_key_;     // of the last record add() wrote
  uint64_t records_ = 0, bytes_ = 0, file_bytes_ = 0;
};

// Compresses whole run records into one zstd frame with the
// parameters of RunWriter (level, checksum, window), for
// RunWriter::add_frame. One per thread; not thread-safe.
class RunFrameCompressor {
 public:
  explicit RunFrameCompressor(int level = kRunLevel);
  ~RunFrameCompressor();
  RunFrameCompressor(const RunFrameCompressor&) = delete;
  RunFrameCompressor& operator=(const RunFrameCompressor&) = delete;
  // Replaces `out` with the frame of the n bytes at p. Throws grist::Error.
  void compress(const char* p, size_t n, std::vector<char>& out);

 private:
  void* cctx_;  // ZSTD_CCtx
};

// Raw bytes the merge inputs of this process have read so far: a run's
// compressed bytes (RunReader), a sorted file's raw bytes (RunReader of a
// Source, SortedLineReader). A gauge for progress displays of a merge
// (thread-safe, relaxed).
uint64_t merge_input_bytes();
void add_merge_input_bytes(uint64_t n);

// A progress gauge of the final merge of spilled runs, which feeds the
// output as it goes (grist-count, grist-shuffle-sort): the run bytes read
// since the gauge was made, of the bytes spilled (total(): 0, unknown,
// when intermediate passes have merged runs into new ones).
class SpillMergeGauge {
 public:
  SpillMergeGauge() : base_(merge_input_bytes()) {}
  uint64_t done() const { return merge_input_bytes() - base_; }
  static uint64_t total(uint64_t spill_bytes, uint64_t merge_passes) {
    return merge_passes > 1 ? 0 : spill_bytes;
  }
  static std::string label(uint64_t spills) {
    return "merging " + std::to_string(spills) + " runs";
  }

 private:
  uint64_t base_;
};

// Reads a run back as a RecordStream. Owns the run (its file vanishes when
// the reader is destroyed). Memory: the 256 KiB zstd window of runs plus
// about 200 KiB of buffers (a record longer than the buffer grows it).
// A truncated or corrupt run throws grist::Error.
class RunReader : public RecordStream {
 public:
  explicit RunReader(Run run, size_t buffer_size = 64 << 10);
  // Reads any sorted record source (a part of a partition directory, a
  // sorted file: `key\tvalue\n` lines) from its current position. A last
  // line without '\n' is accepted.
  explicit RunReader(std::unique_ptr<Source> source, size_t buffer_size = 64 << 10);
  ~RunReader() override;
  RunReader(const RunReader&) = delete;  // owns its run's descriptor or its source
  RunReader& operator=(const RunReader&) = delete;

  bool next(Record& r) override;

  class Decoder;  // where decoded bytes come from (run.cpp)

 private:
  bool fill();
  bool next_coded(Record& r);

  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool coded_ = false;  // a run (front-coded records), not text lines
  std::string key_;     // the current key of a run
};

}  // namespace grist
