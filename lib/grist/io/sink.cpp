#include "grist/io/sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/pipe.hpp"

namespace grist {

namespace {

constexpr size_t kSinkBufferSize = 1 << 20;

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

// A compressed output: the codec's Encoder writing into the RawOut.
class EncoderBackend : public Sink::Backend, Encoder::Output {
 public:
  EncoderBackend(std::unique_ptr<RawOut> out, std::unique_ptr<Encoder> enc)
      : Backend(std::move(out)), enc_(std::move(enc)) {}
  void consume(const char* p, size_t n) override { enc_->write(p, n, *this); }
  void finish() override { enc_->finish(*this); }

 private:
  void put(const char* p, size_t n) override { out_->write(p, n); }
  std::unique_ptr<Encoder> enc_;
};

// Checks the level against the codec before anything is written.
std::unique_ptr<Sink::Backend> make_backend(std::unique_ptr<RawOut> out, const std::string& name,
                                            Compression c, int level, int threads) {
  check_level(c, level, name);
  if (c == Compression::none) return std::make_unique<Sink::Backend>(std::move(out));
  return std::make_unique<EncoderBackend>(std::move(out), make_encoder(c, level, threads, name));
}

}  // namespace

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
  // A level is for the codec: ignored for plain bytes, as callers pass 0.
  if (c == Compression::none) level = kDefaultLevel;
  s->backend_ = make_backend(std::make_unique<FdOut>(fd, false, name), name, c, level, threads);
  return s;
}

std::unique_ptr<Sink> Sink::to_string(std::string* out, Compression c, int level,
                                      int threads) {
  std::unique_ptr<Sink> s(new Sink("(memory)"));
  if (c == Compression::none) level = kDefaultLevel;
  s->backend_ = make_backend(std::make_unique<StringOut>(out), "(memory)", c, level, threads);
  return s;
}

void Sink::flush_buffer() {
  if (used_ == 0) return;
  backend_->consume(buf_.data(), used_);
  used_ = 0;
}

void Sink::write_slow(const char* p, size_t n) {
  flush_buffer();
  if (n >= buf_.size()) {
    backend_->consume(p, n);
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
