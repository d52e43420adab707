#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "grist/cli/app.hpp"
#include "grist/cli/docgen.hpp"
#include "grist/error.hpp"
#include "grist/io/block_reader.hpp"
#include "support/skip.hpp"

using grist::cli::enumerated_values;
using grist::cli::generate_docs;
using grist::cli::lint_options;
using grist::cli::ManText;

namespace {

const char* const kNoMandoc = "mandoc is not installed (scripts/install-deps.sh installs it)";

// A small definition with one option of each kind.
struct Demo {
  CLI::App app{"Count keys exactly, in bounded memory", "grist-demo"};
  ManText man;
  std::vector<std::string> files;
  std::string output, temp, mode = "word", field, model, secret, quoted;
  int threads = 0;
  bool lower = false, verbose = false;

  Demo() {
    app.get_formatter()->column_width(28);
    app.add_option("files", files, "Input files; '-' is stdin")->type_name("FILE");
    app.add_option("-o,--output", output, "Write the output to FILE")->type_name("FILE");
    app.add_option("-j,--threads", threads, "Worker threads")->type_name("N");
    app.add_option("-T,--temp-dir", temp, "Spill directory")->type_name("DIR");
    app.add_option("--mode", mode, "Tokenizer mode")
        ->type_name("MODE")
        ->check(CLI::IsMember({"word", "whitespace"}))
        ->capture_default_str();
    app.add_flag("--lower", lower, "Fold case before counting");
    app.add_flag("-v,-V,--verbose", verbose, "Print a summary: records [and] bytes");
    app.add_option("--quoted", quoted, "Back\\slash, it's \"quoted\"\n.leading dot")
        ->type_name("TEXTY");
    app.add_option("--secret-knob", secret, "Not for users")->group("");
    auto* g = app.add_option_group("Input", "How input is read");
    g->add_option("--field", field, "JSON field holding the text (one of: text, body)")
        ->type_name("NAME");
    g->add_option("-m,--model", model, "Model file")->type_name("FILE");
    auto* h = app.add_option_group("");  // a hidden group
    h->add_option("--hidden-in-group", secret, "Not for users either")->type_name("X");

    man.synopsis = "[OPTION]... [FILE]...";
    man.description =
        "grist-demo counts keys: key\\tcount lines.\n\n"
        ".A paragraph starting with a dot\n'and one with an apostrophe, na\xC3\xAFve.\n\n"
        "Bad \xFF byte, cut \xE6\x9D";
    man.examples = "Count words:\n$ grist-demo -o counts.zst big.txt\n\nTop ten:\n"
                   "$ grist-demo --mode whitespace a b | head\n";
    man.notes = "A producer's failure is not seen here:\n$ set -o pipefail\n\n"
                "Second paragraph.";
    man.see_also = "grist-count(1), sort(1)";
  }

  std::string gen(const std::string& kind) const {
    return generate_docs(kind, app, "grist-demo", app.get_description(), man, "9.8.7");
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string tmp_dir() {
  const char* t = std::getenv("GRIST_TEST_TMP");
  std::string d = t && *t ? t : "/tmp";
  std::filesystem::create_directories(d);
  return d;
}

// Runs a shell command on a file holding `text`; returns its exit status, or
// -1 when `tool` is not installed.
int run_on(const std::string& tool, const std::string& command, const std::string& text,
           const std::string& suffix) {
  if (std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) != 0) return -1;
  std::string path = tmp_dir() + "/test_docgen_" + std::to_string(getpid()) + suffix;
  {
    std::ofstream f(path, std::ios::binary);
    f << text;
  }
  int rc = std::system((command + " " + path).c_str());
  std::filesystem::remove(path);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
}

}  // namespace

TEST_CASE("man page: header, sections, every visible option", "[test_docgen]") {
  Demo d;
  std::string man = d.gen("man");
  CHECK(contains(man, ".TH GRIST-DEMO 1 \"" + std::string(grist::cli::kManDate) +
                          "\" \"grist 9.8.7\" \"grist manual\"\n"));
  CHECK(contains(man, ".SH NAME\ngrist\\-demo \\- Count keys exactly, in bounded memory\n"));
  for (const char* s : {".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH OPTIONS\n",
                        ".SH EXIT STATUS\n", ".SH EXAMPLES\n", ".SH SEE ALSO\n"}) {
    CHECK(contains(man, s));
  }
  CHECK(contains(man, "\\fBgrist\\-demo\\fR [\\fIOPTION\\fR]... [\\fIFILE\\fR]...\n"));
  // Every visible option with all its names and its type name.
  CHECK(contains(man, "\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIFILE\\fR\n"));
  CHECK(contains(man, "\\fB\\-j\\fR, \\fB\\-\\-threads\\fR \\fIN\\fR\n"));
  CHECK(contains(man, "\\fB\\-T\\fR, \\fB\\-\\-temp\\-dir\\fR \\fIDIR\\fR\n"));
  CHECK(contains(man, "\\fB\\-\\-mode\\fR \\fIMODE\\fR\n"));
  CHECK(contains(man, "\\fB\\-\\-lower\\fR\n"));
  CHECK(contains(man, "\\fB\\-v\\fR, \\fB\\-V\\fR, \\fB\\-\\-verbose\\fR\n"));
  CHECK(contains(man, "\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"));
  // Options of an option group, under its heading.
  CHECK(contains(man, ".SS Input\n"));
  CHECK(contains(man, "\\fB\\-\\-field\\fR \\fINAME\\fR\n"));
  CHECK(contains(man, "\\fB\\-m\\fR, \\fB\\-\\-model\\fR \\fIFILE\\fR\n"));
  // The positional.
  CHECK(contains(man, ".TP\n\\fIFILE\\fR...\nInput files; '\\-' is stdin\n"));
  // Enumerated values and a captured default.
  CHECK(contains(man, "One of: \\fBword\\fR, \\fBwhitespace\\fR."));
  CHECK(contains(man, "Default: \\fBword\\fR."));
  // Described values are not listed twice.
  CHECK_FALSE(contains(man, "One of: \\fBtext\\fR"));
  // Exit status 0/1/2.
  CHECK(contains(man, ".B 0\n"));
  CHECK(contains(man, ".B 1\n"));
  CHECK(contains(man, ".B 2\n"));
  // The limits it states are the library's own constants.
  CHECK(contains(man, "a line longer than " + std::to_string(grist::kMaxBlockBytes >> 20) +
                          " MiB is one"));
  CHECK(contains(man, "\\-j above " + std::to_string(grist::cli::kMaxThreads) + ".\n"));
  // Examples: commands in no-fill mode, explanations as text.
  CHECK(contains(man, ".nf\n$ grist\\-demo \\-o counts.zst big.txt\n.fi\n"));
  CHECK(contains(man, "Top ten:\n"));
  CHECK(contains(man, "\\fBgrist\\-count\\fR(1), \\fBsort\\fR(1)\n"));
}

TEST_CASE("man page: hidden options and groups are left out", "[test_docgen]") {
  Demo d;
  for (const char* kind : {"man", "bash", "zsh", "fish"}) {
    std::string out = d.gen(kind);
    INFO(kind);
    CHECK_FALSE(contains(out, "secret"));
    CHECK_FALSE(contains(out, "hidden"));
    CHECK_FALSE(contains(out, "Not for users"));
  }
}

TEST_CASE("man page: roff escaping", "[test_docgen]") {
  Demo d;
  std::string man = d.gen("man");
  // Backslashes as \e, hyphens as \-, lines that would be requests guarded.
  CHECK(contains(man, "grist\\-demo counts keys: key\\etcount lines.\n"));
  CHECK(contains(man, "\\&.A paragraph starting with a dot\n"));
  CHECK(contains(man, "\\&'and one with an apostrophe, na\\[u00EF]ve.\n"));
  CHECK(contains(man, "Back\\eslash, it's \"quoted\"\n\\&.leading dot\n"));
  CHECK(contains(man, "Bad \\[uFFFD] byte, cut \\[uFFFD]\\[uFFFD]\n"));
  // No line but the two headers may start with a request other than the
  // man(7) ones used.
  for (size_t pos = 0; pos < man.size();) {
    size_t end = man.find('\n', pos);
    std::string line = man.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) FAIL("blank line in the page");
    if (line[0] == '.') {
      std::string req = line.substr(0, line.find(' '));
      INFO(line);
      CHECK((req == ".\\\"" || req == ".TH" || req == ".SH" || req == ".SS" || req == ".PP" ||
             req == ".TP" || req == ".B" || req == ".br" || req == ".nf" || req == ".fi" ||
             req == ".RS" || req == ".RE"));
    }
    CHECK(line.back() != ' ');
  }
}

TEST_CASE("man page: NOTES, after EXIT STATUS and before EXAMPLES", "[test_docgen]") {
  Demo d;
  std::string man = d.gen("man");
  size_t status = man.find(".SH EXIT STATUS\n"), notes = man.find(".SH NOTES\n"),
         examples = man.find(".SH EXAMPLES\n");
  REQUIRE(notes != std::string::npos);
  CHECK(status < notes);
  CHECK(notes < examples);
  CHECK(contains(man, ".SH NOTES\nA producer's failure is not seen here:\n.PP\n.RS 4\n.nf\n"
                      "$ set \\-o pipefail\n.fi\n.RE\n.PP\nSecond paragraph.\n.SH EXAMPLES\n"));
  d.man.notes.clear();
  CHECK_FALSE(contains(d.gen("man"), ".SH NOTES"));
}

TEST_CASE("man page: no date, no path, deterministic", "[test_docgen]") {
  Demo d;
  std::string a = d.gen("man");
  CHECK(a == d.gen("man"));
  // The only date is the fixed kManDate; nothing from the clock or the disk.
  char year[8];
  std::time_t now = std::time(nullptr);
  std::strftime(year, sizeof year, "%Y", std::gmtime(&now));
  size_t first = a.find(grist::cli::kManDate);
  REQUIRE(first != std::string::npos);
  std::string rest = a.substr(0, first) + a.substr(first + std::string(grist::cli::kManDate).size());
  CHECK_FALSE(contains(rest, year));
  CHECK_FALSE(contains(a, std::filesystem::current_path().string()));
  for (const char* kind : {"bash", "zsh", "fish"}) CHECK(d.gen(kind) == d.gen(kind));
}

TEST_CASE("man page: passes mandoc -Tlint -Wwarning", "[test_docgen][external]") {
  Demo d;
  int rc = run_on("mandoc", "mandoc -Tlint -Wwarning", d.gen("man"), ".1");
  if (rc == -1) GRIST_SKIP(kNoMandoc);
  CHECK(rc == 0);
}

TEST_CASE("man page: defaults from the definition when ManText is empty",
          "[test_docgen][external]") {
  Demo d;
  d.man = ManText{};
  std::string man = d.gen("man");
  CHECK(contains(man, ".SH SYNOPSIS\n\\fBgrist\\-demo\\fR [\\fIOPTION\\fR]... [\\fIFILE\\fR]...\n"));
  CHECK(contains(man, ".SH DESCRIPTION\nCount keys exactly, in bounded memory\n"));
  CHECK_FALSE(contains(man, ".SH EXAMPLES"));
  CHECK_FALSE(contains(man, ".SH SEE ALSO"));
  int rc = run_on("mandoc", "mandoc -Tlint -Wwarning", man, ".1");
  if (rc == -1) GRIST_SKIP(kNoMandoc);
  CHECK(rc == 0);
}

TEST_CASE("bash completion", "[test_docgen]") {
  Demo d;
  std::string b = d.gen("bash");
  CHECK(contains(b, "_grist_demo()\n"));
  CHECK(contains(b, "complete -F _grist_demo grist-demo\n"));
  for (const char* n : {"-h", "--help", "-o", "--output", "-j", "--threads", "-T", "--temp-dir",
                        "--mode", "--lower", "-v", "-V", "--verbose", "--quoted", "--field",
                        "-m", "--model"}) {
    INFO(n);
    std::string w(n);  // in the word list '-h --help ... --model'
    CHECK((contains(b, " " + w + " ") || contains(b, "'" + w + " ") || contains(b, " " + w + "'")));
  }
  CHECK(contains(b, "        -o|--output)\n            compopt -o filenames"));
  CHECK(contains(b, "        -T|--temp-dir)\n            compopt -o filenames 2>/dev/null\n"
                    "            mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n"));
  CHECK(contains(b, "        --mode)\n            mapfile -t COMPREPLY < <(compgen -W "
                    "'word whitespace' -- \"$cur\")\n"));
  CHECK(contains(b, "        --field)\n            mapfile -t COMPREPLY < <(compgen -W "
                    "'text body' -- \"$cur\")\n"));
  CHECK_FALSE(contains(b, "--lower)"));  // a flag takes no value

  // And it works: source it and ask.
  std::string script = b +
                       "\nCOMP_WORDS=(grist-demo --th); COMP_CWORD=1; _grist_demo\n"
                       "[[ ${COMPREPLY[*]} == --threads ]] || exit 3\n"
                       "COMP_WORDS=(grist-demo --mode w); COMP_CWORD=2; _grist_demo\n"
                       "[[ ${COMPREPLY[*]} == 'word whitespace' ]] || exit 4\n"
                       "COMP_WORDS=(grist-demo --mode = wh); COMP_CWORD=3; _grist_demo\n"
                       "[[ ${COMPREPLY[*]} == whitespace ]] || exit 5\n";
  int rc = run_on("bash", "bash", script, ".bash");
  CHECK(rc == 0);  // bash runs the test suite: never missing
}

TEST_CASE("zsh completion", "[test_docgen][external]") {
  Demo d;
  std::string z = d.gen("zsh");
  CHECK(z.rfind("#compdef grist-demo\n", 0) == 0);
  // The function is named like the file, so that autoloading runs it.
  CHECK(contains(z, "_grist-demo() {\n"));
  CHECK(contains(z, "if [ \"$funcstack[1]\" = \"_grist-demo\" ]; then\n"));
  CHECK(contains(z, "compdef _grist-demo grist-demo\n"));
  CHECK(contains(z, "_arguments -s -S \\\n"));
  CHECK(contains(z, "'(- *)'{-h,--help}'[Print this help message and exit]'"));
  CHECK(contains(z, "'(-o --output)'{-o+,--output=}'[Write the output to FILE]:FILE:_files'"));
  CHECK(contains(z, "'(-T --temp-dir)'{-T+,--temp-dir=}'[Spill directory]:DIR:_files -/'"));
  CHECK(contains(z, "'--mode=[Tokenizer mode]:MODE:(word whitespace)'"));
  CHECK(contains(z, "'--field=[JSON field holding the text (one of\\: text, body)]:NAME:(text "
                    "body)'"));
  CHECK(contains(z, "'--lower[Fold case before counting]'"));
  // Brackets and colons escaped; a quote closes and reopens the word.
  CHECK(contains(z, "[Print a summary\\: records \\[and\\] bytes]"));
  CHECK(contains(z, "[Back\\\\slash, it'\\''s \"quoted\" .leading dot]"));
  CHECK(contains(z, "'*:FILE:_files'\n"));
  int rc = run_on("zsh", "zsh -n", z, ".zsh");
  if (rc == -1) GRIST_SKIP("zsh is not installed (scripts/install-deps.sh installs it)");
  CHECK(rc == 0);
}

TEST_CASE("fish completion", "[test_docgen]") {
  Demo d;
  std::string f = d.gen("fish");
  CHECK(contains(f, "complete -c grist-demo -s o -l output -r -F -d 'Write the output to FILE'\n"));
  CHECK(contains(f, "complete -c grist-demo -s j -l threads -x -d 'Worker threads'\n"));
  CHECK(contains(f, "complete -c grist-demo -s T -l temp-dir -x -a "
                    "'(__fish_complete_directories (commandline -ct))'"));
  CHECK(contains(f, "complete -c grist-demo -l mode -x -a 'word whitespace' -d 'Tokenizer mode'\n"));
  CHECK(contains(f, "complete -c grist-demo -l lower -d 'Fold case before counting'\n"));
  CHECK(contains(f, "complete -c grist-demo -s v -s V -l verbose -d "));
  CHECK(contains(f, "complete -c grist-demo -l field -x -a 'text body' "));
  CHECK(contains(f, "-d 'Back\\\\slash, it\\'s \"quoted\" .leading dot'\n"));
  CHECK(contains(f, "complete -c grist-demo -s m -l model -r -F -d 'Model file'\n"));
  // Positional files: file completion stays on.
  CHECK_FALSE(contains(f, "complete -c grist-demo -f\n"));
}

TEST_CASE("completions without positionals turn file completion off", "[test_docgen]") {
  CLI::App app{"A tool without files", "grist-nofile"};
  int n = 0;
  app.add_option("-n,--count", n, "How many")->type_name("N");
  std::string f = generate_docs("fish", app, "grist-nofile", "x", {}, "1");
  CHECK(contains(f, "complete -c grist-nofile -f\n"));
  std::string z = generate_docs("zsh", app, "grist-nofile", "x", {}, "1");
  CHECK_FALSE(contains(z, "_files"));
  std::string b = generate_docs("bash", app, "grist-nofile", "x", {}, "1");
  CHECK_FALSE(contains(b, "compgen -f -- \"$cur\")\n    return 0\n}"));
}

TEST_CASE("unknown kind is a usage error", "[test_docgen]") {
  Demo d;
  CHECK_THROWS_AS(d.gen("html"), grist::UsageError);
}

TEST_CASE("enumerated values: the convention", "[test_docgen]") {
  CLI::App app;
  std::string a, b, c, e, f;
  auto* by_check = app.add_option("--a", a)->check(CLI::IsMember({"x", "y"}));
  auto* by_type = app.add_option("--b", b)->type_name("{p,q,r}");
  auto* by_text = app.add_option("--c", c, "Pick one (one of: left, right).");
  auto* none = app.add_option("--e", e, "Free text")->type_name("S");
  std::map<std::string, int> m{{"one", 1}, {"two", 2}};
  int mi = 0;
  auto* by_map = app.add_option("--f", mi)->transform(CLI::CheckedTransformer(m));
  CHECK(enumerated_values(*by_check) == std::vector<std::string>{"x", "y"});
  CHECK(enumerated_values(*by_type) == std::vector<std::string>{"p", "q", "r"});
  CHECK(enumerated_values(*by_text) == std::vector<std::string>{"left", "right"});
  CHECK(enumerated_values(*none).empty());
  (void)by_map;  // CheckedTransformer describes "value in {...} OR {...}": not a set by itself
  (void)f;
}

TEST_CASE("lint_options: a clean definition has no problems", "[test_docgen]") {
  Demo d;
  auto problems = lint_options(d.app);
  INFO(Catch::Detail::stringify(problems));
  CHECK(problems.empty());
}

TEST_CASE("lint_options: the common options of grist::cli::Tool are clean",
          "[test_docgen][external]") {
  grist::cli::Tool tool("grist-demo", "A demonstration");
  auto problems = lint_options(tool.app());
  INFO(Catch::Detail::stringify(problems));
  CHECK(problems.empty());
  // And its generated page passes mandoc.
  std::string man = generate_docs("man", tool.app(), "grist-demo", "A demonstration",
                                  tool.man(), "1.0");
  // The hidden --generate.
  CHECK_FALSE(contains(man, "\\fB\\-\\-generate"));
  CHECK_FALSE(contains(man, "completion script"));
  int rc = run_on("mandoc", "mandoc -Tlint -Wwarning", man, ".1");
  if (rc == -1) GRIST_SKIP(kNoMandoc);
  CHECK(rc == 0);
}

TEST_CASE("lint_options: finds each kind of problem", "[test_docgen]") {
  CLI::App app{"x", "grist-bad"};
  app.get_formatter()->column_width(28);
  std::string s, t, u, w;
  int i = 0;
  app.add_option("--untyped", s, "A value with CLI11's type name only");  // TEXT
  app.add_option("--int", i, "An int")->type_name("");                   // none at all
  app.add_option("--mute", t)->type_name("X");                           // no description
  app.add_option("--wide", u,
                 "A description far too long to fit in seventy-nine columns of help text")
      ->type_name("W");
  auto* g = app.add_option_group("Other");
  g->add_option("--untyped", w, "Same name in an option group")->type_name("Y");

  auto problems = lint_options(app);
  auto has = [&](const std::string& needle) {
    for (const auto& p : problems) {
      if (contains(p, needle)) return true;
    }
    return false;
  };
  INFO(Catch::Detail::stringify(problems));
  CHECK(has("duplicated name --untyped"));
  CHECK(has("--untyped: value option without a type name"));
  CHECK(has("--int: value option without a type name"));
  CHECK(has("--mute: no description"));
  CHECK(has("--help line wider than 79 columns"));
  CHECK(problems.size() == 5);
}

TEST_CASE("Tool: --generate works even when a required option is missing", "[test_docgen]") {
  grist::cli::Tool tool("grist-demo", "A demonstration");
  std::string model;
  tool.app().add_option("-m,--model", model, "Model file")->type_name("FILE")->required();
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  const char* argv[] = {"grist-demo", "--generate", "fish"};
  int rc = tool.run(3, const_cast<char**>(argv), [] { return 7; });
  std::cout.rdbuf(old);
  CHECK(rc == 0);
  CHECK(contains(captured.str(), "complete -c grist-demo -s m -l model -r -F -d 'Model file'\n"));
  CHECK_FALSE(contains(captured.str(), "-l generate"));

  // An unknown kind is still a usage error.
  grist::cli::Tool tool2("grist-demo", "A demonstration");
  const char* bad[] = {"grist-demo", "--generate", "html"};
  CHECK(tool2.run(3, const_cast<char**>(bad), [] { return 7; }) == 2);
}
