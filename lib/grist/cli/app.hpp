// The command-line layer every grist tool shares (DESIGN.md, "Common
// options" and "Behaviour every program keeps").
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
// the hidden --generate man|bash|zsh|fish, caps the thread count, starts
// signal cleanup, runs the body and maps grist::Error to "grist-TOOL: msg"
// and exit 1.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace grist::cli {

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
  int level = 0;
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
  std::string examples;     // lines "$ command" then explanation lines
  std::string see_also;     // e.g. "grist-count(1), sort(1)"
};

class Tool {
 public:
  Tool(std::string name, std::string summary, CommonSet set = {});
  ~Tool();
  Tool(const Tool&) = delete;  // the help formatter points at man_
  Tool& operator=(const Tool&) = delete;

  CLI::App& app() { return *app_; }
  Common& common() { return common_; }
  const std::string& name() const { return name_; }
  ManText& man() { return man_; }

  // Parses and runs. `body` returns the exit status; grist::Error -> 1,
  // grist::UsageError -> 2.
  int run(int argc, char** argv, const std::function<int()>& body);

  // Prints "grist-TOOL: message" on stderr (after flushing stdout).
  void error(const std::string& message) const;
  void warn(const std::string& message) const;

  // The -v summary: "grist-TOOL: N records, X MiB in S s (R MB/s), peak
  // memory P MiB[, extra]". Printed only with --verbose.
  void summary(uint64_t records, uint64_t bytes, const std::string& extra = "") const;

  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  int finish_parse_error(const CLI::ParseError& e);
  std::string did_you_mean(const std::string& arg) const;

  std::string name_;
  std::unique_ptr<CLI::App> app_;
  Common common_;
  CommonSet set_;
  ManText man_;
  std::optional<bool> progress_flag_;
  std::string generate_;
  std::chrono::steady_clock::time_point started_;
};

// Peak resident memory of this process, bytes.
uint64_t peak_rss();

// CPUs this process may run on.
int available_cpus();

// A progress line on stderr, redrawn a few times a second while alive:
// "FILE-less: 1.2 GiB  310 MB/s  42%  ETA 0:03". `done` and `total` are
// polled; total 0 means unknown (no percentage, no ETA).
class Progress {
 public:
  Progress(bool enabled, std::function<uint64_t()> done, std::function<uint64_t()> total);
  ~Progress();  // stops and clears the line
  void stop();

 private:
  void loop();
  bool enabled_;
  std::function<uint64_t()> done_, total_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace grist::cli
