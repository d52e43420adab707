#include "grist/json/json_write.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace grist {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      // A whole, valid UTF-8 sequence is copied; anything else is U+FFFD.
      size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
      bool ok = n > 0 && i + n <= s.size();
      for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      if (ok && n == 3) {
        unsigned char d = static_cast<unsigned char>(s[i + 1]);
        ok = !(c == 0xe0 && d < 0xa0) && !(c == 0xed && d >= 0xa0);
      } else if (ok && n == 4) {
        unsigned char d = static_cast<unsigned char>(s[i + 1]);
        ok = !(c == 0xf0 && d < 0x90) && !(c == 0xf4 && d >= 0x90);
      }
      if (ok) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += "\xef\xbf\xbd";
        ++i;
      }
    }
  }
  out += '"';
  return out;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace grist
