// Option values: the number rules of add_number, value_validator, the
// rewording of CLI11's own checks, and the `--generate options` listing
// (see "Option values" in app.hpp).
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "grist/cli/app.hpp"
#include "grist/cli/docgen.hpp"
#include "grist/cli/usage.hpp"
#include "grist/error.hpp"

namespace grist::cli {

std::string invalid(const std::string& value, const std::string& option,
                    const std::string& why) {
  return "invalid argument " + quote_input(value) + " for '" + option + "': " + why;
}

// 0.5, 1000000: %g without its cut at six digits.
std::string real_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

namespace {

std::string u64_text(uint64_t v) { return std::to_string(v); }

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

}  // namespace

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

}  // namespace grist::cli
