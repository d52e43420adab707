// Word n-grams within one record.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grist {

// Parses "N" or "N-M" (1 <= N <= M <= 16). Throws grist::UsageError.
std::pair<size_t, size_t> parse_ngram_range(std::string_view text);

// Appends to `out` every n-gram of `tokens` with min_n <= n <= max_n, each
// followed by `suffix` ("\n", or "\t1\n" for pairs): the tokens tokens[i],
// ..., tokens[i+n-1] joined by a single space. The order is by start
// position i, then by n ascending: "a", "a b", "b", "b c", "c" for a b c
// and 1-2. A record with fewer than n tokens has no n-grams of that n.
// Returns the number of n-grams appended.
size_t append_ngrams(const std::vector<std::string_view>& tokens, size_t min_n, size_t max_n,
                     std::string_view suffix, std::string& out);

// Appends every token followed by `suffix` (the n = 1 case, fast). Returns
// the number of tokens. `readable` may name memory that holds tokens (the
// text they were cut from, with any padding after it): a token with 16
// bytes of `readable` from its start is then copied as one 16-byte word.
size_t append_tokens(const std::vector<std::string_view>& tokens, std::string_view suffix,
                     std::string& out, std::string_view readable = {});

}  // namespace grist
