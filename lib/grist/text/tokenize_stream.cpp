#include "grist/text/tokenize_stream.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <cstring>

#include "grist/error.hpp"
#include "grist/io/pipeline.hpp"
#include "grist/json/json_field.hpp"
#include "grist/text/ngrams.hpp"

namespace grist {

void TokenizeStats::add(const TokenizeStats& later) {
  records += later.records;
  bytes += later.bytes;
  tokens += later.tokens;
  invalid_bytes += later.invalid_bytes;
  skipped.add(later.skipped);
}

BlockTokenizer::BlockTokenizer(const TokenizeStreamOptions& options)
    : options_(&options), tokenizer_(options.tokenizer),
      suffix_(options.pairs ? "\t1\n" : "\n") {
  if (options.format == RecordFormat::json) json_ = std::make_unique<JsonField>(options.json_field);
  if (options.tokenizer.lower && !options.tokenizer.force_icu) {
    TokenizerOptions plain = options.tokenizer;
    plain.lower = false;
    plain_ = std::make_unique<Tokenizer>(plain);
  }
}

bool BlockTokenizer::lower_ascii_chunk(const char* p, size_t n) {
  lowered_.resize(n + kBlockPadding);
  auto* d = reinterpret_cast<unsigned char*>(lowered_.data());
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  unsigned char seen = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = b[i];
    seen |= c;
    d[i] = static_cast<unsigned char>(c + ((static_cast<unsigned>(c - 'A') < 26u) << 5));
  }
  std::memset(d + n, 0, kBlockPadding);
  return seen < 0x80;
}

BlockTokenizer::~BlockTokenizer() = default;
BlockTokenizer::BlockTokenizer(BlockTokenizer&&) noexcept = default;
BlockTokenizer& BlockTokenizer::operator=(BlockTokenizer&&) noexcept = default;

void BlockTokenizer::drop_stopwords() {
  const StopWords* sw = options_->stopwords;
  if (!sw || sw->empty()) return;
  std::erase_if(tokens_, [sw](std::string_view t) { return sw->contains(t); });
}

void BlockTokenizer::record(std::string_view text, std::string& out, TokenizeStats& stats) {
  tokens_.clear();
  stats.invalid_bytes += tokenizer_.tokenize(text, tokens_);
  drop_stopwords();
  if (options_->ngram_max == 1) {
    stats.tokens += append_tokens(tokens_, suffix_, out, text);
  } else {
    stats.tokens += append_ngrams(tokens_, options_->ngram_min, options_->ngram_max, suffix_, out);
  }
}

void BlockTokenizer::skip(const Block& block, uint64_t line, const std::string& why,
                          TokenizeStats& stats) {
  const std::string& file = block.source ? *block.source : std::string("(input)");
  if (options_->on_error == OnError::fail) throw Error(file, line, why);
  stats.skipped.add(escape_bytes(file, SIZE_MAX) + ":" + std::to_string(line) + ": " + why);
}

void BlockTokenizer::process(const Block& block, std::string& out, TokenizeStats& stats) {
  stats.records += block.lines;
  stats.bytes += block.size;
  if (options_->format == RecordFormat::line && options_->ngram_max == 1) {
    process_chunks(block, out, stats);
    return;
  }
  const char* const end = block.data() + block.size;
  uint64_t line_no = block.first_line;
  for (const char* p = block.data(); p < end; ++line_no) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    std::string_view line(p, nl - p);
    switch (options_->format) {
      case RecordFormat::line:
        record(line, out, stats);
        break;
      case RecordFormat::json:
        // The bytes after the line (the next lines, then the block's
        // padding) are the padding simdjson needs.
        json_record(block, line_no, line, static_cast<size_t>(end - p) + kBlockPadding, out,
                    stats);
        break;
      case RecordFormat::column:
        column_record(block, line_no, line, out, stats);
        break;
    }
    p = nl + 1;
  }
}

// A newline ends tokens in both modes, so plain lines can be tokenized many
// at a time: one call per chunk of about 64 KiB (small enough that the
// token views stay in cache) instead of one per line.
void BlockTokenizer::process_chunks(const Block& block, std::string& out, TokenizeStats& stats) {
  constexpr size_t kChunk = 64 << 10;
  const char* const begin = block.data();
  const char* const end = begin + block.size;
  const std::string_view readable(begin, block.size + kBlockPadding);
  const char* p = begin;
  while (p < end) {
    const char* q = p + std::min<size_t>(kChunk, end - p);
    if (q < end) {
      const char* nl = static_cast<const char*>(std::memchr(q, '\n', end - q));
      q = nl ? nl + 1 : end;
    }
    tokens_.clear();
    if (plain_ && lower_ascii_chunk(p, q - p)) {
      const std::string_view lowered(lowered_.data(), q - p);
      stats.invalid_bytes += plain_->tokenize(lowered, tokens_);
      drop_stopwords();
      stats.tokens += append_tokens(tokens_, suffix_, out, lowered_);
    } else {
      stats.invalid_bytes += tokenizer_.tokenize(std::string_view(p, q - p), tokens_);
      drop_stopwords();
      stats.tokens += append_tokens(tokens_, suffix_, out, readable);
    }
    p = q;
  }
}

void BlockTokenizer::json_record(const Block& block, uint64_t line_no, std::string_view line,
                                 size_t room, std::string& out, TokenizeStats& stats) {
  // Blank lines are not records (as jq reads JSON lines).
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
  std::string_view text;
  if (json_->extract(line.data(), line.size(), room, text) == JsonField::Status::ok) {
    record(text, out, stats);
  } else {
    skip(block, line_no, json_->error(), stats);
  }
}

void BlockTokenizer::column_record(const Block& block, uint64_t line_no, std::string_view line,
                                   std::string& out, TokenizeStats& stats) {
  size_t start = 0;
  size_t col = 1;
  for (; col < options_->column; ++col) {
    size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (col < options_->column) {
    skip(block, line_no,
         "missing column " + std::to_string(options_->column) + " (the line has " +
             std::to_string(col) + ")",
         stats);
    return;
  }
  size_t tab = line.find('\t', start);
  record(line.substr(start, tab == std::string_view::npos ? tab : tab - start), out, stats);
}

namespace {

// One block on its way through the pipeline.
struct Work {
  Block block;
  std::string out;
  TokenizeStats stats;
};

}  // namespace

TokenizeStats tokenize_stream(BlockReader& reader, Sink& sink, const TokenizeStreamOptions& options,
                              int threads, std::atomic<uint64_t>* raw_bytes) {
  // A bad path fails here, before any input is read.
  if (options.format == RecordFormat::json) JsonField check(options.json_field);
  tbb::enumerable_thread_specific<BlockTokenizer> tokenizers(
      [&] { return BlockTokenizer(options); });

  TokenizeStats total;
  ordered_pipeline<Work>(
      threads,
      [&](Work& w) {
        bool more = reader.next(w.block);
        if (raw_bytes) raw_bytes->store(reader.raw_bytes_read(), std::memory_order_relaxed);
        return more;
      },
      [&](Work& w) {
        w.out.clear();
        w.stats = TokenizeStats();
        tokenizers.local().process(w.block, w.out, w.stats);
      },
      [&](Work& w) {
        sink.write(w.out.data(), w.out.size());
        total.add(w.stats);
        // A freak block (one huge line) should not pin its memory.
        if (w.out.capacity() > 4 * kTokenizeBlockSize) std::string().swap(w.out);
      });
  return total;
}

}  // namespace grist
