// Finding the ends of keys and lines in the external sort's batch, where
// every line ends with LF and keys and values are mostly a few bytes: the
// scans look at 16 bytes at once (SSE2, with a scalar fallback elsewhere)
// before calling rawmemchr. Inline: they are the sort's inner loops.
#pragma once

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace grist::line_scan {

// The LF ending the line that goes on at v. Values are mostly a few bytes:
// look at those inline before calling rawmemchr.
inline const char* line_end(const char* v) {
  for (int i = 0; i < 16; ++i) {
    if (v[i] == '\n') return v + i;
  }
  return static_cast<const char*>(rawmemchr(v + 16, '\n'));
}

// Same, where the 16 bytes at any q < limit - 15 may be read: 16 bytes
// compared at once (lines are mostly a dozen bytes, so this is one step).
inline const char* line_end_before(const char* v, const char* limit) {
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  while (limit - v >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v));
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, lf)));
    if (m) return v + __builtin_ctz(m);
    v += 16;
  }
#else
  (void)limit;
#endif
  return line_end(v);
}

// The key end (first TAB or the LF) and the LF of the line at p, from one
// 16-byte load when the key is shorter than 16 bytes and 16 bytes lie
// before end; false otherwise (and always without SSE2).
inline bool find_key_end(const char* p, const char* end, const char*& k, const char*& nl) {
#if defined(__SSE2__)
  if (end - p < 16) return false;
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const unsigned mt =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))));
  const unsigned mn =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))));
  const unsigned m = mt | mn;
  if (!m) return false;
  const unsigned i = static_cast<unsigned>(__builtin_ctz(m));
  k = p + i;
  const unsigned after = mn & ~((2u << i) - 1);  // LFs after the key's end
  if ((mn >> i) & 1) {
    nl = k;
  } else if (after) {
    nl = p + __builtin_ctz(after);
  } else {
    nl = line_end_before(p + 16, end);
  }
  return true;
#else
  (void)p, (void)end, (void)k, (void)nl;
  return false;
#endif
}

// The key end and the LF of the key-value line at p (p < end; the line
// ends with LF): find_key_end, else a short scan, else memchr.
inline void split_line(const char* p, const char* end, const char*& k, const char*& nl) {
  if (find_key_end(p, end, k, nl)) return;
  k = p;
  int i = 0;
  for (; i < 16 && k[i] != '\t' && k[i] != '\n'; ++i) {
  }
  if (i < 16) {
    k += i;
  } else {
    nl = line_end(p + 16);
    const void* t = std::memchr(p + 16, '\t', static_cast<size_t>(nl - p - 16));
    k = t ? static_cast<const char*>(t) : nl;
  }
  nl = *k == '\n' ? k : line_end(k + 1);
}

}  // namespace grist::line_scan
