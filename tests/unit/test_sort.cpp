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
#include "grist/io/source.hpp"
#include "grist/record/partition.hpp"
#include "grist/sort/merge.hpp"
#include "grist/sort/reducers.hpp"
#include "grist/sort/partition_dir.hpp"
#include "grist/sort/run.hpp"
#include "grist/io/sink.hpp"

#include <xxhash.h>

using namespace grist;
namespace fs = std::filesystem;

namespace {

std::string tmp_dir() {
  const char* base = std::getenv("GRIST_TEST_TMP");
  fs::path p = fs::path(base ? base : "/tmp") / ("sort-" + std::to_string(getpid()));
  fs::create_directories(p);
  return p.string();
}

using Recs = std::vector<std::pair<std::string, std::string>>;

class VectorStream : public RecordStream {
 public:
  explicit VectorStream(Recs r) : r_(std::move(r)) {}
  bool next(Record& out) override {
    if (i_ >= r_.size()) return false;
    out.key = r_[i_].first;
    out.value = r_[i_].second;
    ++i_;
    return true;
  }

 private:
  Recs r_;
  size_t i_ = 0;
};

Recs drain(RecordStream& s) {
  Recs out;
  Record r;
  while (s.next(r)) out.emplace_back(std::string(r.key), std::string(r.value));
  return out;
}

Run make_run(const std::string& dir, const Recs& recs) {
  RunWriter w(dir);
  for (auto& [k, v] : recs) w.add(k, v);
  return w.finish();
}

std::string random_key(std::mt19937& rng, int alphabet = 6) {
  std::string k;
  int len = rng() % 6;
  for (int i = 0; i < len; ++i) k += static_cast<char>('a' + rng() % alphabet);
  if (rng() % 20 == 0) k += static_cast<char>(0xc3);  // a high byte: memcmp is unsigned
  return k;
}

bool less_key(const std::pair<std::string, std::string>& a,
              const std::pair<std::string, std::string>& b) {
  return compare_keys(a.first, b.first) < 0;
}

}  // namespace

TEST_CASE("compare_keys is memcmp order, shorter prefix first", "[test_sort]") {
  CHECK(compare_keys("a", "b") < 0);
  CHECK(compare_keys("ab", "a") > 0);
  CHECK(compare_keys("", "a") < 0);
  CHECK(compare_keys("Z", "a") < 0);
  CHECK(compare_keys("\xc3", "z") > 0);
  CHECK(compare_keys("same", "same") == 0);
}

TEST_CASE("runs round-trip, long lines and empty runs included", "[test_sort]") {
  std::string dir = tmp_dir();
  Recs recs = {{"", "0"}, {"a", "1"}, {"b", std::string(300000, 'x')}, {"c", "x\ty"}, {"d", ""}};
  Run run = make_run(dir, recs);
  CHECK(run.records == recs.size());
  RunReader r(std::move(run), 1024);  // a small buffer: lines longer than it
  CHECK(drain(r) == recs);
  RunReader empty(make_run(dir, {}));
  Record x;
  CHECK_FALSE(empty.next(x));
  CHECK_FALSE(empty.next(x));
}

TEST_CASE("a truncated run is an error, not a short read", "[test_sort]") {
  std::string dir = tmp_dir();
  Recs recs;
  for (int i = 0; i < 5000; ++i) recs.emplace_back("key" + std::to_string(i), "1");
  Run run = make_run(dir, recs);
  REQUIRE(::ftruncate(run.fd.get(), static_cast<off_t>(run.file_bytes / 2)) == 0);
  RunReader r(std::move(run));
  CHECK_THROWS_WITH(drain(r), Catch::Contains("spill file") && Catch::Contains("zstd"));
}

TEST_CASE("KWayMerger merges stably, ties by input order", "[test_sort]") {
  std::vector<std::unique_ptr<RecordStream>> in;
  in.push_back(std::make_unique<VectorStream>(Recs{{"a", "0"}, {"c", "0"}, {"c", "0b"}}));
  in.push_back(std::make_unique<VectorStream>(Recs{}));
  in.push_back(std::make_unique<VectorStream>(Recs{{"a", "2"}, {"b", "2"}, {"c", "2"}}));
  in.push_back(std::make_unique<VectorStream>(Recs{{"a", "3"}}));
  KWayMerger m(std::move(in));
  Recs want = {{"a", "0"}, {"a", "2"}, {"a", "3"}, {"b", "2"},
               {"c", "0"}, {"c", "0b"}, {"c", "2"}};
  CHECK(drain(m) == want);
}

TEST_CASE("CombiningStream sums counts and rejects overflow", "[test_sort]") {
  auto in = std::make_unique<VectorStream>(
      Recs{{"a", "1"}, {"a", "2"}, {"b", "18446744073709551615"}, {"c", "7"}, {"c", "0"}});
  CombiningStream c(std::move(in), std::make_unique<SumU64Combiner>());
  CHECK(drain(c) == Recs{{"a", "3"}, {"b", "18446744073709551615"}, {"c", "7"}});

  auto over = std::make_unique<VectorStream>(Recs{{"k", "18446744073709551615"}, {"k", "1"}});
  CombiningStream c2(std::move(over), std::make_unique<SumU64Combiner>());
  Record r;
  CHECK_THROWS_WITH(c2.next(r), Catch::Contains("overflows"));

  auto bad = std::make_unique<VectorStream>(Recs{{"k", "1"}, {"k", "x"}});
  CombiningStream c3(std::move(bad), std::make_unique<SumU64Combiner>());
  CHECK_THROWS_AS(c3.next(r), Error);
}

TEST_CASE("merge_runs with a tiny fan-in makes multi-level merges", "[test_sort]") {
  std::string dir = tmp_dir();
  std::mt19937 rng(7);
  for (bool combine : {false, true}) {
    std::vector<Run> runs;
    Recs all;
    std::map<std::string, uint64_t> sums;
    for (int r = 0; r < 37; ++r) {
      Recs recs;
      int n = rng() % 50;
      for (int i = 0; i < n; ++i) {
        std::string v = std::to_string(r * 1000 + i);
        recs.emplace_back(random_key(rng), v);
      }
      std::stable_sort(recs.begin(), recs.end(), less_key);
      for (auto& kv : recs) {
        all.push_back(kv);
        sums[kv.first] += std::stoull(kv.second);
      }
      runs.push_back(make_run(dir, recs));
    }
    MergeOptions mo;
    mo.temp_dir = dir;
    mo.fan_in = 3;
    if (combine) mo.make_combiner = [] { return std::make_unique<SumU64Combiner>(); };
    MergeStats st;
    auto s = merge_runs(std::move(runs), mo, &st);
    Recs got = drain(*s);
    CHECK(st.passes >= 4);  // 37 -> 13 -> 5 -> 2, then the final merge
    CHECK(st.intermediate_runs > 10);
    if (combine) {
      Recs want;
      for (auto& [k, v] : sums) want.emplace_back(k, std::to_string(v));
      std::stable_sort(want.begin(), want.end(), less_key);
      CHECK(got == want);
    } else {
      // Stable: equal keys keep the order of the runs and within them.
      std::stable_sort(all.begin(), all.end(), less_key);
      CHECK(got == all);
    }
  }
}

TEST_CASE("merge in partition order", "[test_sort]") {
  RecordOrder order{5};
  Recs a, b;
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) (i % 2 ? a : b).emplace_back("k" + std::to_string(rng() % 1000), "1");
  auto by_order = [&](const auto& x, const auto& y) {
    uint64_t px = order.rank(x.first), py = order.rank(y.first);
    return px != py ? px < py : compare_keys(x.first, y.first) < 0;
  };
  std::stable_sort(a.begin(), a.end(), by_order);
  std::stable_sort(b.begin(), b.end(), by_order);
  std::vector<std::unique_ptr<RecordStream>> in;
  in.push_back(std::make_unique<VectorStream>(a));
  in.push_back(std::make_unique<VectorStream>(b));
  KWayMerger m(std::move(in), order);
  Recs got = drain(m);
  Recs want = a;
  want.insert(want.end(), b.begin(), b.end());
  std::stable_sort(want.begin(), want.end(), by_order);
  CHECK(got == want);
}

TEST_CASE("partition_of is pinned (XXH3-64, seed 0)", "[test_sort]") {
  CHECK(stable_hash("") == 0x2D06800538D394C2ull);
  CHECK(partition_of("", 7) == 0x2D06800538D394C2ull % 7);
  CHECK(partition_file_name(0) == "part-00000.zst");
  CHECK(partition_file_name(123) == "part-00123.zst");
}

TEST_CASE("PartitionWriter writes a directory that open_partition_directory reads", "[test_sort]") {
  std::string base = tmp_dir();
  std::string dir = base + "/parts.d";
  fs::remove_all(dir);
  const uint32_t n = 4;
  Recs recs;
  for (int i = 0; i < 100; ++i) recs.emplace_back("key" + std::to_string(i), std::to_string(i));
  RecordOrder order{n};
  std::sort(recs.begin(), recs.end(), [&](const auto& x, const auto& y) {
    uint64_t px = order.rank(x.first), py = order.rank(y.first);
    return px != py ? px < py : compare_keys(x.first, y.first) < 0;
  });
  {
    PartitionWriter w(dir, n, "test", SinkOptions{});
    for (auto& [k, v] : recs) w.add(k, v);
    CHECK_FALSE(fs::exists(dir));  // built under a temporary name
    w.commit();
  }
  PartitionDirectory d = open_partition_directory(dir);
  CHECK(d.partitions == n);
  CHECK(d.tool == "test");
  size_t total = 0;
  for (uint32_t p = 0; p < n; ++p) {
    RunReader r(open_part(d.parts[p]));
    Recs got = drain(r);
    CHECK(std::is_sorted(got.begin(), got.end(), less_key));
    for (auto& kv : got) CHECK(partition_of(kv.first, n) == p);
    total += got.size();
  }
  CHECK(total == recs.size());
  CHECK(is_partition_directory(dir));

  // An existing non-empty directory is refused; records out of order throw.
  CHECK_THROWS_WITH(PartitionWriter(dir, n, "test", SinkOptions{}), Catch::Contains("not empty"));
  {
    std::string dir2 = base + "/parts2.d";
    fs::remove_all(dir2);
    PartitionWriter w(dir2, n, "test", SinkOptions{});
    w.add(3, "x", "1");
    CHECK_THROWS(w.add(1, "y", "1"));
  }  // not committed: nothing left
  CHECK_FALSE(fs::exists(base + "/parts2.d"));

  fs::remove(dir + "/_SUCCESS");
  CHECK_THROWS_WITH(open_partition_directory(dir), Catch::Contains("_SUCCESS"));
  fs::remove_all(base);
}

namespace {

std::string read_all(Source& s) {
  std::string out;
  char buf[1000];  // small reads: the checks hold across them
  while (size_t n = s.read(buf, sizeof buf)) out.append(buf, n);
  return out;
}

// The manifest's figures of every part against the files, computed
// independently: file size, lines and XXH3-64 of the decompressed bytes.
void check_manifest_against_files(const std::string& dir) {
  PartitionDirectory d = open_partition_directory(dir);
  for (uint32_t p = 0; p < d.partitions; ++p) {
    const PartInfo& part = d.parts[p];
    CHECK(part.path == dir + "/" + partition_file_name(p));
    std::string text = read_all(*Source::open(part.path));
    CHECK(part.bytes == fs::file_size(part.path));
    CHECK(part.uncompressed_bytes == text.size());
    CHECK(part.records == static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')));
    CHECK(part.checksum == XXH3_64bits(text.data(), text.size()));
    CHECK(read_all(*open_part(part)) == text);
  }
}

}  // namespace

TEST_CASE("both ways of writing parts record records, bytes and XXH3-64 per part",
          "[test_sort]") {
  std::string base = tmp_dir() + "/manifests";
  fs::remove_all(base);
  fs::create_directories(base);
  const uint32_t n = 3;
  {
    PartitionWriter w(base + "/added", n, "test", SinkOptions{});
    for (int i = 0; i < 3000; ++i) w.add(2, "k" + std::to_string(1000000 + i), "v");
    w.commit();  // parts 0 and 1 empty, part 2 larger than PartSink's buffer
  }
  check_manifest_against_files(base + "/added");
  {
    PartitionWriter w(base + "/filled", n, "test", SinkOptions{});
    std::string big(300 << 10, 'x');  // one write larger than the buffer
    w.write_part(1, [&](PartSink& s) {
      s.write("a\t");
      s.write(big);
      s.put('\n');
      s.write("b\t1\n");
      return uint64_t(2);
    });
    w.commit();
  }
  check_manifest_against_files(base + "/filled");
  fs::remove_all(base);
}

TEST_CASE("open_part refuses a part that differs from its manifest, at its end",
          "[test_sort]") {
  std::string base = tmp_dir() + "/tamper";
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string dir = base + "/d";
  {
    PartitionWriter w(dir, 1, "test", SinkOptions{});
    w.add(0, "a", "1");
    w.add(0, "b", "2");
    w.commit();
  }
  auto rewrite = [&](const std::string& text) {
    auto s = Sink::open(dir + "/part-00000.zst", SinkOptions{});
    s->write(text);
    s->commit();
  };
  auto opened = [&] { return open_partition_directory(dir).parts[0]; };
  PartInfo good = opened();
  CHECK(read_all(*open_part(good)) == "a\t1\nb\t2\n");

  // The same size on disk but other content: found at the end of the part.
  rewrite("a\t1\nb\t3\n");
  CHECK(fs::file_size(dir + "/part-00000.zst") == good.bytes);
  auto src = open_part(opened());
  char buf[4];
  CHECK(src->read(buf, 4) == 4);  // no error before the end
  CHECK_THROWS_WITH(read_all(*src), Catch::StartsWith(dir + "/part-00000.zst: checksum mismatch"));
  // A record fewer, sizes made to match.
  PartInfo edited = good;
  rewrite("a\t1\n");
  edited.bytes = fs::file_size(dir + "/part-00000.zst");
  CHECK_THROWS_WITH(read_all(*open_part(edited)),
                    Catch::StartsWith(dir + "/part-00000.zst: holds 1 records where the manifest says 2"));
  edited.records = 1;
  CHECK_THROWS_WITH(read_all(*open_part(edited)), Catch::Contains("decompresses to 4 bytes"));
  // Changed after the directory was opened: open_part checks the size again.
  CHECK_THROWS_WITH(open_part(good), Catch::StartsWith(dir + "/part-00000.zst: is "));
  CHECK_THROWS_WITH(open_partition_directory(dir), Catch::Contains("where the manifest says"));
  fs::remove(dir + "/part-00000.zst");
  CHECK_THROWS_WITH(open_partition_directory(dir),
                    Catch::StartsWith(dir + "/part-00000.zst: missing part file"));
  fs::remove_all(base);
}

TEST_CASE("KWayMerger equals a stable sort for any number of inputs, long inputs read ahead",
          "[test_sort]") {
  std::mt19937 rng(21);
  for (size_t k : {1, 2, 3, 5, 16, 17}) {
    std::vector<Recs> ins(k);
    Recs all;
    for (size_t i = 0; i < k; ++i) {
      size_t n = i % 4 == 3 ? 0 : 3000 + rng() % 7000;  // often > a chunk of 4096 records
      for (size_t j = 0; j < n; ++j) {
        std::string key = random_key(rng, 3);
        if (j % 5 == 0) key = std::string(20, 'p') + random_key(rng, 2);  // long equal prefixes
        ins[i].emplace_back(key, std::to_string(i) + ":" + std::to_string(j));
      }
      std::stable_sort(ins[i].begin(), ins[i].end(), less_key);
      all.insert(all.end(), ins[i].begin(), ins[i].end());
    }
    std::stable_sort(all.begin(), all.end(), less_key);  // input order on ties
    std::vector<std::unique_ptr<RecordStream>> in;
    for (auto& r : ins) in.push_back(std::make_unique<VectorStream>(r));
    KWayMerger m(std::move(in));
    INFO("inputs " << k);
    CHECK(drain(m) == all);
    Record r;
    CHECK_FALSE(m.next(r));
  }
}

TEST_CASE("KWayMerger rethrows an input's error where the merge reaches it", "[test_sort]") {
  // Input 0 fails after 5000 records whose keys sort before everything in
  // input 1; read-ahead may meet the error early, but every record before
  // it comes out first and none after it.
  class Failing : public RecordStream {
   public:
    bool next(Record& r) override {
      if (i_ == 5000) throw Error("in0", 5001, "broken");
      key_ = "a" + std::to_string(100000 + i_++);
      r.key = key_;
      r.value = "";
      return true;
    }

   private:
    int i_ = 0;
    std::string key_;
  };
  Recs later;
  for (int i = 0; i < 5000; ++i) later.emplace_back("b" + std::to_string(100000 + i), "");
  std::vector<std::unique_ptr<RecordStream>> in;
  in.push_back(std::make_unique<Failing>());
  in.push_back(std::make_unique<VectorStream>(later));
  KWayMerger m(std::move(in));
  Record r;
  int n = 0;
  try {
    while (m.next(r)) {
      CHECK(r.key[0] == 'a');
      ++n;
    }
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("broken") != std::string::npos);
  }
  CHECK(n == 5000);
}

TEST_CASE("runs mix streamed records and precompressed frames", "[test_sort]") {
  std::string dir = tmp_dir();
  RunFrameCompressor fc(-1);
  std::vector<char> frame;
  // Run records: "b" and "c" (sharing nothing), values "2" and "3".
  std::string lines(64, '\0');
  char* e = encode_run_record(lines.data(), 0, "b", "2");
  e = encode_run_record(e, 0, "c", "3");
  lines.resize(static_cast<size_t>(e - lines.data()));
  fc.compress(lines.data(), lines.size(), frame);
  RunWriter w(dir, -1);
  w.add("a", "1");
  w.add_frame({frame.data(), frame.size()}, 2, lines.size());
  w.add_frame({frame.data(), frame.size()}, 2, lines.size());
  w.add("d", "4");
  Run run = w.finish();
  CHECK(run.records == 6);
  RunReader r(std::move(run));
  CHECK(drain(r) == Recs{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"b", "2"}, {"c", "3"}, {"d", "4"}});
  RunWriter only(dir);
  only.add_frame({frame.data(), frame.size()}, 2, lines.size());
  RunReader r2(only.finish());
  CHECK(drain(r2) == Recs{{"b", "2"}, {"c", "3"}});
}

TEST_CASE("front-coded runs: shared prefixes of every length, long records, frames",
          "[test_sort]") {
  // Keys sharing 0..all of the previous key (equal keys, a key that is a
  // prefix of the next, a shorter key after a longer one), shared lengths
  // and suffixes around the one- and two-byte varint limits (127/128,
  // 16383/16384), records longer than the writer's 128 KiB buffer, empty
  // keys and values, and values with TABs and high bytes.
  std::string dir = tmp_dir();
  Recs recs = {{"", ""}, {"", "v"}, {"a", ""}, {"a", "1"}, {"ab", "\t2"}, {"abc", "\xff"}};
  for (size_t len : {size_t(126), size_t(127), size_t(128), size_t(129), size_t(16383),
                     size_t(16384), size_t(16385)}) {
    std::string k(len, 'm');
    recs.emplace_back(k, "x");
    recs.emplace_back(k, "y");
    recs.emplace_back(k + "n", std::string(len, 'v'));
  }
  recs.emplace_back(std::string(200000, 'p'), "long key");
  recs.emplace_back(std::string(200000, 'p') + "q", std::string(300000, 'w'));
  recs.emplace_back(std::string(200001, 'p'), "");
  recs.emplace_back("q", "after a long key");
  recs.emplace_back("qq", std::string(140000, 'z'));
  recs.emplace_back("qq", "short again");
  // (Not sorted: the format does not need it.)
  for (size_t buffer : {size_t(16), size_t(1024), size_t(64) << 10}) {
    INFO("buffer " << buffer);
    Run run = make_run(dir, recs);
    CHECK(run.records == recs.size());
    RunReader r(std::move(run), buffer);
    CHECK(drain(r) == recs);
  }
  // Frames encoded apart (each starting with shared = 0) between add()s:
  // add() after a frame shares nothing with the frame's last key.
  RunFrameCompressor fc(1);
  std::vector<char> frame;
  std::string bytes(256, '\0');
  char* e = encode_run_record(bytes.data(), 0, "key", "1");
  e = encode_run_record(e, 3, "key", "2");
  e = encode_run_record(e, 2, "kez", "3");
  bytes.resize(static_cast<size_t>(e - bytes.data()));
  fc.compress(bytes.data(), bytes.size(), frame);
  RunWriter w(dir, 1);
  w.add("kex", "0");
  w.add_frame({frame.data(), frame.size()}, 3, 12);
  w.add("kez", "4");
  w.add("kez", "5");
  w.add_frame({frame.data(), frame.size()}, 3, 12);
  RunReader r(w.finish());
  CHECK(drain(r) == Recs{{"kex", "0"}, {"key", "1"}, {"key", "2"}, {"kez", "3"}, {"kez", "4"},
                         {"kez", "5"}, {"key", "1"}, {"key", "2"}, {"kez", "3"}});
}

TEST_CASE("a run record that shares more than the previous key is an error", "[test_sort]") {
  std::string dir = tmp_dir();
  RunFrameCompressor fc(1);
  std::vector<char> frame;
  std::string bytes(64, '\0');
  char* e = encode_run_record(bytes.data(), 0, "ab", "1");
  e = encode_run_record(e, 3, "abcd", "2");  // 3 > 2 bytes of "ab"
  bytes.resize(static_cast<size_t>(e - bytes.data()));
  fc.compress(bytes.data(), bytes.size(), frame);
  RunWriter w(dir, 1);
  w.add_frame({frame.data(), frame.size()}, 2, 10);
  RunReader r(w.finish());
  CHECK_THROWS_WITH(drain(r), Catch::Contains("spill file") && Catch::Contains("corrupt run"));
  // A record cut off at the end of the data.
  std::string cut(bytes.data(), 4);  // "ab" record's lengths and part of its key
  fc.compress(cut.data(), cut.size(), frame);
  RunWriter w2(dir, 1);
  w2.add_frame({frame.data(), frame.size()}, 1, 5);
  RunReader r2(w2.finish());
  CHECK_THROWS_WITH(drain(r2), Catch::Contains("spill file") && Catch::Contains("truncated"));
}

TEST_CASE("common_prefix counts equal leading bytes", "[test_sort]") {
  CHECK(common_prefix("", "") == 0);
  CHECK(common_prefix("abc", "") == 0);
  CHECK(common_prefix("abc", "abd") == 2);
  CHECK(common_prefix("abcdefghij", "abcdefghij") == 10);
  CHECK(common_prefix("abcdefghij", "abcdefghiX") == 9);
  CHECK(common_prefix("abcdefgh", "abcdefghijk") == 8);
  CHECK(common_prefix("abcXefghijk", "abcdefghijk") == 3);
  CHECK(common_prefix(std::string(1000, 'a') + "b", std::string(1000, 'a') + "c") == 1000);
}
