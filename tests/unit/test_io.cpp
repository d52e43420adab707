#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>
#include <type_traits>
#include <random>
#include <string>

#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/fd.hpp"
#include "grist/io/paths.hpp"
#include "grist/io/peek_block.hpp"
#include "grist/io/pipe.hpp"
#include "grist/io/preflight.hpp"
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

TEST_CASE("peek block reader: the first block is seen, then handed out again", "[test_io]") {
  std::string text = "first line\nsecond\nthird\n";
  for (size_t bs : {size_t(1), size_t(12), size_t(1000)}) {
    BlockReader direct(Source::from_memory(text, "t"), bs);
    std::vector<std::string> expect;
    Block b;
    while (direct.next(b)) expect.emplace_back(b.view());

    BlockReader r(Source::from_memory(text, "t"), bs);
    PeekBlockReader in(r);
    REQUIRE(in.first() != nullptr);
    CHECK(in.first()->view() == expect.front());
    CHECK(in.first()->first_line == 1);
    std::vector<std::string> got;
    while (in.next(b)) {
      got.emplace_back(b.view());
      CHECK(in.first() == nullptr);
    }
    CHECK(got == expect);
    CHECK(r.bytes_read() == text.size());
  }
  BlockReader empty(Source::from_memory("", "e"));
  PeekBlockReader in(empty);
  CHECK(in.first() == nullptr);
  Block b;
  CHECK_FALSE(in.next(b));
}

// Owners of descriptors and codec contexts cannot be copied (a copy would
// close the descriptor or free the context twice).
static_assert(!std::is_copy_constructible_v<Source> && !std::is_copy_assignable_v<Source>);
static_assert(!std::is_copy_constructible_v<Sink> && !std::is_copy_assignable_v<Sink>);
static_assert(!std::is_copy_constructible_v<Encoder> && !std::is_copy_assignable_v<Encoder>);
static_assert(!std::is_copy_constructible_v<BlockReader> &&
              !std::is_copy_assignable_v<BlockReader>);
static_assert(!std::is_copy_constructible_v<PeekBlockReader>);
static_assert(!std::is_copy_constructible_v<UniqueFd> && !std::is_copy_assignable_v<UniqueFd>);
static_assert(!std::is_copy_constructible_v<TempPath> && !std::is_copy_assignable_v<TempPath>);

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

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

size_t entries(const std::filesystem::path& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                           std::filesystem::directory_iterator()));
}

}  // namespace

TEST_CASE("temporary names say program, host and process, and fit NAME_MAX", "[test_io]") {
  std::string t = temp_sibling_name("some/dir/out.txt");
  std::string tag = temp_owner_tag();
  CHECK(t.rfind("some/dir/.out.txt.grist-tmp." + tag + ".", 0) == 0);
  // PROGRAM.HOST.PID: safe characters only, the PID last.
  CHECK(tag.size() > 0);
  for (char c : tag) CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'));
  CHECK(tag.substr(tag.rfind('.') + 1) == std::to_string(getpid()));
  CHECK(temp_sibling_name("a") != temp_sibling_name("a"));  // a counter
  std::string long_base(250, 'x');
  std::string l = temp_sibling_name("d/" + long_base);
  CHECK(l.size() - 2 <= 255);
  CHECK(l.find(".grist-tmp." + tag + ".") != std::string::npos);
}

TEST_CASE("resolve_output: files, symlinks, special files, descriptors", "[test_io]") {
  auto dir = test_dir("resolve");
  std::string d = dir.string();
  using K = OutputTarget::Kind;
  auto t = resolve_output(d + "/new.txt", "x");
  CHECK(t.kind == K::file);
  CHECK_FALSE(t.exists);
  std::ofstream(d + "/old.txt") << "old";
  t = resolve_output(d + "/old.txt", "x");
  CHECK(t.kind == K::file);
  CHECK(t.exists);
  std::filesystem::create_directory(dir / "sub");
  std::filesystem::create_symlink("sub/target", dir / "link1");   // dangling, relative
  std::filesystem::create_symlink("link1", dir / "link2");        // a chain
  t = resolve_output(d + "/link2", "x");
  CHECK(t.kind == K::file);
  CHECK(t.path == d + "/sub/target");
  std::ofstream(d + "/sub/target") << "x";
  CHECK(resolve_output(d + "/link2", "x").exists);
  CHECK(resolve_output(d + "/sub", "x").kind == K::directory);
  CHECK(resolve_output(d + "/sub/", "x").kind == K::directory);
  REQUIRE(::mkfifo((d + "/f.fifo").c_str(), 0600) == 0);
  CHECK(resolve_output(d + "/f.fifo", "x").kind == K::through);
  struct stat null_st;
  if (::stat("/dev/null", &null_st) == 0 && S_ISCHR(null_st.st_mode)) {
    CHECK(resolve_output("/dev/null", "x").kind == K::through);
  }
  t = resolve_output("/dev/stdout", "x");
  CHECK(t.kind == K::descriptor);
  CHECK(t.fd == 1);
  t = resolve_output("/dev/fd/2", "x");
  CHECK(t.kind == K::descriptor);
  CHECK(t.fd == 2);
  t = resolve_output("/proc/self/fd/1", "x");
  CHECK(t.kind == K::descriptor);
  CHECK_THROWS_WITH(resolve_output("/dev/fd/987", "/dev/fd/987"),
                    Catch::StartsWith("/dev/fd/987: cannot write to descriptor 987"));
  std::filesystem::create_symlink("loop2", dir / "loop1");
  std::filesystem::create_symlink("loop1", dir / "loop2");
  CHECK_THROWS_WITH(resolve_output(d + "/loop1", "loop1"),
                    Catch::StartsWith("loop1: cannot create output: Too many levels"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("sink: a symlink's target is replaced, keeping its mode; the link stays", "[test_io]") {
  auto dir = test_dir("sinklink");
  std::string d = dir.string();
  std::filesystem::create_directory(dir / "sub");
  std::ofstream(d + "/sub/target") << "old";
  REQUIRE(::chmod((d + "/sub/target").c_str(), 0600) == 0);
  std::filesystem::create_symlink("sub/target", dir / "link");
  {
    auto s = Sink::open(d + "/link", {});
    // The temporary is beside the target, not beside the link.
    CHECK(entries(dir / "sub") == 2);
    CHECK(entries(dir) == 2);
    s->write("new\n");
    s->commit();
  }
  CHECK(std::filesystem::is_symlink(dir / "link"));
  CHECK(slurp(d + "/sub/target") == "new\n");
  struct stat st;
  REQUIRE(::stat((d + "/sub/target").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(entries(dir / "sub") == 1);
  // A dangling link: its target is created.
  std::filesystem::create_symlink("sub/new", dir / "dangling");
  {
    auto s = Sink::open(d + "/dangling", {});
    s->write("made\n");
    s->commit();
  }
  CHECK(std::filesystem::is_symlink(dir / "dangling"));
  CHECK(slurp(d + "/sub/new") == "made\n");
  CHECK_THROWS_WITH(Sink::open(d + "/sub", {}), Catch::EndsWith("sub: is a directory"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("sink: a FIFO is written through, not replaced", "[test_io]") {
  auto dir = test_dir("sinkfifo");
  std::string fifo = (dir / "out.fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string got;
  std::thread reader([&] { got = slurp(fifo); });
  {
    auto s = Sink::open(fifo, {});  // waits for the reader, as open(2) does
    s->write(std::string(3 << 20, 'z'));
    s->commit();
  }
  reader.join();
  CHECK(got == std::string(3 << 20, 'z'));
  struct stat st;
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(entries(dir) == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("file identity: links, hard links, paths not yet made", "[test_io]") {
  auto dir = test_dir("identity");
  std::string d = dir.string();
  std::ofstream(d + "/a") << "a";
  std::filesystem::create_hard_link(dir / "a", dir / "hard");
  std::filesystem::create_symlink("a", dir / "sym");
  std::filesystem::create_symlink("nothing", dir / "dangling");
  CHECK(same_file(identify_file(d + "/a"), identify_file(d + "/hard")));
  CHECK(same_file(identify_file(d + "/a"), identify_file(d + "/sym")));
  CHECK(same_file(identify_file(d + "/nothing"), identify_file(d + "/./x/../nothing")));
  CHECK(same_file(identify_file(d + "/nothing"), identify_file(d + "/dangling")));
  CHECK_FALSE(same_file(identify_file(d + "/a"), identify_file(d + "/nothing")));
  CHECK(path_within(d + "/x/y", d));
  CHECK(path_within(d, d));
  CHECK_FALSE(path_within(d + "x", d));
  std::filesystem::remove_all(dir);
}

TEST_CASE("check_run_files: collisions are usage errors, missing files errors", "[test_io]") {
  auto dir = test_dir("preflight");
  std::string d = dir.string();
  std::ofstream(d + "/in.txt") << "x\n";
  std::filesystem::create_symlink("m.bin", dir / "m.link");
  {
    RunFiles f;
    f.add_output("-f", d + "/m.bin");
    f.add_output("--readable-model", d + "/m.link");
    CHECK_THROWS_MATCHES(check_run_files(f), UsageError,
                         Catch::Matchers::Message("-f " + d + "/m.bin and --readable-model " + d +
                                                  "/m.link name the same file"));
  }
  {
    RunFiles f;
    f.add_output("-f", "-");
    f.add_output("--readable-model", "-");
    CHECK_THROWS_AS(check_run_files(f), UsageError);
  }
  {
    RunFiles f;  // an output may be an input (atomic replacement)
    f.add_input("FILE", d + "/in.txt");
    f.add_output("-o", d + "/in.txt");
    f.temp_dir = d;
    CHECK_NOTHROW(check_run_files(f));
  }
  {
    RunFiles f;
    f.add_output("-o", d);
    f.temp_dir = d;
    CHECK_THROWS_AS(check_run_files(f), UsageError);
  }
  {
    RunFiles f;
    f.add_inputs("FILE", {d + "/in.txt", "-", d + "/missing.txt"});
    CHECK_THROWS_MATCHES(check_run_files(f), Error,
                         Catch::Matchers::Message(d + "/missing.txt: cannot open: No such file or "
                                                  "directory"));
  }
  {
    RunFiles f;
    f.add_input("FILE", d);
    CHECK_THROWS_WITH(check_run_files(f), Catch::EndsWith(": is a directory"));
    f.input_dirs = true;
    CHECK_NOTHROW(check_run_files(f));
  }
  {
    RunFiles f;
    f.temp_dir = d + "/nonexistent";
    CHECK_THROWS_WITH(check_run_files(f),
                      Catch::EndsWith("nonexistent: cannot create temporary file: No such file or "
                                      "directory"));
    f.temp_dir = d + "/in.txt";
    CHECK_THROWS_WITH(check_run_files(f), Catch::Contains("Not a directory"));
  }
  CHECK(entries(dir) == 2);  // the checks made nothing
  std::filesystem::remove_all(dir);
}

TEST_CASE("a write past the file size limit is an error naming the file", "[test_io]") {
  errno = EFBIG;
  CHECK_THROWS_MATCHES(throw_errno("out.txt", "write error"), Error,
                       Catch::Matchers::Message("out.txt: file size limit exceeded"));
}

// A commit never happens while a terminating signal is pending: for every
// signal of the cleanup set, a child sends it to itself and commits at
// once; whichever comes first (the cleanup thread's sweep or the commit's
// guard), the child dies by that signal, the target never appears and the
// temporary is gone. Forks, so not under TSan (its forked children may not
// start threads).
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GRIST_TEST_TSAN 1
#endif
#endif
#if !defined(__SANITIZE_THREAD__) && !defined(GRIST_TEST_TSAN)
TEST_CASE("no commit while a terminating signal is pending, for every signal", "[test_io]") {
  auto dir = test_dir("guard");
  const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT,   SIGPIPE, SIGALRM, SIGTERM,  SIGUSR1,
                      SIGUSR2, SIGXCPU, SIGXFSZ,   SIGVTALRM, SIGPROF, SIGIO,  SIGPWR,
                      SIGSTKFLT, SIGRTMIN, SIGRTMAX};
  for (int sig : sigs) {
    CAPTURE(sig);
    std::string target = (dir / ("out" + std::to_string(sig))).string();
    std::fflush(nullptr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      struct rlimit no_core = {0, 0};
      setrlimit(RLIMIT_CORE, &no_core);
      // A signal inherited as ignored stays ignored (a background job's
      // SIGINT): this test is about the caught ones.
      signal(sig, SIG_DFL);
      install_signal_cleanup("grist-test");
      int fd = -1;
      TempPath t = TempPath::create_file(temp_sibling_name(target), target, &fd);
      ::close(fd);
      kill(getpid(), sig);
      t.rename_to(target);
      _exit(0);  // not reached: the signal ends the process
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == sig);
    CHECK_FALSE(std::filesystem::exists(target));
  }
  CHECK(entries(dir) == 0);
  std::filesystem::remove_all(dir);
}
#endif

TEST_CASE("fd helpers: whole transfers, named errors, EINTR retried", "[test_io]") {
  char path[] = "/tmp/grist-fd-XXXXXX";
  grist::UniqueFd fd(mkstemp(path));
  REQUIRE(fd);
  unlink(path);
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i / 4096 % 26);
  grist::pwrite_all(fd.get(), big.data(), big.size(), 10, "f");
  std::string back(big.size(), '\0');
  grist::pread_all(fd.get(), back.data(), back.size(), 10, "f");
  CHECK(back == big);
  // Past the end: a message of its own, not a stale errno.
  CHECK_THROWS_WITH(grist::pread_all(fd.get(), back.data(), 100, big.size(), "f"),
                    "f: unexpected end of file");
  CHECK_THROWS_WITH(grist::pwrite_all(-1, "x", 1, 0, "g"), Catch::Contains("g: write error"));
  CHECK_THROWS_WITH(grist::read_some(-1, back.data(), 1, "h"), Catch::Contains("h: read error"));

  // A pipe whose reader drains slowly, while a signal without SA_RESTART
  // interrupts the writer: every byte arrives once, in order.
  int p[2];
  REQUIRE(pipe(p) == 0);
  grist::UniqueFd rd(p[0]), wr(p[1]);
  struct sigaction sa {}, old {};
  sa.sa_handler = [](int) {};
  sigaction(SIGUSR2, &sa, &old);  // no SA_RESTART: write() sees EINTR
  const pthread_t writer_thread = pthread_self();
  std::thread reader([&] {
    std::string got;
    char buf[65536];
    for (int i = 0;; ++i) {
      if (i % 8 == 0) pthread_kill(writer_thread, SIGUSR2);
      size_t n = grist::read_some(rd.get(), buf, sizeof buf, "pipe");
      if (n == 0) break;
      got.append(buf, n);
    }
    CHECK(got == big);
  });
  grist::write_all(wr.get(), big.data(), big.size(), "pipe");
  wr.reset();
  reader.join();
  sigaction(SIGUSR2, &old, nullptr);

  grist::UniqueFd a(dup(0));
  int raw = a.get();
  grist::UniqueFd b(std::move(a));
  CHECK(!a);
  CHECK(b.get() == raw);
  CHECK(b.release() == raw);
  close(raw);
}
