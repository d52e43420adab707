// A set of words to drop from the token stream.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "grist/text/tokenizer.hpp"

namespace grist {

// Whether stopwords are kept as written or case-folded like --lower tokens.
enum class Folding { as_given, case_folded };

class StopWords {
 public:
  StopWords() = default;
  StopWords(const StopWords&) = delete;
  StopWords& operator=(const StopWords&) = delete;
  StopWords(StopWords&&) = default;
  StopWords& operator=(StopWords&&) = default;

  // Reads a stopword file (any compression): the words of each line, split
  // at ASCII whitespace. With Folding::case_folded, each word is folded as the
  // tokenizer folds tokens (NFKC_Casefold), so that "The" in the file drops
  // "the" from `--lower` output. Throws grist::Error naming the file.
  static StopWords load(const std::string& path, Folding folding);

  // Adds a word as given (no folding). Empty words are ignored.
  void add(std::string_view word);

  // Thread-safe once the set is built (const lookups only).
  bool contains(std::string_view token) const { return set_.count(token) != 0; }
  size_t size() const { return set_.size(); }
  bool empty() const { return set_.empty(); }

 private:
  struct Hash {
    size_t operator()(std::string_view s) const noexcept;  // XXH3-64
  };
  std::deque<std::string> storage_;  // a deque never moves its elements
  std::unordered_set<std::string_view, Hash> set_;
};

}  // namespace grist
