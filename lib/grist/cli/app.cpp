#include "grist/cli/app.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <tbb/global_control.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "grist/cli/docgen.hpp"
#include "grist/error.hpp"
#include "grist/io/cleanup.hpp"
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

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> g_args;

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
  app_->add_option("-j,--threads", common_.threads, "Worker threads (default: CPUs available)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  if (set_.memory) {
    app_->add_option("-S,--memory", common_.memory_text,
                     "Working-memory budget, as in sort: 512M, 4G, 50%")
        ->type_name("SIZE");
  }
  if (set_.temp_dir) {
    app_->add_option("-T,--temp-dir", common_.temp_dir,
                     "Spill directory (default: $TMPDIR, else /tmp)")
        ->type_name("DIR");
  }
  if (set_.compression) {
    app_->add_flag("--zstd", common_.zstd, "Compress the output with zstd whatever its name");
    app_->add_option("--level", common_.level, "Compression level (zstd 1-19, gzip 1-9)")
        ->type_name("N")
        ->check(CLI::Range(1, 22));
  }
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
      ->check(CLI::IsMember({"man", "bash", "zsh", "fish", "lint"}))
      ->trigger_on_parse();  // set even when a required option is missing
}

Tool::~Tool() = default;

void Tool::error(const std::string& message) const {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %s\n", name_.c_str(), message.c_str());
}

void Tool::warn(const std::string& message) const {
  if (common_.quiet) return;
  std::fflush(stdout);
  std::fprintf(stderr, "%s: warning: %s\n", name_.c_str(), message.c_str());
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

std::string Tool::did_you_mean(const std::string& arg) const {
  std::string flag = arg.substr(0, arg.find('='));
  std::string best;
  size_t best_d = 3;
  for (const CLI::Option* o : app_->get_options()) {
    if (o->get_group().empty()) continue;
    for (const auto& ln : o->get_lnames()) {
      std::string cand = "--" + ln;
      size_t d = edit_distance(flag, cand);
      if (cand.rfind(flag, 0) == 0 && flag.size() > 3) d = 1;  // a prefix
      if (d < best_d) {
        best_d = d;
        best = cand;
      }
    }
  }
  return best;
}

int Tool::finish_parse_error(const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) {  // --help, --version
    app_->exit(e, std::cout, std::cerr);
    return 0;
  }
  // An unknown option is the error to report, even when CLI11 first found
  // another (a required option missing because its name was mistyped).
  bool unknown_seen = false;
  for (const auto& a : g_args) {
    if (a == "--") break;
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      bool known = false;
      std::string flag = a.substr(2, a.find('=') == std::string::npos ? std::string::npos
                                                                       : a.find('=') - 2);
      for (const CLI::Option* o : app_->get_options()) {
        for (const auto& ln : o->get_lnames()) known |= ln == flag;
      }
      if (!known) {
        unknown_seen = true;
        std::fprintf(stderr, "%s: unrecognized option '%s'\n", name_.c_str(), a.c_str());
        std::string s = did_you_mean(a);
        if (!s.empty()) std::fprintf(stderr, "%s: did you mean '%s'?\n", name_.c_str(), s.c_str());
      }
    }
  }
  if (!unknown_seen) std::fprintf(stderr, "%s: %s\n", name_.c_str(), e.what());
  std::fprintf(stderr, "Usage: %s %s\nTry '%s --help' for more information.\n", name_.c_str(),
               man_.synopsis.empty() ? "[OPTION]..." : man_.synopsis.c_str(), name_.c_str());
  return 2;
}

int Tool::run(int argc, char** argv, const std::function<int()>& body) {
  fit_address_space_limit();  // before any thread starts
  install_signal_cleanup();
  g_args.assign(argv + 1, argv + argc);
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --generate documents the definition: other options do not matter.
    if (generate_.empty()) return finish_parse_error(e);
  }
  if (generate_ == "lint") {  // the meta-test of the option definition
    auto problems = lint_options(*app_);
    for (const auto& p : problems) std::cout << name_ << ": " << p << "\n";
    return problems.empty() ? 0 : 1;
  }
  if (!generate_.empty()) {
    std::cout << generate_docs(generate_, *app_, name_, app_->get_description(), man_,
                               GRIST_VERSION);
    return 0;
  }
  std::unique_ptr<tbb::global_control> cap;
  try {
    common_.threads =
        common_.threads > 0 ? common_.threads : default_threads_within_limit(available_cpus());
    cap = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                common_.threads);
    common_.memory = common_.memory_text.empty()
                         ? default_memory_within_limit(set_.default_memory)
                         : parse_memory_size(common_.memory_text);
    common_.temp_dir = resolve_temp_dir(common_.temp_dir);
    common_.progress = progress_flag_ ? *progress_flag_ : (isatty(STDERR_FILENO) && !common_.quiet);
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
    error("out of memory (lower -S/--memory; one long line needs 2 to 5 times its length)");
    return 1;
  } catch (const std::exception& e) {
    error(std::string("internal error: ") + e.what());
    return 1;
  }
}

Progress::Progress(bool enabled, std::function<uint64_t()> done, std::function<uint64_t()> total)
    : enabled_(enabled), done_(std::move(done)), total_(std::move(total)) {
  if (enabled_) thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() { stop(); }

void Progress::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Progress::loop() {
  auto start = std::chrono::steady_clock::now();
  while (!stop_) {
    for (int i = 0; i < 25 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (stop_) break;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    uint64_t done = done_(), total = total_();
    double rate = secs > 0 ? done / secs : 0;
    char line[160];
    int n = std::snprintf(line, sizeof line, "\r%s  %.1f MB/s", format_bytes(done).c_str(),
                          rate / 1e6);
    if (total > 0 && done <= total && rate > 0) {
      double eta = (total - done) / rate;
      int e = static_cast<int>(std::lround(eta));
      std::snprintf(line + n, sizeof line - n, "  %3.0f%%  ETA %d:%02d", 100.0 * done / total,
                    e / 60, e % 60);
    }
    std::fprintf(stderr, "%s\033[K", line);
    std::fflush(stderr);
  }
}

}  // namespace grist::cli
