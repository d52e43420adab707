// The man page writer: roff from the options model (docgen_model.hpp) and
// the tool's ManText.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <sstream>

#include "grist/cli/docgen.hpp"
#include "grist/cli/docgen_model.hpp"
#include "grist/io/block_reader.hpp"

namespace grist::cli::docgen {

namespace {

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

// OPTIONS: positionals first, then each group under its heading (no
// headings when there is one group).
void man_options(std::ostringstream& out, const std::vector<Opt>& opts) {
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
}

// Another program's options and ours (ManText::foreign): a subsection of
// DESCRIPTION, its intro, then one tagged paragraph per entry, the other
// program's spellings in bold.
void man_foreign(std::ostringstream& out, const ForeignOptions& f) {
  if (f.options.empty()) return;
  out << ".SS " << roff_escape(f.title) << "\n";
  std::ostringstream intro;
  roff_paragraphs(intro, f.intro);
  std::string b = intro.str();
  if (b.rfind(".PP\n", 0) == 0) b = b.substr(4);  // none right after .SS
  out << b;
  for (const ForeignOption& o : f.options) {
    std::string head;
    for (const std::string& n : CLI::detail::split(o.names, ' ')) {
      if (!n.empty()) head += (head.empty() ? "" : ", ") + bold(n);
    }
    out << ".TP\n" << head << "\n" << roff_line(o.ours) << "\n";
  }
}

// EXIT STATUS and DIAGNOSTICS: what every program keeps (docs/design.md,
// "Behaviour every program keeps").
void man_status_and_diagnostics(std::ostringstream& out, bool progress) {
  out << ".SH EXIT STATUS\n"
         ".TP\n.B 0\nSuccess.\n"
         ".TP\n.B 1\nA runtime or data error (a line longer than "
      << (kMaxBlockBytes >> 20)
      << " MiB is one); a message\n"
         "on standard error names the file and, where it applies, the line.\n"
         ".TP\n.B 2\nA usage error: an unknown or bad option or option value. Numbers are\n"
         "decimal and within the option's range: a sign on a count, a value past\n"
         "2^64\\-1, nan, inf, an empty value and 0 where it means nothing are\n"
         "refused, never wrapped; so is an empty file name, and \\-j above "
      << kMaxThreads << ".\n";

  out << ".SH DIAGNOSTICS\n"
         "Messages go to standard error as\n"
         "\\fIprogram\\fR: \\fIfile\\fR:\\fIline\\fR: what is wrong.\n"
         "Bytes from the input are shown escaped (\\et, \\er, \\ex1b, \\exff; long values\n"
         "cut with ...), so that no message can act on the terminal; a value\n"
         "that ends in a CR adds a hint about files with CRLF line ends.\n";
  if (progress) {
    out << ".PP\n"
           "With \\-\\-progress, progress goes to standard error too, each line\n"
           "starting with the program's name and the phase (reading, merging N runs).\n"
           "On a terminal the line is redrawn in place, and of the programs of a\n"
           "pipeline one draws at a time; elsewhere a plain line comes every few\n"
           "seconds, and one when the phase is done.\n";
  }
}

}  // namespace

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
  man_foreign(out, man.foreign);

  man_options(out, opts);
  man_status_and_diagnostics(out, app.get_option_no_throw("--progress") != nullptr);

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

}  // namespace grist::cli::docgen
