// Byte sources: a file or stdin, decompressed transparently.
//
//   auto src = grist::Source::open("corpus.txt.zst");   // or "-" for stdin
//   char buf[1 << 16];
//   while (size_t n = src->read(buf, sizeof buf)) consume(buf, n);
//
// The format is recognised by the first bytes, never by the name: zstd
// (concatenated frames and skippable frames included), gzip (multi-member),
// bzip2 ("BZh1".."BZh9"; concatenated streams) and xz (FD 37 7A 58 5A 00;
// concatenated streams and stream padding), otherwise plain bytes. A
// truncated or corrupt compressed stream, or bytes after the last stream
// that are not another one, throw grist::Error naming the file; a stream is
// never silently cut short.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "grist/io/codec.hpp"

namespace grist {

// The memory a Source may give one decoder's history: the window of a zstd
// frame (2^N bytes after `zstd --long=N`; up to 128 MiB at levels 20-22)
// and the dictionary of an xz stream (64 MiB at xz -9). A stream that needs
// more is refused with a message naming the -S it would need; memory is
// taken only as a stream needs it. Process-wide: the tools set it from -S
// (never below kMinDecoderMemory, zstd's own default limit); tools without
// -S, and the library by default, allow kMaxDecoderMemory, the largest
// window zstd writes (xz's largest dictionary is 1.5 GiB).
inline constexpr uint64_t kMinDecoderMemory = uint64_t(128) << 20;
inline constexpr uint64_t kMaxDecoderMemory = uint64_t(2) << 30;
void set_decoder_memory_limit(uint64_t bytes);  // clamped to [kMin, kMax]
uint64_t decoder_memory_limit();

class Source {
 public:
  Source() = default;
  Source(const Source&) = delete;  // holds a descriptor and a decoder context
  Source& operator=(const Source&) = delete;
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
