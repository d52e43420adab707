#include "grist/text/tokenizer.hpp"

#include <unicode/brkiter.h>
#include <unicode/bytestream.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "grist/error.hpp"

namespace grist {

namespace {

// Classes of ASCII bytes for the word fast path, from the Word_Break
// property of UAX #29 as ICU's root rules use it. Only the classes that
// can take part in a segment holding a letter or number matter:
//   ALetter  A-Z a-z, and '@' (ICU 72 added it to ALetter; probed below)
//   Numeric  0-9
//   ExtendNumLet '_'
//   MidNumLet '.', Single_Quote '\''  (join letters, and digits)
//   MidNum   ',' ';'                  (join digits)
//   MidLetter ':' in UAX #29, but ICU's root rules drop it (probed below)
// Everything else is Other, CR, LF, Newline or WSegSpace: it never joins
// anything in ASCII text (there is no Extend, Format, ZWJ, Katakana,
// Hebrew_Letter or Regional_Indicator in ASCII), so a segment that holds
// a letter or number is a maximal run of letter/digit/'_' bytes glued by
// single mid bytes between two letters (MidLetter, MidNumLet, '\'') or two
// digits (MidNum, MidNumLet, '\'') -- rules WB5-WB13b.
enum : unsigned char {
  kLetter = 1,     // ALetter
  kDigit = 2,      // Numeric
  kUnder = 4,      // ExtendNumLet
  kMidLetter = 8,  // joins letter x letter
  kMidNum = 16,    // joins digit x digit
  kAlnum = 32,     // [A-Za-z0-9]: makes a segment a token
  kUpper = 64,     // [A-Z]
  // A byte before which the text can be cut into two records that give
  // the tokens of the whole: no UAX #29 rule joins it to what comes before
  // it (WB3d joins spaces, WB3 CR LF, but those segments are no tokens),
  // and no rule looks ahead across it (WB6/12 look for a letter or digit
  // after a mid code point, WB7b for a Hebrew letter after '"'). After it,
  // the record starting with it segments as the whole text does from there
  // (what WB4 glues to it after it travels with it). '"' and ':' are left
  // out to stay clear of Hebrew (WB7b/c) and of tailorings. All ASCII
  // whitespace is in.
  kCut = 128,
};
constexpr unsigned char kCore = kLetter | kDigit | kUnder;

}  // namespace

namespace detail {

struct TokenizerClasses {
  unsigned char word[256];
  unsigned char at = 0xFF;     // '@' if it is a letter, else a byte never met
  unsigned char colon = 0xFF;  // ':' if it is MidLetter, else a byte never met
};

}  // namespace detail

namespace {

using AsciiClasses = detail::TokenizerClasses;

// The classes of 64 ASCII bytes as bit masks (bit i: byte i).
struct Masks {
  uint64_t letter = 0, digit = 0, core = 0, mid_letter = 0, mid_num = 0;
  uint64_t alnum = 0, upper = 0;
};

// Asks ICU whether `s` is a single segment.
bool one_segment(icu::BreakIterator& bi, const char* s) {
  UErrorCode status = U_ZERO_ERROR;
  UText* ut = utext_openUTF8(nullptr, s, -1, &status);
  bi.setText(ut, status);
  bool one = U_SUCCESS(status) && bi.first() == 0 &&
             bi.next() == static_cast<int32_t>(std::strlen(s)) &&
             bi.next() == icu::BreakIterator::DONE;
  utext_close(ut);
  return one;
}

AsciiClasses make_classes() {
  AsciiClasses t{};
  for (int c = 0; c < 128; ++c) {
    unsigned char k = 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = kLetter | kAlnum;
    if (c >= 'A' && c <= 'Z') k |= kUpper;
    if (c >= '0' && c <= '9') k = kDigit | kAlnum;
    if (c == '_') k = kUnder;
    if (c == '.' || c == '\'') k = kMidLetter | kMidNum;
    if (c == ',' || c == ';') k = kMidNum;
    if (k == 0 && c != '"' && c != ':' && c != '@') k = kCut;
    t.word[c] = k;
  }
  // '@' and ':' differ between ICU versions and tailorings: ask this ICU.
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> bi(
      icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
  if (U_FAILURE(status) || !bi) {
    throw Error(std::string("ICU word break iterator: ") + u_errorName(status));
  }
  if (one_segment(*bi, "a@b") && one_segment(*bi, "@1")) {
    t.word[static_cast<unsigned char>('@')] = kLetter;
    t.at = '@';
  }
  if (one_segment(*bi, "a:b")) {
    t.word[static_cast<unsigned char>(':')] = kMidLetter;
    t.colon = ':';
  }
  return t;
}

const AsciiClasses& ascii_classes() {
  static const AsciiClasses classes = make_classes();
  return classes;
}

#if defined(__SSE2__) && !defined(GRIST_TOKENIZER_SCALAR)
// The same as the table gives, 16 bytes at a time (SSE2 is in every x86-64).
inline Masks classify(const unsigned char* p, const AsciiClasses& ac) {
  auto set = [](int c) { return _mm_set1_epi8(static_cast<char>(c)); };
  auto bits = [](__m128i x, int shift) {
    return uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(x))} << shift;
  };
  Masks m;
  for (int j = 0; j < 64; j += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
    __m128i folded = _mm_or_si128(v, set(0x20));
    __m128i az = _mm_and_si128(_mm_cmpgt_epi8(folded, set('a' - 1)),
                               _mm_cmpgt_epi8(set('z' + 1), folded));
    __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, set('A' - 1)),
                                  _mm_cmpgt_epi8(set('Z' + 1), v));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, set('0' - 1)),
                                  _mm_cmpgt_epi8(set('9' + 1), v));
    __m128i letter = _mm_or_si128(az, _mm_cmpeq_epi8(v, set(ac.at)));
    __m128i dot_quote = _mm_or_si128(_mm_cmpeq_epi8(v, set('.')), _mm_cmpeq_epi8(v, set('\'')));
    __m128i mid_letter = _mm_or_si128(dot_quote, _mm_cmpeq_epi8(v, set(ac.colon)));
    __m128i mid_num = _mm_or_si128(
        dot_quote, _mm_or_si128(_mm_cmpeq_epi8(v, set(',')), _mm_cmpeq_epi8(v, set(';'))));
    __m128i core = _mm_or_si128(_mm_or_si128(letter, digit), _mm_cmpeq_epi8(v, set('_')));
    m.letter |= bits(letter, j);
    m.digit |= bits(digit, j);
    m.core |= bits(core, j);
    m.mid_letter |= bits(mid_letter, j);
    m.mid_num |= bits(mid_num, j);
    m.alnum |= bits(_mm_or_si128(az, digit), j);
    m.upper |= bits(upper, j);
  }
  return m;
}
#else
inline Masks classify(const unsigned char* p, const AsciiClasses& ac) {
  Masks m;
  for (int i = 0; i < 64; ++i) {
    unsigned char c = ac.word[p[i]];
    m.letter |= uint64_t{(c & kLetter) != 0} << i;
    m.digit |= uint64_t{(c & kDigit) != 0} << i;
    m.core |= uint64_t{(c & kCore) != 0} << i;
    m.mid_letter |= uint64_t{(c & kMidLetter) != 0} << i;
    m.mid_num |= uint64_t{(c & kMidNum) != 0} << i;
    m.alnum |= uint64_t{(c & kAlnum) != 0} << i;
    m.upper |= uint64_t{(c & kUpper) != 0} << i;
  }
  return m;
}
#endif

inline bool is_ascii_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// Index of the first byte >= 0x80 in b[from, n), or n.
inline size_t find_non_ascii(const unsigned char* b, size_t from, size_t n) {
  size_t i = from;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, b + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  for (; i < n; ++i) {
    if (b[i] & 0x80) return i;
  }
  return n;
}

inline size_t count_code_points(const char* p, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    count += (static_cast<unsigned char>(p[i]) & 0xC0) != 0x80;
  }
  return count;
}

// Whether the valid UTF-16 or UTF-8 s[0, n) holds a code point of general
// category L* or N*.
template <class Unit>
inline bool has_letter_or_number(const Unit* s, int32_t n, const unsigned char* word_class) {
  int32_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      if (word_class[s[i]] & kAlnum) return true;
      ++i;
      continue;
    }
    UChar32 c;
    if constexpr (sizeof(Unit) == 2) {
      U16_NEXT_UNSAFE(s, i, c);
    } else {
      U8_NEXT_UNSAFE(s, i, c);
    }
    if (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK)) return true;
  }
  return false;
}

// Calls finish(s, e) for each run [s, e) of set bits that ends in the
// 64-byte block at k, given the bits where runs start and end in it.
// `open` carries the start of a run that goes on past the block.
template <class Finish>
inline void for_each_run(uint64_t starts, uint64_t ends, size_t k, size_t& open,
                         Finish&& finish) {
  if (open != SIZE_MAX) {
    if (ends == 0) return;  // the run covers the whole block
    finish(open, k + __builtin_ctzll(ends) + 1);
    ends &= ends - 1;
    open = SIZE_MAX;
  }
  while (starts) {
    size_t s = k + __builtin_ctzll(starts);
    starts &= starts - 1;
    if (ends == 0) {
      open = s;
      return;
    }
    finish(s, k + __builtin_ctzll(ends) + 1);
    ends &= ends - 1;
  }
}

// ASCII whitespace and A-Z among 64 ASCII bytes, as bit masks.
#if defined(__SSE2__) && !defined(GRIST_TOKENIZER_SCALAR)
inline void classify_spaces(const unsigned char* p, uint64_t& space, uint64_t& upper) {
  auto set = [](int c) { return _mm_set1_epi8(static_cast<char>(c)); };
  space = upper = 0;
  for (int j = 0; j < 64; j += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
    __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(v, set(' ')),
                              _mm_and_si128(_mm_cmpgt_epi8(v, set('\t' - 1)),
                                            _mm_cmpgt_epi8(set('\r' + 1), v)));
    __m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, set('A' - 1)), _mm_cmpgt_epi8(set('Z' + 1), v));
    space |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(sp))} << j;
    upper |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(up))} << j;
  }
}
#else
inline void classify_spaces(const unsigned char* p, uint64_t& space, uint64_t& upper) {
  space = upper = 0;
  for (int i = 0; i < 64; ++i) {
    space |= uint64_t{is_ascii_space(p[i])} << i;
    upper |= uint64_t{p[i] >= 'A' && p[i] <= 'Z'} << i;
  }
}
#endif

// Makes buf hold at least `size` bytes (room for folded tokens).
inline void grow(std::string& buf, size_t size) {
  if (buf.size() < size) buf.resize(std::max(size, 2 * buf.size() + 256));
}

// Where ICU writes folded text: after the `used` bytes of buf.
class ScratchSink : public icu::ByteSink {
 public:
  ScratchSink(std::string& buf, size_t& used) : buf_(buf), used_(used) {}
  void Append(const char* bytes, int32_t n) override {
    if (n <= 0) return;
    grow(buf_, used_ + n);
    std::memcpy(buf_.data() + used_, bytes, n);
    used_ += n;
  }

 private:
  std::string& buf_;
  size_t& used_;
};

[[noreturn]] void throw_icu(const char* what, UErrorCode status) {
  throw Error(std::string("ICU ") + what + ": " + u_errorName(status));
}

// ICU's break iterator works with int32_t offsets.
constexpr size_t kMaxIcuPiece = size_t{1} << 30;

// Pieces up to this size go to ICU in UTF-16 (faster), bigger ones in
// UTF-8 (no copy: the buffers stay small).
#ifndef GRIST_TOKENIZER_MAX_UTF16
#define GRIST_TOKENIZER_MAX_UTF16 (size_t{1} << 20)
#endif
constexpr size_t kMaxUtf16Piece = GRIST_TOKENIZER_MAX_UTF16;

// ASCII gaps shorter than this between non-ASCII text go to ICU with it.
#ifndef GRIST_TOKENIZER_JOIN_GAP
#define GRIST_TOKENIZER_JOIN_GAP 8
#endif
constexpr size_t kJoinGap = GRIST_TOKENIZER_JOIN_GAP;

}  // namespace

struct Tokenizer::Icu {
  std::unique_ptr<icu::BreakIterator> words;  // word mode
  UText* text = nullptr;                      // reused for every piece
  const icu::Normalizer2* fold = nullptr;     // lower; owned by ICU
  // A piece in UTF-16 (ICU's break iterator runs faster on it than on
  // UTF-8 through a UText: +20-35%), and the UTF-8 offset of each unit.
  std::vector<UChar> utf16;
  std::vector<uint32_t> offset;

  ~Icu() { utext_close(text); }
};

Tokenizer::Tokenizer(const TokenizerOptions& options)
    : options_(options), icu_(std::make_unique<Icu>()) {
  if (options_.min_length == 0) options_.min_length = 1;
  length_filter_ = options_.min_length > 1 || options_.max_length != SIZE_MAX;
  classes_ = &ascii_classes();
  UErrorCode status = U_ZERO_ERROR;
  if (options_.mode == TokenMode::word) {
    icu_->words.reset(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !icu_->words) throw_icu("word break iterator", status);
  }
  if (options_.lower) {
    icu_->fold = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status) || !icu_->fold) throw_icu("NFKC_Casefold", status);
  }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

// ---- emitting -------------------------------------------------------------

// A token as it stands in the text, if its length passes the filter.
inline void Tokenizer::emit_checked(const char* p, size_t n, bool ascii) {
  if (length_filter_) {
    size_t length = ascii ? n : count_code_points(p, n);
    if (length < options_.min_length || length > options_.max_length) return;
  }
  out_->emplace_back(p, n);
}

// An ASCII token from the text; `upper` if it holds A-Z.
inline void Tokenizer::emit_ascii(const unsigned char* b, size_t n, bool upper) {
  if (options_.lower && options_.force_icu) {
    emit_unicode(b, n);
    return;
  }
  if (!options_.lower || !upper) {
    emit_checked(reinterpret_cast<const char*>(b), n, true);
    return;
  }
  if (length_filter_ && (n < options_.min_length || n > options_.max_length)) return;
  size_t offset = scratch_used_;
  grow(scratch_, offset + n);
  scratch_used_ += n;
  char* d = scratch_.data() + offset;
  for (size_t k = 0; k < n; ++k) {
    unsigned char c = b[k];
    d[k] = static_cast<char>(c + ((static_cast<unsigned>(c - 'A') < 26u) << 5));
  }
  fixups_.push_back({out_->size(), offset, n});
  out_->emplace_back();
}

// A token from the text that may hold non-ASCII code points.
void Tokenizer::emit_unicode(const unsigned char* b, size_t n) {
  const char* p = reinterpret_cast<const char*>(b);
  if (!options_.lower) {
    emit_checked(p, n, false);
    return;
  }
  if (!options_.force_icu && n <= 64) {  // an ASCII token from ICU: fold here
    unsigned char seen = 0;
    bool upper = false;
    for (size_t i = 0; i < n; ++i) {
      seen |= b[i];
      upper |= static_cast<unsigned>(b[i] - 'A') < 26u;
    }
    if (seen < 0x80) {
      emit_ascii(b, n, upper);
      return;
    }
  }
  const icu::Normalizer2& fold = *icu_->fold;
  UErrorCode status = U_ZERO_ERROR;
  if (n <= kMaxIcuPiece &&
      fold.isNormalizedUTF8(icu::StringPiece(p, static_cast<int32_t>(n)), status)) {
    emit_checked(p, n, false);
    return;
  }
  size_t offset = scratch_used_;
  {
    ScratchSink sink(scratch_, scratch_used_);
    while (n > 0) {  // ICU takes int32_t lengths: fold 1 GiB at a time
      size_t chunk = n;
      if (chunk > kMaxIcuPiece) {
        chunk = kMaxIcuPiece;
        while ((b[chunk] & 0xC0) == 0x80) --chunk;
      }
      fold.normalizeUTF8(0, icu::StringPiece(p, static_cast<int32_t>(chunk)), sink,
                         nullptr, status);
      b += chunk;
      p += chunk;
      n -= chunk;
    }
  }
  if (U_FAILURE(status)) throw_icu("NFKC_Casefold", status);
  // Cut the folded text again at ASCII whitespace (U+00A0 -> ' ', ...).
  size_t end = scratch_used_;
  size_t i = offset;
  while (i < end) {
    while (i < end && is_ascii_space(static_cast<unsigned char>(scratch_[i]))) ++i;
    size_t start = i;
    while (i < end && !is_ascii_space(static_cast<unsigned char>(scratch_[i]))) ++i;
    if (i == start) break;
    size_t size = i - start;
    if (length_filter_) {
      size_t length = count_code_points(scratch_.data() + start, size);
      if (length < options_.min_length || length > options_.max_length) continue;
    }
    fixups_.push_back({out_->size(), start, size});
    out_->emplace_back();
  }
}

size_t Tokenizer::tokenize(std::string_view text, std::vector<std::string_view>& out) {
  out_ = &out;
  scratch_used_ = 0;
  fixups_.clear();
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  size_t invalid;
  if (options_.mode == TokenMode::whitespace) {
    invalid = whitespace(b, text.size());
  } else if (options_.force_icu) {
    invalid = words_icu_only(b, text.size());
  } else {
    invalid = words(b, text.size());
  }
  // Folded tokens were appended to scratch_, which may have moved as it
  // grew: point them at their final place only now.
  for (const Fixup& f : fixups_) out[f.index] = {scratch_.data() + f.offset, f.size};
  out_ = nullptr;
  return invalid;
}

// ---- word mode ----------------------------------------------------------

// The record b[0, n) in word mode. Pure ASCII goes to the fast path. Around
// non-ASCII text, a Unicode stretch reaches back to the last cut byte
// (kCut) and on to just before the next one, or to the end; it goes to
// ICU, the ASCII between stretches to the fast path. The pieces give the
// tokens that ICU gives on the whole record (see kCut; the unit tests
// check it on random text). Invalid UTF-8 ends the record, and a new one
// starts after it.
size_t Tokenizer::words(const unsigned char* b, size_t n) {
  const unsigned char* cls = classes_->word;
  size_t invalid = 0;
  size_t pos = 0;
  while (pos < n) {
    size_t na = find_non_ascii(b, pos, n);
    if (na == n) {
      words_ascii(b + pos, n - pos);
      break;
    }
    // The stretch starts at the last cut byte before na, else at pos.
    size_t start = pos;
    for (size_t q = na; q > pos; --q) {
      if (cls[b[q - 1]] & kCut) {
        start = q - 1;
        break;
      }
    }
    if (start > pos) words_ascii(b + pos, start - pos);
    size_t i = na;
    size_t next = n;  // where the next piece starts
    bool unicode = false;
    while (i < n) {
      unsigned char c = b[i];
      if (c < 0x80) {
        if (cls[c] & kCut) {
          // Cut here, unless more non-ASCII text follows soon: a call of
          // ICU costs about as much as ICU on kJoinGap bytes.
          size_t limit = std::min(n, i + kJoinGap);
          size_t more = find_non_ascii(b, i + 1, limit);
          if (more == limit) {
            next = i;
            break;
          }
          i = more;
          continue;
        }
        ++i;
        continue;
      }
      size_t j = i;
      UChar32 cp;
      U8_NEXT(b, j, n, cp);
      if (cp < 0) {
        invalid += j - i;
        next = j;
        break;
      }
      unicode = true;
      i = j;
    }
    if (unicode) {
      words_icu(b + start, i - start);
    } else {
      words_ascii(b + start, i - start);
    }
    pos = next;
  }
  return invalid;
}

// force_icu: every valid stretch goes to ICU whole.
size_t Tokenizer::words_icu_only(const unsigned char* b, size_t n) {
  size_t invalid = 0;
  size_t start = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    UChar32 cp;
    U8_NEXT(b, j, n, cp);
    if (cp < 0) {
      words_icu(b + start, i - start);
      invalid += j - i;
      start = j;
    }
    i = j;
  }
  words_icu(b + start, n - start);
  return invalid;
}

// The ASCII fast path: b[0, n) is ASCII and is a whole record for UAX #29
// (its ends are text boundaries). It works on 64 bytes at a time: bit i of
// each mask is about byte i. A byte is in a segment holding a letter or
// digit (word) if it is a letter, digit or '_', or a mid byte between two
// letters or two digits it joins; tokens are the runs of word bytes that
// hold a letter or digit. Rules WB6/7/11/12 look one byte further than the
// block: hence the carries from the block before and the look at the two
// bytes after it.
void Tokenizer::words_ascii(const unsigned char* b, size_t n) {
  const AsciiClasses& ac = *classes_;
  const unsigned char* cls = ac.word;
  alignas(16) unsigned char tail[64];
  uint64_t prev_letter = 0, prev_digit = 0, prev_word = 0;  // of byte k - 1
  size_t open = SIZE_MAX;  // start of a token that goes on into this block
  for (size_t k = 0; k < n; k += 64) {
    size_t left = n - k;
    const unsigned char* p = b + k;
    if (left < 64) {  // zeros (class Other) stand for the end of the text
      std::memcpy(tail, p, left);
      std::memset(tail + left, 0, 64 - left);
      p = tail;
    }
    const Masks m = classify(p, ac);
    unsigned char c63 = cls[p[63]];
    unsigned char c64 = left > 64 ? cls[b[k + 64]] : 0;
    unsigned char c65 = left > 65 ? cls[b[k + 65]] : 0;
    uint64_t next_word = (c64 & kCore) ||
                         ((c64 & kMidLetter) && (c63 & c65 & kLetter)) ||
                         ((c64 & kMidNum) && (c63 & c65 & kDigit));
    uint64_t letter_before = (m.letter << 1) | prev_letter;
    uint64_t letter_after = (m.letter >> 1) | (uint64_t{(c64 & kLetter) != 0} << 63);
    uint64_t digit_before = (m.digit << 1) | prev_digit;
    uint64_t digit_after = (m.digit >> 1) | (uint64_t{(c64 & kDigit) != 0} << 63);
    uint64_t word = m.core | (m.mid_letter & letter_before & letter_after) |
                    (m.mid_num & digit_before & digit_after);
    uint64_t starts = word & ~((word << 1) | prev_word);
    uint64_t ends = word & ~((word >> 1) | (next_word << 63));
    prev_letter = m.letter >> 63;
    prev_digit = m.digit >> 63;
    prev_word = word >> 63;

    // The token b[s, e), where e - 1 is in this block.
    auto finish = [&](size_t s, size_t e) {
      bool alnum, upper;
      if (s >= k) {  // all in this block: ask the masks
        uint64_t range = (~uint64_t{0} >> (63 - (e - 1 - s))) << (s - k);
        alnum = m.alnum & range;
        upper = m.upper & range;
      } else {
        unsigned char seen = 0;
        for (size_t i = s; i < e; ++i) seen |= cls[b[i]];
        alnum = seen & kAlnum;
        upper = seen & kUpper;
      }
      if (alnum) emit_ascii(b + s, e - s, upper);
    };
    for_each_run(starts, ends, k, open, finish);
  }
}

// The ICU path: b[0, n) is valid UTF-8 and a whole record for UAX #29.
void Tokenizer::words_icu(const unsigned char* b, size_t n) {
  while (n > kMaxIcuPiece) {  // see the header: cut at a code point boundary
    size_t cut = kMaxIcuPiece;
    while (cut > 0 && (b[cut] & 0xC0) == 0x80) --cut;
    words_icu(b, cut);
    b += cut;
    n -= cut;
  }
  if (n == 0) return;
  Icu& icu = *icu_;
  icu::BreakIterator& bi = *icu.words;
  UErrorCode status = U_ZERO_ERROR;
  if (n > kMaxUtf16Piece) {  // big: through a UText on the UTF-8, no copy
    icu.text = utext_openUTF8(icu.text, reinterpret_cast<const char*>(b),
                              static_cast<int64_t>(n), &status);
    bi.setText(icu.text, status);
    if (U_FAILURE(status)) throw_icu("word break iterator", status);
    int32_t start = bi.first();
    for (int32_t end = bi.next(); end != icu::BreakIterator::DONE; start = end, end = bi.next()) {
      if (has_letter_or_number(b + start, end - start, classes_->word)) {
        emit_unicode(b + start, end - start);
      }
    }
    return;
  }
  if (icu.utf16.size() < n + 1) {  // a UTF-8 byte makes at most one unit
    icu.utf16.resize(n + 1);
    icu.offset.resize(n + 1);
  }
  UChar* u = icu.utf16.data();
  uint32_t* offset = icu.offset.data();
  int32_t len = 0;
  for (size_t i = 0; i < n;) {
    offset[len] = static_cast<uint32_t>(i);
    if (b[i] < 0x80) {
      u[len++] = b[i++];
      continue;
    }
    UChar32 c;
    U8_NEXT_UNSAFE(b, i, c);
    if (c > 0xFFFF) offset[len + 1] = offset[len];
    U16_APPEND_UNSAFE(u, len, c);
  }
  offset[len] = static_cast<uint32_t>(n);
  icu.text = utext_openUChars(icu.text, u, len, &status);
  bi.setText(icu.text, status);
  if (U_FAILURE(status)) throw_icu("word break iterator", status);
  int32_t start = bi.first();
  for (int32_t end = bi.next(); end != icu::BreakIterator::DONE; start = end, end = bi.next()) {
    if (has_letter_or_number(u + start, end - start, classes_->word)) {
      emit_unicode(b + offset[start], offset[end] - offset[start]);
    }
  }
}

// ---- whitespace mode ----------------------------------------------------

// Whitespace mode on ASCII text, 64 bytes at a time (as words_ascii).
void Tokenizer::whitespace_ascii(const unsigned char* b, size_t n) {
  alignas(16) unsigned char tail[64];
  uint64_t prev_word = 0;
  size_t open = SIZE_MAX;
  for (size_t k = 0; k < n; k += 64) {
    size_t left = n - k;
    const unsigned char* p = b + k;
    if (left < 64) {  // spaces stand for the end of the text
      std::memcpy(tail, p, left);
      std::memset(tail + left, ' ', 64 - left);
      p = tail;
    }
    uint64_t space, upper;
    classify_spaces(p, space, upper);
    uint64_t word = ~space;
    uint64_t next_word = left > 64 && !is_ascii_space(b[k + 64]);
    uint64_t starts = word & ~((word << 1) | prev_word);
    uint64_t ends = word & ~((word >> 1) | (next_word << 63));
    prev_word = word >> 63;
    for_each_run(starts, ends, k, open, [&](size_t s, size_t e) {
      bool up = false;
      if (options_.lower) {
        if (s >= k) {
          up = upper & ((~uint64_t{0} >> (63 - (e - 1 - s))) << (s - k));
        } else {
          for (size_t i = s; i < e; ++i) up |= b[i] >= 'A' && b[i] <= 'Z';
        }
      }
      emit_ascii(b + s, e - s, up);
    });
  }
}

size_t Tokenizer::whitespace(const unsigned char* b, size_t n) {
  // force_icu takes the byte-by-byte path below, which tests compare with.
  if (!options_.force_icu && find_non_ascii(b, 0, n) == n) {
    whitespace_ascii(b, n);
    return 0;
  }
  const unsigned char* cls = classes_->word;
  size_t invalid = 0;
  size_t i = 0;
  while (i < n) {
    while (i < n && is_ascii_space(b[i])) ++i;
    if (i == n) break;
    size_t start = i;
    unsigned char seen = 0;  // kUpper of ASCII bytes, 0x80 for non-ASCII
    while (i < n) {
      unsigned char c = b[i];
      if (c < 0x80) {
        if (is_ascii_space(c)) break;
        seen |= cls[c] & kUpper;
        ++i;
        continue;
      }
      size_t j = i;
      UChar32 cp;
      U8_NEXT(b, j, n, cp);
      if (cp < 0) {  // ends this token; the next one starts after it
        if (i > start) {
          if (seen & 0x80) {
            emit_unicode(b + start, i - start);
          } else {
            emit_ascii(b + start, i - start, seen & kUpper);
          }
        }
        invalid += j - i;
        start = j;
        seen = 0;
      } else {
        seen |= 0x80;
      }
      i = j;
    }
    if (i > start) {
      if (seen & 0x80) {
        emit_unicode(b + start, i - start);
      } else {
        emit_ascii(b + start, i - start, seen & kUpper);
      }
    }
  }
  return invalid;
}

}  // namespace grist
