// The tokenizer's internals (lib/grist/text only): the classes of ASCII
// bytes for the word fast path, the 64-byte scanners (SSE2 where the
// target has it, else scalar), ICU's state, and the inline emitters the
// word mode (tokenizer_words.cpp) and the whitespace mode
// (tokenizer_whitespace.cpp) share with tokenizer.cpp.
#pragma once

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
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "grist/text/tokenizer.hpp"

namespace grist {
namespace detail {

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

struct TokenizerClasses {
  unsigned char word[256];
  unsigned char at = 0xFF;     // '@' if it is a letter, else a byte never met
  unsigned char colon = 0xFF;  // ':' if it is MidLetter, else a byte never met
};

using AsciiClasses = TokenizerClasses;

// The classes of ASCII bytes, probed from this ICU once. Throws
// grist::Error if ICU has no word break iterator.
const AsciiClasses& ascii_classes();

[[noreturn]] void throw_icu(const char* what, UErrorCode status);

// The classes of 64 ASCII bytes as bit masks (bit i: byte i).
struct Masks {
  uint64_t letter = 0, digit = 0, core = 0, mid_letter = 0, mid_num = 0;
  uint64_t alnum = 0, upper = 0;
};

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

}  // namespace detail

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

// ---- emitting -------------------------------------------------------------

// A token as it stands in the text, if its length passes the filter.
inline void Tokenizer::emit_checked(const char* p, size_t n, bool ascii) {
  if (length_filter_) {
    size_t length = ascii ? n : detail::count_code_points(p, n);
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
  detail::grow(scratch_, offset + n);
  scratch_used_ += n;
  char* d = scratch_.data() + offset;
  for (size_t k = 0; k < n; ++k) {
    unsigned char c = b[k];
    d[k] = static_cast<char>(c + ((static_cast<unsigned>(c - 'A') < 26u) << 5));
  }
  fixups_.push_back({out_->size(), offset, n});
  out_->emplace_back();
}


}  // namespace grist
