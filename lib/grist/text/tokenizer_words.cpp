// The tokenizer's word mode: the ASCII fast path and the ICU stretches.
#include "grist/text/tokenizer.hpp"

#include "grist/text/tokenizer_impl.hpp"

namespace grist {

using namespace detail;

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

}  // namespace grist
