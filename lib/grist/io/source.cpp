#include "grist/io/source.hpp"

#include <bzlib.h>
#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, ZSTD_WINDOWLOG_MAX_64
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/fd.hpp"
#include "grist/io/pipe.hpp"
#include "grist/record/memsize.hpp"

namespace grist {

std::string display_name(const std::string& path) {
  return path == "-" ? std::string("(stdin)") : path;
}

namespace {

std::atomic<uint64_t> g_decoder_memory{kMaxDecoderMemory};

}  // namespace

void set_decoder_memory_limit(uint64_t bytes) {
  g_decoder_memory.store(std::clamp(bytes, kMinDecoderMemory, kMaxDecoderMemory),
                         std::memory_order_relaxed);
}

uint64_t decoder_memory_limit() { return g_decoder_memory.load(std::memory_order_relaxed); }

namespace {

constexpr size_t kRawBufferSize = 1 << 20;
// Enough for every magic number: xz's is six bytes.
constexpr size_t kSniffBytes = 6;

// A size as -S takes it, rounded up to whole MiB: "1G", "1536M".
std::string memory_option(uint64_t bytes) {
  uint64_t mib = (bytes + (uint64_t(1) << 20) - 1) >> 20;
  return mib % 1024 == 0 ? std::to_string(mib / 1024) + "G" : std::to_string(mib) + "M";
}

std::string exceeds_budget(const char* what, uint64_t needs) {
  std::string s = std::string(what) + " of " + format_bytes(needs);
  // Beyond what any encoder writes (zstd's largest window): corrupt, most likely.
  if (needs > kMaxDecoderMemory) {
    return s + " exceeds the largest grist reads (" + format_bytes(kMaxDecoderMemory) + ")";
  }
  return s + " exceeds the memory budget of " + format_bytes(decoder_memory_limit()) +
         "; raise -S to at least " + memory_option(needs);
}

// Where raw bytes come from: a descriptor or a string in memory.
class RawInput {
 public:
  RawInput() = default;
  RawInput(const RawInput&) = delete;  // FdInput owns a descriptor
  RawInput& operator=(const RawInput&) = delete;
  virtual ~RawInput() = default;
  virtual size_t read(char* buf, size_t n) = 0;  // 0 at end
  virtual uint64_t size() const = 0;
};

class FdInput : public RawInput {
 public:
  FdInput(int fd, bool owned, const std::string& name)
      : fd_(fd), owned_(owned), name_(name) {
    struct stat st;
    if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  ~FdInput() override {
    if (owned_) ::close(fd_);
  }
  size_t read(char* buf, size_t n) override { return read_some(fd_, buf, n, name_); }
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  bool owned_;
  const std::string& name_;
  uint64_t size_ = 0;
};

class MemoryInput : public RawInput {
 public:
  explicit MemoryInput(std::string bytes) : bytes_(std::move(bytes)) {}
  size_t read(char* buf, size_t n) override {
    size_t k = std::min(n, bytes_.size() - pos_);
    std::memcpy(buf, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  uint64_t size() const override { return bytes_.size(); }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

bool is_zstd_magic(const unsigned char* p, size_t n) {
  if (n < 4) return false;
  uint32_t m = p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24);
  return m == ZSTD_MAGICNUMBER || (m & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

bool is_gzip_magic(const unsigned char* p, size_t n) {
  return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

// "BZh" and the block size, '1'..'9'.
bool is_bzip2_magic(const unsigned char* p, size_t n) {
  return n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9';
}

bool is_xz_magic(const unsigned char* p, size_t n) {
  static const unsigned char magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
  return n >= 6 && std::memcmp(p, magic, 6) == 0;
}

const char* bzip2_error(int ret) {
  switch (ret) {
    case BZ_DATA_ERROR: return "corrupt bzip2 data (checksum or format error)";
    case BZ_DATA_ERROR_MAGIC: return "corrupt bzip2 data (bad stream header)";
    case BZ_MEM_ERROR: return "out of memory decompressing bzip2 data";
    default: return "corrupt bzip2 data";
  }
}

const char* xz_error(lzma_ret ret) {
  switch (ret) {
    case LZMA_FORMAT_ERROR: return "corrupt xz data (bad stream header, or trailing garbage)";
    case LZMA_OPTIONS_ERROR: return "corrupt xz data (unsupported options)";
    case LZMA_DATA_ERROR: return "corrupt xz data";
    case LZMA_MEM_ERROR: return "out of memory decompressing xz data";
    case LZMA_UNSUPPORTED_CHECK: return "corrupt xz data (unsupported integrity check)";
    default: return "corrupt xz data";
  }
}

class StreamSource : public Source {
 public:
  StreamSource(std::unique_ptr<RawInput> raw, std::string name,
               size_t buffer_size = kRawBufferSize)
      : raw_(std::move(raw)), name_(std::move(name)), buf_(buffer_size) {
    // Sniff: fill at least a few bytes (a pipe may deliver them piecemeal).
    while (end_ < kSniffBytes) {
      size_t r = raw_->read(buf_.data() + end_, buf_.size() - end_);
      if (r == 0) {
        eof_ = true;
        break;
      }
      end_ += r;
      raw_read_ += r;
    }
    auto* u = reinterpret_cast<const unsigned char*>(buf_.data());
    if (is_zstd_magic(u, end_)) {
      kind_ = Compression::zstd;
      zd_ = ZSTD_createDStream();
      if (!zd_) throw Error(name_, "out of memory");
      ZSTD_initDStream(zd_);
      // The largest window that fits the budget; never below zstd's default.
      int log = std::bit_width(decoder_memory_limit()) - 1;
      ZSTD_DCtx_setParameter(zd_, ZSTD_d_windowLogMax, std::clamp(log, 27, ZSTD_WINDOWLOG_MAX_64));
    } else if (is_gzip_magic(u, end_)) {
      kind_ = Compression::gzip;
      std::memset(&zs_, 0, sizeof zs_);
      if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw Error(name_, "out of memory");
      zs_init_ = true;
    } else if (is_bzip2_magic(u, end_)) {
      kind_ = Compression::bzip2;
      std::memset(&bz_, 0, sizeof bz_);
      if (BZ2_bzDecompressInit(&bz_, 0, 0) != BZ_OK) throw Error(name_, "out of memory");
      bz_init_ = true;
    } else if (is_xz_magic(u, end_)) {
      kind_ = Compression::xz;
      lzma_ret r = lzma_stream_decoder(&xz_, decoder_memory_limit(), LZMA_CONCATENATED);
      if (r != LZMA_OK) throw Error(name_, xz_error(r));
      xz_init_ = true;
    }
  }

  ~StreamSource() override {
    if (zd_) ZSTD_freeDStream(zd_);
    if (zs_init_) inflateEnd(&zs_);
    if (bz_init_) BZ2_bzDecompressEnd(&bz_);
    if (xz_init_) lzma_end(&xz_);
  }

  size_t read(char* out, size_t n) override {
    if (n == 0) return 0;
    switch (kind_) {
      case Compression::none: return read_plain(out, n);
      case Compression::zstd: return read_zstd(out, n);
      case Compression::gzip: return read_gzip(out, n);
      case Compression::bzip2: return read_bzip2(out, n);
      case Compression::xz: return read_xz(out, n);
    }
    return 0;
  }

  const std::string& name() const override { return name_; }
  Compression compression() const override { return kind_; }
  uint64_t raw_bytes_read() const override { return raw_read_; }
  uint64_t raw_size() const override { return raw_->size(); }

 private:
  // Refills the raw buffer when it is consumed; false at end of input.
  bool refill() {
    if (pos_ < end_) return true;
    if (eof_) return false;
    pos_ = end_ = 0;
    size_t r = raw_->read(buf_.data(), buf_.size());
    if (r == 0) {
      eof_ = true;
      return false;
    }
    end_ = r;
    raw_read_ += r;
    return true;
  }

  size_t read_plain(char* out, size_t n) {
    if (pos_ < end_) {
      size_t k = std::min(n, end_ - pos_);
      std::memcpy(out, buf_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    if (eof_) return 0;
    // Large reads bypass the buffer.
    size_t r = raw_->read(out, n);
    if (r == 0) eof_ = true;
    raw_read_ += r;
    return r;
  }

  // Both decoders may hold output back when `out` fills up, so the end of
  // the raw input is only an error if a final call without input still
  // finds the frame (or member) incomplete.
  size_t read_zstd(char* out, size_t n) {
    ZSTD_outBuffer ob{out, n, 0};
    for (;;) {
      bool have = refill();
      if (!have && !frame_open_) return ob.pos;
      ZSTD_inBuffer ib{buf_.data(), have ? end_ : 0, have ? pos_ : 0};
      const size_t frame_start = frame_open_ ? end_ : pos_;
      size_t ret = ZSTD_decompressStream(zd_, &ob, &ib);
      if (have) pos_ = ib.pos;
      if (ZSTD_isError(ret)) zstd_failed(ret, frame_start);
      frame_open_ = ret != 0;
      if (ob.pos == ob.size || (ob.pos > 0 && pos_ == end_)) return ob.pos;
      if (!have && ob.pos == 0) {
        if (frame_open_) throw Error(name_, "truncated zstd data (unexpected end of file)");
        return 0;
      }
    }
  }

  size_t read_gzip(char* out, size_t n) {
    zs_.next_out = reinterpret_cast<Bytef*>(out);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const size_t want = zs_.avail_out;
    for (;;) {
      bool have = refill();
      if (!have && !member_open_) return want - zs_.avail_out;
      if (have && !member_open_) {
        expect_magic(is_gzip_magic, 2, "corrupt gzip data: trailing garbage after the last member");
        inflateReset(&zs_);
        member_open_ = true;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(buf_.data() + pos_);
      zs_.avail_in = have ? static_cast<uInt>(end_ - pos_) : 0;
      int ret = inflate(&zs_, Z_NO_FLUSH);
      if (have) pos_ = end_ - zs_.avail_in;
      if (ret == Z_STREAM_END) {
        member_open_ = false;
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        throw Error(name_, std::string("corrupt gzip data: ") +
                               (zs_.msg ? zs_.msg : "inflate failed"));
      }
      size_t got = want - zs_.avail_out;
      if (zs_.avail_out == 0 || (got > 0 && pos_ == end_)) return got;
      if (!have && got == 0) {
        if (member_open_) throw Error(name_, "truncated gzip data (unexpected end of file)");
        return 0;
      }
    }
  }

  // Concatenated bzip2 streams, as pbzip2 and `cat a.bz2 b.bz2` make them:
  // the decoder stops at the end of each and is started again.
  size_t read_bzip2(char* out, size_t n) {
    bz_.next_out = out;
    bz_.avail_out = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    const size_t want = bz_.avail_out;
    for (;;) {
      bool have = refill();
      if (!have && !member_open_) return want - bz_.avail_out;
      if (have && !member_open_) {
        expect_magic(is_bzip2_magic, 4, "corrupt bzip2 data: trailing garbage after the last stream");
        BZ2_bzDecompressEnd(&bz_);
        bz_init_ = false;
        if (BZ2_bzDecompressInit(&bz_, 0, 0) != BZ_OK) throw Error(name_, "out of memory");
        bz_init_ = true;
        member_open_ = true;
      }
      bz_.next_in = buf_.data() + pos_;
      bz_.avail_in = have ? static_cast<unsigned>(std::min<size_t>(end_ - pos_, 1u << 30)) : 0;
      const unsigned in_before = bz_.avail_in;
      int ret = BZ2_bzDecompress(&bz_);
      if (have) pos_ += in_before - bz_.avail_in;
      if (ret == BZ_STREAM_END) {
        member_open_ = false;
      } else if (ret != BZ_OK) {
        throw Error(name_, bzip2_error(ret));
      }
      size_t got = want - bz_.avail_out;
      if (bz_.avail_out == 0 || (got > 0 && pos_ == end_)) return got;
      if (!have && got == 0) {
        if (member_open_) throw Error(name_, "truncated bzip2 data (unexpected end of file)");
        return 0;
      }
    }
  }

  // liblzma handles concatenated streams and stream padding itself
  // (LZMA_CONCATENATED); LZMA_FINISH at the end of the input makes it say
  // whether the last stream was complete.
  size_t read_xz(char* out, size_t n) {
    if (xz_done_) return 0;
    xz_.next_out = reinterpret_cast<uint8_t*>(out);
    xz_.avail_out = n;
    for (;;) {
      bool have = refill();
      xz_.next_in = reinterpret_cast<const uint8_t*>(buf_.data() + pos_);
      xz_.avail_in = have ? end_ - pos_ : 0;
      lzma_ret ret = lzma_code(&xz_, have ? LZMA_RUN : LZMA_FINISH);
      if (have) pos_ = end_ - xz_.avail_in;
      size_t got = n - xz_.avail_out;
      if (ret == LZMA_STREAM_END) {
        xz_done_ = true;
        return got;
      }
      if (ret == LZMA_MEMLIMIT_ERROR) {
        throw Error(name_, exceeds_budget("xz dictionary", lzma_memusage(&xz_)));
      }
      if (ret == LZMA_BUF_ERROR && !have) {
        throw Error(name_, "truncated xz data (unexpected end of file)");
      }
      if (ret != LZMA_OK) throw Error(name_, xz_error(ret));
      if (xz_.avail_out == 0 || (got > 0 && pos_ == end_)) return got;
    }
  }

  // The window of a zstd frame larger than the budget gets a message saying
  // what -S would read it; its size is in the frame header, found where the
  // frame began if that was in this buffer.
  [[noreturn]] void zstd_failed(size_t ret, size_t frame_start) {
    if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge) {
      ZSTD_frameHeader h;
      if (frame_start < end_ &&
          ZSTD_getFrameHeader(&h, buf_.data() + frame_start, end_ - frame_start) == 0 &&
          h.windowSize > decoder_memory_limit()) {
        // A single-segment frame's window is its content size, up to 2^64 - 1.
        uint64_t w = h.windowSize > kMaxDecoderMemory ? h.windowSize : std::bit_ceil(h.windowSize);
        throw Error(name_, exceeds_budget("zstd window", w));
      }
      throw Error(name_, "zstd window larger than the memory budget of " +
                             format_bytes(decoder_memory_limit()) + " (raise -S)");
    }
    throw Error(name_, std::string("corrupt zstd data: ") + ZSTD_getErrorName(ret));
  }

  // After a complete gzip member or bzip2 stream, more input must be the
  // next one: anything else is garbage, not data.
  void expect_magic(bool (*is_magic)(const unsigned char*, size_t), size_t len,
                    const char* garbage) {
    if (end_ - pos_ < len && !eof_) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
      while (end_ < len) {
        size_t r = raw_->read(buf_.data() + end_, buf_.size() - end_);
        if (r == 0) {
          eof_ = true;
          break;
        }
        raw_read_ += r;
        end_ += r;
      }
    }
    if (!is_magic(reinterpret_cast<const unsigned char*>(buf_.data() + pos_), end_ - pos_)) {
      throw Error(name_, garbage);
    }
  }

  std::unique_ptr<RawInput> raw_;
  std::string name_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t raw_read_ = 0;
  Compression kind_ = Compression::none;
  ZSTD_DStream* zd_ = nullptr;
  bool frame_open_ = false;
  z_stream zs_;
  bool zs_init_ = false;
  bool member_open_ = true;  // gzip member or bzip2 stream
  bz_stream bz_;
  bool bz_init_ = false;
  lzma_stream xz_ = LZMA_STREAM_INIT;
  bool xz_init_ = false;
  bool xz_done_ = false;
};

// Holds the name for FdInput, which refers to it, before StreamSource.
class NamedFdSource : public Source {
 public:
  NamedFdSource(int fd, std::string name, bool owned)
      : name_(std::move(name)),
        inner_(std::make_unique<FdInput>(fd, owned, name_), name_) {}
  size_t read(char* buf, size_t n) override { return inner_.read(buf, n); }
  const std::string& name() const override { return name_; }
  Compression compression() const override { return inner_.compression(); }
  uint64_t raw_bytes_read() const override { return inner_.raw_bytes_read(); }
  uint64_t raw_size() const override { return inner_.raw_size(); }

 private:
  std::string name_;
  StreamSource inner_;
};

}  // namespace

std::unique_ptr<Source> Source::open(const std::string& path) {
  if (path == "-") {
    widen_pipe(STDIN_FILENO);
    return from_fd(STDIN_FILENO, display_name(path), false);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno(path, "cannot open");
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(path, "is a directory");
  }
  return from_fd(fd, path, true);
}

std::unique_ptr<Source> Source::from_fd(int fd, std::string name, bool owned) {
  return std::make_unique<NamedFdSource>(fd, std::move(name), owned);
}

std::unique_ptr<Source> Source::from_memory(std::string bytes, std::string name) {
  // Small inputs (tests, fuzzers) need no large raw buffer.
  size_t buffer = std::min<size_t>(kRawBufferSize, std::max<size_t>(bytes.size(), 64));
  return std::make_unique<StreamSource>(std::make_unique<MemoryInput>(std::move(bytes)),
                                        std::move(name), buffer);
}

}  // namespace grist
