#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/pipe.hpp"
#include "grist/io/sink.hpp"
#include "grist/io/source.hpp"

using namespace grist;

namespace {

std::string encode(const std::string& text, Compression c, int level = kDefaultLevel) {
  std::string out;
  auto s = Sink::to_string(&out, c, level);
  s->write(text);
  s->commit();
  return out;
}

std::string read_all(Source& src, size_t chunk = 4096) {
  std::string out, buf(chunk, '\0');
  while (size_t n = src.read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

std::string decode(const std::string& bytes, size_t chunk = 4096) {
  auto src = Source::from_memory(bytes, "mem");
  return read_all(*src, chunk);
}

std::string random_text(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  const char alphabet[] = "abcdefghij klmno\npqrst\tuvwxyz0123456789";
  for (size_t i = 0; i < n; ++i) s += alphabet[rng() % (sizeof alphabet - 1)];
  return s;
}

std::filesystem::path test_dir(const std::string& name) {
  const char* base = std::getenv("GRIST_TEST_TMP");
  std::filesystem::path p = std::filesystem::path(base ? base : "/tmp") /
                            ("io-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace

TEST_CASE("codecs round-trip at every read size", "[test_io]") {
  std::string text = random_text(300000, 1);
  for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    std::string enc = encode(text, c);
    for (size_t chunk : {1, 7, 4096, 1 << 20}) {
      INFO("codec " << int(c) << " chunk " << chunk);
      CHECK(decode(enc, chunk) == text);
    }
    auto src = Source::from_memory(enc, "mem");
    CHECK(src->compression() == c);
  }
}

TEST_CASE("empty inputs", "[test_io]") {
  CHECK(decode("").empty());
  CHECK(decode(encode("", Compression::zstd)).empty());
  CHECK(decode(encode("", Compression::gzip)).empty());
}

TEST_CASE("concatenated zstd frames and skippable frames", "[test_io]") {
  std::string a = random_text(5000, 2), b = random_text(7000, 3);
  std::string skippable = std::string("\x50\x2a\x4d\x18\x04\x00\x00\x00", 8) + "abcd";
  std::string enc = skippable + encode(a, Compression::zstd) + skippable +
                    encode(b, Compression::zstd);
  CHECK(decode(enc) == a + b);
  CHECK(decode(enc, 3) == a + b);
}

TEST_CASE("multi-member gzip", "[test_io]") {
  std::string a = random_text(5000, 4), b = random_text(100, 5);
  CHECK(decode(encode(a, Compression::gzip) + encode(b, Compression::gzip)) == a + b);
}

TEST_CASE("truncated and corrupt streams are errors", "[test_io]") {
  std::string text = random_text(200000, 6);
  for (Compression c : {Compression::gzip, Compression::zstd}) {
    std::string enc = encode(text, c);
    for (size_t cut : {size_t(5), enc.size() / 2, enc.size() - 1}) {
      INFO("codec " << int(c) << " cut at " << cut);
      CHECK_THROWS_AS(decode(enc.substr(0, cut)), Error);
    }
    std::string bad = enc;
    bad[bad.size() / 2] ^= 0x55;
    bad[bad.size() / 2 + 1] ^= 0x55;
    CHECK_THROWS_AS(decode(bad), Error);
  }
  // Garbage after a complete gzip member is not data.
  CHECK_THROWS_WITH(decode(encode("x\n", Compression::gzip) + "garbage"),
                    Catch::Contains("trailing garbage"));
  CHECK_THROWS_WITH(decode(encode("x\n", Compression::zstd).substr(0, 10)),
                    Catch::Contains("mem: "));
}

TEST_CASE("block reader: whole lines at every boundary", "[test_io]") {
  std::string text = "a\nbb\n\nccc\ndddd";  // no final newline
  for (size_t bs = 1; bs <= text.size() + 2; ++bs) {
    BlockReader r(Source::from_memory(text, "t"), bs);
    Block b;
    std::string joined;
    uint64_t expect_line = 1, lines = 0;
    while (r.next(b)) {
      REQUIRE(b.size > 0);
      REQUIRE(b.buf[b.size - 1] == '\n');
      REQUIRE(b.first_line == expect_line);
      for (size_t i = 0; i < kBlockPadding; ++i) REQUIRE(b.buf[b.size + i] == 0);
      expect_line += b.lines;
      lines += b.lines;
      joined += b.view();
    }
    CHECK(joined == text + "\n");
    CHECK(lines == 5);
  }
}

TEST_CASE("block reader: a line longer than the block", "[test_io]") {
  std::string longline(100000, 'x');
  std::string text = "a\n" + longline + "\nb\n";
  BlockReader r(Source::from_memory(encode(text, Compression::zstd), "t"), 1000);
  Block b;
  std::vector<std::string> lines;
  while (r.next(b)) for_each_line(b, [&](std::string_view l) { lines.emplace_back(l); });
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == longline);
}

TEST_CASE("block reader: a line past the block limit is an error naming it", "[test_io]") {
  // Offsets inside a block are 32-bit downstream: past the limit a line is
  // refused, never wrapped. The limit is lowered here from 4000 MiB.
  std::string text = "a\nb\n" + std::string(5000, 'x') + "\nc\n";
  for (uint64_t limit : {uint64_t(4096), uint64_t(4999)}) {
    BlockReader r(Source::from_memory(text, "big.txt"), 1000);
    r.set_max_block(limit);
    Block b;
    CHECK_THROWS_WITH([&] { while (r.next(b)) {} }(),
                      Catch::Contains("big.txt: line 3 is longer than"));
  }
  // At the limit (the line, its newline and the lines before it): read.
  for (uint64_t limit : {uint64_t(5005), uint64_t(8000)}) {
    BlockReader r(Source::from_memory(text, "big.txt"), 1000);
    r.set_max_block(limit);
    Block b;
    uint64_t lines = 0;
    while (r.next(b)) lines += b.lines;
    CHECK(lines == 4);
  }
}

TEST_CASE("block reader: many files, one after another", "[test_io]") {
  auto dir = test_dir("multi");
  std::ofstream(dir / "a.txt") << "1\n2";
  std::ofstream(dir / "empty.txt");
  {
    std::ofstream f(dir / "c.txt.gz", std::ios::binary);
    f << encode("3\n4\n", Compression::gzip);
  }
  BlockReader r({(dir / "a.txt").string(), (dir / "empty.txt").string(),
                 (dir / "c.txt.gz").string()},
                1 << 16);
  Block b;
  std::string all;
  std::vector<std::string> names;
  while (r.next(b)) {
    all += b.view();
    names.push_back(*b.source);
    CHECK(b.first_line == 1);
  }
  CHECK(all == "1\n2\n3\n4\n");
  CHECK(names.size() == 2);
  CHECK(r.raw_bytes_read() == r.raw_size_total());
  std::filesystem::remove_all(dir);
}

TEST_CASE("missing input names the file", "[test_io]") {
  CHECK_THROWS_WITH(Source::open("/nonexistent/x.txt"),
                    Catch::StartsWith("/nonexistent/x.txt: cannot open"));
}

TEST_CASE("sink is atomic: nothing at the target until commit", "[test_io]") {
  auto dir = test_dir("sink");
  std::string target = (dir / "out.txt.zst").string();
  {
    std::ofstream(target) << "old";
    auto s = Sink::open(target, {});
    s->write("new content\n");
    // Abandoned without commit: the old file stays, no temporary remains.
  }
  CHECK(std::filesystem::file_size(target) == 3);
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator()) == 1);
  {
    auto s = Sink::open(target, {});
    s->write("new content\n");
    s->commit();
  }
  auto src = Source::open(target);
  CHECK(src->compression() == Compression::zstd);
  CHECK(read_all(*src) == "new content\n");
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator()) == 1);
  CHECK_THROWS_WITH(Sink::open((dir / "no/such/dir/x").string(), {}),
                    Catch::Contains("cannot create output"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("zstd output does not depend on the worker count", "[test_io]") {
  std::string text = random_text(3 << 20, 7);
  std::string one, two;
  for (auto [out, threads] : {std::pair{&one, 1}, std::pair{&two, 2}}) {
    auto t = Sink::to_string(out, Compression::zstd, 3, threads);
    t->write(text);
    t->commit();
  }
  CHECK(one == two);
  CHECK(decode(one) == text);
}

TEST_CASE("anonymous temp files vanish", "[test_io]") {
  auto dir = test_dir("anon");
  int fd = open_anonymous_temp_file(dir.string());
  REQUIRE(fd >= 0);
  CHECK(write(fd, "abc", 3) == 3);
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator()) == 0);
  close(fd);
  std::filesystem::remove_all(dir);
}

TEST_CASE("widen_pipe grows a pipe's buffer to 1 MiB and leaves other files alone", "[test_io]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  int before = ::fcntl(fds[1], F_GETPIPE_SZ);
  grist::widen_pipe(fds[1]);
  int after = ::fcntl(fds[0], F_GETPIPE_SZ);  // one buffer, seen from both ends
  CHECK(after >= before);
  if (::geteuid() == 0) CHECK(after >= (1 << 20));  // root is not held to pipe-max-size
  grist::widen_pipe(fds[0]);                          // already wide: unchanged
  CHECK(::fcntl(fds[0], F_GETPIPE_SZ) == after);
  ::close(fds[0]);
  ::close(fds[1]);
  grist::widen_pipe(-1);  // not a descriptor: nothing happens
}
