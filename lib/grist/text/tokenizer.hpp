// Splits text into tokens, as docs/design.md ("Tokens") describes.
//
//   grist::Tokenizer tok({.lower = true});
//   std::vector<std::string_view> tokens;
//   for each line:
//     tokens.clear();
//     size_t bad = tok.tokenize(line, tokens);  // invalid UTF-8 bytes met
//     use(tokens);                              // before the next tokenize()
//
// word mode (the default) cuts the text at the word boundaries of Unicode
// UAX #29 exactly as ICU's word break iterator does (root locale, so with
// ICU's tailorings: ':' does not join letters, and from ICU 72 '@' counts
// as a letter; and with ICU's dictionaries for Chinese, Japanese, Thai...),
// and keeps every segment that contains a letter or a number: a code point
// of general category L* or N*. So "don't", "3.14", "1,000", "e.g",
// "foo_bar", "naïve", "x@y.com", "½" and "東京" are tokens; spaces,
// punctuation, symbols, emoji and segments of only '_' or '@' are not.
// (This is not ICU's rule status, which calls "@", "__" and "Ⓐ" words and
// "½" not.) Pure ASCII text, and every stretch of ASCII that whitespace or
// punctuation parts from non-ASCII text, takes a fast path without ICU that
// gives the same tokens; the unit tests compare the two exhaustively.
//
// whitespace mode cuts the text at ASCII whitespace (space, \t, \n, \v, \f,
// \r) only; a token keeps its bytes as they are (no normalization).
//
// In both modes:
// - The input is one record (a line, a field); it may hold any bytes. The
//   ends of the record end tokens.
// - Invalid UTF-8 (a byte that does not belong to a well-formed sequence:
//   lone continuation bytes, truncated sequences, overlong forms, encoded
//   surrogates, code points above U+10FFFF, 0xC0, 0xC1, 0xF5..0xFF) ends the
//   token before it, is counted, and never appears in a token: each valid
//   stretch between invalid bytes is tokenized as if it were a record.
// - lower applies Unicode case folding with NFKC_Casefold to each token
//   after segmentation (ASCII tokens: A-Z to a-z, which is the same), so the
//   boundaries never depend on lower ("ＡＢ．ＣＤ" gives "ab.cd", as it is one
//   segment). Folding rarely yields ASCII whitespace (U+00A0 -> ' ',
//   U+FDFA -> four words): the folded token is then cut again there. A
//   token that folds to nothing (U+00AD in whitespace mode) is dropped.
// - min_length/max_length keep the tokens whose length in code points,
//   counted on the token as emitted (after folding), lies in the range.
// - Every token is non-empty, valid UTF-8, and holds no ASCII whitespace.
//
// Speed, one core: ASCII text ~450-500 MB/s (~350 with lower, token by
// token; grist-tokenize lowers ASCII chunks whole first: ~490); whitespace
// mode ~700 MB/s on ASCII. Non-ASCII text goes at ICU's speed: ~60-80 MB/s
// for European scripts, ~20 MB/s for Chinese and Japanese (dictionaries).
//
// ICU's break iterator uses 32-bit offsets: in the absurd case of a
// non-ASCII stretch over 1 GiB without ASCII whitespace or punctuation, it
// is cut at a code point boundary every 1 GiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grist {

enum class TokenMode { word, whitespace };

namespace detail {
struct TokenizerClasses;
}

struct TokenizerOptions {
  TokenMode mode = TokenMode::word;
  bool lower = false;             // NFKC_Casefold each token
  size_t min_length = 1;          // in code points; 0 acts as 1
  size_t max_length = SIZE_MAX;   // in code points
  // Testing only: no fast paths. Word mode sends all text, ASCII included,
  // through ICU; folding always uses ICU; whitespace mode goes byte by
  // byte. Tests compare the fast paths with this.
  bool force_icu = false;
};

// One per thread: not thread-safe; cheap to reuse (no allocation per token,
// and none per call once its buffers have grown).
class Tokenizer {
 public:
  // Throws grist::Error if ICU cannot build its break iterator or
  // normalizer (missing ICU data).
  explicit Tokenizer(const TokenizerOptions& options = {});
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Appends the tokens of `text` to `out`, in order (what `out` already
  // holds is kept). A token is a view into `text` or, if folding changed
  // it, into this Tokenizer's own storage, valid until the next tokenize()
  // on this Tokenizer or its destruction or move. Returns the number of
  // invalid UTF-8 bytes met. Throws only std::bad_alloc, or grist::Error
  // if ICU fails (it does not on valid input); then `out` is unspecified.
  size_t tokenize(std::string_view text, std::vector<std::string_view>& out);

  const TokenizerOptions& options() const { return options_; }

 private:
  struct Icu;

  size_t words(const unsigned char* b, size_t n);
  size_t words_icu_only(const unsigned char* b, size_t n);
  void words_ascii(const unsigned char* b, size_t n);
  void words_icu(const unsigned char* b, size_t n);
  size_t whitespace(const unsigned char* b, size_t n);
  void whitespace_ascii(const unsigned char* b, size_t n);
  void emit_ascii(const unsigned char* b, size_t n, bool upper);
  void emit_unicode(const unsigned char* b, size_t n);
  void emit_checked(const char* p, size_t n, bool ascii);

  TokenizerOptions options_;
  bool length_filter_ = false;  // a min_length or max_length is set
  const detail::TokenizerClasses* classes_ = nullptr;  // of ASCII bytes
  std::unique_ptr<Icu> icu_;
  std::vector<std::string_view>* out_ = nullptr;  // during tokenize()
  std::string scratch_;      // folded tokens, in its first scratch_used_ bytes
  size_t scratch_used_ = 0;
  struct Fixup { size_t index, offset, size; };
  std::vector<Fixup> fixups_;  // tokens of out_ that live in scratch_
};

}  // namespace grist
