// The tokenizer: on every input the fast paths (ASCII splitting, ASCII
// folding) give exactly the tokens of the ICU-only path (force_icu), in
// both modes, with and without lower; every token is non-empty, well-formed
// UTF-8 and free of ASCII whitespace; the invalid-byte counts agree.
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/text/tokenizer.hpp"

namespace {

void check_tokens(const std::vector<std::string_view>& tokens) {
  for (auto t : tokens) {
    FUZZ_CHECK(!t.empty());
    FUZZ_CHECK(grist_fuzz::valid_utf8(t));
    FUZZ_CHECK(!grist_fuzz::has_ascii_space(t));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Tokenizers are reused across inputs, as a worker thread reuses its own.
  static std::vector<grist::Tokenizer> fast, icu;
  if (fast.empty()) {
    for (int mode = 0; mode < 2; ++mode) {
      for (int lower = 0; lower < 2; ++lower) {
        grist::TokenizerOptions o;
        o.mode = mode ? grist::TokenMode::whitespace : grist::TokenMode::word;
        o.lower = lower;
        fast.emplace_back(o);
        o.force_icu = true;
        icu.emplace_back(o);
      }
    }
  }
  std::vector<std::string_view> a, b;
  for (size_t i = 0; i < fast.size(); ++i) {
    a.clear();
    b.clear();
    size_t bad_a = fast[i].tokenize(text, a);
    size_t bad_b = icu[i].tokenize(text, b);
    check_tokens(a);
    check_tokens(b);
    if (a != b || bad_a != bad_b) {
      std::fprintf(stderr, "options %zu: fast path %zu tokens (%zu bad bytes), ICU %zu (%zu)\n",
                   i, a.size(), bad_a, b.size(), bad_b);
      for (size_t k = 0; k < a.size() || k < b.size(); ++k) {
        std::fprintf(stderr, "  [%zu] '%.*s' | '%.*s'\n", k,
                     k < a.size() ? int(a[k].size()) : 0, k < a.size() ? a[k].data() : "",
                     k < b.size() ? int(b[k].size()) : 0, k < b.size() ? b[k].data() : "");
      }
      grist_fuzz::fail("fast path and ICU disagree");
    }
    // Appending keeps what `out` held.
    size_t before = a.size();
    fast[i].tokenize(text, a);
    FUZZ_CHECK(a.size() == 2 * before);
  }
  return 0;
}
