// The compressed formats grist reads and writes, and their levels: one
// table, from which the --level help text, its check and the choice of
// codec for an output name all come.
//
//   grist::Compression c = grist::compression_for_name("counts.tsv.xz");
//   grist::check_level(c, 9, "counts.tsv.xz");   // throws UsageError if out of range
//
// Inputs are recognised by their first bytes (grist/io/source.hpp), outputs
// by their names (grist/io/sink.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace grist {

enum class Compression { none, gzip, zstd, bzip2, xz };

struct Codec {
  Compression kind;
  const char* name;    // "zstd"
  const char* suffix;  // ".zst": an output with this name is written with it
  int min_level;
  int max_level;
  int default_level;   // the level of the codec's own command-line program
};

// Every compressed format, in the order messages list them: zstd, gzip,
// bzip2, xz.
std::span<const Codec> codecs();

// The entry for `c`; nullptr for Compression::none.
const Codec* find_codec(Compression c);

// "zstd", "gzip", "bzip2", "xz" or "plain".
const char* compression_name(Compression c);

// The compression a path implies by its suffix (".zst", ".gz", ".bz2",
// ".xz"), else none.
Compression compression_for_name(const std::string& path);

// A level not given: each codec's default_level.
inline constexpr int kDefaultLevel = -1;

// "zstd 1-22, gzip 1-9, bzip2 1-9, xz 0-9": for help and messages.
std::string level_ranges();

// The lowest and highest level of any codec: the check of --level before
// the output (and so the codec) is known.
int lowest_level();
int highest_level();

// Throws grist::UsageError naming `output`, its codec and the codec's range
// unless `level` is kDefaultLevel or within the range of `c`. A level given
// for an uncompressed output is an error too: the user asked for
// compression and would not get it.
void check_level(Compression c, int level, const std::string& output);

// Turns bytes into one compressed stream (internal to Sink; tests).
class Encoder {
 public:
  // Where the compressed bytes go.
  class Output {
   public:
    virtual void put(const char* p, size_t n) = 0;

   protected:
    ~Output() = default;
  };

  Encoder() = default;
  Encoder(const Encoder&) = delete;  // holds a codec context
  Encoder& operator=(const Encoder&) = delete;
  virtual ~Encoder() = default;
  // Compresses p[0..n); may keep bytes back until finish().
  virtual void write(const char* p, size_t n, Output& out) = 0;
  // Ends the stream (with its checksum). Call once, last.
  virtual void finish(Output& out) = 0;
};

// An encoder for `c` (not none) at `level` (kDefaultLevel or checked with
// check_level). `threads` >= 1 gives zstd that many workers and xz up to
// that many (as many as fit in kXzEncoderMemory); the compressed bytes are
// the same for every thread count. `name` is for messages. Throws
// grist::Error.
std::unique_ptr<Encoder> make_encoder(Compression c, int level, int threads,
                                      const std::string& name);

// The most memory the xz encoder's threads take together (a single thread
// at levels 8 and 9 takes more and is used alone).
inline constexpr uint64_t kXzEncoderMemory = uint64_t(1) << 30;

}  // namespace grist
