#include "grist/sort/run.hpp"

#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_literalCompressionMode
#include <zstd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/test_hook.hpp"
#include "grist/record/record.hpp"

namespace grist {

namespace {

std::atomic<uint64_t> g_reader_bytes{0};  // merge_input_bytes()

const char* const kSpillName = "(spill file)";


}  // namespace


// ---- RunWriter: records buffered, then zstd-compressed straight to the fd.
// (Not a Sink: spills are many and small when budgets are tiny, and a Sink's
// 1 MiB buffer would dominate their cost.)

namespace {

// Spills are written once and read once, many at a time in a merge: a
// 256 KiB window (instead of level 1's 512 KiB) halves a reader's memory for
// a slightly larger file.
ZSTD_CCtx* make_run_cctx(int level) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  if (!c) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  // Only a speed setting: a library without it still writes valid frames.
  ZSTD_CCtx_setParameter(c, ZSTD_c_literalCompressionMode, ZSTD_ps_enable);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 18);
  return c;
}

}  // namespace

RunFrameCompressor::RunFrameCompressor(int level) : cctx_(make_run_cctx(level)) {}

RunFrameCompressor::~RunFrameCompressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

void RunFrameCompressor::compress(const char* p, size_t n, std::vector<char>& out) {
  out.resize(ZSTD_compressBound(n));
  size_t c = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), out.data(), out.size(), p, n);
  if (ZSTD_isError(c)) {
    throw Error(kSpillName, std::string("zstd compression failed: ") + ZSTD_getErrorName(c));
  }
  out.resize(c);
}

RunWriter::RunWriter(const std::string& temp_dir, int level)
    : dir_(temp_dir), fd_(open_anonymous_temp_file(temp_dir)) {
  cctx_ = make_run_cctx(level);
  buf_.reset(new char[kBuffer]);
  out_.reset(new char[ZSTD_CStreamOutSize()]);
}

RunWriter::~RunWriter() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

void RunWriter::compress(const char* p, size_t n, bool end) {
  ZSTD_CCtx* c = static_cast<ZSTD_CCtx*>(cctx_);
  ZSTD_inBuffer in{p, n, 0};
  const size_t out_size = ZSTD_CStreamOutSize();
  for (;;) {
    ZSTD_outBuffer out{out_.get(), out_size, 0};
    size_t rem = ZSTD_compressStream2(c, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(rem)) {
      throw Error(kSpillName, std::string("zstd compression failed: ") + ZSTD_getErrorName(rem));
    }
    write_all(fd_.get(), out_.get(), out.pos, kSpillName);
    file_bytes_ += out.pos;
    if (end ? rem == 0 : in.pos == in.size) break;
  }
}

void RunWriter::flush() {
  if (used_) {
    compress(buf_.get(), used_, false);
    frame_open_ = true;
  }
  used_ = 0;
}

void RunWriter::end_frame() {
  flush();
  if (frame_open_) compress(nullptr, 0, true);
  frame_open_ = false;
}

void RunWriter::add_frame(std::string_view frame, uint64_t records, uint64_t bytes) {
  end_frame();
  write_all(fd_.get(), frame.data(), frame.size(), kSpillName);
  file_bytes_ += frame.size();
  last_key_.clear();  // the frame's last key is not known here: the next add() shares nothing
  records_ += records;
  bytes_ += bytes;
}

void RunWriter::add_long(std::string_view key, std::string_view value, size_t shared) {
  frame_open_ = true;
  char head[30];
  char* e = put_varint(put_varint(put_varint(head, shared), key.size() - shared), value.size());
  compress(head, static_cast<size_t>(e - head), false);
  compress(key.data() + shared, key.size() - shared, false);
  compress(value.data(), value.size(), false);
  last_key_.assign(key.data(), key.size());
  bytes_ += key.size() + value.size() + 2;
  ++records_;
}

Run RunWriter::finish() {
  flush();
  // An empty run is one empty frame; after raw frames, nothing more.
  if (frame_open_ || file_bytes_ == 0) compress(nullptr, 0, true);
  frame_open_ = false;
  Run run;
  run.records = records_;
  run.bytes = bytes_;
  run.file_bytes = file_bytes_;
  if (::lseek(fd_.get(), 0, SEEK_SET) != 0) throw_errno(kSpillName, "cannot seek");
  run.fd = std::move(fd_);
  test_stop_point("spill");
  return run;
}

// ---- RunReader

// Decoders own a descriptor, a source or a zstd context: not copyable.
class RunReader::Decoder {
 public:
  Decoder() = default;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  virtual ~Decoder() = default;
  virtual size_t read(char* p, size_t n) = 0;
};

namespace {

class SourceDecoder : public RunReader::Decoder {
 public:
  explicit SourceDecoder(std::unique_ptr<Source> s) : s_(std::move(s)) {}
  size_t read(char* p, size_t n) override {
    size_t got = s_->read(p, n);
    uint64_t raw = s_->raw_bytes_read();
    add_merge_input_bytes(raw - counted_);
    counted_ = raw;
    return got;
  }

 private:
  std::unique_ptr<Source> s_;
  uint64_t counted_ = 0;
};

class RunDecoder : public RunReader::Decoder {
 public:
  explicit RunDecoder(Run run) : run_(std::move(run)), in_(new char[kIn]) {
    d_ = ZSTD_createDCtx();
    if (!d_) throw std::bad_alloc();
  }
  ~RunDecoder() override { ZSTD_freeDCtx(d_); }

  size_t read(char* p, size_t n) override {
    ZSTD_outBuffer out{p, n, 0};
    while (out.pos == 0) {
      if (ib_.pos == ib_.size) {
        if (eof_) {
          if (last_ != 0) throw Error(kSpillName, "truncated zstd data");
          return 0;
        }
        size_t r = read_some(run_.fd.get(), in_.get(), kIn, kSpillName);
        add_merge_input_bytes(static_cast<uint64_t>(r));
        if (r == 0) {
          eof_ = true;
          continue;
        }
        ib_ = ZSTD_inBuffer{in_.get(), r, 0};
      }
      last_ = ZSTD_decompressStream(d_, &out, &ib_);
      if (ZSTD_isError(last_)) {
        throw Error(kSpillName, std::string("corrupt zstd data: ") + ZSTD_getErrorName(last_));
      }
    }
    return out.pos;
  }

 private:
  static constexpr size_t kIn = 64 << 10;
  Run run_;
  std::unique_ptr<char[]> in_;
  ZSTD_DCtx* d_;
  ZSTD_inBuffer ib_{nullptr, 0, 0};
  size_t last_ = 0;
  bool eof_ = false;
};

}  // namespace

uint64_t merge_input_bytes() { return g_reader_bytes.load(std::memory_order_relaxed); }
void add_merge_input_bytes(uint64_t n) { g_reader_bytes.fetch_add(n, std::memory_order_relaxed); }

RunReader::RunReader(Run run, size_t buffer_size)
    : decoder_(std::make_unique<RunDecoder>(std::move(run))),
      buf_(new char[buffer_size]),
      cap_(buffer_size),
      coded_(true) {}

RunReader::RunReader(std::unique_ptr<Source> source, size_t buffer_size)
    : decoder_(std::make_unique<SourceDecoder>(std::move(source))),
      buf_(new char[buffer_size]),
      cap_(buffer_size) {}

RunReader::~RunReader() = default;

// Moves the unread tail to the front and reads more; grows the buffer when
// one line fills it. Returns false when nothing more can be read.
bool RunReader::fill() {
  if (eof_) return false;
  size_t tail = end_ - pos_;
  if (pos_ > 0) {
    std::memmove(buf_.get(), buf_.get() + pos_, tail);
    pos_ = 0;
    end_ = tail;
  }
  if (end_ == cap_) {
    std::unique_ptr<char[]> bigger(new char[cap_ * 2]);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ *= 2;
  }
  size_t n = decoder_->read(buf_.get() + end_, cap_ - end_);
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool RunReader::next_coded(Record& r) {
  for (;;) {
    const char* const start = buf_.get() + pos_;
    const char* const end = buf_.get() + end_;
    const char* p = start;
    uint64_t shared, s, v;
    if (end - p >= 3 && ((p[0] | p[1] | p[2]) & 0x80) == 0) {  // the common case
      shared = static_cast<unsigned char>(p[0]);
      s = static_cast<unsigned char>(p[1]);
      v = static_cast<unsigned char>(p[2]);
      p += 3;
    } else if (!(get_varint(p, end, shared) && get_varint(p, end, s) && get_varint(p, end, v))) {
      p = nullptr;
    }
    if (p && s <= static_cast<uint64_t>(end - p) && v <= static_cast<uint64_t>(end - p) - s) {
      if (shared > key_.size()) throw Error(kSpillName, "corrupt run: bad key prefix");
      key_.resize(shared);
      key_.append(p, s);
      r.key = key_;
      r.value = std::string_view(p + s, v);
      pos_ = static_cast<size_t>(p + s + v - buf_.get());
      return true;
    }
    if (!fill()) {
      if (pos_ == end_) return false;
      throw Error(kSpillName, "truncated run: a record is cut off");
    }
  }
}

bool RunReader::next(Record& r) {
  if (coded_) return next_coded(r);
  for (;;) {
    const char* p = buf_.get() + pos_;
    const void* nl = end_ > pos_ ? std::memchr(p, '\n', end_ - pos_) : nullptr;
    if (nl) {
      size_t len = static_cast<size_t>(static_cast<const char*>(nl) - p);
      KeyValue kv = split_key_value(std::string_view(p, len));
      r.key = kv.key;
      r.value = kv.value;
      pos_ += len + 1;
      return true;
    }
    if (!fill()) {
      if (pos_ == end_) return false;
      // A last line without '\n' (a foreign sorted file).
      if (end_ == cap_) {
        std::unique_ptr<char[]> bigger(new char[cap_ + 1]);
        std::memcpy(bigger.get(), buf_.get(), end_);
        buf_ = std::move(bigger);
        ++cap_;
      }
      buf_[end_++] = '\n';
    }
  }
}

}  // namespace grist
