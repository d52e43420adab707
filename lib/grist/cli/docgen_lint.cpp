// The meta-test of a tool's option definition (lint_options in docgen.hpp).
#include <map>

#include "grist/cli/docgen.hpp"
#include "grist/cli/docgen_model.hpp"

namespace grist::cli {

using docgen::Opt;
using docgen::ValueKind;

namespace {

// Code points in a line of UTF-8.
size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::vector<std::string> lint_options(const CLI::App& app) {
  std::vector<std::string> problems;
  std::vector<Opt> all;
  std::vector<bool> hidden;
  docgen::collect(app, app, false, "", true, all, &hidden);

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
      if (o.type.empty() || docgen::is_generic_type(o.type)) {
        problems.push_back(display + ": value option without a type name of its own (has '" +
                           o.type + "'; say ->type_name(\"N\"), \"SIZE\", \"FILE\", ...)");
      }
    }
  }
  for (const std::string& line : docgen::split_lines(app.help())) {
    if (columns(line) > 79) {
      problems.push_back("--help line wider than 79 columns (" + std::to_string(columns(line)) +
                         "): " + line);
    }
  }
  return problems;
}

}  // namespace grist::cli
