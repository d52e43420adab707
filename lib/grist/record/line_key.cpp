#include "grist/record/line_key.hpp"

namespace grist {

void encode_line_key(std::string_view line, std::string& out) {
  out.clear();
  for (char c : line) {
    if (c == '\x08') {
      out += '\x08';
      out += '\x01';
    } else if (c == '\t') {
      out += '\x08';
      out += '\x02';
    } else {
      out += c;
    }
  }
}

void decode_line_key(std::string_view key, std::string& out) {
  out.clear();
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '\x08' && i + 1 < key.size()) {
      out += key[++i] == '\x01' ? '\x08' : '\t';
    } else {
      out += key[i];
    }
  }
}

}  // namespace grist
