#include "grist/sgd/labels.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/fd.hpp"
#include "grist/record/record.hpp"

namespace grist::sgd {

namespace {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

constexpr std::string_view kPrefix = "__label__";

// The label as a number (a leading '+' allowed, as the parser does).
std::optional<double> number(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::string shown(std::string_view s) { return quote_input(s, 40); }

}  // namespace

void line_labels(Format f, std::string_view line, std::vector<std::string_view>& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  if (i == line.size()) return;
  switch (f) {
    case Format::text: {
      size_t tab = line.find('\t');
      if (tab == std::string_view::npos) return;
      size_t e = tab;
      while (e > i && is_space(line[e - 1])) --e;
      if (e > i && i < tab) out.push_back(line.substr(i, e - i));
      return;
    }
    case Format::fasttext:
      for (;;) {
        while (i < line.size() && is_space(line[i])) ++i;
        if (line.substr(i, kPrefix.size()) != kPrefix) return;
        size_t b = i + kPrefix.size(), e = b;
        while (e < line.size() && !is_space(line[e])) ++e;
        if (e > b) out.push_back(line.substr(b, e - b));
        i = e;
      }
    case Format::svmlight:
    case Format::vw: {
      if (f == Format::svmlight && line[i] == '#') return;
      size_t e = i;
      while (e < line.size() && !is_space(line[e]) && line[e] != '|') ++e;
      if (e > i) out.push_back(line.substr(i, e - i));
      return;
    }
  }
}

std::optional<LabelScan> scan_labels(const std::vector<std::string>& inputs,
                                     std::optional<Format> format) {
  BlockReader reader(inputs, size_t(1) << 20);
  Block b;
  if (!reader.next(b)) return std::nullopt;
  if (!format) format = sniff_format(b.view().substr(0, 1 << 16));
  if (!format || (*format != Format::text && *format != Format::fasttext)) return std::nullopt;
  LabelScan scan;
  scan.format = *format;
  std::vector<std::string_view> labels;
  // Most lines repeat a label already seen: look it up before copying it.
  do {
    for_each_line(b, [&](std::string_view line) {
      if (scan.labels.size() > kMaxClasses) return;
      labels.clear();
      line_labels(*format, line, labels);
      if (labels.size() > 1) scan.multi = true;
      for (std::string_view l : labels) {
        if (l.find('\r') != std::string_view::npos) continue;
        if (scan.labels.find(l) == scan.labels.end()) scan.labels.emplace(l);
      }
    });
  } while (reader.next(b));
  return scan;
}

bool needs_names(const std::set<std::string, std::less<>>& labels) {
  for (const auto& l : labels) {
    auto v = number(l);
    if (!v || (*v != -1 && *v != 0 && *v != 1)) return true;
  }
  return false;
}

ClassSet order_classes(const std::set<std::string, std::less<>>& labels, bool multi) {
  if (labels.size() > kMaxClasses) {
    throw UsageError("more than " + std::to_string(kMaxClasses) +
                     " distinct labels in the input: too many classes (is the label the first "
                     "field? for numbers to predict give --loss squared)");
  }
  if (labels.size() < 2) {
    throw UsageError(
        labels.empty()
            ? std::string("no labels in the input")
            : "the input has one class only (" + shown(*labels.begin()) +
                  "): a classifier needs two or more; give --classes with every class, e.g. "
                  "--classes " + *labels.begin() + ",OTHER");
  }
  ClassSet cs;
  cs.names.assign(labels.begin(), labels.end());  // byte order
  bool numeric = std::all_of(labels.begin(), labels.end(),
                             [](const std::string& l) { return number(l).has_value(); });
  if (numeric) {
    for (const auto& l : labels) {
      double v = *number(l);
      if (v != std::floor(v)) {
        throw UsageError("label " + shown(l) +
                         " is a number but not a class: for numbers to predict give --loss "
                         "squared or quantile; for classes by name give --classes");
      }
    }
    std::stable_sort(cs.names.begin(), cs.names.end(), [](const std::string& a, const std::string& b) {
      return *number(a) < *number(b);
    });
  }
  cs.classes = cs.names.size() == 2 && !multi ? 0 : static_cast<int>(cs.names.size());
  return cs;
}

bool stdin_is_regular_file() {
  struct stat st;
  return ::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t make_stdin_rereadable(const std::string& temp_dir) {
  if (stdin_is_regular_file()) {
    off_t at = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (at >= 0) return static_cast<uint64_t>(at);
  }
  const std::string dir = resolve_temp_dir(temp_dir);
  UniqueFd spool(open_anonymous_temp_file(dir));
  std::vector<char> buf(size_t(1) << 20);
  while (size_t n = read_some(STDIN_FILENO, buf.data(), buf.size(), "(stdin)")) {
    write_all(spool.get(), buf.data(), n, dir);
  }
  if (::dup2(spool.get(), STDIN_FILENO) < 0) throw_errno(dir, "cannot replace stdin by its copy");
  rewind_stdin(0);
  return 0;
}

void rewind_stdin(uint64_t offset) {
  if (::lseek(STDIN_FILENO, static_cast<off_t>(offset), SEEK_SET) < 0) {
    throw_errno("(stdin)", "cannot read it again");
  }
}

ClassSet parse_class_list(std::string_view list) {
  ClassSet cs;
  for (size_t i = 0; i <= list.size();) {
    size_t c = list.find(',', i);
    if (c == std::string_view::npos) c = list.size();
    std::string_view n = list.substr(i, c - i);
    if (n.empty()) throw UsageError("--classes: an empty class name (NAME,NAME,... expected)");
    if (n.find_first_of("\t\n\r") != std::string_view::npos) {
      throw UsageError("--classes: a class name cannot hold a tab, newline or carriage return");
    }
    if (std::find(cs.names.begin(), cs.names.end(), n) != cs.names.end()) {
      throw UsageError("--classes: " + shown(n) + " is given twice");
    }
    cs.names.emplace_back(n);
    i = c + 1;
  }
  if (cs.names.size() < 2) throw UsageError("--classes: give two or more classes, NAME,NAME,...");
  if (cs.names.size() > kMaxClasses) {
    throw UsageError("--classes: more than " + std::to_string(kMaxClasses) + " classes");
  }
  cs.classes = cs.names.size() == 2 ? 0 : static_cast<int>(cs.names.size());
  return cs;
}

}  // namespace grist::sgd
