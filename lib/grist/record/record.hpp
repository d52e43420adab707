// Records: lines, key-value splitting and numbers (docs/design.md, "Records").
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace grist {

struct KeyValue {
  std::string_view key;
  std::string_view value;  // empty when the line has no TAB
  bool has_tab = false;
};

// Splits at the FIRST tab, as Hadoop Streaming does.
inline KeyValue split_key_value(std::string_view line) {
  const void* t = std::memchr(line.data(), '\t', line.size());
  if (!t) return {line, {}, false};
  size_t k = static_cast<const char*>(t) - line.data();
  return {line.substr(0, k), line.substr(k + 1), true};
}

// Parses an unsigned 64-bit decimal: digits only, no sign, no spaces, not
// empty. Returns nullopt on anything else, including overflow.
inline std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    unsigned d = static_cast<unsigned char>(c) - '0';
    if (d > 9) return std::nullopt;
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, d, &v)) {
      return std::nullopt;
    }
  }
  return v;
}

// Writes v in decimal at p (room for 20 chars); returns the end.
inline char* format_u64(uint64_t v, char* p) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

// Adds with an overflow check; false on overflow.
inline bool add_u64(uint64_t& acc, uint64_t v) { return !__builtin_add_overflow(acc, v, &acc); }

}  // namespace grist
