#include "grist/cli/docgen.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "grist/error.hpp"

namespace grist::cli {

namespace {

// ---------------------------------------------------------------------------
// The definition, flattened.

enum class ValueKind { flag, file, dir, choice, other };

struct Opt {
  const CLI::Option* option = nullptr;
  std::vector<std::string> shorts;  // "-o"
  std::vector<std::string> longs;   // "--output"
  bool positional = false;
  std::string pname;                // positional's name, e.g. "FILE"
  std::string type;                 // "FILE", "N"; empty for a flag
  bool repeat = false;              // takes several values (FILE...)
  bool terminal = false;            // --help, --version: nothing else follows
  std::string description;
  std::string default_value;
  std::vector<std::string> values;  // enumerated values
  ValueKind kind = ValueKind::flag;
  std::string heading;              // the group it is listed under
  std::vector<std::string> excludes;  // names of the options it excludes

  std::vector<std::string> names() const {
    std::vector<std::string> all = shorts;
    all.insert(all.end(), longs.begin(), longs.end());
    return all;
  }
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : s) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

// All whitespace runs to one space, trimmed: a one-line description.
std::string one_line(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
    } else {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// CLI11's full type name is TYPE[:VALIDATOR-DESCRIPTION]...; split it at the
// colons outside braces and brackets.
std::vector<std::string> type_components(const std::string& full) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : full) {
    if (c == '{' || c == '[' || c == '(') ++depth;
    if (c == '}' || c == ']' || c == ')') --depth;
    if (c == ':' && depth <= 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

// "a, b ,c" -> a, b, c (empty items dropped)
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> values;
  for (const auto& item : CLI::detail::split(list, ',')) {
    std::string v = trim(item);
    if (!v.empty()) values.push_back(v);
  }
  return values;
}

// "{a,b->1,c}" -> a, b, c
std::vector<std::string> set_values(const std::string& comp) {
  std::vector<std::string> values;
  for (const auto& item : split_list(comp.substr(1, comp.size() - 2))) {
    std::string v = trim(item.substr(0, item.find("->")));
    if (!v.empty()) values.push_back(v);
  }
  return values;
}

bool is_set(const std::string& comp) {
  return comp.size() >= 2 && comp.front() == '{' && comp.back() == '}';
}

// Values listed as "(one of: a, b, c)" at the end of a description.
std::vector<std::string> described_values(const std::string& description) {
  std::string d = trim(description);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.back() != ')') return {};
  size_t open = d.rfind("(one of:");
  if (open == std::string::npos) return {};
  return split_list(d.substr(open + 8, d.size() - 1 - (open + 8)));
}

ValueKind kind_of(const std::vector<std::string>& comps, bool has_values) {
  if (has_values) return ValueKind::choice;
  for (const auto& c : comps) {
    std::string t = trim(c);
    if (t == "DIR" || ends_with(t, "DIR") || ends_with(t, "DIRECTORY")) return ValueKind::dir;
    // CLI::ExistingPath and CLI::NonexistentPath say "PATH(existing)" and
    // "PATH(non-existing)"; a bare PATH may be a JSON path, so it is not a file.
    if (ends_with(t, "FILE") || t.rfind("PATH(", 0) == 0) {
      return ValueKind::file;
    }
  }
  return ValueKind::other;
}

// The type names CLI11 gives by itself, which say nothing to a user.
bool is_generic_type(const std::string& type) {
  static const std::set<std::string> generic = {"TEXT",  "INT",     "UINT",  "FLOAT",
                                                "BOOLEAN", "CHAR", "ENUM",  "COMPLEX",
                                                "TUPLE", "VECTOR",  "VALUE", "NUMBER"};
  return generic.count(type) > 0;
}

bool is_terminal_option(const CLI::App& app, const CLI::Option* o) {
  return o == app.get_help_ptr() || o == app.get_help_all_ptr() || o == app.get_version_ptr();
}

Opt describe(const CLI::App& app, const CLI::Option* o, const std::string& heading) {
  Opt d;
  d.option = o;
  for (const auto& s : o->get_snames()) d.shorts.push_back("-" + s);
  for (const auto& l : o->get_lnames()) d.longs.push_back("--" + l);
  d.positional = !o->nonpositional() && o->get_positional();
  if (d.positional) d.pname = o->get_name(true, false);
  d.description = trim(o->get_description());
  d.heading = heading;
  d.terminal = is_terminal_option(app, o);
  for (const CLI::Option* x : o->get_excludes()) {
    for (const auto& s : x->get_snames()) d.excludes.push_back("-" + s);
    for (const auto& l : x->get_lnames()) d.excludes.push_back("--" + l);
  }
  if (o->get_items_expected_max() == 0 && !d.positional) {
    d.kind = ValueKind::flag;
    return d;
  }
  std::vector<std::string> comps = type_components(o->get_type_name());
  d.type = trim(comps.front());
  if (d.positional) {
    // Shown by its type name when it has one of its own (FILE), else by name.
    if (!d.type.empty() && !is_generic_type(d.type)) d.pname = d.type;
    d.type = d.pname;
  }
  d.repeat = o->get_expected_max() >= CLI::detail::expected_max_vector_size ||
             o->get_expected_max() > 1;
  d.default_value = o->get_default_str();
  for (const auto& c : comps) {
    if (is_set(trim(c))) {
      d.values = set_values(trim(c));
      break;
    }
  }
  if (d.values.empty()) d.values = described_values(d.description);
  d.kind = kind_of(comps, !d.values.empty());
  if (d.positional && d.kind == ValueKind::other) d.kind = ValueKind::file;
  return d;
}

// Every option of `app` and of its option groups, hidden ones included when
// `with_hidden` (then `hidden` tells which).
void collect(const CLI::App& app, const CLI::App& root, bool group_hidden,
             const std::string& group_heading, bool with_hidden, std::vector<Opt>& out,
             std::vector<bool>* hidden) {
  for (const CLI::Option* o : app.get_options()) {
    // An option group inherits a --help of its own from its parent; CLI11
    // never shows or accepts it there.
    if (&app != &root && (o == app.get_help_ptr() || o == app.get_help_all_ptr())) continue;
    bool h = group_hidden || o->get_group().empty();
    if (h && !with_hidden) continue;
    out.push_back(describe(root, o, group_heading.empty() ? o->get_group() : group_heading));
    if (hidden) hidden->push_back(h);
  }
  for (const CLI::App* sub : app.get_subcommands(
           [](const CLI::App* s) { return s->get_name().empty(); })) {
    bool h = group_hidden || sub->get_group().empty();
    collect(*sub, root, h, sub->get_group(), with_hidden, out, hidden);
  }
}

std::vector<Opt> visible_options(const CLI::App& app) {
  std::vector<Opt> all;
  collect(app, app, false, "", false, all, nullptr);
  return all;
}

// ---------------------------------------------------------------------------
// roff

// One code point of UTF-8 at s[i]; advances i. Invalid bytes give U+FFFD.
uint32_t next_code_point(const std::string& s, size_t& i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  int n = c < 0x80                ? 0
          : (c & 0xE0) == 0xC0    ? 1
          : (c & 0xF0) == 0xE0    ? 2
          : (c & 0xF8) == 0xF0    ? 3
                                  : -1;
  if (n == 0) {
    ++i;
    return c;
  }
  if (n < 0 || i + n >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = c & (0x3F >> n);
  for (int k = 1; k <= n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  i += n + 1;
  return cp;
}

// Text for a roff text line or macro argument: backslashes as \e, every
// hyphen as \- (so that options and commands copy and paste as typed), tabs
// as spaces, non-ASCII as \[uXXXX].
std::string roff_escape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      uint32_t cp = next_code_point(s, i);
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\[u%04X]", static_cast<unsigned>(cp));
      out += buf;
      continue;
    }
    ++i;
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7F) {
      // other control characters have no place in a page
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// A whole text line: escaped, and guarded against being read as a request.
std::string roff_line(const std::string& s) {
  std::string e = roff_escape(s);
  if (!e.empty() && (e[0] == '.' || e[0] == '\'')) e = "\\&" + e;
  return e;
}

std::string bold(const std::string& s) { return "\\fB" + roff_escape(s) + "\\fR"; }
std::string italic(const std::string& s) { return "\\fI" + roff_escape(s) + "\\fR"; }

// Upper-case words (OPTION, FILE) in italics, the rest escaped.
std::string roff_synopsis(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (std::isupper(static_cast<unsigned char>(s[i]))) {
      size_t j = i;
      while (j < s.size() && (std::isupper(static_cast<unsigned char>(s[j])) ||
                              std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) {
        ++j;
      }
      bool word_start = i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1]));
      bool word_end = j == s.size() || !std::isalnum(static_cast<unsigned char>(s[j]));
      if (j - i >= 2 && word_start && word_end) {
        out += italic(s.substr(i, j - i));
        i = j;
        continue;
      }
      out += roff_escape(s.substr(i, j - i));
      i = j;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !std::isupper(static_cast<unsigned char>(s[j]))) ++j;
    out += roff_escape(s.substr(i, j - i));
    i = j;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

// "grist-count(1), sort(1)" with the page names in bold.
std::string roff_see_also(const std::string& s) {
  std::string out;
  size_t i = 0;
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '+';
  };
  while (i < s.size()) {
    if (name_char(s[i]) && (i == 0 || !name_char(s[i - 1]))) {
      size_t j = i;
      while (j < s.size() && name_char(s[j])) ++j;
      size_t k = j;
      if (k < s.size() && s[k] == '(') {
        size_t close = s.find(')', k);
        if (close != std::string::npos && close > k + 1 &&
            std::isdigit(static_cast<unsigned char>(s[k + 1]))) {
          out += bold(s.substr(i, j - i)) + roff_escape(s.substr(k, close + 1 - k));
          i = close + 1;
          continue;
        }
      }
      out += roff_escape(s.substr(i, j - i));
      i = j;
      continue;
    }
    out += roff_escape(std::string(1, s[i]));
    ++i;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Text lines, blank lines starting new paragraphs (each after a .PP).
void roff_paragraphs(std::ostringstream& out, const std::string& text) {
  bool in_para = false;
  for (const std::string& raw : split_lines(text)) {
    std::string line = trim(raw);
    if (line.empty()) {
      in_para = false;
      continue;
    }
    if (!in_para) out << ".PP\n";
    in_para = true;
    out << roff_line(line) << "\n";
  }
}

// Text paragraphs (blank lines between them) and code blocks (lines
// starting with "$ "), as EXAMPLES and NOTES hold them.
void roff_text_and_code(std::ostringstream& out, const std::string& text_and_code) {
  enum { none, text, code } state = none;
  bool first = true;  // no paragraph macro right after .SH
  auto para = [&] {
    if (!first) out << ".PP\n";
    first = false;
  };
  for (const std::string& raw : split_lines(text_and_code)) {
    std::string line = trim(raw);
    bool is_code = line.rfind("$ ", 0) == 0 || line == "$";
    if (line.empty()) {
      if (state == code) out << ".fi\n.RE\n";
      state = none;
      continue;
    }
    if (is_code && state != code) {
      para();
      out << ".RS 4\n.nf\n";
      state = code;
    } else if (!is_code && state != text) {
      if (state == code) out << ".fi\n.RE\n";
      para();
      state = text;
    }
    out << roff_line(line) << "\n";
  }
  if (state == code) out << ".fi\n.RE\n";
}

std::string default_synopsis(const std::vector<Opt>& opts) {
  std::string s = "[OPTION]...";
  for (const Opt& o : opts) {
    if (!o.positional) continue;
    bool required = o.option->get_required();
    std::string p = o.pname + (o.repeat ? "..." : "");
    s += " " + (required ? p : "[" + o.pname + "]" + (o.repeat ? "..." : ""));
  }
  return s;
}

void man_option(std::ostringstream& out, const Opt& o) {
  out << ".TP\n";
  std::string head;
  if (o.positional) {
    head = italic(o.pname) + (o.repeat ? "..." : "");
  } else {
    for (const auto& n : o.names()) head += (head.empty() ? "" : ", ") + bold(n);
    if (o.kind != ValueKind::flag) {
      head += " " + italic(o.type.empty() ? "VALUE" : o.type) + (o.repeat ? "..." : "");
    }
  }
  out << head << "\n";
  for (const std::string& raw : split_lines(o.description)) {
    std::string line = trim(raw);
    if (!line.empty()) out << roff_line(line) << "\n";
  }
  std::string ldesc = lower(o.description);
  if (!o.values.empty() && ldesc.find("(one of:") == std::string::npos) {
    std::string list;
    for (const auto& v : o.values) list += (list.empty() ? "" : ", ") + bold(v);
    out << ".br\nOne of: " << list << ".\n";
  }
  if (!o.default_value.empty() && ldesc.find("default") == std::string::npos) {
    out << ".br\nDefault: " << bold(o.default_value) << ".\n";
  }
}

std::string generate_man(const CLI::App& app, const std::string& name, const std::string& summary,
                         const ManText& man, const std::string& version) {
  std::vector<Opt> opts = visible_options(app);
  std::ostringstream out;
  out << ".\\\" Generated by " << name << " --generate man (grist " << version
      << "); do not edit.\n";
  out << ".TH " << upper(name) << " 1 \"" << kManDate << "\" \"grist " << version
      << "\" \"grist manual\"\n";

  out << ".SH NAME\n" << roff_escape(name) << " \\- " << roff_escape(one_line(summary)) << "\n";

  out << ".SH SYNOPSIS\n";
  std::string synopsis = trim(man.synopsis).empty() ? default_synopsis(opts) : trim(man.synopsis);
  out << bold(name) << " " << roff_synopsis(one_line(synopsis)) << "\n";

  out << ".SH DESCRIPTION\n";
  if (trim(man.description).empty()) {
    out << roff_line(one_line(summary)) << "\n";
  } else {
    std::ostringstream body;
    roff_paragraphs(body, man.description);
    std::string b = body.str();
    // The first paragraph follows .SH directly: no .PP needed.
    if (b.rfind(".PP\n", 0) == 0) b = b.substr(4);
    out << b;
  }

  if (!opts.empty()) out << ".SH OPTIONS\n";
  for (const Opt& o : opts) {
    if (o.positional) man_option(out, o);
  }
  std::vector<std::string> headings;
  for (const Opt& o : opts) {
    if (!o.positional && std::find(headings.begin(), headings.end(), o.heading) == headings.end()) {
      headings.push_back(o.heading);
    }
  }
  for (const std::string& h : headings) {
    if (headings.size() > 1) out << ".SS " << roff_escape(h) << "\n";
    for (const Opt& o : opts) {
      if (!o.positional && o.heading == h) man_option(out, o);
    }
  }

  out << ".SH EXIT STATUS\n"
         ".TP\n.B 0\nSuccess.\n"
         ".TP\n.B 1\nA runtime or data error (a line longer than 4000 MiB is one); a message\n"
         "on standard error names the file and, where it applies, the line.\n"
         ".TP\n.B 2\nA usage error: an unknown or bad option or option value. Numbers are\n"
         "decimal and within the option's range: a sign on a count, a value past\n"
         "2^64\\-1, nan, inf, an empty value and 0 where it means nothing are\n"
         "refused, never wrapped; so is an empty file name, and \\-j above 256.\n";

  out << ".SH DIAGNOSTICS\n"
         "Messages go to standard error as\n"
         "\\fIprogram\\fR: \\fIfile\\fR:\\fIline\\fR: what is wrong.\n"
         "Bytes from the input are shown escaped (\\et, \\er, \\ex1b, \\exff; long values\n"
         "cut with ...), so that no message can act on the terminal; a value\n"
         "that ends in a CR adds a hint about files with CRLF line ends.\n";
  if (app.get_option_no_throw("--progress")) {
    out << ".PP\n"
           "With \\-\\-progress, progress goes to standard error too, each line\n"
           "starting with the program's name and the phase (reading, merging N runs).\n"
           "On a terminal the line is redrawn in place, and of the programs of a\n"
           "pipeline one draws at a time; elsewhere a plain line comes every few\n"
           "seconds, and one when the phase is done.\n";
  }

  if (!trim(man.notes).empty()) {
    out << ".SH NOTES\n";
    roff_text_and_code(out, man.notes);
  }

  if (!trim(man.examples).empty()) {
    out << ".SH EXAMPLES\n";
    roff_text_and_code(out, man.examples);
  }

  if (!trim(man.see_also).empty()) {
    out << ".SH SEE ALSO\n" << roff_see_also(one_line(man.see_also)) << "\n";
  }
  return out.str();
}

// ---------------------------------------------------------------------------
// Shells

// A single-quoted word for sh, bash and zsh.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string function_name(const std::string& name) {
  std::string f = "_";
  for (char c : name) f += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return f;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string generate_bash(const CLI::App& app, const std::string& name,
                          const std::string& version) {
  std::vector<Opt> opts = visible_options(app);
  std::string fn = function_name(name);
  std::ostringstream out;
  out << "# bash completion for " << name << "                     -*- shell-script -*-\n"
      << "# Generated by " << name << " --generate bash (grist " << version
      << "); do not edit.\n\n";
  out << fn << "()\n{\n"
      << "    local cur prev\n"
      << "    cur=${COMP_WORDS[COMP_CWORD]}\n"
      << "    prev=\n"
      << "    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      << "    # --opt=value: bash splits at '=' (COMP_WORDBREAKS)\n"
      << "    if [[ $cur == = ]]; then\n"
      << "        cur=\n"
      << "    elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then\n"
      << "        prev=${COMP_WORDS[COMP_CWORD-2]}\n"
      << "    fi\n"
      << "    COMPREPLY=()\n\n"
      << "    case $prev in\n";
  std::vector<std::string> all_names;
  for (const Opt& o : opts) {
    if (o.positional) continue;
    for (const auto& n : o.names()) all_names.push_back(n);
    if (o.kind == ValueKind::flag) continue;
    out << "        " << join(o.names(), "|") << ")\n";
    switch (o.kind) {
      case ValueKind::file:
        out << "            compopt -o filenames 2>/dev/null\n"
            << "            mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n";
        break;
      case ValueKind::dir:
        out << "            compopt -o filenames 2>/dev/null\n"
            << "            mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n";
        break;
      case ValueKind::choice:
        out << "            mapfile -t COMPREPLY < <(compgen -W " << sh_quote(join(o.values, " "))
            << " -- \"$cur\")\n";
        break;
      default:
        out << "            # " << (o.type.empty() ? "a value" : o.type) << ": nothing to offer\n";
        break;
    }
    out << "            return 0\n            ;;\n";
  }
  out << "    esac\n\n";
  std::string words = sh_quote(join(all_names, " "));
  const Opt* positional = nullptr;
  for (const Opt& o : opts) {
    if (o.positional) {
      positional = &o;
      break;
    }
  }
  if (positional) {
    out << "    if [[ $cur == -* ]]; then\n"
        << "        mapfile -t COMPREPLY < <(compgen -W " << words << " -- \"$cur\")\n"
        << "        return 0\n"
        << "    fi\n";
    switch (positional->kind) {
      case ValueKind::choice:
        out << "    mapfile -t COMPREPLY < <(compgen -W " << sh_quote(join(positional->values, " "))
            << " -- \"$cur\")\n";
        break;
      case ValueKind::dir:
        out << "    compopt -o filenames 2>/dev/null\n"
            << "    mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n";
        break;
      default:
        out << "    compopt -o filenames 2>/dev/null\n"
            << "    mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n";
        break;
    }
  } else {
    out << "    mapfile -t COMPREPLY < <(compgen -W " << words << " -- \"$cur\")\n";
  }
  out << "    return 0\n} &&\n"
      << "complete -F " << fn << " " << name << "\n";
  return out.str();
}

// Text inside a zsh _arguments "[explanation]" or ":message:".
std::string zsh_escape(const std::string& s) {
  std::string out;
  for (char c : one_line(s)) {
    if (c == '\\' || c == ']' || c == '[' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_action(const Opt& o) {
  switch (o.kind) {
    case ValueKind::file:
      return "_files";
    case ValueKind::dir:
      return "_files -/";
    case ValueKind::choice: {
      std::string a = "(";
      for (size_t i = 0; i < o.values.size(); ++i) {
        if (i) a += ' ';
        for (char c : o.values[i]) {
          if (c == '\\' || c == ' ' || c == '(' || c == ')' || c == ':') a += '\\';
          a += c;
        }
      }
      return a + ")";
    }
    default:
      return " ";
  }
}

std::string generate_zsh(const CLI::App& app, const std::string& name,
                         const std::string& version) {
  std::vector<Opt> opts = visible_options(app);
  // Named like the file (_grist-count), so that when compinit autoloads the
  // file, $funcstack[1] tells that the body is being run as the function.
  std::string fn = "_" + name;
  std::ostringstream out;
  out << "#compdef " << name << "\n"
      << "# zsh completion for " << name << "; generated by " << name
      << " --generate zsh (grist " << version << "); do not edit.\n\n";
  out << fn << "() {\n"
      << "  _arguments -s -S \\\n";
  std::vector<std::string> specs;
  for (const Opt& o : opts) {
    if (o.positional) continue;
    std::vector<std::string> names = o.names();
    std::string excl;
    if (o.terminal) {
      excl = "(- *)";
    } else {
      std::vector<std::string> ex;
      if (!o.repeat && names.size() > 1) ex = names;
      for (const auto& x : o.excludes) {
        if (std::find(ex.begin(), ex.end(), x) == ex.end()) ex.push_back(x);
      }
      if (!ex.empty()) excl = "(" + join(ex, " ") + ")";
    }
    std::vector<std::string> forms;
    for (const auto& n : names) {
      std::string f = n;
      if (o.kind != ValueKind::flag) f += n.size() == 2 ? "+" : "=";
      forms.push_back(f);
    }
    std::string tail = "[" + zsh_escape(o.description) + "]";
    if (o.kind != ValueKind::flag) {
      std::string type = o.type.empty() ? "VALUE" : o.type;
      tail += ":" + zsh_escape(type) + ":" + zsh_action(o);
    }
    std::string prefix = excl + (o.repeat ? "*" : "");
    std::string spec;
    if (forms.size() == 1) {
      spec = sh_quote(prefix + forms[0] + tail);
    } else {
      spec = (prefix.empty() ? "" : sh_quote(prefix)) + "{" + join(forms, ",") + "}" +
             sh_quote(tail);
    }
    specs.push_back(spec);
  }
  for (const Opt& o : opts) {
    if (!o.positional) continue;
    std::string msg = zsh_escape(o.pname);
    specs.push_back(sh_quote(std::string(o.repeat ? "*" : "") + ":" + msg + ":" + zsh_action(o)));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    out << "    " << specs[i] << (i + 1 < specs.size() ? " \\\n" : "\n");
  }
  out << "}\n\n"
      << "if [ \"$funcstack[1]\" = \"" << fn << "\" ]; then\n"
      << "  " << fn << " \"$@\"\n"
      << "else\n"
      << "  compdef " << fn << " " << name << "\n"
      << "fi\n";
  return out.str();
}

// A single-quoted fish string.
std::string fish_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string generate_fish(const CLI::App& app, const std::string& name,
                          const std::string& version) {
  std::vector<Opt> opts = visible_options(app);
  std::ostringstream out;
  out << "# fish completion for " << name << "; generated by " << name
      << " --generate fish (grist " << version << "); do not edit.\n\n";
  const Opt* positional = nullptr;
  for (const Opt& o : opts) {
    if (o.positional) {
      positional = &o;
      break;
    }
  }
  std::string c = "complete -c " + name;
  if (!positional) {
    out << c << " -f\n";
  } else if (positional->kind == ValueKind::choice) {
    out << c << " -f -a " << fish_quote(join(positional->values, " ")) << "\n";
  } else if (positional->kind == ValueKind::dir) {
    out << c << " -f -a '(__fish_complete_directories (commandline -ct))'\n";
  }
  for (const Opt& o : opts) {
    if (o.positional) continue;
    std::string line = c;
    for (const auto& s : o.shorts) line += " -s " + s.substr(1);
    for (const auto& l : o.longs) line += " -l " + l.substr(2);
    switch (o.kind) {
      case ValueKind::flag:
        break;
      case ValueKind::file:
        line += " -r -F";
        break;
      case ValueKind::dir:
        line += " -x -a '(__fish_complete_directories (commandline -ct))'";
        break;
      case ValueKind::choice:
        line += " -x -a " + fish_quote(join(o.values, " "));
        break;
      default:
        line += " -x";
        break;
    }
    if (!o.description.empty()) line += " -d " + fish_quote(one_line(o.description));
    out << line << "\n";
  }
  return out.str();
}

// Code points in a line of UTF-8.
size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::vector<std::string> enumerated_values(const CLI::Option& option) {
  for (const auto& c : type_components(option.get_type_name())) {
    if (is_set(trim(c))) return set_values(trim(c));
  }
  return described_values(option.get_description());
}

std::string generate_docs(const std::string& kind, const CLI::App& app, const std::string& name,
                          const std::string& summary, const ManText& man,
                          const std::string& version) {
  if (kind == "man") return generate_man(app, name, summary, man, version);
  if (kind == "bash") return generate_bash(app, name, version);
  if (kind == "zsh") return generate_zsh(app, name, version);
  if (kind == "fish") return generate_fish(app, name, version);
  throw UsageError("unknown --generate kind '" + kind + "' (one of: man, bash, zsh, fish)");
}

std::vector<std::string> lint_options(const CLI::App& app) {
  std::vector<std::string> problems;
  std::vector<Opt> all;
  std::vector<bool> hidden;
  collect(app, app, false, "", true, all, &hidden);

  std::map<std::string, std::string> seen;  // name -> first option's display name
  for (size_t i = 0; i < all.size(); ++i) {
    const Opt& o = all[i];
    std::string display = o.positional ? o.pname : o.option->get_name(false, true);
    std::vector<std::string> names = o.names();
    if (o.positional) names.push_back(o.pname);
    for (const auto& n : names) {
      auto [it, fresh] = seen.emplace(n, display);
      if (!fresh) {
        problems.push_back("duplicated name " + n + " (" + it->second + " and " + display + ")");
      }
    }
    if (hidden[i]) continue;
    if (o.description.empty()) problems.push_back(display + ": no description");
    if (!o.positional && o.kind != ValueKind::flag) {
      if (o.type.empty() || is_generic_type(o.type)) {
        problems.push_back(display + ": value option without a type name of its own (has '" +
                           o.type + "'; say ->type_name(\"N\"), \"SIZE\", \"FILE\", ...)");
      }
    }
  }
  for (const std::string& line : split_lines(app.help())) {
    if (columns(line) > 79) {
      problems.push_back("--help line wider than 79 columns (" + std::to_string(columns(line)) +
                         "): " + line);
    }
  }
  return problems;
}

}  // namespace grist::cli
