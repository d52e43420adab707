// The example cache of grist-train-sgd: pass 1 parses the inputs and,
// when several passes are asked for, keeps each parsed block here, so that
// passes 2.. read flat arrays instead of parsing text again.
//
//   ExampleCache cache(temp_dir);              // an anonymous file in temp_dir
//   encode_examples(ex, chunk, cctx, scratch); // per thread
//   cache.append(chunk);                       // in block order
//   cache.read(i, chunk);  decode_examples(chunk, ex, index_limit, dctx, scratch);
//
// The file is unlinked as soon as it is made (gone on every exit path) and
// lives only for one run, so its format is private to this grist: it
// holds the chunks one after another, and their offsets and sizes are kept
// in memory. A chunk is one zstd frame (level 1, content size in its
// header, content checksum) of, integers and floats in the machine's
// order (little-endian where grist runs):
//   u32 n        examples in the block
//   u32 nf       feature occurrences in the block
//   f32 label[n]
//   f32 weight[n]           importance
//   u8  holdout[n]          1: held out (never trained on)
//   u32 begin[n + 1]        features of example i: [begin[i], begin[i+1])
//   u32 index[nf]           hashed feature index, < 2^bits
//   f32 value[nf]
// and, only when some example has more than one label (fastText input):
//   u32 nm                  labels after the first, in all
//   u32 more_end[n]         Examples::more_end
//   f32 more_labels[nm]
// Line numbers and tags are not kept: the held-out marks are made in pass
// 1, and training needs neither.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "grist/io/fd.hpp"
#include "grist/sgd/examples.hpp"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace grist::sgd {

// One chunk's bytes for `ex`, into `out`; `raw` is scratch (kept between
// calls to reuse its storage). Throws grist::Error if zstd fails.
void encode_examples(const Examples& ex, std::string& out, ZSTD_CCtx* cctx, std::string& raw);

// The examples of a chunk made by encode_examples, into `ex` (cleared
// first). Checks everything before trusting it: a chunk that is not one
// whole zstd frame (its checksum, when it has one, included), whose size
// does not match its counts, whose begin[] does not run from 0 to nf
// without decreasing, or whose index is not below `index_limit` (2^bits
// of the model) throws grist::Error "example cache: corrupt block". It
// never reads out of bounds, and allocates at most what the frame's
// blocks can hold (zstd's 128 KiB per 4 bytes).
void decode_examples(const std::string& in, Examples& ex, uint64_t index_limit, ZSTD_DCtx* dctx,
                     std::string& raw);

class ExampleCache {
 public:
  // Makes the anonymous file in `dir` (grist::Error if it cannot). Errors
  // writing or reading it name `dir`, the -T directory (there is no file
  // name): "DIR: file size limit exceeded" (docs/reliability.md).
  explicit ExampleCache(const std::string& dir);

  size_t chunks() const { return chunks_.size(); }
  // Appends a chunk (any bytes; see encode_examples).
  void append(const std::string& bytes);
  // Chunk i, as appended, into `out`.
  void read(size_t chunk, std::string& out) const;

 private:
  std::string dir_;
  UniqueFd fd_;
  uint64_t end_ = 0;
  std::vector<std::pair<uint64_t, size_t>> chunks_;  // offset, size
};

}  // namespace grist::sgd
