// Byte sources: a file or stdin, decompressed transparently.
//
//   auto src = grist::Source::open("corpus.txt.zst");   // or "-" for stdin
//   char buf[1 << 16];
//   while (size_t n = src->read(buf, sizeof buf)) consume(buf, n);
//
// The format is recognised by the first bytes, never by the name: zstd
// (concatenated frames and skippable frames included), gzip (multi-member),
// otherwise plain bytes. A truncated or corrupt compressed stream throws
// grist::Error naming the file; it is never silently cut short.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace grist {

enum class Compression { none, gzip, zstd };

class Source {
 public:
  virtual ~Source() = default;

  // Opens `path` ("-" means stdin). Throws grist::Error if it cannot be
  // opened or is a directory.
  static std::unique_ptr<Source> open(const std::string& path);

  // Wraps an already open descriptor (not closed by the Source unless
  // `owned`). `name` is used in messages.
  static std::unique_ptr<Source> from_fd(int fd, std::string name, bool owned);

  // Wraps bytes held in memory (tests, fuzzers).
  static std::unique_ptr<Source> from_memory(std::string bytes, std::string name);

  // Reads up to `n` decoded bytes into `buf`. Returns 0 only at the end of
  // the data. Throws grist::Error on I/O errors and corrupt or truncated
  // compressed data.
  virtual size_t read(char* buf, size_t n) = 0;

  // The name for messages: the path, or "-" for stdin... shown as "(stdin)".
  virtual const std::string& name() const = 0;
  virtual Compression compression() const = 0;
  // Raw (compressed) bytes consumed so far and the raw size if known (a
  // regular file), else 0: for progress and throughput figures.
  virtual uint64_t raw_bytes_read() const = 0;
  virtual uint64_t raw_size() const = 0;
};

// Display name for a path given on the command line.
std::string display_name(const std::string& path);

}  // namespace grist
