#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/sink.hpp"
#include "grist/sort/partition_dir.hpp"
#include "grist/sort/record_stream.hpp"
#include "grist/sort/merge.hpp"
#include "grist/sort/merge_inputs.hpp"

using namespace grist;
namespace fs = std::filesystem;

namespace {

std::string tmp_dir(const std::string& name) {
  const char* base = std::getenv("GRIST_TEST_TMP");
  fs::path p = fs::path(base ? base : "/tmp") / ("mergetool-" + std::to_string(getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::string merge(const std::vector<std::string>& files, MergeInputsOptions o) {
  std::string out;
  auto sink = Sink::to_string(&out, Compression::none, 0);
  MergeInputsStats st;
  merge_sorted_files(files, o, *sink, st);
  sink->commit();
  return out;
}

std::string key_of(const std::string& line) { return line.substr(0, line.find('\t')); }

}  // namespace

TEST_CASE("merge equals a stable merge, at every fan-in", "[test_merge_tool]") {
  std::string dir = tmp_dir("stable");
  std::mt19937 rng(1);
  std::vector<std::string> files, all;
  for (int f = 0; f < 9; ++f) {
    std::vector<std::string> lines;
    for (int i = 0; i < 300; ++i) {
      std::string k = "k" + std::to_string(rng() % 50);
      lines.push_back(i % 10 == 0 ? k : k + "\t" + std::to_string(f) + ":" + std::to_string(i));
    }
    std::stable_sort(lines.begin(), lines.end(), [](auto& a, auto& b) {
      return compare_keys(key_of(a), key_of(b)) < 0;
    });
    std::string text;
    for (auto& l : lines) text += l + "\n";
    files.push_back(dir + "/in" + std::to_string(f) + ".tsv");
    write_file(files.back(), text);
    all.insert(all.end(), lines.begin(), lines.end());
  }
  std::stable_sort(all.begin(), all.end(),
                   [](auto& a, auto& b) { return compare_keys(key_of(a), key_of(b)) < 0; });
  std::string want;
  for (auto& l : all) want += l + "\n";
  for (size_t fan_in : {size_t(2), size_t(3), size_t(0)}) {
    MergeInputsOptions o;
    o.temp_dir = dir;
    o.fan_in = fan_in;
    CHECK(merge(files, o) == want);
  }
  MergeInputsOptions o;
  o.temp_dir = dir;
  o.fan_in = 2;
  o.reduce = {Reduction::count};
  std::map<std::string, int> counts;
  for (auto& l : all) counts[key_of(l)]++;
  std::string cw;
  for (auto& [k, n] : counts) cw += k + "\t" + std::to_string(n) + "\n";
  CHECK(merge(files, o) == cw);  // count applied once, after the passes
}

TEST_CASE("reductions", "[test_merge_tool]") {
  std::string dir = tmp_dir("reduce");
  write_file(dir + "/a", "a\t5\nb\t10\nc\t-2.5\n");
  write_file(dir + "/b", "a\t7\nb\t9\nc\t1e1\n");
  MergeInputsOptions o;
  o.temp_dir = dir;
  o.reduce = {Reduction::first};
  CHECK(merge({dir + "/a", dir + "/b"}, o) == "a\t5\nb\t10\nc\t-2.5\n");
  o.reduce = {Reduction::last};
  CHECK(merge({dir + "/a", dir + "/b"}, o) == "a\t7\nb\t9\nc\t1e1\n");
  o.reduce = {Reduction::max};
  CHECK(merge({dir + "/a", dir + "/b"}, o) == "a\t7\nb\t9\nc\t1e1\n");
  o.reduce = {Reduction::max, true};
  CHECK(merge({dir + "/a", dir + "/b"}, o) == "a\t7\nb\t10\nc\t1e1\n");
  o.reduce = {Reduction::min, true};
  CHECK(merge({dir + "/a", dir + "/b"}, o) == "a\t5\nb\t9\nc\t-2.5\n");
  o.reduce = {Reduction::count};
  CHECK(merge({dir + "/a", dir + "/b"}, o) == "a\t2\nb\t2\nc\t2\n");
  o.reduce = {Reduction::sum};
  CHECK_THROWS_WITH(merge({dir + "/a", dir + "/b"}, o),
                    Catch::Contains("/a:3: value is not an unsigned 64-bit integer"));
  write_file(dir + "/c", "a\t18446744073709551615\n");
  write_file(dir + "/d", "a\t1\n");
  CHECK_THROWS_WITH(merge({dir + "/c", dir + "/d"}, o), Catch::Contains("overflows"));
  CHECK_THROWS_AS(parse_reduction("avg"), UsageError);
}

TEST_CASE("an unsorted input is an error naming file and line", "[test_merge_tool]") {
  std::string dir = tmp_dir("disorder");
  write_file(dir + "/ok", "a\t1\nb\t1\n");
  write_file(dir + "/bad", "a\t1\nc\t1\nb\t1\n");
  MergeInputsOptions o;
  o.temp_dir = dir;
  CHECK_THROWS_WITH(merge({dir + "/ok", dir + "/bad"}, o),
                    Catch::Contains(dir + "/bad:3: disorder: 'b' after 'c'"));
}

TEST_CASE("partition directories merge partition by partition", "[test_merge_tool]") {
  std::string dir = tmp_dir("dirs");
  const uint32_t n = 5;
  std::map<std::string, uint64_t> total;
  std::vector<std::string> dirs;
  for (int d = 0; d < 3; ++d) {
    std::map<std::string, uint64_t> counts;
    for (int i = 0; i < 400; ++i) counts["w" + std::to_string((i * 7 + d) % 97)] += 1;
    // Records in RecordOrder{n} order: by partition, then key.
    std::vector<std::pair<std::string, uint64_t>> recs(counts.begin(), counts.end());
    std::stable_sort(recs.begin(), recs.end(), [&](auto& a, auto& b) {
      return partition_of(a.first, n) < partition_of(b.first, n);
    });
    std::string path = dir + "/shard" + std::to_string(d);
    PartitionWriter w(path, n, "test", SinkOptions{});
    for (auto& [k, c] : recs) {
      w.add(k, std::to_string(c));
      total[k] += c;
    }
    w.commit();
    dirs.push_back(path);
  }
  MergeInputsOptions o;
  o.temp_dir = dir;
  o.threads = 2;
  o.reduce = {Reduction::sum};
  MergeInputsStats st;
  merge_partition_directories(dirs, dir + "/out/", o, st);
  CHECK(st.partitions == n);
  PartitionDirectory out = open_partition_directory(dir + "/out");
  REQUIRE(out.partitions == n);
  std::map<std::string, uint64_t> got;
  const MergeInputsOptions plain;
  for (uint32_t p = 0; p < n; ++p) {
    std::string text = merge({out.parts[p].path}, plain);  // also checks the order
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string line = text.substr(pos, nl - pos);
      std::string k = key_of(line);
      CHECK(partition_of(k, n) == p);
      got[k] += std::stoull(line.substr(k.size() + 1));
      pos = nl + 1;
    }
  }
  CHECK(got == total);

  // The output exists now: refused.
  CHECK_THROWS_WITH(merge_partition_directories(dirs, dir + "/out", o, st),
                    Catch::Contains("not empty"));
  // Different partition counts.
  {
    PartitionWriter w(dir + "/other", n + 1, "test", SinkOptions{});
    w.commit();
  }
  CHECK_THROWS_WITH(merge_partition_directories({dirs[0], dir + "/other"}, dir + "/o2", o, st),
                    Catch::Contains("partitions"));
  // No _SUCCESS.
  fs::remove(dirs[1] + "/_SUCCESS");
  CHECK_THROWS_WITH(merge_partition_directories(dirs, dir + "/o3", o, st),
                    Catch::Contains("_SUCCESS"));
  CHECK_FALSE(fs::exists(dir + "/o2"));
  CHECK_FALSE(fs::exists(dir + "/o3"));
}

TEST_CASE("SortedLineReader checks the order across block boundaries", "[test_merge_tool]") {
  // The previous key is kept as a view into the current block and copied
  // only when the next block replaces it: disorders right after a boundary
  // must still be found, and sorted input must pass, at any block size.
  std::string sorted;
  for (int i = 0; i < 200; ++i) {
    char k[16];
    std::snprintf(k, sizeof k, "key%04d", i * 2);
    sorted += std::string(k) + "\t" + std::to_string(i) + "\n";
  }
  for (size_t block : {size_t(8), size_t(33), size_t(100), size_t(128) << 10}) {
    SortedLineReader ok(Source::from_memory(sorted, "ok"), ValueCheck::u64, block);
    Record r;
    size_t n = 0;
    while (ok.next(r)) ++n;
    CHECK(n == 200);
    for (int bad : {1, 7, 50, 199}) {
      // Line bad+1 gets a key smaller than line bad's.
      std::string in = sorted;
      char k[16];
      std::snprintf(k, sizeof k, "key%04d", bad * 2);
      size_t at = in.find(k);
      in.replace(at, 3, "kex");  // 'kex' < 'key': smaller than every key before
      INFO("block " << block << " bad line " << bad + 1);
      SortedLineReader rd(Source::from_memory(in, "in"), ValueCheck::u64, block);
      CHECK_THROWS_WITH(
          [&] {
            while (rd.next(r)) {
            }
          }(),
          Catch::Contains("in:" + std::to_string(bad + 1) + ": disorder: 'kex"));
    }
  }
}

TEST_CASE("--numeric reads finite decimal numbers only", "[test_merge_tool]") {
  double d = 0;
  for (const char* ok : {"0", "-0", "+1.5", "1e3", "-2.5E-3", ".5", "5.", "1e308", "1e-300"}) {
    INFO(ok);
    CHECK(parse_finite_number(ok, d));
  }
  CHECK(parse_finite_number("+1.5", d));
  CHECK(d == 1.5);
  for (const char* bad : {"", "+", "nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e999",
                          "-1e999", "1e-999", "0x10", " 1", "1 ", "1,5", "1e", "--1", "+-1"}) {
    INFO(bad);
    CHECK_FALSE(parse_finite_number(bad, d));
  }
  CHECK(value_error(ValueCheck::number, "nan") != nullptr);
  CHECK(value_error(ValueCheck::u64, "-1") != nullptr);
  CHECK(value_error(ValueCheck::none, "x") == nullptr);
  CHECK(value_check_for({Reduction::sum}) == ValueCheck::u64);
  CHECK(value_check_for({Reduction::max, true}) == ValueCheck::number);
  CHECK(value_check_for({Reduction::max, false}) == ValueCheck::none);
  CHECK(value_check_for({Reduction::first, true}) == ValueCheck::none);
}

TEST_CASE("merge data errors name the file and line", "[test_merge_tool]") {
  std::string dir = tmp_dir("errors");
  write_file(dir + "/max", "a\t18446744073709551615\nb\t1\n");
  write_file(dir + "/b", "b\t2\n");
  write_file(dir + "/one", "a\t1\nc\t1\n");
  write_file(dir + "/nan", "a\t1\nb\tnan\n");
  const std::string over = "the sum of key 'a' overflows 64 bits (its values from " + dir +
                           "/max:1 to here add up to more than 18446744073709551615)";
  for (size_t fan_in : {size_t(2), size_t(64)}) {
    MergeInputsOptions o;
    o.temp_dir = dir;
    o.fan_in = fan_in;
    o.reduce = {Reduction::sum};
    CHECK_THROWS_WITH(merge({dir + "/max", dir + "/b", dir + "/b", dir + "/one"}, o),
                      dir + "/one:1: " + over);
    o.reduce = {Reduction::max, true};
    CHECK_THROWS_WITH(merge({dir + "/one", dir + "/nan"}, o),
                      dir + "/nan:2: value is not a finite decimal number: 'nan'");
  }
  // The finder alone: the crossing record and the key's first, whatever
  // comes between; a key alone counts 1 for grist-count.
  SumOverflowFinder f(SumOverflow("k"), SumInput::counts);
  std::string text = "k\t18446744073709551614\nj\t5\nk\nk\n";
  CHECK(f.feed("f", 10, text.data(), text.size()));
  CHECK(f.error().what() == std::string("f:13: the count of key 'k' overflows 64 bits (its values "
                                        "from f:10 to here add up to more than "
                                        "18446744073709551615)"));
  CHECK(locate_sum_overflow({}, SumOverflow("k"), SumInput::values).what() ==
        std::string("the sum of key 'k' overflows 64 bits (its line is not known: the input "
                    "cannot be read a second time to find it)"));
}

TEST_CASE("one fan-in policy for every merge", "[test_merge_tool]") {
  const uint64_t M = uint64_t(1) << 20;
  // Half of the memory for open inputs, at most kMaxFanIn in all, two at least.
  CHECK(merge_fan_in(M, kRunInputCost) == 2);
  CHECK(merge_fan_in(8 * M, kRunInputCost) == 4);
  CHECK(merge_fan_in(1024 * M, kRunInputCost) == kMaxFanIn);
  CHECK(merge_fan_in(1024 * M, kFileInputCost, 4) == 16);  // 64 shared by 4 merges
  CHECK(merge_fan_in(16 * M, kFileInputCost, 3) == 2);
  // grist-merge: partitions at once, one per kPartitionCost of -S, within -j.
  MergeInputsOptions o;
  o.threads = 8;
  o.memory = 32 * M;
  CHECK(partitions_at_once(o) == 2);
  o.memory = M;
  CHECK(partitions_at_once(o) == 1);
  o.memory = 0;  // no budget: -j
  CHECK(partitions_at_once(o) == 8);
  o.memory = 256 * M;
  CHECK(merge_inputs_fan_in(o) == 32);     // 128 MiB of inputs at 4 MiB
  CHECK(merge_inputs_fan_in(o, 2) == 16);  // shared by two partitions
  o.fan_in = 10;                           // given: shared too, two at least
  CHECK(merge_inputs_fan_in(o, 3) == 3);
  CHECK(merge_inputs_fan_in(o, 8) == 2);
}
