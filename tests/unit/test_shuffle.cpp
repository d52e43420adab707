#include <catch2/catch.hpp>

#include <unistd.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/sort/shuffle.hpp"

using namespace grist;
namespace fs = std::filesystem;

namespace {

std::string tmp_dir() {
  const char* base = std::getenv("GRIST_TEST_TMP");
  fs::path p = fs::path(base ? base : "/tmp") / ("shuffle-" + std::to_string(getpid()));
  fs::create_directories(p);
  return p.string();
}

std::string shuffle(const std::string& input, uint64_t seed, uint64_t memory,
                    size_t buckets = 0, ShuffleStats* st_out = nullptr) {
  ShuffleOptions o;
  o.memory = memory;
  o.seed = seed;
  o.temp_dir = tmp_dir();
  o.buckets = buckets;
  o.block_size = memory < (1 << 20) ? 512 : 0;
  BlockReader reader(Source::from_memory(input, "in"), shuffle_block_size(o));
  std::string out;
  auto sink = Sink::to_string(&out, Compression::none, 0);
  ShuffleStats st;
  shuffle_lines(reader, o, *sink, st);
  sink->commit();
  if (st_out) *st_out = st;
  return out;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  size_t p = 0;
  while (p < s.size()) {
    size_t nl = s.find('\n', p);
    if (nl == std::string::npos) nl = s.size();
    v.push_back(s.substr(p, nl - p));
    p = nl + 1;
  }
  return v;
}

}  // namespace

TEST_CASE("a shuffle is a permutation, the same for every budget", "[test_shuffle]") {
  std::string input;
  for (int i = 0; i < 20000; ++i) {
    input += "line " + std::to_string(i) + (i % 3 ? "\tv" : "") + (i % 101 ? "" : std::string(3000, 'x')) + "\n";
  }
  input += "last line without a newline";
  ShuffleStats st;
  std::string big = shuffle(input, 7, 64 << 20, 0, &st);
  CHECK(st.levels == 0);
  auto a = lines_of(big), b = lines_of(input);
  CHECK(a != b);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  CHECK(a == b);
  // Scattered to disk, recursively: the same bytes.
  CHECK(shuffle(input, 7, 64 << 10, 2, &st) == big);
  CHECK(st.levels >= 2);
  CHECK(shuffle(input, 7, 128 << 10, 0, &st) == big);
  CHECK(st.levels >= 1);
  CHECK(shuffle(input, 8, 64 << 20) != big);
}

TEST_CASE("shuffle_rank is a bijection of the index for a seed", "[test_shuffle]") {
  std::set<uint64_t> seen;
  for (uint64_t i = 0; i < 100000; ++i) seen.insert(shuffle_rank(3, i));
  CHECK(seen.size() == 100000);
  CHECK(shuffle_rank(3, 0) != shuffle_rank(4, 0));
}

TEST_CASE("shuffles are uniform: chi-square of positions", "[test_shuffle]") {
  // 6 lines shuffled with 6000 seeds: each line lands at each position
  // about 1000 times. Chi-square over the 36 cells (25 degrees of freedom):
  // p = 0.001 at 52.6.
  const int n = 6, seeds = 6000;
  std::string input;
  for (int i = 0; i < n; ++i) input += std::string(1, static_cast<char>('a' + i)) + "\n";
  std::vector<std::vector<int>> count(n, std::vector<int>(n, 0));
  std::set<std::string> perms;
  for (int s = 0; s < seeds; ++s) {
    std::string out = shuffle(input, static_cast<uint64_t>(s), 64 << 20);
    perms.insert(out);
    for (int pos = 0; pos < n; ++pos) count[out[2 * pos] - 'a'][pos]++;
  }
  double expected = static_cast<double>(seeds) / n, chi = 0;
  for (auto& row : count) {
    for (int c : row) chi += (c - expected) * (c - expected) / expected;
  }
  INFO("chi-square " << chi);
  CHECK(chi < 52.6);
  CHECK(perms.size() > 690);  // of 720 (about 0.2 expected missing in 6000 draws)
}

TEST_CASE("an empty input shuffles to nothing", "[test_shuffle]") {
  CHECK(shuffle("", 1, 64 << 20).empty());
}

TEST_CASE("parallel bucket compression: the same bytes for -j1, -j2 and every budget",
          "[test_shuffle]") {
  // Many frames per bucket (small bucket buffers, several compression jobs
  // in flight) and buckets decoded in parallel.
  std::string input;
  for (int i = 0; i < 60000; ++i) {
    input += "row " + std::to_string(i * 7919 % 100003) + (i % 5 ? "\tsome value" : "") + "\n";
  }
  std::string want = shuffle(input, 5, 64 << 20);
  for (int threads : {1, 2}) {
    tbb::global_control cap(tbb::global_control::max_allowed_parallelism, threads);
    for (uint64_t mem : {uint64_t(256) << 10, uint64_t(1) << 20}) {
      INFO("threads " << threads << " memory " << mem);
      ShuffleStats st;
      CHECK(shuffle(input, 5, mem, 0, &st) == want);
      CHECK(st.levels >= 1);
    }
  }
}

TEST_CASE("the output is the lines in increasing shuffle_rank, at every budget",
          "[test_shuffle]") {
  // The specification, checked directly: line i goes where shuffle_rank(seed,
  // i) puts it. Lines of every length, one longer than half of the small
  // budgets (a bucket of its own in memory), and 512 buckets, whose index
  // gaps need two-byte varints in the spill records.
  std::vector<std::string> lines;
  for (int i = 0; i < 6000; ++i) {
    lines.push_back(std::to_string(i) + std::string(static_cast<size_t>(i * 37 % 211), 'a' + i % 26));
  }
  lines[4321] = std::string(300 << 10, 'L');
  lines[17].clear();
  std::string input;
  for (auto& l : lines) input += l + "\n";
  const uint64_t seed = 11;
  std::vector<uint64_t> order(lines.size());
  for (uint64_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) {
    return shuffle_rank(seed, a) < shuffle_rank(seed, b);
  });
  std::string want;
  for (uint64_t i : order) want += lines[i] + "\n";
  struct Case {
    uint64_t memory;
    size_t buckets;
  };
  for (Case c : {Case{64 << 20, 0}, Case{64 << 10, 2}, Case{256 << 10, 0}, Case{1 << 20, 512},
                 Case{2 << 20, 0}}) {
    INFO("memory " << c.memory << " buckets " << c.buckets);
    ShuffleStats st;
    CHECK(shuffle(input, seed, c.memory, c.buckets, &st) == want);
    CHECK(st.records == lines.size());
    if (c.memory == (64 << 20)) {
      CHECK(st.levels == 0);
    } else {
      CHECK(st.levels >= 1);
    }
  }
}
