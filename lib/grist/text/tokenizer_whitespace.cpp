// The tokenizer's whitespace mode.
#include "grist/text/tokenizer.hpp"

#include "grist/text/tokenizer_impl.hpp"

namespace grist {

using namespace detail;

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
