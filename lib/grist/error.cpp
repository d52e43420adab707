#include "grist/error.hpp"

#include <cstdio>

namespace grist {

namespace {

// The length of the valid UTF-8 sequence at s[i] (its code point in *cp),
// or 0 when the byte there does not start one (overlong forms and
// surrogates are invalid, as in the tokenizer).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, v = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, v = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (byte(i + k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

// Valid code points a terminal acts on rather than shows: C1 controls
// (U+009B is a CSI on some terminals), line and paragraph separators, and
// the bidirectional controls that reorder what follows them.
bool acts_on_terminal(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Escapes at most max_bytes of `bytes`; *cut says whether some were left.
std::string escape(std::string_view bytes, size_t max_bytes, bool* cut) {
  std::string out;
  out.reserve(bytes.size() < max_bytes ? bytes.size() + 2 : 64);
  char buf[16];
  size_t i = 0;
  while (i < bytes.size()) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    uint32_t cp = 0;
    size_t n = c < 0x80 ? 1 : utf8_sequence(bytes, i, &cp);
    if (n == 0) n = 1;  // an invalid byte, shown alone
    if (i + n > max_bytes) break;
    if (c < 0x80) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\'': out += "\\'"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    } else if (cp == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (acts_on_terminal(cp)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(bytes.data() + i, n);
    }
    i += n;
  }
  *cut = i < bytes.size();
  return out;
}

}  // namespace

std::string escape_bytes(std::string_view bytes, size_t max_bytes) {
  bool cut = false;
  std::string out = escape(bytes, max_bytes, &cut);
  if (cut) out += "...";
  return out;
}

std::string quote_input(std::string_view bytes, size_t max_bytes) {
  bool cut = false;
  std::string out = "'" + escape(bytes, max_bytes, &cut) + "'";
  if (cut) out += "...";
  return out;
}

std::string with_crlf_hint(const std::string& message) {
  // An escaped CR is a backslash that is not itself escaped, then 'r'.
  bool found = false;
  for (size_t i = 0; i + 1 < message.size() && !found; ++i) {
    if (message[i] != '\\') continue;
    if (message[i + 1] == 'r') {
      found = i + 2 == message.size() || message[i + 2] == '\'';
    }
    ++i;  // skip the escaped character
  }
  if (!found) return message;
  return message + " (a file with CRLF line ends? convert it with dos2unix or tr -d '\\r')";
}

}  // namespace grist
