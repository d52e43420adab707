// Parsed examples for grist-train-sgd and grist-predict, and the parsers of
// the four input formats (svmlight/libsvm, Vowpal Wabbit text, label\ttext,
// fastText's "__label__NAME ... text").
//
//   grist::sgd::ParseOptions parse_opts;  parse_opts.format = Format::vw;  parse_opts.bits = 20;
//   grist::sgd::Parser parser(parse_opts);
//   grist::sgd::Examples ex;
//   parser.parse_block(block, ex, log);   // appends; FILE:LINE errors
//
// Parsed features are already hashed (grist/sgd/hash.hpp) and masked to
// b bits, so a block of examples is a few flat arrays: cheap to train on,
// to cache and to hand between threads. A parser holds scratch buffers and
// is not thread-safe: use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/record/skipped.hpp"

namespace grist::sgd {

class FeatureNames;  // grist/sgd/names.hpp

enum class Format { svmlight, vw, text, fasttext };
const char* format_name(Format f);
std::optional<Format> parse_format_name(std::string_view s);

// How labels are read and checked.
enum class LabelKind {
  binary,      // -1/+1 or 0/1, stored as -1/+1
  real,        // any finite number (squared, quantile)
  multiclass,  // integers class_base .. class_base+classes-1, stored as 0..classes-1
  named,       // ParseOptions::class_names: with classes > 0 class k stored as k,
               // else (binary) the first name as -1, the second as +1
};

struct ParseOptions {
  Format format = Format::svmlight;
  int bits = 20;
  int ngrams = 1;                        // text: word n-grams 1..ngrams
  // VW: namespace pairs by first letter ("ab"; ' ' is the unnamed
  // namespace), ':' standing for every namespace of the example ("a:",
  // "::"), as VW's -q takes them: see check_quadratic().
  std::vector<std::string> quadratic;
  LabelKind labels = LabelKind::binary;
  int classes = 0;
  int class_base = 1;
  // LabelKind::named: the names, in class order (ModelOptions::class_names).
  std::vector<std::string> class_names;
  // Appended to the message of a label the kind refuses: what would make
  // it work, in the program's terms (e.g. "; give --classes ...").
  std::string label_hint;
  // false: an example without a label (svmlight: the first token is
  // INDEX:VALUE; VW: nothing before '|'; text: no tab; fasttext: no
  // leading __label__) gets NaN.
  bool require_label = true;
  bool keep_tags = false;     // VW tags, for predictions
  // Not owned; non-null: record the first name of each feature index there
  // (svmlight "INDEX", VW "NS^NAME" or "NAME" in the unnamed namespace,
  // quadratic "A*B", text the word or n-gram).
  FeatureNames* names = nullptr;
};

struct Examples {
  std::vector<float> label;   // NaN when absent (prediction input only)
  std::vector<float> weight;  // importance (VW), else 1
  std::vector<uint8_t> holdout;
  std::vector<uint32_t> begin{0};  // features of example i: [begin[i], begin[i+1])
  std::vector<uint32_t> index;     // hashed feature index, < 2^bits
  std::vector<float> value;
  std::vector<uint64_t> line;      // line number in its input (messages, holdout)
  std::string tags;                // with keep_tags: tag of example i is
  std::vector<uint32_t> tag_end;   //   tags[tag_end[i-1] .. tag_end[i])
  // fastText input: the labels after the first (which is label[i]) of
  // example i are more_labels[more_end[i-1] .. more_end[i]); more_end is
  // empty (no example has more than one) or holds one entry per example.
  std::vector<float> more_labels;
  std::vector<uint32_t> more_end;

  // Whether class k (--oaa: 0..K-1) is one of example i's labels.
  bool has_class(size_t i, int k) const {
    if (static_cast<int>(label[i]) == k) return true;
    if (more_end.empty()) return false;
    for (uint32_t j = i ? more_end[i - 1] : 0; j < more_end[i]; ++j) {
      if (static_cast<int>(more_labels[j]) == k) return true;
    }
    return false;
  }

  size_t size() const { return label.size(); }
  size_t features() const { return index.size(); }
  void clear();
};

// Errors skipped under --on-error skip.

// --- distributed training ---
// A process's share of the lines: those numbered n (1-based, in each
// input) with (n - 1) % shards == shard. The default is every line.
struct LineShare {
  uint64_t shards = 1;
  uint64_t shard = 0;
  bool keeps(uint64_t line_no) const { return shards <= 1 || (line_no - 1) % shards == shard; }
};
// --- end distributed training ---

class Parser {
 public:
  explicit Parser(const ParseOptions& opts);
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Appends the examples of every line of `b`. Blank lines (and svmlight
  // '#' comment lines) are skipped. A malformed line throws grist::Error
  // "FILE:LINE: message", or, with `skip` non-null, is counted there.
  // Lines outside `share` are passed over (their numbers still count).
  void parse_block(const Block& b, Examples& out, SkippedLines* skip = nullptr,
                   LineShare share = {});

  // Parses one line (without '\n'). Returns false for a blank line. Throws
  // std::invalid_argument with the message (no file or line) on bad input.
  bool parse_line(std::string_view line, Examples& out, uint64_t line_no = 0);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Throws grist::UsageError naming --quadratic unless every pair is two
// namespace letters (any byte but a control character, '|', ':' or ','),
// or ':' for every namespace present in an example. Crosses, per example,
// are then: each pair given, in order, then each pair a ':' expands to
// (every namespace of the example, in byte order: "::" is every pair of
// namespaces, a namespace with itself included, as in VW), each
// unordered pair once (VW drops "ba" after "ab" too). A namespace crossed
// with itself pairs each of its features with the later ones.
void check_quadratic(const std::vector<std::string>& pairs);

// The format of the first non-blank line of `head` when it is unambiguous:
// a line starting "__label__" is fasttext, a '|' and no tab is VW, a tab
// and no '|' is text, "LABEL INDEX:VALUE..." is svmlight.
std::optional<Format> sniff_format(std::string_view head);

}  // namespace grist::sgd
