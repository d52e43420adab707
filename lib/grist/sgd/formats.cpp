// The input formats' names, the -q pairs' check, and the format sniffer
// (examples.hpp).
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grist/error.hpp"
#include "grist/sgd/examples.hpp"

namespace grist::sgd {

const char* format_name(Format f) {
  switch (f) {
    case Format::svmlight: return "svmlight";
    case Format::vw: return "vw";
    case Format::text: return "text";
    case Format::fasttext: return "fasttext";
  }
  return "?";
}

std::optional<Format> parse_format_name(std::string_view s) {
  if (s == "svmlight" || s == "libsvm" || s == "svm") return Format::svmlight;
  if (s == "vw") return Format::vw;
  if (s == "text") return Format::text;
  if (s == "fasttext") return Format::fasttext;
  return std::nullopt;
}

void check_quadratic(const std::vector<std::string>& pairs) {
  for (const auto& q : pairs) {
    std::string shown;
    for (unsigned char c : q.substr(0, 40)) {
      if (c < 0x20 || c == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        shown += buf;
      } else {
        shown += static_cast<char>(c);
      }
    }
    if (q.size() > 40) shown += "...";
    if (q.size() != 2) {
      throw UsageError("--quadratic '" + shown +
                       "': expected two namespace letters, e.g. ab (':' for every namespace: "
                       "a: or ::)");
    }
    for (unsigned char c : q) {
      if (c < 0x20 || c == 0x7f || c == '|' || c == ',') {
        throw UsageError("--quadratic '" + shown + "': " +
                         (c == '|' || c == ',' ? std::string("'") + char(c) + "'"
                                               : std::string("a control character")) +
                         " cannot start a namespace");
      }
    }
  }
}

std::optional<Format> sniff_format(std::string_view head) {
  size_t i = 0;
  while (i < head.size()) {
    size_t nl = head.find('\n', i);
    std::string_view line = head.substr(i, nl == std::string_view::npos ? head.size() - i : nl - i);
    i = nl == std::string_view::npos ? head.size() : nl + 1;
    size_t s = line.find_first_not_of(" \t\r");
    if (s == std::string_view::npos) continue;
    if (line[s] == '#') continue;
    if (line.substr(s).starts_with("__label__")) return Format::fasttext;
    bool bar = line.find('|') != std::string_view::npos;
    bool tab = line.find('\t', s) != std::string_view::npos;
    if (bar && !tab) return Format::vw;
    if (tab && !bar) {
      // "LABEL<TAB>..." is text unless the rest still looks like svmlight.
      size_t t = line.find('\t', s);
      std::string_view rest = line.substr(t + 1);
      size_t c = rest.find(':');
      bool svm_like = c != std::string_view::npos && c > 0 &&
                      rest.find_first_not_of("0123456789") == c;
      if (!svm_like) return Format::text;
      return std::nullopt;
    }
    if (bar || tab) return std::nullopt;
    // svmlight: LABEL then INDEX:VALUE tokens (or nothing)
    size_t sp = line.find_first_of(" \t", s);
    if (sp == std::string_view::npos) return Format::svmlight;  // label only
    std::string_view rest = line.substr(sp);
    size_t f = rest.find_first_not_of(" \t");
    if (f == std::string_view::npos) return Format::svmlight;
    size_t c = rest.find(':', f);
    if (c != std::string_view::npos && c > f) return Format::svmlight;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace grist::sgd
