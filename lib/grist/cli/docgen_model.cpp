#include "grist/cli/docgen_model.hpp"

#include <cctype>
#include <set>

namespace grist::cli::docgen {

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

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// Split at the colons outside braces and brackets.
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

namespace {

// "a, b ,c" -> a, b, c (empty items dropped)
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> values;
  for (const auto& item : CLI::detail::split(list, ',')) {
    std::string v = trim(item);
    if (!v.empty()) values.push_back(v);
  }
  return values;
}

}  // namespace

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

namespace {

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

}  // namespace

bool is_generic_type(const std::string& type) {
  static const std::set<std::string> generic = {"TEXT",  "INT",     "UINT",  "FLOAT",
                                                "BOOLEAN", "CHAR", "ENUM",  "COMPLEX",
                                                "TUPLE", "VECTOR",  "VALUE", "NUMBER"};
  return generic.count(type) > 0;
}

namespace {

bool is_terminal_option(const CLI::App& app, const CLI::Option* o) {
  return o == app.get_help_ptr() || o == app.get_help_all_ptr() || o == app.get_version_ptr();
}

Opt describe_option(const CLI::App& app, const CLI::Option* o, const std::string& heading) {
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

}  // namespace

void collect(const CLI::App& app, const CLI::App& root, bool group_hidden,
             const std::string& group_heading, bool with_hidden, std::vector<Opt>& out,
             std::vector<bool>* hidden) {
  for (const CLI::Option* o : app.get_options()) {
    // An option group inherits a --help of its own from its parent; CLI11
    // never shows or accepts it there.
    if (&app != &root && (o == app.get_help_ptr() || o == app.get_help_all_ptr())) continue;
    bool h = group_hidden || o->get_group().empty();
    if (h && !with_hidden) continue;
    out.push_back(describe_option(root, o, group_heading.empty() ? o->get_group() : group_heading));
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

const Opt* first_positional(const std::vector<Opt>& opts) {
  for (const Opt& o : opts) {
    if (o.positional) return &o;
  }
  return nullptr;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

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

}  // namespace grist::cli::docgen
