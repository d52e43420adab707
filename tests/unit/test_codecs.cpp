// The codecs of Source and Sink: every format round-trips, concatenated
// streams read as one, and a truncated, corrupt or garbage-followed stream is
// an error naming the input, for all four codecs alike.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "grist/error.hpp"
#include "grist/io/codec.hpp"
#include "grist/io/sink.hpp"
#include "grist/io/source.hpp"

using namespace grist;

namespace {

const Compression kAll[] = {Compression::zstd, Compression::gzip, Compression::bzip2,
                            Compression::xz};

std::string encode(const std::string& text, Compression c, int level = kDefaultLevel,
                   int threads = 1) {
  std::string out;
  auto s = Sink::to_string(&out, c, level, threads);
  s->write(text);
  s->commit();
  return out;
}

// The lowest level: the smallest bzip2 blocks and xz dictionaries, which
// decoders allocate for each stream (the tests below decode hundreds).
std::string encode_fast(const std::string& text, Compression c) {
  return encode(text, c, find_codec(c)->min_level);
}

std::string decode(const std::string& bytes, size_t chunk = 4096) {
  auto src = Source::from_memory(bytes, "mem.in");
  std::string out, buf(chunk, '\0');
  while (size_t n = src->read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

std::string random_text(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  const char alphabet[] = "abcdefghij klmno\npqrst\tuvwxyz0123456789";
  for (size_t i = 0; i < n; ++i) s += alphabet[rng() % (sizeof alphabet - 1)];
  return s;
}

// Restores the process-wide decoder limit when a test ends.
struct DecoderLimit {
  explicit DecoderLimit(uint64_t bytes) { set_decoder_memory_limit(bytes); }
  ~DecoderLimit() { set_decoder_memory_limit(kMaxDecoderMemory); }
};

}  // namespace

TEST_CASE("one codec table: names, suffixes and level ranges", "[test_codecs]") {
  CHECK(level_ranges() == "zstd 1-22, gzip 1-9, bzip2 1-9, xz 0-9");
  CHECK(lowest_level() == 0);
  CHECK(highest_level() == 22);
  CHECK(find_codec(Compression::zstd)->max_level == ZSTD_maxCLevel());
  CHECK(find_codec(Compression::none) == nullptr);
  CHECK(compression_for_name("a.tsv.zst") == Compression::zstd);
  CHECK(compression_for_name("a.gz") == Compression::gzip);
  CHECK(compression_for_name("a.txt.bz2") == Compression::bzip2);
  CHECK(compression_for_name("a.xz") == Compression::xz);
  CHECK(compression_for_name("a.txt") == Compression::none);
  CHECK(compression_for_name("xz") == Compression::none);
  CHECK(compression_for_name("a.bz2.txt") == Compression::none);
  for (const Codec& c : codecs()) {
    CHECK(compression_for_name(std::string("x") + c.suffix) == c.kind);
    CHECK(std::string(compression_name(c.kind)) == c.name);
    CHECK(c.default_level >= c.min_level);
    CHECK(c.default_level <= c.max_level);
  }
}

TEST_CASE("a level is checked against the output's codec", "[test_codecs]") {
  for (const Codec& c : codecs()) {
    INFO(c.name);
    CHECK_NOTHROW(check_level(c.kind, kDefaultLevel, "out"));
    CHECK_NOTHROW(check_level(c.kind, c.min_level, "out"));
    CHECK_NOTHROW(check_level(c.kind, c.max_level, "out"));
    std::string range = std::to_string(c.min_level) + "-" + std::to_string(c.max_level);
    for (int bad : {c.min_level - 1, c.max_level + 1}) {
      if (bad == kDefaultLevel) continue;  // xz's 0 - 1: never given (the option's check)
      CHECK_THROWS_WITH(check_level(c.kind, bad, "out.x"),
                        "--level " + std::to_string(bad) + ": " + c.name +
                            ", the codec of out.x, takes levels " + range);
      CHECK_THROWS_AS(check_level(c.kind, bad, "out.x"), UsageError);
    }
  }
  CHECK_NOTHROW(check_level(Compression::none, kDefaultLevel, "out.txt"));
  CHECK_THROWS_WITH(check_level(Compression::none, 5, "out.txt"),
                    Catch::StartsWith("--level 5: out.txt is not compressed (name it .zst"));
}

TEST_CASE("Sink::open refuses a level outside the codec's range and leaves nothing",
          "[test_codecs]") {
  const char* base = std::getenv("GRIST_TEST_TMP");
  auto dir = std::filesystem::path(base ? base : "/tmp") /
             ("codecs-level-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  struct Case {
    const char* name;
    int level;
    bool zstd;
    const char* error;  // nullptr: accepted
  } cases[] = {
      {"a.gz", 10, false, "takes levels 1-9"},        {"a.bz2", 0, false, "bzip2"},
      {"a.xz", 10, false, "takes levels 0-9"},        {"a.zst", 23, false, "1-22"},
      {"a.txt", 3, false, "not compressed"},         {"a.txt", 0, true, "zstd"},
      {"a.xz", 0, false, nullptr},                   {"a.bz2", 1, false, nullptr},
      {"a.gz", 1, false, nullptr},                   {"a.txt", 1, true, nullptr},
  };
  for (const Case& k : cases) {
    INFO(k.name << " --level " << k.level);
    SinkOptions so;
    so.level = k.level;
    so.force_zstd = k.zstd;
    std::string path = (dir / k.name).string();
    if (k.error) {
      CHECK_THROWS_AS(Sink::open(path, so), UsageError);
      CHECK_THROWS_WITH(Sink::open(path, so), Catch::Contains(k.error) && Catch::Contains(path));
    } else {
      auto s = Sink::open(path, so);
      s->write("x\n");
      s->commit();
      std::ifstream f(path, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      CHECK(decode(bytes) == "x\n");
      std::filesystem::remove(path);
    }
    CHECK(std::filesystem::is_empty(dir));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("every codec round-trips at every read size and level", "[test_codecs]") {
  std::string text = random_text(60000, 1);
  for (const Codec& c : codecs()) {
    for (int level : {kDefaultLevel, c.min_level, c.max_level}) {
      // The top levels of zstd and xz take hundreds of MiB to set up.
      bool heavy = c.kind == Compression::zstd || c.kind == Compression::xz;
      if (level == c.max_level && heavy) continue;
      std::string enc = encode(text, c.kind, level);
      CHECK(enc.size() < text.size());
      for (size_t chunk : {1, 7, 4096, 1 << 20}) {
        INFO(c.name << " level " << level << " chunk " << chunk);
        CHECK(decode(enc, chunk) == text);
      }
      CHECK(Source::from_memory(enc, "m")->compression() == c.kind);
    }
  }
  CHECK(Source::from_memory(text, "m")->compression() == Compression::none);
}

TEST_CASE("the output of each codec is what its own program reads", "[test_codecs]") {
  // The magic numbers of the formats, as their programs write them.
  CHECK(encode("a", Compression::bzip2).substr(0, 4) == "BZh9");
  CHECK(encode("a", Compression::bzip2, 1).substr(0, 4) == "BZh1");
  CHECK(encode("a", Compression::xz).substr(0, 6) == std::string("\xFD" "7zXZ\0", 6));
  CHECK(encode("a", Compression::gzip).substr(0, 2) == "\x1f\x8b");
}

TEST_CASE("empty streams of every codec are empty inputs", "[test_codecs]") {
  for (Compression c : kAll) {
    INFO(compression_name(c));
    std::string e = encode("", c);
    CHECK(!e.empty());
    CHECK(decode(e).empty());
    CHECK(decode(e + e).empty());
    CHECK(decode(e + encode("x\n", c) + e) == "x\n");
  }
}

TEST_CASE("concatenated streams of every codec read as one", "[test_codecs]") {
  std::string a = random_text(20000, 2), b = random_text(1000, 3), c = random_text(5, 4);
  for (Compression k : kAll) {
    INFO(compression_name(k));
    std::string enc = encode_fast(a, k) + encode_fast(b, k) + encode_fast(c, k);
    CHECK(decode(enc) == a + b + c);
    CHECK(decode(enc, 1) == a + b + c);
  }
  // xz: stream padding (a multiple of four zero bytes) between and after streams.
  std::string x = encode(a, Compression::xz), pad(4, '\0');
  CHECK(decode(x + pad + encode(b, Compression::xz) + pad + pad) == a + b);
}

TEST_CASE("a truncated stream of every codec is an error naming the input", "[test_codecs]") {
  std::string text = random_text(30000, 5);
  for (Compression c : kAll) {
    std::string one = encode_fast(text, c);
    std::string two = encode_fast("first\n", c) + one;  // cut inside the second stream
    std::vector<std::pair<std::string, size_t>> cuts;
    for (size_t cut = 1; cut < 64 && cut < one.size(); ++cut) cuts.push_back({one, cut});
    for (size_t cut : {one.size() / 3, one.size() / 2, one.size() - 4, one.size() - 1}) {
      cuts.push_back({one, cut});
      cuts.push_back({two, two.size() - one.size() + cut});
    }
    for (auto& [whole, cut] : cuts) {
      INFO(compression_name(c) << " cut at " << cut << " of " << whole.size());
      std::string part = whole.substr(0, cut);
      // Fewer bytes than the magic number are plain bytes, not a stream.
      if (Source::from_memory(part, "m")->compression() == Compression::none) continue;
      CHECK_THROWS_WITH(decode(part), Catch::StartsWith("mem.in: ") &&
                                          (Catch::Contains("truncated") ||
                                           Catch::Contains("corrupt")));
      CHECK_THROWS_WITH(decode(part, 1), Catch::StartsWith("mem.in: "));
    }
  }
}

TEST_CASE("a corrupt stream of every codec is an error", "[test_codecs]") {
  std::string text = random_text(30000, 6);
  for (Compression c : kAll) {
    std::string enc = encode_fast(text, c);
    for (size_t at : {enc.size() / 4, enc.size() / 2, enc.size() - 6}) {
      INFO(compression_name(c) << " corrupt at " << at);
      std::string bad = enc;
      bad[at] ^= 0x55;
      bad[at + 1] ^= 0x55;
      CHECK_THROWS_WITH(decode(bad), Catch::StartsWith("mem.in: "));
    }
  }
}

TEST_CASE("bytes after the last stream are garbage, not data", "[test_codecs]") {
  for (Compression c : kAll) {
    std::string enc = encode("x\n", c);
    for (std::string tail : {std::string("garbage"), std::string(1, '\0'), std::string(3, '\0'),
                             std::string("BZh"), std::string("\x1f")}) {
      INFO(compression_name(c) << " + " << tail.size() << " bytes");
      CHECK_THROWS_WITH(decode(enc + tail), Catch::StartsWith("mem.in: "));
    }
  }
}

TEST_CASE("sniffing: only a whole magic number makes a compressed input", "[test_codecs]") {
  // Plain text that starts like a magic number stays plain.
  for (std::string s : {"BZh", "BZhx and more\n", "BZh0\n", "\xFD" "7zX\n", "ab\n", ""}) {
    INFO(s);
    CHECK(Source::from_memory(s, "m")->compression() == Compression::none);
    CHECK(decode(s) == s);
  }
  // A plain file that happens to start with "BZh1".."BZh9" is refused, not
  // passed through as text nor cut short.
  CHECK_THROWS_WITH(decode("BZh9 is a bzip2 header\n"), Catch::Contains("bzip2"));
}

TEST_CASE("streams that arrive a byte at a time through a pipe", "[test_codecs]") {
  std::string text = random_text(3000, 7);
  for (Compression c : kAll) {
    INFO(compression_name(c));
    std::string enc = encode(text, c) + encode("end\n", c);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::thread writer([&] {
      for (char ch : enc) {
        if (::write(fds[1], &ch, 1) != 1) break;
      }
      ::close(fds[1]);
    });
    auto src = Source::from_fd(fds[0], "pipe", true);
    std::string out, buf(100, '\0');
    while (size_t n = src->read(buf.data(), buf.size())) out.append(buf.data(), n);
    writer.join();
    CHECK(src->compression() == c);
    CHECK(out == text + "end\n");
  }
}

TEST_CASE("xz output bytes do not depend on the thread count", "[test_codecs]") {
  // Level 0 makes 1 MiB blocks: three, compressed in parallel. (zstd: test_io.)
  std::string text = random_text(2200000, 8);
  std::string one = encode(text, Compression::xz, 0, 1);
  CHECK(encode(text, Compression::xz, 0, 2) == one);
  CHECK(encode(text, Compression::xz, 0, 3) == one);
  CHECK(decode(one) == text);
}

TEST_CASE("a zstd window beyond the memory budget names the -S that reads it", "[test_codecs]") {
  // A 256 MiB window (zstd --long=28 on a stream of unknown size): larger
  // than zstd's default decoder limit of 128 MiB. (zstd --long=30, 1 GiB:
  // tests/e2e/codecs/zstd_window.sh.)
  std::string text = random_text(10000, 9);
  std::string enc(ZSTD_compressBound(text.size()) + 64, '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 28);
  ZSTD_outBuffer ob{enc.data(), enc.size(), 0};
  ZSTD_inBuffer ib{text.data(), text.size(), 0};
  ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_continue);  // size unknown: the window stays
  ib = {nullptr, 0, 0};
  REQUIRE(ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end) == 0);
  ZSTD_freeCCtx(cctx);
  enc.resize(ob.pos);
  ZSTD_frameHeader h;
  REQUIRE(ZSTD_getFrameHeader(&h, enc.data(), enc.size()) == 0);
  REQUIRE(h.windowSize == uint64_t(1) << 28);
  {
    DecoderLimit limit(200 << 20);
    CHECK_THROWS_WITH(decode(enc), "mem.in: zstd window of 256.0 MiB exceeds the memory budget "
                                   "of 200.0 MiB; raise -S to at least 256M");
  }
  {
    DecoderLimit limit(256 << 20);
    CHECK(decode(enc) == text);
  }
  CHECK(decode(enc) == text);  // the default allows every window zstd writes
}

TEST_CASE("an xz dictionary beyond the memory budget names the -S that reads it",
          "[test_codecs]") {
  // A stream whose block header asks for a 256 MiB dictionary: the LZMA2
  // filter's dictionary byte rewritten, and the header's CRC32 with it.
  std::string enc = encode("hello\n", Compression::xz);
  auto byte = [&](size_t i) { return static_cast<unsigned char>(enc[i]); };
  const size_t block = 12;  // after the stream header
  const size_t header_size = (byte(block) + 1) * 4;
  size_t p = block + 2;
  auto skip_vli = [&] { while (byte(p++) & 0x80) {} };
  if (byte(block + 1) & 0x40) skip_vli();  // compressed size
  if (byte(block + 1) & 0x80) skip_vli();  // uncompressed size
  REQUIRE(byte(p) == 0x21);                // LZMA2, one property byte: the dictionary
  REQUIRE(byte(p + 1) == 1);
  enc[p + 2] = 32;  // (2 | 0) << (32 / 2 + 11) = 256 MiB
  uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(enc.data() + block), header_size - 4);
  for (int i = 0; i < 4; ++i) enc[block + header_size - 4 + i] = static_cast<char>(crc >> (8 * i));
  {
    DecoderLimit limit(kMinDecoderMemory);
    CHECK_THROWS_WITH(decode(enc), Catch::StartsWith("mem.in: xz dictionary of 256.") &&
                                       Catch::Contains("exceeds the memory budget of 128.0 MiB; "
                                                       "raise -S to at least 257M"));
  }
  CHECK(decode(enc) == "hello\n");
}

TEST_CASE("fuzz_source findings", "[test_codecs]") {
  // A single-segment zstd frame whose content size, and so window, is
  // close to 2^64: the budget message rounded it up to a power of two past
  // 64 bits (UBSan).
  const unsigned char huge_window[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe4, 0x58, 0x2d, 0x00,
                                       0x08, 0xc3, 0xc3, 0xdd, 0xc3, 0xc3, 0xc3, 0xc3};
  std::string bytes(reinterpret_cast<const char*>(huge_window), sizeof huge_window);
  DecoderLimit limit(kMinDecoderMemory);
  CHECK_THROWS_WITH(decode(bytes), Catch::StartsWith("mem.in: zstd window of ") &&
                                       Catch::EndsWith("exceeds the largest grist reads (2.0 GiB)"));
}
