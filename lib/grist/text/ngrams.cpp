#include "grist/text/ngrams.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "grist/error.hpp"

namespace grist {

namespace {

// Tokens are short: copying them inline beats a call to memcpy each.
inline void copy_bytes(char* d, const char* s, size_t n) {
  if (n >= 8) {
    if (n > 16) {
      std::memcpy(d, s, n);
      return;
    }
    uint64_t a, b;  // two overlapping words
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + n - 8, 8);
    std::memcpy(d, &a, 8);
    std::memcpy(d + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(d, &a, 4);
    std::memcpy(d + n - 4, &b, 4);
  } else if (n > 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

}  // namespace

std::pair<size_t, size_t> parse_ngram_range(std::string_view text) {
  auto bad = [&] {
    return UsageError("bad n-gram size '" + std::string(text) +
                      "': expected N or N-M with 1 <= N <= M <= 16");
  };
  auto number = [&](std::string_view s) {
    size_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) throw bad();
    return v;
  };
  size_t dash = text.find('-');
  size_t lo = number(text.substr(0, dash));
  size_t hi = dash == std::string_view::npos ? lo : number(text.substr(dash + 1));
  if (lo < 1 || hi < lo || hi > 16) throw bad();
  return {lo, hi};
}

size_t append_tokens(const std::vector<std::string_view>& tokens, std::string_view suffix,
                     std::string& out, std::string_view readable) {
  // One resize, then plain copies: no capacity check per token. The slack
  // of 16 bytes lets a short token be copied as one 16-byte word.
  constexpr size_t kSlack = 16;
  size_t bytes = tokens.size() * suffix.size();
  for (std::string_view t : tokens) bytes += t.size();
  size_t pos = out.size();
  out.resize(pos + bytes + kSlack);
  char* p = out.data() + pos;
  const char* const lo = readable.data();
  const char* const hi = readable.data() + readable.size() - std::min(readable.size(), kSlack);
  const size_t sn = suffix.size();
  for (std::string_view t : tokens) {
    const char* s = t.data();
    const size_t n = t.size();
    if (n <= kSlack && s >= lo && s <= hi) {
      std::memcpy(p, s, kSlack);  // may read past the token, not past `readable`
    } else {
      copy_bytes(p, s, n);
    }
    p += n;
    if (sn == 1) {
      *p++ = suffix[0];
    } else {
      copy_bytes(p, suffix.data(), sn);
      p += sn;
    }
  }
  out.resize(pos + bytes);
  return tokens.size();
}

size_t append_ngrams(const std::vector<std::string_view>& tokens, size_t min_n, size_t max_n,
                     std::string_view suffix, std::string& out) {
  if (min_n == 1 && max_n == 1) return append_tokens(tokens, suffix, out, {});
  size_t count = 0;
  const size_t k = tokens.size();
  for (size_t i = 0; i < k; ++i) {
    size_t len = 0;  // bytes of tokens[i..i+n) joined
    for (size_t n = 1; n <= max_n && i + n <= k; ++n) {
      len += tokens[i + n - 1].size() + (n > 1);
      if (n < min_n) continue;
      size_t pos = out.size();
      out.resize(pos + len + suffix.size());
      char* p = out.data() + pos;
      for (size_t j = i; j < i + n; ++j) {
        if (j > i) *p++ = ' ';
        std::memcpy(p, tokens[j].data(), tokens[j].size());
        p += tokens[j].size();
      }
      std::memcpy(p, suffix.data(), suffix.size());
      ++count;
    }
  }
  return count;
}

}  // namespace grist
