// The external sort's in-memory entry sort (sort/entry_sort.hpp) against a
// plain stable sort of the keys, on random and adversarial keys.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "grist/sort/entry_sort.hpp"

using namespace grist;

namespace {

// Keys laid out one after another, as lines in a batch, and their entries
// in input order (ascending offsets). rank(key) > 0 sorts by (rank, key),
// as a partitioned sort does (5 key bytes in the prefix).
struct Keys {
  std::string buf;
  std::vector<std::string> keys;
  std::vector<Entry> entries;
  bool ranked = false;

  static uint64_t rank_of(const std::string& k) {
    unsigned sum = 0;
    for (unsigned char c : k) sum += c;
    return (sum + k.size()) % 5;
  }

  void build(bool with_rank) {
    ranked = with_rank;
    buf.clear();
    entries.clear();
    for (const auto& k : keys) {
      const uint32_t off = static_cast<uint32_t>(buf.size());
      buf += k;
      buf += '\n';
      uint64_t prefix = load_prefix(buf.data() + off, k.size());
      if (with_rank) prefix = (rank_of(k) << 40) | (prefix >> 24);
      entries.push_back(Entry{prefix, off, static_cast<uint32_t>(k.size())});
    }
  }

  // The offsets in (rank, key) order, equal keys in input order.
  std::vector<uint32_t> expected() const {
    std::vector<size_t> idx(keys.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      if (ranked && rank_of(keys[a]) != rank_of(keys[b])) {
        return rank_of(keys[a]) < rank_of(keys[b]);
      }
      auto byte_less = [](char x, char y) {
        return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
      };
      return std::lexicographical_compare(keys[a].begin(), keys[a].end(), keys[b].begin(),
                                          keys[b].end(), byte_less);
    });
    std::vector<uint32_t> offs;
    for (size_t i : idx) offs.push_back(entries[i].off);
    return offs;
  }

  std::vector<uint32_t> sorted_offsets(bool radix) const {
    std::vector<Entry> e = entries;
    const EntryLess less{buf.data(), ranked ? 5u : 8u};
    if (radix) {
      sort_entries(e.data(), e.size(), 0, less);
    } else {
      std::sort(e.begin(), e.end(), less);
    }
    std::vector<uint32_t> offs;
    for (const Entry& x : e) offs.push_back(x.off);
    return offs;
  }
};

void check_sorts(Keys& k) {
  for (bool ranked : {false, true}) {
    INFO("ranked " << ranked << ", " << k.keys.size() << " keys");
    k.build(ranked);
    const std::vector<uint32_t> want = k.expected();
    CHECK(k.sorted_offsets(false) == want);  // EntryLess is the order
    CHECK(k.sorted_offsets(true) == want);   // and sort_entries gives it
  }
}

std::string random_key(std::mt19937_64& rng, size_t max_len, int alphabet) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) {
    // A small alphabet makes equal keys and shared prefixes; 0x00 and 0xff
    // are its ends.
    const int v = static_cast<int>(rng() % alphabet);
    c = static_cast<char>(v == 0 ? 0x00 : v == alphabet - 1 ? 0xff : 'a' + v);
  }
  return s;
}

}  // namespace

TEST_CASE("sort_entries orders random keys as a stable sort does", "[test_sort_entries]") {
  std::mt19937_64 rng(11);
  for (size_t n : {size_t(1), size_t(2), size_t(47), size_t(49), size_t(700), size_t(5000)}) {
    for (int alphabet : {3, 256}) {
      Keys k;
      for (size_t i = 0; i < n; ++i) k.keys.push_back(random_key(rng, 20, alphabet));
      check_sorts(k);
    }
  }
}

TEST_CASE("sort_entries on many equal keys keeps input order", "[test_sort_entries]") {
  // Below and above the offsets' radix sort (512), one key or a few.
  for (size_t n : {size_t(100), size_t(511), size_t(512), size_t(3000), size_t(70000)}) {
    for (const char* key : {"", "same", "a longer key than eight bytes", "\xff\xff\xff\xff\xff"}) {
      Keys k;
      for (size_t i = 0; i < n; ++i) k.keys.push_back(i % 7 == 3 ? std::string("x") : key);
      check_sorts(k);
    }
  }
  // Offsets above 2^24, so that every byte of them is sorted on.
  Keys k;
  k.keys.push_back(std::string(1 << 24, 'p'));
  for (int i = 0; i < 1000; ++i) k.keys.push_back("k");
  check_sorts(k);
}

TEST_CASE("sort_entries on long common prefixes, empty keys, 0x00 and 0xff",
          "[test_sort_entries]") {
  std::mt19937_64 rng(5);
  Keys k;
  const std::string common(40, 'c');
  for (int i = 0; i < 4000; ++i) {
    switch (rng() % 6) {
      case 0: k.keys.push_back(""); break;
      case 1: k.keys.push_back(std::string(rng() % 12, '\0')); break;
      case 2: k.keys.push_back(std::string(rng() % 12, '\xff')); break;
      case 3: k.keys.push_back(common + random_key(rng, 3, 4)); break;
      case 4: k.keys.push_back(common.substr(0, rng() % 41)); break;
      default: k.keys.push_back(std::string(7 + rng() % 3, 'a') + random_key(rng, 2, 3));
    }
  }
  check_sorts(k);
}

TEST_CASE("sort_entries sorts large ranges in parallel like small ones", "[test_sort_entries]") {
  std::mt19937_64 rng(3);
  Keys k;
  for (int i = 0; i < 100000; ++i) k.keys.push_back(random_key(rng, 12, i % 2 ? 4 : 256));
  check_sorts(k);
}
