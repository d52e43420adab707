#include "grist/text/stopwords.hpp"

#include <xxhash.h>

#include <vector>

#include "grist/io/block_reader.hpp"

namespace grist {

size_t StopWords::Hash::operator()(std::string_view s) const noexcept {
  return static_cast<size_t>(XXH3_64bits(s.data(), s.size()));
}

void StopWords::add(std::string_view word) {
  if (word.empty() || set_.count(word)) return;
  const std::string& kept = storage_.emplace_back(word);
  set_.insert(kept);
}

StopWords StopWords::load(const std::string& path, Folding folding) {
  StopWords sw;
  TokenizerOptions to;
  to.mode = TokenMode::whitespace;
  to.lower = folding == Folding::case_folded;
  Tokenizer tok(to);
  std::vector<std::string_view> words;
  BlockReader reader({path}, 1 << 20);
  Block block;
  while (reader.next(block)) {
    for_each_line(block, [&](std::string_view line) {
      words.clear();
      tok.tokenize(line, words);
      for (std::string_view w : words) sw.add(w);
    });
  }
  return sw;
}

}  // namespace grist
