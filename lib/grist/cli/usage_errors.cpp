// Usage errors in the words GNU programs use: CLI11's parse errors
// reworded, unknown options named (with a "did you mean"), the short usage.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>

#include "grist/cli/app.hpp"
#include "grist/cli/usage.hpp"
#include "grist/error.hpp"

namespace grist::cli {

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

}  // namespace

std::string did_you_mean(const CLI::App& app, const std::string& arg) {
  std::string flag = arg.substr(0, arg.find('='));
  std::string best;
  size_t best_d = 3;
  for (const CLI::Option* o : app.get_options()) {
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

// ExtrasError: the first argument left over, in command-line order ("not
// expected: A B" lists them reversed, joined by spaces); "" if none is.
std::string extra_argument_message(const std::string& what, const std::vector<std::string>& args) {
  std::string rest = what.substr(what.find(": ") + 2);
  std::vector<std::string> left = CLI::detail::split(rest, ' ');
  bool after_dashes = false;
  for (const auto& a : args) {
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
  return "";
}

}  // namespace

// CLI11's messages, in the words GNU programs use (getopt's "option '--x'
// requires an argument", "extra operand 'x'") or grist's own.
std::string parse_error_message(const CLI::ParseError& e, const std::vector<std::string>& args) {
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
    std::string m = extra_argument_message(what, args);
    if (!m.empty()) return m;
  }
  return escape_bytes(what, SIZE_MAX);
}

bool report_unknown_options(CLI::App& app, const std::vector<std::string>& args,
                           const std::function<void(const std::string&)>& say,
                           const ForeignOptions* foreign) {
  // The other program's answer, else ours.
  auto answered = [&](const std::string& name) {
    if (!foreign) return false;
    std::vector<std::string> lines = foreign->answer(name);
    for (const auto& l : lines) say(l);
    return !lines.empty();
  };
  bool unknown_seen = false;
  std::vector<CLI::Option*> options = all_options(app);
  auto find = [&](const std::string& name, bool is_long) -> const CLI::Option* {
    for (const CLI::Option* o : options) {
      for (const auto& n : is_long ? o->get_lnames() : o->get_snames()) {
        if (n == name) return o;
      }
    }
    return nullptr;
  };
  auto takes_value = [](const CLI::Option* o) { return o->get_items_expected_max() != 0; };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      size_t eq = a.find('=');
      const CLI::Option* o = find(a.substr(2, eq == std::string::npos ? eq : eq - 2), true);
      if (!o) {
        unknown_seen = true;
        say("unrecognized option " + quoted_arg(a));
        if (answered(a.substr(0, eq))) continue;
        std::string s = did_you_mean(app, a);
        if (!s.empty()) say("did you mean '" + s + "'?");
      } else if (eq == std::string::npos && takes_value(o)) {
        ++i;  // its value, whatever it looks like
      }
    } else if (a.size() > 1 && a[0] == '-' && !std::isdigit(static_cast<unsigned char>(a[1]))) {
      // -x, -xVALUE, -xy (flags): the letters up to the first that takes a value.
      for (size_t k = 1; k < a.size(); ++k) {
        const CLI::Option* o = find(a.substr(k, 1), false);
        if (!o) {
          if (!unknown_seen) {
            say("invalid option -- " + quoted_arg(a.substr(k, 1)));
            answered("-" + a.substr(k, 1));
          }
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
  return unknown_seen;
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
  if (!report_unknown_options(*app_, args_, say, &man_.foreign)) {
    say(parse_error_message(e, args_));
  }
  std::fprintf(stderr, "Usage: %s %s\nTry '%s --help' for more information.\n", name_.c_str(),
               man_.synopsis.empty() ? "[OPTION]..." : man_.synopsis.c_str(), name_.c_str());
  return 2;
}

}  // namespace grist::cli
