// The mapper of the word-count pipeline (grist-tokenize): records in,
// tokens out.
//
//   grist::TokenizeStreamOptions o;
//   o.format = grist::RecordFormat::json;  o.json_field = "text";
//   o.tokenizer.lower = true;
//   grist::BlockReader reader(paths, grist::kTokenizeBlockSize);
//   auto sink = grist::Sink::open("-", {});
//   grist::TokenizeStats st = grist::tokenize_stream(reader, *sink, o, threads);
//   sink->commit();
//
// A record is a line of text, a string field of a JSON line, or a column
// of a TSV line. Its tokens (grist/text/tokenizer.hpp), less the stopwords,
// are written one per line ("token\n", or "token\t1\n" with pairs), or as
// word n-grams of the record. The output bytes depend only on the input and
// the options, never on the thread count.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/text/stopwords.hpp"
#include "grist/record/skipped.hpp"
#include "grist/text/tokenizer.hpp"

namespace grist {

class JsonField;

enum class RecordFormat { line, json, column };

// Blocks of 1 MiB keep several blocks per thread in flight in little memory.
constexpr size_t kTokenizeBlockSize = 1 << 20;

struct TokenizeStreamOptions {
  TokenizerOptions tokenizer;
  RecordFormat format = RecordFormat::line;
  std::string json_field;  // RecordFormat::json: a dotted path, e.g. "meta.body"
  size_t column = 1;       // RecordFormat::column: 1-based TSV column
  size_t ngram_min = 1;    // n-grams of min..max tokens (1..1: plain tokens)
  size_t ngram_max = 1;
  bool pairs = false;                  // "token\t1" lines
  OnError on_error = OnError::skip;    // for a record without usable text
  const StopWords* stopwords = nullptr;  // not owned; may be null
};

struct TokenizeStats {
  uint64_t records = 0;        // lines read (blank JSON lines included)
  uint64_t bytes = 0;          // decoded input bytes
  uint64_t tokens = 0;         // tokens (or n-grams) written
  uint64_t invalid_bytes = 0;  // invalid UTF-8 bytes met
  SkippedLines skipped;        // records without usable text (on_error skip)

  // Adds `later`, which comes after this in input order.
  void add(const TokenizeStats& later);
};

// Tokenizes blocks. One per thread: not thread-safe.
class BlockTokenizer {
 public:
  // Throws grist::UsageError on a bad JSON path.
  explicit BlockTokenizer(const TokenizeStreamOptions& options);
  ~BlockTokenizer();
  BlockTokenizer(BlockTokenizer&&) noexcept;
  BlockTokenizer& operator=(BlockTokenizer&&) noexcept;

  // Appends the output of every record of `block` to `out` and counts into
  // `stats`. With OnError::fail, a record without usable text (missing JSON
  // field, non-string value, invalid JSON, missing column) throws
  // grist::Error "FILE:LINE: why"; what was appended before stays in `out`.
  void process(const Block& block, std::string& out, TokenizeStats& stats);

 private:
  void process_chunks(const Block& block, std::string& out, TokenizeStats& stats);
  void json_record(const Block& block, uint64_t line_no, std::string_view line, size_t room,
                   std::string& out, TokenizeStats& stats);
  void column_record(const Block& block, uint64_t line_no, std::string_view line,
                     std::string& out, TokenizeStats& stats);
  void record(std::string_view text, std::string& out, TokenizeStats& stats);
  void drop_stopwords();
  void skip(const Block& block, uint64_t line, const std::string& why, TokenizeStats& stats);

  // With `lower` (not forced through ICU): an ASCII chunk is lowered whole
  // first and cut by `plain_`, a tokenizer without folding. Case never moves
  // an ASCII word boundary, and ASCII case folding is A-Z to a-z, so the
  // tokens are the same; folding token by token costs half again as much.
  bool lower_ascii_chunk(const char* p, size_t n);

  const TokenizeStreamOptions* options_;
  Tokenizer tokenizer_;
  std::unique_ptr<Tokenizer> plain_;  // set when lowering chunks pays
  std::string lowered_;               // the lowered chunk, then zero padding
  std::unique_ptr<JsonField> json_;
  std::vector<std::string_view> tokens_;
  std::string suffix_;
};

// Reads every block of `reader`, tokenizes blocks in parallel (up to
// `threads`, within the caller's TBB limit) and writes the output to `sink`
// in input order. Memory stays bounded: a few blocks per thread in flight.
// `raw_bytes`, if given, is kept at the raw input bytes consumed (for a
// progress display on another thread). Does not commit the sink. Throws
// grist::Error on unreadable input, on a bad record with OnError::fail
// (the first one in input order), or on a write error.
TokenizeStats tokenize_stream(BlockReader& reader, Sink& sink, const TokenizeStreamOptions& options,
                              int threads, std::atomic<uint64_t>* raw_bytes = nullptr);

}  // namespace grist
