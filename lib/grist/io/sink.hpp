// Byte sinks: stdout or a file, compressed by name or by request, atomic.
//
//   grist::SinkOptions so;  so.level = 3;
//   auto out = grist::Sink::open("counts.tsv.zst", so);   // "-" is stdout
//   out->write("the\t42\n");
//   out->commit();   // without commit() the file never appears
//
// A file is written under a temporary sibling name and renamed onto its
// target by commit(). If the Sink is destroyed without commit() (an error,
// an exception) the temporary is removed, and signals remove it too
// (grist/io/cleanup.hpp): the target is either the complete new output or
// untouched. The codec comes from the name (grist/io/codec.hpp); zstd, xz
// and bzip2 outputs carry checksums, gzip its CRC.
//
// What is at the path decides how it is written (grist/io/paths.hpp): a
// symlink is followed, and the file it names (created, if it dangles) is
// replaced atomically, the temporary beside it; an existing file keeps its
// mode (and owner and group where allowed); a device or a FIFO is opened
// and written through, as `sort -o` does, so its bytes arrive as they are
// made and an error leaves what was written; /dev/stdout and /dev/fd/N
// write to that descriptor.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/codec.hpp"
#include "grist/io/source.hpp"

namespace grist {

struct SinkOptions {
  // Compression chosen by the name (compression_for_name: ".zst", ".gz",
  // ".bz2", ".xz", else none) unless forced here.
  bool force_zstd = false;
  // kDefaultLevel: the codec's default. A level outside the codec's range,
  // or any level for an uncompressed output, makes open() throw UsageError.
  int level = kDefaultLevel;
  int threads = 1;  // zstd and xz worker threads; output bytes do not depend on it
  // The name errors give for a file (default: its path); for a file written
  // inside a temporary directory, the path it will have once committed.
  std::string name;
};

class Sink {
 public:
  // Opens `path` ("-" or "" for stdout). For a file, creates the temporary
  // sibling now, so that an unwritable directory fails before any work; a
  // device or FIFO is opened now (a FIFO waits for its reader). Throws
  // grist::Error ("is a directory" for a directory). A write to a pipe
  // without reader ends the process by SIGPIPE (cleanup.hpp).
  static std::unique_ptr<Sink> open(const std::string& path, const SinkOptions& opts);

  // Writes to a descriptor the caller owns (spill files, tests). No atomic
  // rename; commit() flushes and finishes the compressed stream. `level` is
  // checked as for open(), except that it is ignored for Compression::none.
  static std::unique_ptr<Sink> to_fd(int fd, std::string name, Compression c,
                                     int level, int threads);

  // Writes into a string (tests).
  static std::unique_ptr<Sink> to_string(std::string* out, Compression c, int level,
                                         int threads = 0);

  Sink(const Sink&) = delete;  // holds a descriptor and an encoder
  Sink& operator=(const Sink&) = delete;
  virtual ~Sink();

  void write(const char* p, size_t n) {
    if (n <= buf_.size() - used_) {
      if (n) std::memcpy(buf_.data() + used_, p, n);  // p may be null when n == 0
      used_ += n;
    } else {
      write_slow(p, n);
    }
    bytes_in_ += n;
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  void put(char c) {
    if (used_ == buf_.size()) flush_buffer();
    buf_[used_++] = c;
    ++bytes_in_;
  }

  // Finishes the output: flushes, ends the compressed frame, closes and (for
  // a file) renames it into place. Throws grist::Error on any failure, in
  // which case the temporary is removed.
  void commit();

  const std::string& name() const { return name_; }
  uint64_t bytes_in() const { return bytes_in_; }  // uncompressed bytes
  uint64_t bytes_out() const;                       // bytes that reached the fd

  class Backend;  // the codec and where its bytes go (sink.cpp)

 protected:
  Sink(std::string name);
  void write_slow(const char* p, size_t n);
  void flush_buffer();

  std::unique_ptr<Backend> backend_;
  std::string name_;
  std::vector<char> buf_;
  size_t used_ = 0;
  uint64_t bytes_in_ = 0;
  bool committed_ = false;
};

}  // namespace grist
