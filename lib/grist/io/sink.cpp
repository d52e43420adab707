#include "grist/io/sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/paths.hpp"
#include "grist/io/pipe.hpp"
#include "grist/io/test_hook.hpp"

namespace grist {

namespace {

constexpr size_t kSinkBufferSize = 1 << 20;

// Where encoded bytes go.
class RawOut {
 public:
  RawOut() = default;
  RawOut(const RawOut&) = delete;  // FdOut owns a descriptor
  RawOut& operator=(const RawOut&) = delete;
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
        if (errno == EPIPE) {  // no reader left: end as `cat` ends (cleanup.hpp)
          int e = errno;
          end_on_broken_pipe();
          errno = e;
        }
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

// The replacement of an existing file keeps its mode and, where this process
// may set them (root; a group it belongs to), its owner and group. chown
// first: it may clear the set-id bits that chmod then restores.
void keep_owner_and_mode(int fd, const struct stat& st) {
  if (::geteuid() == 0) {
    (void)!::fchown(fd, st.st_uid, st.st_gid);
  } else if (st.st_gid != ::getegid()) {
    (void)!::fchown(fd, static_cast<uid_t>(-1), st.st_gid);
  }
  (void)!::fchmod(fd, st.st_mode & 07777);
}

}  // namespace

class Sink::Backend {
 public:
  explicit Backend(std::unique_ptr<RawOut> out) : out_(std::move(out)) {}
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
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
  OutputTarget t = resolve_output(path, name);
  std::unique_ptr<Sink> s(new Sink(name));
  int fd = -1;
  switch (t.kind) {
    case OutputTarget::Kind::directory:
      throw Error(name, "is a directory");
    case OutputTarget::Kind::descriptor:
      widen_pipe(t.fd);
      s->backend_ = make_backend(std::make_unique<FdOut>(t.fd, false, name), name, c, opts.level,
                                 opts.threads);
      return s;
    case OutputTarget::Kind::through:
      // A device or FIFO is written in place, as `sort -o` writes it: it
      // cannot be replaced (and as root, replacing /dev/null would be a
      // disaster), and a FIFO's reader expects the bytes there.
      fd = ::open(t.path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
      if (fd < 0) throw_errno(name, "cannot open output");
      s->backend_ = make_backend(std::make_unique<FdOut>(fd, true, name), name, c, opts.level,
                                 opts.threads);
      return s;
    case OutputTarget::Kind::file:
      break;
  }
  // The temporary goes beside the file a symlink names, so that the rename
  // replaces that file and the link stays.
  TempPath temp = TempPath::create_file(temp_sibling_name(t.path), name, &fd);
  if (t.exists) keep_owner_and_mode(fd, t.st);
  s->backend_ = make_backend(std::make_unique<FdOut>(fd, true, name), name, c, opts.level,
                             opts.threads);
  s->backend_->temp = std::move(temp);
  s->backend_->target = t.path;
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
    backend_->temp.rename_to(backend_->target, name_);
  }
  committed_ = true;
}

uint64_t Sink::bytes_out() const { return backend_->out().written; }

}  // namespace grist
