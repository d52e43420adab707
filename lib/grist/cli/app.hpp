// The command-line layer every grist tool shares (docs/design.md, "Common
// options" and "Behaviour").
//
//   int main(int argc, char** argv) {
//     grist::cli::Tool tool("grist-count", "Count keys exactly, ...");
//     Options o;
//     tool.app().add_option("--top", o.top, "...");
//     return tool.run(argc, argv, [&] { ...; return 0; });
//   }
//
// Tool::run parses (exit 2 with a short usage and a "did you mean" on bad
// options; CLI11's own error codes never leak), answers --help/--version and
// the hidden --generate man|bash|zsh|fish|lint|options, caps the thread
// count, starts signal cleanup, runs the body and maps grist::Error to
// "grist-TOOL: msg" and exit 1.
//
// Option values
// -------------
// CLI11 alone reads "-1" into an unsigned option as 2^64-1, 2^64 as 2^64-1,
// "" as 0 and "010" as 8, and takes "nan" and "inf" for a double. So every
// numeric option is declared with add_number (below), which takes only a
// decimal number of the variable's type within the option's bounds; the
// range is stated once, in the declaration. Before parsing, Tool::run also
// refuses an empty value for every FILE or DIR option, and rewords every
// other CLI11 check so that all usage errors read the same:
//   grist-count: invalid argument '-1' for '--top': expected a whole number, 1 or more
//   grist-count: option '--top' requires an argument
// The hidden `--generate options` lists every option with its kind and the
// values just outside its range (tests/e2e/cli/options.sh feeds each
// program every such value, and -1, 2^64, 1e999, nan, inf and ""); an
// option that refuses "abc" but is not declared with add_number is listed
// as "number?" and gets the same treatment, so a forgotten check fails.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "grist/cli/foreign_options.hpp"
#include "grist/io/sink.hpp"
#include "grist/record/skipped.hpp"

namespace grist {
class BlockReader;
class SpillMergeGauge;
}

namespace grist::cli {

// The most threads -j takes. More threads than CPUs only add switching (the
// work is CPU-bound), and each costs a stack and a share of the tables; 256
// is zstd's own limit on workers, above the CPUs of the machines grist runs
// on. Far above it, oneTBB's idle workers spin so hard on few CPUs that the
// one thread reading the input barely runs: `-j 10000` took minutes for two
// lines on two CPUs.
inline constexpr int kMaxThreads = 256;

// The smallest -S a program that takes one accepts, unless it needs more.
inline constexpr uint64_t kMinMemory = uint64_t(1) << 20;

// The values a numeric option takes: min..max, each end included unless
// open (open ends are for floating-point options: a rate above 0, a
// probability between 0 and 1). Whole numbers are decimal digits, with a
// '-' only where min < 0; floating-point values are decimal ([-]D[.D][eN]),
// finite. The default is 0..the type's largest value.
template <class T>
struct Bounds {
  T min = 0;
  T max = std::numeric_limits<T>::max();
  bool min_open = false;
  bool max_open = false;
};

// A number rule as the validator holds it (Bounds without the type).
struct NumberRule {
  bool whole = true;
  int64_t whole_min = 0;     // whole numbers: inclusive bounds
  uint64_t whole_max = 0;
  uint64_t type_max = 0;     // the variable's largest value
  double real_min = 0, real_max = 0;  // floating point
  bool min_open = false, max_open = false;
};

// "a whole number, 1 or more", "a number above 0 and below 1": the range as
// a person writes it, for messages and the option listing.
std::string describe(const NumberRule& rule);

// The validator add_number attaches (exposed for tests): checks and
// canonicalises one value of `option`, returning "" or the whole message
// "invalid argument 'V' for 'OPTION': expected ...".
CLI::Validator number_validator(const std::string& option, const NumberRule& rule);

// A value that is not a plain number but is checked when parsed: -S SIZE,
// --ngrams N-M, --batch-size N|all. `check` returns whether the value is
// good (a grist::UsageError it throws counts as no); the message is then
// "invalid argument 'V' for 'OPTION': expected EXPECTED". `kind` names it in
// the option listing; `below` and `above` are values just outside its range
// ("" for none).
CLI::Validator value_validator(const std::string& option, const std::string& kind,
                               const std::string& below, const std::string& above,
                               const std::string& expected,
                               std::function<bool(const std::string&)> check);

template <class T>
NumberRule number_rule(const Bounds<T>& b) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  NumberRule r;
  r.whole = std::is_integral_v<T>;
  r.min_open = b.min_open;
  r.max_open = b.max_open;
  if constexpr (std::is_integral_v<T>) {
    r.whole_min = static_cast<int64_t>(b.min);
    r.whole_max = static_cast<uint64_t>(b.max);
    r.type_max = static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else {
    r.real_min = static_cast<double>(b.min);
    r.real_max = static_cast<double>(b.max);
  }
  return r;
}

// Declares a numeric option (see "Option values" above):
//   add_number(app, "--top", o.top, "Write only the K largest counts", {.min = 1})
//       ->type_name("K");
template <class T>
CLI::Option* add_number(CLI::App& app, const std::string& names, T& value,
                        const std::string& description, Bounds<T> bounds = {}) {
  CLI::Option* o = app.add_option(names, value, description);
  o->transform(number_validator(o->get_name(), number_rule(bounds)));
  return o;
}

// Declares --on-error ACTION (fail or skip), which sets `value` (its
// default is the value it holds): one spelling for every program.
inline CLI::Option* add_on_error(CLI::App& app, OnError& value, const std::string& description) {
  return app
      .add_option_function<std::string>(
          "--on-error",
          [&value](const std::string& s) { value = s == "skip" ? OnError::skip : OnError::fail; },
          description)
      ->type_name("ACTION")
      ->check(CLI::IsMember({"fail", "skip"}));
}

// Common options, already parsed and resolved.
struct Common {
  std::string output = "-";
  int threads = 0;                // resolved: >= 1
  std::string memory_text;        // as given
  uint64_t memory = 0;            // resolved bytes
  std::string temp_dir;           // resolved: -T, else $TMPDIR, else /tmp
  bool progress = false;          // resolved from --progress/--no-progress/isatty
  bool verbose = false;
  bool quiet = false;
  bool zstd = false;
  int level = -1;                 // grist::kDefaultLevel: not given

  // The output's SinkOptions: --zstd, --level, and `workers` zstd or xz
  // worker threads (the compressed bytes do not depend on them).
  SinkOptions sink_options(int workers = 1) const;
};

// Which common options a tool has; all by default.
struct CommonSet {
  bool output = true;
  bool memory = true;
  bool temp_dir = true;
  bool compression = true;  // --zstd, --level
  uint64_t default_memory = uint64_t(1) << 30;  // when -S is not given
  // What to do about running out of memory, in "out of memory (HINT)": it
  // names the options that size this tool's memory.
  std::string memory_hint = "lower -S/--memory; one long line needs 2 to 5 times its length";
};

// Extra text for the man page.
struct ManText {
  std::string synopsis;     // e.g. "[OPTION]... [FILE]..."
  std::string description;  // paragraphs separated by blank lines
  std::string notes;        // paragraphs, and "$ command" lines (.SH NOTES)
  std::string examples;     // lines "$ command" then explanation lines
  std::string see_also;     // e.g. "grist-count(1), sort(1)"
  // Another program's option names and ours: a subsection at the end of
  // DESCRIPTION, and the answer to an unknown option that is theirs.
  ForeignOptions foreign;
};

// The NOTES paragraphs every program's page shares: a pipeline's status is
// its last program's, so a failed producer goes unseen without pipefail.
std::string pipefail_notes();

class Tool {
 public:
  Tool(std::string name, std::string summary, CommonSet set = {});
  ~Tool();
  Tool(const Tool&) = delete;  // the help formatter points at man_
  Tool& operator=(const Tool&) = delete;

  CLI::App& app() { return *app_; }
  Common& common() { return common_; }
  const Common& common() const { return common_; }
  const std::string& name() const { return name_; }
  ManText& man() { return man_; }

  // Parses and runs. `body` returns the exit status; grist::Error -> 1,
  // grist::UsageError -> 2.
  int run(int argc, char** argv, const std::function<int()>& body);

  // Prints "grist-TOOL: message" on stderr (after flushing stdout), with a
  // CRLF hint where the message shows a value ending in CR.
  void error(const std::string& message) const;
  void warn(const std::string& message) const;

  // The -v summary: "grist-TOOL: N records, X MiB in S s (R MB/s), peak
  // memory P MiB[, extra]". Printed only with --verbose.
  void summary(uint64_t records, uint64_t bytes, const std::string& extra = "") const;

  std::chrono::steady_clock::time_point started() const { return started_; }

  // The -S minimum: throws grist::UsageError "-S TEXT is too small:
  // grist-TOOL needs at least SIZE[ PURPOSE]" when the budget is below
  // `minimum`. Call it in the body (the budget is resolved by then).
  void require_memory(uint64_t minimum, const std::string& purpose = "") const;

 private:
  void add_compression_options();
  int finish_parse_error(const CLI::ParseError& e);
  int generate();  // --generate KIND
  void resolve_common();

  std::string name_;
  std::unique_ptr<CLI::App> app_;
  Common common_;
  CommonSet set_;
  ManText man_;
  std::optional<bool> progress_flag_;
  std::string generate_;
  std::vector<std::string> args_;  // the command line after the program name
  std::chrono::steady_clock::time_point started_;
};

// Peak resident memory of this process, bytes.
uint64_t peak_rss();

// CPUs this process may run on.
int available_cpus();

// The options, option groups included, of `app` (hidden ones too).
std::vector<CLI::Option*> all_options(CLI::App& app);

// One line per option of `app` for `--generate options`, tab-separated:
//   NAME KIND BELOW ABOVE DESCRIPTION
// NAME is the option's name as messages give it (--top); KIND is whole,
// number (add_number), size, ngrams, count-or-all (value_validator),
// choice, file, dir, flag, text (any string) or number? (refuses "abc" but
// has no grist rule); BELOW and ABOVE are values just outside the range,
// "-" for none; DESCRIPTION is the rule in words (or the choices). Probes
// the options (writes their variables): call it only to print and exit.
std::string option_listing(CLI::App& app);

// A progress line on stderr while alive, "grist-TOOL: LABEL 1.2 GiB
// 310 MB/s 42% ETA 0:03", from `done` and `total` (polled; total 0: unknown,
// no percentage nor ETA). LABEL is the phase: "reading", "merging 12 runs".
//   - stderr a terminal: the line is redrawn a few times a second in place.
//     Programs of one pipeline share the terminal: only the one holding a
//     lock on it (flock on the terminal device, taken when free) draws, so
//     their lines never overwrite each other; the line is cleared when the
//     phase ends and the lock passed on.
//   - otherwise (a log file, a pipe): a plain line every few seconds (5 s;
//     GRIST_PROGRESS_INTERVAL=SECONDS overrides, for tests), no CR, no
//     escape codes, and one "LABEL done" line at the end.
class Progress {
 public:
  Progress(const Tool& tool, std::string label, std::function<uint64_t()> done,
           std::function<uint64_t()> total);
  // The raw bytes `reader` has read of its inputs' total size.
  Progress(const Tool& tool, std::string label, const BlockReader& reader);
  // The final merge of `spills` spilled runs (grist-count, grist-shuffle-
  // sort), as `gauge` measures it; none (an empty optional) without spills.
  static std::optional<Progress> of_merge(const Tool& tool, const SpillMergeGauge& gauge,
                                          uint64_t spills, uint64_t spill_bytes,
                                          uint64_t merge_passes);
  ~Progress();  // stops and clears the line
  void stop();

  // The line as drawn (without CR or escapes), for tests.
  static std::string format_line(const std::string& program, const std::string& label,
                                 uint64_t done, uint64_t total, double seconds);

 private:
  void loop();
  void draw(bool final);
  std::string program_, label_;
  std::function<uint64_t()> done_, total_;
  bool terminal_ = false;
  int tty_fd_ = -1;      // the terminal, opened again for its own lock
  bool drawing_ = false; // holds the terminal lock and has drawn
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace grist::cli
