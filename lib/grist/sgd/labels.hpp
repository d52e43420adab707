// Classes by name for grist-train-sgd: the label fields of a line without
// parsing its features, the pre-scan that finds the classes of text and
// fastText input, the order they take, and --classes.
//
//   auto scan = scan_labels({"mails.tsv"}, std::nullopt);  // sniffs the format
//   if (scan && needs_names(scan->labels)) {
//     ClassSet cs = order_classes(scan->labels, scan->multi);  // throws UsageError
//     ...
//   }
#pragma once

#include <optional>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "grist/sgd/examples.hpp"

namespace grist::sgd {

// The most classes a model takes (--oaa's limit).
constexpr size_t kMaxClasses = 100000;

// The labels of one line of `f` input, appended to `out` (views of
// `line`): text's field before the tab (trimmed), fastText's leading
// "__label__NAME" tokens (NAME), svmlight's and VW's first token. A blank
// or comment line, or a line without a label, appends nothing.
void line_labels(Format f, std::string_view line, std::vector<std::string_view>& out);

struct LabelScan {
  Format format = Format::text;
  std::set<std::string, std::less<>> labels;  // distinct, at most kMaxClasses + 1
  bool multi = false;            // a line with more than one label
};

// Reads every line of `inputs` ("-" or none: stdin, read to its end)
// through BlockReader (compressed inputs too), keeping only the labels of
// text or fasttext input. `format`: as given, else sniffed from the first
// block as training does; nullopt when the input is not text or fasttext,
// or is empty, or its format cannot be told (training reports that). A
// label holding a carriage return is passed over (the parser refuses it
// later, or skips it under --on-error skip). Throws grist::Error for
// unreadable input.
std::optional<LabelScan> scan_labels(const std::vector<std::string>& inputs,
                                     std::optional<Format> format);

// Whether the labels are not all the numbers -1, 0, 1 of binary
// training (which keeps its numeric labels and models without names).
bool needs_names(const std::set<std::string, std::less<>>& labels);

struct ClassSet {
  std::vector<std::string> names;  // in class order
  int classes = 0;                 // --oaa K; 0: binary, names = [negative, positive]
};

// The classes of the labels found: in numeric order when every label is
// an integer, else in byte order; two classes are binary (the second
// positive) unless `multi` (several labels on a line: one against all),
// more are one against all. Throws UsageError for one class, a number
// that is not an integer (a regression target?), or more than
// kMaxClasses, saying what would work.
ClassSet order_classes(const std::set<std::string, std::less<>>& labels, bool multi);

// Makes stdin readable twice, for a scan before training: a regular file
// is left as it is; anything else (a pipe) is first copied whole into an
// anonymous file in `temp_dir` (gone on every exit path), which then
// becomes file descriptor 0. Returns the offset to rewind_stdin() to.
// Throws grist::Error (the temp directory's errors name it).
uint64_t make_stdin_rereadable(const std::string& temp_dir);
// Whether stdin is a regular file (which can be read twice at no cost).
bool stdin_is_regular_file();
void rewind_stdin(uint64_t offset);

// --classes NAME,NAME,...: the names in the order given (two: binary, the
// last positive; more: one against all). Throws UsageError for fewer than
// two, an empty or repeated name, or a name with a tab, newline or
// carriage return.
ClassSet parse_class_list(std::string_view list);

}  // namespace grist::sgd
