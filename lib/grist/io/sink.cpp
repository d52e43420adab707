#include "grist/io/sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/pipe.hpp"
#include "grist/io/test_hook.hpp"

namespace grist {

namespace {

constexpr size_t kSinkBufferSize = 1 << 20;

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Where encoded bytes go.
class RawOut {
 public:
  virtual ~RawOut() = default;
  virtual void write(const char* p, size_t n) = 0;
  virtual void close() {}
  uint64_t written = 0;
};

class FdOut : public RawOut {
 public:
  FdOut(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}
  ~FdOut() override {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  void write(const char* p, size_t n) override {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw_errno(name_, "write error");
      }
      p += w;
      n -= static_cast<size_t>(w);
      written += static_cast<uint64_t>(w);
    }
  }
  void close() override {
    if (owned_ && fd_ >= 0) {
      int fd = fd_;
      fd_ = -1;
      if (::close(fd) != 0) throw_errno(name_, "write error (close)");
    }
  }

 private:
  int fd_;
  bool owned_;
  std::string name_;
};

class StringOut : public RawOut {
 public:
  explicit StringOut(std::string* s) : s_(s) {}
  void write(const char* p, size_t n) override {
    s_->append(p, n);
    written += n;
  }

 private:
  std::string* s_;
};

}  // namespace

class Sink::Backend {
 public:
  explicit Backend(std::unique_ptr<RawOut> out) : out_(std::move(out)) {}
  virtual ~Backend() = default;
  virtual void consume(const char* p, size_t n) { out_->write(p, n); }
  virtual void finish() {}
  RawOut& out() { return *out_; }
  // Set for file outputs: the temporary and the final name.
  TempPath temp;
  std::string target;

 protected:
  std::unique_ptr<RawOut> out_;
};

namespace {

class ZstdBackend : public Sink::Backend {
 public:
  ZstdBackend(std::unique_ptr<RawOut> out, const std::string& name, int level, int threads)
      : Backend(std::move(out)), name_(name), obuf_(ZSTD_CStreamOutSize()) {
    cctx_ = ZSTD_createCCtx();
    if (!cctx_) throw Error(name_, "out of memory");
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level == 0 ? 3 : level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    // With one worker or more the bytes do not depend on the worker count.
    if (threads >= 1) {
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, threads);
      // The default job is 4 windows (8 MiB at level 3): its input, output
      // and window buffers cost 40 MB for one worker whatever -S says (and
      // -S 8M must mean about 8 MiB). 1 MiB jobs cost 6 MB and compress as
      // well. A fixed size, so the bytes still depend on neither -j nor -S.
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_jobSize, 1 << 20);
    }
  }
  ~ZstdBackend() override { ZSTD_freeCCtx(cctx_); }
  void consume(const char* p, size_t n) override { run(p, n, ZSTD_e_continue); }
  void finish() override { run(nullptr, 0, ZSTD_e_end); }

 private:
  void run(const char* p, size_t n, ZSTD_EndDirective mode) {
    ZSTD_inBuffer ib{p, n, 0};
    for (;;) {
      ZSTD_outBuffer ob{obuf_.data(), obuf_.size(), 0};
      size_t rem = ZSTD_compressStream2(cctx_, &ob, &ib, mode);
      if (ZSTD_isError(rem)) {
        throw Error(name_, std::string("zstd compression failed: ") + ZSTD_getErrorName(rem));
      }
      out_->write(obuf_.data(), ob.pos);
      if (mode == ZSTD_e_end ? rem == 0 : ib.pos == ib.size) break;
    }
  }
  std::string name_;
  ZSTD_CCtx* cctx_;
  std::vector<char> obuf_;
};

class GzipBackend : public Sink::Backend {
 public:
  GzipBackend(std::unique_ptr<RawOut> out, const std::string& name, int level)
      : Backend(std::move(out)), name_(name), obuf_(1 << 18) {
    std::memset(&zs_, 0, sizeof zs_);
    if (deflateInit2(&zs_, level == 0 ? 6 : level, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error(name_, "cannot initialise gzip compression (bad level?)");
    }
  }
  ~GzipBackend() override { deflateEnd(&zs_); }
  void consume(const char* p, size_t n) override { run(p, n, Z_NO_FLUSH); }
  void finish() override { run(nullptr, 0, Z_FINISH); }

 private:
  void run(const char* p, size_t n, int flush) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
    zs_.avail_in = static_cast<uInt>(n);
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(obuf_.data());
      zs_.avail_out = static_cast<uInt>(obuf_.size());
      int ret = deflate(&zs_, flush);
      if (ret == Z_STREAM_ERROR) throw Error(name_, "gzip compression failed");
      out_->write(obuf_.data(), obuf_.size() - zs_.avail_out);
      if (flush == Z_FINISH ? ret == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) {
        break;
      }
    }
  }
  std::string name_;
  z_stream zs_;
  std::vector<char> obuf_;
};

std::unique_ptr<Sink::Backend> make_backend(std::unique_ptr<RawOut> out, const std::string& name,
                                            Compression c, int level, int threads) {
  switch (c) {
    case Compression::zstd:
      if (level < 0 || level > ZSTD_maxCLevel()) {
        throw UsageError("zstd level must be 1.." + std::to_string(ZSTD_maxCLevel()));
      }
      return std::make_unique<ZstdBackend>(std::move(out), name, level, threads);
    case Compression::gzip:
      if (level < 0 || level > 9) throw UsageError("gzip level must be 1..9");
      return std::make_unique<GzipBackend>(std::move(out), name, level);
    case Compression::none:
      break;
  }
  return std::make_unique<Sink::Backend>(std::move(out));
}

}  // namespace

Compression compression_for_name(const std::string& path) {
  if (ends_with(path, ".zst")) return Compression::zstd;
  if (ends_with(path, ".gz")) return Compression::gzip;
  return Compression::none;
}

Sink::Sink(std::string name) : name_(std::move(name)), buf_(kSinkBufferSize) {}

Sink::~Sink() = default;  // an uncommitted Backend's TempPath removes the file

std::unique_ptr<Sink> Sink::open(const std::string& path, const SinkOptions& opts) {
  Compression c = opts.force_zstd ? Compression::zstd : compression_for_name(path);
  if (path.empty() || path == "-") {
    widen_pipe(STDOUT_FILENO);
    std::unique_ptr<Sink> s(new Sink("(stdout)"));
    s->backend_ = make_backend(std::make_unique<FdOut>(STDOUT_FILENO, false, "(stdout)"),
                               "(stdout)", c, opts.level, opts.threads);
    return s;
  }
  const std::string& name = opts.name.empty() ? path : opts.name;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(name, "is a directory");
  }
  std::unique_ptr<Sink> s(new Sink(name));
  int fd = -1;
  TempPath temp = TempPath::create_file(temp_sibling_name(path), name, &fd);
  s->backend_ = make_backend(std::make_unique<FdOut>(fd, true, name), name, c, opts.level,
                             opts.threads);
  s->backend_->temp = std::move(temp);
  s->backend_->target = path;
  return s;
}

std::unique_ptr<Sink> Sink::to_fd(int fd, std::string name, Compression c, int level,
                                  int threads) {
  std::unique_ptr<Sink> s(new Sink(name));
  s->backend_ = make_backend(std::make_unique<FdOut>(fd, false, name), name, c, level, threads);
  return s;
}

std::unique_ptr<Sink> Sink::to_string(std::string* out, Compression c, int level,
                                      int threads) {
  std::unique_ptr<Sink> s(new Sink("(memory)"));
  s->backend_ = make_backend(std::make_unique<StringOut>(out), "(memory)", c, level, threads);
  return s;
}

void Sink::flush_buffer() {
  if (used_ == 0) return;
  backend_->consume(buf_.data(), used_);
  used_ = 0;
  if (!backend_->temp.empty()) test_stop_point("output");
}

void Sink::write_slow(const char* p, size_t n) {
  flush_buffer();
  if (n >= buf_.size()) {
    backend_->consume(p, n);
    if (!backend_->temp.empty()) test_stop_point("output");
  } else {
    std::memcpy(buf_.data(), p, n);
    used_ = n;
  }
}

void Sink::commit() {
  if (committed_) return;
  flush_buffer();
  backend_->finish();
  backend_->out().close();
  if (!backend_->temp.empty()) {
    backend_->temp.rename_to(backend_->target);
  }
  committed_ = true;
}

uint64_t Sink::bytes_out() const { return backend_->out().written; }

}  // namespace grist
