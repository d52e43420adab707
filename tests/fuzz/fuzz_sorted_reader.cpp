// The sorted line reader and the k-way merge of grist-merge: inputs out of
// order, bad numbers or overflowing sums throw grist::Error; whatever comes
// out is sorted, and (without a reduction) is exactly the sorted multiset of
// the input lines. Never a crash.
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "grist/error.hpp"
#include "grist/record/record.hpp"
#include "grist/sort/merge_inputs.hpp"

namespace {

// Splits the input into up to four inputs at '\x01' bytes.
std::vector<std::string> split_inputs(std::string_view s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '\x01' && out.size() < 4) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

bool sorted_lines(const std::string& in, std::vector<std::string>& lines) {
  std::string_view all(in);
  size_t pos = 0;
  std::string prev;
  bool first = true;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) nl = all.size();
    std::string_view line = all.substr(pos, nl - pos);
    pos = nl + 1;
    std::string key(grist::split_key_value(line).key);
    if (!first && grist::compare_keys(key, prev) < 0) return false;
    prev = key;
    first = false;
    lines.emplace_back(line);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t k = data[0];
  auto inputs = split_inputs(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  bool plain = true;
  for (auto& in : inputs) {
    plain = plain && grist::Source::from_memory(in, "x")->compression() == grist::Compression::none;
  }

  // One reader: sorted input reads back exactly; unsorted throws.
  {
    std::vector<std::string> lines;
    bool ok = sorted_lines(inputs[0], lines);
    const bool check_u64 = k & 1;
    try {
      grist::SortedLineReader r(grist::Source::from_memory(inputs[0], "fuzz"),
                                check_u64 ? grist::ValueCheck::u64 : grist::ValueCheck::none,
                                1 + (k >> 1) % 64);
      grist::Record rec;
      size_t i = 0;
      while (r.next(rec)) {
        std::string line = std::string(rec.key) + std::string(rec.value);
        if (plain) FUZZ_CHECK(i < lines.size() && line == lines[i]);
        ++i;
      }
      if (plain) FUZZ_CHECK(ok && i == lines.size());
    } catch (const grist::Error& e) {
      if (plain && !check_u64) FUZZ_CHECK(!ok);
      FUZZ_CHECK(!e.file().empty());
    }
  }

  // The merge of all inputs, with a reduction picked by the knobs.
  static const grist::Reduction kOps[] = {
      grist::Reduction::none, grist::Reduction::sum,   grist::Reduction::count,
      grist::Reduction::min,  grist::Reduction::max,   grist::Reduction::first,
      grist::Reduction::last, grist::Reduction::none};
  grist::MergeInputsOptions o;
  o.reduce.op = kOps[(k >> 3) & 7];
  o.reduce.numeric = k & 0x40;
  o.fan_in = (k & 2) ? 2 : 0;  // several passes through temporary runs
  o.temp_dir = "/tmp";
  std::vector<grist::StreamOpener> openers;
  for (size_t i = 0; i < inputs.size(); ++i) {
    openers.push_back([&inputs, i] {
      return std::make_unique<grist::SortedLineReader>(
          grist::Source::from_memory(inputs[i], "in" + std::to_string(i)));
    });
  }
  try {
    auto merged = grist::merge_streams_reduced(std::move(openers), o);
    grist::Record rec;
    std::string prev;
    bool first = true;
    size_t n = 0;
    while (merged->next(rec)) {
      if (!first) {
        int c = grist::compare_keys(prev, rec.key);
        FUZZ_CHECK(o.reduce.op == grist::Reduction::none ? c <= 0 : c < 0);
      }
      prev.assign(rec.key);
      first = false;
      ++n;
    }
    if (plain && o.reduce.op == grist::Reduction::none) {
      size_t total = 0;
      for (auto& in : inputs) {
        std::vector<std::string> lines;
        sorted_lines(in, lines);
        total += lines.size();
      }
      FUZZ_CHECK(n == total);
    }
  } catch (const grist::Error&) {
  }
  return 0;
}
