#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/memsize.hpp"
#include "grist/record/partition.hpp"
#include "grist/record/line_key.hpp"
#include "grist/sort/check_sorted.hpp"
#include "grist/sort/external_sort.hpp"
#include "grist/sort/merge_inputs.hpp"

using namespace grist;
namespace fs = std::filesystem;

namespace {

std::string tmp_dir() {
  const char* base = std::getenv("GRIST_TEST_TMP");
  fs::path p = fs::path(base ? base : "/tmp") / ("xsort-" + std::to_string(getpid()));
  fs::create_directories(p);
  return p.string();
}

// Lines with many equal keys, empty keys and values, lines without a TAB,
// non-ASCII and control bytes below TAB, and a few very long keys.
std::vector<std::string> gen_lines(unsigned seed, size_t n) {
  std::mt19937 rng(seed);
  std::vector<std::string> keys = {"", "a", "ab", "a\x01", "a\x08z", "b", "\xc3\xa9", "\xe6\x97\xa5",
                                   "zz", std::string(5000, 'k'), std::string(5000, 'k') + "a"};
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string k = rng() % 3 ? keys[rng() % keys.size()] : "k" + std::to_string(rng() % 300);
    switch (rng() % 5) {
      case 0: out.push_back(k); break;
      case 1: out.push_back(k + "\t"); break;
      case 2: out.push_back(k + "\t" + std::to_string(i) + "\tx"); break;
      default: out.push_back(k + "\t" + std::to_string(i));
    }
  }
  return out;
}

std::string key_of(const std::string& line) { return line.substr(0, line.find('\t')); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (auto& l : lines) s += l + "\n";
  return s;
}

std::string run_sort(const std::vector<std::string>& lines, SortOptions o, SortStats* st_out = nullptr) {
  o.temp_dir = tmp_dir();
  BlockReader reader(Source::from_memory(join(lines), "in"), sort_block_size(o));
  SortStats st;
  auto s = sort_line_records(reader, o, st);
  std::string out;
  auto sink = Sink::to_string(&out, Compression::none, 0);
  write_line_records(*s, *sink);
  sink->commit();
  if (st_out) *st_out = st;
  return out;
}

}  // namespace

TEST_CASE("sorted output equals a stable sort by key, for every budget", "[test_external_sort]") {
  auto lines = gen_lines(1, 6000);
  auto want = lines;
  std::stable_sort(want.begin(), want.end(), [](const std::string& a, const std::string& b) {
    return compare_keys(key_of(a), key_of(b)) < 0;
  });
  std::string expected = join(want);
  for (uint64_t mem : {uint64_t(4) << 10, uint64_t(16) << 10, uint64_t(256) << 10, uint64_t(64) << 20}) {
    for (size_t fan_in : {size_t(2), size_t(3), size_t(0)}) {
      SortOptions o;
      o.memory = mem;
      o.fan_in = fan_in;
      o.block_size = mem < (64 << 10) ? 1024 : 0;
      SortStats st;
      INFO("memory " << mem << " fan_in " << fan_in);
      CHECK(run_sort(lines, o, &st) == expected);
      if (mem == (4 << 10) && fan_in == 2) {
        CHECK(st.spills > 4);
        CHECK(st.merge_passes > 2);  // multi-level
      }
    }
  }
}

TEST_CASE("--by line equals a plain byte sort of lines", "[test_external_sort]") {
  auto lines = gen_lines(2, 4000);
  auto want = lines;
  std::sort(want.begin(), want.end(),
            [](const std::string& a, const std::string& b) { return compare_keys(a, b) < 0; });
  for (uint64_t mem : {uint64_t(8) << 10, uint64_t(64) << 20}) {
    SortOptions o;
    o.memory = mem;
    o.fan_in = 3;
    o.block_size = 1024;
    o.whole_line = true;
    CHECK(run_sort(lines, o) == join(want));
  }
}

TEST_CASE("the whole-line escape keeps order and round-trips", "[test_external_sort]") {
  std::vector<std::string> s = {"", "\x07", "\x08", "\x08\x01", "\t", "\t\x01", "\x0a", "a\tb",
                                "a\x08", "a", "a\x07", "\xff"};
  std::string ea, eb, d;
  for (auto& a : s) {
    encode_line_key(a, ea);
    CHECK(ea.find('\t') == std::string::npos);
    decode_line_key(ea, d);
    CHECK(d == a);
    for (auto& b : s) {
      encode_line_key(b, eb);
      int x = compare_keys(a, b), y = compare_keys(ea, eb);
      CHECK((x < 0) == (y < 0));
      CHECK((x == 0) == (y == 0));
    }
  }
}

TEST_CASE("partition order: partitions ascending, each sorted, stable", "[test_external_sort]") {
  auto lines = gen_lines(3, 5000);
  const uint32_t n = 7;
  auto want = lines;
  std::stable_sort(want.begin(), want.end(), [&](const std::string& a, const std::string& b) {
    auto ka = key_of(a), kb = key_of(b);
    auto pa = partition_of(ka, n), pb = partition_of(kb, n);
    if (pa != pb) return pa < pb;
    return compare_keys(ka, kb) < 0;
  });
  for (uint64_t mem : {uint64_t(6) << 10, uint64_t(64) << 20}) {
    SortOptions o;
    o.memory = mem;
    o.fan_in = 2;
    o.block_size = 1024;
    o.partitions = n;
    CHECK(run_sort(lines, o) == join(want));
  }
}

TEST_CASE("--combine reduces equal keys the same at every budget", "[test_external_sort]") {
  std::mt19937 rng(4);
  std::vector<std::string> lines;
  std::map<std::string, uint64_t> sum;
  std::map<std::string, std::string> first, last, mn, mx;
  std::map<std::string, double> nmin;
  std::map<std::string, std::string> nmin_text;
  for (int i = 0; i < 8000; ++i) {
    std::string k = "k" + std::to_string(rng() % 500);
    if (i % 7 == 0) k = "\xc3\xa9" + k;
    int v = static_cast<int>(rng() % 100000);
    std::string vs = std::to_string(v);
    lines.push_back(k + "\t" + vs);
    sum[k] += v;
    if (!first.count(k)) first[k] = vs;
    last[k] = vs;
    if (!mn.count(k) || vs < mn[k]) mn[k] = vs;
    if (!mx.count(k) || vs > mx[k]) mx[k] = vs;
    if (!nmin.count(k) || v < nmin[k]) {
      nmin[k] = v;
      nmin_text[k] = vs;
    }
  }
  auto expect = [](const auto& m) {
    std::string s;
    for (auto& [k, v] : m) s += k + "\t" + (std::ostringstream() << v).str() + "\n";
    return s;
  };
  for (uint64_t mem : {uint64_t(4) << 10, uint64_t(64) << 20}) {
    SortOptions o;
    o.memory = mem;
    o.fan_in = 2;
    o.block_size = 1024;
    o.combine = {Reduction::sum};
    CHECK(run_sort(lines, o) == expect(sum));
    o.combine = {Reduction::first};
    CHECK(run_sort(lines, o) == expect(first));
    o.combine = {Reduction::last};
    CHECK(run_sort(lines, o) == expect(last));
    o.combine = {Reduction::min};
    CHECK(run_sort(lines, o) == expect(mn));
    o.combine = {Reduction::max};
    CHECK(run_sort(lines, o) == expect(mx));
    o.combine = {Reduction::min, true};
    CHECK(run_sort(lines, o) == expect(nmin_text));
  }
  SortOptions o;
  o.combine = {Reduction::count};
  CHECK_THROWS_AS(run_sort({"a\t1"}, o), UsageError);
}

TEST_CASE("--combine data errors name the file and line, at every budget", "[test_external_sort]") {
  std::vector<std::string> filler;
  for (int i = 0; i < 3000; ++i) filler.push_back("k" + std::to_string(i) + "\t1");
  auto with = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), filler.begin(), filler.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  const std::string last = std::to_string(filler.size() + 2);
  for (uint64_t mem : {uint64_t(4) << 10, uint64_t(64) << 20}) {
    INFO("memory " << mem);
    SortOptions o;
    o.memory = mem;
    o.fan_in = 2;
    o.block_size = 1024;
    o.combine = {Reduction::sum};
    CHECK_THROWS_WITH(run_sort(with({"a\t1"}, {"a\tx"}), o),
                      "in:" + last + ": value is not an unsigned 64-bit integer: 'x'");
    CHECK_THROWS_WITH(run_sort(with({"a\t1"}, {"a"}), o),
                      "in:" + last + ": value is not an unsigned 64-bit integer: ''");
    for (const char* v : {"nan", "inf", "-infinity", "1e999", "1e-999", "x"}) {
      for (Reduction op : {Reduction::min, Reduction::max}) {
        o.combine = {op, true};
        const std::string bad = "in:" + last + ": value is not a finite decimal number: '" + v + "'";
        CHECK_THROWS_WITH(run_sort(with({"a\t1"}, {std::string("a\t") + v}), o), bad);
        CHECK_THROWS_WITH(run_sort(with({std::string("a\t") + v}, {"a\t1"}), o),
                          "in:1: value is not a finite decimal number: '" + std::string(v) + "'");
      }
    }
    // An overflow: where the lines are still in memory (one batch), the
    // record where the sum passes 2^64-1; across spills of an input that
    // cannot be read again, the key.
    o.combine = {Reduction::sum};
    const std::string over = "the sum of key 'a' overflows 64 bits";
    if (mem > (1 << 20)) {
      CHECK_THROWS_WITH(run_sort(with({"a\t18446744073709551615"}, {"a\t1"}), o),
                        "in:" + last + ": " + over + " (its values from in:1 to here add up to "
                        "more than 18446744073709551615)");
    } else {
      CHECK_THROWS_WITH(run_sort(with({"a\t18446744073709551615"}, {"a\t1"}), o),
                        Catch::StartsWith(over + " (its line is not known"));
      // Within one spilled batch: its lines are in memory.
      CHECK_THROWS_WITH(run_sort(with({"a\t18446744073709551615", "a\t1"}, {}), o),
                        Catch::StartsWith("in:2: " + over + " (its values from in:1"));
    }
  }
}

TEST_CASE("check_sorted finds the first disorder", "[test_external_sort]") {
  SortOptions o;
  std::string where;
  BlockReader ok(Source::from_memory("a\t2\na\t1\nb\nb\tx\n", "in"));
  CHECK(check_sorted(ok, o, &where));
  BlockReader bad(Source::from_memory("a\nc\t1\nb\t2\nd\n", "in"));
  CHECK_FALSE(check_sorted(bad, o, &where));
  CHECK(where == "in:3: disorder: b\\t2");  // the TAB escaped
  o.whole_line = true;
  BlockReader lines(Source::from_memory("a\t2\na\t1\n", "in"));
  CHECK_FALSE(check_sorted(lines, o, &where));
  CHECK(where == "in:2: disorder: a\\t1");
}

TEST_CASE("a spill directory that cannot be written is an error", "[test_external_sort]") {
  SortOptions o;
  o.memory = 4 << 10;
  o.block_size = 1024;
  o.temp_dir = "/nonexistent-grist-dir";
  BlockReader reader(Source::from_memory(join(gen_lines(5, 3000)), "in"), 1024);
  SortStats st;
  CHECK_THROWS_AS(sort_line_records(reader, o, st), Error);
}

namespace {

// Sorts `lines` with -j1 and -j2 at each budget and compares with a stable
// sort by key (and, given `expected_sum`, with --combine sum); budgets under
// 4 MiB must spill at least twice.
void check_every_budget(const std::vector<std::string>& lines,
                        std::initializer_list<uint64_t> budgets,
                        const std::string* expected_sum) {
  auto want = lines;
  std::stable_sort(want.begin(), want.end(), [](const std::string& a, const std::string& b) {
    return compare_keys(key_of(a), key_of(b)) < 0;
  });
  const std::string expected = join(want);
  for (int threads : {1, 2}) {
    tbb::global_control cap(tbb::global_control::max_allowed_parallelism, threads);
    for (uint64_t mem : budgets) {
      INFO("threads " << threads << " memory " << mem);
      SortOptions o;
      o.memory = mem;
      SortStats st;
      CHECK(run_sort(lines, o, &st) == expected);
      if (mem < (4 << 20)) CHECK(st.spills >= 2);
      if (expected_sum) {
        o.combine = {Reduction::sum};
        CHECK(run_sort(lines, o) == *expected_sum);
      }
    }
  }
}

}  // namespace

TEST_CASE("large batches: radix sort, parallel spills, equal prefixes; same for -j1 and -j2",
          "[test_external_sort]") {
  // Enough lines for the parallel radix sort and several 256 KiB spill
  // slices per run; keys sharing 8+ byte prefixes, differing only in length
  // or in a NUL byte, and long runs of one key (equal prefixes, ordered by
  // input position).
  std::mt19937 rng(11);
  std::vector<std::string> keys = {"prefix00", "prefix00a", std::string("prefix00\0", 9),
                                   std::string("prefix00\0\0", 10), "prefix0", "p", "",
                                   "prefix00prefix00x", "prefix00prefix00", "\xff\xff"};
  std::vector<std::string> lines;
  std::map<std::string, uint64_t> sum;
  for (int i = 0; i < 120000; ++i) {
    std::string k = rng() % 2 ? keys[rng() % keys.size()] : "k" + std::to_string(rng() % 5000);
    if (i > 50000 && i < 60000) k = "hot-key-longer-than-8";
    lines.push_back(k + "\t" + std::to_string(i % 97));
    sum[k] += i % 97;
  }
  std::string expected_sum;
  for (auto& [k, v] : sum) expected_sum += k + "\t" + std::to_string(v) + "\n";
  check_every_budget(lines, {uint64_t(64) << 20, uint64_t(3) << 20, uint64_t(512) << 10},
                     &expected_sum);
}

TEST_CASE("sorting while indexing: first-byte buckets across pieces, big equal-key groups",
          "[test_external_sort]") {
  // Small input blocks make many pieces, so the first-byte scatter places
  // lines of one bucket from many pieces; groups of hundreds to thousands of
  // equal keys (the offset sort of equal keys, small and large), keys that
  // share 5 or 7 first bytes (the skip over common bytes), first bytes 0x00
  // (empty keys and lines), TAB, control and high bytes.
  std::mt19937 rng(23);
  std::vector<std::string> keys = {"",       std::string("\0x", 2), "\x01",    "\x7f",
                                   "\x80",    "\xff",                "commonAx", "commonBx",
                                   "commoA",  "commoB",              "sevenb_a", "sevenb_b",
                                   "sevenb_", "z"};
  std::vector<std::string> lines;
  for (int i = 0; i < 40000; ++i) {
    std::string k = rng() % 4 ? keys[rng() % keys.size()] : "r" + std::to_string(rng() % 700);
    if (i % 9000 < 1500) k = "hot";  // runs of one key spanning many pieces
    switch (rng() % 4) {
      case 0: lines.push_back(k); break;
      case 1: lines.push_back(k + "\t"); break;
      default: lines.push_back(k + "\t" + std::to_string(i));
    }
  }
  lines.push_back("\tempty key");
  lines.push_back("");
  auto want = lines;
  std::stable_sort(want.begin(), want.end(), [](const std::string& a, const std::string& b) {
    return compare_keys(key_of(a), key_of(b)) < 0;
  });
  auto want_whole = lines;
  std::stable_sort(want_whole.begin(), want_whole.end(),
                   [](const std::string& a, const std::string& b) {
                     return compare_keys(a, b) < 0;
                   });
  for (int threads : {1, 2}) {
    tbb::global_control cap(tbb::global_control::max_allowed_parallelism, threads);
    for (size_t block : {size_t(4) << 10, size_t(1) << 20}) {
      for (uint64_t mem : {uint64_t(64) << 20, uint64_t(256) << 10}) {
        INFO("threads " << threads << " block " << block << " memory " << mem);
        SortOptions o;
        o.memory = mem;
        o.block_size = block;
        CHECK(run_sort(lines, o) == join(want));
        o.whole_line = true;
        CHECK(run_sort(lines, o) == join(want_whole));
      }
    }
  }
}

TEST_CASE("spills of lines far longer than the mean: slices cut by count finish in order",
          "[test_external_sort]") {
  // Spill slices are cut at the batch's mean line length and stop at the
  // byte limit; a few lines of 20-200 KiB among short ones leave slices
  // whose rest is encoded by the last stage. Runs must stay in order, and
  // the output the same for every budget and thread count.
  std::mt19937 rng(31);
  std::vector<std::string> lines;
  for (int i = 0; i < 30000; ++i) {
    std::string k = "k" + std::to_string(rng() % 2000);
    if (rng() % 1500 == 0) {
      lines.push_back(k + "\t" + std::string(20000 + rng() % 180000, 'v'));
    } else if (rng() % 3000 == 0) {
      lines.push_back(std::string(30000 + rng() % 50000, 'k') + "\t" + std::to_string(i));
    } else {
      lines.push_back(k + "\t" + std::to_string(i));
    }
  }
  check_every_budget(lines, {uint64_t(64) << 20, uint64_t(2) << 20, uint64_t(256) << 10},
                     nullptr);
}

TEST_CASE("defaults fit an address-space limit, as GNU sort's do", "[test_external_sort]") {
  struct rlimit saved;
  REQUIRE(getrlimit(RLIMIT_AS, &saved) == 0);
  // Only the soft limit moves, and it is put back before anything is
  // allocated: the limits are read, never felt.
  auto with_limit = [&](uint64_t bytes, auto f) {
    struct rlimit rl = saved;
    rl.rlim_cur = saved.rlim_max == RLIM_INFINITY ? bytes : std::min<uint64_t>(bytes, saved.rlim_max);
    bool set = setrlimit(RLIMIT_AS, &rl) == 0;
    auto result = f();
    setrlimit(RLIMIT_AS, &saved);
    REQUIRE(set);
    return result;
  };
  const uint64_t G = uint64_t(1) << 30, M = uint64_t(1) << 20;
  if (saved.rlim_cur == RLIM_INFINITY) {
    CHECK(address_space_limit() == 0);
    CHECK(default_memory_within_limit(G) == G);
    CHECK(default_threads_within_limit(16) == 16);
  }
  CHECK(with_limit(300000 * 1024ull, [] { return default_memory_within_limit(uint64_t(1) << 30); }) ==
        150000 * 1024ull);
  CHECK(with_limit(64 * G, [] { return default_memory_within_limit(uint64_t(1) << 30); }) == G);
  CHECK(with_limit(M, [] { return default_memory_within_limit(uint64_t(1) << 30); }) == M);
  // 300000 KiB: stacks of 4 MiB in a quarter of it, 18 threads at most.
  CHECK(with_limit(300000 * 1024ull, [] { return default_threads_within_limit(16); }) == 16);
  CHECK(with_limit(300000 * 1024ull, [] { return default_threads_within_limit(64); }) == 18);
  CHECK(with_limit(8 * M, [] { return default_threads_within_limit(64); }) == 1);
}

TEST_CASE("RecordOutput writes a file or a partition directory", "[test_external_sort]") {
  const std::vector<std::string> lines = {"b\t2", "a", "c\t3\tx", "a\t1"};
  SortOptions o;
  for (uint32_t parts : {0u, 3u}) {
    INFO("partitions " << parts);
    o.partitions = parts;
    const std::string path = tmp_dir() + "/out-" + std::to_string(parts);
    fs::remove_all(path);
    o.temp_dir = tmp_dir();
    BlockReader reader(Source::from_memory(join(lines), "in"), sort_block_size(o));
    SortStats st;
    auto sorted = sort_line_records(reader, o, st);
    RecordOutput out(path, parts, "test", SinkOptions{});
    CHECK((out.file() != nullptr) == (parts == 0));
    CHECK((out.directory() != nullptr) == (parts > 0));
    CHECK(write_line_records(*sorted, out) == lines.size());
    out.commit();
    if (parts == 0) {
      CHECK(read_file(path) == "a\na\t1\nb\t2\nc\t3\tx\n");
    } else {
      CHECK(fs::exists(path + "/_SUCCESS"));
      CHECK(open_partition_directory(path).partitions == 3);
    }
  }
}
