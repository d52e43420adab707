// The shared command-line layer: option value checks, the escaping of input
// bytes in messages, and the progress line.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "grist/cli/app.hpp"
#include "grist/error.hpp"
#include "grist/record/memsize.hpp"

using grist::escape_bytes;
using grist::quote_input;
using grist::with_crlf_hint;
namespace cli = grist::cli;

namespace {

// Parses `args` (after the program name) with `app`; returns "" or the
// message of the parse error.
std::string parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<const char*> argv = {"prog"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

struct Numbers {
  CLI::App app{"numbers", "prog"};
  uint64_t top = 0;
  uint32_t parts = 1;
  int threads = 0;
  double rate = 1, tau = 0.5, l2 = 0;
  int64_t offset = 0;
  Numbers() {
    cli::add_number(app, "--top", top, "K", {.min = 1});
    cli::add_number(app, "-p,--parts", parts, "N", {.min = 1, .max = 100000});
    cli::add_number(app, "-j,--threads", threads, "N", {.min = 0, .max = 256});
    cli::add_number(app, "--rate", rate, "R", {.min = 0, .min_open = true});
    cli::add_number(app, "--tau", tau, "T", {.min = 0, .max = 1, .min_open = true, .max_open = true});
    cli::add_number(app, "--l2", l2, "X");
    cli::add_number(app, "--offset", offset, "N", {.min = -5, .max = 5});
  }
};

}  // namespace

TEST_CASE("escape_bytes keeps text and escapes what a terminal acts on", "[test_cli]") {
  CHECK(escape_bytes("plain text, naïve 東京") == "plain text, naïve 東京");
  CHECK(escape_bytes("a\tb\rc\nd") == "a\\tb\\rc\\nd");
  CHECK(escape_bytes(std::string_view("x\0y", 3)) == "x\\x00y");
  CHECK(escape_bytes("\x1b[2J\x7f\x07") == "\\x1b[2J\\x7f\\x07");
  CHECK(escape_bytes("back\\slash 'q'") == "back\\\\slash \\'q\\'");
  // Invalid UTF-8: lone bytes, a cut sequence, overlong and surrogate forms.
  CHECK(escape_bytes("\xff\xfe") == "\\xff\\xfe");
  CHECK(escape_bytes("a\xe6\x9d") == "a\\xe6\\x9d");
  CHECK(escape_bytes("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(escape_bytes("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  // Valid UTF-8 that a terminal acts on: C1 CSI, bidi override, separator.
  CHECK(escape_bytes("\xc2\x9b" "31m") == "\\u009b31m");
  CHECK(escape_bytes("\xe2\x80\xae" "abc") == "\\u202eabc");
  CHECK(escape_bytes("\xe2\x80\xa8") == "\\u2028");
  // The output never holds a control byte, whatever the input.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (unsigned char c : escape_bytes(all, all.size())) {
    CHECK((c >= 0x20 && c != 0x7f));
  }
}

TEST_CASE("escape_bytes and quote_input cut long values at a character", "[test_cli]") {
  std::string long_value(100, 'a');
  CHECK(escape_bytes(long_value, 10) == "aaaaaaaaaa...");
  CHECK(quote_input(long_value, 10) == "'aaaaaaaaaa'...");
  CHECK(quote_input("short") == "'short'");
  CHECK(quote_input("") == "''");
  // "é" is two bytes: never cut in half.
  CHECK(escape_bytes("aé", 2) == "a...");
  CHECK(escape_bytes("aé", 3) == "aé");
  CHECK(escape_bytes("/a/path", SIZE_MAX) == "/a/path");
}

TEST_CASE("with_crlf_hint adds the hint for a value that ends in CR", "[test_cli]") {
  std::string hinted = with_crlf_hint("f:1: bad count " + quote_input("7\r"));
  CHECK(hinted.find("CRLF") != std::string::npos);
  CHECK(hinted.find("dos2unix") != std::string::npos);
  CHECK(with_crlf_hint("f:1: disorder: " + escape_bytes("b\r")).find("CRLF") !=
        std::string::npos);
  // A CR inside a value, or a backslash and an r, is not a line end.
  CHECK(with_crlf_hint("x " + quote_input("a\rb")) == "x " + quote_input("a\rb"));
  CHECK(with_crlf_hint("x " + quote_input("a\\r")) == "x " + quote_input("a\\r"));
  CHECK(with_crlf_hint("no value") == "no value");
}

TEST_CASE("grist::Error escapes the file name", "[test_cli]") {
  grist::Error e("a\x1b" "b.txt", 3, "bad");
  CHECK(std::string(e.what()) == "a\\x1bb.txt:3: bad");
  CHECK(e.file() == "a\x1b" "b.txt");
}

TEST_CASE("add_number refuses what CLI11 alone would wrap or take", "[test_cli]") {
  const std::vector<std::string> hostile = {"-1", "18446744073709551616", "1e999", "nan",
                                            "inf", "-inf", "", "abc", "0x10", " 1", "1.5"};
  for (const char* opt : {"--top", "--parts", "--threads"}) {
    for (const auto& v : hostile) {
      Numbers n;
      INFO(opt << " " << v);
      std::string err = parse(n.app, {opt, v});
      CHECK_THAT(err, Catch::Contains("invalid argument '" + escape_bytes(v) + "' for '" +
                                      std::string(opt) + "'"));
    }
  }
  for (const char* opt : {"--rate", "--tau", "--l2"}) {
    for (const auto& v : {"-1", "1e999", "-1e999", "nan", "NaN", "inf", "infinity", "", "abc",
                          "0x1p3", "1e", "."}) {
      Numbers n;
      INFO(opt << " " << v);
      CHECK_THAT(parse(n.app, {opt, v}), Catch::Contains("invalid argument"));
    }
  }
}

TEST_CASE("add_number takes the values of its range, in decimal", "[test_cli]") {
  Numbers n;
  CHECK(parse(n.app, {"--top", "010", "-p", "100000", "-j", "256", "--rate", "1e-3", "--tau",
                      "0.999", "--l2", "0", "--offset", "-5"}) == "");
  CHECK(n.top == 10);  // not octal
  CHECK(n.parts == 100000);
  CHECK(n.threads == 256);
  CHECK(n.rate == Approx(1e-3));
  CHECK(n.tau == Approx(0.999));
  CHECK(n.l2 == 0);
  CHECK(n.offset == -5);
  Numbers m;
  CHECK(parse(m.app, {"--top", "18446744073709551615", "-j", "0", "--offset", "5"}) == "");
  CHECK(m.top == UINT64_MAX);
  CHECK(m.threads == 0);
  CHECK(m.offset == 5);
}

TEST_CASE("add_number refuses the values just outside its range", "[test_cli]") {
  auto refused = [](std::vector<std::string> args) {
    Numbers n;
    return parse(n.app, args);
  };
  CHECK_THAT(refused({"--top", "0"}), Catch::Contains("expected a whole number, 1 or more"));
  CHECK_THAT(refused({"-p", "100001"}),
             Catch::Contains("expected a whole number from 1 to 100000"));
  CHECK_THAT(refused({"-j", "257"}), Catch::Contains("expected a whole number from 0 to 256"));
  CHECK_THAT(refused({"--rate", "0"}), Catch::Contains("expected a finite number above 0"));
  CHECK_THAT(refused({"--tau", "1"}), Catch::Contains("a number above 0 and below 1"));
  CHECK_THAT(refused({"--tau", "0"}), Catch::Contains("a number above 0 and below 1"));
  CHECK_THAT(refused({"--l2", "-0.5"}), Catch::Contains("a finite number, 0 or more"));
  CHECK_THAT(refused({"--offset", "-6"}), Catch::Contains("a whole number from -5 to 5"));
  CHECK_THAT(refused({"--offset", "6"}), Catch::Contains("a whole number from -5 to 5"));
  CHECK_THAT(refused({"--offset", "-9223372036854775809"}), Catch::Contains("invalid argument"));
  // The message never shows a raw control byte of the value.
  CHECK_THAT(refused({"--top", "\x1b[31m\r"}), Catch::Contains("'\\x1b[31m\\r'"));
}

TEST_CASE("describe words a range as a person would", "[test_cli]") {
  CHECK(cli::describe(cli::number_rule(cli::Bounds<uint64_t>{.min = 1})) ==
        "a whole number, 1 or more");
  CHECK(cli::describe(cli::number_rule(cli::Bounds<int>{.min = 1, .max = 30})) ==
        "a whole number from 1 to 30");
  CHECK(cli::describe(cli::number_rule(cli::Bounds<double>{.min = 0, .max = 10})) ==
        "a number from 0 to 10");
  CHECK(cli::describe(cli::number_rule(cli::Bounds<double>{})) == "a finite number, 0 or more");
  CHECK(cli::describe(cli::number_rule(cli::Bounds<double>{.min = 0.5, .max = 1e6})) ==
        "a number from 0.5 to 1000000");
}

TEST_CASE("value_validator checks a value that is not a plain number", "[test_cli]") {
  CLI::App app{"v", "prog"};
  std::string size;
  auto* o = app.add_option("-S,--memory", size, "SIZE");
  o->check(cli::value_validator(o->get_name(), "size", "0", "101%", "a size",
                                [](const std::string& v) {
                                  if (v == "boom") throw grist::UsageError("no");
                                  return v == "4G";
                                }));
  CHECK(parse(app, {"-S", "4G"}) == "");
  CHECK_THAT(parse(app, {"-S", "5G"}),
             Catch::Contains("invalid argument '5G' for '--memory': expected a size"));
  CHECK_THAT(parse(app, {"-S", "boom"}), Catch::Contains("expected a size"));
}

TEST_CASE("option_listing gives every option its kind", "[test_cli]") {
  CLI::App app{"l", "prog"};
  uint64_t top = 0;
  std::string out, mode, raw_text;
  int raw_number = 0;
  bool flag = false;
  cli::add_number(app, "--top", top, "K", {.min = 1})->type_name("K");
  app.add_option("-o,--output", out, "FILE")->type_name("FILE");
  app.add_option("--mode", mode, "M")->check(CLI::IsMember({"a", "b"}));
  app.add_option("--raw", raw_number, "a number CLI11 alone reads")->type_name("N");
  app.add_option("--text", raw_text, "T")->type_name("TEXT_OF_MINE");
  app.add_flag("--flag", flag, "F");
  std::string listing = cli::option_listing(app);
  CHECK_THAT(listing, Catch::Contains("--top\twhole\t0bad\t0\t-\ta whole number, 1 or more\n"));
  CHECK_THAT(listing, Catch::Contains("--output\tfile\t"));
  CHECK_THAT(listing, Catch::Contains("--mode\tchoice\t-\t-\t-\ta,b\n"));
  CHECK_THAT(listing, Catch::Contains("--raw\tnumber?\t"));  // a forgotten check shows
  CHECK_THAT(listing, Catch::Contains("--text\ttext\t"));
  CHECK_THAT(listing, Catch::Contains("--flag\tflag\t"));
}

TEST_CASE("the progress line names the program and the phase", "[test_cli]") {
  std::string line = cli::Progress::format_line("grist-count", "merging 12 runs",
                                                uint64_t(512) << 20, uint64_t(1) << 30, 10);
  CHECK(line.rfind("grist-count: merging 12 runs 512.0 MiB", 0) == 0);
  CHECK_THAT(line, Catch::Contains("50%"));
  CHECK_THAT(line, Catch::Contains("ETA 0:10"));
  for (char c : line) CHECK(static_cast<unsigned char>(c) >= 0x20);  // no CR, no ESC
  // Unknown total: no percentage, no ETA.
  std::string unknown = cli::Progress::format_line("grist-merge", "reading", 1000, 0, 1);
  CHECK(unknown.find('%') == std::string::npos);
  CHECK(unknown.find("ETA") == std::string::npos);
  CHECK(cli::Progress::format_line("p", "reading", 100, 200, 6733).find("ETA 1:52:13") !=
        std::string::npos);
}

namespace {

// Runs `tool` on `args` with stderr captured; returns the exit status.
int run_captured(cli::Tool& tool, std::vector<std::string> args, std::string& err,
                 const std::function<int()>& body = [] { return 0; }) {
  std::vector<const char*> argv = {tool.name().c_str()};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  int saved = dup(STDERR_FILENO);
  dup2(fileno(tmp), STDERR_FILENO);
  int rc = tool.run(static_cast<int>(argv.size()), const_cast<char**>(argv.data()), body);
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::rewind(tmp);
  err.clear();
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) err.append(buf, n);
  std::fclose(tmp);
  return rc;
}

struct Demo {
  cli::Tool tool{"grist-demo", "A demonstration"};
  std::string a, b, mode = "x", input, model;
  uint64_t top = 0;
  Demo() {
    auto& app = tool.app();
    auto* ob = app.add_option("--b", b, "B")->type_name("B");
    app.add_option("--a", a, "A")->type_name("A")->needs(ob);
    app.add_option("--mode", mode, "M")->type_name("M")->check(CLI::IsMember({"x", "y"}));
    cli::add_number(app, "--top", top, "K", {.min = 1})->type_name("K");
    app.add_option("-m,--model", model, "Model")->type_name("FILE");
    app.add_option("INPUT", input, "One input")->type_name("FILE");
  }
};

// The first line of `err`, which must be "grist-demo: MESSAGE", then the
// usage and the hint, as every usage error ends.
std::string message(const std::string& err) {
  CHECK(err.rfind("grist-demo: ", 0) == 0);
  CHECK_THAT(err, Catch::Contains("\nUsage: grist-demo "));
  CHECK_THAT(err, Catch::EndsWith("Try 'grist-demo --help' for more information.\n"));
  return err.substr(12, err.find('\n') - 12);
}

}  // namespace

TEST_CASE("Tool: every CLI11 error reads as GNU programs word theirs", "[test_cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string said;
  };
  const std::vector<Case> cases = {
      {{"--top"}, "option '--top' requires an argument"},
      {{"--top", "0"}, "invalid argument '0' for '--top': expected a whole number, 1 or more"},
      {{"--mode", "z"}, "invalid argument 'z' for '--mode': expected one of: x, y"},
      {{"--a", "1"}, "option '--a' needs '--b'"},
      {{"--progress", "--no-progress"}, "options '--progress' and '--no-progress' exclude each other"},
      {{"in1", "in2"}, "extra operand 'in2'"},
      {{"-Z"}, "invalid option -- 'Z'"},
      {{"--no-such"}, "unrecognized option '--no-such'"},
      {{"-m", ""}, "invalid argument '' for '--model': the file name is empty"},
      {{"-o", ""}, "invalid argument '' for '--output': the file name is empty"},
      {{"-T", ""}, "invalid argument '' for '--temp-dir': the directory name is empty"},
      {{"-j", "257"}, "invalid argument '257' for '--threads': expected a whole number from 0 to 256"},
      {{"-S", "nan"}, "invalid argument 'nan' for '--memory': expected a size above 0"},
      {{"--top", "\x1b]0;x\a\r"}, "invalid argument '\\x1b]0;x\\x07\\r' for '--top'"},
  };
  for (const auto& c : cases) {
    Demo d;
    std::string err;
    INFO(c.args.front());
    CHECK(run_captured(d.tool, c.args, err) == 2);
    CHECK_THAT(message(err), Catch::StartsWith(c.said));
    // No raw control byte; no CRLF hint for bytes of the command line.
    for (unsigned char ch : err) CHECK((ch >= 0x20 || ch == '\n'));
    CHECK(err.find("CRLF") == std::string::npos);
  }
  Demo required;
  required.tool.app().get_option("--b")->required();
  std::string err;
  CHECK(run_captured(required.tool, {}, err) == 2);
  CHECK(message(err) == "option '--b' is required");
}

TEST_CASE("Tool: another program's option names are answered with ours", "[test_cli]") {
  const cli::ForeignOptions other{"Other",
                                  "Coming from Other",
                                  "Their names, ours.",
                                  {{"-k --topk --max_k", "--top K", "--top"},
                                   {"-c --cache", "not needed here", ""},
                                   {"--mode", "--mode M", ""}}};
  CHECK(other.find("--max_k") == &other.options[0]);
  CHECK(other.find("-k") == &other.options[0]);
  CHECK(other.find("--cache") == &other.options[1]);
  CHECK(other.find("--max") == nullptr);  // whole names only
  CHECK(other.find("--top") == nullptr);
  struct Case {
    std::vector<std::string> args;
    std::string said;
  };
  const std::vector<Case> cases = {
      {{"--max_k", "3"},
       "unrecognized option '--max_k'\n"
       "grist-demo: did you mean '--top'? (--max_k is Other's name)"},
      {{"--topk=3"},
       "unrecognized option '--topk=3'\n"
       "grist-demo: did you mean '--top'? (--topk is Other's name)"},
      {{"-c"}, "invalid option -- 'c'\ngrist-demo: -c is Other's option: not needed here"},
      {{"--cache"},
       "unrecognized option '--cache'\ngrist-demo: --cache is Other's option: not needed here"},
      // Not theirs: the nearest of ours, as before.
      {{"--topp"}, "unrecognized option '--topp'\ngrist-demo: did you mean '--top'?"},
  };
  for (const auto& c : cases) {
    Demo d;
    d.tool.man().foreign = other;
    std::string err;
    INFO(c.args.front());
    CHECK(run_captured(d.tool, c.args, err) == 2);
    CHECK_THAT(err, Catch::StartsWith("grist-demo: " + c.said + "\nUsage: grist-demo "));
  }
  // A name we share is ours: no answer, the option works.
  Demo d;
  d.tool.man().foreign = other;
  std::string err;
  CHECK(run_captured(d.tool, {"--mode", "y"}, err) == 0);
  CHECK(err.empty());
  // The man page: a subsection of DESCRIPTION, their spellings in bold.
  d.tool.man().description = "Demo.";
  std::string page;
  {
    std::fflush(stdout);
    FILE* tmp = std::tmpfile();
    REQUIRE(tmp != nullptr);
    int saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    std::vector<std::string> args = {"grist-demo", "--generate", "man"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    d.tool.run(int(argv.size()), argv.data(), [] { return 0; });
    std::fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    std::rewind(tmp);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) page.append(buf, n);
    std::fclose(tmp);
  }
  CHECK_THAT(page, Catch::Contains(".SH DESCRIPTION\nDemo.\n.SS Coming from Other\n"
                                   "Their names, ours.\n"
                                   ".TP\n\\fB\\-k\\fR, \\fB\\-\\-topk\\fR, \\fB\\-\\-max_k\\fR\n"
                                   "\\-\\-top K\n.TP\n"));
}

TEST_CASE("Tool: -j 0 means the CPUs available, at most the maximum", "[test_cli]") {
  Demo d;
  std::string err;
  CHECK(run_captured(d.tool, {"-j", "0"}, err) == 0);
  CHECK(d.tool.common().threads >= 1);
  CHECK(d.tool.common().threads <= cli::kMaxThreads);
  Demo e;
  CHECK(run_captured(e.tool, {"-j", std::to_string(cli::kMaxThreads)}, err) == 0);
  CHECK(e.tool.common().threads == cli::kMaxThreads);
}

TEST_CASE("Tool: require_memory refuses a -S below the program's minimum", "[test_cli]") {
  auto body = [](Demo& d) {
    return [&d] {
      d.tool.require_memory(cli::kMinMemory, "for its tables");
      return 0;
    };
  };
  Demo small;
  std::string err;
  CHECK(run_captured(small.tool, {"-S", "10k"}, err, body(small)) == 2);
  CHECK(err.rfind("grist-demo: -S 10k is too small: grist-demo needs at least " +
                      grist::format_bytes(cli::kMinMemory) + " for its tables\n",
                  0) == 0);
  Demo enough;
  CHECK(run_captured(enough.tool, {"-S", "1M"}, err, body(enough)) == 0);
}

TEST_CASE("Common::sink_options carries --zstd and --level", "[test_cli]") {
  Demo d;
  std::string err;
  CHECK(run_captured(d.tool, {"--zstd", "--level", "7"}, err) == 0);
  grist::SinkOptions so = d.tool.common().sink_options();
  CHECK(so.force_zstd);
  CHECK(so.level == 7);
  CHECK(so.threads == 1);
  CHECK(d.tool.common().sink_options(4).threads == 4);
  Demo plain;
  CHECK(run_captured(plain.tool, {}, err) == 0);
  CHECK_FALSE(plain.tool.common().sink_options().force_zstd);
  CHECK(plain.tool.common().sink_options().level == grist::kDefaultLevel);
}
