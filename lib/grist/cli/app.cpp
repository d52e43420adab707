#include "grist/cli/app.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
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

// ---------------------------------------------------------------------------
// Option values

namespace {

std::string invalid(const std::string& value, const std::string& option,
                    const std::string& why) {
  return "invalid argument " + quote_input(value) + " for '" + option + "': " + why;
}

std::string u64_text(uint64_t v) { return std::to_string(v); }

// 0.5, 1000000: %g without its cut at six digits.
std::string real_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

bool is_decimal_real(const std::string& s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == n;
}

// The smallest whole value the rule refuses below its range and the
// largest above, as text ("-" for none), for the option listing.
std::string whole_below(const NumberRule& r) {
  if (r.whole_min == std::numeric_limits<int64_t>::min()) return "-";
  return std::to_string(r.whole_min - 1);
}
std::string whole_above(const NumberRule& r) {
  return r.whole_max < r.type_max ? u64_text(r.whole_max + 1) : "-";
}
std::string real_below(const NumberRule& r) {
  if (r.min_open) return real_text(r.real_min);
  return r.real_min > -std::numeric_limits<double>::max() ? real_text(r.real_min - 1) : "-";
}
std::string real_above(const NumberRule& r) {
  if (r.max_open) return real_text(r.real_max);
  return r.real_max < std::numeric_limits<double>::max() ? real_text(r.real_max + 1) : "-";
}

bool zero_allowed(const NumberRule& r) {
  if (r.whole) return r.whole_min <= 0;
  return (r.real_min < 0 || (r.real_min == 0 && !r.min_open)) &&
         (r.real_max > 0 || (r.real_max == 0 && !r.max_open));
}

// The option listing reads the rule back from the validator's name.
constexpr const char* kRulePrefix = "grist:";

}  // namespace

std::string describe(const NumberRule& r) {
  if (r.whole) {
    std::string lo = std::to_string(r.whole_min);
    if (r.whole_max >= r.type_max) return "a whole number, " + lo + " or more";
    return "a whole number from " + lo + " to " + u64_text(r.whole_max);
  }
  const double big = std::numeric_limits<double>::max();
  bool has_lo = r.real_min > -big, has_hi = r.real_max < big;
  std::string lo = real_text(r.real_min), hi = real_text(r.real_max);
  if (!has_lo && !has_hi) return "a finite number";
  if (!has_hi) return r.min_open ? "a finite number above " + lo : "a finite number, " + lo + " or more";
  if (!has_lo) return r.max_open ? "a number below " + hi : "a number, " + hi + " or less";
  if (!r.min_open && !r.max_open) return "a number from " + lo + " to " + hi;
  return std::string("a number ") + (r.min_open ? "above " : "of at least ") + lo + " and " +
         (r.max_open ? "below " : "at most ") + hi;
}

CLI::Validator number_validator(const std::string& option, const NumberRule& rule) {
  std::string expected = "expected " + describe(rule);
  auto check = [option, rule, expected](std::string& value) -> std::string {
    if (rule.whole) {
      // Digits, after a '-' where negatives are allowed; never octal or hex,
      // never a sign that wraps.
      bool negative = !value.empty() && value[0] == '-';
      size_t i = negative ? 1 : 0;
      if (i == value.size()) return invalid(value, option, expected);
      uint64_t mag = 0;
      bool overflow = false;
      for (; i < value.size(); ++i) {
        unsigned d = static_cast<unsigned char>(value[i]) - '0';
        if (d > 9) return invalid(value, option, expected);
        overflow |= __builtin_mul_overflow(mag, 10u, &mag) || __builtin_add_overflow(mag, d, &mag);
      }
      if (overflow) {
        return invalid(value, option,
                       "expected a whole number from " + std::to_string(rule.whole_min) + " to " +
                           u64_text(rule.whole_max));
      }
      bool ok;
      if (negative && mag != 0) {
        ok = rule.whole_min < 0 && mag - 1 <= static_cast<uint64_t>(-(rule.whole_min + 1));
      } else {
        ok = (rule.whole_min <= 0 || mag >= static_cast<uint64_t>(rule.whole_min)) &&
             mag <= rule.whole_max;
      }
      if (!ok) return invalid(value, option, expected);
      value = negative && mag != 0 ? "-" + u64_text(mag) : u64_text(mag);
      return "";
    }
    if (!is_decimal_real(value)) return invalid(value, option, expected);
    double v = std::strtod(value.c_str(), nullptr);
    if (!std::isfinite(v)) return invalid(value, option, expected);  // 1e999
    bool ok = (rule.min_open ? v > rule.real_min : v >= rule.real_min) &&
              (rule.max_open ? v < rule.real_max : v <= rule.real_max);
    if (!ok) return invalid(value, option, expected);
    return "";
  };
  std::string name = std::string(kRulePrefix) + (rule.whole ? "whole" : "number") + "\t" +
                     (zero_allowed(rule) ? "0ok" : "0bad") + "\t" +
                     (rule.whole ? whole_below(rule) : real_below(rule)) + "\t" +
                     (rule.whole ? whole_above(rule) : real_above(rule)) + "\t" + describe(rule);
  return CLI::Validator(check, "", name);
}

CLI::Validator value_validator(const std::string& option, const std::string& kind,
                               const std::string& below, const std::string& above,
                               const std::string& expected,
                               std::function<bool(const std::string&)> check) {
  auto f = [option, expected, check](std::string& value) -> std::string {
    bool ok;
    try {
      ok = check(value);
    } catch (const UsageError&) {
      ok = false;
    }
    return ok ? std::string() : invalid(value, option, "expected " + expected);
  };
  std::string name = std::string(kRulePrefix) + kind + "\t" + (below == "0" ? "0bad" : "0ok") +
                     "\t" + (below.empty() ? "-" : below) + "\t" + (above.empty() ? "-" : above) +
                     "\t" + expected;
  CLI::Validator v(f, "", name);
  v.non_modifying();
  return v;
}

std::vector<CLI::Option*> all_options(CLI::App& app) {
  std::vector<CLI::Option*> out = app.get_options();
  for (CLI::App* group : app.get_subcommands([](CLI::App* a) { return a->get_name().empty(); })) {
    std::vector<CLI::Option*> more = all_options(*group);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

namespace {

const CLI::Validator* grist_rule(CLI::Option* o) {
  for (int i = 0;; ++i) {
    CLI::Validator* v;
    try {
      v = o->get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      return nullptr;
    }
    if (v->get_name().rfind(kRulePrefix, 0) == 0) return v;
  }
}

std::string first_type_component(const CLI::Option* o) {
  std::string t = o->get_type_name();
  return t.substr(0, t.find(':'));
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "FILE", "MODEL_FILE", "DIR": the option names a file or a directory.
const char* path_kind(const CLI::Option* o) {
  std::string t = first_type_component(o);
  if (ends_with(t, "DIR") || ends_with(t, "DIRECTORY")) return "dir";
  if (ends_with(t, "FILE")) return "file";
  return nullptr;
}

bool is_value_option(const CLI::Option* o) {
  return o->get_items_expected_max() != 0 && o->nonpositional();
}

// Reworded checks: CLI11's own messages ("Value 0 not in range 1 to 22",
// "ignore not in {fail,skip}") become "invalid argument 'V' for '--x': ...".
std::string reword(const std::string& why, const CLI::Option* o) {
  std::vector<std::string> values = enumerated_values(*o);
  if (!values.empty()) {
    std::string list;
    for (const auto& v : values) list += (list.empty() ? "" : ", ") + v;
    return "expected one of: " + list;
  }
  if (why.find("could not be converted") != std::string::npos) return "not a number";
  // CLI::Range: "Value X not in range A to B"
  size_t r = why.find(" not in range ");
  size_t to = why.find(" to ", r == std::string::npos ? 0 : r);
  if (r != std::string::npos && to != std::string::npos) {
    double a = std::strtod(why.c_str() + r + 14, nullptr);
    double b = std::strtod(why.c_str() + to + 4, nullptr);
    return "expected a number from " + real_text(a) + " to " + real_text(b);
  }
  return why;
}

// Makes every option's checks speak as grist's do (see app.hpp).
void harden(CLI::App& app) {
  for (CLI::Option* o : all_options(app)) {
    if (!is_value_option(o)) continue;
    // (CLI11 names a hidden option "": messages use its long name.)
    std::string name = o->get_lnames().empty() ? o->get_name() : "--" + o->get_lnames()[0];
    for (int i = 0;; ++i) {
      CLI::Validator* v;
      try {
        v = o->get_validator(i);
      } catch (const CLI::OptionNotFound&) {
        break;
      }
      if (v->get_name().rfind(kRulePrefix, 0) == 0 || !v->get_active()) continue;
      CLI::Validator inner = *v;
      v->operation([inner, name, o](std::string& value) -> std::string {
        std::string why = inner(value);
        if (why.empty()) return why;
        return invalid(value, name, reword(why, o));
      });
    }
    if (const char* kind = path_kind(o)) {
      std::string why = std::string("the ") + (kind[0] == 'd' ? "directory" : "file") +
                        " name is empty";
      o->check([name, why](const std::string& value) {
        return value.empty() ? invalid(value, name, why) : std::string();
      });
    }
  }
}

}  // namespace

std::string option_listing(CLI::App& app) {
  std::string out;
  for (CLI::Option* o : all_options(app)) {
    if (!o->nonpositional()) continue;
    if (o == app.get_help_ptr() || o == app.get_help_all_ptr() || o == app.get_version_ptr()) {
      continue;
    }
    if (o->get_group().empty()) continue;  // hidden: --generate
    std::string name = o->get_name();
    std::string line;
    if (!is_value_option(o)) {
      line = "flag\t-\t-\t-\t-";
    } else if (const CLI::Validator* v = grist_rule(o)) {
      line = v->get_name().substr(std::string(kRulePrefix).size());
    } else if (std::vector<std::string> values = enumerated_values(*o); !values.empty()) {
      std::string list;
      for (const auto& v : values) list += (list.empty() ? "" : ",") + v;
      line = "choice\t-\t-\t-\t" + list;
    } else if (const char* kind = path_kind(o)) {
      line = std::string(kind) + "\t-\t-\t-\t-";
    } else {
      // A value option without a rule: does it refuse a word? Then it is a
      // number read by CLI11 alone.
      bool refused = false;
      o->clear();
      o->add_result("abc");
      try {
        o->run_callback();
      } catch (const CLI::ParseError&) {
        refused = true;
      }
      o->clear();
      line = refused ? "number?\t0ok\t-1\t-\tunchecked number" : "text\t-\t-\t-\t-";
    }
    out += name + "\t" + line + "\n";
  }
  return out;
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
  if (set_.compression) {
    app_->add_flag("--zstd", common_.zstd, "Compress the output with zstd whatever its name");
    // Help and check come from the codec table; whether the level fits the
    // output's codec is checked when the output is opened.
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

namespace {

// "NAME: rest" -> NAME, for CLI11 messages that start with an option name.
std::string leading_name(const std::string& what) { return what.substr(0, what.find(':')); }

std::string quoted_arg(const std::string& a) { return quote_input(a, 200); }

}  // namespace

// CLI11's messages, in the words GNU programs use (getopt's "option '--x'
// requires an argument", "extra operand 'x'") or grist's own.
std::string Tool::parse_error_message(const CLI::ParseError& e) const {
  const std::string what = e.what();
  if (size_t at = what.find("invalid argument '"); at != std::string::npos) {
    return what.substr(at);  // a grist check, already worded
  }
  auto between = [&](const std::string& sep) {
    size_t at = what.find(sep);
    return std::pair(what.substr(0, at), at == std::string::npos ? "" : what.substr(at + sep.size()));
  };
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    std::string name = leading_name(what);
    if (what.find("missing") != std::string::npos || what.find("At least") != std::string::npos) {
      return "option '" + name + "' requires an argument";
    }
    if (what.find("flag override") != std::string::npos) {
      return "option '" + what.substr(0, what.find(' ')) + "' takes no argument";
    }
    return "option '" + name + "' takes one argument (repeat the option for more)";
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e)) {
    auto [name, rest] = between(" is required");
    return "option '" + name + "' is required";
  }
  if (dynamic_cast<const CLI::RequiresError*>(&e)) {
    auto [a, b] = between(" requires ");
    return "option '" + a + "' needs '" + b + "'";
  }
  if (dynamic_cast<const CLI::ExcludesError*>(&e)) {
    auto [a, b] = between(" excludes ");
    return "options '" + a + "' and '" + b + "' exclude each other";
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    if (what.rfind("Could not convert: ", 0) == 0) {
      auto [name, value] = between(" = ");
      return invalid(value, name.substr(19), "not a valid value");
    }
    if (what.find("Should be true/false") != std::string::npos ||
        what.find("too many inputs for a flag") != std::string::npos) {
      return "option '" + leading_name(what) + "' takes no argument";
    }
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    // The first argument left over, in command-line order ("not expected:
    // A B" lists them reversed, joined by spaces).
    std::string rest = what.substr(what.find(": ") + 2);
    std::vector<std::string> left = CLI::detail::split(rest, ' ');
    bool after_dashes = false;
    for (const auto& a : g_args) {
      if (a == "--" && !after_dashes) {
        after_dashes = true;
        continue;
      }
      bool listed = std::find(left.begin(), left.end(), a) != left.end() ||
                    (a.find(' ') != std::string::npos && rest.find(a) != std::string::npos);
      if (!listed) continue;
      bool option = !after_dashes && a.size() > 1 && a[0] == '-' &&
                    !std::isdigit(static_cast<unsigned char>(a[1]));
      if (!option) return "extra operand " + quoted_arg(a);
      return a[1] == '-' ? "unrecognized option " + quoted_arg(a)
                         : "invalid option -- " + quoted_arg(a.substr(1, 1));
    }
  }
  return escape_bytes(what, SIZE_MAX);
}

int Tool::finish_parse_error(const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) {  // --help, --version
    app_->exit(e, std::cout, std::cerr);
    return 0;
  }
  // An unknown option is the error to report, even when CLI11 first found
  // another (a required option missing because its name was mistyped).
  // (No CRLF hint here: these bytes come from the command line.)
  auto say = [&](const std::string& m) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", name_.c_str(), m.c_str());
  };
  bool unknown_seen = false;
  std::vector<CLI::Option*> options = all_options(*app_);
  auto find = [&](const std::string& name, bool is_long) -> const CLI::Option* {
    for (const CLI::Option* o : options) {
      for (const auto& n : is_long ? o->get_lnames() : o->get_snames()) {
        if (n == name) return o;
      }
    }
    return nullptr;
  };
  auto takes_value = [](const CLI::Option* o) { return o->get_items_expected_max() != 0; };
  for (size_t i = 0; i < g_args.size(); ++i) {
    const std::string& a = g_args[i];
    if (a == "--") break;
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      size_t eq = a.find('=');
      const CLI::Option* o = find(a.substr(2, eq == std::string::npos ? eq : eq - 2), true);
      if (!o) {
        unknown_seen = true;
        say("unrecognized option " + quoted_arg(a));
        std::string s = did_you_mean(a);
        if (!s.empty()) say("did you mean '" + s + "'?");
      } else if (eq == std::string::npos && takes_value(o)) {
        ++i;  // its value, whatever it looks like
      }
    } else if (a.size() > 1 && a[0] == '-' && !std::isdigit(static_cast<unsigned char>(a[1]))) {
      // -x, -xVALUE, -xy (flags): the letters up to the first that takes a value.
      for (size_t k = 1; k < a.size(); ++k) {
        const CLI::Option* o = find(a.substr(k, 1), false);
        if (!o) {
          if (!unknown_seen) say("invalid option -- " + quoted_arg(a.substr(k, 1)));
          unknown_seen = true;
          break;
        }
        if (takes_value(o)) {
          if (k + 1 == a.size()) ++i;
          break;
        }
      }
    }
  }
  if (!unknown_seen) say(parse_error_message(e));
  std::fprintf(stderr, "Usage: %s %s\nTry '%s --help' for more information.\n", name_.c_str(),
               man_.synopsis.empty() ? "[OPTION]..." : man_.synopsis.c_str(), name_.c_str());
  return 2;
}

int Tool::run(int argc, char** argv, const std::function<int()>& body) {
  fit_address_space_limit();  // before any thread starts
  install_signal_cleanup(name_);
  g_args.assign(argv + 1, argv + argc);
  harden(*app_);
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
  if (generate_ == "options") {  // for tests of every option's checks
    std::cout << option_listing(*app_);
    return 0;
  }
  if (!generate_.empty()) {
    std::cout << generate_docs(generate_, *app_, name_, app_->get_description(), man_,
                               GRIST_VERSION);
    return 0;
  }
  std::unique_ptr<tbb::global_control> cap;
  try {
    common_.threads =
        common_.threads > 0 ? common_.threads
                            : default_threads_within_limit(std::min(available_cpus(), kMaxThreads));
    cap = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                common_.threads);
    common_.memory = common_.memory_text.empty()
                         ? default_memory_within_limit(set_.default_memory)
                         : parse_memory_size(common_.memory_text);
    // A zstd window or xz dictionary may take up to the budget (-S).
    set_decoder_memory_limit(set_.memory ? common_.memory : kMaxDecoderMemory);
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
    error("out of memory (" + set_.memory_hint + ")");
    return 1;
  } catch (const std::exception& e) {
    error(std::string("internal error: ") + e.what());
    return 1;
  }
}

namespace {

// Seconds between two progress lines on a non-terminal.
double plain_interval() {
  const char* env = std::getenv("GRIST_PROGRESS_INTERVAL");
  if (env && *env) {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (end && *end == '\0' && v > 0 && v < 1e6) return v;
  }
  return 5.0;
}

std::string clock_text(double seconds) {
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

std::string Progress::format_line(const std::string& program, const std::string& label,
                                  uint64_t done, uint64_t total, double seconds) {
  double rate = seconds > 0 ? done / seconds : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %.1f MB/s", rate / 1e6);
  std::string line = program + ": " + label + " " + format_bytes(done) + buf;
  if (total > 0 && done <= total) {
    std::snprintf(buf, sizeof buf, "  %.0f%%", 100.0 * done / total);
    line += buf;
    if (rate > 0) line += "  ETA " + clock_text((total - done) / rate);
  }
  return line;
}

Progress::Progress(const Tool& tool, std::string label, std::function<uint64_t()> done,
                   std::function<uint64_t()> total)
    : program_(tool.name()),
      label_(std::move(label)),
      done_(std::move(done)),
      total_(std::move(total)),
      start_(std::chrono::steady_clock::now()) {
  if (!tool.common().progress) return;
  terminal_ = isatty(STDERR_FILENO);
  if (terminal_) {
    // A descriptor of its own: stderr is shared with the other programs of
    // the pipeline (one open file description), and flock locks belong to
    // the description, so only a fresh open makes the lock exclusive.
    const char* tty = ttyname(STDERR_FILENO);
    if (tty) tty_fd_ = ::open(tty, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  }
  thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() { stop(); }

void Progress::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  if (terminal_) {
    if (drawing_) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    if (tty_fd_ >= 0) ::close(tty_fd_);  // releases the lock
    tty_fd_ = -1;
  } else {
    draw(true);
  }
}

void Progress::draw(bool final) {
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  uint64_t done = done_(), total = total_();
  if (final) {
    std::fprintf(stderr, "%s: %s done: %s in %.1f s\n", program_.c_str(), label_.c_str(),
                 format_bytes(done).c_str(), secs);
    std::fflush(stderr);
    return;
  }
  std::string line = format_line(program_, label_, done, total, secs);
  if (terminal_) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::loop() {
  const auto tick = std::chrono::milliseconds(10);
  const double interval = terminal_ ? 0.25 : plain_interval();
  auto next = std::chrono::steady_clock::now();
  while (!stop_) {
    next += std::chrono::microseconds(static_cast<int64_t>(interval * 1e6));
    while (!stop_ && std::chrono::steady_clock::now() < next) std::this_thread::sleep_for(tick);
    if (stop_) break;
    if (terminal_ && !drawing_) {
      // Another program of the pipeline may be drawing: wait for its turn.
      if (tty_fd_ >= 0 && flock(tty_fd_, LOCK_EX | LOCK_NB) != 0) continue;
      drawing_ = true;
    }
    draw(false);
  }
}

}  // namespace grist::cli
