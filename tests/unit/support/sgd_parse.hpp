// Parsing examples from a string in the unit tests: each line in turn,
// numbered from 1, as a Parser sees the lines of a block.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "grist/sgd/examples.hpp"

namespace grist_test {

inline grist::sgd::Examples parse(grist::sgd::Format f, const std::string& text,
                                  grist::sgd::ParseOptions po = {}) {
  po.format = f;
  grist::sgd::Parser parser(po);
  grist::sgd::Examples ex;
  size_t i = 0;
  uint64_t line = 1;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    parser.parse_line(std::string_view(text).substr(i, nl - i), ex, line++);
    i = nl + 1;
  }
  return ex;
}

// The message parse() throws, or "" when the text parses.
inline std::string parse_error(grist::sgd::Format f, const std::string& text,
                               grist::sgd::ParseOptions po = {}) {
  try {
    parse(f, text, po);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace grist_test
