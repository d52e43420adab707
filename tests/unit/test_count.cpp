#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "grist/agg/count_table.hpp"
#include "grist/agg/counter.hpp"
#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/io/source.hpp"
#include "grist/record/partition.hpp"

using namespace grist;
namespace fs = std::filesystem;

namespace {

std::string tmp_dir() {
  const char* base = std::getenv("GRIST_TEST_TMP");
  fs::path p = fs::path(base ? base : "/tmp") / ("count-" + std::to_string(getpid()));
  fs::create_directories(p);
  return p.string();
}

struct Result {
  std::string out;
  CountStats st;
};

Result count(const std::string& input, CountOptions o) {
  if (o.temp_dir == "/tmp") o.temp_dir = tmp_dir();
  BlockReader reader(Source::from_memory(input, "input"), count_block_size(o));
  Result r;
  auto stream = count_records(reader, o, r.st);
  auto sink = Sink::to_string(&r.out, Compression::none, 0);
  write_counts(*stream, *sink, o, r.st);
  sink->commit();
  return r;
}

// Zipf-like keys: many repeats, a long tail, a few long keys.
std::string gen_input(size_t lines, unsigned seed, bool with_counts = false) {
  std::mt19937_64 rng(seed);
  std::string s;
  for (size_t i = 0; i < lines; ++i) {
    uint64_t r = rng();
    uint64_t id = (r % 3 == 0) ? r % 20 : (r >> 8) % 5000;
    s += "k" + std::to_string(id);
    if (id % 97 == 0) s += std::string(40, 'x');  // keys longer than inline/word compares
    if (with_counts && i % 3 == 0) s += "\t" + std::to_string(r % 1000);
    s += '\n';
  }
  return s;
}

std::string oracle(const std::string& input) {
  std::map<std::string, uint64_t> m;  // std::string compare is memcmp-like for char? use bytes
  size_t p = 0;
  while (p < input.size()) {
    size_t nl = input.find('\n', p);
    std::string line = input.substr(p, nl - p);
    p = nl + 1;
    size_t t = line.find('\t');
    if (t == std::string::npos) m[line] += 1;
    else m[line.substr(0, t)] += std::stoull(line.substr(t + 1));
  }
  std::string out;
  for (auto& [k, v] : m) out += k + "\t" + std::to_string(v) + "\n";
  return out;
}

}  // namespace

TEST_CASE("CountTable counts, grows and sorts", "[test_count]") {
  CountTable t(1 << 20);
  std::map<std::string, uint64_t> want;
  std::mt19937 rng(1);
  for (int i = 0; i < 20000; ++i) {
    std::string k = std::to_string(rng() % 3000);
    if (i % 7 == 0) k += "-a-longer-key";  // arena keys
    if (i % 11 == 0) k = k.substr(0, 1);   // short inline keys
    uint64_t n = rng() % 5;
    REQUIRE(t.add(k, n) == CountTable::AddResult::ok);
    want[k] += n;
  }
  CHECK(t.size() == want.size());
  CHECK(t.add("", 3) == CountTable::AddResult::ok);  // the empty key
  want[""] += 3;
  t.sort(RecordOrder{});
  size_t i = 0;
  for (auto& [k, v] : want) {  // std::map<std::string> orders like memcmp for ASCII
    REQUIRE(i < t.size());
    CHECK(t.key(i) == k);
    CHECK(t.count(i) == v);
    ++i;
  }
  t.clear();
  CHECK(t.empty());
  CHECK(t.add("x", 1) == CountTable::AddResult::ok);
}

TEST_CASE("CountTable refuses past its budget and reports overflow", "[test_count]") {
  CountTable t(4096);
  size_t added = 0;
  CountTable::AddResult r = CountTable::AddResult::ok;
  while (added < 100000) {
    std::string k = "key-number-" + std::to_string(added);
    r = t.add(k, 1);
    if (r != CountTable::AddResult::ok) break;
    ++added;
  }
  CHECK(r == CountTable::AddResult::full);
  CHECK(added > 10);
  CHECK(t.memory() <= 4096 + 4096);  // one arena chunk of slack at most
  CountTable big(1 << 20);
  CHECK(big.add("k", UINT64_MAX) == CountTable::AddResult::ok);
  CHECK(big.add("k", 1) == CountTable::AddResult::overflow);
  big.sort(RecordOrder{});
  CHECK(big.count(0) == UINT64_MAX);  // unchanged by the refused add
  // An empty table takes one key however large.
  CountTable tiny(16);
  std::string huge(100000, 'h');
  CHECK(tiny.add(huge, 1) == CountTable::AddResult::ok);
}

TEST_CASE("CountTable keys around the inline size, with any bytes", "[test_count]") {
  // Lengths 0..40 cross the inline limit (15 bytes); NUL and 0xff bytes
  // must neither end a key nor reorder it.
  std::mt19937 rng(3);
  const char alphabet[] = {'\0', 'a', 'b', '\xff', ' '};
  std::vector<std::string> keys;
  for (size_t len = 0; len <= 40; ++len) {
    for (int r = 0; r < 30; ++r) {
      std::string k(len, 'a');
      for (auto& c : k) c = alphabet[rng() % 5];
      keys.push_back(k);
    }
  }
  // make_key_padded (reads 16 bytes whatever the length) agrees with make_key.
  for (const auto& k : keys) {
    std::string padded = k + std::string(16, '\x5a');
    CountTable::Key a = CountTable::make_key(k);
    CountTable::Key b = CountTable::make_key_padded(padded.data(), k.size());
    REQUIRE(a.k0 == b.k0);
    REQUIRE(a.k1 == b.k1);
    REQUIRE(a.hash == b.hash);
    REQUIRE(a.size() == k.size());
    REQUIRE(a.is_inline() == (k.size() <= CountTable::kInlineMax));
  }
  CountTable t(1 << 20);
  std::map<std::string, uint64_t> want;
  for (int round = 0; round < 3; ++round) {
    for (const auto& k : keys) {
      uint64_t n = rng() % 7;
      REQUIRE(t.add(k, n) == CountTable::AddResult::ok);
      want[k] += n;
    }
  }
  CHECK(t.size() == want.size());
  t.sort(RecordOrder{});
  size_t i = 0;
  for (auto& [k, v] : want) {  // std::string compares like memcmp
    REQUIRE(i < t.size());
    CHECK(t.key(i) == k);
    CHECK(t.count(i) == v);
    ++i;
  }
}

TEST_CASE("CountTable sorts keys that share long prefixes, in every order", "[test_count]") {
  // Thousands of keys equal in their first 8, 16, ... 70 bytes, keys that
  // differ only by trailing NULs, all in one table: the radix sort must go
  // on past its first windows of key bytes.
  std::vector<std::string> keys;
  std::mt19937 rng(8);
  for (int i = 0; i < 6000; ++i) {
    std::string k = std::string(rng() % 71, 'p') + std::to_string(rng() % 3000);
    if (i % 5 == 0) k += std::string(rng() % 3, '\0');
    keys.push_back(k);
  }
  for (int i = 0; i < 100; ++i) keys.push_back("same-prefix" + std::string(i, '\0'));
  for (uint32_t parts : {0u, 3u, 1u << 25}) {
    for (bool parallel : {false, true}) {
      CountTable t(64 << 20);
      std::map<std::pair<uint64_t, std::string>, uint64_t> want;
      RecordOrder order{parts};
      for (const auto& k : keys) {
        REQUIRE(t.add(k, 2) == CountTable::AddResult::ok);
        want[{order.rank(k), k}] += 2;
      }
      t.sort(order, parallel);
      INFO("partitions " << parts << " parallel " << parallel);
      REQUIRE(t.size() == want.size());
      size_t i = 0;
      for (auto& [rk, v] : want) {
        REQUIRE(t.key(i) == rk.second);
        REQUIRE(t.count(i) == v);
        ++i;
      }
    }
  }
}

TEST_CASE("CountTable stays within its budget while it grows", "[test_count]") {
  for (size_t budget : {size_t(100) << 10, size_t(3) << 20}) {
    for (size_t len : {size_t(6), size_t(40)}) {
      CountTable t(budget);
      size_t added = 0;
      CountTable::AddResult r = CountTable::AddResult::ok;
      size_t peak = 0;
      while (r == CountTable::AddResult::ok && added < 10000000) {
        std::string k = std::to_string(added * 7919);
        k.resize(std::max(k.size(), len), '-');
        r = t.add(k, 1);
        peak = std::max(peak, t.memory());
        if (r == CountTable::AddResult::ok) ++added;
      }
      INFO("budget " << budget << " key length " << len);
      CHECK(r == CountTable::AddResult::full);
      CHECK(peak <= budget);
      CHECK(t.size() == added);
      // The budget is used, not a power-of-two fraction of it.
      CHECK(added * (len <= CountTable::kInlineMax ? 32 : 32 + len) > budget / 3);
    }
  }
}

TEST_CASE("counter: lines across 64-byte chunks and blocks, tabs anywhere", "[test_count]") {
  std::mt19937_64 rng(21);
  std::string input;
  for (int i = 0; i < 6000; ++i) {
    size_t len = rng() % 8 == 0 ? rng() % 200 : rng() % 12;
    std::string k;
    for (size_t j = 0; j < len; ++j) k += static_cast<char>('a' + rng() % 3);
    input += k;
    if (rng() % 3 == 0) input += "\t" + std::to_string(rng() % 100000);
    input += '\n';
  }
  std::string want = oracle(input);
  for (size_t block : {size_t(0), size_t(64), size_t(100), size_t(1000)}) {
    for (int threads : {1, 2}) {
      CountOptions o;
      o.block_size = block;
      o.threads = threads;
      INFO("block " << block << " threads " << threads);
      CHECK(count(input, o).out == want);
    }
  }
}

TEST_CASE("errors name the right line whatever the blocks", "[test_count]") {
  std::string in;
  for (int i = 1; i < 777; ++i) in += "filler" + std::to_string(i % 50) + "\n";
  in += "k\t18446744073709551615\n";  // line 777
  for (int i = 0; i < 300; ++i) in += "x\n";
  in += "k\t1\n";  // line 1078: overflows
  for (size_t block : {size_t(0), size_t(100), size_t(4096)}) {
    CountOptions o;
    o.block_size = block;
    INFO("block " << block);
    CHECK_THROWS_WITH(count(in, o), Catch::Contains("input:1078:") && Catch::Contains("overflows"));
    // A second tab makes the value bad; the key is split at the first one.
    std::string bad = in.substr(0, in.find("k\t1\n")) + "a\t1\t2\n";
    CHECK_THROWS_WITH(count(bad, o), Catch::StartsWith("input:1078: ") && Catch::Contains("'1\\t2'"));
  }
}

TEST_CASE("counter equals the oracle with tiny budgets (many spills)", "[test_count]") {
  std::string input = gen_input(20000, 11, true);
  std::string want = oracle(input);
  CountOptions big;
  big.threads = 2;
  Result ref = count(input, big);
  CHECK(ref.out == want);
  CHECK(ref.st.spills == 0);
  CHECK(ref.st.records == 20000);

  for (int threads : {1, 2, 3}) {
    CountOptions o;
    o.memory = 16 << 10;
    o.block_size = 4096;
    o.fan_in = 4;
    o.threads = threads;
    Result r = count(input, o);
    INFO("threads " << threads << " spills " << r.st.spills);
    CHECK(r.out == want);
    CHECK(r.st.spills > 20);
    CHECK(r.st.merge_passes >= 2);  // multi-level merge
  }
}

TEST_CASE("counting counts merges them", "[test_count]") {
  std::string a = gen_input(8000, 1), b = gen_input(8000, 2);
  CountOptions o;
  o.memory = 24 << 10;
  o.block_size = 8192;
  std::string ca = count(a, o).out, cb = count(b, o).out;
  CHECK(count(ca + cb, o).out == count(a + b, CountOptions{}).out);
}

TEST_CASE("overflow of a sum is an error, in the table and in the merge", "[test_count]") {
  std::string in = "k\t18446744073709551615\nk\t1\n";
  CHECK_THROWS_WITH(count(in, CountOptions{}), Catch::Contains("input:2:") &&
                                                  Catch::Contains("overflows"));
  // Force the two lines into different spills: the merge must catch it.
  std::string spread = "k\t18446744073709551615\n";
  for (int i = 0; i < 2000; ++i) spread += "filler" + std::to_string(i) + "\n";
  spread += "k\t1\n";
  CountOptions o;
  o.memory = 4 << 10;
  o.block_size = 1024;
  CHECK_THROWS_WITH(count(spread, o), Catch::Contains("overflows"));
  CHECK(count("k\t18446744073709551614\nk\t1\n", CountOptions{}).out ==
        "k\t18446744073709551615\n");
}

TEST_CASE("bad values: error naming the line, or skipped and counted", "[test_count]") {
  std::string in = "a\nb\t3\nc\tx\nd\t-1\ne\t\nb\n";
  CHECK_THROWS_WITH(count(in, CountOptions{}), Catch::StartsWith("input:3: "));
  CountOptions o;
  o.skip_bad_lines = true;
  Result r = count(in, o);
  CHECK(r.out == "a\t1\nb\t4\n");
  CHECK(r.st.skipped.count == 3);
  CHECK(r.st.skipped.first.rfind("input:3:", 0) == 0);
}

TEST_CASE("top, min-count, odd keys", "[test_count]") {
  std::string in = "b\nb\na\na\nc\nd\nd\nd\n\n\xff\n \n";
  CountOptions o;
  CHECK(count(in, o).out == "\t1\n \t1\na\t2\nb\t2\nc\t1\nd\t3\n\xff\t1\n");
  o.top = 3;
  CHECK(count(in, o).out == "d\t3\na\t2\nb\t2\n");
  o.top = 0;
  o.min_count = 2;
  CHECK(count(in, o).out == "a\t2\nb\t2\nd\t3\n");
  o.top = 2;
  o.min_count = 3;
  CHECK(count(in, o).out == "d\t3\n");
  CHECK(count("", CountOptions{}).out.empty());
  CHECK(count("x", CountOptions{}).out == "x\t1\n");  // no final newline
}

TEST_CASE("output is identical for every budget and thread count", "[test_count]") {
  std::string input = gen_input(10000, 5, true);
  std::string first;
  for (uint64_t mem : {uint64_t(12) << 10, uint64_t(64) << 10, uint64_t(64) << 20}) {
    for (int threads : {1, 4}) {
      for (int top : {0, 7}) {
        CountOptions o;
        o.memory = mem;
        o.threads = threads;
        o.top = top;
        if (mem < (1 << 20)) o.block_size = 2048;
        std::string out = count(input, o).out;
        if (top) CHECK(std::count(out.begin(), out.end(), '\n') == 7);
        else if (first.empty()) first = out;
        else CHECK(out == first);
      }
    }
  }
}

TEST_CASE("partitioned counting writes every key once, in its part", "[test_count]") {
  std::string dir = tmp_dir() + "/counts.d";
  fs::remove_all(dir);
  std::string input = gen_input(8000, 9);
  CountOptions o;
  o.memory = 24 << 10;
  o.block_size = 4096;
  o.partitions = 5;
  o.temp_dir = tmp_dir();
  BlockReader reader(Source::from_memory(input, "input"), count_block_size(o));
  CountStats st;
  auto stream = count_records(reader, o, st);
  PartitionWriter w(dir, 5, "grist-count", SinkOptions{});
  write_counts(*stream, w, o, st);
  w.commit();
  PartitionDirectory d = open_partition_directory(dir);
  std::string all;
  for (uint32_t p = 0; p < 5; ++p) {
    std::string part;
    auto src = open_part(d.parts[p]);
    char buf[4096];
    while (size_t n = src->read(buf, sizeof buf)) part.append(buf, n);
    // Each part is sorted and holds only its keys: counting it changes nothing.
    CountOptions plain;
    CHECK(count(part, plain).out == part);
    size_t pos = 0;
    while (pos < part.size()) {
      size_t t = part.find('\t', pos);
      CHECK(partition_of(std::string_view(part).substr(pos, t - pos), 5) == p);
      pos = part.find('\n', pos) + 1;
    }
    all += part;
  }
  CHECK(count(all, CountOptions{}).out == oracle(input));
  fs::remove_all(tmp_dir());
}

TEST_CASE("a small budget runs fewer counting threads", "[test_count]") {
  CHECK(count_threads(uint64_t(1) << 20, 8) == 4);  // 256 KiB per table
  CHECK(count_threads(uint64_t(64) << 20, 8) == 8);
  CHECK(count_threads(100 << 10, 2) == 1);
  CHECK(count_threads(uint64_t(1) << 30, 0) == 1);
}

TEST_CASE("skipped bad lines: the first in input order over all threads", "[test_count]") {
  std::string in;
  for (int i = 0; i < 4000; ++i) {
    in += i % 1000 == 999 ? "k\tbad" + std::to_string(i) + "\n" : std::string("k\n");
  }
  CountOptions o;
  o.memory = 64 << 10;
  o.block_size = 4 << 10;
  o.threads = 3;
  o.skip_bad_lines = true;
  o.temp_dir = tmp_dir();
  BlockReader reader(Source::from_memory(in, "input"), o.block_size);
  CountStats st;
  auto counts = count_records(reader, o, st);
  CHECK(st.skipped.count == 4);
  CHECK(st.skipped.first.rfind("input:1000:", 0) == 0);
  CHECK(st.skipped.warning("bad line").rfind("skipped 4 bad lines (first: input:1000:", 0) == 0);
}
