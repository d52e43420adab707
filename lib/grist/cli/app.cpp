#include "grist/cli/app.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "grist/cli/docgen.hpp"
#include "grist/cli/usage.hpp"
#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
#include "grist/io/codec.hpp"
#include "grist/io/source.hpp"
#include "grist/record/memsize.hpp"

#ifndef GRIST_VERSION
#define GRIST_VERSION "0.0.0"
#endif

namespace grist::cli {

uint64_t peak_rss() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

std::string pipefail_notes() {
  return "A pipeline's exit status is that of its last program. In grist-tokenize "
         "books.txt.gz | grist-count -o counts.tsv.zst, a truncated books.txt.gz makes "
         "grist-tokenize exit 1, but grist-count sees its input end just as it ends after a "
         "complete file: it commits the counts of what it read and exits 0, and so does the "
         "pipeline. The same holds for every grist program that reads a pipe.\n\n"
         "Run pipelines with set -o pipefail (bash, zsh, ksh; not dash, Debian's /bin/sh): "
         "the pipeline then fails when any of its programs fails. Its output is partial "
         "then: write it under a temporary name and rename it only on success, or remove "
         "it.\n"
         "$ set -o pipefail\n"
         "$ grist-tokenize books.txt.gz | grist-count -o counts.tmp.zst && mv counts.tmp.zst "
         "counts.tsv.zst\n"
         "make runs recipes with /bin/sh: give the Makefile SHELL := /bin/bash and "
         ".SHELLFLAGS := -o pipefail -ec (as examples/Makefile of the grist sources "
         "does).";
}

int available_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

namespace {

// --help shows an option's value as its type name alone ("N", "SIZE"), or
// its allowed values ("{fail,skip}"); CLI11's validator and exclusion notes
// ("N:NONNEGATIVE", "Excludes: --quiet") are noise to a reader.
// The usage line is the man page's synopsis, so that --help, usage errors
// and the man page agree.
class HelpFormatter : public CLI::Formatter {
 public:
  explicit HelpFormatter(const ManText* man) : man_(man) {}
  std::string make_usage(const CLI::App* app, std::string name) const override {
    if (man_->synopsis.empty()) return CLI::Formatter::make_usage(app, std::move(name));
    return "Usage: " + name + " " + man_->synopsis + "\n";
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0) return "";
    std::string full = opt->get_type_name();
    std::string label = full.substr(0, full.find(':'));
    size_t brace = full.find('{');
    if (brace != std::string::npos) label = full.substr(brace, full.find('}', brace) + 1 - brace);
    std::string out = label.empty() ? "" : " " + label;
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
    if (opt->get_required()) out += " (required)";
    return out;
  }

 private:
  const ManText* man_;
};

}  // namespace

Tool::Tool(std::string name, std::string summary, CommonSet set)
    : name_(std::move(name)), set_(set), started_(std::chrono::steady_clock::now()) {
  app_ = std::make_unique<CLI::App>(summary, name_);
  app_->set_version_flag("--version", std::string(name_) + " (grist) " + GRIST_VERSION);
  app_->formatter(std::make_shared<HelpFormatter>(&man_));
  app_->get_formatter()->column_width(28);
  app_->option_defaults()->always_capture_default(false);
  if (set_.output) {
    app_->add_option("-o,--output", common_.output, "Write the output to FILE (default: stdout)")
        ->type_name("FILE");
  }
  add_number(*app_, "-j,--threads", common_.threads,
             "Threads, at most 256 (default and 0: all CPUs)",
             {.min = 0, .max = kMaxThreads})
      ->type_name("N");
  if (set_.memory) {
    auto* m = app_->add_option("-S,--memory", common_.memory_text,
                               "Working-memory budget, as in sort: 512M, 4G, 50%")
                  ->type_name("SIZE");
    m->check(value_validator(m->get_name(), "size", "0", "101%",
                             "a size above 0 such as 512M, 4G or 50% (of the memory)",
                             [](const std::string& v) { return parse_memory_size(v) > 0; }));
  }
  if (set_.temp_dir) {
    app_->add_option("-T,--temp-dir", common_.temp_dir,
                     "Spill directory (default: $TMPDIR, else /tmp)")
        ->type_name("DIR");
  }
  if (set_.compression) add_compression_options();
  auto* p = app_->add_flag_callback("--progress", [this] { progress_flag_ = true; },
                                    "Show progress on stderr (default: when a terminal)");
  app_->add_flag_callback("--no-progress", [this] { progress_flag_ = false; },
                          "Never show progress")
      ->excludes(p);
  auto* v = app_->add_flag("-v,--verbose", common_.verbose,
                           "Print a summary (records, bytes, speed, memory)");
  app_->add_flag("-q,--quiet", common_.quiet, "Print errors only")->excludes(v);
  app_->add_option("--generate", generate_, "Write the man page or a completion script")
      ->group("")  // hidden
      ->check(CLI::IsMember({"man", "bash", "zsh", "fish", "lint", "options"}))
      ->trigger_on_parse();  // set even when a required option is missing
}

Tool::~Tool() = default;

// --zstd and --level: help and check come from the codec table; whether the
// level fits the output's codec is checked when the output is opened.
void Tool::add_compression_options() {
  app_->add_flag("--zstd", common_.zstd, "Compress the output with zstd whatever its name");
  app_->add_option("--level", common_.level, "Level (" + level_ranges() + ")")
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            int v = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc() || end != text.data() + text.size()) {
              return text + " is not a whole number";
            }
            if (v < lowest_level() || v > highest_level()) {
              return text + " is not a level of any codec (" + level_ranges() + ")";
            }
            return "";
          },
          "N"));
}

void Tool::error(const std::string& message) const {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %s\n", name_.c_str(), with_crlf_hint(message).c_str());
}

void Tool::warn(const std::string& message) const {
  if (common_.quiet) return;
  std::fflush(stdout);
  std::fprintf(stderr, "%s: warning: %s\n", name_.c_str(), with_crlf_hint(message).c_str());
}

void Tool::summary(uint64_t records, uint64_t bytes, const std::string& extra) const {
  if (!common_.verbose) return;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  double mbs = secs > 0 ? bytes / 1e6 / secs : 0;
  std::fprintf(stderr, "%s: %llu records, %s in %.2f s (%.1f MB/s), peak memory %s%s%s\n",
               name_.c_str(), static_cast<unsigned long long>(records),
               format_bytes(bytes).c_str(), secs, mbs, format_bytes(peak_rss()).c_str(),
               extra.empty() ? "" : ", ", extra.c_str());
}

int Tool::generate() {
  if (generate_ == "lint") {  // the meta-test of the option definition
    auto problems = lint_options(*app_);
    for (const auto& p : problems) std::cout << name_ << ": " << p << "\n";
    return problems.empty() ? 0 : 1;
  }
  if (generate_ == "options") {  // for tests of every option's checks
    std::cout << option_listing(*app_);
    return 0;
  }
  std::cout << generate_docs(generate_, *app_, name_, app_->get_description(), man_,
                             GRIST_VERSION);
  return 0;
}

void Tool::resolve_common() {
  common_.memory = common_.memory_text.empty() ? default_memory_within_limit(set_.default_memory)
                                               : parse_memory_size(common_.memory_text);
  // A zstd window or xz dictionary may take up to the budget (-S).
  set_decoder_memory_limit(set_.memory ? common_.memory : kMaxDecoderMemory);
  common_.temp_dir = resolve_temp_dir(common_.temp_dir);
  common_.progress = progress_flag_ ? *progress_flag_ : (isatty(STDERR_FILENO) && !common_.quiet);
}

int Tool::run(int argc, char** argv, const std::function<int()>& body) {
  fit_address_space_limit();  // before any thread starts
  install_signal_cleanup(name_);
  args_.assign(argv + 1, argv + argc);
  harden(*app_);
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --generate documents the definition: other options do not matter.
    if (generate_.empty()) return finish_parse_error(e);
  }
  if (!generate_.empty()) return generate();
  std::unique_ptr<tbb::global_control> cap;
  try {
    common_.threads =
        common_.threads > 0 ? common_.threads
                            : default_threads_within_limit(std::min(available_cpus(), kMaxThreads));
    cap = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                common_.threads);
    resolve_common();
    int rc = body();
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw Error("(stdout)", "write error");
    return rc;
  } catch (const UsageError& e) {
    error(e.what());
    std::fprintf(stderr, "Try '%s --help' for more information.\n", name_.c_str());
    return 2;
  } catch (const Error& e) {
    error(e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    error("out of memory (" + set_.memory_hint + ")");
    return 1;
  } catch (const std::exception& e) {
    error(std::string("internal error: ") + e.what());
    return 1;
  }
}

void Tool::require_memory(uint64_t minimum, const std::string& purpose) const {
  if (common_.memory >= minimum) return;
  throw UsageError("-S " + common_.memory_text + " is too small: " + name_ + " needs at least " +
                   format_bytes(minimum) + (purpose.empty() ? "" : " " + purpose));
}

SinkOptions Common::sink_options(int workers) const {
  SinkOptions so;
  so.force_zstd = zstd;
  so.level = level;
  so.threads = workers;
  return so;
}

}  // namespace grist::cli
