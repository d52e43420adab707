#include "grist/io/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/pipe.hpp"

namespace grist {

std::string display_name(const std::string& path) {
  return path == "-" ? std::string("(stdin)") : path;
}

namespace {

constexpr size_t kRawBufferSize = 1 << 20;

// Where raw bytes come from: a descriptor or a string in memory.
class RawInput {
 public:
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
  size_t read(char* buf, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      throw_errno(name_, "read error");
    }
  }
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

class StreamSource : public Source {
 public:
  StreamSource(std::unique_ptr<RawInput> raw, std::string name,
               size_t buffer_size = kRawBufferSize)
      : raw_(std::move(raw)), name_(std::move(name)), buf_(buffer_size) {
    // Sniff: fill at least a few bytes (a pipe may deliver them piecemeal).
    while (end_ < 4) {
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
    } else if (is_gzip_magic(u, end_)) {
      kind_ = Compression::gzip;
      std::memset(&zs_, 0, sizeof zs_);
      if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw Error(name_, "out of memory");
      zs_init_ = true;
    }
  }

  ~StreamSource() override {
    if (zd_) ZSTD_freeDStream(zd_);
    if (zs_init_) inflateEnd(&zs_);
  }

  size_t read(char* out, size_t n) override {
    if (n == 0) return 0;
    switch (kind_) {
      case Compression::none: return read_plain(out, n);
      case Compression::zstd: return read_zstd(out, n);
      case Compression::gzip: return read_gzip(out, n);
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
      size_t ret = ZSTD_decompressStream(zd_, &ob, &ib);
      if (have) pos_ = ib.pos;
      if (ZSTD_isError(ret)) {
        throw Error(name_, std::string("corrupt zstd data: ") + ZSTD_getErrorName(ret));
      }
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
        // A new member must start with the gzip magic; anything else after a
        // complete member is garbage, not data.
        if (end_ - pos_ < 2 && !eof_) {
          std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
          end_ -= pos_;
          pos_ = 0;
          size_t r = raw_->read(buf_.data() + end_, buf_.size() - end_);
          raw_read_ += r;
          if (r == 0) eof_ = true;
          end_ += r;
        }
        auto* u = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
        if (!is_gzip_magic(u, end_ - pos_)) {
          throw Error(name_, "corrupt gzip data: trailing garbage after the last member");
        }
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
  bool member_open_ = true;
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
